"""Errors the command line reports as one line and a non-zero exit status (no traceback)."""

from __future__ import annotations


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
