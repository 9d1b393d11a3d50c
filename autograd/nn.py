"""Neural-network building blocks that work on both engines.

The same module runs on scalars (``engine="scalar"``: a sample is a list of ``Value``s, a weight matrix is
a grid of ``Value``s) or on arrays (``engine="tensor"``: a batch is a ``Tensor`` of shape (N, features)).
Parameter names and shapes are identical in both, so ``state_dict`` / ``load_state_dict`` carry weights from
one engine to the other and the two can be compared weight for weight.

Where PyTorch's conventions differ (:mod:`autograd.export` carries a model across in both directions):

- ``Linear.weight`` has shape (in_features, out_features), so that y = x W + b reads like the math;
  PyTorch's ``nn.Linear.weight`` is (out_features, in_features) (y = x W^T + b). ``repr`` says which.
- ``.grad`` before any backward pass: a ``Tensor``'s is ``None`` (as in PyTorch), a ``Value``'s is ``0.0``
  (as in micrograd: a Value's gradient is always a float). ``zero_grad()`` restores exactly that state.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Iterator, Sequence, Union

import numpy as np

from autograd.files import read_npz, write_npz
from autograd.functional import affine, avg_pool2d, conv2d, max_pool2d
from autograd.scalar import Value
from autograd.tensor import Tensor

ENGINES = ("scalar", "tensor")
ScalarBatch = Sequence[Union[Value, float]]
Activations = Union[Tensor, list]

# ---- one activation registry for both engines: each entry calls the method both Value and Tensor define ----

ACTIVATIONS: dict[str, Callable[[Any], Any]] = {
    "identity": lambda x: x,
    "sigmoid": lambda x: x.sigmoid(),
    "tanh": lambda x: x.tanh(),
    "relu": lambda x: x.relu(),
    "leaky_relu": lambda x: x.leaky_relu(0.01),
    "elu": lambda x: x.elu(1.0),
    "silu": lambda x: x.silu(),
    "softplus": lambda x: x.softplus(),
}


def activation(name: str) -> Callable[[Any], Any]:
    """The activation function called ``name`` (works on a Value or a Tensor)."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}") from None


def _elementwise(fn: Callable[[Any], Any], x: Activations) -> Activations:
    """Apply ``fn`` to a Tensor at once, or to each Value of a scalar sample."""
    return fn(x) if isinstance(x, Tensor) else [fn(v) for v in x]


# ---- initialization ---------------------------------------------------------------------------------------


def init_weight(fan_in: int, fan_out: int, rng: np.random.Generator, scheme: str) -> np.ndarray:
    """A (fan_in, fan_out) weight matrix drawn from N(0, std^2).

    ``he`` (Kaiming): std = sqrt(2 / fan_in), keeps the activation variance through ReLU layers.
    ``xavier`` (Glorot): std = sqrt(2 / (fan_in + fan_out)), for tanh and sigmoid layers.
    """
    if scheme == "he":
        std = np.sqrt(2.0 / fan_in)
    elif scheme == "xavier":
        std = np.sqrt(2.0 / (fan_in + fan_out))
    else:
        raise ValueError(f"unknown init scheme {scheme!r}; choose 'he' or 'xavier'")
    return rng.normal(0.0, std, size=(fan_in, fan_out))


def default_init(activation_name: str) -> str:
    """He initialization for the ReLU family, Xavier for the rest."""
    return "he" if activation_name in ("relu", "leaky_relu", "elu", "silu") else "xavier"


# ---- parameters -------------------------------------------------------------------------------------------


class ValueGrid:
    """A scalar-engine parameter: an array of ``Value``s with a shape, like a Tensor's."""

    def __init__(self, data: np.ndarray) -> None:
        self.shape = tuple(np.shape(data))
        self.values = np.array([Value(x) for x in np.ravel(data)], dtype=object).reshape(self.shape)

    def numpy(self) -> np.ndarray:
        return np.array([v.data for v in self.values.ravel()], dtype=np.float64).reshape(self.shape)

    def grad_numpy(self) -> np.ndarray:
        return np.array([v.grad for v in self.values.ravel()], dtype=np.float64).reshape(self.shape)

    def assign(self, array: np.ndarray) -> None:
        for v, x in zip(self.values.ravel(), np.ravel(array)):
            v.data = float(x)


Parameter = Union[Tensor, ValueGrid]


def make_parameter(array: np.ndarray, engine: str, dtype: Any = np.float32) -> Parameter:
    """A trainable parameter holding ``array`` in the given engine."""
    if engine == "scalar":
        return ValueGrid(array)
    if engine == "tensor":
        return Tensor(array, requires_grad=True, dtype=dtype)
    raise ValueError(f"unknown engine {engine!r}; choose 'scalar' or 'tensor'")


# ---- modules ----------------------------------------------------------------------------------------------


class Module:
    """Base class: finds parameters and submodules among its attributes, in the order they were set."""

    training = True

    def __call__(self, x: Any) -> Any:
        return self.forward(x)

    def forward(self, x: Any) -> Any:
        raise NotImplementedError

    def children(self) -> Iterator[tuple[str, Module]]:
        for name, attr in vars(self).items():
            if isinstance(attr, Module):
                yield name, attr
            elif isinstance(attr, (list, tuple)):
                for i, item in enumerate(attr):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) for this module's parameters, then its children's."""
        for name, attr in vars(self).items():
            if isinstance(attr, ValueGrid) or (isinstance(attr, Tensor) and attr.requires_grad):
                yield prefix + name, attr
        for name, child in self.children():
            yield from child.named_parameters(f"{prefix}{name}.")

    def parameters(self) -> list[Value | Tensor]:
        """Trainable leaves for an optimizer: Tensors as they are, scalar grids as their individual Values."""
        params: list[Value | Tensor] = []
        for _, p in self.named_parameters():
            params.extend(p.values.ravel().tolist() if isinstance(p, ValueGrid) else [p])
        return params

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient (gradients accumulate across backward calls); see
        :func:`reset_grads` for ``set_to_none`` (PyTorch's meaning and default)."""
        reset_grads(self.parameters(), set_to_none)

    def train(self, mode: bool = True) -> Module:
        self.training = mode
        for _, child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    # ---- printing: PyTorch's tree form ----

    def extra_repr(self) -> str:
        """This module's own settings for ``repr`` (sizes, a probability); children are printed below."""
        return ""

    def __repr__(self) -> str:
        """``Name(settings)``, or, with children, ``Name(`` then one indented line per setting and per
        ``(name): child``, as PyTorch prints a module."""
        children = [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self.children()]
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = ([extra] if extra else []) + children
        return type(self).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"

    # ---- weights in and out (no pickle: plain .npz arrays) ----

    def state_dict(self) -> dict[str, np.ndarray]:
        return {
            name: p.numpy() if isinstance(p, ValueGrid) else p.data.copy()
            for name, p in self.named_parameters()
        }

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy arrays into the parameters; names and shapes must match exactly (works across engines)."""
        own = dict(self.named_parameters())
        missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        if missing or unexpected:
            raise ValueError(f"state_dict mismatch: missing {missing}, unexpected {unexpected}")
        for name, p in own.items():
            array = np.asarray(state[name])
            if array.shape != tuple(p.shape):
                raise ValueError(f"state_dict: {name} has shape {array.shape}, expected {tuple(p.shape)}")
            if isinstance(p, ValueGrid):
                p.assign(array)
            else:
                p.data[...] = array

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the state_dict to ``path`` (.npz) atomically: a temporary file, then a rename."""
        write_npz(path, self.state_dict())

    def load(self, path: str | os.PathLike[str]) -> None:
        """Read weights written by :meth:`save` (``allow_pickle=False``: arrays only, never code)."""
        self.load_state_dict(read_npz(path, {k: v.shape for k, v in self.state_dict().items()}))


def reset_grads(params: Iterable[Value | Tensor], set_to_none: bool = True) -> None:
    """Clear the gradients of ``params`` before the next backward pass.

    A Tensor's ``grad`` becomes ``None`` (``set_to_none=True``, PyTorch's default) or is zeroed in place
    (``set_to_none=False``; a ``None`` gradient stays ``None``, as in PyTorch). A Value's ``grad`` is a float,
    never ``None``: it becomes ``0.0`` either way.
    """
    for p in params:
        p.zero_grad(set_to_none)


class Linear(Module):
    """y = x W + b, with W of shape (in_features, out_features) and b of shape (out_features,).

    Gradients: dL/dW = x^T dL/dy, dL/db = sum over the batch of dL/dy, dL/dx = dL/dy W^T.
    On the scalar engine each output is one ``Value.dot`` node: y_j = sum_i W_ij x_i + b_j.

    The layout differs from PyTorch's: ``torch.nn.Linear(in, out).weight`` is (out, in) and computes
    x W^T + b. ``repr`` says ``weight: (in, out)``; :mod:`autograd.export` transposes in both directions.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        engine: str = "tensor",
        rng: np.random.Generator | None = None,
        init: str = "he",
        dtype: Any = np.float32,
    ) -> None:
        rng = rng if rng is not None else np.random.default_rng(0)
        self.in_features, self.out_features = in_features, out_features
        self.engine = engine
        self.weight = make_parameter(init_weight(in_features, out_features, rng, init), engine, dtype)
        self.bias = make_parameter(np.zeros(out_features), engine, dtype)

    def forward(self, x: Any) -> Any:
        if isinstance(self.weight, Tensor):
            return affine(
                x if isinstance(x, Tensor) else Tensor(x, dtype=self.weight.data.dtype),
                self.weight,
                self.bias,
            )
        columns = self.weight.values.T  # column j holds the weights into output j
        return [Value.dot(w_j, x, b_j) for w_j, b_j in zip(columns, self.bias.values)]

    def extra_repr(self) -> str:
        sizes = f"in_features={self.in_features}, out_features={self.out_features}, bias=True"
        return sizes + ", weight: (in, out)" + (", engine=scalar" if self.engine == "scalar" else "")


class Activation(Module):
    """An elementwise activation from :data:`ACTIVATIONS`, by name (``Activation("tanh")``); the classes
    below (``ReLU()``, ``Tanh()``, ``LeakyReLU(0.2)``...) are the same module under PyTorch's names."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.fn = activation(name)

    def forward(self, x: Any) -> Any:
        return _elementwise(self.fn, x)

    def __repr__(self) -> str:
        if type(self) is Activation:  # printed as the module it equals: Activation("tanh") as Tanh()
            return repr(ACTIVATION_MODULES[self.name]())
        return super().__repr__()


class Identity(Activation):
    """f(x) = x."""

    def __init__(self) -> None:
        super().__init__("identity")


class ReLU(Activation):
    """f(x) = max(0, x); f'(x) = 1 for x > 0, else 0."""

    def __init__(self) -> None:
        super().__init__("relu")


class Tanh(Activation):
    """f(x) = tanh(x); f'(x) = 1 - tanh(x)^2."""

    def __init__(self) -> None:
        super().__init__("tanh")


class Sigmoid(Activation):
    """f(x) = 1 / (1 + e^-x); f'(x) = f(x) (1 - f(x))."""

    def __init__(self) -> None:
        super().__init__("sigmoid")


class LeakyReLU(Activation):
    """f(x) = x for x > 0, negative_slope * x otherwise; f'(x) = 1 or negative_slope."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__("leaky_relu")
        self.negative_slope = slope = float(negative_slope)
        self.fn = lambda x: x.leaky_relu(slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Activation):
    """f(x) = x for x > 0, alpha (e^x - 1) otherwise; f'(x) = 1 or f(x) + alpha."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__("elu")
        self.alpha = scale = float(alpha)
        self.fn = lambda x: x.elu(scale)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SiLU(Activation):
    """f(x) = x sigmoid(x) (swish); f'(x) = sigmoid(x) (1 + x (1 - sigmoid(x)))."""

    def __init__(self) -> None:
        super().__init__("silu")


class Softplus(Activation):
    """f(x) = log(1 + e^x); f'(x) = sigmoid(x)."""

    def __init__(self) -> None:
        super().__init__("softplus")


class GELU(Activation):
    """f(x) = x Phi(x), Phi the standard normal CDF (``approximate="tanh"``: PyTorch's tanh approximation).
    Tensor engine only: the scalar ``Value`` has no gelu."""

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.name = "gelu"
        self.approximate = approximate
        self.fn = lambda x: x.gelu(approximate)

    def forward(self, x: Any) -> Any:
        if not isinstance(x, Tensor):
            raise TypeError("GELU runs on the tensor engine only (the scalar Value has no gelu)")
        return self.fn(x)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


# the module class for each name of ACTIVATIONS (MLP builds these; repr prints an Activation by them)
ACTIVATION_MODULES: dict[str, type[Activation]] = {
    "identity": Identity,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "silu": SiLU,
    "softplus": Softplus,
}


def activation_module(name: str) -> Activation:
    """A new activation module for the name of an entry of :data:`ACTIVATIONS` (``"tanh"`` -> ``Tanh()``)."""
    activation(name)  # the one error message for an unknown name
    return ACTIVATION_MODULES[name]()


class Dropout(Module):
    """Inverted dropout: in training, zero each activation with probability p and scale the rest by 1/(1-p),
    so the expected activation is unchanged; in evaluation, the identity."""

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None) -> None:
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.rng = rng if rng is not None else np.random.default_rng(0)

    def forward(self, x: Any) -> Any:
        if not self.training or self.p == 0:
            return x
        if isinstance(x, Tensor):
            return x.dropout(self.p, self.rng)
        keep = (self.rng.random(len(x)) >= self.p) / (1 - self.p)
        return [v * float(k) for v, k in zip(x, keep)]

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Sequential(Module):
    """Modules applied in order; ``model[i]``, ``len(model)`` and iteration reach the layers."""

    def __init__(self, *layers: Module) -> None:
        self.layers = list(layers)

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def children(self) -> Iterator[tuple[str, Module]]:
        """The layers named by their index (PyTorch's names: ``0.weight``, ``(0): Linear(...)``)."""
        for i, layer in enumerate(self.layers):
            yield str(i), layer

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)


class MLP(Module):
    """A multilayer perceptron ``sizes = [inputs, hidden..., outputs]``: Linear layers with ``activation``
    between them (none after the last), optional dropout after each hidden activation.

    ``engine="scalar"`` builds it from Values (call it on one sample, a list of numbers; it returns a list
    of Values), ``engine="tensor"`` from Tensors (call it on a batch (N, inputs); it returns (N, outputs)).
    With the same ``seed`` both engines start from identical weights.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        engine: str = "tensor",
        seed: int = 0,
        init: str | None = None,
        dropout: float = 0.0,
        dtype: Any = np.float32,
    ) -> None:
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}; choose 'scalar' or 'tensor'")
        if len(sizes) < 2:
            raise ValueError("an MLP needs at least an input size and an output size")
        rng = np.random.default_rng(seed)
        init = init or default_init(activation)
        layers: list[Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            last = i == len(sizes) - 2
            layers.append(Linear(fan_in, fan_out, engine, rng, "xavier" if last else init, dtype))
            if not last:
                layers.append(activation_module(activation))
                if dropout > 0:
                    layers.append(Dropout(dropout, rng))
        self.sizes = list(sizes)
        self.activation = activation
        self.engine = engine
        self.net = Sequential(*layers)

    def forward(self, x: Any) -> Any:
        if self.engine == "scalar" and isinstance(x, np.ndarray):
            x = x.tolist()
        return self.net(x)

    def linear_layers(self) -> list[Linear]:
        return [layer for layer in self.net.layers if isinstance(layer, Linear)]


# ---- convolutional networks (Tensor engine only; PyTorch's layouts and default initialization) ------------


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, (int, np.integer)) else (int(value[0]), int(value[1]))


class Conv2d(Module):
    """z = conv2d(x, W) + b for x (N, in_channels, H, W): W (out_channels, in_channels/groups, kh, kw) and
    b (out_channels,), PyTorch's layout, so that weights carry across with ``state_dict``.

    PyTorch's default initialization: W and b uniform in +-1/sqrt(fan_in), fan_in = in/groups * kh * kw
    (``kaiming_uniform_(a=sqrt(5))``). Gradients: see ``autograd.ops.Conv``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | str = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool = True,
        rng: np.random.Generator | None = None,
        dtype: Any = np.float32,
    ) -> None:
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d: groups={groups} must divide in_channels={in_channels}"
                f" and out_channels={out_channels}"
            )
        rng = rng if rng is not None else np.random.default_rng(0)
        kernel = _pair(kernel_size)
        fan_in = in_channels // groups * kernel[0] * kernel[1]
        bound = 1 / np.sqrt(fan_in)
        shape = (out_channels, in_channels // groups, *kernel)
        self.weight = Tensor(rng.uniform(-bound, bound, size=shape), requires_grad=True, dtype=dtype)
        self.bias = (
            Tensor(rng.uniform(-bound, bound, size=out_channels), requires_grad=True, dtype=dtype)
            if bias
            else None
        )
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def forward(self, x: Tensor) -> Tensor:
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        """As PyTorch prints it: settings left at their defaults are not shown."""
        out_channels, in_per_group, kh, kw = self.weight.shape
        text = f"{in_per_group * self.groups}, {out_channels}, kernel_size={(kh, kw)}"
        text += f", stride={_pair(self.stride)}"
        if self.padding != 0 and self.padding != (0, 0):
            text += (
                f", padding={self.padding!r}"
                if isinstance(self.padding, str)
                else f", padding={_pair(self.padding)}"
            )
        if _pair(self.dilation) != (1, 1):
            text += f", dilation={_pair(self.dilation)}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + (", bias=False" if self.bias is None else "")


class MaxPool2d(Module):
    """The maximum over each kh x kw window (stride: the window size unless given)."""

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] | None = None,
        padding: int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
    ) -> None:
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation

    def forward(self, x: Tensor) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        stride = self.kernel_size if self.stride is None else self.stride
        text = f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"
        return text + f", dilation={self.dilation}"


class AvgPool2d(Module):
    """The mean over each kh x kw window (stride: the window size unless given)."""

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] | None = None,
        padding: int | Sequence[int] = 0,
        count_include_pad: bool = True,
    ) -> None:
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.count_include_pad = count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.count_include_pad)

    def extra_repr(self) -> str:
        stride = self.kernel_size if self.stride is None else self.stride
        text = f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"
        return text + ("" if self.count_include_pad else ", count_include_pad=False")


class Flatten(Module):
    """Merge axes ``start_dim``..``end_dim`` into one: (N, C, H, W) to (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``sizes``: (N, C*H*W) to (N, C, H, W) with ``Unflatten(1, (C, H, W))``,
    Flatten's inverse (PyTorch's ``nn.Unflatten``). A reshape: the gradient is reshaped back."""

    def __init__(self, dim: int, sizes: Sequence[int]) -> None:
        self.dim, self.sizes = dim, tuple(int(n) for n in sizes)

    def forward(self, x: Tensor) -> Tensor:
        dim = self.dim % x.ndim
        return x.reshape(*x.shape[:dim], *self.sizes, *x.shape[dim + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.sizes}"
