"""Turn SectorMetrics into the brief's words: a draft headline and five key takeaways.

Drafts only: every number comes from the metrics and is printed through briefgen.formatting, so
the words and the tables never disagree. Missing miners, equities or deals drop their sentence and
the next most useful figure takes its place.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any, TypeGuard

from briefgen.formatting import (
    bps,
    dates,
    month_name,
    num,
    pct,
    short_date,
    usd,
    usd_compact,
)
from briefgen.sectors.bitcoin_mining.units import btc, deal_kind, ehs, j_per_th

if TYPE_CHECKING:
    from briefgen.inputs.config import Window
    from briefgen.sectors.bitcoin_mining.metrics import SectorMetrics

TAKEAWAYS = 5
RECORD_TOLERANCE_PP = 0.05  # a share within 0.05 pp of the highest on file counts as a record


def _ok(value: float | None) -> TypeGuard[float]:
    """A number to write: neither missing nor NaN nor infinite."""
    return value is not None and math.isfinite(value)


def _is_month(window: Window) -> bool:
    return window.start.day == 1 and window.end == window.start.replace(
        day=calendar.monthrange(window.start.year, window.start.month)[1]
    )


def period_phrase(window: Window) -> str:
    """'over the first two weeks of January', 'in January 2026', 'over 5–18 Jan 2026'."""
    if _is_month(window):
        return f"in {window.start:%B %Y}"
    same_month = (window.start.year, window.start.month) == (window.end.year, window.end.month)
    if same_month and window.start.day == 1:
        if 13 <= window.days <= 15:
            return f"over the first two weeks of {month_name(window.start)}"
        if window.days == 7:
            return f"over the first week of {month_name(window.start)}"
        return f"over the first {window.days} days of {month_name(window.start)}"
    return f"over {dates(window)}"


def _headline_time(window: Window) -> str:
    """'in early January', 'in late January', 'in January'."""
    if _is_month(window):
        return f"in {month_name(window.start)}"
    same_month = (window.start.year, window.start.month) == (window.end.year, window.end.month)
    if same_month and window.end.day <= 16:
        return f"in early {month_name(window.start)}"
    if same_month and window.start.day >= 15:
        return f"in late {month_name(window.start)}"
    return f"in {month_name(window.end)}"


def compare_phrase(window: Window) -> str:
    """'late December' for the second half of a month, else the window's label."""
    if _is_month(window):
        return month_name(window.start)
    last_day = calendar.monthrange(window.end.year, window.end.month)[1]
    same_month = (window.start.year, window.start.month) == (window.end.year, window.end.month)
    if same_month and window.start.day >= 14 and window.end.day >= last_day - 1:
        return f"late {month_name(window.start)}"
    if same_month and window.start.day == 1 and window.end.day <= 16:
        return f"early {month_name(window.start)}"
    return window.label


def _verb(change: float, up: str, down: str, flat: str, digits: int = 1) -> str:
    """'rose 11.0%' / 'fell 2.1%' / 'was unchanged' from a percentage change."""
    magnitude = num(abs(change), digits)
    if magnitude.strip("0.,") == "":
        return flat
    return f"{up if change > 0 else down} {magnitude}%"


# --- headline --------------------------------------------------------------------------------


def draft_headline(metrics: SectorMetrics) -> str:
    """'Bitcoin miners add $13bn of market cap in early January as hashprice rises 11%'."""
    when = _headline_time(metrics.period)
    hashprice = metrics.economics.hashprice_usd_per_ph_day.change_pct
    rises = _verb(hashprice, "rises", "falls", "holds steady", 0) if _ok(hashprice) else None
    equities = metrics.equities
    added = equities.market_cap_usd.change_abs if equities is not None else None
    if _ok(added):
        verb = "add" if added >= 0 else "shed"
        head = f"Bitcoin miners {verb} {usd_compact(abs(added))} of market cap {when}"
        return f"{head} as hashprice {rises}" if rises else head
    hashrate = metrics.network.hashrate_ehs.change_pct
    if rises:
        tail = f" as network hashrate {_verb(hashrate, 'rises', 'falls', 'holds steady', 0)}" if _ok(hashrate) else ""
        return f"Bitcoin hashprice {rises} {when}{tail}"
    return f"Bitcoin mining {when}: network, economics and listed miners"


# --- takeaways -------------------------------------------------------------------------------


def _market_cap(m: SectorMetrics) -> str | None:
    eq = m.equities
    if eq is None or not _ok(eq.market_cap_usd.change_abs) or not _ok(eq.market_cap_usd.period):
        return None
    added = eq.market_cap_usd.change_abs
    verb = "added" if added >= 0 else "lost"
    text = (
        f"The {eq.count} US-listed miners we track {verb} {usd(abs(added))} of market cap "
        f"{period_phrase(m.period)}, to {usd(eq.market_cap_usd.period)}"
    )
    if _ok(eq.btc_change_pct):
        # Close to close over the same dates as the market caps, not the window averages of takeaway 2.
        move = _verb(eq.btc_change_pct, "up", "down", "flat")
        text += f"; {eq.beat_btc_count} of {eq.count} beat Bitcoin, {move} from its {short_date(eq.start)} close"
    return text


def _hashprice(m: SectorMetrics) -> str | None:
    hp = m.economics.hashprice_usd_per_ph_day
    if not _ok(hp.change_pct):
        return None
    text = (
        f"Average hashprice {_verb(hp.change_pct, 'rose', 'fell', 'was unchanged')} vs {compare_phrase(m.compare)} "
        f"to {usd(hp.period)}/PH/s/day"
    )
    reasons = []
    price = m.network.btc_price_usd.change_pct
    if _ok(price):
        reasons.append(f"Bitcoin's average price {_verb(price, 'rose', 'fell', 'was flat')}")
    hashrate = m.network.hashrate_ehs
    if _ok(hashrate.change_pct):
        reasons.append(
            f"network hashrate {_verb(hashrate.change_pct, 'rose', 'fell', 'was flat')} to {ehs(hashrate.period)}"
        )
    if reasons:
        text += " as " + " and ".join(reasons)
    return text


def _margin(m: SectorMetrics) -> str | None:
    """Both margins, each labelled: with fees, and on the block reward alone (the bank's monthly headline).

    Their changes are against the prior calendar month (the desk's "vs December"), or the compare
    window when the data does not cover that month; the sentence names which.
    """
    e = m.economics
    margins = [(e.gross_margin_pct, "including fees")]
    if _ok(e.block_reward_gross_margin_pct.period):
        margins.append((e.block_reward_gross_margin_pct, "on the block reward alone"))
    if not _ok(margins[0][0].period):
        return None
    text = "Gross mining margin was " + " and ".join(f"{pct(f.period)} {what}" for f, what in margins)
    by_month = [f.change_vs_prior_month for f, _ in margins]
    by_compare = [f.change_bps for f, _ in margins]
    if all(_ok(v) for v in by_month):
        text += f", {' and '.join(bps(v) for v in by_month)} on {month_name(m.prior_month.start)} as a whole"
    elif all(_ok(v) for v in by_compare):
        text += f", {' and '.join(bps(v) for v in by_compare)} on {compare_phrase(m.compare)}"
    used = m.used
    text += f", at {usd(used.power_price_usd_per_kwh, 3)}/kWh and {j_per_th(used.fleet_efficiency_j_per_th)}"
    return text


def _is_record(m: SectorMetrics, share: float) -> bool:
    series = m.series.listed_share
    if series is None or series.empty or "share_pct" not in series:
        return False
    highest = series["share_pct"].max()
    return _ok(highest) and share >= highest - RECORD_TOLERANCE_PP


def _listed_share(m: SectorMetrics) -> str | None:
    miners = m.miners
    if miners is None or not _ok(miners.share_of_network_pct.period) or not _ok(miners.hashrate_ehs.period):
        return None
    share = miners.share_of_network_pct.period
    record = "a record " if _is_record(m, share) else ""
    text = f"Listed miners' hashrate reached {ehs(miners.hashrate_ehs.period)}, {record}{pct(share)} of the network"
    if _ok(miners.capacity_added_ehs):
        verb = "adding" if miners.capacity_added_ehs >= 0 else "losing"
        text += f", {verb} {ehs(abs(miners.capacity_added_ehs))} since {short_date(miners.capacity_since)}"
        if miners.leaders and miners.capacity_added_ehs > 0:
            text += f", led by {_and(list(miners.leaders[:2]))}"
    return text


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _deal_phrase(deal: Mapping[Hashable, Any]) -> str:
    """One row of the deals table (a DataFrame record, keyed by column name) as a phrase."""
    kind = deal_kind(deal.get("kind") or "deal")
    if len(kind) > 1 and kind[1].islower():  # "Land acquisition" -> "land acquisition"; keep "HPC lease"
        kind = kind[0].lower() + kind[1:]
    text = f"{deal.get('ticker')}'s {kind}"
    counterparty = deal.get("counterparty")
    if isinstance(counterparty, str) and counterparty.strip():
        text += f" with {counterparty.strip()}"
    details = []
    mw, value = deal.get("capacity_mw"), deal.get("value_usd")
    if _is_number(mw):
        details.append(f"{num(mw)} MW")
    if _is_number(value):
        details.append(usd(value))
    return text + (f" ({', '.join(details)})" if details else "")


def _is_number(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _deals(m: SectorMetrics) -> str | None:
    deals = m.deals
    if deals is None or deals.empty:
        return None
    records = deals.to_dict("records")
    # Largest first: by value, then capacity; rows without either keep their order at the end.
    records.sort(
        key=lambda d: (
            -(float(d["value_usd"]) if _is_number(d.get("value_usd")) else -1.0),
            -(float(d["capacity_mw"]) if _is_number(d.get("capacity_mw")) else -1.0),
        )
    )
    count = len(records)
    lead = "Beyond block rewards: " + (f"{count} deals, including " if count > 2 else "")
    return lead + _and([_deal_phrase(d) for d in records[:2]])


def _valuation(m: SectorMetrics) -> str | None:
    v = m.valuation
    if not _ok(v.market_cap_to_opportunity_pct):
        return None
    text = (
        f"Miners' market cap is {pct(v.market_cap_to_opportunity_pct, 0)} of the 4-year block-reward "
        f"opportunity of {usd(v.opportunity_4y_usd)} ({btc(v.opportunity_4y_btc)})"
    )
    if _ok(v.market_cap_to_proportional_opportunity_x):
        text += f", {num(v.market_cap_to_proportional_opportunity_x, 1)}x their proportional share"
    return text


def _breakeven(m: SectorMetrics) -> str | None:
    be = m.economics.breakeven_power_usd_per_kwh.period
    if not _ok(be):
        return None
    text = f"Breakeven power price for a {j_per_th(m.used.fleet_efficiency_j_per_th)} fleet is {usd(be, 3)}/kWh"
    cost = m.economics.power_cost_usd_per_btc.period
    if _ok(cost):
        text += f"; power cost per Bitcoin mined is {usd(cost)}"
    return text


def _fee_share(m: SectorMetrics) -> str | None:
    share = m.network.fee_share_pct
    if not _ok(share.period):
        return None
    text = f"Transaction fees were {pct(share.period)} of miners' Bitcoin revenue"
    if _ok(share.change_bps):
        text += f" ({bps(share.change_bps)} vs {compare_phrase(m.compare)})"
    return text


_DRAFTERS: tuple[Callable[[SectorMetrics], str | None], ...] = (
    _market_cap,
    _hashprice,
    _margin,
    _listed_share,
    _deals,
    _valuation,
    _breakeven,
    _fee_share,
)


def draft_takeaways(metrics: SectorMetrics) -> list[str]:
    """Five takeaways from the figures, most important first; missing inputs drop their sentence."""
    takeaways = []
    for drafter in _DRAFTERS:
        text = drafter(metrics)
        if text:
            takeaways.append(text[0].upper() + text[1:] + ("" if text.endswith(".") else "."))
        if len(takeaways) == TAKEAWAYS:
            break
    return takeaways
