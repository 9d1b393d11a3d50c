"""The runnable projects, one module (or package, when it has helpers of its own) each.

A project provides a ``Config`` (a :class:`projects.lab.config.RunConfig`), ``EXPLANATION`` (markdown) and
``run(config, out_dir) -> metrics``; :mod:`projects.lab.registry` lists them for the runner.
"""
