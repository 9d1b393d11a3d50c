"""Turning the columns of any CSV table into numbers a network can read, fitted on the training rows only.

Steps, in order:

1. **Kinds** (:func:`infer_kinds`). A column whose every non-missing value is a number is *numeric*; any
   other column is *categorical*. A column that is mostly numbers (at least 80% of its values) but holds
   some text is taken to be a numeric column with a typing error and refused, naming the line and the
   text (``--categorical COLUMN`` declares it categorical instead). A column with no values, or a
   categorical one with more distinct values than ``max_categories`` (names, identifiers) is dropped, and
   the report says so.
2. **Target** (:func:`encode_target`). Rows whose target is missing are dropped; the remaining labels are
   encoded as 0 .. K-1 in sorted order (numerically when they are all numbers).
3. **Stratified split** (:func:`stratified_split`): each class is split in the same proportion, so the test
   set has the class balance of the whole.
4. **Fitting** (:meth:`Preprocessor.fit`, training rows only, so that nothing about the test rows leaks in):
   numeric column j: median m_j, mean mu_j and standard deviation s_j of its training values;
   categorical column: its training categories and the most frequent one.
5. **Transforming** (:meth:`Preprocessor.transform`), the same for training, test and new rows:
   a missing numeric value becomes m_j (median imputation), then x -> (x - mu_j) / s_j (standardization;
   s_j = 1 for a constant column); a missing category becomes the most frequent training category, then
   one-hot: one 0/1 input per training category. A category never seen in training (unseen) becomes all
   zeros ("none of the known categories") and is counted and reported.

The fitted :class:`Preprocessor` is saved as JSON (never pickle) beside the model's weights.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from autograd.errors import UsageError
from projects.datasets.csv_table import Table, is_missing, parse_number

NUMERIC, CATEGORICAL = "numeric", "categorical"
NUMERIC_SHARE = 0.8  # a column with at least this share of numbers is numeric; any text in it is an error
MAX_CLASSES = 50
FORMAT_VERSION = 1


# ---- kinds ------------------------------------------------------------------------------------------------


def infer_kinds(
    table: Table,
    exclude: set[str],
    categorical: set[str] = frozenset(),  # type: ignore[assignment]
    max_categories: int = 30,
) -> tuple[dict[str, str], dict[str, str]]:
    """The kind of each feature column, and the dropped columns with the reason for each."""
    unknown = sorted(categorical - set(table.columns))
    if unknown:
        raise UsageError(f"--categorical: no column {unknown[0]!r} in {table.path}")
    kinds: dict[str, str] = {}
    dropped: dict[str, str] = {}
    for j, name in enumerate(table.columns):
        if name in exclude:
            continue
        present = [(row[j], line) for row, line in zip(table.rows, table.lines) if not is_missing(row[j])]
        if not present:
            dropped[name] = "no values (every row is missing)"
            continue
        if name not in categorical:
            text = [(value, line) for value, line in present if parse_number(value) is None]
            if not text:
                kinds[name] = NUMERIC
                continue
            if len(text) <= (1 - NUMERIC_SHARE) * len(present):
                value, line = text[0]
                raise UsageError(
                    f"{table.path} line {line}: text {value!r} in numeric column {name!r} "
                    f"({len(present) - len(text)} of its {len(present)} values are numbers); "
                    f"fix it, write NA for a missing value, or pass --categorical {name}"
                )
        distinct = len({value for value, _ in present})
        if distinct > max_categories:
            dropped[name] = f"{distinct} distinct text values (more than --max-categories {max_categories})"
            continue
        kinds[name] = CATEGORICAL
    return kinds, dropped


# ---- target and split --------------------------------------------------------------------------------------


def _label_order(labels: set[str]) -> list[str]:
    """Sorted labels: numerically when every label is a number ("2" before "10"), else alphabetically."""
    if all(parse_number(label) is not None for label in labels):
        return sorted(labels, key=lambda label: (parse_number(label), label))
    return sorted(labels)


def encode_target(table: Table, target: str) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(row indices with a target, their label codes 0..K-1, class names): label encoding of the target."""
    values = table.column(target)
    keep = np.array([i for i, v in enumerate(values) if not is_missing(v)], dtype=np.intp)
    if len(keep) == 0:
        raise UsageError(f"{table.path}: the target column {target!r} has no values")
    classes = _label_order({values[i] for i in keep})
    if len(classes) < 2:
        raise UsageError(
            f"{table.path}: the target column {target!r} has a single class ({classes[0]!r}); "
            f"a classifier needs at least two"
        )
    if len(classes) > MAX_CLASSES:
        if all(parse_number(c) is not None for c in classes):
            why = "it looks like a continuous quantity, and this project classifies"
        else:
            why = "too many classes to learn from one table; is it a name or an identifier?"
        raise UsageError(
            f"{table.path}: the target column {target!r} has {len(classes)} distinct values (at most "
            f"{MAX_CLASSES} classes); {why}"
        )
    code = {c: k for k, c in enumerate(classes)}
    return keep, classes, np.array([code[values[i]] for i in keep], dtype=np.int64)


def stratified_split(
    labels: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test): within each class, a random round(n_c * test_fraction) of its n_c examples go
    to the test set (at least one and at most n_c - 1 when n_c >= 2; a class of one stays in training)."""
    if not 0 < test_fraction < 1:
        raise UsageError(f"--test-fraction must be between 0 and 1 (got {test_fraction})")
    train: list[np.ndarray] = []
    test: list[np.ndarray] = []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        n = len(members)
        n_test = min(max(int(round(n * test_fraction)), 1), n - 1) if n >= 2 else 0
        test.append(members[:n_test])
        train.append(members[n_test:])
    return rng.permutation(np.concatenate(train)), np.sort(np.concatenate(test))


# ---- fitting and transforming ------------------------------------------------------------------------------


@dataclass
class ColumnSpec:
    """What was learned about one feature column from the training rows."""

    name: str
    kind: str
    fill: Any  # the imputed value: the median (numeric) or the most frequent category
    mean: float = 0.0
    std: float = 1.0
    categories: list[str] = field(default_factory=list)
    missing_in_training: int = 0

    def feature_names(self) -> list[str]:
        return [self.name] if self.kind == NUMERIC else [f"{self.name}={c}" for c in self.categories]


@dataclass
class TransformReport:
    """What :meth:`Preprocessor.transform` had to do: imputed cells and unseen categories, per column."""

    imputed: dict[str, int] = field(default_factory=dict)
    unseen: dict[str, dict[str, int]] = field(default_factory=dict)

    def notes(self) -> list[str]:
        lines = []
        for column, counts in self.unseen.items():
            shown = ", ".join(f"{value!r} ({n} row{'s' if n > 1 else ''})" for value, n in counts.items())
            lines.append(
                f"column {column!r}: unseen categor{'ies' if len(counts) > 1 else 'y'} {shown}, "
                f"encoded as none of the known categories"
            )
        return lines


@dataclass
class Preprocessor:
    """Column kinds and training statistics: turns table rows into a standardized, one-hot matrix."""

    target: str
    classes: list[str]
    columns: list[ColumnSpec]
    dropped: dict[str, str] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        table: Table,
        rows: np.ndarray,
        target: str,
        classes: list[str],
        kinds: dict[str, str],
        dropped: dict[str, str],
    ) -> Preprocessor:
        """Learn medians, means, standard deviations and categories from the training ``rows``."""
        specs = []
        for name, kind in kinds.items():
            j = table.index(name)
            values = [table.rows[i][j] for i in rows]
            present = [v for v in values if not is_missing(v)]
            missing = len(values) - len(present)
            if kind == NUMERIC:
                numbers = np.array([parse_number(v) for v in present], dtype=np.float64)
                if len(numbers) == 0:  # every training value missing: nothing to learn, centre on 0
                    specs.append(ColumnSpec(name, kind, 0.0, 0.0, 1.0, missing_in_training=missing))
                    continue
                median = float(np.median(numbers))
                filled = np.concatenate([numbers, np.full(missing, median)])
                std = float(filled.std())
                if not (math.isfinite(std) and math.isfinite(float(filled.mean()))):
                    raise UsageError(
                        f"{table.path}: column {name!r} holds values as large as {np.abs(numbers).max():g}: "
                        "their mean or spread overflows (it is not a finite number), so they cannot be "
                        "standardized; rescale the column (say, to thousands) or leave it out"
                    )
                specs.append(
                    ColumnSpec(
                        name, kind, median, float(filled.mean()), std if std > 1e-12 else 1.0, [], missing
                    )
                )
            else:
                counts = Counter(present)
                categories = sorted(counts)
                fill = min(categories, key=lambda c: (-counts[c], c)) if counts else ""
                specs.append(ColumnSpec(name, kind, fill, categories=categories, missing_in_training=missing))
        if not specs:
            raise UsageError(
                f"{table.path}: no usable feature columns besides the target {target!r}"
                + (f" (dropped: {', '.join(dropped)})" if dropped else "")
            )
        return cls(target, classes, specs, dict(dropped))

    def feature_names(self) -> list[str]:
        return [name for spec in self.columns for name in spec.feature_names()]

    def transform(self, table: Table, rows: np.ndarray | None = None) -> tuple[np.ndarray, TransformReport]:
        """The (n_rows, n_features) float32 matrix for ``rows`` of ``table`` (all rows by default)."""
        rows = np.arange(len(table.rows)) if rows is None else rows
        report = TransformReport()
        blocks = []
        for spec in self.columns:
            j = table.index(spec.name)
            values = [table.rows[i][j] for i in rows]
            lines = [table.lines[i] for i in rows]
            missing = [is_missing(v) for v in values]
            if any(missing):
                report.imputed[spec.name] = int(sum(missing))
            if spec.kind == NUMERIC:
                numbers = np.empty(len(values))
                for k, (value, line, gap) in enumerate(zip(values, lines, missing)):
                    number = spec.fill if gap else parse_number(value)
                    if number is None:
                        raise UsageError(
                            f"{table.path} line {line}: text {value!r} in numeric column {spec.name!r}"
                        )
                    numbers[k] = number
                standardized = (numbers - spec.mean) / spec.std
                if not np.all(np.isfinite(standardized)):
                    k = int(np.flatnonzero(~np.isfinite(standardized))[0])
                    raise UsageError(
                        f"{table.path} line {lines[k]}: {values[k]!r} in column {spec.name!r} is too large "
                        f"to standardize (the training values have mean {spec.mean:g}, spread {spec.std:g})"
                    )
                blocks.append(standardized[:, None])
            else:
                position = {c: k for k, c in enumerate(spec.categories)}
                onehot = np.zeros((len(values), len(spec.categories)))
                unseen: Counter[str] = Counter()
                for k, (value, gap) in enumerate(zip(values, missing)):
                    category = spec.fill if gap else value
                    if category in position:
                        onehot[k, position[category]] = 1.0
                    else:
                        unseen[category] += 1
                if unseen:
                    report.unseen[spec.name] = dict(unseen)
                blocks.append(onehot)
        return np.concatenate(blocks, axis=1).astype(np.float32), report

    def imputation_summary(self) -> dict[str, str]:
        """How each column with missing training values is imputed (for the metrics and the report)."""
        out = {}
        for spec in self.columns:
            if spec.kind == NUMERIC:
                out[spec.name] = f"median of the training rows ({spec.fill:g})"
            else:
                out[spec.name] = f"most frequent training category ({spec.fill!r})"
        return out

    # ---- JSON (no pickle) ----

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "target": self.target,
            "classes": self.classes,
            "columns": [asdict(spec) for spec in self.columns],
            "dropped": self.dropped,
            "features": self.feature_names(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str = "preprocessing.json") -> Preprocessor:
        try:
            if data["format"] != FORMAT_VERSION:
                raise UsageError(f"{source}: unsupported format version {data['format']!r}")
            columns = [ColumnSpec(**spec) for spec in data["columns"]]
            for spec in columns:
                if spec.kind not in (NUMERIC, CATEGORICAL):
                    raise UsageError(f"{source}: unknown column kind {spec.kind!r}")
                _check_statistics(spec, source)
            return cls(str(data["target"]), [str(c) for c in data["classes"]], columns, dict(data["dropped"]))
        except (KeyError, TypeError) as e:
            raise UsageError(f"{source}: not a preprocessing file written by this project ({e})") from None

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2) + "\n"


def _check_statistics(spec: ColumnSpec, source: str) -> None:
    """A saved column's statistics must be usable: finite numbers and a positive standard deviation (a
    zero or nan one would turn every value into inf or nan), category names as text."""
    if spec.kind == NUMERIC:
        numbers = (spec.mean, spec.std, spec.fill)
        if not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in numbers
        ):
            raise UsageError(f"{source}: column {spec.name!r} has statistics that are not finite numbers")
        if spec.std <= 0:
            raise UsageError(
                f"{source}: column {spec.name!r} has a standard deviation of {spec.std} (must be > 0)"
            )
    elif not all(isinstance(c, str) for c in spec.categories):
        raise UsageError(f"{source}: column {spec.name!r} has categories that are not text")
