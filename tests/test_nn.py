"""``autograd.nn``: modules, parameters, state_dict round trips (no pickle), initialization, the activation
registry, dropout, and the same MLP on both engines agreeing to 1e-12."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from autograd import Tensor, Value, mse_loss
from autograd.gradcheck import gradcheck
from autograd.nn import (
    ACTIVATION_MODULES,
    ACTIVATIONS,
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
    ValueGrid,
    activation,
    activation_module,
    default_init,
    init_weight,
)
from autograd.optim import SGD

# ---- the same network on both engines -------------------------------------------------------------------


def _scalar_loss(model: MLP, X: np.ndarray, y: np.ndarray) -> Value:
    """Mean squared error over the batch, one sample at a time through the scalar engine."""
    terms = []
    for row, target in zip(X, y):
        out = model(row)
        terms += [(o - float(t)) ** 2 for o, t in zip(out, target)]
    return Value.sum(terms) / len(terms)


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_scalar_and_tensor_mlp_give_the_same_loss_and_gradients(act) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    scalar = MLP([3, 5, 4, 2], activation=act, engine="scalar", seed=11)
    tensor = MLP([3, 5, 4, 2], activation=act, engine="tensor", seed=11, dtype=np.float64)
    for (n1, p1), (n2, p2) in zip(scalar.named_parameters(), tensor.named_parameters()):
        assert n1 == n2
        np.testing.assert_array_equal(p1.numpy(), p2.data)  # the same seed: the same weights
    loss_s = _scalar_loss(scalar, X, y)
    loss_t = mse_loss(tensor(Tensor(X, dtype=np.float64)), y)
    loss_s.backward()
    loss_t.backward()
    assert abs(loss_s.data - loss_t.item()) <= 1e-12 * max(1.0, abs(loss_t.item()))
    for (name, ps), (_, pt) in zip(scalar.named_parameters(), tensor.named_parameters()):
        np.testing.assert_allclose(ps.grad_numpy(), pt.grad, rtol=1e-12, atol=1e-12, err_msg=name)


def test_weights_carried_across_engines_give_the_same_outputs() -> None:
    rng = np.random.default_rng(1)
    tensor = MLP([4, 6, 3], activation="tanh", engine="tensor", seed=5, dtype=np.float64)
    for _, p in tensor.named_parameters():
        p.data[...] = rng.normal(size=p.shape)  # not the initial weights
    scalar = MLP([4, 6, 3], activation="tanh", engine="scalar", seed=99)
    scalar.load_state_dict(tensor.state_dict())
    X = rng.normal(size=(5, 4))
    out_t = tensor(Tensor(X, dtype=np.float64)).data
    out_s = np.array([[v.data for v in scalar(row)] for row in X])
    np.testing.assert_allclose(out_s, out_t, rtol=1e-13, atol=1e-13)
    back = MLP([4, 6, 3], activation="tanh", engine="tensor", seed=0, dtype=np.float64)
    back.load_state_dict(scalar.state_dict())
    for (_, a), (_, b) in zip(back.named_parameters(), tensor.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_mlp_gradients_match_finite_differences() -> None:
    model = MLP([3, 4, 2], activation="silu", engine="tensor", seed=2, dtype=np.float64)
    X = np.random.default_rng(3).normal(size=(5, 3))
    params = [p for _, p in model.named_parameters()]
    report = gradcheck(lambda *ps: mse_loss(model(Tensor(X, dtype=np.float64)), np.ones((5, 2))), params)
    assert report.ok, str(report)


# ---- parameters and modules -----------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["scalar", "tensor"])
def test_named_parameters_and_shapes(engine) -> None:
    model = MLP([3, 5, 2], engine=engine, seed=0)
    named = dict(model.named_parameters())
    assert list(named) == ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"]
    assert [tuple(p.shape) for p in named.values()] == [(3, 5), (5,), (5, 2), (2,)]
    params = model.parameters()
    if engine == "scalar":
        assert len(params) == 3 * 5 + 5 + 5 * 2 + 2 and all(isinstance(p, Value) for p in params)
    else:
        assert len(params) == 4 and all(isinstance(p, Tensor) and p.requires_grad for p in params)


def test_mlp_structure_defaults_and_dtype() -> None:
    model = MLP([2, 8, 8, 1], activation="tanh", seed=0)
    kinds = [type(layer).__name__ for layer in model.net.layers]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert all(isinstance(layer, Activation) for layer in model.net.layers[1::2])
    assert len(model.linear_layers()) == 3
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert model(Tensor(np.ones((4, 2)))).shape == (4, 1)
    with_dropout = MLP([2, 8, 1], dropout=0.5, seed=0)
    assert [type(layer).__name__ for layer in with_dropout.net.layers] == [
        "Linear",
        "ReLU",
        "Dropout",
        "Linear",
    ]


def test_scalar_mlp_takes_a_list_or_an_array_and_returns_values() -> None:
    model = MLP([2, 3, 2], engine="scalar", seed=0)
    a, b = model([0.5, -1.0]), model(np.array([0.5, -1.0]))
    assert all(isinstance(v, Value) for v in a) and len(a) == 2
    assert [v.data for v in a] == [v.data for v in b]


def test_same_seed_same_weights_different_seed_different_weights() -> None:
    a, b, c = (MLP([4, 6, 2], seed=s).state_dict() for s in (3, 3, 4))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["net.0.weight"], c["net.0.weight"])


def test_invalid_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="engine"):
        MLP([2, 1], engine="gpu")
    with pytest.raises(ValueError):
        MLP([2])
    with pytest.raises(ValueError, match="activation"):
        MLP([2, 3, 1], activation="swishy")
    with pytest.raises(ValueError, match="init"):
        init_weight(2, 2, np.random.default_rng(0), "lecun")
    with pytest.raises(ValueError):
        Dropout(1.0)


def test_train_and_eval_propagate_to_children() -> None:
    model = MLP([2, 4, 1], dropout=0.3, seed=0)
    assert model.training and all(layer.training for layer in model.net.layers)
    model.eval()
    assert not model.training and not any(layer.training for layer in model.net.layers)
    model.train()
    assert all(layer.training for layer in model.net.layers)


def test_a_custom_module_finds_its_parameters_and_submodules() -> None:
    class Block(Module):
        def __init__(self) -> None:
            self.scale = Tensor(np.ones(3), requires_grad=True)
            self.constant = Tensor(np.ones(3))  # no gradient wanted: not a parameter
            self.layers = [Linear(3, 3, rng=np.random.default_rng(0)), Activation("relu")]
            self.head = Sequential(Linear(3, 1, rng=np.random.default_rng(1)))

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return self.head(x * self.scale)

    block = Block()
    assert [n for n, _ in block.named_parameters()] == [
        "scale",
        "layers.0.weight",
        "layers.0.bias",
        "head.0.weight",
        "head.0.bias",
    ]
    out = block(Tensor(np.ones((2, 3)))).sum()
    out.backward()
    assert all(p.grad is not None for p in block.parameters())


# ---- state_dict and files ------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["scalar", "tensor"])
def test_state_dict_round_trip_through_an_npz_file_without_pickle(engine, tmp_path) -> None:
    model = MLP([3, 4, 2], engine=engine, seed=7)
    path = tmp_path / "weights.npz"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(f"{k}.npy" for k in model.state_dict())
    with np.load(path, allow_pickle=False) as data:  # plain arrays: loads with pickle disabled
        assert all(data[k].dtype != object for k in data.files)
    other = MLP([3, 4, 2], engine=engine, seed=8)
    assert not np.array_equal(other.state_dict()["net.0.weight"], model.state_dict()["net.0.weight"])
    other.load(path)
    for key, array in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[key], array)
    assert not list(tmp_path.glob("*.tmp"))  # the atomic write left nothing behind


def test_state_dict_is_a_copy_not_a_view() -> None:
    model = MLP([2, 2], seed=0)
    state = model.state_dict()
    state["net.0.weight"][...] = 123.0
    assert not np.any(model.state_dict()["net.0.weight"] == 123.0)


def test_load_state_dict_rejects_wrong_names_and_shapes() -> None:
    model = MLP([3, 4, 2], seed=0)
    state = model.state_dict()
    with pytest.raises(ValueError, match="missing"):
        model.load_state_dict({k: v for k, v in state.items() if k != "net.0.bias"})
    with pytest.raises(ValueError, match="unexpected"):
        model.load_state_dict({**state, "extra": np.zeros(1)})
    with pytest.raises(ValueError, match="shape"):
        model.load_state_dict({**state, "net.0.bias": np.zeros(5)})


# ---- initialization and activations ------------------------------------------------------------------------


@pytest.mark.parametrize("scheme, expected_std", [("he", np.sqrt(2 / 400)), ("xavier", np.sqrt(2 / 600))])
def test_initialization_scale(scheme, expected_std) -> None:
    w = init_weight(400, 200, np.random.default_rng(0), scheme)
    assert w.shape == (400, 200)
    assert w.std() == pytest.approx(expected_std, rel=0.02)
    assert abs(w.mean()) < 0.05 * expected_std
    again = init_weight(400, 200, np.random.default_rng(0), scheme)
    np.testing.assert_array_equal(w, again)


def test_default_init_by_activation_and_zero_biases() -> None:
    assert default_init("relu") == "he" and default_init("tanh") == "xavier"
    model = MLP([100, 300, 1], activation="relu", seed=0)
    hidden = model.linear_layers()[0]
    assert hidden.weight.data.std() == pytest.approx(np.sqrt(2 / 100), rel=0.05)
    assert not np.any(hidden.bias.data)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_one_activation_registry_serves_both_engines(name) -> None:
    fn = activation(name)
    xs = [-1.5, -0.2, 0.3, 2.0]
    tensor_out = Activation(name)(Tensor(xs, dtype=np.float64)).data if name != "identity" else xs
    scalar_out = [v.data if isinstance(v, Value) else v for v in Activation(name)([Value(x) for x in xs])]
    np.testing.assert_allclose(scalar_out, tensor_out, rtol=1e-14)
    assert fn is ACTIVATIONS[name]


def test_dropout_module_on_both_engines() -> None:
    layer = Dropout(0.5, rng=np.random.default_rng(0))
    x = Tensor(np.ones((50, 40)))
    out = layer(x).data
    assert set(np.unique(out)) == {0.0, 2.0}
    values = layer([Value(1.0) for _ in range(400)])
    data = np.array([v.data for v in values])
    assert set(np.unique(data)) == {0.0, 2.0} and 0.4 < (data > 0).mean() < 0.6
    layer.eval()
    assert layer(x) is x


def test_value_grid_holds_values_with_a_shape() -> None:
    grid = ValueGrid(np.arange(6.0).reshape(2, 3))
    assert grid.shape == (2, 3) and grid.values.shape == (2, 3)
    assert isinstance(grid.values[1, 2], Value) and grid.values[1, 2].data == 5.0
    grid.assign(np.ones((2, 3)))
    np.testing.assert_array_equal(grid.numpy(), np.ones((2, 3)))
    np.testing.assert_array_equal(grid.grad_numpy(), np.zeros((2, 3)))


# ---- PyTorch's conventions: printing, activation modules, .grad and zero_grad ----------------------------


def test_repr_is_pytorchs_tree_with_sizes_activations_and_the_weight_layout() -> None:
    model = MLP([784, 128, 10], activation="relu", dropout=0.2, seed=0)
    assert repr(model) == (
        "MLP(\n"
        "  (net): Sequential(\n"
        "    (0): Linear(in_features=784, out_features=128, bias=True, weight: (in, out))\n"
        "    (1): ReLU()\n"
        "    (2): Dropout(p=0.2)\n"
        "    (3): Linear(in_features=128, out_features=10, bias=True, weight: (in, out))\n"
        "  )\n"
        ")"
    )
    assert model.net[0].weight.shape == (784, 128)  # what repr says: (in, out)
    scalar = Sequential(Linear(2, 3, engine="scalar"), LeakyReLU(0.2), Activation("elu"))
    assert str(scalar).splitlines() == [
        "Sequential(",
        "  (0): Linear(in_features=2, out_features=3, bias=True, weight: (in, out), engine=scalar)",
        "  (1): LeakyReLU(negative_slope=0.2)",
        "  (2): ELU(alpha=1.0)",
        ")",
    ]


def test_sequential_indexes_like_pytorch() -> None:
    layers = [Linear(2, 3), Tanh(), Linear(3, 1)]
    model = Sequential(*layers)
    assert len(model) == 3 and model[1] is layers[1] and list(model) == layers
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [name for name, _ in model.children()] == ["0", "1", "2"]


MODULES_AND_FUNCTIONS = [
    (Identity(), lambda x: x),
    (ReLU(), lambda x: np.maximum(x, 0)),
    (Tanh(), np.tanh),
    (Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (LeakyReLU(), lambda x: np.where(x > 0, x, 0.01 * x)),
    (LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (ELU(0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    (SiLU(), lambda x: x / (1 + np.exp(-x))),
    (Softplus(), lambda x: np.log1p(np.exp(x))),
]


@pytest.mark.parametrize(
    "module, closed_form", MODULES_AND_FUNCTIONS, ids=[repr(m) for m, _ in MODULES_AND_FUNCTIONS]
)
def test_activation_modules_on_both_engines(module, closed_form) -> None:
    xs = np.array([-2.5, -0.3, 0.4, 1.7])
    tensor_out = module(Tensor(xs, dtype=np.float64)).data
    scalar_out = [v.data if isinstance(v, Value) else v for v in module([Value(x) for x in xs])]
    np.testing.assert_allclose(tensor_out, closed_form(xs), rtol=1e-12)
    np.testing.assert_allclose(scalar_out, closed_form(xs), rtol=1e-12)
    assert isinstance(module, Activation)


def test_activation_modules_match_the_registry_and_torch_names() -> None:
    assert set(ACTIVATION_MODULES) == set(ACTIVATIONS)
    for name, cls in ACTIVATION_MODULES.items():
        module = activation_module(name)
        assert type(module) is cls and module.name == name
    with pytest.raises(ValueError, match="unknown activation"):
        activation_module("swishy")
    torch = pytest.importorskip("torch")
    for cls in ACTIVATION_MODULES.values():
        assert hasattr(torch.nn, cls.__name__)  # the same names as PyTorch's modules


@pytest.mark.parametrize("engine", ["scalar", "tensor"])
def test_grad_before_backward_and_zero_grad_set_to_none(engine) -> None:
    model = MLP([2, 3, 1], engine=engine, seed=0)
    fresh = 0.0 if engine == "scalar" else None  # Value: 0.0 (micrograd); Tensor: None (PyTorch)
    assert all(p.grad == fresh if engine == "scalar" else p.grad is None for p in model.parameters())
    x = [0.5, -1.0] if engine == "scalar" else Tensor([[0.5, -1.0]])
    out = model(x)
    (out[0] * out[0] if engine == "scalar" else (out * out).sum()).backward()
    kept = [p.grad for p in model.parameters()]
    model.zero_grad(set_to_none=False)
    for p, before in zip(model.parameters(), kept):
        if engine == "scalar":
            assert p.grad == 0.0
        else:  # zeroed in place, as PyTorch's grad.zero_()
            assert p.grad is before and not np.any(p.grad)
    model.zero_grad()  # set_to_none=True by default, as in PyTorch
    assert all(p.grad == 0.0 if engine == "scalar" else p.grad is None for p in model.parameters())
    model.zero_grad(set_to_none=False)  # a None gradient stays None
    assert all(p.grad == 0.0 if engine == "scalar" else p.grad is None for p in model.parameters())


def test_optimizer_zero_grad_takes_set_to_none_too() -> None:
    model = MLP([2, 3, 1], seed=0)
    model(Tensor([[0.5, -1.0]])).sum().backward()
    opt = SGD(model.parameters(), lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not np.any(p.grad) for p in model.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_gelu_module_on_the_tensor_engine_and_a_clear_error_on_the_scalar_one() -> None:
    torch = pytest.importorskip("torch")
    xs = np.linspace(-3, 3, 13)
    for approximate in ("none", "tanh"):
        ours = GELU(approximate)(Tensor(xs, dtype=np.float64)).data
        theirs = torch.nn.GELU(approximate=approximate)(torch.from_numpy(xs)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
        assert repr(GELU(approximate)) == repr(torch.nn.GELU(approximate=approximate))
    with pytest.raises(TypeError, match="tensor engine only"):
        GELU()([Value(1.0)])
    with pytest.raises(ValueError, match="approximate"):
        GELU("sigmoid")


def test_cnn_layers_print_as_pytorch_does() -> None:
    torch = pytest.importorskip("torch")
    ours = Sequential(
        Conv2d(4, 8, 3, stride=2, groups=2, bias=False),
        Conv2d(1, 4, 3, padding=1),
        Conv2d(2, 6, (3, 5), dilation=2),
        Flatten(),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(4, 8, 3, stride=2, groups=2, bias=False),
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.Conv2d(2, 6, (3, 5), dilation=2),
        torch.nn.Flatten(),
    )
    assert repr(ours) == repr(theirs)
    assert repr(MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1)"
    assert repr(AvgPool2d(3, 1, 1, count_include_pad=False)) == (
        "AvgPool2d(kernel_size=3, stride=1, padding=1, count_include_pad=False)"
    )
