"""backprop-lab's projects: ``catalog`` (the runnable projects), ``lab`` (the runner, the command line, the
training loop, the gallery), ``datasets`` (loading data; the files are in ``data``) and ``plots`` (figures
several projects share). Projects build on ``viz`` and ``autograd``; neither imports anything from here.
"""
