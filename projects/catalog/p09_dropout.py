"""Project 09: dropout.

Inverted dropout, in training: z = m * a / (1 - p) with m_i ~ Bernoulli(1 - p) (each unit kept with
probability 1 - p), so E[z] = a; in evaluation: z = a (the identity, no rescaling needed). Its derivative
is dz/da = m / (1 - p): a dropped unit passes no gradient, a kept one passes it scaled by 1 / (1 - p).

The setting: a small, noisy training set (100 two-moons points with noise 0.35) and a large MLP (two
hidden layers of 128 ReLUs), trained long enough to memorize the noise. Without dropout the network fits
the training points almost perfectly and the test accuracy lags far behind; dropout (p = 0.2, 0.5)
narrows that train-test gap.

Also checked here: the inverted scaling (E[dropout(x)] = x over many masks; eval mode is exactly the
identity), and the bug of this project's seed code, which applied the sigmoid derivative to the dropped,
rescaled activations (see :func:`seed_bug_gradient`).
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd import Tensor, cross_entropy, mse_loss, no_grad
from autograd.errors import UsageError, check_options
from autograd.nn import MLP, Dropout, Module
from autograd.optim import Adam
from projects.datasets.synthetic import two_moons
from projects.lab.config import RunConfig, option
from projects.lab.training import History, fit
from projects.plots.activations import plot_grouped_bars
from viz.plots import decision_grid, plt, save_figure

# the networks compared for the gap train in float32 (twice as fast, and precision is not the point there);
# the gradient checks below work in float64, where finite differences are accurate
TRAIN_DTYPE = np.float32


@dataclass
class Config(RunConfig):
    """Settings of the dropout project (each field is a command-line flag)."""

    train_points: int = option(
        100, "Training points (a small set, so that a big network can memorize its noise).", high=100_000
    )
    test_points: int = option(
        1000,
        "Test points, drawn afresh from the same distribution (many, so that the gap is measured precisely).",
        quick=500,
        high=100_000,
    )
    noise: float = option(
        0.35, "Standard deviation of the noise added to the moons (0.35: the classes overlap)."
    )
    hidden: int = option(128, "Width of each of the MLP's two hidden layers.", high=512)
    epochs: int = option(300, "Training epochs for each dropout rate.", quick=200, high=100_000)
    lr: float = option(0.003, "Adam learning rate.")
    batch_size: int = option(25, "Mini-batch size.", high=100_000)
    rates: tuple[float, ...] = option(
        (0.0, 0.2, 0.5),
        "Dropout probabilities to compare (comma-separated on the command line), each in [0, 1).",
        max_len=10,
    )
    mc_samples: int = option(
        20000, "Dropout masks averaged to check that E[dropout(x)] = x.", quick=4000, high=200_000
    )
    resolution: int = option(150, "Grid points per axis of the decision-region pictures.", quick=60, high=400)


EXPLANATION = """\
# Dropout

**curves.png**: one column per dropout rate p: the loss (top) and accuracy (bottom) on the training set
and on the test set after every epoch, both measured in evaluation mode (no units dropped). The training
set is small (100 points) and noisy, the network large: without dropout (p = 0) it memorizes the
training points, the training loss falls towards 0 while the test loss climbs. With dropout each step
trains a random thinned sub-network, no unit can rely on particular others, and the curves stay together.

**gap.png**: the train-test gap for each p: accuracy on the training set minus accuracy on the test set,
and test loss minus training loss, averaged over the last 10% of the epochs. Dropout narrows both. Look
at where the narrowing comes from: mostly from the training side (the network can no longer memorize the
noisy points, so its training accuracy drops towards what the data allow); the test accuracy moves much
less, while the test loss, which punishes confident mistakes, improves a lot.

**decision_regions.png**: what each network learned, with the training points: without dropout the
boundary bends around individual noisy points; with p = 0.5 it is smooth.

**inverted_scaling.png**: inverted dropout multiplies the kept activations by 1/(1 - p) during training,
so that the *expected* activation is unchanged: the average of dropout(x) over many random masks equals
x (left: each dot is one entry, the dots lie on the diagonal; the grey dots, without the 1/(1 - p), lie on
the line (1 - p) x instead). In evaluation mode dropout is exactly the identity, so the network needs no
rescaling at test time. The relative error of the average is at the level of Monte Carlo noise,
sqrt(p / ((1 - p) K)) for K masks.

**seed_bug.png**: the seed code's bug. With a = sigmoid(z) followed by dropout a' = m a / (1 - p), the
chain rule gives dL/dz = dL/da' * m / (1 - p) * a (1 - a): the sigmoid derivative must be evaluated at the
activation a, *before* dropout. The seed code computed dL/da' * a' (1 - a'), evaluating it at the dropped,
rescaled a'. For a kept unit a' = a / (1 - p), so a'(1 - a') is not a (1 - a) (it even turns negative when
a > 1 - p), and the 1/(1 - p) factor of the dropout step is missing. Each dot is one weight of the first
layer: the engine's gradient (blue) lies on the diagonal against central finite differences, the seed's
formula (red) does not.
"""


# ---- the inverted-scaling checks ------------------------------------------------------------------------


def dropout_mean(x: np.ndarray, p: float, samples: int, rng: np.random.Generator) -> np.ndarray:
    """The average of the engine's dropout(x) over ``samples`` independent masks (one op on a (K, n)
    batch of copies of x: every row gets its own mask)."""
    copies = Tensor(np.broadcast_to(x, (samples, len(x))), dtype=np.float64)
    return copies.dropout(p, rng, training=True).data.mean(axis=0)


def inverted_scaling_part(
    config: Config, rates: list[float], rng: np.random.Generator, out_dir: pathlib.Path
) -> dict:
    """E[dropout(x)] = x (relative error against the Monte Carlo noise level) and eval mode = identity."""
    samples = config.mc_samples
    x = rng.normal(0.0, 1.0, 60)
    nonzero = [p for p in rates if p > 0] or [0.5]
    errors, expected = {}, {}
    fig, axes = plt.subplots(1, len(nonzero), figsize=(4.6 * len(nonzero), 4.2), squeeze=False)
    for ax, p in zip(axes[0], nonzero):
        mean = dropout_mean(x, p, samples, rng)
        errors[str(p)] = float(np.linalg.norm(mean - x) / np.linalg.norm(x))
        # each entry of the mean has standard deviation |x_i| sqrt(p / ((1 - p) K))
        expected[str(p)] = float(np.sqrt(p / ((1 - p) * samples)))
        ax.plot(x, (1 - p) * mean, ".", color="grey", label="mean of m x (no 1/(1-p))")
        ax.plot(x, mean, "o", ms=4, label="mean of dropout(x), inverted")
        lim = 1.1 * np.abs(x).max()
        ax.plot([-lim, lim], [-lim, lim], "k--", lw=0.8, label="y = x")
        ax.set(
            xlabel="x",
            ylabel=f"average over {samples} masks",
            title=f"p = {p:g}: relative error {errors[str(p)]:.4f}\n"
            f"(Monte Carlo level {expected[str(p)]:.4f})",
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out_dir / "inverted_scaling.png")
    return {
        "inverted_scaling_relative_error": errors,
        "inverted_scaling_noise_level": expected,
        "eval_is_identity": eval_mode_is_identity(rng),
    }


def eval_mode_is_identity(rng: np.random.Generator) -> bool:
    """In eval mode a Dropout layer returns its input unchanged (same values, bit for bit), and an MLP with
    dropout computes exactly what the same weights compute with no dropout at all."""
    x = Tensor(rng.normal(size=(7, 5)), dtype=np.float64)
    layer = Dropout(0.5, np.random.default_rng(int(rng.integers(2**31)))).eval()
    layer_ok = np.array_equal(layer(x).data, x.data)
    model = MLP([5, 8, 3], "relu", seed=int(rng.integers(2**31)), dropout=0.5, dtype=np.float64).eval()
    first, second = model.linear_layers()
    w1, b1, w2, b2 = (t.data for t in (first.weight, first.bias, second.weight, second.bias))
    reference = np.maximum(x.data @ w1 + b1, 0) @ w2 + b2  # the same network written without dropout
    with no_grad():
        out = model(x).data
    return bool(layer_ok and np.array_equal(out, reference))


# ---- the seed's bug, numerically ------------------------------------------------------------------------


def _tiny_problem(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A sigmoid layer followed by dropout and a linear output: x (8, 4) -> 6 hidden -> 2 outputs."""
    return {
        "x": rng.normal(size=(8, 4)),
        "target": rng.normal(size=(8, 2)),
        "w1": rng.normal(0, 0.8, (4, 6)),
        "b1": rng.normal(0, 0.5, 6),
        "w2": rng.normal(0, 0.8, (6, 2)),
        "b2": np.zeros(2),
    }


def _loss(problem: dict[str, np.ndarray], w1: Tensor, p: float, mask_seed: int) -> Tensor:
    """L = mean((dropout(sigmoid(x W1 + b1)) W2 + b2 - target)^2), through the engine's own dropout op.
    A fresh generator with the same ``mask_seed`` on every call draws the same mask, so L is a
    deterministic function of W1 and finite differences apply."""
    hidden = (Tensor(problem["x"], dtype=np.float64) @ w1 + Tensor(problem["b1"], dtype=np.float64)).sigmoid()
    dropped = hidden.dropout(p, np.random.default_rng(mask_seed), training=True)
    out = dropped @ Tensor(problem["w2"], dtype=np.float64) + Tensor(problem["b2"], dtype=np.float64)
    return mse_loss(out, problem["target"])


def seed_bug_gradient(problem: dict[str, np.ndarray], p: float, mask_seed: int, buggy: bool) -> np.ndarray:
    """dL/dW1 by hand, the way the seed code did it (``buggy``) or correctly.

    Forward: z = x W1 + b1, a = sigmoid(z), a' = m a / (1 - p), y = a' W2 + b2, L = mean((y - t)^2).
    Backward: dL/dy = 2 (y - t) / size(y), dL/da' = dL/dy W2^T, and then
      correct:  dL/dz = dL/da' * m / (1 - p) * a (1 - a)
      seed:     dL/dz = dL/da' * a' (1 - a')          (sigmoid' evaluated at the dropped, rescaled a')
    and dL/dW1 = x^T dL/dz.
    """
    x, w1, b1, w2, b2 = (problem[k] for k in ("x", "w1", "b1", "w2", "b2"))
    a = 1.0 / (1.0 + np.exp(-(x @ w1 + b1)))
    scale = (np.random.default_rng(mask_seed).random(a.shape) >= p) / (1 - p)  # the op's m / (1 - p)
    a_dropped = a * scale
    y = a_dropped @ w2 + b2
    d_y = 2 * (y - problem["target"]) / y.size
    d_a_dropped = d_y @ w2.T
    if buggy:
        d_z = d_a_dropped * a_dropped * (1 - a_dropped)
    else:
        d_z = d_a_dropped * scale * a * (1 - a)
    return x.T @ d_z


def central_differences(
    problem: dict[str, np.ndarray], p: float, mask_seed: int, h: float = 1e-6
) -> np.ndarray:
    """dL/dW1 entry by entry: (L(W1 + h e_ij) - L(W1 - h e_ij)) / 2h."""
    w1 = problem["w1"]
    grad = np.zeros_like(w1)
    for index in np.ndindex(w1.shape):
        shifted = []
        for sign in (1, -1):
            w = w1.copy()
            w[index] += sign * h
            shifted.append(_loss(problem, Tensor(w, dtype=np.float64), p, mask_seed).item())
        grad[index] = (shifted[0] - shifted[1]) / (2 * h)
    return grad


def seed_bug_part(rng: np.random.Generator, out_dir: pathlib.Path, p: float = 0.5) -> dict:
    problem = _tiny_problem(rng)
    mask_seed = int(rng.integers(2**31))
    w1 = Tensor(problem["w1"], requires_grad=True, dtype=np.float64)
    _loss(problem, w1, p, mask_seed).backward()
    assert w1.grad is not None
    engine = w1.grad
    numeric = central_differences(problem, p, mask_seed)
    buggy = seed_bug_gradient(problem, p, mask_seed, buggy=True)
    by_hand = seed_bug_gradient(problem, p, mask_seed, buggy=False)

    def relative_error(g: np.ndarray) -> float:
        return float(np.linalg.norm(g - numeric) / np.linalg.norm(numeric))

    fig, ax = plt.subplots(figsize=(5.4, 5.0))
    lim = 1.1 * max(np.abs(numeric).max(), np.abs(buggy).max())
    ax.plot([-lim, lim], [-lim, lim], "k--", lw=0.8, label="y = x")
    ax.plot(
        numeric.ravel(),
        engine.ravel(),
        "o",
        ms=6,
        label=f"engine backward (rel. error {relative_error(engine):.1e})",
    )
    ax.plot(
        numeric.ravel(),
        buggy.ravel(),
        "x",
        color="tab:red",
        ms=7,
        label=f"seed's formula (rel. error {relative_error(buggy):.2f})",
    )
    ax.set(
        xlabel="dL/dW1 by central finite differences",
        ylabel="dL/dW1 computed",
        title=f"sigmoid layer + dropout (p = {p:g}): gradient of the first layer",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, out_dir / "seed_bug.png")
    return {
        "engine_gradient_error": relative_error(engine),
        "correct_formula_gradient_error": relative_error(by_hand),
        "seed_bug_gradient_error": relative_error(buggy),
    }


# ---- the train-test gap ---------------------------------------------------------------------------------


def evaluate_on(model: Module, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``model`` in its current mode, recording no graph."""
    with no_grad():
        logits = model(Tensor(X, dtype=TRAIN_DTYPE))
        return cross_entropy(logits, y).item(), float(np.mean(logits.data.argmax(axis=1) == y))


def train_with_dropout(
    config: Config, p: float, data: tuple[np.ndarray, ...], model_seed: int, batch_seed: int, epochs: int
) -> tuple[MLP, History]:
    """Train MLP([2, hidden, hidden, 2], relu, dropout=p) with Adam; after each epoch record loss and
    accuracy on the training and the test set in eval mode (no units dropped)."""
    X_train, y_train, X_test, y_test = data
    model = MLP([2, config.hidden, config.hidden, 2], "relu", seed=model_seed, dropout=p, dtype=TRAIN_DTYPE)

    def loss_fn(m: Module, xb: np.ndarray, yb: np.ndarray) -> Tensor:
        return cross_entropy(m(Tensor(xb, dtype=TRAIN_DTYPE)), yb)

    def evaluate() -> dict[str, float]:
        train_loss, train_accuracy = evaluate_on(model, X_train, y_train)
        test_loss, test_accuracy = evaluate_on(model, X_test, y_test)
        return {
            "train_eval_loss": train_loss,
            "train_accuracy": train_accuracy,
            "test_loss": test_loss,
            "test_accuracy": test_accuracy,
        }

    history = fit(
        model,
        Adam(model.parameters(), lr=config.lr),
        loss_fn,
        (X_train, y_train),
        epochs=epochs,
        batch_size=config.batch_size,
        rng=np.random.default_rng(batch_seed),  # the same batch order for every p
        evaluate=evaluate,
        progress=config.progress,
        desc=f"dropout {p:g}",
    )
    return model, history


def tail_mean(values: list[float]) -> float:
    """The mean over the last 10% of the epochs (at least one): the end of training, less its jitter."""
    window = max(1, len(values) // 10)
    return float(np.mean(values[-window:]))


def gap_part(
    config: Config, rates: list[float], rng: np.random.Generator, out_dir: pathlib.Path
) -> dict[str, Any]:
    epochs = config.epochs
    n_test = config.test_points
    data_rng, seed_rng = rng.spawn(2)
    X_train, y_train = two_moons(config.train_points, config.noise, data_rng)
    X_test, y_test = two_moons(n_test, config.noise, data_rng)
    data = (X_train, y_train, X_test, y_test)
    model_seed, batch_seed = (int(s) for s in seed_rng.integers(2**31, size=2))
    models, histories = {}, {}
    for p in rates:
        models[p], histories[p] = train_with_dropout(config, p, data, model_seed, batch_seed, epochs)

    accuracy_gap = {
        p: tail_mean(h["train_accuracy"]) - tail_mean(h["test_accuracy"]) for p, h in histories.items()
    }
    loss_gap = {p: tail_mean(h["test_loss"]) - tail_mean(h["train_eval_loss"]) for p, h in histories.items()}
    plot_curves_grid(histories, out_dir)
    labels = [f"p = {p:g}" for p in rates]
    plot_grouped_bars(
        labels,
        {
            "train accuracy - test accuracy": [accuracy_gap[p] for p in rates],
            "test loss - train loss": [loss_gap[p] for p in rates],
        },
        out_dir / "gap.png",
        "train-test gap (mean over the last 10% of epochs)",
        "gap",
    )
    plot_regions_per_rate(models, accuracy_gap, X_train, y_train, config.resolution, out_dir)
    low, high = min(rates), max(rates)
    return {
        "gap": {str(p): accuracy_gap[p] for p in rates},
        "loss_gap": {str(p): loss_gap[p] for p in rates},
        "train_accuracy": {str(p): tail_mean(histories[p]["train_accuracy"]) for p in rates},
        "test_accuracy": {str(p): tail_mean(histories[p]["test_accuracy"]) for p in rates},
        "dropout_narrows_gap": bool(
            accuracy_gap[high] < accuracy_gap[low] and loss_gap[high] < loss_gap[low]
        ),
        "epochs": epochs,
    }


def plot_curves_grid(histories: dict[float, History], out_dir: pathlib.Path) -> None:
    rates = list(histories)
    fig, axes = plt.subplots(2, len(rates), figsize=(4.4 * len(rates), 6.4), squeeze=False, sharey="row")
    for column, p in enumerate(rates):
        h = histories[p]
        top, bottom = axes[0, column], axes[1, column]
        top.plot(h.epochs, h["train_eval_loss"], label="train")
        top.plot(h.epochs, h["test_loss"], label="test")
        top.set_yscale("log")
        top.set_title(f"p = {p:g}")
        bottom.plot(h.epochs, h["train_accuracy"], label="train")
        bottom.plot(h.epochs, h["test_accuracy"], label="test")
        bottom.set_xlabel("epoch")
        for ax in (top, bottom):
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=8)
    axes[0, 0].set_ylabel("cross-entropy (eval mode)")
    axes[1, 0].set_ylabel("accuracy (eval mode)")
    fig.tight_layout()
    save_figure(fig, out_dir / "curves.png")


def plot_regions_per_rate(
    models: dict[float, MLP],
    gaps: dict[float, float],
    X: np.ndarray,
    y: np.ndarray,
    steps: int,
    out_dir: pathlib.Path,
) -> None:
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.8), squeeze=False)
    xx, yy, grid = decision_grid(X, steps)
    for ax, (p, model) in zip(axes[0], models.items()):
        with no_grad():
            scores = model(Tensor(grid, dtype=TRAIN_DTYPE)).softmax(axis=1).data[:, 1].reshape(xx.shape)
        ax.contourf(xx, yy, scores, levels=20, cmap="RdBu_r", alpha=0.55)
        ax.contour(xx, yy, scores, levels=[0.5], colors="k", linewidths=1.0)
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=18)
        ax.set_title(f"p = {p:g}: accuracy gap {gaps[p]:.3f}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("decision regions with the training points")
    fig.tight_layout()
    save_figure(fig, out_dir / "decision_regions.png")


# ---- the run --------------------------------------------------------------------------------------------


def validate(config: Config) -> list[float]:
    """Check the settings; return the dropout rates, sorted and without repeats."""
    checks = [
        (config.train_points >= 4, f"--train-points must be at least 4, got {config.train_points}"),
        (config.test_points >= 4, f"--test-points must be at least 4, got {config.test_points}"),
        (config.noise >= 0, f"--noise must be non-negative, got {config.noise}"),
        (config.hidden >= 1, f"--hidden must be at least 1, got {config.hidden}"),
        (config.epochs >= 1, f"--epochs must be at least 1, got {config.epochs}"),
        (config.lr > 0, f"--lr must be positive, got {config.lr}"),
        (config.batch_size >= 1, f"--batch-size must be at least 1, got {config.batch_size}"),
        (config.mc_samples >= 10, f"--mc-samples must be at least 10, got {config.mc_samples}"),
        (len(config.rates) >= 1, "--rates needs at least one dropout probability"),
    ]
    check_options(checks)
    for p in config.rates:
        if not 0 <= p < 1:
            raise UsageError(f"--rates: each dropout probability must be in [0, 1), got {p:g}")
    return sorted(set(float(p) for p in config.rates))


def run(config: Config, out_dir: pathlib.Path) -> dict[str, Any]:
    """Train the MLP with each dropout rate, check the inverted scaling and the seed's bug; write the
    figures into ``out_dir``."""
    rates = validate(config)
    out_dir = pathlib.Path(out_dir)
    gap_rng, scaling_rng, bug_rng = np.random.default_rng(config.seed).spawn(3)
    metrics = gap_part(config, rates, gap_rng, out_dir)
    metrics.update(seed_bug_part(bug_rng, out_dir))
    metrics.update(inverted_scaling_part(config, rates, scaling_rng, out_dir))
    headline = ("gap", "loss_gap", "dropout_narrows_gap", "seed_bug_gradient_error", "engine_gradient_error")
    metrics = {**{k: metrics[k] for k in headline}, **metrics}  # the runner's summary shows these first
    metrics["figures"] = [
        "curves.png",
        "gap.png",
        "decision_regions.png",
        "inverted_scaling.png",
        "seed_bug.png",
    ]
    return metrics
