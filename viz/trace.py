"""Node-by-node tracing of a backward pass, on the engine's own backward observer.

:class:`BackwardTracer` is passed as ``observer`` to ``root.backward(observer=tracer)``; the engine's one
backward driver (:func:`autograd.core.backpropagate`) calls it once per node that has parents, in the
order it applies the chain rule. Nothing here differentiates anything: the tracer only records what the
driver hands it and keeps a running sum of the gradients.

At the step for node z with parents p_i, the driver knows dL/dz (complete: every consumer of z was
processed before) and adds, for each parent,

    dL/dp_i += dL/dz * dz/dp_i

where dz/dp_i is the local derivative (a number on the scalar engine; on the Tensor engine the product is
a vector-Jacobian product and only the contribution is shown). After the step, the *running gradient* of
p_i is the sum of the contributions it has received so far; it is complete once every node that uses p_i
has had its step. Leaves (inputs, parameters) have no step of their own: their gradient is complete after
the last step that contributes to them.

Renderers: :func:`render_table` (terminal text), :func:`trace_to_json` (JSON-able dict),
:func:`render_frames` (one SVG per step, needs Graphviz) and :func:`step_equations` (the chain rule of a
step in words and numbers, used by all of them and by the HTML stepper in :mod:`viz.stepper`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from autograd.core import BackwardStep, Node
from viz.naming import (
    format_value,
    formula,
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
# The chain rule of one step, in words and numbers
# --------------------------------------------------------------------------------------------------------


def step_headline(tracer: BackwardTracer, step: TraceStep) -> str:
    """``Step 3/9: t2 = tanh(t1); dL/dt2 = 0.5 (complete: every node that uses it is done)``."""
    z = tracer.name(step.node)
    computed = formula(step.op, [tracer.name(p) for p in step.parents])
    root = tracer.root_name
    why = "the seed" if step.node is tracer.root else "complete: every node that uses it is done"
    return (
        f"Step {step.index + 1}/{len(tracer.steps)}: {z} = {computed}; "
        f"d{root}/d{z} = {format_value(step.upstream, 6)} ({why})"
    )


def step_equations(tracer: BackwardTracer, step: TraceStep) -> list[str]:
    """One line per parent: ``dL/dw += dL/dz * dz/dw = 0.5 * 2 = 1   (dL/dw so far: 1)``."""
    root, z = tracer.root_name, tracer.name(step.node)
    lines = []
    for i, parent in enumerate(step.parents):
        p = tracer.name(parent)
        contribution = step.contributions[i] if i < len(step.contributions) else None
        if contribution is None:
            lines.append(f"d{root}/d{p}: not needed ({p} needs no gradient)")
            continue
        if step.local_derivatives is not None:
            local = step.local_derivatives[i]
            upstream = format_value(step.upstream, 6)
            numbers = f"{upstream} * {format_value(local, 6)} = {format_value(contribution, 6)}"
            rule = f"d{root}/d{z} * d{z}/d{p}"
        else:
            numbers = format_value(contribution, 4)
            rule = f"d{root}/d{z} through {step.op} (vector-Jacobian product)"
        so_far = format_value(step.running[i], 6)
        lines.append(f"d{root}/d{p} += {rule} = {numbers}   (d{root}/d{p} so far: {so_far})")
    return lines


# --------------------------------------------------------------------------------------------------------
# Renderers
# --------------------------------------------------------------------------------------------------------


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths)), *(fmt.format(*r) for r in rows)]
    return [line.rstrip() for line in lines]


def render_table(tracer: BackwardTracer, digits: int = 6) -> str:
    """The trace as a text table (one row per parent of each step), then every node's final gradient."""
    root = tracer.root_name

    def cell(x: Any, digits: int = digits) -> str:  # arrays of more than 4 numbers as a summary
        return format_value(x, digits, max_elements=4)

    rows = []
    for step in tracer.steps:
        z = tracer.name(step.node)
        for i, parent in enumerate(step.parents):
            local = step.local_derivatives[i] if step.local_derivatives is not None else None
            first = i == 0
            rows.append(
                [
                    str(step.index + 1) if first else "",
                    f"{z} = {formula(step.op, [tracer.name(p) for p in step.parents])}" if first else "",
                    cell(step.upstream, digits) if first else "",
                    tracer.name(parent),
                    cell(local, digits) if step.local_derivatives is not None else "(vjp)",
                    cell(step.contributions[i], digits),
                    cell(step.running[i], digits),
                ]
            )
    header = ["step", "node", f"d{root}/dnode", "parent", "dnode/dparent", "adds", f"d{root}/dparent so far"]
    lines = [f"Backward pass of {root}: {len(tracer.steps)} steps, dL/dparent += dL/dnode * dnode/dparent"]
    lines = [lines[0].replace("dL/", f"d{root}/")]
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


def trace_to_json(tracer: BackwardTracer, max_elements: int = 10_000) -> dict[str, Any]:
    """The trace as a JSON-able dict: the nodes, then each step with its numbers and equations."""
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
        parents = []
        for i, parent in enumerate(step.parents):
            entry = {
                "name": tracer.name(parent),
                "contribution": to_jsonable(step.contributions[i], max_elements),
                "running": to_jsonable(step.running[i], max_elements),
            }
            if step.local_derivatives is not None:
                entry["local_derivative"] = to_jsonable(step.local_derivatives[i])
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
    return {
        "root": tracer.root_name,
        "engine": "scalar" if tracer.is_scalar else "tensor",
        "rule": "dL/dparent += dL/dnode * dnode/dparent",
        "nodes": nodes,
        "steps": steps,
    }


def render_frames(
    tracer: BackwardTracer,
    rankdir: str = "LR",
    max_frames: int = 400,
    source_path: Path | None = None,
    title: str | None = None,
) -> list[str]:
    """One SVG string per step: the current node red, finished nodes coloured by gradient, the rest dashed.

    Needs Graphviz's ``dot`` (see :func:`viz.graph.render_bytes`; the DOT source of the first frame is
    written to ``source_path`` when it is missing). Graphs too large to draw node by node are refused.
    """
    from autograd.errors import UsageError
    from viz.graph import ColorScale, FrameState, draw_graph, svg_text
    from viz.naming import magnitude

    if len(tracer.steps) > max_frames:
        raise UsageError(
            f"the backward pass has {len(tracer.steps)} steps; frames are drawn for at most {max_frames}"
        )
    assert tracer.root is not None or not tracer.steps
    scale = ColorScale.from_magnitudes(magnitude(g) for g in tracer.gradients.values())
    source_path = source_path or Path("trace.dot")
    frames = []
    for step in tracer.steps:
        state = FrameState(
            current=id(step.node),
            done=tracer.finished_after(step.index),
            grads=tracer.running_after(step.index),
            contributions=step.contributions,
        )
        graph = draw_graph(
            tracer.root, rankdir, max_nodes=None, names=tracer.names, frame=state, scale=scale, title=title
        )
        frames.append(svg_text(graph, source_path))
    return frames
