"""Hostile and careless input (the reliability issue): every case answers with one line and a bounded
amount of work. Memory is checked by running the case under a 1 GiB address-space limit with a fixture that
would need far more without the fix; no test measures time."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from autograd.errors import UsageError
from projects.datasets.idx import IdxError, idx_bytes, read_idx, write_idx
from projects.datasets.mnist import load_folder

GiB = 1 << 30


def gzip_bomb(path: Path, header: bytes, gib: int) -> Path:
    """``header`` followed by ``gib`` GiB of zeros, gzip-compressed as concatenated members (a few MB)."""
    member = gzip.compress(bytes(1 << 20), compresslevel=9, mtime=0)
    with open(path, "wb") as f:
        f.write(gzip.compress(header, mtime=0))
        for _ in range(gib * 1024):
            f.write(member)
    return path


# ---- IDX and MNIST folders ---------------------------------------------------------------------------------


def test_an_idx_gzip_bomb_is_refused_without_decompressing_it(tmp_path, memory_limited):
    header = idx_bytes(np.zeros((2, 28, 28), dtype=np.uint8))  # a valid file, then 2 GiB of zeros
    bomb = gzip_bomb(tmp_path / "train-images-idx3-ubyte.gz", header, 2)
    assert bomb.stat().st_size < 5 * 2**20
    result = memory_limited(
        "from projects.datasets.idx import read_idx, IdxError\n"
        f"try:\n    read_idx({str(bomb)!r})\nexcept IdxError as e:\n    print('refused:', e)\n"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "refused:" in result.stdout and "trailing data" in result.stdout


def test_an_idx_header_announcing_gigabytes_is_refused_before_reading(tmp_path):
    path = tmp_path / "big-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 0x08, 3]) + np.array([60000, 4096, 4096], dtype=">u4").tobytes())
    with pytest.raises(IdxError, match="announce 1,006,632,960,000 bytes of data, more than"):
        read_idx(path)


def test_idx_dimensions_that_overflow_int64_are_refused(tmp_path):
    path = tmp_path / "wrap-idx3-ubyte"
    # (2^32 - 1)^3 * 8 overflows int64; np.prod wrapped it to a small number before
    dims = np.array([2**32 - 1] * 3, dtype=">u4").tobytes()
    path.write_bytes(bytes([0, 0, 0x0E, 3]) + dims)
    with pytest.raises(IdxError, match="more than the"):
        read_idx(path)


def write_digits(folder: Path, n_train: int, n_test: int = 5, side: int = 28) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(
            folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 255, (n, side, side), dtype=np.uint8)
        )
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n, dtype=np.uint8))
    return folder


def test_a_folder_with_zero_training_images_is_one_line(tmp_path):
    with pytest.raises(IdxError, match="0 images of 28x28 pixels; expected at least one image"):
        load_folder(write_digits(tmp_path / "d", 0))


def test_images_too_large_for_an_mlp_input_are_refused(tmp_path):
    with pytest.raises(IdxError, match="each side 1 to 64 pixels"):
        load_folder(write_digits(tmp_path / "d", 2, side=100))


# ---- project 03: sizes -------------------------------------------------------------------------------------


def test_03_train_size_beyond_the_data_is_refused_naming_what_there_is(tmp_path, capsys):
    from projects.lab import cli

    status = cli.main(["run", "03", "--train-size", "1000000000", "--out", str(tmp_path)])
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--train-size 1000000000: the data has only 5000 train images" in err


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--hidden", "1000000000", "--hidden must be between 1 and 2048 (got 1000000000)"),
        ("--hidden", "8,8,8,8,8,8,8,8,8", "--hidden: at most 8 values, got 9"),
        ("--train-size", "-1", "--train-size must be at least 1 (got -1)"),
        ("--batch-size", "0", "--batch-size must be between 1 and 10000 (got 0)"),
    ],
)
def test_03_size_options_have_bounds(tmp_path, capsys, option, value, message):
    from projects.lab import cli

    assert cli.main(["run", "03", option, value, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not any(p.name.startswith("03") for p in tmp_path.iterdir())


def test_03_huge_hidden_layer_stays_within_the_memory_limit(memory_limited, tmp_path):
    result = memory_limited(
        "import sys\nfrom projects.lab import cli\n"
        f"sys.exit(cli.main(['run', '03', '--hidden', '1000000000', '--out', {str(tmp_path)!r}]))"
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr[-2000:]
    assert "--hidden must be between 1 and 2048" in result.stderr


# ---- project 05: model folders and tables ------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory) -> Path:
    import contextlib
    import io

    from projects.catalog import p05_tabular

    out = tmp_path_factory.mktemp("tabular")
    with contextlib.redirect_stdout(io.StringIO()):
        p05_tabular.run(p05_tabular.Config(quick=True, epochs=3, progress=False), out)
    return out / "model"


def copy_model(saved: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(saved, tmp_path / "model"))


def predict(model: Path, capsys, csv: Path | None = None) -> tuple[int, str]:
    from projects.catalog.p05_tabular import PENGUINS
    from projects.lab import cli

    capsys.readouterr()
    status = cli.main(["predict", "--model", str(model), "--csv", str(csv or PENGUINS)])
    err = capsys.readouterr().err
    return status, err


def tamper_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "sizes, message",
    [
        ([10, 30_000_000, 3], "model.json describes 420,000,003 weights, more than the 10,000,000 allowed"),
        ([10, 1_000_000_000, 3], "more than the 10,000,000 allowed"),
        ([10, -4, 3], "must give 'sizes', 2 to 10 positive integers"),
        ("10,16,3", "must give 'sizes'"),
    ],
)
def test_predict_refuses_a_tampered_model_description(saved_model, tmp_path, capsys, sizes, message):
    model = copy_model(saved_model, tmp_path)
    tamper_json(model / "model.json", lambda d: d.update(sizes=sizes))
    status, err = predict(model, capsys)
    assert status == 2 and err.count("\n") == 1 and message in err


def test_predict_with_a_tampered_model_stays_within_the_memory_limit(saved_model, tmp_path, memory_limited):
    model = copy_model(saved_model, tmp_path)
    tamper_json(model / "model.json", lambda d: d.update(sizes=[10, 1_000_000_000, 3]))
    result = memory_limited(
        "import sys\nfrom projects.lab import cli\nfrom projects.catalog.p05_tabular import PENGUINS\n"
        f"sys.exit(cli.main(['predict', '--model', {str(model)!r}, '--csv', str(PENGUINS)]))"
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr[-2000:]
    assert "describes 14,000,000,003 weights" in result.stderr


def npz_with_big_member(path: Path, shape: tuple[int, ...]) -> None:
    """A weights.npz whose member header announces ``shape`` float64 followed by only a little data:
    reading it the plain way allocates the whole announced array first."""
    import io
    import zipfile

    from numpy.lib import format as npy

    header = io.BytesIO()
    npy.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": shape})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("net.0.weight.npy", header.getvalue() + bytes(1 << 20))


def test_predict_refuses_an_npz_member_announcing_gigabytes_within_the_memory_limit(
    saved_model, tmp_path, memory_limited
):
    model = copy_model(saved_model, tmp_path)
    npz_with_big_member(model / "weights.npz", (20000, 20000))  # 3.2 GB announced, a few kB on disk
    result = memory_limited(
        "import sys\nfrom projects.lab import cli\nfrom projects.catalog.p05_tabular import PENGUINS\n"
        f"sys.exit(cli.main(['predict', '--model', {str(model)!r}, '--csv', str(PENGUINS)]))"
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.count("\n") == 1 and "weights.npz: its arrays would take 3052 MiB" in result.stderr


@pytest.mark.parametrize("damage", ["truncated", "empty"])
def test_predict_with_a_damaged_weights_file_is_one_line(saved_model, tmp_path, capsys, damage):
    model = copy_model(saved_model, tmp_path)
    data = (model / "weights.npz").read_bytes()
    (model / "weights.npz").write_bytes(data[: len(data) // 2] if damage == "truncated" else b"")
    status, err = predict(model, capsys)
    assert status == 2 and err.count("\n") == 1 and "weights.npz: not a readable .npz file" in err


def test_predict_refuses_non_finite_weights(saved_model, tmp_path, capsys):
    model = copy_model(saved_model, tmp_path)
    with np.load(model / "weights.npz") as data:
        arrays = {k: np.full_like(data[k], np.nan) for k in data.files}
    np.savez(model / "weights.npz", **arrays)
    status, err = predict(model, capsys)
    assert status == 2 and "holds inf or nan weights" in err


def test_predict_refuses_a_zero_standard_deviation(saved_model, tmp_path, capsys):
    model = copy_model(saved_model, tmp_path)
    tamper_json(model / "preprocessing.json", lambda d: d["columns"][1].update(std=0.0))
    status, err = predict(model, capsys)
    assert status == 2 and "has a standard deviation of 0.0 (must be > 0)" in err


def test_huge_values_in_a_csv_name_the_overflow_not_the_learning_rate(tmp_path, capsys):
    from projects.lab import cli

    rows = ["x,y,label"] + [f"{(-1) ** i * 1e308},{i % 7},{'ab'[i % 2]}" for i in range(40)]
    (tmp_path / "big.csv").write_text("\n".join(rows) + "\n")
    args = ["run", "tabular", "--csv", str(tmp_path / "big.csv"), "--target", "label", "--lr", "1e-12"]
    assert cli.main([*args, "--quick", "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "column 'x' holds values as large as 1e+308" in err
    assert "learning rate" not in err


def test_a_text_target_with_500_classes_is_not_called_continuous(tmp_path):
    from projects.datasets.csv_table import read_csv
    from projects.datasets.tabular import encode_target

    (tmp_path / "names.csv").write_text("name,x\n" + "".join(f"person{i},{i}\n" for i in range(500)))
    with pytest.raises(UsageError) as info:
        encode_target(read_csv(tmp_path / "names.csv"), "name")
    assert "500 distinct values" in str(info.value) and "continuous" not in str(info.value)
    assert "identifier" in str(info.value)


def test_a_csv_past_the_row_limit_is_refused_while_reading(tmp_path, monkeypatch):
    from projects.datasets import csv_table

    monkeypatch.setattr(csv_table, "MAX_ROWS", 50)
    (tmp_path / "long.csv").write_text("a,b\n" + "1,2\n" * 51)
    with pytest.raises(
        UsageError, match="more than 50 data rows of 2 columns; this program reads at most 50"
    ):
        csv_table.read_csv(tmp_path / "long.csv")
    (tmp_path / "ok.csv").write_text("a,b\n" + "1,2\n" * 50)
    assert len(csv_table.read_csv(tmp_path / "ok.csv").rows) == 50


def test_a_csv_past_the_byte_limit_is_refused_before_reading(tmp_path, monkeypatch):
    from projects.datasets import csv_table

    monkeypatch.setattr(csv_table, "MAX_BYTES", 1000)
    (tmp_path / "big.csv").write_text("a,b\n" + "1,2\n" * 300)
    with pytest.raises(UsageError, match="this program reads CSV files of at most"):
        csv_table.read_csv(tmp_path / "big.csv")


# ---- NaN and divergence before any plot; projects 06 and 10 ------------------------------------------------


def one_line(argv: list[str], capsys) -> tuple[int, str]:
    """Run the command line; its exit status (argparse's own errors exit 2 by SystemExit) and stderr,
    which must be one error line."""
    from projects.lab import cli

    capsys.readouterr()
    try:
        status = cli.main(argv)
    except SystemExit as e:
        status = e.code
    err = capsys.readouterr().err
    # "backprop-lab: error: ..." (argparse's own: "backprop-lab run: error: ...")
    assert err.count("\n") == 1 and err.startswith("backprop-lab") and ": error: " in err, err
    return status, err


def test_06_a_huge_learning_rate_stops_in_the_loop_not_in_matplotlib(tmp_path, capsys):
    status, err = one_line(
        ["run", "06", "--lr", "1e6", "--quick", "--no-progress", "--out", str(tmp_path)], capsys
    )
    assert status == 1 and "training diverged" in err and "lower learning rate (now 1e+06)" in err
    assert not (tmp_path / "06-landscape").exists()


def series_csv(path: Path, value) -> Path:
    rows = ["month,v"] + [f"{1950 + i // 12}-{i % 12 + 1:02d},{value(i)}" for i in range(120)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    "value",
    [lambda i: 1e300 * (1 + i / 100), lambda i: 1e250 if i == 50 else 100 + i],
    ids=["near 1e300", "one spike of 1e250"],
)
def test_10_values_that_overflow_are_named_before_any_plot(tmp_path, capsys, value):
    csv = series_csv(tmp_path / "s.csv", value)
    status, err = one_line(
        ["run", "10", "--quick", "--no-progress", "--csv", str(csv), "--out", str(tmp_path)], capsys
    )
    assert status == 2 and "overflow when the series is standardized" in err
    assert not (tmp_path / "10-timeseries").exists()


def test_10_forecasts_that_become_nan_stop_before_the_plots(monkeypatch):
    from autograd.errors import TrainingError
    from projects.catalog import p10_timeseries

    with pytest.raises(TrainingError, match="the mlp forecasts became inf or nan: an overflow in the data"):
        p10_timeseries.check_forecasts("s", {"naive": np.ones(3), "mlp": np.array([1.0, np.nan])})


def test_10_an_unknown_activation_is_one_line(tmp_path, capsys):
    status, err = one_line(["run", "10", "--quick", "--activation", "bogus", "--out", str(tmp_path)], capsys)
    assert status == 2 and "--activation 'bogus': choose one of sigmoid, tanh, relu" in err


def test_10_one_stray_word_in_the_series_is_named(tmp_path, capsys):
    csv = series_csv(tmp_path / "s.csv", lambda i: "abc" if i == 50 else 100 + i)
    status, err = one_line(["run", "10", "--quick", "--csv", str(csv), "--out", str(tmp_path)], capsys)
    assert status == 2 and "line 52: text 'abc' in column 'v', whose other values are numbers" in err
    assert "--column" not in err


def test_10_one_impossible_date_is_named_not_ignored(tmp_path, capsys):
    csv = tmp_path / "d.csv"
    rows = ["month,v"] + [
        f"{'2000-13' if i == 50 else f'{1950 + i // 12}-{i % 12 + 1:02d}'},{100 + i}" for i in range(120)
    ]
    csv.write_text("\n".join(rows) + "\n")
    status, err = one_line(["run", "10", "--quick", "--csv", str(csv), "--out", str(tmp_path)], capsys)
    assert status == 2 and "line 52: '2000-13' in 'month' is not a date" in err


# ---- the runner --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "07", "--seed", "4294967296"], "--seed must be between 0 and 4294967295 (got 4294967296)"),
        (["run", "07", "--seed", "-1"], "--seed must be between 0 and 4294967295"),
        (["run", "07", "--out", ""], "--out needs a folder name, got an empty one"),
        (["run", "--out", "", "07"], "--out needs a folder name, got an empty one"),
    ],
)
def test_runner_options_out_of_range(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    status, err = one_line(argv, capsys)
    assert status == 2 and message in err
    assert list(tmp_path.iterdir()) == []  # no run folder, no gallery


def test_a_killed_runs_temporary_folders_are_removed_by_the_next_run(tmp_path):
    import subprocess
    import sys

    from projects.lab import cli

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "runs"
    stale = out / f".01-perceptron.{dead.pid}.abc123.tmp"
    (stale / "half").mkdir(parents=True)
    old = out / f".01-perceptron.{dead.pid}.xyz.old"
    old.mkdir()
    import os

    alive = out / f".01-perceptron.{os.getpid()}.live.tmp"  # a run still going: left alone
    alive.mkdir()
    other = out / f".07-simulator.{dead.pid}.abc.tmp"  # another project's: its own next run cleans it
    other.mkdir()
    assert cli.main(["run", "01", "--quick", "--no-progress", "--out", str(out)]) == 0
    assert not stale.exists() and not old.exists()
    assert alive.exists() and other.exists()


def test_replacing_a_symlinked_run_folder_leaves_no_old_link_and_spares_its_target(tmp_path):
    from projects.lab import cli

    out = tmp_path / "runs"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("not ours")
    out.mkdir()
    (out / "01-perceptron").symlink_to(elsewhere)
    assert cli.main(["run", "01", "--quick", "--no-progress", "--out", str(out)]) == 0
    assert (out / "01-perceptron").is_dir() and not (out / "01-perceptron").is_symlink()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []
    assert (elsewhere / "keep.txt").read_text() == "not ours"


def test_run_all_says_when_each_project_starts(tmp_path, capsys, monkeypatch):
    from projects.lab import runner
    from projects.lab.registry import ProjectInfo

    first = ProjectInfo("01", "perceptron", "projects.catalog.p01_perceptron", "Perceptron")
    monkeypatch.setattr(runner, "PROJECTS", (first,))
    assert runner.run_all(runner.RunSettings(out=tmp_path, quick=True)) == 0
    err = capsys.readouterr().err
    assert err.splitlines()[0] == "01-perceptron: started"


# ---- expressions, graphs, traces ---------------------------------------------------------------------------


def test_set_reads_names_as_the_parser_does(tmp_path, capsys, monkeypatch):
    from projects.lab import cli

    monkeypatch.chdir(tmp_path)
    assert cli.main(["graph", "ｘ*2 + µ", "--set", "ｘ=3", "µ=1", "-o", "g.dot"]) == 0
    assert "dL/dx = 2, dL/dμ = 1" in capsys.readouterr().out


def test_a_long_flat_sum_is_not_called_nested():
    from viz.expr import parse_expression

    with pytest.raises(UsageError) as info:
        parse_expression("+".join(["x"] * 101))
    assert "more than 100 operations in a row" in str(info.value) and "nested" not in str(info.value)


def test_a_flat_sum_too_tangled_to_lay_out_is_summarized():
    from autograd.core import topological_sort
    from viz.expr import build
    from viz.graph import MAX_LAYOUT_COST, draw_graph, layout_cost

    root = build("+".join(["x"] * 60), ["x=1"])
    root.backward()
    order = topological_sort(root)
    assert len(order) == 60 < 150 and layout_cost(order) > MAX_LAYOUT_COST
    source = draw_graph(root).source
    assert "Summary: 60 nodes and 118 edges have long edges" in source
    assert source.count("->") < 40  # a few boxes, not 118 edges routed across 59 ranks
    small = build("+".join(["x"] * 10), ["x=1"])
    small.backward()
    assert "Summary" not in draw_graph(small).source


def test_a_summary_that_would_itself_be_tangled_is_coarsened():
    """284 nodes exceed max_nodes, and the plain summary (one box of the 95 products, feeding 95 sums at
    95 depths) would be as slow to lay out as the sum itself: fewer, coarser boxes instead."""
    from viz.expr import build
    from viz.graph import draw_graph

    names = [f"x{i}" for i in range(95)]
    root = build("+".join(f"{n}*{n}" for n in names), [f"{n}=1" for n in names])
    root.backward()
    source = draw_graph(root).source
    assert "Summary: 284 nodes and 378 edges exceed max_nodes=150" in source
    assert source.count("->") < 40


def test_dot_runs_with_a_time_limit(tmp_path, monkeypatch):
    import subprocess

    from viz import graph as graph_module
    from viz.expr import build

    if graph_module.shutil.which("dot") is None:
        pytest.skip("no Graphviz dot")

    def too_slow(*args, **kwargs):
        assert kwargs["timeout"] == graph_module.DOT_TIMEOUT_S
        raise subprocess.TimeoutExpired(args[0], kwargs["timeout"])

    monkeypatch.setattr(graph_module.subprocess, "run", too_slow)
    root = build("x*2", ["x=1"])
    root.backward()
    with pytest.raises(UsageError, match="did not finish within 20 s"):
        graph_module.save_graph(graph_module.draw_graph(root), tmp_path / "g.svg")
    assert list(tmp_path.iterdir()) == []


def test_trace_frames_of_a_big_expression_are_refused_before_drawing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    names = [f"x{i}" for i in range(95)]
    expr = "+".join(f"{n}*{n}" for n in names)
    argv = ["trace", expr, "--set", *(f"{n}=1" for n in names), "--html", "t.html", "--json", "t.json"]
    status, err = one_line(argv, capsys)
    assert status == 2 and "nodes, more than --max-nodes 60" in err and "write only --json" in err
    assert list(tmp_path.iterdir()) == []
    status, err = one_line(["trace", "+".join(["x"] * 30), "--set", "x=1", "--frames", "f"], capsys)
    assert status == 2 and "long edges" in err


def test_a_shorter_trace_replaces_the_frames_folder_whole(tmp_path, capsys):
    from projects.lab import cli

    if __import__("shutil").which("dot") is None:
        pytest.skip("no Graphviz dot")
    frames = tmp_path / "frames"
    assert cli.main(["trace", "(a*b + c)**2 / 2", "--set", "a=1", "b=2", "c=3", "--frames", str(frames)]) == 0
    first = {p.name for p in frames.iterdir()}
    assert {"step1.svg", "step4.svg"} <= first
    assert cli.main(["trace", "a*2", "--set", "a=1", "--frames", str(frames)]) == 0
    second = {p.name for p in frames.iterdir()}
    assert "step1.svg" in second and not second & {"step2.svg", "step3.svg", "step4.svg"}  # no stale frame
    assert len(second) < len(first)
    assert [p.name for p in tmp_path.iterdir()] == ["frames"]
