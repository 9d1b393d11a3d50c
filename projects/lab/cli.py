"""The ``backprop-lab`` command: one entry point for the projects, the graphs and the tracer.

Each subcommand lives in the module that owns its work; this file only wires them up. A module named in
:data:`SUBCOMMANDS` provides ``configure(name, parser)`` to declare its arguments and
``main(name, args) -> int`` to run. Modules are imported only when their subcommand runs, so ``--help``
stays fast and ``backprop-lab graph`` never loads matplotlib.

Errors the user can fix (:class:`~autograd.errors.UsageError`) and failed training
(:class:`~autograd.errors.TrainingError`) print one line ``backprop-lab: error: ...`` and exit non-zero.
So does every file-system error (``OSError``: an unwritable, full, read-only or looping output, a folder
where a file should be, stdout on a full device): this is the one place that maps it to one line and exit
status 2, whichever subcommand raised it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

import numpy as np

import autograd
from autograd.errors import TrainingError, UsageError, describe_os_error

# subcommand -> (module that implements it, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "list": ("projects.lab.runner", "list the projects"),
    "run": ("projects.lab.runner", "run a project (or all) and write its figures and metrics"),
    "compare": (
        "projects.catalog.compare",
        "train the same MLP on the scalar and the tensor engine and compare",
    ),
    "predict": (
        "projects.catalog.p05_tabular",
        "label new CSV rows with a model saved by the tabular project",
    ),
    "forecast": (
        "projects.catalog.p10_timeseries.forecast_cli",
        "forecast the next periods with a saved time-series model",
    ),
    "export": (
        "projects.lab.export_cli",
        "write the model a run saved as a PyTorch module (.pt) or an ONNX model",
    ),
    "graph": ("projects.lab.expression_cli", "draw the computation graph of an expression to SVG"),
    "trace": ("projects.lab.expression_cli", "step through the backward pass of an expression"),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit status 2 (argparse's own status)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    parser = _Parser(prog="backprop-lab", description="Learn neural networks from the math up.")
    parser.add_argument("--version", action="version", version=f"backprop-lab {autograd.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    parsers = {
        name: sub.add_parser(name, help=text, description=text) for name, (_, text) in SUBCOMMANDS.items()
    }
    return parser, parsers


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, parsers = build_parser()
    # only the chosen subcommand's module is imported to declare its arguments
    chosen = next((a for a in argv if not a.startswith("-")), None)
    if chosen in SUBCOMMANDS:
        module = importlib.import_module(SUBCOMMANDS[chosen][0])
        module.configure(chosen, parsers[chosen])
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    module = importlib.import_module(SUBCOMMANDS[args.command][0])
    # Overflow and NaN stay visible in the numbers (the training loop stops on a non-finite loss with one
    # clear line); NumPy's RuntimeWarnings would only print source lines before that message.
    np.seterr(over="ignore", invalid="ignore", divide="ignore", under="ignore")
    try:
        status = int(module.main(args.command, args) or 0)
        sys.stdout.flush()  # stdout on a full device fails here, inside the mapping below
        return status
    except (UsageError, TrainingError) as e:
        return _error(str(e), e.exit_status)
    except OSError as e:
        _silence_stdout_if_broken()
        return _error(describe_os_error(e), 2)
    except MemoryError as e:
        return _error(f"out of memory ({e or 'MemoryError'}); ask for less (see `backprop-lab list NN`)", 2)
    except KeyboardInterrupt:
        print("backprop-lab: interrupted", file=sys.stderr)
        return 130


def _error(message: str, status: int) -> int:
    """Print ``backprop-lab: error: MESSAGE`` (one line) and return the exit status."""
    line = " ".join(message.split())
    try:
        print(f"backprop-lab: error: {line}", file=sys.stderr, flush=True)
    except OSError:
        pass
    return status


def _silence_stdout_if_broken() -> None:
    """When stdout itself cannot be written (a full device, a closed pipe), point it at /dev/null, so that
    what it refused is not flushed (and refused, with a traceback) again when Python exits: the recipe of
    Python's documentation for a closed pipe."""
    try:
        sys.stdout.flush()
        return
    except OSError:
        pass
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor: nothing more to do
        pass


if __name__ == "__main__":
    sys.exit(main())
