"""Turn validated input tables into SectorMetrics: every figure of the brief, by DOMAIN.md's formulas.

Pure functions over DataFrames, no I/O. Over a window of days the desk takes a ratio of window
means, never a mean of daily ratios:

    revenue per EH/s (window) = 144 x (subsidy + sum F / sum B) x mean(P) / mean(H)

Point-in-time series (market caps, listed miners' hashrate) take the last value on or before a date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from briefgen.config import Assumptions, BriefConfig, Window, prior_month
from briefgen.schedule import BLOCKS_PER_DAY, OPPORTUNITY_BLOCKS, block_reward_opportunity_btc

# Fleet-efficiency classes for revenue per MWh: (label, low J/TH, high J/TH, representative J/TH).
FLEET_CLASSES: tuple[tuple[str, float, float, float], ...] = (
    ("Below 19 J/TH", 15.0, 19.0, 17.0),
    ("19\u201325 J/TH", 19.0, 25.0, 22.0),
    ("25\u201338 J/TH", 25.0, 38.0, 31.5),
)
SENSITIVITY_PRICE_STEPS = (-0.30, -0.20, -0.10, 0.0, 0.10, 0.20, 0.30)
SENSITIVITY_HASHRATE_STEPS = (-0.10, -0.05, 0.0, 0.05, 0.10)
ROLLING_DAYS = 7


@dataclass(frozen=True)
class Figure:
    """One figure in the period, the compare window and the prior calendar month.

    `kind` says how change is expressed: "level" as a percentage change, "share" (a percentage
    itself, such as a margin) as a change in basis points.
    """

    period: float | None
    compare: float | None
    prior_month: float | None = None
    kind: Literal["level", "share"] = "level"

    @staticmethod
    def _pct(new: float | None, old: float | None) -> float | None:
        if new is None or old is None or old == 0 or not (math.isfinite(new) and math.isfinite(old)):
            return None
        return (new / old - 1.0) * 100.0

    @staticmethod
    def _bps(new: float | None, old: float | None) -> float | None:
        if new is None or old is None or not (math.isfinite(new) and math.isfinite(old)):
            return None
        return (new - old) * 100.0

    @property
    def change_pct(self) -> float | None:
        return self._pct(self.period, self.compare)

    @property
    def change_bps(self) -> float | None:
        return self._bps(self.period, self.compare)

    @property
    def change_abs(self) -> float | None:
        if self.period is None or self.compare is None:
            return None
        return self.period - self.compare

    @property
    def change_vs_prior_month(self) -> float | None:
        """Percentage change for levels, basis points for shares."""
        if self.kind == "share":
            return self._bps(self.period, self.prior_month)
        return self._pct(self.period, self.prior_month)

    def as_dict(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {"period": self.period, "compare": self.compare}
        if self.kind == "share":
            out["change_bps"] = self.change_bps
            out["prior_month"] = self.prior_month
            out["change_bps_vs_prior_month"] = self.change_vs_prior_month
        else:
            out["change_pct"] = self.change_pct
            out["prior_month"] = self.prior_month
            out["change_pct_vs_prior_month"] = self.change_vs_prior_month
        return out


@dataclass(frozen=True)
class NextAdjustment:
    """Estimated next difficulty retarget from the pace of blocks since the last one."""

    last_retarget: date
    difficulty: float
    blocks_per_day: float
    estimated_change_pct: float


@dataclass(frozen=True)
class NetworkFigures:
    hashrate_ehs: Figure
    btc_price_usd: Figure
    fees_btc_per_block: Figure
    fee_share_pct: Figure
    difficulty: Figure | None
    next_adjustment: NextAdjustment | None
    block_height: int
    btc_price_at_end: float


@dataclass(frozen=True)
class EconomicsFigures:
    hashprice_usd_per_ph_day: Figure
    hashprice_btc_per_ph_day: Figure
    revenue_usd_per_eh_day: Figure
    power_cost_usd_per_eh_day: Figure
    gross_profit_usd_per_eh_day: Figure
    gross_margin_pct: Figure
    breakeven_power_usd_per_kwh: Figure
    power_cost_usd_per_btc: Figure


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


@dataclass(frozen=True)
class Valuation:
    block_height: int
    btc_price_usd: float
    opportunity_4y_btc: float
    opportunity_4y_usd: float
    market_cap_usd: float | None
    market_cap_to_opportunity_pct: float | None
    market_cap_to_proportional_opportunity_x: float | None


@dataclass(frozen=True, eq=False)
class Series:
    """Time series for the charts.

    daily: date, btc_price_usd, hashrate_ehs, hashrate_7d_ehs, difficulty, height,
           hashprice_usd_per_ph_day, hashprice_btc_per_ph_day
    monthly: month (first day), hashrate_ehs, btc_price_usd, revenue_usd_per_eh_day,
           power_cost_usd_per_eh_day, gross_profit_usd_per_eh_day, gross_margin_pct
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
