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
    """z = x ** y;   dz/dx = y x**(y-1),   dz/dy = x**y ln(x)   (x > 0 for the latter)"""

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
        gx = g * y * x ** (y - 1) if ctx.needs_grad[0] else None
        gy = None
        if ctx.needs_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gy = g * out * np.log(x)
        return gx, gy


class MatMul(Op):
    """Z = X @ Y (batched over leading axes);   dL/dX = dL/dZ @ Y^T,   dL/dY = X^T @ dL/dZ"""

    name = "@"
    forward_formula = "{0} @ {1}"
    vjp_formulas = ("{g} @ {1}ᵀ", "{0}ᵀ @ {g}")

    @staticmethod
    def forward(ctx, x, y):
        ctx.saved = (x, y)
        return x @ y

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


class Concat(Op):
    """z = [x_1, ..., x_k] joined along ``axis``;   each x_i receives its own slice of the gradient"""

    name = "concat"
    forward_formula = "concat({all})"
    vjp_formulas = ("slice_{i}({g})",)

    @staticmethod
    def forward(ctx, *xs, axis=0):
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
        return (g * np.sign(ctx.saved[0]),)


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


def _log_softmax(x: Array, axis: int) -> Array:
    """x_i - log sum_j e**x_j, shifted by max_j x_j so that no exponential overflows."""
    shifted = x - np.max(x, axis=axis, keepdims=True)
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
        log_p = _log_softmax(logits, axis=-1)
        rows = np.arange(len(targets))
        ctx.saved = (log_p, rows, targets)
        return -np.mean(log_p[rows, targets])

    @staticmethod
    def backward(ctx, g):
        log_p, rows, targets = ctx.saved
        grad = np.exp(log_p)
        grad[rows, targets] -= 1
        return grad * (g / len(rows)), None


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
