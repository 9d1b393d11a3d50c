"""A self-contained HTML page that steps through a backward pass, one chain-rule application per frame.

The page needs no network: every frame's SVG is inline, the script and the style are inline. Controls:
previous/next buttons, the left/right arrow keys (Home/End for the first and last step) and a slider.
Beside each frame the page shows the step's chain rule in words and numbers,
``dL/dw += dL/dz * dz/dw = 0.5 * 2 = 1``.

Element ids (stable, the browser test uses them): ``prev``, ``next``, ``slider``, ``counter``,
``headline``, ``equations``, ``zoom`` (fit to width / actual size); each frame is a
``<figure class="frame" data-step="k">``.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Sequence

from autograd.files import write_text
from viz.graph import dot_id
from viz.trace import BackwardTracer, render_frames, step_equations, step_headline

_STYLE = """
body { font-family: system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif; margin: 1.2rem;
       color: #222; background: #fff; }
h1 { font-size: 1.3rem; margin: 0 0 .3rem 0; }
.sub { color: #555; margin: 0 0 .8rem 0; }
.controls { display: flex; gap: .6rem; align-items: center; margin: .6rem 0; flex-wrap: wrap; }
.controls button { font-size: 1rem; padding: .25rem .8rem; cursor: pointer; }
.controls input[type=range] { flex: 1; min-width: 12rem; }
#counter { font-variant-numeric: tabular-nums; min-width: 7rem; }
#headline { font-weight: 600; margin: .4rem 0; }
#equations { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .92rem;
             background: #f6f8fa; border: 1px solid #e1e4e8; border-radius: 6px; padding: .6rem .8rem;
             margin: 0 0 .8rem 0; list-style: none; }
#equations li { margin: .15rem 0; white-space: pre-wrap; }
.frame { margin: 0; overflow: auto; max-height: 80vh; border: 1px solid #eee; }
.frame svg { max-width: none; height: auto; }
body.fit .frame svg { max-width: 100%; }
.help { color: #666; font-size: .85rem; }
"""

_SCRIPT = """
(function () {
  const data = JSON.parse(document.getElementById('trace-data').textContent);
  const frames = Array.from(document.querySelectorAll('figure.frame'));
  const slider = document.getElementById('slider');
  const counter = document.getElementById('counter');
  const headline = document.getElementById('headline');
  const list = document.getElementById('equations');
  const prev = document.getElementById('prev');
  const next = document.getElementById('next');
  const zoom = document.getElementById('zoom');
  let current = 0;
  function focusNode() {
    if (document.body.classList.contains('fit')) return;
    const wanted = data.steps[current].node_id;
    const node = Array.from(frames[current].querySelectorAll('g.node')).find(function (g) {
      const t = g.querySelector('title');
      return t !== null && t.textContent === wanted;
    });
    if (node) node.scrollIntoView({block: 'nearest', inline: 'center'});
  }
  function show(k) {
    if (frames.length === 0) return;
    current = Math.max(0, Math.min(frames.length - 1, k));
    frames.forEach(function (f, i) { f.hidden = i !== current; });
    slider.value = String(current);
    counter.textContent = 'step ' + (current + 1) + ' / ' + frames.length;
    headline.textContent = data.steps[current].headline;
    list.replaceChildren();
    data.steps[current].equations.forEach(function (text) {
      const li = document.createElement('li');
      li.textContent = text;
      list.appendChild(li);
    });
    prev.disabled = current === 0;
    next.disabled = current === frames.length - 1;
    focusNode();
  }
  zoom.addEventListener('click', function () {
    const fit = document.body.classList.toggle('fit');
    zoom.textContent = fit ? 'actual size' : 'fit to width';
    focusNode();
  });
  prev.addEventListener('click', function () { show(current - 1); });
  next.addEventListener('click', function () { show(current + 1); });
  slider.addEventListener('input', function () { show(parseInt(slider.value, 10)); });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'ArrowRight') { show(current + 1); e.preventDefault(); }
    else if (e.key === 'ArrowLeft') { show(current - 1); e.preventDefault(); }
    else if (e.key === 'Home') { show(0); e.preventDefault(); }
    else if (e.key === 'End') { show(frames.length - 1); e.preventDefault(); }
  });
  show(0);
})();
"""


def _prefix_ids(svg: str, prefix: str) -> str:
    """Make the ids of one frame's SVG unique in the page (every Graphviz SVG says ``node1``, ...)."""
    svg = re.sub(r'\bid="([^"]*)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    return re.sub(r'href="#([^"]*)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)


def _json_for_script(data: object) -> str:
    """JSON safe inside a <script> element (no ``</script>`` or ``<!--`` can appear)."""
    return json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_html(
    tracer: BackwardTracer,
    frames: Sequence[str],
    title: str = "Backward pass, step by step",
    subtitle: str = "",
) -> str:
    """The stepper page for ``tracer`` with one inline SVG per step (``frames``, see ``render_frames``)."""
    if len(frames) != len(tracer.steps):
        raise ValueError(f"{len(frames)} frames for {len(tracer.steps)} steps")
    position = {id(node): k for k, node in enumerate(tracer.order)}
    steps = [
        {
            "headline": step_headline(tracer, s),
            "equations": step_equations(tracer, s),
            "node_id": dot_id(position[id(s.node)]),
        }
        for s in tracer.steps
    ]
    figures = "\n".join(
        f'<figure class="frame" data-step="{k}"{"" if k == 0 else " hidden"}>'
        f"{_prefix_ids(svg, f'f{k}-')}</figure>"
        for k, svg in enumerate(frames)
    )
    n = len(frames)
    last = max(n - 1, 0)
    first_headline = html.escape(steps[0]["headline"]) if steps else "No steps: the output is a leaf."
    first_equations = "".join(f"<li>{html.escape(e)}</li>" for e in (steps[0]["equations"] if steps else []))
    root = html.escape(tracer.root_name)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p class="sub">{html.escape(subtitle)}</p>
<p class="help">Each step applies the chain rule at one node z: for each input p,
d{root}/dp += d{root}/dz &times; dz/dp. Red: the node of this step and what it passes back; coloured:
finished (colour = |gradient|); dashed: not processed yet. Keys: &larr; &rarr; (Home, End).</p>
<div class="controls">
<button id="prev" type="button" aria-label="previous step">&#9664; prev</button>
<button id="next" type="button" aria-label="next step">next &#9654;</button>
<input id="slider" type="range" min="0" max="{last}" value="0" step="1" aria-label="step">
<span id="counter">step {1 if n else 0} / {n}</span>
<button id="zoom" type="button">fit to width</button>
</div>
<div id="headline">{first_headline}</div>
<ul id="equations">{first_equations}</ul>
{figures}
<script type="application/json" id="trace-data">{_json_for_script({"steps": steps})}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""


def write_stepper(
    tracer: BackwardTracer,
    path: str | Path,
    title: str = "Backward pass, step by step",
    subtitle: str = "",
    rankdir: str = "LR",
) -> Path:
    """Draw every frame (needs Graphviz) and write the stepper page to ``path`` atomically."""
    path = Path(path)
    frames = render_frames(tracer, rankdir, source_path=path.with_suffix(".dot"))
    write_text(path, render_html(tracer, frames, title, subtitle))
    return path
