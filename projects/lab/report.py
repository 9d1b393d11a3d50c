"""The gallery ``OUT/index.html``: every run's figures, metrics and explanation on one page.

The page is self-contained (inline CSS, no script, nothing fetched from the network); images, SVG graphs
and GIF animations are referenced by relative paths (``02-xor/loss_curve.png``), and so are the HTML pages
a run wrote (a tracer stepper), so the folder can be moved or zipped as a whole. Everything taken from a
run (explanations, metric names and values, file names) is HTML-escaped; explanations are rendered from a
small subset of markdown (headings, paragraphs, bullet and numbered lists, ``**bold**``, ``*italic*``,
```code```).

The projects appear in the registry's order, followed by any other folder holding a ``metrics.json``
(``compare``, say). Folders whose name starts with a dot (unfinished runs, checkpoints) are ignored.
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

RUNNER_KEYS = ("project", "seed", "config", "versions", "wall_time_s", "figures")
MAX_LIST_ITEMS = 8


@dataclass
class RunEntry:
    """One run folder as the gallery shows it."""

    slug: str
    title: str
    metrics: dict[str, Any] = field(default_factory=dict)
    explanation: str = ""
    figures: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)  # HTML pages the run wrote (a tracer stepper, say)
    error: str | None = None  # why metrics.json could not be read
    output: str | None = None  # a text file of what the project printed (``run all``), if any


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
    entry.pages = sorted(p.name for p in folder.glob("*.html") if p.is_file())
    listed = entry.metrics.get("figures")
    if isinstance(listed, list):
        entry.figures = [f for f in listed if isinstance(f, str) and (folder / f).is_file()]
    return entry


def collect_runs(out_dir: Path) -> list[RunEntry]:
    """The run folders under ``out_dir``: the registry's projects first, then other folders with metrics."""
    entries: list[RunEntry] = []
    known = set()
    for info in PROJECTS:
        known.add(info.slug)
        folder = out_dir / info.slug
        if (folder / "metrics.json").is_file():
            entries.append(_read_entry(folder, f"{info.number} · {info.title}"))
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
figcaption { font-size: 0.8rem; color: #555; text-align: center; }
code { background: #f0f0f0; padding: 0 0.2rem; border-radius: 3px; }
"""


def _figure_html(slug: str, name: str) -> str:
    url = html.escape(urllib.parse.quote(f"{slug}/{name}"))
    label = html.escape(name)
    return (
        f'<figure><a href="{url}"><img src="{url}" alt="{label}"></a>'
        f"<figcaption>{label}</figcaption></figure>"
    )


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
    if entry.explanation:
        parts.append(f'<div class="explanation">{markdown_to_html(entry.explanation)}</div>')
    if entry.pages:
        links = " · ".join(
            f'<a href="{html.escape(urllib.parse.quote(f"{entry.slug}/{name}"))}">{html.escape(name)}</a>'
            for name in entry.pages
        )
        parts.append(f'<p class="pages">Open in a browser: {links}</p>')
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
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>backprop-lab runs</title>
<style>{STYLE}</style>
</head>
<body>
<h1>backprop-lab: projects</h1>
<p class="meta">{len(entries)} run(s) in this folder. Click a figure for its full size.</p>
<nav>{nav}</nav>
{notes}
{"".join(sections)}
</body>
</html>
"""


def write_index(out_dir: str | Path, failures: Mapping[str, str] | None = None) -> Path:
    """Write ``out_dir/index.html`` (atomically) and return its path."""
    out_dir = Path(out_dir)
    path = out_dir / "index.html"
    write_text(path, render_index(out_dir, failures))
    return path
