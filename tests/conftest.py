"""Shared test helpers: a seeded generator, a project's quick run shared by its tests, figure checks, the
Chromium that the browser tests launch, the Tensor-op gradchecks and hypothesis strategies, and the
optimizer replay against PyTorch."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Tensor, Value
from autograd.gradcheck import gradcheck

CHROMIUM = "/usr/bin/chromium"  # Debian's, for the tests marked ``browser`` (Playwright drives it)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


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


# ---- Tensor ops against finite differences ---------------------------------------------------------------


def t64(a) -> Tensor:
    """A float64 Tensor that requires a gradient."""
    return Tensor(np.array(a, dtype=np.float64), requires_grad=True, dtype=np.float64)


def check(fn: Callable[..., Tensor], *arrays: np.ndarray) -> None:
    """gradcheck of sum(fn(*xs) * R) with a fixed random R, so that every output entry has its own weight."""
    inputs = [t64(a) for a in arrays]
    out_shape = fn(*inputs).shape
    weights = np.random.default_rng(0).normal(size=out_shape)
    report = gradcheck(lambda *xs: (fn(*xs) * weights).sum(), inputs)
    assert report.ok, str(report)


shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def float_arrays(shape, low=-3.0, high=3.0):
    """float64 arrays of ``shape`` (a tuple or a strategy of shapes), entries in [low, high]."""
    return hnp.arrays(np.float64, shape, elements=st.floats(low, high))


@st.composite
def broadcast_shapes(draw, shapes) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes that broadcast against each other: one drawn from ``shapes``, the other that shape with
    some sides set to 1 and some leading axes dropped (either may come first)."""
    shape = draw(shapes)
    keep = draw(st.lists(st.booleans(), min_size=len(shape), max_size=len(shape)))
    small = tuple(n if k else 1 for n, k in zip(shape, keep))[draw(st.integers(0, len(shape))) :]
    return (shape, small) if draw(st.booleans()) else (small, shape)


def reduction_axes(ndim: int):
    """A reduction's ``axis`` for an ``ndim``-array: None, one axis (negative ones too) or distinct axes."""
    return st.one_of(
        st.none(),
        st.integers(-ndim, ndim - 1),
        st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple),
    )


# ---- optimizers against PyTorch --------------------------------------------------------------------------


def replay_optimizer_steps(
    ours: Callable[[list[Any]], Any], theirs: Callable[[list[Any]], Any], engine: str, steps: int = 20
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same random gradients, ``steps`` times, into our optimizer ``ours(params)`` (on Tensors or, for
    ``engine == "scalar"``, on one Value per entry) and into PyTorch's ``theirs(params)``, from the same
    random start (a (3, 4) and a (4,) parameter, float64). Returns (ours, PyTorch's, the start), flattened.
    Only for tests that have already skipped without torch."""
    import torch

    rng = np.random.default_rng(100)
    shapes = [(3, 4), (4,)]
    initial = [rng.normal(size=s) for s in shapes]
    grads = [[rng.normal(size=s) for s in shapes] for _ in range(steps)]
    torch_params = [torch.tensor(a, requires_grad=True) for a in initial]
    torch_opt = theirs(torch_params)
    if engine == "tensor":
        params: list[Any] = [Tensor(a.copy(), requires_grad=True, dtype=np.float64) for a in initial]
    else:
        params = [Value(x) for a in initial for x in a.ravel()]
    opt = ours(params)
    for step_grads in grads:
        for t, g in zip(torch_params, step_grads):
            t.grad = torch.tensor(g)
        torch_opt.step()
        if engine == "tensor":
            for p, g in zip(params, step_grads):
                p.grad = g.copy()
        else:
            for p, g in zip(params, np.concatenate([g.ravel() for g in step_grads])):
                p.grad = float(g)
        opt.step()
    expected = np.concatenate([t.detach().numpy().ravel() for t in torch_params])
    if engine == "tensor":
        got = np.concatenate([p.data.ravel() for p in params])
    else:
        got = np.array([p.data for p in params])
    return got, expected, np.concatenate([a.ravel() for a in initial])
