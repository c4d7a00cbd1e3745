"""Turn the inputs folder (CSV files or one workbook, brief.yaml, commentary) into validated tables.

Every problem is collected with its file (and sheet), row and column, then raised at once as one
InputError. Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from briefgen.cells import (
    CellError,
    Column,
    difficulty_unit_hint,
    hashrate_unit_hint,
    is_blank,
    market_cap_unit_hint,
    parse_cell,
)
from briefgen.config import CONFIG_FILE as CONFIG_NAME
from briefgen.config import BriefConfig, load_config, resolve_windows, with_overrides
from briefgen.commentary import (
    COMMENTARY_DIR,
    RESOURCE_FIX,
    SourceFile,
    commentary_warnings,
    find_commentary,
    resources,
)
from briefgen.errors import InputError, Problem
from briefgen.rawtables import WORKBOOK, RawTable, read_csv_bytes, read_workbook  # noqa: F401 (callers import them from here)
from briefgen.schedule import HALVING_DATES, block_reward_opportunity_btc

MAX_PROBLEMS = 50  # per file: a badly broken file gets its first 50 problems, not 100,000
HASH_2_32 = 2.0**32


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
MARKET_CAPS = TableSpec(
    "market_caps",
    (
        Column("date", "date"),
        Column("ticker", "ticker"),
        Column("market_cap_usd", "number", minimum=1e6, maximum=1e13, unit="USD", magnitude=market_cap_unit_hint),
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


@dataclass(frozen=True, eq=False)
class Inputs:
    """The validated inputs. Frames have one column per contract column, dates as datetime64.

    network also carries subsidy_btc (BTC issued that day), height (end-of-day block height) and
    hashrate_ehs derived from difficulty where only difficulty was given.
    """

    config: BriefConfig
    network: pd.DataFrame
    miners: pd.DataFrame | None
    miner_hashrate: pd.DataFrame | None
    market_caps: pd.DataFrame | None
    deals: pd.DataFrame
    commentary: dict[str, str]
    sources: tuple[SourceFile, ...]
    warnings: tuple[Problem, ...] = field(default=())


# --- parsing a table against its spec --------------------------------------------------------


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
    return frame


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


def _typed(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Give each column its dtype: dates datetime64, numbers float64 (NaN when blank), text object."""
    for column in spec.columns:
        if column.kind == "date":
            frame[column.name] = pd.to_datetime(frame[column.name])
        elif column.kind == "number":
            frame[column.name] = pd.to_numeric(frame[column.name]).astype("float64")
        elif column.kind == "integer":
            frame[column.name] = frame[column.name].astype("Int64")
    return frame


# --- table-specific checks -------------------------------------------------------------------


def _finish_network(frame: pd.DataFrame, label: str, problems: list[Problem], warnings: list[Problem]) -> pd.DataFrame:
    """Derive hashrate from difficulty where needed, then block heights and the day's subsidy."""
    neither = frame["hashrate_ehs"].isna() & frame["difficulty"].isna() & frame["date"].notna()
    for number in frame.loc[neither, "_row"].head(MAX_PROBLEMS):
        problems.append(Problem(label, "no hashrate and no difficulty", row=int(number), column="hashrate_ehs",
                                fix="give hashrate_ehs (EH/s) or difficulty"))
    frame = _typed(frame.sort_values("date", kind="stable").reset_index(drop=True), NETWORK)
    implied = frame["difficulty"] * HASH_2_32 / 600.0 / 1e18  # DOMAIN.md: implied hashrate = D x 2^32 / 600
    frame["hashrate_ehs"] = frame["hashrate_ehs"].fillna(implied)
    frame["blocks"] = frame["blocks"].astype("int64")
    gaps = frame["date"].diff().dt.days.fillna(1)
    if (gaps > 1).any():
        first_gap = frame.loc[gaps[gaps > 1].index[0], "date"]
        missing_days = int((gaps[gaps > 1] - 1).sum())
        warnings.append(Problem(label, f"{missing_days} day(s) missing from the daily series, first before "
                                f"{first_gap:%Y-%m-%d}", fix="window means use the days present"))
    if frame["height"].notna().any():
        _check_heights(frame, gaps, label, problems, warnings)
    frame["height"] = _heights(frame, label, warnings)
    frame["subsidy_btc"] = _issuance(frame)
    return frame


def _check_heights(frame: pd.DataFrame, gaps: pd.Series, label: str, problems: list[Problem],
                   warnings: list[Problem]) -> None:
    """End-of-day heights rise by each day's blocks: a fall is an error, a mismatch a warning."""
    height, blocks = frame["height"].astype("float64"), frame["blocks"]
    rise = height.diff()
    below = height - blocks + 1 < 0  # the day's first block would have a negative height
    fall = rise <= 0
    for index in frame.index[below | fall][:MAX_PROBLEMS]:
        row, value = int(frame.at[index, "_row"]), int(height[index])
        if below[index]:
            message = f"height {value:,} is below the day's {int(blocks[index])} blocks"
        else:
            message = f"height {value:,} is not above the previous day's {int(height[index - 1]):,}"
        problems.append(Problem(label, message, row=row, column="height",
                                fix="give each day's height at its last block; heights rise every day"))
    mismatch = (gaps == 1) & ~fall & rise.notna() & (rise != blocks)
    if mismatch.any():
        index, more = frame.index[mismatch][0], int(mismatch.sum()) - 1
        warnings.append(Problem(label, f"height rises by {int(rise[index]):,} but blocks is {int(blocks[index])}"
                                + (f" (and on {more} more day{'s' if more > 1 else ''})" if more else ""),
                                row=int(frame.at[index, "_row"]), column="height",
                                fix="check the heights or the block counts; the 4-year opportunity uses the heights"))


def _heights(frame: pd.DataFrame, label: str, warnings: list[Problem]) -> pd.Series:
    """End-of-day block heights: the `height` column where given, else counted from a halving block."""
    given = frame["height"]
    if given.notna().all():
        return given.astype("int64")
    cumulative = frame["blocks"].cumsum()
    dates = frame["date"].dt.date
    inside = [(h, d) for h, d in HALVING_DATES if dates.iloc[0] <= d <= dates.iloc[-1]]
    if inside:
        anchor_height, anchor_day = inside[-1]
        # The halving block is taken as the first block of its UTC day (840,000 came at 00:09).
        before = int(cumulative[dates < anchor_day].iloc[-1]) if (dates < anchor_day).any() else 0
        return (anchor_height - 1 + cumulative - before).astype("int64")
    anchor_height, anchor_day = min(HALVING_DATES, key=lambda hd: abs((hd[1] - dates.iloc[0]).days))
    start = anchor_height + 144 * (dates.iloc[0] - anchor_day).days
    warnings.append(Problem(label, f"block heights estimated at 144 blocks a day from the halving of {anchor_day}",
                            fix="add a 'height' column for an exact 4-year opportunity"))
    return (start - frame["blocks"].iloc[0] + cumulative).astype("int64")


def _issuance(frame: pd.DataFrame) -> pd.Series:
    """BTC issued each day: the subsidy of each block mined that day, across a halving where one falls."""
    ends = frame["height"].to_numpy()
    starts = ends - frame["blocks"].to_numpy() + 1
    return pd.Series([block_reward_opportunity_btc(int(s), int(e - s + 1)) for s, e in zip(starts, ends)],
                     index=frame.index, dtype="float64")


def _absent(value: Any) -> bool:
    """A cell that failed to parse or was blank (None, or NaN once pandas has stored it)."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _check_members(frame: pd.DataFrame, label: str, miners: pd.DataFrame, problems: list[Problem], dated: bool) -> None:
    """Each ticker must be in miners.csv and, where `dated`, inside its membership dates."""
    members = {r["ticker"]: (r["from"], r["to"]) for _, r in miners.iterrows() if not _absent(r["ticker"])}
    tickers = frame["ticker"]
    unknown = tickers.notna() & ~tickers.isin(list(members))
    for _, row in frame[unknown].head(MAX_PROBLEMS).iterrows():
        ticker = row["ticker"]
        close = difflib.get_close_matches(ticker, list(members), n=1)
        fix = f"did you mean {close[0]}?" if close else "add it to miners.csv or remove the row"
        problems.append(Problem(label, f"ticker {ticker} is not in miners.csv", row=int(row["_row"]), column="ticker", fix=fix))
    if not dated:
        return
    when = pd.to_datetime(frame["date"])
    start = pd.to_datetime(tickers.map({t: s for t, (s, _) in members.items()}))
    end = pd.to_datetime(tickers.map({t: e for t, (_, e) in members.items()}))
    outside = ~unknown & start.notna() & when.notna() & ((when < start) | (end.notna() & (when > end)))
    for _, row in frame[outside].head(MAX_PROBLEMS).iterrows():
        first, last = members[row["ticker"]]
        span = f"{first} to {last}" if not _absent(last) else f"from {first}"
        problems.append(Problem(label, f"{row['ticker']} was not tracked on {row['date']} (member {span})",
                                row=int(row["_row"]), column="date", fix="fix the date, or the membership dates in miners.csv"))


def _check_membership_dates(frame: pd.DataFrame, label: str, problems: list[Problem]) -> None:
    for _, row in frame.iterrows():
        if not _absent(row["from"]) and not _absent(row["to"]) and row["to"] < row["from"]:
            problems.append(Problem(label, f"'to' {row['to']} is before 'from' {row['from']}", row=int(row["_row"]),
                                    column="to", fix="swap the dates"))


def _empty_windows(config: BriefConfig, network: pd.DataFrame, label: str) -> list[Problem]:
    problems = []
    for name, window in (("period", config.period), ("compare", config.compare)):
        inside = network["date"].between(pd.Timestamp(window.start), pd.Timestamp(window.end))
        if not inside.any():
            problems.append(Problem(label, f"no daily rows inside the {name} window ({window.start} to {window.end})",
                                    fix="add those days or move the window"))
    return problems


# --- the whole folder ------------------------------------------------------------------------


def _raw_tables(inputs_dir: Path, problems: list[Problem], warnings: list[Problem]) -> tuple[dict[str, RawTable], set[str]]:
    """Read each table's file or sheet; return them, and the names of the tables given (readable or not)."""
    workbook = inputs_dir / WORKBOOK
    sheets: dict[str, RawTable] = {}
    unreadable = False
    if workbook.is_file():
        try:
            sheets = read_workbook(workbook)
        except InputError as exc:
            problems.extend(exc.problems)
            unreadable = True  # it may hold any table: say nothing more of missing ones
    strays = _strays(inputs_dir, sheets)
    raw: dict[str, RawTable] = {}
    given = {spec.name for spec in TABLES if (inputs_dir / spec.file).is_file() or spec.name in sheets or unreadable}
    for spec in TABLES:
        path = inputs_dir / spec.file
        if path.is_file() and spec.name in sheets:
            problems.append(Problem(spec.file, f"given both as {spec.file} and as sheet '{spec.name}' of {WORKBOOK}",
                                    fix="keep one of them"))
        elif path.is_file():
            try:
                raw[spec.name] = read_csv_bytes(path.read_bytes(), spec.file)
            except InputError as exc:
                problems.extend(exc.problems)
        elif spec.name in sheets:
            raw[spec.name] = sheets[spec.name]
        elif spec.name not in given:
            near = difflib.get_close_matches(spec.file, list(strays), n=1, cutoff=0.75)
            stray = strays[near[0]] if near else None
            if spec.required:
                where = f"{inputs_dir}/{spec.file}" + (f" or a sheet '{spec.name}' in {WORKBOOK}" if sheets else "")
                fix = _rename(stray, spec) if stray else f"create {where}"
                problems.append(Problem(spec.file, "file not found", fix=fix))
            elif stray:
                what = "sheet" if stray.endswith("]") else "file"
                warnings.append(Problem(stray, f"{what} is not read", fix=_rename(stray, spec)))
    return raw, given


def _strays(inputs_dir: Path, sheets: dict[str, RawTable]) -> dict[str, str]:
    """Files and sheets briefgen does not read, as {name to compare: label}; sheets compare as name.csv."""
    known = {spec.file for spec in TABLES} | {spec.name for spec in TABLES} | {CONFIG_NAME, WORKBOOK, COMMENTARY_DIR}
    found = {p.name.lower(): p.name for p in inputs_dir.iterdir() if p.name not in known and not p.name.startswith(".")}
    for name, table in sheets.items():
        if name not in known:
            found[f"{name}.csv"] = table.label
    return found


def _rename(stray: str, spec: TableSpec) -> str:
    """How to name a stray file or sheet so briefgen reads it."""
    if stray.startswith(f"{WORKBOOK}[") and stray.endswith("]"):
        return f"rename sheet '{stray[len(WORKBOOK) + 1:-1]}' to '{spec.name}'"
    return f"rename {stray} to {spec.file}"


def _resource_warnings(config: BriefConfig | None, frames: dict[str, pd.DataFrame | None], raw: dict[str, RawTable],
                       commentary: dict[str, str]) -> list[Problem]:
    """Warn of every resource reference in brief.yaml's texts, the tables' text cells and the commentary."""
    found: list[Problem] = []
    if config is not None:
        texts = {"title": config.title, "house": config.house}
        texts.update({f"analysts.{i}.{k}": getattr(a, k) for i, a in enumerate(config.analysts) for k in ("name", "phone")})
        for key, text in texts.items():
            found += [Problem(CONFIG_NAME, f"key '{key}': refers to {what}", fix=RESOURCE_FIX) for what in resources(text or "")]
    for spec in TABLES:
        frame = frames.get(spec.name)
        if frame is None:
            continue
        for column in (c.name for c in spec.columns if c.kind == "text"):
            for row, text in zip(frame["_row"], frame[column]):
                if isinstance(text, str) and text:
                    found += [Problem(raw[spec.name].label, f"refers to {what}", row=int(row), column=column, fix=RESOURCE_FIX)
                              for what in resources(text)]
    return (found + commentary_warnings(commentary))[:MAX_PROBLEMS]


def _network_through(parsed: pd.DataFrame, network: pd.DataFrame, warnings: list[Problem], end: date,
                     label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """The daily series derived from its rows up to the period's end (every row was checked already).

    Estimated block heights count blocks from a halving that may lie after the end, and a gap
    after it is nothing the brief shows: both are worked out again from the rows the brief uses.
    """
    if not (network["date"] > pd.Timestamp(end)).any():
        return network, warnings
    kept = parsed[pd.to_datetime(parsed["date"]) <= pd.Timestamp(end)].copy()
    again: list[Problem] = []
    return _finish_network(kept, label, [], again), again  # its problems were found on all rows


def _through(clean: dict[str, pd.DataFrame], parsed_network: pd.DataFrame, end: date) -> dict[str, int]:
    """Keep only rows dated on or before the period's end, in place; return how many each table left out.

    Every row was checked, but nothing after the period's end may reach a figure, a chart, a table
    or a takeaway: a brief for early December built from files that run into January must print
    what was known in early December. A miner whose membership starts later is not yet tracked.
    The network arrives already cut (`_network_through`).
    """
    cut = pd.Timestamp(end)
    later = {"network": int((pd.to_datetime(parsed_network["date"]) > cut).sum())}
    for name, frame in clean.items():
        if name == "network":
            continue
        after = frame["from" if name == "miners" else "date"] > cut
        later[name] = int(after.sum())
        if later[name]:
            clean[name] = frame[~after].reset_index(drop=True)
    return later


def _source(raw: RawTable, frame: pd.DataFrame, later: int = 0) -> SourceFile:
    dates = frame["date"] if "date" in frame else frame.get("from")
    first = last = None
    if dates is not None and dates.notna().any():
        first, last = pd.Timestamp(dates.min()).date(), pd.Timestamp(dates.max()).date()
    return SourceFile(raw.label, len(frame), first, last, raw.sha256, later)


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    """Group problems by file (brief.yaml, the workbook, the tables in contract order, then the rest as found), then by row."""
    tables = [spec.name for spec in TABLES]
    first_seen: dict[str, int] = {}
    for problem in problems:
        first_seen.setdefault(problem.file, len(first_seen))

    def rank(label: str) -> tuple[int, int]:
        if label in (CONFIG_NAME, WORKBOOK):
            return (0, int(label == WORKBOOK))
        sheet = label.startswith(f"{WORKBOOK}[") and label.endswith("]")
        table = label[len(WORKBOOK) + 1:-1].strip().lower().removesuffix(".csv") if sheet else label.removesuffix(".csv")
        return (1, tables.index(table)) if table in tables else (2, first_seen[label])

    return sorted(problems, key=lambda p: (rank(p.file), p.row or 0))


def load_inputs(
    inputs_dir: Path,
    period: tuple[date, date] | None = None,
    compare: tuple[date, date] | None = None,
    strict: bool = False,
    as_of: date | None = None,
    labels: tuple[str, str] | None = None,
) -> Inputs:
    """Read and validate everything in `inputs_dir`; raise one InputError listing every problem.

    With `strict`, warnings (gaps in the daily series, estimated block heights) are problems too.
    """
    inputs_dir = Path(inputs_dir)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    if not inputs_dir.is_dir():
        raise InputError([Problem(str(inputs_dir), "inputs folder not found", fix="pass --inputs DIR")])
    try:
        config = with_overrides(load_config(inputs_dir), period, compare, as_of, labels)
    except InputError as exc:
        problems.extend(exc.problems)
        config = None
    raw, given = _raw_tables(inputs_dir, problems, warnings)
    frames = {name: parse_table(spec, raw[name], problems, warnings) for spec in TABLES if (name := spec.name) in raw}
    network = frames.get("network")
    series_warnings: list[Problem] = []  # the daily series' own (gaps, heights): of the rows the brief uses
    if network is not None and not any(p.file == raw["network"].label for p in problems):
        network = _finish_network(network, raw["network"].label, problems, series_warnings)
    miners = frames.get("miners")
    if miners is not None and "miners" in raw and any(p.file == raw["miners"].label for p in problems):
        miners = None  # a ticker that failed to parse in miners.csv would make every row of it look unknown
    for name in ("miner_hashrate", "market_caps", "deals"):
        frame = frames.get(name)
        if frame is None:
            continue
        if miners is None:
            if "miners" not in given:
                problems.append(Problem(raw[name].label, "needs miners.csv to say which tickers are tracked",
                                        fix="add miners.csv with the columns ticker,name,exchange,from,to"))
            continue
        _check_members(frame, raw[name].label, miners, problems, dated=name != "deals")
    if miners is not None:
        _check_membership_dates(miners, raw["miners"].label, problems)
    commentary, commentary_sources = find_commentary(inputs_dir, problems)
    warnings.extend(_resource_warnings(config, frames, raw, commentary))
    if config is not None and network is not None and not problems:
        try:
            config = resolve_windows(config, network["date"].iloc[0].date(), network["date"].iloc[-1].date())
        except InputError as exc:
            problems.extend(exc.problems)
        else:
            problems.extend(_empty_windows(config, network, raw["network"].label))
            network, series_warnings = _network_through(frames["network"], network, series_warnings,
                                                        config.period.end, raw["network"].label)
    warnings.extend(series_warnings)
    if strict:
        problems.extend(warnings)
    if problems:
        raise InputError(_in_file_order(problems))
    assert config is not None and config.period is not None and network is not None  # guaranteed when no problem was found
    clean = {name: _typed(frame.drop(columns="_row"), spec) for spec in TABLES
             if (name := spec.name) != "network" and (frame := frames.get(name)) is not None}
    clean["network"] = network.drop(columns="_row")
    later = _through(clean, frames["network"], config.period.end)
    deals = clean.get("deals", _typed(pd.DataFrame({c.name: [] for c in DEALS.columns}), DEALS))
    sources = [_source(raw[spec.name], clean[spec.name], later[spec.name]) for spec in TABLES if spec.name in clean]
    config_bytes = (inputs_dir / "brief.yaml").read_bytes()
    sources.insert(0, SourceFile("brief.yaml", config_bytes.count(b"\n"), None, None, hashlib.sha256(config_bytes).hexdigest()))
    return Inputs(
        config=config,
        network=clean["network"],
        miners=clean.get("miners"),
        miner_hashrate=clean.get("miner_hashrate"),
        market_caps=clean.get("market_caps"),
        deals=deals,
        commentary=commentary,
        sources=tuple(sources + commentary_sources),
        warnings=tuple(_in_file_order(warnings)),
    )
