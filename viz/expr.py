"""Safe arithmetic expressions such as ``tanh(x*w + b)`` or ``(a*b + c)**2 / 2``, built as Value graphs.

The text is parsed by Python's :mod:`ast` and every node of the tree is checked against a whitelist before
anything is computed; nothing is ever passed to ``eval``. Allowed:

* numbers (``2``, ``0.5``, ``1e-3``) and names (``x``, ``w1``), each name an input set by the user;
* ``+ - * / **``, unary ``-`` and ``+``, parentheses;
* calls of the scalar engine's functions: ``exp log sqrt tanh sigmoid relu leaky_relu elu silu softplus
  abs`` (``leaky_relu(x, 0.1)`` and ``elu(x, 1.0)`` take a numeric second argument).

Evaluation builds ``autograd.Value`` nodes: each input name becomes one leaf Value labeled with its name
(so ``x * x`` uses the same leaf twice and a trace reads ``dL/dx``); numbers stay numbers, so ``x * 2`` is one
node with the op ``* 2``. Everything that can go wrong with user input (a syntax error, an unknown name or
function, a division by zero, the log of a non-positive number, a missing or malformed ``--set`` value)
raises :class:`autograd.errors.UsageError` with one line naming the problem.
"""

from __future__ import annotations

import ast
import math
import unicodedata
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence, Union

from autograd.errors import UsageError, finite_number
from autograd.scalar import Value

Operand = Union[Value, float]

# function name -> (smallest, largest) number of arguments; each is a method of Value
FUNCTIONS: dict[str, tuple[int, int]] = {
    "exp": (1, 1),
    "log": (1, 1),
    "sqrt": (1, 1),
    "tanh": (1, 1),
    "sigmoid": (1, 1),
    "relu": (1, 1),
    "leaky_relu": (1, 2),
    "elu": (1, 2),
    "silu": (1, 1),
    "softplus": (1, 1),
    "abs": (1, 1),
}
MAX_LENGTH = 2_000
MAX_DEPTH = 100

_BINARY: dict[type, tuple[str, Callable[[Operand, Operand], Operand]]] = {
    ast.Add: ("+", lambda a, b: a + b),
    ast.Sub: ("-", lambda a, b: a - b),
    ast.Mult: ("*", lambda a, b: a * b),
    ast.Div: ("/", lambda a, b: a / b),
    ast.Pow: ("**", lambda a, b: a**b),
}
_ALLOWED_SYNTAX = "numbers, names, + - * / **, unary minus, parentheses and calls of " + ", ".join(FUNCTIONS)
_DESCRIPTIONS: dict[type, str] = {
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Lambda: "lambda",
    ast.IfExp: "if/else",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.Not: "not",
    ast.Invert: "~",
}


@dataclass(frozen=True)
class Expression:
    """A parsed, checked expression: its ``text``, its tree and its input ``names`` in order of appearance."""

    text: str
    tree: ast.Expression
    names: tuple[str, ...]


def _short(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters for an error message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _segment(text: str, node: ast.AST) -> str:
    return _short(ast.get_source_segment(text, node) or ast.unparse(node))


def parse_expression(text: str) -> Expression:
    """Parse and check ``text``; raise UsageError for a syntax error or anything off the whitelist."""
    if not text.strip():
        raise UsageError("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise UsageError(f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        where = f" at column {e.offset}" if e.offset else ""
        raise UsageError(f"cannot parse expression {_short(text)!r}: {e.msg}{where}") from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise UsageError(f"cannot parse expression {_short(text)!r}: {e or type(e).__name__}") from None
    text = text.strip()
    names: list[str] = []
    # iterative walk (no recursion): (node, depth, whether the path to it is a chain of binary operators)
    stack: list[tuple[ast.AST, int, bool]] = [(tree.body, 1, True)]
    while stack:
        node, depth, chain = stack.pop()
        if depth > MAX_DEPTH:
            if chain:  # a + b + c + ... parses as ((a + b) + c) + ...: long, not nested by the writer
                raise UsageError(
                    f"the expression chains more than {MAX_DEPTH} operations in a row (a sum or product of "
                    f"more than {MAX_DEPTH} terms, say); the limit is {MAX_DEPTH}"
                )
            raise UsageError(f"the expression is nested more than {MAX_DEPTH} levels deep")
        children = _check_node(text, node)
        if isinstance(node, ast.Name) and node.id not in names:
            names.append(node.id)
        link = chain and isinstance(node, ast.BinOp)
        stack.extend((child, depth + 1, link) for child in children)
    ordered = sorted(names, key=lambda n: _first_position(tree, n))
    return Expression(text, tree, tuple(ordered))


def _first_position(tree: ast.AST, name: str) -> tuple[int, int]:
    return min((n.lineno, n.col_offset) for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == name)


def _not_allowed(text: str, node: ast.AST, what: str) -> UsageError:
    return UsageError(f"{what} not allowed in an expression: {_segment(text, node)!r}; use {_ALLOWED_SYNTAX}")


def _check_node(text: str, node: ast.AST) -> list[ast.AST]:
    """Raise UsageError unless ``node`` is allowed; return its children to check."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise _not_allowed(text, node, f"the constant {node.value!r} is")
        return []
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise UsageError(f"{node.id} is a function: call it, as in {node.id}(x)")
        return []
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise _not_allowed(
                text, node, f"the operator {_DESCRIPTIONS.get(type(node.op), type(node.op).__name__)} is"
            )
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise _not_allowed(
                text, node, f"the operator {_DESCRIPTIONS.get(type(node.op), type(node.op).__name__)} is"
            )
        return [node.operand]
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise _not_allowed(text, node, "calling this is")
        name = node.func.id
        if name not in FUNCTIONS:
            raise UsageError(
                f"unknown function {name!r} in {_segment(text, node)!r}; allowed: {', '.join(FUNCTIONS)}"
            )
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise UsageError(f"{name}() takes positional arguments only: {_segment(text, node)!r}")
        low, high = FUNCTIONS[name]
        if not low <= len(node.args) <= high:
            count = str(low) if low == high else f"{low} or {high}"
            raise UsageError(
                f"{name}() takes {count} argument(s), got {len(node.args)}: {_segment(text, node)!r}"
            )
        return list(node.args)
    what = _DESCRIPTIONS.get(type(node), type(node).__name__)
    raise _not_allowed(text, node, f"{what} is")


# --------------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------------


def parse_assignments(items: Sequence[str]) -> dict[str, float]:
    """``["x=2", "w=-3"]`` -> ``{"x": 2.0, "w": -3.0}``; UsageError for anything else."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, number = item.partition("=")
        # Python reads identifiers in NFKC form (the parser turns "ｘ" into "x", "µ" into "μ"): so do we
        name, number = unicodedata.normalize("NFKC", name.strip()), number.strip()
        if not sep or not name or not number:
            raise UsageError(f"--set {item}: expected NAME=NUMBER, e.g. --set x=2 w=-3")
        if not name.isidentifier():
            raise UsageError(f"--set {item}: {name!r} is not a valid name")
        if name in FUNCTIONS:
            raise UsageError(f"--set {item}: {name!r} is a function name, not an input")
        value = finite_number(number, f"--set {item}")
        if name in values:
            raise UsageError(f"--set {name} is given twice")
        values[name] = value
    return values


# --------------------------------------------------------------------------------------------------------
# Evaluation into a Value graph
# --------------------------------------------------------------------------------------------------------


def evaluate(expression: Expression | str, values: Mapping[str, float], allow_unused: bool = False) -> Value:
    """Build the Value graph of ``expression`` with inputs ``values`` (name -> number); return its output.

    Every input must have a value, and (unless ``allow_unused``) every value must be used. The result
    is always a Value (an expression without inputs is refused: there would be nothing to differentiate).
    """
    expr = expression if isinstance(expression, Expression) else parse_expression(expression)
    missing = [n for n in expr.names if n not in values]
    if missing:
        flags = " ".join(f"{n}=NUMBER" for n in missing)
        which = "unknown name" if len(missing) == 1 else "unknown names"
        raise UsageError(
            f"{which} {', '.join(missing)} in {_short(expr.text)!r}: give each a value with --set {flags}"
        )
    unused = [n for n in values if n not in expr.names]
    if unused and not allow_unused:
        raise UsageError(f"--set {', '.join(unused)}: not used in {_short(expr.text)!r}")
    leaves = {name: Value(values[name], label=name) for name in expr.names}
    if not leaves:
        raise UsageError(
            f"{_short(expr.text)!r} has no inputs, so there is nothing to differentiate; use a name like x"
        )
    result = _Evaluator(expr.text, leaves).run(expr.tree.body)
    assert isinstance(result, Value)
    return result


class _Evaluator:
    """Evaluates a checked tree bottom-up without recursion (post-order with an explicit stack)."""

    def __init__(self, text: str, leaves: Mapping[str, Value]) -> None:
        self.text = text
        self.leaves = leaves

    def run(self, root: ast.AST) -> Operand:
        results: dict[int, Operand] = {}
        stack: list[tuple[ast.AST, bool]] = [(root, False)]
        while stack:
            node, ready = stack.pop()
            children = _children(node)
            if not ready and children:
                stack.append((node, True))
                stack.extend((c, False) for c in reversed(children))
                continue
            results[id(node)] = self._apply(node, [results.pop(id(c)) for c in children])
        return results[id(root)]

    def _apply(self, node: ast.AST, args: list[Operand]) -> Operand:
        if isinstance(node, ast.Constant):
            try:
                return float(node.value)
            except OverflowError:
                raise UsageError(f"the number {_segment(self.text, node)} is too large") from None
        if isinstance(node, ast.Name):
            return self.leaves[node.id]
        try:
            if isinstance(node, ast.UnaryOp):
                return -args[0] if isinstance(node.op, ast.USub) else args[0]
            if isinstance(node, ast.BinOp):
                symbol, fn = _BINARY[type(node.op)]
                if symbol == "**":
                    self._check_power(node, *args)
                out = fn(*args)
            else:
                assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                out = self._call(node, node.func.id, args)
        except ZeroDivisionError:
            raise UsageError(f"division by zero in {_segment(self.text, node)!r}") from None
        except OverflowError:
            raise UsageError(f"{_segment(self.text, node)!r} is too large to compute") from None
        except ValueError as e:  # log or sqrt of a number outside their domain
            raise UsageError(f"{_segment(self.text, node)!r}: {e}") from None
        data = out.data if isinstance(out, Value) else out
        if math.isinf(data):
            raise UsageError(f"{_segment(self.text, node)!r} is too large to compute (the result is {data})")
        if math.isnan(data):
            raise UsageError(f"{_segment(self.text, node)!r} is not a number (nan)")
        return out

    def _check_power(self, node: ast.AST, base: Operand, exponent: Operand) -> None:
        b = base.data if isinstance(base, Value) else base
        e = exponent.data if isinstance(exponent, Value) else exponent
        if b < 0 and not float(e).is_integer():
            raise UsageError(
                f"{_segment(self.text, node)!r}: a negative number ({b:g}) to a non-integer power ({e:g}) "
                "is not a real number"
            )
        if b == 0 and e < 0:
            raise ZeroDivisionError

    def _call(self, node: ast.Call, name: str, args: list[Operand]) -> Operand:
        x, *rest = args
        if any(isinstance(a, Value) for a in rest):
            raise UsageError(
                f"the second argument of {name}() must be a number: {_segment(self.text, node)!r}"
            )
        if isinstance(x, Value):
            return getattr(x, name)(*rest)
        return getattr(Value(x), name)(*rest).data  # a function of a constant is a constant


def _children(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def build(text: str, assignments: Sequence[str]) -> Value:
    """``build("tanh(x*w + b)", ["x=2", "w=-3", "b=1"])``: parse, check and evaluate (the CLI's path)."""
    expr = parse_expression(text)
    return evaluate(expr, parse_assignments(assignments))
