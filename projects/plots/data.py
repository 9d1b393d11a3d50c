"""Figures for the real-data projects: image grids and per-class bars (project 10's time-series figures are
in :mod:`projects.catalog.p10_timeseries.plots`).

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
