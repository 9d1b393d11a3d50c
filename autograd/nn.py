"""Neural-network building blocks that work on both engines.

The same module runs on scalars (``engine="scalar"``: a sample is a list of ``Value``s, a weight matrix is
a grid of ``Value``s) or on arrays (``engine="tensor"``: a batch is a ``Tensor`` of shape (N, features)).
Parameter names and shapes are identical in both, so ``state_dict`` / ``load_state_dict`` carry weights from
one engine to the other and the two can be compared weight for weight.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterator, Sequence, Union

import numpy as np

from autograd.files import read_npz, write_npz
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

    def zero_grad(self) -> None:
        """Reset every parameter's gradient (gradients accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0 if isinstance(p, Value) else None

    def train(self, mode: bool = True) -> Module:
        self.training = mode
        for _, child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

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


class Linear(Module):
    """y = x W + b, with W of shape (in_features, out_features) and b of shape (out_features,).

    Gradients: dL/dW = x^T dL/dy, dL/db = sum over the batch of dL/dy, dL/dx = dL/dy W^T.
    On the scalar engine each output is one ``Value.dot`` node: y_j = sum_i W_ij x_i + b_j.
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
        self.engine = engine
        self.weight = make_parameter(init_weight(in_features, out_features, rng, init), engine, dtype)
        self.bias = make_parameter(np.zeros(out_features), engine, dtype)

    def forward(self, x: Any) -> Any:
        if isinstance(self.weight, Tensor):
            return x @ self.weight + self.bias
        columns = self.weight.values.T  # column j holds the weights into output j
        return [Value.dot(w_j, x, b_j) for w_j, b_j in zip(columns, self.bias.values)]


class Activation(Module):
    """An elementwise activation from :data:`ACTIVATIONS`, by name."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.fn = activation(name)

    def forward(self, x: Any) -> Any:
        return _elementwise(self.fn, x)


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


class Sequential(Module):
    """Modules applied in order."""

    def __init__(self, *layers: Module) -> None:
        self.layers = list(layers)

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        for i, layer in enumerate(self.layers):
            yield from layer.named_parameters(f"{prefix}{i}.")


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
                layers.append(Activation(activation))
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
