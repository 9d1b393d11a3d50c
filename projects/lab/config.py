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
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from autograd.errors import UsageError


def option(default: Any, help: str, *, quick: Any = None) -> Any:
    """A Config field: its default, its help text and (optionally) its cap in a quick run."""
    metadata = {"help": " ".join(help.split())}
    if quick is not None:
        metadata["quick"] = quick
    return dataclasses.field(default=default, metadata=metadata)


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
    """The help line of a Config field (with its quick value, when it has one)."""
    text = field.metadata.get("help", "")
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
