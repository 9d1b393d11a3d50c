"""The notebooks, and the notebook display of ``viz.notebook``.

Every notebook in ``notebooks/`` runs top to bottom in a fresh kernel (nbclient, kernel ``python3`` from
the venv's ipykernel), in a temporary working folder, with ``BACKPROP_LAB_QUICK=1`` (each project in its
quick settings) and this checkout first on the kernel's path. Any error fails the test; the executed
outputs must hold a figure (image/png or image/svg+xml), and ``00_start_here``'s the stepper's page.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from autograd import Tensor, Value
from projects.lab.registry import PROJECTS
from viz import notebook
from viz.expr import build
from viz.stepper import stepper_data
from viz.trace import trace_backward

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
FIGURE_TYPES = ("image/png", "image/svg+xml")
SRCDOC = re.compile(r'srcdoc="([^"]*)"')

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


# ---- the notebooks, as stored ----------------------------------------------------------------------------


def test_every_project_has_a_notebook() -> None:
    names = {path.name for path in NOTEBOOKS}
    assert "00_start_here.ipynb" in names
    missing = [f"{p.number}_{p.name}.ipynb" for p in PROJECTS if f"{p.number}_{p.name}.ipynb" not in names]
    assert missing == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code, "a notebook without code"
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    text = "".join("".join(c["source"]) for c in code)
    assert "BACKPROP_LAB_QUICK" in text  # the switch the tests use for the small settings


# ---- the notebooks, executed -----------------------------------------------------------------------------


def execute(path: Path, work: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Run the notebook in a fresh kernel in ``work``; return every output of every code cell."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel", reason="the notebooks need a Jupyter kernel (pip install ipykernel)")
    monkeypatch.setenv("BACKPROP_LAB_QUICK", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    notebook_file = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook_file, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(work)}}
    )
    client.execute()  # raises CellExecutionError on the first error
    return [output for cell in notebook_file.cells if cell.cell_type == "code" for output in cell.outputs]


@needs_dot
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_shows_figures(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = execute(path, tmp_path, monkeypatch)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    figures = [kind for o in outputs for kind in o.get("data", {}) if kind in FIGURE_TYPES]
    assert figures, f"{path.name} shows no figure"
    assert (tmp_path / "runs").is_dir()  # it wrote into the folder it was opened from
    if path.name != "00_start_here.ipynb":
        return
    pages = [
        html.unescape(m) for o in outputs for m in SRCDOC.findall(o.get("data", {}).get("text/html", ""))
    ]
    steppers = [p for p in pages if 'class="bp-stepper"' in p and 'class="frame"' in p]
    assert len(steppers) >= 2  # the tracer shows itself as its stepper, twice in this notebook
    assert all(stepper_data(p)["frames"] for p in steppers)
    rich = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("data:image/svg+xml;base64," in h and "Value(data=" in h for h in rich)  # a Value's graph


# ---- viz.notebook, without a kernel ----------------------------------------------------------------------


@needs_dot
def test_a_value_shows_its_graph_a_leaf_and_a_big_graph_do_not() -> None:
    x = Value(2.0, label="x")
    y = (x * 3).tanh()
    shown = notebook.node_html(y)
    assert shown is not None and html.escape(repr(y)) in shown and "data:image/svg+xml;base64," in shown
    assert notebook.node_html(x) is None  # a leaf: its text says it all
    big = x
    for _ in range(notebook.MAX_INLINE_NODES):
        big = big + 1
    assert notebook.small_graph_size(big) is None and notebook.node_html(big) is None
    assert notebook.node_html(Tensor([1.0, 2.0], requires_grad=True).sum()) is not None


def test_enable_registers_both_node_types_with_ipython_and_disable_removes_them() -> None:
    formatters = pytest.importorskip("IPython.core.formatters")
    html_formatter = formatters.HTMLFormatter()
    shell = SimpleNamespace(display_formatter=SimpleNamespace(formatters={"text/html": html_formatter}))
    assert notebook.enable(shell)
    value = Value(1.0) * 2
    assert html_formatter(value) == notebook.node_html(value)
    assert notebook.disable(shell)
    assert html_formatter(value) is None


def test_outside_an_ipython_shell_enable_does_nothing() -> None:
    assert notebook.enable() is False and notebook.disable() is False


@needs_dot
def test_two_steppers_on_one_page_keep_their_ids_apart() -> None:
    first = trace_backward(build("tanh(x*w + b)", ["x=2", "w=-3", "b=6.5"]))._repr_html_()
    second = trace_backward(build("(a*b + c)**2 / 2", ["a=1", "b=2", "c=0.5"]))._repr_html_()
    page = first + second
    outside = SRCDOC.sub('srcdoc=""', page)
    assert outside.count("<iframe") == 2 and " id=" not in outside and "<script" not in outside
    inner = [html.unescape(m) for m in SRCDOC.findall(page)]
    frames = [stepper_data(p)["frames"] for p in inner]  # each iframe holds one whole stepper page
    assert any("tanh" in f["headline"] for f in frames[0])
    assert not any("tanh" in f["headline"] for f in frames[1])
    assert [p.count("<figure") for p in inner] == [len(f) for f in frames]


def test_fitted_height_scales_wide_graphs_down() -> None:
    assert notebook.fitted_height('<svg width="300pt" height="150pt">', 900) == 200
    assert notebook.fitted_height('<svg width="1350pt" height="300pt">', 900) == 200  # 1800 px wide: halved
    assert notebook.fitted_height("<svg>", 900) == 150
    assert notebook.stepper_height(['<svg width="300pt" height="150pt">']) == 520  # at least
    assert notebook.stepper_height(['<svg width="300pt" height="3000pt">']) == 900  # at most


def test_scalar_metrics_spell_out_dicts_and_skip_what_is_missing() -> None:
    metrics = {"a": 0.5, "b": {"x": 1, "y": [1, 2]}, "c": [1, 2, 3], "d": "text"}
    assert notebook.scalar_metrics(metrics) == {"a": 0.5, "b.x": 1, "d": "text"}
    assert notebook.scalar_metrics(metrics, "d a missing") == {"d": "text", "a": 0.5}


def test_figure_files_in_order_and_images_only(tmp_path: Path) -> None:
    for name in ("b.png", "a.svg", "notes.txt", "c.gif"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in notebook.figure_files(tmp_path)] == ["a.svg", "b.png", "c.gif"]
    assert [p.name for p in notebook.figure_files(tmp_path, ["c.gif", "notes.txt", "a.svg"])] == [
        "c.gif",
        "a.svg",
    ]
