"""Project 07: the published 2-2-1 example, three ways that agree, and the files the run writes."""

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

from autograd.errors import UsageError
from projects.catalog import p07_simulator as p07

# The example's published output, pinned here independently of the module's own copy.
A2 = 0.67013076
LOSS = 0.05440686
DW2 = [[-0.07084855], [-0.05353001]]
DB2 = [[-0.07291942]]
DW1 = [[-0.00095582, 0.00107719], [-0.00152931, 0.0017235]]
DB1 = [[-0.00191164, 0.00215438]]


@pytest.fixture(scope="module")
def result() -> dict:
    return p07.compute(p07.Config(quick=True))


def test_reproduces_the_published_numbers(result: dict) -> None:
    assert result["a2"] == pytest.approx(A2, abs=1e-8)
    assert result["loss"] == pytest.approx(LOSS, abs=1e-8)
    for method, grads in result["grads"].items():
        for name, published in (("W2", DW2), ("b2", DB2), ("W1", DW1), ("b1", DB1)):
            np.testing.assert_allclose(grads[name], published, rtol=0, atol=1e-8, err_msg=f"{method} {name}")


def test_the_three_methods_agree_to_1e_12(result: dict) -> None:
    assert set(result["grads"]) == {"matrix chain rule", "scalar Value", "Tensor"}
    assert result["max_disagreement"] <= 1e-12
    # and they are real, separate computations: the scalar engine's graph is the one traced
    assert len(result["tracer"].steps) == 9
    assert result["scalar"].loss.data == pytest.approx(LOSS, abs=1e-8)


@pytest.mark.parametrize(("seed", "x1", "x2", "y"), [(1, -1.0, 2.0, 0.0), (7, 0.3, -0.4, 0.25)])
def test_agreement_and_finite_differences_on_other_weights(seed: int, x1: float, x2: float, y: float) -> None:
    config = p07.Config(seed=seed, x1=x1, x2=x2, y=y)
    res = p07.compute(config)
    assert res["max_disagreement"] <= 1e-12
    x = np.array([[x1, x2]])
    weights = p07.seed_weights(seed)
    h = 1e-6
    for name in p07.PARAMETERS:
        for idx in np.ndindex(*weights[name].shape):
            up = {k: v.copy() for k, v in weights.items()}
            down = {k: v.copy() for k, v in weights.items()}
            up[name][idx] += h
            down[name][idx] -= h
            numeric = (
                p07.matrix_chain_rule(x, y, up).forward["loss"].item()
                - p07.matrix_chain_rule(x, y, down).forward["loss"].item()
            ) / (2 * h)
            assert res["grads"]["Tensor"][name][idx] == pytest.approx(numeric, abs=1e-9)


def test_weights_are_the_legacy_global_generator_stream() -> None:
    saved = np.random.get_state()
    try:
        np.random.seed(0)
        expected = [
            np.random.randn(2, 2),
            np.random.randn(1, 2),
            np.random.randn(2, 1),
            np.random.randn(1, 1),
        ]
    finally:
        np.random.set_state(saved)
    weights = p07.seed_weights(0)
    for name, array in zip(p07.PARAMETERS, expected):
        np.testing.assert_array_equal(weights[name], array)


def test_equations_are_printed_with_their_numbers(result: dict) -> None:
    text = p07.report_text(result)
    assert "dL/dW2 = a1ᵀ d2 = " in text and "[[-0.07084855], [-0.05353001]]" in text
    assert "dL/dW1 = xᵀ d1 = " in text and "[[-0.00095582, 0.00107719], [-0.00152931, 0.00172350]]" in text
    assert "a2        sigmoid(z2)     [[0.67013076]]" in text
    assert text.count("dL/d") >= 9 + 8


def test_bad_config_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--x1 must be a finite number"):
        p07.compute(p07.Config(x1=float("nan")))
    with pytest.raises(UsageError, match="--seed"):
        p07.compute(p07.Config(seed=-1))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_run_writes_the_graph_stepper_trace_and_tables(tmp_path: Path, capsys) -> None:
    metrics = p07.run(p07.Config(quick=True), tmp_path)
    json.dumps(metrics, allow_nan=False)
    assert metrics["matches_published"] and metrics["agree_within_1e-12"] and metrics["graph_rendered"]
    assert metrics["published_max_error"] <= 1e-8
    np.testing.assert_allclose(metrics["dL_dW2"], DW2, rtol=0, atol=1e-8)
    printed = capsys.readouterr().out
    assert "Forward pass" in printed and "Backward pass" in printed
    svg = ET.parse(tmp_path / "graph.svg").getroot()
    texts = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert "W2[0,0]" in texts and "a2" in texts and "L" in texts
    assert svg.get("width").endswith("pt") and float(svg.get("width")[:-2]) <= 1220  # no sideways scrolling
    assert "∂a2/∂z2" in texts and "= a2 * (1 - a2)" in texts  # a local derivative's formula, wrapped
    html = (tmp_path / "backprop.html").read_text()
    # the forward pass (9 computed nodes), the seed, the backward pass (9 steps)
    assert html.count('<figure class="frame"') == 9 + 1 + 9
    trace = json.loads((tmp_path / "trace.json").read_text())
    grads = {n["name"]: n["grad"] for n in trace["nodes"]}
    assert grads["W1[1,1]"] == pytest.approx(DW1[1][1], abs=1e-8)
    assert [e["name"] for e in trace["forward"]][-3:] == ["e", "e^2", "L"] and trace["seed"]["value"] == 1
    w2 = next(s for s in trace["steps"] if s["node"] == "z2")["parents"][0]
    assert w2["name"] == "W2[0,0]" and w2["formula"] == "a1[0]"
    tables = (tmp_path / "tables.txt").read_text()
    assert "Node-by-node trace" in tables and re.search(r"W2\[0,0\]\s+a1\[0\] = 0\.971601\s", tables)
    assert "  z2 = W2[0,0] * a1[0] + W2[1,0] * a1[1] + b2[0,0] = " in tables
    assert (tmp_path / "gradients.png").read_bytes().startswith(b"\x89PNG")


def test_run_without_dot_still_writes_tables_and_trace(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    metrics = p07.run(p07.Config(quick=True), tmp_path / "out")
    assert metrics["graph_rendered"] is False
    assert "apt-get install graphviz" in capsys.readouterr().err
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"tables.txt", "trace.json", "gradients.png", "graph.dot"} <= written
    assert "graph.svg" not in written and "backprop.html" not in written


def test_module_entry_point(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "projects.catalog.p07_simulator", "--out", str(tmp_path), "--seed", "0"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr
    assert "Forward pass" in done.stdout
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["a2"] == pytest.approx(A2, abs=1e-8)
