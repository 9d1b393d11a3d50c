"""Project 04: the training visualizer's recording, its frames, and a quick run's figures and metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_figures_written, quick_run_fixture
from PIL import Image

from autograd.errors import UsageError
from autograd.nn import MLP
from projects.catalog import p04_visualizer as p04
from projects.datasets.synthetic import two_moons
from viz.training_plots import plot_network_diagram, plot_parameter_heatmaps


@pytest.mark.parametrize("epochs, frames", [(150, 30), (80, 30), (10, 30), (5, 2), (1, 6)])
def test_frame_epochs_cover_the_run(epochs: int, frames: int) -> None:
    chosen = p04.frame_epochs(epochs, frames)
    assert chosen[0] == 0 and chosen[-1] == epochs
    assert chosen == sorted(set(chosen))
    assert len(chosen) <= max(frames, 2) + 1
    if epochs + 1 <= frames:
        assert chosen == list(range(epochs + 1))


def test_recording_holds_every_epoch_and_true_gradient_norms() -> None:
    rng = np.random.default_rng(0)
    X, y = two_moons(40, 0.1, rng)
    model, recording, history = p04.train_recorded("m", [2, 5, 1], "tanh", X, y, 6, 10, 0.05, rng)
    assert len(recording.snapshots) == len(recording.gradient_norms) == len(recording.losses) == 7
    assert history.epochs == [1, 2, 3, 4, 5, 6]
    final = model.state_dict()
    assert all(np.array_equal(final[k], recording.snapshots[-1][k]) for k in final)
    assert not np.array_equal(recording.snapshots[0]["net.0.weight"], final["net.0.weight"])
    # the last recorded norms are those of the full-batch gradient at the final weights
    model.zero_grad()
    p04.full_batch_loss(model, X, y).backward()
    expected = [np.linalg.norm(layer.weight.grad) for layer in model.linear_layers()]
    np.testing.assert_allclose(recording.gradient_norms[-1], expected, rtol=1e-12)
    assert recording.losses[-1] == pytest.approx(p04.full_batch_loss(model, X, y).item(), rel=1e-12)
    assert recording.losses[-1] < recording.losses[0]


def test_predictor_reproduces_the_snapshot_network() -> None:
    model = MLP([2, 4, 1], "tanh", seed=3, dtype=np.float64)
    predict = p04.predictor([2, 4, 1], "tanh", model.state_dict())
    points = np.array([[0.0, 0.0], [1.0, -1.0]])
    from autograd import Tensor

    expected = 1 / (1 + np.exp(-model(Tensor(points, dtype=np.float64)).data[:, 0]))
    np.testing.assert_allclose(predict(points), expected, rtol=1e-12)


def test_plot_helpers_write_images(tmp_path: Path) -> None:
    w = [np.array([[1.0, -2.0, 0.5]]).T @ np.ones((1, 2)), np.array([[0.3], [-1.2]])]
    plot_network_diagram([w[0].T, w[1]], [np.zeros(3), np.zeros(1)], tmp_path / "net.png", "net")
    snapshots = [{"a": np.full((2, 2), float(t)), "b": np.arange(3.0) * t} for t in range(4)]
    plot_parameter_heatmaps(snapshots, tmp_path / "heat.png", "heat")
    for name in ("net.png", "heat.png"):
        with Image.open(tmp_path / name) as image:
            assert image.size[0] > 100 and image.size[1] > 100


quick_run = quick_run_fixture(p04)


def test_quick_run_metrics(quick_run: tuple[dict, Path]) -> None:
    metrics, _ = quick_run
    json.dumps(metrics)
    for name in ("xor", "moons"):
        assert metrics[f"{name}_final_loss"] < metrics[f"{name}_initial_loss"]
        assert 0.5 <= metrics[f"{name}_accuracy"] <= 1.0
        assert len(metrics[f"{name}_gradient_norms_last"]) == (2 if name == "xor" else 3)
    assert metrics["xor_accuracy"] == 1.0


def test_quick_run_figures(quick_run: tuple[dict, Path]) -> None:
    metrics, out = quick_run
    expected = {
        f"{n}_{kind}"
        for n in ("xor", "moons")
        for kind in ("boundary.gif", "parameters.png", "network.png", "gradients.png")
    }
    assert set(metrics["figures"]) == expected
    assert_figures_written(out, expected)
    for name in ("xor", "moons"):
        with Image.open(out / f"{name}_boundary.gif") as gif:
            assert gif.n_frames == metrics[f"{name}_frames"] >= 2


def test_quick_run_writes_the_playground(quick_run: tuple[dict, Path]) -> None:
    metrics, out = quick_run
    page = (out / p04.PLAYGROUND_FILE).read_text(encoding="utf-8")
    assert p04.PLAYGROUND_FILE not in metrics["figures"]  # a page, not a figure
    assert page.count('data-task="') == 2 and "two moons" in page
    assert "epoch 0" in page and 'id="playground-data"' in page


@pytest.mark.parametrize(
    "config", [p04.Config(frames=1), p04.Config(moons_lr=-1), p04.Config(activation="cube")]
)
def test_bad_config_is_a_usage_error(config: p04.Config, tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        p04.run(config, tmp_path)
