"""Project 08: activation functions compared.

1. Each activation and its derivative, the derivative computed by the engine (backward through the
   activation on a grid, with both the Tensor and the scalar engine) and overlaid on the closed form:
   a figure that checks the engine. Softmax, a function of a vector, is shown through softmax((x, 0)) and
   its Jacobian dp_i/dz_j = p_i (delta_ij - p_j).
2. The same MLP trained on two moons with each activation: loss curves, test accuracy, decision regions,
   and, as the yardstick, the accuracy of the Bayes-optimal rule on the same test points (the moons'
   exact class densities are known, so the best achievable accuracy is computable).
3. Vanishing gradients: in a 10-layer network at initialization, the gradient reaching layer l is a
   product of ~(10 - l) factors W^T diag(f'(z)); sigmoid's f' <= 1/4 shrinks it at every layer, ReLU's
   f' in {0, 1} with He initialization keeps its size.
4. Dead ReLUs: hidden units whose input is negative for every training example output 0 and get zero
   gradient, so they never recover; a too-high learning rate kills many of them.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from autograd import Tensor, Value, cross_entropy, no_grad
from autograd.errors import check_options
from autograd.nn import MLP, Activation, Module, activation
from autograd.optim import Adam
from projects.datasets.synthetic import train_test_split, two_moons
from projects.lab.config import RunConfig, option
from projects.lab.training import History, fit
from projects.plots.activations import plot_function_panels, plot_grouped_bars, plot_layer_norms
from viz.plots import decision_grid, plt, save_figure

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "silu", "softplus")
LEAKY_ALPHA = 0.01  # the slope autograd.nn uses for "leaky_relu"
ELU_ALPHA = 1.0  # the alpha autograd.nn uses for "elu"


@dataclass
class Config(RunConfig):
    """Settings of the activation-function comparison (each field is a command-line flag)."""

    points: int = option(1000, "Number of two-moons points (80% train, 20% test).", quick=300, high=100_000)
    noise: float = option(0.2, "Standard deviation of the Gaussian noise added to the moons.")
    hidden: int = option(32, "Width of each of the MLP's two hidden layers.", high=256)
    epochs: int = option(50, "Training epochs for each activation.", quick=30, high=10_000)
    lr: float = option(0.01, "Adam learning rate for the comparison.")
    batch_size: int = option(32, "Mini-batch size.", high=100_000)
    depth: int = option(
        10,
        "Number of layers (Linear maps) of the deep network for the vanishing-gradient experiment.",
        high=100,
    )
    width: int = option(32, "Width of that deep network's hidden layers.", high=512)
    high_lr: float = option(0.1, "The too-high Adam learning rate used to show ReLUs dying.")
    fresh_points: int = option(
        10000, "Fresh two-moons points that estimate each network's true accuracy.", quick=2000, high=100_000
    )
    curve_points: int = option(
        401, "Points on [-4, 4] where each activation's derivative is checked.", quick=81, high=100_001
    )
    resolution: int = option(150, "Grid points per axis of the decision-region pictures.", quick=60, high=400)


EXPLANATION = """\
# Activation functions compared

**activations.png**: each activation f(x) and its derivative f'(x). The derivative is computed by the
engine, by backpropagating through f on a grid of inputs (solid: Tensor engine; circles: scalar `Value`
engine), and the closed form is drawn dashed on top: where they coincide the engine is right (the
largest difference is in each panel's title and in `derivative_max_error`). Note sigmoid's derivative
never exceeds 1/4 and tanh's never exceeds 1; ReLU's is exactly 0 for every negative input.

**softmax.png**: softmax is a function of a whole vector. For z = (x, 0): p_1 = sigmoid(x) and p_2 = 1 - p_1
(left); the Jacobian dp_i/dz_j = p_i (delta_ij - p_j) (right): engine (solid) against closed form (dashed).
The rows of the Jacobian sum to 0 because the probabilities always sum to 1.

**loss_curves.png**: the same MLP (2 hidden layers) trained with Adam on 1000 two-moons points (80/20
split) with each activation: training loss and test loss per epoch. Sigmoid learns slowest (small
derivatives, outputs not centred on 0).

**test_accuracy.png**: accuracy per activation on the 200 test points (blue) and on 10000 fresh points
from the same distribution (orange; a much sharper estimate of the true accuracy). The black lines are the
accuracy of the Bayes-optimal rule (computed from the moons' exact class densities) on the same points:
no classifier can expect to beat it (about 0.97 at noise 0.2). On 200 test points any accuracy moves by
about +-0.012 from one random split to another, which is why a single split can rank the activations
differently from the fresh sample.

**decision_regions.png**: the decision regions each activation's network learned (ReLU's are
piecewise linear, tanh's and sigmoid's smooth).

**gradient_norms.png**: vanishing gradients. One backward pass at initialization through a 10-layer
network: the norm of dL/dW for each layer. With sigmoid the gradient shrinks by a roughly constant factor
per layer on its way back to the input (each layer multiplies it by sigmoid'(z) <= 1/4); with ReLU and He
initialization it keeps its size.

**dead_relu.png**: the fraction of hidden ReLU units that output 0 for every training input ("dead": they
receive zero gradient and never recover), per layer, at initialization, after normal training and after
training with a too-high learning rate.
"""


# ---- the closed forms (the reference the engine is checked against) -------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


CLOSED_FORMS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    # name: (f(x), f'(x))
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x))),  # s' = s (1 - s)
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),  # tanh' = 1 - tanh^2
    "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float)),  # 1 if x > 0 else 0
    "leaky_relu": (
        lambda x: np.where(x > 0, x, LEAKY_ALPHA * x),
        lambda x: np.where(x > 0, 1.0, LEAKY_ALPHA),  # 1 if x > 0 else alpha
    ),
    "elu": (
        lambda x: np.where(x > 0, x, ELU_ALPHA * (np.exp(x) - 1)),
        lambda x: np.where(x > 0, 1.0, ELU_ALPHA * np.exp(x)),  # 1 if x > 0 else alpha e^x
    ),
    "silu": (
        lambda x: x * _sigmoid(x),
        lambda x: _sigmoid(x) + x * _sigmoid(x) * (1 - _sigmoid(x)),  # s + x s (1 - s)
    ),
    "softplus": (lambda x: np.log1p(np.exp(x)), _sigmoid),  # ln(1 + e^x)' = sigmoid(x)
}


def tensor_engine_derivative(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f(x) and f'(x) from the Tensor engine: y = f(x) elementwise, then backward of sum(y), whose
    gradient with respect to x_i is f'(x_i) (each y_i depends on x_i only)."""
    inputs = Tensor(x, requires_grad=True, dtype=np.float64)
    outputs = activation(name)(inputs)
    outputs.sum().backward()
    assert inputs.grad is not None
    return outputs.data.copy(), inputs.grad.copy()


def scalar_engine_derivative(name: str, x: np.ndarray) -> np.ndarray:
    """f'(x) from the scalar engine: one Value per point, backward through f."""
    fn = activation(name)
    derivatives = []
    for xi in x:
        v = Value(float(xi))
        fn(v).backward()
        derivatives.append(v.grad)
    return np.array(derivatives)


def softmax_jacobian(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For z = (x, 0) at each x: p = softmax(z) (N, 2) and the engine's Jacobian J[n, i, j] = dp_i/dz_j.

    Row i of the Jacobian is the gradient of p_i: backpropagate the seed e_i (one-hot on output i) and
    read dL/dz (samples do not interact, so one pass serves the whole batch).
    """
    z = Tensor(np.c_[x, np.zeros_like(x)], requires_grad=True, dtype=np.float64)
    rows = []
    for i in range(2):
        z.grad = None
        p = z.softmax(axis=1)
        seed = np.zeros_like(p.data)
        seed[:, i] = 1.0
        p.backward(seed)
        assert z.grad is not None
        rows.append(z.grad.copy())
    return p.data, np.stack(rows, axis=1)


def softmax_jacobian_closed_form(p: np.ndarray) -> np.ndarray:
    """dp_i/dz_j = p_i (delta_ij - p_j), for each row of p."""
    return p[:, :, None] * (np.eye(p.shape[1])[None] - p[:, None, :])


def derivative_part(points: int, out_dir: pathlib.Path) -> dict[str, Any]:
    x = np.linspace(-4.0, 4.0, points)
    panels: dict[str, dict[str, np.ndarray]] = {}
    errors: dict[str, float] = {}
    for name in ACTIVATIONS:
        f, df = CLOSED_FORMS[name]
        y, dy = tensor_engine_derivative(name, x)
        dy_scalar = scalar_engine_derivative(name, x)
        error = float(max(np.max(np.abs(dy - df(x))), np.max(np.abs(dy_scalar - df(x)))))
        value_error = float(np.max(np.abs(y - f(x))))
        errors[name] = max(error, value_error)
        panels[f"{name}\nmax |engine - closed form| = {errors[name]:.1e}"] = {
            "f(x)": y,
            "f'(x), Tensor engine": dy,
            "scalar engine f'(x)": dy_scalar,
            "closed form f'(x)": df(x),
        }
    plot_function_panels(x, panels, out_dir / "activations.png", "activations and their derivatives")

    p, jacobian = softmax_jacobian(x)
    closed = softmax_jacobian_closed_form(p)
    softmax_error = float(np.max(np.abs(jacobian - closed)))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.0, 4.0))
    left.plot(x, p[:, 0], label="p_1 = softmax(x, 0)_1")
    left.plot(x, p[:, 1], label="p_2 = softmax(x, 0)_2")
    left.plot(x, _sigmoid(x), "--", color="k", lw=1, label="closed form sigmoid(x)")
    left.set(title="softmax of z = (x, 0)", xlabel="x", ylabel="probability")
    for i in range(2):
        for j in range(2):
            right.plot(x, jacobian[:, i, j], lw=2.2, alpha=0.7, label=f"dp_{i + 1}/dz_{j + 1}, engine")
            right.plot(x, closed[:, i, j], "--", color="k", lw=0.9)
    right.plot([], [], "--", color="k", lw=0.9, label="closed form p_i (delta_ij - p_j)")
    right.set(title=f"its Jacobian (max |engine - closed form| = {softmax_error:.1e})", xlabel="x")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    save_figure(fig, out_dir / "softmax.png")
    return {"derivative_max_error": errors, "softmax_jacobian_max_error": softmax_error}


# ---- the same MLP with each activation, on two moons ----------------------------------------------------


def moons_bayes_posterior(X: np.ndarray, noise: float, samples: int = 1001) -> np.ndarray:
    """P(class 1 | x) under the exact generating process of :func:`projects.datasets.two_moons`.

    Each class is a uniform mixture over t in [0, pi] of N(c_k(t), noise^2 I), with c_0(t) = (cos t, sin t)
    and c_1(t) = (1 - cos t, 1/2 - sin t), and equal priors: p(x | k) = (1/pi) int N(x; c_k(t), noise^2 I) dt,
    approximated by the mean over ``samples`` equally spaced t (the normalizing constants cancel).
    """
    if noise <= 0:
        raise ValueError("the Bayes posterior needs noise > 0")
    t = np.linspace(0.0, np.pi, samples)
    centres = (np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    posterior = np.empty(len(X))
    for start in range(0, len(X), 500):  # in chunks: (500, samples) distances at a time
        rows = X[start : start + 500]
        log_densities = []
        for c in centres:
            squared = np.sum((rows[:, None, :] - c[None]) ** 2, axis=-1) / (2 * noise**2)
            shift = squared.min(axis=1, keepdims=True)  # log-sum-exp shift: no underflow far from a moon
            log_densities.append(np.log(np.mean(np.exp(-(squared - shift)), axis=1)) - shift[:, 0])
        posterior[start : start + 500] = 1.0 / (1.0 + np.exp(log_densities[0] - log_densities[1]))
    return posterior


def predict_proba(model: Module, X: np.ndarray) -> np.ndarray:
    with no_grad():
        return model(Tensor(X, dtype=np.float64)).softmax(axis=1).data


def mean_cross_entropy(model: Module, X: np.ndarray, y: np.ndarray) -> float:
    with no_grad():
        return cross_entropy(model(Tensor(X, dtype=np.float64)), y).item()


def train_mlp(
    name: str,
    sizes: list[int],
    data: tuple[np.ndarray, ...],
    epochs: int,
    lr: float,
    batch_size: int,
    model_seed: int,
    rng: np.random.Generator,
    progress: bool | None = None,
) -> tuple[MLP, History]:
    """Train MLP(sizes, activation=name) with Adam and cross-entropy; record train and test loss."""
    X_train, X_test, y_train, y_test = data
    model = MLP(sizes, name, seed=model_seed, dtype=np.float64)

    def loss_fn(m: Module, xb: np.ndarray, yb: np.ndarray) -> Tensor:
        return cross_entropy(m(Tensor(xb, dtype=np.float64)), yb)

    history = fit(
        model,
        Adam(model.parameters(), lr=lr),
        loss_fn,
        (X_train, y_train),
        epochs=epochs,
        batch_size=batch_size,
        rng=rng,
        evaluate=lambda: {"test_loss": mean_cross_entropy(model, X_test, y_test)},
        progress=progress,
        desc=name,
    )
    return model, history


def comparison_part(
    config: Config,
    data: tuple[np.ndarray, ...],
    fresh: tuple[np.ndarray, np.ndarray],
    model_seed: int,
    rng: np.random.Generator,
    out_dir: pathlib.Path,
) -> tuple[dict[str, Any], MLP]:
    """Train one MLP per activation; score it on the test split and on a large fresh sample ``fresh``
    (whose accuracy estimates the true one to about +-0.002, where 200 test points give +-0.012)."""
    X_train, X_test, y_train, y_test = data
    X_fresh, y_fresh = fresh
    epochs = config.epochs
    sizes = [2, config.hidden, config.hidden, 2]
    models: dict[str, MLP] = {}
    histories: dict[str, History] = {}
    accuracy: dict[str, float] = {}
    fresh_accuracy: dict[str, float] = {}
    for name, train_rng in zip(ACTIVATIONS, rng.spawn(len(ACTIVATIONS))):
        model, history = train_mlp(
            name, sizes, data, epochs, config.lr, config.batch_size, model_seed, train_rng, config.progress
        )
        models[name], histories[name] = model, history
        accuracy[name] = float(np.mean(predict_proba(model, X_test).argmax(axis=1) == y_test))
        fresh_accuracy[name] = float(np.mean(predict_proba(model, X_fresh).argmax(axis=1) == y_fresh))
    bayes = float(np.mean((moons_bayes_posterior(X_test, config.noise) > 0.5) == y_test))
    bayes_fresh = float(np.mean((moons_bayes_posterior(X_fresh, config.noise) > 0.5) == y_fresh))

    fig, (left, right) = plt.subplots(1, 2, figsize=(12.0, 4.2), sharey=True)
    for name, history in histories.items():
        left.plot(history.epochs, history["train_loss"], label=name)
        right.plot(history.epochs, history["test_loss"], label=name)
    left.set(title="training loss (mean over the epoch's batches)", xlabel="epoch", ylabel="cross-entropy")
    right.set(title="test loss (end of epoch)", xlabel="epoch")
    for ax in (left, right):
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    save_figure(fig, out_dir / "loss_curves.png")

    plot_grouped_bars(
        list(ACTIVATIONS),
        {
            f"test split ({len(X_test)} points)": [accuracy[n] for n in ACTIVATIONS],
            f"fresh sample ({len(X_fresh)} points)": [fresh_accuracy[n] for n in ACTIVATIONS],
        },
        out_dir / "test_accuracy.png",
        f"two moons (n = {len(X_train) + len(X_test)}, noise {config.noise:g}): accuracy per activation",
        "accuracy",
        ylim=(min(0.8, min(accuracy.values()) - 0.02), 1.0),
        references=[
            (bayes, f"Bayes-optimal rule, test split ({bayes:.3f})"),
            (bayes_fresh, f"Bayes-optimal rule, fresh sample ({bayes_fresh:.3f})"),
        ],
    )
    plot_all_decision_regions(models, accuracy, X_test, y_test, config.resolution, out_dir)
    metrics = {
        "test_accuracy": accuracy,
        "bayes_test_accuracy": bayes,
        "fresh_accuracy": fresh_accuracy,
        "bayes_fresh_accuracy": bayes_fresh,
        "final_train_loss": {n: histories[n]["train_loss"][-1] for n in ACTIVATIONS},
        "final_test_loss": {n: histories[n]["test_loss"][-1] for n in ACTIVATIONS},
        "epochs": epochs,
    }
    return metrics, models["relu"]


def plot_all_decision_regions(
    models: dict[str, MLP],
    accuracy: dict[str, float],
    X: np.ndarray,
    y: np.ndarray,
    steps: int,
    out_dir: pathlib.Path,
) -> None:
    columns = 4
    rows = -(-len(models) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.3 * columns, 3.0 * rows), squeeze=False)
    xx, yy, grid = decision_grid(X, steps)
    for ax, (name, model) in zip(axes.ravel(), models.items()):
        scores = predict_proba(model, grid)[:, 1].reshape(xx.shape)
        ax.contourf(xx, yy, scores, levels=20, cmap="RdBu_r", alpha=0.55)
        ax.contour(xx, yy, scores, levels=[0.5], colors="k", linewidths=1.0)
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=10, linewidths=0.4)
        ax.set_title(f"{name}: test accuracy {accuracy[name]:.3f}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes.ravel()[len(models) :]:
        ax.axis("off")
    fig.tight_layout()
    save_figure(fig, out_dir / "decision_regions.png")


# ---- vanishing gradients --------------------------------------------------------------------------------


def layer_gradient_norms(
    name: str, depth: int, width: int, X: np.ndarray, y: np.ndarray, seed: int
) -> list[float]:
    """||dL/dW_l||_F for each of the ``depth`` layers of a fresh MLP(activation=name), after one backward
    pass of the mean cross-entropy on (X, y). Initialization: Xavier for sigmoid/tanh, He for ReLU."""
    model = MLP([X.shape[1]] + [width] * (depth - 1) + [2], name, seed=seed, dtype=np.float64)
    cross_entropy(model(Tensor(X, dtype=np.float64)), y).backward()
    norms = []
    for layer in model.linear_layers():
        assert isinstance(layer.weight, Tensor) and layer.weight.grad is not None
        norms.append(float(np.linalg.norm(layer.weight.grad)))
    return norms


def vanishing_part(config: Config, X: np.ndarray, y: np.ndarray, seed: int, out_dir: pathlib.Path) -> dict:
    norms = {
        name: layer_gradient_norms(name, config.depth, config.width, X, y, seed)
        for name in ("sigmoid", "tanh", "relu")
    }
    plot_layer_norms(
        {f"{name} ({'He' if name == 'relu' else 'Xavier'} init)": values for name, values in norms.items()},
        out_dir / "gradient_norms.png",
        f"gradient norm per layer at initialization, {config.depth}-layer MLP of width {config.width}",
    )
    return {
        "grad_norms": norms,
        # ||dL/dW_first|| / ||dL/dW_last||: far below 1 when the gradient vanishes on its way back
        "grad_norm_ratio": {name: values[0] / values[-1] for name, values in norms.items()},
    }


# ---- dead ReLUs -----------------------------------------------------------------------------------------


def dead_units(model: MLP, X: np.ndarray) -> list[np.ndarray]:
    """For each hidden activation layer, a boolean per unit: True if it outputs 0 for every row of X."""
    dead = []
    h = Tensor(X, dtype=np.float64)
    with no_grad():
        for layer in model.net.layers:
            h = layer(h)
            if isinstance(layer, Activation):
                dead.append(np.all(h.data == 0, axis=0))
    return dead


def dead_relu_part(
    config: Config,
    trained: MLP,
    data: tuple[np.ndarray, ...],
    model_seed: int,
    rng: np.random.Generator,
    out_dir: pathlib.Path,
) -> dict:
    X_train = data[0]
    epochs = config.epochs
    sizes = [2, config.hidden, config.hidden, 2]
    fresh = MLP(sizes, "relu", seed=model_seed, dtype=np.float64)
    high, _ = train_mlp(
        "relu", sizes, data, epochs, config.high_lr, config.batch_size, model_seed, rng, config.progress
    )
    cases = {
        "at initialization": fresh,
        f"trained, lr {config.lr:g}": trained,
        f"trained, lr {config.high_lr:g} (too high)": high,
    }
    per_layer = {label: [float(d.mean()) for d in dead_units(m, X_train)] for label, m in cases.items()}
    overall = {label: float(np.mean(np.concatenate(dead_units(m, X_train)))) for label, m in cases.items()}
    layers = [f"hidden layer {i + 1}" for i in range(len(sizes) - 2)] + ["all hidden units"]
    plot_grouped_bars(
        layers,
        {label: per_layer[label] + [overall[label]] for label in cases},
        out_dir / "dead_relu.png",
        "fraction of dead ReLUs (output 0 for every training input)",
        "fraction of units",
        ylim=(0.0, max(0.1, 1.15 * max(max(values) for values in per_layer.values()))),
    )
    init_key, trained_key, high_key = cases
    return {
        "dead_relu_fraction": {
            "init": overall[init_key],
            "trained": overall[trained_key],
            "high_lr": overall[high_key],
        },
        "high_lr_test_accuracy": float(np.mean(predict_proba(high, data[1]).argmax(axis=1) == data[3])),
    }


# ---- the run --------------------------------------------------------------------------------------------


def validate(config: Config) -> None:
    checks = [
        (config.points >= 20, f"--points must be at least 20, got {config.points}"),
        (config.noise > 0, f"--noise must be positive, got {config.noise}"),
        (config.hidden >= 1, f"--hidden must be at least 1, got {config.hidden}"),
        (config.epochs >= 1, f"--epochs must be at least 1, got {config.epochs}"),
        (config.lr > 0, f"--lr must be positive, got {config.lr}"),
        (config.batch_size >= 1, f"--batch-size must be at least 1, got {config.batch_size}"),
        (config.depth >= 2, f"--depth must be at least 2, got {config.depth}"),
        (config.width >= 1, f"--width must be at least 1, got {config.width}"),
        (config.high_lr > 0, f"--high-lr must be positive, got {config.high_lr}"),
    ]
    check_options(checks)


def run(config: Config, out_dir: pathlib.Path) -> dict[str, Any]:
    """Plot the activations and their engine derivatives, train one MLP per activation on two moons,
    measure vanishing gradients and dead ReLUs; write the figures into ``out_dir``."""
    validate(config)
    out_dir = pathlib.Path(out_dir)
    data_rng, seed_rng, train_rng, high_lr_rng, fresh_rng = np.random.default_rng(config.seed).spawn(5)
    model_seed = int(seed_rng.integers(2**31))
    X, y = two_moons(config.points, config.noise, data_rng)
    data = train_test_split(X, y, 0.2, data_rng)

    derivatives = derivative_part(config.curve_points, out_dir)
    fresh = two_moons(config.fresh_points, config.noise, fresh_rng)
    comparison, relu_model = comparison_part(config, data, fresh, model_seed, train_rng, out_dir)
    metrics: dict[str, Any] = {**comparison, **derivatives}  # test_accuracy, the headline, first
    X_train, _, y_train, _ = data
    batch = slice(0, min(len(X_train), 256))
    metrics.update(vanishing_part(config, X_train[batch], y_train[batch], model_seed, out_dir))
    metrics.update(dead_relu_part(config, relu_model, data, model_seed, high_lr_rng, out_dir))
    metrics["figures"] = [
        "activations.png",
        "softmax.png",
        "loss_curves.png",
        "test_accuracy.png",
        "decision_regions.png",
        "gradient_norms.png",
        "dead_relu.png",
    ]
    return metrics
