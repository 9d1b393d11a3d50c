"""backprop-lab's autograd engine: a scalar ``Value`` and a NumPy ``Tensor`` on one graph core.

>>> from autograd import Value
>>> a, b = Value(-4.0), Value(2.0)
>>> c = a * b + b**3
>>> c.backward()
>>> a.grad, b.grad
(2.0, -4.0 + 12.0)  # doctest: +SKIP

Importing this package loads NumPy and nothing heavier (no matplotlib, no graphviz).
"""

from autograd.core import BackwardStep, backpropagate, is_grad_enabled, no_grad, topological_sort
from autograd.scalar import Value
from autograd.tensor import (
    Tensor,
    binary_cross_entropy_with_logits,
    concat,
    cross_entropy,
    huber_loss,
    mae_loss,
    mse_loss,
    stack,
    unbroadcast,
)

__version__ = "0.1.0"

__all__ = [
    "BackwardStep",
    "Tensor",
    "Value",
    "backpropagate",
    "binary_cross_entropy_with_logits",
    "concat",
    "cross_entropy",
    "huber_loss",
    "is_grad_enabled",
    "mae_loss",
    "mse_loss",
    "no_grad",
    "stack",
    "topological_sort",
    "unbroadcast",
    "__version__",
]
