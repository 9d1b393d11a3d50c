"""The backward tracer and its renderers (text, JSON, SVG frames), and the `graph` / `trace` commands."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from autograd import Tensor, Value, topological_sort
from projects.lab.cli import main as cli_main
from viz.naming import format_value
from viz.trace import (
    BackwardTracer,
    render_frames,
    render_table,
    step_equations,
    trace_backward,
    trace_to_json,
)

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def _expression() -> tuple[Value, dict[str, Value]]:
    """L = (a*b + c)**2 / 2 with a = 2, b = -3, c = 10."""
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    return (a * b + c) ** 2 / 2, {"a": a, "b": b, "c": c}


def test_the_tracer_records_one_step_per_node_with_parents() -> None:
    loss, _ = _expression()
    tracer = BackwardTracer()
    loss.backward(observer=tracer)
    order = topological_sort(loss)
    assert tracer.root is loss
    assert [s.node for s in tracer.steps] == [n for n in reversed(order) if n._parents]
    for step in tracer.steps:
        assert step.op == step.node._op
        assert step.parents == step.node._parents
        assert step.local_derivatives == step.node._local_grads
        # the chain rule: each contribution is upstream * local derivative
        assert step.contributions == tuple(step.upstream * d for d in step.local_derivatives)


def test_running_gradients_sum_the_contributions_and_end_at_the_engines_grads() -> None:
    x = Value(3.0, label="x")
    y = x * x + x.tanh() + x * 2  # x is used four times
    tracer = trace_backward(y)
    seen = []
    for step in tracer.steps:
        for parent, contribution, running in zip(step.parents, step.contributions, step.running):
            if parent is x:
                seen.append((contribution, running))
    assert len(seen) == 4
    total = 0.0
    for contribution, running in seen:
        total += contribution
        assert running == pytest.approx(total, rel=1e-15)
    for node in topological_sort(y):
        assert tracer.gradients[id(node)] == pytest.approx(node.grad, rel=1e-15)
    assert x.grad == pytest.approx(2 * 3 + (1 - np.tanh(3) ** 2) + 2)


def test_a_step_comes_after_every_node_that_uses_its_node() -> None:
    loss, _ = _expression()
    tracer = trace_backward(loss)
    position = {id(s.node): s.index for s in tracer.steps}
    for step in tracer.steps:
        for parent in step.parents:
            if id(parent) in position:
                assert position[id(parent)] > step.index
        # the upstream gradient at a node's step is already complete: it equals the final gradient
        assert step.upstream == tracer.gradients[id(step.node)]


def test_leaves_are_finished_after_the_last_step_that_feeds_them() -> None:
    x, w = Value(0.5, label="x"), Value(2.0, label="w")
    loss = (x * w).tanh() * w  # w feeds the first and the last step
    tracer = trace_backward(loss)
    last = len(tracer.steps) - 1
    first_feed_of_x = next(s.index for s in tracer.steps if any(p is x for p in s.parents))
    assert id(w) in tracer.finished_after(last) and id(x) in tracer.finished_after(last)
    assert id(w) not in tracer.finished_after(0)
    assert id(x) not in tracer.finished_after(first_feed_of_x - 1)
    assert id(x) in tracer.finished_after(first_feed_of_x)
    assert id(loss) not in tracer.finished_after(0) and id(loss) in tracer.finished_after(1)


def test_tensor_traces_show_contributions_shaped_like_the_inputs() -> None:
    rng = np.random.default_rng(1)
    x = Tensor(rng.normal(size=(4, 3)), dtype=np.float64, label="x")
    W = Tensor(rng.normal(size=(3, 2)), requires_grad=True, dtype=np.float64, label="W")
    b = Tensor(np.zeros(2), requires_grad=True, dtype=np.float64, label="b")
    loss = ((x @ W + b).tanh() ** 2).mean()
    tracer = trace_backward(loss)
    assert all(s.local_derivatives is None for s in tracer.steps)
    for step in tracer.steps:
        for parent, contribution in zip(step.parents, step.contributions):
            if contribution is None:
                assert not parent.requires_grad
            else:
                assert np.shape(contribution) == parent.shape
    np.testing.assert_array_equal(tracer.gradients[id(W)], W.grad)
    np.testing.assert_array_equal(tracer.gradients[id(b)], b.grad)
    matmul = next(s for s in tracer.steps if s.op == "@")
    lines = step_equations(tracer, matmul)
    assert lines[0].startswith("dL/dx: not needed")
    z = tracer.name(matmul.node)
    assert lines[1].startswith(f"dL/dW += xᵀ @ dL/d{z}: (3, 2) = (3, 4) @ (4, 2) = ")


def test_equations_read_as_the_chain_rule_with_numbers() -> None:
    loss, v = _expression()
    tracer = trace_backward(loss)
    product = next(s for s in tracer.steps if s.op == "*")
    z = tracer.name(product.node)
    lines = step_equations(tracer, product)
    pattern = rf"^dL/da \+= dL/d{z} · ∂{z}/∂a = (\S+) · \(b = (\S+)\) = (\S+)   \(dL/da so far: (\S+)\)$"
    upstream, local, contribution, so_far = map(float, re.match(pattern, lines[0]).groups())
    assert upstream == pytest.approx(product.upstream) and local == pytest.approx(v["b"].data)
    assert contribution == pytest.approx(upstream * local) and so_far == pytest.approx(v["a"].grad)


def test_text_table_has_a_row_per_parent_and_the_final_gradients() -> None:
    loss, v = _expression()
    tracer = trace_backward(loss)
    text = render_table(tracer)
    rows = sum(len(s.parents) for s in tracer.steps)
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("step"))
    assert len(lines[header + 2 : header + 2 + rows]) == rows
    assert not lines[header + 2 + rows].strip()  # a blank line ends the table
    for name, leaf in v.items():
        assert re.search(
            rf"^{name}\s+leaf\s+{re.escape(format_value(leaf.data, 6))}\s+"
            rf"{re.escape(format_value(leaf.grad, 6))}$",
            text,
            re.M,
        )


def test_json_is_strict_and_complete() -> None:
    base, exponent = Value(-2.0, label="p"), Value(2.0, label="q")
    loss = base**exponent  # d/dq = p**q ln(p) is nan for p < 0
    tracer = trace_backward(loss)
    data = json.loads(json.dumps(trace_to_json(tracer), allow_nan=False))
    assert data["root"] == "L" and data["engine"] == "scalar"
    assert {n["name"] for n in data["nodes"]} == {"p", "q", "L"}
    (step,) = data["steps"]
    assert [p["name"] for p in step["parents"]] == ["p", "q"]
    assert step["parents"][0]["local_derivative"] == pytest.approx(-4.0)
    assert step["parents"][1]["local_derivative"] == "nan"
    assert step["equations"] == step_equations(tracer, tracer.steps[0])


@needs_dot
def test_svg_frames_mark_the_current_node_and_the_finished_ones() -> None:
    loss, _ = _expression()
    tracer = trace_backward(loss)
    frames = render_frames(tracer)
    assert len(frames) == len(tracer.steps)
    order = tracer.order
    for step, svg in zip(tracer.steps, frames):
        root = ET.fromstring(svg)
        nodes = {
            g.find("{*}title").text: g
            for g in root.iter("{http://www.w3.org/2000/svg}g")
            if g.get("class") == "node"
        }
        current = nodes[f"n{order.index(step.node)}"]
        assert current.find("{*}path").get("stroke") == "#d62728"  # red border on the node being processed
        dashed = {
            t
            for t, g in nodes.items()
            if t.startswith("n") and "_" not in t and g.find("{*}path").get("stroke-dasharray")
        }
        done = tracer.finished_after(step.index) | {id(step.node)}
        assert dashed == {f"n{k}" for k, n in enumerate(order) if id(n) not in done}
    assert "stroke-dasharray" not in frames[-1]  # nothing pending at the end


# ---- the command line ----


@needs_dot
def test_graph_command_writes_the_svg(tmp_path: Path, capsys) -> None:
    out = tmp_path / "graph.svg"
    assert cli_main(["graph", "tanh(x*w + b)", "--set", "x=2", "w=-3", "b=1", "-o", str(out)]) == 0
    svg = out.read_text()
    texts = [t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert "∂t1/∂x = w = -3" in texts and "∂t1/∂w = x = 2" in texts
    printed = capsys.readouterr().out
    x, w, b = Value(2.0), Value(-3.0), Value(1.0)
    ref = (x * w + b).tanh()
    ref.backward()
    assert f"dL/dx = {format_value(x.grad, 6)}, dL/dw = {format_value(w.grad, 6)}" in printed


@needs_dot
def test_trace_command_writes_json_html_and_frames(tmp_path: Path, capsys) -> None:
    args = ["trace", "(a*b + c)**2 / 2", "--set", "a=2", "b=-3", "c=10"]
    args += [
        "--json",
        str(tmp_path / "t.json"),
        "--html",
        str(tmp_path / "t.html"),
        "--frames",
        str(tmp_path / "f"),
    ]
    assert cli_main(args) == 0
    data = json.loads((tmp_path / "t.json").read_text())
    grads = {n["name"]: n["grad"] for n in data["nodes"]}
    assert grads["a"] == -12.0 and grads["b"] == 8.0 and grads["c"] == 4.0  # (ab+c) * (b, a, 1)
    assert data["expression"] == "(a*b + c)**2 / 2"
    html = (tmp_path / "t.html").read_text()
    # the forward pass (4 nodes), the seed, the backward pass (4 steps)
    assert html.count('<figure class="frame"') == len(data["forward"]) + 1 + len(data["steps"]) == 9
    frames = sorted(p.name for p in (tmp_path / "f").iterdir())
    assert frames == [f"forward{k}.svg" for k in range(1, 5)] + ["seed.svg"] + [
        f"step{k}.svg" for k in range(1, 5)
    ]
    product = next(s for s in data["steps"] if s["op"] == "*")
    assert product["equations"][0] == "dL/da += dL/dt1 · ∂t1/∂a = 4 · (b = -3) = -12   (dL/da so far: -12)"
    assert [e["equation"] for e in data["forward"]][:2] == [
        "t1 = a * b = 2 * (-3) = -6",
        "t2 = t1 + c = (-6) + 10 = 4",
    ]
    printed = capsys.readouterr().out
    assert re.search(r"^4\s+t1 = a \* b\s+4\s+a\s+b = -3\s+-12\s+-12$", printed, re.M)
    assert "  t1 = a * b = 2 * (-3) = -6" in printed and "from the seed dL/dL = 1" in printed


ERROR_CASES = [
    (["graph", "x*w", "--set", "x=1"], "unknown name w"),
    (["graph", "foo(x)", "--set", "x=1"], "unknown function 'foo'"),
    (["trace", "tanh(x", "--set", "x=1"], "cannot parse"),
    (["trace", "x / (y - 2)", "--set", "x=1", "y=2"], "division by zero"),
    (["trace", "log(x)", "--set", "x=0"], "log of a non-positive number"),
    (["trace", "x * w", "--set", "x=1", "w"], "expected NAME=NUMBER"),
    (["graph", "x * w"], "unknown names x, w"),
    (["graph", "x", "--set", "x=1", "-o", "g.jpg"], "unsupported format"),
]


@pytest.mark.parametrize(("argv", "message"), ERROR_CASES)
def test_bad_input_is_one_error_line_exit_2_and_no_file(
    argv: list[str], message: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    extra = ["--html", "t.html", "--json", "t.json"] if argv[0] == "trace" else []
    assert cli_main(argv + extra) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("backprop-lab: error: ") and message in err
    assert list(tmp_path.iterdir()) == []


def _console_script() -> Path:
    script = Path(sys.executable).parent / "backprop-lab"
    if not script.exists():
        pytest.skip("the backprop-lab console script is not installed (pip install -e .)")
    return script


@needs_dot
def test_console_script_graph_and_error(tmp_path: Path) -> None:
    script = _console_script()
    ok = subprocess.run(
        [str(script), "graph", "(a*b + c)**2 / 2", "--set", "a=2", "b=-3", "c=10", "-o", "g.svg"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "g.svg").read_text().lstrip().startswith("<?xml")
    bad = subprocess.run(
        [str(script), "trace", "log(x - 1)", "--set", "x=1", "--json", "t.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == ["backprop-lab: error: 'log(x - 1)': log of a non-positive number (0)"]
    assert not (tmp_path / "t.json").exists()


def test_graph_without_dot_writes_the_source_and_exits_2(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    out = tmp_path / "g.svg"
    assert cli_main(["graph", "x * 2", "--set", "x=1", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "apt-get install graphviz" in err and str(tmp_path / "g.dot") in err
    assert (tmp_path / "g.dot").exists() and not out.exists()


def test_a_trace_before_backward_says_there_are_no_gradients_and_steps_forward_only() -> None:
    from viz.stepper import render_html
    from viz.trace import NO_GRADIENTS, trace_frames

    loss, _ = _expression()
    tracer = BackwardTracer(loss)  # not passed to backward() yet
    frames = trace_frames(tracer)
    assert [f.phase for f in frames] == ["forward"] * 4
    assert render_table(tracer).rstrip().endswith(f"Backward pass of L: {NO_GRADIENTS}")
    assert trace_to_json(tracer)["seed"]["equation"] == NO_GRADIENTS
    assert NO_GRADIENTS in render_html(tracer, ["<svg></svg>"] * 4)
    loss.backward(observer=tracer)
    assert [f.phase for f in trace_frames(tracer)] == ["forward"] * 4 + ["seed"] + ["backward"] * 4


@needs_dot
def test_the_layout_direction_is_chosen_to_fit_the_screen() -> None:
    from viz.expr import build
    from viz.graph import choose_rankdir, draw_graph

    neuron = build("tanh(x1*w1 + x2*w2 + b)", ["x1=2", "w1=-3", "x2=0", "w2=1", "b=6.8813735870195432"])
    neuron.backward()
    assert choose_rankdir(lambda rd: draw_graph(neuron, rd), Path("unused.dot")) == "LR"
    chain = build("tanh(tanh(tanh(tanh(tanh(tanh(tanh(tanh(x * 2)))))))) * y", ["x=0.1", "y=2"])
    chain.backward()
    assert choose_rankdir(lambda rd: draw_graph(chain, rd), Path("unused.dot")) == "TB"


@needs_dot
def test_the_stepper_draws_formulas_on_edges_when_they_fit_and_values_when_not(tmp_path: Path) -> None:
    from projects.catalog import p07_simulator as p07
    from viz.expr import build
    from viz.graph import svg_size
    from viz.stepper import STEPPER_BOX, draw_stepper_frames

    def texts(svg: str) -> list[str]:
        return [t.text or "" for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]

    neuron = trace_backward(
        build("tanh(x1*w1 + x2*w2 + b)", ["x1=2", "w1=-3", "x2=0", "w2=1", "b=6.8813735870195432"])
    )
    frames, svgs = draw_stepper_frames(neuron, source_path=tmp_path / "n.dot")
    assert len(svgs) == len(frames) == 11
    assert "∂t1/∂x1 = w1 = -3" in texts(svgs[-1])  # the full style: each formula on its edge
    tracer = p07.compute(p07.Config())["tracer"]
    frames, svgs = draw_stepper_frames(tracer, source_path=tmp_path / "p07.dot")
    assert len(svgs) == len(frames) == 19
    for svg in svgs:  # the compact style fits the box at 1 px per point
        width, height = svg_size(svg)
        assert width <= STEPPER_BOX[0] and height <= STEPPER_BOX[1]
        assert not any("∂" in t for t in texts(svg))
    assert "0.2211" in texts(svgs[-1]) and "a2" in texts(svgs[-1])  # ∂a2/∂z2's value, on its edge
    for svg, frame in zip(svgs, frames):  # every value and operation drawn
        assert svg.count('class="node"') == 27, frame.headline
