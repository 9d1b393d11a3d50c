"""Hostile and careless input (the reliability issue): every case answers with one line and a bounded
amount of work. Memory is checked by running the case under a 1 GiB address-space limit with a fixture that
would need far more without the fix; no test measures time."""

from __future__ import annotations

import gzip
import json
import zlib
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


# ---- project 03: sizes ---------------------------------------------------------------------------------------


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
