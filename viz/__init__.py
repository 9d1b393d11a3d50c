"""Seeing the engine work: computation graphs to SVG, a node-by-node backward tracer, and plots.

``viz.draw_graph``, ``viz.save_graph``, ``viz.BackwardTracer`` and friends are imported on first use, so
``import viz`` loads neither graphviz nor matplotlib. ``viz.plots`` imports matplotlib (Agg backend); the
graph modules import the graphviz package. Neither is imported by ``autograd``.

Inside IPython (Jupyter), ``import viz`` also switches on the rich display of Values and Tensors (a small
graph under the text, see :mod:`viz.notebook`); ``viz.notebook.disable()`` switches it off.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

# public name -> module that defines it (imported lazily, on first attribute access)
_EXPORTS = {
    "draw_graph": "viz.graph",
    "save_graph": "viz.graph",
    "parameter_groups": "viz.graph",
    "ColorScale": "viz.graph",
    "BackwardTracer": "viz.trace",
    "trace_backward": "viz.trace",
    "render_table": "viz.trace",
    "trace_to_json": "viz.trace",
    "render_frames": "viz.trace",
    "trace_frames": "viz.trace",
    "choose_rankdir": "viz.graph",
    "render_html": "viz.stepper",
    "stepper_fragment": "viz.stepper",
    "write_stepper": "viz.stepper",
    "parse_expression": "viz.expr",
    "evaluate": "viz.expr",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'viz' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if sys.modules.get("IPython") is not None:  # inside IPython: show Values and Tensors with their graph
    from viz import notebook

    notebook.enable()
