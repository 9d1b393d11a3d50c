"""Project 09 (dropout): inverted scaling, eval mode, the seed's gradient bug, and the train-test gap."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from conftest import assert_figures_written, quick_run_fixture

from autograd import Tensor
from autograd.errors import UsageError
from autograd.nn import Dropout
from projects.catalog import p09_dropout as p09

FIGURES = ("curves.png", "gap.png", "decision_regions.png", "inverted_scaling.png", "seed_bug.png")


quick_run = quick_run_fixture(p09)


# ---- inverted scaling and eval mode ---------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keeps_the_expected_activation(p: float) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=40)
    samples = 20000
    mean = p09.dropout_mean(x, p, samples, rng)
    noise_level = np.sqrt(p / ((1 - p) * samples))  # relative standard error of the average
    assert np.linalg.norm(mean - x) / np.linalg.norm(x) < 3 * noise_level
    # and one mask really drops about a fraction p of the entries, scaling the rest by 1 / (1 - p)
    once = Tensor(np.ones(100000), dtype=np.float64).dropout(p, rng).data
    assert set(np.unique(once)) <= {0.0, 1 / (1 - p)}
    assert abs(np.mean(once == 0) - p) < 0.01


def test_eval_mode_is_exactly_the_identity() -> None:
    x = Tensor(np.random.default_rng(1).normal(size=(5, 4)), dtype=np.float64)
    layer = Dropout(0.5, np.random.default_rng(2))
    assert not np.array_equal(layer(x).data, x.data)  # training mode drops units
    assert np.array_equal(layer.eval()(x).data, x.data)
    assert p09.eval_mode_is_identity(np.random.default_rng(3))


# ---- the seed's bug -------------------------------------------------------------------------------------


def test_engine_gradient_matches_finite_differences_and_the_seed_formula_does_not() -> None:
    rng = np.random.default_rng(4)
    problem = p09._tiny_problem(rng)
    w1 = Tensor(problem["w1"], requires_grad=True, dtype=np.float64)
    p09._loss(problem, w1, 0.5, mask_seed=7).backward()
    numeric = p09.central_differences(problem, 0.5, mask_seed=7)
    np.testing.assert_allclose(w1.grad, numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        p09.seed_bug_gradient(problem, 0.5, 7, buggy=False), w1.grad, rtol=1e-10, atol=1e-14
    )
    buggy = p09.seed_bug_gradient(problem, 0.5, 7, buggy=True)
    assert np.linalg.norm(buggy - numeric) > 0.3 * np.linalg.norm(numeric)


def test_the_two_formulas_agree_without_dropout() -> None:
    """With p = 0 the mask is all ones and a' = a: the seed's formula is then right, which is how the bug
    hid (it only shows when dropout is on)."""
    problem = p09._tiny_problem(np.random.default_rng(5))
    correct = p09.seed_bug_gradient(problem, 0.0, 3, buggy=False)
    np.testing.assert_allclose(p09.seed_bug_gradient(problem, 0.0, 3, buggy=True), correct, rtol=1e-12)
    np.testing.assert_allclose(p09.central_differences(problem, 0.0, 3), correct, rtol=1e-6, atol=1e-9)


# ---- settings -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("rates", (0.0, 1.0), "rates"),
        ("rates", (), "rates"),
        ("train_points", 2, "train-points"),
        ("epochs", 0, "epochs"),
        ("lr", 0.0, "lr"),
        ("mc_samples", 1, "mc-samples"),
    ],
)
def test_bad_settings_raise_usage_errors(
    tmp_path: pathlib.Path, field: str, value: object, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        p09.run(p09.Config(quick=True, **{field: value}), tmp_path)


def test_rates_are_sorted_and_deduplicated() -> None:
    assert p09.validate(p09.Config(rates=(0.5, 0.0, 0.5, 0.2))) == [0.0, 0.2, 0.5]


# ---- the quick run --------------------------------------------------------------------------------------


def test_quick_run_writes_every_figure(quick_run: tuple[dict, pathlib.Path]) -> None:
    metrics, out = quick_run
    assert metrics["figures"] == list(FIGURES)
    assert_figures_written(out, FIGURES, min_bytes=5000, png=True)


def test_quick_run_dropout_narrows_the_gap(quick_run: tuple[dict, pathlib.Path]) -> None:
    metrics, _ = quick_run
    gap, loss_gap = metrics["gap"], metrics["loss_gap"]
    assert set(gap) == {"0.0", "0.2", "0.5"}
    assert gap["0.0"] > 0.05  # without dropout the network overfits the small noisy training set
    assert gap["0.5"] < gap["0.0"] - 0.02
    assert loss_gap["0.5"] < 0.5 * loss_gap["0.0"]
    assert metrics["dropout_narrows_gap"] is True
    for p, accuracy in metrics["train_accuracy"].items():
        assert accuracy - metrics["test_accuracy"][p] == pytest.approx(gap[p], abs=1e-12)


def test_quick_run_checks(quick_run: tuple[dict, pathlib.Path]) -> None:
    metrics, _ = quick_run
    for p, error in metrics["inverted_scaling_relative_error"].items():
        assert error < 3 * metrics["inverted_scaling_noise_level"][p]
    assert metrics["eval_is_identity"] is True
    assert metrics["engine_gradient_error"] < 1e-6
    assert metrics["correct_formula_gradient_error"] < 1e-6
    assert metrics["seed_bug_gradient_error"] > 0.3


@pytest.mark.slow
def test_full_run_dropout_narrows_the_gap(tmp_path: pathlib.Path) -> None:
    """The full setting of `make run` (300 epochs, 1000 test points), at the default seed."""
    metrics = p09.run(p09.Config(), tmp_path)
    gap, loss_gap = metrics["gap"], metrics["loss_gap"]
    assert gap["0.0"] > 0.08
    assert gap["0.5"] < gap["0.0"] - 0.03
    assert loss_gap["0.5"] < 0.5 * loss_gap["0.0"]
    assert metrics["dropout_narrows_gap"] is True
