"""Seeing the engine work: computation graphs to SVG, a node-by-node backward tracer, and plots.

``viz.plots`` imports matplotlib (Agg backend); the graph modules import the graphviz package. Neither is
imported by ``autograd``.
"""
