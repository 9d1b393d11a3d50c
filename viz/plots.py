"""Matplotlib figures the projects share: curves, decision regions, confusion matrices.

Every figure is saved with :func:`save_figure`, which writes a temporary file and renames it, so a crash
never leaves a half-written image, and closes the figure so long runs do not accumulate memory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # files only, never a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from autograd.files import atomic_open  # noqa: E402


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = 110) -> Path:
    """Save ``fig`` to ``path`` atomically (format from the suffix: .png, .svg, .pdf) and close it."""
    path = Path(path)
    try:
        with atomic_open(path, "wb") as f:
            fig.savefig(f, format=path.suffix.lstrip(".") or "png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path


def plot_curves(
    series: Mapping[str, Sequence[float]],
    path: str | os.PathLike[str],
    title: str,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    logy: bool = False,
    x: Sequence[float] | None = None,
) -> Path:
    """One line per named series (e.g. train and test loss) on shared axes."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for name, values in series.items():
        xs = x if x is not None else np.arange(1, len(values) + 1)
        ax.plot(xs, values, label=name, lw=1.6)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend()
    return save_figure(fig, path)


def plot_confusion_matrix(
    matrix: np.ndarray,
    class_names: Sequence[str],
    path: str | os.PathLike[str],
    title: str = "Confusion matrix",
) -> Path:
    """Counts of (true class, predicted class), each cell annotated; the diagonal is what went right."""
    matrix = np.asarray(matrix)
    k = len(class_names)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * k, 0.8 + 0.5 * k))
    im = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(k), class_names, rotation=45, ha="right")
    ax.set_yticks(range(k), class_names)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                str(int(matrix[i, j])),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if matrix[i, j] > threshold else "black",
            )
    return save_figure(fig, path)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """matrix[i, j] = number of examples of true class i predicted as class j."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.intp), np.asarray(y_pred, dtype=np.intp)), 1)
    return matrix


def decision_grid(
    X: np.ndarray, steps: int = 200, margin: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A (steps x steps) grid covering the 2-D points X, and the grid as an (steps**2, 2) array of points."""
    (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(x0, x1, steps), np.linspace(y0, y1, steps))
    return xx, yy, np.c_[xx.ravel(), yy.ravel()]


def plot_decision_regions(
    predict: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    path: str | os.PathLike[str],
    title: str,
    ax: plt.Axes | None = None,
    steps: int = 200,
) -> Path | None:
    """Colour the plane by ``predict(points)`` (a score or probability per point), the 0.5 contour, the data.

    With ``ax`` given, draws into it and returns None (the caller saves the figure).
    """
    xx, yy, grid = decision_grid(X, steps)
    scores = np.asarray(predict(grid), dtype=float).reshape(xx.shape)
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(5.2, 4.4))
    ax.contourf(xx, yy, scores, levels=20, cmap="RdBu_r", alpha=0.55)
    ax.contour(xx, yy, scores, levels=[0.5], colors="k", linewidths=1.2)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=22)
    ax.set_title(title)
    return save_figure(ax.figure, path) if own else None
