"""Figures that several projects draw (matplotlib): data sets and predictions, activation comparisons.

Figures that explain the engine itself (graphs, traces, training curves, decision regions) are in ``viz``;
a figure only one project draws lives next to that project.
"""
