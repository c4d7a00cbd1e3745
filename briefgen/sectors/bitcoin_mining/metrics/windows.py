"""Turn a window's daily network rows into its figures, by the desk's ratio-of-window-means convention.

Over a window of days the desk takes a ratio of window means, never a mean of daily ratios:

    revenue per EH/s (window) = 144 x (subsidy + sum F / sum B) x mean(P) / mean(H)

The bank's monthly headline "daily block reward revenue per EH/s" counts the subsidy alone (DOMAIN.md
measured it against two dozen published figures): the block_reward_* figures stand beside the
fee-inclusive ones. Cost assumptions may be dated schedules; a window uses the values in force over
its days (briefgen.sectors.bitcoin_mining.assumptions). A Figure holds one figure in the period, the
compare window and the prior month, and says how its change is expressed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Literal

import pandas as pd

from briefgen.inputs.config import Window
from briefgen.sectors.bitcoin_mining.assumptions import Assumptions, InForce
from briefgen.sectors.bitcoin_mining.schedule import BLOCKS_PER_DAY


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
class WindowFigures:
    """The network and economics figures of one window, by the ratio-of-window-means convention."""

    days: int
    hashrate_ehs: float
    btc_price_usd: float
    fees_btc_per_block: float
    subsidy_btc_per_block: float
    fee_share_pct: float
    difficulty: float | None
    hashprice_btc_per_ph_day: float
    hashprice_usd_per_ph_day: float
    revenue_usd_per_eh_day: float
    power_cost_usd_per_eh_day: float
    gross_profit_usd_per_eh_day: float
    gross_margin_pct: float
    breakeven_power_usd_per_kwh: float
    power_cost_usd_per_btc: float
    block_reward_revenue_usd_per_eh_day: float
    block_reward_gross_profit_usd_per_eh_day: float
    block_reward_gross_margin_pct: float
    power_price_usd_per_kwh: float  # the assumptions in force over the window's days (day-weighted)
    fleet_efficiency_j_per_th: float
    in_force: InForce


def window_figures(days: pd.DataFrame, assumptions: Assumptions) -> WindowFigures:
    """Compute one window's figures from its daily rows (DOMAIN.md's window convention).

    Power cost is the mean of the days' costs at the assumptions in force each day; breakeven power
    price divides by the day-weighted efficiency.
    """
    blocks = float(days["blocks"].sum())
    fees = float(days["fees_btc"].sum())
    issued = float(days["subsidy_btc"].sum())
    price = float(days["btc_price_usd"].mean())
    hashrate = float(days["hashrate_ehs"].mean())
    subsidy_per_block = issued / blocks
    fee_per_block = fees / blocks
    hashprice_btc = BLOCKS_PER_DAY * (subsidy_per_block + fee_per_block) / (1000.0 * hashrate)
    hashprice_usd = hashprice_btc * price
    revenue = 1000.0 * hashprice_usd
    block_reward = BLOCKS_PER_DAY * subsidy_per_block * price / hashrate
    in_force = assumptions.over(day.date() for day in pd.to_datetime(days["date"]))
    power = in_force.power_cost_usd_per_eh_day
    efficiency = in_force.fleet_efficiency_j_per_th
    difficulty = days["difficulty"].mean() if "difficulty" in days and days["difficulty"].notna().all() else None
    return WindowFigures(
        days=len(days),
        hashrate_ehs=hashrate,
        btc_price_usd=price,
        fees_btc_per_block=fee_per_block,
        subsidy_btc_per_block=subsidy_per_block,
        fee_share_pct=100.0 * fees / (issued + fees),
        difficulty=None if difficulty is None else float(difficulty),
        hashprice_btc_per_ph_day=hashprice_btc,
        hashprice_usd_per_ph_day=hashprice_usd,
        revenue_usd_per_eh_day=revenue,
        power_cost_usd_per_eh_day=power,
        gross_profit_usd_per_eh_day=revenue - power,
        gross_margin_pct=100.0 * (revenue - power) / revenue,
        breakeven_power_usd_per_kwh=hashprice_usd / (24.0 * efficiency),
        power_cost_usd_per_btc=(power / 1000.0) / hashprice_btc,
        block_reward_revenue_usd_per_eh_day=block_reward,
        block_reward_gross_profit_usd_per_eh_day=block_reward - power,
        block_reward_gross_margin_pct=100.0 * (block_reward - power) / block_reward,
        power_price_usd_per_kwh=in_force.power_price_usd_per_kwh,
        fleet_efficiency_j_per_th=efficiency,
        in_force=in_force,
    )


def window_slice(frame: pd.DataFrame, window: Window, column: str = "date") -> pd.DataFrame:
    """The rows of `frame` dated within the window, both ends included."""
    start, end = pd.Timestamp(window.start), pd.Timestamp(window.end)
    return frame[(frame[column] >= start) & (frame[column] <= end)]


def figure(name: str, windows: dict[str, WindowFigures | None], kind: Literal["level", "share"] = "level") -> Figure:
    """One WindowFigures attribute across the period, compare and prior-month windows (None where a window has no
    data)."""

    def value(key: str) -> float | None:
        figures = windows[key]
        return None if figures is None else getattr(figures, name)

    return Figure(value("period"), value("compare"), value("prior_month"), kind)


def on_or_before(network: pd.DataFrame, day: date) -> pd.Series:
    """The network table's last row dated on or before `day`."""
    return network[network["date"] <= pd.Timestamp(day)].iloc[-1]
