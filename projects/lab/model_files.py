"""A trained MLP in a run's ``model/`` folder: ``weights.npz`` (the state_dict, plain arrays) and
``model.json`` (``sizes``, ``activation`` and what the input is). No pickle: reading one executes nothing.

Projects 03 and 05 save their model this way (05 adds ``preprocessing.json`` beside it); ``backprop-lab
export`` reads it back to hand it to :mod:`autograd.export`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from autograd.errors import UsageError
from autograd.files import write_npz, write_text
from autograd.nn import MLP

WEIGHTS_FILE = "weights.npz"
MODEL_FILE = "model.json"


def save_mlp(folder: Path, model: MLP, **about: Any) -> Path:
    """Write ``weights.npz`` and ``model.json`` (sizes, activation, and ``about``: the input, say) in
    ``folder``."""
    write_npz(folder / WEIGHTS_FILE, model.state_dict())
    meta = {"sizes": model.sizes, "activation": model.activation, **about}
    write_text(folder / MODEL_FILE, json.dumps(meta, indent=1) + "\n")
    return folder


def load_mlp(folder: Path, what: str) -> tuple[MLP, dict[str, Any]]:
    """The MLP saved in ``folder`` (tensor engine, float32, eval mode) and its ``model.json``; a missing or
    malformed file is a one-line :class:`UsageError` that starts with ``what`` (the argument it came from)."""
    try:
        meta = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
        with np.load(folder / WEIGHTS_FILE, allow_pickle=False) as arrays:
            state = {k: arrays[k] for k in arrays.files}
    except FileNotFoundError as e:
        raise UsageError(f"{what}: missing {Path(e.filename).name}; is it a saved model?") from None
    except (OSError, ValueError) as e:
        raise UsageError(f"{what}: unreadable model files ({e})") from None
    try:
        model = MLP([int(n) for n in meta["sizes"]], activation=str(meta["activation"]), engine="tensor")
        model.load_state_dict(state)
    except (KeyError, TypeError, ValueError) as e:
        raise UsageError(f"{what}: the weights do not match the model description ({e})") from None
    model.eval()
    return model, meta
