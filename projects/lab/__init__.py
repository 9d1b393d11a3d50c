"""The lab: the machinery every project shares.

``cli`` (the ``backprop-lab`` command), ``runner`` (``list`` and ``run``: options onto a project's
``Config``, run folders written atomically), ``registry`` (the list of projects), ``config`` (the ``Config``
base every project extends), ``training`` (the training loop and its callbacks), ``report`` (the gallery
``runs/index.html``) and ``expression_cli`` (``graph`` and ``trace`` of an expression typed by the user).
"""
