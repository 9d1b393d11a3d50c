"""Project 01: Rosenblatt's rule, Novikoff's bound, AND/OR converge, XOR cycles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import assert_figures_written

from autograd.errors import UsageError
from projects.catalog import p01_perceptron as p01
from projects.datasets.synthetic import linearly_separable


@pytest.mark.parametrize("seed", range(8))
def test_rule_converges_within_novikoffs_bound_on_separable_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    X, y = linearly_separable(40, rng, margin=float(rng.uniform(0.03, 0.3)))
    run = p01.rosenblatt(X, y, max_epochs=10_000)
    bound, radius, gamma, u = p01.novikoff_bound(X, y)
    assert run.converged
    assert np.all(y * (X @ run.weights + run.bias) > 0)  # the final line separates every point
    assert gamma > 0 and p01.margin_of(u, X, y) == pytest.approx(gamma)
    assert radius == pytest.approx(np.max(np.linalg.norm(np.c_[X, np.ones(len(X))], axis=1)))
    assert 1 <= run.updates <= bound
    assert run.updates == len(run.history) == sum(run.updates_per_epoch)


def test_max_margin_direction_finds_the_known_margin() -> None:
    # x' = (1, 0, 1) labelled +1 and (-1, 0, 1) labelled -1: the best unit u is (1, 0, 0), margin 1
    X, y = np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1.0, -1.0])
    bound, radius, gamma, u = p01.novikoff_bound(X, y)
    assert gamma == pytest.approx(1.0, abs=1e-6)
    assert radius == pytest.approx(np.sqrt(2))
    assert bound == pytest.approx(2.0, rel=1e-5)
    np.testing.assert_allclose(u / np.linalg.norm(u), [1.0, 0.0, 0.0], atol=1e-6)


def test_margin_of_a_direction_that_misclassifies_is_not_positive() -> None:
    X, y = np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1.0, -1.0])
    assert p01.margin_of(np.array([-1.0, 0.0, 0.0]), X, y) < 0


@pytest.mark.parametrize("name", ["and", "or"])
def test_and_or_converge_within_their_bounds(name: str) -> None:
    X, y = p01.gate(name)
    run = p01.rosenblatt(X, y, max_epochs=1000)
    assert run.converged
    assert np.all(np.sign(X @ run.weights + run.bias) == y)
    assert run.updates <= p01.novikoff_bound(X, y)[0]


def test_xor_never_converges_and_the_cycle_is_real() -> None:
    X, y = p01.gate("xor")
    run = p01.rosenblatt(X, y, max_epochs=1000)
    assert not run.converged
    assert run.cycle_start_epoch is not None and run.cycle_length is not None
    assert run.epochs < 1000  # detected long before the cap
    # replay: the weights at the start of the cycle come back after cycle_length more epochs
    w, b = np.zeros(2), 0.0
    starts = []
    for _ in range(run.cycle_start_epoch - 1 + run.cycle_length + 1):
        starts.append((*w.tolist(), b))
        for x_i, y_i in zip(X, y):
            if y_i * (w @ x_i + b) <= 0:
                w, b = w + y_i * x_i, b + y_i
    assert starts[run.cycle_start_epoch - 1] == starts[run.cycle_start_epoch - 1 + run.cycle_length]
    # without cycle detection it simply hits the cap, still wrong on some point
    capped = p01.rosenblatt(X, y, max_epochs=50, detect_cycles=False)
    assert not capped.converged and capped.epochs == 50
    assert np.any(np.sign(X @ capped.weights + capped.bias) != y)


def test_labels_must_be_plus_or_minus_one() -> None:
    with pytest.raises(ValueError):
        p01.rosenblatt(np.zeros((2, 2)), np.array([0.0, 1.0]), 5)


def test_quick_run_metrics_and_figures(tmp_path: Path) -> None:
    metrics = p01.run(p01.Config(quick=True, seed=2), tmp_path)
    assert metrics["converged"] and metrics["within_bound"]
    assert 1 <= metrics["updates"] <= metrics["novikoff_bound"]
    assert metrics["xor_converged"] is False and metrics["xor_cycle_detected"] is True
    assert metrics["and"]["converged"] and metrics["or"]["converged"]
    assert metrics["and"]["updates"] <= metrics["and"]["novikoff_bound"]
    assert metrics["points"] == 30
    assert_figures_written(tmp_path, metrics["figures"])
    # the numbers are those of the rule on the seed's own data set
    X, y = linearly_separable(30, np.random.default_rng(2), margin=p01.Config().margin)
    assert metrics["updates"] == p01.rosenblatt(X, y, 1000).updates
    assert metrics["novikoff_bound"] == pytest.approx(p01.novikoff_bound(X, y)[0])


@pytest.mark.parametrize("config", [p01.Config(points=1), p01.Config(margin=0.0), p01.Config(max_epochs=0)])
def test_bad_config_is_a_usage_error(config: p01.Config, tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        p01.run(config, tmp_path)
