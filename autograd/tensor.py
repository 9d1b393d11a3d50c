"""``Tensor``: a NumPy array that remembers how it was computed, on the same graph core as ``Value``.

An operation is applied through :meth:`Tensor._apply`, which runs the op's forward pass (see
:mod:`autograd.ops`) and, when a gradient is wanted, records the op, its saved values and its inputs.
``backward()`` hands the graph to :func:`autograd.core.backpropagate`, the driver that ``Value`` uses too.

Broadcasting
------------
NumPy broadcasting lets ``x (N, 3) + b (3,)`` copy ``b`` along a new leading axis. In the backward pass,
each copy of ``b`` receives its own slice of the gradient, and the gradient of ``b`` is their *sum*.
That summation happens in exactly one place, :func:`unbroadcast`, called by :meth:`Tensor._chain_rule`
for every input of every op: an op's ``backward`` never has to think about it.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from autograd import ops
from autograd.core import BackwardObserver, backpropagate, grad_mode

DEFAULT_DTYPE = np.float32
ArrayLike = Any


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` (shaped like a broadcast result) back to an input's ``shape``.

    Broadcasting (1) prepends axes to the smaller operand and (2) stretches its axes of length 1; each
    stretched copy got its own gradient, so the input's gradient is the sum over (1) the prepended axes
    and (2) the stretched axes (kept with length 1).
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad if grad.shape == shape else grad.reshape(shape)


class Tensor:
    """An n-dimensional array ``data`` (float32 unless another dtype is asked for) with a gradient ``grad``.

    ``requires_grad=True`` marks a leaf whose gradient is wanted (parameters); results of ops on such
    tensors require gradients too. ``grad`` stays ``None`` until a backward pass reaches the tensor.
    """

    __slots__ = ("data", "grad", "requires_grad", "label", "_parents", "_op", "_fn", "_ctx")
    __array_priority__ = 100  # make `ndarray * Tensor` call Tensor.__rmul__

    def __init__(
        self, data: ArrayLike, requires_grad: bool = False, dtype: Any = None, label: str = ""
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        self.data = np.asarray(data, dtype=dtype or DEFAULT_DTYPE)
        self.grad: np.ndarray | None = None
        self.requires_grad = requires_grad
        self.label = label
        self._parents: tuple[Tensor, ...] = ()
        self._op = ""
        self._fn: type[ops.Op] | None = None
        self._ctx: ops.Context | None = None

    # ---- applying ops --------------------------------------------------------------------------------------

    @staticmethod
    def _apply(fn: type[ops.Op], *inputs: Tensor, **params: Any) -> Tensor:
        """Run ``fn.forward`` on the inputs' arrays; record the graph if any input wants a gradient."""
        needs = tuple([t.requires_grad for t in inputs])
        ctx = ops.Context(needs)
        data = fn.forward(ctx, *[t.data for t in inputs], **params)
        out = Tensor.__new__(Tensor)
        out.data = data if type(data) is np.ndarray else np.asarray(data)  # NumPy reductions give scalars
        out.grad = None
        out.label = ""
        out._op = fn.name
        if True in needs and grad_mode.enabled:
            out.requires_grad = True
            out._parents, out._fn, out._ctx = inputs, fn, ctx
        else:
            out.requires_grad = False
            out._parents, out._fn, out._ctx = (), None, None
        return out

    def _lift(self, other: ArrayLike) -> Tensor:
        """A number or array operand as a constant Tensor of this tensor's dtype (needs no gradient)."""
        if isinstance(other, Tensor):
            return other
        return Tensor(other, dtype=self.data.dtype)

    # ---- the node protocol (see autograd.core) -----------------------------------------------------------

    def _chain_rule(self, upstream: np.ndarray) -> list[np.ndarray | None]:
        """The op's vector-Jacobian products, each summed back to its input's shape (``unbroadcast``).

        An op may hand ``upstream`` itself on (``Add``: dz/dx = 1) or one array to two inputs; such a
        gradient is copied here, so that no two nodes are ever given the same array (``_accumulate_grad``
        keeps what it is given without copying it).
        """
        assert self._fn is not None and self._ctx is not None
        grads = self._fn.backward(self._ctx, upstream)
        out: list[np.ndarray | None] = []
        given = {id(upstream)}
        for g, parent in zip(grads, self._parents):
            if g is None or not parent.requires_grad:
                out.append(None)
                continue
            g = unbroadcast(np.asarray(g), parent.data.shape)
            if id(g) in given:
                g = g.copy()
            given.add(id(g))
            out.append(g)
        return out

    def _local_derivatives(self) -> None:
        return None  # Jacobians of tensor ops are never formed; the tracer shows the contributions

    def _accumulate_grad(self, grad: np.ndarray) -> None:
        """self.grad += grad. On first use the array is kept as it is when it is this node's own (a new
        array of this dtype: see ``_chain_rule``), and copied when it is a view or of another dtype."""
        if self.grad is not None:
            self.grad += grad
        elif isinstance(grad, np.ndarray) and grad.base is None and grad.dtype == self.data.dtype:
            self.grad = grad
        else:
            self.grad = np.array(grad, dtype=self.data.dtype, copy=True)

    def backward(self, grad: ArrayLike | None = None, observer: BackwardObserver | None = None) -> None:
        """Add dL/d(node) to ``node.grad`` for every node this tensor depends on (L = this tensor).

        ``grad`` is dL/d(self); it may be omitted for a tensor of one element (then it is 1).
        """
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() without a gradient needs a single-element tensor, got {self.shape}"
                )
            seed = np.ones_like(self.data)
        else:  # a copy: the root keeps it as its gradient
            seed = np.array(grad, dtype=self.data.dtype, copy=True).reshape(self.data.shape)
        backpropagate(self, seed, observer)

    # ---- array facts --------------------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> float:
        return self.data.item()

    def detach(self) -> Tensor:
        """The same data with no graph and no gradient."""
        return Tensor(self.data, dtype=self.data.dtype)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, precision=4, threshold=20)}, dtype={self.dtype}{grad})"

    # ---- arithmetic ---------------------------------------------------------------------------------------

    def __add__(self, other: ArrayLike) -> Tensor:
        return Tensor._apply(ops.Add, self, self._lift(other))

    def __radd__(self, other: ArrayLike) -> Tensor:
        return Tensor._apply(ops.Add, self._lift(other), self)

    def __sub__(self, other: ArrayLike) -> Tensor:
        return Tensor._apply(ops.Sub, self, self._lift(other))

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return Tensor._apply(ops.Sub, self._lift(other), self)

    def __mul__(self, other: ArrayLike) -> Tensor:
        return Tensor._apply(ops.Mul, self, self._lift(other))

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return Tensor._apply(ops.Mul, self._lift(other), self)

    def __truediv__(self, other: ArrayLike) -> Tensor:
        return Tensor._apply(ops.Div, self, self._lift(other))

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        return Tensor._apply(ops.Div, self._lift(other), self)

    def __pow__(self, other: ArrayLike) -> Tensor:
        return Tensor._apply(ops.Pow, self, self._lift(other))

    def __rpow__(self, other: ArrayLike) -> Tensor:
        return Tensor._apply(ops.Pow, self._lift(other), self)

    def __matmul__(self, other: ArrayLike) -> Tensor:
        return Tensor._apply(ops.MatMul, self, self._lift(other))

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        return Tensor._apply(ops.MatMul, self._lift(other), self)

    def __neg__(self) -> Tensor:
        return Tensor._apply(ops.Neg, self)

    # ---- reductions ---------------------------------------------------------------------------------------

    def sum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return Tensor._apply(ops.Sum, self, axis=_axis(axis), keepdims=keepdims)

    def mean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return Tensor._apply(ops.Mean, self, axis=_axis(axis), keepdims=keepdims)

    def max(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return Tensor._apply(ops.Max, self, axis=_axis(axis), keepdims=keepdims)

    def min(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return Tensor._apply(ops.Min, self, axis=_axis(axis), keepdims=keepdims)

    # ---- shape --------------------------------------------------------------------------------------------

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        target = tuple(shape[0]) if len(shape) == 1 and not isinstance(shape[0], int) else shape
        return Tensor._apply(ops.Reshape, self, shape=target)

    def transpose(self, *axes: int) -> Tensor:
        return Tensor._apply(ops.Transpose, self, axes=axes or None)

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def __getitem__(self, index: Any) -> Tensor:
        if isinstance(index, Tensor):
            index = index.data.astype(np.intp)
        return Tensor._apply(ops.GetItem, self, index=index)

    # ---- elementary functions and activations ------------------------------------------------------------

    def exp(self) -> Tensor:
        return Tensor._apply(ops.Exp, self)

    def log(self) -> Tensor:
        return Tensor._apply(ops.Log, self)

    def sqrt(self) -> Tensor:
        return Tensor._apply(ops.Sqrt, self)

    def abs(self) -> Tensor:
        return Tensor._apply(ops.Abs, self)

    __abs__ = abs

    def tanh(self) -> Tensor:
        return Tensor._apply(ops.Tanh, self)

    def sigmoid(self) -> Tensor:
        return Tensor._apply(ops.Sigmoid, self)

    def relu(self) -> Tensor:
        return Tensor._apply(ops.ReLU, self)

    def leaky_relu(self, alpha: float = 0.01) -> Tensor:
        return Tensor._apply(ops.LeakyReLU, self, alpha=alpha)

    def elu(self, alpha: float = 1.0) -> Tensor:
        return Tensor._apply(ops.ELU, self, alpha=alpha)

    def silu(self) -> Tensor:
        return Tensor._apply(ops.SiLU, self)

    def softplus(self) -> Tensor:
        return Tensor._apply(ops.Softplus, self)

    def softmax(self, axis: int = -1) -> Tensor:
        return Tensor._apply(ops.Softmax, self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return Tensor._apply(ops.LogSoftmax, self, axis=axis)

    def dropout(self, p: float, rng: np.random.Generator, training: bool = True) -> Tensor:
        """Inverted dropout (see ``ops.Dropout``); the identity when not training or when p = 0."""
        if not training or p == 0:
            return self
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        return Tensor._apply(ops.Dropout, self, p=p, rng=rng)


def _axis(axis: int | Sequence[int] | None) -> int | tuple[int, ...] | None:
    return axis if axis is None or isinstance(axis, int) else tuple(axis)


# ---- functions of several tensors, and losses -------------------------------------------------------------


def concat(tensors: Iterable[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    return Tensor._apply(ops.Concat, *tensors, axis=axis)


def stack(tensors: Iterable[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    return Tensor._apply(ops.Stack, *tensors, axis=axis)


def _as_tensor(x: ArrayLike, like: Tensor) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x, dtype=like.dtype)


def cross_entropy(logits: Tensor, targets: ArrayLike) -> Tensor:
    """Mean cross-entropy of logits (N, C) against integer class labels (N,) (fused log-softmax)."""
    labels = np.asarray(targets.data if isinstance(targets, Tensor) else targets).astype(np.intp)
    return Tensor._apply(ops.CrossEntropy, logits, Tensor(labels, dtype=np.intp))


def binary_cross_entropy_with_logits(logits: Tensor, targets: ArrayLike) -> Tensor:
    """Mean binary cross-entropy of sigmoid(logits) against targets in [0, 1]."""
    return Tensor._apply(ops.BinaryCrossEntropyWithLogits, logits, _as_tensor(targets, logits))


def mse_loss(prediction: Tensor, target: ArrayLike) -> Tensor:
    """Mean squared error."""
    return Tensor._apply(ops.MSELoss, prediction, _as_tensor(target, prediction))


def mae_loss(prediction: Tensor, target: ArrayLike) -> Tensor:
    """Mean absolute error."""
    return Tensor._apply(ops.MAELoss, prediction, _as_tensor(target, prediction))


def huber_loss(prediction: Tensor, target: ArrayLike, delta: float = 1.0) -> Tensor:
    """Mean Huber loss: quadratic within ``delta`` of the target, linear beyond."""
    return Tensor._apply(ops.HuberLoss, prediction, _as_tensor(target, prediction), delta=delta)
