"""Project 08 (activation functions): engine derivatives against closed forms (themselves checked by finite
differences), the Bayes-optimal yardstick, dead-unit detection, vanishing gradients and a quick run."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from conftest import assert_figures_written, quick_run_fixture

from autograd.errors import UsageError
from autograd.nn import MLP
from projects.catalog import p08_activations as p08
from projects.datasets.synthetic import two_moons

FIGURES = (
    "activations.png",
    "softmax.png",
    "loss_curves.png",
    "test_accuracy.png",
    "decision_regions.png",
    "gradient_norms.png",
    "dead_relu.png",
)


quick_run = quick_run_fixture(p08)


# ---- the derivatives ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", p08.ACTIVATIONS)
def test_closed_form_derivative_matches_finite_differences(name: str) -> None:
    """The reference itself is right: f'(x) ~ (f(x + h) - f(x - h)) / 2h, away from the kink at 0."""
    f, df = p08.CLOSED_FORMS[name]
    x = np.random.default_rng(0).uniform(-6, 6, 200)
    x = x[np.abs(x) > 1e-3]
    h = 1e-6
    np.testing.assert_allclose(df(x), (f(x + h) - f(x - h)) / (2 * h), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", p08.ACTIVATIONS)
def test_both_engines_match_the_closed_form(name: str) -> None:
    f, df = p08.CLOSED_FORMS[name]
    x = np.r_[np.random.default_rng(1).uniform(-8, 8, 50), 0.0, -1e-9, 1e-9]
    y, dy = p08.tensor_engine_derivative(name, x)
    np.testing.assert_allclose(y, f(x), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dy, df(x), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(p08.scalar_engine_derivative(name, x), df(x), rtol=1e-12, atol=1e-15)


def test_softmax_jacobian_matches_closed_form_and_finite_differences() -> None:
    x = np.linspace(-5, 5, 21)
    p, jacobian = p08.softmax_jacobian(x)
    np.testing.assert_allclose(p[:, 0], 1 / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(jacobian, p08.softmax_jacobian_closed_form(p), atol=1e-15)
    np.testing.assert_allclose(jacobian.sum(axis=1), 0.0, atol=1e-15)  # probabilities always sum to 1

    def softmax(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    z, h = np.c_[x, np.zeros_like(x)], 1e-6
    for j in range(2):
        step = np.zeros_like(z)
        step[:, j] = h
        numeric = (softmax(z + step) - softmax(z - step)) / (2 * h)  # column j: dp_i/dz_j
        np.testing.assert_allclose(jacobian[:, :, j], numeric, atol=1e-9)


# ---- the yardstick and the diagnostics ------------------------------------------------------------------


def test_bayes_posterior_is_right_where_it_must_be_and_near_the_known_rate() -> None:
    t = np.linspace(0.2, np.pi - 0.2, 5)
    on_moon_0 = p08.moons_bayes_posterior(np.c_[np.cos(t), np.sin(t)], 0.2)
    on_moon_1 = p08.moons_bayes_posterior(np.c_[1 - np.cos(t), 0.5 - np.sin(t)], 0.2)
    assert np.all(on_moon_0 < 0.1) and np.all(on_moon_1 > 0.9)
    # by symmetry (moon 1 is moon 0 turned by 180 degrees about (0.5, 0.25)) P(1 | x) = 1 - P(1 | mirror x)
    x = np.random.default_rng(2).normal(0.5, 1.0, (40, 2))
    mirrored = np.c_[1 - x[:, 0], 0.5 - x[:, 1]]
    np.testing.assert_allclose(
        p08.moons_bayes_posterior(x, 0.2), 1 - p08.moons_bayes_posterior(mirrored, 0.2), atol=1e-9
    )
    X, y = two_moons(4000, 0.2, np.random.default_rng(3))
    rate = np.mean((p08.moons_bayes_posterior(X, 0.2) > 0.5) == y)
    assert 0.955 < rate < 0.985  # ~0.971 for noise 0.2; +-0.003 sampling error at n = 4000


def test_dead_units_finds_a_unit_switched_off_by_its_bias() -> None:
    model = MLP([2, 6, 4, 2], "relu", seed=0, dtype=np.float64)
    X = np.random.default_rng(4).normal(size=(50, 2))
    state = model.state_dict()
    state["net.0.bias"][2] = -100.0  # unit 2 of hidden layer 1 is negative for every input
    model.load_state_dict(state)
    dead = p08.dead_units(model, X)
    assert [d.shape for d in dead] == [(6,), (4,)]
    assert dead[0][2] and dead[0].sum() == 1


def test_sigmoid_gradients_vanish_and_relu_gradients_do_not() -> None:
    X, y = two_moons(128, 0.2, np.random.default_rng(5))
    sigmoid = p08.layer_gradient_norms("sigmoid", 10, 32, X, y, seed=1)
    relu = p08.layer_gradient_norms("relu", 10, 32, X, y, seed=1)
    assert len(sigmoid) == len(relu) == 10
    assert sigmoid[0] / sigmoid[-1] < 1e-3 and relu[0] / relu[-1] > 1e-2
    assert all(a > b for a, b in zip(sigmoid[1:], sigmoid[:-1]))  # shrinks at every layer towards the input


@pytest.mark.parametrize(
    "field, value", [("points", 5), ("noise", 0.0), ("epochs", 0), ("depth", 1), ("lr", -1.0)]
)
def test_bad_settings_raise_usage_errors(tmp_path: pathlib.Path, field: str, value: float) -> None:
    with pytest.raises(UsageError, match=field.replace("_", "-")):
        p08.run(p08.Config(quick=True, **{field: value}), tmp_path)


# ---- the quick run --------------------------------------------------------------------------------------


def test_quick_run_writes_every_figure(quick_run: tuple[dict, pathlib.Path]) -> None:
    metrics, out = quick_run
    assert metrics["figures"] == list(FIGURES)
    assert_figures_written(out, FIGURES, min_bytes=5000, png=True)


def test_quick_run_metrics(quick_run: tuple[dict, pathlib.Path]) -> None:
    metrics, _ = quick_run
    assert set(metrics["test_accuracy"]) == set(p08.ACTIVATIONS)
    assert all(error < 1e-12 for error in metrics["derivative_max_error"].values())
    assert metrics["softmax_jacobian_max_error"] < 1e-12
    accuracy, bayes = metrics["test_accuracy"], metrics["bayes_test_accuracy"]
    assert all(0 <= a <= 1 for a in accuracy.values())
    # ReLU and tanh come close to the best possible accuracy on these test points
    assert accuracy["relu"] >= bayes - 0.05 and accuracy["tanh"] >= bayes - 0.08
    assert metrics["fresh_accuracy"]["relu"] >= 0.93
    assert 0.96 < metrics["bayes_fresh_accuracy"] < 0.985
    ratio = metrics["grad_norm_ratio"]
    assert ratio["sigmoid"] < 1e-3 < 1e-2 < ratio["relu"]
    dead = metrics["dead_relu_fraction"]
    assert all(0 <= f <= 1 for f in dead.values())
    assert dead["high_lr"] > dead["trained"] + 0.1  # the too-high learning rate kills many more units
