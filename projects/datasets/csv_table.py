"""Reading a CSV file the user names, with one clear error line for each way it can be wrong.

:func:`read_csv` returns a :class:`Table`: the header and the rows as strings, nothing interpreted yet.
It accepts a comma, semicolon, tab or ``|`` separator (sniffed), UTF-8 with or without a byte-order mark
(Latin-1 as a fallback), and skips blank lines. It refuses, with a :class:`~autograd.errors.UsageError` naming
the file (and the line where it helps): a missing or unreadable file, a folder, a binary file, an empty file,
a header without data rows, duplicate column names and rows whose field count differs from the header's.
It also refuses a table past the limits (:data:`MAX_BYTES`, :data:`MAX_ROWS`, :data:`MAX_COLUMNS`,
:data:`MAX_CELLS`), checked as it reads, so that no file can make it take gigabytes or minutes.

:func:`parse_number` and :func:`is_missing` are the shared rules for what counts as a number and what counts
as a missing value (``NA``, ``N/A``, ``NaN``, ``null``, ``None``, ``?``, an empty field).
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

from autograd.errors import UsageError, unreadable

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "missing", "#n/a"})
_SNIFF_BYTES = 64 * 1024
MAX_BYTES = 64 * 2**20  # 64 MiB
MAX_ROWS = 50_000
MAX_COLUMNS = 1_000
MAX_CELLS = 2_000_000
_DELIMITERS = ",;\t|"


@dataclass
class Table:
    """A CSV file's header and rows (strings, stripped), and the line number of each row in the file."""

    path: str
    columns: list[str]
    rows: list[list[str]]
    lines: list[int]

    def column(self, name: str) -> list[str]:
        """The values of column ``name`` (UsageError listing the columns when there is no such column)."""
        return [row[self.index(name)] for row in self.rows]

    def index(self, name: str) -> int:
        try:
            return self.columns.index(name)
        except ValueError:
            raise UsageError(
                f"{self.path}: no column {name!r}; the columns are: {', '.join(map(repr, self.columns))}"
            ) from None


def is_missing(text: str) -> bool:
    """True for an empty field and the usual spellings of a missing value (case-insensitive)."""
    return text.strip().lower() in MISSING_TOKENS


def parse_number(text: str) -> float | None:
    """The finite number written in ``text`` (``1``, ``-2.5``, ``3e4``, ``1,234`` with a thousands comma is
    *not* one), or None. Missing markers are not numbers; neither are ``inf`` and ``nan``."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _decode(raw: bytes, path: str) -> str:
    if b"\x00" in raw[:_SNIFF_BYTES]:
        raise UsageError(f"{path}: not a text file (it contains NUL bytes); expected a CSV file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
    except csv.Error:
        return csv.excel


def read_csv(path: str | os.PathLike[str]) -> Table:
    """Read ``path`` into a :class:`Table` (see the module docstring for what is accepted and refused)."""
    name = str(path)
    file = Path(path).expanduser()
    try:
        if file.is_file() and file.stat().st_size > MAX_BYTES:
            raise UsageError(
                f"{name}: {file.stat().st_size / 2**20:.0f} MiB; this program reads CSV files of at most "
                f"{MAX_BYTES // 2**20} MiB ({MAX_ROWS:,} rows): take a sample of the rows"
            )
        raw = file.read_bytes()
    except OSError as e:
        raise UsageError(unreadable(name, e, "a CSV file")) from None
    text = _decode(raw, name)
    if not text.strip():
        raise UsageError(f"{name}: the file is empty")
    header_line = next(line for line in text.splitlines() if line.strip())
    dialect = _dialect(text[:_SNIFF_BYTES]) if any(d in header_line for d in _DELIMITERS) else csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for fields in reader:
            if not any(field.strip() for field in fields):
                continue
            fields = [field.strip() for field in fields]
            if header is None:
                header = _check_header(fields, name, reader.line_num)
                continue
            if len(rows) == MAX_ROWS or (len(rows) + 1) * len(header) > MAX_CELLS:
                raise UsageError(
                    f"{name}: more than {len(rows):,} data rows of {len(header)} columns; this program reads "
                    f"at most {MAX_ROWS:,} rows and {MAX_CELLS:,} cells: take a sample of the rows"
                )
            if len(fields) != len(header):
                raise UsageError(
                    f"{name} line {reader.line_num}: {len(fields)} fields, but the header has {len(header)}"
                )
            rows.append(fields)
            lines.append(reader.line_num)
    except csv.Error as e:
        raise UsageError(f"{name} line {reader.line_num}: malformed CSV ({e})") from None
    assert header is not None
    if not rows:
        raise UsageError(f"{name}: a header ({', '.join(header)}) but no data rows")
    return Table(name, header, rows, lines)


def _check_header(fields: list[str], name: str, line: int) -> list[str]:
    if len(fields) > MAX_COLUMNS:
        raise UsageError(f"{name} line {line}: {len(fields)} columns; at most {MAX_COLUMNS} are read")
    columns = [field or f"column_{i + 1}" for i, field in enumerate(fields)]
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise UsageError(f"{name} line {line}: the column name {column!r} appears twice in the header")
        seen.add(column)
    return columns


def split_names(text: str | None) -> list[str]:
    """``"a, b"`` -> ["a", "b"] (for flags that take a list of column names)."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]
