"""The one graph core shared by the scalar ``Value`` and the NumPy ``Tensor``.

Every node of a computation graph, whatever its payload, implements the same small protocol
(the :class:`Node` protocol below):

* ``_parents``: the nodes it was computed from (a tuple, empty for a leaf);
* ``_chain_rule(upstream)``: given dL/d(self), return the contribution dL/d(parent) for each parent
  (``None`` for a parent that needs no gradient);
* ``_accumulate_grad(g)``: add the gradient of this backward pass into ``.grad``.

:func:`topological_sort` orders the graph without recursion (a chain of a million operations works under
Python's default recursion limit) and :func:`backpropagate` walks it in reverse, applying the chain rule.
Both engines call these two functions: there is no second backward implementation anywhere.

Gradient accumulation
---------------------
One backward pass computes dL/dn for every node n reachable from the root, afresh, and then *adds* it to
``n.grad``. Calling ``backward()`` twice therefore doubles every gradient (PyTorch's rule for leaves,
applied to every node); call ``zero_grad()`` (on a module or optimizer) between steps.

No graph is recorded inside ``with no_grad():``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol, Sequence


class Node(Protocol):
    """What the core needs from a graph node (implemented by ``Value`` and ``Tensor``).

    Nodes are used as dict keys and set members, so they must hash by identity: neither engine defines
    ``__eq__`` (``Tensor == x`` is therefore not elementwise; compare ``.data`` instead).
    """

    _parents: tuple[Node, ...]
    _op: str
    grad: Any

    def _chain_rule(self, upstream: Any) -> Sequence[Any]:
        """dL/d(parent_i) = dL/d(self) * d(self)/d(parent_i), one entry per parent (None: not needed)."""
        ...

    def _local_derivatives(self) -> Sequence[Any] | None:
        """d(self)/d(parent_i) when it is cheap to show (a number for scalars), else None."""
        ...

    def _accumulate_grad(self, grad: Any) -> None:
        """self.grad += grad (allocating it on first use)."""
        ...


# --------------------------------------------------------------------------------------------------------
# Recording on and off
# --------------------------------------------------------------------------------------------------------


class _GradMode:
    """Process-wide switch read by every op: when ``enabled`` is False, results get no parents."""

    enabled = True


grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when operations record the graph (the default)."""
    return grad_mode.enabled


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block, operations compute values but record no graph (evaluation, optimizer steps)."""
    previous = grad_mode.enabled
    grad_mode.enabled = False
    try:
        yield
    finally:
        grad_mode.enabled = previous


# --------------------------------------------------------------------------------------------------------
# Ordering
# --------------------------------------------------------------------------------------------------------


def topological_sort(root: Node) -> list[Node]:
    """Every node reachable from ``root``, each after all of its parents (``root`` last).

    Depth-first search with an explicit stack instead of recursion, so graph depth is limited by memory
    only, not by Python's recursion limit. Each stack entry is a node and an iterator over its parents;
    a node is appended to the order once that iterator is exhausted (all of its parents are in the order).
    ``visited`` holds the nodes already pushed (nodes hash by identity), so each node is pushed once.
    """
    order: list[Node] = []
    visited = {root}
    stack = [(root, iter(root._parents))]
    push, pop, append, mark = stack.append, stack.pop, order.append, visited.add
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in visited:
                mark(parent)
                push((parent, iter(parent._parents)))
                break  # descend first; this node's iterator resumes when we come back
        else:
            pop()
            append(node)
    return order


# --------------------------------------------------------------------------------------------------------
# The backward driver
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackwardStep:
    """One application of the chain rule, as handed to a backward observer.

    ``upstream`` is dL/d(node); ``local_derivatives`` is d(node)/d(parent_i) where it is cheap to show
    (scalars) and None otherwise; ``contributions[i]`` is what this step adds to dL/d(parent_i).
    """

    index: int
    node: Node
    upstream: Any
    local_derivatives: Sequence[Any] | None
    contributions: tuple[Any, ...]


BackwardObserver = Callable[[BackwardStep], None]


def backpropagate(root: Node, seed: Any, observer: BackwardObserver | None = None) -> None:
    """Apply the chain rule from ``root`` (whose gradient is ``seed``) to every node it depends on.

    In reverse topological order, each node's gradient is complete before it is passed on:
    for node n with parents p_i,   dL/dp_i += dL/dn * dn/dp_i   (``n._chain_rule``).
    The pass's gradients live in a local dict keyed by node (nodes hash by identity); each node's is then
    added into ``node.grad`` (accumulation across passes). ``observer``, if given, sees every step.
    """
    order = topological_sort(root)
    pending: dict[Node, Any] = {root: seed}
    take, get = pending.pop, pending.get  # (bound once: this loop runs once per node)
    step_index = 0
    for node in reversed(order):
        upstream = take(node, None)
        if upstream is None:  # no path carries gradient to this node (e.g. it needs none)
            continue
        node._accumulate_grad(upstream)
        parents = node._parents
        if not parents:
            continue
        contributions = node._chain_rule(upstream)
        for parent, contribution in zip(parents, contributions):
            if contribution is None:
                continue
            previous = get(parent)
            pending[parent] = contribution if previous is None else previous + contribution
        if observer is not None:
            observer(
                BackwardStep(step_index, node, upstream, node._local_derivatives(), tuple(contributions))
            )
            step_index += 1
