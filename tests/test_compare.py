"""`backprop-lab compare`: the scalar and the tensor engine, trained from the same weights on the same data,
agree on every epoch's loss (float64) and end at the same weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from autograd.nn import MLP
from projects.catalog.compare import CompareConfig, compare, scalar_loss, tensor_loss
from projects.datasets.synthetic import two_moons
from projects.lab import cli


def test_the_two_losses_are_the_same_function() -> None:
    X, y = two_moons(10, 0.1, np.random.default_rng(0))
    scalar = MLP([2, 4, 4, 1], "tanh", engine="scalar", seed=3)
    tensor = MLP([2, 4, 4, 1], "tanh", engine="tensor", dtype=np.float64)
    tensor.load_state_dict(scalar.state_dict())
    ls, lt = scalar_loss(scalar, X.tolist(), y.tolist()), tensor_loss(tensor, X, y)
    assert ls.data == pytest.approx(lt.item(), abs=1e-14)
    ls.backward()
    lt.backward()
    grads_scalar = {name: p.grad_numpy() for name, p in scalar.named_parameters()}
    for name, p in tensor.named_parameters():
        np.testing.assert_allclose(grads_scalar[name], p.grad, atol=1e-14)


def test_compare_losses_agree_and_metrics_are_written(tmp_path: Path) -> None:
    config = CompareConfig(seed=1, epochs=6, hidden=4, points=24, lr=0.5)
    metrics = compare(config, tmp_path)
    assert metrics["max_loss_difference"] <= 1e-9
    assert metrics["max_weight_difference"] <= 1e-9
    assert len(metrics["scalar_losses"]) == len(metrics["tensor_losses"]) == 6
    assert metrics["scalar_losses"][-1] < metrics["scalar_losses"][0]  # it did train
    written = json.loads((tmp_path / "metrics.json").read_text())
    for key in ("max_loss_difference", "scalar_seconds", "tensor_seconds", "time_ratio", "seed", "versions"):
        assert key in written
    assert written["time_ratio"] == pytest.approx(written["scalar_seconds"] / written["tensor_seconds"])
    assert (tmp_path / "compare.png").stat().st_size > 1000
    assert (tmp_path / "explanation.md").read_text().strip()


def test_compare_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    argv = ["compare", "--epochs", "2", "--hidden", "3", "--points", "8", "--seed", "2", "--out", str(out)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "largest loss difference" in printed and "faster" in printed
    assert json.loads((out / "metrics.json").read_text())["config"]["hidden"] == 3


@pytest.mark.parametrize(
    "flag, value", [("--epochs", "0"), ("--hidden", "0"), ("--points", "2"), ("--lr", "-1")]
)
def test_bad_values_are_usage_errors(
    flag: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["compare", flag, value, "--out", str(tmp_path)]) == 2
    assert flag in capsys.readouterr().err
