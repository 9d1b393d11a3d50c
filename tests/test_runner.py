"""The runner: `list`, `run NAME|NUMBER|all`, options onto Config fields, atomic run folders, metrics.json,
failures that leave earlier runs alone, and `run all` going on past a broken project."""

from __future__ import annotations

import json
import sys
import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

import pytest

from autograd.errors import UsageError
from projects.lab import cli, runner
from projects.lab.registry import PROJECTS, ProjectInfo
from projects.lab.runner import RunSettings, convert_option, split_options

# ---- parsing options -------------------------------------------------------------------------------------


def test_split_options_separates_runner_flags_from_project_options() -> None:
    common, options = split_options(
        ["--seed", "3", "--hidden=4", "--quick", "--lr", "-0.5", "--shuffle", "--no-bias", "--out", "x"]
    )
    assert common == {"seed": 3, "quick": True, "out": Path("x")}
    assert options == {"hidden": "4", "lr": "-0.5", "shuffle": True, "bias": False}


@pytest.mark.parametrize(
    "tokens, message",
    [
        (["stray"], "unexpected argument"),
        (["--seed", "x"], "integer"),
        (["--a", "1", "--a", "2"], "twice"),
        (["--quick=1"], "takes no value"),
    ],
)
def test_split_options_rejects_bad_input(tokens: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        split_options(tokens)


@dataclass
class Example:
    n: int = 1
    rate: float = 0.1
    name: str = "a"
    path: Optional[Path] = None  # noqa: UP045 (typing.Optional must work too)
    count: int | None = None
    flag: bool = False
    mode: Literal["fast", "slow"] = "fast"
    sizes: tuple[int, ...] = (8,)


@pytest.mark.parametrize(
    "field, text, expected",
    [
        ("n", "12", 12),
        ("rate", "1e-3", 1e-3),
        ("name", "xy", "xy"),
        ("path", "d/f.csv", Path("d/f.csv")),
        ("path", "none", None),
        ("flag", True, True),
        ("flag", "no", False),
        ("mode", "slow", "slow"),
        ("sizes", "16,8", (16, 8)),
        ("count", "3", 3),
        ("count", "None", None),
    ],
)
def test_convert_option_follows_the_field_type(field: str, text: str | bool, expected: object) -> None:
    import typing

    hints = typing.get_type_hints(Example)
    assert convert_option(text, hints[field], f"--{field}") == expected


@pytest.mark.parametrize(
    "field, text",
    [
        ("n", "1.5"),
        ("rate", "fast"),
        ("rate", "nan"),
        ("flag", "maybe"),
        ("mode", "medium"),
        ("sizes", "8,x"),
        ("n", True),
    ],
)
def test_convert_option_rejects_bad_values(field: str, text: str | bool) -> None:
    import typing

    with pytest.raises(UsageError, match=f"--{field}"):
        convert_option(text, typing.get_type_hints(Example)[field], f"--{field}")


# ---- list ------------------------------------------------------------------------------------------------


def test_list_names_every_project(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for info in PROJECTS:
        assert info.number in out and info.name in out


def test_list_one_project_shows_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", "01"]) == 0
    out = capsys.readouterr().out
    assert "--points" in out and "--max-epochs" in out and "--seed" not in out


# ---- run, with the real project 01 ------------------------------------------------------------------------


def test_run_writes_figures_metrics_explanation_and_gallery(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    assert cli.main(["run", "perceptron", "--quick", "--out", str(out), "--seed", "4", "--points", "12"]) == 0
    folder = out / "01-perceptron"
    metrics = json.loads((folder / "metrics.json").read_text())
    for key in (
        "updates",
        "novikoff_bound",
        "xor_converged",
        "project",
        "seed",
        "config",
        "versions",
        "wall_time_s",
        "figures",
    ):
        assert key in metrics
    assert metrics["seed"] == 4 and metrics["config"]["seed"] == 4
    assert metrics["config"]["points"] == 12 and metrics["points"] == 12  # --points reached the Config
    assert metrics["config"]["quick"] is True
    assert set(metrics["versions"]) >= {"python", "numpy", "backprop-lab"}
    assert metrics["figures"] and all((folder / f).is_file() for f in metrics["figures"])
    assert (folder / "explanation.md").read_text().strip()
    index = (out / "index.html").read_text()
    assert all(f"01-perceptron/{f}" in index for f in metrics["figures"])
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temporary folder left


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "01", "--bogus", "1"], "project 01-perceptron has no option --bogus; its options: --points"),
        (["run", "01", "--points", "many"], "--points needs an integer"),
        (["run", "01", "--resume"], "cannot --resume"),
        (["run", "all", "--points", "3"], "cannot be used with 'run all'"),
        (["run", "nonsense"], "unknown project"),
        (["run", "01", "--points", "1"], "--points must be at least 2"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


# ---- fake projects: atomic folders, failures, run all ------------------------------------------------------

FAKE_PROJECT = '''
"""A fake project for the runner's tests."""
from dataclasses import dataclass
from pathlib import Path

@dataclass
class Config:
    seed: int = 0
    quick: bool = False
    fail: bool = False
    tag: str = "first"

EXPLANATION = "**fig.png**: nothing at all. <script>alert(1)</script>"

def run(config, out_dir):
    print("chatter from the project")
    (Path(out_dir) / "fig.png").write_bytes(b"not really a png")
    (Path(out_dir) / "a.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    if config.fail:
        raise RuntimeError("the project broke half-way")
    return {"value": 1.5, "tag": config.tag, "figures": ["fig.png"]}
'''


@pytest.fixture
def fake_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProjectInfo:
    name = f"fake_project_{uuid.uuid4().hex[:8]}"
    (tmp_path / "modules").mkdir()
    (tmp_path / "modules" / f"{name}.py").write_text(textwrap.dedent(FAKE_PROJECT))
    monkeypatch.syspath_prepend(str(tmp_path / "modules"))
    yield ProjectInfo("98", "fake", name, "A fake project")
    sys.modules.pop(name, None)


def test_failed_run_keeps_the_previous_run_and_leaves_no_partial_folder(
    fake_project: ProjectInfo, tmp_path: Path
) -> None:
    out = tmp_path / "runs"
    settings = RunSettings(out=out)
    result = runner.run_one(fake_project, settings, {"tag": "kept"})
    assert result.metrics["figures"] == ["fig.png", "a.svg"]  # the project's order first, then the rest
    with pytest.raises(RuntimeError, match="half-way"):
        runner.run_one(fake_project, settings, {"fail": True, "tag": "lost"})
    metrics = json.loads((out / "98-fake" / "metrics.json").read_text())
    assert metrics["tag"] == "kept"
    assert sorted(p.name for p in out.iterdir()) == ["98-fake", "index.html"]


def test_rerun_replaces_the_folder_as_a_whole(fake_project: ProjectInfo, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    runner.run_one(fake_project, RunSettings(out=out), {"tag": "one"})
    (out / "98-fake" / "stale.png").write_bytes(b"from an older run")
    runner.run_one(fake_project, RunSettings(out=out), {"tag": "two"})
    assert not (out / "98-fake" / "stale.png").exists()
    assert json.loads((out / "98-fake" / "metrics.json").read_text())["tag"] == "two"


def test_a_missing_module_fails_only_when_asked_for(tmp_path: Path) -> None:
    missing = ProjectInfo("97", "missing", "projects.catalog.p97_does_not_exist", "Missing")
    with pytest.raises(UsageError, match="97-missing is not available"):
        runner.run_one(missing, RunSettings(out=tmp_path))


def test_a_module_that_fails_to_import_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"broken_project_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text("raise ImportError('needs a package that is not installed')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(UsageError, match="failed to import: ImportError: needs a package"):
        runner.load_project(ProjectInfo("96", "broken", name, "Broken"))


def test_run_all_goes_on_past_failures_and_exits_1(
    fake_project: ProjectInfo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    missing = ProjectInfo("97", "missing", "projects.catalog.p97_does_not_exist", "Missing")
    monkeypatch.setattr(runner, "PROJECTS", (missing, fake_project))
    out = tmp_path / "runs"
    assert runner.run_all(RunSettings(out=out, quick=True)) == 1
    captured = capsys.readouterr()
    assert "97-missing" in captured.out and "FAILED" in captured.out
    assert "98-fake" in captured.out and "value=1.5" in captured.out
    assert "failed: 97-missing" in captured.err
    assert (out / "98-fake" / "metrics.json").is_file()
    # what the project printed went to a file beside its figures, not between the summary lines
    assert "chatter" not in captured.out
    assert (out / "98-fake" / "output.txt").read_text() == "chatter from the project\n"
    index = (out / "index.html").read_text()
    assert "97-missing" in index and "98-fake/fig.png" in index and "98-fake/output.txt" in index
    assert "<script>" not in index  # the explanation was escaped


def test_summary_line_shows_the_first_scalar_metrics() -> None:
    line = runner.summary_line(
        "02-xor", {"success_rate": 1.0, "table": {}, "n": 3, "x": 0.123456, "y": 9, "wall_time_s": 2.25}
    )
    assert line.split() == ["02-xor", "success_rate=1", "n=3", "x=0.1235", "(2.2", "s)"]


def test_help_after_the_project_lists_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "01", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("01-perceptron") and "--margin" in out


def test_summary_line_spells_out_a_dict_of_numbers() -> None:
    line = runner.summary_line(
        "08-activations", {"test_accuracy": {"relu": 0.975, "tanh": 0.97}, "grid": [1]}
    )
    assert line.split() == ["08-activations", "test_accuracy.relu=0.975", "test_accuracy.tanh=0.97"]
