"""Each node's formulas, shown three ways: in the graph's names, with the numbers put in, and as a value.

The engine states every formula once, beside the code it describes; nothing here parses a docstring:

* a scalar ``Value`` through :func:`autograd.scalar.formula_of`, an ``OpFormula(forward, local,
  constants)``: ``str.format`` templates with ``{0}, {1}, ...`` for the parents, ``{out}`` for the
  node's own result and other names for ``constants``; ``local[i]`` is the local derivative
  ∂(node)/∂(parent i), e.g. ``1 - {out}**2`` for tanh;
* a tensor op through two class attributes of its :class:`autograd.ops.Op`: ``forward_formula``
  (``"{0} @ {1}"``) and ``vjp_formulas``, one per input: dL/d(input) from ``{g}`` = dL/d(out)
  (``"{g} @ {1}ᵀ"``).

For a scalar node the local derivative ∂t3/∂t2 renders as

* ``symbolic``: the formula in the graph's names, ``2 * t2``;
* ``substituted``: the same with every name replaced by its number in full precision (negative numbers in
  parentheses), ``2.0 * (-2.5)``: plain arithmetic that evaluates to the local derivative;
* ``shown``: the same with short numbers for reading, ``2 * (-2.5)``; and the ``value``, ``-5``.

``Formula.chain()`` joins them, ``2 * t2 = 2 * (-2.5) = -5``, leaving out repeats (``1``, not ``1 = 1 = 1``).
A node without a formula (a user-defined op) shows its value only.

For a tensor op the VJP renders in names (``dL/dZ @ Wᵀ``), in shapes (``(4, 2) @ (2, 3)``) and, when every
array in it is small, in numbers. This module imports NumPy only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from autograd.core import Node
from autograd.scalar import formula_of
from viz.naming import format_array, format_number, formula

SHORT_DIGITS = 4  # significant digits of the numbers put into a formula for reading
VALUE_DIGITS = 6  # significant digits of a formula's value
SMALL_ARRAY = 6  # a tensor formula is shown in numbers when no array in it has more elements than this

_FIELD = re.compile(r"\{(\w+)\}(ᵀ?)")


# --------------------------------------------------------------------------------------------------------
# Numbers inside formulas
# --------------------------------------------------------------------------------------------------------


def exact_number(x: float) -> str:
    """``x`` in full precision (``repr``), parenthesized when negative: ``(-2.5)``; parses back to ``x``."""
    text = repr(float(x))
    return f"({text})" if text.startswith("-") else text


def short_number(x: float, digits: int = SHORT_DIGITS) -> str:
    """``x`` in ``digits`` significant digits, parenthesized when negative: ``0.7071``, ``(-2.5)``."""
    text = format_number(x, digits)
    return f"({text})" if text.startswith("-") else text


def _fill(template: str, parents: Sequence[str], out: str, constants: Mapping[str, str]) -> str:
    return template.format(*parents, out=out, **constants)


_NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
_CONSTANT_SUM = re.compile(rf"(?<![\w\]])\(({_NUMBER}) ([-+]) ({_NUMBER})\)")
_POWER_ONE = re.compile(r" \*\* 1(?![\d.eE])")


def tidy(text: str) -> str:
    """Work out what a formula's constants leave to work out, for reading: ``2 * t2 ** (2 - 1)`` becomes
    ``2 * t2``. Only the sum or difference of two numbers in parentheses is computed, and ``** 1`` dropped;
    the substituted form (evaluated by the tests) is never tidied."""

    def add(match: re.Match[str]) -> str:
        a, sign, b = float(match.group(1)), match.group(2), float(match.group(3))
        return short_number(a + b if sign == "+" else a - b, VALUE_DIGITS)

    return _POWER_ONE.sub("", _CONSTANT_SUM.sub(add, text))


def _dedupe(parts: Sequence[str]) -> list[str]:
    """Drop each part equal to the one before it (``1 = 1 = 1`` is just ``1``)."""
    kept: list[str] = []
    for part in parts:
        if not kept or kept[-1] != part:
            kept.append(part)
    return kept


@dataclass(frozen=True)
class Formula:
    """One formula of a scalar node, three ways (see the module docstring) and its value."""

    symbolic: str
    substituted: str
    shown: str
    value: float

    def chain(self, digits: int = VALUE_DIGITS) -> str:
        """``2 * t2 = 2 * (-2.5) = -5``: the symbolic form, the numbers, the value (repeats left out)."""
        value = format_number(self.value, digits)
        # a lone number (w1 = (-3) = -3, a1 = 0.9716 = 0.971601) says nothing the value does not
        shown = None if re.fullmatch(r"\(?[-+.\deE]+\)?|nan|inf|-inf", self.shown) else self.shown
        return " = ".join(_dedupe([p for p in (self.symbolic, shown, value) if p is not None]))


def _constant_text(name: str, value: float) -> str:
    """A formula's constant for reading: its number, except Euler's number, which reads ``e``."""
    return "e" if name == "e" and value == math.e else short_number(value, VALUE_DIGITS)


def _scalar_formula(
    template: str, node: Node, names: Mapping[int, str], value: float, consts: Mapping[str, float]
) -> Formula:
    """The three forms of one template: the constants go in first and what they leave to compute is
    worked out (:func:`tidy`) for the two forms meant for reading; the substituted form is filled exactly."""
    parents = node._parents
    fields = [f"{{{i}}}" for i in range(len(parents))]
    readable = tidy(_fill(template, fields, "{out}", {k: _constant_text(k, v) for k, v in consts.items()}))
    symbolic = _fill(readable, [names[id(p)] for p in parents], names[id(node)], {})
    shown = _fill(readable, [short_number(p.data) for p in parents], short_number(node.data), {})
    substituted = _fill(
        template,
        [exact_number(p.data) for p in parents],
        exact_number(node.data),
        {k: exact_number(v) for k, v in consts.items()},
    )
    return Formula(symbolic, substituted, shown, value)


def scalar_forward(node: Node, names: Mapping[int, str]) -> Formula:
    """How a scalar node was computed: ``a * b``, ``1.5 * (-2.0)``, ``1.5 * (-2)``, -3.

    Without a formula from the engine (a user-defined op), the op's label stands in: ``custom(t1)``.
    """
    stated = formula_of(node)
    if stated is not None:
        return _scalar_formula(stated.forward, node, names, node.data, stated.constants)
    parents = node._parents
    return Formula(
        formula(node._op, [names[id(p)] for p in parents]),
        formula(node._op, [exact_number(p.data) for p in parents]),
        formula(node._op, [short_number(p.data) for p in parents]),
        node.data,
    )


def scalar_locals(node: Node, names: Mapping[int, str]) -> list[Formula | None]:
    """∂node/∂parent_i as a :class:`Formula` for each parent (None where the engine states no formula).

    The value is the engine's own number (``node._local_derivatives()``), so what the formula shows is
    checked against what the backward pass multiplies by (see the tests).
    """
    values = node._local_derivatives() or ()
    stated = formula_of(node)
    if stated is None or len(stated.local) != len(values):
        return [None] * len(node._parents)
    return [
        _scalar_formula(template, node, names, value, stated.constants)
        for template, value in zip(stated.local, values)
    ]


def local_text(local: Formula | None, value: Any, digits: int = VALUE_DIGITS) -> str:
    """A local derivative for reading: ``2 * t2 = 2 * (-2.5) = -5``, or its value without a formula."""
    return local.chain(digits) if local is not None else format_number(value, digits)


def local_factor(local: Formula | None, value: Any, digits: int = VALUE_DIGITS) -> str:
    """:func:`local_text` as one factor of the chain rule's product: ``(2 * t2 = 2 * (-2.5) = -5)``.

    The parentheses group it; a plain non-negative number needs none (``1``).
    """
    text = local_text(local, value, digits)
    return text if re.fullmatch(r"[0-9.e+]+|nan|inf", text) else f"({text})"


# --------------------------------------------------------------------------------------------------------
# Tensor ops: forward formula and vector-Jacobian products, in names, shapes and (small) numbers
# --------------------------------------------------------------------------------------------------------


def shape_tuple(shape: Sequence[int]) -> str:
    """``(4, 3)``, ``(3,)``, ``()``: a shape as Python writes it."""
    return str(tuple(int(n) for n in shape))


def _transposed_shape(shape: Sequence[int]) -> tuple[int, ...]:
    shape = tuple(shape)
    return shape[:-2] + (shape[-1], shape[-2]) if len(shape) >= 2 else shape


def _render_fields(template: str, resolve: Callable[[str, bool], str]) -> str:
    """Replace every ``{field}`` (and ``{field}ᵀ``) of a tensor template by ``resolve(field, transposed)``."""
    return _FIELD.sub(lambda m: resolve(m.group(1), m.group(2) == "ᵀ"), template)


def _op_class(node: Node) -> Any:
    return getattr(node, "_fn", None)


def _small(arrays: Sequence[Any]) -> bool:
    return all(np.size(a) <= SMALL_ARRAY for a in arrays)


def _array_text(a: Any) -> str:
    return format_array(a, SHORT_DIGITS, SMALL_ARRAY)


@dataclass(frozen=True)
class TensorFormula:
    """A tensor formula in names (``dL/dZ @ Wᵀ``), in shapes (``(4, 2) @ (2, 3)``) and, when small, in
    numbers; ``result_shape`` is the shape of what it computes."""

    symbolic: str
    shapes: str
    numbers: str | None
    result_shape: tuple[int, ...]

    def shapes_line(self) -> str:
        """``(4, 3) = (4, 2) @ (2, 3)``: the result's shape, then the shapes of the formula's terms."""
        return f"{shape_tuple(self.result_shape)} = {self.shapes}"


def _tensor_template(
    template: str,
    node: Node,
    names: Mapping[int, str],
    g: tuple[str, Any] | None,
    index: int,
    result_shape: tuple[int, ...],
) -> TensorFormula:
    """Render a tensor template; ``g`` is (the name of dL/d(out), its array) for a VJP, None for forward."""
    parents = node._parents
    used: list[Any] = []
    # an optional input the op was called without (conv's bias): its term is left out
    template = re.sub(
        r"\s*\+\s*\{(\d+)\}", lambda m: "" if int(m.group(1)) >= len(parents) else m.group(0), template
    )

    def lookup(field: str) -> tuple[str, Any] | None:
        if field.isdigit() and int(field) < len(parents):
            p = parents[int(field)]
            return names[id(p)], p.data
        if field == "out":
            return names[id(node)], node.data
        if field == "g" and g is not None:
            return g
        return None

    def by_name(field: str, transposed: bool) -> str:
        if field == "i":
            return str(index)
        if field == "all":
            return ", ".join(names[id(p)] for p in parents)
        found = lookup(field)
        return (found[0] + ("ᵀ" if transposed else "")) if found else f"{{{field}}}"

    def by_shape(field: str, transposed: bool) -> str:
        if field == "i":
            return str(index)
        if field == "all":
            return ", ".join(shape_tuple(p.data.shape) for p in parents)
        found = lookup(field)
        if found is None:
            return f"{{{field}}}"
        shape = np.shape(found[1])
        return shape_tuple(_transposed_shape(shape) if transposed else shape)

    def by_number(field: str, transposed: bool) -> str:
        if field == "i":
            return str(index)
        if field == "all":
            used.extend(p.data for p in parents)
            return ", ".join(_array_text(p.data) for p in parents)
        found = lookup(field)
        if found is None:
            return f"{{{field}}}"
        used.append(found[1])
        return _array_text(found[1]) + ("ᵀ" if transposed else "")

    numbers = _render_fields(template, by_number)
    return TensorFormula(
        _render_fields(template, by_name),
        _render_fields(template, by_shape),
        numbers if _small(used) else None,
        result_shape,
    )


def tensor_forward(node: Node, names: Mapping[int, str]) -> TensorFormula:
    """How a tensor node was computed: ``x @ W``, shapes ``(4, 2) = (4, 3) @ (3, 2)``, small numbers."""
    op = _op_class(node)
    template = getattr(op, "forward_formula", "") if op is not None else ""
    if not template:
        template = formula(node._op, [f"{{{i}}}" for i in range(len(node._parents))])
    return _tensor_template(template, node, names, None, 0, tuple(np.shape(node.data)))


def _raw_vjp_shapes(node: Node, upstream: Any) -> list[tuple[int, ...] | None]:
    """The shapes of the op's own VJPs before :func:`autograd.tensor.unbroadcast` sums them back to each
    input's shape (None where unknown); the op's ``backward`` is asked again for this, nothing is redone
    by hand."""
    op, ctx = _op_class(node), getattr(node, "_ctx", None)
    if op is None or ctx is None:
        return [None] * len(node._parents)
    try:
        raw = op.backward(ctx, upstream)
    except Exception:  # noqa: BLE001 - a display aid only: an op that cannot be asked twice shows no note
        return [None] * len(node._parents)
    return [None if r is None else tuple(np.shape(r)) for r in raw]


def tensor_vjps(
    node: Node, upstream: Any, contributions: Sequence[Any], names: Mapping[int, str], root_name: str
) -> list[TensorFormula | None]:
    """dL/d(parent_i) of a tensor step as a :class:`TensorFormula` (None: not needed or no formula).

    ``{g}`` reads ``dL/dZ`` (Z the node's name). Where the input was broadcast, the op's VJP has the
    broadcast shape and the Tensor sums it back: the formula then reads ``unbroadcast(...)``.
    """
    op = _op_class(node)
    templates: tuple[str, ...] = tuple(getattr(op, "vjp_formulas", ()) or ()) if op is not None else ()
    g = (f"d{root_name}/d{names[id(node)]}", upstream)
    raw_shapes: list[tuple[int, ...] | None] | None = None
    out: list[TensorFormula | None] = []
    for i, contribution in enumerate(contributions):
        if contribution is None or not templates:
            out.append(None)
            continue
        template = templates[min(i, len(templates) - 1)]
        shape = tuple(np.shape(contribution))
        rendered = _tensor_template(template, node, names, g, i, shape)
        if raw_shapes is None:
            raw_shapes = _raw_vjp_shapes(node, upstream)
        raw = raw_shapes[i] if i < len(raw_shapes) else None
        if raw is not None and raw != shape:
            numbers = f"unbroadcast({rendered.numbers})" if rendered.numbers is not None else None
            rendered = TensorFormula(
                f"unbroadcast({rendered.symbolic})", f"unbroadcast({rendered.shapes})", numbers, shape
            )
        out.append(rendered)
    return out
