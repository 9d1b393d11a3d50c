"""One attention head at one position, as a small scalar graph the tracer can step through.

The full model's graph for one name has tens of thousands of nodes; this is the piece that makes attention
attention. At position t of head h, given the scores s_i = q . k_i / sqrt(D) (i = 0..t) and the values v_i:

    a = softmax(s):  a_i = e^(s_i - m) / sum_j e^(s_j - m)        (m = max_j s_j, a number)
    o_j = sum_i a_i v_i[j]                                         (the weighted sum, one node per j)

The subgraph is rebuilt from the model's own numbers with the model's own functions (``softmax`` and
``attend`` of :mod:`.model_scalar`), on fresh leaves ``s0.. , v0_0..``. Its root is

    L = sum_j g_j o_j,   g_j = dLoss/do_j from the full model's backward pass on the same name,

so that dL/do_j = g_j and every gradient in the subgraph is the training loss's own: dL/ds_i and dL/da_i are
exactly the full model's (the scores feed nothing else), and dL/dv_i[j] is the part of the values'
gradient that flows through this position (later positions use v_i too).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from autograd import Value
from projects.catalog.p11_gpt.architecture import Sizes
from projects.catalog.p11_gpt.model_scalar import ScalarGPT, attend, softmax


@dataclass
class HeadTrace:
    """The rebuilt subgraph (``root``, its leaves) and the full model's numbers it must reproduce."""

    root: Value
    scores: list[Value]  # leaves s_i
    values: list[list[Value]]  # leaves v_i[j]
    weights: list[Value]  # a_i = softmax(s)_i
    out: list[Value]  # o_j
    model_scores_grad: list[float]  # dLoss/ds_i in the full model
    model_weights: list[float]  # a_i in the full model
    model_out: list[float]  # o_j in the full model
    attention: np.ndarray  # (n_head, T, T): every head's attention weights over the name (for a figure)
    position: int
    head: int


def trace_head(
    weights: dict[str, np.ndarray], sizes: Sizes, tokens: Sequence[int], position: int, head: int
) -> HeadTrace:
    """Run the scalar model on ``tokens`` (its loss and backward pass), then rebuild head ``head`` at
    ``position`` (both counted from 0; position 0 reads BOS) as a standalone graph, not yet backpropagated."""
    model = ScalarGPT(weights, sizes)
    record: dict = {}
    losses = model.token_losses(tokens, record)
    (Value.sum(losses) * (1.0 / len(losses))).backward()
    seen = record[(0, position, head)]
    scores = [Value(s.data, label=f"s{i}") for i, s in enumerate(seen["scores"])]
    values = [
        [Value(x.data, label=f"v{i}_{j}") for j, x in enumerate(v)] for i, v in enumerate(seen["values"])
    ]
    attention_weights = softmax(scores)
    for i, a in enumerate(attention_weights):
        a.label = f"a{i}"
    out = attend(attention_weights, values)
    for j, o in enumerate(out):
        o.label = f"o{j}"
    root = Value.dot(out, [o.grad for o in seen["out"]])
    length = len(losses)
    attention = np.zeros((sizes.n_head, length, length))
    for (layer, pos, h), entry in record.items():
        if layer == 0:
            attention[h, pos, : pos + 1] = [a.data for a in entry["weights"]]
    return HeadTrace(
        root,
        scores,
        values,
        attention_weights,
        out,
        [s.grad for s in seen["scores"]],
        [a.data for a in seen["weights"]],
        [o.data for o in seen["out"]],
        attention,
        position,
        head,
    )


def write_head_stepper(trace: HeadTrace, path: Path, context: str) -> Path:
    """Backpropagate the subgraph with the tracer attached and write the stepper page (needs Graphviz)."""
    from viz.stepper import write_stepper
    from viz.trace import trace_backward

    tracer = trace_backward(trace.root)
    t = trace.position
    return write_stepper(
        tracer,
        path,
        title=f"One attention head's softmax and weighted sum: head {trace.head}, position {t}",
        subtitle=(
            f"{context}. Scores s0..s{t} (q·k/√d) → a = softmax(s) → o_j = Σ_i a_i v_i[j]; "
            "L = Σ_j g_j o_j with g_j = dLoss/do_j from the full model, so every gradient shown is the "
            "training loss's own."
        ),
    )
