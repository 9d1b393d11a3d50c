"""The benchmark scripts still run, and replay the same computation on our engine and on PyTorch: one CNN
epoch from the same weights and batches ends at the same loss, and the accuracy script trains both.
(Speed is never asserted here: benchmarks/run.py measures it.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def _run(script: str, *args: str, prefix: str = "") -> dict:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=BENCHMARKS.parent,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    line = [row for row in done.stdout.splitlines() if row.startswith(prefix) and row.strip()][-1]
    return json.loads(line[len(prefix) :])


@pytest.mark.slow
def test_one_cnn_epoch_ends_at_the_same_loss_on_both_engines() -> None:
    ours, torch_ = (
        _run("bench_cnn.py", "--engine", engine, "--repeats", "1", "--threads", "1", prefix="RESULT ")
        for engine in ("ours", "torch")
    )
    assert ours["losses"][-1] == pytest.approx(torch_["losses"][-1], rel=1e-4)


@pytest.mark.slow
def test_the_accuracy_script_trains_the_same_network_on_both_engines() -> None:
    results = [_run("p03_cnn_accuracy.py", "--engine", e, "--epochs", "1") for e in ("ours", "torch")]
    assert results[0]["architecture"] == results[1]["architecture"]
    for result in results:
        assert result["epochs"] == 1 and result["test_accuracy"] > 0.8
    assert results[0]["test_accuracy"] == pytest.approx(results[1]["test_accuracy"], abs=0.01)


@pytest.mark.slow
def test_the_mlp_written_out_without_a_graph_is_the_same_computation_as_ours() -> None:
    """bench_mnist.py's ``ours-nograph`` (our ops' NumPy work in order, no graph) measures the engine's
    bookkeeping only if it computes what ``ours`` computes: one epoch from the same weights, the same loss."""
    ours, unrolled = (
        _run("bench_mnist.py", "--engine", engine, "--repeats", "1", prefix="RESULT ")
        for engine in ("ours", "ours-nograph")
    )
    assert unrolled["losses"][-1] == pytest.approx(ours["losses"][-1], rel=1e-6)


def test_the_mnist_table_gives_each_rounds_ratio_and_their_median(monkeypatch) -> None:
    """run.py pairs the engines round by round (their processes run back to back), so a drift of the
    machine's speed between rounds does not decide the comparison; the table says each round's ratio."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import run

    def engine(times: list[float]) -> dict:
        return {
            "wall": sorted(times)[len(times) // 2],
            "best": min(times),
            "cpu": 1.0,
            "runs": 3,
            "all": times,
            "loss": 0.1,
        }

    result = {
        "threads": 2,
        "engines": {"ours": engine([0.5, 0.6, 0.9]), "numpy": engine([0.4, 0.6, 1.0])},
        "rounds": {"ours": [0.5, 0.6, 0.9], "numpy": [0.4, 0.6, 1.0]},
        "flops": 27e9,
        "peak": {"numpy_gflops": 250.0},
    }
    text = "\n".join(run.mnist_table(result))
    assert "ours / NumPy: 1.25, 1.00, 0.90; median of the rounds' ratios 1.00x" in text


def test_rounds_alternate_the_order_of_the_engines(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import run

    assert [run.in_turn(["ours", "torch", "numpy"], r)[0] for r in range(4)] == ["ours", "numpy"] * 2
