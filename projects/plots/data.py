"""Figures for the real-data projects: image grids, per-class bars and time-series plots.

Each function draws one figure and saves it with :func:`viz.plots.save_figure` (atomic, then closed).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from viz.plots import plt, save_figure


def plot_image_grid(
    images: np.ndarray,
    captions: Sequence[str],
    path: str | os.PathLike[str],
    title: str,
    columns: int = 8,
) -> Path:
    """Grey-scale images (N, H, W) in a grid, each with its caption underneath (e.g. "pred 3 / true 5")."""
    n = len(images)
    rows = max(1, math.ceil(n / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.25 * columns, 1.45 * rows + 0.4), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k < n:
            ax.imshow(images[k], cmap="gray_r", interpolation="nearest")
            ax.set_title(captions[k], fontsize=7, pad=2)
    if n == 0:
        axes[0, 0].text(0.0, 0.5, "nothing to show", fontsize=10)
    fig.suptitle(title)
    return save_figure(fig, path)


def plot_class_bars(
    values: Mapping[str, Sequence[float]],
    class_names: Sequence[str],
    path: str | os.PathLike[str],
    title: str,
    ylabel: str = "fraction",
) -> Path:
    """Grouped bars per class, one bar per named series (accuracy; or precision and recall), in [0, 1]."""
    k = len(class_names)
    width = 0.8 / max(1, len(values))
    fig, ax = plt.subplots(figsize=(max(5.0, 0.7 * k + 1.5), 3.8))
    for i, (name, series) in enumerate(values.items()):
        xs = np.arange(k) + (i - (len(values) - 1) / 2) * width
        bars = ax.bar(xs, series, width=width, label=name)
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in series], fontsize=7, padding=1)
    low = min((min(s) for s in values.values() if len(s)), default=0.0)
    ax.set_ylim(max(0.0, min(low - 0.05, 0.9)), 1.02)
    slanted = max((len(str(c)) for c in class_names), default=0) > 3
    ax.set_xticks(range(k), class_names, rotation=30 if slanted else 0, ha="right" if slanted else "center")
    ax.set(title=title, ylabel=ylabel)
    ax.grid(axis="y", alpha=0.3)
    if len(values) > 1:
        ax.legend(loc="lower right")
    return save_figure(fig, path)


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
) -> Path:
    """One panel per entry of ``panels`` (panel title -> {forecaster: forecasts of actual[start:]}), each
    showing the actual values from ``context`` steps before ``start`` and every forecast; ``highlight`` is
    drawn bold, the others dashed."""
    first = max(0, start - context)
    positions = np.arange(len(actual))
    fig, axes = plt.subplots(len(panels), 1, figsize=(8.5, 3.5 * len(panels)), sharex=True, squeeze=False)
    for ax, (panel_title, forecasts) in zip(axes[:, 0], panels.items()):
        ax.plot(positions[first:], actual[first:], color="k", lw=2, label="actual")
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
    fig, (ax, hist) = plt.subplots(1, 2, figsize=(9.0, 3.6), gridspec_kw={"width_ratios": [2.2, 1]})
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


def _date_ticks(ax: plt.Axes, x: Sequence[object], first: int = 0, count: int = 8) -> None:
    """Label about ``count`` positions of the x axis with the series' own labels (dates), if it has them."""
    if x is None or len(x) == 0:
        ax.set_xlabel("time step")
        return
    last = len(x) - 1
    ticks = np.unique(np.linspace(first, last, count).round().astype(int))
    ax.set_xticks(ticks, [str(x[i]) for i in ticks], rotation=30, ha="right", fontsize=8)
