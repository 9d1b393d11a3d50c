"""Seeing the engine in Jupyter: Values and Tensors as small graphs, the tracer as its stepper, run figures.

``autograd`` imports NumPy only, so it knows nothing of notebooks. The rich display of its nodes is
registered from here, with IPython's display formatters: :func:`enable` tells the running IPython to show
a ``Value`` or ``Tensor`` that was computed from others as its text followed by the small graph that made
it (a leaf, or a graph of more than :data:`MAX_INLINE_NODES` nodes, stays plain text). ``import viz``
inside IPython calls :func:`enable` itself; :func:`disable` switches it off.

A :class:`viz.trace.BackwardTracer` shows itself as its HTML stepper (``_repr_html_`` calls
:func:`stepper_iframe`). Each stepper page lives in its own ``<iframe srcdoc=...>``, so several on one
notebook page keep their element ids, keys and scripts apart, and each fits its drawing to its own frame.

:func:`show_figures` displays the image files a project run wrote (PNG, GIF and JPEG as images, SVG as
SVG) and :func:`show_page` a self-contained HTML page (the stepper, project 04's playground) in an iframe.

IPython is imported inside functions only: importing this module needs neither IPython nor Graphviz.
"""

from __future__ import annotations

import base64
import html
import re
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from autograd.errors import UsageError

if TYPE_CHECKING:
    from viz.trace import BackwardTracer

MAX_INLINE_NODES = 60
"""A Value or Tensor computed from at most this many nodes (itself included) is shown with its graph."""

NODE_TYPES = (("autograd.scalar", "Value"), ("autograd.tensor", "Tensor"))
IMAGE_SUFFIXES = (".png", ".gif", ".jpg", ".jpeg", ".svg")


# --------------------------------------------------------------------------------------------------------
# Values and Tensors
# --------------------------------------------------------------------------------------------------------


def small_graph_size(root: Any, limit: int = MAX_INLINE_NODES) -> int | None:
    """How many nodes ``root`` was computed from (itself included), or None when more than ``limit``.

    The walk stops as soon as it passes ``limit``, so asking about a million-node graph is cheap."""
    seen = {id(root)}
    stack = [root]
    while stack:
        for parent in stack.pop()._parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                if len(seen) > limit:
                    return None
                stack.append(parent)
    return len(seen)


def node_svg(root: Any) -> str | None:
    """The SVG of the small graph that made ``root`` (no legend), or None: a leaf (nothing to draw), a
    graph larger than :data:`MAX_INLINE_NODES`, or no Graphviz ``dot`` on PATH."""
    if not root._parents or small_graph_size(root) is None or shutil.which("dot") is None:
        return None
    from viz.graph import draw_graph, render_bytes

    try:
        svg = render_bytes(draw_graph(root, legend=False), "svg", Path("graph.dot"))
    except UsageError:  # dot failed: the plain text is shown instead
        return None
    return svg.decode("utf-8")


def node_html(root: Any) -> str | None:
    """IPython's ``text/html`` for a Value or Tensor: its repr, then its graph as an image (an ``<img>``
    with the SVG inline as a data URL, so that the SVG's element ids stay out of the page). None (the
    plain repr) when there is no graph worth drawing, see :func:`node_svg`."""
    svg = node_svg(root)
    if svg is None:
        return None
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (
        f'<pre style="margin:0 0 .3em 0">{html.escape(repr(root))}</pre>'
        f'<img alt="the computation graph of this value" style="max-width:100%" '
        f'src="data:image/svg+xml;base64,{data}">'
    )


def _shell(shell: Any = None) -> Any:
    """The running IPython shell, or None outside IPython (IPython is only looked up, never imported)."""
    if shell is not None:
        return shell
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def enable(shell: Any = None) -> bool:
    """Show Values and Tensors with their graph in the running IPython (or ``shell``); False outside one.

    Registered by module and class name (``autograd.scalar.Value``), the way IPython lets a library add
    a display to classes it does not own."""
    shell = _shell(shell)
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["text/html"]
    for module, name in NODE_TYPES:
        formatter.for_type_by_name(module, name, node_html)
    return True


def disable(shell: Any = None) -> bool:
    """Back to the plain text display of Values and Tensors; False outside IPython."""
    shell = _shell(shell)
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["text/html"]
    for module, name in NODE_TYPES:
        formatter.deferred_printers.pop((module, name), None)
        for cls in list(formatter.type_printers):
            if cls.__module__ == module and cls.__name__ == name:
                del formatter.type_printers[cls]
    return True


# --------------------------------------------------------------------------------------------------------
# HTML pages: the stepper and any self-contained page, each in its own iframe
# --------------------------------------------------------------------------------------------------------

_SVG_SIZE = re.compile(r'<svg[^>]*?\bwidth="([\d.]+)pt"[^>]*?\bheight="([\d.]+)pt"')
PAGE_CHROME_PX = 300  # the stepper's title, help, controls and equations above the frame
FRAME_WIDTH_PX = 900  # about the width a notebook gives an output


def iframe(page: str, height: int = 600, title: str = "embedded page") -> str:
    """``page`` (a whole HTML document) as an ``<iframe srcdoc>``: its ids, styles and script are its own.

    ``sandbox="allow-scripts"``: the page's script runs, but in an origin of its own."""
    return (
        f'<iframe srcdoc="{html.escape(page, quote=True)}" sandbox="allow-scripts" '
        f'title="{html.escape(title, quote=True)}" '
        f'style="width:100%;height:{int(height)}px;border:1px solid #ddd;border-radius:4px"></iframe>'
    )


def fitted_height(svg: str, width_px: int = FRAME_WIDTH_PX) -> int:
    """The height in pixels of a Graphviz SVG (sized in points, 1 pt = 4/3 px) scaled down to fit
    ``width_px``; 150 when the SVG states no size."""
    size = _SVG_SIZE.search(svg)
    if size is None:
        return 150
    width, height = (float(v) * 4 / 3 for v in size.groups())
    return int(height * min(1.0, width_px / max(width, 1.0)))


def stepper_iframe(tracer: BackwardTracer, title: str = "Forward and backward pass, step by step") -> str:
    """The stepper page of ``tracer`` (every frame drawn by Graphviz, see :mod:`viz.stepper`) in an
    iframe; a one-line note instead when it cannot be drawn (no ``dot``, or too many steps)."""
    from viz.stepper import draw_stepper_frames, render_html

    if shutil.which("dot") is None:
        return "<p>The stepper needs Graphviz's <code>dot</code> (apt-get install graphviz).</p>"
    try:
        frames, svgs = draw_stepper_frames(tracer, source_path=Path("trace.dot"))
    except UsageError as e:
        return f"<p>No stepper: {html.escape(str(e))}</p>"
    return iframe(render_html(tracer, svgs, title, frames=frames), stepper_height(svgs), title)


def stepper_height(svgs: Iterable[str]) -> int:
    """An iframe height for a stepper: its controls and equations, and room for its tallest drawing
    fitted to the width (the stepper scales its drawing to the iframe), between 520 and 900 pixels."""
    tallest = max((fitted_height(svg) for svg in svgs), default=150)
    return max(520, min(PAGE_CHROME_PX + tallest, 900))


class Page:
    """A self-contained HTML page displayed in an iframe (``_repr_html_``)."""

    def __init__(self, page: str, height: int = 700, title: str = "embedded page") -> None:
        self.page, self.height, self.title = page, height, title

    def _repr_html_(self) -> str:
        return iframe(self.page, self.height, self.title)


def show_page(path: str | Path, height: int | None = None) -> Page:
    """The HTML page at ``path`` (self-contained: inline styles, scripts and images) as a displayable,
    ``height`` pixels tall (default: a stepper's height from its drawings, see :func:`stepper_height`;
    700 for any other page)."""
    path = Path(path)
    page = path.read_text(encoding="utf-8")
    if height is None:
        drawings = re.findall(r"<svg[^>]*>", page) if 'class="bp-stepper"' in page else []
        height = stepper_height(drawings) if drawings else 700
    return Page(page, height, path.name)


# --------------------------------------------------------------------------------------------------------
# A run's figures
# --------------------------------------------------------------------------------------------------------


def figure_files(folder: str | Path, names: Iterable[str] | None = None) -> list[Path]:
    """The image files to show: ``names`` (relative to ``folder``) in their order, or every image file
    in ``folder`` by name."""
    folder = Path(folder)
    if names is None:
        return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    return [folder / name for name in names if Path(name).suffix.lower() in IMAGE_SUFFIXES]


def show_figures(folder: str | Path, names: Iterable[str] | None = None, width: int | None = None) -> None:
    """Display the figures of a run in the notebook, each under its file name (see :func:`figure_files`).

    ``width``: the width in pixels of the raster images (default: their own size)."""
    from IPython.display import SVG, Image, Markdown, display

    for path in figure_files(folder, names):
        display(Markdown(f"**{path.name}**"))
        if path.suffix.lower() == ".svg":
            display(SVG(filename=str(path)))
        else:
            display(Image(filename=str(path), width=width))


def scalar_metrics(metrics: Mapping[str, Any], keys: Sequence[str] | str | None = None) -> dict[str, Any]:
    """The metrics worth a table: numbers, booleans and short strings; a dict of those is spelled out as
    ``name.key``. ``keys``: only these, in this order (a list, or one string of names separated by
    spaces); a name the run did not report is left out."""
    if isinstance(keys, str):
        keys = keys.split()
    shown: dict[str, Any] = {}
    for name in keys if keys is not None else metrics:
        if name not in metrics:
            continue
        value = metrics[name]
        if isinstance(value, Mapping):
            shown.update({f"{name}.{k}": v for k, v in value.items() if _is_short(v)})
        elif _is_short(value):
            shown[name] = value
    return shown


def _is_short(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= 60
    return isinstance(value, (bool, int, float)) or value is None


def show_metrics(metrics: Mapping[str, Any], keys: Sequence[str] | str | None = None) -> None:
    """Display a run's metrics as a two-column table (see :func:`scalar_metrics`)."""
    from IPython.display import Markdown, display

    def cell(value: Any) -> str:
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        return text.replace("|", "\\|")

    rows = [f"| {name} | {cell(value)} |" for name, value in scalar_metrics(metrics, keys).items()]
    display(Markdown("\n".join(["| metric | value |", "| --- | --- |", *rows])))
