"""Turn the inputs folder (CSV files or one workbook, brief.yaml, commentary) into validated tables.

Every problem is collected with its file (and sheet), row and column, then raised at once as one
InputError. Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
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
from briefgen.config import BriefConfig, load_config, resolve_windows, with_overrides
from briefgen.errors import InputError, Problem
from briefgen.schedule import HALVING_DATES, block_reward_opportunity_btc

WORKBOOK = "brief.xlsx"
COMMENTARY_DIR = "commentary"
MAX_ROWS = 200_000
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_COMMENTARY_BYTES = 200 * 1024
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


@dataclass(frozen=True)
class SourceFile:
    """What the appendix says of each input: rows, date range and SHA-256 of the file's bytes."""

    name: str
    rows: int
    first: date | None
    last: date | None
    sha256: str


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


# --- reading raw rows ------------------------------------------------------------------------


@dataclass
class RawTable:
    """Header and rows of one table as read, before any parsing."""

    label: str  # "network.csv" or "brief.xlsx[network]"
    header: list[str]
    rows: list[list[Any]]
    sha256: str


def _decode(data: bytes, label: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError([Problem(label, "saved as UTF-16 ('Unicode Text'), not UTF-8",
                                  fix="save it as 'CSV UTF-8 (comma delimited)'")])
    try:
        return data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError as exc:
        raise InputError([Problem(label, f"not UTF-8 text (byte {exc.start + 1} is {data[exc.start]:#04x})",
                                  fix="save it as 'CSV UTF-8 (comma delimited)'")]) from None


def read_csv_bytes(data: bytes, label: str) -> RawTable:
    """Split CSV bytes into a header and rows, refusing what is not a comma-separated UTF-8 table."""
    if len(data) > MAX_FILE_BYTES:
        raise InputError([Problem(label, f"file is {len(data) / 1e6:.0f} MB (at most {MAX_FILE_BYTES // 1_000_000} MB)",
                                  fix="keep only the rows the brief needs")])
    if b"\x00" in data[:4096]:
        raise InputError([Problem(label, "binary file, not a CSV table", fix="export the sheet as CSV UTF-8")])
    text = _decode(data, label)
    if text.count("\n") > MAX_ROWS + 1:
        raise InputError([Problem(label, f"more than {MAX_ROWS:,} rows", fix="keep only the rows the brief needs")])
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InputError([Problem(label, f"not a readable CSV table ({exc})", fix="export the sheet as CSV UTF-8")]) from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise InputError([Problem(label, "file is empty", fix="add a header row and data rows")])
    header = [h.strip().lower() for h in rows[0]]
    if len(header) == 1:
        for delimiter, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
            if delimiter in rows[0][0]:
                raise InputError([Problem(label, f"columns are separated by {name}, not commas",
                                          fix="save it as 'CSV UTF-8 (comma delimited)'")])
    return RawTable(label, header, rows[1:], hashlib.sha256(data).hexdigest())


def read_workbook(path: Path) -> dict[str, RawTable]:
    """Read every sheet of the workbook as raw tables, keyed by sheet name (lower case, '.csv' dropped)."""
    import openpyxl

    data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        raise InputError([Problem(WORKBOOK, "workbook is larger than 50 MB", fix="keep only the rows the brief needs")])
    digest = hashlib.sha256(data).hexdigest()
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file; all mean the same to the user
        raise InputError([Problem(WORKBOOK, f"not a readable .xlsx workbook ({type(exc).__name__})",
                                  fix="save it from Excel as 'Excel Workbook (.xlsx)'")]) from None
    tables = {}
    try:
        for sheet in book.worksheets:
            name = sheet.title.strip().lower().removesuffix(".csv")
            rows = []
            for count, row in enumerate(sheet.iter_rows(values_only=True)):
                if count > MAX_ROWS:
                    raise InputError([Problem(f"{WORKBOOK}[{sheet.title}]", f"more than {MAX_ROWS:,} rows",
                                              fix="keep only the rows the brief needs")])
                rows.append(list(row))
            rows = [r for r in rows if any(not is_blank(c) for c in r)]
            label = f"{WORKBOOK}[{sheet.title}]"
            if not rows:
                tables[name] = RawTable(label, [], [], digest)
                continue
            header = ["" if h is None else str(h).strip().lower() for h in rows[0]]
            while header and header[-1] == "":
                header.pop()
            tables[name] = RawTable(label, header, [r[: len(header)] for r in rows[1:]], digest)
    finally:
        book.close()
    return tables


# --- parsing a table against its spec --------------------------------------------------------


def parse_table(spec: TableSpec, raw: RawTable, problems: list[Problem]) -> pd.DataFrame | None:
    """Check the header, parse every cell and the row keys; append problems, return the frame."""
    if not raw.header:
        problems.append(Problem(raw.label, "file is empty", fix=f"add the header row: {','.join(c.name for c in spec.columns)}"))
        return None
    positions: dict[str, int] = {}
    for index, name in enumerate(raw.header):
        if name in positions:
            problems.append(Problem(raw.label, f"column '{name}' appears twice", row=1, fix="delete one of them"))
        positions[name] = index
    known = {c.name for c in spec.columns}
    unknown = [h for h in raw.header if h and h not in known]
    missing = []
    for column in spec.columns:
        if column.name in positions or not column.required:
            continue
        close = difflib.get_close_matches(column.name, unknown, n=1, cutoff=0.6)
        fix = f"rename column '{close[0]}' to '{column.name}'" if close else f"add a column '{column.name}'"
        problems.append(Problem(raw.label, "missing column", row=1, column=column.name, fix=fix))
        missing.append(column.name)
    if spec is NETWORK and "hashrate_ehs" not in positions and "difficulty" not in positions:
        close = difflib.get_close_matches("hashrate_ehs", unknown, n=1, cutoff=0.6)
        fix = f"rename column '{close[0]}' to 'hashrate_ehs'" if close else "add a column 'hashrate_ehs' (EH/s) or 'difficulty'"
        problems.append(Problem(raw.label, "missing column", row=1, column="hashrate_ehs", fix=fix))
        missing.append("hashrate_ehs")
    if missing:
        return None
    if not raw.rows:
        problems.append(Problem(raw.label, "header only, no data rows", fix="add the data rows below the header"))
        return None
    records = []
    budget = 50  # a badly broken file gets its first 50 problems, not 100,000
    for offset, row in enumerate(raw.rows):
        number = offset + 2
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
            problems.append(Problem(raw.label, "too many problems; stopped checking this file here", row=number))
            return None
    frame = pd.DataFrame.from_records(records, columns=["_row", *[c.name for c in spec.columns]])
    if spec.key:
        duplicated = frame.duplicated(list(spec.key), keep="first") & frame[list(spec.key)].notna().all(axis=1)
        for _, dup in frame[duplicated].iterrows():
            first = frame.loc[(frame[list(spec.key)] == dup[list(spec.key)]).all(axis=1), "_row"].iloc[0]
            key = ", ".join(str(dup[k]) for k in spec.key)
            problems.append(Problem(raw.label, f"duplicate {' and '.join(spec.key)} {key} (first on row {first})",
                                    row=int(dup["_row"]), column=spec.key[-1], fix="keep one row per " + " and ".join(spec.key)))
    return frame


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
    for _, row in frame.iterrows():
        if _absent(row["hashrate_ehs"]) and _absent(row["difficulty"]) and not _absent(row["date"]):
            problems.append(Problem(label, "no hashrate and no difficulty", row=int(row["_row"]), column="hashrate_ehs",
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
    frame["height"] = _heights(frame, label, warnings)
    frame["subsidy_btc"] = _issuance(frame)
    return frame


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
    for _, row in frame.iterrows():
        ticker = row["ticker"]
        if _absent(ticker):
            continue
        if ticker not in members:
            close = difflib.get_close_matches(ticker, list(members), n=1)
            fix = f"did you mean {close[0]}?" if close else "add it to miners.csv or remove the row"
            problems.append(Problem(label, f"ticker {ticker} is not in miners.csv", row=int(row["_row"]), column="ticker", fix=fix))
            continue
        start, end = members[ticker]
        if _absent(start):
            continue
        when = row["date"]
        if dated and not _absent(when) and (when < start or (not _absent(end) and when > end)):
            span = f"{start} to {end}" if end else f"from {start}"
            problems.append(Problem(label, f"{ticker} was not tracked on {when} (member {span})", row=int(row["_row"]),
                                    column="date", fix="fix the date, or the membership dates in miners.csv"))


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


def _raw_tables(inputs_dir: Path, problems: list[Problem]) -> dict[str, RawTable]:
    workbook = inputs_dir / WORKBOOK
    sheets = read_workbook(workbook) if workbook.is_file() else {}
    raw: dict[str, RawTable] = {}
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
        elif spec.required:
            where = f"{inputs_dir}/{spec.file}" + (f" or a sheet '{spec.name}' in {WORKBOOK}" if sheets else "")
            near = difflib.get_close_matches(spec.file, [p.name for p in inputs_dir.glob("*")], n=1) if inputs_dir.is_dir() else []
            fix = f"rename {near[0]} to {spec.file}" if near else f"create {where}"
            problems.append(Problem(spec.file, "file not found", fix=fix))
    return raw


def _commentary(inputs_dir: Path, problems: list[Problem]) -> tuple[dict[str, str], list[SourceFile]]:
    folder = inputs_dir / COMMENTARY_DIR
    texts: dict[str, str] = {}
    sources = []
    if not folder.is_dir():
        return texts, sources
    for path in sorted(folder.glob("*.md")):
        label = f"{COMMENTARY_DIR}/{path.name}"
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,60}", path.stem) or path.is_symlink():
            problems.append(Problem(label, "file name must be letters, digits, '-' or '_' (and not a link)", fix="rename it"))
            continue
        data = path.read_bytes()
        if len(data) > MAX_COMMENTARY_BYTES:
            problems.append(Problem(label, f"file is larger than {MAX_COMMENTARY_BYTES // 1024} KB", fix="shorten it"))
            continue
        try:
            texts[path.stem] = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems.append(Problem(label, "not UTF-8 text", fix="save it as UTF-8"))
            continue
        sources.append(SourceFile(label, texts[path.stem].count("\n") + 1, None, None, hashlib.sha256(data).hexdigest()))
    return texts, sources


def _source(raw: RawTable, frame: pd.DataFrame) -> SourceFile:
    dates = frame["date"] if "date" in frame else frame.get("from")
    first = last = None
    if dates is not None and dates.notna().any():
        first, last = pd.Timestamp(dates.min()).date(), pd.Timestamp(dates.max()).date()
    return SourceFile(raw.label, len(frame), first, last, raw.sha256)


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    """Group problems by file (in the order files were read), then by row."""
    order = {name: index for index, name in reversed(list(enumerate(p.file for p in problems)))}
    return sorted(problems, key=lambda p: (order[p.file], p.row or 0))


def load_inputs(
    inputs_dir: Path,
    period: tuple[date, date] | None = None,
    compare: tuple[date, date] | None = None,
    strict: bool = False,
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
        config = with_overrides(load_config(inputs_dir), period, compare)
    except InputError as exc:
        problems.extend(exc.problems)
        config = None
    raw = _raw_tables(inputs_dir, problems)
    frames = {name: parse_table(spec, raw[name], problems) for spec in TABLES if (name := spec.name) in raw}
    network = frames.get("network")
    if network is not None and not any(p.file == raw["network"].label for p in problems):
        network = _finish_network(network, raw["network"].label, problems, warnings)
    miners = frames.get("miners")
    for name in ("miner_hashrate", "market_caps", "deals"):
        frame = frames.get(name)
        if frame is None:
            continue
        if miners is None:
            if name in raw and "miners" not in raw:
                problems.append(Problem(raw[name].label, "needs miners.csv to say which tickers are tracked",
                                        fix="add miners.csv (ticker, name, exchange, from, to)"))
            continue
        _check_members(frame, raw[name].label, miners, problems, dated=name != "deals")
    if miners is not None:
        _check_membership_dates(miners, raw["miners"].label, problems)
    commentary, commentary_sources = _commentary(inputs_dir, problems)
    if config is not None and network is not None and not problems:
        try:
            config = resolve_windows(config, network["date"].iloc[0].date(), network["date"].iloc[-1].date())
        except InputError as exc:
            problems.extend(exc.problems)
        else:
            problems.extend(_empty_windows(config, network, raw["network"].label))
    if strict:
        problems.extend(warnings)
    if problems:
        raise InputError(_in_file_order(problems))
    assert config is not None and network is not None  # guaranteed when no problem was found
    clean = {name: _typed(frame.drop(columns="_row"), spec) for spec in TABLES
             if (name := spec.name) != "network" and (frame := frames.get(name)) is not None}
    clean["network"] = network.drop(columns="_row")
    deals = clean.get("deals", _typed(pd.DataFrame({c.name: [] for c in DEALS.columns}), DEALS))
    sources = [_source(raw[spec.name], clean[spec.name]) for spec in TABLES if spec.name in clean]
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
        warnings=tuple(warnings),
    )
