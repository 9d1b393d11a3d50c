"""A self-contained HTML stepper: the forward pass node by node, then the backward pass, one frame each.

The page needs no network: every frame's SVG is inline, the script and the style are inline. Frames come
in order: the forward pass (one per computed node, in topological order, ``t1 = a * b = 1.5 * (-2) =
-3``), the seed (``dL/dL = 1``), then one per backward step, each with the chain rule in words and
numbers, ``dL/dt2 += dL/dt3 · ∂t3/∂t2 = 0.5 · (2 * t2 = 2 * (-2.5) = -5) = -2.5``. One slider runs over
both passes; the buttons ``forward pass`` and ``backward pass`` jump to the start of each; previous/next
buttons and the keys ← → (Home, End) step.

Fitting the screen: :func:`draw_stepper_frames` draws each local derivative's formula on its edge when
that fits a 1280 x 800 window, else the compact style (``W1[0,0] = 1.764`` over its gradient, the value
of each local derivative on its edge, each operation beside its result), whose formulas the step's text
gives: project 07's 27 nodes fit that way. The drawing is scaled to fit the window (never so small that
11 pt text would be under 11 px), at the top of its area; a drawing too large for that is shown at that
scale and can be panned (drag) and zoomed (wheel), the current node kept in view; ``fit`` restores the
fitted view. Graphviz's SVG structure is kept (one ``g.node`` per graph node).

Several steppers can live on one page (a notebook): every element id starts with the stepper's
``prefix`` (``{prefix}-prev``, ``{prefix}-next``, ``{prefix}-slider``, ``{prefix}-counter``,
``{prefix}-headline``, ``{prefix}-equations``, ``{prefix}-fit``, ``{prefix}-forward``,
``{prefix}-backward``, ``{prefix}-viewport``), styles are scoped to ``.bp-stepper``, and the keys drive
the stepper last clicked or focused (the first one on the page until then). Each frame is a
``<figure class="frame" data-step="k" data-phase="forward|seed|backward">``.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any, Sequence

from autograd.files import write_text
from viz.graph import dot_id, fit_scale, svg_size, svg_text
from viz.page import html_page, json_for_script
from viz.trace import (
    NO_GRADIENTS,
    BackwardTracer,
    Frame,
    color_scale,
    draw_frame,
    render_frames,
    trace_frames,
)

DEFAULT_PREFIX = "stepper"

_STYLE = """
.bp-stepper { font-family: system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif; color: #222;
              background: #fff; outline: none; }
.bp-stepper .bp-title { display: flex; flex-wrap: wrap; align-items: baseline; column-gap: .8rem; }
.bp-stepper h1 { font-size: 1.15rem; margin: 0; }
.bp-stepper .bp-sub { color: #555; margin: 0; font-size: .9rem; }
.bp-stepper .bp-controls { display: flex; gap: .4rem; align-items: center; margin: .3rem 0; flex-wrap: wrap; }
.bp-stepper .bp-controls button { font-size: .9rem; padding: .15rem .6rem; cursor: pointer; }
.bp-stepper .bp-controls button.bp-on { background: #1f4e8c; color: #fff; border-color: #1f4e8c; }
.bp-stepper .bp-controls input[type=range] { flex: 1; min-width: 10rem; }
.bp-stepper .bp-counter { font-variant-numeric: tabular-nums; min-width: 12rem; font-size: .9rem; }
.bp-stepper .bp-headline { font-weight: 600; margin: .2rem 0; font-size: .95rem; }
.bp-stepper .bp-equations { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
                            font-size: .85rem; background: #f6f8fa; border: 1px solid #e1e4e8;
                            border-radius: 6px; padding: .3rem .6rem; margin: 0 0 .3rem 0;
                            list-style: none; overflow: auto; box-sizing: border-box; }
.bp-stepper .bp-equations li { margin: .1rem 0; white-space: pre-wrap; }
.bp-stepper .bp-help { color: #555; font-size: .8rem; margin: 0 0 .3rem 0; }
.bp-stepper .bp-legend { display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; font-size: .8rem;
                         color: #444; margin: 0 0 .3rem 0; min-height: 1.3rem; }
.bp-stepper .bp-legend .bp-swatch { display: inline-block; padding: 0 .35rem; border: 1px solid #999; }
.bp-stepper .bp-viewport { position: relative; overflow: hidden; border: 1px solid #eee; display: flex;
                           touch-action: none; cursor: grab; }
.bp-stepper .bp-viewport.bp-dragging { cursor: grabbing; }
.bp-stepper .bp-viewport.bp-pan { overflow: auto; }
/* centred across, at the top (no blank band above a drawing shorter than the tallest frame), and every
   part reachable when panning */
.bp-stepper figure.frame { margin: 0 auto auto auto; }
.bp-stepper figure.frame svg { display: block; }
"""

_SCRIPT = r"""
(function (root) {
  if (!root) return;
  const P = root.id;
  const $ = function (name) { return document.getElementById(P + '-' + name); };
  const data = JSON.parse($('data').textContent);
  const frames = Array.from(root.querySelectorAll('figure.frame'));
  const slider = $('slider'), counter = $('counter'), headline = $('headline'), list = $('equations');
  const prev = $('prev'), next = $('next'), fit = $('fit'), viewport = $('viewport'), legend = $('legend');
  const toForward = $('forward'), toBackward = $('backward');
  const MIN_TEXT_PX = 11;
  let current = 0, scale = 1, fitted = true;
  // the largest drawing and the smallest text of all frames: one scale for every frame
  let width = 1, height = 1, smallestFont = 14;
  frames.forEach(function (f) {
    const svg = f.querySelector('svg');
    const box = svg.viewBox.baseVal;
    if (box && box.width) { width = Math.max(width, box.width); height = Math.max(height, box.height); }
    svg.querySelectorAll('text').forEach(function (t) {
      const size = parseFloat(t.getAttribute('font-size'));
      if (size > 0) smallestFont = Math.min(smallestFont, size);
    });
  });
  const readable = MIN_TEXT_PX / smallestFont;  // the smallest scale at which all text stays >= 11 px
  if (!window.bpActiveStepper) window.bpActiveStepper = root;
  function activate() { window.bpActiveStepper = root; }
  root.addEventListener('pointerdown', activate);
  root.addEventListener('focusin', activate);

  function reserveEquationSpace() {  // the tallest frame's equations, so the drawing never moves
    let tallest = 0;
    list.style.minHeight = '';
    data.frames.forEach(function (frame) {
      fillEquations(frame);
      tallest = Math.max(tallest, list.scrollHeight);
    });
    list.style.minHeight = Math.min(tallest, window.innerHeight * 0.3) + 'px';
    list.style.maxHeight = Math.max(tallest, 40) + 'px';
  }
  function available() {
    const top = viewport.getBoundingClientRect().top + window.scrollY;
    // the viewport's border (2 px) and the page's bottom margin (up to 10 px) below it
    return {w: viewport.parentElement.clientWidth - 2, h: Math.max(200, window.innerHeight - top - 12)};
  }
  function applyScale() {
    frames.forEach(function (f) {
      const svg = f.querySelector('svg');
      const box = svg.viewBox.baseVal;
      svg.setAttribute('width', (box.width * scale).toFixed(1));
      svg.setAttribute('height', (box.height * scale).toFixed(1));
    });
    const room = available();
    viewport.style.height = Math.min(room.h, height * scale + 2) + 'px';
    viewport.classList.toggle('bp-pan', width * scale > room.w + 1 || height * scale > room.h + 1);
  }
  function fitToWindow() {
    const room = available();
    scale = Math.max(readable, Math.min(room.w / width, room.h / height, 1.5 * readable));
    fitted = true;
    applyScale();
    keepInView();
  }
  function currentNode() {
    const wanted = data.frames[current].node_id;
    return Array.from(frames[current].querySelectorAll('g.node')).find(function (g) {
      const t = g.querySelector('title');
      return t !== null && t.textContent === wanted;
    });
  }
  function keepInView() {  // scroll the current node to the middle when it is not wholly visible
    const node = currentNode();
    if (!node) return;
    const v = viewport.getBoundingClientRect(), b = node.getBoundingClientRect();
    if (b.left >= v.left && b.right <= v.right && b.top >= v.top && b.bottom <= v.bottom) return;
    viewport.scrollLeft += (b.left + b.right) / 2 - (v.left + v.right) / 2;
    viewport.scrollTop += (b.top + b.bottom) / 2 - (v.top + v.bottom) / 2;
  }
  function fillEquations(frame) {
    list.replaceChildren();
    frame.equations.forEach(function (text) {
      const li = document.createElement('li');
      li.textContent = text;
      list.appendChild(li);
    });
  }
  function show(k) {
    if (frames.length === 0) return;
    current = Math.max(0, Math.min(frames.length - 1, k));
    const frame = data.frames[current];
    frames.forEach(function (f, i) { f.hidden = i !== current; });
    slider.value = String(current);
    counter.textContent = frame.label + '  (frame ' + (current + 1) + ' / ' + frames.length + ')';
    headline.textContent = frame.headline;
    fillEquations(frame);
    const forward = frame.phase === 'forward';
    legend.querySelector('.bp-colours').hidden = forward;
    legend.querySelector('.bp-no-gradients').hidden = !forward;
    toForward.classList.toggle('bp-on', forward);
    toBackward.classList.toggle('bp-on', !forward);
    prev.disabled = current === 0;
    next.disabled = current === frames.length - 1;
    keepInView();
  }
  function firstOf(phase) {
    const i = data.frames.findIndex(function (f) { return f.phase === phase; });
    return i < 0 ? 0 : i;
  }
  prev.addEventListener('click', function () { show(current - 1); });
  next.addEventListener('click', function () { show(current + 1); });
  toForward.addEventListener('click', function () { show(firstOf('forward')); });
  toBackward.addEventListener('click', function () { show(firstOf('seed')); });
  fit.addEventListener('click', fitToWindow);
  slider.addEventListener('input', function () { show(parseInt(slider.value, 10)); });
  document.addEventListener('keydown', function (e) {
    if (window.bpActiveStepper !== root || e.altKey || e.ctrlKey || e.metaKey) return;
    const target = e.target;
    if (target && target !== slider && (target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName)
        || (target.tagName === 'INPUT' && target.type !== 'range'))) return;
    if (e.key === 'ArrowRight') show(current + 1);
    else if (e.key === 'ArrowLeft') show(current - 1);
    else if (e.key === 'Home') show(0);
    else if (e.key === 'End') show(frames.length - 1);
    else return;
    e.preventDefault();
  });
  // zoom with the wheel around the pointer, pan by dragging
  viewport.addEventListener('wheel', function (e) {
    e.preventDefault();
    const v = viewport.getBoundingClientRect();
    const x = e.clientX - v.left + viewport.scrollLeft, y = e.clientY - v.top + viewport.scrollTop;
    const factor = Math.exp(-e.deltaY * 0.0015);
    const next = Math.min(4 * readable, Math.max(0.2 * readable, scale * factor));
    const ratio = next / scale;
    scale = next;
    fitted = false;
    applyScale();
    viewport.classList.add('bp-pan');
    viewport.scrollLeft = x * ratio - (e.clientX - v.left);
    viewport.scrollTop = y * ratio - (e.clientY - v.top);
  }, {passive: false});
  let drag = null;
  viewport.addEventListener('pointerdown', function (e) {
    drag = {x: e.clientX, y: e.clientY, left: viewport.scrollLeft, top: viewport.scrollTop};
    viewport.classList.add('bp-dragging');
  });
  window.addEventListener('pointermove', function (e) {
    if (!drag) return;
    viewport.scrollLeft = drag.left - (e.clientX - drag.x);
    viewport.scrollTop = drag.top - (e.clientY - drag.y);
  });
  window.addEventListener('pointerup', function () {
    drag = null;
    viewport.classList.remove('bp-dragging');
  });
  window.addEventListener('resize', function () { if (fitted) fitToWindow(); else applyScale(); });
  reserveEquationSpace();
  fitToWindow();
  show(0);
  root.dataset.ready = 'true';
})(document.getElementById(__PREFIX__));
"""


def _prefix_ids(svg: str, prefix: str) -> str:
    """Make the ids of one frame's SVG unique in the page (every Graphviz SVG says ``node1``, ...)."""
    svg = re.sub(r'\bid="([^"]*)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    return re.sub(r'href="#([^"]*)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)


def _check_prefix(prefix: str) -> str:
    if not re.fullmatch(r"[A-Za-z][\w-]*", prefix):
        raise ValueError(f"a stepper's prefix must be a letter then letters, digits, _ or -: {prefix!r}")
    return prefix


def frame_labels(frames: Sequence[Frame]) -> list[str]:
    """``forward 2 / 5``, ``backward: the seed``, ``backward 3 / 5``: where each frame is in its pass."""
    forward = sum(f.phase == "forward" for f in frames)
    backward = sum(f.phase == "backward" for f in frames)
    labels, seen = [], {"forward": 0, "backward": 0}
    for f in frames:
        if f.phase == "seed":
            labels.append("backward: the seed")
            continue
        seen[f.phase] += 1
        labels.append(f"{f.phase} {seen[f.phase]} / {forward if f.phase == 'forward' else backward}")
    return labels


def _legend_html(tracer: BackwardTracer) -> str:
    """The colour scale of |grad| and what the drawing's marks mean (shown in backward frames only)."""
    from viz.graph import text_color
    from viz.naming import format_number

    later = "no gradients yet (they come in the backward pass)" if tracer.seed is not None else NO_GRADIENTS
    scale = color_scale(tracer)
    swatches = "".join(
        f'<span class="bp-swatch" style="background:{c};color:{text_color(c)}">{format_number(m, 2)}</span>'
        for m, c in scale.ticks()
    )
    return (
        f'<span class="bp-colours">colour = |grad|, log scale: {swatches} '
        '<span class="bp-swatch" style="background:#e8e8e8">0</span> · red: the node of this step and what '
        "it adds to each input · dashed: gradient not complete yet</span>"
        f'<span class="bp-no-gradients" hidden>forward pass: {later} · red: the node computed at this step · '
        "dashed: not computed yet</span>"
    )


def stepper_fragment(
    tracer: BackwardTracer,
    svgs: Sequence[str],
    frames: Sequence[Frame] | None = None,
    title: str = "Forward and backward pass, step by step",
    subtitle: str = "",
    prefix: str = DEFAULT_PREFIX,
) -> str:
    """The stepper as one ``<div class="bp-stepper" id="{prefix}">`` with its data, style and script:
    embeddable in any page (every id starts with ``prefix``). ``svgs`` are the drawings of ``frames``
    (default :func:`viz.trace.trace_frames`), see :func:`viz.trace.render_frames`."""
    prefix = _check_prefix(prefix)
    frames = list(frames) if frames is not None else trace_frames(tracer)
    if len(svgs) != len(frames):
        raise ValueError(f"{len(svgs)} drawings for {len(frames)} frames")
    position = {id(node): k for k, node in enumerate(tracer.order)}
    labels = frame_labels(frames)
    data = [
        {
            "phase": f.phase,
            "label": label,
            "headline": f.headline,
            "equations": f.equations,
            "node_id": dot_id(position[id(f.node)]),
        }
        for f, label in zip(frames, labels)
    ]
    figures = "\n".join(
        f'<figure class="frame" data-step="{k}" data-phase="{f.phase}"{"" if k == 0 else " hidden"}>'
        f"{_prefix_ids(svg, f'{prefix}-f{k}-')}</figure>"
        for k, (f, svg) in enumerate(zip(frames, svgs))
    )
    n = len(frames)
    first = data[0] if data else {"headline": "Nothing to step through.", "equations": [], "label": ""}
    first_equations = "".join(f"<li>{html.escape(e)}</li>" for e in first["equations"])
    root = html.escape(tracer.root_name)
    p = html.escape(prefix)
    script = _SCRIPT.replace("__PREFIX__", json.dumps(prefix))
    return f"""<div class="bp-stepper" id="{p}" tabindex="-1">
<style>{_STYLE}</style>
<div class="bp-title"><h1>{html.escape(title)}</h1>
<p class="bp-sub">{html.escape(subtitle)}</p></div>
<div class="bp-controls">
<button id="{p}-forward" type="button" class="bp-on">forward pass</button>
<button id="{p}-backward" type="button">backward pass</button>
<button id="{p}-prev" type="button" aria-label="previous step">&#9664; prev</button>
<button id="{p}-next" type="button" aria-label="next step">next &#9654;</button>
<input id="{p}-slider" type="range" min="0" max="{max(n - 1, 0)}" value="0" step="1" aria-label="step">
<span id="{p}-counter" class="bp-counter">{html.escape(first["label"])}  (frame {1 if n else 0} / {n})</span>
<button id="{p}-fit" type="button" title="fit the drawing to the window">fit</button>
</div>
<div id="{p}-headline" class="bp-headline">{html.escape(first["headline"])}</div>
<ul id="{p}-equations" class="bp-equations">{first_equations}</ul>
<p class="bp-help">d{root}/dx: gradient of {root} with respect to x; &part;z/&part;x: local derivative of one
operation, on the edge from x (the step's text gives its formula). Keys &larr; &rarr; (Home, End);
wheel: zoom, drag: pan.</p>
<div id="{p}-legend" class="bp-legend">{_legend_html(tracer)}</div>
<div id="{p}-viewport" class="bp-viewport">
{figures}
</div>
<script type="application/json" id="{p}-data">{json_for_script({"frames": data})}</script>
<script>{script}</script>
</div>"""


def render_html(
    tracer: BackwardTracer,
    svgs: Sequence[str],
    title: str = "Forward and backward pass, step by step",
    subtitle: str = "",
    frames: Sequence[Frame] | None = None,
    prefix: str = DEFAULT_PREFIX,
) -> str:
    """The stepper as a whole HTML page (see :func:`stepper_fragment`)."""
    fragment = stepper_fragment(tracer, svgs, frames, title, subtitle, prefix)
    return html_page(title, "body { margin: .6rem .8rem; }", fragment)


# What a stepper's drawing may take of a 1280 x 800 window at 1 px per point (11 pt text 11 px high): the
# window less the page's margins, its controls and the step's text above the drawing.
STEPPER_BOX = (1240.0, 550.0)


def _largest(svgs: Sequence[str]) -> tuple[float, float]:
    sizes = [svg_size(svg) for svg in svgs]
    return max((w for w, _ in sizes), default=0.0), max((h for _, h in sizes), default=0.0)


def draw_stepper_frames(
    tracer: BackwardTracer,
    rankdir: str = "auto",
    source_path: Path | None = None,
    box: tuple[float, float] = STEPPER_BOX,
) -> tuple[list[Frame], list[str]]:
    """Every frame of the trace and its SVG (needs Graphviz), drawn to fit ``box`` (points, at 1 px per
    point: a 1280 x 800 window with 11 px text).

    The full style (each edge's local derivative as a formula) left to right when every frame fits, else
    top to bottom when that fits; else the compact style (see :func:`viz.graph.draw_graph`; the step's
    text keeps each formula) in whichever direction fits with more room. ``rankdir`` other than ``auto``
    fixes the direction. When nothing fits, the stepper pans and zooms a drawing in the full style, top to
    bottom when that needs no sideways scrolling, else in whichever direction fits at the larger scale.
    """
    frames = trace_frames(tracer)
    source_path = source_path or Path("trace.dot")
    if not frames:
        return frames, []
    scale = color_scale(tracer)
    directions = ["LR", "TB"] if rankdir == "auto" else [rankdir]

    def last_size(direction: str, compact: bool) -> tuple[float, float]:  # a cheap first look
        graph = draw_frame(tracer, frames[-1], direction, scale, None, False, compact)
        return svg_size(svg_text(graph, source_path))

    def draw_all(direction: str, compact: bool) -> list[str]:
        return render_frames(
            tracer, direction, source_path=source_path, frames=frames, legend=False, compact=compact
        )

    for compact in (False, True):
        sizes = {d: last_size(d, compact) for d in directions}
        order = sorted(directions, key=lambda d: -fit_scale(sizes[d], box)) if compact else directions
        for direction in order:
            if fit_scale(sizes[direction], box) >= 1:
                svgs = draw_all(direction, compact)
                if fit_scale(_largest(svgs), box) >= 1:
                    return frames, svgs
    # nothing fits: the stepper pans and zooms, and each edge names its local derivative again (in a
    # drawing seen a part at a time, a bare number is hard to place)
    if rankdir != "auto":
        return frames, draw_all(rankdir, False)
    wide, tall = last_size("LR", False), last_size("TB", False)
    narrow_enough = tall[0] <= box[0] < wide[0]
    better = "TB" if narrow_enough or fit_scale(tall, box) > fit_scale(wide, box) else "LR"
    return frames, draw_all(better, False)


def write_stepper(
    tracer: BackwardTracer,
    path: str | Path,
    title: str = "Forward and backward pass, step by step",
    subtitle: str = "",
    rankdir: str = "auto",
    prefix: str = DEFAULT_PREFIX,
) -> Path:
    """Draw every frame (needs Graphviz) and write the stepper page to ``path`` atomically."""
    path = Path(path)
    frames, svgs = draw_stepper_frames(tracer, rankdir, path.with_suffix(".dot"))
    write_text(path, render_html(tracer, svgs, title, subtitle, frames, prefix))
    return path


def stepper_data(html_text: str, prefix: str = DEFAULT_PREFIX) -> Any:
    """The frames' data a stepper page carries (for tests and tools): phase, label, headline, equations."""
    match = re.search(
        rf'<script type="application/json" id="{re.escape(prefix)}-data">(.*?)</script>', html_text
    )
    if match is None:
        raise ValueError(f"no stepper with prefix {prefix!r} in this page")
    return json.loads(match.group(1))
