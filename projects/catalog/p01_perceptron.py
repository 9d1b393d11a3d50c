"""Project 01: Rosenblatt's perceptron, Novikoff's bound, and why XOR defeats it.

The perceptron predicts sign(w . x + b). Rosenblatt's rule visits the examples in a fixed order and, on
each mistake (y (w . x + b) <= 0, labels y in {-1, +1}), updates

    w <- w + y x,    b <- b + y.

Writing x' = (x, 1) and w' = (w, b), this is w' <- w' + y x' starting from w' = 0. Novikoff (1962): if
every ||x'|| <= R and some unit vector u separates the data with margin gamma (y u . x' >= gamma for all
examples), the rule makes at most (R / gamma)^2 updates. Proof sketch: each update raises u . w' by at
least gamma and ||w'||^2 by at most R^2, so k gamma <= u . w' <= ||w'|| <= sqrt(k) R.

We count the updates on a linearly separable point set and on the AND and OR gates, and compare them with
the bound, using the largest margin gamma we can certify (a hard-margin separator through the origin of
the x' space, found by dual coordinate ascent; any separating u gives a valid, if looser, bound).

On XOR no separator exists. With the examples in a fixed order the weights after each full pass are a
deterministic function of the weights before it, and with 0/1 inputs they are integers, so they must
eventually repeat: a repeated start-of-epoch state proves the rule cycles for ever.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd.errors import UsageError
from projects.datasets.synthetic import linearly_separable, logic_gate
from projects.lab.config import RunConfig, option
from viz.plots import plt, save_figure


@dataclass
class Config(RunConfig):
    """Settings of the perceptron project (each field is a command-line flag)."""

    points: int = option(100, "Number of points in the linearly separable set.", quick=30, high=100_000)
    margin: float = option(
        0.1, "No point lies closer than this to the generating line (smaller margin: more updates)."
    )
    max_epochs: int = option(
        1000,
        "Cap on full passes over the data (XOR never converges and hits it unless cycling is detected).",
        high=100_000,
    )


EXPLANATION = """\
Rosenblatt's perceptron: on every mistake, w <- w + y x and b <- b + y (labels y = ±1).

**boundary_moves.png**: the separable set (blue +1, red -1) and the decision line w . x + b = 0 after
each update, early lines faint and later ones dark, the final line in black. The title compares the
number of updates with Novikoff's bound (R / gamma)^2, where R is the largest ||(x, 1)|| and gamma the
margin of the best separator we could certify (dashed green line): updates can never exceed the bound.

**updates_vs_bound.png**: the cumulative number of updates epoch by epoch for the separable set, AND and OR,
each with its Novikoff bound as a dashed line of the same colour. All three stop (an epoch without a
mistake) below their bound.

**logic_gates.png**: AND and OR are linearly separable and the rule finds a line; XOR is not, and the
rule cycles: the weights at the start of an epoch soon repeat exactly (in the truth-table order,
after a single epoch, listed in the panel), so the same sequence of lines (drawn) comes back for
ever. The run stops when that repetition is detected.
"""


# --------------------------------------------------------------------------------------------------------
# The learning rule
# --------------------------------------------------------------------------------------------------------


@dataclass
class PerceptronRun:
    """The outcome of Rosenblatt's rule on one data set."""

    weights: np.ndarray  # final w (2,)
    bias: float  # final b
    updates: int
    epochs: int  # full passes made (the last one without a mistake, when converged)
    converged: bool
    history: list[tuple[np.ndarray, float]] = field(default_factory=list)  # (w, b) after each update
    updates_per_epoch: list[int] = field(default_factory=list)
    cycle_start_epoch: int | None = None  # epoch whose starting weights came back (XOR)
    cycle_length: int | None = None  # epochs per cycle


def rosenblatt(X: np.ndarray, y: np.ndarray, max_epochs: int, detect_cycles: bool = True) -> PerceptronRun:
    """Run the perceptron rule from w = 0, b = 0, visiting the examples in their order, until an epoch
    makes no mistake, a start-of-epoch weight vector repeats (a cycle: it will never converge), or
    ``max_epochs`` passes.

    A mistake is y (w . x + b) <= 0 (a point on the line counts as wrong, so the first example always
    triggers an update).
    """
    if set(np.unique(y)) - {-1.0, 1.0}:
        raise ValueError("labels must be -1 or +1")
    w, b = np.zeros(X.shape[1]), 0.0
    history: list[tuple[np.ndarray, float]] = []
    per_epoch: list[int] = []
    seen: dict[tuple[float, ...], int] = {}
    for epoch in range(1, max_epochs + 1):
        if detect_cycles:
            state = (*w.tolist(), b)
            if state in seen:
                first = seen[state]
                return PerceptronRun(
                    w, b, len(history), epoch - 1, False, history, per_epoch, first, epoch - first
                )
            seen[state] = epoch
        mistakes = 0
        for x_i, y_i in zip(X, y):
            if y_i * (w @ x_i + b) <= 0:
                w = w + y_i * x_i
                b = b + y_i
                mistakes += 1
                history.append((w.copy(), float(b)))
        per_epoch.append(mistakes)
        if mistakes == 0:
            return PerceptronRun(w, b, len(history), epoch, True, history, per_epoch)
    return PerceptronRun(w, b, len(history), max_epochs, False, history, per_epoch)


# --------------------------------------------------------------------------------------------------------
# Novikoff's bound
# --------------------------------------------------------------------------------------------------------


def augment(X: np.ndarray) -> np.ndarray:
    """x' = (x, 1): the bias as the weight of a constant feature."""
    return np.c_[X, np.ones(len(X))]


def radius(X: np.ndarray) -> float:
    """R = max_i ||(x_i, 1)||."""
    return float(np.linalg.norm(augment(X), axis=1).max())


def margin_of(u: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """gamma(u) = min_i y_i u . x'_i / ||u||: positive exactly when u separates the data."""
    norm = np.linalg.norm(u)
    if norm == 0:
        return 0.0
    return float(np.min(y * (augment(X) @ u)) / norm)


def max_margin_direction(X: np.ndarray, y: np.ndarray, sweeps: int = 2000, tol: float = 1e-7) -> np.ndarray:
    """A hard-margin separator u of the points x' (through the origin of x' space), by dual coordinate ascent.

    Primal: minimize ||u||^2 / 2 subject to y_i u . x'_i >= 1; the margin is then 1 / ||u||.
    Dual: maximize sum(a) - ||sum_i a_i y_i x'_i||^2 / 2 over a >= 0, with u = sum_i a_i y_i x'_i.
    Coordinate i's exact maximizer is a_i <- max(0, a_i + (1 - y_i u . x'_i) / ||x'_i||^2). We stop when
    the duality gap sum(a) - ||u||^2 is below ``tol`` relative to ||u||^2. Whatever u we stop at, its
    own margin (``margin_of``) is what the bound uses, so an early stop only loosens the bound.
    """
    Z = augment(X) * y[:, None]  # rows y_i x'_i
    squared = np.einsum("ij,ij->i", Z, Z)
    alpha = np.zeros(len(Z))
    u = np.zeros(Z.shape[1])
    for _ in range(sweeps):
        for i in range(len(Z)):
            new = max(0.0, alpha[i] + (1.0 - Z[i] @ u) / squared[i])
            if new != alpha[i]:
                u += (new - alpha[i]) * Z[i]
                alpha[i] = new
        primal = u @ u
        if primal > 0 and abs(alpha.sum() - primal) <= tol * primal:
            break
    return u


def novikoff_bound(X: np.ndarray, y: np.ndarray) -> tuple[float, float, float, np.ndarray]:
    """(R/gamma)^2 with R = max ||x'|| and gamma the margin of :func:`max_margin_direction`'s separator.

    Returns (bound, R, gamma, u); the bound is infinite when no separator was found (gamma <= 0).
    """
    u = max_margin_direction(X, y)
    gamma = margin_of(u, X, y)
    r = radius(X)
    bound = (r / gamma) ** 2 if gamma > 0 else float("inf")
    return bound, r, gamma, u


def gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A logic gate's truth table with labels in {-1, +1}."""
    X, y01 = logic_gate(name)
    return X, 2.0 * y01 - 1.0


# --------------------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------------------


def _line_points(w: np.ndarray, b: float, box: tuple[float, float, float, float]) -> np.ndarray | None:
    """Two points of w . x + b = 0 spanning the box (x0, x1, y0, y1), or None for w = 0."""
    x0, x1, y0, y1 = box
    if abs(w[1]) >= abs(w[0]) and w[1] != 0:
        xs = np.array([x0, x1])
        return np.c_[xs, -(w[0] * xs + b) / w[1]]
    if w[0] != 0:
        ys = np.array([y0, y1])
        return np.c_[-(w[1] * ys + b) / w[0], ys]
    return None


def _draw_points(ax: plt.Axes, X: np.ndarray, y: np.ndarray) -> None:
    ax.scatter(*X[y > 0].T, c="#2166ac", marker="o", s=28, edgecolors="k", lw=0.5, label="+1", zorder=3)
    ax.scatter(*X[y < 0].T, c="#b2182b", marker="s", s=28, edgecolors="k", lw=0.5, label="-1", zorder=3)


def _draw_history(
    ax: plt.Axes, history: list[tuple[np.ndarray, float]], box: tuple[float, float, float, float]
) -> None:
    """Each successive line darker (viridis from faint to dark); the last one black."""
    cmap = plt.get_cmap("viridis_r")
    n = len(history)
    for k, (w, b) in enumerate(history):
        pts = _line_points(w, b, box)
        if pts is None:
            continue
        t = k / max(n - 1, 1)
        last = k == n - 1
        ax.plot(
            pts[:, 0],
            pts[:, 1],
            color="k" if last else cmap(0.15 + 0.85 * t),
            alpha=1.0 if last else 0.25 + 0.6 * t,
            lw=2.2 if last else 1.0,
        )


def plot_boundary_moves(
    X: np.ndarray, y: np.ndarray, run: PerceptronRun, u: np.ndarray, bound: float, path: pathlib.Path
) -> None:
    box = (-1.15, 1.15, -1.15, 1.15)
    fig, ax = plt.subplots(figsize=(6.0, 5.6))
    _draw_history(ax, run.history, box)
    pts = _line_points(u[:2], float(u[2]), box)
    if pts is not None:
        ax.plot(pts[:, 0], pts[:, 1], "--", color="#1a9850", lw=1.6, label="max-margin separator")
    _draw_points(ax, X, y)
    sm = plt.cm.ScalarMappable(cmap="viridis_r", norm=plt.Normalize(1, max(run.updates, 2)))
    fig.colorbar(sm, ax=ax, fraction=0.046, pad=0.04, label="update number")
    ax.set(xlim=box[:2], ylim=box[2:], xlabel="x1", ylabel="x2", aspect="equal")
    ax.set_title(f"{run.updates} updates in {run.epochs} epochs; Novikoff bound (R/γ)² = {bound:.0f}")
    ax.legend(loc="lower right", fontsize=8)
    save_figure(fig, path)


def plot_updates_vs_bound(runs: dict[str, tuple[PerceptronRun, float]], path: pathlib.Path) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for (name, (run, bound)), color in zip(runs.items(), ("C0", "C1", "C2", "C3")):
        cumulative = np.cumsum(run.updates_per_epoch)  # >= 1 from epoch 1: the first example is a mistake
        ax.plot(
            np.arange(1, len(cumulative) + 1),
            cumulative,
            "o-",
            color=color,
            ms=3,
            label=f"{name}: {run.updates}",
        )
        ax.axhline(bound, color=color, ls="--", lw=1, label=f"{name} bound {bound:.0f}")
    ax.set(xlabel="epoch", ylabel="updates so far", title="Perceptron updates vs. Novikoff's bound")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    save_figure(fig, path)


def plot_logic_gates(runs: dict[str, PerceptronRun], path: pathlib.Path) -> None:
    box = (-0.5, 1.5, -0.5, 1.5)
    fig, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 4.6))
    for ax, (name, run) in zip(np.atleast_1d(axes), runs.items()):
        X, y = gate(name)
        shown = run.history
        if run.cycle_start_epoch is not None:  # XOR: draw the lines of the repeating cycle only
            per_epoch = run.updates_per_epoch
            start = sum(per_epoch[: run.cycle_start_epoch - 1])
            shown = run.history[start:]
        _draw_history(ax, shown, box)
        _draw_points(ax, X, y)
        if run.converged:
            status = f"converged: {run.updates} updates, {run.epochs} epochs"
        elif run.cycle_length is not None:
            status = f"cycles every {run.cycle_length} epoch(s) ({len(shown)} lines repeat)"
        else:
            status = f"no convergence in {run.epochs} epochs"
        if run.cycle_start_epoch is not None:  # spell the cycle out: the weights after each update
            states = ["(w1, w2, b):"] + [f"({w[0]:g}, {w[1]:g}, {b:g})" for w, b in shown]
            states[-1] += "  = the start"
            ax.text(
                0.5,
                0.5,
                "\n".join(states),
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=8,
                family="monospace",
                bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "#999"},
            )
        ax.set(xlim=box[:2], ylim=box[2:], aspect="equal", xlabel="x1", ylabel="x2")
        ax.set_title(f"{name.upper()}\n{status}", fontsize=10)
    save_figure(fig, path)


# --------------------------------------------------------------------------------------------------------
# The project
# --------------------------------------------------------------------------------------------------------


def validate(config: Config) -> None:
    if config.points < 2:
        raise UsageError(f"--points must be at least 2, got {config.points}")
    if not 0 < config.margin < 0.7:
        raise UsageError(f"--margin must be between 0 and 0.7, got {config.margin}")
    if config.max_epochs < 1:
        raise UsageError(f"--max-epochs must be at least 1, got {config.max_epochs}")


def run(config: Config, out_dir: pathlib.Path) -> dict[str, Any]:
    """Run the rule on a separable set, AND, OR and XOR; write three figures; return the counts."""
    validate(config)
    out_dir = pathlib.Path(out_dir)
    rng = np.random.default_rng(config.seed)
    n = config.points
    X, y = linearly_separable(n, rng, margin=config.margin)
    separable = rosenblatt(X, y, config.max_epochs)
    bound, r, gamma, u = novikoff_bound(X, y)

    gate_runs = {name: rosenblatt(*gate(name), config.max_epochs) for name in ("and", "or", "xor")}
    gate_bounds = {name: novikoff_bound(*gate(name))[0] for name in ("and", "or")}

    plot_boundary_moves(X, y, separable, u, bound, out_dir / "boundary_moves.png")
    plot_updates_vs_bound(
        {
            "separable set": (separable, bound),
            "AND": (gate_runs["and"], gate_bounds["and"]),
            "OR": (gate_runs["or"], gate_bounds["or"]),
        },
        out_dir / "updates_vs_bound.png",
    )
    plot_logic_gates(gate_runs, out_dir / "logic_gates.png")

    xor = gate_runs["xor"]
    return {
        "updates": separable.updates,
        "novikoff_bound": bound,
        "xor_converged": xor.converged,
        "converged": separable.converged,
        "epochs": separable.epochs,
        "points": n,
        "radius": r,
        "margin_gamma": gamma,
        "within_bound": separable.updates <= bound,
        "final_weights": [*separable.weights.tolist(), separable.bias],
        "and": {
            "converged": gate_runs["and"].converged,
            "updates": gate_runs["and"].updates,
            "novikoff_bound": gate_bounds["and"],
        },
        "or": {
            "converged": gate_runs["or"].converged,
            "updates": gate_runs["or"].updates,
            "novikoff_bound": gate_bounds["or"],
        },
        "xor_cycle_detected": xor.cycle_length is not None,
        "xor_cycle_start_epoch": xor.cycle_start_epoch,
        "xor_cycle_length_epochs": xor.cycle_length,
        "xor_updates_before_stop": xor.updates,
        "figures": ["boundary_moves.png", "updates_vs_bound.png", "logic_gates.png"],
    }
