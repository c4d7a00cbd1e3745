"""Turn the inputs folder (CSV files or one workbook, brief.yaml, commentary) into the mining brief's validated Inputs.

briefgen.inputs reads the folder (folder.read_tables), the cells (tables.parse_table) and brief.yaml
(config, by MiningBriefModel); what is checked here is the mining contract across tables: each
ticker is a member of miners.csv on the days it is given, membership dates run forwards, the
network table becomes the daily series (series.py) and covers both windows, and nothing dated
after the period's end reaches the brief. Every problem is collected with its file (and sheet),
row and column, then raised at once as one InputError. Rows are numbered as a spreadsheet shows
them: the header is row 1.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from briefgen.errors import InputError, Problem
from briefgen.inputs.commentary import find_commentary, resource_warnings
from briefgen.inputs.config import load_config, resolve_windows, with_overrides
from briefgen.inputs.folder import SourceFile, config_source, cut_after, in_file_order, read_tables, source_file
from briefgen.inputs.tables import MAX_PROBLEMS, parse_table, typed
from briefgen.sectors.bitcoin_mining.contract import DEALS, NETWORK, SHARES, TABLES, MiningBriefModel, MiningConfig
from briefgen.sectors.bitcoin_mining.series import finish_network


@dataclass(frozen=True, eq=False)
class Inputs:
    """The validated inputs. Frames have one column per contract column, dates as datetime64.

    network also carries subsidy_btc (BTC issued that day), height (end-of-day block height) and
    hashrate_ehs derived from difficulty where only difficulty was given.
    """

    config: MiningConfig
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


def check_members(frame: pd.DataFrame, label: str, miners: pd.DataFrame, problems: list[Problem], dated: bool) -> None:
    """Each ticker must be in miners.csv and, where `dated`, inside its membership dates."""
    members = {r["ticker"]: (r["from"], r["to"]) for _, r in miners.iterrows() if not _absent(r["ticker"])}
    tickers = frame["ticker"]
    unknown = tickers.notna() & ~tickers.isin(list(members))
    for _, row in frame[unknown].head(MAX_PROBLEMS).iterrows():
        ticker = row["ticker"]
        close = difflib.get_close_matches(ticker, list(members), n=1)
        fix = f"did you mean {close[0]}?" if close else "add it to miners.csv or remove the row"
        problems.append(
            Problem(label, f"ticker {ticker} is not in miners.csv", row=int(row["_row"]), column="ticker", fix=fix)
        )
    if not dated:
        return
    when = pd.to_datetime(frame["date"])
    start = pd.to_datetime(tickers.map({t: s for t, (s, _) in members.items()}))
    end = pd.to_datetime(tickers.map({t: e for t, (_, e) in members.items()}))
    outside = ~unknown & start.notna() & when.notna() & ((when < start) | (end.notna() & (when > end)))
    for _, row in frame[outside].head(MAX_PROBLEMS).iterrows():
        first, last = members[row["ticker"]]
        span = f"{first} to {last}" if not _absent(last) else f"from {first}"
        problems.append(
            Problem(
                label,
                f"{row['ticker']} was not tracked on {row['date']} (member {span})",
                row=int(row["_row"]),
                column="date",
                fix="fix the date, or the membership dates in miners.csv",
            )
        )


def _check_membership_dates(frame: pd.DataFrame, label: str, problems: list[Problem]) -> None:
    for _, row in frame.iterrows():
        if not _absent(row["from"]) and not _absent(row["to"]) and row["to"] < row["from"]:
            problems.append(
                Problem(
                    label,
                    f"'to' {row['to']} is before 'from' {row['from']}",
                    row=int(row["_row"]),
                    column="to",
                    fix="swap the dates",
                )
            )


def _empty_windows(config: MiningConfig, network: pd.DataFrame, label: str) -> list[Problem]:
    problems = []
    for name, window in (("period", config.period), ("compare", config.compare)):
        assert window is not None  # resolved (resolve_windows) before the windows are checked against the rows
        inside = network["date"].between(pd.Timestamp(window.start), pd.Timestamp(window.end))
        if not inside.any():
            problems.append(
                Problem(
                    label,
                    f"no daily rows inside the {name} window ({window.start} to {window.end})",
                    fix="add those days or move the window",
                )
            )
    return problems


def _network_through(
    parsed: pd.DataFrame, network: pd.DataFrame, warnings: list[Problem], end: date, label: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """The daily series derived from its rows up to the period's end (every row was checked already).

    Estimated block heights count blocks from a halving that may lie after the end, and a gap
    after it is nothing the brief shows: both are worked out again from the rows the brief uses.
    """
    if not (network["date"] > pd.Timestamp(end)).any():
        return network, warnings
    kept = parsed[pd.to_datetime(parsed["date"]) <= pd.Timestamp(end)].copy()
    again: list[Problem] = []
    return finish_network(kept, label, [], again), again  # its problems were found on all rows


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
    config: MiningConfig | None
    try:
        loaded = load_config(inputs_dir, model=MiningBriefModel)
        assert isinstance(loaded, MiningConfig)  # MiningBriefModel.config_class
        config = with_overrides(loaded, period, compare, as_of, labels)
    except InputError as exc:
        problems.extend(exc.problems)
        config = None
    # shares.csv is read only by `briefgen fetch equities`: the folder may hold it.
    raw, given = read_tables(inputs_dir, TABLES, problems, warnings, ignore=(SHARES.file,))
    frames = {
        name: frame
        for spec in TABLES
        if (name := spec.name) in raw and (frame := parse_table(spec, raw[name], problems, warnings)) is not None
    }
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
                problems.append(
                    Problem(
                        raw[name].label,
                        "needs miners.csv to say which tickers are tracked",
                        fix="add miners.csv with the columns ticker,name,exchange,from,to",
                    )
                )
            continue
        check_members(frame, raw[name].label, miners, problems, dated=name != "deals")
    if miners is not None:
        _check_membership_dates(miners, raw["miners"].label, problems)
    commentary, commentary_sources = find_commentary(inputs_dir, problems)
    warnings.extend(resource_warnings(config, TABLES, frames, raw, commentary))
    if config is not None and network is not None and not problems:
        try:
            config = resolve_windows(
                config, network["date"].iloc[0].date(), network["date"].iloc[-1].date(), NETWORK.file
            )
        except InputError as exc:
            problems.extend(exc.problems)
        else:
            assert config.period is not None  # resolve_windows fills every window
            problems.extend(_empty_windows(config, network, raw["network"].label))
            network, series_warnings = _network_through(
                frames["network"], network, series_warnings, config.period.end, raw["network"].label
            )
    warnings.extend(series_warnings)
    if strict:
        problems.extend(warnings)
    if problems:
        raise InputError(in_file_order(problems, TABLES))
    assert (
        config is not None and config.period is not None and network is not None
    )  # guaranteed when no problem was found
    clean = {
        name: typed(frame.drop(columns="_row"), spec)
        for spec in TABLES
        if (name := spec.name) != "network" and (frame := frames.get(name)) is not None
    }
    # Nothing dated after the period's end reaches the brief (a miner whose membership starts later is
    # not yet tracked); the network arrives already cut (_network_through).
    later = cut_after(clean, TABLES, config.period.end)
    clean["network"] = network.drop(columns="_row")
    later["network"] = int((pd.to_datetime(frames["network"]["date"]) > pd.Timestamp(config.period.end)).sum())
    deals = clean.get("deals", typed(pd.DataFrame({c.name: [] for c in DEALS.columns}), DEALS))
    sources = [config_source(inputs_dir)]
    sources += [
        source_file(raw[spec.name], clean[spec.name], spec, later[spec.name]) for spec in TABLES if spec.name in clean
    ]
    return Inputs(
        config=config,
        network=clean["network"],
        miners=clean.get("miners"),
        miner_hashrate=clean.get("miner_hashrate"),
        market_caps=clean.get("market_caps"),
        deals=deals,
        commentary=commentary,
        sources=tuple(sources + commentary_sources),
        warnings=tuple(in_file_order(warnings, TABLES)),
    )
