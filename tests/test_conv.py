"""Convolution and pooling: conv1d/conv2d (stride, padding, dilation, groups), conv_transpose2d, max and
average pooling against PyTorch in float64 to 1e-10 on hypothesis-drawn configurations and against central
finite differences; max-pool ties; the nn modules (PyTorch's weight layout, default initialization and
state_dict names, so weights carry across); the shape errors; a small CNN that learns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import (
    Tensor,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    cross_entropy,
    max_pool1d,
    max_pool2d,
)
from autograd.gradcheck import gradcheck
from autograd.nn import Activation, AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, Sequential
from autograd.optim import Adam

torch = pytest.importorskip("torch")
F = torch.nn.functional

TOL = 1e-10
FAST = settings(max_examples=20, deadline=None)


def compare(ours, theirs, arrays: list[np.ndarray], seed: int = 0) -> None:
    xs = [Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out, expected = ours(*xs), theirs(*ts)
    assert out.shape == tuple(expected.shape), f"shape {out.shape} vs torch {tuple(expected.shape)}"
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=TOL, atol=TOL, err_msg="forward")
    upstream = np.random.default_rng(seed).normal(size=out.shape)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    for i, (x, t) in enumerate(zip(xs, ts)):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=TOL, atol=TOL, err_msg=f"gradient {i}")


def finite_differences(fn, arrays: list[np.ndarray]) -> None:
    inputs = [Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays]
    weights = np.random.default_rng(1).normal(size=fn(*inputs).shape)
    report = gradcheck(lambda *xs: (fn(*xs) * weights).sum(), inputs)
    assert report.ok, str(report)


@st.composite
def conv_case(draw, dims: int, transposed: bool = False):
    """A random convolution that gives at least one output position."""
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(dims))
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if transposed:
        size = tuple(draw(st.integers(1, 4)) for _ in range(dims))
        extra = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
        out = [(i - 1) * s - 2 * p + sp + e for i, s, p, sp, e in zip(size, stride, padding, span, extra)]
        if min(out) < 1:
            padding = (0,) * dims
        weight_shape = (c_in, c_out // groups, *kernel)
    else:
        size = tuple(max(sp - 2 * p, 1) + draw(st.integers(0, 4)) for sp, p in zip(span, padding))
        extra = (0,) * dims
        weight_shape = (c_out, c_in // groups, *kernel)
    batch = draw(st.integers(1, 2))
    seed = draw(st.integers(0, 1000))
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=(batch, c_in, *size)), rng.normal(size=weight_shape)]
    if draw(st.booleans()):
        arrays.append(rng.normal(size=c_out))
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    if transposed:
        options["output_padding"] = extra
    return arrays, options


@pytest.mark.parametrize("dims", [1, 2])
@FAST
@given(data=st.data())
def test_convolution_matches_torch(dims, data) -> None:
    arrays, options = data.draw(conv_case(dims))
    ours, theirs = (conv1d, F.conv1d) if dims == 1 else (conv2d, F.conv2d)
    compare(lambda *xs: ours(*xs, **options), lambda *ts: theirs(*ts, **options), arrays)


@pytest.mark.parametrize("dims", [1, 2])
@FAST
@given(data=st.data())
def test_transposed_convolution_matches_torch(dims, data) -> None:
    arrays, options = data.draw(conv_case(dims, transposed=True))
    ours, theirs = (
        (conv_transpose1d, F.conv_transpose1d) if dims == 1 else (conv_transpose2d, F.conv_transpose2d)
    )
    compare(lambda *xs: ours(*xs, **options), lambda *ts: theirs(*ts, **options), arrays)


@pytest.mark.parametrize("dims", [1, 2])
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_convolutions_against_finite_differences(dims, data) -> None:
    arrays, options = data.draw(conv_case(dims))
    fn = conv1d if dims == 1 else conv2d
    finite_differences(lambda *xs: fn(*xs, **options), arrays)
    arrays, options = data.draw(conv_case(dims, transposed=True))
    fn = conv_transpose1d if dims == 1 else conv_transpose2d
    finite_differences(lambda *xs: fn(*xs, **options), arrays)


def test_padding_same_and_valid_and_unbatched_inputs() -> None:
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(3, 7, 6)), rng.normal(size=(4, 3, 3, 5))
    compare(lambda a, b: conv2d(a, b, padding="same"), lambda a, b: F.conv2d(a, b, padding="same"), [x, w])
    compare(lambda a, b: conv2d(a, b, padding="valid"), lambda a, b: F.conv2d(a, b, padding="valid"), [x, w])
    compare(lambda a: max_pool2d(a, 2), lambda a: F.max_pool2d(a, 2), [x])


@st.composite
def pool_case(draw, dims: int, dilated: bool = True):
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) if dilated else 1 for _ in range(dims))
    # (with dilation, no padding: a dilated window could lie wholly in the padding, where PyTorch's output
    # is -inf and its gradient goes to an arbitrary entry)
    padding = tuple(draw(st.integers(0, k // 2)) if d == 1 else 0 for k, d in zip(kernel, dilation))
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    size = tuple(max(sp - 2 * p, 1) + draw(st.integers(0, 4)) for sp, p in zip(span, padding))
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    x = rng.normal(size=(draw(st.integers(1, 2)), draw(st.integers(1, 3)), *size))
    if draw(st.booleans()):
        x = np.maximum(np.round(x), 0)  # ReLU-like: many ties at 0 and 1
    return x, {"kernel_size": kernel, "stride": stride, "padding": padding, "dilation": dilation}


@pytest.mark.parametrize("dims", [1, 2])
@FAST
@given(data=st.data())
def test_max_pooling_matches_torch_including_ties(dims, data) -> None:
    x, options = data.draw(pool_case(dims))
    ours, theirs = (max_pool1d, F.max_pool1d) if dims == 1 else (max_pool2d, F.max_pool2d)
    compare(lambda t: ours(t, **options), lambda t: theirs(t, **options), [x])


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("dims", [1, 2])
@FAST
@given(data=st.data())
def test_average_pooling_matches_torch(dims, count_include_pad, data) -> None:
    x, options = data.draw(pool_case(dims, dilated=False))
    del options["dilation"]
    ours, theirs = (avg_pool1d, F.avg_pool1d) if dims == 1 else (avg_pool2d, F.avg_pool2d)
    compare(
        lambda t: ours(t, **options, count_include_pad=count_include_pad),
        lambda t: theirs(t, **options, count_include_pad=count_include_pad),
        [x],
    )


def test_pooling_against_finite_differences() -> None:
    rng = np.random.default_rng(3)
    x = rng.permutation(np.arange(2 * 2 * 7 * 6, dtype=np.float64)).reshape(2, 2, 7, 6) / 10  # no ties
    finite_differences(lambda t: max_pool2d(t, 3, stride=2, padding=1), [x])
    finite_differences(lambda t: avg_pool2d(t, (2, 3), stride=(1, 2), padding=(1, 0)), [x])
    finite_differences(lambda t: avg_pool2d(t, 3, stride=2, padding=1, count_include_pad=False), [x])


def test_max_pool_gives_a_tied_window_gradient_to_its_first_maximum() -> None:
    x = Tensor(np.zeros((1, 1, 2, 4)), requires_grad=True, dtype=np.float64)
    x.data[0, 0, 1, 3] = 1.0
    max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[1, 0, 0, 0], [0, 0, 0, 1]])


@pytest.mark.parametrize(
    "options", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1}], ids=str
)
def test_max_pool_with_nans_routes_the_gradient_as_torch_does(options) -> None:
    """A NaN beats every number and every earlier NaN (PyTorch's kernel): the last NaN of a window wins."""
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(size=(2, 2, 6, 6)))
    x[rng.random(x.shape) < 0.15] = np.nan
    compare(lambda t: max_pool2d(t, **options), lambda t: F.max_pool2d(t, **options), [x])


def test_tensor_methods_in_tinygrads_order() -> None:
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=(2, 4, 8, 8)), rng.normal(size=(6, 2, 3, 3)), rng.normal(size=6)
    compare(
        lambda a, c, d: a.conv2d(c, d, groups=2, stride=2, dilation=1, padding=1).max_pool2d().avg_pool2d(1),
        lambda a, c, d: F.avg_pool2d(F.max_pool2d(F.conv2d(a, c, d, 2, 1, 1, 2), 2), 1),
        [x, w, b],
    )


# ---- errors ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, words",
    [
        (
            lambda: conv2d(Tensor(np.ones((1, 3, 5, 5))), Tensor(np.ones((4, 2, 3, 3)))),
            r"3 channels.*expects 2",
        ),
        (lambda: conv2d(Tensor(np.ones((1, 4, 5, 5))), Tensor(np.ones((3, 2, 3, 3))), groups=2), r"groups=2"),
        (
            lambda: conv2d(Tensor(np.ones((1, 1, 2, 2))), Tensor(np.ones((1, 1, 3, 3)))),
            r"smaller than the kernel",
        ),
        (lambda: conv2d(Tensor(np.ones((5, 5))), Tensor(np.ones((1, 1, 3, 3)))), r"input of shape \(5, 5\)"),
        (
            lambda: conv2d(Tensor(np.ones((1, 1, 5, 5))), Tensor(np.ones((1, 1, 3)))),
            r"weight of shape \(1, 1, 3\)",
        ),
        (lambda: conv2d(Tensor(np.ones((1, 1, 5, 5))), Tensor(np.ones((1, 1, 3, 3))), stride=0), r"stride"),
        (
            lambda: conv2d(Tensor(np.ones((1, 1, 5, 5))), Tensor(np.ones((1, 1, 2, 2))), padding="same"),
            r"even",
        ),
        (
            lambda: conv2d(Tensor(np.ones((1, 1, 5, 5))), Tensor(np.ones((2, 1, 3, 3))), Tensor(np.ones(3))),
            r"bias",
        ),
        (lambda: max_pool2d(Tensor(np.ones((1, 1, 3, 3))), 2, padding=2), r"at most half"),
        (lambda: max_pool2d(Tensor(np.ones((1, 1, 1, 1))), 2), r"smaller than the window"),
        (
            lambda: conv_transpose2d(Tensor(np.ones((1, 2, 3, 3))), Tensor(np.ones((3, 1, 3, 3)))),
            r"conv_transpose2d: input \(1, 2, 3, 3\) has 2 channels",
        ),
        (
            lambda: conv_transpose2d(
                Tensor(np.ones((1, 1, 3, 3))), Tensor(np.ones((1, 1, 3, 3))), output_padding=1
            ),
            r"output_padding",
        ),
    ],
)
def test_shape_errors_name_the_op_and_the_shapes(call, words) -> None:
    with pytest.raises(ValueError, match=words):
        call()


# ---- modules ---------------------------------------------------------------------------------------------


def _lenet(rng: np.random.Generator, dtype: Any = np.float32) -> Sequential:
    return Sequential(
        Conv2d(1, 4, 5, rng=rng, dtype=dtype),
        Activation("relu"),
        MaxPool2d(2),
        Conv2d(4, 6, 3, padding=1, rng=rng, dtype=dtype),
        Activation("relu"),
        AvgPool2d(2),
        Flatten(),
        Linear(6 * 3 * 3, 10, rng=rng, dtype=dtype),
    )


def test_conv2d_module_uses_pytorchs_layout_init_and_names() -> None:
    conv = Conv2d(6, 8, (3, 5), groups=2, rng=np.random.default_rng(5))
    assert conv.weight.shape == (8, 3, 3, 5) and conv.bias.shape == (8,)
    bound = 1 / np.sqrt(3 * 3 * 5)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.weight.data).max() > 0.9 * bound
    assert np.abs(conv.bias.data).max() <= bound
    reference = torch.nn.Conv2d(6, 8, (3, 5), groups=2)
    assert {k: tuple(v.shape) for k, v in reference.state_dict().items()} == {
        k: v.shape for k, v in conv.state_dict().items()
    }
    assert Conv2d(2, 2, 3, bias=False).state_dict().keys() == {"weight"}
    with pytest.raises(ValueError, match="groups=4"):
        Conv2d(6, 8, 3, groups=4)


def test_a_pytorch_network_and_ours_agree_with_the_same_weights() -> None:
    ours = _lenet(np.random.default_rng(6), dtype=np.float64)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AvgPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(6 * 3 * 3, 10),
    ).double()
    state = ours.state_dict()
    state["7.weight"] = state["7.weight"].T  # only Linear differs: ours is (in, out), PyTorch's (out, in)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    x = np.random.default_rng(7).random((3, 1, 16, 16))
    labels = np.array([1, 7, 3])
    loss = cross_entropy(ours(Tensor(x, dtype=np.float64)), labels)
    expected = F.cross_entropy(theirs(torch.tensor(x)), torch.tensor(labels))
    loss.backward()
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        g = grads[name].grad.numpy()
        np.testing.assert_allclose(p.grad, g.T if name == "7.weight" else g, rtol=1e-9, atol=1e-12)
    round_trip = _lenet(np.random.default_rng(8), dtype=np.float64)
    round_trip.load_state_dict(ours.state_dict())
    np.testing.assert_array_equal(
        round_trip(Tensor(x, dtype=np.float64)).data, ours(Tensor(x, dtype=np.float64)).data
    )


def test_a_small_cnn_learns_and_stays_float32() -> None:
    rng = np.random.default_rng(9)
    x = rng.random((32, 1, 12, 12)).astype(np.float32)
    labels = (x[:, 0, :6].mean(axis=(1, 2)) > x[:, 0, 6:].mean(axis=(1, 2))).astype(np.int64)  # top vs bottom
    model = Sequential(
        Conv2d(1, 4, 3, rng=rng),
        Activation("relu"),
        MaxPool2d(2),
        Flatten(),
        Linear(4 * 5 * 5, 2, rng=rng),
    )
    opt = Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = cross_entropy(model(Tensor(x)), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert all(p.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters())
