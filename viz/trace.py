"""Node-by-node tracing of a pass through a graph: the forward pass, then the backward pass.

:class:`BackwardTracer` is passed as ``observer`` to ``root.backward(observer=tracer)``; the engine's one
backward driver (:func:`autograd.core.backpropagate`) calls it once per node that has parents, in the
order it applies the chain rule. Nothing here differentiates anything: the tracer only records what the
driver hands it and keeps a running sum of the gradients.

Notation (the same in the text table, the JSON, the SVG frames, the HTML stepper and project 07):
``dL/dx`` is the gradient of the loss (the output) with respect to x; ``∂t3/∂t2`` is the *local*
derivative of one op's result t3 with respect to its input t2, stated by the op as a formula (see
:mod:`viz.formulas`). The backward pass starts from the seed ``dL/dL = 1``; at the step for node z with
parents p_i, the driver knows dL/dz (complete: every consumer of z was processed before) and adds, for
each parent,

    dL/dp_i += dL/dz · ∂z/∂p_i,   e.g.   dL/dt2 += dL/dt3 · ∂t3/∂t2 = 0.5 · (2 * t2 = 2 * (-2.5) = -5) = -2.5

On the Tensor engine the product is a vector-Jacobian product, shown as the op's formula with the shapes,
``dL/dX += dL/dZ @ Wᵀ: (4, 3) = (4, 2) @ (2, 3)`` (and its numbers when the arrays are small). After the
step, the *running gradient* of p_i is the sum of the contributions it has received so far; it is
complete once every node that uses p_i has had its step. Leaves (inputs, parameters) have no step of
their own: their gradient is complete after the last step that contributes to them.

Before the backward pass comes the forward pass, one node at a time in topological order, each as its
computation in numbers: ``t1 = a * b = 1.5 * (-2) = -3``.

Renderers: :func:`render_table` (terminal text), :func:`trace_to_json` (JSON-able dict),
:func:`render_frames` (one SVG per step, needs Graphviz), :func:`trace_frames` (every frame of the
forward and the backward pass, for the HTML stepper in :mod:`viz.stepper`); :func:`forward_equation`,
:func:`seed_equation` and :func:`step_equations` give the words and numbers all of them use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from autograd.core import BackwardStep, Node
from viz.formulas import (
    SMALL_ARRAY,
    Formula,
    TensorFormula,
    local_factor,
    local_text,
    scalar_forward,
    scalar_locals,
    tensor_forward,
    tensor_vjps,
)
from viz.naming import (
    format_value,
    graph_order,
    is_scalar_node,
    node_names,
    to_jsonable,
)


def _copy(x: Any) -> Any:
    return np.array(x, copy=True) if isinstance(x, np.ndarray) else x


def _add(a: Any, b: Any) -> Any:
    return _copy(b) if a is None else a + b


@dataclass(frozen=True)
class TraceStep:
    """One chain-rule step: node z, dL/dz (``upstream``), dz/dp_i (``local_derivatives``, None for tensors),
    what it adds to each parent (``contributions``) and each parent's running gradient after it
    (``running``); the last three are aligned with ``parents`` (None where a parent needs no gradient)."""

    index: int
    node: Node
    op: str
    upstream: Any
    parents: tuple[Node, ...]
    local_derivatives: tuple[Any, ...] | None
    contributions: tuple[Any, ...]
    running: tuple[Any, ...]


class BackwardTracer:
    """Records every step of a backward pass: ``loss.backward(observer=tracer)``.

    Afterwards ``steps`` holds one :class:`TraceStep` per node with parents, ``root`` the output, ``order``
    all nodes (topological, root last), ``names`` their display names, ``gradients`` the gradient of every
    node from this pass alone (``node.grad`` may also hold earlier passes' gradients).
    """

    def __init__(self, root: Node | None = None) -> None:
        self.root: Node | None = root
        self.steps: list[TraceStep] = []
        self.gradients: dict[int, Any] = {}
        self._order: list[Node] | None = None
        self._names: dict[int, str] | None = None

    def __call__(self, step: BackwardStep) -> None:
        node = step.node
        if self.root is None:
            self.root = node  # the driver's first step is the root's
        if not self.steps and self.root is node:
            self.gradients[id(node)] = _copy(step.upstream)  # the seed dL/dL
        running = []
        for parent, contribution in zip(node._parents, step.contributions):
            if contribution is None:
                running.append(None)
                continue
            key = id(parent)
            self.gradients[key] = _add(self.gradients.get(key), contribution)
            running.append(_copy(self.gradients[key]))
        local = step.local_derivatives
        self.steps.append(
            TraceStep(
                index=step.index,
                node=node,
                op=node._op,
                upstream=_copy(step.upstream),
                parents=tuple(node._parents),
                local_derivatives=tuple(local) if local is not None else None,
                contributions=tuple(_copy(c) for c in step.contributions),
                running=tuple(running),
            )
        )
        self._order = self._names = None

    def _repr_html_(self) -> str:
        """In Jupyter: the stepper page, in an iframe of its own (see :func:`viz.notebook.stepper_iframe`)."""
        from viz.notebook import stepper_iframe

        return stepper_iframe(self)

    # ---- the graph as the trace sees it ----

    @property
    def order(self) -> list[Node]:
        if self.root is None:
            return []
        if self._order is None:
            self._order = graph_order(self.root)
        return self._order

    @property
    def names(self) -> dict[int, str]:
        if self._names is None:
            self._names = node_names(self.order)
        return self._names

    def name(self, node: Node) -> str:
        return self.names.get(id(node), "?")

    @property
    def root_name(self) -> str:
        return self.name(self.root) if self.root is not None else "L"

    @property
    def seed(self) -> Any:
        """dL/dL, where the backward pass starts: 1 (or the gradient given to a Tensor's ``backward``)."""
        return self.gradients.get(id(self.root)) if self.root is not None else None

    @property
    def computed_nodes(self) -> list[Node]:
        """The nodes the forward pass computed (every node with parents), in topological order."""
        return [n for n in self.order if n._parents]

    @property
    def is_scalar(self) -> bool:
        return self.root is not None and is_scalar_node(self.root)

    def finished_after(self, index: int) -> set[int]:
        """ids of the nodes whose gradient is complete once step ``index`` is done.

        A node with a step is complete from its own step on; a leaf, after the last step feeding it.
        """
        last_feed: dict[int, int] = {}
        own_step: dict[int, int] = {}
        for step in self.steps:
            own_step[id(step.node)] = step.index
            for parent, c in zip(step.parents, step.contributions):
                if c is not None:
                    last_feed[id(parent)] = step.index
        done = {key for key, k in own_step.items() if k < index}
        done |= {key for key, k in last_feed.items() if key not in own_step and k <= index}
        return done

    def running_after(self, index: int) -> dict[int, Any]:
        """id(node) -> gradient accumulated once step ``index`` is done (only nodes reached so far)."""
        grads: dict[int, Any] = {}
        if self.root is not None and self.steps:
            grads[id(self.root)] = self.steps[0].upstream
        for step in self.steps[: index + 1]:
            for parent, r in zip(step.parents, step.running):
                if r is not None:
                    grads[id(parent)] = r
        return grads


def trace_backward(root: Node, grad: Any = None) -> BackwardTracer:
    """Run ``root.backward`` with a fresh tracer attached and return the tracer.

    ``grad`` is the seed dL/d(root) for a Tensor root with more than one element (default 1).
    """
    tracer = BackwardTracer(root)
    if is_scalar_node(root):
        root.backward(observer=tracer)
        seed: Any = 1.0
    else:
        root.backward(grad, observer=tracer)
        seed = np.ones_like(root.data) if grad is None else np.asarray(grad, dtype=root.data.dtype)
    if not tracer.steps:  # a leaf: no chain rule to apply, its gradient is the seed
        tracer.gradients[id(root)] = seed
    return tracer


# --------------------------------------------------------------------------------------------------------
# The forward pass and the chain rule of one step, in words and numbers
# --------------------------------------------------------------------------------------------------------

DIGITS = 6  # significant digits of gradients in equations
NO_GRADIENTS = "no gradients yet: call backward()"  # a trace (or a graph) before any backward pass


def _g(tracer: BackwardTracer, node: Node) -> str:
    """``dL/dt2``: the gradient of the output with respect to ``node``, in the trace's names."""
    return f"d{tracer.root_name}/d{tracer.name(node)}"


def forward_formula(tracer: BackwardTracer, node: Node) -> Formula | TensorFormula:
    """How ``node`` was computed, from the engine's formula (see :mod:`viz.formulas`)."""
    if is_scalar_node(node):
        return scalar_forward(node, tracer.names)
    return tensor_forward(node, tracer.names)


def forward_equation(tracer: BackwardTracer, node: Node) -> str:
    """``t1 = a * b = 1.5 * (-2) = -3``; a tensor: ``t1 = x @ W: (4, 2) = (4, 3) @ (3, 2)``, and its
    numbers when they are few."""
    name = tracer.name(node)
    rendered = forward_formula(tracer, node)
    if isinstance(rendered, Formula):
        return f"{name} = {rendered.chain(DIGITS)}"
    text = f"{name} = {rendered.symbolic}: {rendered.shapes_line()}"
    if rendered.numbers is not None:
        text += f"; {rendered.numbers} = {format_value(node.data, 4, SMALL_ARRAY)}"
    return text


def forward_headline(tracer: BackwardTracer, index: int) -> str:
    """``Forward 2/5: t2 = ...``: the ``index``-th node the forward pass computes."""
    nodes = tracer.computed_nodes
    return f"Forward {index + 1}/{len(nodes)}: {forward_equation(tracer, nodes[index])}"


def seed_equation(tracer: BackwardTracer) -> str:
    """``dL/dL = 1``: the backward pass starts from the output's gradient with respect to itself."""
    root = tracer.root_name
    return f"d{root}/d{root} = {format_value(tracer.seed, DIGITS, SMALL_ARRAY)}"


def seed_headline(tracer: BackwardTracer) -> str:
    root = tracer.root_name
    return f"Backward, the seed: {seed_equation(tracer)} ({root} changes one for one with itself)"


def step_headline(tracer: BackwardTracer, step: TraceStep) -> str:
    """``Backward 3/9 at t2 = tanh(t1): dL/dt2 = 0.5, complete (every node that uses t2 is done)``."""
    z = tracer.name(step.node)
    computed = forward_formula(tracer, step.node).symbolic
    why = "the seed" if step.node is tracer.root else f"complete: every node that uses {z} is done"
    return (
        f"Backward {step.index + 1}/{len(tracer.steps)} at {z} = {computed}: "
        f"{_g(tracer, step.node)} = {format_value(step.upstream, DIGITS, SMALL_ARRAY)} ({why})"
    )


def step_locals(tracer: BackwardTracer, step: TraceStep) -> list[Formula | None]:
    """∂z/∂p_i of a scalar step as formulas (None where the op states none); [] for a tensor step."""
    if step.local_derivatives is None:
        return []
    return scalar_locals(step.node, tracer.names)


def step_vjps(tracer: BackwardTracer, step: TraceStep) -> list[TensorFormula | None]:
    """The VJP formula of each contribution of a tensor step (None: not needed, or no formula); []
    for a scalar step."""
    if step.local_derivatives is not None:
        return []
    return tensor_vjps(step.node, step.upstream, step.contributions, tracer.names, tracer.root_name)


def _vjp_text(tracer: BackwardTracer, step: TraceStep, i: int, vjp: TensorFormula | None) -> str:
    """``dL/dZ @ Wᵀ: (4, 3) = (4, 2) @ (2, 3)`` and, for small arrays, ``= [[..]] @ [[..]]ᵀ``."""
    if vjp is None:
        return f"{_g(tracer, step.node)} through {step.op} (vector-Jacobian product)"
    text = f"{vjp.symbolic}: {vjp.shapes_line()}"
    if vjp.numbers is not None:
        text += f"; {vjp.numbers}"
    return text


def step_equations(tracer: BackwardTracer, step: TraceStep) -> list[str]:
    """One line per parent:
    ``dL/dt2 += dL/dt3 · ∂t3/∂t2 = 0.5 · (2 * t2 = 2 * (-2.5) = -5) = -2.5   (dL/dt2 so far: -2.5)``.

    A tensor step shows the VJP instead of a local derivative:
    ``dL/dX += dL/dZ @ Wᵀ: (4, 3) = (4, 2) @ (2, 3) = <4x3: ...>   (dL/dX so far: ...)``.
    """
    z = tracer.name(step.node)
    locals_ = step_locals(tracer, step)
    vjps = step_vjps(tracer, step)
    lines = []
    for i, parent in enumerate(step.parents):
        p, gp = tracer.name(parent), _g(tracer, parent)
        contribution = step.contributions[i] if i < len(step.contributions) else None
        if contribution is None:
            lines.append(f"{gp}: not needed ({p} needs no gradient)")
            continue
        if step.local_derivatives is not None:
            factor = local_factor(locals_[i] if i < len(locals_) else None, step.local_derivatives[i], DIGITS)
            upstream = format_value(step.upstream, DIGITS)
            product = f"{_g(tracer, step.node)} · ∂{z}/∂{p} = {upstream} · {factor}"
            result = format_value(contribution, DIGITS)
        else:
            product = _vjp_text(tracer, step, i, vjps[i] if i < len(vjps) else None)
            result = format_value(contribution, 4, SMALL_ARRAY)
        so_far = format_value(
            step.running[i], DIGITS if step.local_derivatives is not None else 4, SMALL_ARRAY
        )
        lines.append(f"{gp} += {product} = {result}   ({gp} so far: {so_far})")
    return lines


# --------------------------------------------------------------------------------------------------------
# Renderers
# --------------------------------------------------------------------------------------------------------


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths)), *(fmt.format(*r) for r in rows)]
    return [line.rstrip() for line in lines]


def render_table(tracer: BackwardTracer, digits: int = DIGITS) -> str:
    """The trace as text: the forward pass line by line, the seed, a table of the backward pass (one row
    per parent of each step), then every node's final gradient."""
    root = tracer.root_name

    def cell(x: Any, digits: int = digits) -> str:  # arrays of more than 4 numbers as a summary
        return format_value(x, digits, max_elements=4)

    computed = tracer.computed_nodes
    lines = [f"Forward pass of {root}: {len(computed)} nodes computed, inputs first"]
    lines += [f"  {forward_equation(tracer, node)}" for node in computed] or [
        "  (none: the output is a leaf)"
    ]
    rows = []
    for step in tracer.steps:
        z = tracer.name(step.node)
        locals_, vjps = step_locals(tracer, step), step_vjps(tracer, step)
        for i, parent in enumerate(step.parents):
            if step.local_derivatives is not None:
                local = local_text(
                    locals_[i] if i < len(locals_) else None, step.local_derivatives[i], digits
                )
            elif step.contributions[i] is None:
                local = "(not needed)"
            else:
                local = _vjp_text(tracer, step, i, vjps[i] if i < len(vjps) else None)
            first = i == 0
            rows.append(
                [
                    str(step.index + 1) if first else "",
                    f"{z} = {forward_formula(tracer, step.node).symbolic}" if first else "",
                    cell(step.upstream, digits) if first else "",
                    tracer.name(parent),
                    local,
                    cell(step.contributions[i], digits),
                    cell(step.running[i], digits),
                ]
            )
    what = "∂node/∂parent" if tracer.is_scalar else f"d{root}/dparent (vector-Jacobian product)"
    header = ["step", "node", f"d{root}/dnode", "parent", what, "adds", f"d{root}/dparent so far"]
    rule = (
        f"d{root}/dparent += d{root}/dnode · ∂node/∂parent"
        if tracer.is_scalar
        else f"d{root}/dparent += the op's vector-Jacobian product of d{root}/dnode"
    )
    if tracer.seed is None:
        return "\n".join([*lines, "", f"Backward pass of {root}: {NO_GRADIENTS}"]) + "\n"
    lines += [
        "",
        f"Backward pass of {root}: {len(tracer.steps)} steps from the seed {seed_equation(tracer)}; {rule}",
    ]
    lines += _table(rows, header) if rows else ["(no steps: the output is a leaf)"]
    lines += ["", "Gradients after the pass:"]
    grads = []
    for node in tracer.order:
        kind = "leaf" if not node._parents else node._op
        grads.append(
            [
                tracer.name(node),
                kind,
                cell(node.data, digits),
                cell(tracer.gradients.get(id(node)), digits),
            ]
        )
    lines += _table(grads, ["node", "op", "data", f"d{root}/dnode"])
    return "\n".join(lines) + "\n"


def _shape_list(x: Any) -> list[int]:
    return [int(n) for n in np.shape(x)]


def forward_to_json(tracer: BackwardTracer, max_elements: int = 10_000) -> list[dict[str, Any]]:
    """One entry per computed node in topological order: name, formula (names), substituted (numbers;
    for scalars full precision), data, and the equation as shown; tensors add ``shapes``."""
    entries = []
    for node in tracer.computed_nodes:
        rendered = forward_formula(tracer, node)
        entry: dict[str, Any] = {"name": tracer.name(node), "op": node._op, "formula": rendered.symbolic}
        if isinstance(rendered, Formula):
            entry["substituted"] = rendered.substituted
        else:
            entry["substituted"] = rendered.numbers
            entry["shapes"] = rendered.shapes_line()
        entry["data"] = to_jsonable(node.data, max_elements)
        entry["equation"] = forward_equation(tracer, node)
        entries.append(entry)
    return entries


def trace_to_json(tracer: BackwardTracer, max_elements: int = 10_000) -> dict[str, Any]:
    """The trace as a JSON-able dict: the nodes, the forward pass, the seed, then each backward step.

    Each parent entry of a step has ``name``, ``local_derivative`` (scalars; None for tensors),
    ``formula`` (the local derivative in the graph's names; for tensors the VJP), ``substituted`` (the
    same with numbers: for scalars plain arithmetic that evaluates to ``local_derivative``; for tensors the
    numbers when small, else None), ``contribution`` and ``running``; tensor entries add ``shapes``.
    """
    nodes = [
        {
            "name": tracer.name(n),
            "op": n._op,
            "leaf": not n._parents,
            "parents": [tracer.name(p) for p in n._parents],
            "data": to_jsonable(n.data, max_elements),
            "grad": to_jsonable(tracer.gradients.get(id(n)), max_elements),
        }
        for n in tracer.order
    ]
    steps = []
    for step in tracer.steps:
        locals_, vjps = step_locals(tracer, step), step_vjps(tracer, step)
        parents = []
        for i, parent in enumerate(step.parents):
            entry: dict[str, Any] = {"name": tracer.name(parent)}
            if step.local_derivatives is not None:
                local = locals_[i] if i < len(locals_) else None
                entry["local_derivative"] = to_jsonable(step.local_derivatives[i])
                entry["formula"] = local.symbolic if local is not None else None
                entry["substituted"] = local.substituted if local is not None else None
            else:
                vjp = vjps[i] if i < len(vjps) else None
                entry["local_derivative"] = None
                entry["formula"] = vjp.symbolic if vjp is not None else None
                entry["substituted"] = vjp.numbers if vjp is not None else None
                entry["shapes"] = vjp.shapes_line() if vjp is not None else None
            entry["contribution"] = to_jsonable(step.contributions[i], max_elements)
            entry["running"] = to_jsonable(step.running[i], max_elements)
            parents.append(entry)
        steps.append(
            {
                "index": step.index,
                "node": tracer.name(step.node),
                "op": step.op,
                "upstream": to_jsonable(step.upstream, max_elements),
                "parents": parents,
                "headline": step_headline(tracer, step),
                "equations": step_equations(tracer, step),
            }
        )
    root = tracer.root_name
    return {
        "root": root,
        "engine": "scalar" if tracer.is_scalar else "tensor",
        "notation": f"d{root}/dx: the gradient of {root} w.r.t. x; ∂z/∂x: local derivative of op result z",
        "rule": f"d{root}/dparent += d{root}/dnode · ∂node/∂parent",
        "nodes": nodes,
        "forward": forward_to_json(tracer, max_elements),
        "seed": {
            "name": root,
            "value": to_jsonable(tracer.seed, max_elements),
            "equation": seed_equation(tracer) if tracer.seed is not None else NO_GRADIENTS,
        },
        "steps": steps,
    }


# --------------------------------------------------------------------------------------------------------
# Frames: the forward pass, the seed, then every backward step
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """One frame of the stepper: its ``phase`` (``forward``, ``seed`` or ``backward``), the node it is
    about, what it says (``headline``, ``equations``) and how to draw it (``state``)."""

    phase: str
    node: Node
    headline: str
    equations: list[str]
    state: Any  # viz.graph.FrameState (graphviz is imported only to draw)


def _forward_frames(tracer: BackwardTracer) -> list[Frame]:
    from viz.graph import FrameState

    done = {id(n) for n in tracer.order if not n._parents}
    frames = []
    for k, node in enumerate(tracer.computed_nodes):
        equations = [forward_equation(tracer, node)]
        if is_scalar_node(node):  # the engine works out each local derivative beside the result
            values = node._local_derivatives() or ()
            z = tracer.name(node)
            locals_ = [
                f"∂{z}/∂{tracer.name(p)} = {local_text(f, v, DIGITS)}"
                for p, f, v in zip(node._parents, scalar_locals(node, tracer.names), values)
            ]
            equations.append("local derivatives, kept for the backward pass: " + ";  ".join(locals_))
        frames.append(
            Frame(
                "forward",
                node,
                forward_headline(tracer, k),
                equations,
                FrameState(current=id(node), done=set(done), forward=True),
            )
        )
        done.add(id(node))
    return frames


def _seed_frame(tracer: BackwardTracer) -> Frame:
    from viz.graph import FrameState

    assert tracer.root is not None
    state = FrameState(current=id(tracer.root), grads={id(tracer.root): tracer.seed})
    return Frame("seed", tracer.root, seed_headline(tracer), [seed_equation(tracer)], state)


def _backward_frame(tracer: BackwardTracer, step: TraceStep) -> Frame:
    from viz.graph import FrameState

    vjps = [
        None if v is None else f"{_g(tracer, p)} += {v.symbolic}"
        for p, v in zip(step.parents, step_vjps(tracer, step))
    ]
    state = FrameState(
        current=id(step.node),
        done=tracer.finished_after(step.index),
        grads=tracer.running_after(step.index),
        contributions=step.contributions,
        vjps=vjps,
    )
    return Frame("backward", step.node, step_headline(tracer, step), step_equations(tracer, step), state)


def trace_frames(tracer: BackwardTracer, forward: bool = True) -> list[Frame]:
    """Every frame of the trace: the forward pass (one per computed node, when ``forward``), the seed,
    then one per backward step. Before any backward pass (a tracer not yet passed to ``backward``) there
    is only the forward pass."""
    if tracer.root is None:
        return []
    frames = _forward_frames(tracer) if forward else []
    if tracer.seed is None:
        return frames
    return frames + [_seed_frame(tracer)] + [_backward_frame(tracer, s) for s in tracer.steps]


def draw_frame(
    tracer: BackwardTracer,
    frame: Frame,
    rankdir: str,
    scale: Any,
    title: str | None,
    legend: bool,
    compact: bool = False,
) -> Any:
    """The ``graphviz.Digraph`` of one frame (see :func:`viz.graph.draw_graph`; ``compact``: its compact
    style)."""
    from viz.graph import draw_graph

    return draw_graph(
        tracer.root,
        rankdir,
        max_nodes=None,
        names=tracer.names,
        frame=frame.state,
        scale=scale,
        title=title,
        legend=legend,
        compact=compact,
    )


def color_scale(tracer: BackwardTracer) -> Any:
    """The one colour scale of every frame of a trace (from the final gradients)."""
    from viz.graph import ColorScale
    from viz.naming import magnitude

    return ColorScale.from_magnitudes(magnitude(g) for g in tracer.gradients.values())


def render_frames(
    tracer: BackwardTracer,
    rankdir: str = "LR",
    max_frames: int = 400,
    source_path: Path | None = None,
    title: str | None = None,
    frames: Sequence[Frame] | None = None,
    legend: bool = True,
    compact: bool = False,
) -> list[str]:
    """One SVG string per frame: by default one per backward step; pass ``frames`` (see
    :func:`trace_frames`) for the forward pass and the seed too. The current node is red, finished nodes
    are coloured by gradient, the rest dashed.

    Needs Graphviz's ``dot`` (see :func:`viz.graph.render_bytes`; the DOT source of a frame is written to
    ``source_path`` when it is missing). Graphs too large to draw node by node are refused. ``compact``:
    the compact style of :func:`viz.graph.draw_graph` (each edge's local derivative as a value only).
    """
    from autograd.errors import UsageError
    from viz.graph import svg_text

    if frames is None:
        frames = [_backward_frame(tracer, s) for s in tracer.steps]
    if len(frames) > max_frames:
        raise UsageError(f"the trace has {len(frames)} frames; frames are drawn for at most {max_frames}")
    scale = color_scale(tracer)
    source_path = source_path or Path("trace.dot")
    return [
        svg_text(draw_frame(tracer, f, rankdir, scale, title, legend, compact), source_path) for f in frames
    ]
