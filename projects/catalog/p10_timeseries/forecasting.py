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
from typing import Callable

import numpy as np

Forecaster = Callable[[np.ndarray], float]  # transformed history z_0 .. z_t -> forecast of z_{t+1}


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


def one_step(forecast: Forecaster, z: np.ndarray, start: int) -> np.ndarray:
    """Forecasts of z[start], z[start+1], ..., each from the *actual* history before it."""
    return np.array([forecast(z[:t]) for t in range(start, len(z))])


def recursive(forecast: Forecaster, z: np.ndarray, start: int, horizon: int) -> np.ndarray:
    """Forecasts of z[start .. start+horizon-1] from z[:start] alone, each forecast fed back as history."""
    history = list(z[:start])
    out = []
    for _ in range(horizon):
        value = forecast(np.asarray(history))
        out.append(value)
        history.append(value)
    return np.array(out)


def naive() -> Forecaster:
    """z_{t+1} = z_t: tomorrow is like today."""
    return lambda history: float(history[-1])


def seasonal_naive(season: int) -> Forecaster:
    """z_{t+1} = z_{t+1-season}: this month is like the same month a year ago."""
    return lambda history: float(history[-season])


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

    def forecast(history: np.ndarray) -> float:
        last = history[-1]
        x = history[-window:-1] - last if kind == "relative" else history[-window:]
        v = float(v_scale.inverse(predict(x_scale(x[None, :])).reshape(-1))[0])
        return float(last + v) if kind == "relative" else v

    return forecast


def fit_linear(X: np.ndarray, v: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Least-squares linear autoregression on the same windows: v_hat = [u, 1] beta, where beta minimizes
    ||[U, 1] beta - v||^2 (``np.linalg.lstsq``; the normal equations' solution beta = (A^T A)^-1 A^T v)."""
    design = np.c_[X, np.ones(len(X))]
    beta, *_ = np.linalg.lstsq(design, v, rcond=None)
    return lambda U: np.c_[U, np.ones(len(U))] @ beta


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
