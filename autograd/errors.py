"""Errors the command line reports as one line and a non-zero exit status (no traceback)."""

from __future__ import annotations

import errno


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
