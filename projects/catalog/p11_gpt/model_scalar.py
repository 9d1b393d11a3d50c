"""The GPT on the scalar engine, in microgpt's style: every weight a ``Value``, every vector a list of them,
one token at a time, one name per training step.

It is microgpt's ``gpt()`` function with two of the engine's conveniences: a weighted sum
sum_i w_i x_i is one ``Value.dot`` node (microgpt writes ``sum(wi * xi ...)``, 2n nodes) and a plain sum is
one ``Value.sum`` node. The arithmetic is the same; the graph has fewer nodes.

For the token at position t, with x the sum of its token and position embeddings:

    rmsnorm(x) = x / sqrt(mean(x**2) + 1e-5)
    q, k, v = Wq x, Wk x, Wv x              (k and v are kept for the later positions: the "KV cache")
    for each head h (a slice of head_dim numbers):
        s_i = q_h . k_h[i] / sqrt(head_dim)   for every earlier position i <= t (causal by construction)
        a = softmax(s),   out_h = sum_i a_i v_h[i]
    x = x + Wo [out_1, ..., out_H];   x = x + W2 relu(W1 rmsnorm(x));   logits = W_lm x
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from autograd import Value, no_grad
from projects.catalog.p11_gpt.architecture import Sizes

StateDict = dict[str, list[list[Value]]]


def linear(x: Sequence[Value], w: list[list[Value]]) -> list[Value]:
    """y_o = sum_i w[o][i] x_i, one dot node per output."""
    return [Value.dot(row, x) for row in w]


def softmax(logits: Sequence[Value]) -> list[Value]:
    """p_i = e^(z_i - m) / sum_j e^(z_j - m), m = max_j z_j (a number: it cancels, and keeps every
    exponent <= 0 so nothing overflows)."""
    max_val = max(z.data for z in logits)
    exps = [(z - max_val).exp() for z in logits]
    total = Value.sum(exps)
    return [e / total for e in exps]


def rmsnorm(x: Sequence[Value]) -> list[Value]:
    """x_i / sqrt(mean_j x_j**2 + 1e-5)."""
    ms = Value.sum([xi * xi for xi in x]) / len(x)
    scale = (ms + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def attend(weights: Sequence[Value], values: Sequence[Sequence[Value]]) -> list[Value]:
    """The head's output: out_j = sum_i weights_i values[i][j], one dot node per output number."""
    return [Value.dot(weights, [v[j] for v in values]) for j in range(len(values[0]))]


def gpt(
    state_dict: StateDict,
    sizes: Sizes,
    token_id: int,
    pos_id: int,
    keys: list[list[list[Value]]],
    values: list[list[list[Value]]],
    record: dict[tuple[int, int, int], dict[str, Any]] | None = None,
) -> list[Value]:
    """The logits of the token after ``token_id`` at ``pos_id``; appends this position's keys and values to
    ``keys[layer]`` and ``values[layer]``. ``record``, if given, receives each head's attention scores,
    weights, values and output, keyed by (layer, position, head) (for the tracer)."""
    head_dim = sizes.head_dim
    tok_emb = state_dict["wte"][token_id]
    pos_emb = state_dict["wpe"][pos_id]
    x = [t + p for t, p in zip(tok_emb, pos_emb)]
    x = rmsnorm(x)  # not redundant: the residual path's backward goes through it
    for li in range(sizes.n_layer):
        x_residual = x
        x = rmsnorm(x)
        q = linear(x, state_dict[f"layer{li}.attn_wq"])
        k = linear(x, state_dict[f"layer{li}.attn_wk"])
        v = linear(x, state_dict[f"layer{li}.attn_wv"])
        keys[li].append(k)
        values[li].append(v)
        x_attn: list[Value] = []
        for h in range(sizes.n_head):
            hs = h * head_dim
            q_h = q[hs : hs + head_dim]
            k_h = [ki[hs : hs + head_dim] for ki in keys[li]]
            v_h = [vi[hs : hs + head_dim] for vi in values[li]]
            attn_logits = [Value.dot(q_h, k_t) / math.sqrt(head_dim) for k_t in k_h]
            attn_weights = softmax(attn_logits)
            head_out = attend(attn_weights, v_h)
            x_attn.extend(head_out)
            if record is not None:
                record[(li, pos_id, h)] = {
                    "scores": attn_logits,
                    "weights": attn_weights,
                    "values": v_h,
                    "out": head_out,
                }
        x = linear(x_attn, state_dict[f"layer{li}.attn_wo"])
        x = [a + b for a, b in zip(x, x_residual)]
        x_residual = x
        x = rmsnorm(x)
        x = linear(x, state_dict[f"layer{li}.mlp_fc1"])
        x = [xi.relu() for xi in x]
        x = linear(x, state_dict[f"layer{li}.mlp_fc2"])
        x = [a + b for a, b in zip(x, x_residual)]
    return linear(x, state_dict["lm_head"])


class ScalarGPT:
    """The scalar model's weights (``state_dict``: name -> rows of Values) and its loss and sampler."""

    def __init__(self, weights: dict[str, np.ndarray], sizes: Sizes) -> None:
        self.sizes = sizes
        self.state_dict: StateDict = {
            name: [[Value(w) for w in row] for row in matrix.tolist()] for name, matrix in weights.items()
        }

    def parameters(self) -> list[Value]:
        return [p for matrix in self.state_dict.values() for row in matrix for p in row]

    def weights(self) -> dict[str, np.ndarray]:
        """The weights as float64 arrays (the tensor model loads these)."""
        return {name: np.array([[p.data for p in row] for row in m]) for name, m in self.state_dict.items()}

    def gradients(self) -> dict[str, np.ndarray]:
        return {name: np.array([[p.grad for p in row] for row in m]) for name, m in self.state_dict.items()}

    def token_losses(self, tokens: Sequence[int], record: dict | None = None) -> list[Value]:
        """-log p(tokens[t+1] | tokens[..t]) for each position t of one document (microgpt's loop)."""
        n = min(self.sizes.block_size, len(tokens) - 1)
        keys: list[list[list[Value]]] = [[] for _ in range(self.sizes.n_layer)]
        values: list[list[list[Value]]] = [[] for _ in range(self.sizes.n_layer)]
        losses = []
        for pos_id in range(n):
            token_id, target_id = tokens[pos_id], tokens[pos_id + 1]
            logits = gpt(self.state_dict, self.sizes, token_id, pos_id, keys, values, record)
            probs = softmax(logits)
            losses.append(-probs[target_id].log())
        return losses

    def loss(self, documents: Sequence[Sequence[int]]) -> Value:
        """The mean of the token losses over every prediction of the documents (for one document:
        microgpt's ``(1 / n) * sum(losses)``)."""
        losses = [loss for tokens in documents for loss in self.token_losses(tokens)]
        return Value.sum(losses) * (1.0 / len(losses))

    def sample(self, bos: int, temperature: float, rng: np.random.Generator) -> list[int]:
        """One document drawn token by token from softmax(logits / temperature), until BOS or the end of
        the context (microgpt's inference loop); the tokens without the BOS marks."""
        keys: list[list[list[Value]]] = [[] for _ in range(self.sizes.n_layer)]
        values: list[list[list[Value]]] = [[] for _ in range(self.sizes.n_layer)]
        token_id, out = bos, []
        with no_grad():
            for pos_id in range(self.sizes.block_size):
                logits = gpt(self.state_dict, self.sizes, token_id, pos_id, keys, values)
                probs = softmax([z / temperature for z in logits])
                token_id = int(rng.choice(len(probs), p=_normalized([p.data for p in probs])))
                if token_id == bos:
                    break
                out.append(token_id)
        return out


def _normalized(probs: list[float]) -> np.ndarray:
    p = np.asarray(probs)
    return p / p.sum()  # rounding: NumPy wants a sum of 1 to about 1e-8
