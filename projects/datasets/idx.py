"""Reading and writing IDX files, the format MNIST and Fashion-MNIST are distributed in (raw or gzip).

An IDX file is a header followed by the array's bytes, big-endian, in row-major (C) order::

    offset 0   two zero bytes
    offset 2   the element type:  0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    offset 3   the number of dimensions d
    offset 4   d sizes, each a big-endian unsigned 32-bit integer
    then       prod(sizes) * itemsize bytes of data

So MNIST's training images are ``00 00 08 03 | 60000 28 28 | 47,040,000 bytes``. :func:`read_idx` checks
each part (the magic number, the dimensions, and that the data is exactly as long as the header says) and
reports a truncated or corrupt file as :class:`IdxError`: one line naming the file and what is wrong.
The file is streamed (:func:`read_idx`): no more than the data its header announces, and at most
:data:`MAX_IDX_BYTES`, is ever decompressed or allocated.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from autograd.errors import UsageError, unreadable
from autograd.files import atomic_open

# IDX type code -> big-endian NumPy dtype
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
GZIP_MAGIC = b"\x1f\x8b"
MAX_DIMENSIONS = 8  # the format allows 255; anything past a handful is a corrupt header
MAX_IDX_BYTES = 64 * 2**20
"""The most data one IDX file may hold (64 MiB; full MNIST's and Fashion-MNIST's training images: 47 MB)."""
_CHUNK = 1 << 20


class IdxError(UsageError):
    """An IDX file that cannot be read: missing, truncated, corrupt, or not IDX at all."""


def _header(head: bytes, name: str) -> tuple[np.dtype, int]:
    """The element type and the number of dimensions from the first four bytes."""
    if len(head) < 4:
        raise IdxError(f"{name}: too short for an IDX header ({len(head)} bytes)")
    if head[0] != 0 or head[1] != 0:
        raise IdxError(f"{name}: not an IDX file (magic number {head[:4].hex()} does not start with 0000)")
    code, ndim = head[2], head[3]
    if code not in IDX_DTYPES:
        raise IdxError(f"{name}: unknown IDX element type 0x{code:02x} (magic number {head[:4].hex()})")
    if not 1 <= ndim <= MAX_DIMENSIONS:
        raise IdxError(f"{name}: implausible number of dimensions {ndim} (magic number {head[:4].hex()})")
    return IDX_DTYPES[code], ndim


def _data_size(shape: tuple[int, ...], dtype: np.dtype, name: str, max_bytes: int) -> int:
    """Bytes of data the dimensions announce (Python integers: no overflow), refused past ``max_bytes``."""
    expected = dtype.itemsize
    for n in shape:
        expected *= n
    if expected > max_bytes:
        raise IdxError(
            f"{name}: dimensions {'x'.join(map(str, shape))} announce {expected:,} bytes of data, more than "
            f"the {max_bytes:,} allowed (corrupt header?)"
        )
    return expected


def parse_idx(data: bytes, name: str = "<bytes>", max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """The array stored in the IDX bytes ``data`` (``name`` is used in error messages).

    The result has native byte order (uint8 for MNIST) and owns its memory.
    """
    dtype, ndim = _header(bytes(data[:4]), name)
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise IdxError(
            f"{name}: truncated header: {ndim} dimensions need {header_size} bytes, got {len(data)}"
        )
    shape = tuple(int(n) for n in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = _data_size(shape, dtype, name, max_bytes)
    actual = len(data) - header_size
    if actual < expected:
        raise IdxError(
            f"{name}: truncated: dimensions {'x'.join(map(str, shape))} need {expected} bytes of data, "
            f"the file has {actual}"
        )
    if actual > expected:
        raise IdxError(
            f"{name}: {actual - expected} bytes of trailing data after the {expected} bytes that dimensions "
            f"{'x'.join(map(str, shape))} need (corrupt header?)"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def _read_up_to(stream: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes (fewer only at the end of the stream), in chunks."""
    parts, got = [], 0
    while got < size:
        chunk = stream.read(min(size - got, _CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _read_stream(stream: BinaryIO, name: str, max_bytes: int) -> np.ndarray:
    """Read an IDX array from ``stream``: the header first, then exactly the bytes it announces (checked
    against ``max_bytes`` before they are read), then one more byte to refuse trailing data."""
    head = _read_up_to(stream, 4)
    dtype, ndim = _header(head, name)
    sizes = _read_up_to(stream, 4 * ndim)
    if len(sizes) < 4 * ndim:
        raise IdxError(
            f"{name}: truncated header: {ndim} dimensions need {4 + 4 * ndim} bytes, got {4 + len(sizes)}"
        )
    shape = tuple(int(n) for n in np.frombuffer(sizes, dtype=">u4"))
    expected = _data_size(shape, dtype, name, max_bytes)
    data = _read_up_to(stream, expected)
    if len(data) < expected:
        raise IdxError(
            f"{name}: truncated: dimensions {'x'.join(map(str, shape))} need {expected} bytes of data, "
            f"the file has {len(data)}"
        )
    if stream.read(1):
        raise IdxError(
            f"{name}: trailing data after the {expected} bytes that dimensions {'x'.join(map(str, shape))} "
            "need (corrupt header?)"
        )
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike[str], max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read an IDX file, raw or gzip-compressed (detected from its first bytes, not its name).

    The file is streamed: the header is read (and decompressed) first, and no more than the data it
    announces is ever read or allocated, at most ``max_bytes``; so a small file that decompresses to
    gigabytes, or a header that claims them, is refused at once.
    """
    path = Path(path)
    name = str(path)
    try:
        with open(path, "rb") as raw:
            compressed = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            if not compressed:
                return _read_stream(raw, name, max_bytes)
            with gzip.GzipFile(fileobj=raw) as stream:
                return _read_stream(stream, name, max_bytes)  # type: ignore[arg-type]
    except EOFError:
        raise IdxError(f"{name}: truncated gzip stream (the download or copy is incomplete)") from None
    except (gzip.BadGzipFile, zlib.error) as e:
        raise IdxError(f"{name}: corrupt gzip data ({e})") from None
    except OSError as e:
        raise IdxError(unreadable(name, e, "an IDX file")) from None


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of ``array`` (uint8, int8, int16, int32, float32 or float64; 1 to 8 dimensions)."""
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        raise ValueError(
            f"IDX cannot store dtype {array.dtype}; use one of uint8, int8, int16, int32, float32, float64"
        )
    if not 1 <= array.ndim <= MAX_DIMENSIONS:
        raise ValueError(f"IDX stores 1 to {MAX_DIMENSIONS} dimensions, got {array.ndim}")
    code = _CODES[native]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()


def write_idx(path: str | os.PathLike[str], array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file, atomically; gzip-compressed when ``compress`` is True or, by default,
    when the name ends in ``.gz`` (with a zero timestamp, so the same array always gives the same bytes)."""
    path = Path(path)
    data = idx_bytes(array)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=6, mtime=0)
    with atomic_open(path, "wb") as f:
        f.write(data)
    return path
