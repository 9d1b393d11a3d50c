"""The file-system sweep: every subcommand, every kind of output it cannot write (a read-only or full file
system, a folder where a file goes or a file where a folder goes, a symbolic-link loop, a dangling link for
a folder, stdout on /dev/full) answers with one line ``backprop-lab: error: ...``, exit status 2, and
writes nothing. The one mapping that does it is in the command line (projects.lab.cli).

Read-only and full file systems are real small tmpfs mounts where the test may mount one (root with the
capability); elsewhere a read-only folder is chmod 555 (not for root) and a full disk is simulated by
raising OSError(ENOSPC) from every call that creates or writes under the folder.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import io
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

from projects.lab import cli

ROOT = Path(__file__).resolve().parent.parent
FORCE_SIMULATION = os.environ.get("BACKPROP_LAB_SIMULATE_FS") == "1"


# ---- making folders that cannot be written -----------------------------------------------------------------


def _mount_tmpfs(folder: Path, options: str) -> bool:
    if FORCE_SIMULATION or os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


def _umount(folder: Path) -> None:
    subprocess.run(["umount", str(folder)], capture_output=True)


@contextlib.contextmanager
def simulated(folder: Path, code: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every call that creates or writes something under ``folder`` raises OSError(code)."""
    inside = str(folder.resolve()) + os.sep

    def under(path) -> bool:
        try:
            return os.path.abspath(os.fspath(path)).startswith(inside)
        except TypeError:  # a file descriptor
            return False

    def fail(path) -> OSError:
        return OSError(code, os.strerror(code), os.fspath(path))

    real_open, real_os_open = builtins.open, os.open
    real_mkdir, real_replace, real_rename = os.mkdir, os.replace, os.rename

    def fake_open(file, mode="r", *args, **kwargs):
        if under(file) and any(c in mode for c in "wax+"):
            raise fail(file)
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path, flags, *args, **kwargs):
        if under(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise fail(path)
        return real_os_open(path, flags, *args, **kwargs)

    def fake_mkdir(path, *args, **kwargs):
        if under(path):
            raise fail(path)
        return real_mkdir(path, *args, **kwargs)

    def fake_move(real):
        def move(src, dst, *args, **kwargs):
            if under(dst):
                raise fail(dst)
            return real(src, dst, *args, **kwargs)

        return move

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    monkeypatch.setattr(os, "mkdir", fake_mkdir)
    monkeypatch.setattr(os, "replace", fake_move(real_replace))
    monkeypatch.setattr(os, "rename", fake_move(real_rename))
    yield


@contextlib.contextmanager
def read_only_folder(base: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = base / "read-only"
    folder.mkdir()
    (folder / "earlier.txt").write_text("an earlier file")
    if _mount_tmpfs(folder, "ro,size=1m"):
        try:
            yield folder
        finally:
            _umount(folder)
    elif os.geteuid() != 0 and not FORCE_SIMULATION:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
    else:
        with simulated(folder, errno.EROFS, monkeypatch):
            yield folder


@contextlib.contextmanager
def full_folder(base: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = base / "full"
    folder.mkdir()
    if _mount_tmpfs(folder, "size=64k"):
        try:
            with contextlib.suppress(OSError), open(folder / "filler", "wb") as f:
                while True:
                    f.write(bytes(4096))
                    f.flush()
            yield folder
        finally:
            _umount(folder)
    else:
        (folder / "filler").write_bytes(bytes(4096))
        with simulated(folder, errno.ENOSPC, monkeypatch):
            yield folder


def snapshot(folder: Path) -> list[tuple[str, int]]:
    """Every entry under ``folder`` (hidden ones too), with its size; links as themselves."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            size = path.lstat().st_size if not path.is_dir() or path.is_symlink() else 0
            entries.append((str(path.relative_to(folder)), size))
    return sorted(entries)


# ---- the commands and their outputs ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from projects.catalog import p05_tabular

    out = tmp_path_factory.mktemp("model")
    with contextlib.redirect_stdout(io.StringIO()):
        p05_tabular.run(p05_tabular.Config(quick=True, epochs=2, progress=False), out)
    return out / "model"


# command -> (is its output a folder?, argv for an output at PATH)
COMMANDS: dict[str, tuple[bool, Callable[[Path, Path], list[str]]]] = {
    "run": (True, lambda out, model: ["run", "01", "--quick", "--no-progress", "--out", str(out)]),
    "compare": (True, lambda out, model: ["compare", "--epochs", "2", "--points", "8", "--out", str(out)]),
    "predict": (
        False,
        lambda out, model: [
            "predict",
            "--model",
            str(model),
            "--csv",
            str(model.parent / "penguins.csv"),
            "--out",
            str(out),
        ],
    ),
    "graph": (False, lambda out, model: ["graph", "x*2", "--set", "x=1", "-o", str(out)]),
    "trace --json": (False, lambda out, model: ["trace", "x*2", "--set", "x=1", "--json", str(out)]),
    "trace --html": (False, lambda out, model: ["trace", "x*2", "--set", "x=1", "--html", str(out)]),
    "trace --frames": (True, lambda out, model: ["trace", "x*2", "--set", "x=1", "--frames", str(out)]),
}
SUFFIX = {"graph": ".svg", "trace --json": ".json", "trace --html": ".html", "predict": ".csv"}


def argv_for(command: str, out: Path, model: Path) -> list[str]:
    return COMMANDS[command][1](out, model)


def expect_one_line_status_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    status = cli.main(argv)
    err = capsys.readouterr().err
    assert status == 2, (argv, err)
    assert err.count("\n") == 1 and err.startswith("backprop-lab: error: "), err
    return err


@pytest.fixture
def workspace(tmp_path: Path, model_dir: Path) -> tuple[Path, Path]:
    """A folder for the outputs, and the model (with a copy of the penguins beside it, for predict)."""
    from projects.catalog.p05_tabular import PENGUINS

    shutil.copy(PENGUINS, model_dir.parent / "penguins.csv")
    base = tmp_path / f"w{uuid.uuid4().hex[:6]}"
    base.mkdir()
    return base, model_dir


UNWRITABLE = {
    "read-only": (read_only_folder, ("Read-only file system", "Permission denied")),
    "full": (full_folder, ("No space left on device (the disk is full)",)),
}
"""A file system that refuses the output: the folder it gives, and the reasons the one line may name."""


@pytest.mark.parametrize("kind", list(UNWRITABLE))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_read_only_or_full_file_system(command, kind, workspace, capsys, monkeypatch) -> None:
    base, model = workspace
    make_folder, reasons = UNWRITABLE[kind]
    with make_folder(base, monkeypatch) as folder:
        before = snapshot(folder)
        err = expect_one_line_status_2(
            argv_for(command, folder / f"out{SUFFIX.get(command, '')}", model), capsys
        )
        assert snapshot(folder) == before
    assert any(reason in err for reason in reasons)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_wrong_kind_of_thing_at_the_output_path(command, workspace, capsys) -> None:
    """A folder where a file goes; a regular file where a folder goes."""
    base, model = workspace
    is_folder = COMMANDS[command][0]
    target = base / f"out{SUFFIX.get(command, '')}"
    if is_folder:
        target.write_text("a file, not a folder")
    else:
        target.mkdir()
        (target / "inside.txt").write_text("kept")
    before = snapshot(base)
    expect_one_line_status_2(argv_for(command, target, model), capsys)
    assert snapshot(base) == before


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_symbolic_link_loop(command, workspace, capsys) -> None:
    base, model = workspace
    target = base / f"out{SUFFIX.get(command, '')}"
    target.symlink_to(base / "other")
    (base / "other").symlink_to(target)
    before = snapshot(base)
    err = expect_one_line_status_2(argv_for(command, target, model), capsys)
    assert snapshot(base) == before
    assert "symbolic link" in err or "Too many levels" in err or "File exists" in err


@pytest.mark.parametrize("command", ["run"])
def test_a_dangling_link_where_a_folder_goes(command, workspace, capsys) -> None:
    """``--out`` a dangling link: the folder cannot be made. (A link where the run's own folder goes,
    ``OUT/NN-name``, a ``compare --out`` or a ``--frames`` folder, is replaced itself, never followed.)"""
    base, model = workspace
    target = base / "out"
    target.symlink_to(base / "nowhere")
    before = snapshot(base)
    expect_one_line_status_2(argv_for(command, target, model), capsys)
    assert snapshot(base) == before


STDOUT_COMMANDS = {
    "list": ["list"],
    "graph": ["graph", "x*2", "--set", "x=1", "-o", "g.dot"],
    "trace": ["trace", "x*2", "--set", "x=1"],
    "predict": ["predict", "--model", "MODEL", "--csv", "CSV"],
    "run": ["run", "01", "--quick", "--no-progress", "--out", "runs"],
    "compare": ["compare", "--epochs", "2", "--points", "8", "--out", "cmp"],
}


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("command", list(STDOUT_COMMANDS))
def test_stdout_on_a_full_device(command, workspace) -> None:
    base, model = workspace
    argv = [
        a.replace("MODEL", str(model)).replace("CSV", str(model.parent / "penguins.csv"))
        for a in STDOUT_COMMANDS[command]
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    code = "import sys; from projects.lab import cli; sys.exit(cli.main(sys.argv[1:]))"
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-c", code, *argv],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=base,
            env=env,
            timeout=120,
        )
    assert done.returncode == 2, done.stderr[-3000:]
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("backprop-lab: error: "), done.stderr[
        -3000:
    ]
    assert "No space left on device" in done.stderr
