"""``autograd.optim``: update rules written out by hand, the same optimizer on Value and Tensor parameters,
state round trips, float32 preservation, schedules. (Agreement with torch.optim: test_against_torch.py.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd import Tensor, Value
from autograd.nn import MLP
from autograd.optim import SGD, Adam, AdamW, CosineLR, RMSprop, StepLR


def test_sgd_rules_written_out() -> None:
    w = Tensor([1.0, -2.0], requires_grad=True, dtype=np.float64)
    opt = SGD([w], lr=0.1, momentum=0.5, nesterov=True, weight_decay=0.2)
    w.grad = np.array([0.3, 0.4])
    opt.step()  # g = grad + wd w;  v = g;  w -= lr (g + mu v)
    g = np.array([0.3, 0.4]) + 0.2 * np.array([1.0, -2.0])
    expected = np.array([1.0, -2.0]) - 0.1 * (g + 0.5 * g)
    np.testing.assert_allclose(w.data, expected, rtol=1e-15)
    w.grad = np.array([0.3, 0.4])
    opt.step()
    g2 = np.array([0.3, 0.4]) + 0.2 * expected
    v2 = 0.5 * g + g2
    np.testing.assert_allclose(w.data, expected - 0.1 * (g2 + 0.5 * v2), rtol=1e-15)


def test_adam_first_step_moves_each_weight_by_lr() -> None:
    # bias correction makes the first step lr * g / |g| (up to eps)
    w = Tensor([1.0, -2.0, 3.0], requires_grad=True, dtype=np.float64)
    opt = Adam([w], lr=0.01)
    w.grad = np.array([0.5, -40.0, 1e-3])
    opt.step()
    np.testing.assert_allclose(w.data, [0.99, -1.99, 2.99], rtol=1e-6)


def test_adamw_decays_weights_without_gradient_signal() -> None:
    w = Tensor([2.0], requires_grad=True, dtype=np.float64)
    opt = AdamW([w], lr=0.1, weight_decay=0.5)
    w.grad = np.array([0.0])
    opt.step()
    assert w.data[0] == pytest.approx(2.0 * (1 - 0.1 * 0.5))


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, lr=0.1),
        lambda p: SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
        lambda p: Adam(p, lr=0.05),
        lambda p: AdamW(p, lr=0.05, weight_decay=0.01),
    ],
)
def test_the_same_optimizer_updates_values_and_tensors_identically(make) -> None:
    rng = np.random.default_rng(0)
    start = rng.normal(size=(2, 3))
    values = [Value(x) for x in start.ravel()]
    tensor = Tensor(start.copy(), requires_grad=True, dtype=np.float64)
    opt_values, opt_tensor = make(values), make([tensor])
    for _ in range(5):
        grads = rng.normal(size=(2, 3))
        for v, g in zip(values, grads.ravel()):
            v.grad = float(g)
        tensor.grad = grads.copy()
        opt_values.step()
        opt_tensor.step()
    np.testing.assert_allclose([v.data for v in values], tensor.data.ravel(), rtol=1e-14, atol=1e-15)


def test_one_optimizer_over_a_mixed_list_of_values_and_tensors() -> None:
    a, b = Value(1.0), Tensor([1.0, 1.0], requires_grad=True)
    opt = SGD([a, b], lr=0.5)
    loss_a, loss_b = a * a, (b * b).sum()
    loss_a.backward()
    loss_b.backward()
    opt.step()
    assert a.data == 0.0 and b.data.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert a.grad == 0.0 and b.grad is None


def test_a_parameter_without_gradient_is_left_alone() -> None:
    used, unused = Tensor([1.0], requires_grad=True), Tensor([5.0], requires_grad=True)
    opt = Adam([used, unused], lr=0.1)
    (used * 3).sum().backward()
    opt.step()
    assert unused.data[0] == 5.0 and used.data[0] != 1.0


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1),
        lambda p: Adam(p, lr=0.01),
        lambda p: AdamW(p, lr=0.01),
        lambda p: Adam(p, lr=0.01, weight_decay=0.1),
        lambda p: RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    ],
)
@pytest.mark.parametrize("all_have_grads", [True, False])
def test_a_step_leaves_the_gradients_as_they_were(make, all_have_grads) -> None:
    """The update works on the optimizer's own copy of the gradients (Adam overwrites that copy with its
    step): the tensors' ``.grad`` arrays, which a user may read after ``step()``, are not touched."""
    rng = np.random.default_rng(0)
    params = [Tensor(rng.normal(size=s), requires_grad=True) for s in [(3, 4), (4,), (2,)]]
    opt = make(params)
    for p in params[: None if all_have_grads else 2]:
        p.grad = rng.normal(size=p.data.shape).astype(np.float32)
    before = [None if p.grad is None else p.grad.copy() for p in params]
    for _ in range(3):
        opt.step()
        for p, g in zip(params, before):
            assert (p.grad is None) if g is None else np.array_equal(p.grad, g)


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1, momentum=0.9), lambda p: Adam(p, lr=0.01)])
def test_float32_parameters_and_state_stay_float32(make) -> None:
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    opt = make([w])
    for _ in range(3):
        w.grad = None
        (w * w).sum().backward()
        opt.step()
    assert w.data.dtype == np.float32
    assert all(np.asarray(v).dtype in (np.float32,) for k, v in opt.state_dict().items() if "." in k)


def test_adam_flushes_subnormal_moments_to_zero_in_float32() -> None:
    w = Tensor(np.ones(4), requires_grad=True)
    opt = Adam([w], lr=1e-3)
    w.grad = np.array([1.0, 1.0, 1.0, 1.0], dtype=np.float32)
    opt.step()
    for _ in range(99):  # gradient zero from now on: moments decay geometrically
        w.grad = np.array([0.0, 0.0, 0.0, 1e-20], dtype=np.float32)
        opt.step()
    m, v = opt._slots[0].state["m_sum"], opt._slots[0].state["v_sum"]  # m / (1 - b1), v / (1 - b2)
    tiny = np.finfo(np.float32).tiny
    assert np.all((m == 0) | (np.abs(m) >= tiny)) and np.all((v == 0) | (v >= tiny))
    assert np.all(m[:3] > 0)  # normal numbers are kept


def test_optimizer_state_round_trip_continues_identically() -> None:
    rng = np.random.default_rng(1)
    grads = [rng.normal(size=3) for _ in range(6)]

    def run(split: bool) -> np.ndarray:
        w = Tensor(np.zeros(3), requires_grad=True, dtype=np.float64)
        opt = Adam([w], lr=0.1)
        for i, g in enumerate(grads):
            if split and i == 3:
                state = {k: np.array(v) for k, v in opt.state_dict().items()}
                opt = Adam([w], lr=0.5)
                opt.load_state_dict(state)
            w.grad = g.copy()
            opt.step()
        return w.data

    np.testing.assert_array_equal(run(False), run(True))


def test_training_a_model_reduces_the_loss_on_both_engines() -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(16, 2))
    y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    for engine in ("tensor", "scalar"):
        model = MLP([2, 8, 1], activation="tanh", engine=engine, seed=0, dtype=np.float64)
        opt = Adam(model.parameters(), lr=0.05)
        losses = []
        for _ in range(30):
            opt.zero_grad()
            if engine == "tensor":
                out = model(Tensor(X, dtype=np.float64))
                loss = ((out - y) ** 2).mean()
            else:
                loss = Value.sum([(model(x)[0] - t[0]) ** 2 for x, t in zip(X, y)]) / len(X)
            loss.backward()
            opt.step()
            losses.append(float(np.asarray(loss.data)))
        assert losses[-1] < 0.7 * losses[0], engine


def test_argument_checks() -> None:
    with pytest.raises(ValueError, match="no parameters"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        SGD([Value(1.0)], lr=0.1, nesterov=True)


def test_step_and_cosine_schedules() -> None:
    opt = SGD([Value(0.0)], lr=1.0)
    step = StepLR(opt, step_size=2, gamma=0.5)
    assert [step.step() for _ in range(5)] == [1.0, 0.5, 0.5, 0.25, 0.25]
    opt = SGD([Value(0.0)], lr=1.0)
    cosine = CosineLR(opt, total=4, min_lr=0.2)
    lrs = [cosine.step() for _ in range(6)]
    expected = [0.2 + 0.8 * (1 + math.cos(math.pi * t / 4)) / 2 for t in (1, 2, 3, 4, 4, 4)]
    assert lrs == pytest.approx(expected)
    assert lrs[1] == pytest.approx(0.6) and lrs[-1] == pytest.approx(0.2)


def test_parameters_share_one_flat_buffer_and_rebound_data_is_taken_back() -> None:
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    b = Tensor(np.ones(4), requires_grad=True)
    c = Tensor(np.ones(2), requires_grad=True, dtype=np.float64)
    opt = Adam([a, b, a, c], lr=0.1)  # a repeated: updated once
    assert a.data.base is b.data.base is not None and c.data.dtype == np.float64
    a.grad, b.grad, c.grad = np.ones((2, 3), np.float32), np.ones(4, np.float32), np.ones(2)
    opt.step()
    np.testing.assert_allclose(a.data, 0.9, rtol=1e-6)
    a.data = np.full((2, 3), 5.0, dtype=np.float32)  # rebound by the user: adopted again
    b.grad = None  # no gradient this step: left alone
    opt.step()
    assert a.data.base is b.data.base and np.all(a.data < 5.0) and np.all(b.data == np.float32(0.9))
    with pytest.raises(ValueError, match="create the optimizer again"):
        a.data = np.ones(7, dtype=np.float32)
        opt.step()
