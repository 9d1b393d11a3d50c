"""Names and number formats shared by the graph drawer, the tracer and the stepper.

A node is shown by its ``label`` when it has one. Unlabeled nodes get short names in topological order
(inputs first): the output is ``L`` (the loss), the leaves (inputs, parameters) ``x1, x2, ...`` and the
intermediate results ``t1, t2, ...``, so a graph, a trace table and an HTML frame all call the same node by
the same name, and an equation reads ``dL/dt2 += dL/dt3 · ∂t3/∂t2``. Names never collide with a label
already in the graph.

This module imports NumPy only (no graphviz, no matplotlib).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from autograd.core import Node

ROOT_NAME = "L"


def graph_order(root: Node) -> list[Node]:
    """Every node reachable from ``root``, each after its parents (``root`` last), parents in the order
    the expression reads: for ``x1*w1 + x2*w2`` the order is x1, w1, x1*w1, x2, w2, x2*w2, the sum.

    The display order of graphs, names (``t1`` is the first result computed) and the forward pass. The
    engine's own sort may visit parents in any order; this one is a depth-first search that takes them
    first to last, with an explicit stack (no recursion limit).
    """
    order: list[Node] = []
    visited = {root}
    stack = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in visited:
                visited.add(parent)
                stack.append((parent, iter(parent._parents)))
                break  # descend first; this node's iterator resumes when we come back
        else:
            stack.pop()
            order.append(node)
    return order


def node_names(order: Sequence[Node]) -> dict[int, str]:
    """id(node) -> display name for the nodes of one graph (``order`` topological, root last).

    Labeled nodes keep their label; the unlabeled root is ``L``; other unlabeled leaves are ``x1, x2, ...``
    (tensor constants ``const1, ...``) and unlabeled results ``t1, t2, ...``, each numbered in ``order``.
    Auto names skip any name a label already uses.
    """
    taken = {getattr(n, "label", "") for n in order} - {""}
    names: dict[int, str] = {}
    counters: dict[str, int] = {}

    def fresh(base: str) -> str:
        while True:
            counters[base] = counters.get(base, 0) + 1
            candidate = f"{base}{counters[base]}"
            if candidate not in taken:
                taken.add(candidate)
                return candidate

    for position, node in enumerate(order):
        label = getattr(node, "label", "")
        if label:
            names[id(node)] = label
        elif position == len(order) - 1 and ROOT_NAME not in taken:
            names[id(node)] = ROOT_NAME
            taken.add(ROOT_NAME)
        elif not node._parents and getattr(node, "requires_grad", True) is False:
            names[id(node)] = fresh("const")  # a tensor constant (a number or array lifted into an op)
        elif not node._parents:
            names[id(node)] = fresh("x")
        else:
            names[id(node)] = fresh("t")
    return names


_INFIX = ("+", "-", "*", "/", "**", "@")


def formula(op: str, operands: Sequence[str]) -> str:
    """How a node was computed, in the usual notation: ``t1 * w``, ``t2 ** 2``, ``1 - a2``, ``tanh(t3)``.

    Scalar ops with a constant carry it in the op label: ``* 2`` (constant on the right), ``1 -`` (left).
    """
    head, _, tail = op.partition(" ")
    if op in _INFIX and len(operands) == 2:
        return f"{operands[0]} {op} {operands[1]}"
    if len(operands) == 1 and head in _INFIX and tail:
        return f"{operands[0]} {op}"
    if len(operands) == 1 and tail in _INFIX:
        return f"{op} {operands[0]}"
    if op == "neg" and len(operands) == 1:
        return f"-{operands[0]}"
    return f"{op}({', '.join(operands)})"


def is_scalar_node(node: Any) -> bool:
    """True for a scalar ``Value`` (its data is a Python float), False for a ``Tensor``."""
    return isinstance(getattr(node, "data", None), float)


def format_number(x: float, digits: int = 4) -> str:
    """A float in ``digits`` significant digits (``-0.0708``, ``1.2e-05``, ``nan``)."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    return f"{x:.{digits}g}"


def format_array(a: Any, digits: int = 4, max_elements: int = 12) -> str:
    """A small array in full (``[[0.5, -1.2]]``), a large one as shape and summary statistics."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return format_number(float(a), digits)
    if a.size <= max_elements:
        return np.array2string(
            a,
            separator=", ",
            formatter={"float_kind": lambda v: format_number(v, digits)},
            max_line_width=200,
        ).replace("\n", "")
    norm, mean, largest = (
        format_number(float(v), digits) for v in (np.linalg.norm(a), a.mean(), np.abs(a).max())
    )
    return f"<{shape_text(a.shape)}: norm {norm}, mean {mean}, max abs {largest}>"


def format_value(x: Any, digits: int = 4, max_elements: int = 12) -> str:
    """A number or an array, whichever ``x`` is (``None`` prints as a dash; see :func:`format_array`)."""
    if x is None:
        return "-"
    if isinstance(x, (float, int)):
        return format_number(x, digits)
    return format_array(x, digits, max_elements)


def shape_text(shape: Sequence[int]) -> str:
    """``(2, 3)`` as ``2x3``; a 0-d shape as ``scalar``."""
    return "x".join(str(n) for n in shape) if len(shape) else "scalar"


def gradient_summary(grad: Any, digits: int = 3) -> str:
    """``|g|=... mean=... max|g|=...``: the norm, mean and largest magnitude of a gradient array."""
    g = np.asarray(grad, dtype=np.float64)
    return (
        f"|g|={format_number(float(np.linalg.norm(g)), digits)} "
        f"mean={format_number(float(g.mean()), digits)} "
        f"max|g|={format_number(float(np.abs(g).max()), digits)}"
    )


def magnitude(grad: Any) -> float | None:
    """The size of a gradient as one number: |g| for a scalar, the root-mean-square for an array.

    ``None`` when there is no gradient. (RMS, not the norm, so a big tensor is not brighter for its size.)
    """
    if grad is None:
        return None
    if isinstance(grad, (float, int)):
        return abs(float(grad))
    g = np.asarray(grad, dtype=np.float64)
    return float(np.sqrt(np.mean(g * g))) if g.size else None


def to_jsonable(x: Any, max_elements: int = 10_000) -> Any:
    """A number or array as plain JSON: lists of floats, non-finite numbers as the strings "nan"/"inf".

    Arrays above ``max_elements`` become ``{"shape", "norm", "mean", "max_abs"}`` instead of their values.
    """
    if x is None:
        return None
    if isinstance(x, (float, int, np.floating, np.integer)):
        x = float(x)
        return x if math.isfinite(x) else repr(x)
    a = np.asarray(x, dtype=np.float64)
    if a.size > max_elements:
        return {
            "shape": list(a.shape),
            "norm": to_jsonable(float(np.linalg.norm(a))),
            "mean": to_jsonable(float(a.mean())),
            "max_abs": to_jsonable(float(np.abs(a).max())),
        }
    if np.all(np.isfinite(a)):
        return a.tolist()
    return np.vectorize(lambda v: v if math.isfinite(v) else repr(float(v)), otypes=[object])(a).tolist()
