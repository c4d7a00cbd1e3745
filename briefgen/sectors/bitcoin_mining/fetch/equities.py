"""Turn a refresh request (inputs folder, tickers, first day) into a checked plan for market_caps.csv.

A market cap is the desk's: shares outstanding x the day's close. Shares come from SEC EDGAR (the
cover-page count of each filing, known from the day it was filed) or from the desk's
inputs/shares.csv, whichever is the more recent on the day (the desk's row wins a tie); closes come
from Stooq. Each ticker is fetched and checked on its own: one that fails is reported with its
reason and the others are kept. Only days a ticker is a member (miners.csv) are written. The plan
is computed completely before anything is written, and market_caps.csv is left alone when nothing
valid came back.
"""

from __future__ import annotations

import dataclasses
import difflib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd

from briefgen.errors import FetchError, InputError, Problem
from briefgen.fetch.http import HttpPolicy, JsonClient
from briefgen.fetch.merge import RefreshPlan, day_ranges, fetch_window, plan_merge, read_existing, refuse_workbook_table
from briefgen.fetch.rows import FetchedRow, Progress, SourceResult, Target, check_rows, no_progress, plain, validate
from briefgen.inputs.config import load_config
from briefgen.inputs.rawtables import WORKBOOK, read_csv_bytes, read_workbook
from briefgen.inputs.tables import TableSpec, parse_table
from briefgen.sectors.bitcoin_mining.contract import MARKET_CAPS, MINERS, SHARES, MiningBriefModel
from briefgen.sectors.bitcoin_mining.fetch import sec, stooq
from briefgen.sectors.bitcoin_mining.inputs import check_members

SOURCE = "sec+stooq"
DEADLINE_S = 600.0  # the whole run; tickers not reached by then fail with that reason
SPLIT_RATIO = 1.5  # a share count moving by this factor or more between two days is worth a warning
MAX_GAP_WARNINGS = 5
TARGET = Target(
    MARKET_CAPS,
    ("market_cap_usd", "shares_outstanding", "close_usd"),
    ("date", "ticker", "market_cap_usd", "shares_outstanding", "close_usd"),
)


@dataclass(frozen=True)
class TickerResult:
    """One ticker's outcome: rows merged, where its share counts came from, or why it failed."""

    ticker: str
    rows: int = 0
    shares_from: tuple[str, ...] = ()  # 'sec 10-Q filed 2025-07-29', 'shares.csv 2025-06-30', in order of use
    error: str | None = None

    def __str__(self) -> str:
        if self.error:
            return f"{self.ticker}: FAILED: {self.error}"
        if not self.rows:
            return f"{self.ticker}: no day to merge"
        return (
            f"{self.ticker}: {self.rows} day{'s' if self.rows != 1 else ''}, shares from "
            f"{'; '.join(self.shares_from)}, closes from {stooq.NAME}"
        )


@dataclass(frozen=True)
class EquitiesPlan:
    """The refresh plan for market_caps.csv and what happened to each ticker."""

    plan: RefreshPlan
    tickers: tuple[TickerResult, ...]
    user_agent: str = ""  # what the SEC was told

    @property
    def failures(self) -> tuple[TickerResult, ...]:
        return tuple(t for t in self.tickers if t.error)


@dataclass(frozen=True)
class _DeskShares:
    day: date
    shares: int


@dataclass
class _Ticker:
    """What is gathered for one ticker while the plan is made."""

    name: str
    facts: tuple[sec.ShareFact, ...] | None = None
    rows: list[FetchedRow] = field(default_factory=list)
    used: list[str] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def plan_equities_refresh(
    inputs_dir: Path,
    since: date | None = None,
    tickers: tuple[str, ...] | None = None,
    *,
    sec_base_url: str | None = None,
    prices_base_url: str | None = None,
    contact: str | None = None,
    stooq_apikey: str | None = None,
    today: date | None = None,
    policy: HttpPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    progress: Progress = no_progress,
    deadline_s: float = DEADLINE_S,
) -> EquitiesPlan:
    """Fetch share counts and closes for each member ticker and merge the market caps with market_caps.csv."""
    inputs_dir = Path(inputs_dir)
    if not inputs_dir.is_dir():
        raise InputError([Problem(str(inputs_dir), "inputs folder not found", fix="pass --inputs DIR")])
    refuse_workbook_table(inputs_dir, MARKET_CAPS)
    config = load_config(inputs_dir, model=MiningBriefModel)
    address = (contact or next((a.email for a in config.analysts if a.email), "")).strip()
    if not address:
        raise FetchError(
            "sec: the SEC asks every automated client to declare a contact address and none was "
            "given: pass --contact you@yourfirm.com, or give the first analyst an email in brief.yaml"
        )
    agent = sec.user_agent(config.house, address)
    miners = _table(inputs_dir, MINERS)
    if miners is None:
        raise FetchError(
            f"fetch equities writes only member tickers, and {inputs_dir / MINERS.file} is missing: "
            "add miners.csv (ticker,name,exchange,from,to) first"
        )
    path = inputs_dir / MARKET_CAPS.file
    existing = read_existing(path, MARKET_CAPS)
    since, today = fetch_window(existing, path, since, today)
    until = today - timedelta(days=1)
    spans = {
        r["ticker"]: (r["from"], r["to"] if isinstance(r["to"], date) else None) for r in miners.to_dict("records")
    }
    names = _tickers(tickers, spans, since, until)
    desk = _desk_shares(inputs_dir, miners)

    policy = policy or HttpPolicy()
    paced = dataclasses.replace(policy, min_interval_s=max(policy.min_interval_s, sec.SEC_INTERVAL_S))
    files = JsonClient(sec.NAME, sec_base_url or sec.FILES_URL, paced, sleep, user_agent=agent, clock=clock)
    api = JsonClient(sec.NAME, sec_base_url or sec.API_URL, paced, sleep, user_agent=agent, clock=clock)
    prices = JsonClient(stooq.NAME, prices_base_url or stooq.DEFAULT_BASE_URL, policy, sleep, clock=clock)
    started = clock()
    try:
        ciks = sec.ticker_map(files)
    except FetchError as exc:
        raise FetchError(f"{exc}\nNo ticker was fetched; {path} was not changed.") from None
    sleep(sec.SEC_INTERVAL_S)  # the two SEC hosts count as one user against the 10-a-second limit

    gathered: list[_Ticker] = []
    results: dict[str, TickerResult] = {}
    for done, name in enumerate(names, start=1):
        progress(done - 1, len(names), f"equities: {name}")
        if clock() - started > deadline_s:
            results[name] = TickerResult(
                name,
                error=f"not fetched: the run's deadline of {deadline_s:,.0f} s passed "
                "first; fetch it again with --tickers",
            )
            continue
        item = _Ticker(name)
        try:
            _gather(item, ciks, api, prices, desk.get(name, []), spans[name], since, until, today, stooq_apikey)
        except FetchError as exc:
            results[name] = TickerResult(name, error=str(exc))
        else:
            frame, problems = check_rows(SourceResult(SOURCE, tuple(item.rows)), TARGET)
            if problems or frame is None:
                shown = "; ".join(str(p) for p in problems[:3]) + (
                    f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
                )
                results[name] = TickerResult(name, error=f"unusable values, nothing merged for it: {shown}")
            else:
                gathered.append(item)
                results[name] = TickerResult(name, len(item.rows), tuple(item.used))
    progress(len(names), len(names), "equities: done")
    ordered = tuple(results[name] for name in names)
    failures = [t for t in ordered if t.error]
    rows = tuple(row for item in gathered for row in item.rows)
    if failures and not rows:
        lines = "\n".join(f"  - {t.ticker}: {t.error}" for t in failures)
        raise FetchError(f"no ticker gave a usable market cap:\n{lines}\n{path} was not changed.")
    notes = tuple(n for item in gathered for n in item.notes)
    warnings = tuple(w for item in gathered for w in item.warnings) + _gaps(gathered, spans)
    result = SourceResult(SOURCE, rows, notes, warnings)
    if not rows:
        empty = RefreshPlan(path, SOURCE, (), (), (), 0, existing.data, None, notes, warnings, keyed=True)
        return EquitiesPlan(empty, ordered, agent)
    return EquitiesPlan(plan_merge(path, existing, result, validate(result, TARGET), TARGET), ordered, agent)


def _gather(
    item: _Ticker,
    ciks: dict[str, int],
    api: JsonClient,
    prices: JsonClient,
    desk: list[_DeskShares],
    span: tuple[date, date | None],
    since: date,
    until: date,
    today: date,
    apikey: str | None,
) -> None:
    """Share counts and closes for one ticker, turned into market-cap rows for the days it is a member."""
    cik = ciks.get(item.name)
    item.facts = sec.share_facts(api, cik) if cik is not None else None
    if not item.facts and not desk:
        why = (
            "is not in the SEC's ticker map"
            if cik is None
            else f"(CIK {cik}) has no {sec.CONCEPT} on the SEC (a 20-F / 6-K filer?)"
        )
        raise FetchError(
            f"no share count: {item.name} {why}, and inputs/{SHARES.file} has no row for it; add its "
            f"shares outstanding there ({','.join(c.name for c in SHARES.columns)})"
        )
    if not item.facts:
        where = "is not in the SEC's ticker map" if cik is None else f"has no {sec.CONCEPT} on the SEC"
        item.notes.append(Problem(f"{SOURCE} {item.name}", f"{where}: share counts from {SHARES.file} only"))
    closes = stooq.closes(prices, item.name, since, until, apikey)
    first, last = span
    before: tuple[int, str] | None = None
    unknown: list[date] = []
    for day in sorted(closes):
        if not since <= day < today or day < first or (last is not None and day > last):
            continue  # not asked for, not over, or not a member that day: never written
        known = _shares_on(item.facts or (), desk, day)
        if known is None:
            unknown.append(day)
            continue
        shares, origin = known
        if origin not in item.used:
            item.used.append(origin)
        if before is not None and max(shares, before[0]) >= SPLIT_RATIO * min(shares, before[0]):
            item.warnings.append(
                Problem(
                    f"{SOURCE} {item.name} {day}",
                    f"shares outstanding go from {before[0]:,} ({before[1]}) to {shares:,} ({origin})",
                    fix="a split or a large issue? "
                    "Stooq adjusts past closes for splits, filings do not adjust past counts: "
                    "check the caps either side",
                )
            )
        before = (shares, origin)
        close = closes[day]
        cap = (Decimal(shares) * Decimal(close)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        cells = {
            "ticker": item.name,
            "market_cap_usd": plain(cap),
            "shares_outstanding": str(shares),
            "close_usd": close,
        }
        item.rows.append(FetchedRow(day, cells, f"{origin} + {stooq.NAME}"))
    if unknown:
        item.notes.append(
            Problem(
                f"{SOURCE} {item.name}",
                f"skipped {day_ranges(unknown)}: no share count filed on or before",
                fix=f"add a row to {SHARES.file} dated on or before the first day",
            )
        )


def _shares_on(facts: tuple[sec.ShareFact, ...], desk: list[_DeskShares], day: date) -> tuple[int, str] | None:
    """The latest share count known on `day`, from the SEC's filings or the desk's shares.csv (the desk wins a tie)."""
    filed = sec.known_on(facts, day)
    mine = next((d for d in reversed(desk) if d.day <= day), None)
    if mine is not None and (filed is None or mine.day >= filed.filed):
        return mine.shares, f"{SHARES.file} {mine.day}"
    if filed is not None:
        return filed.shares, f"{sec.NAME} {filed.described}"
    return None


def _gaps(gathered: list[_Ticker], spans: dict[str, tuple[date, date | None]]) -> tuple[Problem, ...]:
    """A member with no close on a day others traded: a gap. A day nobody traded is a holiday, not a gap."""
    traded = {row.day for item in gathered for row in item.rows}
    found: list[Problem] = []
    for item in gathered:
        first, last = spans[item.name]
        days = {row.day for row in item.rows}
        if not days:
            continue
        missing = sorted(
            d
            for d in traded
            if d not in days and first <= d and (last is None or d <= last) and min(days) <= d <= max(days)
        )
        if missing:
            found.append(
                Problem(
                    f"{SOURCE} {item.name}",
                    f"no close on {day_ranges(missing)}, when other tickers traded",
                    fix="the brief uses the last close before; check for a trading halt",
                )
            )
    return tuple(found[:MAX_GAP_WARNINGS])


def _tickers(
    asked: tuple[str, ...] | None, spans: dict[str, tuple[date, date | None]], since: date, until: date
) -> list[str]:
    """The tickers to fetch: those asked for (each must be in miners.csv), else every member in the period."""
    if asked:
        names = list(dict.fromkeys(t.strip().upper() for t in asked if t.strip()))
        unknown = [t for t in names if t not in spans]
        if unknown:
            close = difflib.get_close_matches(unknown[0], list(spans), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise FetchError(
                f"--tickers: {', '.join(unknown)} not in miners.csv{hint}; fetch equities writes only tracked tickers"
            )
        return names
    return [t for t, (first, last) in spans.items() if first <= until and (last is None or last >= since)]


def _table(inputs_dir: Path, spec: TableSpec) -> pd.DataFrame | None:
    """A table from its CSV file or its sheet of brief.xlsx, checked against its contract; None when absent."""
    path, workbook = inputs_dir / spec.file, inputs_dir / WORKBOOK
    if path.is_file():
        raw = read_csv_bytes(path.read_bytes(), spec.file)
    elif workbook.is_file() and spec.name in (sheets := read_workbook(workbook)):
        raw = sheets[spec.name]
    else:
        return None
    problems: list[Problem] = []
    frame = parse_table(spec, raw, problems)
    if problems or frame is None:
        raise InputError(
            [*problems, Problem(raw.label, "nothing was fetched", fix="fix the file first, then fetch again")]
        )
    frame.attrs["label"] = raw.label
    return frame


def _desk_shares(inputs_dir: Path, miners: pd.DataFrame) -> dict[str, list[_DeskShares]]:
    """inputs/shares.csv by ticker, oldest first, checked like every input (and each ticker in miners.csv)."""
    frame = _table(inputs_dir, SHARES)
    if frame is None:
        return {}
    problems: list[Problem] = []
    check_members(frame, frame.attrs["label"], miners, problems, dated=False)  # the loader's own check
    if problems:
        raise InputError(
            [
                *problems,
                Problem(frame.attrs["label"], "nothing was fetched", fix="fix the file first, then fetch again"),
            ]
        )
    found: dict[str, list[_DeskShares]] = {}
    for record in frame.sort_values("date", kind="stable").to_dict("records"):
        found.setdefault(record["ticker"], []).append(_DeskShares(record["date"], int(record["shares_outstanding"])))
    return found
