"""Turn mempool.space's mining endpoints into daily network.csv rows (an estimate; see the README's mempool.space
section).

Three endpoints are combined:

- /api/v1/mining/hashrate/:period -> {"hashrates": [{"timestamp", "avgHashrate" (H/s)}],
  "difficulty": [{"time", "height", "difficulty", "adjustment"}], ...}. mempool indexes each UTC
  day's blocks at the following midnight, so a point stamped midnight covers the day that ends there.
- /api/v1/mining/blocks/fees/:period -> [{"avgHeight", "timestamp", "avgFees" (sats a block), "USD"}],
  averages over buckets of blocks (30 minutes for 1m ... 1 day for all) aligned on UTC midnight.
  The height at each midnight is interpolated between the buckets either side; blocks in a day are
  the difference, and fees are the day's mean avgFees x its blocks.
- /api/v1/historical-price?currency=USD&timestamp=T -> {"prices": [{"time", "USD"}], ...}: the last
  price at or before T; T is the midnight that closes the day, as Coin Metrics' PriceUSD is.

The difficulty of a day is the mean over its blocks of the difficulty in force, from the retargets.
"""

from __future__ import annotations

import bisect
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from briefgen.errors import FetchError, Problem
from briefgen.fetch.http import JsonClient, short
from briefgen.fetch.rows import FetchedRow, Progress, SourceResult, cell_text, no_progress, plain

NAME = "mempool"
DEFAULT_BASE_URL = "https://mempool.space"
DAY_S = 86_400
# (period, days it safely covers, seconds per fee bucket as mempool's backend groups them)
PERIODS = (
    ("1m", 27, 1_800),
    ("3m", 88, 7_200),
    ("6m", 180, 10_800),
    ("1y", 364, 28_800),
    ("2y", 729, 28_800),
    ("3y", 1_094, 43_200),
)
ALL = ("all", None, DAY_S)
MAX_GAP_S = 2 * DAY_S  # no interpolation across a hole in the fee series longer than this
STALE_PRICE_S = DAY_S
MAX_PRICE_REQUESTS = 400  # one request a day: be gentle with a free public API


def period_for(since: date, today: date) -> tuple[str, int]:
    """The shortest mempool period reaching back to `since` (finer fee buckets), and its bucket seconds."""
    needed = (today - since).days + 1
    for name, days, bucket in PERIODS:
        if needed <= days:
            return name, bucket
    return ALL[0], ALL[2]


def midnight(day: date) -> int:
    """Unix time of 00:00 UTC starting `day`."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _utc_day(ts: float) -> date:
    return datetime.fromtimestamp(ts, tz=UTC).date()


def fetch(client: JsonClient, since: date, today: date, progress: Progress = no_progress) -> SourceResult:
    """Every complete UTC day from `since` up to yesterday that mempool has all the figures for."""
    period, bucket_s = period_for(since, today)
    hash_url = client.url(f"/api/v1/mining/hashrate/{period}")
    hashrates, retargets = _hashrate(client.get(hash_url), hash_url)
    progress(1, None, f"{NAME}: hashrate")
    fee_url = client.url(f"/api/v1/mining/blocks/fees/{period}")
    fees = _fees(client.get(fee_url), fee_url)
    progress(2, None, f"{NAME}: fees")

    fee_times = [ts for ts, _, _ in fees]
    skipped: dict[date, str] = {}
    drafts: list[tuple[date, dict[str, str]]] = []
    day = since
    while day < today:
        start, end = midnight(day), midnight(day + timedelta(days=1))
        first, last = _height_at(fees, fee_times, start), _height_at(fees, fee_times, end)
        in_day = fees[bisect.bisect_left(fee_times, start) : bisect.bisect_left(fee_times, end)]
        checks = (
            ("daily hashrate", day in hashrates),
            ("block heights", None not in (first, last)),
            ("fee averages", bool(in_day)),
        )
        missing = [what for what, ok in checks if not ok]
        if missing:
            skipped[day] = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} or {missing[-1]}"
        else:
            assert first is not None and last is not None
            blocks = last - first
            fee_sats = sum(avg for _, _, avg in in_day) / len(in_day) * blocks
            mean_hashrate = sum(hashrates[day]) / len(hashrates[day])
            cells = {
                "hashrate_ehs": plain(Decimal(repr(mean_hashrate)).scaleb(-18), places=6),
                "blocks": str(blocks),
                "fees_btc": plain(Decimal(round(fee_sats)).scaleb(-8)),
                "difficulty": _difficulty(retargets, first + 1, last),
            }
            drafts.append((day, cells))
        day += timedelta(days=1)

    if len(drafts) > MAX_PRICE_REQUESTS:
        raise FetchError(
            f"{NAME}: {len(drafts)} days would take one price request each; fetch at most "
            f"{MAX_PRICE_REQUESTS} days at a time with --since, or use --source coinmetrics"
        )
    rows: list[FetchedRow] = []
    warnings: list[Problem] = []
    total = 2 + len(drafts)
    for done, (day, cells) in enumerate(drafts, start=3):
        close = midnight(day + timedelta(days=1))
        price_url = client.url("/api/v1/historical-price", {"currency": "USD", "timestamp": str(close)})
        price = _price(client.get(price_url), price_url)
        progress(done, total, f"{NAME}: price {day}")
        if price is None or price[1] <= 0:
            skipped[day] = "USD price"
            continue
        if close - price[0] > STALE_PRICE_S:
            warnings.append(
                Problem(
                    f"{NAME} {day}",
                    f"the closing price is from {_utc_day(price[0])}, more than a day before the day ends",
                )
            )
        rows.append(FetchedRow(day, {"btc_price_usd": cell_text(price[1]), **cells}))
    hours = f"{bucket_s / 3600:g}-hour" if bucket_s < DAY_S else "daily"
    notes = [
        Problem(
            NAME,
            f"blocks and fees per day are estimated from {hours} fee averages (period {period}); "
            "Coin Metrics has exact daily counts",
            fix="see the README's mempool.space section",
        )
    ]
    notes += [Problem(f"{NAME} {span}", f"skipped: mempool has no {reason} for it") for span, reason in _runs(skipped)]
    return SourceResult(NAME, tuple(rows), tuple(notes), tuple(warnings))


def _number(item: Any, key: str, where: str) -> float:
    if not isinstance(item, dict):
        raise FetchError(f"{where} is not an object")
    if key not in item:
        raise FetchError(f"{where} has no '{key}' field")
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FetchError(f"{where}: '{key}' is not a number: {str(value)[:40]!r}")
    return float(value)


def _hashrate(body: Any, url: str) -> tuple[dict[date, list[float]], list[tuple[int, float, float]]]:
    """Daily hashrates by the UTC day they cover, and retargets as (height, difficulty, adjustment)."""
    if not isinstance(body, dict) or not isinstance(body.get("hashrates"), list):
        raise FetchError(f"{NAME}: {short(url)} sent no 'hashrates' list (is the base URL a mempool.space API?)")
    if not isinstance(body.get("difficulty"), list):
        raise FetchError(f"{NAME}: {short(url)} sent no 'difficulty' list")
    daily: dict[date, list[float]] = {}
    for index, point in enumerate(body["hashrates"], start=1):
        where = f"{NAME}: {short(url)} hashrates item {index}"
        stamp, value = _number(point, "timestamp", where), _number(point, "avgHashrate", where)
        # stamped at the midnight closing the day it covers (half a day back lands inside that day)
        daily.setdefault(_utc_day(stamp - DAY_S / 2), []).append(value)
    retargets = []
    for index, item in enumerate(body["difficulty"], start=1):
        where = f"{NAME}: {short(url)} difficulty item {index}"
        retargets.append(
            (
                int(_number(item, "height", where)),
                _number(item, "difficulty", where),
                _number(item, "adjustment", where),
            )
        )
    return daily, sorted(retargets)


def _fees(body: Any, url: str) -> list[tuple[float, float, float]]:
    """Fee buckets as (timestamp, average height, average fees in sats), heights never decreasing."""
    if not isinstance(body, list):
        raise FetchError(f"{NAME}: {short(url)} did not send a list of fee averages")
    points = []
    for index, point in enumerate(body, start=1):
        where = f"{NAME}: {short(url)} item {index}"
        points.append(
            (_number(point, "timestamp", where), _number(point, "avgHeight", where), _number(point, "avgFees", where))
        )
    points.sort()
    result, highest = [], -math.inf
    for stamp, height, fees in points:
        highest = max(highest, height)  # miners' clocks wander; the chain's height does not go back
        result.append((stamp, highest, fees))
    return result


def _height_at(fees: list[tuple[float, float, float]], times: list[float], moment: int) -> int | None:
    """The chain's height at `moment`, interpolated between the fee buckets either side of it."""
    after = bisect.bisect_right(times, moment)
    if after == 0 or after == len(fees):
        return None
    (t0, h0, _), (t1, h1, _) = fees[after - 1], fees[after]
    if t1 - t0 > MAX_GAP_S:
        return None
    return round(h0 + (h1 - h0) * (moment - t0) / (t1 - t0))


def _difficulty(retargets: list[tuple[int, float, float]], first: int, last: int) -> str:
    """Mean difficulty over blocks first..last; blank when no retarget tells what was in force."""
    if not retargets or last < first:
        return ""
    heights = [height for height, _, _ in retargets]

    def in_force(height: int) -> float | None:
        index = bisect.bisect_right(heights, height) - 1
        if index >= 0:
            return retargets[index][1]
        _, difficulty, adjustment = retargets[0]  # before the first retarget listed: undo its adjustment
        return difficulty / adjustment if adjustment > 0 else None

    total, height = 0.0, first
    while height <= last:
        value = in_force(height)
        if value is None:
            return ""
        following = bisect.bisect_right(heights, height)
        stop = min(last, heights[following] - 1) if following < len(heights) else last
        total += (stop - height + 1) * value
        height = stop + 1
    return plain(total / (last - first + 1), places=0)


def _price(body: Any, url: str) -> tuple[float, float] | None:
    """(time, USD) of the price mempool gives for a moment, or None when it has none."""
    if not isinstance(body, dict) or not isinstance(body.get("prices"), list):
        raise FetchError(f"{NAME}: {short(url)} sent no 'prices' list")
    if not body["prices"]:
        return None
    where = f"{NAME}: {short(url)} prices item 1"
    return _number(body["prices"][0], "time", where), _number(body["prices"][0], "USD", where)


def _runs(days: dict[date, str]) -> list[tuple[str, str]]:
    """Group consecutive days with the same reason: [("2025-03-01 to 2025-03-04", reason), ...]."""
    runs: list[tuple[date, date, str]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + timedelta(days=1) == day and runs[-1][2] == days[day]:
            runs[-1] = (runs[-1][0], day, days[day])
        else:
            runs.append((day, day, days[day]))
    return [(f"{a}" if a == b else f"{a} to {b}", reason) for a, b, reason in runs]
