"""Project 07: the backprop simulator, one tiny network's backward pass computed three ways.

The network is the classic hand-worked example: 2 inputs, 2 hidden units, 1 output, sigmoid everywhere::

    z1 = x W1 + b1      a1 = sigmoid(z1)       x: 1x2, W1: 2x2, b1: 1x2
    z2 = a1 W2 + b2     a2 = sigmoid(z2)       W2: 2x1, b2: 1x1
    L  = 0.5 (y - a2)^2

with x = [0.5, 0.8], y = 1 and the weights drawn by ``np.random.seed(0)`` and ``randn`` in the order W1, b1,
W2, b2. The backward pass, in the tracer's notation (dL/dx: the gradient of the loss; ∂a/∂z: the local
derivative of one operation, here sigmoid's ∂a/∂z = a (1 - a)):

    dL/da2 = a2 - y                     d2 = dL/dz2 = dL/da2 · ∂a2/∂z2 = dL/da2 · a2 (1 - a2)
    dL/dW2 = a1ᵀ d2                     dL/db2 = d2
    dL/da1 = d2 W2ᵀ                     d1 = dL/dz1 = dL/da1 · a1 (1 - a1)   (elementwise)
    dL/dW1 = xᵀ d1                      dL/db1 = d1

The project computes the gradients (1) by these matrix equations in NumPy, printed with their numbers,
(2) on the scalar ``Value`` engine and (3) on the ``Tensor`` engine (float64), checks that all three agree
to 1e-12, and writes the scalar graph of the loss, a step-by-step HTML page of its forward and backward
pass, the trace as JSON, the tables as text and a figure comparing the three methods.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Tensor, Value
from autograd.errors import UsageError
from autograd.files import write_json, write_text
from projects.lab import runner
from projects.lab.config import RunConfig, option
from projects.lab.registry import find

PARAMETERS = ("W1", "b1", "W2", "b2")
SHAPES = {"W1": (2, 2), "b1": (1, 2), "W2": (2, 1), "b2": (1, 1)}

# The example's published output (seed 0, x = [0.5, 0.8], y = 1), to 8 decimals.
PUBLISHED: dict[str, Any] = {
    "a2": 0.67013076,
    "loss": 0.05440686,
    "W2": [[-0.07084855], [-0.05353001]],
    "b2": [[-0.07291942]],
    "W1": [[-0.00095582, 0.00107719], [-0.00152931, 0.0017235]],
    "b1": [[-0.00191164, 0.00215438]],
}
PUBLISHED_TOLERANCE = 1e-8  # the published numbers are rounded to 8 decimals
AGREEMENT_TOLERANCE = 1e-12

EXPLANATION = """\
# 07 · Backprop simulator

A 2-2-1 network with sigmoid activations and the loss L = ½(y − a2)², on one example x = [0.5, 0.8],
y = 1, with the weights of `np.random.seed(0)`. Its gradients are computed three ways: the matrix chain
rule written out in NumPy, the scalar `Value` engine and the `Tensor` engine. `tables.txt` (also printed)
shows every equation with its numbers and a table where the three methods agree to 1e-12.

Notation, the same everywhere: `dL/dx` is the gradient of the loss with respect to x; `∂z/∂x` is the local
derivative of one operation's result z with respect to its input x, stated by the operation as a formula.

* **graph.svg** — the scalar engine's computation graph of L, drawn top to bottom. Boxes are values (name,
  data, gradient), ellipses the operations; each edge into an operation carries its local derivative as a
  formula, in numbers and as a value, e.g. `∂a2/∂z2 = a2 * (1 - a2) = 0.6701 * (1 - 0.6701) = 0.221056`.
  Colour encodes |dL/dnode| on a log scale (legend).
* **backprop.html** — open it in a browser and step through the forward pass node by node
  (`z2 = W2[0,0] * a1[0] + ...` in numbers), then the backward pass from the seed `dL/dL = 1` (buttons,
  ← → keys or the slider; wheel zooms, drag pans). Each backward step shows the chain rule in words and
  numbers, `dL/dW2[0,0] += dL/dz2 · ∂z2/∂W2[0,0] = -0.0729194 · (a1[0] = 0.971601) = -0.0708485`; red marks
  the node being processed. All 27 nodes fit a 1280 x 800 window: each box reads `W2[0,0] = 0.9501` over
  its gradient, each operation sits beside its result, and each edge carries its local derivative's value
  (`0.9716`), whose formula the step's text gives.
* **gradients.png** — left: the nine parameter gradients from each method (the bars coincide); right:
  how far the scalar and tensor engines are from the matrix equations (log scale; 0 means identical).
* **trace.json** — the forward pass (each node's formula, with its numbers, and its value), the seed, and
  every step of the scalar backward pass: node, op, upstream gradient, and for each input its local
  derivative (`formula`, `substituted`, `local_derivative`), contribution and running gradient.
"""


@dataclass
class Config(RunConfig):
    """Settings of the backprop simulator (each field is a command-line flag)."""

    x1: float = option(0.5, "The first input.")
    x2: float = option(0.8, "The second input.")
    y: float = option(1.0, "The target output.")


# --------------------------------------------------------------------------------------------------------
# The weights and the three computations
# --------------------------------------------------------------------------------------------------------


def seed_weights(seed: int) -> dict[str, np.ndarray]:
    """W1 (2x2), b1 (1x2), W2 (2x1), b2 (1x1) drawn by ``randn`` in that order.

    The published example uses NumPy's *legacy* global generator: ``np.random.seed(0)`` then ``randn``.
    To reproduce its numbers this project (alone) uses that generator, as ``np.random.RandomState(seed)``:
    the same algorithm and stream, without changing NumPy's global state.
    """
    legacy = np.random.RandomState(seed)
    return {name: legacy.randn(*SHAPES[name]) for name in PARAMETERS}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _fmt(a: Any, decimals: int = 8) -> str:
    """An array on one line with ``decimals`` decimals: ``[[0.97160054, 0.73409811]]``."""
    text = np.array2string(
        np.asarray(a, dtype=np.float64),
        precision=decimals,
        separator=", ",
        floatmode="fixed",
        max_line_width=10_000,
    )
    return " ".join(text.split()).replace("[ ", "[")


@dataclass
class MatrixResult:
    """The forward values, the gradients and each equation with its numbers (matrix chain rule)."""

    forward: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]
    forward_equations: list[str]
    backward_equations: list[str]


def matrix_chain_rule(x: np.ndarray, y: float, w: dict[str, np.ndarray]) -> MatrixResult:
    """Forward and backward pass of the 2-2-1 network by the matrix equations of the module docstring."""
    z1 = x @ w["W1"] + w["b1"]
    a1 = _sigmoid(z1)
    z2 = a1 @ w["W2"] + w["b2"]
    a2 = _sigmoid(z2)
    loss = 0.5 * (y - a2) ** 2
    forward = [
        f"z1 = x W1 + b1 = {_fmt(x)} @ {_fmt(w['W1'])} + {_fmt(w['b1'])} = {_fmt(z1)}",
        f"a1 = sigmoid(z1) = 1 / (1 + exp(-z1)) = {_fmt(a1)}",
        f"z2 = a1 W2 + b2 = {_fmt(a1)} @ {_fmt(w['W2'])} + {_fmt(w['b2'])} = {_fmt(z2)}",
        f"a2 = sigmoid(z2) = {_fmt(a2)}",
        f"L = 0.5 (y - a2)^2 = 0.5 * ({y:g} - {_fmt(a2)})^2 = {_fmt(loss)}",
    ]
    dL_da2 = a2 - y
    d2 = dL_da2 * a2 * (1 - a2)
    dW2 = a1.T @ d2
    db2 = d2
    dL_da1 = d2 @ w["W2"].T
    d1 = dL_da1 * a1 * (1 - a1)
    dW1 = x.T @ d1
    db1 = d1
    backward = [
        f"dL/da2 = a2 - y = {_fmt(a2)} - {y:g} = {_fmt(dL_da2)}",
        f"d2 = dL/dz2 = dL/da2 · ∂a2/∂z2 = dL/da2 · a2 (1 - a2) = "
        f"{_fmt(dL_da2)} · {_fmt(a2)} · {_fmt(1 - a2)} = {_fmt(d2)}",
        f"dL/dW2 = a1ᵀ d2 = {_fmt(a1.T)} @ {_fmt(d2)} = {_fmt(dW2)}",
        f"dL/db2 = d2 = {_fmt(db2)}",
        f"dL/da1 = d2 W2ᵀ = {_fmt(d2)} @ {_fmt(w['W2'].T)} = {_fmt(dL_da1)}",
        f"d1 = dL/dz1 = dL/da1 · ∂a1/∂z1 = dL/da1 · a1 (1 - a1) = "
        f"{_fmt(dL_da1)} · {_fmt(a1)} · {_fmt(1 - a1)} = {_fmt(d1)}",
        f"dL/dW1 = xᵀ d1 = {_fmt(x.T)} @ {_fmt(d1)} = {_fmt(dW1)}",
        f"dL/db1 = d1 = {_fmt(db1)}",
    ]
    return MatrixResult(
        {"z1": z1, "a1": a1, "z2": z2, "a2": a2, "loss": loss},
        {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2},
        forward,
        backward,
    )


@dataclass
class ScalarResult:
    """The loss Value (its graph is the one drawn and traced) and the parameters' Values by name."""

    loss: Value
    a2: Value
    params: dict[str, np.ndarray]  # name -> object array of Values, shaped like the parameter

    def grads(self) -> dict[str, np.ndarray]:
        return {k: np.vectorize(lambda v: v.grad, otypes=[float])(p) for k, p in self.params.items()}


def scalar_forward(x: np.ndarray, y: float, w: dict[str, np.ndarray]) -> ScalarResult:
    """The network on the scalar engine, every Value labeled: ``W1[0,1]``, ``z1[1]``, ``a2``, ``L``.

    z1[j] = x[0] W1[0,j] + x[1] W1[1,j] + b1[j] is one ``Value.dot`` node (inputs are constants),
    z2 = a1[0] W2[0,0] + a1[1] W2[1,0] + b2 another; then sigmoid, e = y - a2, L = 0.5 e^2.
    """
    params = {
        name: np.array(
            [
                Value(float(v), label=f"{name}[{','.join(map(str, idx))}]")
                for idx, v in np.ndenumerate(w[name])
            ],
            dtype=object,
        ).reshape(w[name].shape)
        for name in PARAMETERS
    }
    W1, b1, W2, b2 = (params[n] for n in PARAMETERS)
    inputs = [float(v) for v in x.ravel()]
    a1 = []
    for j in range(2):
        z = Value.dot(list(W1[:, j]), inputs, b1[0, j])
        z.label = f"z1[{j}]"
        a = z.sigmoid()
        a.label = f"a1[{j}]"
        a1.append(a)
    z2 = Value.dot(list(W2[:, 0]), a1, b2[0, 0])
    z2.label = "z2"
    a2 = z2.sigmoid()
    a2.label = "a2"
    e = y - a2
    e.label = "e"
    e2 = e**2
    e2.label = "e^2"
    loss = 0.5 * e2
    loss.label = "L"
    return ScalarResult(loss, a2, params)


def tensor_engine(
    x: np.ndarray, y: float, w: dict[str, np.ndarray]
) -> tuple[float, float, dict[str, np.ndarray]]:
    """a2, L and the gradients on the Tensor engine in float64: the matrix equations, differentiated by it."""
    params = {name: Tensor(w[name], requires_grad=True, dtype=np.float64, label=name) for name in PARAMETERS}
    xt = Tensor(x, dtype=np.float64, label="x")
    a1 = (xt @ params["W1"] + params["b1"]).sigmoid()
    a2 = (a1 @ params["W2"] + params["b2"]).sigmoid()
    loss = ((y - a2) ** 2 * 0.5).sum()
    loss.backward()
    grads = {name: np.asarray(p.grad, dtype=np.float64) for name, p in params.items()}
    return float(a2.data.reshape(())), float(loss.data), grads


# --------------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------------


def _rows(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*header), line.format(*("-" * w for w in widths))] + [line.format(*r) for r in rows]
    return "\n".join(s.rstrip() for s in out)


def forward_table(m: MatrixResult) -> str:
    rows = [
        ["z1", "x W1 + b1", _fmt(m.forward["z1"])],
        ["a1", "sigmoid(z1)", _fmt(m.forward["a1"])],
        ["z2", "a1 W2 + b2", _fmt(m.forward["z2"])],
        ["a2", "sigmoid(z2)", _fmt(m.forward["a2"])],
        ["L", "0.5 (y - a2)^2", _fmt(m.forward["loss"])],
    ]
    return "Forward pass\n" + _rows(["quantity", "formula", "value"], rows)


def backward_table(grads: dict[str, dict[str, np.ndarray]]) -> str:
    rows = []
    for name in PARAMETERS:
        for idx in np.ndindex(*SHAPES[name]):
            values = [float(grads[method][name][idx]) for method in grads]
            spread = max(values) - min(values)
            rows.append(
                [f"dL/d{name}[{','.join(map(str, idx))}]", *(f"{v:.10f}" for v in values), f"{spread:.1e}"]
            )
    return "Backward pass: the gradients three ways\n" + _rows(["gradient", *grads, "max - min"], rows)


# --------------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------------


def _check_config(config: Config) -> np.ndarray:
    for field in ("x1", "x2", "y"):
        value = getattr(config, field)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise UsageError(f"--{field} must be a finite number, got {value!r}")
    if config.seed < 0:
        raise UsageError(f"--seed must be 0 or more, got {config.seed}")
    return np.array([[config.x1, config.x2]], dtype=np.float64)


def compute(config: Config) -> dict[str, Any]:
    """Everything the project reports, without writing files (the tests call this)."""
    x = _check_config(config)
    y = float(config.y)
    weights = seed_weights(config.seed)
    matrix = matrix_chain_rule(x, y, weights)
    scalar = scalar_forward(x, y, weights)
    from viz.trace import trace_backward

    tracer = trace_backward(scalar.loss)
    a2_t, loss_t, tensor_grads = tensor_engine(x, y, weights)
    grads = {"matrix chain rule": matrix.grads, "scalar Value": scalar.grads(), "Tensor": tensor_grads}
    a2s = [float(matrix.forward["a2"].item()), scalar.a2.data, a2_t]
    losses = [float(matrix.forward["loss"].item()), scalar.loss.data, loss_t]
    disagreement = max(max(a2s) - min(a2s), max(losses) - min(losses))
    for name in PARAMETERS:
        stacked = np.stack([g[name] for g in grads.values()])
        disagreement = max(disagreement, float((stacked.max(axis=0) - stacked.min(axis=0)).max()))
    return {
        "weights": weights,
        "matrix": matrix,
        "scalar": scalar,
        "tracer": tracer,
        "grads": grads,
        "a2": a2s[0],
        "loss": losses[0],
        "max_disagreement": disagreement,
    }


def published_error(result: dict[str, Any]) -> float:
    """Largest |computed - published| over a2, L and every gradient entry."""
    errors = [abs(result["a2"] - PUBLISHED["a2"]), abs(result["loss"] - PUBLISHED["loss"])]
    for name in PARAMETERS:
        errors.append(float(np.abs(result["matrix"].grads[name] - np.array(PUBLISHED[name])).max()))
    return max(errors)


def report_text(result: dict[str, Any]) -> str:
    m: MatrixResult = result["matrix"]
    parts = [
        forward_table(m),
        "Forward equations\n" + "\n".join(m.forward_equations),
        "Backward equations (matrix chain rule)\n" + "\n".join(m.backward_equations),
        backward_table(result["grads"]),
        f"max disagreement between the three methods: {result['max_disagreement']:.2e} "
        f"({'within' if result['max_disagreement'] <= AGREEMENT_TOLERANCE else 'NOT within'} "
        f"{AGREEMENT_TOLERANCE:g})",
    ]
    return "\n\n".join(parts) + "\n"


def _plot_gradients(grads: dict[str, dict[str, np.ndarray]], path: Path) -> None:
    import matplotlib.pyplot as plt

    from viz.plots import save_figure

    names = [f"{p}[{','.join(map(str, i))}]" for p in PARAMETERS for i in np.ndindex(*SHAPES[p])]
    flat = {method: np.concatenate([g[p].ravel() for p in PARAMETERS]) for method, g in grads.items()}
    reference = flat["matrix chain rule"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    positions = np.arange(len(names))
    width = 0.27
    for k, (method, values) in enumerate(flat.items()):
        left.bar(positions + (k - 1) * width, values, width, label=method)
    left.axhline(0, color="k", lw=0.6)
    left.set_xticks(positions, names, rotation=45, ha="right")
    left.set(title="dL/dparameter, three ways", ylabel="gradient")
    left.legend(fontsize=8)
    floor = 1e-20
    for k, method in enumerate(("scalar Value", "Tensor")):
        diff = np.abs(flat[method] - reference)
        right.scatter(
            positions + (k - 0.5) * 0.2, np.maximum(diff, floor), label=method, marker="os"[k], s=30
        )
    right.axhline(AGREEMENT_TOLERANCE, color="r", ls="--", lw=1, label=f"tolerance {AGREEMENT_TOLERANCE:g}")
    right.set_yscale("log")
    right.set_ylim(floor / 3, 1e-9)
    right.set_xticks(positions, names, rotation=45, ha="right")
    right.set(
        title=f"|engine - matrix chain rule| (points at {floor:g}: exactly 0)", ylabel="absolute difference"
    )
    right.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def run(config: Config, out_dir: Path) -> dict[str, Any]:
    """Compute, print the forward and backward tables, write the figures; return the metrics."""
    from viz.graph import choose_rankdir, draw_graph, save_graph
    from viz.stepper import write_stepper
    from viz.trace import render_table, trace_to_json

    out_dir = Path(out_dir)
    result = compute(config)
    tracer = result["tracer"]
    text = report_text(result)
    print(text, end="")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text(
        out_dir / "tables.txt", text + "\nNode-by-node trace of the scalar engine\n" + render_table(tracer)
    )
    trace = trace_to_json(tracer)
    trace["network"] = "2-2-1, sigmoid, L = 0.5 (y - a2)^2"
    write_json(out_dir / "trace.json", trace)
    _plot_gradients(result["grads"], out_dir / "gradients.png")
    rendered = True
    try:
        title = "Scalar graph of L = 0.5 (y - a2)^2"

        def draw(rankdir: str) -> Any:
            return draw_graph(tracer.root, rankdir, names=tracer.names, title=title)

        # top to bottom: left to right it would be one line too wide to read without scrolling sideways
        save_graph(draw(choose_rankdir(draw, out_dir / "graph.dot")), out_dir / "graph.svg")
        write_stepper(
            tracer,
            out_dir / "backprop.html",
            title="Backprop simulator: the 2-2-1 network's forward and backward pass",
            subtitle=f"x = [{config.x1:g}, {config.x2:g}], y = {config.y:g}, weights from seed {config.seed}",
        )
    except UsageError as e:
        if "dot` was not found" not in str(e):
            raise
        rendered = False  # the tables and the trace are still useful without Graphviz
        print(f"warning: {e}; graph.svg and backprop.html were not written", file=sys.stderr)
    metrics: dict[str, Any] = {
        "a2": result["a2"],
        "loss": result["loss"],
        **{f"dL_d{name}": result["matrix"].grads[name].tolist() for name in PARAMETERS},
        "max_disagreement": result["max_disagreement"],
        "agree_within_1e-12": result["max_disagreement"] <= AGREEMENT_TOLERANCE,
        "trace_steps": len(tracer.steps),
        "graph_rendered": rendered,
    }
    if (config.seed, config.x1, config.x2, config.y) == (0, 0.5, 0.8, 1.0):
        error = published_error(result)
        metrics["published_max_error"] = error
        metrics["matches_published"] = error <= PUBLISHED_TOLERANCE
    return metrics


def main(argv: list[str] | None = None) -> int:
    """``python -m projects.catalog.p07_simulator [--out DIR] [--seed N] [--x1 X] [--x2 X] [--y Y]``."""
    parser = argparse.ArgumentParser(
        prog="python -m projects.catalog.p07_simulator", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, default=Path("runs/07-simulator"), help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    runner.add_config_arguments(parser, Config)
    args = parser.parse_args(argv)
    settings = runner.RunSettings(out=args.out.parent, seed=args.seed, folder=args.out, gallery=False)
    try:
        runner.run_one(find("07"), settings, runner.given_options(args, Config))
    except UsageError as e:
        print(f"p07_simulator: error: {e}", file=sys.stderr)
        return 2
    print(
        f"wrote {args.out}/ (graph.svg, backprop.html, trace.json, tables.txt, gradients.png, metrics.json)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
