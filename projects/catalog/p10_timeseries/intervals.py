"""Prediction intervals from validation errors: how far off the forecasts were, at each step ahead, on the
last months of the training period (never on the test months).

The validation errors e[o, h] (transformed scale; origin o, step ahead h = 1 .. H) give

* a scale per step ahead, s_h = sqrt(a + b (h - 1)) with a, b >= 0: the mean squared error grows linearly
  with the steps ahead, as it does for a random walk, whose h-step error is the sum of h one-step errors.
  a and b are fitted by least squares to the mean squared error at each h, weighted by how many errors it
  has (step 1 has as many as there are origins, step H only one), so s_h is smooth, never shrinks with h,
  and extends past the last validated step;
* a multiplier per level (split conformal prediction): q_p is the ceil((n + 1) p)-th smallest of the n
  scores |e[o, h]| / s_h. The interval is z_hat +- q_p s_h, mapped back to the original scale (with a log
  transform it is asymmetric: wider above than below).

If the validation errors are like the test errors, a share p of held-out values falls inside the p
interval; :func:`coverage` measures the share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LEVELS = (80, 95)


@dataclass(frozen=True)
class Intervals:
    """s_h = sqrt(a + b (h - 1)) and the multipliers q_p by level p (in %)."""

    a: float
    b: float
    multipliers: dict[int, float]

    def scale(self, steps: int) -> np.ndarray:
        """s_1 .. s_steps."""
        return np.sqrt(self.a + self.b * np.arange(steps))

    def bands(self, center: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """(lower, upper) on the transformed scale, for a forecast path z_hat_1 .. z_hat_H, by level."""
        width = self.scale(len(center))
        return {p: (center - q * width, center + q * width) for p, q in self.multipliers.items()}


def fit_scale(errors: np.ndarray) -> tuple[float, float]:
    """a, b >= 0 of s_h^2 = a + b (h - 1), by weighted least squares on the mean squared error at each
    step ahead (``errors``: origins x steps, NaN where unknown)."""
    known = ~np.isnan(errors)
    count = known.sum(axis=0)
    steps = np.flatnonzero(count)
    mse = np.nansum(errors**2, axis=0)[steps] / count[steps]
    weight, h = count[steps].astype(np.float64), steps.astype(np.float64)
    if len(steps) > 1:
        design = np.c_[np.ones(len(steps)), h] * np.sqrt(weight)[:, None]
        (a, b), *_ = np.linalg.lstsq(design, mse * np.sqrt(weight), rcond=None)
        if b >= 0 and a >= 0:
            return float(a), float(b)
        if b > 0:  # the intercept would be negative: a line through the origin
            return 0.0, float(np.sum(weight * h * mse) / np.sum(weight * h * h))
    return float(np.sum(weight * mse) / np.sum(weight)), 0.0


def conformal_multiplier(scores: np.ndarray, level: float) -> float:
    """The ceil((n + 1) level)-th smallest score (the largest when that rank exceeds n)."""
    ordered = np.sort(scores)
    rank = min(len(ordered), math.ceil((len(ordered) + 1) * level))
    return float(ordered[rank - 1])


def fit_intervals(errors: np.ndarray, levels: tuple[int, ...] = LEVELS) -> Intervals:
    """Intervals from validation errors (origins x steps ahead, NaN where the step is past the data)."""
    a, b = fit_scale(errors)
    scale = np.sqrt(a + b * np.arange(errors.shape[1]))
    known = ~np.isnan(errors)
    scores = np.abs(errors[known]) / np.broadcast_to(np.maximum(scale, 1e-12), errors.shape)[known]
    return Intervals(a, b, {p: conformal_multiplier(scores, p / 100) for p in levels})


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """The share of actual values inside [lower, upper]."""
    return float(np.mean((actual >= lower) & (actual <= upper)))
