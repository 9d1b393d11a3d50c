"""Project 03 with ``--model cnn``: the LeNet-style network in quick mode (learns, writes its figures, feature
maps and ``model/``, which reads back as the same network; its ONNX export scores its test accuracy), its
shapes and per-model defaults, and its option errors."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from conftest import assert_figures_written

from autograd import Tensor, no_grad
from autograd.errors import UsageError
from autograd.nn import Sequential
from projects.catalog import p03_mnist
from projects.lab.model_files import load_model, save_sequential

FIGURES = ("curves.png", "confusion_matrix.png", "misclassified.png", "per_class_accuracy.png")


def test_quick_cnn_run_learns_and_draws_the_feature_maps(tmp_path):
    metrics = p03_mnist.run(p03_mnist.Config(model="cnn", quick=True, progress=False), tmp_path)
    assert metrics["model"] == "cnn" and metrics["epochs"] == 3
    assert metrics["architecture"] == "conv5x5x16-pool-conv5x5x32-pool-512-128-10"
    assert metrics["batch_size"] == 64 and metrics["lr"] == 1e-3 and metrics["lr_schedule"] == "constant"
    assert metrics["n_train"] == 2000 and metrics["n_test"] == 2000
    assert metrics["test_accuracy"] > 0.8  # chance is 0.1
    assert_figures_written(tmp_path, (*FIGURES, "feature_maps.png"))
    json.dumps(metrics)
    model, meta = load_model(tmp_path / "model", "model")
    assert isinstance(model, Sequential) and meta["classes"] == [str(k) for k in range(10)]
    assert [layer["type"] for layer in meta["layers"]][:2] == ["Unflatten", "Conv2d"]
    if importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("onnx"):
        assert metrics["onnx_test_accuracy"] == metrics["test_accuracy"]
        # float32 logits up to about 20 summed over 800 products: measured 5.7e-6 for the quick CNN
        assert metrics["onnx_same_predictions"] is True and metrics["onnx_max_logit_difference"] < 1e-4


def test_lenet_shapes_parameters_and_feature_maps():
    model = p03_mnist.LeNet(28, 10, channels=(4, 6), hidden=12, seed=1)
    names = [name for name, _ in model.named_parameters()]
    assert names == [
        "features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias",
        "classifier.0.weight", "classifier.0.bias", "classifier.2.weight", "classifier.2.bias",
    ]  # fmt: skip
    assert model.features.layers[0].weight.shape == (4, 1, 5, 5)  # PyTorch's layout
    assert model.classifier.layers[0].weight.shape == (6 * 4 * 4, 12)
    logits = model(Tensor(np.random.default_rng(0).random((3, 784))))
    assert logits.shape == (3, 10)
    maps = model.first_feature_maps(np.ones(784, dtype=np.float32))
    assert maps.shape == (4, 24, 24) and maps.min() >= 0  # after ReLU


def test_the_saved_cnn_reads_back_as_the_same_function(tmp_path):
    lenet = p03_mnist.LeNet(28, 10, channels=(3, 5), hidden=7, seed=2)
    save_sequential(tmp_path, lenet.sequential(), input="pixels")
    model, meta = load_model(tmp_path, "model")
    assert meta["input"] == "pixels" and len(model) == 11
    x = Tensor(np.random.default_rng(1).random((6, 784), dtype=np.float32))
    with no_grad():
        np.testing.assert_array_equal(model(x).data, lenet(x).data)


def test_model_defaults_and_overrides():
    assert p03_mnist.training_settings(p03_mnist.Config()) == (20, 128, 2e-3, "cosine")
    assert p03_mnist.training_settings(p03_mnist.Config(model="cnn")) == (15, 64, 1e-3, "constant")
    assert p03_mnist.training_settings(p03_mnist.Config(model="cnn", epochs=2, lr=0.01))[::2] == (2, 0.01)


@pytest.mark.parametrize(
    "config",
    [
        p03_mnist.Config(model="rnn"),
        p03_mnist.Config(model="cnn", engine="scalar"),
        p03_mnist.Config(model="cnn", channels=(16,)),
        p03_mnist.Config(model="cnn", channels=(16, 0)),
        p03_mnist.Config(model="cnn", cnn_hidden=0),
        p03_mnist.Config(model="cnn", batch_size=0),
        p03_mnist.Config(model="cnn", lr=0.0),
    ],
)
def test_bad_cnn_options_are_usage_errors(config, tmp_path):
    with pytest.raises(UsageError):
        p03_mnist.run(config, tmp_path)
