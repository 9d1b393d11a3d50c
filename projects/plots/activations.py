"""Figures for comparing activation functions: function and derivative panels, grouped bar charts,
per-layer gradient norms."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from viz.plots import plt, save_figure


def plot_function_panels(
    x: np.ndarray,
    panels: Mapping[str, Mapping[str, np.ndarray]],
    path: str | os.PathLike[str],
    suptitle: str,
    columns: int = 4,
) -> Path:
    """One panel per name. Each panel maps a curve label to its y values on ``x``; labels starting with
    ``"closed form"`` are drawn dashed black (the reference), ``"scalar"`` ones as sparse dots, the others
    as solid lines."""
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.4 * columns, 2.9 * rows), squeeze=False)
    marker_every = max(len(x) // 20, 1)
    for ax, (name, curves) in zip(axes.ravel(), panels.items()):
        for label, ys in curves.items():
            if label.startswith("closed form"):
                ax.plot(x, ys, "--", color="k", lw=1.0, label=label)
            elif label.startswith("scalar"):
                ax.plot(x[::marker_every], ys[::marker_every], "o", ms=3, mfc="none", label=label)
            else:
                ax.plot(x, ys, lw=2.2, alpha=0.75, label=label)
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6.5, loc="upper left")
    for ax in axes.ravel()[len(panels) :]:
        ax.axis("off")
    fig.suptitle(suptitle)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_grouped_bars(
    groups: Sequence[str],
    series: Mapping[str, Sequence[float]],
    path: str | os.PathLike[str],
    title: str,
    ylabel: str,
    ylim: tuple[float, float] | None = None,
    references: Sequence[tuple[float, str]] = (),
    annotate: bool = True,
) -> Path:
    """Bars for each group (x axis), one colour per series; optional horizontal reference lines
    (value, label)."""
    fig, ax = plt.subplots(figsize=(max(5.0, 0.8 * len(groups) * max(len(series), 1)), 4.0))
    width = 0.8 / max(len(series), 1)
    positions = np.arange(len(groups))
    for k, (label, values) in enumerate(series.items()):
        bars = ax.bar(positions + (k - (len(series) - 1) / 2) * width, values, width, label=label)
        if annotate:
            ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=2)
    for (value, label), style in zip(references, ("--", ":", "-.")):
        ax.axhline(value, color="k", ls=style, lw=1.1, label=label)
    ax.set_xticks(positions, groups)
    ax.set(title=title, ylabel=ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(axis="y", alpha=0.3)
    if len(series) > 1 or references:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: never hides a bar
    return save_figure(fig, path)


def plot_layer_norms(norms: Mapping[str, Sequence[float]], path: str | os.PathLike[str], title: str) -> Path:
    """Per-layer gradient norms (log scale), one line per network, layer 1 = the input side."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for label, values in norms.items():
        ax.plot(np.arange(1, len(values) + 1), values, "o-", label=label)
    ax.set_yscale("log")
    ax.set(title=title, xlabel="layer (1 = nearest the input)", ylabel="||dL/dW|| (Frobenius)")
    ax.set_xticks(np.arange(1, max(len(v) for v in norms.values()) + 1))
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return save_figure(fig, path)
