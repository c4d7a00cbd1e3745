"""Turn raw rows into typed frames by the input contract: each table's columns, their rules and its row keys.

Every problem is collected with its file (and sheet), row and column; nothing is raised here.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from briefgen.inputs.cells import (
    CellError,
    Column,
    difficulty_unit_hint,
    hashrate_unit_hint,
    is_blank,
    market_cap_unit_hint,
    parse_cell,
)
from briefgen.errors import Problem
from briefgen.inputs.rawtables import RawTable

MAX_PROBLEMS = 50  # per file: a badly broken file gets its first 50 problems, not 100,000


@dataclass(frozen=True)
class TableSpec:
    """One input table: its file name, its columns and the columns that identify a row."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool = True

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


NETWORK = TableSpec(
    "network",
    (
        Column("date", "date"),
        Column("btc_price_usd", "number", minimum=0, exclusive_minimum=True, maximum=10_000_000, unit="USD per BTC"),
        Column("hashrate_ehs", "number", required=False, minimum=0, exclusive_minimum=True, maximum=50_000,
               unit="EH/s", magnitude=hashrate_unit_hint),
        Column("blocks", "integer", minimum=1, maximum=1_000, unit="blocks per day"),
        Column("fees_btc", "number", minimum=0, maximum=5_000, unit="BTC per day"),
        Column("difficulty", "number", required=False, minimum=1e6, maximum=1e18, magnitude=difficulty_unit_hint),
        Column("height", "integer", required=False, minimum=0, maximum=10_000_000, unit="block height"),
        Column("source", "text", required=False, max_length=80),
    ),
    key=("date",),
)
MINERS = TableSpec(
    "miners",
    (
        Column("ticker", "ticker"),
        Column("name", "text", max_length=120),
        Column("exchange", "text", required=False, max_length=40),
        Column("from", "date"),
        Column("to", "date", required=False),
    ),
    key=("ticker",),
    required=False,
)
MINER_HASHRATE = TableSpec(
    "miner_hashrate",
    (
        Column("date", "date"),
        Column("ticker", "ticker"),
        Column("hashrate_ehs", "number", minimum=0, exclusive_minimum=True, maximum=2_000, unit="EH/s",
               magnitude=hashrate_unit_hint),
    ),
    key=("date", "ticker"),
    required=False,
)
# shares_outstanding and close_usd are optional: written by `briefgen fetch equities` so that each
# market cap can be traced (cap = shares x close), and checked against the cap wherever both are given.
SHARES_OUTSTANDING = Column("shares_outstanding", "integer", minimum=1_000, maximum=1e12, unit="shares")
MARKET_CAPS = TableSpec(
    "market_caps",
    (
        Column("date", "date"),
        Column("ticker", "ticker"),
        Column("market_cap_usd", "number", minimum=1e6, maximum=1e13, unit="USD", magnitude=market_cap_unit_hint),
        dataclasses.replace(SHARES_OUTSTANDING, required=False),
        Column("close_usd", "number", required=False, minimum=0, exclusive_minimum=True, maximum=1e6,
               unit="USD per share"),
        Column("source", "text", required=False, max_length=80),
    ),
    key=("date", "ticker"),
    required=False,
)
# inputs/shares.csv: the desk's share counts, read only by `briefgen fetch equities` (foreign private
# issuers file 20-F / 6-K and often give the SEC no dei:EntityCommonStockSharesOutstanding).
SHARES = TableSpec(
    "shares",
    (
        Column("date", "date"),
        Column("ticker", "ticker"),
        SHARES_OUTSTANDING,
        Column("source", "text", required=False, max_length=200),
    ),
    key=("date", "ticker"),
    required=False,
)
DEALS = TableSpec(
    "deals",
    (
        Column("date", "date"),
        Column("ticker", "ticker"),
        Column("kind", "text", max_length=40),
        Column("counterparty", "text", required=False, max_length=120),
        Column("value_usd", "number", required=False, minimum=0, maximum=1e13, unit="USD"),
        Column("capacity_mw", "number", required=False, minimum=0, maximum=100_000, unit="MW"),
        Column("description", "text", required=False, max_length=500),
    ),
    key=(),
    required=False,
)
TABLES = (NETWORK, MINERS, MINER_HASHRATE, MARKET_CAPS, DEALS)


def parse_table(spec: TableSpec, raw: RawTable, problems: list[Problem],
                warnings: list[Problem] | None = None) -> pd.DataFrame | None:
    """Check the header, parse every cell and the row keys; append problems (and warnings), return the frame."""
    if not raw.header:
        what = "sheet" if raw.label.endswith("]") else "file"
        problems.append(Problem(raw.label, f"{what} is empty", fix=f"add the header row: {','.join(c.name for c in spec.columns)}"))
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
    if spec is NETWORK and "hashrate_ehs" not in positions and "difficulty" not in positions:
        close = difflib.get_close_matches("hashrate_ehs", unknown, n=1, cutoff=0.6)
        fix = f"rename column '{close[0]}' to 'hashrate_ehs'" if close else "add a column 'hashrate_ehs' (EH/s) or 'difficulty'"
        problems.append(Problem(raw.label, "missing column", row=head, column="hashrate_ehs", fix=fix))
        missing.append("hashrate_ehs")
    if warnings is not None:
        absent = [c.name for c in spec.columns if c.name not in positions]
        for name in unknown:
            close = difflib.get_close_matches(name, absent, n=1, cutoff=0.75)
            if close:
                warnings.append(Problem(raw.label, "unknown column, not read", row=head, column=name,
                                        fix=f"did you mean '{close[0]}'?"))
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
            problems.append(Problem(raw.label, "the header row appears again", row=number,
                                    fix="delete this row; were two files pasted together?"))
            budget -= 1
            continue
        if len(row) > len(raw.header) and any(not is_blank(c) for c in row[len(raw.header):]):
            problems.append(Problem(raw.label, f"{len(row)} cells but {len(raw.header)} columns", row=number,
                                    fix="remove the extra cells or quote text that holds commas"))
            budget -= 1
        record: dict[str, Any] = {"_row": number}
        for column in spec.columns:
            index = positions.get(column.name)
            cell = row[index] if index is not None and index < len(row) else None
            try:
                record[column.name] = parse_cell(column, cell)
            except CellError as exc:
                problems.append(Problem(raw.label, exc.message, row=number, column=column.name, fix=exc.fix))
                record[column.name] = None
                budget -= 1
        records.append(record)
        if budget <= 0:
            problems.append(Problem(raw.label, "too many problems; stopped checking this file here", row=number,
                                    fix="fix these, then run briefgen check again"))
            return None
    frame = pd.DataFrame.from_records(records, columns=["_row", *[c.name for c in spec.columns]])
    if spec.key:
        _duplicates(frame, spec, raw.label, problems)
    if spec is MARKET_CAPS:
        _check_market_cap_product(frame, raw.label, problems)
    return frame


def _check_market_cap_product(frame: pd.DataFrame, label: str, problems: list[Problem]) -> None:
    """Where a row gives shares_outstanding and close_usd, its market_cap_usd must be their product.

    "Within rounding": the close as written stands for any price within half a unit of its last
    decimal (15.95: 15.945 to 15.955), and the cap for any within half a dollar.
    """
    given = frame[["market_cap_usd", "shares_outstanding", "close_usd"]].notna().all(axis=1)
    if not given.any():
        return
    traced = frame[given]
    cap, shares, close = (traced[c].astype("float64") for c in ("market_cap_usd", "shares_outstanding", "close_usd"))
    half_unit = close.map(_half_unit)
    product = shares * close
    wrong = (cap - product).abs() > shares * half_unit + 1.0  # + half a dollar of the cap's rounding, and float slack
    for index in traced.index[wrong.to_numpy()][:MAX_PROBLEMS]:
        problems.append(Problem(label, f"market_cap_usd {cap[index]:,.0f} is not shares_outstanding x close_usd "
                                       f"({int(shares[index]):,} x {close[index]:g} = {product[index]:,.0f})",
                                row=int(frame.at[index, "_row"]), column="market_cap_usd",
                                fix="correct the figure that is wrong, or leave shares_outstanding and close_usd blank"))


def _half_unit(value: float) -> float:
    """Half a unit of the last decimal a number was written with (15.95 -> 0.005; 16, read as 16.0 -> 0.05)."""
    exponent = Decimal(repr(value)).as_tuple().exponent
    return 0.5 * 10.0 ** min(0, exponent if isinstance(exponent, int) else 0)


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
        problems.append(Problem(label, f"duplicate {what} {key} (first on row {first[index]})",
                                row=int(frame.at[index, "_row"]), column=keys[-1], fix=fix))
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
