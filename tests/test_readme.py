"""The README's Python examples run as printed, and print what their comments say."""

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def run(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
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
