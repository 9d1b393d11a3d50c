"""Project 06: loss landscapes.

Two views of "the loss as a function of the weights":

1. Linear regression y ~ w x + b has only two weights, so its whole loss surface can be drawn exactly:
   L(w, b) = mean_n (w x_n + b - y_n)^2, a paraboloid, with gradient
   dL/dw = 2 mean_n (w x_n + b - y_n) x_n,   dL/db = 2 mean_n (w x_n + b - y_n).
   Gradient descent (gradients from the engine) is drawn on it, next to the exact minimum from the
   normal equations.
2. An MLP on two moons has hundreds of weights; we look at slices (see :mod:`.landscape`): the
   1-D line from the initial to the final weights, a 2-D plane through the final weights along two
   filter-normalized random directions (contour and 3-D surface, Li et al. 2018), and the training
   trajectory in its own two principal directions.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd import Tensor, cross_entropy, mse_loss, no_grad
from autograd.errors import UsageError, check_options
from autograd.nn import MLP, Module
from autograd.optim import SGD
from projects.catalog.p06_landscape import landscape
from projects.catalog.p06_landscape.plots import (
    draw_contour,
    draw_surface,
    plot_contour_figure,
    plot_surface_figure,
)
from projects.datasets.synthetic import train_test_split, two_moons
from projects.lab.config import RunConfig, check_bounds, option
from projects.lab.training import fit
from viz.plots import plot_decision_regions, plt, save_figure


@dataclass
class Config(RunConfig):
    """Settings of the loss-landscape project (each field is a command-line flag)."""

    linear_steps: int = option(
        40, "Gradient-descent steps on the linear-regression surface.", low=1, high=10_000
    )
    linear_lr: float = option(
        0.4, "Learning rate of that gradient descent (the surface's curvature allows up to ~0.46)."
    )
    linear_grid: int = option(
        81, "Points per axis of the linear-regression surface.", quick=9, low=2, high=1001
    )
    moons: int = option(
        600, "Number of two-moons points for the MLP (80% train, 20% test).", quick=200, low=20, high=100_000
    )
    noise: float = option(0.2, "Standard deviation of the noise added to the moons.")
    hidden: int = option(32, "Width of each of the MLP's two hidden layers.", low=1, high=256)
    epochs: int = option(
        40,
        "Training epochs of the MLP (its weights are recorded after each one).",
        quick=15,
        low=2,
        high=2000,
    )
    lr: float = option(0.05, "SGD learning rate of the MLP (momentum 0.9).")
    grid: int = option(
        25, "Points per axis of the 2-D slices (grid x grid forward passes each).", quick=9, low=3, high=101
    )
    span: float = option(
        1.0, "The 2-D random slice covers α, β in [-span, span] (in filter-normalized units)."
    )
    line_points: int = option(
        61, "Points along the 1-D line from the initial to the final weights.", quick=13, low=2, high=1001
    )
    resolution: int = option(
        200, "Grid points per axis of the decision-region picture.", quick=60, low=10, high=400
    )


EXPLANATION = """\
# Loss landscape

**linear_regression_surface.png**: the exact mean-squared-error surface L(w, b) of fitting y = w x + b
(left: contour lines, right: 3-D). The inputs are not centred, so the bowl is a long, narrow valley;
gradient descent (red; every gradient computed by the engine) first zig-zags across the steep direction
and then crawls along the flat one towards the exact minimum (star, from the normal equations).

**interpolation_1d.png**: the loss on the straight line L((1 - a) θ0 + a θ1) from the initial weights
(a = 0) to the trained weights (a = 1), extended to a in [-0.25, 1.25]; train and test loss. A smooth,
mostly monotone descent means the optimizer did not have to climb over barriers.

**landscape_2d_contour.png / landscape_3d_surface.png**: the loss L(θ* + α d1 + β d2) around the trained
weights θ* along two random, filter-normalized directions (each neuron's part of d scaled to that
neuron's weight norm, Li et al. 2018): the trained model sits at the centre of a basin. The 3-D view
plots log10 of the loss so that the floor of the basin is visible next to its steep walls.

**trajectory_pca.png**: the weights after every epoch, projected on the two principal directions of the
path itself (the axis labels give the share of the path's squared displacement each one captures), on the
loss contours of that plane. Training paths are low-dimensional: two directions capture most of it. (The
early weights lie a little off this plane, so the contour under them is not exactly their loss.)

**decision_regions.png**: what the trained MLP learned on two moons (test points shown).
"""


# ---- part 1: linear regression, whose surface is known exactly ------------------------------------------


def linear_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """y = 2 x - 1 + noise with x uniform on [0, 2] (not centred, so the loss surface is an elongated
    bowl: its Hessian 2 [[E x^2, E x], [E x, 1]] has condition number ~14)."""
    x = rng.uniform(0.0, 2.0, n)
    return x, 2.0 * x - 1.0 + rng.normal(0.0, 0.3, n)


def mse_surface(x: np.ndarray, y: np.ndarray, ws: np.ndarray, bs: np.ndarray) -> np.ndarray:
    """The exact L(w, b) = mean_n (w x_n + b - y_n)^2 on the grid: Z[i, j] at (ws[j], bs[i]).

    Expanded, L = w^2 E[x^2] + 2 w b E[x] + b^2 - 2 w E[xy] - 2 b E[y] + E[y^2] (no per-point loop).
    """
    W, B = np.meshgrid(ws, bs)
    ex, ey, exx, exy, eyy = x.mean(), y.mean(), (x * x).mean(), (x * y).mean(), (y * y).mean()
    return W * W * exx + 2 * W * B * ex + B * B - 2 * W * exy - 2 * B * ey + eyy


def least_squares(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The exact minimizer (w*, b*) of the MSE (normal equations, solved by lstsq)."""
    A = np.c_[x, np.ones_like(x)]
    (w, b), *_ = np.linalg.lstsq(A, y, rcond=None)
    return float(w), float(b)


def largest_curvature(x: np.ndarray) -> float:
    """The largest eigenvalue of the MSE's (constant) Hessian H = 2 [[E x^2, E x], [E x, 1]].

    Gradient descent on a quadratic converges exactly when lr < 2 / lambda_max.
    """
    hessian = 2.0 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    return float(np.linalg.eigvalsh(hessian)[-1])


def gradient_descent_path(
    x: np.ndarray, y: np.ndarray, start: tuple[float, float], lr: float, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch gradient descent on the MSE with the engine's gradients.

    Returns the path (steps + 1, 2) of (w, b) and the loss at each point.
    """
    w = Tensor(np.array(start[0]), requires_grad=True, dtype=np.float64)
    b = Tensor(np.array(start[1]), requires_grad=True, dtype=np.float64)
    X, Y = Tensor(x, dtype=np.float64), Tensor(y, dtype=np.float64)
    optimizer = SGD([w, b], lr=lr)
    path, losses = [], []
    for _ in range(steps + 1):
        optimizer.zero_grad()
        loss = mse_loss(X * w + b, Y)
        path.append((w.item(), b.item()))
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return np.array(path), np.array(losses)


def linear_regression_part(config: Config, rng: np.random.Generator, out_dir: pathlib.Path) -> dict:
    x, y = linear_data(100, rng)
    w_star, b_star = least_squares(x, y)
    start = (w_star - 3.0, b_star + 2.5)
    lr_limit = 2.0 / largest_curvature(x)
    if config.linear_lr >= lr_limit:
        raise UsageError(
            f"--linear-lr {config.linear_lr:g} makes gradient descent diverge on this surface "
            f"(it needs lr < 2 / largest Hessian eigenvalue = {lr_limit:.3f})"
        )
    path, losses = gradient_descent_path(x, y, start, config.linear_lr, config.linear_steps)
    n_grid = config.linear_grid
    ws = np.linspace(w_star - 4.0, w_star + 4.0, n_grid)
    bs = np.linspace(b_star - 4.0, b_star + 4.0, n_grid)
    Z = mse_surface(x, y, ws, bs)
    exact_min = float(mse_surface(x, y, np.array([w_star]), np.array([b_star]))[0, 0])

    fig = plt.figure(figsize=(12.0, 4.8))
    ax = fig.add_subplot(1, 2, 1)
    draw_contour(
        ax, ws, bs, Z, path, (w_star, b_star), "w", "b", "MSE of y = w x + b, gradient descent", "GD path"
    )
    ax3 = fig.add_subplot(1, 2, 2, projection="3d")
    draw_surface(ax3, ws, bs, Z, path, losses, "w", "b", "MSE", "the same surface in 3-D")
    save_figure(fig, out_dir / "linear_regression_surface.png")
    return {
        "exact_minimum": {"w": w_star, "b": b_star, "loss": exact_min},
        "gd_final": {"w": float(path[-1, 0]), "b": float(path[-1, 1]), "loss": float(losses[-1])},
        "gd_distance_to_minimum": float(np.hypot(path[-1, 0] - w_star, path[-1, 1] - b_star)),
    }


# ---- part 2: an MLP on two moons, seen through slices ---------------------------------------------------


def cross_entropy_on(X: np.ndarray, y: np.ndarray) -> landscape.Evaluate:
    """evaluate(model) -> mean cross-entropy of the model on (X, y)."""
    inputs = Tensor(X, dtype=np.float64)

    def evaluate(model: Module) -> float:
        return cross_entropy(model(inputs), y).item()

    return evaluate


def accuracy(model: Module, X: np.ndarray, y: np.ndarray) -> float:
    with no_grad():
        return float(np.mean(model(Tensor(X, dtype=np.float64)).data.argmax(axis=1) == y))


def train_recording(
    model: MLP,
    data: tuple[np.ndarray, ...],
    epochs: int,
    lr: float,
    rng: np.random.Generator,
    progress: bool | None = None,
) -> list[landscape.State]:
    """Train with SGD + momentum 0.9; return the weights before training and after every epoch."""
    X_train, X_test, y_train, y_test = data
    states = [model.state_dict()]
    optimizer = SGD(model.parameters(), lr=lr, momentum=0.9)
    test_loss = cross_entropy_on(X_test, y_test)

    def loss_fn(m: Module, xb: np.ndarray, yb: np.ndarray) -> Tensor:
        return cross_entropy(m(Tensor(xb, dtype=np.float64)), yb)

    def evaluate() -> dict[str, float]:
        with no_grad():
            return {"val_loss": test_loss(model)}

    fit(
        model,
        optimizer,
        loss_fn,
        (X_train, y_train),
        epochs=epochs,
        batch_size=32,
        rng=rng,
        evaluate=evaluate,
        on_epoch_end=lambda epoch, history: states.append(model.state_dict()),
        progress=progress,
        desc="landscape",
    )
    return states


def interpolation_part(
    model: MLP,
    states: list[landscape.State],
    data: tuple[np.ndarray, ...],
    points: int,
    out_dir: pathlib.Path,
) -> dict:
    X_train, X_test, y_train, y_test = data
    alphas = np.linspace(-0.25, 1.25, points)
    train = landscape.interpolate_1d(model, states[0], states[-1], alphas, cross_entropy_on(X_train, y_train))
    test = landscape.interpolate_1d(model, states[0], states[-1], alphas, cross_entropy_on(X_test, y_test))
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot(alphas, train, label="train loss", lw=1.8)
    ax.plot(alphas, test, label="test loss", lw=1.4, ls="--")
    for a, name in ((0.0, "θ0 (init)"), (1.0, "θ1 (trained)")):
        ax.axvline(a, color="grey", lw=0.8, ls=":")
        ax.annotate(name, (a, ax.get_ylim()[1]), ha="center", va="bottom", fontsize=8)
    ax.set(xlabel="a", ylabel="cross-entropy", title="L((1 - a) θ0 + a θ1)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, out_dir / "interpolation_1d.png")
    inside = (alphas >= 0) & (alphas <= 1)
    rises = np.diff(train[inside])
    return {
        "interpolation_alphas": alphas.tolist(),
        "interpolation_train_loss": train.tolist(),
        # the largest increase between neighbouring points on [0, 1]: 0 for a monotone descent
        "interpolation_max_rise": float(max(rises.max(), 0.0)),
    }


def random_plane_part(
    config: Config,
    model: MLP,
    final: landscape.State,
    evaluate: landscape.Evaluate,
    rng: np.random.Generator,
    out_dir: pathlib.Path,
) -> dict:
    d1 = landscape.filter_normalized_direction(final, rng)
    d2 = landscape.filter_normalized_direction(final, rng)
    n = config.grid
    coords = np.linspace(-config.span, config.span, n)
    Z = landscape.surface_2d(model, final, d1, d2, coords, coords, evaluate)
    title = "train loss around θ*, filter-normalized directions"
    plot_contour_figure(coords, coords, Z, out_dir / "landscape_2d_contour.png", title)
    # log10 on the vertical axis: the loss spans orders of magnitude, and the basin floor is what matters
    plot_surface_figure(
        coords, coords, np.log10(Z), out_dir / "landscape_3d_surface.png", title, zlabel="log10 loss"
    )
    centre = Z[n // 2, n // 2]
    return {
        "plane_center_loss": float(centre),
        "plane_min_loss": float(Z.min()),
        "plane_max_loss": float(Z.max()),
        # mean loss on the grid's border divided by the loss at the centre: how deep the basin is
        "plane_edge_over_center": float(
            np.mean(np.r_[Z[0], Z[-1], Z[1:-1, 0], Z[1:-1, -1]]) / max(centre, 1e-12)
        ),
    }


def trajectory_part(
    config: Config,
    model: MLP,
    states: list[landscape.State],
    evaluate: landscape.Evaluate,
    out_dir: pathlib.Path,
) -> dict:
    pca = landscape.trajectory_pca(states)
    path = pca.coords
    n = config.grid
    low, high = path.min(axis=0), path.max(axis=0)
    pad = 0.2 * np.maximum(high - low, 1e-6)
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], n)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], n)
    Z = landscape.surface_2d(model, states[-1], *pca.directions, xs, ys, evaluate)
    e1, e2 = pca.explained[:2]
    fig, ax = plt.subplots(figsize=(6.4, 5.0))
    draw_contour(
        ax,
        xs,
        ys,
        Z,
        path,
        xlabel=f"PC1 ({100 * e1:.1f}% of the path)",
        ylabel=f"PC2 ({100 * e2:.1f}% of the path)",
        title="training trajectory (one point per epoch) on the train loss",
        path_label="SGD, per epoch",
    )
    save_figure(fig, out_dir / "trajectory_pca.png")
    return {"explained_variance": [float(e1), float(e2)]}


def validate(config: Config) -> None:
    checks = [
        (config.linear_steps >= 1, f"--linear-steps must be at least 1, got {config.linear_steps}"),
        (config.linear_lr > 0, f"--linear-lr must be positive, got {config.linear_lr}"),
        (config.moons >= 20, f"--moons must be at least 20, got {config.moons}"),
        (config.noise >= 0, f"--noise must be non-negative, got {config.noise}"),
        (config.hidden >= 1, f"--hidden must be at least 1, got {config.hidden}"),
        (
            config.epochs >= 2,
            f"--epochs must be at least 2 (a trajectory needs 3 points), got {config.epochs}",
        ),
        (config.lr > 0, f"--lr must be positive, got {config.lr}"),
        (3 <= config.grid <= 101, f"--grid must be between 3 and 101, got {config.grid}"),
        (config.span > 0, f"--span must be positive, got {config.span}"),
    ]
    check_options(checks)
    check_bounds(config)


def run(config: Config, out_dir: pathlib.Path) -> dict[str, Any]:
    """Draw the exact linear-regression surface and the MLP's landscape slices into ``out_dir``."""
    validate(config)
    out_dir = pathlib.Path(out_dir)
    rng = np.random.default_rng(config.seed)
    linear_rng, data_rng, model_seed, train_rng, plane_rng = rng.spawn(5)
    metrics: dict[str, Any] = {"linear_regression": linear_regression_part(config, linear_rng, out_dir)}

    epochs = config.epochs
    X, y = two_moons(config.moons, config.noise, data_rng)
    data = train_test_split(X, y, 0.2, data_rng)
    X_train, X_test, y_train, y_test = data
    seed = int(model_seed.integers(2**31))
    model = MLP([2, config.hidden, config.hidden, 2], "relu", seed=seed, dtype=np.float64)
    states = train_recording(model, data, epochs, config.lr, train_rng, config.progress)
    train_loss = cross_entropy_on(X_train, y_train)

    metrics["initial_loss"] = landscape.loss_at(model, states[0], train_loss)
    metrics["final_loss"] = landscape.loss_at(model, states[-1], train_loss)  # the model keeps θ_final
    metrics["test_accuracy"] = accuracy(model, X_test, y_test)
    metrics["epochs"] = epochs
    metrics.update(interpolation_part(model, states, data, config.line_points, out_dir))
    metrics.update(random_plane_part(config, model, states[-1], train_loss, plane_rng, out_dir))
    metrics.update(trajectory_part(config, model, states, train_loss, out_dir))

    def probability(points: np.ndarray) -> np.ndarray:
        with no_grad():
            return model(Tensor(points, dtype=np.float64)).softmax(axis=1).data[:, 1]

    plot_decision_regions(
        probability,
        X_test,
        y_test,
        out_dir / "decision_regions.png",
        f"trained MLP, test accuracy {metrics['test_accuracy']:.3f}",
        steps=config.resolution,
    )
    metrics["figures"] = [
        "linear_regression_surface.png",
        "interpolation_1d.png",
        "landscape_2d_contour.png",
        "landscape_3d_surface.png",
        "trajectory_pca.png",
        "decision_regions.png",
    ]
    return metrics
