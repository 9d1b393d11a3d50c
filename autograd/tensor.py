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
            if type(g) is not np.ndarray:
                g = np.asarray(g)
            if g.shape != parent.data.shape:
                g = unbroadcast(g, parent.data.shape)
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

    def zero_grad(self, set_to_none: bool = True) -> None:
        """grad = None, the state before any backward pass (PyTorch's default), or, with
        ``set_to_none=False``, zeroed in place (a None gradient stays None, as in PyTorch)."""
        if set_to_none:
            self.grad = None
        elif self.grad is not None:
            self.grad[...] = 0

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

    # ---- ops without a derivative (comparisons, argmax, sampling): the result joins no graph -------------

    @staticmethod
    def _apply_without_grad(fn: type[ops.Op], *inputs: Tensor, **params: Any) -> Tensor:
        """Run ``fn.forward``; the result (booleans, indices) needs no gradient and records no graph."""
        ctx = ops.Context(tuple(False for _ in inputs))
        data = np.asarray(fn.forward(ctx, *[t.data for t in inputs], **params))
        out = Tensor(data, dtype=data.dtype)
        out._op = fn.name
        return out

    def _compare(self, fn: type[ops.Op], other: ArrayLike) -> Tensor:
        return Tensor._apply_without_grad(fn, self, self._lift(other))

    # Elementwise comparisons give boolean tensors, as in PyTorch. Nodes still hash by identity (the core
    # keeps them in dicts and sets), so __hash__ is object's.
    __hash__ = object.__hash__

    def __lt__(self, other: ArrayLike) -> Tensor:
        return self._compare(ops.Less, other)

    def __le__(self, other: ArrayLike) -> Tensor:
        return self._compare(ops.LessEqual, other)

    def __gt__(self, other: ArrayLike) -> Tensor:
        return self._compare(ops.Greater, other)

    def __ge__(self, other: ArrayLike) -> Tensor:
        return self._compare(ops.GreaterEqual, other)

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        if other is None:  # as PyTorch: a tensor is not None
            return NotImplemented
        return self._compare(ops.Equal, other)

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        if other is None:
            return NotImplemented
        return self._compare(ops.NotEqual, other)

    def __bool__(self) -> bool:
        """The truth of a one-element tensor (NumPy's error for more elements)."""
        return bool(self.data)

    lt, le, gt, ge, eq, ne = __lt__, __le__, __gt__, __ge__, __eq__, __ne__

    def argmax(self, axis: int | None = None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
        """Index of the largest entry along ``axis`` (of the flattened tensor when None); first on ties."""
        axis, keepdims = _dim(axis, dim, "argmax"), _keep(keepdims, keepdim)
        return Tensor._apply_without_grad(ops.ArgMax, self, axis=axis, keepdims=keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
        """Index of the smallest entry along ``axis`` (of the flattened tensor when None); first on ties."""
        axis, keepdims = _dim(axis, dim, "argmin"), _keep(keepdims, keepdim)
        return Tensor._apply_without_grad(ops.ArgMin, self, axis=axis, keepdims=keepdims)

    def multinomial(
        self, num_samples: int = 1, replacement: bool = False, rng: np.random.Generator | None = None
    ) -> Tensor:
        """Category indices drawn from each row of these non-negative weights (int64, no gradient)."""
        return Tensor._apply_without_grad(
            ops.Multinomial, self, num_samples=num_samples, replacement=replacement, rng=rng
        )

    # ---- more elementwise functions ---------------------------------------------------------------------

    def sin(self) -> Tensor:
        return Tensor._apply(ops.Sin, self)

    def cos(self) -> Tensor:
        return Tensor._apply(ops.Cos, self)

    def tan(self) -> Tensor:
        return Tensor._apply(ops.Tan, self)

    def exp2(self) -> Tensor:
        return Tensor._apply(ops.Exp2, self)

    def log2(self) -> Tensor:
        return Tensor._apply(ops.Log2, self)

    def rsqrt(self) -> Tensor:
        return Tensor._apply(ops.Rsqrt, self)

    def gelu(self, approximate: str = "none") -> Tensor:
        """x Phi(x) (exact, with erf) or its tanh approximation (``approximate="tanh"``)."""
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        return Tensor._apply(ops.GELU, self, approximate=approximate)

    def quick_gelu(self) -> Tensor:
        return Tensor._apply(ops.QuickGELU, self)

    def hardswish(self) -> Tensor:
        return Tensor._apply(ops.HardSwish, self)

    def hardtanh(self, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
        return Tensor._apply(ops.HardTanh, self, low=min_val, high=max_val)

    def relu6(self) -> Tensor:
        return Tensor._apply(ops.ReLU6, self)

    def mish(self) -> Tensor:
        return Tensor._apply(ops.Mish, self)

    def celu(self, alpha: float = 1.0) -> Tensor:
        return Tensor._apply(ops.CELU, self, alpha=alpha)

    def softsign(self) -> Tensor:
        return Tensor._apply(ops.Softsign, self)

    def clip(self, min_: float | None = None, max_: float | None = None, *, min=None, max=None) -> Tensor:
        """Entries limited to [min_, max_] (either may be None); PyTorch's ``clamp(min=, max=)`` too."""
        low = min if min is not None else min_
        high = max if max is not None else max_
        if low is None and high is None:
            raise ValueError("clip: give a lower bound, an upper bound or both")
        return Tensor._apply(ops.Clip, self, low=low, high=high)

    clamp = clip

    def sign(self) -> Tensor:
        return Tensor._apply(ops.Sign, self)

    def floor(self) -> Tensor:
        return Tensor._apply(ops.Floor, self)

    def ceil(self) -> Tensor:
        return Tensor._apply(ops.Ceil, self)

    def trunc(self) -> Tensor:
        return Tensor._apply(ops.Trunc, self)

    def maximum(self, other: ArrayLike) -> Tensor:
        return Tensor._apply(ops.Maximum, self, self._lift(other))

    def minimum(self, other: ArrayLike) -> Tensor:
        return Tensor._apply(ops.Minimum, self, self._lift(other))

    def where(self, x: ArrayLike, y: ArrayLike | None = None) -> Tensor:
        """tinygrad's ``cond.where(x, y)`` (this tensor is the condition), or PyTorch's
        ``x.where(cond, y)`` when this tensor is not boolean and the first argument is."""
        first = x.data if isinstance(x, Tensor) else np.asarray(x)
        if self.dtype != bool and first.dtype == bool and y is not None:
            return where(x, self, y)
        if y is None:
            raise ValueError("where: needs a condition, a value where it holds and one where it does not")
        return where(self, x, y)

    # ---- more reductions and scans --------------------------------------------------------------------

    def var(
        self, axis=None, keepdims: bool = False, correction: int = 1, *, dim=None, keepdim=None, unbiased=None
    ) -> Tensor:
        """Variance over ``axis``: sum of squared deviations / (n - correction) (1: unbiased, as PyTorch)."""
        correction = correction if unbiased is None else int(unbiased)
        axis, keepdims = _axis(_dim(axis, dim, "var")), _keep(keepdims, keepdim)
        return Tensor._apply(ops.Var, self, axis=axis, keepdims=keepdims, correction=correction)

    def std(
        self, axis=None, keepdims: bool = False, correction: int = 1, *, dim=None, keepdim=None, unbiased=None
    ) -> Tensor:
        """Standard deviation over ``axis``: sqrt of :meth:`var` (the same ``correction``)."""
        correction = correction if unbiased is None else int(unbiased)
        axis, keepdims = _axis(_dim(axis, dim, "std")), _keep(keepdims, keepdim)
        return Tensor._apply(ops.Std, self, axis=axis, keepdims=keepdims, correction=correction)

    def cumsum(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """Running sums along ``axis`` (0 unless given)."""
        axis = _dim(axis, dim, "cumsum")
        axis = 0 if axis is None else axis
        _check_axis("cumsum", self.shape, axis)
        return Tensor._apply(ops.CumSum, self, axis=axis)

    # ---- more shape ops -----------------------------------------------------------------------------------

    def flip(self, axis: int | Sequence[int] | None = None, *, dims=None) -> Tensor:
        """Reverse the order of entries along ``axis`` (all axes when None)."""
        axis = _axis(_dim(axis, dims, "flip"))
        for a in (axis,) if isinstance(axis, int) else axis or ():
            _check_axis("flip", self.shape, a)
        return Tensor._apply(ops.Flip, self, axis=axis)

    def pad(self, padding: Sequence[Any], value: float = 0.0, mode: str = "constant") -> Tensor:
        """Pad with ``value``. ``padding`` is either PyTorch's flat (left, right, top, bottom, ...) list,
        last axis first, or one (before, after) pair (or None) per axis, first axis first (tinygrad, NumPy).
        A negative width crops."""
        if mode != "constant":
            raise ValueError(f"pad: only mode 'constant' is implemented, got {mode!r}")
        return Tensor._apply(ops.Pad, self, widths=_pad_widths(padding, self.shape), value=value)

    def pad2d(self, padding: Sequence[int], value: float = 0.0) -> Tensor:
        """Pad the last two axes by (left, right, top, bottom); negative widths crop."""
        if len(padding) != 4:
            raise ValueError(f"pad2d: padding needs (left, right, top, bottom), got {tuple(padding)}")
        return self.pad(tuple(padding), value)

    def expand(self, *shape: int | Sequence[int]) -> Tensor:
        """Broadcast to ``shape`` without copying (-1 keeps an axis's size)."""
        target = _shape_arg(shape)
        lead = len(target) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: shape {self.shape} cannot expand to fewer axes, {target}")
        full = tuple(self.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(target))
        try:
            np.broadcast_shapes(self.shape, full)
        except ValueError:
            raise ValueError(f"expand: shape {self.shape} cannot expand to {target}") from None
        if np.broadcast_shapes(self.shape, full) != full:
            raise ValueError(f"expand: shape {self.shape} cannot expand to {target}")
        return Tensor._apply(ops.Expand, self, shape=full)

    def repeat(self, *repeats: int | Sequence[int]) -> Tensor:
        """Tile the tensor ``repeats[a]`` times along each axis (PyTorch's repeat: NumPy's tile)."""
        counts = _shape_arg(repeats)
        if len(counts) < self.ndim or any(r < 0 for r in counts):
            raise ValueError(f"repeat: shape {self.shape} needs one count >= 0 per axis, got {counts}")
        return Tensor._apply(ops.Repeat, self, repeats=counts)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge axes start_dim..end_dim into one (a reshape)."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = start_dim % self.ndim, end_dim % self.ndim
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        merged = int(np.prod(self.shape[start : end + 1]))
        return self.reshape(*self.shape[:start], merged, *self.shape[end + 1 :])

    def squeeze(self, axis: int | Sequence[int] | None = None, *, dim=None) -> Tensor:
        """Remove axes of length 1 (only ``axis`` when given; one of another length stays, as PyTorch)."""
        axis = _dim(axis, dim, "squeeze")
        if axis is None:
            drop = {i for i, n in enumerate(self.shape) if n == 1}
        else:
            axes = (axis,) if isinstance(axis, int) else tuple(axis)
            for a in axes:
                _check_axis("squeeze", self.shape, a)
            drop = {a % self.ndim for a in axes if self.shape[a] == 1}
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in drop))

    def unsqueeze(self, axis: int | None = None, *, dim=None) -> Tensor:
        """Insert an axis of length 1 at ``axis`` (negative: counted from the end of the result)."""
        axis = _dim(axis, dim, "unsqueeze")
        if axis is None or not -self.ndim - 1 <= axis <= self.ndim:
            raise ValueError(f"unsqueeze: axis {axis} is out of range for shape {self.shape}")
        axis %= self.ndim + 1
        return self.reshape(*self.shape[:axis], 1, *self.shape[axis:])

    def tril(self, diagonal: int = 0) -> Tensor:
        """Zero the entries above the ``diagonal`` (of the last two axes)."""
        if self.ndim < 2:
            raise ValueError(f"tril: shape {self.shape} needs at least 2 axes")
        return Tensor._apply(ops.Triangle, self, diagonal=diagonal, upper=False)

    def triu(self, diagonal: int = 0) -> Tensor:
        """Zero the entries below the ``diagonal`` (of the last two axes)."""
        if self.ndim < 2:
            raise ValueError(f"triu: shape {self.shape} needs at least 2 axes")
        return Tensor._apply(ops.Triangle, self, diagonal=diagonal, upper=True)

    def gather(self, axis: int | None = None, index: ArrayLike = None, *, dim: int | None = None) -> Tensor:
        """out[..i..] = self[..index[..i..]..] along ``axis`` (PyTorch's and tinygrad's gather)."""
        axis = _dim(axis, dim, "gather")
        if axis is None or index is None:
            raise ValueError("gather: needs an axis (dim) and an index")
        _check_axis("gather", self.shape, axis)
        index = np.asarray(index.data if isinstance(index, Tensor) else index)
        if not np.issubdtype(index.dtype, np.integer):
            raise ValueError(f"gather: the index must hold integers, got {index.dtype}")
        return Tensor._apply(ops.Gather, self, axis=axis, index=index.astype(np.intp, copy=False))

    # ---- convolution, pooling, attention, losses as methods (tinygrad's argument order) ------------------

    def conv2d(
        self, weight: Tensor, bias: Tensor | None = None, groups: int = 1, stride=1, dilation=1, padding=0
    ):
        from autograd.functional import conv2d

        return conv2d(self, weight, bias, stride, padding, dilation, groups)

    def max_pool2d(self, kernel_size=(2, 2), stride=None, dilation=1, padding=0) -> Tensor:
        from autograd.functional import max_pool2d

        return max_pool2d(self, kernel_size, stride, padding, dilation)

    def avg_pool2d(self, kernel_size=(2, 2), stride=None, dilation=1, padding=0, count_include_pad=True):
        from autograd.functional import avg_pool2d

        return avg_pool2d(
            self, kernel_size, stride, padding, count_include_pad=count_include_pad, dilation=dilation
        )

    def scaled_dot_product_attention(
        self, key: Tensor, value: Tensor, attn_mask=None, is_causal=False, scale=None
    ):
        from autograd.functional import scaled_dot_product_attention

        return scaled_dot_product_attention(self, key, value, attn_mask, is_causal=is_causal, scale=scale)

    def binary_cross_entropy(self, target: ArrayLike) -> Tensor:
        """Mean binary cross-entropy of these probabilities against ``target``."""
        return Tensor._apply(ops.BinaryCrossEntropy, self, _as_tensor(target, self))


def _axis(axis: int | Sequence[int] | None) -> int | tuple[int, ...] | None:
    return axis if axis is None or isinstance(axis, int) else tuple(axis)


def _dim(axis: Any, dim: Any, op: str) -> Any:
    """``axis`` or PyTorch's name for it, ``dim`` (not both, unless equal)."""
    if dim is None:
        return axis
    if axis is not None and axis != dim:
        raise ValueError(f"{op}: got axis={axis} and dim={dim}; give one")
    return dim


def _keep(keepdims: bool, keepdim: bool | None) -> bool:
    return keepdims if keepdim is None else keepdim


def _check_axis(op: str, shape: tuple[int, ...], axis: int) -> None:
    if not -max(len(shape), 1) <= axis < max(len(shape), 1):
        raise ValueError(f"{op}: axis {axis} is out of range for shape {shape}")


def _shape_arg(args: tuple[Any, ...]) -> tuple[int, ...]:
    """``f(2, 3)`` or ``f((2, 3))`` alike."""
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        return tuple(int(n) for n in args[0])
    return tuple(int(n) for n in args)


def _pad_widths(padding: Sequence[Any], shape: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """(before, after) for every axis, from PyTorch's flat list (last axis first) or per-axis pairs."""
    ndim = len(shape)
    if all(p is None or not isinstance(p, (int, np.integer)) for p in padding) and len(padding) == ndim:
        pairs = [(0, 0) if p is None else (int(p[0]), int(p[1])) for p in padding]
    elif all(isinstance(p, (int, np.integer)) for p in padding) and len(padding) % 2 == 0:
        if len(padding) // 2 > ndim:
            raise ValueError(f"pad: {len(padding)} widths for shape {shape} ({ndim} axes)")
        pairs = [(0, 0)] * ndim
        for i in range(len(padding) // 2):
            pairs[ndim - 1 - i] = (int(padding[2 * i]), int(padding[2 * i + 1]))
    else:
        raise ValueError(
            f"pad: padding {tuple(padding)} for shape {shape}: give (before, after) pairs, one per axis, or"
            " PyTorch's flat list (left, right, top, bottom, ...)"
        )
    for (before, after), n in zip(pairs, shape):
        if n + before + after < 0:
            raise ValueError(f"pad: padding {tuple(padding)} crops shape {shape} below zero")
    return tuple(pairs)


# ---- functions of several tensors, and losses -------------------------------------------------------------


def concat(tensors: Iterable[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    return Tensor._apply(ops.Concat, *tensors, axis=axis)


def stack(tensors: Iterable[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    return Tensor._apply(ops.Stack, *tensors, axis=axis)


def where(condition: ArrayLike, x: ArrayLike, y: ArrayLike) -> Tensor:
    """x where ``condition`` holds, else y (all three broadcast); gradients flow to x and y."""
    like = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else None
    dtype = like.dtype if like is not None else DEFAULT_DTYPE
    cond = condition if isinstance(condition, Tensor) else Tensor(np.asarray(condition), dtype=bool)
    xt = x if isinstance(x, Tensor) else Tensor(x, dtype=dtype)
    yt = y if isinstance(y, Tensor) else Tensor(y, dtype=dtype)
    return Tensor._apply(ops.Where, cond, xt, yt)


def _as_tensor(x: ArrayLike, like: Tensor) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x, dtype=like.dtype)


def cross_entropy(logits: Tensor, targets: ArrayLike) -> Tensor:
    """Mean cross-entropy of logits (N, C) against integer class labels (N,) (fused log-softmax)."""
    labels = np.asarray(targets.data if isinstance(targets, Tensor) else targets).astype(np.intp, copy=False)
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
