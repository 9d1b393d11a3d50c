"""The safe expression parser: whitelist, errors as one UsageError line, and Value graphs that match torch."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd import Value
from autograd.errors import UsageError
from viz.expr import FUNCTIONS, build, evaluate, parse_assignments, parse_expression

# ---- a random expression as a tree, rendered to text and evaluated independently by torch ----

NAMES = ("x", "y", "z")
SMOOTH_FUNCTIONS = ("tanh", "sigmoid", "softplus", "silu", "exp")


def _trees() -> st.SearchStrategy:
    leaves = st.one_of(
        st.sampled_from(NAMES).map(lambda n: ("name", n)),
        st.floats(min_value=-3, max_value=3, allow_nan=False).map(lambda c: ("const", round(c, 3))),
    )

    def extend(children: st.SearchStrategy) -> st.SearchStrategy:
        return st.one_of(
            st.tuples(st.sampled_from(["+", "-", "*"]), children, children),
            st.tuples(st.just("/"), children, children),  # rendered a / (1 + b**2): never near zero
            st.tuples(st.just("neg"), children),
            st.tuples(st.just("pow"), children, st.sampled_from([2, 3])),
            st.tuples(st.sampled_from(SMOOTH_FUNCTIONS), children),
        )

    return st.recursive(leaves, extend, max_leaves=8)


def _text(tree: tuple) -> str:
    kind = tree[0]
    if kind == "name":
        return tree[1]
    if kind == "const":
        return f"({tree[1]!r})"
    if kind == "/":
        return f"({_text(tree[1])} / (1 + {_text(tree[2])} ** 2))"
    if kind in "+-*":
        return f"({_text(tree[1])} {kind} {_text(tree[2])})"
    if kind == "neg":
        return f"(-{_text(tree[1])})"
    if kind == "pow":
        return f"({_text(tree[1])} ** {tree[2]})"
    return f"{kind}({_text(tree[1])})"


def _torch(tree: tuple, leaves: dict[str, torch.Tensor]) -> torch.Tensor:
    kind = tree[0]
    if kind == "name":
        return leaves[tree[1]]
    if kind == "const":
        return torch.tensor(float(tree[1]), dtype=torch.float64)
    if kind in "+-*/":
        a, b = _torch(tree[1], leaves), _torch(tree[2], leaves)
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / (1 + b**2)}[kind]
    if kind == "neg":
        return -_torch(tree[1], leaves)
    if kind == "pow":
        return _torch(tree[1], leaves) ** tree[2]
    fn = {
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "softplus": torch.nn.functional.softplus,
        "silu": torch.nn.functional.silu,
        "exp": torch.exp,
    }[kind]
    return fn(_torch(tree[1], leaves))


@settings(max_examples=120, deadline=None)
@given(
    tree=_trees(),
    values=st.tuples(*[st.floats(min_value=-2, max_value=2).filter(lambda v: v == 0 or abs(v) > 1e-3)] * 3),
)
def test_random_expressions_match_torch_values_and_gradients(tree: tuple, values: tuple) -> None:
    text = _text(tree)
    inputs = dict(zip(NAMES, values))
    leaves = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in inputs.items()}
    reference = _torch(tree, leaves)
    assume(reference.requires_grad and math.isfinite(reference.item()) and abs(reference.item()) < 1e12)
    reference.backward()
    assume(
        all(leaves[n].grad is not None and math.isfinite(leaves[n].grad.item()) for n in NAMES if n in text)
    )
    # every intermediate must be finite and no division by exactly zero for our evaluator to accept it
    expr = parse_expression(text)
    try:
        out = evaluate(expr, {n: inputs[n] for n in expr.names})
    except UsageError:
        assume(False)
    out.backward()
    assert out.data == pytest.approx(reference.item(), rel=1e-9, abs=1e-9)
    by_label = {n.label: n for n in _leaves(out)}
    for name in expr.names:
        assert by_label[name].grad == pytest.approx(leaves[name].grad.item(), rel=1e-7, abs=1e-9)


def _leaves(root: Value) -> list[Value]:
    from autograd import topological_sort

    return [n for n in topological_sort(root) if not n._parents]


# ---- structure ---------------------------------------------------------------------------------------------


def test_names_in_order_of_first_appearance() -> None:
    assert parse_expression("tanh(x*w + b) + x").names == ("x", "w", "b")


def test_each_name_is_one_labeled_leaf_used_as_often_as_it_appears() -> None:
    out = build("x*x + x", ["x=3"])
    out.backward()
    leaves = _leaves(out)
    assert [v.label for v in leaves] == ["x"]
    assert leaves[0].grad == pytest.approx(2 * 3 + 1)


def test_numbers_stay_constants_in_the_op_label() -> None:
    out = build("x * 2", ["x=1.5"])
    assert out._op == "* 2" and len(out._parents) == 1
    assert out.data == 3.0


def test_all_engine_functions_are_callable() -> None:
    for name in FUNCTIONS:
        out = build(f"{name}(x)", ["x=0.7"])
        assert out._op == name
        assert out.data == pytest.approx(getattr(Value(0.7), name)().data)


def test_second_argument_of_leaky_relu_is_a_number() -> None:
    out = build("leaky_relu(x, 0.2)", ["x=-1"])
    assert out.data == pytest.approx(-0.2)
    with pytest.raises(UsageError, match="second argument of leaky_relu"):
        build("leaky_relu(x, a)", ["x=-1", "a=0.2"])


def test_constant_subexpressions_fold_to_numbers() -> None:
    out = build("x + 2 * 3 - tanh(0)", ["x=1"])
    assert out.data == 7.0 and len(out._parents) == 1


# ---- errors: one UsageError line, before any computation with side effects ---------------------------------


@pytest.mark.parametrize(
    ("text", "values", "message"),
    [
        ("tanh(x*w", ["x=1", "w=2"], "cannot parse"),
        ("x +* 2", ["x=1"], "cannot parse"),
        ("", [], "empty"),
        ("foo(x)", ["x=1"], "unknown function 'foo'"),
        ("x < 2", ["x=1"], "a comparison is not allowed"),
        ("x // 2", ["x=1"], "// is not allowed"),
        ("x % 2", ["x=1"], "% is not allowed"),
        ("x.real", ["x=1"], "attribute access is not allowed"),
        ("x[0]", ["x=1"], "indexing is not allowed"),
        ("'a' * x", ["x=1"], "constant 'a'"),
        ("True + x", ["x=1"], "constant True"),
        ("1j * x", ["x=1"], "constant 1j"),
        ("(lambda: 1)()", [], "not allowed"),
        ("__import__('os').system('echo hacked')", [], "not allowed"),
        ("x if x else 1", ["x=1"], "if/else is not allowed"),
        ("tanh(x, x)", ["x=1"], "takes 1 argument"),
        ("tanh(x=1)", [], "positional arguments only"),
        ("tanh + x", ["x=1"], "tanh is a function"),
        ("x * w", ["x=1"], "unknown name w"),
        ("x * w + v", [], "unknown names x, w, v"),
        ("x * 2", ["x=1", "q=3"], "--set q: not used"),
        ("x / (y - y)", ["x=1", "y=2"], "division by zero in 'x / \\(y - y\\)'"),
        ("1 / x", ["x=0"], "division by zero"),
        ("x / 0", ["x=1"], "division by zero"),
        ("x ** -1", ["x=0"], "division by zero"),
        ("log(x)", ["x=-1"], "log of a non-positive number"),
        ("log(x - 1)", ["x=1"], "log of a non-positive number"),
        ("sqrt(x)", ["x=-4"], "sqrt of a negative number"),
        ("x ** 0.5", ["x=-8"], "non-integer power"),
        ("exp(x)", ["x=1000"], "'exp\\(x\\)' is too large"),
        ("x * y", ["x=1e200", "y=1e200"], "too large"),
        ("2 + 3", [], "no inputs"),
        ("(" * 300 + "x" + ")" * 300, ["x=1"], "nested"),
        ("x + " * 1000 + "x", ["x=1"], "limit"),
    ],
)
def test_bad_expressions_raise_one_line_usage_errors(text: str, values: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        build(text, values)
    assert "\n" not in str(info.value)


def test_code_in_an_expression_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(UsageError):
        build(f"__import__('pathlib').Path({str(marker)!r}).touch()", [])
    assert not marker.exists()


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["x"], "expected NAME=NUMBER"),
        (["x="], "expected NAME=NUMBER"),
        (["=2"], "expected NAME=NUMBER"),
        (["1x=2"], "not a valid name"),
        (["x=abc"], "not a number"),
        (["x=nan"], "finite"),
        (["x=inf"], "finite"),
        (["x=1", "x=2"], "given twice"),
        (["tanh=1"], "function name"),
    ],
)
def test_bad_assignments(items: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_assignments(items)


def test_assignments_parse_negative_and_scientific_numbers() -> None:
    assert parse_assignments(["x=2", "w=-3", "b=1e-3", " c = 0.5 "]) == {
        "x": 2.0,
        "w": -3.0,
        "b": 1e-3,
        "c": 0.5,
    }
