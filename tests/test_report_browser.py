"""The gallery runs/index.html: minimal markdown, escaping, metric tables, the "Start here" block, one title
per section, and (in headless Chromium) every image of quick runs of projects 01, 02, 04 and 07 and of
`compare` actually loads, every link of "Start here" opens, and graphs are shown at their own size."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import CHROMIUM, CHROMIUM_ARGS

from projects.catalog.compare import CompareConfig, compare
from projects.lab import runner
from projects.lab.registry import find
from projects.lab.report import (
    format_value,
    markdown_to_html,
    render_index,
    without_leading_title,
    write_index,
)

FOLDERS = ("01-perceptron", "02-xor", "04-visualizer", "07-simulator", "compare")

# ---- rendering, without a browser -------------------------------------------------------------------------


def test_markdown_subset_and_escaping() -> None:
    text = (
        "# Title\n\nSome **bold** and *it* and `a<b>*c*` text.\n"
        "- first item\n  continued\n- second <img src=x onerror=alert(1)>\n\n1. one\n2. two\n\n"
        "<script>alert(1)</script>"
    )
    html = markdown_to_html(text)
    assert "<h3>Title</h3>" in html
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html
    assert "<code>a&lt;b&gt;*c*</code>" in html  # nothing inside a code span is interpreted
    assert "<li>first item continued</li>" in html
    assert "<ol><li>one</li><li>two</li></ol>" in html
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_metric_values_render_compactly() -> None:
    assert format_value(0.123456789) == "0.1235"
    assert format_value(True) == "True"
    assert format_value(list(range(20))).endswith("… (20 values)]")
    assert "<table" in format_value({"tanh": {"2": 0.5}})
    assert format_value("<b>") == "&lt;b&gt;"
    assert format_value(float("nan")) == "nan"


def test_index_lists_runs_in_registry_order_then_others(tmp_path: Path) -> None:
    for slug in ("04-visualizer", "01-perceptron", "compare", ".01-perceptron.abc.tmp"):
        (tmp_path / slug).mkdir()
        (tmp_path / slug / "metrics.json").write_text(json.dumps({"figures": [], "x": 1}))
    (tmp_path / "no-metrics").mkdir()
    html = render_index(tmp_path, {"02-xor": "TrainingError: boom"})
    positions = [html.index(f'id="{slug}"') for slug in ("01-perceptron", "04-visualizer", "compare")]
    assert positions == sorted(positions)
    assert ".01-perceptron.abc.tmp" not in html and "no-metrics" not in html
    assert "02-xor" in html and "TrainingError: boom" in html


def test_index_survives_a_broken_metrics_file(tmp_path: Path) -> None:
    (tmp_path / "01-perceptron").mkdir()
    (tmp_path / "01-perceptron" / "metrics.json").write_text("{not json")
    path = write_index(tmp_path)
    assert "metrics.json unreadable" in path.read_text()


def test_start_here_links_pages_tables_and_traces_and_names_the_notebooks(tmp_path: Path) -> None:
    run = tmp_path / "07-simulator"
    run.mkdir()
    (run / "metrics.json").write_text(json.dumps({"figures": ["graph.svg"], "loss": 0.05}))
    (run / "explanation.md").write_text("# 07 · Backprop simulator\n\nThe **graph**.\n")
    for name in ("graph.svg", "backprop.html", "tables.txt", "trace.json", "output.txt"):
        (run / name).write_text("x")
    html = render_index(tmp_path)
    start = html[html.index('id="start-here"') : html.index("</div>", html.index('id="start-here"'))]
    for name in ("backprop.html", "tables.txt", "trace.json"):
        assert f'href="07-simulator/{name}"' in start
    assert "output.txt" not in start and "metrics.json" not in start
    assert "notebooks/00_start_here.ipynb" in start and "make notebooks" in start
    assert "notebooks/07_simulator.ipynb" in html  # the section names its notebook
    assert html.count("Backprop simulator") == 1  # one title: the explanation's own heading is dropped
    assert '<figure class="graph">' in html and 'href="07-simulator/graph.svg"' in html


def test_only_a_leading_heading_is_dropped() -> None:
    assert without_leading_title("# Title\n\nText\n## Part\n") == "\nText\n## Part"
    assert without_leading_title("Text first\n# Heading") == "Text first\n# Heading"


def test_the_start_block_comes_first_even_without_runs(tmp_path: Path) -> None:
    html = render_index(tmp_path)
    assert html.index('id="start-here"') < html.index("No runs yet")
    assert "Step through it" not in html  # nothing to link yet


# ---- the real thing, in a browser ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "runs"
    settings = runner.RunSettings(out=out, quick=True, progress=False)
    for key in ("01", "02", "04", "07"):
        runner.run_one(find(key), settings)
    compare(CompareConfig(epochs=3, points=12, hidden=3), out / "compare")  # refreshes the index too
    return out


def test_gallery_references_every_figure(gallery: Path) -> None:
    html = (gallery / "index.html").read_text()
    for folder in FOLDERS:
        metrics = json.loads((gallery / folder / "metrics.json").read_text())
        assert metrics["figures"]
        for name in metrics["figures"]:
            assert f'src="{folder}/{name}"' in html


@pytest.mark.browser
def test_every_image_loads_in_headless_chromium(gallery: Path) -> None:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    expected = sum(len(json.loads((gallery / d / "metrics.json").read_text())["figures"]) for d in FOLDERS)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            page = browser.new_page()
            failed_requests: list[str] = []
            page.on("requestfailed", lambda request: failed_requests.append(request.url))
            page.goto((gallery / "index.html").resolve().as_uri(), wait_until="load")
            images = page.evaluate(
                "Array.from(document.images).map(i => ({src: i.getAttribute('src'),"
                " complete: i.complete, width: i.naturalWidth, height: i.naturalHeight,"
                " shown: i.getBoundingClientRect().width, graph: i.closest('figure.graph') !== null}))"
            )
            title = page.title()
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            start_links = page.eval_on_selector_all("#start-here a", "links => links.map(a => a.href)")
            headings = page.eval_on_selector_all(
                "section", "s => s.map(x => x.querySelectorAll('h2').length)"
            )
        finally:
            browser.close()
    assert title == "backprop-lab runs"
    assert len(images) == expected
    broken = [i["src"] for i in images if not (i["complete"] and i["width"] > 0 and i["height"] > 0)]
    assert broken == [] and failed_requests == []
    assert any(i["src"].endswith(".svg") for i in images) and any(i["src"].endswith(".gif") for i in images)
    graphs = [i for i in images if i["graph"]]
    assert {i["src"] for i in graphs} == {"02-xor/gradient_graph.svg", "07-simulator/graph.svg"}
    assert all(abs(i["shown"] - i["width"]) < 1 for i in graphs)  # actual size, in a scrolling box
    assert overflow <= 0  # ... which keeps the page itself as wide as the window
    linked = {
        Path(url.removeprefix("file://")).relative_to(gallery.resolve()).as_posix() for url in start_links
    }
    assert {
        "07-simulator/backprop.html",
        "04-visualizer/playground.html",
        "07-simulator/tables.txt",
    } <= linked
    assert all((gallery / name).is_file() for name in linked)
    assert headings and all(n == 1 for n in headings)  # one title per section
