"""The Tensor engine's added ops against central finite differences (float64, hypothesis-drawn shapes and
values, broadcasting and negative axes included), their edge cases (ties, zeros, kinks), the ops without a
derivative, the engine's shape errors, and the tracer's formula contract of every op class."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from conftest import broadcast_shapes, check, float_arrays, reduction_axes, shapes, t64
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import (
    Tensor,
    binary_cross_entropy,
    concat,
    maximum,
    minimum,
    multinomial,
    ops,
    pad,
    scaled_dot_product_attention,
    where,
)

FAST = settings(max_examples=15, deadline=None)


def away_from(kinks: tuple[float, ...], shape, low=-4.0, high=4.0):
    """Entries at least 0.05 from every kink (those closer are moved 0.1 past it), so that no kink lies
    within the finite-difference step."""

    def move(a: np.ndarray) -> np.ndarray:
        for k in kinks:
            a = np.where(np.abs(a - k) < 0.05, k + 0.1, a)
        return a

    return float_arrays(shape, low, high).map(move)


@st.composite
def broadcast_pair(draw, low=-3.0, high=3.0):
    first, second = draw(broadcast_shapes(shapes))
    return draw(float_arrays(first, low, high)), draw(float_arrays(second, low, high))


# ---- elementwise functions ---------------------------------------------------------------------------------

SMOOTH = {
    "sin": lambda t: t.sin(),
    "cos": lambda t: t.cos(),
    "exp2": lambda t: t.exp2(),
    "gelu": lambda t: t.gelu(),
    "gelu(tanh)": lambda t: t.gelu(approximate="tanh"),
    "quick_gelu": lambda t: t.quick_gelu(),
    "mish": lambda t: t.mish(),
    "softsign": lambda t: t.softsign(),
}
KINKED = {  # name: (function, kinks)
    "hardswish": (lambda t: t.hardswish(), (-3.0, 3.0)),
    "hardtanh": (lambda t: t.hardtanh(), (-1.0, 1.0)),
    "hardtanh(-2, 0.5)": (lambda t: t.hardtanh(-2.0, 0.5), (-2.0, 0.5)),
    "relu6": (lambda t: t.relu6() * 1.0, (0.0, 6.0)),
    "celu": (lambda t: t.celu(), (0.0,)),
    "celu(0.5)": (lambda t: t.celu(0.5), (0.0,)),
    "clip": (lambda t: t.clip(-1.5, 2.0), (-1.5, 2.0)),
    "clamp(min=)": (lambda t: t.clamp(min=0.5), (0.5,)),
    "sign": (lambda t: t.sign() * t, (0.0,)),
    "floor": (lambda t: t.floor() + t, tuple(range(-8, 9))),
    "ceil": (lambda t: t.ceil() * t, tuple(range(-8, 9))),
    "trunc": (lambda t: t.trunc() - t, tuple(range(-8, 9))),
}
POSITIVE = {"log2": lambda t: t.log2(), "rsqrt": lambda t: t.rsqrt(), "tan": lambda t: (t * 0.4).tan()}


@pytest.mark.parametrize("name", list(SMOOTH))
@FAST
@given(x=float_arrays((3, 4), -4.0, 4.0))
def test_smooth_elementwise_functions(name, x) -> None:
    check(SMOOTH[name], x)


@pytest.mark.parametrize("name", list(KINKED))
@FAST
@given(data=st.data())
def test_piecewise_elementwise_functions_away_from_their_kinks(name, data) -> None:
    fn, kinks = KINKED[name]
    check(fn, data.draw(away_from(kinks, (3, 4), -7.0, 7.0)))


@pytest.mark.parametrize("name", list(POSITIVE))
@FAST
@given(x=float_arrays((2, 5), 0.2, 3.5))
def test_functions_of_positive_inputs(name, x) -> None:
    check(POSITIVE[name], x)


def test_step_functions_pass_back_zeros_as_pytorch() -> None:
    for method in ("sign", "floor", "ceil", "trunc"):
        x = t64([-1.5, 0.0, 0.5, 2.0])
        getattr(x, method)().sum().backward()
        np.testing.assert_array_equal(x.grad, np.zeros(4))


def test_kinks_take_pytorchs_side() -> None:
    x = t64([-3.0, 3.0, 0.0, 6.0, -1.0, 1.0])
    x.hardswish().sum().backward()
    np.testing.assert_allclose(x.grad[:2], [0.0, 1.0])  # PyTorch: 0 at -3, 1 at 3
    x = t64([0.0, 6.0, 3.0])
    x.relu6().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])  # 0 at both kinks
    x = t64([-1.0, 1.0, 0.0])
    x.clip(-1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 1.0])  # clamp: the bounds pass the gradient


def test_float32_stays_float32() -> None:
    x = Tensor(np.linspace(-2, 2, 12).reshape(3, 4), requires_grad=True)
    y = (
        x.sin()
        + x.cos()
        + x.gelu()
        + x.gelu("tanh")
        + x.quick_gelu()
        + x.hardswish()
        + x.relu6()
        + x.mish()
        + x.celu()
        + x.softsign()
        + x.clip(-1, 1)
        + x.exp2()
        + (x * x + 1).log2()
        + (x * x + 1).rsqrt()
        + x.floor()
        + maximum(x, 0.5)
        + x.cumsum(1)
        + x.std(axis=0)
        + x.flip(1)
    )
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


# ---- binary and ternary elementwise ops --------------------------------------------------------------------


@pytest.mark.parametrize("fn", [maximum, minimum], ids=["maximum", "minimum"])
@FAST
@given(pair=broadcast_pair())
def test_maximum_minimum_with_broadcasting(fn, pair) -> None:
    a, b = pair
    if np.any(np.abs(np.subtract(*np.broadcast_arrays(a, b))) < 1e-3):
        return  # a tie within the finite-difference step
    check(fn, a, b)


def test_maximum_ties_split_the_gradient() -> None:
    a, b = t64([1.0, 2.0, 3.0]), t64([1.0, 5.0, 0.0])
    maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad, [0.5, 1.0, 0.0])


@FAST
@given(pair=broadcast_pair(), data=st.data())
def test_where_with_broadcasting(pair, data) -> None:
    a, b = pair
    shape = np.broadcast_shapes(a.shape, b.shape)
    condition = data.draw(hnp.arrays(bool, shape[data.draw(st.integers(0, len(shape))) :]))
    check(lambda x, y: where(condition, x, y), a, b)
    x, y = t64(a), t64(b)
    out = where(Tensor(condition, dtype=bool), x, y)
    np.testing.assert_array_equal(out.data, np.where(condition, a, b))


def test_where_method_in_tinygrads_and_pytorchs_order() -> None:
    condition = Tensor([True, False, True], dtype=bool)
    x, y = Tensor([1.0, 2.0, 3.0]), Tensor([-1.0, -2.0, -3.0])
    np.testing.assert_array_equal(condition.where(x, y).data, [1.0, -2.0, 3.0])  # tinygrad
    np.testing.assert_array_equal(x.where(condition, y).data, [1.0, -2.0, 3.0])  # PyTorch
    np.testing.assert_array_equal(condition.where(x, 0.0).data, [1.0, 0.0, 3.0])


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
def test_comparisons_are_boolean_and_record_no_graph(op) -> None:
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([3.0, 2.0, 1.0], requires_grad=True)
    expected = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}
    expected.update({"==": np.equal, "!=": np.not_equal})
    for other in (b, 2.0, np.array([2.0, 2.0, 2.0])):
        out = {"<": a < other, "<=": a <= other, ">": a > other, ">=": a >= other}
        out.update({"==": a == other, "!=": a != other})
        got = out[op]
        assert got.dtype == bool and not got.requires_grad and got._parents == ()
        other_data = other.data if isinstance(other, Tensor) else other
        np.testing.assert_array_equal(got.data, expected[op](a.data, other_data))


def test_tensors_still_hash_by_identity_and_work_as_dict_keys() -> None:
    a, b = Tensor([1.0]), Tensor([1.0])
    table = {a: 1, b: 2}
    assert table[a] == 1 and table[b] == 2 and len({a, b, a}) == 2
    assert bool(a == b) and not bool(a != b)
    assert (a == None) is False and (a != None) is True  # noqa: E711 (PyTorch's answer)
    with pytest.raises(ValueError):
        bool(Tensor([1.0, 2.0]) == Tensor([1.0, 2.0]))  # NumPy's ambiguity error, not a silent True


# ---- reductions and scans ----------------------------------------------------------------------------------


@st.composite
def array_and_axis(draw, min_side=1):
    x = draw(
        hnp.arrays(
            np.float64,
            hnp.array_shapes(min_dims=1, max_dims=3, min_side=min_side, max_side=4),
            elements=st.floats(-3, 3),
        )
    )
    axis = draw(reduction_axes(x.ndim))
    return x, axis, draw(st.booleans())


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("correction", [0, 1])
@FAST
@given(case=array_and_axis(min_side=2))
def test_var_and_std(name, correction, case) -> None:
    x, axis, keepdims = case
    if getattr(np, name)(x, axis=axis).min() < 1e-3:
        return  # std's derivative blows up at zero spread
    check(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims, correction=correction), x)
    out = getattr(Tensor(x, dtype=np.float64), name)(axis=axis, keepdims=keepdims, correction=correction)
    np.testing.assert_allclose(out.data, getattr(np, name)(x, axis=axis, keepdims=keepdims, ddof=correction))


@FAST
@given(x=hnp.arrays(np.float64, shapes, elements=st.floats(-3, 3)), data=st.data())
def test_cumsum_along_any_axis(x, data) -> None:
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    check(lambda t: t.cumsum(axis), x)
    np.testing.assert_array_equal(Tensor(x, dtype=np.float64).cumsum(dim=axis).data, np.cumsum(x, axis))


def test_argmax_argmin_take_the_first_of_ties_and_record_no_graph() -> None:
    x = Tensor([[1.0, 5.0, 5.0], [2.0, 2.0, -1.0]], requires_grad=True)
    np.testing.assert_array_equal(x.argmax(axis=1).data, [1, 0])
    np.testing.assert_array_equal(x.argmin(dim=-1).data, [0, 2])
    assert x.argmax().item() == 1 and x.argmax(axis=0, keepdims=True).shape == (1, 3)
    assert x.argmax().dtype == np.int64 and not x.argmax().requires_grad


# ---- shape ops --------------------------------------------------------------------------------------------


@FAST
@given(x=hnp.arrays(np.float64, (2, 3, 4), elements=st.floats(-3, 3)))
def test_shape_ops(x) -> None:
    check(lambda t: t.flip(0), x)
    check(lambda t: t.flip((0, -1)), x)
    check(lambda t: t.flip(), x)
    check(lambda t: t.pad(((1, 0), None, (2, -1))), x)
    check(lambda t: pad(t, (1, 2, -1, 0)), x)
    check(lambda t: t.pad2d((0, 1, 1, 1), value=2.0), x)
    check(lambda t: t[:, :1].expand(2, 3, 4), x)
    check(lambda t: t[:1].expand(5, -1, 3, 4), x)
    check(lambda t: t.repeat(2, 1, 3), x)
    check(lambda t: t.repeat((2, 1, 1, 2)), x)
    check(lambda t: t.flatten(), x)
    check(lambda t: t.flatten(1), x)
    check(lambda t: t[:, :1].squeeze(1).unsqueeze(-1).unsqueeze(0), x)
    check(lambda t: t.tril(), x)
    check(lambda t: t.triu(-1), x)
    check(lambda t: t.tril(2), x)


def test_pad_values_and_crops() -> None:
    x = Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.pad((1, -1)).data, [[0, 0, 1], [0, 3, 4]])
    np.testing.assert_array_equal(x.pad(((1, 0), None), value=9).data, [[9, 9, 9], [0, 1, 2], [3, 4, 5]])
    assert x.pad((0, 0, 1, 1)).shape == (4, 3) and x.pad((2, 0)).shape == (2, 5)


def test_squeeze_keeps_axes_that_are_not_one_long() -> None:
    x = Tensor(np.zeros((1, 3, 1)))
    assert x.squeeze().shape == (3,) and x.squeeze(0).shape == (3, 1) and x.squeeze(1).shape == (1, 3, 1)
    assert x.squeeze((0, 2)).shape == (3,) and x.unsqueeze(-1).shape == (1, 3, 1, 1)
    assert Tensor(np.zeros((2, 3, 4))).flatten(0, 1).shape == (6, 4)


@FAST
@given(data=st.data())
def test_gather_with_repeated_indices(data) -> None:
    x = data.draw(hnp.arrays(np.float64, (3, 4, 2), elements=st.floats(-3, 3)))
    axis = data.draw(st.integers(-3, 2))
    size = list(x.shape)
    size = [data.draw(st.integers(1, n)) for n in size]
    size[axis] = data.draw(st.integers(1, 5))
    index = data.draw(hnp.arrays(np.int64, tuple(size), elements=st.integers(0, x.shape[axis] - 1)))
    check(lambda t: t.gather(axis, index), x)


# ---- attention, binary cross-entropy, sampling -------------------------------------------------------------


def test_scaled_dot_product_attention() -> None:
    rng = np.random.default_rng(1)
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 3))
    check(scaled_dot_product_attention, q, k, v)
    mask = rng.random((3, 5)) > 0.4
    mask[:, 0] = True
    check(lambda a, b, c: scaled_dot_product_attention(a, b, c, attn_mask=mask, scale=0.3), q, k, v)
    check(lambda a, b, c: a.scaled_dot_product_attention(b, c, is_causal=True), q, k[:, :3], v[:, :3])


@FAST
@given(pair=broadcast_pair(0.05, 0.95))
def test_binary_cross_entropy_on_probabilities(pair) -> None:
    check(binary_cross_entropy, *pair)


def test_binary_cross_entropy_is_finite_at_zero_and_one() -> None:
    p = Tensor([0.0, 1.0, 0.5], requires_grad=True, dtype=np.float64)
    loss = binary_cross_entropy(p, np.array([1.0, 0.0, 1.0]))
    loss.backward()
    assert loss.item() == pytest.approx((100 + 100 + np.log(2)) / 3)
    assert np.all(np.isfinite(p.grad))
    with pytest.raises(ValueError, match="binary_cross_entropy"):
        binary_cross_entropy(Tensor([1.5]), [1.0])


def test_multinomial_draws_follow_the_weights() -> None:
    weights = Tensor([[1.0, 0.0, 3.0], [0.0, 2.0, 2.0]])
    draws = multinomial(weights, 20000, replacement=True, rng=np.random.default_rng(0)).data
    assert draws.shape == (2, 20000) and draws.dtype == np.int64
    assert not np.any(draws[0] == 1) and not np.any(draws[1] == 0)  # zero weight: never drawn
    assert np.mean(draws[0] == 2) == pytest.approx(0.75, abs=0.02)
    assert np.mean(draws[1] == 1) == pytest.approx(0.5, abs=0.02)
    distinct = weights.multinomial(2, rng=np.random.default_rng(1)).data
    assert sorted(distinct[0]) == [0, 2] and sorted(distinct[1]) == [1, 2]
    first = Tensor([0.1, 0.1, 0.8]).multinomial(1, rng=np.random.default_rng(2))
    firsts = [Tensor([1.0, 1.0, 8.0]).multinomial(1, rng=np.random.default_rng(s)).item() for s in range(400)]
    assert first.shape == (1,) and np.mean(np.array(firsts) == 2) == pytest.approx(0.8, abs=0.06)
    with pytest.raises(ValueError, match="without replacement"):
        weights.multinomial(3)
    with pytest.raises(ValueError, match="non-negative"):
        Tensor([1.0, -1.0]).multinomial(1)


# ---- the fixed defects ------------------------------------------------------------------------------------


def test_power_gradient_in_the_exponent_is_zero_at_a_zero_base() -> None:
    x = t64([0.0, 0.0, 0.0, 2.0])
    y = t64([0.0, 1.5, 3.0, 0.0])
    (x**y).sum().backward()
    np.testing.assert_array_equal(y.grad, [0.0, 0.0, 0.0, np.log(2.0)])
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0, 0.0])  # y x**(y-1), and 0 where y = 0
    z = t64([2.0])
    (Tensor(0.0, dtype=np.float64) ** z).sum().backward()
    assert z.grad[0] == 0.0


def test_concat_of_zero_dimensional_tensors_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"concat: shapes \[\(\), \(\)\].*0-d.*stack"):
        concat([Tensor(1.0), Tensor(2.0)])
    with pytest.raises(ValueError, match=r"concat: shapes \[\(2, 3\), \(2, 4\)\].*except axis 0"):
        concat([Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 4)))])
    with pytest.raises(ValueError, match="concat: axis 2 is out of range"):
        concat([Tensor(np.zeros((2, 3)))], axis=2)


@pytest.mark.parametrize(
    "a, b, words",
    [
        ((2, 3), (4, 5), r"\(2, 3\) and \(4, 5\) do not fit.*\(3\).*\(4\)"),
        ((3,), (4,), r"\(3,\) and \(4,\) do not fit"),
        ((2, 2, 3), (4, 3, 1), r"batch axes \(2,\) and \(4,\) do not broadcast"),
        ((), (3,), r"0-d operand"),
    ],
)
def test_matmul_shape_errors_name_the_op_and_the_shapes(a, b, words) -> None:
    with pytest.raises(ValueError, match=r"@ \(matmul\): shapes .*" + words):
        Tensor(np.ones(a)) @ Tensor(np.ones(b))


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda x: x.gather(0, np.zeros((2,), dtype=int)), r"gather: shapes \(2, 3\), \(2,\)"),
        (lambda x: x.expand(3, 3), r"expand: shape \(2, 3\) cannot expand to \(3, 3\)"),
        (lambda x: x.repeat(2), r"repeat: shape \(2, 3\) needs one count"),
        (lambda x: x.pad((1, 2, 3)), r"pad: padding \(1, 2, 3\) for shape \(2, 3\)"),
        (lambda x: x.pad((-5, 0)), r"pad: padding \(-5, 0\) crops shape \(2, 3\)"),
        (lambda x: x.cumsum(2), r"cumsum: axis 2 is out of range for shape \(2, 3\)"),
        (lambda x: x[0].tril(), r"tril: shape \(3,\) needs at least 2 axes"),
        (lambda x: x.unsqueeze(4), r"unsqueeze: axis 4 is out of range for shape \(2, 3\)"),
        (lambda x: x.flatten(1, 0), r"flatten: start_dim 1 comes after end_dim 0"),
        (lambda x: scaled_dot_product_attention(x, x, x[:1]), r"scaled_dot_product_attention: shapes"),
        (lambda x: x.gelu("fast"), r"gelu: approximate must be"),
        (lambda x: x.clip(), r"clip: give a lower bound"),
    ],
)
def test_shape_and_argument_errors_name_the_op(call, words) -> None:
    with pytest.raises(ValueError, match=words):
        call(Tensor(np.ones((2, 3))))


# ---- the tracer's contract -------------------------------------------------------------------------------


EXISTING = {
    "Add", "Sub", "Mul", "Div", "Neg", "Pow", "MatMul", "Sum", "Mean", "Max", "Min", "Reshape", "Transpose",
    "GetItem", "Concat", "Stack", "Exp", "Log", "Sqrt", "Abs", "Tanh", "Sigmoid", "ReLU", "LeakyReLU", "ELU",
    "SiLU", "Softplus", "Softmax", "LogSoftmax", "Dropout", "CrossEntropy", "BinaryCrossEntropyWithLogits",
    "MSELoss", "MAELoss", "HuberLoss",
}  # fmt: skip


def _new_op_classes() -> list[type]:
    return [
        cls
        for name, cls in vars(ops).items()
        if inspect.isclass(cls) and issubclass(cls, ops.Op) and cls is not ops.Op and name not in EXISTING
    ]


def test_every_added_op_documents_its_formulas_for_the_tracer() -> None:
    added = [cls for cls in _new_op_classes() if not cls.__name__.startswith("_")]
    assert len(added) > 40
    for cls in added:
        assert isinstance(cls.forward_formula, str) and "{0}" in cls.forward_formula, cls.__name__
        assert isinstance(cls.vjp_formulas, tuple) and cls.vjp_formulas, cls.__name__
        assert all(isinstance(f, str) for f in cls.vjp_formulas), cls.__name__
        assert cls.__doc__ and "=" in cls.__doc__, cls.__name__


def test_one_vjp_formula_per_input_of_every_added_op() -> None:
    from autograd import avg_pool2d, conv2d, conv_transpose2d, max_pool2d

    x = Tensor(np.linspace(0.1, 0.9, 24).reshape(2, 3, 4), requires_grad=True, dtype=np.float64)
    img = x.reshape(1, 2, 3, 4)
    w = Tensor(np.ones((2, 2, 2, 2)), requires_grad=True, dtype=np.float64)
    b = Tensor(np.ones(2), requires_grad=True, dtype=np.float64)
    pieces = [
        x.sin(), x.cos(), x.tan(), x.exp2(), x.log2(), x.rsqrt(), x.gelu(), x.quick_gelu(), x.hardswish(),
        x.hardtanh(), x.relu6(), x.clip(0.2, 0.5), x.mish(), x.celu(), x.softsign(), x.sign(), x.floor(),
        x.ceil(), x.trunc(), maximum(x, x * 2), minimum(x, 0.5), where(x.data > 0.5, x, x * 3),
        x.var(0), x.std(1), x.cumsum(2), x.flip(1), x.pad((1, 1)), x[:1].expand(2, 3, 4), x.repeat(1, 2, 1),
        x.tril(), x.gather(2, np.zeros((2, 3, 1), dtype=int)), scaled_dot_product_attention(x, x, x),
        binary_cross_entropy(x, x * 0.5), conv2d(img, w, b), conv_transpose2d(img, w, b),
        max_pool2d(img, 2), avg_pool2d(img, 2),
    ]  # fmt: skip
    total = sum(p.sum() for p in pieces)
    seen: set[type] = set()
    stack = [total]
    while stack:
        node = stack.pop()
        if node._fn is not None and node._fn.__name__ not in EXISTING:
            assert len(node._fn.vjp_formulas) == len(node._parents), node._fn.__name__
            seen.add(node._fn)
        stack.extend(node._parents)
    assert len(seen) >= 35
