"""Writing files so that a crash never leaves one half-written, and reading arrays with bounded memory.

The one atomic writer of the code base (the engine's ``Module.save``, the projects' run folders, figures and
checkpoints all go through :func:`atomic_path`). Files and folders get the mode ``open()`` and ``mkdir()``
would give them (0666 / 0777 less the umask), not ``tempfile``'s owner-only 0600 / 0700.

Files that belong together (``trace --json --html --frames``) are staged with :func:`atomic_path`
(``rename=False``) and renamed only once all are complete; a folder of outputs is replaced whole by
:func:`replace_dir`. Temporary folders carry the writing process's id (:func:`temporary_dir`), so that the
next run can remove those a killed run left (:func:`remove_stale`).

:func:`read_npz` reads a ``.npz`` archive (weights, checkpoints) checking each member's ``.npy`` header
(dtype, shape, size) against what the caller expects and a byte limit *before* anything is allocated.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterator, Mapping

from autograd.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

MAX_NPZ_BYTES = 512 * 2**20
"""The most bytes the arrays of one ``.npz`` file may hold once read (512 MiB) unless a caller says less."""


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], rename: bool = True) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix) for a writer that wants a file name; on success it is
    renamed to ``path``, on failure deleted. The file gets the usual permissions (0666 less the umask),
    not mkstemp's owner-only 0600. With ``rename=False`` the caller renames it (several files at once);
    it is deleted when the block ends, if still there."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    check_output_path(path, folder=False)
    tmp: Path | None = None
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix or ".tmp")
        os.close(fd)
        tmp = Path(name)
        yield tmp
        if rename:
            os.chmod(tmp, 0o666 & ~current_umask())
            os.replace(tmp, path)
    except OSError as e:  # name the file the user asked for, not its temporary stand-in
        named = e.filename is None or (tmp is not None and os.fspath(e.filename) == os.fspath(tmp))
        if e.errno is not None and named:
            raise OSError(e.errno, e.strerror, str(path)) from None
        raise
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success rename it to ``path``, on failure delete it."""
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as f:
        yield f


def temporary_dir(parent: str | os.PathLike[str], prefix: str, suffix: str = ".tmp") -> Path:
    """A new, empty folder ``parent/PREFIX<pid>.<random>SUFFIX`` (``parent`` created if needed) for work
    that is renamed into place once complete; its mode is that of an ordinary ``mkdir`` (0777 less the
    umask). The process id in the name lets :func:`remove_stale` tell a killed run's folder from a live
    one."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}.", suffix=suffix, dir=parent))
    os.chmod(folder, 0o777 & ~current_umask())
    return folder


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_stale(
    parent: str | os.PathLike[str], prefix: str, suffixes: tuple[str, ...] = (".tmp", ".old")
) -> list[Path]:
    """Remove ``parent/PREFIX<pid>.*SUFFIX`` entries (from :func:`temporary_dir` and :func:`replace_dir`)
    whose process is gone (a run killed before it could clean up); return what was removed. Entries of a
    live process are left alone."""
    parent = Path(parent)
    if not parent.is_dir():
        return []
    pattern = re.compile(re.escape(prefix) + r"(\d+)\..*(" + "|".join(map(re.escape, suffixes)) + r")$")
    removed = []
    for entry in parent.iterdir():
        match = pattern.match(entry.name)
        if match is None or _process_alive(int(match.group(1))):
            continue
        remove_path(entry)
        removed.append(entry)
    return removed


def remove_if_empty(folder: Path) -> bool:
    """Remove ``folder`` if it is an empty folder; return whether it was removed."""
    try:
        folder.rmdir()
    except OSError:
        return False
    return True


def remove_path(path: Path) -> None:
    """Delete a file, a symbolic link (not what it points to) or a folder tree; no error if it is gone."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def replace_dir(new: str | os.PathLike[str], final: str | os.PathLike[str]) -> None:
    """Put the finished folder ``new`` at ``final``, replacing whatever is there (a folder, a file, a
    symbolic link: the link itself, never its target) by renames, so ``final`` is always either the old or
    the new one; the old one is then deleted."""
    new, final = Path(new), Path(final)
    old: Path | None = None
    if final.exists() or final.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.{os.getpid()}.", suffix=".old", dir=final.parent))
        os.rmdir(old)
        os.rename(final, old)
    try:
        os.rename(new, final)
    except BaseException:
        if old is not None:
            os.rename(old, final)
        raise
    if old is not None:
        remove_path(old)


def check_output_path(path: Path, folder: bool) -> None:
    """Refuse (OSError) an output path that is a symbolic-link loop, or the wrong kind of thing: a folder
    where a file goes (``folder=False``), a file where a folder goes. A symbolic link that resolves, or
    dangles, is replaced itself, never followed."""
    if path.is_symlink():
        try:
            os.stat(path)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path)) from None
        return
    if not folder and path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if folder and path.exists() and not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))


def current_umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(text)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_open(path, "wb") as f:
        f.write(data)


def write_npz(path: str | os.PathLike[str], arrays: dict[str, Any]) -> None:
    """``np.savez`` of named arrays (weights, checkpoints), written atomically."""
    import numpy as np  # the engine imports NumPy anyway; here only when saving arrays

    with atomic_open(path, "wb") as f:
        np.savez(f, **arrays)


def _jsonable(x: Any) -> Any:
    """NumPy scalars and arrays as plain Python numbers and lists."""
    if hasattr(x, "tolist"):
        return x.tolist()
    raise TypeError(f"not JSON serializable: {type(x).__name__}")


def json_text(data: Any) -> str:
    """``data`` as indented JSON (NumPy numbers and arrays as plain ones): what :func:`write_json` writes."""
    return json.dumps(data, indent=2, default=_jsonable, allow_nan=True) + "\n"


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    write_text(path, json_text(data))


# --------------------------------------------------------------------------------------------------------
# Reading .npz archives with bounded memory
# --------------------------------------------------------------------------------------------------------


def _size(n: int) -> str:
    """A byte count for people: ``3052 MiB``, ``12 KiB``, ``512 bytes``."""
    if n >= 2**20:
        return f"{n / 2**20:.0f} MiB"
    return f"{n / 2**10:.0f} KiB" if n >= 2**10 else f"{n} bytes"


def npz_headers(path: str | os.PathLike[str]) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The shape and dtype of each array in the ``.npz`` file ``path``, read from the ``.npy`` headers
    alone (nothing is decompressed past them). UsageError for anything that is not such an archive."""
    import numpy as np
    from numpy.lib import format as npy

    name = str(path)
    headers: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                key = member.removesuffix(".npy")
                with archive.open(member) as f:
                    version = npy.read_magic(f)
                    if version == (1, 0):
                        shape, _, dtype = npy.read_array_header_1_0(f)
                    elif version == (2, 0):
                        shape, _, dtype = npy.read_array_header_2_0(f)
                    else:
                        raise ValueError(f"member {key!r}: unsupported .npy version {version}")
                if dtype.hasobject:
                    raise ValueError(f"member {key!r} holds Python objects (refused: never unpickled)")
                headers[key] = (tuple(int(n) for n in shape), np.dtype(dtype))
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{name}: is a folder, not a .npz file") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError) as e:
        raise UsageError(
            f"{name}: not a readable .npz file (truncated or corrupt: {e or type(e).__name__})"
        ) from None
    except OSError as e:
        raise UsageError(f"{name}: cannot read it ({e.strerror or e})") from None
    return headers


def read_npz(
    path: str | os.PathLike[str],
    shapes: Mapping[str, tuple[int, ...]] | None = None,
    max_bytes: int = MAX_NPZ_BYTES,
) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` file ``path`` (never unpickled), after checking every member's header:
    each name in ``shapes`` must be present with that shape, and all arrays together must fit in
    ``max_bytes``. A file that fails a check is refused (UsageError) before its arrays are allocated."""
    import numpy as np

    name = str(path)
    headers = npz_headers(path)
    total = 0
    for shape, dtype in headers.values():
        size = 1
        for n in shape:
            size *= n
        total += size * dtype.itemsize
    if total > max_bytes:
        raise UsageError(
            f"{name}: its arrays would take {_size(total)}, more than the {_size(max_bytes)} allowed "
            "(corrupt or not the expected file)"
        )
    for key, shape in (shapes or {}).items():
        if key not in headers:
            raise UsageError(f"{name}: no array {key!r} in it (not the expected file?)")
        if headers[key][0] != tuple(shape):
            raise UsageError(
                f"{name}: array {key!r} has shape {headers[key][0]}, expected {tuple(shape)} "
                "(from another model?)"
            )
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError) as e:
        raise UsageError(
            f"{name}: not a readable .npz file (truncated or corrupt: {e or type(e).__name__})"
        ) from None
