"""Project 10: windows, baselines and error measures; the chronological split (nothing after the split
point can change what was fitted, the intervals included); the horizon rule; prediction intervals and
their coverage on held-out months; the shipped series; any CSV; bad input."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from autograd.errors import UsageError
from projects.catalog import p10_timeseries
from projects.catalog.p10_timeseries.forecasting import (
    Standardizer,
    blend,
    choose_transform,
    choose_windows,
    errors,
    errors_by_horizon,
    fit_linear,
    make_windows,
    naive,
    one_step,
    recursive,
    seasonal_naive,
    window_forecaster,
)
from projects.catalog.p10_timeseries.intervals import conformal_multiplier, coverage, fit_intervals, fit_scale
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


def test_linear_skip_path_blend():
    linear, hidden = (lambda U: U.sum(axis=1)), (lambda U: 10 * np.ones((len(U), 1)))
    U = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(blend(linear, hidden, 0.0)(U), [3, 7])
    np.testing.assert_allclose(blend(linear, hidden, 1.0)(U), [10, 10])
    np.testing.assert_allclose(blend(linear, hidden, 0.25)(U), [0.75 * 3 + 2.5, 0.75 * 7 + 2.5])


def _fold(scores: dict[float, float]) -> p10_timeseries.Fold:
    """A fold whose score at weight a is ``scores[a]`` (one origin, one step: the error is the score)."""
    return p10_timeseries.Fold(0, 1, 10, {a: np.array([[score]]) for a, score in scores.items()})


def test_one_standard_error_rule_keeps_to_the_linear_path_unless_the_evidence_is_strong():
    weights = p10_timeseries.HIDDEN_WEIGHTS
    assert weights[0] == 0.0 and weights[-1] == 1.0
    # the hidden path helps a little in every fold, by less than the folds' spread: a = 0
    noisy = [_fold({a: base - 0.01 * a for a in weights}) for base in (1.0, 2.0, 3.0)]
    choice = p10_timeseries.choose_weight(noisy)
    assert choice.best == 1.0 and choice.weight == 0.0
    assert choice.standard_error == pytest.approx(np.std([0.99, 1.99, 2.99], ddof=1) / np.sqrt(3))
    # it helps by far more than the spread: the best weight itself
    strong = [_fold({a: base - a for a in weights}) for base in (2.0, 2.1, 2.2)]
    assert p10_timeseries.choose_weight(strong).weight == 1.0
    # in between: the smallest weight within one standard error of the best
    bowl = [_fold({a: (a - 0.6) ** 2 + base for a in weights}) for base in (0.0, 0.02, 0.04)]
    choice = p10_timeseries.choose_weight(bowl)
    se = np.std([0.0, 0.02, 0.04], ddof=1) / np.sqrt(3)
    assert choice.best == 0.6 and choice.weight == min(a for a in weights if (a - 0.6) ** 2 <= se + 1e-12)
    # one fold: no spread, the best weight
    assert p10_timeseries.choose_weight(bowl[:1]).weight == 0.6


def test_the_verdict_says_why_the_linear_path_was_kept_or_the_hidden_path_weighted():
    weights = p10_timeseries.HIDDEN_WEIGHTS
    best_linear = [_fold({a: base + a for a in weights}) for base in (1.0, 2.0)]
    assert "had the best mean score" in p10_timeseries.choose_weight(best_linear).verdict()
    noisy = [_fold({a: base - 0.01 * a for a in weights}) for base in (1.0, 2.0, 3.0)]
    verdict = p10_timeseries.choose_weight(noisy).verdict()
    assert "within one standard error" in verdict and "(a = 1)" in verdict and "not used" in verdict
    strong = [_fold({a: base - a for a in weights}) for base in (2.0, 2.1, 2.2)]
    assert p10_timeseries.choose_weight(strong).verdict().startswith("a = 1: the hidden path beat")


def test_validation_folds_step_back_one_season():
    assert p10_timeseries.fold_ends(120, 24, 13, 12, 4) == [120, 108, 96, 84]
    # a fold needs MIN_TRAINING_WINDOWS windows before its period
    assert p10_timeseries.fold_ends(60, 24, 13, 12, 4) == [60, 48]
    assert p10_timeseries.fold_ends(100, 10, 12, 0, 3) == [100, 90, 80]


def test_error_by_steps_ahead_over_rolling_origins():
    actual = np.arange(10, dtype=float)
    forecasts = np.tile(actual[7:10], (3, 1))  # origins 7, 8, 9 each forecast 7, 8, 9
    # step 1: errors 0, 1, 2 (origins 7, 8, 9); step 2: 0, 1 (origin 9's is past the end); step 3: 0
    np.testing.assert_allclose(
        errors_by_horizon(actual, forecasts, [7, 8, 9]), [np.sqrt(5 / 3), np.sqrt(1 / 2), 0.0]
    )


def test_interval_scale_grows_like_a_random_walk():
    rng = np.random.default_rng(0)
    steps = np.arange(12)
    E = rng.normal(0, 1, (4000, 12)) * np.sqrt(0.5 + 0.25 * steps)  # variance a + b (h - 1)
    E[-1, 3:] = np.nan  # unknown pairs are skipped
    a, b = fit_scale(E)
    assert a == pytest.approx(0.5, rel=0.1) and b == pytest.approx(0.25, rel=0.1)
    assert fit_scale(np.array([[1.0, 1.0], [1.0, 1.0]])) == pytest.approx((1.0, 0.0))
    shrinking = np.array([[2.0, 1.0, 0.5]])  # never a scale that shrinks with the steps ahead
    assert fit_scale(shrinking)[1] == 0.0
    intervals = fit_intervals(E)
    # Gaussian errors: the multipliers are the normal quantiles 1.28 and 1.96
    assert intervals.multipliers[80] == pytest.approx(1.2816, abs=0.05)
    assert intervals.multipliers[95] == pytest.approx(1.96, abs=0.08)
    lower, upper = intervals.bands(np.zeros(12))[80]
    assert np.all(np.diff(upper) > 0) and np.allclose(lower, -upper)


def test_conformal_multiplier_and_coverage():
    scores = np.arange(1.0, 11.0)  # n = 10
    assert conformal_multiplier(scores, 0.8) == 9.0  # ceil(11 * 0.8) = 9th smallest
    assert conformal_multiplier(scores, 0.95) == 10.0  # rank 11 > n: the largest
    actual = np.array([1.0, 2.0, 3.0, 4.0])
    assert coverage(actual, np.full(4, 1.5), np.full(4, 3.0)) == 0.5


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


@pytest.fixture(scope="module")
def airline(tmp_path_factory):
    """The default run on the airline passengers (seed 0), shared by the tests below."""
    out = tmp_path_factory.mktemp("airline")
    return p10_timeseries.run(p10_timeseries.Config(progress=False), out), out


@pytest.mark.slow
def test_airline_mlp_beats_seasonal_naive(airline):
    """The bar: last 24 months held out, the MLP's RMSE below the seasonal naive one."""
    metrics, out = airline
    assert AIRLINE == "airline" and metrics["test_period"] == "1959-01..1960-12"
    assert metrics["train_period"] == "1949-01..1958-12" and metrics["season"] == 12
    periods = [fold["period"] for fold in metrics["validation"]["folds"]]
    assert periods == ["1957-01..1958-12", "1956-01..1957-12", "1955-01..1956-12", "1954-01..1955-12"]
    seasonal = metrics["baselines"]["seasonal_naive"]
    assert metrics["rmse"] < seasonal["rmse"]
    assert metrics["multi_step"]["rmse"] < seasonal["multi_step"]["rmse"]
    assert metrics["beats_seasonal_naive"] is True
    for name in ("naive", "seasonal_naive", "linear_ar"):
        assert set(metrics["baselines"][name]) == {"rmse", "mae", "mape", "multi_step"}
        assert len(metrics["rmse_by_horizon"][name]) == 24
    # by steps ahead, step 1 is the one-step error
    assert metrics["rmse_by_horizon"]["mlp"][0] == pytest.approx(metrics["rmse"], abs=1e-3)
    assert metrics["future_period"] == "1961-01..1962-12"
    # the leak: the original set-up looks far better on a random split than on the real future
    leak = metrics["leak_check"]
    assert leak["random_split"]["rmse"] < leak["chronological"]["rmse"]
    for name in ("series.png", "forecasts.png", "residuals.png", "error_by_horizon.png", "future.png"):
        assert (out / name).stat().st_size > 1000
    assert (out / "model" / "model.json").is_file() and (out / "model" / "weights.npz").is_file()
    json.dumps(metrics)


@pytest.mark.slow
def test_the_hidden_path_weight_is_the_validation_choice(airline):
    """The weight follows the one-standard-error rule from the folds' scores the metrics report."""
    metrics, _ = airline
    validation = metrics["validation"]
    folds = [fold["mean_rmse_by_horizon_by_weight"] for fold in validation["folds"]]
    mean = validation["mean_rmse_by_horizon_by_weight"]
    for a, score in mean.items():
        assert score == pytest.approx(np.mean([fold[a] for fold in folds]), abs=2e-6)
    best = validation["best_weight"]
    assert mean[str(best)] == min(mean.values())
    spread = np.std([fold[str(best)] for fold in folds], ddof=1) / np.sqrt(len(folds))
    assert validation["standard_error"] == pytest.approx(spread, abs=2e-6)
    within = [float(a) for a, score in mean.items() if score <= mean[str(best)] + spread + 1e-6]
    assert metrics["hidden_path_weight"] == validation["chosen_weight"] == min(within)
    rule = metrics["horizon_rule"]
    ratio = metrics["multi_step"]["rmse"] / metrics["baselines"]["linear_ar"]["multi_step"]["rmse"]
    assert rule["multi_step_rmse_over_linear_ar"] == pytest.approx(ratio, abs=1e-4)
    assert rule["holds"] == (ratio <= 1.1)


@pytest.mark.slow
def test_horizon_rule_on_airline(airline):
    """The 24-month forecast within 1.1 times the linear autoregression's, the weight chosen blind to the
    test years (by the folds, a = 0: the MLPs do not earn a place, and the metrics say so)."""
    metrics = airline[0]
    assert metrics["horizon_rule"]["holds"]
    if metrics["hidden_path_weight"] == 0:
        assert "the MLPs are not used" in metrics["validation"]["verdict"]


@pytest.mark.slow
def test_coverage_is_measured_on_the_held_out_months(airline):
    """coverage_p is the share of the 24 held-out months inside the p% band of the 24-step forecast."""
    metrics, out = airline
    with open(out / "forecasts.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["time"] for r in rows][0] == "1959-01" and len(rows) == 24
    for p in (80, 95):
        inside = [
            float(r[f"mlp_lower_{p}"]) <= float(r["actual"]) <= float(r[f"mlp_upper_{p}"]) for r in rows
        ]
        assert metrics[f"coverage_{p}"] == pytest.approx(np.mean(inside))
    assert metrics["coverage_80"] <= metrics["coverage_95"]
    assert metrics["coverage_all_origins"]["pairs"] == 24 * 25 // 2


def seasonal_trend_csv(path, n: int = 168, seed: int = 42) -> None:
    """A monthly series with a trend, two harmonics of a yearly season and noise (14 years)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 100 + 0.8 * t + 15 * np.sin(2 * np.pi * t / 12) + 6 * np.cos(4 * np.pi * t / 12) + rng.normal(0, 4, n)
    path.write_text(
        "month,sales\n" + "".join(f"{2000 + i // 12}-{i % 12 + 1:02d},{v:.3f}\n" for i, v in enumerate(y))
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_horizon_rule_on_a_seasonal_series_with_trend_and_noise(tmp_path, seed):
    """The MLP's 24-step forecast within 1.1 times the linear autoregression's, and its intervals cover
    held-out months."""
    path = tmp_path / "sales.csv"
    seasonal_trend_csv(path)
    config = p10_timeseries.Config(csv=str(path), seed=seed, quick=True, leak_check=False, progress=False)
    metrics = p10_timeseries.run(config, tmp_path / "out")
    assert metrics["season"] == 12 and metrics["test_period"] == "2012-01..2013-12"
    assert metrics["horizon_rule"]["holds"]
    assert metrics["multi_step"]["rmse"] <= 1.1 * metrics["baselines"]["linear_ar"]["multi_step"]["rmse"]
    assert metrics["coverage_95"] >= 0.75


@pytest.mark.slow
def test_the_hidden_path_earns_its_weight_on_a_seasonal_series_with_trend_and_noise(tmp_path):
    """Full settings: the MLPs beat the linear path in every validation period, so the rule gives them
    weight, and the 24-step forecast holds the horizon rule (here it beats the linear autoregression)."""
    path = tmp_path / "sales.csv"
    seasonal_trend_csv(path)
    config = p10_timeseries.Config(csv=str(path), leak_check=False, progress=False)
    metrics = p10_timeseries.run(config, tmp_path / "out")
    validation = metrics["validation"]
    for fold in validation["folds"]:
        scores = fold["mean_rmse_by_horizon_by_weight"]
        assert scores["1.0"] < scores["0.0"]
    assert metrics["hidden_path_weight"] > 0 and validation["verdict"].startswith("a = ")
    assert metrics["horizon_rule"]["holds"]


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
    for column in (
        "mlp_recursive",
        "linear_ar_recursive",
        "naive_recursive",
        "seasonal_naive_recursive",
        *(f"mlp_{side}_{p}" for p in (80, 95) for side in ("lower", "upper")),
    ):
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
