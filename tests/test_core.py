"""The shared graph core: ordering, the backward driver, accumulation, no_grad, the observer, deep graphs,
and NaN/inf propagation, on both engines."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import autograd.core
import autograd.scalar
import autograd.tensor
from autograd import BackwardStep, Tensor, Value, concat, cross_entropy, mse_loss, no_grad, topological_sort
from autograd.core import is_grad_enabled
from autograd.nn import MLP
from autograd.optim import SGD

# ---- one core for both engines -------------------------------------------------------------------------


def test_both_engines_use_the_one_backward_driver(monkeypatch) -> None:
    calls: list[str] = []
    real = autograd.core.topological_sort

    def spy(root):
        calls.append(type(root).__name__)
        return real(root)

    monkeypatch.setattr(autograd.core, "topological_sort", spy)
    (Value(2.0) * 3).backward()
    (Tensor([1.0, 2.0], requires_grad=True) * 3).sum().backward()
    assert calls == ["Value", "Tensor"]
    assert autograd.scalar.backpropagate is autograd.core.backpropagate
    assert autograd.tensor.backpropagate is autograd.core.backpropagate


def _diamond() -> tuple[Value, list[Value]]:
    a, b = Value(1.5, label="a"), Value(-2.0, label="b")
    c = a * b
    d = a + c
    e = c.tanh()
    f = d * e
    g = f + a
    return g, [a, b, c, d, e, f, g]


def test_topological_sort_puts_every_node_once_after_its_parents() -> None:
    root, nodes = _diamond()
    order = topological_sort(root)
    assert len(order) == len(nodes) and {id(n) for n in order} == {id(n) for n in nodes}
    position = {id(n): i for i, n in enumerate(order)}
    assert order[-1] is root
    for node in order:
        for parent in node._parents:
            assert position[id(parent)] < position[id(node)]


def test_topological_sort_of_a_wide_shared_graph() -> None:
    leaves = [Value(float(i)) for i in range(50)]
    layer = leaves
    for _ in range(5):  # each node feeds many: heavy sharing
        layer = [Value.sum(layer[i:] + layer[:i]) for i in range(len(layer))]
    root = Value.sum(layer)
    order = topological_sort(root)
    assert len(order) == len({id(n) for n in order}) == 50 * 6 + 1
    position = {id(n): i for i, n in enumerate(order)}
    assert all(position[id(p)] < position[id(n)] for n in order for p in n._parents)


def test_a_diamond_gets_the_sum_of_both_paths() -> None:
    x = Value(3.0)
    y = x * x + x.exp()  # x used three times
    y.backward()
    assert math.isclose(x.grad, 2 * 3.0 + math.exp(3.0), rel_tol=1e-15)
    t = Tensor([3.0], requires_grad=True, dtype=np.float64)
    (t * t + t.exp()).sum().backward()
    assert math.isclose(t.grad[0], 2 * 3.0 + math.exp(3.0), rel_tol=1e-15)


# ---- accumulation and zero_grad ------------------------------------------------------------------------


def test_two_backward_calls_accumulate_twice_the_gradient_on_values() -> None:
    a, b = Value(2.0), Value(-3.0)
    out = a * b + a
    out.backward()
    first = (a.grad, b.grad)
    assert first == (-3.0 + 1.0, 2.0)
    out.backward()
    assert (a.grad, b.grad) == (2 * first[0], 2 * first[1])


def test_two_backward_calls_accumulate_twice_the_gradient_on_tensors() -> None:
    w = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, dtype=np.float64)
    x = np.ones((4, 2))
    loss = ((x @ w) ** 2).mean()
    loss.backward()
    first = w.grad.copy()
    assert np.any(first != 0)
    loss.backward()
    np.testing.assert_allclose(w.grad, 2 * first, rtol=1e-15)


def test_gradient_is_a_private_array_not_a_view_of_the_graph() -> None:
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    s = a + b  # Add passes the same upstream array to both inputs
    s.backward(np.ones(2))
    a.grad += 10  # must not change b's gradient nor the output's
    assert b.grad.tolist() == [1.0, 1.0]
    assert s.grad.tolist() == [1.0, 1.0]


def test_no_two_nodes_share_a_gradient_array() -> None:
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    b = Tensor(np.ones((2, 3)), requires_grad=True)
    c = Tensor(np.ones(3), requires_grad=True)
    s = a + b  # the same upstream for both inputs
    r = (s - c).reshape(3, 2).T  # views of the upstream
    parts = concat([r, r * 2], axis=0)  # slices of the upstream
    loss = parts.sum() + s.sum() + c.mean()  # broadcast views
    loss.backward()
    nodes = topological_sort(loss)
    grads = [n.grad for n in nodes if n.requires_grad]
    assert all(isinstance(g, np.ndarray) and g.flags.writeable for g in grads)
    for i, g in enumerate(grads):
        for h in grads[i + 1 :]:
            assert not np.shares_memory(g, h)
    before = b.grad.copy()
    a.grad *= 0  # clipping in place touches nothing else
    np.testing.assert_array_equal(b.grad, before)
    loss.backward()  # and accumulation stays exact
    np.testing.assert_array_equal(b.grad, 2 * before)


@pytest.mark.parametrize("engine", ["scalar", "tensor"])
def test_zero_grad_resets_module_and_optimizer(engine) -> None:
    model = MLP([2, 3, 1], engine=engine, seed=0)
    x = [0.5, -1.0] if engine == "scalar" else Tensor([[0.5, -1.0]])
    out = model(x)
    loss = out[0] * out[0] if engine == "scalar" else (out * out).sum()
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert any(np.any(np.asarray(g) != 0) for g in grads)
    model.zero_grad()
    for p in model.parameters():
        assert p.grad == 0.0 if engine == "scalar" else p.grad is None
    loss.backward()
    opt = SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    for p in model.parameters():
        assert p.grad == 0.0 if engine == "scalar" else p.grad is None


# ---- no_grad -------------------------------------------------------------------------------------------


def test_no_grad_records_no_parents_on_either_engine() -> None:
    a = Value(2.0)
    t = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        v = (a * 3 + 1).tanh()
        u = (t * 3 + 1).tanh().sum()
        d = Value.dot([a, a], [1.0, a])
    assert is_grad_enabled()
    assert v._parents == () and d._parents == ()
    assert u._parents == () and not u.requires_grad
    assert v.data == pytest.approx(math.tanh(7.0))
    u.backward()  # a leaf now: only itself gets a gradient
    assert t.grad is None
    with_graph = a * 3
    assert with_graph._parents == (a,)


def test_no_grad_nests_and_restores_after_an_exception() -> None:
    with pytest.raises(RuntimeError):
        with no_grad():
            with no_grad():
                pass
            assert not is_grad_enabled()
            raise RuntimeError("boom")
    assert is_grad_enabled()


# ---- the observer --------------------------------------------------------------------------------------


def test_observer_sees_steps_in_reverse_topological_order_with_upstream_times_local() -> None:
    root, nodes = _diamond()
    steps: list[BackwardStep] = []
    root.backward(observer=steps.append)
    interior = [n for n in nodes if n._parents]
    assert [s.index for s in steps] == list(range(len(interior)))
    assert {id(s.node) for s in steps} == {id(n) for n in interior}
    seen = {id(s.node): i for i, s in enumerate(steps)}
    for s in steps:  # a node's step comes before the steps of its (interior) parents
        for parent in s.node._parents:
            if id(parent) in seen:
                assert seen[id(parent)] > seen[id(s.node)]
    assert steps[0].node is root and steps[0].upstream == 1.0
    for s in steps:
        assert s.upstream == s.node.grad  # one backward pass: the full gradient of that node
        assert len(s.contributions) == len(s.node._parents) == len(s.local_derivatives)
        for local, contribution in zip(s.local_derivatives, s.contributions):
            assert contribution == s.upstream * local
    # the contributions into each leaf add up to its gradient
    a, b = nodes[0], nodes[1]
    for leaf in (a, b):
        total = sum(c for s in steps for p, c in zip(s.node._parents, s.contributions) if p is leaf)
        assert math.isclose(total, leaf.grad, rel_tol=1e-15)


def test_observer_on_tensors_gets_contributions_of_each_parents_shape() -> None:
    x = Tensor(np.ones((4, 3)), dtype=np.float64)
    w = Tensor(np.full((3, 2), 0.5), requires_grad=True, dtype=np.float64)
    b = Tensor(np.zeros(2), requires_grad=True, dtype=np.float64)
    loss = (x @ w + b).relu().sum()
    steps: list[BackwardStep] = []
    loss.backward(observer=steps.append)
    assert [s.node._op for s in steps] == ["sum", "relu", "+", "@"]
    add = steps[2]
    assert add.contributions[0].shape == (4, 2) and add.contributions[1].shape == (2,)
    np.testing.assert_array_equal(add.contributions[1], add.upstream.sum(axis=0))
    matmul = steps[3]
    assert matmul.contributions[0] is None  # x needs no gradient: not computed
    np.testing.assert_allclose(matmul.contributions[1], x.data.T @ matmul.upstream)
    assert all(s.local_derivatives is None for s in steps)


# ---- deep graphs ---------------------------------------------------------------------------------------


def test_a_million_operation_chain_backpropagates_under_the_default_recursion_limit() -> None:
    limit = sys.getrecursionlimit()
    assert limit <= 10_000  # nothing raised it
    x = Value(1.0)
    y = x
    c = 1.000001
    for i in range(1_000_000):  # alternating ops: y = (y c) + 0.5, 500,000 times
        y = y * c if i % 2 == 0 else y + 0.5
    y.backward()
    assert sys.getrecursionlimit() == limit
    assert math.isclose(x.grad, c**500_000, rel_tol=1e-9)
    expected = 1.0
    for _ in range(500_000):
        expected = expected * c + 0.5
    assert math.isclose(y.data, expected, rel_tol=1e-12)
    del y  # dropping the only reference frees the whole chain: must not overflow the C stack


def test_a_long_tensor_chain_backpropagates_and_is_freed() -> None:
    x = Tensor([1.0, 2.0, -1.0], requires_grad=True, dtype=np.float64)
    y = x
    c = 1.00001
    for i in range(100_000):
        y = y * c if i % 2 == 0 else y - 0.25
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.full(3, c**50_000), rtol=1e-9)
    del y


# ---- NaN and inf are visible ----------------------------------------------------------------------------

NAN, INF = math.nan, math.inf

VALUE_OPS = {
    "add": lambda x: x + 1.0,
    "mul": lambda x: x * 2.0,
    "div": lambda x: x / 3.0,
    "rdiv": lambda x: 3.0 / x,
    "pow": lambda x: x**2,
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "sqrt": lambda x: x.sqrt(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "leaky_relu": lambda x: x.leaky_relu(0.1),
    "elu": lambda x: x.elu(),
    "silu": lambda x: x.silu(),
    "softplus": lambda x: x.softplus(),
    "abs": lambda x: x.abs(),
}


# ops whose derivative depends on x (d(x + 1)/dx = 1 even at NaN, as in PyTorch)
X_DEPENDENT = [name for name in VALUE_OPS if name not in ("add", "mul", "div")]


@pytest.mark.parametrize("name", X_DEPENDENT)
def test_nan_through_every_value_op_gives_nan_value_and_nan_gradient(name) -> None:
    x = Value(NAN)
    y = VALUE_OPS[name](x)
    y.backward()
    assert math.isnan(y.data), f"{name}(nan) = {y.data}"
    assert math.isnan(x.grad), f"d {name}/dx at nan = {x.grad}"


@pytest.mark.parametrize("name", X_DEPENDENT)
def test_nan_through_every_tensor_op_gives_nan_value_and_nan_gradient(name) -> None:
    x = Tensor([NAN, 0.5, 2.0], requires_grad=True, dtype=np.float64)
    y = VALUE_OPS[name](x)
    y.backward(np.ones(3))
    assert np.isnan(y.data[0]) and np.all(np.isfinite(y.data[1:])), f"{name}: {y.data}"
    assert np.isnan(x.grad[0]) and np.all(np.isfinite(x.grad[1:])), f"{name}: {x.grad}"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns, and computes NaN/inf
def test_nan_in_reductions_softmax_and_losses_is_visible() -> None:
    data = np.array([[NAN, 1.0], [0.0, 2.0]])
    for fn in (
        lambda t: t.max(axis=1).sum(),
        lambda t: t.min(),
        lambda t: t.softmax().sum(),
        lambda t: t.log_softmax()[:, 0].sum(),
        lambda t: cross_entropy(t, [0, 1]),
        lambda t: mse_loss(t, np.zeros((2, 2))),
        lambda t: ((t @ np.ones((2, 2))) ** 2).sum(),
    ):
        x = Tensor(data, requires_grad=True, dtype=np.float64)
        out = fn(x)
        out.backward()
        assert np.isnan(out.item())
        assert np.isnan(x.grad[0, 0])


@pytest.mark.parametrize("engine", ["scalar", "tensor"])
def test_nan_input_makes_the_loss_and_every_weight_gradient_nan(engine) -> None:
    model = MLP([3, 4, 2], activation="relu", engine=engine, seed=1, dtype=np.float64)
    sample = [NAN, 0.5, -0.5]
    if engine == "scalar":
        out = model(sample)
        loss = Value.sum([(o - 1.0) ** 2 for o in out])
    else:
        loss = mse_loss(model(Tensor([sample], dtype=np.float64)), np.ones((1, 2)))
    loss.backward()
    assert math.isnan(float(loss.data))
    state = {name: p for name, p in model.named_parameters()}
    first = state["net.0.weight"]
    grad = first.grad_numpy() if engine == "scalar" else first.grad
    assert np.all(np.isnan(grad[0])), "weights reading the NaN input must get NaN gradients"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns, and computes NaN/inf
def test_infinity_stays_visible() -> None:
    for x in (Value(INF), Tensor([INF], requires_grad=True, dtype=np.float64)):
        y = (x * 2.0).exp() + x
        (y if isinstance(y, Value) else y.sum()).backward()
        assert np.isinf(np.asarray(y.data)).all()
        assert np.isinf(np.asarray(x.grad)).all()
        loss = (x - 1.0) ** 2
        assert np.isinf(np.asarray(loss.data)).all()
    assert math.isinf(Value(1000.0).exp().data)  # overflow is inf, as in NumPy and PyTorch
    big = Tensor([[1e4, 0.0]], dtype=np.float32).exp()
    assert np.isinf(big.data[0, 0])


def test_zero_grad_on_nodes_restores_the_state_before_backward() -> None:
    from autograd import Tensor, Value

    v = Value(2.0)
    (v * v).backward()
    assert v.grad == 4.0
    v.zero_grad()
    assert v.grad == 0.0
    t = Tensor([1.0, 2.0], requires_grad=True)
    (t * t).sum().backward()
    kept = t.grad
    t.zero_grad(set_to_none=False)
    assert t.grad is kept and not kept.any()  # zeroed in place
    t.zero_grad()
    assert t.grad is None
