"""Writing files so that a crash never leaves one half-written: write a temporary file, then rename it.

The one atomic writer of the code base (the engine's ``Module.save``, the projects' run folders, figures and
checkpoints all go through :func:`atomic_path`). Files and folders get the mode ``open()`` and ``mkdir()``
would give them (0666 / 0777 less the umask), not ``tempfile``'s owner-only 0600 / 0700.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix) for a writer that wants a file name; on success it is
    renamed to ``path``, on failure deleted. The file gets the usual permissions (0666 less the umask),
    not mkstemp's owner-only 0600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix or ".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success rename it to ``path``, on failure delete it."""
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as f:
        yield f


def temporary_dir(parent: str | os.PathLike[str], prefix: str, suffix: str = ".tmp") -> Path:
    """A new, empty folder inside ``parent`` (created if needed) for work that is renamed into place once
    complete; its mode is that of an ordinary ``mkdir`` (0777 less the umask)."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=parent))
    os.chmod(folder, 0o777 & ~current_umask())
    return folder


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


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, default=_jsonable, allow_nan=True) + "\n")
