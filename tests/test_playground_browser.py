"""Project 04's playground.html in headless Chromium: the slider and the task buttons change the pictures,
the page's network computes what the engine computes, and nothing is fetched or logged as an error."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import CHROMIUM, CHROMIUM_ARGS

from projects.catalog import p04_visualizer as p04
from projects.catalog.p04_visualizer.playground import task_data, write_playground
from projects.datasets.synthetic import two_moons, xor

CANVASES = ("boundary", "network", "loss")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """A small XOR and two-moons recording (relu, so the neuron colour scale is measured, not fixed)."""
    rng = np.random.default_rng(0)
    X_xor, y_xor = xor()
    X_moons, y_moons = two_moons(60, 0.15, rng)
    tasks = []
    for name, X, y, sizes, epochs in (
        ("xor", X_xor, y_xor, [2, 4, 1], 12),
        ("moons", X_moons, y_moons, [2, 5, 5, 1], 6),
    ):
        _, recording, _ = p04.train_recorded(name, sizes, "relu", X, y, epochs, 20, 0.05, rng)
        tasks.append(
            task_data(name, name, sizes, recording.snapshots, recording.losses, recording.accuracies, X, y)
        )
    path = write_playground(tasks, "relu", tmp_path_factory.mktemp("playground") / "playground.html")
    return path, tasks


def test_page_is_self_contained_and_holds_every_epoch(recorded: tuple[Path, list[dict]]) -> None:
    path, tasks = recorded
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)=\"(https?:)?//", text) and "http://" not in text
    data = json.loads(re.search(r'id="playground-data">(.*?)</script>', text, re.S).group(1))
    assert [t["name"] for t in data["tasks"]] == ["xor", "moons"]
    assert len(data["tasks"][0]["weights"]) == len(data["tasks"][0]["losses"]) == 13  # epochs 0..12
    assert data["tasks"][1]["sizes"] == [2, 5, 5, 1]


@pytest.mark.browser
def test_playground_in_headless_chromium(recorded: tuple[Path, list[dict]]) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Debian chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    path, tasks = recorded
    requests: list[str] = []
    problems: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.goto(path.resolve().as_uri())

            def pictures() -> dict[str, str]:
                """Every canvas's pixels (as a data URL), by id; the hidden neurons' in order."""
                return page.evaluate(
                    "() => Object.fromEntries(Array.from(document.querySelectorAll('canvas'))"
                    ".map((c, i) => [c.id || 'canvas' + i, c.toDataURL()]))"
                )

            def set_epoch(k: int) -> None:
                page.eval_on_selector(
                    "#epoch", "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }", str(k)
                )

            last = len(tasks[0]["losses"]) - 1
            assert page.inner_text("#counter") == f"epoch 0 / {last}"
            assert page.get_attribute("#epoch", "max") == str(last)
            assert page.locator("#neurons canvas.neuron").count() == 4
            start = pictures()
            assert all(start[name].startswith("data:image/png") for name in CANVASES)
            stats = page.inner_text("#stats")

            set_epoch(last)
            assert page.inner_text("#counter") == f"epoch {last} / {last}"
            end = pictures()
            changed = [name for name in start if start[name] != end[name]]
            assert set(CANVASES) <= set(changed)
            assert any(name.startswith("canvas") for name in changed)  # a hidden neuron's picture too
            assert page.inner_text("#stats") != stats
            assert f"{tasks[0]['losses'][last]:.4g}"[:4] in page.inner_text("#stats")

            set_epoch(0)
            assert pictures() == start  # the same epoch, the same pictures

            # the page's network is the engine's network, at every recorded epoch
            for t, task in enumerate(tasks):
                for epoch in (0, len(task["losses"]) - 1):
                    sizes = task["sizes"]
                    state = {}
                    for k in range(len(sizes) - 1):
                        state[f"net.{2 * k}.weight"] = np.array(task["weights"][epoch][k])
                        state[f"net.{2 * k}.bias"] = np.array(task["biases"][epoch][k])
                    points = np.array([[0.0, 0.0], [0.3, -0.7], [1.2, 0.4]])
                    expected = p04.predictor(sizes, "relu", state)(points)
                    got = [
                        page.evaluate(f"window.playground.predict({t}, {epoch}, {x1!r}, {x2!r})")
                        for x1, x2 in points.tolist()
                    ]
                    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)

            page.click("#tasks button[data-task='1']")
            moons_last = len(tasks[1]["losses"]) - 1
            assert page.get_attribute("#tasks button[data-task='1']", "aria-pressed") == "true"
            assert page.get_attribute("#tasks button[data-task='0']", "aria-pressed") == "false"
            assert page.get_attribute("#epoch", "max") == str(moons_last)
            assert page.locator("#neurons canvas.neuron").count() == 10  # two hidden layers of 5
            assert pictures()["boundary"] != start["boundary"]

            set_epoch(0)
            page.click("#play")  # plays to the last epoch, then stops
            page.wait_for_function(f"document.getElementById('epoch').value === '{moons_last}'")
            page.wait_for_function("document.getElementById('play').textContent.includes('play')")
            assert page.inner_text("#counter") == f"epoch {moons_last} / {moons_last}"
        finally:
            browser.close()
    assert problems == []
    assert all(url.startswith("file://") for url in requests)
