"""Shared test helpers: a seeded generator, a project's quick run shared by its tests, figure checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, fresh for each test."""
    return np.random.default_rng(12345)


MEMORY_LIMIT = 1 << 30
"""The most memory (address space, bytes) a hostile input may make the program take: 1 GiB."""


def run_under_memory_limit(code: str, limit: int = MEMORY_LIMIT, cwd=None):
    """Run ``code`` with ``python -c`` under RLIMIT_AS = ``limit`` (the worktree importable, one BLAS
    thread) and return the CompletedProcess (text). Without the fixes under test, the fixtures these tests
    feed would need far more than the limit, and the child would die with a MemoryError."""
    import os
    import resource
    import subprocess
    import sys
    from pathlib import Path

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        preexec_fn=limit_memory,
        timeout=120,
    )


@pytest.fixture
def memory_limited():
    """``memory_limited(code)``: see :func:`run_under_memory_limit`."""
    return run_under_memory_limit


def quick_run_fixture(module: Any, **settings: Any) -> Any:
    """A module-scoped fixture ``quick_run`` -> (metrics, folder): ``module.run`` once in quick mode,
    shared by the tests of one project's file. Use: ``quick_run = quick_run_fixture(p02)``."""

    @pytest.fixture(scope="module")
    def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
        out = tmp_path_factory.mktemp(module.__name__.rsplit(".", 1)[-1])
        return module.run(module.Config(quick=True, **settings), out), out

    return quick_run


def assert_figures_written(
    folder: Path, names: Iterable[str], min_bytes: int = 1000, png: bool = False
) -> None:
    """Each named figure exists in ``folder``, is more than ``min_bytes`` long and (``png``) is a PNG file."""
    for name in names:
        path = folder / name
        assert path.exists() and path.stat().st_size > min_bytes, name
        if png:
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
