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

Supported: ``MLP``, ``Sequential`` (nested ones are flattened), ``Linear``, ``Conv2d``, ``MaxPool2d``,
``AvgPool2d``, ``Flatten``, ``Unflatten`` (a Reshape in ONNX: a CNN can take flat rows), the activations of
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

from autograd.core import no_grad
from autograd.files import atomic_path
from autograd.nn import (
    ELU,
    GELU,
    MLP,
    Activation,
    AvgPool2d,
    Conv2d,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softplus,
    Tanh,
    Unflatten,
    ValueGrid,
)
from autograd.tensor import Tensor

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
SUPPORTED = (
    "Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten, Unflatten, Dropout and the activations "
    + ", ".join(TORCH_ACTIVATIONS.values())
    + ", GELU"
)


def _pair(value: Any) -> tuple[int, int]:
    """An int or a pair as a pair of ints (a kernel size, a stride...)."""
    if isinstance(value, (int, np.integer)):
        return (int(value), int(value))
    first, second = value
    return (int(first), int(second))


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


def _cnn_spec(layer: Module) -> LayerSpec:
    """A Conv2d (its weight already in PyTorch's layout), a pooling layer or Flatten, in PyTorch's terms."""
    if isinstance(layer, Conv2d):
        weight = _array(layer.weight)
        out_channels, in_per_group, kh, kw = weight.shape
        padding = layer.padding if isinstance(layer.padding, str) else _pair(layer.padding)
        kwargs = {
            "stride": _pair(layer.stride),
            "padding": padding,
            "dilation": _pair(layer.dilation),
            "groups": int(layer.groups),
            "bias": layer.bias is not None,
        }
        args = (in_per_group * int(layer.groups), out_channels, (kh, kw))
        bias = None if layer.bias is None else _array(layer.bias)
        return LayerSpec("Conv2d", args, kwargs, weight=weight, bias=bias)
    if isinstance(layer, MaxPool2d):
        kernel = _pair(layer.kernel_size)
        stride = kernel if layer.stride is None else _pair(layer.stride)
        kwargs = {"stride": stride, "padding": _pair(layer.padding), "dilation": _pair(layer.dilation)}
        return LayerSpec("MaxPool2d", (kernel,), kwargs)
    if isinstance(layer, AvgPool2d):
        kernel = _pair(layer.kernel_size)
        stride = kernel if layer.stride is None else _pair(layer.stride)
        kwargs = {"stride": stride, "padding": _pair(layer.padding)}
        kwargs["count_include_pad"] = bool(layer.count_include_pad)
        return LayerSpec("AvgPool2d", (kernel,), kwargs)
    assert isinstance(layer, Flatten)
    return LayerSpec("Flatten", kwargs={"start_dim": int(layer.start_dim), "end_dim": int(layer.end_dim)})


def layer_specs(model: Module) -> list[LayerSpec]:
    """``model`` as a list of PyTorch layers; :class:`ExportError` names the first layer that has none."""
    if not isinstance(model, Module):
        raise ExportError(f"expected a backprop-lab Module, got {type(model).__name__}")
    specs: list[LayerSpec] = []
    for layer in _layers(model):
        if isinstance(layer, GELU):
            specs.append(LayerSpec("GELU", kwargs={"approximate": layer.approximate}))
        elif isinstance(layer, (Conv2d, MaxPool2d, AvgPool2d, Flatten)):
            specs.append(_cnn_spec(layer))
        elif isinstance(layer, Linear):
            weight = _array(layer.weight).T.copy()  # ours (in, out) -> PyTorch's (out, in)
            args = (layer.in_features, layer.out_features)
            specs.append(LayerSpec("Linear", args, weight=weight, bias=_array(layer.bias)))
        elif isinstance(layer, Activation):
            specs.append(_activation_spec(layer))
        elif isinstance(layer, Dropout):
            specs.append(LayerSpec("Dropout", kwargs={"p": float(layer.p)}))
        elif isinstance(layer, Unflatten):
            specs.append(LayerSpec("Unflatten", (int(layer.dim), tuple(layer.sizes))))
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
        with torch.no_grad():
            if spec.weight is not None:
                layer.weight.copy_(torch.from_numpy(spec.weight))
            if spec.bias is not None:
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
    if kind in (nn.Conv2d, nn.GELU) and engine == "scalar":
        raise ExportError(f"from_torch: {kind.__name__} runs on the tensor engine only")
    if kind is nn.Conv2d:
        if layer.padding_mode != "zeros":
            raise ExportError(f"from_torch: Conv2d(padding_mode={layer.padding_mode!r}) is not supported")
        conv = Conv2d(
            layer.in_channels,
            layer.out_channels,
            layer.kernel_size,
            layer.stride,
            layer.padding,
            layer.dilation,
            layer.groups,
            bias=layer.bias is not None,
            dtype=dtype,
        )
        state = {"weight": layer.weight.detach().cpu().numpy()}
        if layer.bias is not None:
            state["bias"] = layer.bias.detach().cpu().numpy()
        conv.load_state_dict(state)
        return conv
    if kind in (nn.MaxPool2d, nn.AvgPool2d) and layer.ceil_mode:
        raise ExportError(f"from_torch: {kind.__name__}(ceil_mode=True) is not supported")
    if kind is nn.MaxPool2d:
        if layer.return_indices:
            raise ExportError("from_torch: MaxPool2d(return_indices=True) is not supported")
        return MaxPool2d(layer.kernel_size, layer.stride, layer.padding, layer.dilation)
    if kind is nn.AvgPool2d:
        if layer.divisor_override is not None:
            raise ExportError("from_torch: AvgPool2d(divisor_override=...) is not supported")
        return AvgPool2d(layer.kernel_size, layer.stride, layer.padding, layer.count_include_pad)
    if kind is nn.Flatten:
        return Flatten(layer.start_dim, layer.end_dim)
    if kind is nn.Unflatten:
        return Unflatten(layer.dim, layer.unflattened_size)
    if kind is nn.GELU:
        return GELU(layer.approximate)
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


class _OnnxGraph:
    """The nodes and initializers of an ONNX graph, built layer by layer from "input"."""

    def __init__(self, helper: ModuleType, numpy_helper: ModuleType) -> None:
        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list[Any] = []
        self.weights: list[Any] = []
        self.current = "input"

    def weight(self, name: str, array: np.ndarray) -> str:
        self.weights.append(self.numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    def integers(self, name: str, values: Sequence[int]) -> str:
        """An int64 initializer (a shape, as Reshape takes it)."""
        self.weights.append(self.numpy_helper.from_array(np.asarray(values, dtype=np.int64), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        self.nodes.append(self.helper.make_node(op, inputs, [output], **attributes))
        return output

    def layer(self, i: int, spec: LayerSpec) -> None:
        """Append layer ``i`` after the current output (Dropout, the identity at inference: nothing)."""
        x, out = self.current, f"/{i}/{spec.kind}"
        if spec.kind == "Dropout":
            return
        if spec.kind == "Linear":  # y = x W^T + b with W in PyTorch's (out, in) layout
            w, b = self.weight(f"{i}.weight", spec.weight), self.weight(f"{i}.bias", spec.bias)
            self.node("Gemm", [x, w, b], out, transB=1)
        elif spec.kind == "Conv2d":
            inputs = [x, self.weight(f"{i}.weight", spec.weight)]
            if spec.bias is not None:
                inputs.append(self.weight(f"{i}.bias", spec.bias))
            kernel = list(spec.args[2])
            pads = _conv_pads(spec.kwargs["padding"], kernel, spec.kwargs["dilation"])
            self.node(
                "Conv",
                inputs,
                out,
                kernel_shape=kernel,
                strides=list(spec.kwargs["stride"]),
                pads=pads,
                dilations=list(spec.kwargs["dilation"]),
                group=spec.kwargs["groups"],
            )
        elif spec.kind in ("MaxPool2d", "AvgPool2d"):
            attributes = {
                "kernel_shape": list(spec.args[0]),
                "strides": list(spec.kwargs["stride"]),
                "pads": list(spec.kwargs["padding"]) * 2,
            }
            if spec.kind == "MaxPool2d":
                self.node("MaxPool", [x], out, dilations=list(spec.kwargs["dilation"]), **attributes)
            else:
                include = int(spec.kwargs["count_include_pad"])
                self.node("AveragePool", [x], out, count_include_pad=include, **attributes)
        elif spec.kind == "Flatten":
            if (spec.kwargs["start_dim"], spec.kwargs["end_dim"]) != (1, -1):
                raise ExportError("ONNX export: only Flatten(start_dim=1, end_dim=-1) is supported")
            self.node("Flatten", [x], out, axis=1)
        elif spec.kind == "Unflatten":  # (batch, prod(sizes)) -> (batch, *sizes); shape 0 copies the batch
            dim, sizes = spec.args
            if dim != 1:
                raise ExportError("ONNX export: only Unflatten(dim=1, sizes) is supported")
            self.node("Reshape", [x, self.integers(f"{i}.shape", [0, *sizes])], out)
        elif spec.kind == "SiLU":  # x sigmoid(x): no single operator before opset 22's Swish
            self.node("Mul", [x, self.node("Sigmoid", [x], out + "/sigmoid")], out)
        elif spec.kind == "GELU":
            self.gelu(x, out, spec.kwargs["approximate"])
        else:
            attributes = {ONNX_ATTRIBUTES[k]: float(v) for k, v in spec.kwargs.items()}
            self.node(ONNX_ACTIVATIONS[spec.kind], [x], out, **attributes)
        self.current = out

    def gelu(self, x: str, out: str, approximate: str) -> None:
        """x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, or with ``approximate="tanh"``
        x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2 (opset 17 has no Gelu operator: opset 20 has)."""
        half, one = self.weight(out + "/half", 0.5), self.weight(out + "/one", 1.0)
        if approximate == "tanh":
            cube = self.node("Mul", [x, self.node("Mul", [x, x], out + "/x2")], out + "/x3")
            scaled = self.node("Mul", [cube, self.weight(out + "/c", 0.044715)], out + "/cx3")
            inner = self.node("Add", [x, scaled], out + "/inner")
            root = self.weight(out + "/sqrt_2_over_pi", np.sqrt(2 / np.pi))
            phi = self.node("Tanh", [self.node("Mul", [inner, root], out + "/arg")], out + "/tanh")
        else:
            root2 = self.weight(out + "/sqrt2", np.sqrt(2.0))
            phi = self.node("Erf", [self.node("Div", [x, root2], out + "/arg")], out + "/erf")
        gate = self.node("Mul", [self.node("Add", [phi, one], out + "/1p"), half], out + "/gate")
        self.node("Mul", [x, gate], out)

    def finish(self) -> None:
        """Name the last output "output" (an Identity node when the model has none)."""
        if not self.nodes:
            self.node("Identity", ["input"], "output")
        else:
            self.nodes[-1].output[0] = "output"


def _conv_pads(padding: Any, kernel: Sequence[int], dilation: Sequence[int]) -> list[int]:
    """ONNX's pads (top, left, bottom, right) for PyTorch's padding: a pair, "valid" or "same" (stride 1,
    an even total d (k - 1), split equally: the only "same" the engine allows)."""
    if padding == "valid":
        pair = (0, 0)
    elif padding == "same":
        pair = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
    else:
        pair = _pair(padding)
    return [*pair, *pair]


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


def _output_shape(model: Module, specs: Sequence[LayerSpec], shape: tuple[Any, ...]) -> tuple[int, ...]:
    """The model's output shape for one input of ``shape`` (batch axis first), by running our model on
    zeros (the scalar engine takes no batch: its MLP gives its last Linear's size); ExportError when the
    input does not fit the model."""
    expected = _in_features(specs)
    if specs[0].kind == "Linear" and (len(shape) != 2 or shape[-1] != expected):
        raise ExportError(f"input_shape {shape} does not fit the model, which takes (batch, {expected})")
    if any(isinstance(p, ValueGrid) for _, p in model.named_parameters()):
        return (1, int(_out_features(specs) or shape[-1]))
    if not all(isinstance(n, (int, np.integer)) for n in shape[1:]):
        raise ExportError(f"input_shape {shape}: every axis but the batch axis needs a size")
    training = model.training
    model.eval()
    try:
        with no_grad():
            return tuple(model(Tensor(np.zeros((1, *shape[1:]), dtype=np.float32))).shape)
    except (ValueError, TypeError) as e:
        raise ExportError(f"input_shape {shape} does not fit the model: {e}") from None
    finally:
        model.train(training)


def to_onnx(
    model: Module,
    path: str | os.PathLike[str],
    input_shape: Sequence[int | str | None],
    dynamic_batch: bool = True,
) -> Any:
    """Write ``model`` to ``path`` as an ONNX model (opset 17, standard operators, float32) and return it.

    ``input_shape`` is the shape of the input the model takes, batch axis first: (1, 784) for 03's MNIST
    MLP (the flattened pixels scaled to [0, 1]), (1, 1, 28, 28) for a CNN on the images; axis 0 is left
    free (any batch size) unless ``dynamic_batch=False``. The graph has one input "input" and one output
    "output"; each Linear is a Gemm whose weight initializer "i.weight" is in PyTorch's (out, in) layout
    (transB=1), each Conv2d a Conv with PyTorch's (out, in/groups, kh, kw) weight.
    """
    onnx = require("onnx")
    from onnx import TensorProto, helper, numpy_helper

    specs = layer_specs(model)
    shape = tuple(input_shape)
    if len(shape) < 2:
        raise ExportError(f"input_shape must have a batch axis and the input's axes, got {shape}")
    out_shape = _output_shape(model, specs, shape)
    graph = _OnnxGraph(helper, numpy_helper)
    for i, spec in enumerate(specs):
        graph.layer(i, spec)
    graph.finish()
    dims = _dims(shape, dynamic_batch)
    proto = helper.make_model(
        helper.make_graph(
            graph.nodes,
            type(model).__name__,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, dims)],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, [dims[0], *out_shape[1:]])],
            initializer=graph.weights,
        ),
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
