"""Turn a source's daily values into cells of an input table, checked by the same rules as hand-made inputs.

Sources hand over cell text, not floats: an API that sends decimal strings, scaled with Decimal
(a change of unit is a shift of places), gives exactly what the source said. The cells are then
parsed by briefgen.inputs.tables.parse_table against the table's contract (a Target names its
TableSpec; a sector's fetch modules declare them), and each problem is renamed after the source,
the row's key and the day it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

from briefgen.errors import FetchError, Problem
from briefgen.inputs.rawtables import RawTable
from briefgen.inputs.tables import TableSpec, parse_table


@dataclass(frozen=True)
class Target:
    """A table a fetch writes: its contract, the columns sources fill, the header of a new file.

    Rows are identified by the contract's key: the date, then (a table keyed by more) the other key
    columns, held in the fetched row's cells. `tolerance` says how close (relative) a fetched number
    must be to the file's to count as unchanged, for columns where the default (1e-9) is too strict.
    `running` names a running total and the column it adds up, (total, count): a new day gets the
    day before's total plus its count, and a changed count that leaves a total standing is warned of.
    """

    spec: TableSpec
    values: tuple[str, ...]
    header: tuple[str, ...]
    tolerance: tuple[tuple[str, float], ...] = ()
    running: tuple[str, str] | None = None

    @property
    def key(self) -> tuple[str, ...]:
        return self.spec.key[1:]  # the columns after the date


# progress(done, total or None, what): called after each request.
Progress = Callable[[int, "int | None", str], None]


def no_progress(done: int, total: int | None, what: str) -> None:
    """The progress callback used when nobody is watching."""


@dataclass(frozen=True)
class FetchedRow:
    """One UTC day from a source: contract column -> cell text (blank when the source has no value).

    `source`, when given, is written in the row's source column instead of the result's name (a
    market cap records the filing its share count came from).
    """

    day: date
    cells: dict[str, str]
    source: str | None = None

    def key(self, target: Target) -> tuple[Any, ...]:
        return (self.day, *(self.cells.get(k, "") for k in target.key))

    def label(self, target: Target) -> str:
        """The row in messages: '2025-03-05', or 'ABC 2025-03-05' where the key has more than the date."""
        return " ".join([*(self.cells.get(k, "") for k in target.key), self.day.isoformat()])


@dataclass(frozen=True)
class SourceResult:
    """What a source returned: its rows, days it skipped (notes) and disagreements worth a look (warnings)."""

    source: str
    rows: tuple[FetchedRow, ...]
    notes: tuple[Problem, ...] = field(default=())
    warnings: tuple[Problem, ...] = field(default=())


def decimal_or_none(raw: Any) -> Decimal | None:
    """A finite Decimal from a JSON string or number; None for anything else (bool, text, NaN)."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def plain(value: Decimal | float | int, places: int | None = None) -> str:
    """Write a number as plain digits: no exponent, no trailing zeros (e.g. 619.8398195, 150, 0.5)."""
    number = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places))
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def cell_text(raw: Any) -> str:
    """A source value as cell text: numbers written plainly, anything else as given (for the checks to name)."""
    number = decimal_or_none(raw)
    if number is not None:
        return plain(number)
    return "" if raw is None else str(raw)


def validate(result: SourceResult, target: Target) -> pd.DataFrame:
    """Check every fetched row against the target's contract; raise one FetchError naming source and day.

    Returns the parsed frame (one row per fetched row, in order; values typed as the loader types them).
    """
    frame, problems = check_rows(result, target)
    if problems or frame is None:
        count = len(problems)
        head = f"{result.source} sent {count} unusable value{'s' if count != 1 else ''}; nothing was merged:"
        raise FetchError("\n".join([head, *(f"  - {p}" for p in problems)]))
    return frame


def check_rows(result: SourceResult, target: Target) -> tuple[pd.DataFrame | None, list[Problem]]:
    """The parsed frame of the fetched rows and every problem, each named after the source and the row."""
    problems: list[Problem] = []
    unique: list[FetchedRow] = []
    seen: set[tuple[Any, ...]] = set()
    for row in result.rows:
        if row.key(target) in seen:
            what = "day" if not target.key else "row"
            problems.append(
                Problem(f"{result.source} {row.label(target)}", f"the {what} appears twice in the response")
            )
        else:
            unique.append(row)
        seen.add(row.key(target))
    header = ["date", *target.key, *target.values, "source"]
    rows = [
        [
            row.day.isoformat(),
            *(row.cells.get(c, "") for c in (*target.key, *target.values)),
            row.source or result.source,
        ]
        for row in unique
    ]
    found: list[Problem] = []
    frame = parse_table(target.spec, RawTable(result.source, header, rows, ""), found)
    for problem in found:
        # parse_table numbers rows as a spreadsheet does (header = row 1): row n is fetched row n - 2
        inside = problem.row is not None and 2 <= problem.row < len(unique) + 2
        where = unique[problem.row - 2].label(target) if inside and problem.row is not None else None
        label = f"{result.source} {where}" if where else result.source
        problems.append(Problem(label, problem.message, column=problem.column, fix=problem.fix))
    return frame, problems
