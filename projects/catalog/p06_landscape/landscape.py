"""Loss-landscape tools: walk a model's weights along chosen directions and measure the loss there.

A model's weights θ are handled as its ``state_dict`` (parameter name -> array). The loss landscape is
the function θ -> L(θ); it lives in thousands of dimensions, so we look at low-dimensional slices:

* 1-D interpolation (Goodfellow et al., 2015):  L((1 - a) θ0 + a θ1) for a in [-0.25, 1.25],
  from the initial weights θ0 (a = 0) to the trained ones θ1 (a = 1).
* 2-D slice (Li et al., 2018):  L(θ* + α d1 + β d2) on a grid of (α, β), with d1, d2 random directions
  that are *filter-normalized*: each neuron's slice of d is rescaled to the norm of the same neuron's
  weights, so that a step of α = 1 changes every neuron by as much as its own size (a plain Gaussian
  direction would barely move large-weight neurons and swamp small ones, and the picture would depend
  on the weights' scale, which ReLU networks can change freely without changing the function).
* The optimizer's path: with θ_t the weights after epoch t, the rows of M = [θ_t - θ_final] are
  decomposed by SVD, M = U S V^T; the top two rows of V^T are the directions that capture the most of
  the path's squared displacement (fraction s_i^2 / sum_j s_j^2), and M V[:2]^T is the path in them.

Nothing here depends on the data: the caller supplies ``evaluate(model) -> float`` (a loss), which is
run with the model's weights set to each point (in eval mode, with no graph recorded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from autograd.core import no_grad
from autograd.nn import Module

State = dict[str, np.ndarray]
Evaluate = Callable[[Module], float]


# ---- weights as vectors ---------------------------------------------------------------------------------


def flatten(state: State) -> np.ndarray:
    """All parameters of ``state`` (in its key order) as one float64 vector."""
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in state.values()])


def unflatten(vector: np.ndarray, like: State) -> State:
    """Cut ``vector`` back into arrays shaped like the entries of ``like`` (the inverse of flatten)."""
    out: State = {}
    start = 0
    for name, array in like.items():
        size = np.size(array)
        out[name] = np.asarray(vector[start : start + size], dtype=np.float64).reshape(np.shape(array))
        start += size
    if start != len(vector):
        raise ValueError(f"vector has {len(vector)} entries, the state needs {start}")
    return out


def combine(base: State, directions: Sequence[State], coefficients: Sequence[float]) -> State:
    """θ = base + sum_i c_i d_i, entry by entry."""
    out = {name: np.asarray(a, dtype=np.float64).copy() for name, a in base.items()}
    for direction, c in zip(directions, coefficients):
        for name in out:
            out[name] += c * direction[name]
    return out


# ---- directions -----------------------------------------------------------------------------------------


def filter_normalized_direction(weights: State, rng: np.random.Generator) -> State:
    """A random direction d with, for every neuron j of every weight matrix W, ||d_j|| = ||W_j||.

    A "filter" is one output unit's incoming weights: a column W[:, j] of our (in, out) matrices (for
    higher-rank weights, everything but the last axis). d starts as N(0, 1) entries and each filter is
    rescaled:  d_j <- d_j ||W_j|| / ||d_j||  (Li et al., 2018, eq. 1). 1-D parameters (biases) get a
    zero direction, as in Li et al.'s reference code: the slice moves the weights only.
    """
    direction: State = {}
    for name, w in weights.items():
        w = np.asarray(w, dtype=np.float64)
        if w.ndim <= 1:
            direction[name] = np.zeros_like(w)
            continue
        d = rng.standard_normal(w.shape)
        axes = tuple(range(w.ndim - 1))
        d_norm = np.sqrt(np.sum(d * d, axis=axes, keepdims=True))
        w_norm = np.sqrt(np.sum(w * w, axis=axes, keepdims=True))
        direction[name] = d * (w_norm / np.maximum(d_norm, 1e-12))
    return direction


# ---- evaluating the loss at chosen weights --------------------------------------------------------------


def loss_at(model: Module, state: State, evaluate: Evaluate) -> float:
    """Load ``state`` into ``model`` (eval mode) and return ``evaluate(model)``, recording no graph."""
    model.load_state_dict(state)
    model.eval()
    with no_grad():
        return float(evaluate(model))


def interpolate_1d(
    model: Module, start: State, end: State, alphas: np.ndarray, evaluate: Evaluate
) -> np.ndarray:
    """L((1 - a) start + a end) for each a in ``alphas``; the model keeps ``end`` afterwards."""
    step = {name: np.asarray(end[name], dtype=np.float64) - start[name] for name in start}
    try:
        return np.array([loss_at(model, combine(start, [step], [a]), evaluate) for a in alphas])
    finally:
        model.load_state_dict(end)


def surface_2d(
    model: Module,
    center: State,
    d1: State,
    d2: State,
    alphas: np.ndarray,
    betas: np.ndarray,
    evaluate: Evaluate,
) -> np.ndarray:
    """Z[i, j] = L(center + alphas[j] d1 + betas[i] d2) (rows follow ``betas``, as in ``np.meshgrid``);
    the model keeps ``center`` afterwards."""
    try:
        return np.array(
            [[loss_at(model, combine(center, [d1, d2], [a, b]), evaluate) for a in alphas] for b in betas]
        )
    finally:
        model.load_state_dict(center)


# ---- the optimizer's path -------------------------------------------------------------------------------


@dataclass
class TrajectoryPCA:
    """The path θ_0 .. θ_T seen in its own top-2 directions around θ_T.

    ``directions``: the two unit directions (as states); ``coords`` (T+1, 2): each θ_t - θ_T projected on
    them (the last row is (0, 0)); ``explained``: fraction of sum_t ||θ_t - θ_T||^2 along each direction.
    """

    directions: tuple[State, State]
    coords: np.ndarray
    explained: np.ndarray


def trajectory_pca(states: Sequence[State]) -> TrajectoryPCA:
    """SVD of M = [θ_t - θ_final]_t (not mean-centred: the final weights are the origin).

    M = U S V^T; direction i is row i of V^T, the path's coordinates are M V[:2]^T = U[:, :2] S[:2],
    and direction i explains s_i^2 / sum_j s_j^2 of the squared displacement.
    """
    if len(states) < 3:
        raise ValueError("a trajectory needs at least three points")
    final = flatten(states[-1])
    M = np.stack([flatten(s) - final for s in states])
    _, s, vt = np.linalg.svd(M, full_matrices=False)
    total = float(np.sum(s * s))
    explained = (s * s) / total if total > 0 else np.zeros_like(s)
    like = states[-1]
    directions = (unflatten(vt[0], like), unflatten(vt[1], like))
    return TrajectoryPCA(directions, M @ vt[:2].T, explained)
