"""The settings every project shares, and how a project declares its own.

A project's ``Config`` is a dataclass that extends :class:`RunConfig`. Each field is declared with
:func:`option`: its default, the help line ``backprop-lab list NN`` prints, and, where the test suite's
``--quick`` run needs a smaller value, that value, declared once beside the field::

    @dataclass
    class Config(RunConfig):
        epochs: int = option(200, "Passes over the training set.", quick=30)

A config made with ``quick=True`` (``--quick``) has every field that declares a quick value set
to it, wherever it is made (the runner, a test, a notebook): a number is capped at it (``min``, so
an explicit smaller value is kept); None (unset) and any other setting are replaced by it.

A size-like field declares its bounds once, beside it: ``option(20, "...", low=1, high=1000)`` (for a
tuple of sizes, each item; ``max_len`` caps how many). :func:`check_bounds` checks every declared bound in
one place (the runner calls it for every project; a project's ``run`` may call it too), and
``backprop-lab list NN`` shows them, so no option can ask for gigabytes by accident.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from autograd.errors import UsageError


def option(
    default: Any,
    help: str,
    *,
    quick: Any = None,
    low: float | None = None,
    high: float | None = None,
    max_len: int | None = None,
) -> Any:
    """A Config field: its default, its help text, (optionally) its cap in a quick run, and (for a number
    or a tuple of numbers) its bounds ``low`` and ``high`` (inclusive) and most items ``max_len``."""
    metadata: dict[str, Any] = {"help": " ".join(help.split())}
    for key, value in (("quick", quick), ("low", low), ("high", high), ("max_len", max_len)):
        if value is not None:
            metadata[key] = value
    return dataclasses.field(default=default, metadata=metadata)


def bounds_text(field: dataclasses.Field) -> str:
    """``1..1000``, ``>= 1``, ``<= 50`` or "" for a field's declared bounds."""
    low, high = field.metadata.get("low"), field.metadata.get("high")
    text = f"{low:g}..{high:g}" if low is not None and high is not None else ""
    if not text and low is not None:
        text = f">= {low:g}"
    if not text and high is not None:
        text = f"<= {high:g}"
    if "max_len" in field.metadata:
        text += f", at most {field.metadata['max_len']} of them"
    return text


def check_bounds(config: Any) -> None:
    """UsageError naming the option for the first field whose value lies outside its declared bounds
    (None, "unset", always passes)."""
    for f in dataclasses.fields(config):
        low, high, max_len = (f.metadata.get(k) for k in ("low", "high", "max_len"))
        if low is None and high is None and max_len is None:
            continue
        value = getattr(config, f.name)
        flag = "--" + f.name.replace("_", "-")
        items = value if isinstance(value, (tuple, list)) else [value]
        if max_len is not None and len(items) > max_len:
            raise UsageError(f"{flag}: at most {max_len} values, got {len(items)}")
        for item in items:
            if item is None or isinstance(item, bool) or not isinstance(item, (int, float)):
                continue
            if (low is not None and item < low) or (high is not None and item > high):
                if high is None:
                    raise UsageError(f"{flag} must be at least {low:g} (got {item})")
                if low is None:
                    raise UsageError(f"{flag} must be at most {high:g} (got {item})")
                raise UsageError(f"{flag} must be between {low:g} and {high:g} (got {item})")


@dataclasses.dataclass
class RunConfig:
    """The fields the runner sets itself from its own flags (``--seed``, ``--quick``, ``--no-progress``)."""

    seed: int = option(0, "Seed of every random choice (initial weights, data, batch order).")
    quick: bool = option(False, "A small, fast version for the tests (see each option's quick value).")
    progress: bool | None = option(
        None, "Progress bars (None: only on a terminal; the runner's --no-progress sets False)."
    )

    def __post_init__(self) -> None:
        """In a quick run, cap every field that declares a quick value."""
        if self.quick:
            for name, quick in quick_values(type(self)).items():
                setattr(self, name, quick_value(getattr(self, name), quick))


def check_layer_sizes(sizes: Sequence[int], option: str = "--hidden", allow_empty: bool = False) -> None:
    """Hidden layer sizes must be positive integers (one check for every project that has ``hidden``);
    ``allow_empty``: no hidden layer at all (a linear model) is allowed."""
    if (not sizes and not allow_empty) or any(not isinstance(n, int) or n < 1 for n in sizes):
        written = ",".join(str(s) for s in sizes) or "(nothing)"
        raise UsageError(f"{option} {written}: expected positive layer sizes such as 32,16")


def help_of(field: dataclasses.Field) -> str:
    """The help line of a Config field (with its bounds and its quick value, when it has them)."""
    text = field.metadata.get("help", "")
    bounds = bounds_text(field)
    if bounds:
        text += f" (range {bounds})"
    if "quick" in field.metadata:
        text += f" (quick: {field.metadata['quick']})"
    return text


def quick_value(value: Any, quick: Any) -> Any:
    """A number is capped at its quick value; None (unset: "all", "automatic") and any other setting (a
    tuple of widths, say) are replaced by it."""
    if isinstance(quick, (int, float)) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return min(value, quick)
    return quick


def quick_values(config_class: type) -> dict[str, Any]:
    """The quick value of each field that declares one."""
    return {f.name: f.metadata["quick"] for f in dataclasses.fields(config_class) if "quick" in f.metadata}
