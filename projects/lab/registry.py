"""The list of projects: number, short name, module and title. The runner and ``list`` read it."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from autograd.errors import UsageError


@dataclass(frozen=True)
class ProjectInfo:
    number: str
    name: str
    module: str
    title: str

    @property
    def slug(self) -> str:
        """``NN-name``, the run folder's name (just ``name`` for a command such as ``compare``)."""
        return f"{self.number}-{self.name}" if self.number else self.name

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)


PROJECTS: tuple[ProjectInfo, ...] = (
    ProjectInfo("01", "perceptron", "projects.catalog.p01_perceptron", "Perceptron learning rule"),
    ProjectInfo("02", "xor", "projects.catalog.p02_xor", "XOR with an MLP (scalar engine)"),
    ProjectInfo("03", "mnist", "projects.catalog.p03_mnist", "MNIST digits (tensor engine)"),
    ProjectInfo("04", "visualizer", "projects.catalog.p04_visualizer", "Training visualizer"),
    ProjectInfo("05", "tabular", "projects.catalog.p05_tabular", "Any tabular CSV, with label encoding"),
    ProjectInfo("06", "landscape", "projects.catalog.p06_landscape", "Loss landscape"),
    ProjectInfo("07", "simulator", "projects.catalog.p07_simulator", "Backprop simulator"),
    ProjectInfo("08", "activations", "projects.catalog.p08_activations", "Activation functions compared"),
    ProjectInfo("09", "dropout", "projects.catalog.p09_dropout", "Dropout"),
    ProjectInfo("10", "timeseries", "projects.catalog.p10_timeseries", "Time-series forecasting"),
    ProjectInfo("11", "gpt", "projects.catalog.p11_gpt", "A GPT on both engines (microgpt's model)"),
)


COMPARE = ProjectInfo("", "compare", "projects.catalog.compare", "The same MLP on both engines")
"""``backprop-lab compare``: run through the runner like a project, but not one of ``run all``."""


def find(key: str) -> ProjectInfo:
    """A project by number (``7``, ``07``), name (``simulator``) or slug (``07-simulator``)."""
    key = key.strip().lower()
    for p in PROJECTS:
        if key in (p.number, p.number.lstrip("0"), p.name, p.slug):
            return p
    names = ", ".join(p.slug for p in PROJECTS)
    raise UsageError(f"unknown project {key!r}; choose one of: {names} (or 'all')")
