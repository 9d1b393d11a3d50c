"""The HTML stepper in headless Chromium: frames render; buttons, arrow keys and slider change the step."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from viz.expr import build
from viz.stepper import render_html
from viz.trace import step_equations, step_headline, trace_backward

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


def _requirements() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Debian chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


def test_stepper_page_in_headless_chromium(tmp_path: Path) -> None:
    _requirements()
    from playwright.sync_api import sync_playwright

    from viz.stepper import write_stepper

    tracer = trace_backward(build("tanh(x*w + b) * (x - c)**2", ["x=0.5", "w=-1.5", "b=0.3", "c=2"]))
    n = len(tracer.steps)
    assert n >= 4
    page_path = write_stepper(tracer, tmp_path / "stepper.html", title="test trace")
    equations = ["\n".join(step_equations(tracer, s)) for s in tracer.steps]
    headlines = [step_headline(tracer, s) for s in tracer.steps]
    requests: list[str] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_path.resolve().as_uri())

            def state() -> tuple[str, str, str]:
                return (
                    page.inner_text("#counter"),
                    page.inner_text("#headline"),
                    page.inner_text("#equations").strip(),
                )

            def visible_frame() -> int:
                shown = page.locator("figure.frame:not([hidden])")
                assert shown.count() == 1
                box = shown.locator("svg").bounding_box()
                assert box is not None and box["width"] > 50 and box["height"] > 50  # the SVG really renders
                return int(shown.get_attribute("data-step"))

            def expect(k: int) -> None:
                assert state() == (f"step {k + 1} / {n}", headlines[k], equations[k])
                assert visible_frame() == k

            expect(0)
            assert page.is_disabled("#prev") and not page.is_disabled("#next")
            page.click("#next")
            expect(1)
            page.click("#prev")
            expect(0)
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            expect(2)
            page.keyboard.press("ArrowLeft")
            expect(1)
            page.eval_on_selector(
                "#slider", "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }", str(n - 1)
            )
            expect(n - 1)  # the last frame renders
            assert page.is_disabled("#next")
            page.keyboard.press("ArrowRight")  # past the end: stays on the last step
            expect(n - 1)
            page.keyboard.press("Home")
            expect(0)
            page.keyboard.press("End")
            expect(n - 1)
            page.click("#zoom")  # fit to width: the frame is still drawn
            visible_frame()
            assert errors == []
        finally:
            browser.close()
    assert all(url.startswith("file://") for url in requests)  # self-contained: no network


def test_page_is_self_contained_and_escapes_text() -> None:
    tracer = trace_backward(build("x * 2", ["x=1"]))
    html = render_html(tracer, ['<svg id="a"><g id="node1"></g></svg>'], title="<script>alert(1)</script>")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert 'id="f0-node1"' in html  # each frame's ids are made unique
    assert "http://" not in html and "https://" not in html
    with pytest.raises(ValueError, match="1 frames for 2 steps"):
        render_html(trace_backward(build("tanh(x) * 2", ["x=1"])), ["<svg></svg>"])
