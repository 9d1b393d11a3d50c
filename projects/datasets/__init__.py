"""Loading data: small synthetic sets, CSV tables, IDX files (MNIST), tabular preprocessing, time series.

The data files shipped with the package live in ``projects/data/`` (:data:`EMBEDDED`); what they are and
their licences is in ``projects/data/README.md``.
"""

from pathlib import Path

EMBEDDED = Path(__file__).resolve().parent.parent / "data"
"""The folder of the embedded data sets (``projects/data``)."""
