"""The README's Python examples run as printed, and print what their comments say; so do the shell lines
and the Python blocks of its section "After `make run`"."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def section(title: str) -> str:
    """The README's text from the heading ``## title`` to the next ``## `` heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def python_blocks(title: str = "Ten lines") -> list[str]:
    return re.findall(r"```python\n(.*?)```", section(title), flags=re.S)


def run(code: str, cwd: Path | None = None) -> list[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=cwd, env=env
    )
    return done.stdout.split()


def test_readme_has_the_examples() -> None:
    assert len(python_blocks()) >= 2


def test_micrograd_example_prints_the_numbers_in_its_comments() -> None:
    block = python_blocks()[0]
    promised = re.findall(r"# prints (-?[\d.]+)", block)
    assert promised == ["24.7041", "138.8338", "645.5773"]
    assert run(block) == promised


def test_both_engines_example_prints_the_same_number_twice() -> None:
    scalar_output, tensor_output = map(float, run(python_blocks()[1]))
    assert abs(scalar_output - tensor_output) < 1e-12


# ---- "After `make run`" -----------------------------------------------------------------------------------

AFTER = "After `make run`"


def test_after_make_run_comes_right_after_the_set_up() -> None:
    headings = re.findall(r"^## (.*)$", README.read_text(encoding="utf-8"), flags=re.M)
    assert headings.index(AFTER) == headings.index("Set-up: two commands") + 1
    text = section(AFTER)
    for name in (
        "source .venv/bin/activate",
        ".venv/bin/backprop-lab",
        "make notebooks",
        "draw_graph",
        "save_graph",
        "trace_backward",
        "BackwardTracer",
        "label=",
        "parameter_groups",
    ):
        assert name in text, name
    for notebook in re.findall(r"`(\d\d_\w+\.ipynb)`", text):
        assert (REPO / "notebooks" / notebook).is_file(), notebook


def test_after_make_run_python_blocks_run_and_print_what_they_promise(tmp_path: Path) -> None:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    blocks = python_blocks(AFTER)
    assert len(blocks) == 3
    for block in blocks:
        promised = re.findall(r"# prints (\S+)", block)
        printed = run(block, tmp_path)
        assert printed[len(printed) - len(promised) :] == promised
    assert sum(len(re.findall(r"# prints ", block)) for block in blocks) == 2
    written = ["runs/01-perceptron/boundary_moves.png", "trace.html", "graph.svg", "mlp.svg"]
    assert all((tmp_path / name).stat().st_size > 1000 for name in written)
    graph = (tmp_path / "mlp.svg").read_text(encoding="utf-8")
    assert "Summary:" in graph and "net.2.weight" in graph  # one box per weight matrix


def test_after_make_run_shell_lines_work_from_the_venv(tmp_path: Path) -> None:
    bash = re.findall(r"```bash\n(.*?)```", section(AFTER), flags=re.S)[0]
    assert "source .venv/bin/activate" in bash
    program = Path(sys.executable).parent / "backprop-lab"  # the venv this test runs in
    if not program.exists():
        pytest.skip("backprop-lab is not installed in this Python's environment (pip install -e .)")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    listed = subprocess.run([str(program), "list"], capture_output=True, text=True, check=True, env=env)
    assert "07  simulator" in listed.stdout
    code = re.search(r'python -c "(.*?)"', bash).group(1)
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tmp_path)
