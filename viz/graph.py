"""Computation graphs as Graphviz drawings: values, operations, local derivatives and gradient colours.

``draw_graph(root)`` returns a ``graphviz.Digraph`` of everything ``root`` was computed from; it displays
inline in Jupyter, and :func:`save_graph` writes it to ``.svg``, ``.png``, ``.pdf`` or ``.dot`` in one call.

What a drawing shows
--------------------
* A **value** is a box: its name (label, or an automatic ``t1, t2, ...``; the root is ``L``), its data
  and its gradient. A **tensor** box shows name, shape, dtype and a gradient summary (norm, mean, max|g|).
* An **operation** is an ellipse between its inputs and its result, so ``z = x * w`` reads
  ``x -> (*) -> z <- w``.
* Each edge into an operation of a scalar graph carries the **local derivative** d(out)/d(in) at that
  point, e.g. ``dz/dx = w.data`` for ``z = x * w``: the factor the chain rule multiplies by,
  ``dL/dx = dL/dz * dz/dx``.
* A box's colour encodes |grad| on a logarithmic viridis scale (dark = small, yellow = large; grey: zero
  or no gradient). A legend gives the scale. For a tensor, |grad| is the root-mean-square of its gradient.

Large graphs
------------
Past ``max_nodes`` nodes the drawing is a summary: nodes with the same operation at the same depth (the
longest path from a leaf, which for an MLP is its layer structure) become one box ``tanh x16``, parameters
are grouped by the names in ``groups`` (see :func:`parameter_groups`), and a note says how many nodes and
edges were merged and what detail was left out.

Colours are computed here from a hard-coded palette (no matplotlib).
"""

from __future__ import annotations

import html
import math
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import graphviz

from autograd.core import Node
from autograd.errors import UsageError
from autograd.files import write_bytes, write_text
from viz.naming import (
    format_number,
    format_value,
    formula,
    gradient_summary,
    graph_order,
    is_scalar_node,
    magnitude,
    node_names,
    shape_text,
)

DEFAULT_MAX_NODES = 150
FONT = "Helvetica"

# viridis at 9 evenly spaced stops: perceptually ordered from dark purple (small) to yellow (large)
VIRIDIS = (
    "#440154",
    "#472d7b",
    "#3b528b",
    "#2c728e",
    "#21918c",
    "#28ae80",
    "#5ec962",
    "#addc30",
    "#fde725",
)
NO_GRAD_FILL = "#e8e8e8"  # zero gradient, or none (a constant, a node the gradient never reached)
NOT_FINITE_FILL = "#ff7f50"  # nan or infinite gradient
PENDING_FILL = "#f7f7f7"  # trace frames: a node whose gradient is not complete yet
CURRENT_COLOR = "#d62728"  # trace frames: the node being processed and its outgoing contributions
OP_FILL = "#fff4d6"
EDGE_COLOR = "#555555"

INSTALL_HINT = "install it (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)"
FORMATS: dict[str, str | None] = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": None, ".gv": None}


# --------------------------------------------------------------------------------------------------------
# Colour scale
# --------------------------------------------------------------------------------------------------------


def _hex_to_rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def palette_color(t: float) -> str:
    """The viridis colour at position t in [0, 1], interpolated linearly between the stops."""
    t = min(max(t, 0.0), 1.0) * (len(VIRIDIS) - 1)
    i = min(int(t), len(VIRIDIS) - 2)
    frac = t - i
    a, b = _hex_to_rgb(VIRIDIS[i]), _hex_to_rgb(VIRIDIS[i + 1])
    return "#" + "".join(f"{round(x + (y - x) * frac):02x}" for x, y in zip(a, b))


def text_color(fill: str) -> str:
    """Black or white, whichever reads better on ``fill`` (relative luminance above or below 0.4)."""
    r, g, b = (c / 255 for c in _hex_to_rgb(fill))
    return "#000000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.4 else "#ffffff"


@dataclass(frozen=True)
class ColorScale:
    """|grad| -> colour: position = (log10|grad| - low) / (high - low) along the viridis palette.

    ``low`` and ``high`` are decades (log10 of the smallest and largest nonzero |grad| in the graph).
    """

    low: float
    high: float

    @classmethod
    def from_magnitudes(cls, magnitudes: Iterable[float | None]) -> ColorScale:
        logs = [math.log10(m) for m in magnitudes if m is not None and m > 0 and math.isfinite(m)]
        if not logs:
            return cls(-1.0, 1.0)
        low, high = min(logs), max(logs)
        if high - low < 1e-9:  # one magnitude only: centre it on the scale
            low, high = low - 0.5, high + 0.5
        return cls(low, high)

    def position(self, m: float) -> float:
        return (math.log10(m) - self.low) / (self.high - self.low)

    def fill(self, m: float | None) -> str:
        """The fill colour for a gradient of size ``m`` (None or 0: grey; nan/inf: coral)."""
        if m is None or m == 0:
            return NO_GRAD_FILL
        if not math.isfinite(m):
            return NOT_FINITE_FILL
        return palette_color(self.position(m))

    def ticks(self, count: int = 5) -> list[tuple[float, str]]:
        """``count`` (|grad|, colour) pairs evenly spaced in log10 from ``low`` to ``high``."""
        return [
            (10 ** (self.low + (self.high - self.low) * k / (count - 1)), palette_color(k / (count - 1)))
            for k in range(count)
        ]


# --------------------------------------------------------------------------------------------------------
# Trace frames: which node is being processed, which are finished
# --------------------------------------------------------------------------------------------------------


@dataclass
class FrameState:
    """The state of a pass at one step, for drawing a trace frame.

    Backward frames (``forward=False``): ``grads`` maps id(node) to the gradient accumulated so far
    (absent: none yet); ``done`` holds the ids of nodes whose gradient is complete; ``current`` is the
    node whose chain rule is being applied and ``contributions`` what it adds to each of its parents (one
    entry per parent, None where none); ``vjps`` (tensors) the formula of each contribution.
    Forward frames (``forward=True``): ``done`` holds the ids of the nodes computed so far (leaves
    included), ``current`` the node computed at this step; no gradient is drawn.
    """

    current: int | None
    done: set[int] = field(default_factory=set)
    grads: Mapping[int, Any] = field(default_factory=dict)
    contributions: Sequence[Any] = ()
    forward: bool = False
    vjps: Sequence[str | None] = ()


# --------------------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------------------

NO_GRADIENTS_NOTE = "no gradients yet: call backward()"
FORWARD_FILL = "#ffffff"  # forward frames: a computed value (no gradient to colour it by yet)
LABEL_WIDTH = 20  # characters per line of an edge label before it wraps at an " = "


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def _node_grad(node: Node, frame: FrameState | None) -> Any:
    if frame is not None:
        return frame.grads.get(id(node))
    grad = node.grad
    if is_scalar_node(node):
        return float(grad)
    return grad


def has_gradients(order: Sequence[Node]) -> bool:
    """True once a backward pass has reached the graph: some node holds a gradient (a Value's is 0.0 and a
    Tensor's None before any backward pass; the output's is the nonzero seed after one)."""
    for node in order:
        grad = node.grad
        if grad is None:
            continue
        if not is_scalar_node(node) or grad != 0:
            return True
    return False


def _table(rows: Sequence[Sequence[str]], padding: int = 2) -> str:
    """An HTML-like label: one row per entry of ``rows``, each a list of cells (already escaped)."""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="{padding}">{body}</table>>'


def _value_label(name: str, node: Node, grad: Any, grad_text: str | None, compact: bool = False) -> str:
    """A value box: its name over its data (and its gradient, unless ``grad_text`` is None).

    ``grad_text`` is what to say about the gradient; "" means the gradient itself (a scalar's number, a
    tensor's summary). ``compact``: the name and the data share the first line, ``W1[0,0] = 1.764``.
    """
    if is_scalar_node(node):
        data = f"data {format_number(node.data)}"
    else:
        array = node.data
        data = f"{shape_text(array.shape)} {array.dtype}"
        if array.size == 1:
            data += f" = {format_number(float(array.reshape(())))}"
    if compact and is_scalar_node(node):
        rows = [[f"<b>{_esc(name)}</b>&#160;= {_esc(format_number(node.data))}"]]
    else:
        rows = [[f"<b>{_esc(name)}</b>"], [_esc(data)]]
    if grad_text is not None:
        if grad_text == "":
            if is_scalar_node(node):
                grad_text = f"grad {format_number(grad)}"
            elif grad is None:
                grad_text = "no grad" if not getattr(node, "requires_grad", False) else "grad none"
            else:
                grad_text = gradient_summary(grad)
        rows.append([_esc(grad_text)])
    return _table(rows, 1 if compact else 2)


def _wrap_equation(text: str, width: int = LABEL_WIDTH) -> list[str]:
    """Break ``a = b = c`` before an `` = `` wherever a line would pass ``width`` characters."""
    parts = text.split(" = ")
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + 3 + len(part) > width:
            lines.append("= " + part)
        else:
            lines[-1] += " = " + part
    return lines


def local_derivative_label(out_name: str, in_name: str, chain: str) -> str:
    """``∂t1/∂x = w = -3``: the partial derivative of the op's result with respect to one input."""
    return f"∂{out_name}/∂{in_name} = {chain}"


def draw_graph(
    root: Node,
    rankdir: str = "LR",
    *,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    groups: Mapping[int, str] | None = None,
    names: Mapping[int, str] | None = None,
    title: str | None = None,
    edge_labels: bool = True,
    legend: bool = True,
    frame: FrameState | None = None,
    scale: ColorScale | None = None,
    compact: bool = False,
) -> graphviz.Digraph:
    """The computation graph of ``root`` (a ``Value`` or a ``Tensor``) as a ``graphviz.Digraph``.

    ``rankdir``: ``LR`` (inputs on the left) or ``TB``, ``RL``, ``BT`` (see :func:`choose_rankdir` to let
    the drawing's size decide). ``max_nodes``: past this many nodes draw a summary (None: always draw every
    node). ``groups``: id(node) -> group name used by the summary (e.g. :func:`parameter_groups`).
    ``names``: id(node) -> display name (default: labels, then automatic names, see :mod:`viz.naming`).
    ``frame``: draw one step of a forward or backward trace (the current node highlighted; backward:
    running gradients, finished nodes solid, pending ones dashed). ``scale``: a fixed colour scale (frames
    of one trace share one). Before any backward pass the drawing says so (``no gradients yet: call
    backward()``) and has no colour legend. ``compact``: the stepper's style for graphs that would not fit
    its window otherwise: a box reads ``W1[0,0] = 1.764`` over its gradient, an edge carries only the
    value of its local derivative (the stepper's text gives the formula), each operation sits beside its
    result instead of on a rank of its own, and ranks are closer together.
    """
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be LR, TB, RL or BT, got {rankdir!r}")
    order = graph_order(root)
    names = dict(names) if names is not None else node_names(order)
    gradients = frame is not None and not frame.forward or frame is None and has_gradients(order)
    grads = {id(n): _node_grad(n, frame) if gradients else None for n in order}
    if scale is None:
        scale = ColorScale.from_magnitudes(magnitude(g) for g in grads.values())
    graph = graphviz.Digraph(
        name="computation_graph",
        graph_attr={
            "rankdir": rankdir,
            "fontname": FONT,
            "nodesep": "0.15" if compact else "0.2",
            "ranksep": "0.2" if compact else "0.3",
        },
        node_attr={"fontname": FONT, "fontsize": "12"},
        edge_attr={"fontname": FONT, "fontsize": "11", "color": EDGE_COLOR, "arrowsize": "0.6"},
    )
    heading = [f"<b>{_esc(title)}</b>"] if title else []
    if frame is None and not gradients:
        heading.append(_esc(NO_GRADIENTS_NOTE))
    tangled = layout_cost(order) > MAX_LAYOUT_COST
    summarized = max_nodes is not None and (len(order) > max_nodes or tangled)
    if summarized:
        assert max_nodes is not None
        # fewer boxes until the summary itself is easy to lay out: merging nodes of many depths (the
        # products of a long sum x0*x0 + x1*x1 + ...) can tangle a summary of a graph that was not
        limit = max_nodes
        while limit > 2 and layout_cost(order, _group_keys(order, groups or {}, limit)[0]) > MAX_LAYOUT_COST:
            limit //= 2
        why = (
            f"exceed max_nodes={max_nodes}" if len(order) > max_nodes else "have long edges (slow to lay out)"
        )
        _draw_summary(graph, order, names, grads, scale, groups or {}, limit, gradients, why)
    else:
        _draw_full(graph, order, names, grads, scale, edge_labels, frame, gradients, compact)
    if legend and gradients:  # above the drawing, as the graph's label: it takes no place in the layout
        heading.append(legend_table(scale, is_scalar_node(root), frame is not None, summarized))
    if heading:
        rows = "".join(f"<tr><td>{h}</td></tr>" for h in heading)
        graph.attr(label=f'<<table border="0" cellspacing="4">{rows}</table>>', labelloc="t", fontsize="14")
    return graph


def dot_id(position: int) -> str:
    """The DOT id of the value node at ``position`` in topological order (its op node adds ``_op``)."""
    return f"n{position}"


def _box_style(
    key: int, grad: Any, scale: ColorScale, frame: FrameState | None, gradients: bool
) -> tuple[dict[str, str], str | None]:
    """The box attributes of one value node and what its label says about the gradient (see _value_label)."""
    current = frame is not None and frame.current == key
    pending = frame is not None and not current and key not in frame.done
    if frame is not None and frame.forward:
        fill, grad_text = (PENDING_FILL if pending else FORWARD_FILL), None
    elif pending:
        fill = PENDING_FILL
        if grad is None:
            grad_text = "grad ..."
        elif isinstance(grad, (int, float)):
            grad_text = f"grad so far {format_number(grad)}"
        else:
            grad_text = f"so far {gradient_summary(grad)}"
    elif gradients:
        fill, grad_text = scale.fill(magnitude(grad)), ""
    else:
        fill, grad_text = FORWARD_FILL, None
    attrs = {
        "shape": "box",
        "style": "filled,rounded,dashed" if pending else "filled,rounded",
        "fillcolor": fill,
        "fontcolor": text_color(fill),
        "color": CURRENT_COLOR if current else "#333333",
        "penwidth": "3" if current else "1",
    }
    return attrs, grad_text


def _draw_full(
    graph: graphviz.Digraph,
    order: Sequence[Node],
    names: Mapping[int, str],
    grads: Mapping[int, Any],
    scale: ColorScale,
    edge_labels: bool,
    frame: FrameState | None,
    gradients: bool,
    compact: bool = False,
) -> None:
    from viz.formulas import local_text, scalar_locals

    index = {id(n): k for k, n in enumerate(order)}
    forward = frame is not None and frame.forward
    for k, node in enumerate(order):
        key = id(node)
        grad = grads[key]
        current = frame is not None and frame.current == key
        attrs, grad_text = _box_style(key, grad, scale, frame, gradients)
        label = _value_label(names[key], node, grad, grad_text, compact)
        if forward and key not in frame.done and not current:  # type: ignore[union-attr]
            name = f"<b>{_esc(names[key])}</b>"
            label = _table([[f"{name}&#160;= ?"]], 1) if compact else _table([[name], ["data ?"]])
        if compact:
            attrs["margin"] = "0.08,0.03"
        graph.node(dot_id(k), label, **attrs)
        parents = node._parents
        if not parents:
            continue
        op_id = f"{dot_id(k)}_op"
        # red: the operation computing the node (forward) or passing its gradient back (backward; the
        # seed's frame passes nothing yet), and its edges
        active = current and frame is not None and (forward or len(frame.contributions) > 0)
        graph.node(
            op_id,
            f"<{_esc(node._op or '?')}>",
            shape="ellipse",
            style="filled",
            fillcolor=OP_FILL,
            color=CURRENT_COLOR if active else "#8a7a50",
            penwidth="2.5" if active else "1",
            fontsize="12",
            height="0.3",
            margin="0.05,0.02",
        )
        graph.edge(op_id, dot_id(k), color=CURRENT_COLOR if active else EDGE_COLOR)
        if compact:  # the operation beside its result, not a rank of its own: a drawing less deep
            with graph.subgraph() as beside:
                beside.attr(rank="same")
                beside.node(op_id)
                beside.node(dot_id(k))
        show_locals = edge_labels and is_scalar_node(node)
        locals_ = scalar_locals(node, names) if show_locals else None
        values = node._local_derivatives() if show_locals else None
        # a forward frame shows a local derivative in numbers once its node is computed, before as a formula
        computed = not forward or current or key in frame.done  # type: ignore[union-attr]
        for i, parent in enumerate(parents):
            lines = []
            if compact and values is not None and i < len(values):
                if computed:  # the value only: its formula is in the stepper's text beside the drawing
                    lines.append(format_number(values[i]))
            elif locals_ is not None and values is not None and i < len(values):
                local = locals_[i]
                chain = local_text(local, values[i]) if computed or local is None else local.symbolic
                if computed or local is not None:
                    lines += _wrap_equation(local_derivative_label(names[key], names[id(parent)], chain))
            edge_attrs: dict[str, str] = {}
            if active and frame is not None:
                edge_attrs.update(color=CURRENT_COLOR, fontcolor=CURRENT_COLOR, penwidth="2")
                contribution = frame.contributions[i] if i < len(frame.contributions) else None
                vjp = frame.vjps[i] if i < len(frame.vjps) else None
                if vjp:
                    lines.append(vjp)
                if contribution is not None and not forward:
                    lines.append(f"+= {format_value(contribution, max_elements=4)}")
            if lines:
                edge_attrs["label"] = "<" + "<br/>".join(_esc(line) for line in lines) + ">"
            graph.edge(dot_id(index[id(parent)]), op_id, **edge_attrs)


MAX_LAYOUT_COST = 250
"""Past this :func:`layout_cost` a graph is summarized, whatever its number of nodes (``dot`` needs 0.4 s
for a flat sum ``x+x+...+x`` of 23 terms, cost 231, but 13 s for 40 terms, cost 741, and minutes beyond)."""


def layout_cost(order: Sequence[Node], keys: Mapping[int, tuple[Any, ...]] | None = None) -> int:
    """How many ranks the long edges of the drawing cross: the virtual nodes Graphviz's ``dot`` must route,
    whose number (not the number of nodes) makes its layout slow. A node used at many depths, like x in
    ``x+x+...+x``, has an edge to each user across every rank between. Each node is ranked as late as
    possible (just before its first user), as a layout would place it; with ``keys`` (see
    :func:`_group_keys`), the same for the summary's boxes, ranked in the order of their members' smallest
    ranks."""
    used_by: dict[int, list[Node]] = {}
    for node in order:
        for parent in node._parents:
            used_by.setdefault(id(parent), []).append(node)
    rank: dict[int, int] = {}
    for node in reversed(order):
        users = [rank[id(u)] for u in used_by.get(id(node), [])]
        rank[id(node)] = min(users) - 1 if users else len(order)
    if keys is not None:
        lowest: dict[tuple[Any, ...], int] = {}
        for key, box in keys.items():
            lowest[box] = min(lowest.get(box, rank[key]), rank[key])
        levels = {r: k for k, r in enumerate(sorted(set(lowest.values())))}  # boxes sit on consecutive ranks
        box_rank = {box: levels[r] for box, r in lowest.items()}
        edges = {(keys[id(p)], keys[id(n)]) for n in order for p in n._parents if keys[id(p)] != keys[id(n)]}
        return sum(max(0, box_rank[b] - box_rank[a] - 1) for a, b in edges)
    return sum(max(0, rank[id(n)] - rank[id(p)] - 1) for n in order for p in n._parents)


def _op_family(op: str) -> str:
    """An op label without its constant: ``* 2`` and ``* 0.5`` are both ``*``; ``1 -`` is ``-``."""
    stripped = re.sub(r"(?<![\w.])[-+]?\d[\d.]*(e[-+]?\d+)?(?![\w.])", "", op).strip()
    return stripped or op


def _depths(order: Sequence[Node]) -> dict[int, int]:
    """Longest path from a leaf to each node (leaves: 0); ``order`` is topological."""
    depth: dict[int, int] = {}
    for node in order:
        depth[id(node)] = 1 + max((depth[id(p)] for p in node._parents), default=-1)
    return depth


def _group_keys(
    order: Sequence[Node], groups: Mapping[int, str], max_nodes: int
) -> tuple[dict[int, tuple[Any, ...]], int]:
    """A group key per node, and the depth bucket width used (widened until the groups fit)."""
    depth = _depths(order)
    deepest = max(depth.values(), default=0)
    width = 1
    while True:
        keys: dict[int, tuple[Any, ...]] = {}
        for node in order:
            key = id(node)
            if key in groups:
                keys[key] = ("named", groups[key])
            elif not node._parents:
                keys[key] = ("leaf", "")
            else:
                keys[key] = ("op", depth[key] // width, _op_family(node._op))
        if len(set(keys.values())) <= max_nodes or width > deepest:
            return keys, width
        width *= 2


def _draw_summary(
    graph: graphviz.Digraph,
    order: Sequence[Node],
    names: Mapping[int, str],
    grads: Mapping[int, Any],
    scale: ColorScale,
    groups: Mapping[int, str],
    max_nodes: int,
    gradients: bool = True,
    why: str | None = None,
) -> None:
    keys, width = _group_keys(order, groups, max_nodes)
    depth = _depths(order)
    members: dict[tuple[Any, ...], list[Node]] = {}
    for node in order:
        members.setdefault(keys[id(node)], []).append(node)
    group_id = {key: f"g{k}" for k, key in enumerate(members)}
    for key, nodes in members.items():
        mags = [m for m in (magnitude(grads[id(n)]) for n in nodes) if m is not None]
        largest = max(mags) if mags else None
        fill = scale.fill(largest) if gradients else FORWARD_FILL
        if len(nodes) == 1:
            node = nodes[0]
            title = key[1] if key[0] == "named" else names[id(node)] + _computed(node, names)
            lines = [f"<b>{_esc(title)}</b>", _esc(_single_text(node, grads[id(node)], gradients))]
        else:
            lines = [f"<b>{_esc(_group_title(key, nodes))}</b>"]
            ds = sorted({depth[id(n)] for n in nodes})
            if key[0] == "op":
                lines.append(f"depth {ds[0]}" if len(ds) == 1 else f"depths {ds[0]}-{ds[-1]}")
            if gradients:
                most = f"max |grad| {format_number(largest)}" if largest is not None else "no grad"
                lines.append(_esc(most))
        graph.node(
            group_id[key],
            "<" + "<br/>".join(lines) + ">",
            shape="box",
            style="filled,rounded" if len(nodes) == 1 else "filled,rounded,bold",
            peripheries="1" if len(nodes) == 1 else "2",
            fillcolor=fill,
            fontcolor=text_color(fill),
        )
    edge_counts: dict[tuple[str, str], int] = {}
    internal = 0
    n_edges = 0
    for node in order:
        for parent in node._parents:
            n_edges += 1
            a, b = group_id[keys[id(parent)]], group_id[keys[id(node)]]
            if a == b:
                internal += 1
                continue
            edge_counts[(a, b)] = edge_counts.get((a, b), 0) + 1
    for (a, b), count in edge_counts.items():
        graph.edge(
            a, b, label=f"x{count}" if count > 1 else None, penwidth=str(min(1 + math.log10(count), 4))
        )
    merged = sum(len(nodes) for nodes in members.values() if len(nodes) > 1)
    how = "same operation at the same depth" if width == 1 else f"same operation within {width} depths"
    note = [
        f"Summary: {len(order)} nodes and {n_edges} edges {why or f'exceed max_nodes={max_nodes}'};",
        f"drawn as {len(members)} boxes ({merged} nodes merged by {how}; leaves by name or as one box).",
        f"Left out: the data and gradient of each merged node, the local derivative on each of the "
        f"{n_edges} edges" + (f", and {internal} edges inside a box." if internal else "."),
        "A double border marks a merged box; an edge label xN counts the edges it stands for.",
        "Draw every node with max_nodes=None (or --max-nodes 0 on the command line).",
    ]
    graph.node(
        "summary_note",
        "<" + "<br/>".join(_esc(line) for line in note) + ">",
        shape="note",
        style="filled",
        fillcolor="#fffbe6",
        fontsize="11",
    )


def _computed(node: Node, names: Mapping[int, str]) -> str:
    """`` = t1 - 1`` for a node with few inputs, `` = dot(17 inputs)`` for many, nothing for a leaf."""
    parents = node._parents
    if not parents:
        return ""
    if len(parents) <= 3:
        return " = " + formula(node._op, [names[id(p)] for p in parents])
    return f" = {node._op}({len(parents)} inputs)"


def _single_text(node: Node, grad: Any, gradients: bool = True) -> str:
    if is_scalar_node(node):
        data = f"data {format_number(node.data)}"
        return data + (f"  grad {format_number(grad)}" if gradients else "")
    text = f"{shape_text(node.data.shape)} {node.data.dtype}"
    if not gradients:
        return text
    return text + ("  no grad" if grad is None else "  " + gradient_summary(grad))


def _group_title(key: tuple[Any, ...], nodes: Sequence[Node]) -> str:
    kind = "Values" if is_scalar_node(nodes[0]) else "tensors"
    if key[0] == "named":
        return f"{key[1]}  ({len(nodes)} {kind})"
    if key[0] == "leaf":
        return f"other leaves  ({len(nodes)} {kind})"
    return f"{key[2]}  x{len(nodes)}"


def legend_table(scale: ColorScale, scalar: bool, frame: bool, summary: bool) -> str:
    """The legend as a Graphviz HTML table: the colour scale of |grad|, then what the shapes mean."""
    swatches = "".join(
        f'<td bgcolor="{color}"><font color="{text_color(color)}">{_esc(format_number(m, 2))}</font></td>'
        for m, color in scale.ticks()
    )
    swatches += f'<td bgcolor="{NO_GRAD_FILL}">0 / none</td>'
    what = "|grad|" if scalar else "|grad| (tensors: root-mean-square)"
    notes = legend_notes(scalar=scalar, frame=frame, summary=summary)
    rows = f'<tr><td colspan="6"><b>colour: {_esc(what)}, log scale</b></td></tr><tr>{swatches}</tr>'
    rows += "".join(f'<tr><td colspan="6" align="left">{_esc(n)}</td></tr>' for n in notes)
    table = f'<table border="0" cellborder="1" cellspacing="0" cellpadding="3">{rows}</table>'
    return f'<font point-size="11">{table}</font>'


def legend_notes(scalar: bool, frame: bool, summary: bool = False) -> list[str]:
    """What the shapes, edge labels and (in frames) the highlights of a drawing mean, one line each."""
    notes = ["box: a value (name, data, grad = dL/d(value))", "ellipse: the operation that made the value"]
    if scalar and not summary:
        notes.append("edge ∂z/∂x: local derivative of the op's result z w.r.t. its input x")
    if frame:
        notes += [
            "red: the node of this step; red edges: what it adds to each input's gradient",
            "dashed: not processed yet (grad so far: the sum of the contributions received)",
        ]
    return notes


# --------------------------------------------------------------------------------------------------------
# Grouping parameters by module, and saving
# --------------------------------------------------------------------------------------------------------


def parameter_groups(module: Any) -> dict[int, str]:
    """id(parameter node) -> parameter name (``net.0.weight``) for every parameter of an ``nn.Module``.

    Pass it as ``groups=`` so that a summarized graph shows one box per weight matrix.
    """
    groups: dict[int, str] = {}
    for name, param in module.named_parameters():
        values = getattr(param, "values", None)  # a scalar-engine ValueGrid holds one Value per entry
        if values is not None:
            for v in values.ravel():
                groups[id(v)] = name
        else:
            groups[id(param)] = name
    return groups


def dot_missing_error(source_path: Path) -> UsageError:
    return UsageError(
        f"Graphviz's `dot` was not found; {INSTALL_HINT}; the DOT source was written to {source_path}"
    )


DOT_TIMEOUT_S = 20.0
"""The longest ``dot`` may run on one drawing before it is stopped."""


def render_bytes(graph: graphviz.Digraph, fmt: str, source_path: Path) -> bytes:
    """Run ``dot`` on the graph and return the ``fmt`` output.

    Without ``dot`` on PATH, writes the DOT source to ``source_path`` and raises a UsageError saying how to
    install Graphviz and where the source is; ``dot`` taking more than :data:`DOT_TIMEOUT_S` is stopped
    with a UsageError.
    """
    dot = shutil.which("dot")
    if dot is None:
        write_text(source_path, graph.source)
        raise dot_missing_error(source_path)
    try:  # `dot` itself, with a time limit (graph.pipe has none)
        done = subprocess.run(
            [dot, f"-T{fmt}"], input=graph.source.encode("utf-8"), capture_output=True, timeout=DOT_TIMEOUT_S
        )
    except FileNotFoundError:
        write_text(source_path, graph.source)
        raise dot_missing_error(source_path) from None
    except subprocess.TimeoutExpired:
        raise UsageError(
            f"Graphviz's `dot` did not finish within {DOT_TIMEOUT_S:g} s: the graph is too large or too "
            "tangled to draw node by node; draw a summary (a smaller --max-nodes) or a smaller expression"
        ) from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"Graphviz's `dot` failed: {detail[-1] if detail else f'status {done.returncode}'}")
    return done.stdout


def svg_size(svg: str) -> tuple[float, float]:
    """The width and height (points) a Graphviz SVG declares (0, 0 when it declares none)."""
    match = re.search(r'<svg[^>]*?width="([\d.]+)pt"[^>]*?height="([\d.]+)pt"', svg)
    return (float(match.group(1)), float(match.group(2))) if match else (0.0, 0.0)


# A drawing shown at 1 px per point keeps 11 pt text 11 px high; this box is what fits beside the page's
# controls in a 1280 x 800 window (the stepper) or across a typical page (a saved graph).
FIT_BOX = (1220.0, 560.0)


def fit_scale(size: tuple[float, float], box: tuple[float, float] = FIT_BOX) -> float:
    """How much a drawing of ``size`` points must shrink (or may grow) to fit ``box``."""
    width, height = size
    return min(box[0] / width, box[1] / height) if width > 0 and height > 0 else 1.0


def choose_rankdir(
    draw: Callable[[str], graphviz.Digraph],
    source_path: Path,
    box: tuple[float, float] = FIT_BOX,
) -> str:
    """``LR`` or ``TB`` for ``draw(rankdir)``: left to right when that fits ``box`` (points, at 1 px per
    point), else top to bottom when that fits, else whichever needs no sideways scrolling (TB when it is
    narrow enough), else whichever fits at the larger scale.

    Runs ``dot`` once or twice (see :func:`render_bytes`).
    """
    wide_size = svg_size(svg_text(draw("LR"), source_path))
    if fit_scale(wide_size, box) >= 1:
        return "LR"
    tall_size = svg_size(svg_text(draw("TB"), source_path))
    if fit_scale(tall_size, box) >= 1 or tall_size[0] <= box[0] < wide_size[0]:
        return "TB"
    return "TB" if fit_scale(tall_size, box) > fit_scale(wide_size, box) else "LR"


def svg_text(graph: graphviz.Digraph, source_path: Path) -> str:
    """The graph as an SVG string without the XML prolog and doctype (ready to inline in HTML)."""
    svg = render_bytes(graph, "svg", source_path).decode("utf-8")
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def save_graph(graph: graphviz.Digraph, path: str | Path) -> Path:
    """Write the graph to ``path``; the suffix picks the format: .svg, .png, .pdf, or .dot/.gv (source).

    The file is written atomically (never half-written). Without ``dot``, the source goes to ``path``
    with suffix ``.dot`` and a UsageError says how to install Graphviz.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(
            f"cannot write {path}: unsupported format {suffix or '(none)'!r}; use .svg, .png, .pdf or .dot"
        )
    fmt = FORMATS[suffix]
    if fmt is None:
        write_text(path, graph.source)
        return path
    write_bytes(path, render_bytes(graph, fmt, path.with_suffix(".dot")))
    return path
