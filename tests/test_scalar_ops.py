"""The scalar engine: every ``Value`` op against central finite differences on random inputs, the micrograd
README example (and micrograd itself when it is installed), reflected forms, labels and domain errors."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value
from autograd.gradcheck import gradcheck

FAST = settings(max_examples=30, deadline=None)

# keep away from kinks (relu/abs/leaky/elu at 0) and domain edges (log, sqrt, pow at x <= 0)
away = st.one_of(st.floats(0.1, 3.0), st.floats(-3.0, -0.1))
positive = st.floats(0.2, 3.0)

UNARY = {
    "neg": lambda x: -x,
    "exp": lambda x: x.exp(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "leaky_relu": lambda x: x.leaky_relu(),
    "leaky_relu(0.2)": lambda x: x.leaky_relu(0.2),
    "elu": lambda x: x.elu(),
    "elu(0.3)": lambda x: x.elu(0.3),
    "silu": lambda x: x.silu(),
    "softplus": lambda x: x.softplus(),
    "abs": lambda x: x.abs(),
    "pow 3": lambda x: x**3,
    "pow -2": lambda x: x**-2,
    "radd": lambda x: 2.0 + x,
    "rsub": lambda x: 2.0 - x,
    "rmul": lambda x: 2.0 * x,
    "rdiv": lambda x: 2.0 / x,
    "rpow": lambda x: 2.0**x,
}
POSITIVE_ONLY = {
    "log": lambda x: x.log(),
    "sqrt": lambda x: x.sqrt(),
    "pow 0.5": lambda x: x**0.5,
    "pow -1.5": lambda x: x**-1.5,
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "add self": lambda a, b: a + a * b,
}


@pytest.mark.parametrize("name", list(UNARY))
@FAST
@given(x=away)
def test_unary_ops_match_finite_differences(name, x) -> None:
    # compose with a multiplication so that the upstream gradient is not 1
    report = gradcheck(lambda v: UNARY[name](v) * 1.7, [Value(x)])
    assert report.ok, str(report)


@pytest.mark.parametrize("name", list(POSITIVE_ONLY))
@FAST
@given(x=positive)
def test_positive_domain_ops_match_finite_differences(name, x) -> None:
    report = gradcheck(lambda v: POSITIVE_ONLY[name](v) * 1.7, [Value(x)])
    assert report.ok, str(report)


@pytest.mark.parametrize("name", list(BINARY))
@FAST
@given(a=away, b=away)
def test_binary_ops_match_finite_differences(name, a, b) -> None:
    report = gradcheck(BINARY[name], [Value(a), Value(b)])
    assert report.ok, str(report)


@FAST
@given(a=positive, b=st.floats(-2.0, 2.0))
def test_value_exponent_matches_finite_differences(a, b) -> None:
    report = gradcheck(lambda x, y: x**y, [Value(a), Value(b)])
    assert report.ok, str(report)


@FAST
@given(xs=st.lists(away, min_size=2, max_size=6))
def test_sum_and_dot_nodes_match_finite_differences(xs) -> None:
    values = [Value(x) for x in xs]
    half = len(values) // 2
    report = gradcheck(lambda *v: Value.sum(v) * Value.dot(v[:half], v[half : 2 * half], v[-1]), values)
    assert report.ok, str(report)


@FAST
@given(xs=st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3))
def test_a_composite_expression_matches_finite_differences(xs) -> None:
    def f(a, b, c):
        return ((a * b).tanh() + (c - a).sigmoid() * b.exp()).softplus() / (1 + c * c)

    report = gradcheck(f, [Value(x) for x in xs])
    assert report.ok, str(report)


def test_micrograd_readme_example() -> None:
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.7041, abs=1e-4)
    assert a.grad == pytest.approx(138.8338, abs=1e-4)
    assert b.grad == pytest.approx(645.5773, abs=1e-4)


def test_random_expressions_agree_with_micrograd() -> None:
    engine = pytest.importorskip("micrograd.engine")
    rng = random.Random(7)
    for _ in range(30):
        numbers = [rng.uniform(-2, 2) for _ in range(4)]
        ours, theirs = [Value(x) for x in numbers], [engine.Value(x) for x in numbers]
        program = [(rng.randrange(6), rng.randrange(4), rng.randrange(4)) for _ in range(12)]

        def run(vs, program=program):
            vs = list(vs)
            for op, i, j in program:
                a, b = vs[i], vs[j]
                vs[i] = [a + b, a * b, a - b, a.relu() + b, (a * 0.5) ** 2, a / (b * b + 1)][op]
            return vs[0] + vs[1] * vs[2] - vs[3]

        out, expected = run(ours), run(theirs)
        out.backward()
        expected.backward()
        assert out.data == pytest.approx(expected.data, rel=1e-12, abs=1e-12)
        for v, m in zip(ours, theirs):
            assert v.grad == pytest.approx(m.grad, rel=1e-12, abs=1e-12)


def test_reflected_forms_compute_the_right_values() -> None:
    x = Value(4.0)
    assert (2 + x).data == 6.0 and (2 - x).data == -2.0 and (2 * x).data == 8.0
    assert (2 / x).data == 0.5 and (2**x).data == 16.0 and (-x).data == -4.0
    assert (x**0.5).data == 2.0 and (x ** Value(0.5)).data == 2.0


def test_operands_of_int_type_and_augmented_assignment() -> None:
    x = Value(3)
    assert isinstance(x.data, float)
    y = x
    y += 1
    y *= 2
    y -= x
    y /= 2
    y.backward()
    assert y.data == (((3 + 1) * 2) - 3) / 2
    assert x.grad == (2 - 1) / 2


def test_label_is_optional_and_kept() -> None:
    assert Value(1.0).label == ""
    v = Value(2.0, label="weight")
    assert v.label == "weight" and "weight" in repr(v)
    assert (v * 2).label == ""


def test_op_names_are_recorded_for_the_graph() -> None:
    a, b = Value(1.0), Value(2.0)
    assert (a + b)._op == "+" and (a * b)._op == "*" and a.tanh()._op == "tanh"
    assert (a + b)._parents == (a, b) and (a * 2)._parents == (a,)


def test_domain_errors_are_loud() -> None:
    with pytest.raises(ValueError, match="log"):
        Value(-1.0).log()
    with pytest.raises(ValueError, match="log"):
        Value(0.0).log()
    with pytest.raises(ValueError, match="sqrt"):
        Value(-1.0).sqrt()


def test_edges_give_ieee_results_not_python_exceptions() -> None:
    assert math.isinf((Value(0.0) ** -1).data)
    assert math.isnan((Value(-8.0) ** (1 / 3)).data)  # Python alone would give a complex number
    assert math.isinf((Value(1e200) ** 2).data)
    assert math.isinf(Value(800.0).exp().data)
    assert Value(-800.0).exp().data == 0.0
    s = Value(0.0).sqrt()
    s.backward()
    assert s.data == 0.0 and math.isinf(s._parents[0].grad)


def test_activations_are_stable_at_large_magnitudes() -> None:
    for x in (-800.0, -40.0, 40.0, 800.0):
        for fn in (Value.sigmoid, Value.silu, Value.softplus, Value.tanh, Value.elu):
            v = Value(x)
            out = fn(v)
            out.backward()
            assert math.isfinite(out.data) and math.isfinite(v.grad), (fn.__name__, x)
    assert Value(800.0).softplus().data == 800.0
    assert Value(-800.0).sigmoid().data == 0.0 and Value(800.0).sigmoid().data == 1.0


def test_relu_family_at_zero_uses_the_left_slope() -> None:
    for fn, expected in [
        (lambda v: v.relu(), 0.0),
        (lambda v: v.leaky_relu(0.1), 0.1),
        (lambda v: v.abs(), 0.0),
        (lambda v: v.elu(0.5), 0.5),
    ]:
        x = Value(0.0)
        out = fn(x)
        out.backward()
        assert out.data == 0.0 and x.grad == pytest.approx(expected)
