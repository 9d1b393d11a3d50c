"""Shared test settings: kept minimal on purpose (other suites rely on pytest's defaults)."""

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, fresh for each test."""
    return np.random.default_rng(12345)
