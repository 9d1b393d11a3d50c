"""``backprop-lab forecast --model RUN_DIR/model --steps N [--out F.csv] [--plot F.png]``: the next N
periods after the data, with 80% and 95% intervals, from a model saved by ``backprop-lab run 10``.

N runs from 1 to :data:`MAX_STEPS`. The intervals were measured on up to ``validated_steps`` steps ahead
(the run's ``--test-size``); further out their width follows the fitted growth of the validation errors,
and the command says so. The CSV has one row per period: the date (or step number), the forecast, and the
lower and upper bounds of both intervals. With ``--out F.csv`` the figure (the end of the history, then the
forecast and its bands) goes to ``F.png`` beside it, or wherever ``--plot`` says; without ``--out`` the CSV
goes to the standard output and a figure is drawn only with ``--plot``.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import numpy as np

from autograd.errors import UsageError
from autograd.files import atomic_open
from projects.catalog.p10_timeseries import model as model_files

MAX_STEPS = 120  # ten years of months


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of ``backprop-lab forecast``."""
    parser.add_argument("--model", required=True, metavar="DIR", help="a model folder saved by `run 10`")
    parser.add_argument(
        "--steps", required=True, type=int, metavar="N", help=f"periods to forecast, 1 to {MAX_STEPS}"
    )
    parser.add_argument("--out", metavar="F.csv", help="write the forecast here (and the figure beside it)")
    parser.add_argument("--plot", metavar="F.png", help="draw the figure here (default with --out: F.png)")


def forecast_table(
    labels: list[str], center: np.ndarray, bands: dict[int, tuple[np.ndarray, np.ndarray]]
) -> str:
    """The forecast as CSV text: period, forecast, lower_80, upper_80, lower_95, upper_95."""
    levels = sorted(bands)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["period", "forecast", *(f"{side}_{p}" for p in levels for side in ("lower", "upper"))])
    for i, label in enumerate(labels):
        bounds = [bands[p][k][i] for p in levels for k in (0, 1)]
        writer.writerow([label, *(f"{x:.6g}" for x in (center[i], *bounds))])
    return buffer.getvalue()


def main(name: str, args: argparse.Namespace) -> int:
    """Forecast ``--steps`` periods with ``--model``; write the CSV (and the figure)."""
    if not 1 <= args.steps <= MAX_STEPS:
        raise UsageError(f"--steps {args.steps}: choose from 1 to {MAX_STEPS}")
    model = model_files.load(args.model)
    labels, center, bands = model.future(args.steps)
    if args.steps > model.validated_steps:
        print(
            f"backprop-lab: note: the intervals were validated up to {model.validated_steps} steps ahead; "
            "beyond that their width follows the fitted growth of the validation errors",
            file=sys.stderr,
        )
    text = forecast_table(labels, center, bands)
    if args.out:
        with atomic_open(args.out, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        print(f"{args.steps} periods ({labels[0]}..{labels[-1]}) written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    figure = args.plot or (str(Path(args.out).with_suffix(".png")) if args.out else None)
    if figure:
        from projects.catalog.p10_timeseries.plots import plot_future

        plot_future(
            model.labels,
            model.history,
            labels,
            center,
            bands,
            figure,
            f"{model.name}: the next {args.steps} periods",
        )
        print(f"figure: {figure}", file=sys.stderr)
    return 0
