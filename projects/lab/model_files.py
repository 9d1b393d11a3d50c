"""A trained MLP in a run's ``model/`` folder: ``weights.npz`` (the state_dict, plain arrays) and
``model.json`` (``sizes``, ``activation`` and what the input is). No pickle: reading one executes nothing.

Projects 03 and 05 save their model this way (05 adds ``preprocessing.json`` beside it); ``backprop-lab
export`` and ``predict`` read it back with :func:`load_mlp`, which checks every size before it allocates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from autograd.errors import UsageError
from autograd.files import read_npz, write_npz, write_text
from autograd.nn import ACTIVATIONS, MLP

WEIGHTS_FILE = "weights.npz"
MODEL_FILE = "model.json"


def save_mlp(folder: Path, model: MLP, **about: Any) -> Path:
    """Write ``weights.npz`` and ``model.json`` (sizes, activation, and ``about``: the input, say) in
    ``folder``."""
    write_npz(folder / WEIGHTS_FILE, model.state_dict())
    meta = {"sizes": model.sizes, "activation": model.activation, **about}
    write_text(folder / MODEL_FILE, json.dumps(meta, indent=1) + "\n")
    return folder


MAX_PARAMETERS = 10_000_000
"""The most weights a saved model may have (40 MB in float32); a model.json asking for more is refused."""
MAX_LAYERS = 10


def read_json(path: Path, what: str, limit: int = 16 * 2**20) -> Any:
    """A model folder's JSON file (at most ``limit`` bytes) as data; UsageError starting with ``what``."""
    try:
        if path.stat().st_size > limit:
            raise UsageError(f"{what}: {path.name} is larger than {limit // 2**20} MiB")
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{what}: missing {path.name}; is it a saved model?") from None
    except (OSError, ValueError) as e:
        raise UsageError(f"{what}: {path.name} is unreadable ({e})") from None


def check_description(meta: Any, what: str) -> tuple[list[int], str]:
    """``model.json``'s layer sizes and activation, checked (types, bounds, the total number of weights:
    at most :data:`MAX_PARAMETERS`) before any array is allocated."""
    sizes = meta.get("sizes") if isinstance(meta, dict) else None
    activation = meta.get("activation") if isinstance(meta, dict) else None
    if (
        not isinstance(sizes, list)
        or not 2 <= len(sizes) <= MAX_LAYERS
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes)
    ):
        raise UsageError(
            f"{what}: {MODEL_FILE} must give 'sizes', 2 to {MAX_LAYERS} positive integers, "
            f"not {str(sizes)[:60]}"
        )
    if activation not in ACTIVATIONS:
        raise UsageError(f"{what}: {MODEL_FILE} names an unknown activation {str(activation)[:40]!r}")
    count = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    if count > MAX_PARAMETERS:
        raise UsageError(
            f"{what}: {MODEL_FILE} describes {count:,} weights, more than the {MAX_PARAMETERS:,} allowed "
            "(tampered?)"
        )
    return sizes, activation


def expected_shapes(sizes: list[int]) -> dict[str, tuple[int, ...]]:
    """The state_dict shapes of ``MLP(sizes)``: ``net.{2k}.weight`` (in, out) and ``net.{2k}.bias`` (out,)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for k, (a, b) in enumerate(zip(sizes, sizes[1:])):
        shapes[f"net.{2 * k}.weight"] = (a, b)
        shapes[f"net.{2 * k}.bias"] = (b,)
    return shapes


def load_mlp(folder: Path, what: str) -> tuple[MLP, dict[str, Any]]:
    """The MLP saved in ``folder`` (tensor engine, float32, eval mode) and its ``model.json``; a missing,
    malformed or oversized file is a one-line :class:`UsageError` that starts with ``what`` (the argument
    it came from). Bounded before anything is built: ``model.json``'s sizes (:func:`check_description`),
    the ``.npy`` headers of ``weights.npz`` against those sizes (:func:`autograd.files.read_npz`), and the
    weights finite."""
    meta = read_json(folder / MODEL_FILE, what)
    sizes, activation = check_description(meta, what)
    if not (folder / WEIGHTS_FILE).is_file():
        raise UsageError(f"{what}: missing {WEIGHTS_FILE}; is it a saved model?")
    shapes = expected_shapes(sizes)
    try:
        state = read_npz(
            folder / WEIGHTS_FILE, shapes, max_bytes=8 * sum(int(np.prod(s)) for s in shapes.values()) + 4096
        )
    except UsageError as e:
        raise UsageError(f"{what}: {e}") from None
    bad = [name for name, array in state.items() if not np.all(np.isfinite(array))]
    if bad:
        raise UsageError(f"{what}: {WEIGHTS_FILE} holds inf or nan weights (in {', '.join(bad)})")
    try:
        model = MLP(sizes, activation=activation, engine="tensor")
        model.load_state_dict(state)
    except (KeyError, TypeError, ValueError) as e:
        raise UsageError(f"{what}: the weights do not match the model description ({e})") from None
    model.eval()
    return model, meta
