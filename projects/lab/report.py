"""The gallery ``OUT/index.html``: every run's figures, metrics and explanation on one page.

The page is self-contained (inline CSS, no script, nothing fetched from the network); images, SVG graphs
and GIF animations are referenced by relative paths (``02-xor/loss_curve.png``), and so are the HTML pages
a run wrote (a tracer stepper), so the folder can be moved or zipped as a whole. Everything taken from a
run (explanations, metric names and values, file names) is HTML-escaped; explanations are rendered from a
small subset of markdown (headings, paragraphs, bullet and numbered lists, ``**bold**``, ``*italic*``,
```code```).

The projects appear in the registry's order, followed by any other folder holding a ``metrics.json``
(``compare``, say). Folders whose name starts with a dot (unfinished runs, checkpoints) are ignored.

At the top, a "Start here" block names the notebooks (``notebooks/NN_name.ipynb``, one per project) and
links what a run wrote besides its figures: interactive pages (07's ``backprop.html`` stepper, 04's
``playground.html``), tables (``tables.txt``), traces (``trace.json``) and data (``forecasts.csv``). Each
section has one title (an explanation's own leading heading is dropped), its notebook, those files, and
its figures; a graph (SVG) is shown at its own size in a scrolling box, not shrunk to a thumbnail.
"""

from __future__ import annotations

import html
import json
import math
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from autograd.files import write_text
from projects.lab.registry import PROJECTS
from viz.page import html_page

RUNNER_KEYS = ("project", "seed", "config", "versions", "wall_time_s", "figures")
MAX_LIST_ITEMS = 8
NOTEBOOKS_DIR = "notebooks"
START_NOTEBOOK = "00_start_here.ipynb"
PAGE_SUFFIXES = (".html",)
FILE_SUFFIXES = (".txt", ".json", ".csv")
NOT_ARTEFACTS = {"metrics.json", "explanation.md", "output.txt", "index.html"}  # shown otherwise
DESCRIPTIONS = {
    "backprop.html": "the forward, then the backward pass, one step at a time (buttons, arrow keys, slider)",
    "playground.html": "training replayed epoch by epoch: boundary, every neuron, the weights, the loss",
    "attention_head.html": "one attention head's softmax and weighted sum, forward then backward",
    "tables.txt": "the forward and backward passes as tables of numbers",
    "trace.json": "every chain-rule step, as JSON",
    "forecasts.csv": "the test forecasts beside the true values",
}
"""What the gallery says about a run's file, by name (other files are listed by name only)."""


@dataclass
class RunEntry:
    """One run folder as the gallery shows it."""

    slug: str
    title: str
    metrics: dict[str, Any] = field(default_factory=dict)
    explanation: str = ""
    figures: list[str] = field(default_factory=list)
    error: str | None = None  # why metrics.json could not be read
    output: str | None = None  # a text file of what the project printed (``run all``), if any
    pages: list[str] = field(default_factory=list)  # self-contained HTML pages (steppers, playgrounds)
    files: list[str] = field(default_factory=list)  # tables, traces, data
    notebook: str | None = None  # notebooks/NN_name.ipynb for a project of the registry


def _read_entry(folder: Path, title: str) -> RunEntry:
    entry = RunEntry(folder.name, title)
    try:
        entry.metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        entry.error = f"metrics.json unreadable: {e}"
    explanation = folder / "explanation.md"
    if explanation.exists():
        entry.explanation = explanation.read_text(encoding="utf-8")
    if (folder / "output.txt").is_file():
        entry.output = "output.txt"
    listed = entry.metrics.get("figures")
    if isinstance(listed, list):
        entry.figures = [f for f in listed if isinstance(f, str) and (folder / f).is_file()]
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name in NOT_ARTEFACTS or path.name.startswith("."):
            continue
        if path.suffix.lower() in PAGE_SUFFIXES:
            entry.pages.append(path.name)
        elif path.suffix.lower() in FILE_SUFFIXES:
            entry.files.append(path.name)
    return entry


def notebook_name(number: str, name: str) -> str:
    """The notebook of a project: ``notebooks/03_mnist.ipynb``."""
    return f"{NOTEBOOKS_DIR}/{number}_{name}.ipynb"


def without_leading_title(text: str) -> str:
    """An explanation without its first line when that is a heading: the section has its own title."""
    lines = text.lstrip("\n").splitlines()
    if lines and _HEADING.match(lines[0]):
        return "\n".join(lines[1:])
    return text


def collect_runs(out_dir: Path) -> list[RunEntry]:
    """The run folders under ``out_dir``: the registry's projects first, then other folders with metrics."""
    entries: list[RunEntry] = []
    known = set()
    for info in PROJECTS:
        known.add(info.slug)
        folder = out_dir / info.slug
        if (folder / "metrics.json").is_file():
            entry = _read_entry(folder, f"{info.number} · {info.title}")
            entry.notebook = notebook_name(info.number, info.name)
            entries.append(entry)
    if out_dir.is_dir():
        for folder in sorted(out_dir.iterdir()):
            if folder.name in known or folder.name.startswith(".") or not folder.is_dir():
                continue
            if (folder / "metrics.json").is_file():
                entries.append(_read_entry(folder, folder.name))
    return entries


# --------------------------------------------------------------------------------------------------------
# A small markdown subset
# --------------------------------------------------------------------------------------------------------

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")


def inline_markdown(text: str) -> str:
    """Escape ``text`` and apply code spans, bold and italic (code spans are left untouched inside)."""
    pieces = []
    last = 0
    for match in _CODE.finditer(text):
        pieces.append(_emphasis(html.escape(text[last : match.start()])))
        pieces.append(f"<code>{html.escape(match.group(1))}</code>")
        last = match.end()
    pieces.append(_emphasis(html.escape(text[last:])))
    return "".join(pieces)


def _emphasis(escaped: str) -> str:
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return _ITALIC.sub(r"<em>\1</em>", escaped)


def markdown_to_html(text: str, heading_offset: int = 2) -> str:
    """Headings (shifted down by ``heading_offset`` levels), paragraphs and lists, everything escaped."""
    blocks: list[str] = []
    paragraph: list[str] = []
    list_kind: str | None = None
    items: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            blocks.append(f"<p>{inline_markdown(' '.join(paragraph))}</p>")
            paragraph.clear()

    def flush_list() -> None:
        nonlocal list_kind
        if list_kind:
            body = "".join(f"<li>{inline_markdown(item)}</li>" for item in items)
            blocks.append(f"<{list_kind}>{body}</{list_kind}>")
            items.clear()
            list_kind = None

    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            flush_paragraph()
            flush_list()
            continue
        heading = _HEADING.match(line)
        bullet = _BULLET.match(line)
        numbered = _NUMBERED.match(line)
        if heading:
            flush_paragraph()
            flush_list()
            level = min(6, len(heading.group(1)) + heading_offset)
            blocks.append(f"<h{level}>{inline_markdown(heading.group(2))}</h{level}>")
        elif bullet or numbered:
            flush_paragraph()
            kind = "ul" if bullet else "ol"
            if list_kind != kind:
                flush_list()
                list_kind = kind
            items.append((bullet or numbered).group(1))  # type: ignore[union-attr]
        elif list_kind and raw.startswith((" ", "\t")):
            items[-1] += " " + line.strip()  # a list item continued on the next line
        else:
            flush_list()
            paragraph.append(line.strip())
    flush_paragraph()
    flush_list()
    return "\n".join(blocks)


# --------------------------------------------------------------------------------------------------------
# Metrics as tables
# --------------------------------------------------------------------------------------------------------


def format_scalar(value: Any) -> str:
    """A number or short value as text: floats to 4 significant digits, NaN and infinities by name."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.4g}"
    return str(value)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def format_value(value: Any) -> str:
    """HTML for one metric value: a nested table for a dict, a compact list, or an escaped scalar."""
    if isinstance(value, dict):
        return metrics_table(value, css_class="nested")
    if isinstance(value, list):
        if all(_is_scalar(v) for v in value):
            shown = ", ".join(format_scalar(v) for v in value[:MAX_LIST_ITEMS])
            more = f", … ({len(value)} values)" if len(value) > MAX_LIST_ITEMS else ""
            return html.escape(f"[{shown}{more}]")
        if len(value) <= MAX_LIST_ITEMS and all(isinstance(v, list) and len(v) <= 8 for v in value):
            rows = "; ".join("[" + ", ".join(format_scalar(x) for x in row) + "]" for row in value)
            return html.escape(f"[{rows}]")
        return html.escape(f"list of {len(value)} items")
    return html.escape(format_scalar(value))


def metrics_table(metrics: Mapping[str, Any], css_class: str = "metrics") -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(key))}</th><td>{format_value(value)}</td></tr>"
        for key, value in metrics.items()
    )
    return f'<table class="{css_class}">{rows}</table>'


# --------------------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 1rem 2rem 4rem; color: #222; background: #fcfcfc; line-height: 1.45; }
nav a { margin-right: 0.8rem; white-space: nowrap; }
section { border-top: 1px solid #ddd; margin-top: 2rem; padding-top: 0.5rem; }
.meta { color: #666; font-size: 0.9rem; }
.failed { background: #fde8e8; border: 1px solid #e0a0a0; padding: 0.5rem 0.8rem; border-radius: 4px; }
.explanation { max-width: 60rem; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; font-weight: 600; }
table.nested { margin: 0; font-size: 0.85rem; }
.figures { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; background: white; border: 1px solid #e4e4e4; padding: 0.4rem; border-radius: 4px; }
figure img { max-width: 100%; max-height: 560px; display: block; }
figure.graph { flex: 1 1 100%; min-width: 0; max-width: 100%; box-sizing: border-box; }
figure.graph .scroll { overflow: auto; max-height: 80vh; }
figure.graph img { max-width: none; max-height: none; }
figcaption { font-size: 0.8rem; color: #555; text-align: center; }
code { background: #f0f0f0; padding: 0 0.2rem; border-radius: 3px; }
.start { background: #f3f8ff; border: 1px solid #b9d3f5; border-radius: 6px; padding: 0.4rem 1.2rem;
         margin: 1rem 0; }
.start h2 { margin: 0.5rem 0; font-size: 1.25rem; }
.start li { margin: 0.25rem 0; }
.files { font-size: 0.9rem; }
"""


def _url(slug: str, name: str) -> str:
    return html.escape(urllib.parse.quote(f"{slug}/{name}"))


def _figure_html(slug: str, name: str) -> str:
    """A figure that opens full size when clicked; a graph (SVG) at its own size, in a scrolling box."""
    url = _url(slug, name)
    label = html.escape(name)
    if name.lower().endswith(".svg"):
        return (
            f'<figure class="graph"><div class="scroll"><a href="{url}"><img src="{url}" alt="{label}">'
            f'</a></div><figcaption>{label}: actual size (scroll); <a href="{url}">open it alone</a>'
            "</figcaption></figure>"
        )
    return (
        f'<figure><a href="{url}"><img src="{url}" alt="{label}"></a>'
        f"<figcaption>{label}</figcaption></figure>"
    )


def _file_link(slug: str, name: str, with_folder: bool = False) -> str:
    """A link to a run's file, with what it is when the gallery knows (see DESCRIPTIONS)."""
    text = f"{slug}/{name}" if with_folder else name
    link = f'<a href="{_url(slug, name)}">{html.escape(text)}</a>'
    about = DESCRIPTIONS.get(name)
    return f"{link}: {html.escape(about)}" if about else link


def _start_here(entries: list[RunEntry]) -> str:
    """The block at the top: the notebooks, then every interactive page, table and trace of the runs."""
    items = [
        f"<li><strong>Learn in a notebook:</strong> <code>{NOTEBOOKS_DIR}/{START_NOTEBOOK}</code> (a Value, "
        "its graph, <code>backward()</code>, the stepper, an op of your own, one MLP on both engines), then "
        "one notebook per project, named in each section below. <code>make notebooks</code> opens them in "
        "JupyterLab.</li>"
    ]
    pages = [_file_link(e.slug, name, True) for e in entries for name in e.pages]
    if pages:
        items.append(
            f"<li><strong>Step through it:</strong><ul>{''.join(f'<li>{p}</li>' for p in pages)}</ul></li>"
        )
    files = [_file_link(e.slug, name, True) for e in entries for name in e.files]
    if files:
        items.append(
            f"<li><strong>Tables and traces:</strong><ul>{''.join(f'<li>{f}</li>' for f in files)}</ul></li>"
        )
    items.append(
        '<li><strong>Your own expression:</strong> <code>backprop-lab trace "(a*b + c)**2 / 2" --set a=1 b=2 '
        "c=0.5 --html trace.html</code> writes a stepper like 07's.</li>"
    )
    return f'<div class="start" id="start-here"><h2>Start here</h2><ul>{"".join(items)}</ul></div>'


def _section_html(entry: RunEntry, failure: str | None) -> str:
    parts = [f'<section id="{html.escape(entry.slug)}"><h2>{html.escape(entry.title)}</h2>']
    if failure:
        parts.append(
            f'<p class="failed">The latest run failed: {html.escape(failure)}. '
            "Shown below: the previous successful run.</p>"
        )
    metrics = entry.metrics
    meta = []
    if "seed" in metrics:
        meta.append(f"seed {format_scalar(metrics['seed'])}")
    if isinstance(metrics.get("wall_time_s"), (int, float)):
        meta.append(f"{metrics['wall_time_s']:.1f} s")
    if isinstance(metrics.get("config"), dict) and metrics["config"].get("quick"):
        meta.append("quick mode")
    if meta or entry.output:
        link = ""
        if entry.output:
            url = html.escape(urllib.parse.quote(f"{entry.slug}/{entry.output}"))
            link = f'{" · " if meta else ""}<a href="{url}">printed output</a>'
        parts.append(f'<p class="meta">{html.escape(" · ".join(meta))}{link}</p>')
    if entry.error:
        parts.append(f'<p class="failed">{html.escape(entry.error)}</p>')
    links = []
    if entry.notebook:
        links.append(f"notebook <code>{html.escape(entry.notebook)}</code>")
    links += [_file_link(entry.slug, name) for name in entry.pages + entry.files]
    if links:
        parts.append(f'<p class="files">{" · ".join(links)}</p>')
    if entry.explanation:
        explanation = markdown_to_html(without_leading_title(entry.explanation))
        parts.append(f'<div class="explanation">{explanation}</div>')
    if entry.figures:
        figures = "".join(_figure_html(entry.slug, name) for name in entry.figures)
        parts.append(f'<div class="figures">{figures}</div>')
    shown = {k: v for k, v in metrics.items() if k not in RUNNER_KEYS}
    if shown:
        parts.append("<h3>Metrics</h3>" + metrics_table(shown))
    details = {k: metrics[k] for k in ("config", "versions") if k in metrics}
    if details:
        parts.append(
            f"<details><summary>configuration and versions</summary>{metrics_table(details)}</details>"
        )
    parts.append("</section>")
    return "\n".join(parts)


def render_index(out_dir: Path, failures: Mapping[str, str] | None = None) -> str:
    """The gallery's HTML for the runs found under ``out_dir``."""
    failures = dict(failures or {})
    entries = collect_runs(out_dir)
    present = {e.slug for e in entries}
    nav = " ".join(f'<a href="#{html.escape(e.slug)}">{html.escape(e.slug)}</a>' for e in entries)
    sections = [_section_html(e, failures.get(e.slug)) for e in entries]
    missing = [slug for slug in failures if slug not in present]
    notes = ""
    if missing:
        items = "".join(
            f"<li><strong>{html.escape(slug)}</strong>: {html.escape(failures[slug])}</li>"
            for slug in missing
        )
        notes = (
            f'<div class="failed"><p>These projects failed and have no earlier run:</p><ul>{items}</ul></div>'
        )
    if not entries and not missing:
        notes = "<p>No runs yet: <code>backprop-lab run all</code> fills this page.</p>"
    body = f"""<h1>backprop-lab: projects</h1>
{_start_here(entries)}
<p class="meta">{len(entries)} run(s) in this folder. Click a figure for its full size.</p>
<nav>{nav}</nav>
{notes}
{"".join(sections)}"""
    return html_page("backprop-lab runs", STYLE, body)


def write_index(out_dir: str | Path, failures: Mapping[str, str] | None = None) -> Path:
    """Write ``out_dir/index.html`` (atomically) and return its path."""
    out_dir = Path(out_dir)
    path = out_dir / "index.html"
    write_text(path, render_index(out_dir, failures))
    return path
