"""Project 04: a training visualizer: watch an MLP learn XOR and two moons.

Each network (tensor engine, float64) is trained with Adam on the mean binary cross-entropy of
p = sigmoid(z):  L = mean_i [softplus(z_i) - y_i z_i],  dL/dz_i = (p_i - y_i) / N.
After every epoch the shared training loop calls back here to record

* every weight and bias (a snapshot of the state dict), and
* the per-layer gradient norms ||dL/dW_k||_F of the full-batch loss at that point,

and the figures replay that record: parameter heatmaps over time, a decision-boundary animation, a
network diagram of the final weights, and the gradient norms next to the loss. ``playground.html``
(:mod:`.playground`) replays it interactively: a slider over the epochs, the decision boundary, each
hidden neuron's activation map, the weights and the loss so far.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from autograd import Tensor, binary_cross_entropy_with_logits, no_grad
from autograd.errors import check_options
from autograd.nn import MLP, Module
from autograd.optim import Adam
from projects.catalog.p04_visualizer.playground import task_data, write_playground
from projects.datasets.synthetic import two_moons, xor
from projects.lab.config import RunConfig, option
from projects.lab.training import History, fit
from viz.plots import plt, save_figure
from viz.training_plots import plot_network_diagram, plot_parameter_heatmaps, save_decision_animation


@dataclass
class Config(RunConfig):
    """Settings of the training visualizer (each field is a command-line flag)."""

    xor_hidden: int = option(4, "Hidden units of the XOR network (2-h-1).", high=256)
    xor_epochs: int = option(
        150, "Epochs on XOR (one step each: the batch is all four points).", quick=40, high=100_000
    )
    moons: int = option(200, "Points in the two-moons set.", quick=80, high=100_000)
    noise: float = option(0.15, "Standard deviation of the noise added to the moons.")
    moons_hidden: int = option(
        8, "Width of each of the two hidden layers of the moons network (2-h-h-1).", high=256
    )
    moons_epochs: int = option(80, "Epochs on the moons (mini-batches of 32).", quick=15, high=10_000)
    activation: str = option("tanh", "Hidden activation of both networks.")
    xor_lr: float = option(0.05, "Adam's learning rate on XOR.")
    moons_lr: float = option(
        0.01, "Adam's learning rate on the moons (higher makes the late loss curve spiky)."
    )
    frames: int = option(30, "Frames of each decision-boundary animation.", quick=6, high=300)
    resolution: int = option(
        70, "Grid points per axis of the decision-boundary pictures.", quick=30, high=400
    )


EXPLANATION = """\
Two networks are trained while every weight, bias and gradient norm is recorded after each epoch: a 2-4-1
net on XOR and a 2-8-8-1 net on two moons (tanh, Adam, cross-entropy, tensor engine).

**playground.html** (open it in a browser): the whole record, explorable. A slider runs over the epochs
of each task (XOR, two moons) and shows the decision boundary, every hidden neuron's activation map, the
network with its weights as coloured edges, and the loss so far.

**xor_boundary.gif, moons_boundary.gif**: the decision boundary as it moves. Each frame colours the plane
by the network's output probability (red: class 1, blue: class 0) with the p = 0.5 contour in black; the
title gives the epoch, loss and accuracy. Frames are spaced geometrically in time, because most of the
change happens early.

**xor_parameters.png, moons_parameters.png**: every parameter over training, one heatmap per weight
matrix and bias vector. Each row is one number, each column one epoch, red positive and blue negative.
You can see which weights grow, which change sign, and when the network settles.

**xor_network.png, moons_network.png**: the trained network as a diagram. Each edge is a weight: red
positive, blue negative, thicker for larger |w|. Each neuron is filled with its bias on the same colour
scale.

**xor_gradients.png, moons_gradients.png**: top: the full-batch training loss; bottom: the norm of its
gradient with respect to each layer's weight matrix, epoch by epoch (log scales). Small gradients go with
plateaus of the loss (XOR in its first epochs, the moons once the boundary is a rough line); as the
network leaves a plateau they grow again. At the end they shrink as the loss flattens out (XOR, full
batch) or stay noisy as mini-batch steps hop around the minimum (moons).
"""


@dataclass
class Recording:
    """What the visualizer saw during one training run."""

    name: str
    sizes: list[int]
    snapshots: list[dict[str, np.ndarray]] = field(default_factory=list)  # epoch 0 (initial) .. last
    gradient_norms: list[list[float]] = field(default_factory=list)  # per epoch, per linear layer
    losses: list[float] = field(default_factory=list)  # full-batch loss per recorded epoch
    accuracies: list[float] = field(default_factory=list)


def full_batch_loss(model: Module, X: np.ndarray, y: np.ndarray) -> Tensor:
    """L = mean_i [softplus(z_i) - y_i z_i] with z = model(X)[:, 0]."""
    logits = model(Tensor(X, dtype=np.float64))
    return binary_cross_entropy_with_logits(logits, y.reshape(-1, 1))


def accuracy(model: Module, X: np.ndarray, y: np.ndarray) -> float:
    with no_grad():
        z = model(Tensor(X, dtype=np.float64)).data[:, 0]
    return float(np.mean((z > 0) == (y > 0.5)))


def record_epoch(model: MLP, X: np.ndarray, y: np.ndarray, recording: Recording) -> None:
    """Snapshot the weights; measure the full-batch loss, accuracy and each layer's gradient norm."""
    recording.snapshots.append(model.state_dict())
    model.zero_grad()
    loss = full_batch_loss(model, X, y)
    loss.backward()
    recording.gradient_norms.append(
        [float(np.linalg.norm(layer.weight.grad)) for layer in model.linear_layers()]
    )
    recording.losses.append(loss.item())
    recording.accuracies.append(accuracy(model, X, y))
    model.zero_grad()


def train_recorded(
    name: str,
    sizes: list[int],
    activation: str,
    X: np.ndarray,
    y: np.ndarray,
    epochs: int,
    batch_size: int,
    lr: float,
    rng: np.random.Generator,
) -> tuple[MLP, Recording, History]:
    """Train with the shared loop, recording every epoch (and the initial state as epoch 0)."""
    model = MLP(sizes, activation, engine="tensor", seed=int(rng.integers(2**31)), dtype=np.float64)
    optimizer = Adam(model.parameters(), lr=lr)
    recording = Recording(name, list(sizes))
    record_epoch(model, X, y, recording)

    def on_epoch_end(epoch: int, history: History) -> None:
        record_epoch(model, X, y, recording)

    history = fit(
        model,
        optimizer,
        full_batch_loss,
        (X, y),
        epochs=epochs,
        batch_size=batch_size,
        rng=rng,
        progress=False,
        desc=name,
        on_epoch_end=on_epoch_end,
    )
    return model, recording, history


def frame_epochs(epochs: int, frames: int) -> list[int]:
    """About ``frames`` epochs from 0 to ``epochs``, geometrically spaced (dense early), ends included."""
    if frames >= epochs + 1:
        return list(range(epochs + 1))
    chosen = np.unique(np.round(np.geomspace(1, epochs + 1, frames)).astype(int) - 1)
    return sorted({0, epochs, *chosen.tolist()})


def predictor(
    sizes: list[int], activation: str, state: dict[str, np.ndarray]
) -> Callable[[np.ndarray], np.ndarray]:
    """p = sigmoid(model(points)) for the network with weights ``state``."""
    model = MLP(sizes, activation, engine="tensor", dtype=np.float64)
    model.load_state_dict(state)

    def predict(points: np.ndarray) -> np.ndarray:
        with no_grad():
            return model(Tensor(points, dtype=np.float64)).sigmoid().data[:, 0]

    return predict


def plot_gradients(recording: Recording, path: pathlib.Path) -> None:
    epochs = np.arange(len(recording.losses))
    norms = np.array(recording.gradient_norms)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 5.6), sharex=True)
    top.plot(epochs, recording.losses, color="k", lw=1.6)
    top.set(ylabel="loss (full batch)", title=f"{recording.name}: loss and per-layer gradient norms")
    top.set_yscale("log")
    top.grid(alpha=0.3)
    sizes = recording.sizes
    for k in range(norms.shape[1]):
        bottom.plot(epochs, norms[:, k], lw=1.4, label=f"layer {k + 1} ({sizes[k]}→{sizes[k + 1]})")
    bottom.set(xlabel="epoch", ylabel="||dL/dW||")
    bottom.set_yscale("log")
    bottom.grid(alpha=0.3)
    bottom.legend(fontsize=8)
    save_figure(fig, path)


def visualize(
    recording: Recording,
    activation: str,
    X: np.ndarray,
    y: np.ndarray,
    frames: int,
    steps: int,
    out_dir: pathlib.Path,
) -> list[str]:
    """Write the four figures of one recording; return their file names."""
    name = recording.name
    last = len(recording.snapshots) - 1
    chosen = frame_epochs(last, frames)
    save_decision_animation(
        [predictor(recording.sizes, activation, recording.snapshots[e]) for e in chosen],
        [
            f"{name}: epoch {e}, loss {recording.losses[e]:.3f}, acc {recording.accuracies[e]:.0%}"
            for e in chosen
        ],
        X,
        y,
        out_dir / f"{name}_boundary.gif",
        steps=steps,
    )
    plot_parameter_heatmaps(
        recording.snapshots, out_dir / f"{name}_parameters.png", f"{name}: weights and biases over training"
    )
    final = recording.snapshots[-1]
    n_layers = len(recording.sizes) - 1
    plot_network_diagram(
        [final[f"net.{2 * k}.weight"] for k in range(n_layers)],
        [final[f"net.{2 * k}.bias"] for k in range(n_layers)],
        out_dir / f"{name}_network.png",
        f"{name}: trained {'-'.join(map(str, recording.sizes))} network",
    )
    plot_gradients(recording, out_dir / f"{name}_gradients.png")
    return [f"{name}_boundary.gif", f"{name}_parameters.png", f"{name}_network.png", f"{name}_gradients.png"]


@dataclass
class Task:
    """One data set to learn, with its network and training settings."""

    name: str
    X: np.ndarray
    y: np.ndarray
    sizes: list[int]
    epochs: int
    batch_size: int
    lr: float
    rng: np.random.Generator


TASK_TITLES = {"xor": "XOR", "moons": "two moons"}
PLAYGROUND_FILE = "playground.html"


def playground_task(recording: Recording, task: Task) -> dict[str, Any]:
    """One task of the playground page: its data and every recorded epoch's weights, loss and accuracy."""
    return task_data(
        task.name,
        TASK_TITLES.get(task.name, task.name),
        recording.sizes,
        recording.snapshots,
        recording.losses,
        recording.accuracies,
        task.X,
        task.y,
    )


def validate(config: Config) -> None:
    from autograd.nn import ACTIVATIONS

    checks = [
        (
            config.xor_hidden >= 1 and config.moons_hidden >= 1,
            "--xor-hidden and --moons-hidden must be at least 1",
        ),
        (
            config.xor_epochs >= 1 and config.moons_epochs >= 1,
            "--xor-epochs and --moons-epochs must be at least 1",
        ),
        (config.moons >= 10, f"--moons must be at least 10, got {config.moons}"),
        (config.noise >= 0, f"--noise must be non-negative, got {config.noise}"),
        (config.xor_lr > 0 and config.moons_lr > 0, "--xor-lr and --moons-lr must be positive"),
        (2 <= config.frames <= 200, f"--frames must be between 2 and 200, got {config.frames}"),
        (config.activation in ACTIVATIONS, f"--activation must be one of {', '.join(ACTIVATIONS)}"),
    ]
    check_options(checks)


def run(config: Config, out_dir: pathlib.Path) -> dict[str, Any]:
    """Train on XOR and two moons while recording, then draw everything."""
    validate(config)
    out_dir = pathlib.Path(out_dir)
    rng = np.random.default_rng(config.seed)
    xor_rng, moons_data_rng, moons_rng = rng.spawn(3)
    frames, steps = config.frames, config.resolution

    X_xor, y_xor = xor()
    X_moons, y_moons = two_moons(config.moons, config.noise, moons_data_rng)
    tasks = [
        Task("xor", X_xor, y_xor, [2, config.xor_hidden, 1], config.xor_epochs, 4, config.xor_lr, xor_rng),
        Task(
            "moons",
            X_moons,
            y_moons,
            [2, config.moons_hidden, config.moons_hidden, 1],
            config.moons_epochs,
            32,
            config.moons_lr,
            moons_rng,
        ),
    ]
    metrics: dict[str, Any] = {"xor_accuracy": None, "moons_accuracy": None}  # the headline first
    figures: list[str] = []
    pages: list[dict[str, Any]] = []
    for task in tasks:
        epochs = task.epochs
        _, recording, _ = train_recorded(
            task.name,
            task.sizes,
            config.activation,
            task.X,
            task.y,
            epochs,
            task.batch_size,
            task.lr,
            task.rng,
        )
        figures += visualize(recording, config.activation, task.X, task.y, frames, steps, out_dir)
        pages.append(playground_task(recording, task))
        name = task.name
        metrics[f"{name}_accuracy"] = recording.accuracies[-1]
        metrics[f"{name}_final_loss"] = recording.losses[-1]
        metrics[f"{name}_initial_loss"] = recording.losses[0]
        metrics[f"{name}_epochs"] = epochs
        metrics[f"{name}_gradient_norms_first"] = recording.gradient_norms[0]
        metrics[f"{name}_gradient_norms_last"] = recording.gradient_norms[-1]
        metrics[f"{name}_frames"] = len(frame_epochs(epochs, frames))
    write_playground(pages, config.activation, out_dir / PLAYGROUND_FILE)
    metrics["figures"] = figures
    return metrics
