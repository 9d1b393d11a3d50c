"""`import autograd` loads NumPy and nothing heavier (no matplotlib, graphviz, torch or onnx)."""

import subprocess
import sys

HEAVY = ("matplotlib", "graphviz", "tqdm", "torch", "scipy", "onnx", "onnxruntime", "viz", "projects")


def test_import_autograd_pulls_numpy_only() -> None:
    code = f"import sys, autograd; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_import_autograd_submodules_pulls_numpy_only() -> None:
    code = (
        "import sys, autograd.nn, autograd.optim, autograd.gradcheck, autograd.files, autograd.errors; "
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
