"""``backprop-lab list`` and ``backprop-lab run NAME|NUMBER|all``: the project runner.

A project module (``projects/pNN_name.py``) provides a ``Config`` dataclass, ``EXPLANATION`` (markdown) and
``run(config, out_dir) -> metrics``. The runner

1. builds the ``Config`` from the command line: ``--seed`` and ``--quick`` set the fields of those names,
   and any further ``--name value`` after the project is mapped onto the field ``name`` (dashes become
   underscores) and converted by the field's type (int, float, str, Path, bool, a ``Literal``, an
   ``Optional`` of these, or a tuple/list of numbers written ``8,8``). A bool field is switched on by
   ``--name`` and off by ``--no-name``;
2. runs the project into a temporary sibling folder ``OUT/.NN-name.*.tmp`` and writes ``metrics.json``
   (the project's metrics plus ``project``, ``seed``, ``config``, ``versions``, ``wall_time_s`` and
   ``figures``) and ``explanation.md`` beside its figures;
3. renames that folder to ``OUT/NN-name`` (replacing an earlier run), so a failed run never leaves a
   half-written folder, and regenerates the gallery ``OUT/index.html`` (:mod:`projects.lab.report`).
   Temporary folders that a killed run left in ``OUT`` are removed first.

``run all`` says when each project starts and prints one line per project when it ends; what a project
itself prints goes to ``OUT/NN-name/output.txt``. When stderr is not a terminal (``make run``, a log) and
``--no-progress`` is not given, the training loop prints a short progress line every few seconds
(:data:`projects.lab.training.HEARTBEAT`). Every option's declared bounds are checked
(:func:`projects.lab.config.check_bounds`); ``--seed`` is 0 .. 2**32 - 1.

Fields the runner fills in itself when a ``Config`` declares them (they are not command-line options):

* ``checkpoint: Path | None``: ``OUT/.checkpoints/NN-name.npz``. Checkpoints live outside the run folder,
  which is only put in place at the end, so that ``--resume`` finds the one an interrupted run left;
* ``resume: bool``: ``--resume`` (an error for a project without a ``resume`` field);
* ``progress: bool | None``: False with ``--no-progress``, else None (a progress bar on a terminal);
* ``run_dir: Path | None``: the folder the run will have once it is put in place (``OUT/NN-name``), for a
  project that tells the user where to find what it wrote (it writes into a temporary folder until then).

A project whose module is missing or fails to import is reported only when it is asked for (or, for
``run all``, as one failed project among the others).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import io
import json
import os
import platform
import shutil
import sys
import textwrap
import time
import traceback
import types
import typing
from pathlib import Path
from typing import Any, Iterator, Literal, Sequence

import numpy as np

import autograd
from autograd.errors import TrainingError, UsageError, describe_os_error, finite_number
from autograd.files import (
    check_output_path,
    remove_if_empty,
    remove_stale,
    replace_dir,
    temporary_dir,
    write_json,
    write_text,
)
from projects.lab.config import check_bounds, help_of
from projects.lab.registry import PROJECTS, ProjectInfo, find
from projects.lab.report import write_index

RUNNER_FIELDS = ("seed", "quick", "checkpoint", "resume", "progress", "run_dir")
"""Config fields set by the runner's own flags, never by a project option."""

CHECKPOINT_DIR = ".checkpoints"
OUTPUT_FILE = "output.txt"  # what a project printed during `run all`
FIGURE_SUFFIXES = (".png", ".svg", ".gif", ".jpg", ".jpeg", ".webp")
MAX_SEED = 2**32 - 1
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


# --------------------------------------------------------------------------------------------------------
# Command-line wiring (see projects.lab.cli)
# --------------------------------------------------------------------------------------------------------


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``list`` or ``run``."""
    if name == "list":
        parser.add_argument(
            "project", nargs="?", help="show this project's options (number, name or NN-name)"
        )
        return
    parser.epilog = (
        "Project options come after the project: e.g. `backprop-lab run 02 --epochs 300`. "
        "`backprop-lab list 02` lists a project's options."
    )
    parser.add_argument("project", help="a number (2 or 02), a name (xor), NN-name (02-xor), or 'all'")
    parser.add_argument("--out", type=out_path, default=Path("runs"), help="output folder (default: runs)")
    parser.add_argument(
        "--seed", type=int, default=0, help=f"seed of every random choice, 0..{MAX_SEED} (default: 0)"
    )
    parser.add_argument("--quick", action="store_true", help="a small, fast version of each project")
    parser.add_argument(
        "--resume", action="store_true", help=f"continue training from OUT/{CHECKPOINT_DIR}/NN-name.npz"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "options", nargs=argparse.REMAINDER, metavar="--OPTION VALUE", help="project-specific options"
    )


def main(name: str, args: argparse.Namespace) -> int:
    if name == "list":
        return list_command(args.project)
    tokens = list(args.options or [])
    if "-h" in tokens or "--help" in tokens:  # `run 02 --help`: the project's own options
        return list_command(None if args.project.strip().lower() == "all" else args.project)
    common, options = split_options(tokens)
    out = Path(common.get("out", args.out))
    seed = int(common.get("seed", args.seed))
    if not 0 <= seed <= MAX_SEED:
        raise UsageError(f"--seed must be between 0 and {MAX_SEED} (got {seed})")
    quick = bool(common.get("quick", args.quick))
    resume = bool(common.get("resume", args.resume))
    progress = False if common.get("no_progress", args.no_progress) else None
    settings = RunSettings(out=out, seed=seed, quick=quick, resume=resume, progress=progress)
    if args.project.strip().lower() == "all":
        if options:
            names = ", ".join("--" + k.replace("_", "-") for k in options)
            raise UsageError(f"project options ({names}) cannot be used with 'run all'; run one project")
        return run_all(settings)
    info = find(args.project)
    result = run_one(info, settings, options)
    print(summary_line(info.slug, result.metrics))
    print(f"wrote {result.path} and {out / 'index.html'}")
    return 0


# --------------------------------------------------------------------------------------------------------
# Parsing the options after the project name
# --------------------------------------------------------------------------------------------------------


def out_path(text: str) -> Path:
    """The ``--out`` folder; an empty name (which would mean the current folder) is refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError("--out needs a folder name, got an empty one")
    return Path(text).expanduser()


_COMMON_VALUED = {"out": out_path, "seed": int}
_COMMON_FLAGS = ("quick", "resume", "no_progress")


def split_options(tokens: Sequence[str]) -> tuple[dict[str, Any], dict[str, str | bool]]:
    """Split ``--name value`` / ``--name=value`` / ``--flag`` tokens into the runner's own flags and the
    project's options (keys with underscores; a bare ``--flag`` is True, ``--no-flag`` False)."""
    common: dict[str, Any] = {}
    options: dict[str, str | bool] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("--") or token == "--":
            raise UsageError(f"unexpected argument {token!r}: options look like --name value")
        body = token[2:]
        value: str | None = None
        if "=" in body:
            body, value = body.split("=", 1)
        key = body.replace("-", "_")
        if not key:
            raise UsageError(f"unexpected argument {token!r}")
        if key in _COMMON_FLAGS:
            if value is not None:
                raise UsageError(f"--{body} takes no value")
            common[key] = True
            i += 1
            continue
        if value is None:
            following = tokens[i + 1] if i + 1 < len(tokens) else None
            if following is None or (following.startswith("--") and len(following) > 2):
                # a bare flag: --name means True, --no-name means False
                if key.startswith("no_") and key not in _COMMON_VALUED:
                    options[key[3:]] = False
                else:
                    options[key] = True
                i += 1
                continue
            value = following
            i += 1
        i += 1
        if key in _COMMON_VALUED:
            try:
                common[key] = _COMMON_VALUED[key](value)
            except argparse.ArgumentTypeError as e:
                raise UsageError(str(e)) from None
            except ValueError:
                raise UsageError(f"--{body} needs an integer, got {value!r}") from None
        else:
            if key in options:
                raise UsageError(f"--{body} given twice")
            options[key] = value
    return common, options


# --------------------------------------------------------------------------------------------------------
# Config: options onto dataclass fields
# --------------------------------------------------------------------------------------------------------


def option_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def add_config_arguments(parser: argparse.ArgumentParser, config_class: type) -> None:
    """Declare a Config's user fields as ``--name VALUE`` arguments of a subcommand (their text is converted
    by :func:`convert_option`, like the options after ``run NN``; a missing one keeps the field's default)."""
    for f in user_fields(config_class):
        parser.add_argument(option_name(f.name), dest=f.name, metavar="VALUE", default=None, help=help_of(f))


def given_options(args: argparse.Namespace, config_class: type) -> dict[str, str | bool]:
    """The Config fields given on the command line (see :func:`add_config_arguments`), as project options."""
    return {
        f.name: getattr(args, f.name) for f in user_fields(config_class) if getattr(args, f.name) is not None
    }


def user_fields(config_class: type) -> list[dataclasses.Field]:
    """The Config fields a user sets with project options (all but the runner's own)."""
    return [f for f in dataclasses.fields(config_class) if f.name not in RUNNER_FIELDS]


def _is_none_type(t: Any) -> bool:
    return t is type(None)


def convert_option(text: str | bool, annotation: Any, option: str) -> Any:
    """Convert one command-line value to the field type ``annotation`` (never evaluates the text)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        members = [a for a in typing.get_args(annotation) if not _is_none_type(a)]
        optional = len(members) < len(typing.get_args(annotation))
        if optional and isinstance(text, str) and text.strip().lower() in ("none", "null", ""):
            return None
        errors = []
        for member in members:
            try:
                return convert_option(text, member, option)
            except UsageError as e:
                errors.append(str(e))
        raise UsageError(errors[0] if errors else f"{option}: cannot convert {text!r}")
    if annotation is bool:
        if isinstance(text, bool):
            return text
        word = text.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise UsageError(f"{option} is a switch: write {option} or --no-{option[2:]}, not {text!r}")
    if isinstance(text, bool):
        raise UsageError(f"{option} needs a value")
    if origin is Literal:
        choices = typing.get_args(annotation)
        for choice in choices:
            if str(choice) == text:
                return choice
        raise UsageError(f"{option} must be one of {', '.join(map(str, choices))}, got {text!r}")
    if origin in (tuple, list):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis] or [str]
        parts = [p.strip() for p in text.split(",") if p.strip()]  # "" is the empty list
        items = [convert_option(p, args[0], option) for p in parts]
        return tuple(items) if origin is tuple else items
    if annotation is int:
        try:
            return int(text)
        except ValueError:
            raise UsageError(f"{option} needs an integer, got {text!r}") from None
    if annotation is float:
        return finite_number(text, option)
    if annotation is str:
        return text
    if annotation is Path or (isinstance(annotation, type) and issubclass(annotation, os.PathLike)):
        return Path(text).expanduser()
    raise UsageError(f"{option}: this option cannot be set from the command line")


def build_config(
    info: ProjectInfo,
    module: types.ModuleType,
    settings: RunSettings,
    options: dict[str, str | bool],
    strict_resume: bool = True,
) -> Any:
    """The project's Config from the run settings and the project options.

    With ``strict_resume`` (a single project), ``--resume`` for a project that keeps no checkpoint is an
    error; ``run all --resume`` simply runs such projects afresh."""
    config_class = module.Config
    fields = {f.name for f in dataclasses.fields(config_class)}
    hints = typing.get_type_hints(config_class, vars(module))
    allowed = [f.name for f in user_fields(config_class)]
    values: dict[str, Any] = {}
    for key, text in options.items():
        if key not in allowed:
            listed = ", ".join(option_name(n) for n in allowed) or "none"
            raise UsageError(f"project {info.slug} has no option {option_name(key)}; its options: {listed}")
        values[key] = convert_option(text, hints[key], option_name(key))
    if "seed" in fields:
        values["seed"] = settings.seed
    if "quick" in fields:
        values["quick"] = settings.quick
    if "checkpoint" in fields:
        values["checkpoint"] = checkpoint_path(settings.out, info)
    if "resume" in fields:
        values["resume"] = settings.resume
    elif settings.resume and strict_resume:
        raise UsageError(f"project {info.slug} keeps no checkpoint, so it cannot --resume")
    if "progress" in fields:
        values["progress"] = settings.progress
    if "run_dir" in fields:
        values["run_dir"] = settings.out / info.slug
    return config_class(**values)


def checkpoint_path(out: Path, info: ProjectInfo) -> Path:
    """Where a project's training checkpoint lives: outside its run folder, so ``--resume`` finds it."""
    return out / CHECKPOINT_DIR / f"{info.slug}.npz"


def config_as_json(config: Any) -> dict[str, Any]:
    def plain(x: Any) -> Any:
        if isinstance(x, os.PathLike):
            return os.fspath(x)
        if isinstance(x, (list, tuple)):
            return [plain(v) for v in x]
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        return x

    return {k: plain(v) for k, v in dataclasses.asdict(config).items()}


# --------------------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RunSettings:
    out: Path = Path("runs")
    seed: int = 0
    quick: bool = False
    resume: bool = False
    progress: bool | None = None
    folder: Path | None = None
    """The run's own folder (default: OUT/NN-name); ``out`` is then its parent."""
    gallery: bool = True
    """Regenerate OUT/index.html after the run (``compare`` does so only where a gallery already is)."""


@dataclasses.dataclass
class RunResult:
    path: Path
    metrics: dict[str, Any]


def load_project(info: ProjectInfo) -> types.ModuleType:
    """Import a project's module and check it has what the runner needs; UsageError otherwise."""
    if importlib.util.find_spec(info.module) is None:
        raise UsageError(f"project {info.slug} is not available: module {info.module} does not exist")
    try:
        module = info.load()
    except Exception as e:  # a broken module must not take the runner (or `run all`) down
        raise UsageError(f"project {info.slug} failed to import: {type(e).__name__}: {e}") from e
    missing = [
        name
        for name, ok in (
            ("Config", dataclasses.is_dataclass(getattr(module, "Config", None))),
            ("run", callable(getattr(module, "run", None))),
            ("EXPLANATION", isinstance(getattr(module, "EXPLANATION", None), str)),
        )
        if not ok
    ]
    if missing:
        raise UsageError(f"project {info.slug}: module {info.module} lacks {', '.join(missing)}")
    return module


def versions() -> dict[str, str]:
    found = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "backprop-lab": autograd.__version__,
    }
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is not None:
        found["matplotlib"] = matplotlib.__version__
    return found


def find_figures(folder: Path, preferred: Sequence[str] = ()) -> list[str]:
    """Image files under ``folder`` (relative POSIX paths): those in ``preferred`` first, in that order,
    then the rest in the order they were written."""
    found = [
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in FIGURE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    names = {p.relative_to(folder).as_posix(): p for p in found}
    first = [n for n in preferred if isinstance(n, str) and n in names]
    rest = sorted(set(names) - set(first), key=lambda n: (names[n].stat().st_mtime_ns, n))
    return first + rest


def run_one(
    info: ProjectInfo,
    settings: RunSettings,
    options: dict[str, str | bool] | None = None,
    config: Any = None,
) -> RunResult:
    """Run one project into ``settings.out/NN-name`` (atomically) and regenerate the gallery; with
    ``config``, that Config as it is (from Python) instead of one built from ``options``. When the run
    fails in an output folder it created, and nothing else is there, the folder goes too."""
    out = settings.folder.parent if settings.folder else settings.out
    created = not (out.exists() or out.is_symlink())
    try:
        if config is not None:
            result = run_config(info, load_project(info), config, settings)
        else:
            result = _run_project(info, settings, options or {})
    except BaseException:
        if not (created and remove_if_empty(out)) and settings.gallery:
            _refresh_index(settings.out)
        raise
    if settings.gallery:
        _refresh_index(settings.out)
    return result


def _run_project(
    info: ProjectInfo,
    settings: RunSettings,
    options: dict[str, str | bool],
    strict_resume: bool = True,
    capture_output: bool = False,
) -> RunResult:
    """Run one project into a temporary folder and rename it into place. With ``capture_output``
    (``run all``), whatever the project prints goes to ``OUTPUT_FILE`` in its folder, not the terminal."""
    module = load_project(info)
    config = build_config(info, module, settings, options, strict_resume)
    return run_config(info, module, config, settings, capture_output)


def run_config(
    info: ProjectInfo,
    module: types.ModuleType,
    config: Any,
    settings: RunSettings,
    capture_output: bool = False,
) -> RunResult:
    """Run ``module.run(config, ...)`` in a temporary folder, write the run record (``metrics.json``,
    ``explanation.md``) beside its figures and rename the folder into place (``settings.folder``, or
    ``settings.out/NN-name``). Every option's declared bounds are checked first (the one place)."""
    check_bounds(config)
    out = settings.folder.parent if settings.folder else settings.out
    check_output_path(settings.folder or out / info.slug, folder=True)  # no file, no looping link there
    out.mkdir(parents=True, exist_ok=True)
    remove_stale(out, f".{info.slug}.")  # what a killed run into the same folder left behind
    work = temporary_dir(out, prefix=f".{info.slug}.")
    printed = io.StringIO()
    try:
        start = time.perf_counter()
        with (
            contextlib.redirect_stdout(printed) if capture_output else contextlib.nullcontext(),
            _heartbeat(info, settings, announce=capture_output),
        ):
            metrics = module.run(config, work)
        if printed.getvalue():
            write_text(work / OUTPUT_FILE, printed.getvalue())
        wall = time.perf_counter() - start
        if not isinstance(metrics, dict):
            raise TypeError(f"{info.module}.run returned {type(metrics).__name__}, not a dict of metrics")
        preferred = metrics.get("figures", ())
        record = {k: v for k, v in metrics.items() if k != "figures"}
        record.update(
            project=info.slug,
            seed=config.seed,
            config=config_as_json(config),
            versions=versions(),
            wall_time_s=round(wall, 3),
            figures=find_figures(work, preferred if isinstance(preferred, (list, tuple)) else ()),
        )
        write_json(work / "metrics.json", record)
        write_text(work / "explanation.md", textwrap.dedent(module.EXPLANATION).strip() + "\n")
        final = settings.folder or out / info.slug
        replace_dir(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        if printed.getvalue():  # a failed project's own output helps to see why: show it after all
            sys.stderr.write(printed.getvalue())
        raise
    return RunResult(final, record)


@contextlib.contextmanager
def _heartbeat(info: ProjectInfo, settings: RunSettings, announce: bool) -> Iterator[None]:
    """While a project runs: say that it started (``announce``: ``run all``), and switch on the training
    loop's plain progress lines when stderr is not a terminal (no bar to show instead); neither with
    ``--no-progress``."""
    from projects.lab.training import HEARTBEAT

    if settings.progress is False:
        yield
        return
    if announce:
        print(f"{info.slug}: started", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        yield
        return
    HEARTBEAT.start(info.slug)
    try:
        yield
    finally:
        HEARTBEAT.stop()


def run_all(settings: RunSettings) -> int:
    """Run every project; go on past failures, name them at the end, exit status 1 if any failed."""
    failures: dict[str, str] = {}
    start = time.perf_counter()
    settings.out.mkdir(parents=True, exist_ok=True)  # the gallery is written even if every project fails
    for info in PROJECTS:
        try:
            result = _run_project(info, settings, {}, strict_resume=False, capture_output=True)
        except KeyboardInterrupt:
            _refresh_index(settings.out, failures)
            raise
        except (UsageError, TrainingError) as e:
            failures[info.slug] = str(e)
            print(f"{info.slug:<16} FAILED: {e}", flush=True)
        except OSError as e:  # a file-system error (a full disk, say): one line, as the command line says it
            failures[info.slug] = describe_os_error(e)
            print(f"{info.slug:<16} FAILED: {failures[info.slug]}", flush=True)
        except Exception as e:
            failures[info.slug] = f"{type(e).__name__}: {e}"
            print(f"{info.slug:<16} FAILED: {type(e).__name__}: {e}", flush=True)
            traceback.print_exc(file=sys.stderr)
        else:
            print(summary_line(info.slug, result.metrics), flush=True)
    index = _refresh_index(settings.out, failures)
    total = time.perf_counter() - start
    ran = len(PROJECTS) - len(failures)
    print(f"{ran}/{len(PROJECTS)} projects ran in {total:.1f} s; gallery: {index}")
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


def _refresh_index(out: Path, failures: dict[str, str] | None = None) -> Path:
    """Regenerate ``out/index.html`` (not when ``out`` was never created: a typo makes no gallery)."""
    if not out.is_dir():
        return out / "index.html"
    return write_index(out, failures or {})


def _headline_value(value: Any) -> str | None:
    if isinstance(value, bool) or isinstance(value, (int, np.integer)):
        return str(value)
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    if isinstance(value, str) and len(value) <= 24:
        return value
    return None


def _scalar_metrics(metrics: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for key, value in metrics.items():
        if isinstance(value, dict) and value and all(_headline_value(v) is not None for v in value.values()):
            yield from ((f"{key}.{inner}", v) for inner, v in value.items())
        else:
            yield key, value


def summary_line(slug: str, metrics: dict[str, Any], count: int = 3) -> str:
    """``NN-name  metric=value ...  (wall time)``: the project's first few scalar metrics; a metric that
    is a dict of numbers (08's ``test_accuracy`` by activation) shows its entries as ``metric.key``."""
    shown = []
    for key, value in _scalar_metrics(metrics):
        if key in ("project", "seed", "wall_time_s", "config", "versions", "figures"):
            continue
        text = _headline_value(value)
        if text is not None:
            shown.append(f"{key}={text}")
        if len(shown) == count:
            break
    wall = metrics.get("wall_time_s")
    timing = f"  ({wall:.1f} s)" if isinstance(wall, (int, float)) else ""
    return f"{slug:<16} {'  '.join(shown)}{timing}"


# --------------------------------------------------------------------------------------------------------
# list
# --------------------------------------------------------------------------------------------------------


def list_command(project: str | None) -> int:
    if project is None:
        for info in PROJECTS:
            available = importlib.util.find_spec(info.module) is not None
            note = "" if available else "  (not available)"
            print(f"{info.number}  {info.name:<12} {info.title}{note}")
        print("\nrun one with `backprop-lab run NUMBER`, all with `backprop-lab run all`;")
        print("`backprop-lab list NUMBER` shows a project's options")
        return 0
    info = find(project)
    module = load_project(info)
    doc = (module.__doc__ or "").strip().splitlines()
    print(f"{info.slug}: {doc[0] if doc else info.title}")
    print("options (after the project name):")
    docs = field_docs(module.Config)
    hints = typing.get_type_hints(module.Config, vars(module))
    for f in user_fields(module.Config):
        default = f.default if f.default is not dataclasses.MISSING else None
        if isinstance(default, (tuple, list)):
            default = ",".join(str(v) for v in default)  # as it is written on the command line
        kind = _type_name(hints.get(f.name))
        print(f"  {option_name(f.name):<22} {kind:<8} default {default!s:<10} {docs.get(f.name, '')}")
    return 0


def _type_name(annotation: Any) -> str:
    if annotation is None:
        return "?"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("pathlib.", "")


def field_docs(config_class: type) -> dict[str, str]:
    """The help line of each Config field, declared with :func:`projects.lab.config.option`."""
    return {f.name: help_of(f) for f in dataclasses.fields(config_class)}


def read_metrics(folder: Path) -> dict[str, Any]:
    """A run folder's metrics.json (NaN allowed, as written by :func:`autograd.files.write_json`)."""
    return json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
