"""The tracer's formulas: every scalar op's local derivative in names, in numbers and as a value (the numbers
evaluate to the engine's own derivative), the notation of a step, the forward pass, and every tensor op's
vector-Jacobian product with its shapes."""

from __future__ import annotations

import json
import math
import re
from typing import Callable

import numpy as np
import pytest

from autograd import Tensor, Value, ops
from autograd.scalar import evaluate_arithmetic
from autograd.tensor import (
    binary_cross_entropy_with_logits,
    concat,
    cross_entropy,
    huber_loss,
    mae_loss,
    mse_loss,
    stack,
)
from viz.expr import build
from viz.formulas import tidy
from viz.naming import graph_order
from viz.trace import step_equations, trace_backward, trace_to_json

# ---- every scalar op, on random inputs from its domain ------------------------------------------------

Case = Callable[[np.random.Generator], Value]


def _v(rng: np.random.Generator, low: float = -3.0, high: float = 3.0, label: str = "") -> Value:
    return Value(float(rng.uniform(low, high)), label=label)


def _nonzero(rng: np.random.Generator) -> Value:
    return Value(float(rng.choice([-1, 1]) * rng.uniform(0.2, 3.0)))


SCALAR_OPS: dict[str, Case] = {
    "x + y": lambda r: _v(r) + _v(r),
    "x + c": lambda r: _v(r) + float(r.uniform(-3, 3)),
    "c + x": lambda r: float(r.uniform(-3, 3)) + _v(r),
    "x - y": lambda r: _v(r) - _v(r),
    "x - c": lambda r: _v(r) - float(r.uniform(-3, 3)),
    "c - x": lambda r: float(r.uniform(-3, 3)) - _v(r),
    "x * y": lambda r: _v(r) * _v(r),
    "x * c": lambda r: _v(r) * float(r.uniform(-3, 3)),
    "c * x": lambda r: float(r.uniform(-3, 3)) * _v(r),
    "x / y": lambda r: _v(r) / _nonzero(r),
    "x / c": lambda r: _v(r) / float(r.uniform(0.5, 3)),
    "c / x": lambda r: float(r.uniform(-3, 3)) / _nonzero(r),
    "-x": lambda r: -_v(r),
    "x ** y": lambda r: _v(r, 0.2, 3) ** _v(r),
    "x ** n": lambda r: _v(r) ** int(r.integers(-3, 5)),
    "x ** c": lambda r: _v(r, 0.2, 3) ** float(r.uniform(-2, 3)),
    "c ** x": lambda r: float(r.uniform(0.2, 3)) ** _v(r),
    "exp": lambda r: _v(r).exp(),
    "log": lambda r: _v(r, 0.1, 5).log(),
    "sqrt": lambda r: _v(r, 0.1, 5).sqrt(),
    "abs": lambda r: _nonzero(r).abs(),
    "tanh": lambda r: _v(r).tanh(),
    "sigmoid": lambda r: _v(r, -6, 6).sigmoid(),
    "relu": lambda r: _nonzero(r).relu(),
    "leaky_relu": lambda r: _nonzero(r).leaky_relu(float(r.uniform(0.01, 0.3))),
    "elu": lambda r: _nonzero(r).elu(float(r.uniform(0.5, 2))),
    "silu": lambda r: _v(r).silu(),
    "softplus": lambda r: _v(r).softplus(),
    "sum": lambda r: Value.sum([_v(r), _v(r), float(r.uniform(-1, 1)), _v(r)]),
    "dot": lambda r: Value.dot([_v(r), _v(r), _v(r)], [_v(r), 0.5, _v(r)], _v(r)),
}


def _close(text: str, value: float) -> bool:
    return abs(evaluate_arithmetic(text) - value) <= 1e-9 * max(1.0, abs(value))


@pytest.mark.parametrize("name", SCALAR_OPS)
def test_each_substituted_local_derivative_evaluates_to_the_engines(name: str) -> None:
    rng = np.random.default_rng(sum(map(ord, name)))
    for _ in range(25):
        node = SCALAR_OPS[name](rng)
        tracer = trace_backward(node)
        data = json.loads(json.dumps(trace_to_json(tracer), allow_nan=False))
        (step,) = data["steps"]
        assert len(step["parents"]) == len(node._parents) >= 1
        for entry, local in zip(step["parents"], node._local_derivatives()):
            assert entry["local_derivative"] == pytest.approx(local, rel=1e-15, abs=0)
            assert entry["formula"] and entry["substituted"], entry
            assert _close(entry["substituted"], local), (name, entry)
            assert re.fullmatch(r"[-+*/() .\deE]+", entry["substituted"])  # plain arithmetic on numbers
            assert {"name", "contribution", "running"} <= entry.keys()


def test_local_derivatives_of_a_deep_expression_all_evaluate() -> None:
    x = build(
        "tanh(sigmoid(a*b - c) / (1 + exp(-a))) * softplus(b)**2 + sqrt(abs(c) + 1) - log(a*a + 1)",
        ["a=0.7", "b=-1.3", "c=2.1"],
    )
    data = trace_to_json(trace_backward(x))
    for step in data["steps"]:
        for entry in step["parents"]:
            assert _close(entry["substituted"], entry["local_derivative"]), entry


def test_arithmetic_forward_formulas_evaluate_to_the_data() -> None:
    data = trace_to_json(trace_backward(build("(a*b + c)**2 / 2 - 3 / a", ["a=1.5", "b=-2", "c=0.5"])))
    computed = [e["name"] for e in data["forward"]]
    nodes = [n["name"] for n in data["nodes"] if not n["leaf"]]
    assert computed == nodes  # one entry per non-leaf node, in topological order
    for entry in data["forward"]:
        assert {"name", "formula", "substituted", "data"} <= entry.keys()
        assert _close(entry["substituted"], entry["data"]), entry


# ---- the notation -----------------------------------------------------------------------------------


def test_the_issues_example_reads_as_formula_numbers_value() -> None:
    tracer = trace_backward(build("(a*b + c)**2 / 2", ["a=1.5", "b=-2", "c=0.5"]))
    square = next(s for s in tracer.steps if s.op == "** 2")
    assert step_equations(tracer, square) == [
        "dL/dt2 += dL/dt3 · ∂t3/∂t2 = 0.5 · (2 * t2 = 2 * (-2.5) = -5) = -2.5   (dL/dt2 so far: -2.5)"
    ]
    data = trace_to_json(tracer)
    assert data["seed"]["equation"] == "dL/dL = 1"
    assert data["forward"][0]["equation"] == "t1 = a * b = 1.5 * (-2) = -3"
    first = data["steps"][0]
    assert first["equations"] == ["dL/dt3 += dL/dL · ∂L/∂t3 = 1 · (1 / 2 = 0.5) = 0.5   (dL/dt3 so far: 0.5)"]


def test_the_tanh_edge_of_micrograds_neuron_shows_its_formula() -> None:
    tracer = trace_backward(
        build("tanh(x1*w1 + x2*w2 + b)", ["x1=2", "w1=-3", "x2=0", "w2=1", "b=6.8813735870195432"])
    )
    (line,) = step_equations(tracer, tracer.steps[0])
    assert (
        line == "dL/dt4 += dL/dL · ∂L/∂t4 = 1 · (1 - L**2 = 1 - 0.7071**2 = 0.5) = 0.5   (dL/dt4 so far: 0.5)"
    )
    grads = {n["name"]: n["grad"] for n in trace_to_json(tracer)["nodes"]}
    assert grads["x1"] == pytest.approx(-1.5) and grads["w1"] == pytest.approx(1.0)
    assert grads["x2"] == pytest.approx(0.5) and grads["w2"] == pytest.approx(0.0)


def test_no_line_uses_one_notation_for_a_gradient_and_a_local_derivative() -> None:
    tracer = trace_backward(build("(a*b + c)**2 / 2", ["a=1.5", "b=-2", "c=0.5"]))
    for step in tracer.steps:
        for line in step_equations(tracer, step):
            gradients = re.findall(r"dL/d(\w+)", line)
            partials = re.findall(r"∂(\w+)/∂(\w+)", line)
            assert partials and all(z != "L" or p not in ("L",) for z, p in partials)
            # the factor after the upstream gradient is a partial derivative, never dL/d...
            assert re.match(r"^dL/d\w+ \+= dL/d\w+ · ∂\w+/∂\w+ = ", line), line
            assert gradients[0] == gradients[-1]  # the gradient it adds to, named again in "so far"


def test_tidy_works_out_constants_only() -> None:
    assert tidy("2 * t2 ** (2 - 1)") == "2 * t2"
    assert tidy("3 * (-2.5) ** (3 - 1)") == "3 * (-2.5) ** 2"
    assert tidy("0.5 * x ** (0.5 - 1)") == "0.5 * x ** (-0.5)"
    assert tidy("tanh(2 - 1)") == "tanh(2 - 1)" and tidy("x ** 10") == "x ** 10"


def test_an_op_without_a_formula_still_traces_with_its_value() -> None:
    x = Value(1.5, label="x")
    y = Value(x.data**3, (x,), (3 * x.data**2,), "cube")
    loss = y * 2
    tracer = trace_backward(loss)
    data = trace_to_json(tracer)
    cube = next(s for s in data["steps"] if s["node"] == tracer.name(y))
    (entry,) = cube["parents"]
    assert entry["local_derivative"] == pytest.approx(6.75)
    assert entry["formula"] is None and entry["substituted"] is None
    assert cube["equations"][0].startswith(
        f"dL/dx += dL/d{tracer.name(y)} · ∂{tracer.name(y)}/∂x = 2 · 6.75 = 13.5"
    )
    assert data["forward"][0]["formula"] == "cube(x)"


def test_unlabelled_leaves_and_results_are_named_apart() -> None:
    a, b = Value(2.0), Value(3.0)
    loss = (a * b + a).tanh()
    tracer = trace_backward(loss)
    assert [tracer.name(n) for n in graph_order(loss)] == ["x1", "x2", "t1", "t2", "L"]


# ---- every tensor op: a VJP formula and its shapes ---------------------------------------------------

FIELD = re.compile(r"\{(\w*)\}")
ALLOWED_FIELDS = {"g", "out", "i", "all"}


def _op_classes() -> list[type]:
    found, todo = [], [ops.Op]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in found and sub.__module__.startswith("autograd"):  # the engine's ops, not tests' own
                found.append(sub)
                todo.append(sub)
    return found


def test_every_tensor_op_states_its_forward_and_vjp_formulas() -> None:
    classes = _op_classes()
    assert len(classes) >= 35
    for cls in classes:
        if cls.__name__.startswith("_"):  # a private base class of several ops (each states its own)
            continue
        # Op's own defaults are "" and (): each op states its formulas (or inherits a sibling op's)
        assert isinstance(cls.forward_formula, str) and cls.forward_formula, cls.__name__
        assert isinstance(cls.vjp_formulas, tuple) and cls.vjp_formulas, cls.__name__
        for template in (cls.forward_formula, *cls.vjp_formulas):
            assert isinstance(template, str) and template
            fields = set(FIELD.findall(template))
            assert all(f.isdigit() or f in ALLOWED_FIELDS for f in fields), (cls.__name__, template)


def _t(rng: np.random.Generator, *shape: int, positive: bool = False, grad: bool = True) -> Tensor:
    data = rng.uniform(0.2, 2.0, size=shape) if positive else rng.normal(size=shape)
    return Tensor(data, requires_grad=grad, dtype=np.float64)


TENSOR_OPS: dict[str, Callable[[np.random.Generator], Tensor]] = {
    "add (broadcast)": lambda r: (_t(r, 4, 2) + _t(r, 2)).sum(),
    "sub": lambda r: (_t(r, 3) - _t(r, 3)).sum(),
    "mul": lambda r: (_t(r, 2, 3) * _t(r, 2, 3)).sum(),
    "div": lambda r: (_t(r, 3) / _t(r, 3, positive=True)).sum(),
    "neg": lambda r: (-_t(r, 3)).sum(),
    "pow": lambda r: (_t(r, 3, positive=True) ** _t(r, 3)).sum(),
    "matmul": lambda r: (_t(r, 4, 3) @ _t(r, 3, 2)).sum(),
    "mean": lambda r: _t(r, 2, 3).mean(axis=0).sum(),
    "max": lambda r: _t(r, 2, 3).max(axis=1).sum(),
    "min": lambda r: _t(r, 2, 3).min().sum(),
    "reshape": lambda r: _t(r, 2, 3).reshape(3, 2).sum(),
    "transpose": lambda r: _t(r, 2, 3).T.sum(),
    "getitem": lambda r: _t(r, 4, 2)[1:3].sum(),
    "concat": lambda r: concat([_t(r, 2), _t(r, 3)]).sum(),
    "stack": lambda r: stack([_t(r, 2), _t(r, 2)]).sum(),
    "exp": lambda r: _t(r, 3).exp().sum(),
    "log": lambda r: _t(r, 3, positive=True).log().sum(),
    "sqrt": lambda r: _t(r, 3, positive=True).sqrt().sum(),
    "abs": lambda r: _t(r, 3).abs().sum(),
    "tanh": lambda r: _t(r, 3).tanh().sum(),
    "sigmoid": lambda r: _t(r, 3).sigmoid().sum(),
    "relu": lambda r: _t(r, 3).relu().sum(),
    "leaky_relu": lambda r: _t(r, 3).leaky_relu(0.1).sum(),
    "elu": lambda r: _t(r, 3).elu().sum(),
    "silu": lambda r: _t(r, 3).silu().sum(),
    "softplus": lambda r: _t(r, 3).softplus().sum(),
    "softmax": lambda r: (_t(r, 2, 3).softmax() * _t(r, 2, 3, grad=False)).sum(),
    "log_softmax": lambda r: _t(r, 2, 3).log_softmax().sum(),
    "dropout": lambda r: _t(r, 3).dropout(0.5, np.random.default_rng(0)).sum(),
    "cross_entropy": lambda r: cross_entropy(_t(r, 4, 3), [0, 2, 1, 1]),
    "bce_with_logits": lambda r: binary_cross_entropy_with_logits(
        _t(r, 3), Tensor(np.ones(3), dtype=np.float64)
    ),
    "mse": lambda r: mse_loss(_t(r, 3), _t(r, 3)),
    "mae": lambda r: mae_loss(_t(r, 3), _t(r, 3)),
    "huber": lambda r: huber_loss(_t(r, 3), _t(r, 3)),
}


def _shapes(text: str) -> list[tuple[int, ...]]:
    return [tuple(int(n) for n in m.split(",") if n.strip()) for m in re.findall(r"\(([\d, ]*)\)", text)]


@pytest.mark.parametrize("name", TENSOR_OPS)
def test_every_tensor_step_shows_its_vjp_formula_and_shapes(name: str) -> None:
    loss = TENSOR_OPS[name](np.random.default_rng(0))
    tracer = trace_backward(loss)
    data = json.loads(json.dumps(trace_to_json(tracer), allow_nan=False))
    assert data["engine"] == "tensor"
    for step, traced in zip(data["steps"], tracer.steps):
        op = traced.node._fn
        assert len(op.vjp_formulas) == len(traced.parents) or op in (ops.Concat, ops.Stack)  # one per input
        for entry, contribution in zip(step["parents"], traced.contributions):
            if contribution is None:
                continue
            assert entry["formula"] and "(vjp)" not in entry["formula"], (name, entry)
            assert "dL/d" + step["node"] in entry["formula"]  # the upstream gradient, in the trace's names
            assert _shapes(entry["shapes"])[0] == np.shape(contribution), (name, entry["shapes"])
        for line in step["equations"]:
            assert "vector-Jacobian product" not in line or "not needed" in line, line
    for entry in data["forward"]:
        assert entry["shapes"] and entry["formula"]


def test_a_matmul_step_reads_like_the_issue() -> None:
    rng = np.random.default_rng(0)
    X = Tensor(rng.normal(size=(4, 3)), requires_grad=True, dtype=np.float64, label="X")
    W = Tensor(rng.normal(size=(3, 2)), requires_grad=True, dtype=np.float64, label="W")
    Z = X @ W
    Z.label = "Z"
    tracer = trace_backward((Z * Z).sum())
    step = next(s for s in tracer.steps if s.op == "@")
    lines = step_equations(tracer, step)
    assert lines[0].startswith("dL/dX += dL/dZ @ Wᵀ: (4, 3) = (4, 2) @ (2, 3) = ")
    assert lines[1].startswith("dL/dW += Xᵀ @ dL/dZ: (3, 2) = (3, 4) @ (4, 2) = ")
    entry = next(s for s in trace_to_json(tracer)["steps"] if s["op"] == "@")["parents"][0]
    assert entry["formula"] == "dL/dZ @ Wᵀ" and entry["shapes"] == "(4, 3) = (4, 2) @ (2, 3)"
    assert entry["substituted"] is None  # 8 and 6 numbers: too many to show inline


def test_small_tensor_steps_show_their_numbers_and_broadcasting() -> None:
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, dtype=np.float64, label="x")
    b = Tensor([0.5, -0.5], requires_grad=True, dtype=np.float64, label="b")
    y = x * b
    y.label = "y"
    tracer = trace_backward(y.sum())
    step = next(s for s in tracer.steps if s.op == "*")
    lines = step_equations(tracer, step)
    assert lines[0].startswith(
        "dL/dx += dL/dy * b: (2, 2) = (2, 2) * (2,); [[1, 1], [1, 1]] * [0.5, -0.5] = "
    )
    assert lines[1].startswith("dL/db += unbroadcast(dL/dy * x): (2,) = unbroadcast((2, 2) * (2, 2))")
    assert math.isclose(float(np.sum(b.grad)), 10.0)
