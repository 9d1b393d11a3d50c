"""Each scalar op's declared formula against the derivative the op stores: for random inputs of every op
and every branch, each local-derivative template filled with the node's numbers is plain arithmetic that
evaluates (safely, over ``ast``) to the stored local derivative within 1e-9."""

from __future__ import annotations

import math
import random
from typing import Callable

import pytest

from autograd import Value
from autograd.scalar import (
    _BUILDERS,
    _RULES,
    OpFormula,
    display_label,
    evaluate_arithmetic,
    fill_formula,
    fill_template,
    formula_of,
    register_formula,
)

RNG = random.Random(0)


def u(low: float, high: float) -> Callable[[], float]:
    return lambda: RNG.uniform(low, high)


ANY, POS, NEG = u(-4.0, 4.0), u(0.05, 4.0), u(-4.0, -0.05)
NONZERO = lambda: RNG.choice([POS, NEG])()  # noqa: E731
ZERO = lambda: 0.0  # noqa: E731

# name -> (build the node from fresh leaves, the leaves' value generators)
CASES: dict[str, tuple[Callable[..., Value], list[Callable[[], float]]]] = {
    "x + y": (lambda x, y: x + y, [ANY, ANY]),
    "x + c": (lambda x: x + RNG.uniform(-5, 5), [ANY]),
    "c + x": (lambda x: 3 + x, [ANY]),
    "x * y": (lambda x, y: x * y, [ANY, ANY]),
    "x * c": (lambda x: x * RNG.uniform(-5, 5), [ANY]),
    "c * x (int)": (lambda x: -3 * x, [ANY]),
    "x - y": (lambda x, y: x - y, [ANY, ANY]),
    "x - c": (lambda x: x - RNG.uniform(-5, 5), [ANY]),
    "c - x": (lambda x: RNG.uniform(-5, 5) - x, [ANY]),
    "x / y": (lambda x, y: x / y, [ANY, NONZERO]),
    "x / c": (lambda x: x / RNG.choice([-2.5, 0.3, 7.0]), [ANY]),
    "c / x": (lambda x: RNG.uniform(-5, 5) / x, [NONZERO]),
    "-x": (lambda x: -x, [ANY]),
    "x ** y": (lambda x, y: x**y, [POS, ANY]),
    "0 ** y, y >= 0": (lambda x, y: x**y, [ZERO, u(0.0, 3.0)]),
    "x ** c": (lambda x: x ** RNG.uniform(-3, 3), [POS]),
    "x ** int": (lambda x: x ** RNG.choice([2, 3, -1, -2]), [NONZERO]),
    "x ** 0": (lambda x: x**0, [ANY]),
    "c ** x": (lambda x: RNG.uniform(0.1, 5) ** x, [ANY]),
    "0 ** x, x >= 0": (lambda x: 0.0**x, [u(0.0, 3.0)]),
    "exp": (lambda x: x.exp(), [ANY]),
    "log": (lambda x: x.log(), [POS]),
    "sqrt": (lambda x: x.sqrt(), [POS]),
    "abs x > 0": (lambda x: x.abs(), [POS]),
    "abs x < 0": (lambda x: abs(x), [NEG]),
    "abs 0": (lambda x: x.abs(), [ZERO]),
    "tanh": (lambda x: x.tanh(), [ANY]),
    "sigmoid": (lambda x: x.sigmoid(), [u(-30, 30)]),
    "relu x > 0": (lambda x: x.relu(), [POS]),
    "relu x <= 0": (lambda x: x.relu(), [u(-4.0, 0.0)]),
    "leaky_relu x > 0": (lambda x: x.leaky_relu(), [POS]),
    "leaky_relu x <= 0": (lambda x: x.leaky_relu(RNG.uniform(0.001, 0.5)), [NEG]),
    "elu x > 0": (lambda x: x.elu(RNG.uniform(0.1, 2)), [POS]),
    "elu x <= 0": (lambda x: x.elu(RNG.uniform(0.1, 2)), [u(-10.0, 0.0)]),
    "silu": (lambda x: x.silu(), [u(-20, 20)]),
    "softplus": (lambda x: x.softplus(), [u(-30, 30)]),
    "sum": (lambda *xs: Value.sum(xs), [ANY] * 5),
    "sum with numbers": (lambda a, b, c: Value.sum([a, 2.5, b, -1, c]), [ANY] * 3),
    "sum of one": (lambda a: Value.sum([a]), [ANY]),
    "dot of pairs": (lambda w1, w2, x1, x2: Value.dot([w1, w2], [x1, x2]), [ANY] * 4),
    "dot with numbers and bias": (lambda w1, w2, b: Value.dot([w1, w2], [0.5, -2.0], b), [ANY] * 3),
    "dot mixed": (lambda w1, w2, w3, x2, b: Value.dot([w1, w2, w3], [1.5, x2, -0.25], b), [ANY] * 5),
}


def _check(node: Value) -> OpFormula:
    """Every local template of ``node``, filled and evaluated, equals the stored local derivative."""
    formula = formula_of(node)
    assert formula is not None, f"no formula for {node._op!r}"
    parents, stored = node._parents, node._local_grads
    assert len(formula.local) == len(parents) == len(stored)
    for template, text, local in zip(formula.local, fill_formula(node, formula), stored):
        value = evaluate_arithmetic(text)
        assert math.isclose(value, local, rel_tol=1e-9, abs_tol=1e-300), (
            f"{node._op}: {template} -> {text} = {value!r}, stored {local!r}"
        )
    forward = fill_template(formula.forward, [p.data for p in parents], node.data, formula.constants)
    try:  # arithmetic results (x * y, c / x, sums, dots) evaluate to the node's data
        result = evaluate_arithmetic(forward)
    except ValueError:
        assert any(ch.isalpha() for ch in formula.forward.split("{")[0]), forward  # a function: tanh(...)
    else:
        assert math.isclose(result, node.data, rel_tol=1e-9, abs_tol=1e-12), f"{forward} != {node.data}"
    return formula


@pytest.mark.parametrize("case", list(CASES))
def test_each_local_template_evaluates_to_the_stored_derivative(case: str) -> None:
    build, inputs = CASES[case]
    for _ in range(200):
        node = build(*(Value(gen()) for gen in inputs))
        _check(node)


def test_every_declared_formula_and_branch_is_exercised() -> None:
    declared = {(kind, rule.local) for kind, rules in _RULES.items() for rule in rules}
    seen: set = set()
    for build, inputs in CASES.values():
        for _ in range(50):
            node = build(*(Value(gen()) for gen in inputs))
            seen.add((node._kind, formula_of(node).local))
    assert declared <= seen, f"not exercised: {declared - seen}"
    assert set(_BUILDERS) <= {kind for kind, _ in seen}


def test_formula_examples_read_as_declared() -> None:
    x, y = Value(0.5), Value(-2.0)
    assert formula_of(x * y) == OpFormula("{0} * {1}", ("{1}", "{0}"), {})
    assert formula_of(x.tanh()) == OpFormula("tanh({0})", ("1 - {out}**2",), {})
    assert formula_of(x**3) == OpFormula("{0} ** {c}", ("{c} * {0} ** ({c} - 1)",), {"c": 3})
    assert formula_of(x.leaky_relu()).local == ("1",) and formula_of(y.leaky_relu()).local == ("{alpha}",)
    assert formula_of(y.leaky_relu(0.2)).constants == {"alpha": 0.2}
    assert formula_of(Value.sum([x, y, x])).forward == "{0} + {1} + {2}"
    assert formula_of(Value.dot([x, y], [y, 3.0])).local == ("{1}", "{0}", "{c2}")
    assert formula_of(Value(1.0)) is None  # a leaf


def test_filled_templates_parenthesize_negatives_and_keep_full_precision() -> None:
    x = Value(-0.1)
    t = x.tanh()
    (text,) = fill_formula(t)
    assert text == f"1 - ({t.data!r})**2"
    assert fill_template("{0} / {1}", [1 / 3, -2.0], 0.0) == f"{1 / 3!r} / (-2.0)"
    with pytest.raises(ValueError, match="plain arithmetic"):
        fill_template("{0}", [math.nan], 0.0)


def test_display_labels_are_made_when_drawn() -> None:
    x = Value(1.5)
    assert (x * 2)._op == display_label(x * 2) == "* 2"
    assert (2 * x)._op == "* 2" and (1 - x)._op == "1 -" and (x - 0.5)._op == "- 0.5"
    assert (x / 4)._op == "/ 4" and (3 / x)._op == "3 /" and (x**2)._op == "** 2" and (2**x)._op == "2 **"
    assert (x + x)._op == "+" and x.tanh()._op == "tanh" and Value.sum([x, 1])._op == "sum"
    assert x._op == ""


# ---- your own op -----------------------------------------------------------------------------------------


def test_a_user_op_without_a_formula_still_backpropagates_and_has_none() -> None:
    x = Value(2.0)
    cube = Value(x.data**3, (x,), (3 * x.data**2,), "my_cube")
    cube.backward()
    assert x.grad == 12.0 and cube._op == "my_cube" and cube._parents == (x,)
    assert formula_of(cube) is None


def test_a_user_op_can_register_its_formula() -> None:
    register_formula("scaled_square_test", "{k} * {0}**2", ["2 * {k} * {0}"], {"k": 1.5})
    x = Value(-3.0)
    node = Value(1.5 * 9.0, (x,), (2 * 1.5 * -3.0,), "scaled_square_test")
    assert formula_of(node) == OpFormula("{k} * {0}**2", ("2 * {k} * {0}",), {"k": 1.5})
    _check(node)
    # a user's op named like a built-in never borrows the built-in's formula
    fake = Value(math.tanh(0.5), (Value(0.5),), (0.0,), "tanh")
    assert formula_of(fake) is None
    with pytest.raises(ValueError, match="built-in"):
        register_formula("tanh", "tanh({0})", ["1"])
    with pytest.raises(ValueError, match="not a parent index, out or a constant"):
        register_formula("typo_test", "{0} * {k}", ["{kk}"], {"k": 2.0})
    with pytest.raises(ValueError, match="malformed"):
        register_formula("typo_test", "{0", ["1"])


# ---- the safe evaluator ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 - (-0.5)**2", 0.75),
        ("2 ** -1", 0.5),
        ("-(-3.0) / (2.0)**2", 0.75),
        ("+4 * (1 + 2) - 6 / 3", 10.0),
        ("1 / 0", math.inf),
        ("-1 / 0", -math.inf),
        ("0 ** -1", math.inf),
        ("10.0 ** 400", math.inf),
    ],
)
def test_evaluate_arithmetic(text: str, expected: float) -> None:
    assert evaluate_arithmetic(text) == expected


def test_evaluate_arithmetic_gives_nan_for_a_fractional_power_of_a_negative_number() -> None:
    assert math.isnan(evaluate_arithmetic("(-8.0) ** (1 / 3)"))
    assert math.isnan(evaluate_arithmetic("0 / 0"))


@pytest.mark.parametrize(
    "text",
    [
        "tanh(1)",
        "x + 1",
        "__import__('os').system('true')",
        "(1).real",
        "1 if 1 else 2",
        "[1]",
        "1 // 2",
        "1 % 2",
        "True + 1",
        "'a'",
        "1 +",
        "1j",
        "(" * 500 + "1" + ")" * 500,
    ],
)
def test_evaluate_arithmetic_rejects_everything_but_arithmetic(text: str) -> None:
    with pytest.raises(ValueError):
        evaluate_arithmetic(text)


# ---- d(x**y)/dy at x = 0, against PyTorch ------------------------------------------------------------------


@pytest.mark.parametrize("y", [0.0, 0.5, 1.0, 2.0, 3.0, -1.0, -0.5])
def test_power_at_a_zero_base_matches_torch(y: float) -> None:
    torch = pytest.importorskip("torch")
    base, exponent = Value(0.0), Value(y)
    out = base**exponent
    out.backward()
    tb = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    te = torch.tensor(y, dtype=torch.float64, requires_grad=True)
    (tb**te).backward()
    for ours, theirs in ((out.data, (tb.detach() ** te.detach()).item()), (base.grad, tb.grad.item())):
        assert ours == theirs or (math.isnan(ours) and math.isnan(theirs))
    theirs = te.grad.item()
    assert exponent.grad == theirs or (math.isnan(exponent.grad) and math.isnan(theirs))
    if y >= 0:
        assert exponent.grad == 0.0


@pytest.mark.parametrize("x", [0.0, 0.5, 2.0, -1.0])
def test_zero_to_the_power_x_matches_torch(x: float) -> None:
    torch = pytest.importorskip("torch")
    v = Value(x)
    out = 0.0**v
    out.backward()
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    torch.pow(0.0, t).backward()
    theirs = t.grad.item()
    assert v.grad == theirs or (math.isnan(v.grad) and math.isnan(theirs))
