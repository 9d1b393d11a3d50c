"""Project 03 (MNIST): quick runs on the embedded sample, a local folder and Fashion-MNIST, the scalar-engine
comparison, and the pieces (shifts, scalar cross-entropy)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_figures_written

from autograd import Tensor, Value, cross_entropy
from autograd.errors import UsageError
from projects.catalog import p03_mnist
from projects.datasets.idx import write_idx
from projects.datasets.mnist import FASHION_MNIST, load_embedded

FIGURES = ("curves.png", "confusion_matrix.png", "misclassified.png", "per_class_accuracy.png")


def test_quick_run_learns_and_writes_every_figure(tmp_path):
    metrics = p03_mnist.run(p03_mnist.Config(quick=True, progress=False), tmp_path)
    assert metrics["test_accuracy"] > 0.8  # chance is 0.1
    assert metrics["epochs"] == 3 and metrics["seconds_per_epoch"] > 0
    assert metrics["n_train"] == 2000 and metrics["n_test"] == 2000
    assert metrics["augment"] is True and metrics["architecture"] == "784-128-64-10"
    assert set(metrics["per_class_accuracy"]) == {str(d) for d in range(10)}
    assert_figures_written(tmp_path, FIGURES)
    json.dumps(metrics)  # JSON-able


def test_same_seed_same_training():
    data = load_embedded()
    config = p03_mnist.Config(train_size=300, epochs=1, progress=False)
    results = []
    for _ in range(2):
        rng = np.random.default_rng(7)
        images, labels = p03_mnist.subset(data.train_images, data.train_labels, 300, rng)
        small = dataclasses.replace(
            data, train_images=images, train_labels=labels, test_images=images[:50], test_labels=labels[:50]
        )
        model, history, *_ = p03_mnist.train_tensor(small, config, rng, augment=True)
        results.append((history["train_loss"], model.state_dict()))
    assert results[0][0] == results[1][0]
    for name, weights in results[0][1].items():
        np.testing.assert_array_equal(weights, results[1][1][name])


def test_local_idx_folder_is_read(tmp_path):
    """The --data-dir path end to end, on a tiny learnable fixture: class k is a bright k-th row band."""
    rng = np.random.default_rng(0)

    def digits(n):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(labels):
            images[i, 2 + 2 * k : 4 + 2 * k, :] = 255
        return images, labels

    for prefix, n in (("train", 400), ("t10k", 100)):
        images, labels = digits(n)
        write_idx(tmp_path / "data" / f"{prefix}-images-idx3-ubyte", images)
        write_idx(tmp_path / "data" / f"{prefix}-labels-idx1-ubyte.gz", labels)
    config = p03_mnist.Config(data_dir=str(tmp_path / "data"), epochs=5, augment="off", progress=False)
    metrics = p03_mnist.run(config, tmp_path / "out")
    assert metrics["n_train"] == 400 and metrics["n_test"] == 100
    assert str(tmp_path / "data") in metrics["data_source"]
    assert metrics["test_accuracy"] > 0.9


@pytest.mark.skipif(not Path(FASHION_MNIST.system_dir).is_dir(), reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_code_path(tmp_path):
    config = p03_mnist.Config(dataset="fashion-mnist", quick=True, progress=False)
    metrics = p03_mnist.run(config, tmp_path)
    assert metrics["dataset"] == "fashion-mnist" and metrics["augment"] is False
    assert "T-shirt/top" in metrics["per_class_accuracy"]
    assert metrics["test_accuracy"] > 0.65  # 3 short epochs on 2000 images; chance is 0.1


@pytest.mark.slow
def test_full_default_run_on_the_embedded_sample(tmp_path):
    """The accuracy bar: at least 93.5% on the 10000 test digits after training on the 5000."""
    metrics = p03_mnist.run(p03_mnist.Config(progress=False), tmp_path)
    assert metrics["n_train"] == 5000 and metrics["n_test"] == 10000 and metrics["epochs"] == 20
    assert metrics["test_accuracy"] >= 0.935


def test_scalar_engine_agrees_with_the_tensor_engine(tmp_path):
    metrics = p03_mnist.run(p03_mnist.Config(engine="scalar", quick=True, progress=False), tmp_path)
    assert metrics["architecture"] == "784-16-10" and metrics["n_train"] == 40
    assert metrics["steps"] == 2  # 40 digits, batches of 20, one epoch
    assert metrics["loss_agreement"] < 1e-9  # float64 on both sides: the same arithmetic
    assert metrics["weights_agreement"] < 1e-9
    assert metrics["time_ratio"] > 0 and metrics["seconds_per_epoch"] > 0
    assert (tmp_path / "engine_comparison.png").exists()


def test_bad_options_are_usage_errors(tmp_path):
    for config in (
        p03_mnist.Config(engine="gpu"),
        p03_mnist.Config(hidden=(128, 0)),
        p03_mnist.Config(augment="maybe"),
        p03_mnist.Config(epochs=0),
        p03_mnist.Config(lr=-1.0),
        p03_mnist.Config(dataset="cifar"),
        p03_mnist.Config(data_dir=str(tmp_path / "absent")),
    ):
        with pytest.raises(UsageError):
            p03_mnist.run(config, tmp_path)


# ---- pieces ------------------------------------------------------------------------------------------------


def test_random_shift_moves_whole_images_by_at_most_one_pixel():
    rng = np.random.default_rng(0)
    images = np.zeros((200, 6, 6), dtype=np.float32)
    images[:, 2:4, 2:4] = rng.random((200, 2, 2)) + 0.5  # away from the border: nothing falls off
    shifted = p03_mnist.random_shift(images.reshape(200, 36), rng, side=6).reshape(200, 6, 6)
    np.testing.assert_allclose(shifted.sum(axis=(1, 2)), images.sum(axis=(1, 2)), rtol=1e-6)
    seen = set()
    for before, after in zip(images, shifted):
        matches = [
            (dy, dx)
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
            if np.array_equal(np.roll(np.roll(before, dy, 0), dx, 1), after)
        ]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) == 9  # every shift occurs


def test_scalar_cross_entropy_value_and_gradient():
    z = np.array([2.0, -1.0, 0.5, 900.0, 3.0])  # a huge logit must not overflow
    logits = [Value(float(v)) for v in z]
    loss = p03_mnist.scalar_cross_entropy(logits, 2)
    loss.backward()
    reference = cross_entropy(Tensor(z[None, :], requires_grad=True, dtype=np.float64), [2])
    assert loss.data == pytest.approx(reference.item(), rel=1e-12)
    softmax = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    expected = softmax - np.eye(5)[2]  # dL/dz = softmax(z) - onehot(y)
    np.testing.assert_allclose([v.grad for v in logits], expected, atol=1e-12)


def test_per_class_accuracy_is_the_row_recall():
    matrix = np.array([[8, 2], [1, 9]])
    np.testing.assert_allclose(p03_mnist.per_class_accuracy(matrix), [0.8, 0.9])
