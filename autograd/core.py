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

Scalar nodes (``Value``) also declare ``SCALAR_EDGES = True``: they keep their edges in four slots instead
of tuples (``_a``/``_da`` the first parent and d(node)/d(_a); ``_b``/``_db`` the second, with ``_db`` None
when there is none; a tuple of parents in ``_a`` and of derivatives in ``_da`` for an op of many inputs).
The sort and the driver read those slots directly when no observer is watching: the same chain rule, a
few bytecodes per edge instead of a method call and a list per node.

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
    only, not by Python's recursion limit. Popping a node the first time *enters* it: it is marked
    visited and pushed back under the marker ``_DONE``, then its unvisited parents are pushed on top.
    When the marker comes off the stack, everything above it (all of the node's ancestors) is in the
    order, so the node is appended. ``visited`` holds the entered nodes (nodes hash by identity); a node
    pushed twice before it is entered is skipped the second time.

    For scalar nodes the parents are read straight from their edge slots (``SCALAR_EDGES``, see
    :func:`backpropagate`) instead of through ``_parents``: the same search, without building a tuple
    per node.
    """
    order: list[Node] = []
    visited: set[Node] = set()
    stack: list[Any] = [root]
    push, pop, append, mark = stack.append, stack.pop, order.append, visited.add
    scalar = getattr(root, "SCALAR_EDGES", False)
    while stack:
        node = pop()
        if node is _DONE:
            append(pop())  # the node under the marker: all of its parents are in the order
            continue
        if node in visited:
            continue
        mark(node)
        push(node)
        push(_DONE)
        if not scalar:
            for parent in node._parents:
                if parent not in visited:
                    push(parent)
            continue
        a = node._a  # scalar node: parents in _a (and _b when _db is set), or a tuple in _a
        if a is None:
            continue
        if node._db is not None:
            if a not in visited:
                push(a)
            if node._b not in visited:
                push(node._b)
        elif a.__class__ is tuple:
            for parent in a:
                if parent not in visited:
                    push(parent)
        elif a not in visited:
            push(a)
    return order


_DONE = object()  # stack marker: the node below it has all of its parents in the order


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

    Scalar nodes without an observer take a fast path: the same rule, dL/dp_i += dL/dn * dn/dp_i, with
    the numbers added straight into ``p_i.grad``, read from the slots a scalar node keeps its edges in
    (``SCALAR_EDGES``). So that each pass still adds a fresh gradient, interior nodes that hold one from
    an earlier pass are set aside first and get it back at the end.
    """
    order = topological_sort(root)
    if observer is None and getattr(root, "SCALAR_EDGES", False):
        stale = [(node, node.grad) for node in order if node.grad and node._a is not None]
        for node, _ in stale:
            node.grad = 0.0
        root.grad += seed
        for node in reversed(order):
            upstream = node.grad
            db = node._db
            if db is not None:  # two parents: _a and _b
                node._a.grad += node._da * upstream
                node._b.grad += db * upstream
                continue
            a = node._a
            if a is None:  # a leaf
                continue
            if a.__class__ is tuple:  # many parents (sum, dot): tuples of parents and derivatives
                for parent, local in zip(a, node._da):
                    parent.grad += local * upstream
            else:  # one parent (its number operand, if any, needs no gradient)
                a.grad += node._da * upstream
        for node, previous in stale:
            node.grad += previous
        return
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
