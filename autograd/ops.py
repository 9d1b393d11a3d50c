"""The Tensor engine's operations: each one a unit with its forward pass and its backward pass side by side.

Like PyTorch's ``autograd.Function``: ``forward(ctx, *arrays, **params)`` computes the result from NumPy
arrays and saves what the derivative needs in ``ctx``; ``backward(ctx, grad)`` receives dL/d(out) and
returns dL/d(input) for each input (a vector-Jacobian product, never the Jacobian itself).

``backward`` returns new arrays or views of ``grad``, never an array it keeps elsewhere (such as a saved
one): the result may become the input's ``.grad``. It may return a gradient *in the broadcast shape of the
output*: the Tensor undoes broadcasting in one place, :func:`autograd.tensor.unbroadcast`, for every op.
``ctx.needs_grad[i]`` says whether input ``i`` wants a gradient; an op may skip the work and return ``None``.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

Array = np.ndarray


class Context:
    """What one op application keeps for its backward pass."""

    __slots__ = ("saved", "needs_grad")

    def __init__(self, needs_grad: tuple[bool, ...]) -> None:
        self.saved: tuple[Any, ...] = ()
        self.needs_grad = needs_grad


class Op:
    """Base class: ``name`` labels graph nodes; subclasses define ``forward`` and ``backward``."""

    name = "op"
    forward_formula: str = ""  # the result from the inputs {0}, {1}, ..., e.g. "{0} @ {1}" (for the tracer)
    vjp_formulas: tuple[str, ...] = ()  # dL/d(input i) from {g} = dL/d(out), the inputs, {out} the result

    @staticmethod
    def forward(ctx: Context, *args: Any, **params: Any) -> Array:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: Array) -> tuple[Array | None, ...]:
        raise NotImplementedError


@functools.lru_cache(maxsize=32)
def _ones(n: int, dtype: np.dtype) -> Array:
    """A read-only vector of n ones: 1ᵀ G sums the rows of G as one matrix-vector product, which BLAS does
    in a third of the time of NumPy's reduction over the first axis (2 µs against 5 for 128 x 128)."""
    ones = np.ones(n, dtype=dtype)
    ones.flags.writeable = False
    return ones


def _swap(a: Array) -> Array:
    """Transpose the last two axes (the matrix transpose of a batch of matrices)."""
    return a.T if a.ndim == 2 else a.swapaxes(-1, -2)


def _expand(grad: Array, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Array:
    """Re-insert the axes a reduction removed, so that ``grad`` broadcasts against the input ``shape``."""
    if axis is None or keepdims:
        return grad if keepdims or axis is not None else np.reshape(grad, (1,) * len(shape))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return np.expand_dims(grad, tuple(a % len(shape) for a in axes))


# ---------------------------------------------------------------------------------------------------------
# Arithmetic (inputs may broadcast; the Tensor sums gradients back to each input's shape)
# ---------------------------------------------------------------------------------------------------------


class Add(Op):
    """z = x + y;   dz/dx = 1, dz/dy = 1"""

    name = "+"
    forward_formula = "{0} + {1}"
    vjp_formulas = ("{g}", "{g}")

    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Op):
    """z = x - y;   dz/dx = 1, dz/dy = -1"""

    name = "-"
    forward_formula = "{0} - {1}"
    vjp_formulas = ("{g}", "-{g}")

    @staticmethod
    def forward(ctx, x, y):
        return x - y

    @staticmethod
    def backward(ctx, g):
        return g, -g if ctx.needs_grad[1] else None


class Mul(Op):
    """z = x * y;   dz/dx = y, dz/dy = x"""

    name = "*"
    forward_formula = "{0} * {1}"
    vjp_formulas = ("{g} * {1}", "{g} * {0}")

    @staticmethod
    def forward(ctx, x, y):
        ctx.saved = (x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        return (g * y if ctx.needs_grad[0] else None), (g * x if ctx.needs_grad[1] else None)


class Div(Op):
    """z = x / y;   dz/dx = 1/y, dz/dy = -x/y**2"""

    name = "/"
    forward_formula = "{0} / {1}"
    vjp_formulas = ("{g} / {1}", "-{g} * {0} / {1}**2")

    @staticmethod
    def forward(ctx, x, y):
        ctx.saved = (x, y)
        return x / y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        return (g / y if ctx.needs_grad[0] else None), (-g * x / (y * y) if ctx.needs_grad[1] else None)


class Neg(Op):
    """z = -x;   dz/dx = -1"""

    name = "neg"
    forward_formula = "-{0}"
    vjp_formulas = ("-{g}",)

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return (-g,)


class Pow(Op):
    """z = x ** y;   dz/dx = y x**(y-1) (0 where y = 0),   dz/dy = x**y ln(x) (x > 0; 0 at x = 0, y >= 0)

    At x = 0 the product x**y ln(x) is 0 * -inf (NaN), but for y > 0 the limit of x**y ln(x) is 0, and for
    y = 0, x**y = 1 is constant in y near x = 0; PyTorch gives 0 there too."""

    name = "**"
    forward_formula = "{0} ** {1}"
    vjp_formulas = ("{g} * {1} * {0}**({1} - 1)", "{g} * {out} * log({0})")

    @staticmethod
    def forward(ctx, x, y):
        out = x**y
        ctx.saved = (x, y, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, y, out = ctx.saved
        gx = None
        if ctx.needs_grad[0]:  # 0 where y = 0 (z = 1 is constant in x), also at x = 0 where x**-1 is inf
            with np.errstate(divide="ignore", invalid="ignore"):
                gx = g * np.where(y == 0, 0, y * x ** (y - 1))
        gy = None
        if ctx.needs_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gy = g * np.where((x == 0) & (y >= 0), 0, out * np.log(x))
        return gx, gy


def _matmul_mismatch(a: tuple[int, ...], b: tuple[int, ...]) -> str:
    """The engine's message for ``a @ b`` with shapes that do not fit."""
    if not a or not b:
        return f"@ (matmul): shapes {a} and {b}: a 0-d operand has no matrix axes (use * to scale)"
    inner_a, inner_b = a[-1], b[-2] if len(b) > 1 else b[0]
    if inner_a != inner_b:
        return (
            f"@ (matmul): shapes {a} and {b} do not fit: the last axis of the left ({inner_a}) must equal"
            f" the {'first' if len(b) == 1 else 'second-to-last'} axis of the right ({inner_b})"
        )
    return f"@ (matmul): shapes {a} and {b}: the batch axes {a[:-2]} and {b[:-2]} do not broadcast"


class MatMul(Op):
    """Z = X @ Y (batched over leading axes);   dL/dX = dL/dZ @ Y^T,   dL/dY = X^T @ dL/dZ"""

    name = "@"
    forward_formula = "{0} @ {1}"
    vjp_formulas = ("{g} @ {1}ᵀ", "{0}ᵀ @ {g}")

    @staticmethod
    def forward(ctx, x, y):
        ctx.saved = (x, y)
        try:
            return x @ y
        except ValueError:
            raise ValueError(_matmul_mismatch(x.shape, y.shape)) from None

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        if x.ndim == 1 and y.ndim == 1:  # dot product: z = sum_i x_i y_i
            return g * y, g * x
        # a 1-D operand acts as a row (left) or a column (right) matrix; put that axis back for the products
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        g2 = g
        if x.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if y.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        gx = gy = None
        if ctx.needs_grad[0]:
            gx = g2 @ _swap(y2)
            gx = gx.squeeze(-2) if x.ndim == 1 else gx
        if ctx.needs_grad[1]:
            gy = _swap(x2) @ g2
            gy = gy.squeeze(-1) if y.ndim == 1 else gy
        return gx, gy


class Affine(Op):
    """z = x @ W + b, a linear layer as one node (PyTorch's ``addmm``; W is (in, out));
    dL/dx = G @ W^T,   dL/dW = x^T G,   dL/db = G summed over the rows (every row of z added the same b:
    the bias's gradient is summed back to its shape here, so ``unbroadcast`` finds it already (out,))"""

    name = "affine"
    forward_formula = "{0} @ {1} + {2}"
    vjp_formulas = ("{g} @ {1}ᵀ", "{0}ᵀ @ {g}", "sum({g}, rows)")

    @staticmethod
    def forward(ctx, x, w, b):
        if w.ndim != 2 or b.shape != (w.shape[1],) or x.ndim == 0:
            raise ValueError(
                f"affine: x {x.shape} @ W {w.shape} + b {b.shape} needs W (in, out) and b (out,)"
            )
        if x.shape[-1] != w.shape[0]:
            raise ValueError(
                f"affine: shapes {x.shape} and {w.shape} do not fit: the last axis of x ({x.shape[-1]})"
                f" must equal W's first ({w.shape[0]})"
            )
        out = x @ w
        out += b  # in place: z is a new array (one pass less than x @ W, then + b)
        ctx.saved = (x, w)
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved
        if x.ndim != 2:  # every leading axis of x is a batch of rows (a 1-D x is one row)
            gx = (g @ w.T).reshape(x.shape) if ctx.needs_grad[0] else None
            x, g = x.reshape(-1, w.shape[0]), g.reshape(-1, w.shape[1])
        else:
            gx = g @ w.T if ctx.needs_grad[0] else None
        gw = x.T @ g if ctx.needs_grad[1] else None
        gb = _ones(len(g), g.dtype) @ g if ctx.needs_grad[2] else None  # 1ᵀ G: the column sums of G
        return gx, gw, gb


# ---------------------------------------------------------------------------------------------------------
# Reductions
# ---------------------------------------------------------------------------------------------------------


class Sum(Op):
    """z = sum_i x_i over ``axis``;   dz/dx_i = 1 (the gradient is copied back along the summed axes)"""

    name = "sum"
    forward_formula = "sum({0})"
    vjp_formulas = ("broadcast({g})",)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.saved = (x.shape, axis, keepdims)
        return np.sum(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        shape, axis, keepdims = ctx.saved
        return (np.broadcast_to(_expand(g, shape, axis, keepdims), shape),)


class Mean(Op):
    """z = (1/n) sum_i x_i over ``axis``;   dz/dx_i = 1/n"""

    name = "mean"
    forward_formula = "mean({0})"
    vjp_formulas = ("broadcast({g}) / n",)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        out = np.mean(x, axis=axis, keepdims=keepdims)
        ctx.saved = (x.shape, axis, keepdims, x.size // max(np.size(out), 1))
        return out

    @staticmethod
    def backward(ctx, g):
        shape, axis, keepdims, n = ctx.saved
        return (np.broadcast_to(_expand(g, shape, axis, keepdims) / n, shape),)


class Max(Op):
    """z = max_i x_i over ``axis``;   dz/dx_i = 1 at the maximum (ties share it), else 0"""

    name = "max"
    forward_formula = "max({0})"
    vjp_formulas = ("broadcast({g}) * ({0} == {out}) / ties",)
    reduce = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx, x, axis=None, keepdims=False):
        out = cls.reduce(x, axis=axis, keepdims=keepdims)
        ctx.saved = (x, out, axis, keepdims)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out, axis, keepdims = ctx.saved
        hit = (x == _expand(out, x.shape, axis, keepdims)).astype(x.dtype)
        share = hit / np.sum(hit, axis=axis, keepdims=True)  # NaN where a NaN was the maximum
        return (_expand(g, x.shape, axis, keepdims) * share,)


class Min(Max):
    """z = min_i x_i over ``axis``;   dz/dx_i = 1 at the minimum (ties share it), else 0"""

    name = "min"
    forward_formula = "min({0})"
    vjp_formulas = ("broadcast({g}) * ({0} == {out}) / ties",)
    reduce = staticmethod(np.min)


# ---------------------------------------------------------------------------------------------------------
# Shape
# ---------------------------------------------------------------------------------------------------------


class Reshape(Op):
    """z = x viewed with another shape;   the gradient is reshaped back"""

    name = "reshape"
    forward_formula = "reshape({0})"
    vjp_formulas = ("reshape({g})",)

    @staticmethod
    def forward(ctx, x, shape):
        ctx.saved = (x.shape,)
        return np.reshape(x, shape)

    @staticmethod
    def backward(ctx, g):
        return (np.reshape(g, ctx.saved[0]),)


class Transpose(Op):
    """z = x with its axes permuted;   the gradient is permuted back by the inverse permutation"""

    name = "transpose"
    forward_formula = "transpose({0})"
    vjp_formulas = ("transpose_back({g})",)

    @staticmethod
    def forward(ctx, x, axes=None):
        axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(axes)
        ctx.saved = (axes,)
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx, g):
        return (np.transpose(g, np.argsort(ctx.saved[0])),)


class GetItem(Op):
    """z = x[index];   dL/dx is zero except at the selected entries, where the gradient is added
    (``np.add.at``, so an entry selected twice receives both contributions)"""

    name = "getitem"
    forward_formula = "{0}[index]"
    vjp_formulas = ("scatter_add({g}, index)",)

    @staticmethod
    def forward(ctx, x, index):
        ctx.saved = (x.shape, x.dtype, index)
        return x[index]

    @staticmethod
    def backward(ctx, g):
        shape, dtype, index = ctx.saved
        grad = np.zeros(shape, dtype=np.result_type(dtype, g.dtype))
        np.add.at(grad, index, g)
        return (grad,)


def _check_concat(xs: tuple[Array, ...], axis: int) -> None:
    """Raise the engine's message when the arrays cannot be joined along ``axis``."""
    shapes = [x.shape for x in xs]
    if not xs:
        raise ValueError("concat: needs at least one tensor")
    if any(x.ndim == 0 for x in xs):
        raise ValueError(f"concat: shapes {shapes}: 0-d tensors have no axis to join along (use stack)")
    ndim = xs[0].ndim
    if not -ndim <= axis < ndim:
        raise ValueError(f"concat: axis {axis} is out of range for shapes {shapes}")
    axis %= ndim
    if any(x.ndim != ndim for x in xs) or len({s[:axis] + s[axis + 1 :] for s in shapes}) > 1:
        raise ValueError(f"concat: shapes {shapes} must agree on every axis except axis {axis}")


class Concat(Op):
    """z = [x_1, ..., x_k] joined along ``axis``;   each x_i receives its own slice of the gradient"""

    name = "concat"
    forward_formula = "concat({all})"
    vjp_formulas = ("slice_{i}({g})",)

    @staticmethod
    def forward(ctx, *xs, axis=0):
        _check_concat(xs, axis)
        ctx.saved = (axis, np.cumsum([x.shape[axis] for x in xs])[:-1])
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, g):
        axis, splits = ctx.saved
        return tuple(np.split(g, splits, axis=axis))


class Stack(Op):
    """z = [x_1, ..., x_k] stacked along a new ``axis``;   x_i receives the gradient's slice i"""

    name = "stack"
    forward_formula = "stack({all})"
    vjp_formulas = ("{g}[{i}]",)

    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.saved = (axis, len(xs))
        return np.stack(xs, axis=axis)

    @staticmethod
    def backward(ctx, g):
        axis, count = ctx.saved
        return tuple(np.take(g, i, axis=axis) for i in range(count))


# ---------------------------------------------------------------------------------------------------------
# Elementary functions and activations (elementwise: dL/dx = dL/dz * dz/dx)
# ---------------------------------------------------------------------------------------------------------


class Exp(Op):
    """z = e**x;   dz/dx = e**x"""

    name = "exp"
    forward_formula = "exp({0})"
    vjp_formulas = ("{g} * {out}",)

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.saved = (out,)
        return out

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.saved[0],)


class Log(Op):
    """z = ln(x);   dz/dx = 1/x"""

    name = "log"
    forward_formula = "log({0})"
    vjp_formulas = ("{g} / {0}",)

    @staticmethod
    def forward(ctx, x):
        ctx.saved = (x,)
        return np.log(x)

    @staticmethod
    def backward(ctx, g):
        return (g / ctx.saved[0],)


class Sqrt(Op):
    """z = sqrt(x);   dz/dx = 1 / (2 sqrt(x))"""

    name = "sqrt"
    forward_formula = "sqrt({0})"
    vjp_formulas = ("{g} / (2 * {out})",)

    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.saved = (out,)
        return out

    @staticmethod
    def backward(ctx, g):
        return (g / (2 * ctx.saved[0]),)


class Abs(Op):
    """z = |x|;   dz/dx = sign(x)   (0 at x = 0)"""

    name = "abs"
    forward_formula = "abs({0})"
    vjp_formulas = ("{g} * sign({0})",)

    @staticmethod
    def forward(ctx, x):
        ctx.saved = (x,)
        return np.abs(x)

    @staticmethod
    def backward(ctx, g):
        return (g * np.sign(ctx.saved[0]),)


class Tanh(Op):
    """t = tanh(x);   dt/dx = 1 - t**2"""

    name = "tanh"
    forward_formula = "tanh({0})"
    vjp_formulas = ("{g} * (1 - {out}**2)",)

    @staticmethod
    def forward(ctx, x):
        t = np.tanh(x)
        ctx.saved = (t,)
        return t

    @staticmethod
    def backward(ctx, g):
        t = ctx.saved[0]
        return (g * (1 - t * t),)


def _sigmoid(x: Array) -> Array:
    """1 / (1 + e**-x), computed without overflow for large |x| (via tanh)."""
    return 0.5 * (1 + np.tanh(0.5 * x))


class Sigmoid(Op):
    """s = 1 / (1 + e**-x);   ds/dx = s (1 - s)"""

    name = "sigmoid"
    forward_formula = "sigmoid({0})"
    vjp_formulas = ("{g} * {out} * (1 - {out})",)

    @staticmethod
    def forward(ctx, x):
        s = _sigmoid(x)
        ctx.saved = (s,)
        return s

    @staticmethod
    def backward(ctx, g):
        s = ctx.saved[0]
        return (g * s * (1 - s),)


class ReLU(Op):
    """z = max(0, x);   dz/dx = 1 if x > 0 else 0,  which is sign(z)  (and NaN at NaN, where z is NaN)"""

    name = "relu"
    forward_formula = "relu({0})"
    vjp_formulas = ("{g} * ({0} > 0)",)

    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0)
        ctx.saved = (out,)
        return out

    @staticmethod
    def backward(ctx, g):
        grad = np.sign(ctx.saved[0])
        grad *= g  # in place: one new array, not two
        return (grad,)


class LeakyReLU(Op):
    """z = x if x > 0 else alpha x;   dz/dx = 1 if x > 0 else alpha,  i.e.  alpha + (1 - alpha) H(x)"""

    name = "leaky_relu"
    forward_formula = "leaky_relu({0}, alpha)"
    vjp_formulas = ("{g} * where({0} > 0, 1, alpha)",)

    @staticmethod
    def forward(ctx, x, alpha=0.01):
        ctx.saved = (x, alpha)
        return np.where(x > 0, x, alpha * x)

    @staticmethod
    def backward(ctx, g):
        x, alpha = ctx.saved
        return (g * (alpha + (1 - alpha) * np.heaviside(x, 0)),)


class ELU(Op):
    """z = x if x > 0 else alpha (e**x - 1);   dz/dx = 1 if x > 0 else alpha e**x"""

    name = "elu"
    forward_formula = "elu({0}, alpha)"
    vjp_formulas = ("{g} * where({0} > 0, 1, alpha * exp({0}))",)

    @staticmethod
    def forward(ctx, x, alpha=1.0):
        positive = x > 0
        alpha_exp = alpha * np.exp(np.minimum(x, 0))
        ctx.saved = (positive, alpha_exp)
        return np.where(positive, x, alpha_exp - alpha)

    @staticmethod
    def backward(ctx, g):
        positive, alpha_exp = ctx.saved
        return (np.where(positive, g, g * alpha_exp),)


class SiLU(Op):
    """z = x sigmoid(x);   dz/dx = s + x s (1 - s), with s = sigmoid(x)"""

    name = "silu"
    forward_formula = "{0} * sigmoid({0})"
    vjp_formulas = ("{g} * (s + {0} * s * (1 - s)), s = sigmoid({0})",)

    @staticmethod
    def forward(ctx, x):
        s = _sigmoid(x)
        ctx.saved = (x, s)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved
        return (g * (s + x * s * (1 - s)),)


class Softplus(Op):
    """z = ln(1 + e**x);   dz/dx = sigmoid(x)"""

    name = "softplus"
    forward_formula = "log(1 + exp({0}))"
    vjp_formulas = ("{g} * sigmoid({0})",)

    @staticmethod
    def forward(ctx, x):
        ctx.saved = (x,)
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx, g):
        return (g * _sigmoid(ctx.saved[0]),)


def _max_keepdims(x: Array, axis: int) -> Array:
    """max over ``axis``, kept as an axis of length 1 (the shift of a log-sum-exp).

    NumPy reduces a short last axis one row at a time: 128 rows of 10 logits take 15 µs. Copied into
    column-major order, the same maxima come from nine vectorized passes over 128 numbers, in about 5 µs.
    """
    if axis % x.ndim == x.ndim - 1 and x.ndim > 1 and 0 < x.shape[-1] <= 64:
        rows = np.asfortranarray(x.reshape(-1, x.shape[-1]))
        return rows.max(axis=1).reshape(*x.shape[:-1], 1)
    return np.max(x, axis=axis, keepdims=True)


def _log_softmax(x: Array, axis: int) -> Array:
    """x_i - log sum_j e**x_j, shifted by max_j x_j so that no exponential overflows."""
    shifted = x - _max_keepdims(x, axis)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


class Softmax(Op):
    """p_i = e**x_i / sum_j e**x_j;   dp_i/dx_j = p_i (delta_ij - p_j),  so  dL/dx = p (g - sum_j g_j p_j)"""

    name = "softmax"
    forward_formula = "softmax({0})"
    vjp_formulas = ("{out} * ({g} - sum({g} * {out}))",)

    @staticmethod
    def forward(ctx, x, axis=-1):
        p = np.exp(_log_softmax(x, axis))
        ctx.saved = (p, axis)
        return p

    @staticmethod
    def backward(ctx, g):
        p, axis = ctx.saved
        return (p * (g - np.sum(g * p, axis=axis, keepdims=True)),)


class LogSoftmax(Op):
    """y_i = x_i - log sum_j e**x_j;   dy_i/dx_j = delta_ij - p_j,  so  dL/dx = g - p sum_j g_j"""

    name = "log_softmax"
    forward_formula = "log_softmax({0})"
    vjp_formulas = ("{g} - exp({out}) * sum({g})",)

    @staticmethod
    def forward(ctx, x, axis=-1):
        out = _log_softmax(x, axis)
        ctx.saved = (np.exp(out), axis)
        return out

    @staticmethod
    def backward(ctx, g):
        p, axis = ctx.saved
        return (g - p * np.sum(g, axis=axis, keepdims=True),)


class Dropout(Op):
    """Inverted dropout: z = x * m / (1 - p), m_i ~ Bernoulli(1 - p);   dz/dx = m / (1 - p).

    Scaling at training time keeps E[z] = x, so evaluation needs no rescaling (it is the identity).
    """

    name = "dropout"
    forward_formula = "{0} * mask / (1 - p)"
    vjp_formulas = ("{g} * mask / (1 - p)",)

    @staticmethod
    def forward(ctx, x, p=0.5, rng=None):
        keep = (rng.random(x.shape) >= p).astype(x.dtype) / x.dtype.type(1 - p)
        ctx.saved = (keep,)
        return x * keep

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.saved[0],)


# ---------------------------------------------------------------------------------------------------------
# Losses (mean over all entries; fused so that the backward pass is exact and stable)
# ---------------------------------------------------------------------------------------------------------


class CrossEntropy(Op):
    """L = -(1/N) sum_n log softmax(x_n)[y_n]   for logits x (N, C) and class indices y (N,);
    dL/dx_n = (softmax(x_n) - onehot(y_n)) / N.   Finite for any finite logits (log-sum-exp shift)."""

    name = "cross_entropy"
    forward_formula = "cross_entropy({0}, {1})"
    vjp_formulas = ("{g} * (softmax({0}) - onehot({1})) / N", "none (class indices)")

    @staticmethod
    def forward(ctx, logits, targets):
        if logits.ndim != 2 or targets.shape != (len(logits),):
            raise ValueError(
                f"cross_entropy: logits {logits.shape} and labels {targets.shape} must be (N, C) and (N,)"
            )
        n, classes = logits.shape
        # one reduction checks both ends: read as unsigned numbers, negative labels are huge
        if n and targets.astype(np.uintp, copy=False).max() >= classes:
            raise ValueError(
                f"cross_entropy: labels must be class indices in 0..{classes - 1}, got {targets.min()}"
                f"..{targets.max()}"
            )
        # log softmax(x_n)[y_n] = s_ny - log sum_j e**s_nj, with s = x - max_j x_j (no overflow)
        shifted = logits - _max_keepdims(logits, -1)
        p = np.exp(shifted)
        total = p @ _ones(classes, p.dtype)  # sum_j e**s_nj for every row n
        picked = np.arange(n) * classes + targets  # where each row's label sits in the flattened array
        per_row = p.dtype.type(1 / n if n else np.nan)  # the mean's 1/N (no rows: NaN, as in PyTorch)
        loss = (np.log(total).sum() - shifted.reshape(-1)[picked].sum()) * per_row
        p /= total[:, None]  # softmax(x): what the gradient needs
        ctx.saved = (p, picked, per_row)
        return loss

    @staticmethod
    def backward(ctx, g):
        p, picked, per_row = ctx.saved
        scale = g * per_row
        grad = p * scale  # (softmax - onehot) / N, times dL/dL = g
        grad.reshape(-1)[picked] -= scale
        return grad, None


class BinaryCrossEntropyWithLogits(Op):
    """L = mean(-y log s(x) - (1-y) log(1 - s(x))) = mean(max(x,0) - x y + log(1 + e**-|x|));
    dL/dx = (s(x) - y) / n,   dL/dy = -x / n."""

    name = "bce_with_logits"
    forward_formula = "bce_with_logits({0}, {1})"
    vjp_formulas = ("{g} * (sigmoid({0}) - {1}) / n", "-{g} * {0} / n")

    @staticmethod
    def forward(ctx, x, y):
        ctx.saved = (x, y)
        return np.mean(np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x))))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        shape = np.broadcast_shapes(x.shape, y.shape)  # gradients go back in the broadcast shape
        n = int(np.prod(shape))
        gx = g * (_sigmoid(x) - y) / n if ctx.needs_grad[0] else None
        gy = np.broadcast_to(-g * x / n, shape) if ctx.needs_grad[1] else None
        return gx, gy


class MSELoss(Op):
    """L = mean((p - t)**2);   dL/dp = 2 (p - t) / n,   dL/dt = -dL/dp"""

    name = "mse"
    forward_formula = "mean(({0} - {1})**2)"
    vjp_formulas = ("{g} * 2 * ({0} - {1}) / n", "-{g} * 2 * ({0} - {1}) / n")

    @staticmethod
    def forward(ctx, p, t):
        r = p - t
        ctx.saved = (r,)
        return np.mean(r * r)

    @staticmethod
    def backward(ctx, g):
        r = ctx.saved[0]
        gp = g * 2 * r / r.size
        return gp, -gp


class MAELoss(Op):
    """L = mean(|p - t|);   dL/dp = sign(p - t) / n,   dL/dt = -dL/dp"""

    name = "mae"
    forward_formula = "mean(abs({0} - {1}))"
    vjp_formulas = ("{g} * sign({0} - {1}) / n", "-{g} * sign({0} - {1}) / n")

    @staticmethod
    def forward(ctx, p, t):
        r = p - t
        ctx.saved = (r,)
        return np.mean(np.abs(r))

    @staticmethod
    def backward(ctx, g):
        r = ctx.saved[0]
        gp = g * np.sign(r) / r.size
        return gp, -gp


class HuberLoss(Op):
    """L = mean(h(p - t)) with h(r) = r**2 / 2 if |r| <= d else d (|r| - d/2);
    dL/dp = clip(p - t, -d, d) / n,   dL/dt = -dL/dp"""

    name = "huber"
    forward_formula = "mean(huber({0} - {1}, delta))"
    vjp_formulas = ("{g} * clip({0} - {1}, -delta, delta) / n", "-{g} * clip({0} - {1}, -delta, delta) / n")

    @staticmethod
    def forward(ctx, p, t, delta=1.0):
        r = p - t
        ctx.saved = (r, delta)
        a = np.abs(r)
        return np.mean(np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta)))

    @staticmethod
    def backward(ctx, g):
        r, delta = ctx.saved
        gp = g * np.clip(r, -delta, delta) / r.size
        return gp, -gp


# =========================================================================================================
# More ops (the ones a PyTorch or tinygrad user reaches for). Each class also carries, for the tracer,
# ``forward_formula`` (a template over the inputs' names {0}, {1}, ...) and ``vjp_formulas`` (one per input:
# dL/d(input) in terms of {g} = dL/d(out), the inputs' names and {out}, the result's name).
# =========================================================================================================


def _zeros_like_grad(g: Array) -> Array:
    return np.zeros(g.shape, dtype=g.dtype)


def _shape_error(op: str, message: str, *shapes: tuple[int, ...]) -> ValueError:
    """The engine's shape error: the op, the shapes, what is wrong."""
    return ValueError(f"{op}: shapes {', '.join(str(tuple(s)) for s in shapes)}: {message}")


# ---- trigonometric, exponential and logarithmic functions -----------------------------------------------


class Sin(Op):
    """z = sin(x);   dz/dx = cos(x)"""

    name = "sin"
    forward_formula = "sin({0})"
    vjp_formulas = ("{g} * cos({0})",)

    @staticmethod
    def forward(ctx, x):
        ctx.saved = (x,)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        return (g * np.cos(ctx.saved[0]),)


class Cos(Op):
    """z = cos(x);   dz/dx = -sin(x)"""

    name = "cos"
    forward_formula = "cos({0})"
    vjp_formulas = ("-{g} * sin({0})",)

    @staticmethod
    def forward(ctx, x):
        ctx.saved = (x,)
        return np.cos(x)

    @staticmethod
    def backward(ctx, g):
        return (-g * np.sin(ctx.saved[0]),)


class Tan(Op):
    """z = tan(x);   dz/dx = 1 + tan(x)**2 = 1 / cos(x)**2"""

    name = "tan"
    forward_formula = "tan({0})"
    vjp_formulas = ("{g} * (1 + {out}**2)",)

    @staticmethod
    def forward(ctx, x):
        out = np.tan(x)
        ctx.saved = (out,)
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved[0]
        return (g * (1 + out * out),)


class Exp2(Op):
    """z = 2**x;   dz/dx = ln(2) 2**x"""

    name = "exp2"
    forward_formula = "2**{0}"
    vjp_formulas = ("{g} * ln(2) * {out}",)

    @staticmethod
    def forward(ctx, x):
        out = np.exp2(x)
        ctx.saved = (out,)
        return out

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.saved[0] * math.log(2),)


class Log2(Op):
    """z = log2(x) = ln(x) / ln(2);   dz/dx = 1 / (x ln(2))"""

    name = "log2"
    forward_formula = "log2({0})"
    vjp_formulas = ("{g} / ({0} * ln(2))",)

    @staticmethod
    def forward(ctx, x):
        ctx.saved = (x,)
        return np.log2(x)

    @staticmethod
    def backward(ctx, g):
        return (g / (ctx.saved[0] * math.log(2)),)


class Rsqrt(Op):
    """z = 1 / sqrt(x) = x**(-1/2);   dz/dx = -x**(-3/2) / 2 = -z**3 / 2"""

    name = "rsqrt"
    forward_formula = "1 / sqrt({0})"
    vjp_formulas = ("-{g} * {out}**3 / 2",)

    @staticmethod
    def forward(ctx, x):
        out = 1 / np.sqrt(x)
        ctx.saved = (out,)
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved[0]
        return (-0.5 * g * out * out * out,)


# ---- more activations --------------------------------------------------------------------------------------


_erf = np.frompyfunc(math.erf, 1, 1)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


class GELU(Op):
    """z = x Phi(x), Phi the standard normal CDF: Phi(x) = (1 + erf(x / sqrt 2)) / 2;
    dz/dx = Phi(x) + x phi(x), with phi(x) = e**(-x**2/2) / sqrt(2 pi).

    ``approximate="tanh"``: z = x (1 + t) / 2 with t = tanh(u), u = sqrt(2/pi) (x + 0.044715 x**3);
    dz/dx = (1 + t) / 2 + x (1 - t**2) sqrt(2/pi) (1 + 3 * 0.044715 x**2) / 2.
    """

    name = "gelu"
    forward_formula = "{0} * Phi({0})"
    vjp_formulas = ("{g} * (Phi({0}) + {0} * phi({0}))",)

    @staticmethod
    def forward(ctx, x, approximate="none"):
        if approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            ctx.saved = (x, t, approximate)
            return 0.5 * x * (1 + t)
        cdf = (0.5 * (1 + _erf(x * (1 / math.sqrt(2))))).astype(x.dtype)  # math.erf, entry by entry
        ctx.saved = (x, cdf, approximate)
        return x * cdf

    @staticmethod
    def backward(ctx, g):
        x, saved, approximate = ctx.saved
        if approximate == "tanh":
            t = saved
            du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du),)
        pdf = np.exp(-0.5 * x * x) * _INV_SQRT_2PI
        return (g * (saved + x * pdf),)


class QuickGELU(Op):
    """z = x sigmoid(1.702 x) (tinygrad's quick_gelu, CLIP's approximation of GELU);
    dz/dx = s + 1.702 x s (1 - s), with s = sigmoid(1.702 x)"""

    name = "quick_gelu"
    forward_formula = "{0} * sigmoid(1.702 * {0})"
    vjp_formulas = ("{g} * (s + 1.702 * {0} * s * (1 - s)),  s = sigmoid(1.702 * {0})",)

    @staticmethod
    def forward(ctx, x):
        s = _sigmoid(1.702 * x)
        ctx.saved = (x, s)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved
        return (g * (s + 1.702 * x * s * (1 - s)),)


class HardSwish(Op):
    """z = x relu6(x + 3) / 6;   dz/dx = 0 for x <= -3, x/3 + 1/2 for -3 < x < 3, 1 for x >= 3 (PyTorch's
    choice at the kinks)"""

    name = "hardswish"
    forward_formula = "{0} * relu6({0} + 3) / 6"
    vjp_formulas = ("{g} * (0 if {0} <= -3, {0}/3 + 1/2 if {0} < 3, else 1)",)

    @staticmethod
    def forward(ctx, x):
        ctx.saved = (x,)
        return x * np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, g):
        x = ctx.saved[0]
        slope = np.where(x <= -3, 0, np.where(x < 3, x / 3 + 0.5, 1))
        return (g * slope.astype(g.dtype, copy=False),)


class HardTanh(Op):
    """z = clip(x, lo, hi);   dz/dx = 1 where lo < x < hi, else 0 (0 at the kinks, as PyTorch)"""

    name = "hardtanh"
    forward_formula = "clip({0}, lo, hi)"
    vjp_formulas = ("{g} * [lo < {0} < hi]",)

    @staticmethod
    def forward(ctx, x, low=-1.0, high=1.0):
        ctx.saved = (x, low, high)
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, g):
        x, low, high = ctx.saved
        return (g * ((x > low) & (x < high)),)


class ReLU6(HardTanh):
    """z = min(max(x, 0), 6);   dz/dx = 1 where 0 < x < 6, else 0"""

    name = "relu6"
    forward_formula = "min(max({0}, 0), 6)"
    vjp_formulas = ("{g} * [0 < {0} < 6]",)

    @staticmethod
    def forward(ctx, x):
        return HardTanh.forward(ctx, x, 0.0, 6.0)


class Clip(Op):
    """z = min(max(x, lo), hi) (either bound may be None);   dz/dx = 1 where lo <= x <= hi, else 0
    (PyTorch's clamp: the bounds themselves pass the gradient)"""

    name = "clip"
    forward_formula = "clip({0}, lo, hi)"
    vjp_formulas = ("{g} * [lo <= {0} <= hi]",)

    @staticmethod
    def forward(ctx, x, low=None, high=None):
        ctx.saved = (x, low, high)
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, g):
        x, low, high = ctx.saved
        inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        return (g * inside,)


class Mish(Op):
    """z = x tanh(softplus(x));   dz/dx = t + x sigmoid(x) (1 - t**2), with t = tanh(softplus(x))"""

    name = "mish"
    forward_formula = "{0} * tanh(softplus({0}))"
    vjp_formulas = ("{g} * (t + {0} * sigmoid({0}) * (1 - t**2)),  t = tanh(softplus({0}))",)

    @staticmethod
    def forward(ctx, x):
        t = np.tanh(np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))))
        ctx.saved = (x, t)
        return x * t

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved
        return (g * (t + x * _sigmoid(x) * (1 - t * t)),)


class CELU(Op):
    """z = x if x > 0 else alpha (e**(x/alpha) - 1);   dz/dx = 1 if x > 0 else e**(x/alpha)"""

    name = "celu"
    forward_formula = "{0} if {0} > 0 else alpha * (exp({0} / alpha) - 1)"
    vjp_formulas = ("{g} * (1 if {0} > 0 else exp({0} / alpha))",)

    @staticmethod
    def forward(ctx, x, alpha=1.0):
        positive = x > 0
        scaled = np.minimum(x, 0) / alpha
        ctx.saved = (positive, scaled)
        return np.where(positive, x, alpha * np.expm1(scaled))

    @staticmethod
    def backward(ctx, g):
        positive, scaled = ctx.saved
        return (np.where(positive, g, g * np.exp(scaled)),)


class Softsign(Op):
    """z = x / (1 + |x|);   dz/dx = 1 / (1 + |x|)**2"""

    name = "softsign"
    forward_formula = "{0} / (1 + |{0}|)"
    vjp_formulas = ("{g} / (1 + |{0}|)**2",)

    @staticmethod
    def forward(ctx, x):
        denominator = 1 + np.abs(x)
        ctx.saved = (denominator,)
        return x / denominator

    @staticmethod
    def backward(ctx, g):
        d = ctx.saved[0]
        return (g / (d * d),)


class _Piecewise(Op):
    """A step function (sign, floor, ceil, trunc): the derivative is 0 wherever it exists, and PyTorch
    passes back 0 everywhere (not None: the input still gets a gradient, of zeros)."""

    function: Any = None
    vjp_formulas = ("0",)

    @classmethod
    def forward(cls, ctx, x):
        return cls.function(x)

    @staticmethod
    def backward(ctx, g):
        return (_zeros_like_grad(g),)


class Sign(_Piecewise):
    """z = sign(x) in {-1, 0, 1};   dz/dx = 0"""

    name = "sign"
    forward_formula = "sign({0})"
    function = staticmethod(np.sign)


class Floor(_Piecewise):
    """z = floor(x), the largest integer <= x;   dz/dx = 0"""

    name = "floor"
    forward_formula = "floor({0})"
    function = staticmethod(np.floor)


class Ceil(_Piecewise):
    """z = ceil(x), the smallest integer >= x;   dz/dx = 0"""

    name = "ceil"
    forward_formula = "ceil({0})"
    function = staticmethod(np.ceil)


class Trunc(_Piecewise):
    """z = trunc(x), x rounded towards 0;   dz/dx = 0"""

    name = "trunc"
    forward_formula = "trunc({0})"
    function = staticmethod(np.trunc)


# ---- elementwise functions of two or three inputs -------------------------------------------------------


class Maximum(Op):
    """z = max(x, y) elementwise;   dz/dx = 1 where x > y, 1/2 where x = y, else 0 (and dz/dy likewise):
    ties split the gradient, as PyTorch's maximum does"""

    name = "maximum"
    forward_formula = "maximum({0}, {1})"
    vjp_formulas = ("{g} * ([{0} > {1}] + [{0} = {1}] / 2)", "{g} * ([{1} > {0}] + [{0} = {1}] / 2)")
    pick = staticmethod(np.maximum)
    loses = staticmethod(np.less)  # where x loses to y: x < y for the maximum

    @classmethod
    def forward(cls, ctx, x, y):
        ctx.saved = (x, y)
        return cls.pick(x, y)

    @classmethod
    def backward(cls, ctx, g):
        x, y = ctx.saved
        shared = np.where(x == y, g * 0.5, g)
        gx = np.where(cls.loses(x, y), 0, shared) if ctx.needs_grad[0] else None
        gy = np.where(cls.loses(y, x), 0, shared) if ctx.needs_grad[1] else None
        return gx, gy


class Minimum(Maximum):
    """z = min(x, y) elementwise;   dz/dx = 1 where x < y, 1/2 where x = y, else 0 (dz/dy likewise)"""

    name = "minimum"
    forward_formula = "minimum({0}, {1})"
    vjp_formulas = ("{g} * ([{0} < {1}] + [{0} = {1}] / 2)", "{g} * ([{1} < {0}] + [{0} = {1}] / 2)")
    pick = staticmethod(np.minimum)
    loses = staticmethod(np.greater)


class Where(Op):
    """z = x where c else y (c boolean, all three broadcast);   dz/dx = [c],  dz/dy = [not c],  c: none"""

    name = "where"
    forward_formula = "where({0}, {1}, {2})"
    vjp_formulas = ("none", "{g} * [{0}]", "{g} * [not {0}]")

    @staticmethod
    def forward(ctx, condition, x, y):
        condition = condition if condition.dtype == bool else condition.astype(bool)
        ctx.saved = (condition,)
        return np.where(condition, x, y)

    @staticmethod
    def backward(ctx, g):
        c = ctx.saved[0]
        gx = np.where(c, g, 0) if ctx.needs_grad[1] else None
        gy = np.where(c, 0, g) if ctx.needs_grad[2] else None
        return None, gx, gy


class _Comparison(Op):
    """z = [x ? y] elementwise, a boolean tensor: no derivative (PyTorch's comparisons need no gradient)."""

    compare: Any = None
    vjp_formulas = ("none", "none")

    @classmethod
    def forward(cls, ctx, x, y):
        return cls.compare(x, y)

    @staticmethod
    def backward(ctx, g):
        return None, None


class Less(_Comparison):
    """z = [x < y]"""

    name = "<"
    forward_formula = "{0} < {1}"
    compare = staticmethod(np.less)


class LessEqual(_Comparison):
    """z = [x <= y]"""

    name = "<="
    forward_formula = "{0} <= {1}"
    compare = staticmethod(np.less_equal)


class Greater(_Comparison):
    """z = [x > y]"""

    name = ">"
    forward_formula = "{0} > {1}"
    compare = staticmethod(np.greater)


class GreaterEqual(_Comparison):
    """z = [x >= y]"""

    name = ">="
    forward_formula = "{0} >= {1}"
    compare = staticmethod(np.greater_equal)


class Equal(_Comparison):
    """z = [x == y]"""

    name = "=="
    forward_formula = "{0} == {1}"
    compare = staticmethod(np.equal)


class NotEqual(_Comparison):
    """z = [x != y]"""

    name = "!="
    forward_formula = "{0} != {1}"
    compare = staticmethod(np.not_equal)


# ---- more reductions and scans -----------------------------------------------------------------------------


class Var(Op):
    """v = sum_i (x_i - m)**2 / (n - c) over ``axis``, m the mean, c the ``correction`` (1: unbiased);
    dv/dx_i = 2 (x_i - m) / (n - c)   (the terms through m sum to zero)"""

    name = "var"
    forward_formula = "var({0})"
    vjp_formulas = ("{g} * 2 * ({0} - mean({0})) / (n - c)",)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, correction=1):
        first = np.mean(x, axis=axis, keepdims=True)  # then corrected by the mean residual: exact for a
        centered = x - (first + np.mean(x - first, axis=axis, keepdims=True))  # constant x (PyTorch: 0)
        squares = np.sum(centered * centered, axis=axis, keepdims=keepdims)
        dof = max(x.size // max(np.size(squares), 1) - correction, 0) if x.size else 0
        with np.errstate(divide="ignore", invalid="ignore"):
            out = squares / x.dtype.type(dof)
        ctx.saved = (centered, dof, axis, keepdims)
        return out

    @staticmethod
    def backward(ctx, g):
        centered, dof, axis, keepdims = ctx.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = centered * (2 / centered.dtype.type(dof))
        return (_expand(g, centered.shape, axis, keepdims) * scale,)


class Std(Op):
    """s = sqrt(var(x));   ds/dx_i = (x_i - m) / ((n - c) s), and 0 where s = 0 (PyTorch's choice: there
    all x_i - m are 0 too)"""

    name = "std"
    forward_formula = "std({0})"
    vjp_formulas = ("{g} * ({0} - mean({0})) / ((n - c) * {out})",)

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, correction=1):
        out = np.sqrt(Var.forward(ctx, x, axis, keepdims, correction))
        ctx.saved = (*ctx.saved, out)
        return out

    @staticmethod
    def backward(ctx, g):
        centered, dof, axis, keepdims, out = ctx.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            per_entry = g / (out * centered.dtype.type(dof))
        per_entry = _expand(np.where(out == 0, 0, per_entry), centered.shape, axis, keepdims)
        return (per_entry * centered,)


class CumSum(Op):
    """z_i = x_1 + ... + x_i along ``axis``;   dL/dx_j = sum_{i >= j} g_i: the reversed cumulative sum"""

    name = "cumsum"
    forward_formula = "cumsum({0})"
    vjp_formulas = ("reverse_cumsum({g})",)

    @staticmethod
    def forward(ctx, x, axis=0):
        ctx.saved = (axis,)
        return np.cumsum(x, axis=axis) if x.ndim else x.copy()

    @staticmethod
    def backward(ctx, g):
        axis = ctx.saved[0]
        if g.ndim == 0:
            return (g,)
        return (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis),)


class ArgMax(Op):
    """z = the index of the largest entry along ``axis`` (the first on ties); an integer, no derivative"""

    name = "argmax"
    forward_formula = "argmax({0})"
    vjp_formulas = ("none",)
    pick = staticmethod(np.argmax)

    @classmethod
    def forward(cls, ctx, x, axis=None, keepdims=False):
        return np.asarray(cls.pick(x, axis=axis, keepdims=keepdims), dtype=np.int64)

    @staticmethod
    def backward(ctx, g):
        return (None,)


class ArgMin(ArgMax):
    """z = the index of the smallest entry along ``axis`` (the first on ties); no derivative"""

    name = "argmin"
    forward_formula = "argmin({0})"
    pick = staticmethod(np.argmin)


# ---- more shape ops ----------------------------------------------------------------------------------------


class Flip(Op):
    """z = x reversed along ``axis``;   the gradient is reversed back"""

    name = "flip"
    forward_formula = "flip({0})"
    vjp_formulas = ("flip({g})",)

    @staticmethod
    def forward(ctx, x, axis=None):
        ctx.saved = (axis,)
        return np.flip(x, axis)

    @staticmethod
    def backward(ctx, g):
        return (np.flip(g, ctx.saved[0]),)


class Pad(Op):
    """z = x with ``widths[a] = (before, after)`` entries of ``value`` added on each side of axis a
    (a negative width crops instead);   dL/dx = the gradient's slice where x sits (zero where cropped)"""

    name = "pad"
    forward_formula = "pad({0})"
    vjp_formulas = ("{g}[the slice where {0} sits]",)

    @staticmethod
    def forward(ctx, x, widths, value=0.0):
        crop = tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(widths, x.shape))
        grow = tuple((max(b, 0), max(a, 0)) for b, a in widths)
        inner = x[crop] if any(b < 0 or a < 0 for b, a in widths) else x
        ctx.saved = (x.shape, crop, grow, inner.shape)
        return np.pad(inner, grow, constant_values=value) if any(b or a for b, a in grow) else inner

    @staticmethod
    def backward(ctx, g):
        shape, crop, grow, inner_shape = ctx.saved
        inner = g[tuple(slice(b, b + n) for (b, _), n in zip(grow, inner_shape))]
        if inner_shape == shape:
            return (inner,)
        grad = np.zeros(shape, dtype=g.dtype)
        grad[crop] = inner
        return (grad,)


class Expand(Op):
    """z = x broadcast to ``shape`` (no copy);   dL/dx = the gradient summed over the copies (done by the
    Tensor's ``unbroadcast``, as for every broadcasting op)"""

    name = "expand"
    forward_formula = "expand({0})"
    vjp_formulas = ("sum of {g} over the expanded axes",)

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return (g,)


class Repeat(Op):
    """z = x tiled ``repeats[a]`` times along each axis a (PyTorch's repeat, NumPy's tile);
    dL/dx = the sum of the gradient over the tiles"""

    name = "repeat"
    forward_formula = "repeat({0})"
    vjp_formulas = ("sum of {g} over the tiles",)

    @staticmethod
    def forward(ctx, x, repeats):
        shape = (1,) * (len(repeats) - x.ndim) + x.shape
        ctx.saved = (x.shape, shape, repeats)
        return np.tile(x.reshape(shape), repeats)

    @staticmethod
    def backward(ctx, g):
        in_shape, shape, repeats = ctx.saved
        interleaved = [n for pair in zip(repeats, shape) for n in pair]  # (r0, s0, r1, s1, ...)
        summed = g.reshape(interleaved).sum(axis=tuple(range(0, 2 * len(shape), 2)))
        return (summed.reshape(in_shape),)


class Triangle(Op):
    """z = x with the entries above (``upper=False``: tril) or below (triu) the ``diagonal`` zeroed, on the
    last two axes;   dL/dx = the gradient with the same entries zeroed"""

    name = "tril"
    forward_formula = "tril({0})"
    vjp_formulas = ("tril({g})",)

    @staticmethod
    def forward(ctx, x, diagonal=0, upper=False):
        ctx.saved = (diagonal, upper)
        return np.triu(x, diagonal) if upper else np.tril(x, diagonal)

    @staticmethod
    def backward(ctx, g):
        diagonal, upper = ctx.saved
        return (np.triu(g, diagonal) if upper else np.tril(g, diagonal),)


class Gather(Op):
    """z[..i..] = x[..index[..i..]..] along ``axis`` (PyTorch's gather: ``index`` has x's number of axes and
    is no larger on the others);   dL/dx: each gradient entry is added where its entry came from"""

    name = "gather"
    forward_formula = "gather({0}, axis, index)"
    vjp_formulas = ("scatter_add(zeros, axis, index, {g})",)

    @staticmethod
    def forward(ctx, x, axis, index):
        if index.ndim != x.ndim or any(
            i > n for a, (i, n) in enumerate(zip(index.shape, x.shape)) if a != axis % max(x.ndim, 1)
        ):
            raise _shape_error(
                "gather",
                f"the index needs the input's {x.ndim} axes, none longer except axis {axis}",
                x.shape,
                index.shape,
            )
        axis %= max(x.ndim, 1)
        part = x[tuple(slice(None) if a == axis else slice(0, n) for a, n in enumerate(index.shape))]
        ctx.saved = (x.shape, axis, index)
        return np.take_along_axis(part, index, axis)

    @staticmethod
    def backward(ctx, g):
        shape, axis, index = ctx.saved
        where = list(np.indices(index.shape, sparse=True))
        where[axis] = index
        grad = np.zeros(shape, dtype=g.dtype)
        np.add.at(grad, tuple(where), g)
        return (grad,)


# ---- sampling ----------------------------------------------------------------------------------------------


class Multinomial(Op):
    """Draw ``num_samples`` category indices from each row of non-negative weights w (p_i = w_i / sum w);
    without replacement by the Gumbel-top-k equivalent: the k largest of log(u_i) / w_i, u_i ~ U(0, 1)
    (Efraimidis and Spirakis). Integers: no derivative."""

    name = "multinomial"
    forward_formula = "multinomial({0})"
    vjp_formulas = ("none",)

    @staticmethod
    def forward(ctx, w, num_samples=1, replacement=False, rng=None):
        rows = w.reshape(1, -1) if w.ndim == 1 else w
        if w.ndim not in (1, 2) or rows.shape[1] == 0:
            raise ValueError(f"multinomial: weights of shape {w.shape}: needs 1 or 2 axes and a category")
        if not np.all(np.isfinite(rows)) or np.any(rows < 0) or np.any(rows.sum(axis=1) <= 0):
            raise ValueError("multinomial: weights must be finite, non-negative, with a positive sum per row")
        rng = rng if rng is not None else np.random.default_rng()
        if replacement:
            cdf = np.cumsum(rows, axis=1, dtype=np.float64)
            u = rng.random((len(rows), num_samples)) * cdf[:, -1:]
            picks = (u[:, :, None] >= cdf[:, None, :]).sum(axis=2)
            picks = np.minimum(picks, rows.shape[1] - 1)
        else:
            if num_samples > int(np.min(np.count_nonzero(rows, axis=1))):
                raise ValueError(
                    f"multinomial: cannot draw {num_samples} samples without replacement from rows of"
                    f" {rows.shape[1]} categories with fewer non-zero weights"
                )
            with np.errstate(divide="ignore"):
                keys = np.log(rng.random(rows.shape)) / rows  # -inf where w = 0: never chosen
            picks = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
        picks = picks.astype(np.int64)
        return picks[0] if w.ndim == 1 else picks

    @staticmethod
    def backward(ctx, g):
        return (None,)


# ---- attention ---------------------------------------------------------------------------------------------


class ScaledDotProductAttention(Op):
    """O = softmax(Q K^T s + M) V over the last axis, s = 1/sqrt(E) by default, M the mask (0 / -inf from
    a boolean mask where True means 'attend', or added as it is; causal: -inf above the diagonal).
    With P = softmax(...):  dL/dV = P^T G,   dL/dP = G V^T,   dL/dS = P (dL/dP - sum_j dL/dP_j P_j),
    dL/dQ = s dL/dS K,   dL/dK = s dL/dS^T Q."""

    name = "attention"
    forward_formula = "softmax({0} @ {1}ᵀ * s) @ {2}"
    vjp_formulas = ("s * dS @ {1}", "s * dSᵀ @ {0}", "Pᵀ @ {g}")

    @staticmethod
    def forward(ctx, q, k, v, mask=None, is_causal=False, scale=None):
        if q.ndim < 2 or k.ndim < 2 or v.ndim < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
            raise _shape_error(
                "scaled_dot_product_attention",
                "need q (..., L, E), k (..., S, E) and v (..., S, Ev)",
                q.shape,
                k.shape,
                v.shape,
            )
        s = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
        scores = (q @ _swap(k)) * s
        if is_causal:
            length, source = scores.shape[-2:]
            scores = np.where(np.tril(np.ones((length, source), dtype=bool)), scores, -np.inf)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf) if mask.dtype == bool else scores + mask
        p = np.exp(_log_softmax(scores, -1))
        ctx.saved = (q, k, v, p, s)
        return p @ v

    @staticmethod
    def backward(ctx, g):
        q, k, v, p, s = ctx.saved
        dv = _swap(p) @ g if ctx.needs_grad[2] else None
        dp = g @ _swap(v)
        ds = p * (dp - np.sum(dp * p, axis=-1, keepdims=True))
        dq = (ds @ k) * s if ctx.needs_grad[0] else None
        dk = (_swap(ds) @ q) * s if ctx.needs_grad[1] else None
        return dq, dk, dv


# ---- binary cross-entropy on probabilities -----------------------------------------------------------------


_BCE_EPSILON = float(np.float32(1e-12))  # PyTorch's floor of p (1 - p), a float32 constant


class BinaryCrossEntropy(Op):
    """L = -mean(y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1], each log clamped at -100
    (PyTorch's rule: finite at p = 0 and 1);
    dL/dp = (p - y) / max(p (1 - p), 1e-12) / n,   dL/dy = (log(1 - p) - log p) / n (unclamped, as PyTorch:
    infinite at p = 0 and 1)."""

    name = "binary_cross_entropy"
    forward_formula = "bce({0}, {1})"
    vjp_formulas = ("{g} * ({0} - {1}) / ({0} (1 - {0})) / n", "{g} * (log(1 - {0}) - log {0}) / n")

    @staticmethod
    def forward(ctx, p, y):
        if np.any((p < 0) | (p > 1)):
            raise ValueError(
                "binary_cross_entropy: every probability must be in [0, 1] (for logits, use"
                " binary_cross_entropy_with_logits)"
            )
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), -100)
            log_q = np.maximum(np.log1p(-p), -100)
        ctx.saved = (p, y, log_p, log_q)
        return -np.mean(y * log_p + (1 - y) * log_q)

    @staticmethod
    def backward(ctx, g):
        p, y, log_p, log_q = ctx.saved
        shape = np.broadcast_shapes(p.shape, y.shape)
        n = int(np.prod(shape))
        gp = g * (p - y) / np.maximum(p * (1 - p), _BCE_EPSILON) / n if ctx.needs_grad[0] else None
        gy = None
        if ctx.needs_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gy = np.broadcast_to(g * (np.log1p(-p) - np.log(p)) / n, shape)
        return gp, gy


# ---- convolution and pooling (N spatial axes; vectorized: one strided copy per kernel tap, one matmul) ---
#
# An input x (N, C, *S) padded to xp, with a kernel of size K, stride s and dilation d, has output positions
# p with out_a = floor((S_a + 2 pad_a - d_a (K_a - 1) - 1) / s_a) + 1 along each spatial axis a. Kernel tap
# k reads xp[n, c, p s + k d] for every output position p at once: one strided slice of xp. The columns
# (im2col) stack those slices, X_col[c, k, p, n] = xp[n, c, p s + k d], so that a convolution is one matrix
# product W (O, C K) @ X_col (C K, P N). Folding (col2im) is the adjoint: each tap's slice is added back
# where it was read from. Python loops run over the kernel's taps only (25 for 5 x 5), never over pixels.
#
# Memory layout: these ops work on (C, *spatial, N) arrays, the batch innermost, so that every strided copy
# and addition moves runs of N contiguous numbers; their results are (N, C, *spatial) views of such arrays
# (no copy), and the next convolution or pooling reads them without copying again.


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """floor((size + 2 padding - dilation (kernel - 1) - 1) / stride) + 1"""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _taps(
    kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...], out_size: tuple[int, ...]
):
    """For each kernel tap, in row-major order: (its number, the index of what it reads from a
    (C, *spatial, N) array)."""
    for number, tap in enumerate(np.ndindex(*kernel)):
        region = tuple(
            slice(k * d, k * d + s * (o - 1) + 1, s) for k, d, s, o in zip(tap, dilation, stride, out_size)
        )
        yield number, (slice(None), *region, slice(None))


def _batch_last(x: Array, padding: tuple[int, ...] = (), value: float = 0.0) -> Array:
    """x (N, C, *spatial) as a C-contiguous (C, *spatial + 2 padding, N) array (no copy when x is already
    a view of one and needs no padding)."""
    moved = np.moveaxis(x, 0, -1)
    if any(padding):
        return np.pad(moved, ((0, 0), *((p, p) for p in padding), (0, 0)), constant_values=value)
    return np.ascontiguousarray(moved)


def _batch_first(x: Array) -> Array:
    """(C, *spatial, N) as the (N, C, *spatial) view."""
    return np.moveaxis(x, -1, 0)


def _crop(x: Array, padding: tuple[int, ...]) -> Array:
    """A (C, *spatial, N) array without ``padding`` on each side of its spatial axes."""
    if not any(padding):
        return x
    return x[(slice(None), *(slice(p, n - p) for p, n in zip(padding, x.shape[1:-1])), slice(None))]


def _im2col(xp: Array, kernel, stride, dilation, out_size) -> Array:
    """X_col (C, prod(K), *out, N) of xp (C, *spatial, N): X_col[c, k, p, n] = xp[c, p s + k d, n]."""
    cols = np.empty((xp.shape[0], int(np.prod(kernel)), *out_size, xp.shape[-1]), dtype=xp.dtype)
    for number, region in _taps(kernel, stride, dilation, out_size):
        np.copyto(cols[:, number], xp[region])
    return cols


def _col2im(cols: Array, shape: tuple[int, ...], kernel, stride, dilation) -> Array:
    """The adjoint of :func:`_im2col`: zeros of ``shape`` (C, *spatial, N), each tap's slice added back."""
    folded = np.zeros(shape, dtype=cols.dtype)
    for number, region in _taps(kernel, stride, dilation, cols.shape[2:-1]):
        folded[region] += cols[:, number]
    return folded


class Conv(Op):
    """Cross-correlation (what deep learning calls convolution) over N spatial axes, in groups:
    z[n, o, p] = b[o] + sum_{c in group(o), k} W[o, c, k] xp[n, c, p s + k d],  i.e.  Z = W X_col (one
    matrix product per group; X_col: the im2col columns above).
    dL/dW = G X_col^T,   dL/dX_col = W^T G (folded back onto x: col2im),   dL/db = G summed over n and p."""

    name = "conv"
    forward_formula = "conv({0}, {1}) + {2}"
    vjp_formulas = ("col2im({1}ᵀ @ {g})", "{g} @ im2col({0})ᵀ", "sum({g})")

    @staticmethod
    def forward(ctx, x, w, b=None, stride=(1,), padding=(0,), dilation=(1,), groups=1):
        n, kernel = x.shape[0], w.shape[2:]
        xp = _batch_last(x, padding)
        out_size = tuple(
            conv_output_size(s, k, st, 0, d) for s, k, st, d in zip(xp.shape[1:-1], kernel, stride, dilation)
        )
        cols = _im2col(xp, kernel, stride, dilation, out_size).reshape(groups, -1, int(np.prod(out_size)) * n)
        weights = w.reshape(groups, w.shape[0] // groups, -1)  # (G, O/G, C/G * K)
        out = _batch_first((weights @ cols).reshape(w.shape[0], *out_size, n))
        if b is not None:
            out += b.reshape(-1, *(1,) * len(out_size))
        ctx.saved = (cols, weights, xp.shape, w.shape, stride, padding, dilation)
        return out

    @staticmethod
    def backward(ctx, g):
        cols, weights, xp_shape, w_shape, stride, padding, dilation = ctx.saved
        groups = weights.shape[0]
        rows = _batch_last(g).reshape(groups, w_shape[0] // groups, -1)  # (G, O/G, P N)
        gx = gw = gb = None
        if ctx.needs_grad[0]:
            dcols = (_swap(weights) @ rows).reshape(xp_shape[0], -1, *g.shape[2:], g.shape[0])
            gx = _batch_first(_crop(_col2im(dcols, xp_shape, w_shape[2:], stride, dilation), padding))
        if ctx.needs_grad[1]:  # G X_col^T, computed as (X_col G^T)^T: BLAS runs this order faster here
            gw = _swap(cols @ _swap(rows)).reshape(w_shape)
        if len(ctx.needs_grad) > 2 and ctx.needs_grad[2]:
            gb = rows.sum(axis=-1).reshape(-1)
        return gx, gw, gb


class ConvTranspose(Op):
    """The transpose (adjoint in x) of :class:`Conv`, "fractionally strided convolution": each input entry
    x[n, c, p] adds W[c, o, k] x[n, c, p] to z[n, o, p s + k d - padding]. Its forward pass is Conv's
    backward pass in x (Z = col2im(W^T X)), and its backward pass in x is Conv's forward pass:
    dL/dX = W im2col(G);   dL/dW = X im2col(G)^T;   dL/db = G summed.
    The weight has PyTorch's layout (C_in, C_out/groups, *K)."""

    name = "conv_transpose"
    forward_formula = "conv_transpose({0}, {1}) + {2}"
    vjp_formulas = ("{1} @ im2col({g})", "{0} @ im2col({g})ᵀ", "sum({g})")

    @staticmethod
    def forward(ctx, x, w, b=None, stride=(1,), padding=(0,), output_padding=(0,), dilation=(1,), groups=1):
        n, in_size, kernel = x.shape[0], x.shape[2:], w.shape[2:]
        rows = _batch_last(x).reshape(groups, x.shape[1] // groups, -1)  # (G, C_in/G, P_in N)
        weights = w.reshape(groups, w.shape[0] // groups, -1)  # (G, C_in/G, C_out/G * K)
        out_channels = w.shape[1] * groups
        cols = (_swap(weights) @ rows).reshape(out_channels, -1, *in_size, n)
        full = tuple(
            (i - 1) * s + d * (k - 1) + 1 + extra
            for i, s, d, k, extra in zip(in_size, stride, dilation, kernel, output_padding)
        )
        folded = _col2im(cols, (out_channels, *full, n), kernel, stride, dilation)
        out = _batch_first(_crop(folded, padding))
        if b is not None:
            out += b.reshape(-1, *(1,) * len(in_size))
        ctx.saved = (rows, weights, x.shape, w.shape, stride, padding, dilation)
        return out

    @staticmethod
    def backward(ctx, g):
        rows, weights, x_shape, w_shape, stride, padding, dilation = ctx.saved
        groups, kernel, in_size = weights.shape[0], w_shape[2:], x_shape[2:]
        cols = _im2col(_batch_last(g, padding), kernel, stride, dilation, in_size)
        cols = cols.reshape(groups, -1, rows.shape[-1])  # (G, C_out/G * K, P_in N)
        gx = gw = gb = None
        if ctx.needs_grad[0]:
            gx = _batch_first((weights @ cols).reshape(x_shape[1], *in_size, x_shape[0]))
        if ctx.needs_grad[1]:
            gw = (rows @ _swap(cols)).reshape(w_shape)
        if len(ctx.needs_grad) > 2 and ctx.needs_grad[2]:
            gb = g.sum(axis=(0, *range(2, g.ndim)))
        return gx, gw, gb


class MaxPool(Op):
    """z[n, c, p] = max_k xp[n, c, p s + k d] (padding with -inf);   dL/dx: each output's gradient goes to
    the one entry that was its maximum (the first tap on ties, as PyTorch; a NaN counts as a maximum),
    added up where windows overlap. A running maximum over the taps remembers which tap won."""

    name = "max_pool"
    forward_formula = "max_pool({0})"
    vjp_formulas = ("{g} routed to each window's argmax",)

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation):
        xp = _batch_last(x, padding, -np.inf)
        out_size = tuple(
            conv_output_size(n, k, s, 0, d) for n, k, s, d in zip(xp.shape[1:-1], kernel, stride, dilation)
        )
        out = winner = None
        for number, region in _taps(kernel, stride, dilation, out_size):
            candidate = xp[region]
            if out is None:
                out, winner = candidate.copy(), np.zeros(candidate.shape, dtype=np.uint16)
                continue
            better = np.greater(candidate, out)
            better |= np.isnan(candidate)
            np.maximum(out, candidate, out=out)  # (NaN wins, as in PyTorch)
            # taps come in increasing order: the winner so far is the largest tap number that was better
            np.maximum(winner, np.multiply(better, number, dtype=np.uint16), out=winner)
        ctx.saved = (winner, xp.shape, kernel, stride, padding, dilation)
        return _batch_first(out)

    @staticmethod
    def backward(ctx, g):
        winner, xp_shape, kernel, stride, padding, dilation = ctx.saved
        g = _batch_last(g)
        grad = np.zeros(xp_shape, dtype=g.dtype)
        overlap = any(s < (k - 1) * d + 1 for s, k, d in zip(stride, kernel, dilation))
        for number, region in _taps(kernel, stride, dilation, g.shape[1:-1]):
            if overlap:
                grad[region] += g * (winner == number)
            else:  # each entry is in one window at most
                np.multiply(g, winner == number, out=grad[region])
        return (_batch_first(_crop(grad, padding)),)


class AvgPool(Op):
    """z[n, c, p] = (1 / D_p) sum_k xp[n, c, p s + k d] (zero padding), D_p = prod(K), or the number of
    entries inside the unpadded input when ``count_include_pad=False``;   dL/dx[..] = the sum, over the
    windows that hold it, of g / D"""

    name = "avg_pool"
    forward_formula = "avg_pool({0})"
    vjp_formulas = ("col2im({g} / D)",)

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation=None, count_include_pad=True):
        dilation = dilation or (1,) * len(kernel)
        xp = _batch_last(x, padding)
        out_size = tuple(
            conv_output_size(n, k, s, 0, d) for n, k, s, d in zip(xp.shape[1:-1], kernel, stride, dilation)
        )
        sums = np.zeros((xp.shape[0], *out_size, xp.shape[-1]), dtype=x.dtype)
        for _, region in _taps(kernel, stride, dilation, out_size):
            sums += xp[region]
        if count_include_pad or not any(padding):
            divisor = np.asarray(float(np.prod(kernel)), dtype=x.dtype)
        else:
            inside = np.pad(
                np.ones((1, *x.shape[2:], 1), dtype=x.dtype), ((0, 0), *((p, p) for p in padding), (0, 0))
            )
            divisor = np.zeros((1, *out_size, 1), dtype=x.dtype)
            for _, region in _taps(kernel, stride, dilation, out_size):
                divisor += inside[region]
        ctx.saved = (divisor, xp.shape, kernel, stride, padding, dilation)
        return _batch_first(sums / divisor)

    @staticmethod
    def backward(ctx, g):
        divisor, xp_shape, kernel, stride, padding, dilation = ctx.saved
        share = _batch_last(g) / divisor
        grad = np.zeros(xp_shape, dtype=g.dtype)
        for _, region in _taps(kernel, stride, dilation, share.shape[1:-1]):
            grad[region] += share
        return (_batch_first(_crop(grad, padding)),)
