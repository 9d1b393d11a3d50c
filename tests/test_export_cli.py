"""``backprop-lab export RUN_DIR --to torch|onnx -o FILE`` through the command line: 03's (MLP and CNN) and
05's saved models give our outputs under onnxruntime and PyTorch, 03's report has the ONNX model's test
accuracy next to ours, and every run that cannot be exported, or whose model.json was tampered with, is one
error line with exit status 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from autograd import Tensor, no_grad
from autograd.export import INSTALL_EXTRA
from projects.catalog import p03_mnist, p05_tabular
from projects.datasets.csv_table import read_csv
from projects.datasets.mnist import load_embedded
from projects.lab import cli
from projects.lab.model_files import load_model

TOL = 1e-5


CNN_RUN = "cnn/03-mnist"  # the 03 run with --model cnn, in its own output folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """A small 03 run of each model and a 05 run (penguins), made through the command line."""
    out = tmp_path_factory.mktemp("runs")
    small_03 = ["--quick", "--epochs", "1", "--train-size", "500", "--test-size", "1000", "--hidden", "32"]
    assert cli.main(["run", "03", *small_03, "--no-progress", "--out", str(out)]) == 0
    small_cnn = ["--model", "cnn", "--quick", "--epochs", "2", "--train-size", "1000", "--test-size", "1000"]
    small_cnn += ["--channels", "4,8", "--cnn-hidden", "32", "--lr", "0.003"]
    assert cli.main(["run", "03", *small_cnn, "--no-progress", "--out", str(out / "cnn")]) == 0
    assert cli.main(["run", "05", "--no-progress", "--out", str(out)]) == 0
    return out


def ours(run_dir: Path, X: np.ndarray) -> np.ndarray:
    model, _ = load_model(run_dir / "model", "model")
    with no_grad():
        return model(Tensor(X)).data


def mnist_inputs(n: int = 100) -> np.ndarray:
    return p03_mnist.flatten(load_embedded().test_images[:n])


def penguin_features(run_dir: Path) -> np.ndarray:
    _, preprocessor = p05_tabular.load_model(run_dir / "model")
    X, _ = preprocessor.transform(read_csv(p05_tabular.PENGUINS))
    return X[:100].astype(np.float32)


def error_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


# ---- exports that work ----------------------------------------------------------------------------------


@pytest.mark.parametrize("run", ["03-mnist", CNN_RUN])
def test_03_report_has_the_onnx_accuracy_next_to_ours(runs, run) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    metrics = json.loads((runs / run / "metrics.json").read_text(encoding="utf-8"))
    assert list(metrics)[:2] == ["test_accuracy", "onnx_test_accuracy"]
    assert metrics["onnx_test_accuracy"] == metrics["test_accuracy"] > 0.2  # chance: 0.1
    assert metrics["onnx_same_predictions"] is True and metrics["onnx_max_logit_difference"] < TOL


@pytest.mark.parametrize(
    "project, inputs",
    [
        ("03-mnist", lambda d: mnist_inputs()),
        (CNN_RUN, lambda d: mnist_inputs()),
        ("05-tabular", penguin_features),
    ],
)
def test_export_to_onnx_gives_our_outputs(runs, project, inputs, tmp_path, capsys) -> None:
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from autograd.export import run_onnx

    path = tmp_path / "model.onnx"
    assert cli.main(["export", str(runs / project), "--to", "onnx", "-o", str(path)]) == 0
    assert f"wrote {path}" in capsys.readouterr().out
    X = inputs(runs / project)
    np.testing.assert_allclose(run_onnx(path, X), ours(runs / project, X), rtol=TOL, atol=TOL)


@pytest.mark.parametrize("run", ["03-mnist", CNN_RUN])
def test_03_onnx_model_takes_the_784_pixels_and_scores_our_test_accuracy(runs, run, tmp_path) -> None:
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from autograd.export import run_onnx

    path = tmp_path / "mnist.onnx"
    assert cli.main(["export", str(runs / run), "--to", "onnx", "-o", str(path)]) == 0
    (graph_input,) = onnx.load(path).graph.input
    assert [d.dim_value or d.dim_param for d in graph_input.type.tensor_type.shape.dim] == ["batch", 784]
    data = load_embedded()
    X, y = p03_mnist.flatten(data.test_images), data.test_labels
    assert X.shape[1] == 784 and 0 <= X.min() and X.max() <= 1
    accuracy_onnx = (run_onnx(path, X).argmax(axis=1) == y).mean()
    accuracy_ours = (ours(runs / run, X).argmax(axis=1) == y).mean()
    assert accuracy_onnx == accuracy_ours > 0.2  # a model of one or two epochs; chance is 0.1


def test_export_to_torch_loads_without_backprop_lab(runs, tmp_path) -> None:
    pytest.importorskip("torch")
    folders = {"03-mnist": "03-mnist", "03-cnn": CNN_RUN, "05-tabular": "05-tabular"}
    inputs = {"03-mnist": mnist_inputs(), "03-cnn": mnist_inputs()}
    inputs["05-tabular"] = penguin_features(runs / "05-tabular")
    for project, X in inputs.items():
        path = tmp_path / f"{project}.pt"
        assert cli.main(["export", str(runs / folders[project]), "--to", "torch", "-o", str(path)]) == 0
        np.save(tmp_path / f"{project}.x.npy", X)
    code = textwrap.dedent(
        """
        import sys
        sys.modules["autograd"] = sys.modules["projects"] = sys.modules["viz"] = None
        import numpy as np, torch
        for project in sys.argv[1:]:
            module = torch.load(project + ".pt", weights_only=False)
            with torch.no_grad():
                np.save(project + ".y.npy", module(torch.from_numpy(np.load(project + ".x.npy"))).numpy())
        """
    )
    bare = {"PATH": "/usr/bin:/bin"}  # no PYTHONPATH: the tree under test is not importable
    done = subprocess.run(
        [sys.executable, "-c", code, *inputs], cwd=tmp_path, capture_output=True, text=True, env=bare
    )
    assert done.returncode == 0, done.stderr
    for project, X in inputs.items():
        theirs = np.load(tmp_path / f"{project}.y.npy")
        np.testing.assert_allclose(
            theirs, ours(runs / folders[project], X), rtol=TOL, atol=TOL, err_msg=project
        )


# ---- runs that cannot be exported: one line, status 2 ---------------------------------------------------


def fake_run(folder: Path, project: str) -> Path:
    folder.mkdir()
    (folder / "metrics.json").write_text(json.dumps({"project": project}), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda tmp: tmp / "missing", "no such run folder"),
        (lambda tmp: tmp, "not a run folder (no metrics.json)"),
        (lambda tmp: fake_run(tmp / "r", "07-simulator"), "project 07-simulator saves no model to export"),
        (lambda tmp: fake_run(tmp / "r", "10-timeseries"), "project 10's model is an ensemble"),
        (lambda tmp: fake_run(tmp / "r", "03-mnist"), "this run saved no model"),
    ],
)
def test_runs_that_cannot_be_exported_are_one_line_and_status_2(make, expected, tmp_path, capsys) -> None:
    run_dir = make(tmp_path)
    assert cli.main(["export", str(run_dir), "--to", "onnx", "-o", str(tmp_path / "m.onnx")]) == 2
    lines = error_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith("backprop-lab: error: ") and expected in lines[0]
    assert not (tmp_path / "m.onnx").exists()


def test_a_bad_format_is_one_line_and_status_2(runs, capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["export", str(runs / "03-mnist"), "--to", "keras", "-o", "m"])
    assert caught.value.code == 2
    assert len(error_lines(capsys)) == 1


@pytest.mark.parametrize("blocked, to", [("onnx", "onnx"), ("torch", "torch")])
def test_a_missing_extra_is_one_line_naming_the_install_command(runs, blocked, to, tmp_path) -> None:
    code = (
        f"import sys; sys.modules[{blocked!r}] = None\n"
        "from projects.lab import cli\n"
        f"sys.exit(cli.main(['export', {str(runs / '03-mnist')!r}, '--to', {to!r}, '-o', 'out']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2
    assert (
        done.stderr
        == f"backprop-lab: error: {blocked} is not installed; install the export extra: {INSTALL_EXTRA}\n"
    )
    assert not (tmp_path / "out").exists()


def conv(n_in: int, n_out: int, kernel: int) -> dict:
    return {"type": "Conv2d", "in_channels": n_in, "out_channels": n_out, "kernel_size": [kernel] * 2}


HUGE_CONVOLUTIONS = [  # 52 million weights in the second convolution
    {"type": "Unflatten", "dim": 1, "sizes": [1, 8, 8]},
    {**conv(1, 65536, 3), "stride": [1, 1], "padding": [0, 0]},
    {**conv(65536, 32, 5), "stride": [1, 1], "padding": [0, 0]},
]


def tamper_layers(run_dir: Path, tmp_path: Path, change) -> Path:
    """A copy of the CNN run whose model.json's ``layers`` went through ``change``."""
    copy = Path(shutil.copytree(run_dir, tmp_path / "run"))
    meta = json.loads((copy / "model" / "model.json").read_text(encoding="utf-8"))
    change(meta["layers"])
    (copy / "model" / "model.json").write_text(json.dumps(meta), encoding="utf-8")
    return copy


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda layers: layers[1].update(out_channels=100_000), "'out_channels' must be an integer from 1"),
        (
            lambda layers: layers[1].update(out_channels=5),
            "layer 4 (Conv2d): takes 4 channels, gets the shape",
        ),
        (lambda layers: layers[0].update(sizes=[1, 28, 32]), "layer 8 (Linear): takes 128 features"),
        (lambda layers: layers[1].update(kernel_size=[64, 64]), "a Conv2d window of 64 does not fit"),
        (lambda layers: layers[0].update(sizes=[1, 4096, 4096]), "numbers per input, too many"),
        (lambda layers: layers[1].update(in_channels=True), "'in_channels' must be an integer"),
        (lambda layers: layers.insert(0, {"type": "Flatten"}), "the first layer must be Unflatten or Linear"),
        (lambda layers: layers[2].update(type="Lambda"), "unknown layer type"),
        (lambda layers: layers[3].update(name="__import__"), "unknown activation"),
        (lambda layers: layers[-1].update(out_features=3_000_000, in_features=32), "'out_features' must be"),
        (lambda layers: layers.__setitem__(slice(None), HUGE_CONVOLUTIONS), "more than the 10,000,000"),
        (lambda layers: layers[-1].update(out_features=11), "array '10.weight' has shape (32, 10), expected"),
        (lambda layers: layers.clear(), "must give 'layers'"),
    ],
)
def test_a_tampered_cnn_description_is_one_line_before_anything_is_allocated(
    runs, change, expected, tmp_path, capsys
) -> None:
    run_dir = tamper_layers(runs / CNN_RUN, tmp_path, change)
    assert cli.main(["export", str(run_dir), "--to", "onnx", "-o", str(tmp_path / "m.onnx")]) == 2
    lines = error_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith("backprop-lab: error: ") and expected in lines[0], lines
    assert not (tmp_path / "m.onnx").exists()
