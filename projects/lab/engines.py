"""The same network trained on both engines, side by side: the scalar ``Value`` and the NumPy ``Tensor``.

The tensor model is loaded with the scalar model's weights, both are trained by the shared loop on the same
batches (one shuffling seed), and every step's loss is recorded. In float64 both engines do the same
arithmetic in a different order, so their losses agree to rounding (about 1e-12) while their times differ
by orders of magnitude: :func:`train_side_by_side` measures both. ``backprop-lab compare`` and project 03's
``--engine scalar`` use it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from autograd.nn import Module
from autograd.optim import Optimizer
from projects.lab.training import fit


@dataclass
class SideBySide:
    """What the two trainings recorded: each step's loss and each engine's time."""

    scalar_losses: np.ndarray
    tensor_losses: np.ndarray
    scalar_seconds: float
    tensor_seconds: float
    weights_agreement: float
    """max |w_scalar - w_tensor| over every weight after training."""

    @property
    def loss_agreement(self) -> float:
        """max over steps of |loss_scalar - loss_tensor|."""
        return float(np.max(np.abs(self.scalar_losses - self.tensor_losses)))

    @property
    def time_ratio(self) -> float:
        """How many times longer the scalar engine took."""
        return self.scalar_seconds / max(self.tensor_seconds, 1e-9)


def train_side_by_side(
    scalar: Module,
    tensor: Module,
    losses: tuple[Callable[..., Any], Callable[..., Any]],
    data: tuple[Any, Any],
    optimizer: Callable[[list[Any]], Optimizer],
    *,
    epochs: int,
    batch_size: int,
    order_seed: int,
    shuffle: bool = True,
    progress: bool | None = False,
    scalar_data: tuple[Any, Any] | None = None,
) -> SideBySide:
    """Copy ``scalar``'s weights into ``tensor``, train each with its loss of ``losses`` (scalar's first) on
    the same batches, and return every step's loss and each engine's time.

    ``optimizer(parameters)`` makes a fresh optimizer for each model; ``scalar_data`` (default ``data``) is
    the training set as the scalar loss wants it (lists of floats, say).
    """
    tensor.load_state_dict(scalar.state_dict())  # the very same starting weights
    recorded: dict[str, list[float]] = {"scalar": [], "tensor": []}
    seconds: dict[str, float] = {}
    runs = (("scalar", scalar, losses[0], scalar_data or data), ("tensor", tensor, losses[1], data))
    for engine, model, loss_fn, train in runs:

        def recording_loss(
            net: Module, xb: Any, yb: Any, loss_fn: Any = loss_fn, engine: str = engine
        ) -> Any:
            loss = loss_fn(net, xb, yb)
            recorded[engine].append(float(loss.data))
            return loss

        start = time.perf_counter()
        fit(
            model,
            optimizer(model.parameters()),
            recording_loss,
            train,
            epochs=epochs,
            batch_size=batch_size,
            rng=np.random.default_rng(order_seed),  # the same batches for both engines
            shuffle=shuffle,
            progress=progress,
            desc=f"{engine} engine",
        )
        seconds[engine] = time.perf_counter() - start
    final_scalar, final_tensor = scalar.state_dict(), tensor.state_dict()
    return SideBySide(
        scalar_losses=np.array(recorded["scalar"]),
        tensor_losses=np.array(recorded["tensor"]),
        scalar_seconds=seconds["scalar"],
        tensor_seconds=seconds["tensor"],
        weights_agreement=max(float(np.max(np.abs(final_scalar[k] - final_tensor[k]))) for k in final_scalar),
    )
