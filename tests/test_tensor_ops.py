"""The Tensor engine: every op against central finite differences (float64, hypothesis-drawn shapes and
values, broadcasting included), ``unbroadcast``, float32 preservation through every op and gradient,
dropout, and the numerically delicate ops."""

from __future__ import annotations

import re
from typing import Callable

import numpy as np
import pytest
from conftest import broadcast_shapes, check, float_arrays, reduction_axes, shapes, t64
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import (
    BackwardStep,
    Tensor,
    affine,
    binary_cross_entropy_with_logits,
    concat,
    cross_entropy,
    huber_loss,
    mae_loss,
    mse_loss,
    stack,
    unbroadcast,
)

FAST = settings(max_examples=15, deadline=None)


def away_from_zero(shape):
    """Entries in +-[0.1, 3]: no relu/abs/leaky/elu kink is within the finite-difference step."""
    return hnp.arrays(np.float64, shape, elements=st.floats(0.1, 3.0)).flatmap(
        lambda a: hnp.arrays(np.float64, a.shape, elements=st.sampled_from([-1.0, 1.0])).map(lambda s: a * s)
    )


# ---- unbroadcast ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "grad_shape, shape, expected",
    [
        ((2, 3), (2, 3), lambda g: g),
        ((2, 3), (3,), lambda g: g.sum(0)),
        ((2, 3), (1, 3), lambda g: g.sum(0, keepdims=True)),
        ((2, 3), (2, 1), lambda g: g.sum(1, keepdims=True)),
        ((2, 3), (), lambda g: g.sum()),
        ((4, 2, 3), (2, 1), lambda g: g.sum(0).sum(1, keepdims=True)),
        ((4, 2, 3), (1, 1, 1), lambda g: g.sum(keepdims=True)),
        ((4, 1, 3), (1, 3), lambda g: g.sum(0)),
    ],
)
def test_unbroadcast_sums_the_stretched_and_prepended_axes(grad_shape, shape, expected, rng) -> None:
    g = rng.normal(size=grad_shape)
    out = unbroadcast(g, shape)
    assert out.shape == shape
    np.testing.assert_allclose(out, expected(g), rtol=1e-12)


@FAST
@given(data=st.data())
def test_unbroadcast_is_the_adjoint_of_broadcasting(data) -> None:
    shape = data.draw(shapes)
    # a shape that broadcasts to it: some axes set to 1, some leading axes dropped
    keep = data.draw(st.lists(st.booleans(), min_size=len(shape), max_size=len(shape)))
    small = tuple(n if k else 1 for n, k in zip(shape, keep))[data.draw(st.integers(0, len(shape))) :]
    x = data.draw(float_arrays(small))
    g = data.draw(float_arrays(shape))
    # <broadcast(x), g> = <x, unbroadcast(g)>
    assert np.sum(np.broadcast_to(x, shape) * g) == pytest.approx(np.sum(x * unbroadcast(g, small)))


# ---- arithmetic, broadcasting included --------------------------------------------------------------------


@st.composite
def broadcast_pair(draw, low=-3.0, high=3.0, second_away_from_zero=False):
    """Two arrays whose shapes broadcast against each other (either may be the smaller one)."""
    first, second = draw(broadcast_shapes(shapes))
    a = draw(float_arrays(first, low, high))
    b = draw(away_from_zero(second) if second_away_from_zero else float_arrays(second, low, high))
    return a, b


@pytest.mark.parametrize(
    "fn",
    [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: b - a * a],
    ids=["add", "sub", "mul", "sub-mul"],
)
@FAST
@given(pair=broadcast_pair())
def test_arithmetic_with_broadcasting(fn, pair) -> None:
    check(fn, *pair)


@FAST
@given(pair=broadcast_pair(second_away_from_zero=True))
def test_division_with_broadcasting(pair) -> None:
    check(lambda a, b: a / b, *pair)


@FAST
@given(pair=broadcast_pair(low=0.2, high=2.0))
def test_power_with_broadcasting(pair) -> None:
    check(lambda a, b: a**b, *pair)


@FAST
@given(x=float_arrays((3, 2)))
def test_arithmetic_with_numbers_and_arrays(x) -> None:
    c = np.array([0.5, -2.0])
    check(lambda t: 2.0 - t * 3 + 1 / (t * t + 1) + c * t - t / 4 + c + 2**t, x)
    check(lambda t: (-t) ** 2 + t**3, x)


# ---- matrix products --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a_shape, b_shape",
    [
        ((3, 4), (4, 2)),
        ((2, 3, 4), (4, 2)),
        ((2, 3, 4), (2, 4, 2)),
        ((3, 1, 2, 4), (2, 4, 3)),
        ((4,), (4, 2)),
        ((3, 4), (4,)),
        ((4,), (4,)),
        ((4,), (2, 4, 3)),
    ],
    ids=str,
)
def test_matmul_including_batches_and_vectors(a_shape, b_shape) -> None:
    rng = np.random.default_rng(2)
    check(lambda a, b: a @ b, rng.normal(size=a_shape), rng.normal(size=b_shape))


@pytest.mark.parametrize("x_shape", [(3, 4), (2, 3, 4), (4,)], ids=str)
def test_affine_is_matmul_plus_bias_as_one_node(x_shape) -> None:
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=x_shape), rng.normal(size=(4, 2)), rng.normal(size=2)
    check(affine, x, w, b)
    fused, separate = affine(t64(x), t64(w), t64(b)), t64(x) @ t64(w) + t64(b)
    assert fused._op == "affine" and fused._parents and len(fused._parents) == 3
    np.testing.assert_array_equal(fused.data, separate.data)


@pytest.mark.parametrize(
    "x_shape, w_shape, b_shape, words",
    [((3, 4), (5, 2), (2,), r"affine: shapes \(3, 4\) and \(5, 2\)"), ((3, 4), (4, 2), (3,), "b \\(out,\\)")],
)
def test_affine_shape_errors_name_the_op(x_shape, w_shape, b_shape, words) -> None:
    with pytest.raises(ValueError, match=words):
        affine(Tensor(np.ones(x_shape)), Tensor(np.ones(w_shape)), Tensor(np.ones(b_shape)))


def test_reflected_matmul_with_an_array() -> None:
    rng = np.random.default_rng(3)
    m = rng.normal(size=(2, 3))
    check(lambda t: m @ t, rng.normal(size=(3, 4)))


# ---- reductions -------------------------------------------------------------------------------------------


@st.composite
def array_and_axis(draw):
    # unique entries on a grid of 0.01: no ties, and no two entries within the finite-difference step
    grid = st.integers(-300, 300).map(lambda i: i / 100)
    x = draw(hnp.arrays(np.float64, shapes, elements=grid, unique=True))
    axis = draw(reduction_axes(x.ndim))
    return x, axis, draw(st.booleans())


@pytest.mark.parametrize("reduction", ["sum", "mean", "max", "min"])
@FAST
@given(case=array_and_axis())
def test_reductions_over_axes_with_keepdims(reduction, case) -> None:
    x, axis, keepdims = case  # unique entries: no ties for max/min
    check(lambda t: getattr(t, reduction)(axis=axis, keepdims=keepdims), x)
    out = getattr(Tensor(x, dtype=np.float64), reduction)(axis=axis, keepdims=keepdims)
    expected = getattr(np, {"max": "amax", "min": "amin"}.get(reduction, reduction))(
        x, axis=axis, keepdims=keepdims
    )
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)


def test_max_splits_the_gradient_between_ties() -> None:
    x = t64([[1.0, 5.0, 5.0], [2.0, 0.0, 1.0]])
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])


# ---- shape, indexing, joining -----------------------------------------------------------------------------


@FAST
@given(x=hnp.arrays(np.float64, (2, 3, 4), elements=st.floats(-3, 3)))
def test_reshape_transpose(x) -> None:
    check(lambda t: t.reshape(6, 4), x)
    check(lambda t: t.reshape((4, -1)), x)
    check(lambda t: t.transpose(), x)
    check(lambda t: t.transpose(1, 2, 0), x)
    check(lambda t: t.reshape(24).reshape(3, 8).T, x)


@pytest.mark.parametrize(
    "index",
    [
        0,
        -1,
        slice(1, 3),
        (slice(None), 1),
        (slice(None, None, -1), slice(None, None, 2)),
        [0, 0, 2, 0],
        ([1, 1, 0], [3, 3, 3]),
        np.array([[0, 1], [1, 1]]),
        (Ellipsis, -1),
        (None, slice(None), 2),
    ],
    ids=str,
)
def test_indexing_including_repeated_entries(index) -> None:
    check(lambda t: t[index], np.random.default_rng(4).normal(size=(3, 4)))


def test_repeated_fancy_index_accumulates_every_copy() -> None:
    x = t64([1.0, 2.0, 3.0])
    x[[0, 0, 0, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


def test_boolean_mask_index() -> None:
    x = np.random.default_rng(5).normal(size=(3, 4))
    check(lambda t: t[x > 0], x)
    check(lambda t: t[Tensor(x > 0, dtype=bool)], x)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat_and_stack(axis) -> None:
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    check(lambda x, y: concat([x, y * 2, x], axis=axis), a, b)
    check(lambda x, y: stack([x, y, x * y], axis=axis), a, b)


# ---- elementwise functions and activations ----------------------------------------------------------------

ELEMENTWISE = {
    "neg": lambda t: -t,
    "exp": lambda t: t.exp(),
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "relu": lambda t: t.relu(),
    "leaky_relu": lambda t: t.leaky_relu(),
    "leaky_relu(0.3)": lambda t: t.leaky_relu(0.3),
    "elu": lambda t: t.elu(),
    "elu(0.4)": lambda t: t.elu(0.4),
    "silu": lambda t: t.silu(),
    "softplus": lambda t: t.softplus(),
    "abs": lambda t: t.abs(),
    "softmax": lambda t: t.softmax(),
    "softmax(0)": lambda t: t.softmax(axis=0),
    "log_softmax": lambda t: t.log_softmax(),
    "log_softmax(0)": lambda t: t.log_softmax(axis=0),
}
POSITIVE = {"log": lambda t: t.log(), "sqrt": lambda t: t.sqrt(), "pow 0.5": lambda t: t**0.5}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
@FAST
@given(x=away_from_zero((3, 4)))
def test_elementwise_functions(name, x) -> None:
    check(ELEMENTWISE[name], x)


@pytest.mark.parametrize("name", list(POSITIVE))
@FAST
@given(x=hnp.arrays(np.float64, (2, 5), elements=st.floats(0.2, 4.0)))
def test_functions_of_positive_inputs(name, x) -> None:
    check(POSITIVE[name], x)


def test_sigmoid_softplus_softmax_are_stable_for_huge_inputs() -> None:
    x = Tensor([[-1e4, -50.0, 0.0, 50.0, 1e4]], dtype=np.float32)
    assert np.all(np.isfinite(x.sigmoid().data)) and x.sigmoid().data[0, 0] == 0.0
    assert np.all(np.isfinite(x.softplus().data)) and x.softplus().data[0, -1] == 1e4
    assert np.all(np.isfinite(x.softmax().data)) and x.softmax().data.sum() == pytest.approx(1.0)
    assert np.all(np.isfinite(x.log_softmax().data))


# ---- losses -----------------------------------------------------------------------------------------------


@FAST
@given(
    logits=hnp.arrays(np.float64, (4, 3), elements=st.floats(-5, 5)),
    labels=st.lists(st.integers(0, 2), min_size=4, max_size=4),
)
def test_cross_entropy(logits, labels) -> None:
    check(lambda t: cross_entropy(t, labels), logits)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    expected = -np.mean(np.log(p[np.arange(4), labels]))
    assert cross_entropy(t64(logits), labels).item() == pytest.approx(expected, rel=1e-10)


def test_cross_entropy_is_finite_for_logits_of_1e4() -> None:
    for dtype in (np.float32, np.float64):
        logits = Tensor([[1e4, -1e4, 0.0], [0.0, 1e4, 1e4]], requires_grad=True, dtype=dtype)
        loss = cross_entropy(logits, [1, 2])
        loss.backward()
        assert np.isfinite(loss.item()) and loss.item() == pytest.approx((2e4 + np.log(2)) / 2, rel=1e-6)
        assert np.all(np.isfinite(logits.grad))
        np.testing.assert_allclose(logits.grad, [[0.5, -0.5, 0.0], [0.0, 0.25, -0.25]], atol=1e-6)


def test_cross_entropy_of_no_rows_is_nan_as_in_pytorch() -> None:
    torch = pytest.importorskip("torch")
    expected = torch.nn.functional.cross_entropy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))
    assert np.isnan(expected.item()) and np.isnan(cross_entropy(Tensor(np.zeros((0, 3))), []).item())


def test_cross_entropy_accepts_a_label_tensor() -> None:
    logits = np.random.default_rng(7).normal(size=(3, 4))
    a = cross_entropy(t64(logits), Tensor([1, 0, 3])).item()
    b = cross_entropy(t64(logits), np.array([1, 0, 3])).item()
    assert a == b


@pytest.mark.parametrize(
    "labels, message",
    [([0, 3], "class indices in 0..2"), ([0, -1], "class indices in 0..2"), ([0, 1, 2], "must be (N, C)")],
)
def test_cross_entropy_names_bad_labels(labels, message) -> None:
    """A label outside the classes (negative ones included, which NumPy's indexing would wrap) or of the
    wrong length is an error of the op, not a wrong loss."""
    with pytest.raises(ValueError, match=rf"cross_entropy: .*{re.escape(message)}"):
        cross_entropy(t64(np.zeros((2, 3))), labels)


@pytest.mark.parametrize(
    "shape",
    [(128, 10), (5, 1), (3, 64), (3, 65), (2, 4, 27), (0, 10), (7,)],
    ids=lambda s: "x".join(map(str, s)),
)
def test_the_log_sum_exp_shift_is_numpys_max(shape) -> None:
    """``_max_keepdims`` (a column-major copy for a short last axis) gives exactly ``np.max(keepdims=True)``,
    NaN and infinities included, on contiguous and strided input."""
    from autograd.ops import _max_keepdims

    x = np.random.default_rng(3).normal(size=shape).astype(np.float32)
    if x.size > 4:
        x.reshape(-1)[[0, 1, 2]] = [np.nan, np.inf, -np.inf]
    for a in (x, x[::2], np.swapaxes(x, 0, -1) if x.ndim > 1 else x):
        for axis in range(-a.ndim, a.ndim):
            if a.shape[axis] == 0:  # no maximum of nothing: NumPy's error either way
                with pytest.raises(ValueError, match="zero-size"):
                    _max_keepdims(a, axis)
                continue
            np.testing.assert_array_equal(_max_keepdims(a, axis), np.max(a, axis=axis, keepdims=True))


@FAST
@given(pair=broadcast_pair())
def test_binary_cross_entropy_with_logits(pair) -> None:
    logits, raw = pair
    targets = 1 / (1 + np.exp(-raw))  # in (0, 1)
    check(binary_cross_entropy_with_logits, logits, targets)


def test_binary_cross_entropy_with_logits_is_finite_for_huge_logits() -> None:
    x = Tensor([1e4, -1e4, 30.0], requires_grad=True, dtype=np.float32)
    loss = binary_cross_entropy_with_logits(x, np.array([0.0, 1.0, 1.0], dtype=np.float32))
    loss.backward()
    assert loss.item() == pytest.approx(2e4 / 3, rel=1e-5)
    np.testing.assert_allclose(x.grad, [1 / 3, -1 / 3, 0.0], atol=1e-6)


@pytest.mark.parametrize(
    "loss",
    [mse_loss, mae_loss, huber_loss, lambda p, t: huber_loss(p, t, delta=0.4)],
    ids=["mse", "mae", "huber", "huber(0.4)"],
)
@FAST
@given(pair=broadcast_pair())
def test_regression_losses(loss, pair) -> None:
    prediction, target = pair
    residual = np.broadcast_arrays(prediction, target)
    if np.any(np.abs(residual[0] - residual[1]) < 1e-3):  # |r| kink of MAE
        return
    if np.any(np.abs(np.abs(residual[0] - residual[1]) - 0.4) < 1e-3):  # Huber's delta
        return
    check(loss, prediction, target)


def test_huber_is_quadratic_inside_delta_and_linear_outside() -> None:
    p = Tensor([0.5, 3.0, -3.0], dtype=np.float64)
    t = np.zeros(3)
    assert huber_loss(p, t, delta=1.0).item() == pytest.approx((0.125 + 2.5 + 2.5) / 3)
    assert mae_loss(p, t).item() == pytest.approx(6.5 / 3)
    assert mse_loss(p, t).item() == pytest.approx((0.25 + 9 + 9) / 3)


# ---- dropout ----------------------------------------------------------------------------------------------


def test_inverted_dropout_scales_kept_units_and_routes_the_gradient_through_them() -> None:
    x = Tensor(np.ones((200, 50)), requires_grad=True)
    out = x.dropout(0.25, np.random.default_rng(8))
    kept = out.data != 0
    assert 0.70 < kept.mean() < 0.80
    np.testing.assert_allclose(out.data[kept], 1 / 0.75, rtol=1e-6)
    assert out.data.mean() == pytest.approx(1.0, abs=0.03)  # expectation preserved
    out.sum().backward()
    np.testing.assert_allclose(x.grad, kept / 0.75, rtol=1e-6)
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


def test_dropout_is_the_identity_in_evaluation_and_for_p_zero() -> None:
    x = Tensor(np.ones(5), requires_grad=True)
    assert x.dropout(0.5, np.random.default_rng(0), training=False) is x
    assert x.dropout(0.0, np.random.default_rng(0)) is x
    with pytest.raises(ValueError):
        x.dropout(1.0, np.random.default_rng(0))


def test_dropout_draws_from_the_given_generator() -> None:
    x = Tensor(np.ones(100))
    a = x.dropout(0.5, np.random.default_rng(3)).data
    b = x.dropout(0.5, np.random.default_rng(3)).data
    c = x.dropout(0.5, np.random.default_rng(4)).data
    np.testing.assert_array_equal(a, b)
    assert np.any(a != c)


# ---- dtypes -----------------------------------------------------------------------------------------------

FLOAT32_CASES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "add/sub/mul/div bcast": lambda x, b: ((x + b) * b - x / (b * b + 1)).sum(),
    "numbers": lambda x, b: (2.5 * x - 1.5 + x / 3.0 + 0.5**x + x**2.0).sum(),
    "matmul": lambda x, b: (x @ x.T @ x).sum(),
    "batched matmul": lambda x, b: (x.reshape(2, 2, 3) @ x.reshape(2, 3, 2)).sum(),
    "reductions": lambda x, b: x.max(axis=0).sum() + x.min(axis=1).mean() + x.mean(),
    "shape": lambda x, b: x.T.reshape(-1)[[0, 0, 3]].sum() + concat([x, x], 1).sum() + stack([x, x]).sum(),
    "elementwise": lambda x, b: (
        x.exp()
        + x.abs().sqrt()
        + (x * x + 1).log()
        + x.tanh()
        + x.sigmoid()
        + x.relu()
        + x.leaky_relu()
        + x.elu()
        + x.silu()
        + x.softplus()
    ).sum(),
    "softmax": lambda x, b: (x.softmax() * b).sum() + x.log_softmax(axis=0).sum(),
    "losses": lambda x, b: (
        cross_entropy(x, [0, 2, 1, 0])
        + binary_cross_entropy_with_logits(x, b.sigmoid())
        + mse_loss(x, b)
        + mae_loss(x, b)
        + huber_loss(x, b, 0.5)
    ),
    "dropout": lambda x, b: x.dropout(0.5, np.random.default_rng(0)).sum(),
}


@pytest.mark.parametrize("name", list(FLOAT32_CASES))
def test_float32_stays_float32_in_every_value_and_gradient(name) -> None:
    rng = np.random.default_rng(9)
    x = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    b = Tensor(rng.normal(size=(3,)), requires_grad=True)
    assert x.dtype == np.float32
    out = FLOAT32_CASES[name](x, b)
    steps: list[BackwardStep] = []
    out.backward(observer=steps.append)
    assert out.dtype == np.float32
    for s in steps:
        assert s.node.data.dtype == np.float32, f"{s.node._op} value is {s.node.data.dtype}"
        assert s.upstream.dtype == np.float32, f"{s.node._op} upstream is {s.upstream.dtype}"
        for c in s.contributions:
            assert c is None or c.dtype == np.float32, f"{s.node._op} sends {c.dtype} to a parent"
    assert x.grad.dtype == np.float32
    assert b.grad is None or b.grad.dtype == np.float32


def test_float64_on_request_and_float32_by_default() -> None:
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(np.arange(3.0)).dtype == np.float32
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    x = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    (x * 2.0 + np.float32(1)).sum().backward()
    assert x.grad.dtype == np.float64


# ---- the Tensor API ---------------------------------------------------------------------------------------


def test_inputs_without_requires_grad_get_no_gradient_and_no_graph() -> None:
    x = Tensor(np.ones((2, 3)))
    w = Tensor(np.ones((3, 1)), requires_grad=True)
    out = (x @ w).sum()
    out.backward()
    assert x.grad is None and w.grad is not None
    constant = (x * 2).sum()
    assert not constant.requires_grad and constant._parents == ()


def test_backward_without_a_gradient_needs_one_element() -> None:
    with pytest.raises(ValueError, match="single-element"):
        Tensor(np.ones(3), requires_grad=True).exp().backward()
    x = Tensor(np.ones(3), requires_grad=True)
    x.exp().backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(x.grad, np.e * np.array([1.0, 2.0, 3.0]), rtol=1e-6)


def test_array_facts_and_detach() -> None:
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, label="x")
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and len(x) == 2
    assert x.label == "x" and "requires_grad" in repr(x)
    d = (x * 2).detach()
    assert not d.requires_grad and d._parents == () and d.dtype == np.float32
    assert x.numpy() is x.data and Tensor([3.0]).item() == 3.0
