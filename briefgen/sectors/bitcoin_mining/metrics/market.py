"""Turn the listed miners' hashrate and market caps into the miners and equities sections.

Point-in-time series (market caps, listed miners' hashrate) take each member's last value on or
before a date, members by their dates in miners.csv: MinerFigures (hashrate, share of the network,
capacity added) and EquityFigures (combined market cap, each company against BTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from briefgen.inputs.config import Window
from briefgen.sectors.bitcoin_mining.metrics.windows import (
    Figure,
    WindowFigures,
    on_or_before,
)


@dataclass(frozen=True, eq=False)
class MinerFigures:
    """Listed miners. by_ticker columns: ticker, name, hashrate_ehs, hashrate_start_ehs, added_ehs, share_pct."""

    hashrate_ehs: Figure
    share_of_network_pct: Figure
    capacity_added_ehs: float
    capacity_since: date
    capacity_to: date
    leaders: tuple[str, ...]
    by_ticker: pd.DataFrame


@dataclass(frozen=True, eq=False)
class EquityFigures:
    """Equities. by_ticker columns: ticker, name, market_cap_start_usd, market_cap_usd, change_pct, vs_btc_pp."""

    market_cap_usd: Figure
    start: date
    end: date
    btc_change_pct: float
    by_ticker: pd.DataFrame
    best: str
    worst: str
    beat_btc_count: int
    count: int


def members_on(miners: pd.DataFrame, day: pd.Timestamp) -> set[str]:
    """Tickers tracked on `day` by their membership dates."""
    active = (miners["from"] <= day) & (miners["to"].isna() | (miners["to"] >= day))
    return set(miners.loc[active, "ticker"])


def last_values(frame: pd.DataFrame, value: str, miners: pd.DataFrame, day: date | pd.Timestamp) -> pd.DataFrame:
    """Each member's last `value` on or before `day`: columns ticker, date, value."""
    day = pd.Timestamp(day)
    known = frame[(frame["date"] <= day) & frame["ticker"].isin(members_on(miners, day))]
    latest = known.sort_values("date", kind="stable").groupby("ticker", sort=True).tail(1)
    return latest[["ticker", "date", value]].sort_values("ticker").reset_index(drop=True)


def combined_series(
    frame: pd.DataFrame, value: str, miners: pd.DataFrame, days: pd.DatetimeIndex | Sequence[pd.Timestamp]
) -> pd.Series:
    """Sum of each member's last `value` on or before each day, for many days at once (NaN: none known)."""
    days = pd.DatetimeIndex(pd.to_datetime(days)).sort_values()
    wide = frame.pivot(index="date", columns="ticker", values=value).sort_index()
    wide = wide.reindex(wide.index.union(days)).ffill().reindex(days)
    spans = miners.set_index("ticker").reindex(wide.columns)
    day_values = wide.index.to_numpy()[:, None]
    member = (spans["from"].to_numpy()[None, :] <= day_values) & (
        spans["to"].isna().to_numpy()[None, :] | (spans["to"].to_numpy()[None, :] >= day_values)
    )
    return wide.where(member).sum(axis=1, min_count=1)


def combined_on(frame: pd.DataFrame, value: str, miners: pd.DataFrame, day: date | pd.Timestamp) -> float | None:
    """The members' combined last `value` on or before `day`; None when none is known."""
    total = combined_series(frame, value, miners, [pd.Timestamp(day)]).iloc[0]
    return None if pd.isna(total) else float(total)


def miner_figures(
    inputs: Any, windows: dict[str, WindowFigures | None], period: Window, compare: Window, month: Window
) -> MinerFigures | None:
    hashrate, miners = inputs.miner_hashrate, inputs.miners
    if hashrate is None or miners is None or hashrate.empty:
        return None
    listed = {
        key: combined_on(hashrate, "hashrate_ehs", miners, w.end)
        for key, w in (("period", period), ("compare", compare), ("prior_month", month))
    }

    def share(key: str) -> float | None:
        total, figures = listed[key], windows[key]
        return None if total is None or figures is None else 100.0 * total / figures.hashrate_ehs

    end = last_values(hashrate, "hashrate_ehs", miners, period.end)
    start = last_values(hashrate, "hashrate_ehs", miners, compare.start)
    table = end.merge(start, on="ticker", how="left", suffixes=("", "_start"))
    table = table.merge(miners[["ticker", "name"]], on="ticker", how="left")
    table["hashrate_start_ehs"] = table["hashrate_ehs_start"].fillna(0.0)
    table["added_ehs"] = table["hashrate_ehs"] - table["hashrate_start_ehs"]
    table["share_pct"] = 100.0 * table["hashrate_ehs"] / table["hashrate_ehs"].sum()
    table = table.sort_values(["hashrate_ehs", "ticker"], ascending=[False, True]).reset_index(drop=True)
    added = float(end["hashrate_ehs"].sum() - start["hashrate_ehs"].sum())
    leaders = table[table["added_ehs"] > 0].sort_values(["added_ehs", "ticker"], ascending=[False, True])["ticker"]
    return MinerFigures(
        hashrate_ehs=Figure(listed["period"], listed["compare"], listed["prior_month"]),
        share_of_network_pct=Figure(share("period"), share("compare"), share("prior_month"), "share"),
        capacity_added_ehs=added,
        capacity_since=(start["date"].max() if not start.empty else pd.Timestamp(compare.start)).date(),
        capacity_to=end["date"].max().date(),
        leaders=tuple(leaders.head(2)),
        by_ticker=table[["ticker", "name", "hashrate_ehs", "hashrate_start_ehs", "added_ehs", "share_pct"]],
    )


def equity_figures(
    inputs: Any, network: pd.DataFrame, period: Window, compare: Window, month: Window
) -> EquityFigures | None:
    caps, miners = inputs.market_caps, inputs.miners
    if caps is None or miners is None or caps.empty:
        return None
    combined = {
        key: combined_on(caps, "market_cap_usd", miners, w.end)
        for key, w in (("period", period), ("compare", compare), ("prior_month", month))
    }
    end = last_values(caps, "market_cap_usd", miners, period.end)
    start = last_values(caps, "market_cap_usd", miners, compare.end)
    if end.empty:
        return None
    btc_change = (
        float(on_or_before(network, period.end)["btc_price_usd"])
        / float(on_or_before(network, compare.end)["btc_price_usd"])
        - 1.0
    ) * 100.0
    table = end.merge(start, on="ticker", how="inner", suffixes=("", "_start"))
    table = table.merge(miners[["ticker", "name"]], on="ticker", how="left")
    table = table.rename(columns={"market_cap_usd_start": "market_cap_start_usd"})
    table["change_pct"] = (table["market_cap_usd"] / table["market_cap_start_usd"] - 1.0) * 100.0
    table["vs_btc_pp"] = table["change_pct"] - btc_change
    table = table.sort_values(["change_pct", "ticker"], ascending=[False, True]).reset_index(drop=True)
    table = table[["ticker", "name", "market_cap_start_usd", "market_cap_usd", "change_pct", "vs_btc_pp"]]
    return EquityFigures(
        market_cap_usd=Figure(combined["period"], combined["compare"], combined["prior_month"]),
        start=start["date"].max().date() if not start.empty else compare.end,
        end=end["date"].max().date(),
        btc_change_pct=btc_change,
        by_ticker=table,
        best=str(table["ticker"].iloc[0]) if not table.empty else "",
        worst=str(table["ticker"].iloc[-1]) if not table.empty else "",
        beat_btc_count=int((table["vs_btc_pp"] > 0).sum()),
        count=len(table),
    )
