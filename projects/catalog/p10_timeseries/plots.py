"""Project 10's figures: the split, the forecasts with their intervals, the residuals, the error by steps
ahead, and the future after the history.

Each function draws one figure and saves it with :func:`viz.plots.save_figure` (atomic, then closed).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from viz.plots import plt, save_figure

Bands = Mapping[int, tuple[np.ndarray, np.ndarray]]  # level in % -> (lower, upper)
BAND_ALPHA = {80: 0.35, 95: 0.18}


def plot_series_split(
    x: Sequence[object],
    y: np.ndarray,
    split_index: int,
    path: str | os.PathLike[str],
    title: str,
    ylabel: str,
) -> Path:
    """The whole series, the training part and the held-out part in two colours, the split marked."""
    positions = np.arange(len(y))
    fig, ax = plt.subplots(figsize=(8.0, 3.6))
    ax.plot(
        positions[: split_index + 1], y[: split_index + 1], color="tab:blue", lw=1.2, label="training part"
    )
    ax.plot(positions[split_index:], y[split_index:], color="tab:orange", lw=1.4, label="held out (test)")
    ax.axvline(split_index - 0.5, color="k", ls="--", lw=1)
    ax.axvspan(split_index - 0.5, len(y) - 0.5, color="tab:orange", alpha=0.08)
    _date_ticks(ax, x)
    ax.set(title=title, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    return save_figure(fig, path)


def plot_forecasts(
    labels: Sequence[str],
    actual: np.ndarray,
    panels: Mapping[str, Mapping[str, np.ndarray]],
    start: int,
    path: str | os.PathLike[str],
    title: str,
    context: int = 36,
    highlight: str | None = None,
    bands: Mapping[str, Bands] | None = None,
) -> Path:
    """One panel per entry of ``panels`` (panel title -> {forecaster: forecasts of actual[start:]}), each
    showing the actual values from ``context`` steps before ``start`` and every forecast; ``highlight`` is
    drawn bold, the others dashed. ``bands`` (panel title -> intervals of the highlighted forecaster) are
    drawn as shaded bands."""
    first = max(0, start - context)
    positions = np.arange(len(actual))
    fig, axes = plt.subplots(len(panels), 1, figsize=(8.5, 3.5 * len(panels)), sharex=True, squeeze=False)
    for ax, (panel_title, forecasts) in zip(axes[:, 0], panels.items()):
        ax.plot(positions[first:], actual[first:], color="k", lw=2, label="actual")
        for level, (lower, upper) in sorted((bands or {}).get(panel_title, {}).items(), reverse=True):
            span = positions[start : start + len(lower)]
            _shade_interval(ax, span, lower, upper, level, f"{highlight} {level}% interval")
        for name, values in forecasts.items():
            style = {"lw": 2.0} if name == highlight else {"lw": 1.0, "ls": "--"}
            ax.plot(positions[start : start + len(values)], values, marker=".", ms=3, label=name, **style)
        ax.axvline(start - 0.5, color="k", ls=":", lw=1)
        ax.set_title(panel_title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    _date_ticks(axes[-1, 0], labels, first)
    fig.suptitle(title)
    return save_figure(fig, path)


def plot_residuals(
    x: Sequence[object],
    residuals: Mapping[str, np.ndarray],
    start: int,
    path: str | os.PathLike[str],
    title: str,
) -> Path:
    """Residuals (actual - forecast) over the held-out part, and their histogram."""
    fig, (ax, hist) = plt.subplots(
        1, 2, figsize=(9.0, 3.6), gridspec_kw={"width_ratios": [2.2, 1]}, layout="constrained"
    )
    for name, values in residuals.items():
        positions = np.arange(start, start + len(values))
        ax.plot(positions, values, marker="o", ms=3, lw=1, label=name)
        hist.hist(values, bins=12, alpha=0.55, label=name)
    ax.axhline(0, color="k", lw=0.8)
    _date_ticks(ax, x, start)
    ax.set(title="over time", ylabel="actual - forecast")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    hist.set(title="distribution", xlabel="actual - forecast")
    fig.suptitle(title)
    return save_figure(fig, path)


def plot_error_by_horizon(
    rmse: Mapping[str, np.ndarray], path: str | os.PathLike[str], title: str, highlight: str | None = None
) -> Path:
    """RMSE against steps ahead (1 .. H), one line per forecaster; ``highlight`` bold."""
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    for name, values in rmse.items():
        style = {"lw": 2.2} if name == highlight else {"lw": 1.1, "ls": "--"}
        ax.plot(np.arange(1, len(values) + 1), values, marker=".", ms=4, label=name, **style)
    ax.set(title=title, xlabel="steps ahead", ylabel="RMSE")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return save_figure(fig, path)


def plot_future(
    labels: Sequence[str],
    history: np.ndarray,
    future_labels: Sequence[str],
    forecast: np.ndarray,
    bands: Bands,
    path: str | os.PathLike[str],
    title: str,
    context: int = 72,
) -> Path:
    """The last ``context`` values of the history, then the forecast of the next periods with its bands."""
    shown = history[-context:]
    past = np.arange(len(shown))
    ahead = np.arange(len(shown), len(shown) + len(forecast))
    fig, ax = plt.subplots(figsize=(8.5, 3.8))
    ax.plot(past, shown, color="k", lw=1.6, label="history")
    for level, (lower, upper) in sorted(bands.items(), reverse=True):
        _shade_interval(ax, ahead, lower, upper, level, f"{level}% interval")
    ax.plot(
        np.r_[past[-1], ahead],
        np.r_[shown[-1], forecast],
        color="tab:blue",
        lw=2,
        marker=".",
        ms=4,
        label="forecast",
    )
    ax.axvline(len(shown) - 0.5, color="k", ls=":", lw=1)
    _date_ticks(ax, [*labels[-len(shown) :], *future_labels])
    ax.set(title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return save_figure(fig, path)


def _shade_interval(
    ax: plt.Axes, x: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: int, label: str
) -> None:
    """The ``level``% interval [lower, upper] over ``x`` as a blue band, paler the wider the interval."""
    ax.fill_between(x, lower, upper, color="tab:blue", alpha=BAND_ALPHA.get(level, 0.2), lw=0, label=label)


def _date_ticks(ax: plt.Axes, x: Sequence[object], first: int = 0, count: int = 8) -> None:
    """Label about ``count`` positions of the x axis with the series' own labels (dates), if it has them."""
    if x is None or len(x) == 0:
        ax.set_xlabel("time step")
        return
    last = len(x) - 1
    ticks = np.unique(np.linspace(first, last, count).round().astype(int))
    ax.set_xticks(ticks, [str(x[i]) for i in ticks], rotation=30, ha="right", fontsize=8)
