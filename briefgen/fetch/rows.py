"""Turn a source's daily values into network.csv cells, checked by the same rules as hand-made inputs.

Sources hand over cell text, not floats: Coin Metrics sends decimal strings, and scaling them with
Decimal (TH/s to EH/s is a shift of six places) writes exactly what the source said. The cells are
then parsed by briefgen.inputs.parse_table against the NETWORK contract, and each problem is
renamed after the source and the day it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

import pandas as pd

from briefgen.errors import FetchError, Problem
from briefgen.inputs import NETWORK, RawTable, parse_table

# The contract columns a source may fill, in network.csv order.
VALUE_COLUMNS = ("btc_price_usd", "hashrate_ehs", "blocks", "fees_btc", "difficulty")

# progress(done, total or None, what): called after each request.
Progress = Callable[[int, "int | None", str], None]


def no_progress(done: int, total: int | None, what: str) -> None:
    """The progress callback used when nobody is watching."""


@dataclass(frozen=True)
class FetchedRow:
    """One UTC day from a source: contract column -> cell text (blank when the source has no value)."""

    day: date
    cells: dict[str, str]


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


def validate(result: SourceResult) -> pd.DataFrame:
    """Check every fetched row against the NETWORK contract; raise one FetchError naming source and day.

    Returns the parsed frame (one row per fetched row, in order; values typed as the loader types them).
    """
    problems: list[Problem] = []
    unique: list[FetchedRow] = []
    seen: set[date] = set()
    for row in result.rows:
        if row.day in seen:
            problems.append(Problem(f"{result.source} {row.day}", "the day appears twice in the response"))
        else:
            unique.append(row)
        seen.add(row.day)
    days = [row.day for row in unique]
    header = ["date", *VALUE_COLUMNS, "source"]
    rows = [[row.day.isoformat(), *(row.cells.get(c, "") for c in VALUE_COLUMNS), result.source] for row in unique]
    found: list[Problem] = []
    frame = parse_table(NETWORK, RawTable(result.source, header, rows, ""), found)
    for problem in found:
        # parse_table numbers rows as a spreadsheet does (header = row 1): row n is fetched row n - 2
        inside = problem.row is not None and 2 <= problem.row < len(days) + 2
        day = days[problem.row - 2].isoformat() if inside and problem.row is not None else None
        label = f"{result.source} {day}" if day else result.source
        problems.append(Problem(label, problem.message, column=problem.column, fix=problem.fix))
    if problems or frame is None:
        count = len(problems)
        head = (f"{result.source} sent {count} unusable value{'s' if count != 1 else ''}; "
                "nothing was merged:")
        raise FetchError("\n".join([head, *(f"  - {p}" for p in problems)]))
    return frame
