"""Gradient graphs: nodes and edges, colours, summaries of large graphs, saving, and a missing `dot`."""

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
from autograd.errors import UsageError
from autograd.nn import MLP
from viz.graph import (
    NO_GRAD_FILL,
    NO_GRADIENTS_NOTE,
    VIRIDIS,
    ColorScale,
    draw_graph,
    parameter_groups,
    save_graph,
    text_color,
)
from viz.naming import format_number, gradient_summary, graph_order, node_names

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def _neuron() -> tuple[Value, Value, Value, Value]:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.8813735870195432, label="b")
    out = (x * w + b).tanh()
    out.backward()
    return out, x, w, b


def _node_statements(source: str) -> dict[str, str]:
    """DOT node id -> its attribute text (node statements only, not edges)."""
    found = {m.group(1): m.group(2) for m in re.finditer(r"^\s*(\w+) \[(.*)\]$", source, re.M)}
    return {k: v for k, v in found.items() if k not in ("graph", "node", "edge")}


def _fill(attrs: str) -> str:
    return re.search(r'fillcolor="(#[0-9a-f]{6})"', attrs).group(1)


def _luminance(color: str) -> float:
    r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_value_nodes_show_label_data_and_grad() -> None:
    out, x, w, b = _neuron()
    source = draw_graph(out).source
    for v in (x, w, b):
        assert (
            f"<b>{v.label}</b></td></tr><tr><td>data {format_number(v.data)}</td></tr>"
            f"<tr><td>grad {format_number(v.grad)}<" in source
        )
    assert f"data {format_number(out.data)}</td></tr><tr><td>grad 1<" in source


def test_each_edge_into_an_op_carries_the_local_derivative() -> None:
    out, x, w, b = _neuron()
    names = node_names(graph_order(out))
    source = draw_graph(out, names=names).source
    product = out._parents[0]._parents[0]  # x * w
    p = names[id(product)]
    # ∂(x*w)/∂x = w and ∂(x*w)/∂w = x: the formula in the graph's names, then its value at this point
    assert f"∂{p}/∂x = w = {format_number(w.data)}" in source
    assert f"∂{p}/∂w = x = {format_number(x.data)}" in source
    # ∂tanh(s)/∂s = 1 - tanh(s)**2, in names, in numbers, as a value (wrapped onto lines)
    s = names[id(out._parents[0])]
    t = format_number(out.data)
    unwrapped = source.replace("<br/>", " ")
    assert f"∂L/∂{s} = 1 - L**2 = 1 - {t}**2 = {format_number(1 - out.data**2, 6)}" in unwrapped


def test_a_repeated_input_gets_one_edge_per_use() -> None:
    x = Value(3.0, label="x")
    y = x * x
    y.backward()
    source = draw_graph(y).source
    assert source.count(f"∂L/∂x = x = {format_number(x.data)}") == 2


def test_op_nodes_are_distinct_from_value_nodes() -> None:
    out, *_ = _neuron()
    nodes = _node_statements(draw_graph(out, legend=False).source)
    ops = [k for k in nodes if k.endswith("_op")]
    values = [k for k in nodes if not k.endswith("_op")]
    assert len(ops) == sum(1 for n in topological_sort(out) if n._parents)
    assert all("shape=ellipse" in nodes[k] for k in ops)
    assert all("shape=box" in nodes[k] for k in values)


def test_the_compact_style_shows_values_on_edges_and_puts_each_op_beside_its_result() -> None:
    out, x, w, b = _neuron()
    source = draw_graph(out, compact=True, legend=False).source
    # a box: its name and data on one line, its gradient below
    assert f"<b>x</b>&#160;= {format_number(x.data)}</td></tr><tr><td>grad {format_number(x.grad)}<" in source
    # an edge: the local derivative's value only (∂(x*w)/∂x = w = -3, ∂tanh(s)/∂s = 1 - L**2 = 0.5)
    assert "∂" not in source
    labels = re.findall(r"-> \w+ \[label=<([^>]*)>", source)
    assert labels == [format_number(w.data), format_number(x.data), "1", "1", format_number(1 - out.data**2)]
    # one rank for each operation and its result, so the drawing is as deep as the values alone
    same = re.findall(r"\{\s*rank=same\s+(\w+)\s+(\w+)\s*\}", source)
    assert same == [(f"{v}_op", v) for v in ("n2", "n4", "n5")]
    assert len(_node_statements(source)) == 9  # every node still drawn: 6 values, 3 operations


def test_colour_grows_along_the_palette_with_grad_magnitude_and_zero_is_grey() -> None:
    a, b, c, d = (Value(1.0, label=n) for n in "abcd")
    loss = a * 1000.0 + b * 1.0 + c * 0.001 + d * 0.0
    loss.backward()
    nodes = _node_statements(draw_graph(loss, legend=False).source)
    order = graph_order(loss)  # the drawing's order: node n{k} is order[k]
    fills = {n.label: _fill(nodes[f"n{k}"]) for k, n in enumerate(order) if n.label}
    assert _luminance(fills["a"]) > _luminance(fills["b"]) > _luminance(fills["c"])  # viridis: dark -> bright
    assert fills["a"] == VIRIDIS[-1] and fills["c"] == VIRIDIS[0]
    assert fills["d"] == NO_GRAD_FILL


def test_colour_scale_and_legend() -> None:
    scale = ColorScale.from_magnitudes([1e-4, 1e-2, 1.0, None, 0.0])
    assert (scale.low, scale.high) == pytest.approx((-4, 0))
    ticks = scale.ticks(5)
    assert [m for m, _ in ticks] == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1])
    assert [c for _, c in ticks] == [VIRIDIS[0], VIRIDIS[2], VIRIDIS[4], VIRIDIS[6], VIRIDIS[8]]
    assert text_color(VIRIDIS[0]) == "#ffffff" and text_color(VIRIDIS[-1]) == "#000000"
    out, *_ = _neuron()
    source = draw_graph(out).source
    assert "log scale" in source and "local derivative" in source


def test_a_graph_before_backward_says_there_are_no_gradients_and_has_no_colour_legend() -> None:
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    out = (x * w).tanh()
    source = draw_graph(out).source
    assert NO_GRADIENTS_NOTE in source
    assert "log scale" not in source and "grad" not in source.replace(NO_GRADIENTS_NOTE, "")
    assert f'fillcolor="{NO_GRAD_FILL}"' not in source  # not a grey "zero gradient" box in sight
    out.backward()
    after = draw_graph(out).source
    assert NO_GRADIENTS_NOTE not in after and "log scale" in after
    t = Tensor(np.ones((2, 2)), requires_grad=True)
    assert NO_GRADIENTS_NOTE in draw_graph((t * 2).sum()).source


def test_tensor_nodes_show_shape_dtype_and_gradient_summary() -> None:
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(3, 2)), label="x")
    W = Tensor(rng.normal(size=(2, 4)), requires_grad=True, label="W")
    loss = (x @ W).tanh().sum()
    loss.backward()
    source = draw_graph(loss).source
    assert "<b>W</b></td></tr><tr><td>2x4 float32</td>" in source
    assert gradient_summary(W.grad) in source
    assert "<b>x</b></td></tr><tr><td>3x2 float32</td></tr><tr><td>no grad" in source
    assert "label=<@>" in source and "label=<tanh>" in source and "label=<sum>" in source
    assert "∂" not in source  # no local derivatives on tensor edges: a tensor op has a VJP instead


def _mlp_loss() -> tuple[MLP, Value]:
    model = MLP([4, 16, 16, 1], activation="tanh", engine="scalar", seed=0)
    out = model([0.1, -0.2, 0.3, 0.5])[0]
    loss = (out - 1.0) ** 2
    loss.backward()
    return model, loss


def test_large_graphs_are_summarized_and_say_what_was_left_out() -> None:
    model, loss = _mlp_loss()
    order = topological_sort(loss)
    n_edges = sum(len(n._parents) for n in order)
    assert len(order) > 150
    source = draw_graph(loss, max_nodes=150, groups=parameter_groups(model)).source
    nodes = _node_statements(source)
    assert len(nodes) <= 150 + 2  # the groups, the note and the legend
    assert f"Summary: {len(order)} nodes and {n_edges} edges" in source
    assert "Left out" in source
    for name, _ in model.named_parameters():
        assert f"<b>{name}" in source  # one box per weight matrix
    assert "tanh  x16" in source  # each hidden activation layer is one box


def test_max_nodes_none_draws_every_node() -> None:
    _, loss = _mlp_loss()
    order = topological_sort(loss)
    nodes = _node_statements(draw_graph(loss, max_nodes=None, legend=False).source)
    assert len(nodes) == len(order) + sum(1 for n in order if n._parents)


def test_a_very_deep_graph_is_summarized_within_the_limit() -> None:
    v = Value(0.5, label="x")
    for _ in range(3000):
        v = (v * 0.999).tanh()
    v.backward()
    source = draw_graph(v, max_nodes=60).source
    assert len(_node_statements(source)) <= 60 + 2
    assert "Summary: 6001 nodes" in source


@needs_dot
def test_save_graph_writes_svg_png_pdf_and_dot(tmp_path: Path) -> None:
    out, *_ = _neuron()
    graph = draw_graph(out)
    svg = save_graph(graph, tmp_path / "g.svg")
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert "data 0.7071" in svg.read_text()
    assert save_graph(graph, tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    assert save_graph(graph, tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")
    assert save_graph(graph, tmp_path / "g.dot").read_text() == graph.source
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.dot", "g.pdf", "g.png", "g.svg"]  # no temp files


@needs_dot
def test_the_digraph_displays_inline_in_jupyter() -> None:
    out, *_ = _neuron()
    bundle = draw_graph(out)._repr_mimebundle_(include=["image/svg+xml"])
    assert "<svg" in bundle["image/svg+xml"]


def test_unsupported_format_is_a_usage_error(tmp_path: Path) -> None:
    out, *_ = _neuron()
    with pytest.raises(UsageError, match="unsupported format '.jpg'"):
        save_graph(draw_graph(out), tmp_path / "g.jpg")
    assert not any(tmp_path.iterdir())


def test_missing_dot_says_how_to_install_and_where_the_source_went(tmp_path: Path, monkeypatch) -> None:
    out, *_ = _neuron()
    graph = draw_graph(out)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(UsageError) as info:
        save_graph(graph, tmp_path / "out" / "g.svg")
    message = str(info.value)
    dot_file = tmp_path / "out" / "g.dot"
    assert "`dot` was not found" in message and "apt-get install graphviz" in message and "brew" in message
    assert str(dot_file) in message
    assert dot_file.read_text() == graph.source
    assert not (tmp_path / "out" / "g.svg").exists()


def test_import_viz_loads_neither_matplotlib_nor_graphviz() -> None:
    code = (
        "import json, sys, viz; before = [m for m in ('matplotlib', 'graphviz') if m in sys.modules]; "
        "viz.draw_graph; print(json.dumps([before, 'graphviz' in sys.modules, 'matplotlib' in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # nothing heavy on import; draw_graph pulls in graphviz on first use, never matplotlib
    assert json.loads(out) == [[], True, False]
