"""``autograd.export``: every exportable architecture gives our outputs (to 1e-5, float32) under PyTorch and
under onnxruntime, PyTorch models come back (outputs and gradients), the ``.pt`` file loads without
backprop-lab, and a missing extra is one line naming the install command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from autograd import Tensor, Value, mse_loss, no_grad
from autograd.export import (
    INSTALL_EXTRA,
    OPSET,
    ExportError,
    from_torch,
    layer_specs,
    run_onnx,
    save_torch,
    to_onnx,
    to_torch,
    torch_source,
)
from autograd.nn import (
    ACTIVATIONS,
    ELU,
    GELU,
    MLP,
    AvgPool2d,
    Conv2d,
    Dropout,
    Flatten,
    LeakyReLU,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
    SiLU,
    Softplus,
    Tanh,
    Unflatten,
)

TOL = 1e-5  # float32
N_INPUTS = 100


def ours_on(model: Module, x: np.ndarray) -> np.ndarray:
    """Our model's output on a batch: at once on the tensor engine, sample by sample on the scalar one."""
    if any(isinstance(p, Value) for p in model.parameters()):
        return np.array([[v.data for v in model(row.tolist())] for row in x.astype(np.float64)])
    with no_grad():
        return model(Tensor(x, dtype=np.float32)).data


def torch_on(module, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return module(torch.from_numpy(x.astype(np.float32))).numpy()


def randomize(model: Module, seed: int) -> Module:
    """New weights of a trained network's scale, std 1/sqrt(fan_in), and non-zero biases (the initial
    ones are all zero), so that every layer's output stays of order 1."""
    rng = np.random.default_rng(seed)
    fan_in = {2: lambda shape: shape[0], 4: lambda shape: np.prod(shape[1:])}  # Linear (in, out), Conv2d
    state = {
        name: rng.normal(0, 1 / np.sqrt(fan_in[v.ndim](v.shape)) if v.ndim in fan_in else 0.1, size=v.shape)
        for name, v in model.state_dict().items()
    }
    model.load_state_dict(state)
    return model


def architectures() -> list[tuple[str, Module, tuple[int, ...]]]:
    """(id, model in eval mode, shape of one input): every activation, GELU, dropout, both engines, nested
    layers, and CNNs with every convolution and pooling setting the engine has."""
    cases = [
        (f"mlp-{act}", randomize(MLP([12, 16, 8, 3], activation=act, seed=1), 2), (12,))
        for act in sorted(ACTIVATIONS)
    ]
    cases += [
        ("mnist-784-128-64-10-dropout", randomize(MLP([784, 128, 64, 10], dropout=0.5, seed=3), 4), (784,)),
        (
            "scalar-engine-tanh",
            randomize(MLP([5, 7, 2], activation="tanh", engine="scalar", seed=5), 6),
            (5,),
        ),
        (
            "mlp-gelu",
            randomize(Sequential(Linear(8, 16), GELU(), Linear(16, 16), GELU("tanh"), Linear(16, 3)), 8),
            (8,),
        ),
        (
            "cnn-conv-maxpool-groups-stride",
            randomize(
                Sequential(
                    Conv2d(1, 4, 3, padding=1),
                    ReLU(),
                    MaxPool2d(2),
                    Conv2d(4, 8, 3, stride=2, groups=2),
                    GELU(),
                    AvgPool2d(2),
                    Flatten(),
                    Linear(8, 5),
                ),
                9,
            ),
            (1, 12, 12),
        ),
        (
            "cnn-on-flat-rows-unflatten",
            randomize(
                Sequential(
                    Unflatten(1, (1, 8, 8)), Conv2d(1, 3, 3), ReLU(), MaxPool2d(2), Flatten(), Linear(27, 4)
                ),
                11,
            ),
            (64,),
        ),
        (
            "cnn-same-dilation-padded-pools-no-bias",
            randomize(
                Sequential(
                    Conv2d(2, 6, 3, padding="same", dilation=2),
                    GELU("tanh"),
                    MaxPool2d(3, stride=2, padding=1),
                    AvgPool2d(2, stride=1, padding=1, count_include_pad=False),
                    Conv2d(6, 3, (2, 3), padding=(1, 0), bias=False),
                    Flatten(),
                    Dropout(0.2),
                    Linear(3 * 7 * 4, 4),
                    Tanh(),
                ),
                10,
            ),
            (2, 10, 10),
        ),
        (
            "nested-sequential",
            randomize(
                Sequential(
                    Sequential(Linear(6, 9), LeakyReLU(0.2), Dropout(0.3)),
                    Linear(9, 9),
                    ELU(0.5),
                    Sequential(Linear(9, 4), SiLU()),
                    Softplus(),
                ),
                7,
            ),
            (6,),
        ),
    ]
    return [(name, model.eval(), shape) for name, model, shape in cases]


ARCHITECTURES = architectures()


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason=f"the export extra: {INSTALL_EXTRA}")


@pytest.fixture(scope="module")
def onnx():
    pytest.importorskip("onnxruntime", reason=f"the export extra: {INSTALL_EXTRA}")
    return pytest.importorskip("onnx", reason=f"the export extra: {INSTALL_EXTRA}")


def inputs(shape: int | tuple[int, ...], seed: int = 0) -> np.ndarray:
    """N_INPUTS random inputs of ``shape`` (a number of features, or the shape of one input)."""
    size = (N_INPUTS, *np.atleast_1d(shape))
    return np.random.default_rng(seed).uniform(-2, 2, size=size).astype(np.float32)


# ---- the same outputs under PyTorch and onnxruntime -----------------------------------------------------


@pytest.mark.parametrize("name, model, n_in", ARCHITECTURES, ids=[a[0] for a in ARCHITECTURES])
def test_to_torch_gives_our_outputs(name, model, n_in, torch) -> None:
    x = inputs(n_in)
    module = to_torch(model)
    assert type(module) is torch.nn.Sequential and not module.training
    assert all(type(m).__module__.startswith("torch.nn.modules") for m in module.modules())
    np.testing.assert_allclose(torch_on(module, x), ours_on(model, x), rtol=TOL, atol=TOL)


@pytest.mark.parametrize("name, model, n_in", ARCHITECTURES, ids=[a[0] for a in ARCHITECTURES])
def test_to_onnx_gives_our_outputs_under_onnxruntime(name, model, n_in, onnx, tmp_path) -> None:
    path = tmp_path / "model.onnx"
    proto = to_onnx(model, path, input_shape=(1, *n_in))  # batch axis left free: run it on 100 rows
    loaded = onnx.load(path)
    onnx.checker.check_model(loaded, full_check=True)
    assert loaded == proto
    assert [(o.domain, o.version) for o in loaded.opset_import] == [("", OPSET)] and OPSET >= 17
    standard = {"Gemm", "Relu", "Tanh", "Sigmoid", "LeakyRelu", "Elu", "Softplus", "Mul", "Identity", "Erf"}
    standard |= {"Conv", "MaxPool", "AveragePool", "Flatten", "Reshape", "Add", "Div"}
    assert {node.op_type for node in loaded.graph.node} <= standard
    x = inputs(n_in)
    np.testing.assert_allclose(run_onnx(path, x), ours_on(model, x), rtol=TOL, atol=TOL)


def test_onnx_weights_are_in_pytorchs_layout_and_named_like_its_state_dict(onnx, tmp_path) -> None:
    from onnx import numpy_helper

    model = MLP([4, 3, 2], seed=0)
    proto = to_onnx(model, tmp_path / "m.onnx", (8, 4))
    weights = {w.name: numpy_helper.to_array(w) for w in proto.graph.initializer}
    assert sorted(weights) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    np.testing.assert_array_equal(weights["0.weight"], model.net[0].weight.data.T)  # (out, in)
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 4]
    fixed = to_onnx(model, tmp_path / "f.onnx", (8, 4), dynamic_batch=False)
    assert [d.dim_value for d in fixed.graph.output[0].type.tensor_type.shape.dim] == [8, 2]


def test_torch_source_is_code_that_builds_the_same_module(torch) -> None:
    name, model, n_in = next(a for a in ARCHITECTURES if a[0] == "nested-sequential")  # with arguments
    source = torch_source(model)
    assert "nn.LeakyReLU(negative_slope=0.2)" in source and "nn.ELU(alpha=0.5)" in source
    namespace: dict = {}
    exec(compile(source, "<torch_source>", "exec"), namespace)  # our own generated text, not user input
    pasted = namespace["model"].eval()
    pasted.load_state_dict(to_torch(model).state_dict())
    x = inputs(n_in)
    np.testing.assert_allclose(torch_on(pasted, x), ours_on(model, x), rtol=TOL, atol=TOL)
    assert str(pasted) == str(to_torch(model).eval())


def test_the_train_or_eval_mode_is_carried_and_dropout_is_pytorchs(torch) -> None:
    model = MLP([3, 4, 2], dropout=0.25, seed=0)
    assert to_torch(model).training and not to_torch(model.eval()).training
    dropouts = [m for m in to_torch(model).modules() if isinstance(m, torch.nn.Dropout)]
    assert [d.p for d in dropouts] == [0.25]


# ---- the .pt file without backprop-lab ------------------------------------------------------------------


def test_saved_pt_file_loads_without_backprop_lab(torch, tmp_path) -> None:
    model = randomize(MLP([10, 6, 3], activation="tanh", dropout=0.2, seed=0), 1)
    path = tmp_path / "model.pt"
    save_torch(model, path)
    x = inputs(10)
    np.save(tmp_path / "x.npy", x)
    code = textwrap.dedent(
        """
        import sys
        sys.modules["autograd"] = sys.modules["projects"] = sys.modules["viz"] = None  # importing them fails
        import numpy as np, torch
        module = torch.load("model.pt", weights_only=False)
        assert type(module) is torch.nn.Sequential and not module.training, module
        with torch.no_grad():
            np.save("y.npy", module(torch.from_numpy(np.load("x.npy"))).numpy())
        print(" ".join(sorted({type(m).__module__ for m in module.modules()})))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},  # no PYTHONPATH: the tree under test is not importable
    )
    assert done.returncode == 0, done.stderr
    assert all(name.startswith("torch.nn.modules.") for name in done.stdout.split())
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), ours_on(model.eval(), x), rtol=TOL, atol=TOL)
    assert not list(tmp_path.glob("*.tmp"))
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


# ---- from PyTorch ----------------------------------------------------------------------------------------


def torch_model(torch, dtype=None):
    nn = torch.nn
    torch.manual_seed(0)
    module = nn.Sequential(
        nn.Linear(6, 10),
        nn.LeakyReLU(0.1),
        nn.Sequential(nn.Linear(10, 10), nn.ELU(0.3), nn.Dropout(0.4)),
        nn.Linear(10, 8),
        nn.SiLU(),
        nn.Linear(8, 8),
        nn.Softplus(),
        nn.Linear(8, 8),
        nn.Sigmoid(),
        nn.Linear(8, 8),
        nn.Tanh(),
        nn.Identity(),
        nn.Linear(8, 5),
        nn.ReLU(),
    )
    return module.to(dtype) if dtype is not None else module


@pytest.mark.parametrize("engine", ["tensor", "scalar"])
def test_from_torch_gives_the_modules_outputs(engine, torch) -> None:
    module = torch_model(torch).eval()
    ours = from_torch(module, engine=engine)
    assert isinstance(ours, Sequential) and not ours.training
    kinds = [type(layer).__name__ for layer in ours]
    assert kinds[:5] == ["Linear", "LeakyReLU", "Linear", "ELU", "Dropout"]
    assert ours[1].negative_slope == pytest.approx(0.1) and ours[3].alpha == pytest.approx(0.3)
    x = inputs(6)
    np.testing.assert_allclose(ours_on(ours, x), torch_on(module, x), rtol=TOL, atol=TOL)


def test_from_torch_gradients_equal_pytorchs(torch) -> None:
    """A PyTorch model brought to our engine backpropagates to the same gradients (float64)."""
    module = torch_model(torch, torch.float64).eval()
    ours = from_torch(module, dtype=np.float64)
    x, y = np.random.default_rng(1).normal(size=(7, 6)), np.random.default_rng(2).normal(size=(7, 5))
    mse_loss(ours(Tensor(x, dtype=np.float64)), y).backward()
    torch.nn.functional.mse_loss(module(torch.from_numpy(x)), torch.from_numpy(y)).backward()
    theirs = {name: p.grad.numpy() for name, p in module.named_parameters()}
    linear_names = [name for name in theirs if name.endswith(".weight")]
    our_linears = [layer for layer in ours if isinstance(layer, Linear)]
    assert len(linear_names) == len(our_linears)
    for name, layer in zip(linear_names, our_linears):
        np.testing.assert_allclose(layer.weight.grad, theirs[name].T, rtol=1e-10, atol=1e-12, err_msg=name)
        bias = theirs[name.replace("weight", "bias")]
        np.testing.assert_allclose(layer.bias.grad, bias, rtol=1e-10, atol=1e-12, err_msg=name)


def torch_cnn(torch, dtype=None):
    nn = torch.nn
    torch.manual_seed(1)
    module = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=2, groups=2, bias=False),
        nn.GELU(approximate="tanh"),
        nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False),
        nn.Flatten(),
        nn.Linear(6 * 3 * 3, 5),
    )
    return module.to(dtype) if dtype is not None else module


def test_from_torch_loads_a_cnn_with_its_outputs_and_gradients(torch) -> None:
    module = torch_cnn(torch).eval()
    ours = from_torch(module)
    assert [type(layer).__name__ for layer in ours][:4] == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d"]
    x = inputs((2, 10, 10))
    np.testing.assert_allclose(ours_on(ours, x), torch_on(module, x), rtol=TOL, atol=TOL)
    module64 = torch_cnn(torch, torch.float64)
    ours64 = from_torch(module64, dtype=np.float64)
    x64, y = (
        np.random.default_rng(3).normal(size=(4, 2, 10, 10)),
        np.random.default_rng(4).normal(size=(4, 5)),
    )
    mse_loss(ours64(Tensor(x64, dtype=np.float64)), y).backward()
    torch.nn.functional.mse_loss(module64(torch.from_numpy(x64)), torch.from_numpy(y)).backward()
    theirs = [p.grad.numpy() for p in module64.parameters()]
    mine = [p.grad for p in ours64.parameters()]
    assert len(mine) == len(theirs) == 5  # two convolutions (one without bias) and the Linear layer
    mine[-2] = mine[-2].T  # our Linear weight is (in, out)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    with pytest.raises(ExportError, match="tensor engine only"):
        from_torch(module, engine="scalar")


def test_round_trips_keep_every_weight(torch) -> None:
    module = torch_model(torch).eval()
    back = to_torch(from_torch(module))
    flat_names = list(back.state_dict())
    for (name, theirs), ours_name in zip(module.state_dict().items(), flat_names):
        np.testing.assert_array_equal(back.state_dict()[ours_name].numpy(), theirs.numpy(), err_msg=name)
    model = randomize(MLP([5, 4, 3], activation="elu", seed=0), 3)
    again = from_torch(to_torch(model))
    for (name, a), b in zip(model.state_dict().items(), again.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_from_torch_rejects_what_it_cannot_load_in_one_line(torch) -> None:
    nn = torch.nn
    bad = [
        (nn.Linear(2, 2), "takes a torch.nn.Sequential"),
        (nn.Sequential(nn.Conv3d(1, 1, 3)), "Conv3d is not supported"),
        (nn.Sequential(nn.Conv2d(1, 1, 3, padding_mode="reflect")), "padding_mode"),
        (nn.Sequential(nn.MaxPool2d(2, ceil_mode=True)), "ceil_mode"),
        (nn.Sequential(nn.Linear(2, 2, bias=False)), "bias=False"),
        (nn.Sequential(nn.Softplus(beta=2)), "beta"),
    ]
    for module, message in bad:
        with pytest.raises(ExportError, match=message) as caught:
            from_torch(module)
        assert "\n" not in str(caught.value)


def test_models_that_cannot_be_exported_say_why(tmp_path) -> None:
    class Custom(Module):
        def forward(self, x):
            return x

    with pytest.raises(ExportError, match="cannot export a Custom layer"):
        layer_specs(Sequential(Linear(2, 2), Custom()))
    with pytest.raises(ExportError, match="no layers"):
        layer_specs(Sequential())
    with pytest.raises(ExportError, match=r"takes \(batch, 3\)"):
        to_onnx(MLP([3, 2]), tmp_path / "m.onnx", (1, 4))
    with pytest.raises(ExportError, match="batch axis"):
        to_onnx(MLP([3, 2]), tmp_path / "m.onnx", (3,))
    assert not (tmp_path / "m.onnx").exists()


def test_the_readmes_export_example_runs_and_prints_what_it_says(torch, onnx, tmp_path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "autograd.export" in b)
    promised = re.findall(r"# prints (.+)", block)
    done = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert promised == ["True True"] and done.stdout.splitlines()[-1] == "True True"
    assert "weight: (in, out)" in done.stdout and "nn.Linear(784, 128)," in done.stdout
    onnx.checker.check_model(onnx.load(tmp_path / "mnist.onnx"), full_check=True)


# ---- optional extra and import cost ---------------------------------------------------------------------


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


@pytest.mark.parametrize(
    "blocked, call",
    [
        ("torch", "export.to_torch(MLP([2, 1]))"),
        ("torch", "export.from_torch(None)"),
        ("onnx", "export.to_onnx(MLP([2, 1]), 'm.onnx', (1, 2))"),
        ("onnxruntime", "export.run_onnx('m.onnx', [[0.0, 0.0]])"),
    ],
)
def test_a_missing_extra_is_one_line_naming_the_install_command(blocked, call, tmp_path) -> None:
    code = (
        f"import sys; sys.modules[{blocked!r}] = None\n"
        "from autograd import export\nfrom autograd.nn import MLP\n"
        f"try:\n    {call}\nexcept export.MissingExtraError as e:\n    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{blocked} is not installed; install the export extra: {INSTALL_EXTRA}\n"
    assert "pip install 'backprop-lab[export]'" in done.stdout


def test_importing_autograd_and_its_export_module_loads_no_torch_or_onnx() -> None:
    heavy = ("torch", "onnx", "onnxruntime")
    code = f"import sys, autograd.export; print([m for m in {heavy!r} if m in sys.modules])"
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_cnn_on_flat_rows_goes_to_torch_and_back(torch) -> None:
    name, model, shape = next(a for a in ARCHITECTURES if a[0] == "cnn-on-flat-rows-unflatten")
    module = to_torch(model)
    assert type(module[0]) is torch.nn.Unflatten and module[0].unflattened_size == (1, 8, 8)
    back = from_torch(module)
    x = inputs(shape)
    np.testing.assert_array_equal(ours_on(back, x), ours_on(model, x))
