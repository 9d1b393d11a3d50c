"""Project 10: forecasting a time series with a sliding-window MLP, against honest baselines.

The MLP sees the last ``window`` values of the series and predicts the next one (regression, mean squared
error loss L = mean (v_hat - v)^2, dL/dv_hat = 2 (v_hat - v) / N). The windows are expressed relative to their
last value and standardized (see :mod:`.forecasting`); a positive, growing series is modelled in logs.

Evaluation is chronological: the last ``test_size`` steps are held out, and nothing fitted (weights,
scalers) sees them. Each forecaster is scored on that holdout twice: **one-step** (each month forecast from
the actual months before it) and **recursive multi-step** (the whole holdout forecast from its start, each
forecast fed back as input). Baselines on the same holdout: naive (the last value), seasonal naive (the value
one season earlier, lag 12 for monthly data) and a linear autoregression on the same windows.

Series: ``--series airline`` (default; monthly airline passengers 1949-1960), ``sunspots`` (monthly sunspot
numbers 1749-2013), ``sine`` (synthetic), or any CSV: ``--csv FILE --column NAME`` (a date column is
optional).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from autograd import Tensor, mse_loss, no_grad
from autograd.errors import TrainingError, UsageError
from autograd.files import atomic_open
from autograd.nn import ACTIVATIONS, MLP
from autograd.optim import Adam
from projects.catalog.p10_timeseries.forecasting import (
    Forecaster,
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
from projects.datasets.timeseries import load_series
from projects.lab.config import RunConfig, check_bounds, check_layer_sizes, option
from projects.lab.training import fit
from projects.plots.data import plot_forecasts, plot_residuals, plot_series_split

MIN_TRAINING_WINDOWS = 10


@dataclass
class Config(RunConfig):
    """Settings of project 10 (each field is a command-line flag: ``test_size`` is ``--test-size``)."""

    series: str = option("airline", "Built-in series when no --csv is given: airline, sunspots or sine.")
    csv: str | None = option(None, "A CSV file holding the series.")
    column: str | None = option(None, "The CSV column to forecast (default: the only numeric column).")
    date_column: str | None = option(None, "The CSV column of dates (default: detected; optional).")
    season: int = option(
        0,
        "Steps per season, the seasonal-naive lag (0: inferred from the dates, 12 for monthly data).",
        low=0,
        high=1000,
    )
    window: int = option(
        0, "Values the MLP sees (0: season + 1, or 12 when there is no season).", low=0, high=1000
    )
    test_size: int = option(
        24, "The last this many steps are held out for testing (24 months = 2 years).", low=1, high=100_000
    )
    transform: str = option("auto", "auto (log for a positive series with a trend), log or none.")
    windows: str = option(
        "auto",
        "relative (each window minus its last value), plain, or auto (relative for a series with a trend).",
    )
    hidden: tuple[int, ...] = option(
        (32,), "Hidden layer sizes of the MLP, comma-separated.", low=1, high=1024, max_len=8
    )
    steps: int = option(
        1500,
        "Adam steps to train for (epochs = steps / batches per epoch).",
        quick=200,
        low=1,
        high=1_000_000,
    )
    batch_size: int = option(16, "Windows per Adam step.", low=1, high=10_000)
    lr: float = option(3e-3, "Adam's learning rate.")
    weight_decay: float = option(
        1e-3, "Decoupled weight decay (AdamW), against fitting noise on short series."
    )
    activation: str = option("relu", "Hidden activation (relu, tanh, ...).")
    ensemble: int = option(
        5,
        "How many MLPs (different initial weights) are trained; their forecasts are averaged.",
        quick=1,
        low=1,
        high=50,
    )
    leak_check: bool = option(
        True, "Also score the original set-up (plain windows) on a random and on a chronological split."
    )


EXPLANATION = """\
# 10 Time-series forecasting

An MLP reads a window of recent values (13 months for monthly data) and predicts the next value; five such
networks from different initial weights are averaged. For a series with a trend, like the airline
passengers, each window is expressed relative to its last value and in logarithms: the network learns the
*shape* of a year (ups and downs, in percent) rather than the level, which in the test years is higher than
anything seen in training, and a network cannot extrapolate beyond the values it was trained on.

**A chronological split.** The last 24 months are held out; everything fitted (weights, the scaling of the
inputs) comes from the months before. The original version of this project split the windows at random,
which leaks the future into training: a test month sits between training months, its value is also an
input of the training windows that follow it, and the network only has to *interpolate* between months it
has seen, never to forecast. `leak_check` in the metrics measures it with the original set-up (one MLP on
plain windows of the raw values): on the airline passengers its error on a random split is markedly smaller
than its error on the real future, which is also well above the error of the relative-window MLP above.

**Baselines** on the same holdout: naive (next month = this month), seasonal naive (next month = the same
month a year earlier) and a linear autoregression on the same windows (least squares). A forecast is only
worth something if it beats them; on 107 training windows, the linear model is a strong rival. Errors are on
the original scale: MAE (mean absolute error), RMSE (root mean squared error, which weighs large misses
more) and MAPE (mean absolute percentage error; only for positive series). Each is given one-step (every
month forecast from the actual months before it) and recursive (`multi_step`: all 24 months forecast from
the start of the holdout, each forecast fed back as an input, so errors compound).

* `series.png`: the whole series, the training part and the held-out part, the split marked.
* `forecasts.png`: top, the one-step forecasts of every method; bottom, the recursive forecasts.
* `residuals.png`: actual minus forecast (one-step) for the MLP and the seasonal-naive baseline over the
  holdout, and their distribution. Residuals that stay on one side of 0 show a bias (seasonal naive misses
  a year of growth); a pattern that repeats shows something left to learn.
"""


def _check(config: Config) -> list[int]:
    for name in ("test_size", "steps", "batch_size", "ensemble"):
        if getattr(config, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1 (got {getattr(config, name)})")
    for name in ("season", "window"):
        if getattr(config, name) < 0:
            raise UsageError(f"--{name} must be 0 (automatic) or positive (got {getattr(config, name)})")
    if config.window == 1:
        raise UsageError("--window must be at least 2 (the last value and one before it)")
    if not (config.lr > 0 and math.isfinite(config.lr)) or config.weight_decay < 0:
        raise UsageError("--lr must be positive and --weight-decay non-negative")
    if config.transform not in ("auto", "log", "none"):
        raise UsageError(f"--transform {config.transform!r}: choose auto, log or none")
    if config.windows not in ("auto", "relative", "plain"):
        raise UsageError(f"--windows {config.windows!r}: choose auto, relative or plain")
    if config.activation not in ACTIVATIONS or config.activation == "identity":
        choices = ", ".join(a for a in ACTIVATIONS if a != "identity")
        raise UsageError(f"--activation {config.activation!r}: choose one of {choices}")
    check_layer_sizes(config.hidden)
    check_bounds(config)
    return list(config.hidden)


def check_scale(name: str, y: np.ndarray, z_train: np.ndarray) -> None:
    """Refuse a series whose values overflow the arithmetic of the forecasters (standardizing squares
    them: values near 1e155 and beyond, or one spike of 1e250, give an infinite spread), naming the cause
    instead of letting inf or nan reach the errors and the figures."""
    with np.errstate(over="ignore", invalid="ignore"):
        spread = float(np.std(z_train)) if len(z_train) else 0.0
        mean = float(np.mean(z_train)) if len(z_train) else 0.0
    if not (math.isfinite(spread) and math.isfinite(mean)):
        raise UsageError(
            f"{name}: values as large as {np.max(np.abs(y)):.3g} overflow when the series is standardized "
            "(its mean or spread is not a finite number); rescale it (say, to thousands) first"
        )


def check_forecasts(name: str, forecasts: dict[str, np.ndarray]) -> None:
    """Stop, before anything is plotted, when a forecast is inf or nan (an overflow in the data)."""
    for method, values in forecasts.items():
        if not np.all(np.isfinite(values)):
            raise TrainingError(
                f"{name}: the {method} forecasts became inf or nan: an overflow in the data (values too "
                "large to compute with), not the learning rate; rescale the series first"
            )


def train_mlp(
    X: np.ndarray, v: np.ndarray, hidden: list[int], config: Config, rng: np.random.Generator, desc: str
) -> tuple[MLP, list[float]]:
    """An MLP from standardized windows to the standardized next difference, trained with MSE and AdamW."""
    model = MLP(
        [X.shape[1], *hidden, 1], activation=config.activation, engine="tensor", seed=int(rng.integers(2**31))
    )
    optimizer = Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, decoupled=True)
    steps = config.steps
    epochs = max(1, round(steps / math.ceil(len(X) / config.batch_size)))
    history = fit(
        model,
        optimizer,
        lambda net, xb, yb: mse_loss(net(Tensor(xb)), Tensor(yb[:, None])),
        (X.astype(np.float32), v.astype(np.float32)),
        epochs=epochs,
        batch_size=config.batch_size,
        rng=rng,
        desc=desc,
        progress=config.progress,
    )
    return model, history["train_loss"]


def as_predict(model: MLP) -> Callable[[np.ndarray], np.ndarray]:
    """The model as a function of a float64 matrix of standardized windows (no graph recorded)."""

    def predict(U: np.ndarray) -> np.ndarray:
        with no_grad():
            return model(Tensor(U.astype(np.float32))).data.astype(np.float64)

    return predict


def leak_check(
    y: np.ndarray, window: int, test_size: int, hidden: list[int], config: Config, rng: np.random.Generator
) -> dict[str, Any]:
    """The original project's set-up, an MLP on plain windows of the raw values (no log, no relative
    windows), scored two ways: on a random split of the windows (the leak: test windows sit between training
    windows) and on the chronological holdout (the real future)."""
    targets = np.arange(window, len(y))
    T = len(y) - test_size
    random_test = np.sort(rng.choice(targets, size=test_size, replace=False))
    splits = {
        "random_split": (np.setdiff1d(targets, random_test), random_test),
        "chronological": (targets[targets < T], targets[targets >= T]),
    }
    out: dict[str, Any] = {"model": f"one MLP on plain windows of {window} raw values"}
    for name, (train, test) in splits.items():
        X, v = make_windows("plain", y, window, train)
        x_scale, v_scale = Standardizer.fit(X), Standardizer.fit(v[:, None])
        model, _ = train_mlp(x_scale(X), v_scale(v[:, None])[:, 0], hidden, config, rng, name)
        forecast = window_forecaster("plain", as_predict(model), window, x_scale, v_scale)
        out[name] = errors(y[test], np.array([forecast(y[:t]) for t in test]))
    return out


def write_forecasts(
    path: Path,
    labels: list[str],
    actual: np.ndarray,
    one: dict[str, np.ndarray],
    multi: dict[str, np.ndarray],
) -> None:
    """The held-out part as CSV: time, actual value, each forecaster's one-step and recursive forecast."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(
            ["time", "actual", *(f"{k}_one_step" for k in one), *(f"{k}_recursive" for k in multi)]
        )
        for i, label in enumerate(labels):
            row = [actual[i], *(v[i] for v in one.values()), *(v[i] for v in multi.values())]
            writer.writerow([label, *(f"{x:.6g}" for x in row)])


def run(config: Config, out_dir: Path) -> dict[str, Any]:
    """Load the series, split it in time, fit the forecasters, score them, draw the figures."""
    out_dir = Path(out_dir)
    hidden = _check(config)
    rng = np.random.default_rng(config.seed)
    series = load_series(config.series, config.csv, config.column, config.date_column, config.season, rng)
    y, n, H = series.values, len(series.values), config.test_size
    season = series.season
    window = config.window or (season + 1 if season > 1 else 12)
    T = n - H  # the first held-out index: y[T:] is the test part
    if T - window < MIN_TRAINING_WINDOWS:
        raise UsageError(
            f"{series.name}: {n} values are too few for a window of {window} and {H} held-out steps "
            f"(at least {MIN_TRAINING_WINDOWS} training windows are needed); lower --window or --test-size"
        )
    try:
        transform = choose_transform(config.transform, y[:T])
    except ValueError as e:
        raise UsageError(f"--transform log: {e}, and {series.name} has values <= 0") from None
    z = transform.forward(y)
    check_scale(series.name, y, z[:T])
    kind = choose_windows(config.windows, y[:T])

    # Chronological split. Everything below is fitted on windows whose target comes before T, so no value
    # of the test part is ever seen in fitting. (A random split of the windows would put test months
    # between training months: each test value would also be an input of the training windows after it.)
    X, v = make_windows(kind, z, window, np.arange(window, T))
    x_scale, v_scale = Standardizer.fit(X), Standardizer.fit(v[:, None])
    X_std, v_std = x_scale(X), v_scale(v[:, None])[:, 0]
    ensemble = config.ensemble
    members = [
        train_mlp(X_std, v_std, hidden, config, rng, f"mlp {k + 1}/{ensemble}") for k in range(ensemble)
    ]
    predictors = [as_predict(model) for model, _ in members]

    def mean_prediction(U: np.ndarray) -> np.ndarray:
        return np.mean([predict(U) for predict in predictors], axis=0)

    forecasters: dict[str, Forecaster] = {
        "mlp": window_forecaster(kind, mean_prediction, window, x_scale, v_scale),
        "linear_ar": window_forecaster(kind, fit_linear(X_std, v_std), window, x_scale, v_scale),
        "naive": naive(),
    }
    if season > 1 and T >= season:
        forecasters["seasonal_naive"] = seasonal_naive(season)

    actual = y[T:]
    one = {name: transform.inverse(one_step(f, z, T)) for name, f in forecasters.items()}
    multi = {name: transform.inverse(recursive(f, z, T, H)) for name, f in forecasters.items()}
    check_forecasts(series.name, {**one, **{f"{k} (recursive)": v for k, v in multi.items()}})
    scores = {
        name: {**errors(actual, one[name]), "multi_step": errors(actual, multi[name])} for name in forecasters
    }

    write_forecasts(out_dir / "forecasts.csv", series.labels[T:], actual, one, multi)
    shown = {"mlp": "MLP", "linear_ar": "linear AR", "naive": "naive", "seasonal_naive": "seasonal naive"}
    plot_series_split(
        series.labels, y, T, out_dir / "series.png", f"{series.name}: training and test parts", "value"
    )
    plot_forecasts(
        series.labels,
        y,
        {
            "one-step forecasts (each from the actual history)": {shown[k]: v for k, v in one.items()},
            f"recursive forecasts of all {H} steps from {series.labels[T - 1]}": {
                shown[k]: v for k, v in multi.items()
            },
        },
        T,
        out_dir / "forecasts.png",
        series.name,
        highlight="MLP",
    )
    reference = "seasonal_naive" if "seasonal_naive" in one else "naive"
    plot_residuals(
        series.labels,
        {"MLP": actual - one["mlp"], shown[reference]: actual - one[reference]},
        T,
        out_dir / "residuals.png",
        f"{series.name}: one-step residuals over the test part",
    )
    metrics: dict[str, Any] = {
        **{k: scores["mlp"][k] for k in ("rmse", "mae", "mape")},
        "multi_step": scores["mlp"]["multi_step"],
        "baselines": {name: s for name, s in scores.items() if name != "mlp"},
        "beats_seasonal_naive": (
            scores["mlp"]["rmse"] < scores["seasonal_naive"]["rmse"] if "seasonal_naive" in scores else None
        ),
        "series": series.name,
        "n": n,
        "train_period": f"{series.labels[0]}..{series.labels[T - 1]}",
        "test_period": f"{series.labels[T]}..{series.labels[-1]}",
        "test_size": H,
        "window": window,
        "season": season,
        "transform": transform.kind,
        "windows": kind,
        "training_windows": int(len(X)),
        "ensemble": ensemble,
        "final_train_loss": round(float(np.mean([losses[-1] for _, losses in members])), 5),
        "filled_missing_values": series.filled,
        "figures": ["series.png", "forecasts.png", "residuals.png"],
    }
    if config.leak_check:
        metrics["leak_check"] = leak_check(y, window, H, hidden, config, rng)
    return metrics
