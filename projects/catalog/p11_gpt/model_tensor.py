"""The same GPT on the Tensor engine: a batch of names at once, each weight one matrix.

A batch is B names padded to the longest, T positions: token ids (B, T). Every step of the scalar model
becomes one array operation over all B x T positions:

    x = wte[tokens] + wpe[0..T-1]                        (B, T, C)  embedding lookup by index
    q, k, v = rmsnorm(x) @ Wq.T, ... -> (B, H, T, D)     the heads side by side
    S = q @ k^T / sqrt(D) with -inf above the diagonal    causal mask: position t sees positions <= t
    A = softmax(S) over the last axis,   out = A @ v     (B, H, T, D), then heads joined: (B, T, C)
    x = x + out @ Wo.T;   x = x + relu(rmsnorm(x) @ W1.T) @ W2.T;   logits = x @ W_lm.T
    loss = sum over real positions of -log softmax(logits)[target] / their number   (the mask)

Padding comes after a name's last real position, so causal attention never lets a real position see it;
the mask drops the padded positions from the loss. The scalar model's KV cache is the causal mask here:
the scalar model builds position t's keys once and reuses them; the tensor model computes all positions'
keys at once and masks the future out.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from autograd import Tensor, no_grad, where
from projects.catalog.p11_gpt.architecture import Sizes
from projects.catalog.p11_gpt.data import pad_batch


def rmsnorm(x: Tensor) -> Tensor:
    """x / sqrt(mean(x**2) + 1e-5) over the last axis."""
    return x * ((x * x).mean(axis=-1, keepdims=True) + 1e-5).rsqrt()


def causal_attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """softmax(q k^T / sqrt(D), masked to positions <= t) v, for q, k, v of shape (B, H, T, D)."""
    length, head_dim = q.shape[-2], q.shape[-1]
    scores = (q @ k.transpose(0, 1, 3, 2)) * (1.0 / np.sqrt(head_dim))
    allowed = np.tril(np.ones((length, length), dtype=bool))  # row t: the positions t may attend to
    scores = where(allowed, scores, -np.inf)
    return scores.softmax(axis=-1) @ v


class TensorGPT:
    """The model's weights as Tensors (same names and shapes as the scalar model's) and its forward pass."""

    def __init__(self, weights: dict[str, np.ndarray], sizes: Sizes, dtype: Any = np.float64) -> None:
        self.sizes = sizes
        self.params = {  # copies: the optimizer updates them in place
            name: Tensor(np.array(w, dtype=dtype), requires_grad=True, dtype=dtype, label=name)
            for name, w in weights.items()
        }

    def parameters(self) -> list[Tensor]:
        return list(self.params.values())

    def weights(self) -> dict[str, np.ndarray]:
        return {name: p.data.astype(np.float64) for name, p in self.params.items()}

    def gradients(self) -> dict[str, np.ndarray]:
        return {name: np.zeros(p.shape) if p.grad is None else p.grad for name, p in self.params.items()}

    def logits(self, tokens: np.ndarray) -> Tensor:
        """The next-token logits (B, T, V) for token ids (B, T)."""
        w, sizes = self.params, self.sizes
        batch, length = tokens.shape
        heads, head_dim = sizes.n_head, sizes.head_dim
        x = w["wte"][tokens] + w["wpe"][:length]
        x = rmsnorm(x)
        for li in range(sizes.n_layer):
            x_residual = x
            x = rmsnorm(x)

            def split_heads(m: Tensor) -> Tensor:  # (B, T, C) -> (B, H, T, D)
                return m.reshape(batch, length, heads, head_dim).transpose(0, 2, 1, 3)

            q = split_heads(x @ w[f"layer{li}.attn_wq"].T)
            k = split_heads(x @ w[f"layer{li}.attn_wk"].T)
            v = split_heads(x @ w[f"layer{li}.attn_wv"].T)
            out = causal_attention(q, k, v).transpose(0, 2, 1, 3).reshape(batch, length, sizes.n_embd)
            x = out @ w[f"layer{li}.attn_wo"].T + x_residual
            x_residual = x
            x = (rmsnorm(x) @ w[f"layer{li}.mlp_fc1"].T).relu() @ w[f"layer{li}.mlp_fc2"].T + x_residual
        return x @ w["lm_head"].T

    def loss(self, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> Tensor:
        """Mean of -log p(target) over the positions where ``mask`` is 1."""
        log_p = self.logits(inputs).log_softmax(axis=-1)
        picked = log_p.gather(-1, targets[..., None]).reshape(targets.shape)
        return -(picked * Tensor(mask, dtype=log_p.dtype)).sum() * (1.0 / mask.sum())

    def batch_loss(self, sequences: Sequence[Sequence[int]], pad: int) -> Tensor:
        """The loss of a list of token sequences, padded into one batch."""
        return self.loss(*pad_batch(sequences, pad))

    def total_nll(self, sequences: Sequence[Sequence[int]], pad: int, chunk: int = 1024) -> tuple[float, int]:
        """Sum of -log p over every prediction of the sequences, and their number (no graph recorded)."""
        total, count = 0.0, 0
        with no_grad():
            for start in range(0, len(sequences), chunk):
                inputs, targets, mask = pad_batch(sequences[start : start + chunk], pad)
                log_p = self.logits(inputs).log_softmax(axis=-1).data
                picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
                total -= float((picked * mask).sum())
                count += int(mask.sum())
        return total, count

    def sample(self, count: int, bos: int, temperature: float, rng: np.random.Generator) -> list[list[int]]:
        """``count`` documents drawn in parallel, token by token from softmax(logits / temperature) at the
        last position, each until it draws BOS or fills the context; their tokens without the BOS marks."""
        if count == 0:
            return []
        tokens = np.full((count, 1), bos, dtype=np.intp)
        finished = np.zeros(count, dtype=bool)
        with no_grad():
            for _ in range(self.sizes.block_size):
                last = self.logits(tokens)[:, -1, :] * (1.0 / temperature)
                drawn = last.softmax(axis=-1).multinomial(1, rng=rng).data[:, 0]
                drawn = np.where(finished, bos, drawn)
                finished |= drawn == bos
                tokens = np.concatenate([tokens, drawn[:, None]], axis=1)
                if finished.all():
                    break
        documents = []
        for row in tokens[:, 1:]:
            ends = np.flatnonzero(row == bos)
            documents.append(row[: ends[0] if len(ends) else len(row)].tolist())
        return documents
