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
from autograd.functional import (
    affine,
    avg_pool1d,
    avg_pool2d,
    binary_cross_entropy,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    max_pool1d,
    max_pool2d,
    maximum,
    minimum,
    multinomial,
    pad,
    scaled_dot_product_attention,
)
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
    where,
)

__version__ = "0.1.0"

__all__ = [
    "affine",
    "BackwardStep",
    "Tensor",
    "Value",
    "avg_pool1d",
    "avg_pool2d",
    "backpropagate",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "concat",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "cross_entropy",
    "huber_loss",
    "is_grad_enabled",
    "mae_loss",
    "max_pool1d",
    "max_pool2d",
    "maximum",
    "minimum",
    "mse_loss",
    "multinomial",
    "no_grad",
    "pad",
    "scaled_dot_product_attention",
    "stack",
    "topological_sort",
    "unbroadcast",
    "where",
    "__version__",
]
