"""``autograd.gradcheck``: it passes correct gradients, catches wrong ones, and says where."""

from __future__ import annotations

import numpy as np
import pytest

from autograd import Tensor, Value, ops
from autograd.gradcheck import GradcheckReport, gradcheck


class WrongSquare(ops.Op):
    """z = x**2 with a deliberately wrong derivative (x instead of 2x) at one entry."""

    name = "wrong_square"

    @staticmethod
    def forward(ctx, x):
        ctx.saved = (x,)
        return x * x

    @staticmethod
    def backward(ctx, g):
        x = ctx.saved[0]
        local = 2 * x
        local.flat[-1] = x.flat[-1]
        return (g * local,)


def test_correct_gradients_pass_on_values_and_tensors() -> None:
    a, b = Value(0.7), Value(-1.2)
    report = gradcheck(lambda x, y: (x * y).tanh() + y.exp(), [a, b])
    assert report.ok and report.abs_error < 1e-8
    t = Tensor(np.random.default_rng(0).normal(size=(3, 2)), requires_grad=True, dtype=np.float64)
    report = gradcheck(lambda x: (x.sigmoid() * x).sum(), [t])
    assert report.ok and report.worst_input == 0 and len(report.worst_index) == 2


def test_a_wrong_gradient_is_reported_with_its_input_and_index() -> None:
    good = Tensor(np.ones(2), requires_grad=True, dtype=np.float64)
    bad = Tensor(np.full((2, 3), 1.5), requires_grad=True, dtype=np.float64)
    report = gradcheck(lambda g, b: g.sum() + Tensor._apply(WrongSquare, b).sum(), [good, bad])
    assert not report.ok
    assert report.worst_input == 1 and report.worst_index == (1, 2)
    assert report.analytic == pytest.approx(1.5) and report.numeric == pytest.approx(3.0, rel=1e-6)
    assert report.abs_error == pytest.approx(1.5, rel=1e-6) and report.rel_error == pytest.approx(
        0.5, rel=1e-6
    )
    assert "MISMATCH" in str(report) and "input 1 index (1, 2)" in str(report)


def test_a_wrong_scalar_derivative_is_caught(monkeypatch) -> None:
    def wrong_tanh(self: Value) -> Value:
        import math

        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t,), "tanh")  # should be 1 - t**2

    monkeypatch.setattr(Value, "tanh", wrong_tanh)
    report = gradcheck(lambda x: x.tanh(), [Value(0.8)])
    assert not report.ok and report.worst_input == 0 and report.worst_index == ()


def test_a_missing_gradient_counts_as_zero_and_fails() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    report = gradcheck(lambda t: (t.detach() * t.data).sum() + 0 * t.sum(), [x])
    assert not report.ok and report.analytic == 0.0


def test_float32_inputs_are_refused() -> None:
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t.sum(), [Tensor([1.0], requires_grad=True)])


def test_inputs_are_restored_and_gradients_reset() -> None:
    x = Tensor([0.3, -0.4], requires_grad=True, dtype=np.float64)
    x.grad = np.array([100.0, 100.0])  # stale: gradcheck must not add to it
    v = Value(0.5)
    v.grad = 7.0
    before = x.data.copy()
    assert gradcheck(lambda t: (t * t).sum(), [x]).ok
    assert gradcheck(lambda s: s * s, [v]).ok
    assert v.grad == pytest.approx(1.0)
    np.testing.assert_array_equal(x.data, before)
    assert v.data == 0.5


def test_non_finite_results_are_not_ok() -> None:
    report = gradcheck(lambda x: (x * x).sqrt(), [Value(0.0)])  # analytic inf * 0 = NaN
    assert isinstance(report, GradcheckReport) and not report.ok
