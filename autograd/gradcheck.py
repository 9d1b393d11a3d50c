"""Check the engine's gradients against central finite differences, in float64.

For each input entry x_i:   dL/dx_i ~ (L(x + h e_i) - L(x - h e_i)) / (2h),   error O(h^2).
Works for any function of Values or Tensors that returns a single-element result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence, Union

import numpy as np

from autograd.core import no_grad
from autograd.scalar import Value
from autograd.tensor import Tensor

Input = Union[Value, Tensor]


@dataclass
class GradcheckReport:
    """The worst mismatch found: which input (by position), which entry, both derivatives, the errors."""

    ok: bool
    worst_input: int
    worst_index: tuple[int, ...]
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float

    def __str__(self) -> str:
        verdict = "ok" if self.ok else "MISMATCH"
        return (
            f"gradcheck {verdict}: worst at input {self.worst_input} index {self.worst_index}: "
            f"analytic {self.analytic:.10g}, numeric {self.numeric:.10g} "
            f"(abs {self.abs_error:.3g}, rel {self.rel_error:.3g})"
        )


def _scalar(out: Value | Tensor) -> float:
    return out.data if isinstance(out, Value) else float(np.asarray(out.data).reshape(()))


def gradcheck(
    fn: Callable[..., Value | Tensor],
    inputs: Sequence[Input],
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-5,
) -> GradcheckReport:
    """Compare backward() of ``fn(*inputs)`` with central differences for every entry of every input.

    Tensor inputs must be float64 (float32 differences are too coarse). An entry passes when
    |analytic - numeric| <= atol + rtol * |numeric|.
    """
    for x in inputs:
        if isinstance(x, Tensor) and x.dtype != np.float64:
            raise TypeError("gradcheck needs float64 tensors")
        x.zero_grad()
    out = fn(*inputs)
    out.backward()
    worst = GradcheckReport(True, -1, (), 0.0, 0.0, 0.0, 0.0)
    worst_score = -np.inf
    for position, x in enumerate(inputs):
        if isinstance(x, Value):
            entries = [((), x)]
        else:
            entries = [(index, x) for index in np.ndindex(x.shape)]
        for index, holder in entries:
            analytic = _analytic(holder, index)
            numeric = _central_difference(fn, inputs, holder, index, eps)
            abs_error = abs(analytic - numeric)
            rel_error = abs_error / max(abs(numeric), 1e-12)
            score = abs_error - (atol + rtol * abs(numeric))
            if score > worst_score or not np.isfinite(score):
                worst_score = score
                worst = GradcheckReport(score <= 0, position, index, analytic, numeric, abs_error, rel_error)
            if not np.isfinite(score):
                return worst
    return worst


def _analytic(x: Input, index: tuple[int, ...]) -> float:
    if isinstance(x, Value):
        return x.grad
    return 0.0 if x.grad is None else float(x.grad[index])


def _central_difference(
    fn: Callable[..., Value | Tensor], inputs: Sequence[Input], x: Input, index: tuple[int, ...], h: float
) -> float:
    def shifted(delta: float) -> float:
        with no_grad():  # only the value is needed: record no graph
            return _evaluate(delta)

    def _evaluate(delta: float) -> float:
        if isinstance(x, Value):
            original = x.data
            x.data = original + delta
            try:
                return _scalar(fn(*inputs))
            finally:
                x.data = original
        original = x.data[index]
        x.data[index] = original + delta
        try:
            return _scalar(fn(*inputs))
        finally:
            x.data[index] = original

    return (shifted(h) - shifted(-h)) / (2 * h)
