"""``backprop-lab graph`` and ``backprop-lab trace``: an expression's gradient graph and its backward pass.

::

    backprop-lab graph "tanh(x*w + b)" --set x=2 w=-3 b=6.88 -o graph.svg
    backprop-lab trace "(a*b + c)**2 / 2" --set a=2 b=-3 c=10 --html trace.html --json trace.json

Both parse EXPR with :mod:`viz.expr` (a whitelist over Python's ``ast``, never ``eval``) and run one backward
pass. Every input error is a :class:`~autograd.errors.UsageError` (one line, exit status 2) raised before
any file is written. Outputs are all or nothing: ``trace``'s files and its ``--frames`` folder are made in
full beside their places, then renamed into them (the folder replaced whole), so a failure leaves none.

Bounded work: ``graph`` summarizes a big or tangled graph (see :func:`viz.graph.draw_graph`) and ``dot``
runs with a time limit; ``trace`` draws full frames of the graph (forward and backward), so its ``--html``
and ``--frames`` are refused past ``--max-nodes`` nodes (default :data:`TRACE_MAX_NODES`) or for a tangled
graph.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from autograd.errors import UsageError
from autograd.files import (
    atomic_path,
    check_output_path,
    current_umask,
    json_text,
    remove_path,
    replace_dir,
    temporary_dir,
)
from autograd.scalar import Value
from viz.naming import format_number

TRACE_MAX_NODES = 60
"""The most nodes ``trace --html/--frames`` draws (full frames of the forward and the backward pass)."""


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of the ``graph`` or ``trace`` subcommand."""
    parser.add_argument(
        "expr",
        metavar="EXPR",
        help="an expression such as 'tanh(x*w + b)' (quote it; write '(-x)*2', not '-x*2')",
    )
    parser.add_argument(
        "--set",
        dest="assignments",
        metavar="NAME=NUMBER",
        nargs="+",
        action="extend",
        default=[],
        help="values of the expression's inputs, e.g. --set x=2 w=-3",
    )
    parser.add_argument(
        "--rankdir",
        choices=("auto", "LR", "TB", "RL", "BT"),
        default="auto",
        help="layout direction (default auto: left to right when that fits a 1280 px window, else top down)",
    )
    if name == "graph":
        parser.add_argument(
            "-o",
            "--output",
            default="graph.svg",
            help="output file: .svg, .png, .pdf or .dot (default graph.svg)",
        )
        parser.add_argument(
            "--max-nodes",
            type=int,
            default=150,
            help="past this many nodes draw a summary (0: always draw every node; default 150)",
        )
    elif name == "trace":
        parser.add_argument("--html", type=Path, help="write the step-by-step HTML page here")
        parser.add_argument("--json", type=Path, help="write the trace as JSON here")
        parser.add_argument(
            "--frames",
            type=Path,
            metavar="DIR",
            help="write one SVG per frame into DIR: forwardN.svg, seed.svg, stepN.svg (replaced whole)",
        )
        parser.add_argument(
            "--max-nodes",
            type=int,
            default=TRACE_MAX_NODES,
            help=f"--html and --frames draw at most this many nodes, 1..{4 * TRACE_MAX_NODES} "
            f"(default {TRACE_MAX_NODES})",
        )
    else:
        raise ValueError(f"projects.lab.expression_cli has no subcommand {name!r}")


def _gradients_line(root: Value, names: dict[int, str], leaves: list[Value]) -> str:
    root_name = names[id(root)]
    parts = [f"d{root_name}/d{names[id(v)]} = {format_number(v.grad, 6)}" for v in leaves]
    return ", ".join(parts)


def main(name: str, args: argparse.Namespace) -> int:
    from viz.expr import evaluate, parse_assignments, parse_expression

    expr = parse_expression(args.expr)
    root = evaluate(expr, parse_assignments(args.assignments))
    if name == "graph":
        return _graph(root, expr.names, args)
    if name == "trace":
        return _trace(root, args)
    raise UsageError(f"unknown subcommand {name!r}")


def _graph(root: Value, inputs: Sequence[str], args: argparse.Namespace) -> int:
    from viz.graph import FORMATS, choose_rankdir, draw_graph, save_graph
    from viz.naming import graph_order, node_names

    output = Path(args.output)
    if output.suffix.lower() not in FORMATS:
        raise UsageError(
            f"-o {output}: unsupported format {output.suffix or '(none)'!r}; use .svg, .png, .pdf or .dot"
        )
    if args.max_nodes < 0:
        raise UsageError(f"--max-nodes {args.max_nodes}: must be 0 (no limit) or more")
    root.backward()
    order = graph_order(root)
    names = node_names(order)
    max_nodes = args.max_nodes or None
    title = f"{names[id(root)]} = {args.expr}"
    rankdir = args.rankdir
    if rankdir == "auto":
        rankdir = choose_rankdir(
            lambda rd: draw_graph(root, rd, max_nodes=max_nodes, names=names, title=title),
            output.with_suffix(".dot"),
        )
    graph = draw_graph(root, rankdir, max_nodes=max_nodes, names=names, title=title)
    save_graph(graph, output)
    position = {label: k for k, label in enumerate(inputs)}  # list gradients in the expression's order
    leaves = sorted((n for n in order if not n._parents), key=lambda n: position.get(n.label, len(position)))
    print(f"wrote {output} ({len(order)} nodes): {names[id(root)]} = {format_number(root.data, 6)}")
    print(_gradients_line(root, names, leaves))
    return 0


def _check_trace_size(root: Value, args: argparse.Namespace) -> None:
    """Refuse frames (``--html``, ``--frames``) for a graph too big or too tangled to draw once per step."""
    from autograd.core import topological_sort
    from viz.graph import MAX_LAYOUT_COST, layout_cost

    if not 1 <= args.max_nodes <= 4 * TRACE_MAX_NODES:
        raise UsageError(f"--max-nodes {args.max_nodes}: must be between 1 and {4 * TRACE_MAX_NODES}")
    if args.html is None and args.frames is None:
        return
    order = topological_sort(root)
    cost = layout_cost(order)
    if len(order) > args.max_nodes or cost > MAX_LAYOUT_COST:
        why = (
            f"{len(order)} nodes, more than --max-nodes {args.max_nodes}"
            if len(order) > args.max_nodes
            else f"long edges (a value used at many depths: layout cost {cost} > {MAX_LAYOUT_COST})"
        )
        raise UsageError(
            f"the graph of this expression has {why}; --html and --frames draw it in full once per step, "
            "which would take minutes: trace a smaller expression, or write only --json "
            "(or draw it with `backprop-lab graph`, which summarizes)"
        )


def _trace(root: Value, args: argparse.Namespace) -> int:
    from viz.trace import render_table, trace_backward, trace_to_json

    _check_trace_size(root, args)
    tracer = trace_backward(root)
    title = f"Forward and backward pass of {args.expr}"
    values = ", ".join(args.assignments)
    # everything is computed before the first file is written
    html_text = frames = svgs = None
    if args.html is not None or args.frames is not None:
        from viz.stepper import draw_stepper_frames

        dot_path = (args.html or args.frames / "frame").with_suffix(".dot")
        frames, svgs = draw_stepper_frames(tracer, args.rankdir, dot_path)
    if args.html is not None:
        from viz.stepper import render_html

        assert frames is not None and svgs is not None
        html_text = render_html(tracer, svgs, title, subtitle=f"inputs: {values}", frames=frames)
    files: dict[Path, str] = {}
    if args.json is not None:
        data = trace_to_json(tracer)
        data["expression"] = args.expr
        files[args.json] = json_text(data)
    if html_text is not None:
        files[args.html] = html_text
    named = list(zip(_frame_filenames(frames), svgs)) if frames is not None and svgs is not None else []
    _write_all(files, args.frames, named)
    sys.stdout.write(render_table(tracer))
    for label, path in (("HTML stepper", args.html), ("JSON", args.json), ("SVG frames", args.frames)):
        if path is not None:
            print(f"wrote {label}: {path}")
    return 0


def _frame_filenames(frames: Sequence[Any]) -> list[str]:
    """``forward1.svg ... seed.svg, step1.svg ...`` (numbers padded to one width within each pass)."""
    counts = {phase: sum(f.phase == phase for f in frames) for phase in ("forward", "backward")}
    seen = {"forward": 0, "backward": 0}
    names = []
    for f in frames:
        if f.phase == "seed":
            names.append("seed.svg")
            continue
        seen[f.phase] += 1
        width = len(str(counts[f.phase]))
        names.append(f"{'forward' if f.phase == 'forward' else 'step'}{seen[f.phase]:0{width}d}.svg")
    return names


def _write_all(files: dict[Path, str], frames_dir: Path | None, frames: Sequence[tuple[str, str]]) -> None:
    """Write ``files`` and the ``frames`` folder all or nothing: each is made complete beside its place
    (a temporary file, a temporary folder), and only then are they renamed into place; the folder replaces
    whatever was there, so no frame of an earlier, longer trace is left beside the new ones."""
    with contextlib.ExitStack() as stack:
        staged_dir = None
        if frames_dir is not None:
            frames_dir.parent.mkdir(parents=True, exist_ok=True)
            check_output_path(frames_dir, folder=True)
            staged_dir = temporary_dir(frames_dir.parent, prefix=f".{frames_dir.name}.")
            stack.callback(remove_path, staged_dir)  # gone already once it is renamed into place
            for filename, svg in frames:
                (staged_dir / filename).write_text(svg, encoding="utf-8")
        staged = []
        for path, text in files.items():
            tmp = stack.enter_context(atomic_path(path, rename=False))
            tmp.write_text(text, encoding="utf-8")
            staged.append((tmp, path))
        for tmp, _ in staged:
            os.chmod(tmp, 0o666 & ~current_umask())
        if staged_dir is not None and frames_dir is not None:
            replace_dir(staged_dir, frames_dir)
        for tmp, path in staged:
            os.replace(tmp, path)
