"""The layers import one way: autograd (NumPy only) <- viz <- projects.

Every module of the three packages is read with ``ast`` (nothing is imported or run), and each import, at the
top of a file or inside a function, is checked against what its layer may use.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

LAYERS = {"autograd": 0, "viz": 1, "projects": 2}
"""Our own packages, lowest first: a module may import its own layer and the ones below it."""

THIRD_PARTY = {
    "autograd": {"numpy"},
    "viz": {"numpy", "graphviz", "matplotlib", "PIL"},
    "projects": {"numpy", "graphviz", "matplotlib", "PIL", "tqdm"},
}
"""Outside packages each layer may import (the standard library is always allowed)."""

OPTIONAL_EXTRAS = {"torch", "onnx", "onnxruntime", "IPython"}
"""Imported only inside functions (never when the module loads), and only by the modules that need them:
the exporters, and viz.notebook's display in Jupyter (IPython)."""


def modules() -> list[Path]:
    return sorted(p for layer in LAYERS for p in (REPO / layer).rglob("*.py"))


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(top-level package, line, at module level) for every absolute import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(name.split(".")[0], node.lineno, id(node) in top_level) for name in names]
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_imports_flow_one_way(path: Path) -> None:
    layer = path.relative_to(REPO).parts[0]
    wrong = []
    for package, line, at_load in imports(path):
        if package in LAYERS:
            if LAYERS[package] > LAYERS[layer]:
                wrong.append(f"line {line}: {layer} imports {package}, a layer above it")
        elif package in OPTIONAL_EXTRAS:
            if at_load:
                wrong.append(f"line {line}: {package} (an optional extra) imported when the module loads")
        elif package not in sys.stdlib_module_names and package not in THIRD_PARTY[layer]:
            wrong.append(f"line {line}: {layer} may not depend on {package}")
    assert not wrong, f"{path.relative_to(REPO)}:\n" + "\n".join(wrong)


def test_the_walk_sees_every_layer() -> None:
    """The check above would pass vacuously if it found no files: make sure it reads all three layers."""
    seen = {p.relative_to(REPO).parts[0] for p in modules()}
    assert seen == set(LAYERS)
    assert imports(REPO / "viz" / "graph.py"), "viz/graph.py has imports to check"


def test_an_import_against_the_direction_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy\n\ndef f():\n    from projects.lab import runner\n")
    assert ("projects", 4, False) in imports(bad)
