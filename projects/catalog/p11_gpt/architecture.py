"""The GPT's sizes and its weights, shared by the scalar and the tensor model.

Both models read the same dict of NumPy matrices, named and shaped as in microgpt: each matrix is
(outputs, inputs), so a linear layer computes y_o = sum_i W[o, i] x_i (``x @ W.T`` for a batch of rows).

    wte (V, C)   token embeddings          wpe (block_size, C)   position embeddings
    layer{l}.attn_wq, attn_wk, attn_wv, attn_wo (C, C)           the attention's projections
    layer{l}.mlp_fc1 (M, C), mlp_fc2 (C, M)                        the MLP (M = mlp_width)
    lm_head (V, C)                                                 the logits of the next token
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Sizes:
    """The model's dimensions (Config fields of the same names)."""

    vocab_size: int
    n_embd: int = 16
    n_head: int = 4
    n_layer: int = 1
    block_size: int = 16
    mlp_width: int = 64

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def shapes(self) -> dict[str, tuple[int, int]]:
        """Every weight matrix's name and (outputs, inputs) shape, in microgpt's order."""
        c, m = self.n_embd, self.mlp_width
        shapes = {"wte": (self.vocab_size, c), "wpe": (self.block_size, c), "lm_head": (self.vocab_size, c)}
        for layer in range(self.n_layer):
            for name in ("attn_wq", "attn_wk", "attn_wv", "attn_wo"):
                shapes[f"layer{layer}.{name}"] = (c, c)
            shapes[f"layer{layer}.mlp_fc1"] = (m, c)
            shapes[f"layer{layer}.mlp_fc2"] = (c, m)
        return shapes

    def parameter_count(self) -> int:
        return sum(rows * cols for rows, cols in self.shapes().values())


def initial_weights(sizes: Sizes, rng: np.random.Generator, std: float = 0.08) -> dict[str, np.ndarray]:
    """Every matrix drawn from N(0, std^2), microgpt's initialization (float64)."""
    return {name: rng.normal(0.0, std, size=shape) for name, shape in sizes.shapes().items()}
