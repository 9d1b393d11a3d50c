"""Figures of loss surfaces: contour maps with an optimizer's path on them, and 3-D surfaces.

``Z[i, j]`` is the loss at (xs[j], ys[i]), the layout ``np.meshgrid(xs, ys)`` produces.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from viz.plots import plt, save_figure


def contour_levels(Z: np.ndarray, count: int = 25, log: bool = True) -> np.ndarray:
    """Contour levels from the minimum of Z up to its maximum, geometrically spaced (``log``) so that the
    valley floor, where the interesting detail is, gets as many lines as the steep walls."""
    low, high = float(np.min(Z)), float(np.max(Z))
    if not np.isfinite(low) or not np.isfinite(high) or high <= low:
        return np.linspace(low, low + 1.0, count)
    if log:
        offset = low - 1e-3 * (high - low)  # so that the lowest level sits just above the minimum
        return offset + np.geomspace(1e-3 * (high - low), high - offset, count)
    return np.linspace(low, high, count)


def draw_contour(
    ax: plt.Axes,
    xs: np.ndarray,
    ys: np.ndarray,
    Z: np.ndarray,
    path: np.ndarray | None = None,
    optimum: Sequence[float] | None = None,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
    path_label: str = "path",
) -> None:
    """Filled contours of Z, the path (K, 2) as a line with markers from start (circle) to end (square),
    and an optional optimum (star)."""
    xx, yy = np.meshgrid(xs, ys)
    levels = contour_levels(Z)
    filled = ax.contourf(xx, yy, Z, levels=levels, cmap="viridis")
    ax.contour(xx, yy, Z, levels=levels, colors="white", linewidths=0.4, alpha=0.6)
    ax.figure.colorbar(filled, ax=ax, fraction=0.046, pad=0.04, label="loss", format="%.3g")
    if path is not None and len(path):
        ax.plot(path[:, 0], path[:, 1], "-", color="tab:red", lw=1.4, label=path_label)
        ax.plot(path[:, 0], path[:, 1], ".", color="tab:red", ms=4)
        ax.plot(*path[0], "o", color="white", mec="tab:red", ms=7, label="start")
        ax.plot(*path[-1], "s", color="tab:red", mec="white", ms=7, label="end")
    if optimum is not None:
        ax.plot(*optimum, "*", color="gold", mec="k", ms=14, label="exact minimum")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if path is not None or optimum is not None:
        ax.legend(loc="upper right", fontsize=8, framealpha=0.8)


def draw_surface(
    ax: plt.Axes,
    xs: np.ndarray,
    ys: np.ndarray,
    Z: np.ndarray,
    path: np.ndarray | None = None,
    path_z: np.ndarray | None = None,
    xlabel: str = "",
    ylabel: str = "",
    zlabel: str = "loss",
    title: str = "",
) -> None:
    """A 3-D surface of Z (``ax`` must be a ``projection="3d"`` axes), with an optional path on it."""
    xx, yy = np.meshgrid(xs, ys)
    ax.plot_surface(xx, yy, Z, cmap="viridis", linewidth=0, antialiased=True, alpha=0.85)
    if path is not None and path_z is not None:
        ax.plot(path[:, 0], path[:, 1], path_z, "-", color="tab:red", lw=1.6, zorder=10)
        ax.scatter(path[-1:, 0], path[-1:, 1], path_z[-1:], color="tab:red", s=30, zorder=11)
    ax.set(xlabel=xlabel, ylabel=ylabel, zlabel=zlabel, title=title)
    ax.view_init(elev=35, azim=-60)


def plot_surface_figure(
    xs: np.ndarray,
    ys: np.ndarray,
    Z: np.ndarray,
    path: str | os.PathLike[str],
    title: str,
    xlabel: str = "α",
    ylabel: str = "β",
    zlabel: str = "loss",
) -> Path:
    """A standalone 3-D surface figure."""
    fig = plt.figure(figsize=(6.4, 5.2))
    ax = fig.add_subplot(projection="3d")
    draw_surface(ax, xs, ys, Z, xlabel=xlabel, ylabel=ylabel, zlabel=zlabel, title=title)
    return save_figure(fig, path)


def plot_contour_figure(
    xs: np.ndarray,
    ys: np.ndarray,
    Z: np.ndarray,
    path: str | os.PathLike[str],
    title: str,
    xlabel: str = "α",
    ylabel: str = "β",
    trajectory: np.ndarray | None = None,
    path_label: str = "path",
) -> Path:
    """A standalone contour figure, optionally with a path on it; the centre (0, 0) is marked."""
    fig, ax = plt.subplots(figsize=(6.0, 5.0))
    draw_contour(ax, xs, ys, Z, trajectory, xlabel=xlabel, ylabel=ylabel, title=title, path_label=path_label)
    if trajectory is None:
        ax.plot(0, 0, "+", color="tab:red", ms=12, mew=2)
    ax.set_aspect("equal", adjustable="box")
    return save_figure(fig, path)
