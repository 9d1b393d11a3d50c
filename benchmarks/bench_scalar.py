"""Benchmark 1: one full-batch training step of micrograd's demo, on micrograd 0.1.0 and on our scalar engine.

The step (micrograd's demo.ipynb): MLP(2, [16, 16, 1]) with ReLU, 100 two-moons points, forward over every
point, max-margin loss mean(relu(1 - y score)) + 1e-4 * sum(w**2), backward, SGD with lr = 1 - 0.9 k / 100.

Engines (``--engine``):
  micrograd   micrograd 0.1.0 itself;
  ours-plain  our ``Value`` in the same code as micrograd's (neurons as sum(w_i x_i), Python sums): the
              identical graph, node for node;
  ours-dot    our idiomatic network: ``autograd.nn.MLP(engine="scalar")`` (one ``Value.dot`` node per
              neuron), ``Value.sum`` for the losses, ``autograd.optim.SGD``.
All three start from the same weights (micrograd's random init, copied) and print the same losses.

    python benchmarks/bench_scalar.py --engine micrograd --steps 5
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import count_nodes, emit, median, timed_both  # noqa: E402

from projects.datasets.synthetic import two_moons  # noqa: E402

SIZES = [2, 16, 16, 1]


def data() -> tuple[np.ndarray, np.ndarray]:
    X, y = two_moons(100, 0.1, np.random.default_rng(1))
    return X, y * 2 - 1  # labels -1, +1 as in micrograd's demo


def micrograd_weights() -> list[tuple[np.ndarray, np.ndarray]]:
    """micrograd's own initialization (uniform(-1, 1)), as (W (in, out), b (out,)) per layer."""
    from micrograd.nn import MLP

    random.seed(1337)
    model = MLP(SIZES[0], SIZES[1:])
    return [
        (
            np.array([[n.w[i].data for n in layer.neurons] for i in range(len(layer.neurons[0].w))]),
            np.array([n.b.data for n in layer.neurons]),
        )
        for layer in model.layers
    ]


# ---- micrograd's demo code, parameterized by the Value class --------------------------------------------


def plain_mlp(Value, weights):
    """micrograd.nn's MLP as plain lists: layers of neurons (w list, b), ReLU on all but the last layer."""
    return [[([Value(w) for w in W[:, j]], Value(b[j])) for j in range(W.shape[1])] for W, b in weights]


def plain_forward(layers, x):
    for k, layer in enumerate(layers):
        out = []
        for w, b in layer:
            act = sum((wi * xi for wi, xi in zip(w, x)), b)
            out.append(act.relu() if k < len(layers) - 1 else act)
        x = out
    return x[0]


def plain_parameters(layers):
    return [p for layer in layers for w, b in layer for p in [*w, b]]


def make_micrograd_step(weights, X, y):
    from micrograd.engine import Value

    layers = plain_mlp(Value, weights)
    return _make_plain_step(Value, layers, X, y)


def make_ours_plain_step(weights, X, y):
    from autograd import Value

    layers = plain_mlp(Value, weights)
    return _make_plain_step(Value, layers, X, y)


def _make_plain_step(Value, layers, X, y):
    params = plain_parameters(layers)
    state = {"k": 0, "nodes": 0, "loss": 0.0}
    rows = X.tolist()
    labels = y.tolist()

    def step() -> None:
        inputs = [list(map(Value, row)) for row in rows]
        scores = [plain_forward(layers, x) for x in inputs]
        losses = [(1 + -yi * si).relu() for yi, si in zip(labels, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in params)
        total = data_loss + reg_loss
        for p in params:
            p.grad = 0.0
        total.backward()
        lr = 1.0 - 0.9 * state["k"] / 100
        for p in params:
            p.data -= lr * p.grad
        state["k"] += 1
        state["loss"] = total.data
        if not state["nodes"]:
            state["nodes"] = count_nodes(total)

    return step, state


def make_ours_dot_step(weights, X, y):
    from autograd import Value
    from autograd.nn import MLP
    from autograd.optim import SGD

    model = MLP(SIZES, activation="relu", engine="scalar")
    model.load_state_dict(
        {f"net.{2 * i}.{k}": a for i, (W, b) in enumerate(weights) for k, a in (("weight", W), ("bias", b))}
    )
    params = model.parameters()
    opt = SGD(params, lr=1.0)
    state = {"k": 0, "nodes": 0, "loss": 0.0}
    rows, labels = X.tolist(), y.tolist()

    def step() -> None:
        scores = [model(row)[0] for row in rows]
        data_loss = Value.sum([(1 - yi * si).relu() for yi, si in zip(labels, scores)]) * (1.0 / len(rows))
        total = data_loss + 1e-4 * Value.dot(params, params)
        opt.zero_grad()
        total.backward()
        opt.lr = 1.0 - 0.9 * state["k"] / 100
        opt.step()
        state["k"] += 1
        state["loss"] = total.data
        if not state["nodes"]:
            state["nodes"] = count_nodes(total)

    return step, state


ENGINES = {
    "micrograd": make_micrograd_step,
    "ours-plain": make_ours_plain_step,
    "ours-dot": make_ours_dot_step,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=list(ENGINES), required=True)
    parser.add_argument("--steps", type=int, default=5, help="timed steps (the median is reported)")
    args = parser.parse_args()
    X, y = data()
    step, state = ENGINES[args.engine](micrograd_weights(), X, y)
    times, cpu, losses = [], [], []
    for _ in range(args.steps):
        wall, used = timed_both(step)
        times.append(wall)
        cpu.append(used)
        losses.append(state["loss"])
    t = median(times)
    print(
        f"{args.engine}: median step {t * 1e3:.1f} ms over {args.steps}, {state['nodes']} nodes, "
        f"{state['nodes'] / t:,.0f} nodes/s; losses {', '.join(f'{v:.6f}' for v in losses)}"
    )
    emit(
        {
            "engine": args.engine,
            "step_s": t,
            "times": times,
            "cpu": cpu,
            "nodes": state["nodes"],
            "losses": losses,
        }
    )


if __name__ == "__main__":
    main()
