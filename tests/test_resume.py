"""--resume through the command line: a checkpoint carries its configuration (another one is refused,
naming the differing fields), and an interrupted 03 resumes to the metrics of an uninterrupted run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from projects.catalog import p03_mnist
from projects.lab import cli

SMALL_02 = ["--quick", "--seeds", "1", "--table-seeds", "1", "--no-progress"]


def read(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())


def test_02_resume_refuses_a_checkpoint_of_another_configuration(tmp_path: Path, capsys) -> None:
    out = str(tmp_path)
    assert cli.main(["run", "02", *SMALL_02, "--epochs", "30", "--activation", "tanh", "--out", out]) == 0
    before = read(tmp_path / "02-xor")
    capsys.readouterr()
    assert (
        cli.main(["run", "02", *SMALL_02, "--epochs", "30", "--activation", "relu", "--resume", "--out", out])
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "another configuration (activation: 'tanh' there, 'relu' now)" in err
    assert read(tmp_path / "02-xor") == before  # the earlier run is untouched


def test_02_resume_refuses_a_checkpoint_past_the_epochs_asked_for(tmp_path: Path, capsys) -> None:
    out = str(tmp_path)
    assert cli.main(["run", "02", *SMALL_02, "--epochs", "40", "--out", out]) == 0
    capsys.readouterr()
    assert cli.main(["run", "02", *SMALL_02, "--epochs", "20", "--resume", "--out", out]) == 2
    assert "it is at epoch 40, past the 20 epochs asked for" in capsys.readouterr().err


def test_02_resume_from_a_truncated_checkpoint_is_one_line(tmp_path: Path, capsys) -> None:
    out = str(tmp_path)
    assert cli.main(["run", "02", *SMALL_02, "--epochs", "20", "--out", out]) == 0
    checkpoint = tmp_path / ".checkpoints" / "02-xor.npz"
    checkpoint.write_bytes(checkpoint.read_bytes()[:300])
    capsys.readouterr()
    assert cli.main(["run", "02", *SMALL_02, "--epochs", "20", "--resume", "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot resume" in err and "truncated or corrupt" in err


SMALL_03 = ["--quick", "--epochs", "2", "--train-size", "200", "--test-size", "100", "--no-progress"]
TIMING = ("seconds_per_epoch", "wall_time_s", "config")


def test_03_resumes_after_an_interruption_to_the_uninterrupted_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.main(["run", "03", *SMALL_03, "--out", str(tmp_path / "whole")]) == 0
    whole = read(tmp_path / "whole" / "03-mnist")

    original = p03_mnist.schedule_to

    def interrupted(schedule, epoch: int) -> float:  # Ctrl-C (or kill) during epoch 2's bookkeeping
        if epoch == 2:
            raise KeyboardInterrupt
        return original(schedule, epoch)

    monkeypatch.setattr(p03_mnist, "schedule_to", interrupted)
    assert cli.main(["run", "03", *SMALL_03, "--out", str(tmp_path / "cut")]) == 130
    assert (tmp_path / "cut" / ".checkpoints" / "03-mnist.npz").is_file()
    assert not (tmp_path / "cut" / "03-mnist").exists()
    monkeypatch.setattr(p03_mnist, "schedule_to", original)
    assert cli.main(["run", "03", *SMALL_03, "--resume", "--out", str(tmp_path / "cut")]) == 0
    resumed = read(tmp_path / "cut" / "03-mnist")
    assert {k: v for k, v in resumed.items() if k not in TIMING} == {
        k: v for k, v in whole.items() if k not in TIMING
    }
    assert resumed["config"]["resume"] is True


def test_03_resume_refuses_another_configuration(tmp_path: Path, capsys) -> None:
    out = str(tmp_path)
    assert cli.main(["run", "03", *SMALL_03, "--out", out]) == 0
    capsys.readouterr()
    assert cli.main(["run", "03", *SMALL_03, "--lr", "0.01", "--resume", "--out", out]) == 2
    assert "another configuration (lr: 0.002 there, 0.01 now)" in capsys.readouterr().err
