"""Figures about training itself: annotated tables, parameter heatmaps over time, network diagrams whose
edges show the weights, and decision-boundary animations.

All files are written atomically (:func:`viz.plots.save_figure`, or a temporary file renamed into place
for the GIF) and every figure is closed after saving.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize

from autograd.files import atomic_path
from viz.plots import decision_grid, plt, save_figure


def plot_table_heatmap(
    values: np.ndarray,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    path: str | os.PathLike[str],
    title: str,
    value_format: str = "{:.2f}",
    cmap: str = "RdYlGn",
    vmin: float = 0.0,
    vmax: float = 1.0,
) -> Path:
    """A table of numbers (rows x columns) as coloured cells, each annotated with its value."""
    values = np.asarray(values, dtype=float)
    rows, cols = values.shape
    fig, ax = plt.subplots(figsize=(1.6 + 1.2 * cols, 1.2 + 0.7 * rows))
    im = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(cols), column_labels)
    ax.set_yticks(range(rows), row_labels)
    for i in range(rows):
        for j in range(cols):
            ax.text(j, i, value_format.format(values[i, j]), ha="center", va="center", fontsize=11)
    ax.set_title(title, fontsize=10)
    return save_figure(fig, path)


def plot_parameter_heatmaps(
    snapshots: Sequence[dict[str, np.ndarray]],
    path: str | os.PathLike[str],
    title: str,
    epochs: Sequence[int] | None = None,
) -> Path:
    """One panel per parameter array: each row is one entry (weight or bias) and the colour its value over
    training (columns = snapshots). Diverging colours centred at 0 (red positive, blue negative)."""
    names = list(snapshots[0])
    epochs = list(epochs) if epochs is not None else list(range(len(snapshots)))
    fig, axes = plt.subplots(
        len(names),
        1,
        figsize=(8.0, 1.2 + sum(0.9 + 0.06 * snapshots[0][n].size for n in names)),
        squeeze=False,
        sharex=True,
        gridspec_kw={"height_ratios": [max(snapshots[0][n].size, 3) for n in names]},
    )
    for ax, name in zip(axes[:, 0], names):
        matrix = np.stack([np.ravel(s[name]) for s in snapshots], axis=1)  # entries x time
        limit = float(np.abs(matrix).max()) or 1.0
        im = ax.imshow(
            matrix,
            aspect="auto",
            cmap="RdBu_r",
            vmin=-limit,
            vmax=limit,
            interpolation="nearest",
            extent=(epochs[0] - 0.5, epochs[-1] + 0.5, matrix.shape[0] - 0.5, -0.5),
        )
        ax.set_ylabel(
            f"{name}\n{tuple(snapshots[0][name].shape)}", rotation=0, ha="right", va="center", fontsize=8
        )
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.03, pad=0.01)
    axes[-1, 0].set_xlabel("epoch")
    axes[0, 0].set_title(title)
    return save_figure(fig, path)


def plot_network_diagram(
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    path: str | os.PathLike[str],
    title: str,
    layer_names: Sequence[str] | None = None,
) -> Path:
    """Neurons as circles in columns (one per layer) and every weight as an edge: red positive, blue
    negative, thicker and darker for larger |w|. A neuron's fill shows its bias on the same scale.

    ``weights[k]`` has shape (fan_in, fan_out) (the engine's ``Linear`` layout).
    """
    sizes = [weights[0].shape[0]] + [w.shape[1] for w in weights]
    limit = max(float(np.abs(w).max()) for w in weights) or 1.0
    cmap = plt.get_cmap("RdBu_r")
    norm = Normalize(-limit, limit)  # symmetric: white at 0
    tallest = max(sizes)

    def positions(layer: int) -> np.ndarray:
        n = sizes[layer]
        ys = (np.arange(n) - (n - 1) / 2) * (1.0 if n > 1 else 0.0)
        return np.c_[np.full(n, float(layer)), ys]

    fig, ax = plt.subplots(figsize=(2.2 + 2.0 * len(sizes), 1.5 + 0.45 * tallest))
    for k, w in enumerate(weights):
        start, end = positions(k), positions(k + 1)
        segments, colors, widths = [], [], []
        for i in range(w.shape[0]):
            for j in range(w.shape[1]):
                segments.append([start[i], end[j]])
                colors.append(cmap(norm(w[i, j])))
                widths.append(0.3 + 4.0 * abs(w[i, j]) / limit)
        order = np.argsort(widths)  # thick edges drawn last, on top
        ax.add_collection(
            LineCollection(
                [segments[i] for i in order],
                colors=[colors[i] for i in order],
                linewidths=[widths[i] for i in order],
                alpha=0.85,
                zorder=1,
            )
        )
    for layer in range(len(sizes)):
        pts = positions(layer)
        fills = ["#f0f0f0"] * sizes[layer] if layer == 0 else [cmap(norm(b)) for b in biases[layer - 1]]
        ax.scatter(pts[:, 0], pts[:, 1], s=260, c=fills, edgecolors="k", linewidths=1.0, zorder=3)
    names = (
        list(layer_names)
        if layer_names
        else (["input"] + [f"hidden {k}" for k in range(1, len(sizes) - 1)] + ["output"])
    )
    for layer, name in enumerate(names):
        ax.text(
            layer, (tallest - 1) / 2 + 0.8, f"{name}\n({sizes[layer]})", ha="center", va="bottom", fontsize=9
        )
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=norm)
    fig.colorbar(sm, ax=ax, fraction=0.03, pad=0.02, label="weight (edges) / bias (neurons)")
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(-(tallest - 1) / 2 - 0.8, (tallest - 1) / 2 + 1.6)
    ax.set_axis_off()
    ax.set_title(title)
    return save_figure(fig, path)


def save_decision_animation(
    frames: Sequence[Callable[[np.ndarray], np.ndarray]],
    frame_titles: Sequence[str],
    X: np.ndarray,
    y: np.ndarray,
    path: str | os.PathLike[str],
    fps: int = 6,
    steps: int = 80,
) -> Path:
    """A GIF: for each frame, ``predict(grid points)`` (a probability per point) as colour, the 0.5
    contour, and the data, on axes x1, x2 with a colour bar for p. Written with matplotlib's
    PillowWriter to a temporary file, then renamed."""
    xx, yy, grid = decision_grid(X, steps)
    fields = [np.asarray(predict(grid), dtype=float).reshape(xx.shape) for predict in frames]
    fig, ax = plt.subplots(figsize=(5.6, 4.4))
    colours = plt.cm.ScalarMappable(cmap="RdBu_r", norm=Normalize(0.0, 1.0))
    bar = fig.colorbar(colours, ax=ax, fraction=0.046, pad=0.04, label="p = P(class 1); points: true class")
    bar.solids.set_alpha(0.6)  # as light as the regions it explains
    marker_size = 70 if len(X) <= 20 else 16  # a handful of points (XOR) must stay visible

    def draw(k: int) -> list:
        ax.clear()
        ax.contourf(xx, yy, fields[k], levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        if fields[k].min() < 0.5 < fields[k].max():
            ax.contour(xx, yy, fields[k], levels=[0.5], colors="k", linewidths=1.2)
        ax.scatter(
            X[:, 0],
            X[:, 1],
            c=y,
            cmap="RdBu_r",
            vmin=0,
            vmax=1,
            edgecolors="k",
            linewidths=0.5,
            s=marker_size,
        )
        ax.set_title(frame_titles[k], fontsize=10)
        ax.set(xlabel="x1", ylabel="x2")
        ax.tick_params(labelsize=8)
        return []

    animation = FuncAnimation(fig, draw, frames=len(fields), blit=False)
    path = Path(path)
    try:
        with atomic_path(path) as tmp:  # PillowWriter wants a file name, not a file object
            animation.save(tmp, writer=PillowWriter(fps=fps), dpi=80)
    finally:
        plt.close(fig)
    return path
