"""Project 02: XOR on the scalar engine: the default converges for 100 of 100 seeds, a 2-2-1 sigmoid net
can stall (and why), the figures, and --resume end to end through the command line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_figures_written, quick_run_fixture

from autograd import Value
from autograd.errors import UsageError
from projects.catalog import p02_xor as p02
from projects.lab import cli


def test_loss_gradient_with_respect_to_the_logit_is_p_minus_y_over_n() -> None:
    model = p02.MLP([2, 3, 1], "tanh", engine="scalar", seed=1)
    X, y = p02.xor_data()
    logits: list[Value] = []
    original = model.forward

    def recording_forward(x):  # keep each sample's logit node to read its gradient
        out = original(x)
        logits.append(out[0])
        return out

    model.forward = recording_forward  # type: ignore[method-assign]
    loss = p02.cross_entropy_loss(model, X, y)
    loss.backward()
    for z, t in zip(logits, y):
        p = 1 / (1 + math.exp(-z.data))
        assert z.grad == pytest.approx((p - t) / 4, abs=1e-12)
    expected = np.mean([math.log1p(math.exp(z.data)) - t * z.data for z, t in zip(logits, y)])
    assert loss.data == pytest.approx(expected, abs=1e-12)


def test_default_config_converges_for_100_of_100_seeds() -> None:
    config = p02.Config()
    _, seeds, _ = p02.draw_seeds(config.seed, config.seeds, config.table_seeds)  # the run's own seeds
    assert len(seeds) == 100
    rate, runs = p02.success_rate(config.hidden, config.activation, seeds, config.lr, config.epochs)
    assert rate == 1.0
    assert all(max(abs(p - t) for p, t in zip(r.outputs, [0, 1, 1, 0])) < 0.1 for r in runs)


def test_a_stalled_2_2_1_sigmoid_net_maps_two_points_of_different_labels_together() -> None:
    runs = (p02.train_xor(2, "sigmoid", seed, 2.0, 200) for seed in range(40))
    stalled = next(r for r in runs if not r.converged)
    out = np.array(stalled.outputs)
    targets = np.array([0.0, 1.0, 1.0, 0.0])
    solved_points = np.abs(out - targets) < 0.1
    assert solved_points.sum() == 2  # two points right ...
    assert np.allclose(out[~solved_points], 0.5, atol=0.05)  # ... and the other two stuck at one half
    # the loss sits at the local minimum's ln 2 / 2 (each unsolved point costs ln 2, the mean is over 4)
    assert stalled.history["train_loss"][-1] == pytest.approx(math.log(2) / 2, abs=0.02)
    X, _ = p02.xor()
    hidden = p02.hidden_activations(stalled.model, X)
    a, b = np.flatnonzero(~solved_points)
    assert targets[a] != targets[b]
    assert np.linalg.norm(hidden[a] - hidden[b]) < 0.1  # one hidden point, two labels: unseparable


quick_run = quick_run_fixture(p02)


def test_quick_run_metrics(quick_run: tuple[dict, Path]) -> None:
    metrics, _ = quick_run
    assert metrics["success_rate"] == 1.0 and metrics["seeds"] == 10
    assert metrics["converged"] is True
    assert all(abs(p - t) < 0.1 for p, t in zip(metrics["outputs"], [0, 1, 1, 0]))
    table = metrics["success_table"]
    assert set(table) == {"sigmoid", "tanh"}
    assert all(set(row) == {"2", "8"} and all(0 <= v <= 1 for v in row.values()) for row in table.values())
    assert table["tanh"]["8"] == 1.0
    json.dumps(metrics)  # JSON-able as it is


def test_quick_run_figures(quick_run: tuple[dict, Path]) -> None:
    metrics, out = quick_run
    names = ("decision_regions.png", "loss_curve.png", "success_table.png")
    assert set(names) <= set(metrics["figures"])
    assert_figures_written(out, names)
    if metrics["gradient_graph"] == "written":
        svg = (out / "gradient_graph.svg").read_text()
        assert "<svg" in svg and "W1[0,0]" in svg and "b2[0]" in svg
    else:  # only without Graphviz
        assert metrics["gradient_graph"].startswith("skipped")


def test_resume_end_to_end_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    small = ["--quick", "--seeds", "1", "--table-seeds", "1", "--no-progress"]
    assert cli.main(["run", "02", *small, "--epochs", "60", "--out", str(tmp_path / "a")]) == 0
    checkpoint = tmp_path / "a" / ".checkpoints" / "02-xor.npz"
    assert checkpoint.is_file()
    # a tampered copy of the checkpoint (first layer zeroed) must change the resumed result: proof that
    # --resume really starts from the checkpoint rather than from scratch
    with np.load(checkpoint, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["model/net.0.weight"] = np.zeros_like(arrays["model/net.0.weight"])
    (tmp_path / "c" / ".checkpoints").mkdir(parents=True)
    np.savez(tmp_path / "c" / ".checkpoints" / "02-xor.npz", **arrays)
    assert cli.main(["run", "02", *small, "--epochs", "120", "--resume", "--out", str(tmp_path / "c")]) == 0
    assert cli.main(["run", "02", *small, "--epochs", "120", "--resume", "--out", str(tmp_path / "a")]) == 0
    resumed = json.loads((tmp_path / "a" / "02-xor" / "metrics.json").read_text())
    config = p02.Config()
    main_seed, _, _ = p02.draw_seeds(0, 1, 1)
    whole = p02.train_xor(config.hidden, config.activation, main_seed, config.lr, 120, stop_when_solved=False)
    assert resumed["epochs"] == whole.epochs_run == 120
    assert resumed["final_loss"] == whole.history["train_loss"][-1]
    assert resumed["outputs"] == whole.outputs
    assert resumed["config"]["resume"] is True
    tampered = json.loads((tmp_path / "c" / "02-xor" / "metrics.json").read_text())
    assert tampered["final_loss"] != resumed["final_loss"]


@pytest.mark.parametrize(
    "config", [p02.Config(hidden=0), p02.Config(activation="softmax"), p02.Config(lr=0), p02.Config(epochs=0)]
)
def test_bad_config_is_a_usage_error(config: p02.Config, tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        p02.run(config, tmp_path)
