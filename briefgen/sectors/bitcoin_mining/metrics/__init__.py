"""Turn validated input tables into SectorMetrics: every figure of the brief, by DOMAIN.md's formulas.

Pure functions over DataFrames, no I/O. compute() reads like the brief, one module a section:

    windows    each window's figures by the ratio-of-window-means convention; Figure
    network    hashrate, price, fees, difficulty and the next retarget       (NetworkFigures)
    economics  hashprice, revenue, cost and margin per EH/s; fleet classes; sensitivity
    market     the listed miners' hashrate and the equities' market caps      (MinerFigures, EquityFigures)
    valuation  market cap against the 4-year block-reward opportunity          (Valuation)

and here the series the charts draw and the deals the brief lists. Every name the rest of briefgen
uses is importable from this package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from briefgen.inputs.windows import Window, prior_month
from briefgen.sectors.bitcoin_mining.assumptions import Assumptions, InForce
from briefgen.sectors.bitcoin_mining.metrics.economics import (
    FLEET_CLASSES,
    EconomicsFigures,
    economics_figures,
    fleet_classes,
    sensitivity,
)
from briefgen.sectors.bitcoin_mining.metrics.market import (
    EquityFigures,
    MinerFigures,
    combined_on,
    combined_series,
    equity_figures,
    last_values,
    members_on,
    miner_figures,
)
from briefgen.sectors.bitcoin_mining.metrics.network import (
    NetworkFigures,
    NextAdjustment,
    network_figures,
)
from briefgen.sectors.bitcoin_mining.metrics.valuation import (
    Valuation,
    opportunity_usd,
    valuation,
)
from briefgen.sectors.bitcoin_mining.metrics.windows import (
    Figure,
    WindowFigures,
    window_figures,
    window_slice,
)
from briefgen.sectors.bitcoin_mining.schedule import BLOCKS_PER_DAY

if TYPE_CHECKING:
    from briefgen.sectors.bitcoin_mining.contract import MiningConfig

__all__ = [
    "FLEET_CLASSES",
    "EconomicsFigures",
    "EquityFigures",
    "Figure",
    "MinerFigures",
    "NetworkFigures",
    "NextAdjustment",
    "SectorMetrics",
    "Series",
    "Valuation",
    "WindowFigures",
    "combined_on",
    "combined_series",
    "compute",
    "fleet_classes",
    "last_values",
    "members_on",
    "opportunity_usd",
    "sensitivity",
    "window_figures",
]

ROLLING_DAYS = 7


@dataclass(frozen=True, eq=False)
class Series:
    """Time series for the charts.

    daily: date, btc_price_usd, hashrate_ehs, hashrate_7d_ehs, difficulty, height,
           hashprice_usd_per_ph_day, hashprice_btc_per_ph_day
    monthly: month (first day), hashrate_ehs, btc_price_usd, revenue_usd_per_eh_day,
           power_cost_usd_per_eh_day, gross_profit_usd_per_eh_day, gross_margin_pct,
           block_reward_revenue_usd_per_eh_day, block_reward_gross_profit_usd_per_eh_day,
           block_reward_gross_margin_pct, fleet_efficiency_j_per_th, power_price_usd_per_kwh
    listed_share: date, listed_ehs, network_ehs, share_pct (empty without miner inputs)
    market_cap: date, market_cap_usd, opportunity_4y_usd, market_cap_to_opportunity_pct (empty without caps)
    """

    daily: pd.DataFrame
    monthly: pd.DataFrame
    listed_share: pd.DataFrame
    market_cap: pd.DataFrame


@dataclass(frozen=True, eq=False)
class SectorMetrics:
    """Every figure of the brief, for the period, the compare window and the prior month."""

    period: Window
    compare: Window
    prior_month: Window
    assumptions: Assumptions
    network: NetworkFigures
    economics: EconomicsFigures
    fleet_classes: pd.DataFrame  # class, efficiency_j_per_th, revenue_usd_per_mwh, power_usd_per_mwh, margin_pct
    sensitivity: pd.DataFrame  # hashprice $/PH/s/day; index hashrate_ehs, columns btc_price_usd
    miners: MinerFigures | None
    equities: EquityFigures | None
    valuation: Valuation
    deals: pd.DataFrame
    series: Series
    network_sources: tuple[str, ...] = ()  # the `source` column's values: where fetched rows came from
    deals_since: date | None = None  # deals listed are those after this day (the previous brief), else the period's
    # "period", "compare", "prior_month" -> the assumptions each window used (None: no data for it)
    in_force: dict[str, InForce | None] = field(default_factory=dict)

    @property
    def used(self) -> InForce:
        """The assumptions the period used (what the brief prints beside its margin)."""
        in_force = self.in_force.get("period")
        return in_force if in_force is not None else self.assumptions.over([self.period.end])


def _series(inputs: Any, network: pd.DataFrame) -> Series:
    assumptions = inputs.config.assumptions
    daily = network[["date", "btc_price_usd", "hashrate_ehs", "difficulty", "height"]].copy()
    daily["hashrate_7d_ehs"] = network["hashrate_ehs"].rolling(ROLLING_DAYS, min_periods=ROLLING_DAYS).mean()
    reward = BLOCKS_PER_DAY * (network["subsidy_btc"] + network["fees_btc"]) / network["blocks"]
    daily["hashprice_btc_per_ph_day"] = reward / (1000.0 * network["hashrate_ehs"])
    daily["hashprice_usd_per_ph_day"] = daily["hashprice_btc_per_ph_day"] * network["btc_price_usd"]

    rows = []
    for month, days in network.groupby(network["date"].dt.to_period("M"), sort=True):
        f = window_figures(days, assumptions)
        rows.append(
            {
                "month": month.to_timestamp(),
                "days": f.days,
                "hashrate_ehs": f.hashrate_ehs,
                "btc_price_usd": f.btc_price_usd,
                "revenue_usd_per_eh_day": f.revenue_usd_per_eh_day,
                "power_cost_usd_per_eh_day": f.power_cost_usd_per_eh_day,
                "gross_profit_usd_per_eh_day": f.gross_profit_usd_per_eh_day,
                "gross_margin_pct": f.gross_margin_pct,
                "block_reward_revenue_usd_per_eh_day": f.block_reward_revenue_usd_per_eh_day,
                "block_reward_gross_profit_usd_per_eh_day": f.block_reward_gross_profit_usd_per_eh_day,
                "block_reward_gross_margin_pct": f.block_reward_gross_margin_pct,
                "fleet_efficiency_j_per_th": f.fleet_efficiency_j_per_th,
                "power_price_usd_per_kwh": f.power_price_usd_per_kwh,
            }
        )
    monthly = pd.DataFrame(rows)

    listed_share = pd.DataFrame(columns=["date", "listed_ehs", "network_ehs", "share_pct"])
    if inputs.miner_hashrate is not None and inputs.miners is not None and not inputs.miner_hashrate.empty:
        share_days = pd.DatetimeIndex(sorted(inputs.miner_hashrate["date"].unique()))
        share_days = share_days[(share_days >= network["date"].iloc[0]) & (share_days <= network["date"].iloc[-1])]
        listed = combined_series(inputs.miner_hashrate, "hashrate_ehs", inputs.miners, share_days)
        # Each point against the network's mean over its calendar month to date.
        months = network.groupby(network["date"].dt.to_period("M"))
        month_to_date = months["hashrate_ehs"].cumsum() / (months.cumcount() + 1)
        mean = month_to_date.set_axis(network["date"]).reindex(share_days).to_numpy()
        listed_share = (
            pd.DataFrame(
                {
                    "date": share_days,
                    "listed_ehs": listed.to_numpy(),
                    "network_ehs": mean,
                    "share_pct": 100.0 * listed.to_numpy() / mean,
                }
            )
            .dropna()
            .reset_index(drop=True)
        )

    market_cap = pd.DataFrame(columns=["date", "market_cap_usd", "opportunity_4y_usd", "market_cap_to_opportunity_pct"])
    if inputs.market_caps is not None and inputs.miners is not None and not inputs.market_caps.empty:
        cap_days = pd.DatetimeIndex(sorted(inputs.market_caps["date"].unique()))
        cap_days = cap_days[(cap_days >= network["date"].iloc[0]) & (cap_days <= network["date"].iloc[-1])]
        total = combined_series(inputs.market_caps, "market_cap_usd", inputs.miners, cap_days)
        by_day = network.set_index("date")[["height", "btc_price_usd"]]
        at_day = by_day.reindex(by_day.index.union(cap_days)).ffill().reindex(cap_days)  # last day on or before
        opportunity = [
            opportunity_usd(int(h), float(p)) for h, p in zip(at_day["height"], at_day["btc_price_usd"], strict=False)
        ]
        market_cap = pd.DataFrame(
            {"date": cap_days, "market_cap_usd": total.to_numpy(), "opportunity_4y_usd": opportunity}
        )
        market_cap["market_cap_to_opportunity_pct"] = (
            100.0 * market_cap["market_cap_usd"] / market_cap["opportunity_4y_usd"]
        )
        market_cap = market_cap.dropna().reset_index(drop=True)
    return Series(daily=daily.reset_index(drop=True), monthly=monthly, listed_share=listed_share, market_cap=market_cap)


def compute(inputs: Any) -> SectorMetrics:
    """Compute every figure of the brief from validated inputs (briefgen.sectors.bitcoin_mining.inputs.Inputs)."""
    config: MiningConfig = inputs.config
    assert config.period is not None and config.compare is not None and config.as_of is not None
    period, compare = config.period, config.compare
    month = prior_month(period)
    # Every figure, chart and table stops at the period's end, the date the cover gives as "data to":
    # a day of data after it (as_of may be later) would put the charts a day past the tables.
    # (load_inputs already keeps only rows up to the period's end; inputs built another way are held to it here too.)
    network = inputs.network[inputs.network["date"] <= pd.Timestamp(period.end)].reset_index(drop=True)
    windows: dict[str, WindowFigures | None] = {}
    for key, window in (("period", period), ("compare", compare), ("prior_month", month)):
        days = window_slice(network, window)
        # The prior month is a reference only: left out unless the data covers all of it.
        complete = len(days) == window.days or key != "prior_month"
        windows[key] = window_figures(days, config.assumptions) if len(days) and complete else None
    in_period = windows["period"]
    assert in_period is not None  # load_inputs refuses a period without daily rows
    net, econ = network_figures(network, windows, period), economics_figures(windows)
    miners = miner_figures(inputs, windows, period, compare, month)
    equities = equity_figures(inputs, network, period, compare, month)
    deals = _deals_announced(inputs.deals, period, config.deals_since)
    return SectorMetrics(
        period=period,
        compare=compare,
        prior_month=month,
        assumptions=config.assumptions,
        in_force={key: None if figures is None else figures.in_force for key, figures in windows.items()},
        network=net,
        economics=econ,
        fleet_classes=fleet_classes(in_period),
        sensitivity=sensitivity(in_period),
        miners=miners,
        equities=equities,
        valuation=valuation(net, miners, equities),
        deals=deals,
        series=_series(inputs, network),
        network_sources=tuple(sorted({str(v) for v in network["source"].dropna() if str(v).strip()})),
        deals_since=config.deals_since,
    )


def _deals_announced(deals: pd.DataFrame, period: Window, since: date | None) -> pd.DataFrame:
    """Deals announced in the period (or after `since`, the previous brief's date, through the period's end), newest
    first."""
    first = pd.Timestamp(period.start) if since is None else pd.Timestamp(since) + pd.Timedelta(days=1)
    shown = deals[(deals["date"] >= first) & (deals["date"] <= pd.Timestamp(period.end))]
    return shown.sort_values(["date", "ticker"], ascending=[False, True], kind="stable").reset_index(drop=True)
