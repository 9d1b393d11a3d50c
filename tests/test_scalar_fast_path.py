"""The backward driver's fast path for scalar nodes (no observer) against its general path (with an
observer): the same gradient on every node, accumulation across passes, and the compact node layout."""

from __future__ import annotations

import math
import random

import pytest

from autograd import Value, no_grad, topological_sort


def _random_graph(seed: int) -> tuple[Value, list[Value]]:
    """A random graph of every kind of node: two parents, one parent and a number, many parents, reuse."""
    rng = random.Random(seed)
    leaves = [Value(rng.uniform(0.5, 2.0), label=f"x{i}") for i in range(6)]
    pool = list(leaves)
    for _ in range(60):
        a, b = rng.choice(pool), rng.choice(pool)
        kind = rng.randrange(12)
        if kind == 0:
            node = a * b
        elif kind == 1:
            node = a + b
        elif kind == 2:
            node = a - 0.5 * b
        elif kind == 3:
            node = (a * 0.3).tanh()
        elif kind == 4:
            node = 2.0 - a
        elif kind == 5:
            node = a / (b.abs() + 1.0)
        elif kind == 6:
            node = Value.sum([a, b, 1.5, rng.choice(pool)])
        elif kind == 7:
            node = Value.dot([a, b], [rng.choice(pool), 0.25], rng.choice(pool))
        elif kind == 8:
            node = (a * 0.1).exp() ** 1.5
        elif kind == 9:
            node = (a.abs() + 0.5) ** (b * 0.1)
        elif kind == 10:
            node = a.relu() + b.sigmoid()
        else:
            with no_grad():
                node = a * 2  # a constant in the graph: a leaf
        pool.append(node)
    root = Value.sum(pool[-10:])
    return root, topological_sort(root)


@pytest.mark.parametrize("seed", range(5))
def test_fast_path_and_observer_path_give_every_node_the_same_gradient(seed: int) -> None:
    fast_root, fast_nodes = _random_graph(seed)
    slow_root, slow_nodes = _random_graph(seed)
    fast_root.backward()
    slow_root.backward(observer=lambda step: None)
    assert len(fast_nodes) == len(slow_nodes)
    for f, s in zip(fast_nodes, slow_nodes):
        assert f.data == s.data
        assert math.isclose(f.grad, s.grad, rel_tol=1e-12, abs_tol=1e-15), (f, s)


@pytest.mark.parametrize("observer", [None, lambda step: None])
def test_every_node_accumulates_a_fresh_gradient_each_pass(observer) -> None:
    root, nodes = _random_graph(7)
    root.backward(observer)
    first = [n.grad for n in nodes]
    root.backward(observer)  # interior nodes hold the first pass's gradient: it must not feed the second
    for node, g in zip(nodes, first):
        assert math.isclose(node.grad, 2 * g, rel_tol=1e-12, abs_tol=1e-15)


def test_a_pass_from_an_interior_node_adds_only_its_own_gradients() -> None:
    x = Value(0.5)
    h = (x * 3.0).tanh()
    out = h * h + x
    out.backward()
    hx, gx = h.grad, x.grad
    h.backward()  # h's own pass: dh/dh = 1 added to h.grad; dh/dx added to x.grad
    assert h.grad == hx + 1.0
    assert math.isclose(x.grad, gx + 3.0 * (1 - h.data**2), rel_tol=1e-15)


def test_a_leaf_root_gets_the_seed() -> None:
    x = Value(2.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_a_node_is_one_object_with_no_tuples_for_one_or_two_parents() -> None:
    x, w = Value(1.0), Value(2.0)
    for node in (x * w, x * 3, x + 0.5, x.tanh(), 2 - x):
        assert not hasattr(node, "__dict__")
        assert node._a is x
        assert not isinstance(node._da, tuple) and not isinstance(node._b, tuple)
    assert (x * w)._parents == (x, w) and (x * 3)._parents == (x,) and (x * 3)._local_grads == (3,)
    assert (x * w)._local_grads == (2.0, 1.0)
