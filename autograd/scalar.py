"""``Value``: a scalar that remembers how it was computed (micrograd's engine on the shared core).

Each operation below computes its result and, beside it, the local derivative d(out)/d(input) at
that point, stored as plain numbers. ``backward()`` hands the graph to :mod:`autograd.core`, which
multiplies those numbers by the upstream gradient (the chain rule) in reverse topological order.

A node keeps its parents in a tuple and its local derivatives as floats: no closures, so a graph holds
no reference cycle and is freed by reference counting the moment it is dropped (micrograd's closures
make every graph cyclic garbage that only the garbage collector can free, which dominates its time).
"""

from __future__ import annotations

import math
from typing import Sequence, Union

from autograd.core import BackwardObserver, backpropagate, grad_mode

Number = Union[int, float]
Operand = Union["Value", int, float]


_EXP_MAX = math.log(1.7976931348623157e308)  # e**x overflows float64 past this


def _pow(x: float, y: float) -> float:
    """x ** y as NumPy and PyTorch give it: inf for 0 ** negative, NaN for a negative base and a
    fractional exponent (Python gives a complex number), inf on overflow."""
    try:
        out = x**y
    except ZeroDivisionError:
        return math.inf
    except OverflowError:
        return math.inf if x > 0 or float(y).is_integer() and y % 2 == 0 else -math.inf
    return math.nan if isinstance(out, complex) else out


def _step(x: float, below: float) -> float:
    """1 for x > 0, ``below`` for x <= 0, NaN for NaN: the slope of relu-like functions."""
    if x > 0:
        return 1.0
    return below if x <= 0 else math.nan


class Value:
    """A float ``data`` with a gradient ``grad`` = dL/d(this value) after ``L.backward()``."""

    __slots__ = ("data", "grad", "label", "_parents", "_local_grads", "_op")

    def __init__(
        self,
        data: Number,
        _parents: tuple[Value, ...] = (),
        _local_grads: tuple[float, ...] = (),
        _op: str = "",
        label: str = "",
    ) -> None:
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        if _parents and not grad_mode.enabled:
            _parents, _local_grads = (), ()
        self._parents = _parents
        self._local_grads = _local_grads
        self._op = _op

    # ---- the node protocol (see autograd.core) -----------------------------------------------------------

    def _chain_rule(self, upstream: float) -> list[float]:
        """dL/d(parent_i) = dL/d(self) * d(self)/d(parent_i)."""
        return [local * upstream for local in self._local_grads]

    def _local_derivatives(self) -> tuple[float, ...]:
        return self._local_grads

    def _accumulate_grad(self, grad: float) -> None:
        self.grad += grad

    def backward(self, observer: BackwardObserver | None = None) -> None:
        """Compute d(self)/d(node) for every node this value depends on and add it to ``node.grad``."""
        backpropagate(self, 1.0, observer)

    # ---- arithmetic: forward and local derivative side by side -------------------------------------------

    def __add__(self, other: Operand) -> Value:
        """z = x + y;   dz/dx = 1, dz/dy = 1"""
        if isinstance(other, Value):
            return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")
        return Value(self.data + other, (self,), (1.0,), f"+ {other:g}")

    def __mul__(self, other: Operand) -> Value:
        """z = x * y;   dz/dx = y, dz/dy = x"""
        if isinstance(other, Value):
            return Value(self.data * other.data, (self, other), (other.data, self.data), "*")
        return Value(self.data * other, (self,), (float(other),), f"* {other:g}")

    def __pow__(self, other: Operand) -> Value:
        """z = x ** y;   dz/dx = y * x**(y-1),   dz/dy = x**y * ln(x)   (the latter needs x > 0)"""
        if isinstance(other, Value):
            y = other.data
            out = _pow(self.data, y)
            d_base = y * _pow(self.data, y - 1) if y != 0 else 0.0
            d_exponent = out * math.log(self.data) if self.data > 0 else math.nan
            return Value(out, (self, other), (d_base, d_exponent), "**")
        local = other * _pow(self.data, other - 1) if other != 0 else 0.0
        return Value(_pow(self.data, other), (self,), (local,), f"** {other:g}")

    def __rpow__(self, base: Number) -> Value:
        """z = c ** x;   dz/dx = c**x * ln(c)   (c > 0)"""
        out = _pow(base, self.data)
        return Value(out, (self,), (out * math.log(base) if base > 0 else math.nan,), f"{base:g} **")

    def __neg__(self) -> Value:
        """z = -x;   dz/dx = -1"""
        return Value(-self.data, (self,), (-1.0,), "neg")

    def __sub__(self, other: Operand) -> Value:
        """z = x - y;   dz/dx = 1, dz/dy = -1"""
        if isinstance(other, Value):
            return Value(self.data - other.data, (self, other), (1.0, -1.0), "-")
        return Value(self.data - other, (self,), (1.0,), f"- {other:g}")

    def __rsub__(self, other: Number) -> Value:
        """z = c - x;   dz/dx = -1"""
        return Value(other - self.data, (self,), (-1.0,), f"{other:g} -")

    def __truediv__(self, other: Operand) -> Value:
        """z = x / y;   dz/dx = 1/y, dz/dy = -x/y**2"""
        if isinstance(other, Value):
            y = other.data
            return Value(self.data / y, (self, other), (1.0 / y, -self.data / (y * y)), "/")
        return Value(self.data / other, (self,), (1.0 / other,), f"/ {other:g}")

    def __rtruediv__(self, other: Number) -> Value:
        """z = c / x;   dz/dx = -c/x**2"""
        x = self.data
        return Value(other / x, (self,), (-other / (x * x),), f"{other:g} /")

    __radd__ = __add__
    __rmul__ = __mul__

    # ---- elementary functions ------------------------------------------------------------------------------

    def exp(self) -> Value:
        """z = e**x;   dz/dx = e**x   (inf past float64's range, as in NumPy, not an OverflowError)"""
        out = math.inf if self.data > _EXP_MAX else math.exp(self.data)
        return Value(out, (self,), (out,), "exp")

    def log(self) -> Value:
        """z = ln(x);   dz/dx = 1/x   (x > 0)"""
        if self.data <= 0:
            raise ValueError(f"log of a non-positive number ({self.data:g})")
        return Value(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def sqrt(self) -> Value:
        """z = sqrt(x);   dz/dx = 1 / (2 sqrt(x))   (x >= 0)"""
        if self.data < 0:
            raise ValueError(f"sqrt of a negative number ({self.data:g})")
        out = math.sqrt(self.data)
        return Value(out, (self,), (0.5 / out if out != 0 else math.inf,), "sqrt")

    def abs(self) -> Value:
        """z = |x|;   dz/dx = sign(x)   (0 at x = 0, the subgradient PyTorch uses; NaN at NaN)"""
        x = self.data
        return Value(abs(x), (self,), (_step(x, 0.0) - _step(-x, 0.0),), "abs")

    __abs__ = abs

    # ---- activations ---------------------------------------------------------------------------------------

    def tanh(self) -> Value:
        """t = tanh(x);   dt/dx = 1 - t**2"""
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self) -> Value:
        """s = 1 / (1 + e**-x);   ds/dx = s (1 - s)"""
        x = self.data
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return Value(s, (self,), (s * (1.0 - s),), "sigmoid")

    def relu(self) -> Value:
        """z = max(0, x);   dz/dx = 1 if x > 0 else 0   (NaN stays NaN: it never becomes 0)"""
        x = self.data
        local = _step(x, 0.0)
        return Value(0.0 if x <= 0 else x, (self,), (local,), "relu")

    def leaky_relu(self, alpha: float = 0.01) -> Value:
        """z = x if x > 0 else alpha x;   dz/dx = 1 if x > 0 else alpha"""
        x = self.data
        local = _step(x, alpha)
        return Value(x * local, (self,), (local,), "leaky_relu")

    def elu(self, alpha: float = 1.0) -> Value:
        """z = x if x > 0 else alpha (e**x - 1);   dz/dx = 1 if x > 0 else alpha e**x"""
        x = self.data
        if x > 0:
            return Value(x, (self,), (1.0,), "elu")
        e = math.exp(x)
        return Value(alpha * (e - 1.0), (self,), (alpha * e,), "elu")

    def silu(self) -> Value:
        """z = x sigmoid(x);   dz/dx = s + x s (1 - s), with s = sigmoid(x)"""
        x = self.data
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return Value(x * s, (self,), (s + x * s * (1.0 - s),), "silu")

    def softplus(self) -> Value:
        """z = ln(1 + e**x);   dz/dx = sigmoid(x)"""
        x = self.data
        out = max(x, 0.0) + math.log1p(math.exp(-abs(x)))
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return Value(out, (self,), (s,), "softplus")

    # ---- conveniences --------------------------------------------------------------------------------------

    @staticmethod
    def sum(values: Sequence[Operand]) -> Value:
        """z = x_1 + ... + x_n as one node;   dz/dx_i = 1 (numbers are folded into the data)."""
        nodes = tuple(v for v in values if isinstance(v, Value))
        constant = sum(float(v) for v in values if not isinstance(v, Value))
        return Value(sum(v.data for v in nodes) + constant, nodes, (1.0,) * len(nodes), "sum")

    @staticmethod
    def dot(weights: Sequence[Value], inputs: Sequence[Operand], bias: Value | None = None) -> Value:
        """z = sum_i w_i x_i (+ b) as one node;   dz/dw_i = x_i, dz/dx_i = w_i, dz/db = 1.

        A neuron's weighted sum in one node instead of 2n: the same arithmetic, far fewer objects.
        """
        parents: list[Value] = []
        local: list[float] = []
        total = 0.0
        for w, x in zip(weights, inputs):
            if isinstance(x, Value):
                total += w.data * x.data
                parents += (w, x)
                local += (x.data, w.data)
            else:
                total += w.data * x
                parents.append(w)
                local.append(float(x))
        if bias is not None:
            total += bias.data
            parents.append(bias)
            local.append(1.0)
        return Value(total, tuple(parents), tuple(local), "dot")

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label})"

    def __float__(self) -> float:
        return self.data
