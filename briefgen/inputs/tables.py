"""Turn raw rows into typed frames by an input contract: each table's columns, their rules and its row keys.

A sector declares its tables as TableSpecs (in its contract module); nothing here knows what they
hold. Every problem is collected with its file (and sheet), row and column; nothing is raised here.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from briefgen.errors import Problem
from briefgen.inputs.cells import CellError, Column, is_blank, parse_cell
from briefgen.inputs.rawtables import RawTable

MAX_PROBLEMS = 50  # per file: a badly broken file gets its first 50 problems, not 100,000


# A table's own rule across columns, run once every cell is parsed: (frame, file label, problems).
TableCheck = Callable[[pd.DataFrame, str, list[Problem]], None]


@dataclass(frozen=True)
class TableSpec:
    """One input table: its file name, its columns and the columns that identify a row.

    `either` names optional columns of which the header must hold at least one (the first is the
    one a message asks for); `check` is the table's rule across columns; `dated` is the column that
    dates a row (its range goes in the appendix, and rows dated after the period are left out).
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool = True
    either: tuple[str, ...] = ()
    check: TableCheck | None = None
    dated: str | None = "date"

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def parse_table(
    spec: TableSpec, raw: RawTable, problems: list[Problem], warnings: list[Problem] | None = None
) -> pd.DataFrame | None:
    """Check the header, parse every cell and the row keys; append problems (and warnings), return the frame."""
    if not raw.header:
        what = "sheet" if raw.label.endswith("]") else "file"
        problems.append(
            Problem(raw.label, f"{what} is empty", fix=f"add the header row: {','.join(c.name for c in spec.columns)}")
        )
        return None
    head = raw.header_row
    positions: dict[str, int] = {}
    for index, name in enumerate(raw.header):
        if name and name in positions:
            problems.append(Problem(raw.label, f"column '{name}' appears twice", row=head, fix="delete one of them"))
        positions.setdefault(name, index)
    known = {c.name for c in spec.columns}
    unknown = [h for h in raw.header if h and h not in known]
    missing = []
    for column in spec.columns:
        if column.name in positions or not column.required:
            continue
        close = difflib.get_close_matches(column.name, unknown, n=1, cutoff=0.6)
        fix = f"rename column '{close[0]}' to '{column.name}'" if close else f"add a column '{column.name}'"
        problems.append(Problem(raw.label, "missing column", row=head, column=column.name, fix=fix))
        missing.append(column.name)
    if spec.either and not any(name in positions for name in spec.either):
        first = spec.column(spec.either[0])
        close = difflib.get_close_matches(first.name, unknown, n=1, cutoff=0.6)
        options = (
            f"'{first.name}'"
            + (f" ({first.unit})" if first.unit else "")
            + "".join(f" or '{n}'" for n in spec.either[1:])
        )
        fix = f"rename column '{close[0]}' to '{first.name}'" if close else f"add a column {options}"
        problems.append(Problem(raw.label, "missing column", row=head, column=first.name, fix=fix))
        missing.append(first.name)
    if warnings is not None:
        absent = [c.name for c in spec.columns if c.name not in positions]
        for name in unknown:
            close = difflib.get_close_matches(name, absent, n=1, cutoff=0.75)
            if close:
                warnings.append(
                    Problem(
                        raw.label, "unknown column, not read", row=head, column=name, fix=f"did you mean '{close[0]}'?"
                    )
                )
    if missing:
        return None
    if all(all(is_blank(c) for c in row) for row in raw.rows):
        problems.append(Problem(raw.label, "header only, no data rows", fix="add the data rows below the header"))
        return None
    records = []
    budget = MAX_PROBLEMS  # a badly broken file gets its first 50 problems, not 100,000
    for offset, row in enumerate(raw.rows):
        number = head + 1 + offset
        if all(is_blank(c) for c in row):
            continue  # blank rows are skipped but still counted, so row numbers match the sheet
        if [str(c).strip().lstrip("\ufeff").lower() for c in row[: len(raw.header)]] == raw.header:
            problems.append(
                Problem(
                    raw.label,
                    "the header row appears again",
                    row=number,
                    fix="delete this row; were two files pasted together?",
                )
            )
            budget -= 1
            continue
        if len(row) > len(raw.header) and any(not is_blank(c) for c in row[len(raw.header) :]):
            problems.append(
                Problem(
                    raw.label,
                    f"{len(row)} cells but {len(raw.header)} columns",
                    row=number,
                    fix="remove the extra cells or quote text that holds commas",
                )
            )
            budget -= 1
        record: dict[str, Any] = {"_row": number}
        for column in spec.columns:
            position = positions.get(column.name)
            cell = row[position] if position is not None and position < len(row) else None
            try:
                record[column.name] = parse_cell(column, cell)
            except CellError as exc:
                problems.append(Problem(raw.label, exc.message, row=number, column=column.name, fix=exc.fix))
                record[column.name] = None
                budget -= 1
        records.append(record)
        if budget <= 0:
            problems.append(
                Problem(
                    raw.label,
                    "too many problems; stopped checking this file here",
                    row=number,
                    fix="fix these, then run briefgen check again",
                )
            )
            return None
    frame = pd.DataFrame.from_records(records, columns=["_row", *[c.name for c in spec.columns]])
    if spec.key:
        _duplicates(frame, spec, raw.label, problems)
    if spec.check is not None:
        spec.check(frame, raw.label, problems)
    return frame


def row_number(frame: pd.DataFrame, index: Hashable) -> int:
    """The file's row number of the frame's row `index`: its `_row` column, which parse_table fills with numbers."""
    number = frame.at[index, "_row"]
    assert isinstance(number, int | float | np.integer | np.floating), number
    return int(number)


def _duplicates(frame: pd.DataFrame, spec: TableSpec, label: str, problems: list[Problem]) -> None:
    """Name each row that repeats an earlier row's key (the first MAX_PROBLEMS of them)."""
    keys = list(spec.key)
    keyed = frame[frame[keys].notna().all(axis=1)]
    repeated = keyed.duplicated(keys, keep="first")
    if not repeated.any():
        return
    first = keyed.groupby(keys, sort=False)["_row"].transform("first")
    what, fix = " and ".join(keys), "keep one row per " + " and ".join(keys)
    for index in repeated[repeated].index[:MAX_PROBLEMS]:
        key = ", ".join(str(frame.at[index, k]) for k in keys)
        problems.append(
            Problem(
                label,
                f"duplicate {what} {key} (first on row {first[index]})",
                row=row_number(frame, index),
                column=keys[-1],
                fix=fix,
            )
        )
    more = int(repeated.sum()) - MAX_PROBLEMS
    if more > 0:
        problems.append(Problem(label, f"{more:,} more rows repeat an earlier {what}", fix=fix))


def typed(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Give each column its dtype: dates datetime64, numbers float64 (NaN when blank), text object."""
    for column in spec.columns:
        if column.kind == "date":
            frame[column.name] = pd.to_datetime(frame[column.name])
        elif column.kind == "number":
            frame[column.name] = pd.to_numeric(frame[column.name]).astype("float64")
        elif column.kind == "integer":
            frame[column.name] = frame[column.name].astype("Int64")
    return frame
