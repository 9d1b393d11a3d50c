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
