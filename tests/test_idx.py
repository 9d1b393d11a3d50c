"""The IDX reader and writer: round trips, and a clear error for each way a file can be broken."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd.errors import UsageError
from projects.datasets.idx import IdxError, idx_bytes, parse_idx, read_idx, write_idx
from projects.datasets.mnist import EMBEDDED_DIR

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip_every_dtype(tmp_path, dtype, suffix):
    rng = np.random.default_rng(1)
    array = (rng.normal(0, 50, size=(3, 4, 5))).astype(dtype)
    path = write_idx(tmp_path / f"a-idx3{suffix}", array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype)
    assert back.shape == (3, 4, 5)
    np.testing.assert_array_equal(back, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=4), seed=st.integers(0, 2**16))
def test_round_trip_any_shape(shape, seed):
    array = np.random.default_rng(seed).integers(0, 256, size=shape).astype(np.uint8)
    np.testing.assert_array_equal(parse_idx(idx_bytes(array)), array)


def test_header_layout_is_the_published_one():
    data = idx_bytes(np.zeros((2, 28, 28), dtype=np.uint8))
    assert data[:4] == bytes([0, 0, 0x08, 3])
    assert data[4:16] == (2).to_bytes(4, "big") + (28).to_bytes(4, "big") + (28).to_bytes(4, "big")
    assert len(data) == 16 + 2 * 28 * 28
    big = idx_bytes(np.array([1, 256], dtype=np.int32))
    assert big[8:] == b"\x00\x00\x00\x01\x00\x00\x01\x00"  # big-endian data


def test_compressed_output_is_deterministic(tmp_path):
    array = np.arange(100, dtype=np.uint8).reshape(10, 10)
    first = write_idx(tmp_path / "a.gz", array).read_bytes()
    second = write_idx(tmp_path / "b.gz", array).read_bytes()
    assert first == second


def test_compression_is_detected_from_content_not_name(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    raw_named_gz = write_idx(tmp_path / "raw.gz", array, compress=False)
    gz_named_raw = write_idx(tmp_path / "packed-idx2-ubyte", array, compress=True)
    np.testing.assert_array_equal(read_idx(raw_named_gz), array)
    np.testing.assert_array_equal(read_idx(gz_named_raw), array)


def _bad(tmp_path, data: bytes, name: str = "bad-idx3-ubyte") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(IdxError) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    return message


def test_truncated_data_names_the_byte_counts(tmp_path):
    data = idx_bytes(np.zeros((4, 28, 28), dtype=np.uint8))
    message = _bad(tmp_path, data[:-100])
    assert "truncated" in message and "3136" in message and "3036" in message


def test_trailing_bytes_are_refused(tmp_path):
    message = _bad(tmp_path, idx_bytes(np.zeros((2, 2), dtype=np.uint8)) + b"\x00\x01")
    assert "trailing" in message


def test_wrong_magic_number(tmp_path):
    assert "not an IDX file" in _bad(tmp_path, b"PK\x03\x04" + bytes(20))
    assert "element type 0x07" in _bad(tmp_path, bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]))
    assert "dimensions" in _bad(tmp_path, bytes([0, 0, 0x08, 0]))


def test_truncated_header(tmp_path):
    assert "too short" in _bad(tmp_path, b"\x00\x00")
    assert "truncated header" in _bad(tmp_path, bytes([0, 0, 0x08, 3, 0, 0, 0, 9]))


def test_truncated_and_corrupt_gzip(tmp_path):
    packed = gzip.compress(idx_bytes(np.zeros((50, 28, 28), dtype=np.uint8)))
    assert "truncated gzip" in _bad(tmp_path, packed[: len(packed) // 2], "cut.gz")
    corrupt = packed[:10] + bytes(b ^ 0xFF for b in packed[10:40]) + packed[40:]
    assert "corrupt gzip" in _bad(tmp_path, corrupt, "corrupt.gz")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(IdxError, match="no such file"):
        read_idx(tmp_path / "absent")
    with pytest.raises(IdxError, match="folder"):
        read_idx(tmp_path)


def test_idx_error_is_a_usage_error():
    assert issubclass(IdxError, UsageError)  # the command line prints it as one line, exit status 2


def test_writer_refuses_what_idx_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="dtype"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="dimensions"):
        write_idx(tmp_path / "x", np.float32(1.0))
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_reads_the_embedded_originals():
    images = read_idx(EMBEDDED_DIR / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(EMBEDDED_DIR / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and set(np.unique(labels)) == set(range(10))
    # writing them back gives the same uncompressed bytes as the original file holds
    original = gzip.decompress((EMBEDDED_DIR / "t10k-labels-idx1-ubyte.gz").read_bytes())
    assert hashlib.sha256(idx_bytes(labels)).digest() == hashlib.sha256(original).digest()
