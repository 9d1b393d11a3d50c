"""``Value``: a scalar that remembers how it was computed (micrograd's engine on the shared core).

Each operation below computes its result and, beside it, the local derivative d(out)/d(input) at
that point, stored as plain numbers. ``backward()`` hands the graph to :mod:`autograd.core`, which
multiplies those numbers by the upstream gradient (the chain rule) in reverse topological order.

Above each operation, ``@formula`` declares the same derivative as text, for the tracer and the
reader: ``@formula("tanh", "tanh({0})", "1 - {out}**2")`` says that t = tanh(x) has dt/dx = 1 - t**2.
:func:`formula_of` gives any node's formula with its numbers (:class:`OpFormula`); the tests check,
for every op and every branch, that each formula filled with the node's numbers evaluates to the
derivative the op stored.

How a node is stored (``__slots__``, no per-node dict, no closures, no tuples for one or two parents):

* ``_a``, ``_da``: the first parent and d(self)/d(_a);
* ``_b``, ``_db``: the second parent and d(self)/d(_b). When the second operand is a plain number
  (``x * 3``), ``_b`` holds the number and ``_db`` is None: a number needs no gradient;
* an op of many inputs (``Value.sum``, ``Value.dot``) keeps the tuple of its parents in ``_a``, the tuple
  of their local derivatives in ``_da``, and its constants in ``_b``;
* a leaf has None in all four; ``_kind`` names the op ("" for a leaf).

The graph therefore holds no reference cycle and is freed by reference counting the moment it is
dropped (micrograd's closures make every graph cyclic garbage that only the garbage collector can
free), and one recorded op costs one object and its result's float. The display label of an op with
a number (``* 3``) is made only when it is drawn (``node._op``, :func:`display_label`).
"""

from __future__ import annotations

import ast
import math
import string
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence, Union

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


def _sigmoid(x: float) -> float:
    """1 / (1 + e**-x), computed without overflow for either sign of x."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


# --------------------------------------------------------------------------------------------------------
# Formulas: each op's derivative as text, declared beside the op with @formula
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpFormula:
    """An op's result and local derivatives as ``str.format`` templates.

    ``{0}``, ``{1}``, ... stand for the parents in order, ``{out}`` for the node's own result, any other
    name for a key of ``constants``. Filled with numbers (:func:`fill_template`), each ``local`` template
    is plain arithmetic (numbers, ``+ - * / **``, parentheses) that :func:`evaluate_arithmetic` evaluates
    to the node's stored d(out)/d(parent_i).
    """

    forward: str
    local: tuple[str, ...]
    constants: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Rule:
    """One declared formula of an op kind; ``when`` picks the branch (None: the default)."""

    forward: str
    local: tuple[str, ...]
    when: Callable[[Value], bool] | None
    constants: Mapping[str, Callable[[Value], float]]

    def of(self, node: Value) -> OpFormula:
        return OpFormula(self.forward, self.local, {k: f(node) for k, f in self.constants.items()})


_RULES: dict[str, list[_Rule]] = {}  # op kind -> its rules (branches first, the default last)
_BUILDERS: dict[str, Callable[[Value], OpFormula]] = {}  # ops of many inputs: the formula depends on n
_USER_FORMULAS: dict[str, OpFormula] = {}  # register_formula()


def formula(
    kind: str,
    forward: str,
    *local: str,
    when: Callable[[Value], bool] | None = None,
    **constants: Callable[[Value], float],
) -> Callable[[Any], Any]:
    """Decorator declaring an op's formula beside its code: ``kind`` is the node's op kind, then the
    result's template and one local-derivative template per parent. ``when(node)`` restricts the formula
    to one branch (``relu``: "1" when x > 0); ``constants`` maps a template name to its value for a node."""
    for template in (forward, *local):
        _check_fields(template, constants)
    rule = _Rule(forward, tuple(local), when, constants)

    def declare(method: Any) -> Any:
        rules = _RULES.setdefault(kind, [])
        rules.append(rule)
        rules.sort(key=lambda r: r.when is None)  # branches first (stable), the default last
        return method

    return declare


def formula_builder(kind: str, build: Callable[[Value], OpFormula]) -> Callable[[Any], Any]:
    """Decorator for ops with any number of inputs, whose formula is built from the node."""

    def declare(method: Any) -> Any:
        _BUILDERS[kind] = build
        return method

    return declare


def register_formula(
    op_name: str, forward: str, local: Sequence[str], constants: Mapping[str, float] | None = None
) -> None:
    """Declare the formula of your own op, made with ``Value(data, parents, local_grads, op_name)``.

    Without one, such a node still traces (its numbers, not its formula)."""
    if op_name in _RULES or op_name in _BUILDERS:
        raise ValueError(f"{op_name!r} is a built-in op; choose another name for your op")
    constants = dict(constants or {})
    for template in (forward, *local):
        _check_fields(template, constants)
    _USER_FORMULAS[op_name] = OpFormula(forward, tuple(local), constants)


def _check_fields(template: str, constants: Mapping[str, Any]) -> None:
    """Every field of ``template`` is a parent index, ``out`` or a constant's name (else ValueError)."""
    try:
        fields = [name for _, name, spec, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as error:
        raise ValueError(f"malformed template {template!r}: {error}") from None
    for name in fields:
        if not (name.isdigit() or name == "out" or name in constants):
            raise ValueError(f"template {template!r}: {{{name}}} is not a parent index, out or a constant")


class _UserOp(str):
    """The kind of a node made by ``Value(...)`` with parents: a user's op, looked up in register_formula's
    table (so an op the user calls "tanh" never borrows the built-in tanh's formula)."""


def formula_of(node: Value) -> OpFormula | None:
    """The formula of the op that made ``node``, with its constants; None for a leaf or a user's op
    without a registered formula."""
    kind = node._kind
    if not kind or node._a is None:
        return None
    if isinstance(kind, _UserOp):
        return _USER_FORMULAS.get(str(kind))
    if kind in _BUILDERS:
        return _BUILDERS[kind](node)
    for rule in _RULES[kind]:
        if rule.when is None or rule.when(node):
            return rule.of(node)
    return None  # pragma: no cover - every kind has a default rule


# How an op with a number operand is labeled when drawn ("* 3", "1 -"); other ops show their kind.
_LABELS = {
    "+c": "+ {c:g}",
    "-c": "- {c:g}",
    "*c": "* {c:g}",
    "/c": "/ {c:g}",
    "**c": "** {c:g}",
    "c-": "{c:g} -",
    "c/": "{c:g} /",
    "c**": "{c:g} **",
}


def display_label(node: Value) -> str:
    """The op label drawn for ``node``: ``*``, ``tanh``, ``* 3`` (a number on the right), ``1 -`` (left)."""
    kind = node._kind
    pattern = _LABELS.get(kind)
    if pattern is None or node._a is None:
        return str(kind)
    return pattern.format(c=node._b)


# ---- filling templates with numbers, and evaluating the arithmetic safely ----


def _number_text(x: float) -> str:
    """Full precision (repr); negative numbers in parentheses, so ``{0}**2`` stays (x)**2."""
    if not math.isfinite(x):
        raise ValueError(f"{x!r} cannot be written as plain arithmetic")
    text = repr(float(x))
    return f"({text})" if text.startswith("-") else text


def fill_template(
    template: str, parents: Sequence[float], out: float, constants: Mapping[str, float] | None = None
) -> str:
    """``template`` with ``{i}`` the i-th parent's number, ``{out}`` the result, other names constants."""
    named = {name: _number_text(value) for name, value in (constants or {}).items()}
    return template.format(*(_number_text(x) for x in parents), out=_number_text(out), **named)


def fill_formula(node: Value, formula: OpFormula | None = None) -> tuple[str, ...]:
    """Each local-derivative template of ``node``'s formula with the node's numbers filled in."""
    formula = formula or formula_of(node)
    if formula is None:
        raise ValueError(f"the op {node._op!r} has no formula")
    parents = [p.data for p in node._parents]
    return tuple(fill_template(t, parents, node.data, formula.constants) for t in formula.local)


def _divide(a: float, b: float) -> float:
    """a / b with IEEE results for b = 0: +-inf, or NaN for 0 / 0 and NaN / 0."""
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


_BINARY_OPS: dict[type, Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: _divide,
    ast.Pow: _pow,
}


def evaluate_arithmetic(text: str) -> float:
    """The value of plain arithmetic: numbers, ``+ - * / **``, unary minus and plus, parentheses.

    Parsed with ``ast`` and walked node by node (never ``eval``); anything else (names, calls,
    attributes, comparisons...) raises ValueError. IEEE results as in the engine: ``1 / 0`` is inf,
    ``0 ** -1`` is inf, a negative number to a fractional power is NaN.
    """
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError) as error:
        raise ValueError(f"not arithmetic: {text!r} ({error.__class__.__name__})") from None

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = value(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY_OPS:
            left, right = value(node.left), value(node.right)
            try:
                return _BINARY_OPS[type(node.op)](left, right)
            except OverflowError:
                return math.inf
        raise ValueError(f"not plain arithmetic: {ast.unparse(node)!r} in {text!r}")

    try:
        return value(tree.body)
    except RecursionError:
        raise ValueError(f"arithmetic nested too deeply: {text[:40]!r}...") from None


# --------------------------------------------------------------------------------------------------------
# The Value
# --------------------------------------------------------------------------------------------------------

_new = object.__new__


def _result(data: float, kind: str, a: Any, da: Any, b: Any = None, db: Any = None) -> Value:
    """A new node: the op's result ``data``, its parents and their local derivatives (see the module
    docstring for the layout). Inside ``no_grad()`` nothing is recorded: the result is a leaf."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    if grad_mode.enabled:
        out._kind = kind
        out._a = a
        out._da = da
        out._b = b
        out._db = db
    else:
        out._kind = ""
        out._a = out._da = out._b = out._db = None
    return out


# constants of formulas, read from a node
def _c(node: Value) -> float:
    return float(node._b)  # the number operand


def _x(node: Value) -> float:
    return node._a.data  # the first parent's value


class Value:
    """A float ``data`` with a gradient ``grad`` = dL/d(this value) after ``L.backward()``."""

    __slots__ = ("data", "grad", "label", "_kind", "_a", "_da", "_b", "_db")
    SCALAR_EDGES = True  # the core's fast backward path may read _a, _da, _b, _db (see autograd.core)

    def __init__(
        self,
        data: Number,
        _parents: Sequence[Value] = (),
        _local_grads: Sequence[float] = (),
        _op: str = "",
        label: str = "",
    ) -> None:
        """A leaf (``Value(2.0, label="x")``), or the result of your own op: its parents, the local
        derivative d(result)/d(parent) of each, and a name (see :func:`register_formula`)."""
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self._kind = ""
        self._a = self._da = self._b = self._db = None
        if _parents and grad_mode.enabled:
            if len(_parents) != len(_local_grads):
                raise ValueError(f"{len(_parents)} parents but {len(_local_grads)} local derivatives")
            self._kind = _UserOp(_op)
            if len(_parents) == 1:
                self._a, self._da = _parents[0], float(_local_grads[0])
            else:
                self._a, self._da = tuple(_parents), tuple(float(d) for d in _local_grads)

    # ---- the node protocol (see autograd.core) -----------------------------------------------------------

    @property
    def _parents(self) -> tuple[Value, ...]:
        """The nodes this value was computed from (numbers are not parents)."""
        a = self._a
        if a is None:
            return ()
        if self._db is not None:
            return (a, self._b)
        return a if a.__class__ is tuple else (a,)

    @property
    def _local_grads(self) -> tuple[float, ...]:
        """d(self)/d(parent_i), aligned with ``_parents``."""
        a = self._a
        if a is None:
            return ()
        if self._db is not None:
            return (self._da, self._db)
        return self._da if a.__class__ is tuple else (self._da,)

    @property
    def _op(self) -> str:
        """The op's display label (``*``, ``tanh``, ``* 3``); "" for a leaf."""
        return display_label(self)

    def _chain_rule(self, upstream: float) -> list[float]:
        """dL/d(parent_i) = dL/d(self) * d(self)/d(parent_i)."""
        return [local * upstream for local in self._local_grads]

    def _local_derivatives(self) -> tuple[float, ...]:
        return self._local_grads

    def _accumulate_grad(self, grad: float) -> None:
        self.grad += grad

    def zero_grad(self, set_to_none: bool = True) -> None:
        """grad = 0.0, the state before any backward pass (a Value's gradient is a float, never None)."""
        self.grad = 0.0

    def backward(self, observer: BackwardObserver | None = None) -> None:
        """Compute d(self)/d(node) for every node this value depends on and add it to ``node.grad``."""
        backpropagate(self, 1.0, observer)

    # ---- arithmetic: forward and local derivative side by side -------------------------------------------

    @formula("+", "{0} + {1}", "1", "1")
    @formula("+c", "{0} + {c}", "1", c=_c)
    def __add__(self, other: Operand) -> Value:
        """z = x + y;   dz/dx = 1, dz/dy = 1"""
        if isinstance(other, Value):
            return _result(self.data + other.data, "+", self, 1.0, other, 1.0)
        return _result(self.data + other, "+c", self, 1.0, other)

    @formula("*", "{0} * {1}", "{1}", "{0}")
    @formula("*c", "{0} * {c}", "{c}", c=_c)
    def __mul__(self, other: Operand) -> Value:
        """z = x * y;   dz/dx = y, dz/dy = x"""
        if isinstance(other, Value):
            return _result(self.data * other.data, "*", self, other.data, other, self.data)
        return _result(self.data * other, "*c", self, other, other)

    @formula("**", "{0} ** {1}", "{1} * {0} ** ({1} - 1)", "0", when=lambda n: _x(n) == 0 and n._b.data >= 0)
    @formula("**", "{0} ** {1}", "{1} * {0} ** ({1} - 1)", "{out} * {ln_x}", ln_x=lambda n: _log(_x(n)))
    @formula("**c", "{0} ** {c}", "0", c=_c, when=lambda n: n._b == 0)
    @formula("**c", "{0} ** {c}", "{c} * {0} ** ({c} - 1)", c=_c)
    def __pow__(self, other: Operand) -> Value:
        """z = x ** y;   dz/dx = y * x**(y-1),   dz/dy = x**y * ln(x)   (x > 0; 0 at x = 0 for y >= 0,
        as in PyTorch: x**y is flat in y there)"""
        x = self.data
        if isinstance(other, Value):
            y = other.data
            out = _pow(x, y)
            d_base = y * _pow(x, y - 1) if y != 0 else 0.0
            d_exponent = 0.0 if x == 0 and y >= 0 else out * _log(x)
            return _result(out, "**", self, d_base, other, d_exponent)
        d_base = other * _pow(x, other - 1) if other != 0 else 0.0
        return _result(_pow(x, other), "**c", self, d_base, other)

    @formula("c**", "{c} ** {0}", "0", c=_c, when=lambda n: n._b == 0 and _x(n) >= 0)
    @formula("c**", "{c} ** {0}", "{out} * {ln_c}", c=_c, ln_c=lambda n: _log(n._b))
    def __rpow__(self, base: Number) -> Value:
        """z = c ** x;   dz/dx = c**x * ln(c)   (c > 0; 0 for c = 0 and x >= 0, as in PyTorch)"""
        x = self.data
        out = _pow(base, x)
        local = 0.0 if base == 0 and x >= 0 else out * _log(base)
        return _result(out, "c**", self, local, base)

    @formula("neg", "-{0}", "-1")
    def __neg__(self) -> Value:
        """z = -x;   dz/dx = -1"""
        return _result(-self.data, "neg", self, -1.0)

    @formula("-", "{0} - {1}", "1", "-1")
    @formula("-c", "{0} - {c}", "1", c=_c)
    def __sub__(self, other: Operand) -> Value:
        """z = x - y;   dz/dx = 1, dz/dy = -1"""
        if isinstance(other, Value):
            return _result(self.data - other.data, "-", self, 1.0, other, -1.0)
        return _result(self.data - other, "-c", self, 1.0, other)

    @formula("c-", "{c} - {0}", "-1", c=_c)
    def __rsub__(self, other: Number) -> Value:
        """z = c - x;   dz/dx = -1"""
        return _result(other - self.data, "c-", self, -1.0, other)

    @formula("/", "{0} / {1}", "1 / {1}", "-{0} / {1}**2")
    @formula("/c", "{0} / {c}", "1 / {c}", c=_c)
    def __truediv__(self, other: Operand) -> Value:
        """z = x / y;   dz/dx = 1/y, dz/dy = -x/y**2"""
        if isinstance(other, Value):
            y = other.data
            return _result(self.data / y, "/", self, 1.0 / y, other, -self.data / (y * y))
        return _result(self.data / other, "/c", self, 1.0 / other, other)

    @formula("c/", "{c} / {0}", "-{c} / {0}**2", c=_c)
    def __rtruediv__(self, other: Number) -> Value:
        """z = c / x;   dz/dx = -c/x**2"""
        x = self.data
        return _result(other / x, "c/", self, -other / (x * x), other)

    __radd__ = __add__
    __rmul__ = __mul__

    # ---- elementary functions ------------------------------------------------------------------------------

    @formula("exp", "exp({0})", "{out}")
    def exp(self) -> Value:
        """z = e**x;   dz/dx = e**x   (inf past float64's range, as in NumPy, not an OverflowError)"""
        out = math.inf if self.data > _EXP_MAX else math.exp(self.data)
        return _result(out, "exp", self, out)

    @formula("log", "log({0})", "1 / {0}")
    def log(self) -> Value:
        """z = ln(x);   dz/dx = 1/x   (x > 0)"""
        x = self.data
        if x <= 0:
            raise ValueError(f"log of a non-positive number ({x:g})")
        return _result(math.log(x), "log", self, 1.0 / x)

    @formula("sqrt", "sqrt({0})", "1 / (2 * {out})")
    def sqrt(self) -> Value:
        """z = sqrt(x);   dz/dx = 1 / (2 sqrt(x))   (x >= 0)"""
        if self.data < 0:
            raise ValueError(f"sqrt of a negative number ({self.data:g})")
        out = math.sqrt(self.data)
        return _result(out, "sqrt", self, 0.5 / out if out != 0 else math.inf)

    @formula("abs", "abs({0})", "1", when=lambda n: _x(n) > 0)
    @formula("abs", "abs({0})", "-1", when=lambda n: _x(n) < 0)
    @formula("abs", "abs({0})", "0")
    def abs(self) -> Value:
        """z = |x|;   dz/dx = sign(x)   (0 at x = 0, the subgradient PyTorch uses; NaN at NaN)"""
        x = self.data
        return _result(abs(x), "abs", self, _step(x, 0.0) - _step(-x, 0.0))

    __abs__ = abs

    # ---- activations ---------------------------------------------------------------------------------------

    @formula("tanh", "tanh({0})", "1 - {out}**2")
    def tanh(self) -> Value:
        """t = tanh(x);   dt/dx = 1 - t**2"""
        t = math.tanh(self.data)
        return _result(t, "tanh", self, 1.0 - t * t)

    @formula("sigmoid", "sigmoid({0})", "{out} * (1 - {out})")
    def sigmoid(self) -> Value:
        """s = 1 / (1 + e**-x);   ds/dx = s (1 - s)"""
        s = _sigmoid(self.data)
        return _result(s, "sigmoid", self, s * (1.0 - s))

    @formula("relu", "relu({0})", "1", when=lambda n: _x(n) > 0)
    @formula("relu", "relu({0})", "0")
    def relu(self) -> Value:
        """z = max(0, x);   dz/dx = 1 if x > 0 else 0   (NaN stays NaN: it never becomes 0)"""
        x = self.data
        if x > 0:
            return _result(x, "relu", self, 1.0)
        if x <= 0:
            return _result(0.0, "relu", self, 0.0)
        return _result(x, "relu", self, math.nan)

    @formula("leaky_relu", "leaky_relu({0}, {alpha})", "1", alpha=_c, when=lambda n: _x(n) > 0)
    @formula("leaky_relu", "leaky_relu({0}, {alpha})", "{alpha}", alpha=_c)
    def leaky_relu(self, alpha: float = 0.01) -> Value:
        """z = x if x > 0 else alpha x;   dz/dx = 1 if x > 0 else alpha"""
        x = self.data
        local = _step(x, alpha)
        return _result(x * local, "leaky_relu", self, local, alpha)

    # for x below about -20, out + alpha loses digits to cancellation; the stored value is alpha e**x
    @formula("elu", "elu({0}, {alpha})", "1", alpha=_c, when=lambda n: _x(n) > 0)
    @formula("elu", "elu({0}, {alpha})", "{out} + {alpha}", alpha=_c)
    def elu(self, alpha: float = 1.0) -> Value:
        """z = x if x > 0 else alpha (e**x - 1);   dz/dx = 1 if x > 0 else alpha e**x  (= z + alpha)"""
        x = self.data
        if x > 0:
            return _result(x, "elu", self, 1.0, alpha)
        e = math.exp(x)
        return _result(alpha * (e - 1.0), "elu", self, alpha * e, alpha)

    @formula("silu", "silu({0})", "{s} + {0} * {s} * (1 - {s})", s=lambda n: _sigmoid(_x(n)))
    def silu(self) -> Value:
        """z = x sigmoid(x);   dz/dx = s + x s (1 - s), with s = sigmoid(x)"""
        x = self.data
        s = _sigmoid(x)
        return _result(x * s, "silu", self, s + x * s * (1.0 - s))

    @formula("softplus", "softplus({0})", "1 / (1 + {e} ** (-{0}))", e=lambda n: math.e)
    def softplus(self) -> Value:
        """z = ln(1 + e**x);   dz/dx = 1 / (1 + e**-x) = sigmoid(x)"""
        x = self.data
        out = max(x, 0.0) + math.log1p(math.exp(-abs(x)))
        return _result(out, "softplus", self, _sigmoid(x))

    # ---- conveniences --------------------------------------------------------------------------------------

    @staticmethod
    @formula_builder("sum", lambda n: _sum_formula(n))
    def sum(values: Sequence[Operand]) -> Value:
        """z = x_1 + ... + x_n as one node;   dz/dx_i = 1 (numbers are folded into one constant c)."""
        nodes = tuple(v for v in values if isinstance(v, Value))
        numbers = [v for v in values if not isinstance(v, Value)]
        constant = float(sum(numbers)) if numbers else None
        total = sum(v.data for v in nodes) + (constant or 0.0)
        return _result(total, "sum", nodes, _ones(len(nodes)), constant)

    @staticmethod
    @formula_builder("dot", lambda n: _dot_formula(n))
    def dot(weights: Sequence[Value], inputs: Sequence[Operand], bias: Value | None = None) -> Value:
        """z = sum_i w_i x_i (+ b) as one node;   dz/dw_i = x_i, dz/dx_i = w_i, dz/db = 1.

        A neuron's weighted sum in one node instead of 2n: the same arithmetic, far fewer objects.
        Its layout (kept for its formula) says what each term is: "p" a weight and an input Value,
        "c" a weight times a number, "b" the bias.
        """
        parents: list[Value] = []
        local: list[float] = []
        layout: list[str] = []
        total = 0.0
        for w, x in zip(weights, inputs):
            if isinstance(x, Value):
                total += w.data * x.data
                parents += (w, x)
                local += (x.data, w.data)
                layout.append("p")
            else:
                total += w.data * x
                parents.append(w)
                local.append(x)
                layout.append("c")
        if bias is not None:
            total += bias.data
            parents.append(bias)
            local.append(1.0)
            layout.append("b")
        return _result(total, "dot", tuple(parents), tuple(local), "".join(layout))

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label})"

    def __float__(self) -> float:
        return self.data


def _log(x: float) -> float:
    """ln(x) with IEEE edges: -inf at 0, NaN below."""
    if x > 0:
        return math.log(x)
    return -math.inf if x == 0 else math.nan


_ONES: dict[int, tuple[float, ...]] = {}


def _ones(n: int) -> tuple[float, ...]:
    """(1.0,) * n, shared between nodes of the same width."""
    ones = _ONES.get(n)
    if ones is None:
        ones = (1.0,) * n
        if n <= 4096:
            _ONES[n] = ones
    return ones


def _sum_formula(node: Value) -> OpFormula:
    """x_1 + ... + x_n (+ c):   each local derivative is 1."""
    n = len(node._a)
    terms = [f"{{{i}}}" for i in range(n)]
    constants = {}
    if node._b is not None:
        terms.append("{c}")
        constants["c"] = node._b
    return OpFormula(" + ".join(terms) or "0", ("1",) * n, constants)


def _dot_formula(node: Value) -> OpFormula:
    """w_1 x_1 + ... (+ b):   d/dw_i = x_i (a parent, or the number c_i), d/dx_i = w_i, d/db = 1."""
    terms: list[str] = []
    local: list[str] = []
    constants: dict[str, float] = {}
    i = 0
    for part in node._b:
        if part == "p":
            terms.append(f"{{{i}}} * {{{i + 1}}}")
            local += [f"{{{i + 1}}}", f"{{{i}}}"]
            i += 2
        elif part == "c":
            terms.append(f"{{{i}}} * {{c{i}}}")
            local.append(f"{{c{i}}}")
            constants[f"c{i}"] = node._da[i]
            i += 1
        else:
            terms.append(f"{{{i}}}")
            local.append("1")
            i += 1
    return OpFormula(" + ".join(terms) or "0", tuple(local), constants)
