"""Carry a model to PyTorch and ONNX, and a PyTorch model back to the tracer.

A model is first read into a list of :class:`LayerSpec` (``layer_specs``): each layer as the ``torch.nn``
class it becomes, that class's arguments, and the weights in PyTorch's layout. Everything else is written
from that one list:

- :func:`to_torch`: a plain ``torch.nn.Sequential`` of standard layers, weights loaded, so
  ``torch.save(module)`` gives a file that loads without backprop-lab (:func:`save_torch`);
- :func:`torch_source`: the Python code of that ``nn.Sequential``, to paste;
- :func:`to_onnx`: an ONNX model built from standard operators (opset 17) with ``onnx.helper``, checked by
  ``onnx.checker``; :func:`run_onnx` runs one under onnxruntime;
- :func:`from_torch`: the other way, a ``torch.nn.Sequential`` of supported layers to ours.

The weight layouts differ: our ``Linear.weight`` W is (in, out) and computes y = x W + b; PyTorch's is
(out, in) and computes y = x W^T + b. The export writes W^T, the import transposes back; the output is the
same function. Dropout is the identity at inference: it is kept in the PyTorch module (``nn.Dropout``,
active only in ``.train()`` mode) and left out of the ONNX graph, which is for inference.

Supported: ``MLP``, ``Sequential`` (nested ones are flattened), ``Linear``, the activations of
:data:`autograd.nn.ACTIVATIONS` and ``Dropout``, from either engine (a scalar-engine model's weights are
exported the same way). Exported weights are float32, PyTorch's and ONNX's default.

torch, onnx and onnxruntime are the optional extra ``pip install 'backprop-lab[export]'``; they are
imported inside the functions that need them, so ``import autograd`` (and this module) loads NumPy only.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Iterator, Sequence

import numpy as np

from autograd.files import atomic_path
from autograd.nn import (
    ELU,
    MLP,
    Activation,
    Dropout,
    Identity,
    LeakyReLU,
    Linear,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softplus,
    Tanh,
    ValueGrid,
)

INSTALL_EXTRA = "pip install 'backprop-lab[export]'"
OPSET = 17
ONNX_IR_VERSION = 8  # the IR version that goes with opset 17: readable by older runtimes and by Netron


class ExportError(ValueError):
    """A model (or a PyTorch module) that cannot be carried across, with the reason in one line."""


class MissingExtraError(ImportError):
    """torch, onnx or onnxruntime is not installed; the message names the install command."""


def require(package: str) -> ModuleType:
    """Import ``package`` (torch, onnx, onnxruntime), or raise one line naming the install command."""
    try:
        return importlib.import_module(package)
    except ImportError:
        raise MissingExtraError(
            f"{package} is not installed; install the export extra: {INSTALL_EXTRA}"
        ) from None


# ---- one description of the model, in PyTorch's terms ------------------------------------------------


@dataclass(frozen=True)
class LayerSpec:
    """One layer as the ``torch.nn`` class ``kind`` built with ``args`` and ``kwargs``; a Linear layer
    also carries its weight in PyTorch's layout (out, in) and its bias, as float32 arrays."""

    kind: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None

    def source(self) -> str:
        """The constructor call as Python text, e.g. ``nn.LeakyReLU(negative_slope=0.2)``."""
        arguments = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"nn.{self.kind}({', '.join(arguments)})"


# our activation names -> the torch.nn class of the same function (the same class names as autograd.nn's)
TORCH_ACTIVATIONS = {
    "identity": "Identity",
    "relu": "ReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "silu": "SiLU",
    "softplus": "Softplus",
}
SUPPORTED = "Linear, Dropout and the activations " + ", ".join(TORCH_ACTIVATIONS.values())


def _array(parameter: Any) -> np.ndarray:
    """A parameter of either engine as a float32 array."""
    data = parameter.numpy() if isinstance(parameter, ValueGrid) else parameter.data
    return np.asarray(data, dtype=np.float32)


def _layers(model: Module) -> Iterator[Module]:
    """The layers of ``model`` in order: an MLP's network, Sequentials flattened, or the layer itself."""
    if isinstance(model, MLP):
        yield from _layers(model.net)
    elif isinstance(model, Sequential):
        for layer in model.layers:
            yield from _layers(layer)
    else:
        yield model


def _activation_spec(layer: Activation) -> LayerSpec:
    if layer.name not in TORCH_ACTIVATIONS:
        raise ExportError(f"the activation {layer.name!r} cannot be exported; supported: {SUPPORTED}")
    kind = TORCH_ACTIVATIONS[layer.name]
    if layer.name == "leaky_relu":
        return LayerSpec(kind, kwargs={"negative_slope": getattr(layer, "negative_slope", 0.01)})
    if layer.name == "elu":
        return LayerSpec(kind, kwargs={"alpha": getattr(layer, "alpha", 1.0)})
    return LayerSpec(kind)


def layer_specs(model: Module) -> list[LayerSpec]:
    """``model`` as a list of PyTorch layers; :class:`ExportError` names the first layer that has none."""
    if not isinstance(model, Module):
        raise ExportError(f"expected a backprop-lab Module, got {type(model).__name__}")
    specs: list[LayerSpec] = []
    for layer in _layers(model):
        if isinstance(layer, Linear):
            weight = _array(layer.weight).T.copy()  # ours (in, out) -> PyTorch's (out, in)
            args = (layer.in_features, layer.out_features)
            specs.append(LayerSpec("Linear", args, weight=weight, bias=_array(layer.bias)))
        elif isinstance(layer, Activation):
            specs.append(_activation_spec(layer))
        elif isinstance(layer, Dropout):
            specs.append(LayerSpec("Dropout", kwargs={"p": float(layer.p)}))
        else:
            raise ExportError(f"cannot export a {type(layer).__name__} layer; supported: {SUPPORTED}")
    if not specs:
        raise ExportError("the model has no layers to export")
    return specs


def _in_features(specs: Sequence[LayerSpec]) -> int | None:
    return next((int(s.args[0]) for s in specs if s.kind == "Linear"), None)


def _out_features(specs: Sequence[LayerSpec]) -> int | None:
    return next((int(s.args[1]) for s in reversed(specs) if s.kind == "Linear"), None)


# ---- PyTorch ---------------------------------------------------------------------------------------------


def to_torch(model: Module) -> Any:
    """A ``torch.nn.Sequential`` of standard layers computing what ``model`` computes, weights loaded
    (float32; each Linear weight transposed to PyTorch's (out, in)), in ``model``'s train/eval mode."""
    torch = require("torch")
    layers = []
    for spec in layer_specs(model):
        layer = getattr(torch.nn, spec.kind)(*spec.args, **spec.kwargs)
        if spec.weight is not None:
            with torch.no_grad():
                layer.weight.copy_(torch.from_numpy(spec.weight))
                layer.bias.copy_(torch.from_numpy(spec.bias))
        layers.append(layer)
    return torch.nn.Sequential(*layers).train(model.training)


def torch_source(model: Module) -> str:
    """The Python code of :func:`to_torch`'s module (the architecture; the weights travel separately)."""
    specs = layer_specs(model)
    lines = [
        "import torch",
        "from torch import nn",
        "",
        "# exported from backprop-lab; nn.Linear(in, out).weight is (out, in): ours (in, out) transposed",
        "model = nn.Sequential(",
        *[f"    {spec.source()}," for spec in specs],
        ")",
        "# the weights: torch.save(autograd.export.to_torch(ours).state_dict(), 'weights.pt'),",
        "# then model.load_state_dict(torch.load('weights.pt'))",
    ]
    return "\n".join(lines) + "\n"


def save_torch(model: Module, path: str | os.PathLike[str]) -> Any:
    """``torch.save`` the whole :func:`to_torch` module (in eval mode) to ``path``: a plain ``nn.Sequential``,
    so ``torch.load(path, weights_only=False)`` gives a working module without backprop-lab installed."""
    torch = require("torch")
    module = to_torch(model).eval()
    with atomic_path(path) as tmp:
        torch.save(module, tmp)
    return module


def _from_torch_layer(layer: Any, torch: ModuleType, engine: str, dtype: Any) -> Module:
    """One of our layers equal to the torch layer ``layer`` (exact class, not a subclass)."""
    nn = torch.nn
    kind = type(layer)
    if kind is nn.Linear:
        if layer.bias is None:
            raise ExportError("from_torch: nn.Linear(bias=False) is not supported (our Linear has a bias)")
        ours = Linear(layer.in_features, layer.out_features, engine=engine, dtype=dtype)
        weight = layer.weight.detach().cpu().numpy().T  # (out, in) -> ours (in, out)
        ours.load_state_dict({"weight": weight, "bias": layer.bias.detach().cpu().numpy()})
        return ours
    if kind is nn.Dropout:
        return Dropout(layer.p)
    if kind is nn.LeakyReLU:
        return LeakyReLU(layer.negative_slope)
    if kind is nn.ELU:
        return ELU(layer.alpha)
    if kind is nn.Softplus and layer.beta != 1:
        raise ExportError(f"from_torch: nn.Softplus(beta={layer.beta}) is not supported, only beta=1")
    simple = {nn.Identity: Identity, nn.ReLU: ReLU, nn.Tanh: Tanh, nn.Sigmoid: Sigmoid, nn.SiLU: SiLU}
    simple[nn.Softplus] = Softplus
    if kind in simple:
        return simple[kind]()
    raise ExportError(
        f"from_torch: {kind.__name__} is not supported; supported: {SUPPORTED}, nested Sequential"
    )


def from_torch(module: Any, engine: str = "tensor", dtype: Any = np.float32) -> Sequential:
    """Our ``Sequential`` computing what the ``torch.nn.Sequential`` ``module`` computes (weights copied,
    each Linear weight transposed to our (in, out)), on ``engine``, in ``module``'s train/eval mode."""
    torch = require("torch")
    if not isinstance(module, torch.nn.Sequential):
        raise ExportError(f"from_torch takes a torch.nn.Sequential, got {type(module).__name__}")

    def flat(seq: Any) -> Iterator[Any]:
        for child in seq:
            yield from flat(child) if isinstance(child, torch.nn.Sequential) else [child]

    layers = [_from_torch_layer(layer, torch, engine, dtype) for layer in flat(module)]
    ours = Sequential(*layers)
    ours.train(module.training)
    return ours


# ---- ONNX ------------------------------------------------------------------------------------------------

# activations as ONNX operators (opset 17): (op_type, attributes from the spec's kwargs)
ONNX_ACTIVATIONS = {
    "Identity": "Identity",
    "ReLU": "Relu",
    "Tanh": "Tanh",
    "Sigmoid": "Sigmoid",
    "LeakyReLU": "LeakyRelu",
    "ELU": "Elu",
    "Softplus": "Softplus",
}
ONNX_ATTRIBUTES = {"negative_slope": "alpha", "alpha": "alpha"}


def _onnx_nodes(
    specs: Sequence[LayerSpec], helper: ModuleType, numpy_helper: ModuleType
) -> tuple[list, list]:
    """The graph's nodes and initializers: input "input" -> ... -> output "output"."""
    nodes: list[Any] = []
    weights: list[Any] = []
    current = "input"
    for i, spec in enumerate(specs):
        out = f"/{i}/{spec.kind}"
        if spec.kind == "Dropout":
            continue  # the identity at inference
        if spec.kind == "Linear":  # y = x W^T + b with W in PyTorch's (out, in) layout
            weights += [
                numpy_helper.from_array(spec.weight, f"{i}.weight"),
                numpy_helper.from_array(spec.bias, f"{i}.bias"),
            ]
            nodes.append(helper.make_node("Gemm", [current, f"{i}.weight", f"{i}.bias"], [out], transB=1))
        elif spec.kind == "SiLU":  # x * sigmoid(x): no single operator before opset 22's Swish
            nodes.append(helper.make_node("Sigmoid", [current], [out + "/sigmoid"]))
            nodes.append(helper.make_node("Mul", [current, out + "/sigmoid"], [out]))
        else:
            attributes = {ONNX_ATTRIBUTES[k]: float(v) for k, v in spec.kwargs.items()}
            nodes.append(helper.make_node(ONNX_ACTIVATIONS[spec.kind], [current], [out], **attributes))
        current = out
    if not nodes:
        nodes.append(helper.make_node("Identity", ["input"], ["output"]))
    else:
        last = nodes[-1]
        last.output[0] = "output"
    return nodes, weights


def _dims(shape: Sequence[int | str | None], dynamic_batch: bool) -> list[int | str]:
    """ONNX dimensions: an int is fixed; None or a name is symbolic (axis 0 is "batch")."""
    dims: list[int | str] = []
    for axis, n in enumerate(shape):
        if axis == 0 and (dynamic_batch or n is None):
            dims.append("batch")
        elif n is None:
            dims.append(f"dim{axis}")
        else:
            dims.append(n if isinstance(n, str) else int(n))
    return dims


def to_onnx(
    model: Module,
    path: str | os.PathLike[str],
    input_shape: Sequence[int | str | None],
    dynamic_batch: bool = True,
) -> Any:
    """Write ``model`` to ``path`` as an ONNX model (opset 17, standard operators, float32) and return it.

    ``input_shape`` is the shape of the input the model takes, batch axis first, e.g. (1, 784) for 03's
    MNIST model (the flattened pixels scaled to [0, 1]); axis 0 is left free (any batch size) unless
    ``dynamic_batch=False``. The graph has one input "input" and one output "output"; each Linear is a
    Gemm whose weight initializer "i.weight" is in PyTorch's (out, in) layout (transB=1).
    """
    onnx = require("onnx")
    from onnx import TensorProto, helper, numpy_helper

    specs = layer_specs(model)
    shape = tuple(input_shape)
    expected = _in_features(specs)
    if len(shape) != 2:
        raise ExportError(f"input_shape must be (batch, features), got {shape}")
    if expected is not None and shape[-1] != expected:
        raise ExportError(f"input_shape {shape} does not fit the model, which takes {expected} features")
    nodes, weights = _onnx_nodes(specs, helper, numpy_helper)
    dims = _dims(shape, dynamic_batch)
    out_dims = [dims[0], _out_features(specs) or dims[-1]]
    graph = helper.make_graph(
        nodes,
        type(model).__name__,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_dims)],
        initializer=weights,
    )
    proto = helper.make_model(
        graph,
        producer_name="backprop-lab",
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=ONNX_IR_VERSION,
    )
    onnx.checker.check_model(proto, full_check=True)
    with atomic_path(path) as tmp:
        onnx.save(proto, tmp)
    return proto


def run_onnx(path: str | os.PathLike[str], inputs: np.ndarray, threads: int = 1) -> np.ndarray:
    """The output of the ONNX model at ``path`` on ``inputs`` (cast to float32) under onnxruntime (CPU)."""
    onnxruntime = require("onnxruntime")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(os.fspath(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"input": np.asarray(inputs, dtype=np.float32)})[0]
