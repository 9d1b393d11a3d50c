"""The lab: the machinery every project shares.

``cli`` (the ``backprop-lab`` command), ``runner`` (``list`` and ``run``: options onto a project's
``Config``, run folders written atomically), ``registry`` (the list of projects), ``config`` (the ``Config``
base every project extends), ``training`` (the training loop and its callbacks), ``engines`` (one network
trained on both engines side by side), ``model_files`` (the one saved-model folder format), ``report`` (the
gallery ``runs/index.html``), ``expression_cli`` (``graph`` and ``trace`` of an expression typed by the
user) and ``export_cli`` (``export`` of a run's model to PyTorch or ONNX).
"""
