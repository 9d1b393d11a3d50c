"""Project 10: forecasting a time series with a sliding-window MLP, against honest baselines, with
prediction intervals, and the future past the end of the data.

The network sees the last ``window`` values of the series and predicts the next one (regression, mean
squared error loss L = mean (v_hat - v)^2, dL/dv_hat = 2 (v_hat - v) / N). The windows are expressed
relative to their last value and standardized (see :mod:`.forecasting`); a positive, growing series is
modelled in logs. Its one-step map has a linear skip path beside the MLPs' hidden layers,
v_hat = (1 - a) linear(u) + a mlp(u): the linear path is the least-squares autoregression, the hidden
path the mean of ``ensemble`` MLPs. The weight a (0, 0.1, .., 1) is chosen by rolling-origin validation
inside the training part: ``folds`` periods of ``test_size`` steps, the latest ending where the test part
begins and each earlier one a season (12 months) before (``test_size`` steps without a season), with
the models refitted on the steps before each. A period's score for a is the RMSE of the recursive forecasts
from every origin in it, by steps ahead, averaged over the steps ahead; a* has the smallest mean score over
the folds, and the chosen a is the smallest one within one standard error of a*'s mean (the one-standard-error
rule: keep to the linear path unless the hidden path wins by more than the folds' own spread). The validation
errors of all folds, pooled, give the 80% and 95% prediction intervals (:mod:`.intervals`).

On the airline passengers and the monthly sunspots the hidden path does not earn its place: the rule
chooses a = 0 at every seed tried, so the forecaster *is* the linear autoregression there and
``horizon_rule`` holds at 1.0x. On a seasonal series with a trend and noise it does (a = 0.2 to 0.5, 0.84x
to 0.94x the linear autoregression's 24-step error).

Evaluation is chronological: the last ``test_size`` steps are held out, and nothing fitted (weights,
scalers, the weight a, the intervals) sees them. Each forecaster is scored on that holdout **one-step**
(each month forecast from the actual months before it), **multi-step** (the whole holdout forecast from
its start, each forecast fed back as input) and **by steps ahead** (RMSE at 1 .. test_size steps ahead,
over every origin in the holdout). Baselines on the same holdout: naive (the last value), seasonal naive
(the value one season earlier, lag 12 for monthly data) and the linear autoregression alone.

The run saves the model in ``model/`` (:mod:`.model`) and forecasts the ``test_size`` periods after the
data (``future.csv``, ``future.png``); ``backprop-lab forecast --model RUN/model --steps N`` does it for
any N up to 120 (:mod:`.forecast_cli`).

Series: ``--series airline`` (default; monthly airline passengers 1949-1960), ``sunspots`` (monthly sunspot
numbers 1749-2013), ``sine`` (synthetic), or any CSV: ``--csv FILE --column NAME`` (a date column is
optional).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Tensor, mse_loss
from autograd.errors import TrainingError, UsageError
from autograd.files import atomic_open, write_text
from autograd.nn import ACTIVATIONS, MLP
from autograd.optim import Adam
from projects.catalog.p10_timeseries import model as model_files
from projects.catalog.p10_timeseries.forecast_cli import forecast_table
from projects.catalog.p10_timeseries.forecasting import (
    Forecaster,
    Standardizer,
    blend,
    choose_transform,
    choose_windows,
    errors,
    errors_by_horizon,
    linear_coefficients,
    linear_map,
    make_windows,
    naive,
    paths,
    seasonal_naive,
    window_forecaster,
)
from projects.catalog.p10_timeseries.intervals import LEVELS, coverage, fit_intervals
from projects.catalog.p10_timeseries.model import ForecastModel, as_predict, ensemble_predict
from projects.catalog.p10_timeseries.plots import (
    plot_error_by_horizon,
    plot_forecasts,
    plot_future,
    plot_residuals,
    plot_series_split,
)
from projects.datasets.timeseries import load_series
from projects.lab.config import RunConfig, check_bounds, check_layer_sizes, option
from projects.lab.training import fit

MIN_TRAINING_WINDOWS = 10
HIDDEN_WEIGHTS = tuple(k / 10 for k in range(11))  # the weights a of the hidden path tried: 0, 0.1, .., 1
HORIZON_RULE = 1.1  # the MLP's multi-step RMSE at most this many times the linear autoregression's


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
    folds: int = option(
        4,
        "Validation periods (rolling origin, each ending one season before the next) that choose the "
        "hidden path's weight and give the intervals; models are refitted before each.",
        low=1,
        high=20,
    )
    leak_check: bool = option(
        True, "Also score the original set-up (plain windows) on a random and on a chronological split."
    )
    run_dir: Path | None = option(
        None,
        "Where the runner puts this run's folder when it is done (filled in by the runner; None: out_dir).",
    )


EXPLANATION = """\
# 10 Time-series forecasting

An MLP reads a window of recent values (13 months for monthly data) and predicts the next value; five such
networks from different initial weights are averaged. For a series with a trend, like the airline
passengers, each window is expressed relative to its last value and in logarithms: the network learns the
*shape* of a year (ups and downs, in percent) rather than the level, which in the test years is higher than
anything seen in training, and a network cannot extrapolate beyond the values it was trained on.

**A chronological split.** The last 24 months are held out; everything fitted (weights, the scaling of the
inputs, the choices below) comes from the months before. The original version of this project split the
windows at random, which leaks the future into training: a test month sits between training months, its
value is also an input of the training windows that follow it, and the network only has to *interpolate*.
`leak_check` in the metrics measures it with the original set-up (one MLP on plain windows of the raw
values) on a random and on a chronological split.

**Forecasting further ahead.** Fed its own forecasts, a network's small one-step errors compound: on the
airline passengers, the MLP alone, excellent one step ahead, drifted far below the actual 1959-60 when it
forecast 24 months at once. So the forecaster has a *linear skip path* beside the hidden layers: the
next change is (1 - a) x the linear autoregression's + a x the MLPs'. The weight a (0, 0.1, ..., 1) is
chosen by *rolling-origin validation* inside the training part: four 24-month periods ending 1958, 1957,
1956 and 1955 (the latest just before the test years), every model refitted on the months before each.
Each period scores each a by its forecasts from every month in it, 1 to 24 steps ahead. The a with the
best mean score over the periods is not taken blindly: the chosen a is the *smallest* one whose mean is
within one standard error of the best (the one-standard-error rule). With four noisy periods, the simpler
forecaster is kept unless the network wins by more than the periods disagree among themselves.
`validation` shows every period's score for every a, the mean, the standard error and the choice;
`hidden_path_weight` is the a used, and `horizon_rule` compares the 24-month error with the linear
autoregression's (the goal: at most 1.1 times). On the airline passengers the rule chooses a = 0: the
hidden path helped in 1957-58, hurt in 1955-57 and barely mattered in 1954-55, so the forecaster is the
linear autoregression and the MLPs are not used (`validation.verdict` says so). That is a legitimate
outcome of an honest choice, and on 1959-60 every a > 0 would have been worse. On a series where the
network does add something (try a seasonal series with noise of your own), the rule gives it weight.

**Prediction intervals.** The validation forecasts of all four periods, pooled, give the errors at each
step ahead (with the chosen a): their spread grows with the steps ahead (fitted as a variance
c + d (h - 1), as for a random walk; `interval_variance` names them a and b) and the 80% and 95% intervals
are the forecast +- the validation errors' 80th and 95th percentiles of |error| / spread (split conformal
prediction), on the log scale when the series is modelled in logs (so wider above than below).
`coverage_80` and `coverage_95` are the shares of the held-out months inside the bands of the 24-month
forecast. With 24 months, coverage moves in steps of 1/24 (about 4%) and consecutive months err together:
read it as a rough check, not a precise rate; `coverage_all_origins` pools the forecasts from every origin.

**Baselines** on the same holdout: naive (next month = this month), seasonal naive (next month = the same
month a year earlier) and the linear autoregression alone. Errors are on the original scale: MAE, RMSE
(which weighs large misses more) and MAPE (only for positive series), one-step (every month forecast from
the actual months before it) and `multi_step` (all 24 months forecast from the start of the holdout).

* `forecasts.png`: top, the one-step forecasts of every method; bottom, the 24-month forecasts, with the
  MLP's 80% and 95% bands.
* `error_by_horizon.png`: RMSE against steps ahead (1 to 24) for the MLP and every baseline, over every
  origin in the held-out months: how fast each forecast degrades.
* `future.png` and `future.csv`: the 24 months after the end of the data, with both intervals, from the
  saved model (`model/`); `backprop-lab forecast --model RUN/model --steps N` does the same for any N
  from 1 to 120.
* `series.png`: the whole series, the training part and the held-out part, the split marked.
* `residuals.png`: actual minus forecast (one-step) for the MLP and the seasonal-naive baseline over the
  holdout, and their distribution.
"""


@dataclass
class Stage:
    """What is fitted on the windows before one split point: scalers, the linear path, the MLPs."""

    x_scale: Standardizer
    v_scale: Standardizer
    linear: np.ndarray
    members: list[MLP]
    final_losses: list[float]
    windows: int


def _check(config: Config) -> list[int]:
    for name in ("test_size", "steps", "batch_size", "ensemble", "folds"):
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


def fit_stage(
    z: np.ndarray,
    kind: str,
    window: int,
    end: int,
    hidden: list[int],
    config: Config,
    rng: np.random.Generator,
    desc: str,
) -> Stage:
    """Fit the scalers, the linear path and ``config.ensemble`` MLPs on the windows whose target is before
    ``end`` (nothing at or after ``end`` is seen)."""
    X, v = make_windows(kind, z, window, np.arange(window, end))
    x_scale, v_scale = Standardizer.fit(X), Standardizer.fit(v[:, None])
    X_std, v_std = x_scale(X), v_scale(v[:, None])[:, 0]
    trained = [
        train_mlp(X_std, v_std, hidden, config, rng, f"{desc} mlp {k + 1}/{config.ensemble}")
        for k in range(config.ensemble)
    ]
    return Stage(
        x_scale,
        v_scale,
        linear_coefficients(X_std, v_std),
        [model for model, _ in trained],
        [losses[-1] for _, losses in trained],
        len(X),
    )


def stage_forecaster(stage: Stage, kind: str, window: int, weight: float) -> Forecaster:
    """The one-step forecaster with the hidden path weighted ``weight`` (0: the linear path alone)."""
    predict = blend(linear_map(stage.linear), ensemble_predict(stage.members), weight)
    return window_forecaster(kind, predict, window, stage.x_scale, stage.v_scale)


def origin_errors(forecast: Forecaster, z: np.ndarray, start: int, end: int, context: int) -> np.ndarray:
    """E[i, h] = z[o + h] - its forecast from origin o = start + i (h = 0 .. end - start - 1), NaN where
    o + h >= end."""
    origins = np.arange(start, end)
    steps = end - start
    F = paths(forecast, z, origins, steps, context)
    E = np.full_like(F, np.nan)
    for i, o in enumerate(origins):
        E[i, : end - o] = z[o:end] - F[i, : end - o]
    return E


def mean_rmse_by_horizon(E: np.ndarray) -> float:
    """The validation score: RMSE at each step ahead, averaged over the steps ahead."""
    return float(np.mean(np.sqrt(np.nanmean(E**2, axis=0))))


@dataclass
class Fold:
    """One validation period z[start:end] of the training part, forecast by models fitted before ``start``:
    ``errors[a]`` holds the errors from every origin in it (:func:`origin_errors`) with hidden weight a."""

    start: int
    end: int
    training_windows: int
    errors: dict[float, np.ndarray]

    @cached_property
    def scores(self) -> dict[float, float]:
        """The validation score of each hidden weight on this fold (computed once)."""
        return {a: mean_rmse_by_horizon(E) for a, E in self.errors.items()}


def fold_ends(T: int, V: int, window: int, season: int, count: int) -> list[int]:
    """The ends of the validation periods, latest first: T, T - step, T - 2 step, ... (step = the season,
    or V without one), as many as ``count`` while at least MIN_TRAINING_WINDOWS windows precede a period."""
    step = season if season > 1 else V
    ends = [T - k * step for k in range(count)]
    return [end for end in ends if end - V - window >= MIN_TRAINING_WINDOWS] or [T]


def validation_folds(
    z: np.ndarray,
    kind: str,
    window: int,
    T: int,
    V: int,
    season: int,
    hidden: list[int],
    config: Config,
    rng: np.random.Generator,
) -> list[Fold]:
    """Rolling-origin validation inside the training part z[:T]: for each period z[end - V:end], fit the
    models on the windows before it and forecast it from each of its origins, for every hidden weight."""
    folds = []
    for k, end in enumerate(fold_ends(T, V, window, season, config.folds)):
        start = end - V
        stage = fit_stage(z, kind, window, start, hidden, config, rng, f"validation {k + 1}")
        errors_by_weight = {
            a: origin_errors(stage_forecaster(stage, kind, window, a), z[:end], start, end, window)
            for a in HIDDEN_WEIGHTS
        }
        folds.append(Fold(start, end, stage.windows, errors_by_weight))
    return folds


@dataclass
class WeightChoice:
    """The one-standard-error rule over the folds' scores s[k, a] (:func:`mean_rmse_by_horizon`): the best
    weight a* minimizes the mean over folds m(a); the chosen weight is the smallest a with
    m(a) <= m(a*) + se, se = std_k s[k, a*] / sqrt(K) (the standard error of the best mean)."""

    weight: float
    best: float
    mean: dict[float, float]
    standard_error: float

    def verdict(self) -> str:
        """The choice in words."""
        if self.weight == 0:
            why = (
                "the linear path alone had the best mean score over the folds"
                if self.best == 0
                else f"the linear path alone scored within one standard error of the best mean over the folds"
                f" (a = {self.best:g})"
            )
            return f"a = 0: {why}, so the MLPs are not used: the forecaster is the linear autoregression"
        return (
            f"a = {self.weight:g}: the hidden path beat the linear path by more than one standard error "
            f"over the folds (best mean at a = {self.best:g}; the smallest a within one standard error)"
        )

    def summary(self, labels: list[str], folds: list[Fold]) -> dict[str, Any]:
        """The choice and the scores behind it, for the metrics."""
        return {
            "rule": "one standard error: the smallest weight whose mean score over the folds is within "
            "one standard error of the best mean (score: RMSE by steps ahead, averaged over the steps, "
            "on the transformed scale)",
            "verdict": self.verdict(),
            "best_weight": self.best,
            "chosen_weight": self.weight,
            "standard_error": round(self.standard_error, 6),
            "threshold": round(self.mean[self.best] + self.standard_error, 6),
            "mean_rmse_by_horizon_by_weight": {str(a): round(s, 6) for a, s in self.mean.items()},
            "folds": [
                {
                    "period": f"{labels[fold.start]}..{labels[fold.end - 1]}",
                    "training_windows": fold.training_windows,
                    "mean_rmse_by_horizon_by_weight": {str(a): round(s, 6) for a, s in fold.scores.items()},
                }
                for fold in folds
            ],
        }


def choose_weight(folds: list[Fold]) -> WeightChoice:
    """The hidden path's weight by the one-standard-error rule (see :class:`WeightChoice`): with noisy
    evidence from a few folds, keep to the simpler forecaster (the linear path) unless the hidden path
    wins by more than the folds' own spread."""
    table = np.array([[fold.scores[a] for a in HIDDEN_WEIGHTS] for fold in folds])
    mean = table.mean(axis=0)
    best = int(np.argmin(mean))
    se = float(table[:, best].std(ddof=1) / math.sqrt(len(folds))) if len(folds) > 1 else 0.0
    chosen = next(j for j in range(len(HIDDEN_WEIGHTS)) if mean[j] <= mean[best] + se)
    return WeightChoice(
        HIDDEN_WEIGHTS[chosen], HIDDEN_WEIGHTS[best], dict(zip(HIDDEN_WEIGHTS, mean.tolist())), se
    )


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
        out[name] = errors(y[test], paths(forecast, y, test, 1, window)[:, 0])
    return out


def write_forecasts(
    path: Path,
    labels: list[str],
    actual: np.ndarray,
    one: dict[str, np.ndarray],
    multi: dict[str, np.ndarray],
    bands: dict[int, tuple[np.ndarray, np.ndarray]],
) -> None:
    """The held-out part as CSV: time, actual value, each forecaster's one-step and recursive forecast, and
    the MLP's recursive intervals."""
    levels = sorted(bands)
    with atomic_open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(
            [
                "time",
                "actual",
                *(f"{k}_one_step" for k in one),
                *(f"{k}_recursive" for k in multi),
                *(f"mlp_{side}_{p}" for p in levels for side in ("lower", "upper")),
            ]
        )
        for i, label in enumerate(labels):
            row = [
                actual[i],
                *(v[i] for v in one.values()),
                *(v[i] for v in multi.values()),
                *(bands[p][k][i] for p in levels for k in (0, 1)),
            ]
            writer.writerow([label, *(f"{x:.6g}" for x in row)])


def run(config: Config, out_dir: Path) -> dict[str, Any]:
    """Load the series, split it in time, choose the hidden path's weight and the intervals on a validation
    period, fit the forecasters, score them, save the model, forecast the future, draw the figures."""
    out_dir = Path(out_dir)
    hidden = _check(config)
    rng = np.random.default_rng(config.seed)
    series = load_series(config.series, config.csv, config.column, config.date_column, config.season, rng)
    y, n, H = series.values, len(series.values), config.test_size
    season = series.season
    window = config.window or (season + 1 if season > 1 else 12)
    T = n - H  # the first held-out index: y[T:] is the test part
    if T - window < MIN_TRAINING_WINDOWS + 1:
        raise UsageError(
            f"{series.name}: {n} values are too few for a window of {window} and {H} held-out steps "
            f"(at least {MIN_TRAINING_WINDOWS} training windows and a validation period are needed); "
            "lower --window or --test-size"
        )
    try:
        transform = choose_transform(config.transform, y[:T])
    except ValueError as e:
        raise UsageError(f"--transform log: {e}, and {series.name} has values <= 0") from None
    z = transform.forward(y)
    check_scale(series.name, y, z[:T])
    kind = choose_windows(config.windows, y[:T])

    # Validation: rolling-origin folds inside the training part, each a period of V steps with the models
    # refitted on the steps before it. They choose the hidden path's weight (one-standard-error rule) and
    # measure the errors at each step ahead (the intervals, pooled over the folds).
    V = min(H, T - window - MIN_TRAINING_WINDOWS)
    folds = validation_folds(z, kind, window, T, V, season, hidden, config, rng)
    choice = choose_weight(folds)
    weight = choice.weight
    intervals = fit_intervals(np.concatenate([fold.errors[weight] for fold in folds]))

    # Chronological split. Everything below is fitted on windows whose target comes before T, so no value
    # of the test part is ever seen in fitting. (A random split of the windows would put test months
    # between training months: each test value would also be an input of the training windows after it.)
    final = fit_stage(z, kind, window, T, hidden, config, rng, "final")
    model = ForecastModel(
        kind=kind,
        window=window,
        season=season,
        transform=transform,
        x_scale=final.x_scale,
        v_scale=final.v_scale,
        linear=final.linear,
        members=final.members,
        weight=weight,
        intervals=intervals,
        history=y,
        labels=series.labels,
        dated=series.labels != [str(i) for i in range(n)],
        name=series.name,
        validated_steps=V,
    )
    forecasters: dict[str, Forecaster] = {
        "mlp": model.forecaster(),
        "linear_ar": stage_forecaster(final, kind, window, 0.0),
        "naive": naive(),
    }
    context = window
    if season > 1 and T >= season:
        forecasters["seasonal_naive"] = seasonal_naive(season)
        context = max(window, season)

    actual, origins = y[T:], np.arange(T, n)
    rolling = {name: transform.inverse(paths(f, z, origins, H, context)) for name, f in forecasters.items()}
    check_forecasts(series.name, rolling)  # before any error is computed or anything is drawn
    one = {name: F[:, 0] for name, F in rolling.items()}
    multi = {name: F[0] for name, F in rolling.items()}
    by_horizon = {name: errors_by_horizon(y, F, origins) for name, F in rolling.items()}
    scores_test = {
        name: {**errors(actual, one[name]), "multi_step": errors(actual, multi[name])} for name in forecasters
    }
    z_paths = transform.forward(rolling["mlp"])
    bands = {
        p: (transform.inverse(lo), transform.inverse(hi))
        for p, (lo, hi) in intervals.bands(z_paths[0]).items()
    }
    pooled = {p: [] for p in LEVELS}  # coverage over every (origin, step ahead) pair in the holdout
    for i, o in enumerate(origins):
        for p, (lo, hi) in intervals.bands(z_paths[i, : n - o]).items():
            inside = (actual[i:] >= transform.inverse(lo)) & (actual[i:] <= transform.inverse(hi))
            pooled[p].extend(inside.tolist())

    save_dir = model_files.save(out_dir / "model", model)
    future_labels, future, future_bands = model.future(H)
    write_text(out_dir / "future.csv", forecast_table(future_labels, future, future_bands))
    shown_dir = (config.run_dir or out_dir) / save_dir.name
    print(f"model saved in {shown_dir}; forecast the next 12 periods with:")
    print(f"  backprop-lab forecast --model {shown_dir} --steps 12 --out forecast.csv")

    write_forecasts(out_dir / "forecasts.csv", series.labels[T:], actual, one, multi, bands)
    mlp_label = (
        "MLP (a = 0: the linear AR)" if weight == 0 else f"MLP (a = {weight:g})"
    )  # the skip path's share
    shown = {"mlp": mlp_label, "linear_ar": "linear AR", "naive": "naive", "seasonal_naive": "seasonal naive"}
    multi_title = f"{H}-step forecasts from {series.labels[T - 1]} (each fed back as input)"
    plot_forecasts(
        series.labels,
        y,
        {
            "one-step forecasts (each from the actual history)": {shown[k]: v for k, v in one.items()},
            multi_title: {shown[k]: v for k, v in multi.items()},
        },
        T,
        out_dir / "forecasts.png",
        series.name,
        highlight=mlp_label,
        bands={multi_title: bands},
    )
    plot_error_by_horizon(
        {shown[k]: v for k, v in by_horizon.items()},
        out_dir / "error_by_horizon.png",
        f"{series.name}: error by steps ahead over the {H} held-out steps",
        highlight=mlp_label,
    )
    plot_future(
        series.labels,
        y,
        future_labels,
        future,
        future_bands,
        out_dir / "future.png",
        f"{series.name}: the next {H} periods, with 80% and 95% intervals",
    )
    plot_series_split(
        series.labels, y, T, out_dir / "series.png", f"{series.name}: training and test parts", "value"
    )
    reference = "seasonal_naive" if "seasonal_naive" in one else "naive"
    plot_residuals(
        series.labels,
        {mlp_label: actual - one["mlp"], shown[reference]: actual - one[reference]},
        T,
        out_dir / "residuals.png",
        f"{series.name}: one-step residuals over the test part",
    )
    ratio = scores_test["mlp"]["multi_step"]["rmse"] / scores_test["linear_ar"]["multi_step"]["rmse"]
    metrics: dict[str, Any] = {
        **{k: scores_test["mlp"][k] for k in ("rmse", "mae", "mape")},
        "multi_step": scores_test["mlp"]["multi_step"],
        "coverage_80": coverage(actual, *bands[80]),
        "coverage_95": coverage(actual, *bands[95]),
        "baselines": {name: s for name, s in scores_test.items() if name != "mlp"},
        "horizon_rule": {
            "multi_step_rmse_over_linear_ar": round(ratio, 4),
            "at_most": HORIZON_RULE,
            "holds": bool(ratio <= HORIZON_RULE),
        },
        "hidden_path_weight": weight,
        "validation": {
            **choice.summary(series.labels, folds),
            "interval_variance": {"a": intervals.a, "b": intervals.b},
            "interval_multipliers": {str(p): q for p, q in intervals.multipliers.items()},
        },
        "coverage_all_origins": {
            **{str(p): float(np.mean(pooled[p])) for p in LEVELS},
            "pairs": len(pooled[LEVELS[0]]),
        },
        "rmse_by_horizon": {name: [round(float(x), 4) for x in v] for name, v in by_horizon.items()},
        "beats_seasonal_naive": (
            scores_test["mlp"]["rmse"] < scores_test["seasonal_naive"]["rmse"]
            if "seasonal_naive" in scores_test
            else None
        ),
        "series": series.name,
        "n": n,
        "train_period": f"{series.labels[0]}..{series.labels[T - 1]}",
        "test_period": f"{series.labels[T]}..{series.labels[-1]}",
        "future_period": f"{future_labels[0]}..{future_labels[-1]}",
        "test_size": H,
        "window": window,
        "season": season,
        "transform": transform.kind,
        "windows": kind,
        "training_windows": final.windows,
        "ensemble": config.ensemble,
        "final_train_loss": round(float(np.mean(final.final_losses)), 5),
        "filled_missing_values": series.filled,
        "model_dir": save_dir.name,
        "figures": ["forecasts.png", "error_by_horizon.png", "future.png", "series.png", "residuals.png"],
    }
    if config.leak_check:
        metrics["leak_check"] = leak_check(y, window, H, hidden, config, rng)
    return metrics
