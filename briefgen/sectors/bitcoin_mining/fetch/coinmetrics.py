"""Turn the Coin Metrics community API's daily BTC metrics into network.csv rows.

GET /v4/timeseries/asset-metrics?assets=btc&metrics=...&frequency=1d&start_time=...&page_size=...
answers {"data": [{"asset": "btc", "time": "2024-04-01T00:00:00.000000000Z", "PriceUSD": "69791.63",
"HashRate": "619839819.5", "BlkCnt": "150", "FeeTotNtv": "27.14", "IssTotNtv": "937.5"}, ...],
"next_page_url": "..."}; pages are followed until one comes without next_page_url. Values are
strings; HashRate is in TH/s. A metric Coin Metrics has not filled yet (the current day) is absent
or null, and that day is skipped with a note.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from briefgen.errors import FetchError, Problem
from briefgen.fetch.http import JsonClient, short
from briefgen.fetch.rows import FetchedRow, Progress, SourceResult, cell_text, decimal_or_none, no_progress, plain
from briefgen.sectors.bitcoin_mining.contract import NETWORK
from briefgen.sectors.bitcoin_mining.schedule import HALVING_DATES, subsidy_on

NAME = "coinmetrics"
DEFAULT_BASE_URL = "https://community-api.coinmetrics.io"
PATH = "/v4/timeseries/asset-metrics"
METRICS = ("PriceUSD", "HashRate", "BlkCnt", "FeeTotNtv", "IssTotNtv")
NEEDED = {"PriceUSD": "btc_price_usd", "HashRate": "hashrate_ehs", "BlkCnt": "blocks", "FeeTotNtv": "fees_btc"}
PAGE_SIZE = 1_000  # the community API allows up to 10,000; 1,000 keeps each answer small
LICENCE = "CC BY-NC 4.0"
ATTRIBUTION = "Source: Coin Metrics Community Data"
_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T00:00:00(\.0+)?Z$")
_HASHES_PER_DIFFICULTY = Decimal(2) ** 32
MAX_ISSUANCE_WARNINGS = 5
_DIFFICULTY = NETWORK.column("difficulty")


def fetch(
    client: JsonClient, since: date, today: date, progress: Progress = no_progress, page_size: int = PAGE_SIZE
) -> SourceResult:
    """Every complete UTC day from `since` up to yesterday, following next_page_url page by page."""
    url: str | None = client.url(
        PATH,
        {
            "assets": "btc",
            "metrics": ",".join(METRICS),
            "frequency": "1d",
            "start_time": since.isoformat(),
            "page_size": str(page_size),
        },
    )
    expected_pages = max(1, -(-((today - since).days + 1) // page_size))
    visited: set[str] = set()
    records: list[tuple[int, int, dict[str, Any]]] = []
    page = 0
    while url is not None:
        if url in visited:
            raise FetchError(f"{NAME}: {short(url)} sends us back to a page already read; stopping")
        if page >= client.policy.max_pages:
            raise FetchError(f"{NAME}: more than {client.policy.max_pages} pages; fetch a shorter period with --since")
        visited.add(url)
        body = client.get(url)
        page += 1
        data, next_url = _page(body, url)
        records.extend((page, index, record) for index, record in enumerate(data, start=1))
        progress(page, max(expected_pages, page + (next_url is not None)), f"{NAME}: page {page}")
        url = client.same_origin(next_url, url) if next_url is not None else None
    return _rows(records, since, today)


def _page(body: Any, url: str) -> tuple[list[Any], Any]:
    if not isinstance(body, dict):
        raise FetchError(f"{NAME}: {short(url)} did not send a JSON object (is the base URL a Coin Metrics API?)")
    if "error" in body and "data" not in body:
        error = body["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise FetchError(f"{NAME}: {short(url)} answered with an error: {str(message)[:200]}")
    data = body.get("data")
    if not isinstance(data, list):
        raise FetchError(f"{NAME}: {short(url)} sent no 'data' list (is the base URL a Coin Metrics API?)")
    return data, body.get("next_page_url")


def _rows(records: list[tuple[int, int, dict[str, Any]]], since: date, today: date) -> SourceResult:
    rows: list[FetchedRow] = []
    notes: list[Problem] = []
    disagreements: list[tuple[date, Problem]] = []
    for page, index, record in records:
        where = f"{NAME}: page {page}, item {index}"
        if not isinstance(record, dict):
            raise FetchError(f"{where} is not an object")
        asset = record.get("asset", "btc")
        if asset != "btc":
            raise FetchError(f"{where} is for asset {str(asset)[:20]!r}, not btc")
        day = _day(record.get("time"), where)
        if day < since:
            continue
        if day >= today:
            notes.append(Problem(f"{NAME} {day}", "skipped: the day is not over yet"))
            continue
        missing = [metric for metric in NEEDED if record.get(metric) is None or str(record.get(metric)).strip() == ""]
        if missing:
            notes.append(
                Problem(
                    f"{NAME} {day}",
                    f"skipped: no {', '.join(missing)} yet",
                    fix="Coin Metrics fills a day in once it is complete; fetch again later",
                )
            )
            continue
        rows.append(FetchedRow(day, _cells(record)))
        disagreement = _issuance_check(day, record)
        if disagreement:
            disagreements.append((day, disagreement))
    warnings = [problem for _, problem in disagreements[:MAX_ISSUANCE_WARNINGS]]
    if len(disagreements) > MAX_ISSUANCE_WARNINGS:
        rest = disagreements[MAX_ISSUANCE_WARNINGS:]
        warnings.append(
            Problem(
                NAME,
                f"IssTotNtv disagrees with the halving schedule on {len(rest)} more day(s), "
                f"{rest[0][0]} to {rest[-1][0]}",
            )
        )
    return SourceResult(NAME, tuple(rows), tuple(notes), tuple(warnings))


def _day(raw: Any, where: str) -> date:
    if raw is None:
        raise FetchError(f"{where} has no 'time' field")
    match = _TIME.match(raw) if isinstance(raw, str) else None
    if not match:
        raise FetchError(
            f"{where}: 'time' {str(raw)[:40]!r} is not a UTC midnight such as 2024-04-01T00:00:00.000000000Z"
        )
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        raise FetchError(f"{where}: 'time' {raw!r} is not a real date") from None


def _cells(record: dict[str, Any]) -> dict[str, str]:
    """PriceUSD, BlkCnt and FeeTotNtv as sent; HashRate TH/s -> EH/s; difficulty implied from both."""
    hashrate_ths = decimal_or_none(record["HashRate"])
    blocks = decimal_or_none(record["BlkCnt"])
    cells = {column: cell_text(record[metric]) for metric, column in NEEDED.items()}
    if hashrate_ths is not None:
        cells["hashrate_ehs"] = plain(hashrate_ths.scaleb(-6))  # 1 EH/s = 1e6 TH/s, exactly
    if hashrate_ths is not None and blocks is not None and blocks > 0 and hashrate_ths > 0 and blocks == int(blocks):
        # Coin Metrics derives HashRate from the day's blocks and their difficulty; inverting it gives
        # the mean difficulty of the day's blocks (the data README's difficulty_implied).
        implied = hashrate_ths * Decimal(10) ** 12 * 86_400 / (blocks * _HASHES_PER_DIFFICULTY)
        low, high = _DIFFICULTY.minimum, _DIFFICULTY.maximum
        if low is not None and high is not None and low <= implied <= high:
            cells["difficulty"] = plain(implied, places=0)
        # else: left blank, the checks name the HashRate or BlkCnt it would come from
    return cells


def _issuance_check(day: date, record: dict[str, Any]) -> Problem | None:
    """Warn when IssTotNtv / BlkCnt is not the schedule's subsidy, except around a halving day.

    Coin Metrics splits a halving across its UTC days (2024-04-19 holds 4 blocks at 3.125 BTC), so
    the day before and the day of a halving are expected to disagree.
    """
    issued, blocks = decimal_or_none(record.get("IssTotNtv")), decimal_or_none(record.get("BlkCnt"))
    if issued is None or blocks is None or blocks <= 0:
        return None
    if any(abs((day - halving).days) <= 1 for _, halving in HALVING_DATES):
        return None
    per_block = float(issued / blocks)
    expected = subsidy_on(day)
    if abs(per_block - expected) <= 1e-6 * expected:
        return None
    return Problem(
        f"{NAME} {day}",
        f"IssTotNtv {plain(issued)} BTC over {plain(blocks)} blocks is {per_block:.6g} BTC "
        f"a block, but the halving schedule says {expected:g}",
        fix="briefgen takes the subsidy from the schedule; if a halving has happened, "
        "add it to briefgen/sectors/bitcoin_mining/schedule.py",
    )
