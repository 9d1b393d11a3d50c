"""Functions in PyTorch's ``torch.nn.functional`` style over the Tensor engine's ops.

Convolution and pooling take PyTorch's arguments (``stride``, ``padding``, ``dilation``, ``groups``, each an
int or one int per spatial axis) and PyTorch's layouts: inputs (N, C, *spatial) (or unbatched (C, *spatial)),
weights (out, in/groups, *kernel), transposed-convolution weights (in, out/groups, *kernel). The ops
themselves (forward and backward side by side) are in :mod:`autograd.ops`; this module checks the arguments
and names the shapes and the op when they do not fit.

Elementwise functions (``gelu``, ``relu6``, ...) are also Tensor methods; they are repeated here so that code
written against ``torch.nn.functional`` reads the same.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from autograd import ops
from autograd.tensor import Tensor, where

IntOrTuple = Any  # int | Sequence[int]


def _ntuple(value: IntOrTuple, n: int, op: str, what: str, minimum: int = 0) -> tuple[int, ...]:
    """An int or ``n`` ints as a tuple of ``n`` ints >= ``minimum``."""
    values = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != n or not all(isinstance(v, (int, np.integer)) and v >= minimum for v in values):
        raise ValueError(f"{op}: {what} must be an int >= {minimum} or {n} of them, got {value!r}")
    return tuple(int(v) for v in values)


def _batched(x: Tensor, dims: int, op: str) -> tuple[Tensor, bool]:
    """(N, C, *spatial) as it is; an unbatched (C, *spatial) input gets a batch axis (removed afterwards)."""
    if x.ndim == dims + 2:
        return x, False
    if x.ndim == dims + 1:
        return x.reshape(1, *x.shape), True
    raise ValueError(
        f"{op}: input of shape {x.shape}: expected (N, C{', *spatial' if dims > 1 else ', L'}) with {dims}"
        f" spatial axis{'es' if dims > 1 else ''} ({dims + 2} axes) or an unbatched input ({dims + 1} axes)"
    )


def _apply_batched(op: type[ops.Op], inputs: tuple[Tensor, ...], unbatched: bool, **settings: Any) -> Tensor:
    """``op`` on ``inputs`` (the first one batched by :func:`_batched`), the batch axis removed again when
    the input had none."""
    out = Tensor._apply(op, *inputs, **settings)
    return out.reshape(out.shape[1:]) if unbatched else out


def _conv(
    op: str,
    dims: int,
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: IntOrTuple,
    padding: IntOrTuple | str,
    dilation: IntOrTuple,
    groups: int,
) -> Tensor:
    x, unbatched = _batched(x, dims, op)
    stride_t = _ntuple(stride, dims, op, "stride", 1)
    dilation_t = _ntuple(dilation, dims, op, "dilation", 1)
    if weight.ndim != dims + 2:
        raise ValueError(f"{op}: weight of shape {weight.shape}: expected (out, in/groups, *kernel)")
    kernel = weight.shape[2:]
    if isinstance(padding, str):
        padding_t = _string_padding(op, padding, kernel, stride_t, dilation_t)
    else:
        padding_t = _ntuple(padding, dims, op, "padding")
    channels, out_channels = x.shape[1], weight.shape[0]
    if groups < 1 or channels % groups or out_channels % groups:
        raise ValueError(
            f"{op}: input {x.shape} and weight {weight.shape}: groups={groups} must divide the input's"
            f" {channels} and the weight's {out_channels} channels"
        )
    if weight.shape[1] * groups != channels:
        raise ValueError(
            f"{op}: input {x.shape} has {channels} channels, but weight {weight.shape} with groups={groups}"
            f" expects {weight.shape[1] * groups}"
        )
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"{op}: bias of shape {bias.shape}: expected ({out_channels},)")
    sizes = [ops.conv_output_size(*a) for a in zip(x.shape[2:], kernel, stride_t, padding_t, dilation_t)]
    if min(sizes) < 1:
        raise ValueError(
            f"{op}: input {x.shape} padded by {padding_t} is smaller than the kernel {tuple(kernel)}"
            f" with dilation {dilation_t}"
        )
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return _apply_batched(
        ops.Conv, inputs, unbatched, stride=stride_t, padding=padding_t, dilation=dilation_t, groups=groups
    )


def _string_padding(
    op: str, padding: str, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[int, ...]:
    if padding == "valid":
        return (0,) * len(kernel)
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' needs stride 1, got {stride}")
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        if any(t % 2 for t in total):
            raise ValueError(f"{op}: padding='same' with the even kernel {kernel} would pad unevenly")
        return tuple(t // 2 for t in total)
    raise ValueError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")


def affine(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """x @ weight + bias as one graph node (what ``nn.Linear`` computes): weight (in, out), bias (out,).
    PyTorch's ``F.linear(x, W, b)`` takes W as (out, in): it is ``affine(x, W.T, b)``."""
    return Tensor._apply(ops.Affine, x, weight, bias)


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D cross-correlation of x (N, C, L) with weight (O, C/groups, K), as PyTorch's ``F.conv1d``."""
    return _conv("conv1d", 1, x, weight, bias, stride, padding, dilation, groups)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D cross-correlation of x (N, C, H, W) with weight (O, C/groups, kh, kw), as
    ``torch.nn.functional.conv2d``: out[n, o] = bias[o] + sum_c sum_k weight[o, c, k] x[n, c, p s + k d]."""
    return _conv("conv2d", 2, x, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(
    op: str, dims: int, x, weight, bias, stride, padding, output_padding, groups, dilation
) -> Tensor:
    x, unbatched = _batched(x, dims, op)
    stride_t = _ntuple(stride, dims, op, "stride", 1)
    padding_t = _ntuple(padding, dims, op, "padding")
    dilation_t = _ntuple(dilation, dims, op, "dilation", 1)
    extra = _ntuple(output_padding, dims, op, "output_padding")
    if any(e >= max(s, d) for e, s, d in zip(extra, stride_t, dilation_t)):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than the stride or the dilation")
    if weight.ndim != dims + 2:
        raise ValueError(f"{op}: weight of shape {weight.shape}: expected (in, out/groups, *kernel)")
    channels = x.shape[1]
    if groups < 1 or weight.shape[0] != channels or channels % groups:
        raise ValueError(
            f"{op}: input {x.shape} has {channels} channels, but weight {weight.shape} (in, out/groups,"
            f" *kernel) with groups={groups} expects {weight.shape[0]}"
        )
    out_channels = weight.shape[1] * groups
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"{op}: bias of shape {bias.shape}: expected ({out_channels},)")
    sizes = [
        (i - 1) * s - 2 * p + d * (k - 1) + e + 1
        for i, s, p, d, k, e in zip(x.shape[2:], stride_t, padding_t, dilation_t, weight.shape[2:], extra)
    ]
    if min(sizes) < 1:
        raise ValueError(f"{op}: input {x.shape} with weight {weight.shape} gives no output (sizes {sizes})")
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return _apply_batched(
        ops.ConvTranspose,
        inputs,
        unbatched,
        stride=stride_t,
        padding=padding_t,
        output_padding=extra,
        dilation=dilation_t,
        groups=groups,
    )


def conv_transpose1d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transpose of conv1d, as PyTorch's ``F.conv_transpose1d`` (weight (C_in, C_out/groups, K))."""
    return _conv_transpose(
        "conv_transpose1d", 1, x, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transpose of conv2d (the gradient of conv2d in its input), as
    ``torch.nn.functional.conv_transpose2d``: weight (C_in, C_out/groups, kh, kw); output size
    (in - 1) stride - 2 padding + dilation (kernel - 1) + output_padding + 1."""
    return _conv_transpose(
        "conv_transpose2d", 2, x, weight, bias, stride, padding, output_padding, groups, dilation
    )


def _pool(op: str, fn: type[ops.Op], dims: int, x, kernel_size, stride, padding, dilation, **extra) -> Tensor:
    x, unbatched = _batched(x, dims, op)
    kernel = _ntuple(kernel_size, dims, op, "kernel_size", 1)
    stride_t = kernel if stride is None or stride == () else _ntuple(stride, dims, op, "stride", 1)
    padding_t = _ntuple(padding, dims, op, "padding")
    dilation_t = _ntuple(dilation, dims, op, "dilation", 1)
    if any(2 * p > k for p, k in zip(padding_t, kernel)):
        raise ValueError(f"{op}: padding {padding_t} must be at most half the kernel size {kernel}")
    sizes = [ops.conv_output_size(*a) for a in zip(x.shape[2:], kernel, stride_t, padding_t, dilation_t)]
    if min(sizes) < 1:
        raise ValueError(f"{op}: input {x.shape} padded by {padding_t} is smaller than the window {kernel}")
    return _apply_batched(
        fn, (x,), unbatched, kernel=kernel, stride=stride_t, padding=padding_t, dilation=dilation_t, **extra
    )


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1) -> Tensor:
    """The maximum over each window of the last axis (stride: the kernel size by default)."""
    return _pool("max_pool1d", ops.MaxPool, 1, x, kernel_size, stride, padding, dilation)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1) -> Tensor:
    """The maximum over each kh x kw window (stride: the kernel size by default), as
    ``torch.nn.functional.max_pool2d``; the gradient goes to each window's (first) maximum."""
    return _pool("max_pool2d", ops.MaxPool, 2, x, kernel_size, stride, padding, dilation)


def avg_pool1d(x, kernel_size, stride=None, padding=0, count_include_pad=True) -> Tensor:
    """The mean over each window of the last axis."""
    return _pool(
        "avg_pool1d", ops.AvgPool, 1, x, kernel_size, stride, padding, 1, count_include_pad=count_include_pad
    )


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True, *, dilation=1) -> Tensor:
    """The mean over each kh x kw window, as ``torch.nn.functional.avg_pool2d`` (zero padding, counted in
    the mean unless ``count_include_pad=False``)."""
    return _pool(
        "avg_pool2d",
        ops.AvgPool,
        2,
        x,
        kernel_size,
        stride,
        padding,
        dilation,
        count_include_pad=count_include_pad,
    )


def pad(x: Tensor, pad: Sequence[Any], mode: str = "constant", value: float | None = None) -> Tensor:
    """``torch.nn.functional.pad``: ``pad`` = (left, right, top, bottom, ...), last axis first; negative
    widths crop. Only the constant mode."""
    return x.pad(pad, 0.0 if value is None else value, mode)


def maximum(x: Tensor, y: Any) -> Tensor:
    """Elementwise maximum (ties share the gradient)."""
    return x.maximum(y) if isinstance(x, Tensor) else _lift(x, y).maximum(y)


def minimum(x: Tensor, y: Any) -> Tensor:
    """Elementwise minimum (ties share the gradient)."""
    return x.minimum(y) if isinstance(x, Tensor) else _lift(x, y).minimum(y)


def _lift(x: Any, like: Any) -> Tensor:
    return Tensor(x, dtype=like.dtype if isinstance(like, Tensor) else None)


def clip(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    return x.clip(min, max)


clamp = clip


def binary_cross_entropy(probabilities: Tensor, target: Any) -> Tensor:
    """Mean binary cross-entropy of probabilities in [0, 1] against targets (logs clamped at -100, as
    PyTorch); prefer ``binary_cross_entropy_with_logits`` on logits."""
    return probabilities.binary_cross_entropy(target)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
) -> Tensor:
    """softmax(Q K^T / sqrt(E) + mask) V over the last axis, as PyTorch's. ``attn_mask``: booleans (True:
    attend) or numbers added to the scores (it gets no gradient); ``is_causal``: attend to earlier
    positions only. No dropout (``dropout_p`` must be 0)."""
    if dropout_p:
        raise ValueError("scaled_dot_product_attention: dropout_p is not supported; apply dropout yourself")
    if attn_mask is not None and is_causal:
        raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal, not both")
    mask = None
    if attn_mask is not None:
        mask = np.asarray(attn_mask.data if isinstance(attn_mask, Tensor) else attn_mask)
        if mask.dtype != bool:
            mask = mask.astype(query.dtype, copy=False)
    return Tensor._apply(
        ops.ScaledDotProductAttention, query, key, value, mask=mask, is_causal=is_causal, scale=scale
    )


def multinomial(
    weights: Tensor, num_samples: int = 1, replacement: bool = False, rng: np.random.Generator | None = None
) -> Tensor:
    """``torch.multinomial``: category indices drawn from each row of non-negative weights."""
    return weights.multinomial(num_samples, replacement, rng)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    return x.gelu(approximate)


def quick_gelu(x: Tensor) -> Tensor:
    return x.quick_gelu()


def hardswish(x: Tensor) -> Tensor:
    return x.hardswish()


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return x.hardtanh(min_val, max_val)


def relu6(x: Tensor) -> Tensor:
    return x.relu6()


def mish(x: Tensor) -> Tensor:
    return x.mish()


def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    return x.celu(alpha)


def softsign(x: Tensor) -> Tensor:
    return x.softsign()


__all__ = [
    "affine",
    "avg_pool1d",
    "avg_pool2d",
    "binary_cross_entropy",
    "celu",
    "clamp",
    "clip",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "gelu",
    "hardswish",
    "hardtanh",
    "max_pool1d",
    "max_pool2d",
    "maximum",
    "minimum",
    "mish",
    "multinomial",
    "pad",
    "quick_gelu",
    "relu6",
    "scaled_dot_product_attention",
    "softsign",
    "where",
]
