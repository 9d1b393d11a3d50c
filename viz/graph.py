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
from typing import Any, Iterable, Mapping, Sequence

import graphviz

from autograd.core import Node, topological_sort
from autograd.errors import UsageError
from autograd.files import write_bytes, write_text
from viz.naming import (
    format_number,
    format_value,
    formula,
    gradient_summary,
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
    """The state of a backward pass at one step, for drawing a trace frame.

    ``grads`` maps id(node) to the gradient accumulated so far (absent: none yet); ``done`` holds the ids
    of nodes whose gradient is complete; ``current`` is the node whose chain rule is being applied and
    ``contributions`` what it adds to each of its parents (one entry per parent, None where none).
    """

    current: int | None
    done: set[int] = field(default_factory=set)
    grads: Mapping[int, Any] = field(default_factory=dict)
    contributions: Sequence[Any] = ()


# --------------------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------------------


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def _node_grad(node: Node, frame: FrameState | None) -> Any:
    if frame is not None:
        return frame.grads.get(id(node))
    grad = node.grad
    if is_scalar_node(node):
        return float(grad)
    return grad


def _value_label(name: str, node: Node, grad: Any, pending: bool) -> str:
    """HTML label of a value box: name | data | grad (Value) or name | shape dtype | grad summary (Tensor)."""
    if pending:
        grad_text = "grad ..." if grad is None else f"grad so far {format_value(grad)}"
    elif is_scalar_node(node):
        grad_text = f"grad {format_number(grad)}"
    elif grad is None:
        grad_text = "no grad" if not getattr(node, "requires_grad", False) else "grad none"
    else:
        grad_text = gradient_summary(grad)
    if is_scalar_node(node):
        cells = [f"<b>{_esc(name)}</b>", f"data {format_number(node.data)}", _esc(grad_text)]
    else:
        data = node.data
        desc = f"{shape_text(data.shape)} {data.dtype}"
        if data.size == 1:
            desc += f" = {format_number(float(data.reshape(())))}"
        cells = [f"<b>{_esc(name)}</b>", _esc(desc), _esc(grad_text)]
    row = "".join(f"<td>{c}</td>" for c in cells)
    table = '<table border="0" cellborder="0" cellspacing="0" cellpadding="3" columns="*">'
    return f"<{table}<tr>{row}</tr></table>>"


def _local_label(out_name: str, in_name: str, local: float) -> str:
    return f"d{out_name}/d{in_name} = {format_number(local)}"


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
) -> graphviz.Digraph:
    """The computation graph of ``root`` (a ``Value`` or a ``Tensor``) as a ``graphviz.Digraph``.

    ``rankdir``: ``LR`` (inputs on the left) or ``TB``, ``RL``, ``BT``. ``max_nodes``: past this many
    nodes draw a summary (None: always draw every node). ``groups``: id(node) -> group name used by the
    summary (e.g. :func:`parameter_groups`). ``names``: id(node) -> display name (default: labels, then
    automatic names, see :mod:`viz.naming`). ``frame``: draw one step of a backward trace (running
    gradients, the current node highlighted, finished nodes solid, pending nodes dashed). ``scale``: a
    fixed colour scale (frames of one trace share one).
    """
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be LR, TB, RL or BT, got {rankdir!r}")
    order = topological_sort(root)
    names = dict(names) if names is not None else node_names(order)
    grads = {id(n): _node_grad(n, frame) for n in order}
    if scale is None:
        scale = ColorScale.from_magnitudes(magnitude(g) for g in grads.values())
    graph = graphviz.Digraph(
        name="computation_graph",
        graph_attr={"rankdir": rankdir, "fontname": FONT, "nodesep": "0.25", "ranksep": "0.4"},
        node_attr={"fontname": FONT, "fontsize": "11"},
        edge_attr={"fontname": FONT, "fontsize": "9", "color": EDGE_COLOR, "arrowsize": "0.6"},
    )
    if title:
        graph.attr(label=title, labelloc="t", fontsize="14")
    tangled = layout_cost(order) > MAX_LAYOUT_COST
    summarized = max_nodes is not None and (len(order) > max_nodes or tangled)
    if summarized:
        assert max_nodes is not None
        limit = max_nodes  # fewer boxes until the summary itself is easy to lay out
        while limit > 2 and layout_cost(order, _group_keys(order, groups or {}, limit)[0]) > MAX_LAYOUT_COST:
            limit //= 2
        why = (
            f"exceed max_nodes={max_nodes}" if len(order) > max_nodes else "have long edges (slow to lay out)"
        )
        _draw_summary(graph, order, names, grads, scale, groups or {}, limit, why)
    else:
        _draw_full(graph, order, names, grads, scale, edge_labels, frame)
    if legend:
        _draw_legend(graph, scale, scalar=is_scalar_node(root), frame=frame is not None, summary=summarized)
    return graph


def dot_id(position: int) -> str:
    """The DOT id of the value node at ``position`` in topological order (its op node adds ``_op``)."""
    return f"n{position}"


def _draw_full(
    graph: graphviz.Digraph,
    order: Sequence[Node],
    names: Mapping[int, str],
    grads: Mapping[int, Any],
    scale: ColorScale,
    edge_labels: bool,
    frame: FrameState | None,
) -> None:
    index = {id(n): k for k, n in enumerate(order)}
    for k, node in enumerate(order):
        key = id(node)
        grad = grads[key]
        current = frame is not None and frame.current == key
        pending = frame is not None and not current and key not in frame.done
        fill = PENDING_FILL if pending else scale.fill(magnitude(grad))
        attrs = {
            "shape": "box",
            "style": "filled,rounded,dashed" if pending else "filled,rounded",
            "fillcolor": fill,
            "fontcolor": text_color(fill),
            "color": CURRENT_COLOR if current else "#333333",
            "penwidth": "3" if current else "1",
        }
        graph.node(dot_id(k), _value_label(names[key], node, grad, pending), **attrs)
        parents = node._parents
        if not parents:
            continue
        op_id = f"{dot_id(k)}_op"
        graph.node(
            op_id,
            f"<{_esc(node._op or '?')}>",
            shape="ellipse",
            style="filled",
            fillcolor=OP_FILL,
            color=CURRENT_COLOR if current else "#8a7a50",
            penwidth="2.5" if current else "1",
            fontsize="10",
            height="0.3",
            margin="0.05,0.02",
        )
        graph.edge(op_id, dot_id(k), color=CURRENT_COLOR if current else EDGE_COLOR)
        locals_ = node._local_derivatives() if is_scalar_node(node) else None
        for i, parent in enumerate(parents):
            lines = []
            if edge_labels and locals_ is not None and i < len(locals_):
                lines.append(_local_label(names[key], names[id(parent)], locals_[i]))
            edge_attrs: dict[str, str] = {}
            if current and frame is not None and i < len(frame.contributions):
                contribution = frame.contributions[i]
                if contribution is not None:
                    lines.append(f"+= {format_value(contribution)}")
                edge_attrs.update(color=CURRENT_COLOR, fontcolor=CURRENT_COLOR, penwidth="2")
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
    :func:`_group_keys`), the same for the summary's boxes, each at the smallest rank of its members."""
    used_by: dict[int, list[Node]] = {}
    for node in order:
        for parent in node._parents:
            used_by.setdefault(id(parent), []).append(node)
    rank: dict[int, int] = {}
    for node in reversed(order):
        users = [rank[id(u)] for u in used_by.get(id(node), [])]
        rank[id(node)] = min(users) - 1 if users else len(order)
    if keys is not None:
        box_rank: dict[tuple[Any, ...], int] = {}
        for key, box in keys.items():
            box_rank[box] = min(box_rank.get(box, rank[key]), rank[key])
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
        fill = scale.fill(largest)
        if len(nodes) == 1:
            node = nodes[0]
            title = key[1] if key[0] == "named" else names[id(node)] + _computed(node, names)
            lines = [f"<b>{_esc(title)}</b>", _esc(_single_text(node, grads[id(node)]))]
        else:
            lines = [f"<b>{_esc(_group_title(key, nodes))}</b>"]
            ds = sorted({depth[id(n)] for n in nodes})
            if key[0] == "op":
                lines.append(f"depth {ds[0]}" if len(ds) == 1 else f"depths {ds[0]}-{ds[-1]}")
            lines.append(_esc(f"max |grad| {format_number(largest)}" if largest is not None else "no grad"))
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
        fontsize="10",
    )


def _computed(node: Node, names: Mapping[int, str]) -> str:
    """`` = t1 - 1`` for a node with few inputs, `` = dot(17 inputs)`` for many, nothing for a leaf."""
    parents = node._parents
    if not parents:
        return ""
    if len(parents) <= 3:
        return " = " + formula(node._op, [names[id(p)] for p in parents])
    return f" = {node._op}({len(parents)} inputs)"


def _single_text(node: Node, grad: Any) -> str:
    if is_scalar_node(node):
        return f"data {format_number(node.data)}  grad {format_number(grad)}"
    text = f"{shape_text(node.data.shape)} {node.data.dtype}"
    return text + ("  no grad" if grad is None else "  " + gradient_summary(grad))


def _group_title(key: tuple[Any, ...], nodes: Sequence[Node]) -> str:
    kind = "Values" if is_scalar_node(nodes[0]) else "tensors"
    if key[0] == "named":
        return f"{key[1]}  ({len(nodes)} {kind})"
    if key[0] == "leaf":
        return f"other leaves  ({len(nodes)} {kind})"
    return f"{key[2]}  x{len(nodes)}"


def _draw_legend(
    graph: graphviz.Digraph, scale: ColorScale, scalar: bool, frame: bool, summary: bool
) -> None:
    swatches = "".join(
        f'<td bgcolor="{color}"><font color="{text_color(color)}">{_esc(format_number(m, 2))}</font></td>'
        for m, color in scale.ticks()
    )
    swatches += f'<td bgcolor="{NO_GRAD_FILL}">0 / none</td>'
    what = "|grad|" if scalar else "|grad| (tensors: root-mean-square)"
    notes = ["box: a value (name | data | grad)", "ellipse: the operation that made the value"]
    if scalar and not summary:
        notes.append("edge label dz/dx: local derivative of the op's output z w.r.t. input x")
    if frame:
        notes += [
            "red: the node whose chain rule is applied at this step; red edges: what it adds",
            "dashed: not processed yet (grad so far: the sum of the contributions received)",
        ]
    rows = f'<tr><td colspan="6"><b>colour: {_esc(what)}, log scale</b></td></tr><tr>{swatches}</tr>'
    rows += "".join(f'<tr><td colspan="6" align="left">{_esc(n)}</td></tr>' for n in notes)
    with graph.subgraph(name="cluster_legend") as legend:
        legend.attr(label="legend", fontsize="10", style="rounded", color="#bbbbbb")
        legend.node(
            "legend",
            f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="3">{rows}</table>>',
            shape="plaintext",
            fontsize="9",
        )


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
