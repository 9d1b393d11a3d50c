"""Helpers shared by the benchmark scripts: timing with garbage collection, machine facts, MNIST loading.

Every timed run starts from a collected heap (``gc.collect()`` before the clock starts) and ends with a
collection inside the clock, so that each engine pays for its own garbage and never for another's.
"""

from __future__ import annotations

import gc
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def timed_both(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all threads) for ``fn()`` and its garbage collection.

    CPU time is less disturbed by other work on a busy machine than wall time (for a single thread it is
    the work done; for several threads it includes their spinning while they wait for each other)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    gc.collect()
    return time.perf_counter() - wall, time.process_time() - cpu


def time_epochs(
    setup: Callable[[], tuple[Any, Any]], epoch: Callable[[Any, Any], float], repeats: int
) -> tuple[list[float], list[float], list[float]]:
    """(wall seconds, CPU seconds, last batch's loss) of ``repeats`` epochs, each ``epoch(model, opt)`` from
    a fresh ``setup()`` (built outside the clock)."""
    times, cpu, losses = [], [], []
    for _ in range(repeats):
        model, opt = setup()
        result = {}
        wall, used = timed_both(lambda: result.setdefault("loss", epoch(model, opt)))  # noqa: B023
        times.append(wall)
        cpu.append(used)
        losses.append(result["loss"])
    return times, cpu, losses


def batches(n: int, size: int) -> list[slice]:
    """Consecutive slices of ``size`` rows (the last one shorter) covering ``n`` rows."""
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def minibatch_epoch(
    model: Any, opt: Any, batch_loss: Callable[[Any, slice], Any], n: int, size: int
) -> float:
    """One epoch of ``size``-row minibatches over ``n`` rows, for our engine and PyTorch alike: zero the
    gradients, ``batch_loss(model, rows).backward()``, step. Returns the last batch's loss."""
    for rows in batches(n, size):
        opt.zero_grad()
        loss = batch_loss(model, rows)
        loss.backward()
        opt.step()
    return loss.item()


def count_nodes(root) -> int:
    """Nodes reachable from ``root``, following ours' ``_parents``, microgpt's ``_children`` or
    micrograd's ``_prev``."""
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(
            getattr(node, "_parents", None) or getattr(node, "_children", None) or getattr(node, "_prev", ())
        )
    return len(seen)


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def emit(result: dict[str, Any]) -> None:
    """Print one JSON result line (read by run.py) after the script's human-readable output."""
    print("RESULT " + json.dumps(result), flush=True)


def machine() -> dict[str, str]:
    """uname, CPU model, cores, versions: what a results table needs to be read later."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    facts = {
        "uname": " ".join(platform.uname()),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    for name in ("torch", "micrograd"):
        try:
            from importlib.metadata import version

            facts[name] = version(name)
        except Exception:
            facts[name] = "not installed"
    try:
        from threadpoolctl import threadpool_info

        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if blas:
            b = blas[0]
            facts["blas"] = (
                f"{b['internal_api']} {b['version']} ({b['architecture']}, {b['num_threads']} threads)"
            )
    except Exception:
        pass
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        facts[var] = os.environ.get(var, "(unset)")
    return facts


# ---- MNIST: the real digits, shuffled and tiled to 60,000 --------------------------------------------------

# the shared reference copy (next to the checkout, or next to the folder of worktrees), then the embedded one
MNIST_DIRS = [
    *(folder / "shared" / "data" / "mnist-offline" for folder in REPO.parents),
    REPO / "projects" / "data" / "mnist",
    REPO / "projects" / "data",
]


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def mnist_60k(seed: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    """All real digits found (15,000 here: 5,000 training + 10,000 test), shuffled, tiled to 60,000 rows;
    images as float32 in [0, 1], shape (60000, 784); labels int64. Returns the folder used too."""
    for folder in MNIST_DIRS:
        images = sorted(folder.glob("*images-idx3-ubyte*"))
        labels = sorted(folder.glob("*labels-idx1-ubyte*"))
        if images and len(images) == len(labels):
            break
    else:
        raise SystemExit(f"no MNIST IDX files in {', '.join(map(str, MNIST_DIRS))}")
    X = np.concatenate([_read_idx(p).reshape(-1, 784) for p in images])
    y = np.concatenate([_read_idx(p) for p in labels]).astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(X))
    X, y = X[order], y[order]
    reps = -(-60000 // len(X))
    X = np.ascontiguousarray(np.tile(X, (reps, 1))[:60000], dtype=np.float32) / np.float32(255)
    return X, np.tile(y, reps)[:60000], str(folder)


def run_script(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one benchmark script in a fresh process and return its RESULT line as a dict."""
    out = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=REPO, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    return json.loads(lines[-1][len("RESULT ") :])


def mnist_5k(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 embedded training digits (stored sorted by class), shuffled: images as float32 rows
    (5000, 784) in [0, 1], labels int64."""
    for folder in MNIST_DIRS:
        images, labels = folder / "train-5k-images-idx3-ubyte.gz", folder / "train-5k-labels-idx1-ubyte.gz"
        if images.exists() and labels.exists():
            break
    else:
        raise SystemExit(f"no train-5k IDX files in {', '.join(map(str, MNIST_DIRS))}")
    order = np.random.default_rng(seed).permutation(5000)
    X = _read_idx(images).reshape(-1, 784)[order].astype(np.float32) / np.float32(255)
    return np.ascontiguousarray(X), _read_idx(labels)[order].astype(np.int64)
