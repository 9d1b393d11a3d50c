"""Project 02: XOR with a small MLP on the scalar engine, and why a 2-2-1 sigmoid net sometimes stalls.

The network maps x = (x1, x2) through one hidden layer to a logit z and a probability p = sigmoid(z):

    h = act(x W1 + b1),    z = h . w2 + b2,    p = sigmoid(z).

It is trained on the four XOR points with the mean binary cross-entropy

    L = (1/4) sum_i [ -y_i ln p_i - (1 - y_i) ln(1 - p_i) ] = (1/4) sum_i [ softplus(z_i) - y_i z_i ],

whose derivative is the famously simple dL/dz_i = (p_i - y_i) / 4, by full-batch SGD with momentum 0.9.
Every number is a ``Value``: the graph of one epoch has a node per multiplication-and-sum of each neuron.

A run *succeeds* when every output p_i is within 0.1 of its target. The default network (2-8-1, tanh)
succeeds for every one of 100 seeds. The success-rate table (hidden width x activation x seeds) shows where
that stops being true: with two hidden units, some seeds end in a local minimum where two of the four
points are classified and the other two get p = 0.5. There the two hidden units give the two unsolved
points (nearly) the same hidden representation, so no output line can separate them, and the loss is
stuck at ln 2 / 2 (each of those two points costs ln 2). (A rarer trap: one point right and three merged
at p = 2/3.) Wider layers almost never start in such a basin.
"""

from __future__ import annotations

import math
import pathlib
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from autograd import Tensor, Value, no_grad
from autograd.errors import UsageError
from autograd.nn import ACTIVATIONS, MLP
from autograd.optim import SGD
from projects.datasets.synthetic import xor
from projects.lab.config import RunConfig, check_bounds, option
from projects.lab.training import Checkpoint, History, fit
from viz.plots import plot_curves, plot_decision_regions, plt, save_figure
from viz.training_plots import plot_table_heatmap

TOLERANCE = 0.1  # a run succeeds when every output is within this of its target
MOMENTUM = 0.9
TABLE_WIDTHS = (2, 3, 4, 8)
TABLE_ACTIVATIONS = ("sigmoid", "tanh")


@dataclass
class Config(RunConfig):
    """Settings of the XOR project (each field is a command-line flag)."""

    hidden: int = option(8, "Hidden units of the default network (2-hidden-1).", low=1, high=64)
    activation: str = option("tanh", "Hidden activation of the default network (sigmoid, tanh, relu, ...).")
    lr: float = option(2.0, "Learning rate of full-batch SGD (momentum 0.9) on the mean cross-entropy.")
    epochs: int = option(
        200,
        "Epochs (= steps: the batch is all four points) of the main run, and the cap of every other run.",
        low=1,
        high=100_000,
    )
    seeds: int = option(
        100,
        "How many seeds the default network is trained from, for the success rate.",
        quick=10,
        low=1,
        high=1000,
    )
    table_seeds: int = option(
        50, "Seeds per cell of the success-rate table (hidden width x activation).", quick=5, low=1, high=1000
    )
    table_widths: tuple[int, ...] = option(
        TABLE_WIDTHS,
        "Hidden widths compared in the success-rate table.",
        quick=(2, 8),
        low=1,
        high=64,
        max_len=8,
    )
    resolution: int = option(
        200, "Grid points per axis of the decision-region picture.", quick=80, low=10, high=500
    )
    checkpoint: pathlib.Path | None = option(
        None, "Checkpoint of the main run (the runner sets it to OUT/.checkpoints/02-xor.npz)."
    )
    resume: bool = option(False, "Continue the main run from the checkpoint (the runner's --resume).")


EXPLANATION = """\
A 2-hidden-1 MLP learns XOR on the scalar engine (every weight a `Value`), trained by full-batch SGD with
momentum on the mean cross-entropy. Success means every output is within 0.1 of its target.

**decision_regions.png**: the trained default network's output p = sigmoid(z) over the plane (red high,
blue low), the p = 0.5 contour in black and the four XOR points. The two class-1 points, (0, 1) and
(1, 0), lie in two separate red regions: no single line does that (XOR is not linearly separable), but
the hidden units' lines, combined by the output unit, carve the plane into such pieces.

**loss_curve.png**: the cross-entropy of the main run, epoch by epoch (log scale): a short plateau while
the hidden units sort themselves out, a steep fall once they do (momentum helps), then a slow crawl: the
loss only approaches 0 as the outputs approach exactly 0 and 1.

**gradient_graph.svg**: the computation graph of the loss on one example, x = (1, 0), after training, with
every node's value and gradient (colour: |gradient|) and, on each edge, the local derivative the chain
rule multiplies by. Parameters are named W1[i,j], b1[j], W2[j,0], b2[0].

**success_table.png**: the share of seeds that succeed within the epoch budget for each hidden width and
activation. Narrow networks fail for some seeds.

**stalled_vs_solved.png**: why. Top: a 2-2-1 sigmoid network that stalled (left) and one that solved XOR
(right), with the lines where each hidden unit is half on (dashed). Bottom: the four points in the
hidden units' coordinates (h1, h2). In the solved net the hidden layer moves the two classes apart so a
line separates them; in the stalled one, two points with different labels land on (almost) the same
hidden point. The output can only answer 0.5 for both, and with saturated hidden units the gradient
that would move them apart is nearly zero: a local minimum with loss ln 2 / 2 ≈ 0.347. (The metric
`stalled_outputs_2_2_1_sigmoid` lists the outputs of such runs; a rarer trap merges three points at 2/3.)
"""


# --------------------------------------------------------------------------------------------------------
# Training one network
# --------------------------------------------------------------------------------------------------------


def xor_data() -> tuple[list[list[float]], list[float]]:
    X, y = xor()
    return X.tolist(), y.tolist()


def cross_entropy_loss(model: MLP, inputs: Sequence[Sequence[float]], targets: Sequence[float]) -> Value:
    """L = mean_i [softplus(z_i) - y_i z_i], the binary cross-entropy of p_i = sigmoid(z_i).

    Its derivative is dL/dz_i = (p_i - y_i) / n.
    """
    total: Value | float = 0.0
    for x, t in zip(inputs, targets):
        z = model(list(x))[0]
        total = total + (z.softplus() - float(t) * z)
    return total * (1.0 / len(inputs))  # type: ignore[return-value]


def outputs(model: MLP, inputs: Sequence[Sequence[float]]) -> list[float]:
    """p = sigmoid(z) for each input, without recording a graph."""
    with no_grad():
        return [model(list(x))[0].sigmoid().data for x in inputs]


def max_error(model: MLP) -> float:
    X, y = xor_data()
    return max(abs(p - t) for p, t in zip(outputs(model, X), y))


@dataclass
class XorRun:
    model: MLP
    history: History
    outputs: list[float]
    converged: bool

    @property
    def epochs_run(self) -> int:
        return len(self.history.epochs)


def train_xor(
    hidden: int,
    activation: str,
    model_seed: int,
    lr: float,
    epochs: int,
    stop_when_solved: bool = True,
    checkpoint: pathlib.Path | None = None,
    resume: bool = False,
    progress: bool | None = False,
    settings: dict[str, Any] | None = None,
) -> XorRun:
    """Train a 2-hidden-1 scalar-engine MLP on XOR; with ``stop_when_solved``, stop at the first epoch
    whose outputs are all within :data:`TOLERANCE` of the targets. ``checkpoint``: written after every
    epoch, recording ``settings`` (the options this run depends on); ``resume`` continues from it."""
    if resume and checkpoint is None:
        raise UsageError("--resume: no checkpoint was given to resume from")
    X, y = xor_data()
    model = MLP([2, hidden, 1], activation, engine="scalar", seed=model_seed)
    optimizer = SGD(model.parameters(), lr=lr, momentum=MOMENTUM)

    def solved(epoch: int, history: History) -> bool:
        return max_error(model) < TOLERANCE

    history = fit(
        model,
        optimizer,
        cross_entropy_loss,
        (X, y),
        epochs=epochs,
        batch_size=len(X),
        rng=np.random.default_rng(model_seed),
        shuffle=False,
        callbacks=[Checkpoint(checkpoint, resume, settings)] if checkpoint is not None else [],
        progress=progress,
        desc="xor",
        on_epoch_end=solved if stop_when_solved else None,
    )
    final = outputs(model, X)
    return XorRun(model, history, final, max(abs(p - t) for p, t in zip(final, y)) < TOLERANCE)


def success_rate(
    hidden: int, activation: str, seeds: Sequence[int], lr: float, epochs: int
) -> tuple[float, list[XorRun]]:
    runs = [train_xor(hidden, activation, int(s), lr, epochs) for s in seeds]
    return sum(r.converged for r in runs) / len(runs), runs


# --------------------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------------------


def as_tensor_model(model: MLP) -> MLP:
    """The same network on the tensor engine (float64), to evaluate a whole grid of points at once."""
    twin = MLP(model.sizes, model.activation, engine="tensor", dtype=np.float64)
    twin.load_state_dict(model.state_dict())
    return twin


def probability_fn(model: MLP):
    twin = as_tensor_model(model)

    def predict(points: np.ndarray) -> np.ndarray:
        with no_grad():
            return twin(Tensor(points, dtype=np.float64)).sigmoid().data[:, 0]

    return predict


def hidden_activations(model: MLP, points: np.ndarray) -> np.ndarray:
    """h = act(x W1 + b1) for each point (rows)."""
    first = model.linear_layers()[0]
    act = ACTIVATIONS[model.activation]
    with no_grad():
        return np.array([[act(v).data for v in first(list(map(float, p)))] for p in points])


def draw_hidden_lines(ax: plt.Axes, model: MLP) -> None:
    """The lines x W1[:, j] + b1[j] = 0 where hidden unit j is half on."""
    state = model.state_dict()
    W1, b1 = state["net.0.weight"], state["net.0.bias"]
    xs = np.linspace(-0.5, 1.5, 2)
    for j in range(W1.shape[1]):
        w, b = W1[:, j], b1[j]
        if abs(w[1]) > 1e-12:
            ax.plot(xs, -(w[0] * xs + b) / w[1], "--", lw=1.2, color=f"C{j + 2}", label=f"h{j + 1} = ½")
        elif abs(w[0]) > 1e-12:
            ax.axvline(-b / w[0], ls="--", lw=1.2, color=f"C{j + 2}", label=f"h{j + 1} = ½")
    ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5))


def plot_stalled_vs_solved(stalled: XorRun, solved: XorRun, path: pathlib.Path) -> None:
    X, y = xor()
    fig, axes = plt.subplots(2, 2, figsize=(10.0, 9.0))
    for column, (name, run) in enumerate((("stalled", stalled), ("solved", solved))):
        top, bottom = axes[0, column], axes[1, column]
        shown = ", ".join(f"{p:.2f}" for p in run.outputs)
        plot_decision_regions(
            probability_fn(run.model), X, y, None, f"{name}: outputs [{shown}]", ax=top, steps=120
        )
        draw_hidden_lines(top, run.model)
        top.legend(loc="upper right", fontsize=8)
        H = hidden_activations(run.model, X)
        bottom.scatter(H[:, 0], H[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=80, zorder=3)
        for k, ((hx, hy), x, p) in enumerate(zip(H, X, run.outputs)):
            # labels stacked by point index, so that points sharing a hidden position stay readable
            bottom.annotate(
                f"({x[0]:.0f},{x[1]:.0f}) → p={p:.2f}",
                (hx, hy),
                fontsize=8,
                xytext=(8, 14 - 11 * k),
                textcoords="offset points",
            )
        state = run.model.state_dict()
        w2, b2 = state["net.2.weight"][:, 0], state["net.2.bias"][0]
        low, high = (0.0, 1.0) if run.model.activation == "sigmoid" else (-1.0, 1.0)
        xs = np.linspace(low - 0.1, high + 0.1, 2)
        if abs(w2[1]) > 1e-12:
            bottom.plot(xs, -(w2[0] * xs + b2) / w2[1], "k-", lw=1.2, label="output p = ½")
        bottom.set(
            xlim=(low - 0.1, high + 0.1),
            ylim=(low - 0.1, high + 0.1),
            xlabel="h1",
            ylabel="h2",
            title=f"{name}: the points in hidden space",
        )
        bottom.legend(loc="lower right", fontsize=8)
    save_figure(fig, path)


def label_parameters(model: MLP) -> None:
    """Name each scalar weight W1[i,j], b1[j], W2[j,0], b2[0] so the graph is readable."""
    for layer_number, layer in enumerate(model.linear_layers(), start=1):
        for (i, j), v in np.ndenumerate(layer.weight.values):
            v.label = f"W{layer_number}[{i},{j}]"
        for (j,), v in np.ndenumerate(layer.bias.values):
            v.label = f"b{layer_number}[{j}]"


def write_gradient_graph(model: MLP, path: pathlib.Path) -> str:
    """Draw the graph of the loss on x = (1, 0) to SVG; return 'written' or why it was skipped."""
    try:
        from viz.graph import choose_rankdir, draw_graph, save_graph
    except ImportError as e:  # the graph module is optional for this project
        return f"skipped: {e}"
    label_parameters(model)
    x = [Value(1.0, label="x1"), Value(0.0, label="x2")]
    z = model(x)[0]
    z.label = "z"
    loss = z.softplus() - 1.0 * z
    loss.label = "L"
    model.zero_grad()
    loss.backward()
    title = "loss on x = (1, 0), target 1: values, gradients, local derivatives"
    try:  # left to right if that fits a page, else top to bottom: never a line to scroll sideways along
        rankdir = choose_rankdir(lambda rd: draw_graph(loss, rd, title=title), path.with_suffix(".dot"))
        save_graph(draw_graph(loss, rankdir, title=title), path)
    except UsageError as e:  # no Graphviz `dot`: the DOT source is written instead
        return f"skipped: {e}"
    finally:
        model.zero_grad()
    return "written"


# --------------------------------------------------------------------------------------------------------
# The project
# --------------------------------------------------------------------------------------------------------


def validate(config: Config) -> None:
    check_bounds(config)
    if config.hidden < 1:
        raise UsageError(f"--hidden must be at least 1, got {config.hidden}")
    if config.activation not in ACTIVATIONS or config.activation == "identity":
        choices = ", ".join(a for a in ACTIVATIONS if a != "identity")
        raise UsageError(f"--activation must be one of {choices}; got {config.activation!r}")
    if not config.lr > 0:
        raise UsageError(f"--lr must be positive, got {config.lr}")
    if config.epochs < 1:
        raise UsageError(f"--epochs must be at least 1, got {config.epochs}")
    if config.seeds < 1 or config.table_seeds < 1:
        raise UsageError("--seeds and --table-seeds must be at least 1")


def draw_seeds(seed: int, n_seeds: int, n_table: int) -> tuple[int, np.ndarray, np.ndarray]:
    """The weight seeds of the main run, of the success-rate runs and of each table cell's runs, all drawn
    from ``default_rng(seed)`` in that order."""
    rng = np.random.default_rng(seed)
    return int(rng.integers(2**31)), rng.integers(2**31, size=n_seeds), rng.integers(2**31, size=n_table)


@dataclass
class SuccessTable:
    """Success rate by hidden width and activation, and one stalled and one solved 2-2-1 sigmoid run."""

    rates: dict[str, dict[str, float]]
    stalled: XorRun | None
    solved: XorRun | None
    stalled_outputs: list[list[float]]


def success_table(config: Config, seeds: Sequence[int]) -> SuccessTable:
    """Train every (activation, width) cell of the table from the same ``seeds``."""
    table = SuccessTable({a: {} for a in TABLE_ACTIVATIONS}, None, None, [])
    for activation in TABLE_ACTIVATIONS:
        for width in config.table_widths:
            cell_rate, runs = success_rate(width, activation, seeds, config.lr, config.epochs)
            table.rates[activation][str(width)] = cell_rate
            if width == 2 and activation == "sigmoid":
                table.stalled = next((r for r in runs if not r.converged), None)
                table.solved = next((r for r in runs if r.converged), None)
                table.stalled_outputs = [[round(p, 3) for p in r.outputs] for r in runs if not r.converged]
    return table


def draw_figures(
    config: Config, main: XorRun, table: SuccessTable, out_dir: pathlib.Path
) -> tuple[list, str]:
    """The decision regions, loss curve, gradient graph, success table (and stalled vs solved, when the
    table has both); returns the figures written and the gradient graph's status."""
    X, y = xor()
    outputs = ", ".join(f"{p:.2f}" for p in main.outputs)
    plot_decision_regions(
        probability_fn(main.model),
        X,
        y,
        out_dir / "decision_regions.png",
        f"2-{config.hidden}-1 {config.activation}: outputs {outputs}",
        steps=config.resolution,
    )
    plot_curves(
        {"cross-entropy": main.history["train_loss"]},
        out_dir / "loss_curve.png",
        f"XOR, 2-{config.hidden}-1 {config.activation}, lr {config.lr:g}",
        ylabel="cross-entropy",
        logy=True,
    )
    graph_status = write_gradient_graph(main.model, out_dir / "gradient_graph.svg")
    widths = config.table_widths
    plot_table_heatmap(
        np.array([[table.rates[a][str(w)] for w in widths] for a in TABLE_ACTIVATIONS]),
        [f"{a}" for a in TABLE_ACTIVATIONS],
        [f"2-{w}-1" for w in widths],
        out_dir / "success_table.png",
        f"share of {config.table_seeds} seeds solving XOR within {config.epochs} epochs",
        value_format="{:.0%}",
    )
    figures = ["decision_regions.png", "loss_curve.png", "gradient_graph.svg", "success_table.png"]
    if table.stalled is not None and table.solved is not None:
        plot_stalled_vs_solved(table.stalled, table.solved, out_dir / "stalled_vs_solved.png")
        figures.append("stalled_vs_solved.png")
    return figures, graph_status


def run(config: Config, out_dir: pathlib.Path) -> dict[str, Any]:
    """Train the main network (checkpointed), measure success rates, draw the figures."""
    validate(config)
    out_dir = pathlib.Path(out_dir)
    main_seed, rate_seeds, table_seeds = draw_seeds(config.seed, config.seeds, config.table_seeds)
    main = train_xor(
        config.hidden,
        config.activation,
        main_seed,
        config.lr,
        config.epochs,
        stop_when_solved=False,
        checkpoint=config.checkpoint,
        resume=config.resume,
        progress=config.progress,
        settings={k: getattr(config, k) for k in ("seed", "hidden", "activation", "lr")},
    )
    rate, _ = success_rate(config.hidden, config.activation, rate_seeds, config.lr, config.epochs)
    table = success_table(config, table_seeds)
    figures, graph_status = draw_figures(config, main, table, out_dir)
    return {
        "success_rate": rate,
        "converged": main.converged,
        "final_loss": main.history["train_loss"][-1],
        "success_table": table.rates,
        "seeds": config.seeds,
        "table_seeds": config.table_seeds,
        "outputs": main.outputs,
        "epochs": main.epochs_run,
        "stalled_outputs_2_2_1_sigmoid": table.stalled_outputs[:5],
        "stalled_loss_ln2_over_2": math.log(2) / 2,
        "gradient_graph": graph_status,
        "figures": figures,
    }
