"""Project 06 (loss landscape): the exact linear-regression surface, the slicing tools, a quick run."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from conftest import assert_figures_written, quick_run_fixture

from autograd import Tensor, cross_entropy
from autograd.errors import UsageError
from autograd.nn import MLP
from projects.catalog import p06_landscape as p06
from projects.catalog.p06_landscape import landscape

FIGURES = (
    "linear_regression_surface.png",
    "interpolation_1d.png",
    "landscape_2d_contour.png",
    "landscape_3d_surface.png",
    "trajectory_pca.png",
    "decision_regions.png",
)


quick_run = quick_run_fixture(p06)


# ---- the linear-regression surface ----------------------------------------------------------------------


def test_mse_surface_matches_the_definition() -> None:
    rng = np.random.default_rng(1)
    x, y = p06.linear_data(50, rng)
    ws, bs = np.linspace(-3, 3, 7), np.linspace(-2, 2, 5)
    Z = p06.mse_surface(x, y, ws, bs)
    direct = np.array([[np.mean((w * x + b - y) ** 2) for w in ws] for b in bs])
    np.testing.assert_allclose(Z, direct, rtol=1e-12, atol=1e-12)


def test_least_squares_is_the_surface_minimum() -> None:
    rng = np.random.default_rng(2)
    x, y = p06.linear_data(80, rng)
    w, b = p06.least_squares(x, y)
    centre = p06.mse_surface(x, y, np.array([w]), np.array([b]))[0, 0]
    around = p06.mse_surface(x, y, w + np.array([-1e-3, 0, 1e-3]), b + np.array([-1e-3, 0, 1e-3]))
    assert centre == pytest.approx(around.min(), abs=1e-15)
    assert np.sum(around <= centre + 1e-15) == 1  # strictly convex: only the centre is that low


def test_engine_gradient_step_matches_the_closed_form() -> None:
    rng = np.random.default_rng(3)
    x, y = p06.linear_data(40, rng)
    w0, b0, lr = -1.0, 2.0, 0.1
    path, losses = p06.gradient_descent_path(x, y, (w0, b0), lr, steps=1)
    residual = w0 * x + b0 - y
    grad_w, grad_b = 2 * np.mean(residual * x), 2 * np.mean(residual)
    np.testing.assert_allclose(path[1], [w0 - lr * grad_w, b0 - lr * grad_b], rtol=1e-12)
    assert losses[0] == pytest.approx(np.mean(residual**2), rel=1e-12)


def test_lr_at_the_stability_limit_is_refused(tmp_path: pathlib.Path) -> None:
    x, _ = p06.linear_data(100, np.random.default_rng(0))
    assert 2 / p06.largest_curvature(x) < 1.0
    with pytest.raises(UsageError, match="linear-lr"):
        p06.run(p06.Config(quick=True, linear_lr=1.0), tmp_path)


@pytest.mark.parametrize(
    "field, value", [("grid", 2), ("epochs", 1), ("moons", 5), ("lr", 0.0), ("span", -1.0)]
)
def test_bad_settings_raise_usage_errors(tmp_path: pathlib.Path, field: str, value: float) -> None:
    with pytest.raises(UsageError, match=field):
        p06.run(p06.Config(quick=True, **{field: value}), tmp_path)


# ---- the slicing tools ----------------------------------------------------------------------------------


def small_model_and_loss() -> tuple[MLP, landscape.Evaluate]:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    model = MLP([2, 5, 2], "tanh", seed=4, dtype=np.float64)
    return model, lambda m: cross_entropy(m(Tensor(X, dtype=np.float64)), y).item()


def test_flatten_and_unflatten_are_inverse() -> None:
    model, _ = small_model_and_loss()
    state = model.state_dict()
    vector = landscape.flatten(state)
    assert vector.shape == (2 * 5 + 5 + 5 * 2 + 2,)
    back = landscape.unflatten(vector, state)
    assert list(back) == list(state)
    for name in state:
        np.testing.assert_array_equal(back[name], state[name])
    with pytest.raises(ValueError):
        landscape.unflatten(vector[:-1], state)


def test_filter_normalized_direction_matches_each_neuron_norm() -> None:
    model, _ = small_model_and_loss()
    state = model.state_dict()
    d = landscape.filter_normalized_direction(state, np.random.default_rng(5))
    for name, w in state.items():
        if w.ndim == 1:
            assert not d[name].any()  # biases do not move
        else:
            np.testing.assert_allclose(np.linalg.norm(d[name], axis=0), np.linalg.norm(w, axis=0))
            assert not np.allclose(d[name], w)  # random, not the weights themselves


def test_slices_pass_through_the_given_weights_and_restore_them() -> None:
    model, evaluate = small_model_and_loss()
    start = model.state_dict()
    end = {k: v + 0.3 * np.random.default_rng(6).normal(size=v.shape) for k, v in start.items()}
    loss_start = landscape.loss_at(model, start, evaluate)
    loss_end = landscape.loss_at(model, end, evaluate)
    assert loss_start != loss_end
    line = landscape.interpolate_1d(model, start, end, np.array([0.0, 0.5, 1.0]), evaluate)
    assert line[0] == pytest.approx(loss_start, rel=1e-12)
    assert line[2] == pytest.approx(loss_end, rel=1e-12)
    middle = landscape.combine(start, [end, start], [0.5, -0.5])
    assert line[1] == pytest.approx(landscape.loss_at(model, middle, evaluate), rel=1e-12)

    rng = np.random.default_rng(7)
    d1, d2 = (landscape.filter_normalized_direction(end, rng) for _ in range(2))
    Z = landscape.surface_2d(model, end, d1, d2, np.array([-1.0, 0.0, 1.0]), np.array([0.0, 2.0]), evaluate)
    assert Z.shape == (2, 3)
    for name, value in model.state_dict().items():  # the model is left at the centre
        np.testing.assert_array_equal(value, end[name])
    assert Z[0, 1] == pytest.approx(loss_end, rel=1e-12)
    corner = landscape.combine(end, [d1, d2], [1.0, 2.0])
    assert Z[1, 2] == pytest.approx(landscape.loss_at(model, corner, evaluate), rel=1e-12)


def test_trajectory_pca_recovers_a_planar_path() -> None:
    like = {"w": np.zeros((3, 4)), "b": np.zeros(4)}
    rng = np.random.default_rng(8)
    basis = np.linalg.qr(rng.normal(size=(16, 2)))[0].T  # two orthonormal directions in R^16
    t = np.linspace(0, 1, 12)
    coefficients = np.c_[3 * (1 - t), np.sin(4 * t)]  # ends at the origin
    states = [landscape.unflatten(c @ basis + 5.0, like) for c in coefficients]
    pca = landscape.trajectory_pca(states)
    assert pca.explained[0] >= pca.explained[1] > 0
    assert pca.explained[:2].sum() == pytest.approx(1.0, abs=1e-12)  # a planar path is all in 2 PCs
    np.testing.assert_allclose(pca.coords[-1], 0.0, atol=1e-12)
    # the projected path has the same pairwise distances as the original one (an isometry of the plane)
    original = np.linalg.norm(coefficients[:, None] - coefficients[None], axis=-1)
    projected = np.linalg.norm(pca.coords[:, None] - pca.coords[None], axis=-1)
    np.testing.assert_allclose(projected, original, atol=1e-10)


# ---- the project's quick run ----------------------------------------------------------------------------


def test_quick_run_writes_every_figure(quick_run: tuple[dict, pathlib.Path]) -> None:
    metrics, out = quick_run
    assert metrics["figures"] == list(FIGURES)
    assert_figures_written(out, FIGURES, min_bytes=5000, png=True)


def test_quick_run_metrics_are_consistent(quick_run: tuple[dict, pathlib.Path]) -> None:
    metrics, _ = quick_run
    linear = metrics["linear_regression"]
    assert linear["gd_distance_to_minimum"] < 0.1
    assert (
        linear["exact_minimum"]["loss"]
        <= linear["gd_final"]["loss"]
        <= 1.01 * linear["exact_minimum"]["loss"]
    )
    assert metrics["final_loss"] < 0.6 * metrics["initial_loss"]
    assert metrics["test_accuracy"] > 0.8
    # the 1-D line goes through the initial (a = 0) and final (a = 1) weights
    alphas = np.array(metrics["interpolation_alphas"])
    line = np.array(metrics["interpolation_train_loss"])
    assert line[np.isclose(alphas, 0.0)][0] == pytest.approx(metrics["initial_loss"], rel=1e-9)
    assert line[np.isclose(alphas, 1.0)][0] == pytest.approx(metrics["final_loss"], rel=1e-9)
    # the 2-D plane is centred on the final weights, which lie in a basin
    assert metrics["plane_center_loss"] == pytest.approx(metrics["final_loss"], rel=1e-9)
    assert metrics["plane_min_loss"] <= metrics["plane_center_loss"] < metrics["plane_max_loss"]
    assert metrics["plane_edge_over_center"] > 1.5
    e1, e2 = metrics["explained_variance"]
    assert 1.0 >= e1 >= e2 >= 0 and e1 + e2 <= 1 + 1e-12
    assert e1 + e2 > 0.8  # the training path is nearly two-dimensional


def test_same_seed_same_landscape(tmp_path: pathlib.Path, quick_run: tuple[dict, pathlib.Path]) -> None:
    metrics, _ = quick_run
    again = p06.run(p06.Config(quick=True), tmp_path)
    assert again["final_loss"] == metrics["final_loss"]
    assert again["explained_variance"] == metrics["explained_variance"]
    assert again["plane_max_loss"] == metrics["plane_max_loss"]  # the same random directions
