"""Errors the command line reports as one line and a non-zero exit status (no traceback)."""

from __future__ import annotations

import errno
import math


class UsageError(Exception):
    """Bad input from the user: a file, a flag, a column, an expression. Exit status 2."""

    exit_status = 2


class TrainingError(Exception):
    """Training cannot go on (a NaN or infinite loss, say). Exit status 1."""

    exit_status = 1


def check_options(checks: list[tuple[bool, str]]) -> None:
    """Raise a UsageError with the message of the first (condition, message) pair whose condition is False."""
    for ok, message in checks:
        if not ok:
            raise UsageError(message)


def describe_os_error(error: OSError) -> str:
    """One line for a file-system error: the path(s) involved and the reason, e.g.
    ``runs/03-mnist: Permission denied`` or ``No space left on device (the disk is full)``."""
    reason = error.strerror or str(error) or type(error).__name__
    if error.errno == errno.ENOSPC:
        reason += " (the disk is full)"
    elif error.errno == errno.ELOOP:
        reason += " (a symbolic link that loops)"
    paths = [str(p) for p in (error.filename, error.filename2) if p not in (None, "")]
    return f"{' -> '.join(paths)}: {reason}" if paths else reason


def unreadable(name: str, error: OSError, kind: str) -> str:
    """One line for a file the program could not read: ``name: no such file``, ``name: is a folder, not
    {kind}``, ``name: permission denied`` or ``name: cannot read it (reason)``."""
    if isinstance(error, FileNotFoundError):
        return f"{name}: no such file"
    if isinstance(error, IsADirectoryError):
        return f"{name}: is a folder, not {kind}"
    if isinstance(error, PermissionError):
        return f"{name}: permission denied"
    return f"{name}: cannot read it ({error.strerror or error})"


def finite_number(text: str, what: str) -> float:
    """``float(text)`` for a finite number; otherwise a UsageError saying that ``what`` (an option, an
    input) is not a number, or is not finite. Never evaluates the text."""
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{what}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise UsageError(f"{what}: {text!r} is not a finite number")
    return value
