"""First checks of the engine core; the full suites live beside this file."""

import subprocess
import sys

from autograd import Value


def test_micrograd_readme_example() -> None:
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert abs(g.data - 24.7041) < 1e-4
    assert abs(a.grad - 138.8338) < 1e-4
    assert abs(b.grad - 645.5773) < 1e-4


def test_import_autograd_pulls_numpy_only() -> None:
    code = "import sys, autograd; print(' '.join(sorted(m for m in ('matplotlib', 'graphviz', 'tqdm', 'torch') if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
