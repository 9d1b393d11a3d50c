"""`backprop-lab forecast`: the next periods after the data, with dates and both intervals, from a model
saved by `run 10` (on the embedded series and on a CSV); bad input is one line and exit status 2."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from projects.catalog.p10_timeseries.forecast_cli import MAX_STEPS
from projects.catalog.p10_timeseries.model import next_labels
from projects.lab import cli


def run_10(out, *options: str) -> None:
    assert (
        cli.main(["run", "10", "--quick", "--no-progress", "--out", str(out), "--no-leak-check", *options])
        == 0
    )


@pytest.fixture(scope="module")
def airline_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    run_10(out)
    return out / "10-timeseries"


def read_rows(path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def check_intervals(rows: list[dict[str, str]]) -> None:
    for row in rows:
        lo95, lo80, mid, hi80, hi95 = (
            float(row[k]) for k in ("lower_95", "lower_80", "forecast", "upper_80", "upper_95")
        )
        assert lo95 <= lo80 < mid < hi80 <= hi95


def error_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_forecast_the_year_after_the_airline_data(airline_model, tmp_path, capsys):
    out = tmp_path / "next.csv"
    assert (
        cli.main(["forecast", "--model", str(airline_model / "model"), "--steps", "12", "--out", str(out)])
        == 0
    )
    rows = read_rows(out)
    assert [r["period"] for r in rows] == [f"1961-{m:02d}" for m in range(1, 13)]
    check_intervals(rows)
    widths = [float(r["upper_95"]) - float(r["lower_95"]) for r in rows]
    assert widths[-1] > widths[0]  # the further ahead, the wider
    assert (tmp_path / "next.png").stat().st_size > 1000
    # the same model as the run's own forecast of the future
    run_rows = read_rows(airline_model / "future.csv")[:12]
    assert [r["forecast"] for r in rows] == [r["forecast"] for r in run_rows]
    # without --out: the CSV on the standard output
    capsys.readouterr()
    assert cli.main(["forecast", "--model", str(airline_model / "model"), "--steps", "3"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "period,forecast,lower_80,upper_80,lower_95,upper_95" and len(printed) == 4


def seasonal_csv(path, dated: bool, n: int = 150, seed: int = 5) -> None:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 40 + 0.1 * t + 8 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)
    if dated:
        dates = [f"{(np.datetime64('2001-01') + i).astype('datetime64[D]') - 1}" for i in range(n)]
        lines = ["day,level", *(f"{d},{v:.3f}" for d, v in zip(dates, y))]  # month-end dates
    else:
        lines = ["level", *(f"{v:.3f}" for v in y)]
    path.write_text("\n".join(lines) + "\n")


def test_forecast_a_csv_series_with_and_without_dates(tmp_path):
    for dated in (True, False):
        data = tmp_path / f"series-{dated}.csv"
        seasonal_csv(data, dated)
        out = tmp_path / f"runs-{dated}"
        run_10(out, "--csv", str(data), "--season", "12")
        target = tmp_path / f"f-{dated}.csv"
        plot = tmp_path / f"plot-{dated}.png"
        model = out / "10-timeseries" / "model"
        assert (
            cli.main(
                [
                    "forecast",
                    "--model",
                    str(model),
                    "--steps",
                    "30",
                    "--out",
                    str(target),
                    "--plot",
                    str(plot),
                ]
            )
            == 0
        )
        rows = read_rows(target)
        check_intervals(rows)
        assert plot.stat().st_size > 1000 and not target.with_suffix(".png").exists()
        periods = [r["period"] for r in rows]
        if dated:  # the data run from 2000-12-31 to 2013-05-31: month ends follow
            assert periods[:3] == ["2013-06-30", "2013-07-31", "2013-08-31"] and periods[-1] == "2015-11-30"
        else:
            assert periods == [str(150 + k) for k in range(30)]


def test_next_labels():
    assert next_labels(["1960-11", "1960-12"], True, 2) == ["1961-01", "1961-02"]
    assert next_labels(["2000-01", "2000-04"], True, 2) == ["2000-07", "2000-10"]  # quarters
    assert next_labels(["1988", "1989"], True, 2) == ["1990", "1991"]
    assert next_labels(["2024-02-28", "2024-02-29"], True, 2) == ["2024-03-01", "2024-03-02"]  # days
    assert next_labels(["2023-12-31", "2024-01-31"], True, 2) == ["2024-02-29", "2024-03-31"]
    assert next_labels(["2024-01-15", "2024-02-15"], True, 1) == ["2024-03-15"]
    assert next_labels(["0", "1", "2"], False, 2) == ["3", "4"]


# ---- bad input: one line, exit status 2 -------------------------------------------------------------------


def forecast_error(capsys, model, steps: str = "6") -> str:
    capsys.readouterr()
    assert cli.main(["forecast", "--model", str(model), "--steps", steps]) == 2
    lines = error_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith("backprop-lab: error: "), lines
    return lines[0]


@pytest.mark.parametrize("steps", ["0", "-3", str(MAX_STEPS + 1)])
def test_steps_out_of_bounds(airline_model, capsys, steps):
    assert f"choose from 1 to {MAX_STEPS}" in forecast_error(capsys, airline_model / "model", steps)


def test_a_folder_that_is_not_a_time_series_model(tmp_path, capsys):
    assert "no such folder" in forecast_error(capsys, tmp_path / "nowhere")
    assert "no model.json" in forecast_error(capsys, tmp_path)
    tabular = tmp_path / "tabular"  # what `run 05` writes
    tabular.mkdir()
    (tabular / "model.json").write_text(json.dumps({"sizes": [7, 16, 3], "activation": "relu"}))
    message = forecast_error(capsys, tabular)
    assert "not a model saved by the time-series project" in message and "predict" in message


def tampered(airline_model, tmp_path, change) -> object:
    folder = tmp_path / "model"
    shutil.copytree(airline_model / "model", folder)
    change(folder)
    return folder


def edit_json(**fields):
    def change(folder):
        meta = json.loads((folder / "model.json").read_text())
        meta.update(fields)
        (folder / "model.json").write_text(json.dumps(meta))

    return change


def edit_arrays(**arrays):
    def change(folder):
        with np.load(folder / "weights.npz") as data:
            state = {k: data[k] for k in data.files}
        state.update(arrays)
        np.savez(folder / "weights.npz", **state)

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (edit_json(window=14), "expected floats"),
        (edit_json(hidden=[1_000_000_000]), "hidden must be"),
        (edit_json(hidden=[4096] * 8), "other arrays"),  # checked against the arrays before allocating
        (edit_json(members=7), "other arrays"),
        (edit_json(hidden=[33]), "expected floats"),
        (edit_json(kind="plain"), "expected floats"),
        (edit_json(weight=3), "weight must be in [0, 1]"),
        (edit_json(labels=["1960-12"]), "labels for"),
        (edit_json(intervals={"a": -1, "b": 0, "multipliers": {"80": 1, "95": 2}}), "intervals.a"),
        (edit_json(activation="os.system"), "unknown activation"),
        (edit_arrays(x_std=np.full(12, np.nan)), "non-finite"),
        (edit_arrays(history=np.zeros(2)), "history must hold"),
        (edit_arrays(extra=np.zeros(3)), "other arrays"),
        (lambda folder: (folder / "weights.npz").write_bytes(b"not a zip file"), "unreadable weights.npz"),
        (lambda folder: (folder / "model.json").write_text("{"), "unreadable model.json"),
        (lambda folder: (folder / "weights.npz").unlink(), "no weights.npz"),
    ],
)
def test_a_tampered_model_folder(airline_model, tmp_path, capsys, change, expected):
    assert expected in forecast_error(capsys, tampered(airline_model, tmp_path, change))


def test_the_readme_shows_a_forecast_figure():
    root = Path(__file__).resolve().parents[1]
    figures = re.findall(
        r"!\[[^\]]*\]\((viz/examples/[^)]+\.png)\)", (root / "README.md").read_text(encoding="utf-8")
    )
    assert (
        "viz/examples/p10-forecast.png" in figures
        and (root / "viz/examples/p10-forecast.png").stat().st_size > 10_000
    )
