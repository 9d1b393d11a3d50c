"""The README's first picture, viz/examples/neuron.svg (micrograd's lecture neuron), and its stepper and
trace are what `make pictures` makes from the current code, and show the gradients learners know."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from projects.lab.cli import main as cli_main
from viz.stepper import stepper_data

DOCS = Path(__file__).resolve().parents[1] / "viz" / "examples"
NEURON = ["tanh(x1*w1 + x2*w2 + b)", "--set", "x1=2", "w1=-3", "x2=0", "w2=1", "b=6.8813735870195432"]

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def _texts(svg: Path) -> list[str]:
    return sorted(t.text or "" for t in ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}text"))


@needs_dot
def test_the_readme_neuron_is_current_and_shows_the_lectures_gradients(tmp_path: Path, capsys) -> None:
    assert cli_main(["graph", *NEURON, "-o", str(tmp_path / "neuron.svg")]) == 0
    assert "dL/dx1 = -1.5, dL/dw1 = 1, dL/dx2 = 0.5, dL/dw2 = 0, dL/db = 0.5" in capsys.readouterr().out
    texts = _texts(DOCS / "neuron.svg")
    assert texts == _texts(tmp_path / "neuron.svg")  # regenerate with `make pictures`
    assert "∂L/∂t4 = 1 - L**2" in texts and "∂t1/∂x1 = w1 = -3" in texts
    assert "grad -1.5" in texts and "L = tanh(x1*w1 + x2*w2 + b)" in texts


@needs_dot
def test_the_neuron_stepper_and_trace_are_current(tmp_path: Path) -> None:
    args = [
        "trace",
        *NEURON,
        "--html",
        str(tmp_path / "neuron.html"),
        "--json",
        str(tmp_path / "neuron.json"),
    ]
    assert cli_main(args) == 0
    assert json.loads((DOCS / "neuron.json").read_text()) == json.loads(
        (tmp_path / "neuron.json").read_text()
    )
    shipped = stepper_data((DOCS / "neuron.html").read_text(encoding="utf-8"))
    assert shipped == stepper_data((tmp_path / "neuron.html").read_text(encoding="utf-8"))
    grads = {n["name"]: n["grad"] for n in json.loads((DOCS / "neuron.json").read_text())["nodes"]}
    assert grads["x1"] == pytest.approx(-1.5) and grads["w1"] == pytest.approx(1.0)
    assert grads["x2"] == pytest.approx(0.5) and grads["w2"] == pytest.approx(0.0)
