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

from briefgen.inputs.config import CONFIG_FILE as CONFIG_NAME
from briefgen.inputs.config import BriefConfig, load_config, resolve_windows, with_overrides
from briefgen.inputs.commentary import (
    COMMENTARY_DIR,
    RESOURCE_FIX,
    SourceFile,
    commentary_warnings,
    find_commentary,
    resources,
)
from briefgen.errors import InputError, Problem
# Callers (fetch, tests) import the contract and the readers from here, as before they had modules of their own.
from briefgen.inputs.rawtables import WORKBOOK, RawTable, read_csv_bytes, read_workbook  # noqa: F401
from briefgen.sectors.bitcoin_mining.series import finish_network
from briefgen.inputs.tables import (  # noqa: F401
    DEALS,
    MARKET_CAPS,
    MAX_PROBLEMS,
    MINER_HASHRATE,
    MINERS,
    NETWORK,
    SHARES,
    SHARES_OUTSTANDING,
    TABLES,
    TableSpec,
    parse_table,
    typed,
)


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
    known = {spec.file for spec in TABLES} | {spec.name for spec in TABLES} | {CONFIG_NAME, WORKBOOK, COMMENTARY_DIR,
                                                                           SHARES.file}
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
    return finish_network(kept, label, [], again), again  # its problems were found on all rows


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
        network = finish_network(network, raw["network"].label, problems, series_warnings)
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
    clean = {name: typed(frame.drop(columns="_row"), spec) for spec in TABLES
             if (name := spec.name) != "network" and (frame := frames.get(name)) is not None}
    clean["network"] = network.drop(columns="_row")
    later = _through(clean, frames["network"], config.period.end)
    deals = clean.get("deals", typed(pd.DataFrame({c.name: [] for c in DEALS.columns}), DEALS))
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
