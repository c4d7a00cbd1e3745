"""Turn a refresh request (inputs folder, source, first day, base URL) into a checked plan for network.csv.

Fetching is a separate, explicit step: nothing in `build`, `check` or `metrics` imports this
package. The plan is computed completely (every request made, every value checked, the merge
done in memory) before anything is written, so an unreachable source or one bad value leaves
network.csv exactly as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from briefgen.errors import FetchError, InputError, Problem
from briefgen.fetch.http import HttpPolicy, JsonClient
from briefgen.fetch.merge import RefreshPlan, fetch_window, plan_merge, read_existing, refuse_workbook_table
from briefgen.fetch.rows import Progress, Target, no_progress, validate
from briefgen.sectors.bitcoin_mining.contract import NETWORK
from briefgen.sectors.bitcoin_mining.fetch import coinmetrics, mempool

# The contract columns a source may fill, in network.csv order.
VALUE_COLUMNS = ("btc_price_usd", "hashrate_ehs", "blocks", "fees_btc", "difficulty")
# Difficulty from Coin Metrics is derived (from HashRate and BlkCnt), so it only agrees to about seven
# digits; the block height is the running total of the day's blocks.
NETWORK_TARGET = Target(
    NETWORK,
    VALUE_COLUMNS,
    ("date", "btc_price_usd", "hashrate_ehs", "blocks", "fees_btc"),
    (("difficulty", 1e-6),),
    running=("height", "blocks"),
)
SOURCES = {coinmetrics.NAME: coinmetrics.DEFAULT_BASE_URL, mempool.NAME: mempool.DEFAULT_BASE_URL}
# Without --since, the last two weeks already in network.csv are fetched again: the days most likely
# typed by hand, or revised at the source, show up as changes.


def plan_network_refresh(
    inputs_dir: Path,
    source: str = coinmetrics.NAME,
    since: date | None = None,
    base_url: str | None = None,
    *,
    today: date | None = None,
    policy: HttpPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress = no_progress,
    page_size: int = coinmetrics.PAGE_SIZE,
) -> RefreshPlan:
    """Fetch daily network figures from `source` and merge them, in memory, with inputs/network.csv."""
    if source not in SOURCES:
        raise FetchError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
    inputs_dir = Path(inputs_dir)
    if not inputs_dir.is_dir():
        raise InputError([Problem(str(inputs_dir), "inputs folder not found", fix="pass --inputs DIR")])
    refuse_workbook_table(inputs_dir, NETWORK)
    path = inputs_dir / NETWORK.file
    existing = read_existing(path, NETWORK)
    since, today = fetch_window(existing, path, since, today)
    client = JsonClient(source, base_url or SOURCES[source], policy, sleep)
    try:
        if source == coinmetrics.NAME:
            result = coinmetrics.fetch(client, since, today, progress, page_size=page_size)
        else:
            result = mempool.fetch(client, since, today, progress)
    except FetchError as exc:
        raise FetchError(f"{exc}\n{path} was not changed.") from None
    if not result.rows:
        return RefreshPlan(path, source, (), (), (), 0, existing.data, None, result.notes, result.warnings)
    fetched = validate(result, NETWORK_TARGET)
    return plan_merge(path, existing, result, fetched, NETWORK_TARGET)
