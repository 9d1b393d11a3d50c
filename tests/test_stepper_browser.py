"""The HTML stepper in headless Chromium: on micrograd's neuron and on project 07's 27-node network every
node is on screen at 1280 x 800 on load, with text of at least 11 px and no blank band above the drawing;
forward frames come before backward frames; buttons, arrow keys and the slider work across both; the
wheel zooms, a drag pans, the current node stays in view and ``fit`` restores the fitted view; two
steppers share a page without clashing."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import CHROMIUM, CHROMIUM_ARGS

from viz.expr import build
from viz.stepper import render_html, stepper_data, stepper_fragment
from viz.trace import trace_backward, trace_frames

VIEWPORT = {"width": 1280, "height": 800}
NEURON = ("tanh(x1*w1 + x2*w2 + b)", ["x1=2", "w1=-3", "x2=0", "w2=1", "b=6.8813735870195432"])

pytestmark = pytest.mark.browser

# the layout of the visible frame: every g.node's box, the smallest text in px, the viewport's box
LAYOUT = """(prefix) => {
  const viewport = document.getElementById(prefix + '-viewport').getBoundingClientRect();
  const figure = document.querySelector('#' + prefix + ' figure.frame:not([hidden])');
  const svg = figure.querySelector('svg');
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const fonts = Array.from(svg.querySelectorAll('text')).map(t => parseFloat(t.getAttribute('font-size')));
  const nodes = Array.from(figure.querySelectorAll('g.node')).map(g => {
    const b = g.getBoundingClientRect();
    return {title: g.querySelector('title').textContent, left: b.left, top: b.top, right: b.right,
            bottom: b.bottom};
  });
  const v = document.getElementById(prefix + '-viewport');
  return {nodes: nodes, smallest_text_px: Math.min(...fonts) * scale,
          viewport: {left: viewport.left, top: viewport.top, right: viewport.right, bottom: viewport.bottom},
          scroll_width: v.scrollWidth, client_width: v.clientWidth, step: parseInt(figure.dataset.step, 10),
          phase: figure.dataset.phase, page_width: document.documentElement.scrollWidth};
}"""


def _requirements() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Debian chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


def _open(browser, path: Path, errors: list[str], requests: list[str] | None = None):
    page = browser.new_page(viewport=VIEWPORT)
    page.on("pageerror", lambda e: errors.append(str(e)))
    if requests is not None:
        page.on("request", lambda r: requests.append(r.url))
    page.goto(path.resolve().as_uri())
    page.wait_for_selector(".bp-stepper[data-ready=true]")
    return page


def _assert_fits(layout: dict, nodes: int) -> None:
    """Every g.node wholly in the 1280 x 800 window and in the stepper's viewport, text >= 11 px, less than
    60 px empty above the drawing, no sideways scrolling."""
    assert len(layout["nodes"]) == nodes
    v = layout["viewport"]
    for box in layout["nodes"]:
        assert 0 <= box["left"] and box["right"] <= 1280, box
        assert 0 <= box["top"] and box["bottom"] <= 800, box
        assert v["left"] <= box["left"] and box["right"] <= v["right"], (box, v)
        assert v["top"] <= box["top"] and box["bottom"] <= v["bottom"], (box, v)
    assert layout["smallest_text_px"] >= 11 - 1e-6
    assert min(b["top"] for b in layout["nodes"]) - v["top"] < 60  # no blank band above the drawing
    assert layout["page_width"] <= 1280 and layout["scroll_width"] <= layout["client_width"] + 1


def _slide_to(page, k: int) -> None:
    page.eval_on_selector(
        "#stepper-slider", "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }", str(k)
    )


def test_the_readme_neuron_fits_and_steps_forward_then_backward(tmp_path: Path) -> None:
    _requirements()
    from playwright.sync_api import sync_playwright

    from viz.stepper import write_stepper

    tracer = trace_backward(build(*NEURON))
    frames = trace_frames(tracer)
    phases = [f.phase for f in frames]
    n = len(frames)
    assert phases == ["forward"] * 5 + ["seed"] + ["backward"] * 5  # forward frames come first
    page_path = write_stepper(tracer, tmp_path / "stepper.html", title="micrograd's neuron")
    data = stepper_data(page_path.read_text())["frames"]
    assert [f["phase"] for f in data] == phases
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = _open(browser, page_path, errors, requests)
            _assert_fits(page.evaluate(LAYOUT, "stepper"), 15)  # 10 values, 5 operations, on load
            texts = page.locator("#stepper figure.frame:not([hidden]) svg text").all_text_contents()
            assert "∂t1/∂x1 = w1 = -3" in texts  # small enough for each local derivative's formula

            def expect(k: int) -> None:
                frame = data[k]
                assert page.inner_text("#stepper-headline") == frame["headline"]
                assert page.inner_text("#stepper-equations").strip() == "\n".join(frame["equations"])
                assert page.inner_text("#stepper-counter").endswith(f"(frame {k + 1} / {n})")
                shown = page.locator("#stepper figure.frame:not([hidden])")
                assert shown.count() == 1 and int(shown.get_attribute("data-step")) == k
                box = shown.locator("svg").bounding_box()
                assert box is not None and box["width"] > 50 and box["height"] > 50  # it really renders
                assert page.evaluate("(k) => document.getElementById('stepper-slider').value", k) == str(k)

            expect(0)
            assert data[0]["headline"] == "Forward 1/5: t1 = x1 * w1 = 2 * (-3) = -6"
            assert page.is_disabled("#stepper-prev") and not page.is_disabled("#stepper-next")
            assert page.is_visible("#stepper-legend .bp-no-gradients")  # no gradients in the forward pass
            assert not page.is_visible("#stepper-legend .bp-colours")
            page.click("#stepper-next")
            expect(1)
            page.click("#stepper-prev")
            expect(0)
            for _ in range(5):  # the keys cross from the forward pass into the backward pass
                page.keyboard.press("ArrowRight")
            expect(5)
            assert data[5]["equations"] == ["dL/dL = 1"] and page.is_visible("#stepper-legend .bp-colours")
            page.keyboard.press("ArrowRight")
            expect(6)
            page.keyboard.press("ArrowLeft")
            page.keyboard.press("ArrowLeft")
            expect(4)  # and back
            page.click("#stepper-backward")  # the toggle: the start of the backward pass
            expect(5)
            page.click("#stepper-forward")
            expect(0)
            _slide_to(page, n - 1)
            expect(n - 1)  # the slider runs over both passes; the last frame renders
            assert page.is_disabled("#stepper-next")
            page.keyboard.press("ArrowRight")  # past the end: stays on the last frame
            expect(n - 1)
            page.keyboard.press("Home")
            expect(0)
            page.keyboard.press("End")
            expect(n - 1)
            for k in range(n):  # every frame of the neuron fits, not only the first
                _slide_to(page, k)
                layout = page.evaluate(LAYOUT, "stepper")
                assert layout["step"] == k
                _assert_fits(layout, 15)
            page.screenshot(path=str(tmp_path / "neuron.png"))
            assert errors == []
        finally:
            browser.close()
    assert all(url.startswith("file://") for url in requests)  # self-contained: no network


def test_project_07_fits_on_load_and_keeps_the_current_node_in_view(tmp_path: Path) -> None:
    _requirements()
    from playwright.sync_api import sync_playwright

    from projects.catalog import p07_simulator as p07
    from viz.stepper import write_stepper

    tracer = p07.compute(p07.Config())["tracer"]
    page_path = write_stepper(tracer, tmp_path / "p07.html")
    data = stepper_data(page_path.read_text())["frames"]
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = _open(browser, page_path, errors)
            _assert_fits(page.evaluate(LAYOUT, "stepper"), 27)  # 18 values, 9 operations, on load
            texts = page.locator("#stepper figure.frame:not([hidden]) svg text").all_text_contents()
            assert "0.5" in texts and not any("∂" in t for t in texts)  # edges: the values only ...
            equations = page.inner_text("#stepper-equations")
            assert "∂z1[0]/∂W1[0,0] = 0.5" in equations  # ... the step's text: each local derivative
            page.screenshot(path=str(tmp_path / "p07-load.png"))
            seed = next(k for k, f in enumerate(data) if f["phase"] == "seed")
            for k in range(len(data)):  # every frame fits, and its current node is drawn
                _slide_to(page, k)
                layout = page.evaluate(LAYOUT, "stepper")
                assert layout["step"] == k
                _assert_fits(layout, 27)
                assert any(b["title"] == data[k]["node_id"] for b in layout["nodes"])
            at_a2 = next(k for k, f in enumerate(data) if " at a2 = " in f["headline"])
            _slide_to(page, at_a2)  # the edge shows 0.2211; the text, the formula in names and numbers
            assert "· ∂a2/∂z2 = -0.329869 · (a2 * (1 - a2) = 0.6701 * (1 - 0.6701) = 0.221056)" in (
                page.inner_text("#stepper-equations")
            )
            texts = page.locator("#stepper figure.frame:not([hidden]) svg text").all_text_contents()
            assert "0.2211" in texts
            page.screenshot(path=str(tmp_path / "p07-backward.png"))
            # the wheel zooms, a drag pans, and stepping keeps the current node in view
            width = page.evaluate(
                "() => document.querySelector('#stepper figure.frame:not([hidden]) svg').width.baseVal.value"
            )
            page.mouse.move(640, 600)
            page.mouse.wheel(0, -300)
            zoomed = page.evaluate(
                "() => document.querySelector('#stepper figure.frame:not([hidden]) svg').width.baseVal.value"
            )
            assert zoomed > width * 1.2
            before = page.evaluate("() => document.getElementById('stepper-viewport').scrollTop")
            page.mouse.move(640, 600)
            page.mouse.down()
            page.mouse.move(640, 450)
            page.mouse.up()
            after = page.evaluate("() => document.getElementById('stepper-viewport').scrollTop")
            assert after > before
            for k in (0, seed, len(data) - 1):
                _slide_to(page, k)
                layout = page.evaluate(LAYOUT, "stepper")
                current = next(b for b in layout["nodes"] if b["title"] == data[k]["node_id"])
                v = layout["viewport"]
                assert v["top"] - 1 <= current["top"] and current["bottom"] <= v["bottom"] + 1, (
                    k,
                    current,
                    v,
                )
                assert v["left"] - 1 <= current["left"] and current["right"] <= v["right"] + 1, (
                    k,
                    current,
                    v,
                )
            page.click("#stepper-fit")
            _assert_fits(page.evaluate(LAYOUT, "stepper"), 27)
            assert errors == []
        finally:
            browser.close()


def test_two_steppers_on_one_page_do_not_clash(tmp_path: Path) -> None:
    _requirements()
    from playwright.sync_api import sync_playwright

    from viz.stepper import draw_stepper_frames

    parts = []
    for prefix, (expr, values) in (
        ("first", NEURON),
        ("second", ("(a*b + c)**2 / 2", ["a=1.5", "b=-2", "c=0.5"])),
    ):
        tracer = trace_backward(build(expr, values))
        frames, svgs = draw_stepper_frames(tracer, source_path=tmp_path / f"{prefix}.dot")
        parts.append(stepper_fragment(tracer, svgs, frames, title=expr, prefix=prefix))
    page_path = tmp_path / "two.html"
    page_path.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>" + "".join(parts) + "</body></html>"
    )
    ids = re.findall(r'\bid="([^"]+)"', page_path.read_text())
    assert len(ids) == len(set(ids))  # no id twice on the page
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_path.resolve().as_uri())
            page.wait_for_selector("#second[data-ready=true]")
            page.click("#second-next")
            assert page.evaluate("() => document.getElementById('second-slider').value") == "1"
            assert page.evaluate("() => document.getElementById('first-slider').value") == "0"
            page.keyboard.press("ArrowRight")  # the keys drive the stepper last used
            assert page.evaluate("() => document.getElementById('second-slider').value") == "2"
            assert page.evaluate("() => document.getElementById('first-slider').value") == "0"
            assert errors == []
        finally:
            browser.close()


def test_page_is_self_contained_and_escapes_text() -> None:
    tracer = trace_backward(build("x * 2", ["x=1"]))
    svgs = ['<svg id="a"><g id="node1"></g></svg>'] * 3  # forward t1, the seed, one backward step
    html = render_html(tracer, svgs, title="<script>alert(1)</script>")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert 'id="stepper-f0-node1"' in html and 'id="stepper-f2-node1"' in html  # each frame's ids unique
    assert "http://" not in html and "https://" not in html
    with pytest.raises(ValueError, match="1 drawings for 3 frames"):
        render_html(trace_backward(build("tanh(x)", ["x=1"])), ["<svg></svg>"])
    with pytest.raises(ValueError, match="prefix"):
        render_html(tracer, svgs, prefix="1 bad")
