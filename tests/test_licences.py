"""Licences in order: LICENSE matches setup.cfg's licence, every shipped data file has its origin and licence
in projects/data/README.md, and the package metadata claims no MIT for data that is not MIT."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "projects" / "data"


def metadata() -> configparser.SectionProxy:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return config["metadata"]


def data_rows() -> dict[str, list[str]]:
    """Each row of the data README's table: the file names in its first cell -> its cells."""
    rows = {}
    for line in (DATA / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and "`" in cells[0]:
            for name in re.findall(r"`([^`]+)`", cells[0]):
                rows[name] = cells
    return rows


def test_license_file_is_the_mit_licence_that_setup_cfg_names() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n") and "backprop-lab contributors" in text
    assert "Permission is hereby granted, free of charge" in text
    assert metadata()["license"].startswith("MIT (code)")
    assert "LICENSE" in metadata()["license_files"].split()


def test_every_shipped_data_file_has_an_origin_and_a_licence() -> None:
    rows = data_rows()
    shipped = sorted(p.relative_to(DATA).as_posix() for p in DATA.rglob("*") if p.is_file())
    shipped = [name for name in shipped if name != "README.md"]
    assert shipped, "no data shipped?"
    for name in shipped:
        assert name in rows, f"{name} is shipped but not listed in projects/data/README.md"
        origin, licence = rows[name][3], rows[name][4]
        assert origin and licence, f"{name}: origin {origin!r}, licence {licence!r}"


def test_metadata_does_not_claim_mit_for_non_commercial_data() -> None:
    licence = metadata()["license"]
    for name, cells in data_rows().items():
        if "NC" in cells[4] and (DATA / name).exists():  # a non-commercial licence: not MIT
            assert name in licence and "CC BY-NC" in licence, f"setup.cfg's licence must name {name}"
    assert "projects/data/README.md" in licence
