"""Bad input and failed training end with one error line, a non-zero status, and no half-written run."""

from projects.lab import cli


def error_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_a_diverging_loss_stops_with_one_line_naming_the_step_and_no_run_folder(tmp_path, capsys):
    status = cli.main(["run", "10", "--quick", "--no-progress", "--lr", "1e6", "--out", str(tmp_path)])
    assert status == 1
    lines = error_lines(capsys)
    assert len(lines) == 1
    assert lines[0].startswith("backprop-lab: error: loss became")
    assert "lower learning rate" in lines[0]
    assert not (tmp_path / "10-timeseries").exists()


def test_an_unknown_project_is_one_line_and_status_2(tmp_path, capsys):
    assert cli.main(["run", "nonesuch", "--out", str(tmp_path)]) == 2
    lines = error_lines(capsys)
    assert len(lines) == 1 and "unknown project 'nonesuch'" in lines[0]


def test_malformed_layer_sizes_are_one_line_and_status_2(tmp_path, capsys):
    for project in ("03", "05", "10"):
        assert cli.main(["run", project, "--quick", "--hidden", "128,x", "--out", str(tmp_path)]) == 2
        lines = error_lines(capsys)
        assert len(lines) == 1 and "--hidden needs an integer" in lines[0]
    assert not any(tmp_path.iterdir()) or not any(p.name[:2].isdigit() for p in tmp_path.iterdir())
