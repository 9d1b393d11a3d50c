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
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from autograd.errors import UsageError
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


class IdxError(UsageError):
    """An IDX file that cannot be read: missing, truncated, corrupt, or not IDX at all."""


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed when it starts with the gzip magic number (whatever its name)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise IdxError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise IdxError(f"{path}: is a folder, not an IDX file") from None
    except OSError as e:
        raise IdxError(f"{path}: cannot read it ({e.strerror or e})") from None
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise IdxError(f"{path}: truncated gzip stream (the download or copy is incomplete)") from None
    except (OSError, zlib.error) as e:
        raise IdxError(f"{path}: corrupt gzip data ({e})") from None


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """The array stored in the IDX bytes ``data`` (``name`` is used in error messages).

    The result has native byte order (uint8 for MNIST) and owns its memory.
    """
    if len(data) < 4:
        raise IdxError(f"{name}: too short for an IDX header ({len(data)} bytes)")
    if data[0] != 0 or data[1] != 0:
        raise IdxError(f"{name}: not an IDX file (magic number {data[:4].hex()} does not start with 0000)")
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        raise IdxError(f"{name}: unknown IDX element type 0x{code:02x} (magic number {data[:4].hex()})")
    if not 1 <= ndim <= MAX_DIMENSIONS:
        raise IdxError(f"{name}: implausible number of dimensions {ndim} (magic number {data[:4].hex()})")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise IdxError(
            f"{name}: truncated header: {ndim} dimensions need {header_size} bytes, got {len(data)}"
        )
    shape = tuple(int(n) for n in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
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


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, raw or gzip-compressed (detected from its first bytes, not its name)."""
    path = Path(path)
    return parse_idx(_read_bytes(path), str(path))


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
