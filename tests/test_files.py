"""The one atomic writer (autograd.files): all or nothing, and files with the modes ``open()`` gives."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from autograd.files import atomic_open, temporary_dir, write_json, write_npz, write_text
from autograd.nn import MLP


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield 0o022
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_get_the_umask_mode_not_owner_only(tmp_path: Path, umask_022: int) -> None:
    write_text(tmp_path / "a.txt", "x")
    write_json(tmp_path / "a.json", {"x": 1})
    write_npz(tmp_path / "a.npz", {"w": np.zeros(3)})
    MLP([2, 3, 1], engine="tensor", seed=0).save(tmp_path / "model.npz")  # the engine's own save
    for name in ("a.txt", "a.json", "a.npz", "model.npz"):
        assert mode(tmp_path / name) == 0o644, name


def test_a_folder_for_work_gets_the_umask_mode(tmp_path: Path, umask_022: int) -> None:
    folder = temporary_dir(tmp_path / "out", prefix=".run.")
    assert folder.parent == tmp_path / "out" and folder.is_dir() and not any(folder.iterdir())
    assert mode(folder) == 0o755


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as f:
            f.write("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_saved_weights_round_trip(tmp_path: Path) -> None:
    model = MLP([2, 3, 1], engine="tensor", seed=1)
    model.save(tmp_path / "w.npz")
    other = MLP([2, 3, 1], engine="tensor", seed=2)
    other.load(tmp_path / "w.npz")
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, other.state_dict()[name])
