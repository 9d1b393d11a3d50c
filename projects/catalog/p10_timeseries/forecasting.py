"""Sliding-window forecasting: windows, scaling, forecasters (MLP, linear autoregression, naive baselines),
one-step and recursive multi-step forecasts, and error measures.

Notation: y_0 .. y_{n-1} is the series, z_t = g(y_t) its transform (g = log for a positive series with a
trend that grows with the level, else the identity). The held-out part is the last ``test_size`` steps,
T = n - test_size: a forecaster may only use y_0 .. y_{T-1} to fit anything (weights, scalers).

A window of the w values before step t becomes the inputs of a regression whose target is step t. Two
forms (:func:`make_windows`):

* ``plain``: inputs z_{t-w} .. z_{t-1}, target z_t;
* ``relative`` to the window's last value: inputs z_{t-w+i} - z_{t-1} (i = 0 .. w-2), target
  v = z_t - z_{t-1}, so a forecast is z_t = z_{t-1} + v_hat. A network cannot extrapolate past the levels it
  was trained on (airline passengers in 1959-60 exceed every training value), but the shape of the recent
  past relative to its last value does repeat: for a series with a trend this is the form to use.

Inputs and targets are then standardized, (x - mean) / std, with the training windows' statistics only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

# ---- transform ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transform:
    """z = log(y) (``log``) or z = y (``none``)."""

    kind: str

    def forward(self, y: np.ndarray) -> np.ndarray:
        return np.log(y) if self.kind == "log" else np.asarray(y, dtype=np.float64)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return np.exp(z) if self.kind == "log" else np.asarray(z, dtype=np.float64)


def has_trend(train: np.ndarray) -> bool:
    """True when the mean of the last tenth of the training part differs from the mean of the first tenth
    by more than one standard deviation of the whole training part (a level that drifts, not a cycle)."""
    span = max(1, len(train) // 10)
    return bool(abs(train[-span:].mean() - train[:span].mean()) > train.std())


def choose_transform(setting: str, train: np.ndarray) -> Transform:
    """``auto``: log when every training value is positive and the series has a trend (:func:`has_trend`;
    growth then tends to be proportional to the level, and the log turns it into a constant step), else
    none. ``log`` needs positive values."""
    if setting == "none":
        return Transform("none")
    positive = bool(np.all(train > 0))
    if setting == "log":
        if not positive:
            raise ValueError("a log transform needs positive values")
        return Transform("log")
    return Transform("log" if positive and has_trend(train) else "none")


def choose_windows(setting: str, train: np.ndarray) -> str:
    """``auto``: ``relative`` windows for a series with a trend (its future levels lie outside the training
    range), ``plain`` windows otherwise."""
    if setting in ("relative", "plain"):
        return setting
    return "relative" if has_trend(train) else "plain"


# ---- windows and scaling -----------------------------------------------------------------------------------


def make_windows(kind: str, z: np.ndarray, window: int, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets for forecasting z[t] (t in ``targets``) from the ``window`` values before it.

    ``relative``: inputs z[t-window .. t-2] - z[t-1] (window - 1 of them), target z[t] - z[t-1];
    ``plain``: inputs z[t-window .. t-1], target z[t].
    """
    targets = np.asarray(targets, dtype=np.intp)
    if kind == "relative":
        X = (
            np.stack([z[t - window : t - 1] - z[t - 1] for t in targets])
            if len(targets)
            else np.empty((0, window - 1))
        )
        return X, z[targets] - z[targets - 1]
    X = np.stack([z[t - window : t] for t in targets]) if len(targets) else np.empty((0, window))
    return X, z[targets]


@dataclass
class Standardizer:
    """x -> (x - mean) / std per column, with statistics from the training windows only."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, data: np.ndarray) -> Standardizer:
        std = data.std(axis=0)
        return cls(data.mean(axis=0), np.where(std > 1e-12, std, 1.0))

    def __call__(self, data: np.ndarray) -> np.ndarray:
        return (data - self.mean) / self.std

    def inverse(self, data: np.ndarray) -> np.ndarray:
        return data * self.std + self.mean


# ---- forecasters -------------------------------------------------------------------------------------------
#
# A forecaster maps a batch of histories, the last ``context`` transformed values before each forecast
# origin, shape (B, context), to the next value of each, shape (B,). Every evaluation below runs a whole
# batch of origins at once.

Forecaster = Callable[[np.ndarray], np.ndarray]


def paths(
    forecast: Forecaster, z: np.ndarray, origins: Sequence[int], steps: int, context: int
) -> np.ndarray:
    """F[i, h] = the forecast of z[origins[i] + h] made from z[:origins[i]] alone (the last ``context``
    values), each forecast fed back as history for the next step (recursive multi-step forecasting)."""
    history = np.stack([z[o - context : o] for o in origins]).astype(np.float64)
    out = np.empty((len(origins), steps))
    for h in range(steps):
        out[:, h] = forecast(history)
        history = np.c_[history[:, 1:], out[:, h]]
    return out


def one_step(forecast: Forecaster, z: np.ndarray, start: int, context: int | None = None) -> np.ndarray:
    """Forecasts of z[start], z[start+1], ..., each from the *actual* history before it."""
    return paths(forecast, z, range(start, len(z)), 1, context or start)[:, 0]


def recursive(
    forecast: Forecaster, z: np.ndarray, start: int, horizon: int, context: int | None = None
) -> np.ndarray:
    """Forecasts of z[start .. start+horizon-1] from z[:start] alone, each forecast fed back as history."""
    return paths(forecast, z, [start], horizon, context or start)[0]


def naive() -> Forecaster:
    """z_{t+1} = z_t: tomorrow is like today."""
    return lambda history: history[:, -1]


def seasonal_naive(season: int) -> Forecaster:
    """z_{t+1} = z_{t+1-season}: this month is like the same month a year ago."""
    return lambda history: history[:, -season]


def window_inputs(kind: str, history: np.ndarray, window: int) -> np.ndarray:
    """The model inputs of each history's last ``window`` values (see :func:`make_windows`)."""
    recent = history[:, -window:]
    return recent[:, :-1] - recent[:, -1:] if kind == "relative" else recent


def window_forecaster(
    kind: str,
    predict: Callable[[np.ndarray], np.ndarray],
    window: int,
    x_scale: Standardizer,
    v_scale: Standardizer,
) -> Forecaster:
    """A forecaster from a model of standardized windows (see :func:`make_windows`):
    relative: z_{t+1} = z_t + v_scale^-1(model(x_scale(u)));
    plain:    z_{t+1} = v_scale^-1(model(x_scale(x)))."""

    def forecast(history: np.ndarray) -> np.ndarray:
        x = window_inputs(kind, history, window)
        v = v_scale.inverse(np.asarray(predict(x_scale(x))).reshape(-1, 1))[:, 0]
        return history[:, -1] + v if kind == "relative" else v

    return forecast


def fit_linear(X: np.ndarray, v: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Least-squares linear autoregression on the same windows: v_hat = [u, 1] beta, where beta minimizes
    ||[U, 1] beta - v||^2 (``np.linalg.lstsq``; the normal equations' solution beta = (A^T A)^-1 A^T v)."""
    return linear_map(linear_coefficients(X, v))


def linear_coefficients(X: np.ndarray, v: np.ndarray) -> np.ndarray:
    """beta of :func:`fit_linear`: one weight per input, then the intercept."""
    beta, *_ = np.linalg.lstsq(np.c_[X, np.ones(len(X))], v, rcond=None)
    return beta


def linear_map(beta: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """U -> [U, 1] beta."""
    return lambda U: np.c_[U, np.ones(len(U))] @ beta


def blend(
    linear: Callable[[np.ndarray], np.ndarray], hidden: Callable[[np.ndarray], np.ndarray], weight: float
) -> Callable[[np.ndarray], np.ndarray]:
    """A linear skip path beside the hidden layers: v_hat = (1 - a) linear(u) + a mlp(u), a = ``weight``
    (0: the linear autoregression alone, 1: the MLP alone)."""

    def predict(U: np.ndarray) -> np.ndarray:
        out = (1 - weight) * np.asarray(linear(U)).reshape(-1)
        return out + weight * np.asarray(hidden(U)).reshape(-1) if weight else out

    return predict


# ---- errors ------------------------------------------------------------------------------------------------


def errors(actual: np.ndarray, forecast: np.ndarray) -> dict[str, float | None]:
    """MAE = mean |e|, RMSE = sqrt(mean e^2), MAPE = 100 mean |e / y| (in %, None unless every y > 0),
    with e = y - forecast, on the original scale."""
    e = actual - forecast
    mape = float(100 * np.mean(np.abs(e / actual))) if np.all(actual > 0) else None
    return {
        "rmse": float(np.sqrt(np.mean(e**2))),
        "mae": float(np.mean(np.abs(e))),
        "mape": mape,
    }


def errors_by_horizon(actual: np.ndarray, forecasts: np.ndarray, origins: Sequence[int]) -> np.ndarray:
    """RMSE at each step ahead h = 1 .. H over the rolling origins: ``forecasts[i, h-1]`` forecasts
    ``actual[origins[i] + h - 1]`` (indices into ``actual``); pairs past the end of ``actual`` are skipped,
    so step h is scored on len(origins) - h + 1 forecasts when the origins run to the end."""
    squared = np.full(forecasts.shape, np.nan)
    for i, o in enumerate(origins):
        known = min(forecasts.shape[1], len(actual) - o)
        squared[i, :known] = (actual[o : o + known] - forecasts[i, :known]) ** 2
    return np.sqrt(np.nanmean(squared, axis=0))
