"""Loading a univariate time series: the shipped monthly series, a synthetic sine, or any CSV column.

A :class:`Series` is the values in time order, a label per point (its date, when the file has a date
column) and the *season*: the number of steps after which the pattern repeats (12 for monthly data; it
gives the seasonal-naive baseline its lag), or 0 when there is none.

From a CSV file (:func:`from_csv`): the value column is ``--column`` (or the only numeric column); the date
column is ``--date-column`` (or the first column whose every value looks like a date: ``1949``, ``1949-01``,
``1949-01-31``). A date column must be in increasing order. Missing values inside the series are filled by
linear interpolation between their neighbours (and counted); text in the value column is an error naming
its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograd.errors import UsageError
from projects.datasets import EMBEDDED
from projects.datasets.csv_table import Table, is_missing, parse_number, read_csv

DATA = EMBEDDED
BUILTIN = {
    "airline": (
        DATA / "airline_passengers.csv",
        "passengers",
        "monthly international airline passengers (thousands)",
    ),
    "sunspots": (DATA / "sunspots_monthly.csv", "sunspots", "monthly mean sunspot number"),
}
SINE_PERIOD = 12
_DATE = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?:[ T].*)?$")


@dataclass
class Series:
    """Values in time order, one label per value (a date or the step number), the season and a name."""

    values: np.ndarray
    labels: list[str]
    season: int
    name: str
    filled: int = 0  # missing values filled by interpolation


def sine(rng: np.random.Generator, n: int = 240, period: int = SINE_PERIOD, noise: float = 0.1) -> Series:
    """y_t = sin(2 pi t / period) + 0.5 sin(4 pi t / period) + noise, noise ~ N(0, noise^2): a seasonal series
    with a known shape, to check that the machinery works before trusting it on real data."""
    t = np.arange(n)
    y = np.sin(2 * np.pi * t / period) + 0.5 * np.sin(4 * np.pi * t / period) + rng.normal(0, noise, n)
    return Series(y, [str(i) for i in t], period, f"synthetic sine (period {period}, noise {noise:g})")


def _parse_date(text: str) -> tuple[int, int, int] | None:
    match = _DATE.match(text.strip())
    if not match:
        return None
    year, month, day = (int(g) if g else 0 for g in match.groups())
    if month > 12 or day > 31:
        return None
    return year, month, day


MOSTLY = 0.8  # a column with at least this share of dates (or numbers) is one; the rest are typing errors


def detect_date_column(table: Table, exclude: str | None) -> str | None:
    """The first column (other than ``exclude``) whose every non-missing value parses as a date. A column
    of dates with a few values that are not (``2000-13``) is an error naming the first, not a column
    silently ignored (which would lose the season)."""
    for name in table.columns:
        if name == exclude:
            continue
        _refuse_stray_values(table, name)
        values = [v for v in table.column(name) if not is_missing(v)]
        if values and all(_parse_date(v) is not None for v in values):
            if all(parse_number(v) is not None for v in values):  # numbers: dates only as consecutive years
                years = [parse_number(v) for v in values]
                if not (all(len(v) == 4 for v in values) and all(b > a for a, b in zip(years, years[1:]))):
                    continue
            return name
    return None


def _refuse_stray_values(table: Table, name: str) -> None:
    """UsageError naming the first value of column ``name`` that is not a date when nearly all its other
    values are dates written with a separator (``1949-01``)."""
    texts = [(v, line) for v, line in zip(table.column(name), table.lines) if not is_missing(v)]
    dated = [_parse_date(v) is not None and parse_number(v) is None for v, _ in texts]
    if texts and not all(dated) and sum(dated) >= MOSTLY * len(texts) and sum(dated) >= 3:
        value, line = next(t for t, ok in zip(texts, dated) if not ok)
        example = next(t for (t, _), ok in zip(texts, dated) if ok)
        raise UsageError(
            f"{table.path} line {line}: {value!r} in {name!r} is not a date, though its other values are "
            f"(such as {example!r}; a month is 1 to 12, a day 1 to 31); fix it or write NA"
        )


def infer_season(dates: list[tuple[int, int, int]]) -> int:
    """12 for monthly dates, 4 for quarterly, 7 for daily, 0 for yearly or irregular ones."""
    if len(dates) < 3:
        return 0
    months = [12 * y + m for y, m, _ in dates]
    steps = set(np.diff(months).tolist())
    if all(m > 0 for _, m, _ in dates) and all(d == 0 for _, _, d in dates):
        return {1: 12, 3: 4}.get(steps.pop(), 0) if len(steps) == 1 else 0
    if all(d > 0 for _, _, d in dates):
        ordinals = [np.datetime64(f"{y:04d}-{m:02d}-{d:02d}").astype(int) for y, m, d in dates]
        gaps = set(np.diff(ordinals).tolist())
        if gaps == {1}:
            return 7
        if gaps <= {28, 29, 30, 31}:
            return 12
        if gaps <= {89, 90, 91, 92}:
            return 4
    return 0


def _interpolate(values: list[float | None], path: str, column: str) -> tuple[np.ndarray, int]:
    y = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    gaps = np.isnan(y)
    if gaps.all():
        raise UsageError(f"{path}: column {column!r} has no values")
    if gaps.any():
        known = np.flatnonzero(~gaps)
        y[gaps] = np.interp(np.flatnonzero(gaps), known, y[known])
    return y, int(gaps.sum())


def _refuse_stray_text(table: Table, path: str, exclude: str | None) -> None:
    """When no column is all numbers: UsageError naming the first text value of a column that is nearly
    all numbers (a typing error), rather than asking for a --column that would not help."""
    for name in table.columns:
        if name == exclude:
            continue
        texts = [(v, line) for v, line in zip(table.column(name), table.lines) if not is_missing(v)]
        words = [(v, line) for v, line in texts if parse_number(v) is None]
        if words and len(words) <= (1 - MOSTLY) * len(texts):
            value, line = words[0]
            raise UsageError(
                f"{path} line {line}: text {value!r} in column {name!r}, whose other values are numbers; "
                "fix it, or write NA for a missing value"
            )


def from_csv(path: str, column: str | None, date_column: str | None, season: int) -> Series:
    """The series in ``column`` of the CSV file ``path`` (see the module docstring)."""
    table = read_csv(path)
    if date_column is not None:
        table.index(date_column)
    dates_name = date_column or detect_date_column(table, column)
    if column is None:
        numeric = [
            name
            for name in table.columns
            if name != dates_name
            and all(parse_number(v) is not None for v in table.column(name) if not is_missing(v))
        ]
        if not numeric:
            _refuse_stray_text(table, path, exclude=dates_name)
        if len(numeric) != 1:
            raise UsageError(
                f"{path}: pass --column NAME to choose the series"
                + (f" among the numeric columns {', '.join(map(repr, numeric))}" if numeric else "")
                + f"; the columns are: {', '.join(map(repr, table.columns))}"
            )
        column = numeric[0]
    raw = table.column(column)
    values: list[float | None] = []
    for text, line in zip(raw, table.lines):
        if is_missing(text):
            values.append(None)
            continue
        number = parse_number(text)
        if number is None:
            raise UsageError(f"{path} line {line}: text {text!r} in the series column {column!r}")
        values.append(number)
    y, filled = _interpolate(values, path, column)
    labels = [str(i) for i in range(len(y))]
    inferred = 0
    if dates_name is not None:
        texts = table.column(dates_name)
        parsed = [_parse_date(t) for t in texts]
        if any(p is None for p in parsed):
            bad = next(i for i, p in enumerate(parsed) if p is None)
            raise UsageError(
                f"{path} line {table.lines[bad]}: {texts[bad]!r} in {dates_name!r} is not a date"
            )
        if any(b <= a for a, b in zip(parsed, parsed[1:])):
            bad = next(i for i in range(1, len(parsed)) if parsed[i] <= parsed[i - 1])
            raise UsageError(
                f"{path} line {table.lines[bad]}: dates in {dates_name!r} must increase "
                f"({texts[bad - 1]!r} then {texts[bad]!r})"
            )
        labels = texts
        inferred = infer_season(parsed)  # type: ignore[arg-type]
    return Series(y, labels, season if season > 0 else inferred, f"{Path(path).name}: {column}", filled)


def load_series(
    name: str,
    csv: str | None,
    column: str | None,
    date_column: str | None,
    season: int,
    rng: np.random.Generator,
) -> Series:
    """A CSV column when ``csv`` is given, else the built-in series ``name`` (airline, sunspots or sine)."""
    if csv:
        return from_csv(csv, column, date_column, season)
    key = name.strip().lower()
    if key == "sine":
        series = sine(rng)
        series.season = season if season > 0 else series.season
        return series
    if key not in BUILTIN:
        raise UsageError(f"--series {name!r}: choose airline, sunspots or sine (or give --csv FILE)")
    path, default_column, title = BUILTIN[key]
    series = from_csv(str(path), column or default_column, date_column, season)
    series.name = title
    return series
