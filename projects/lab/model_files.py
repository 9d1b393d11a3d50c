"""A trained model in a run's ``model/`` folder: ``weights.npz`` (the state_dict, plain arrays) and
``model.json`` (the architecture's settings and what the input is). No pickle: reading one executes nothing.

Two kinds of model.json:

- an MLP: ``sizes`` and ``activation`` (:func:`save_mlp`, :func:`load_mlp`);
- a ``Sequential`` of Unflatten, Conv2d, MaxPool2d, Flatten, Linear and activation layers: ``layers``, one
  object of settings per layer, e.g. ``{"type": "Conv2d", "in_channels": 1, "out_channels": 16,
  "kernel_size": [5, 5], "stride": [1, 1], "padding": [0, 0]}``; its weights are the Sequential's
  state_dict (``1.weight``, ``1.bias``...: Conv2d in PyTorch's (out, in, kh, kw) layout, Linear ours
  (in, out)) (:func:`save_sequential`, :func:`load_sequential`). The first layer takes flat rows (N,
  features): an ``Unflatten`` (a CNN on images) or a ``Linear``.

Project 03 saves its MLP or its CNN this way, 05 its MLP (with ``preprocessing.json`` beside it);
``backprop-lab export`` reads either back with :func:`load_model`, ``predict`` with :func:`load_mlp`. Every
setting and size is checked (types, bounds, each layer's shape against the one before it, the total number
of weights) and the ``.npy`` headers of ``weights.npz`` against those shapes, before anything is allocated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np

from autograd.errors import UsageError
from autograd.files import read_npz, write_npz, write_text
from autograd.nn import (
    ACTIVATIONS,
    MLP,
    Activation,
    Conv2d,
    Flatten,
    Linear,
    MaxPool2d,
    Module,
    Sequential,
    Unflatten,
)

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
    state = read_weights(folder, what, expected_shapes(sizes))
    return with_weights(lambda: MLP(sizes, activation=activation, engine="tensor"), state, what), meta


def read_weights(folder: Path, what: str, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """``weights.npz``'s arrays, each with its shape in ``shapes`` (checked in the ``.npy`` headers, all
    of them together at most 8 bytes a weight, before anything is read), all finite."""
    if not (folder / WEIGHTS_FILE).is_file():
        raise UsageError(f"{what}: missing {WEIGHTS_FILE}; is it a saved model?")
    try:
        state = read_npz(
            folder / WEIGHTS_FILE, shapes, max_bytes=8 * sum(int(np.prod(s)) for s in shapes.values()) + 4096
        )
    except UsageError as e:
        raise UsageError(f"{what}: {e}") from None
    bad = [name for name, array in state.items() if not np.all(np.isfinite(array))]
    if bad:
        raise UsageError(f"{what}: {WEIGHTS_FILE} holds inf or nan weights (in {', '.join(bad)})")
    return state


def with_weights(build: Callable[[], Any], state: dict[str, np.ndarray], what: str) -> Any:
    """The model ``build()`` makes, with the weights ``state`` loaded, in eval mode."""
    try:
        model = build()
        model.load_state_dict(state)
    except (KeyError, TypeError, ValueError) as e:
        raise UsageError(f"{what}: the weights do not match the model description ({e})") from None
    model.eval()
    return model


# ---- a Sequential of convolution, pooling, reshaping, linear and activation layers -------------------------

MAX_SEQUENTIAL_LAYERS = 32
MAX_SIZE = 65_536
"""The largest channel count, feature count or image side a saved Sequential may name."""
MAX_KERNEL = 64
MAX_VALUES_PER_INPUT = 2**24
"""The most numbers one layer may produce for one input row (16 M: 64 MB in float32)."""


def layer_settings(layer: Module) -> dict[str, Any]:
    """One layer's entry of ``model.json``'s ``layers``; ValueError for a layer (or a setting) this format
    cannot describe."""
    if isinstance(layer, Unflatten) and layer.dim == 1:
        return {"type": "Unflatten", "dim": 1, "sizes": list(layer.sizes)}
    if isinstance(layer, Conv2d) and _plain_conv(layer):
        out_channels, in_channels, kh, kw = layer.weight.shape
        return {
            "type": "Conv2d",
            "in_channels": int(in_channels),
            "out_channels": int(out_channels),
            "kernel_size": [int(kh), int(kw)],
            "stride": list(_pair(layer.stride)),
            "padding": list(_pair(layer.padding)),
        }
    if isinstance(layer, MaxPool2d) and _pair(layer.padding) == (0, 0) and _pair(layer.dilation) == (1, 1):
        kernel = _pair(layer.kernel_size)
        stride = kernel if layer.stride is None else _pair(layer.stride)
        return {"type": "MaxPool2d", "kernel_size": list(kernel), "stride": list(stride)}
    if isinstance(layer, Flatten) and (layer.start_dim, layer.end_dim) == (1, -1):
        return {"type": "Flatten"}
    if isinstance(layer, Linear):
        return {"type": "Linear", "in_features": layer.in_features, "out_features": layer.out_features}
    if type(layer) is Activation or (isinstance(layer, Activation) and _default_settings(layer)):
        if layer.name in ACTIVATIONS:
            return {"type": "Activation", "name": layer.name}
    raise ValueError(f"a model folder cannot describe the layer {layer!r}")


def _plain_conv(layer: Conv2d) -> bool:
    """Zero padding given as numbers, no dilation, one group, a bias: the Conv2d this format describes."""
    return (
        not isinstance(layer.padding, str)
        and _pair(layer.dilation) == (1, 1)
        and layer.groups == 1
        and layer.bias is not None
    )


def _default_settings(layer: Activation) -> bool:
    return getattr(layer, "negative_slope", 0.01) == 0.01 and getattr(layer, "alpha", 1.0) == 1.0


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        return (int(value), int(value))
    first, second = value
    return (int(first), int(second))


def save_sequential(folder: Path, model: Sequential, **about: Any) -> Path:
    """Write ``weights.npz`` (the state_dict) and ``model.json`` (``layers``: each layer's settings, and
    ``about``) in ``folder``; the model is checked as :func:`load_sequential` will check it."""
    layers = [layer_settings(layer) for layer in model.layers]
    check_layers({"layers": layers}, "save_sequential")
    write_npz(folder / WEIGHTS_FILE, model.state_dict())
    write_text(folder / MODEL_FILE, json.dumps({"layers": layers, **about}, indent=1) + "\n")
    return folder


def _size(entry: dict[str, Any], key: str, what: str, low: int = 1, high: int = MAX_SIZE) -> int:
    value = entry.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise UsageError(
            f"{what}: {MODEL_FILE}: a {entry.get('type')} layer's {key!r} must be an integer from {low} to "
            f"{high}, not {str(value)[:40]}"
        )
    return value


def _sizes(entry: dict[str, Any], key: str, what: str, count: int, low: int, high: int) -> list[int]:
    values = entry.get(key)
    if not isinstance(values, list) or len(values) != count:
        raise UsageError(
            f"{what}: {MODEL_FILE}: a {entry.get('type')} layer's {key!r} must be a list of {count} "
            f"integers, not {str(values)[:40]}"
        )
    return [_size({"type": entry.get("type"), key: v}, key, what, low, high) for v in values]


def _pooled(side: int, kernel: int, stride: int, padding: int, what: str, kind: str) -> int:
    """The output side of a window ``kernel`` sliding by ``stride`` over ``side`` + 2 ``padding``."""
    if side + 2 * padding < kernel:
        raise UsageError(f"{what}: {MODEL_FILE}: a {kind} window of {kernel} does not fit a side of {side}")
    return (side + 2 * padding - kernel) // stride + 1


def check_layers(meta: Any, what: str) -> tuple[list[dict[str, Any]], dict[str, tuple[int, ...]]]:
    """``model.json``'s ``layers`` checked, and the state_dict shapes they make: each setting's type and
    bounds, each layer's input against the shape the layer before it gives (starting from flat rows),
    every layer's output at most :data:`MAX_VALUES_PER_INPUT` numbers and all weights together at most
    :data:`MAX_PARAMETERS`; nothing is allocated."""
    layers = meta.get("layers") if isinstance(meta, dict) else None
    if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_SEQUENTIAL_LAYERS:
        raise UsageError(f"{what}: {MODEL_FILE} must give 'layers', a list of 1 to {MAX_SEQUENTIAL_LAYERS}")
    shapes: dict[str, tuple[int, ...]] = {}
    shape: tuple[int, ...] | None = None  # the shape of one input row after each layer (batch axis left out)
    for i, entry in enumerate(layers):
        kind = entry.get("type") if isinstance(entry, dict) else None
        where = f"{what}: {MODEL_FILE}: layer {i} ({str(kind)[:20]})"
        if shape is None and kind not in ("Unflatten", "Linear"):
            raise UsageError(f"{where}: the first layer must be Unflatten or Linear (the input is flat rows)")
        if kind == "Unflatten":
            if entry.get("dim") != 1 or (shape is not None and len(shape) != 1):
                raise UsageError(f"{where}: only Unflatten(dim=1) of flat rows is supported")
            sizes = _sizes(entry, "sizes", what, 3, 1, MAX_SIZE)
            if shape is not None and int(np.prod(sizes)) != shape[0]:
                raise UsageError(f"{where}: sizes {sizes} do not hold the {shape[0]} features before it")
            shape = tuple(sizes)
        elif kind == "Conv2d":
            n_in = _size(entry, "in_channels", what)
            if shape is None or len(shape) != 3 or n_in != shape[0]:
                raise UsageError(f"{where}: takes {n_in} channels, gets the shape {shape}")
            out = _size(entry, "out_channels", what)
            kernel = _sizes(entry, "kernel_size", what, 2, 1, MAX_KERNEL)
            stride = _sizes(entry, "stride", what, 2, 1, MAX_KERNEL)
            padding = _sizes(entry, "padding", what, 2, 0, MAX_KERNEL)
            sides = [_pooled(*args, what, "Conv2d") for args in zip(shape[1:], kernel, stride, padding)]
            shapes[f"{i}.weight"] = (out, shape[0], *kernel)
            shapes[f"{i}.bias"] = (out,)
            shape = (out, *sides)
        elif kind == "MaxPool2d":
            if shape is None or len(shape) != 3:
                raise UsageError(f"{where}: takes images (channels, height, width), gets the shape {shape}")
            kernel = _sizes(entry, "kernel_size", what, 2, 1, MAX_KERNEL)
            stride = _sizes(entry, "stride", what, 2, 1, MAX_KERNEL)
            sides = [
                _pooled(side, k, s, 0, what, "MaxPool2d") for side, k, s in zip(shape[1:], kernel, stride)
            ]
            shape = (shape[0], *sides)
        elif kind == "Flatten":
            if shape is None or len(shape) < 2:
                raise UsageError(f"{where}: there is nothing to flatten in the shape {shape}")
            shape = (int(np.prod(shape)),)
        elif kind == "Linear":
            n_in = _size(entry, "in_features", what)
            if shape is not None and shape != (n_in,):
                raise UsageError(f"{where}: takes {n_in} features, gets the shape {shape}")
            out = _size(entry, "out_features", what)
            shapes[f"{i}.weight"] = (n_in, out)
            shapes[f"{i}.bias"] = (out,)
            shape = (out,)
        elif kind == "Activation":
            if entry.get("name") not in ACTIVATIONS:
                raise UsageError(f"{where}: names an unknown activation {str(entry.get('name'))[:40]!r}")
        else:
            raise UsageError(
                f"{where}: unknown layer type; known: Unflatten, Conv2d, MaxPool2d, Flatten, Linear, "
                "Activation"
            )
        if int(np.prod(shape)) > MAX_VALUES_PER_INPUT:
            raise UsageError(
                f"{where}: gives {int(np.prod(shape)):,} numbers per input, too many (tampered?)"
            )
    count = sum(int(np.prod(s)) for s in shapes.values())
    if count > MAX_PARAMETERS:
        raise UsageError(
            f"{what}: {MODEL_FILE} describes {count:,} weights, more than the {MAX_PARAMETERS:,} allowed "
            "(tampered?)"
        )
    return layers, shapes


def build_layer(entry: dict[str, Any]) -> Module:
    """The layer a checked entry of ``layers`` describes (its weights to be loaded)."""
    kind = entry["type"]
    if kind == "Unflatten":
        return Unflatten(1, entry["sizes"])
    if kind == "Conv2d":
        kernel, stride, padding = entry["kernel_size"], entry["stride"], entry["padding"]
        return Conv2d(
            entry["in_channels"], entry["out_channels"], tuple(kernel), tuple(stride), tuple(padding)
        )
    if kind == "MaxPool2d":
        return MaxPool2d(tuple(entry["kernel_size"]), tuple(entry["stride"]))
    if kind == "Flatten":
        return Flatten()
    if kind == "Linear":
        return Linear(entry["in_features"], entry["out_features"])
    return Activation(entry["name"])


def load_sequential(folder: Path, what: str) -> tuple[Sequential, dict[str, Any]]:
    """The Sequential saved in ``folder`` (tensor engine, float32, eval mode) and its ``model.json``, bounded
    as :func:`load_mlp`: ``layers`` (:func:`check_layers`), then the weights' headers against them."""
    meta = read_json(folder / MODEL_FILE, what)
    layers, shapes = check_layers(meta, what)
    state = read_weights(folder, what, shapes)
    return with_weights(lambda: Sequential(*map(build_layer, layers)), state, what), meta


def load_model(folder: Path, what: str) -> tuple[MLP | Sequential, dict[str, Any]]:
    """The model saved in ``folder``, an MLP (``sizes`` in model.json) or a Sequential (``layers``)."""
    meta = read_json(folder / MODEL_FILE, what)
    if isinstance(meta, dict) and "layers" in meta:
        return load_sequential(folder, what)
    return load_mlp(folder, what)


def input_features(model: MLP | Sequential) -> int:
    """How many numbers one input row of a loaded model holds."""
    if isinstance(model, MLP):
        return model.sizes[0]
    first = model.layers[0]
    return int(np.prod(first.sizes)) if isinstance(first, Unflatten) else first.in_features


def describe(model: MLP | Sequential) -> str:
    """The architecture in a few words: ``784-32-10 relu``, or each layer of a Sequential
    (``1x28x28 conv5x5x16 relu pool2x2 ... flatten 128 relu 10``)."""
    if isinstance(model, MLP):
        return "-".join(map(str, model.sizes)) + f" {model.activation}"
    words = []
    for entry in map(layer_settings, model.layers):
        kind = entry["type"]
        if kind == "Unflatten":
            words.append("x".join(map(str, entry["sizes"])))
        elif kind == "Conv2d":
            words.append("conv{}x{}x{}".format(*entry["kernel_size"], entry["out_channels"]))
        elif kind == "MaxPool2d":
            words.append("pool{}x{}".format(*entry["kernel_size"]))
        elif kind == "Linear":
            words.append(str(entry["out_features"]))
        else:
            words.append(entry.get("name", "flatten"))
    return " ".join(words)
