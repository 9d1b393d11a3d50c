"""Project 10: windows, baselines and error measures; the chronological split (nothing after the split
point can change what was fitted); the shipped series; any CSV; bad input."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from autograd.errors import UsageError
from projects.catalog import p10_timeseries
from projects.catalog.p10_timeseries.forecasting import (
    Standardizer,
    choose_transform,
    choose_windows,
    errors,
    fit_linear,
    make_windows,
    naive,
    one_step,
    recursive,
    seasonal_naive,
    window_forecaster,
)
from projects.datasets.timeseries import from_csv, infer_season

AIRLINE = p10_timeseries.Config().series


# ---- pieces ------------------------------------------------------------------------------------------------


def test_windows_relative_and_plain():
    z = np.array([1.0, 2.0, 4.0, 7.0, 11.0])
    X, v = make_windows("relative", z, 3, np.array([3, 4]))
    np.testing.assert_array_equal(X, [[1 - 4, 2 - 4], [2 - 7, 4 - 7]])
    np.testing.assert_array_equal(v, [7 - 4, 11 - 7])
    X, v = make_windows("plain", z, 3, np.array([3, 4]))
    np.testing.assert_array_equal(X, [[1, 2, 4], [2, 4, 7]])
    np.testing.assert_array_equal(v, [7, 11])


def test_error_measures():
    actual, forecast = np.array([100.0, 200.0]), np.array([110.0, 170.0])
    result = errors(actual, forecast)
    assert result["mae"] == pytest.approx(20.0)
    assert result["rmse"] == pytest.approx(np.sqrt((100 + 900) / 2))
    assert result["mape"] == pytest.approx(100 * (0.1 + 0.15) / 2)
    assert errors(np.array([1.0, -1.0]), np.array([0.0, 0.0]))["mape"] is None


def test_naive_baselines_one_step_and_recursive():
    z = np.arange(30, dtype=float) % 12 + np.arange(30) // 12 * 100
    np.testing.assert_array_equal(one_step(naive(), z, 24), z[23:29])
    np.testing.assert_array_equal(one_step(seasonal_naive(12), z, 24), z[12:18])
    np.testing.assert_array_equal(recursive(naive(), z, 24, 6), np.full(6, z[23]))
    np.testing.assert_array_equal(recursive(seasonal_naive(12), z, 24, 6), z[12:18])


def test_linear_autoregression_recovers_a_linear_recurrence():
    z = np.zeros(80)
    z[:2] = [1.0, 0.5]
    for t in range(2, 80):
        z[t] = 0.6 * z[t - 1] - 0.3 * z[t - 2] + 0.2
    X, v = make_windows("plain", z, 2, np.arange(2, 60))
    x_scale, v_scale = Standardizer.fit(X), Standardizer.fit(v[:, None])
    model = fit_linear(x_scale(X), v_scale(v[:, None])[:, 0])
    forecast = window_forecaster("plain", model, 2, x_scale, v_scale)
    np.testing.assert_allclose(recursive(forecast, z, 60, 20), z[60:], atol=1e-8)


def test_transform_and_window_choice():
    growing = np.exp(np.linspace(0, 2, 100))
    assert choose_transform("auto", growing).kind == "log" and choose_windows("auto", growing) == "relative"
    cycle = np.sin(np.arange(100))
    assert choose_transform("auto", cycle).kind == "none" and choose_windows("auto", cycle) == "plain"
    with pytest.raises(ValueError):
        choose_transform("log", cycle)


def test_season_from_dates():
    assert infer_season([(1949, m, 0) for m in range(1, 13)]) == 12
    assert infer_season([(2000 + q // 4, 1 + 3 * (q % 4), 0) for q in range(8)]) == 4
    assert infer_season([(y, 0, 0) for y in range(1700, 1720)]) == 0
    assert infer_season([(2020, 1, d) for d in range(1, 20)]) == 7


# ---- the project ------------------------------------------------------------------------------------------


def test_airline_mlp_beats_seasonal_naive(tmp_path):
    """The bar: last 24 months held out, the MLP's RMSE below the seasonal naive one."""
    metrics = p10_timeseries.run(p10_timeseries.Config(progress=False), tmp_path)
    assert AIRLINE == "airline" and metrics["test_period"] == "1959-01..1960-12"
    assert metrics["train_period"] == "1949-01..1958-12" and metrics["season"] == 12
    seasonal = metrics["baselines"]["seasonal_naive"]
    assert metrics["rmse"] < seasonal["rmse"]
    assert metrics["multi_step"]["rmse"] < seasonal["multi_step"]["rmse"]
    assert metrics["beats_seasonal_naive"] is True
    for name in ("naive", "seasonal_naive", "linear_ar"):
        assert set(metrics["baselines"][name]) == {"rmse", "mae", "mape", "multi_step"}
    # the leak: the original set-up looks far better on a random split than on the real future
    leak = metrics["leak_check"]
    assert leak["random_split"]["rmse"] < leak["chronological"]["rmse"]
    for name in ("series.png", "forecasts.png", "residuals.png"):
        assert (tmp_path / name).stat().st_size > 1000
    json.dumps(metrics)


def test_nothing_after_the_split_changes_the_fit(tmp_path):
    """Chronological split: tripling every value after the split point leaves what was fitted unchanged,
    so every recursive forecast (made from the training part alone) and the first one-step forecasts are
    identical; with a random split they would not be."""
    y = p10_timeseries.load_series("airline", None, None, None, 0, np.random.default_rng(0)).values
    tables = []
    for name, factor in (("same", 1.0), ("altered", 3.0)):
        rows = [
            f"{1949 + i // 12}-{i % 12 + 1:02d},{v * (factor if i >= 120 else 1.0):g}"
            for i, v in enumerate(y)
        ]
        path = tmp_path / f"{name}.csv"
        path.write_text("month,passengers\n" + "\n".join(rows) + "\n")
        config = p10_timeseries.Config(csv=str(path), quick=True, leak_check=False, progress=False)
        metrics = p10_timeseries.run(config, tmp_path / name)
        assert metrics["training_windows"] == 107 and metrics["test_period"] == "1959-01..1960-12"
        with open(tmp_path / name / "forecasts.csv", newline="") as f:
            tables.append(list(csv.DictReader(f)))
    same, altered = tables
    assert [float(r["actual"]) for r in altered] == pytest.approx(
        [3 * float(r["actual"]) for r in same], rel=1e-5
    )
    for column in ("mlp_recursive", "linear_ar_recursive", "naive_recursive", "seasonal_naive_recursive"):
        assert [r[column] for r in same] == [r[column] for r in altered]
    assert same[0]["mlp_one_step"] == altered[0]["mlp_one_step"]  # made from training months only
    assert same[1]["mlp_one_step"] != altered[1]["mlp_one_step"]  # uses the (altered) first test month


def test_sunspots_and_sine_quick(tmp_path):
    sunspots = p10_timeseries.run(
        p10_timeseries.Config(series="sunspots", quick=True, progress=False), tmp_path / "s"
    )
    assert sunspots["n"] == 3177 and sunspots["transform"] == "none" and sunspots["windows"] == "plain"
    sine = p10_timeseries.run(
        p10_timeseries.Config(series="sine", quick=True, progress=False), tmp_path / "w"
    )
    assert sine["season"] == 12 and sine["mape"] is None
    assert sine["rmse"] < sine["baselines"]["naive"]["rmse"]


def test_any_csv_with_gaps_and_without_dates(tmp_path):
    rng = np.random.default_rng(3)
    t = np.arange(150)
    values = 50 + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 150)
    text = ["other,level"] + [
        f"{i * 7},{'NA' if i in (10, 11, 40) else f'{v:.3f}'}" for i, v in enumerate(values)
    ]
    path = tmp_path / "s.csv"
    path.write_text("\n".join(text) + "\n")
    series = from_csv(str(path), "level", None, 0)
    assert series.filled == 3 and series.season == 0
    assert series.values[10] == pytest.approx(values[9] + (values[12] - values[9]) / 3, abs=1e-3)
    config = p10_timeseries.Config(csv=str(path), column="level", season=12, quick=True, progress=False)
    metrics = p10_timeseries.run(config, tmp_path / "out")
    assert metrics["season"] == 12 and metrics["window"] == 13 and metrics["filled_missing_values"] == 3
    assert metrics["rmse"] < metrics["baselines"]["naive"]["rmse"]


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        ("month,value\n2000-01,1\n2000-02,oops\n", {"column": "value"}, "line 3: text 'oops'"),
        ("a,b\n1,2\n3,4\n", {}, "pass --column NAME"),
        ("month,value\n" + "".join(f"2000-{m:02d},{m}\n" for m in range(1, 13)), {}, "too few"),
        ("month,value\n2000-02,1\n2000-01,2\n", {"column": "value"}, "dates in 'month' must increase"),
        ("month,value\n2000-01,1\n2000-02,2\n", {"column": "nope"}, "no column 'nope'"),
    ],
)
def test_bad_csv_input(tmp_path, text, options, expected):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(UsageError, match=expected):
        p10_timeseries.run(p10_timeseries.Config(csv=str(path), quick=True, **options), tmp_path / "out")


def test_bad_options(tmp_path):
    for config in (
        p10_timeseries.Config(series="stocks"),
        p10_timeseries.Config(transform="sqrt"),
        p10_timeseries.Config(windows="diagonal"),
        p10_timeseries.Config(window=1),
        p10_timeseries.Config(test_size=0),
        p10_timeseries.Config(hidden=(0,)),
        p10_timeseries.Config(series="sine", transform="log"),
    ):
        with pytest.raises(UsageError):
            p10_timeseries.run(config, tmp_path)
