"""Errors the command line reports as one line and a non-zero exit status (no traceback)."""


class UsageError(Exception):
    """Bad input from the user: a file, a flag, a column, an expression. Exit status 2."""

    exit_status = 2


class TrainingError(Exception):
    """Training cannot go on (a NaN or infinite loss, say). Exit status 1."""

    exit_status = 1
