"""`--seed` fixes every random choice: the same seed gives the same metrics, and the seed is recorded."""

import json

import pytest

from projects.lab import cli

# timings vary; the config holds the output paths, which differ between the runs
IGNORED = ("config", "wall_time_s", "seconds_per_epoch", "time_ratio", "scalar_seconds", "tensor_seconds")


def metrics_of(out, slug: str) -> dict:
    data = json.loads((out / slug / "metrics.json").read_text())
    return {k: v for k, v in data.items() if k not in IGNORED}


@pytest.mark.parametrize(
    "project, slug", [("01", "01-perceptron"), ("05", "05-tabular"), ("10", "10-timeseries")]
)
def test_same_seed_same_metrics_other_seed_other_metrics(tmp_path, project: str, slug: str) -> None:
    runs = {}
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        out = tmp_path / name
        assert cli.main(["run", project, "--quick", "--no-progress", "--seed", seed, "--out", str(out)]) == 0
        runs[name] = metrics_of(out, slug)
    assert runs["a"] == runs["b"]
    assert runs["a"]["seed"] == 3 and runs["c"]["seed"] == 4
    without_seed = [{k: v for k, v in runs[n].items() if k != "seed"} for n in ("a", "c")]
    assert without_seed[0] != without_seed[1]
