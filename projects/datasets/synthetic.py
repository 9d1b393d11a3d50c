"""Small synthetic data sets the projects generate themselves, each from a seeded generator.

(Real data sets, MNIST, penguins, airline passengers and sunspots, are read by their projects' loaders.)
"""

from __future__ import annotations

import numpy as np


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points and their labels: y = x1 XOR x2."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array([0.0, 1.0, 1.0, 0.0])


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Truth table of AND, OR or XOR as (X, y) with y in {0, 1}."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    a, b = X[:, 0].astype(bool), X[:, 1].astype(bool)
    gates = {"and": a & b, "or": a | b, "xor": a ^ b}
    if name not in gates:
        raise ValueError(f"unknown gate {name!r}; choose and, or, xor")
    return X, gates[name].astype(float)


def two_moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's make_moons): n points, Gaussian noise of std ``noise``.

    Class 0: (cos t, sin t); class 1: (1 - cos t, 1/2 - sin t), t uniform on [0, pi]. The order is shuffled.
    """
    n0 = n // 2
    n1 = n - n0
    t0, t1 = rng.uniform(0, np.pi, n0), rng.uniform(0, np.pi, n1)
    X = np.r_[np.c_[np.cos(t0), np.sin(t0)], np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]]
    y = np.r_[np.zeros(n0), np.ones(n1)]
    X = X + rng.normal(0.0, noise, X.shape)
    order = rng.permutation(n)
    return X[order], y[order]


def linearly_separable(
    n: int, rng: np.random.Generator, margin: float = 0.3
) -> tuple[np.ndarray, np.ndarray]:
    """n points in [-1, 1]^2 labelled by a random line through the square, none closer than ``margin``
    to it (so a perceptron must converge, Novikoff). Labels in {-1, +1}."""
    angle = rng.uniform(0, 2 * np.pi)
    w = np.array([np.cos(angle), np.sin(angle)])
    b = rng.uniform(-0.3, 0.3)
    points: list[np.ndarray] = []
    while len(points) < n:
        p = rng.uniform(-1, 1, 2)
        if abs(p @ w + b) >= margin:
            points.append(p)
    X = np.array(points)
    return X, np.where(X @ w + b > 0, 1.0, -1.0)


def train_test_split(
    X: np.ndarray, y: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A random split (for i.i.d. data only; time series must be split chronologically)."""
    order = rng.permutation(len(X))
    n_test = int(round(len(X) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
