"""Every Tensor and Value op, and every optimizer, against PyTorch in float64 to 1e-10.

Each op is run in both libraries on the same random inputs; the forward values and the gradient of every
input are compared. The backward pass is seeded with a random upstream gradient (not ones), so that the
whole vector-Jacobian product is checked, not only its column sums.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from conftest import replay_optimizer_steps  # noqa: E402

from autograd import (  # noqa: E402
    Tensor,
    Value,
    affine,
    binary_cross_entropy_with_logits,
    concat,
    cross_entropy,
    huber_loss,
    mae_loss,
    mse_loss,
    stack,
)
from autograd.optim import SGD, Adam, AdamW, CosineLR, StepLR  # noqa: E402

TOL = 1e-10


def _close(ours: np.ndarray, theirs: np.ndarray, what: str) -> None:
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} vs torch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=TOL, atol=TOL, err_msg=what)


def compare(
    ours: Callable[..., Tensor],
    theirs: Callable[..., Any],
    arrays: list[np.ndarray],
    seed: int = 0,
    grad_of: tuple[int, ...] | None = None,
) -> None:
    """Run ``ours`` on float64 Tensors and ``theirs`` on float64 torch tensors; compare value and grads."""
    grad_of = tuple(range(len(arrays))) if grad_of is None else grad_of
    xs = [Tensor(a, requires_grad=i in grad_of, dtype=np.float64) for i, a in enumerate(arrays)]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=i in grad_of) for i, a in enumerate(arrays)]
    out, expected = ours(*xs), theirs(*ts)
    assert out.dtype == np.float64
    _close(out.data, expected.detach().numpy(), "forward")
    upstream = np.random.default_rng(seed).normal(size=out.shape)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream, dtype=torch.float64))
    for i in grad_of:
        assert xs[i].grad is not None, f"input {i} got no gradient"
        assert xs[i].grad.shape == arrays[i].shape, f"input {i}: gradient shape {xs[i].grad.shape}"
        _close(xs[i].grad, ts[i].grad.numpy(), f"gradient of input {i}")


def rand(*shape: int, seed: int = 0, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def away_from_zero(*shape: int, seed: int = 0) -> np.ndarray:
    """Values in +-[0.2, 2]: no kinks of relu/abs/leaky_relu/elu are near."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.2, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


# ---- arithmetic with broadcasting --------------------------------------------------------------------------

BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((2, 1, 4), (3, 1)),
    ((3, 4), ()),
    ((), (2, 3)),
    ((1,), (2, 3)),
    ((2, 3, 1), (1, 1, 5)),
]


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize(
    "name, ours, theirs",
    [
        ("add", lambda a, b: a + b, lambda a, b: a + b),
        ("sub", lambda a, b: a - b, lambda a, b: a - b),
        ("mul", lambda a, b: a * b, lambda a, b: a * b),
        ("div", lambda a, b: a / b, lambda a, b: a / b),
        ("pow", lambda a, b: a**b, lambda a, b: a**b),
    ],
)
def test_binary_ops_with_broadcasting(name, ours, theirs, shapes) -> None:
    a = rand(*shapes[0], seed=1, low=0.5, high=2.0) if name == "pow" else rand(*shapes[0], seed=1)
    b = away_from_zero(*shapes[1], seed=2)
    compare(ours, theirs, [a, b])


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda a: a + 1.5, lambda a: a + 1.5),
        (lambda a: 1.5 + a, lambda a: 1.5 + a),
        (lambda a: a - 1.5, lambda a: a - 1.5),
        (lambda a: 1.5 - a, lambda a: 1.5 - a),
        (lambda a: a * 3.0, lambda a: a * 3.0),
        (lambda a: 3.0 * a, lambda a: 3.0 * a),
        (lambda a: a / 3.0, lambda a: a / 3.0),
        (lambda a: 3.0 / a, lambda a: 3.0 / a),
        (lambda a: a**2, lambda a: a**2),
        (lambda a: a**3.5, lambda a: a**3.5),
        (lambda a: 2.0**a, lambda a: 2.0**a),
        (lambda a: -a, lambda a: -a),
        (lambda a: a * np.arange(4.0), lambda a: a * torch.arange(4.0, dtype=torch.float64)),
    ],
)
def test_ops_with_constants(ours, theirs) -> None:
    compare(ours, theirs, [rand(3, 4, seed=3, low=0.3, high=2.0)])


# ---- matrix products ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shapes",
    [
        ((3, 4), (4, 5)),
        ((2, 3, 4), (4, 5)),
        ((3, 4), (2, 4, 5)),
        ((2, 3, 4), (2, 4, 5)),
        ((2, 1, 3, 4), (5, 4, 2)),
        ((4,), (4, 5)),
        ((3, 4), (4,)),
        ((4,), (4,)),
        ((4,), (2, 4, 5)),
        ((2, 3, 4), (4,)),
    ],
    ids=str,
)
def test_matmul(shapes) -> None:
    compare(lambda a, b: a @ b, lambda a, b: a @ b, [rand(*shapes[0], seed=4), rand(*shapes[1], seed=5)])


@pytest.mark.parametrize("x_shape", [(3, 4), (2, 3, 4), (4,)], ids=str)
def test_affine_is_torch_linear(x_shape) -> None:
    compare(
        affine,
        lambda x, w, b: torch.nn.functional.linear(x, w.T, b),
        [rand(*x_shape, seed=9), rand(4, 5, seed=10), rand(5, seed=11)],
    )


def test_matmul_with_a_constant_operand() -> None:
    w = rand(4, 2, seed=6)
    compare(lambda a: a @ w, lambda a: a @ torch.tensor(w), [rand(3, 4, seed=7)])
    compare(lambda a: w.T @ a, lambda a: torch.tensor(w.T) @ a, [rand(4, 3, seed=8)])


# ---- reductions --------------------------------------------------------------------------------------------

AXES = [None, 0, 1, -1, (0, 2), (1, 2), (0, 1, 2)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("reduction", ["sum", "mean", "max", "min"])
def test_reductions(reduction, axis, keepdims) -> None:
    x = rand(2, 3, 4, seed=9)  # continuous random values: no ties

    def ours(t):
        return getattr(t, reduction)(axis=axis, keepdims=keepdims)

    def theirs(t):
        if reduction in ("max", "min"):
            if axis is None:
                out = getattr(t, "amax" if reduction == "max" else "amin")()
                return out.reshape((1, 1, 1)) if keepdims else out
            return getattr(t, "amax" if reduction == "max" else "amin")(dim=axis, keepdim=keepdims)
        if axis is None:
            out = getattr(t, reduction)()
            return out.reshape((1, 1, 1)) if keepdims else out
        return getattr(t, reduction)(dim=axis, keepdim=keepdims)

    compare(ours, theirs, [x])


def test_max_ties_share_the_gradient_like_torch_amax() -> None:
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    compare(lambda t: t.max(axis=1), lambda t: t.amax(dim=1), [x])
    compare(lambda t: t.min(), lambda t: t.amin(), [x])


# ---- shape ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda t: t.reshape(4, 6), lambda t: t.reshape(4, 6)),
        (lambda t: t.reshape((-1,)), lambda t: t.reshape(-1)),
        (lambda t: t.reshape(2, -1, 3), lambda t: t.reshape(2, -1, 3)),
        (lambda t: t.transpose(), lambda t: t.permute(2, 1, 0)),
        (lambda t: t.transpose(1, 0, 2), lambda t: t.permute(1, 0, 2)),
        (lambda t: t.transpose(2, 0, 1), lambda t: t.permute(2, 0, 1)),
        (lambda t: t.T, lambda t: t.permute(2, 1, 0)),
    ],
)
def test_reshape_and_transpose(ours, theirs) -> None:
    compare(ours, theirs, [rand(2, 3, 4, seed=10)])


@pytest.mark.parametrize(
    "index",
    [
        1,
        -1,
        (slice(None), 2),
        (slice(0, 2), slice(None, None, 2)),
        (slice(1, None), 1),
        [0, 2, 0, 0],
        ([0, 1, 1, 0], [2, 2, 0, 2]),
        (slice(None), [3, 3, 1]),
        np.array([[0, 1], [1, 1]]),
        (Ellipsis, 0),
        (None, 1),
    ],
    ids=str,
)
def test_indexing_including_repeated_fancy_indices(index) -> None:
    compare(lambda t: t[index], lambda t: t[index], [rand(3, 4, seed=11)])


def test_boolean_mask_indexing() -> None:
    x = rand(3, 4, seed=12)
    mask = x > 0
    compare(lambda t: t[mask], lambda t: t[torch.tensor(mask)], [x])


def test_index_with_an_integer_tensor() -> None:
    index = np.array([2, 0, 2])
    compare(lambda t: t[Tensor(index)], lambda t: t[torch.tensor(index)], [rand(3, 4, seed=13)])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat(axis) -> None:
    shapes = [(2, 3), (2, 3), (2, 3)]
    shapes[1] = (4, 3) if axis == 0 else (2, 5)
    arrays = [rand(*s, seed=20 + i) for i, s in enumerate(shapes)]
    compare(lambda *ts: concat(ts, axis=axis), lambda *ts: torch.cat(ts, dim=axis), arrays)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(axis) -> None:
    arrays = [rand(2, 3, seed=30 + i) for i in range(3)]
    compare(lambda *ts: stack(ts, axis=axis), lambda *ts: torch.stack(ts, dim=axis), arrays)


def test_concat_and_stack_when_only_some_inputs_need_gradients() -> None:
    arrays = [rand(2, 3, seed=40 + i) for i in range(3)]
    compare(lambda *ts: concat(ts, axis=1), lambda *ts: torch.cat(ts, dim=1), arrays, grad_of=(1,))
    compare(lambda *ts: stack(ts), lambda *ts: torch.stack(ts), arrays, grad_of=(0, 2))


# ---- elementary functions and activations -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, ours, theirs",
    [
        ("exp", lambda t: t.exp(), torch.exp),
        ("log", lambda t: t.log(), torch.log),
        ("sqrt", lambda t: t.sqrt(), torch.sqrt),
        ("abs", lambda t: t.abs(), torch.abs),
        ("abs()", lambda t: abs(t), torch.abs),
        ("tanh", lambda t: t.tanh(), torch.tanh),
        ("sigmoid", lambda t: t.sigmoid(), torch.sigmoid),
        ("relu", lambda t: t.relu(), torch.relu),
        ("leaky_relu", lambda t: t.leaky_relu(), lambda t: F.leaky_relu(t, 0.01)),
        ("leaky_relu(0.2)", lambda t: t.leaky_relu(0.2), lambda t: F.leaky_relu(t, 0.2)),
        ("elu", lambda t: t.elu(), lambda t: F.elu(t, 1.0)),
        ("elu(0.5)", lambda t: t.elu(0.5), lambda t: F.elu(t, 0.5)),
        ("silu", lambda t: t.silu(), F.silu),
        ("softplus", lambda t: t.softplus(), F.softplus),
    ],
)
def test_elementwise(name, ours, theirs) -> None:
    x = away_from_zero(4, 5, seed=50) * 3
    if name in ("log", "sqrt"):
        x = np.abs(x)
    compare(ours, theirs, [x])


def test_activations_at_large_magnitudes() -> None:
    x = np.array([-60.0, -30.0, -5.0, 5.0, 30.0, 60.0])
    for ours, theirs in [
        (lambda t: t.sigmoid(), torch.sigmoid),
        (lambda t: t.softplus(), F.softplus),
        (lambda t: t.silu(), F.silu),
        (lambda t: t.tanh(), torch.tanh),
        (lambda t: t.elu(), F.elu),
    ]:
        compare(ours, theirs, [x])


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_and_log_softmax(name, axis) -> None:
    x = rand(3, 5, seed=60) * 4
    compare(lambda t: getattr(t, name)(axis=axis), lambda t: getattr(torch, name)(t, dim=axis), [x])


def test_softmax_of_huge_logits_matches_torch() -> None:
    x = np.array([[1e4, 0.0, -1e4], [500.0, 501.0, 499.0]])
    compare(lambda t: t.log_softmax(), lambda t: torch.log_softmax(t, dim=-1), [x])
    compare(lambda t: t.softmax(), lambda t: torch.softmax(t, dim=-1), [x])


# ---- losses -----------------------------------------------------------------------------------------------


def test_cross_entropy() -> None:
    logits = rand(6, 4, seed=70) * 3
    labels = np.array([0, 3, 1, 1, 2, 3])
    compare(
        lambda t: cross_entropy(t, labels),
        lambda t: F.cross_entropy(t, torch.tensor(labels)),
        [logits],
    )


def test_cross_entropy_on_huge_logits_is_finite_and_matches_torch() -> None:
    logits = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0], [0.0, 0.0, 1e4]])
    labels = np.array([1, 1, 0])
    compare(
        lambda t: cross_entropy(t, labels),
        lambda t: F.cross_entropy(t, torch.tensor(labels)),
        [logits],
    )
    loss = cross_entropy(Tensor(logits, dtype=np.float32), labels)
    assert np.isfinite(loss.item()) and loss.item() > 1e3


def test_binary_cross_entropy_with_logits_for_logits_and_targets() -> None:
    x, y = rand(5, 3, seed=71) * 4, rand(5, 3, seed=72, low=0.0, high=1.0)
    compare(binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits, [x, y])
    compare(binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits, [x * 100, y])


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (mse_loss, F.mse_loss),
        (mae_loss, F.l1_loss),
        (huber_loss, F.huber_loss),
        (lambda p, t: huber_loss(p, t, delta=0.3), lambda p, t: F.huber_loss(p, t, delta=0.3)),
        (lambda p, t: huber_loss(p, t, delta=2.5), lambda p, t: F.huber_loss(p, t, delta=2.5)),
    ],
)
def test_regression_losses(ours, theirs) -> None:
    prediction, target = rand(4, 3, seed=73) * 3, rand(4, 3, seed=74) * 3
    compare(ours, theirs, [prediction, target])
    compare(ours, theirs, [prediction, target], grad_of=(0,))


def test_a_composite_network_expression() -> None:
    x, w1, b1, w2 = rand(5, 4, seed=80), rand(4, 6, seed=81), rand(6, seed=82), rand(6, 3, seed=83)
    labels = np.array([0, 2, 1, 2, 0])

    def ours(x, w1, b1, w2):
        h = (x @ w1 + b1).tanh()
        return cross_entropy(h @ w2, labels) + 0.1 * (w1 * w1).sum()

    def theirs(x, w1, b1, w2):
        h = torch.tanh(x @ w1 + b1)
        return F.cross_entropy(h @ w2, torch.tensor(labels)) + 0.1 * (w1 * w1).sum()

    compare(ours, theirs, [x, w1, b1, w2])


# ---- the scalar engine ------------------------------------------------------------------------------------


def compare_scalar(
    ours: Callable[..., Value], theirs: Callable[..., Any], numbers: list[float], what: str = ""
) -> None:
    vs = [Value(x) for x in numbers]
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in numbers]
    out, expected = ours(*vs), theirs(*ts)
    out.backward()
    expected.backward()
    assert math.isclose(out.data, expected.item(), rel_tol=TOL, abs_tol=TOL), f"{what}: forward"
    for i, (v, t) in enumerate(zip(vs, ts)):
        expected_grad = 0.0 if t.grad is None else t.grad.item()
        assert math.isclose(v.grad, expected_grad, rel_tol=TOL, abs_tol=TOL), f"{what}: gradient {i}"


SCALAR_BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a**b, lambda a, b: a**b),
    "add number": (lambda a, b: a + 2.5 + b, lambda a, b: a + 2.5 + b),
    "radd": (lambda a, b: 2.5 + a, lambda a, b: 2.5 + a),
    "rsub": (lambda a, b: 2.5 - a, lambda a, b: 2.5 - a),
    "rmul": (lambda a, b: 2.5 * a, lambda a, b: 2.5 * a),
    "rtruediv": (lambda a, b: 2.5 / a, lambda a, b: 2.5 / a),
    "truediv number": (lambda a, b: a / 2.5, lambda a, b: a / 2.5),
    "sub number": (lambda a, b: a - 2.5, lambda a, b: a - 2.5),
    "pow number": (lambda a, b: a**3, lambda a, b: a**3),
    "pow fraction": (lambda a, b: a**-1.5, lambda a, b: a**-1.5),
    "rpow": (lambda a, b: 1.7**a, lambda a, b: 1.7**a),
    "neg": (lambda a, b: -a * b, lambda a, b: -a * b),
}


@pytest.mark.parametrize("name", list(SCALAR_BINARY))
@pytest.mark.parametrize("numbers", [(0.7, 1.3), (2.1, -0.6), (1.9, 0.4)])
def test_value_arithmetic(name, numbers) -> None:
    ours, theirs = SCALAR_BINARY[name]
    a, b = numbers
    if name in ("pow", "pow fraction"):
        a = abs(a)
    compare_scalar(ours, theirs, [a, b], name)


SCALAR_UNARY = {
    "exp": (lambda a: a.exp(), torch.exp),
    "log": (lambda a: a.log(), torch.log),
    "sqrt": (lambda a: a.sqrt(), torch.sqrt),
    "tanh": (lambda a: a.tanh(), torch.tanh),
    "sigmoid": (lambda a: a.sigmoid(), torch.sigmoid),
    "relu": (lambda a: a.relu(), torch.relu),
    "leaky_relu": (lambda a: a.leaky_relu(), lambda a: F.leaky_relu(a, 0.01)),
    "leaky_relu(0.3)": (lambda a: a.leaky_relu(0.3), lambda a: F.leaky_relu(a, 0.3)),
    "elu": (lambda a: a.elu(), lambda a: F.elu(a)),
    "elu(0.4)": (lambda a: a.elu(0.4), lambda a: F.elu(a, 0.4)),
    "silu": (lambda a: a.silu(), F.silu),
    "softplus": (lambda a: a.softplus(), F.softplus),
    "abs": (lambda a: a.abs(), torch.abs),
    "abs()": (lambda a: abs(a), torch.abs),
}


@pytest.mark.parametrize("name", list(SCALAR_UNARY))
@pytest.mark.parametrize("x", [-2.3, -0.4, 0.6, 1.7, 25.0, -40.0])
def test_value_functions(name, x) -> None:
    if name in ("log", "sqrt"):
        x = abs(x)
    ours, theirs = SCALAR_UNARY[name]
    compare_scalar(lambda a: ours(a) * 1.5, lambda a: theirs(a) * 1.5, [x], name)


def test_value_sum_and_dot() -> None:
    numbers = list(rand(7, seed=90))
    compare_scalar(lambda *v: Value.sum([*v, 2.0]), lambda *t: sum([*t, 2.0]), numbers, "sum")
    compare_scalar(
        lambda *v: Value.dot(v[:3], [v[3], 0.5, v[4]], v[5]) * v[6],
        lambda *t: (t[0] * t[3] + t[1] * 0.5 + t[2] * t[4] + t[5]) * t[6],
        numbers,
        "dot",
    )


def test_micrograd_readme_expression_against_torch() -> None:
    def expression(a, b):
        c = a + b
        d = a * b + b**3
        c = c + c + 1
        c = c + 1 + c + (-a)
        d = d + d * 2 + (b + a).relu()
        d = d + 3 * d + (b - a).relu()
        e = c - d
        f = e**2
        g = f / 2.0
        return g + 10.0 / f

    compare_scalar(expression, expression, [-4.0, 2.0], "micrograd README")


# ---- optimizers -------------------------------------------------------------------------------------------

OPTIMIZERS = [
    ("sgd", lambda p: SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    (
        "sgd momentum",
        lambda p: SGD(p, lr=0.05, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    ),
    (
        "sgd nesterov wd",
        lambda p: SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
    ),
    (
        "sgd wd",
        lambda p: SGD(p, lr=0.05, weight_decay=0.1),
        lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.1),
    ),
    ("adam", lambda p: Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    (
        "adam betas wd",
        lambda p: Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
        lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
    ),
    ("adamw", lambda p: AdamW(p, lr=0.01), lambda p: torch.optim.AdamW(p, lr=0.01)),
    (
        "adamw wd",
        lambda p: AdamW(p, lr=0.03, weight_decay=0.2),
        lambda p: torch.optim.AdamW(p, lr=0.03, weight_decay=0.2),
    ),
]


@pytest.mark.parametrize("engine", ["tensor", "scalar"])
@pytest.mark.parametrize("name, ours, theirs", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_optimizer_matches_torch_over_twenty_steps(name, ours, theirs, engine) -> None:
    got, expected, initial = replay_optimizer_steps(ours, theirs, engine)
    assert not np.allclose(got, initial)  # the parameters moved
    _close(got, expected, f"{name} after 20 steps")


def test_schedules_match_torch() -> None:
    w = torch.zeros(1, requires_grad=True)
    for ours, theirs in [
        (lambda o: StepLR(o, step_size=3, gamma=0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5)),
        (
            lambda o: CosineLR(o, total=10, min_lr=0.01),
            lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
        ),
    ]:
        opt = SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.1)
        torch_opt = torch.optim.SGD([w], lr=0.1)
        schedule, torch_schedule = ours(opt), theirs(torch_opt)
        for _ in range(10):
            torch_opt.step()
            torch_schedule.step()
            ours_lr = schedule.step()
            assert ours_lr == opt.lr
            assert math.isclose(ours_lr, torch_opt.param_groups[0]["lr"], rel_tol=1e-12, abs_tol=1e-15)
