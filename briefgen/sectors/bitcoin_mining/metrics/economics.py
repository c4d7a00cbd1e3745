"""Turn the window figures into the brief's economics section: EconomicsFigures, fleet classes, sensitivity.

What a miner earns and spends per EH/s, revenue per MWh by fleet-efficiency class, and the grid of
hashprice against BTC price and network hashrate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from briefgen.sectors.bitcoin_mining.metrics.windows import (
    Figure,
    WindowFigures,
    figure,
)
from briefgen.sectors.bitcoin_mining.schedule import BLOCKS_PER_DAY

# Fleet-efficiency classes for revenue per MWh: (label, low J/TH, high J/TH, representative J/TH).
FLEET_CLASSES: tuple[tuple[str, float, float, float], ...] = (
    ("Below 19 J/TH", 15.0, 19.0, 17.0),
    ("19\u201325 J/TH", 19.0, 25.0, 22.0),
    ("25\u201338 J/TH", 25.0, 38.0, 31.5),
)
SENSITIVITY_PRICE_STEPS = (-0.30, -0.20, -0.10, 0.0, 0.10, 0.20, 0.30)
SENSITIVITY_HASHRATE_STEPS = (-0.10, -0.05, 0.0, 0.05, 0.10)


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
    # The bank's monthly headline: the block subsidy alone, fees left out (its hashprice includes them).
    block_reward_revenue_usd_per_eh_day: Figure
    block_reward_gross_profit_usd_per_eh_day: Figure
    block_reward_gross_margin_pct: Figure


def economics_figures(windows: dict[str, WindowFigures | None]) -> EconomicsFigures:
    """The economics section: hashprice, revenue, power cost, gross profit and margin per EH/s, breakeven."""
    return EconomicsFigures(
        hashprice_usd_per_ph_day=figure("hashprice_usd_per_ph_day", windows),
        hashprice_btc_per_ph_day=figure("hashprice_btc_per_ph_day", windows),
        revenue_usd_per_eh_day=figure("revenue_usd_per_eh_day", windows),
        power_cost_usd_per_eh_day=figure("power_cost_usd_per_eh_day", windows),
        gross_profit_usd_per_eh_day=figure("gross_profit_usd_per_eh_day", windows),
        gross_margin_pct=figure("gross_margin_pct", windows, "share"),
        breakeven_power_usd_per_kwh=figure("breakeven_power_usd_per_kwh", windows),
        power_cost_usd_per_btc=figure("power_cost_usd_per_btc", windows),
        block_reward_revenue_usd_per_eh_day=figure("block_reward_revenue_usd_per_eh_day", windows),
        block_reward_gross_profit_usd_per_eh_day=figure("block_reward_gross_profit_usd_per_eh_day", windows),
        block_reward_gross_margin_pct=figure("block_reward_gross_margin_pct", windows, "share"),
    )


def fleet_classes(period: WindowFigures) -> pd.DataFrame:
    """Revenue per MWh consumed, by fleet-efficiency class: revenue per EH/s per day / (24 x e) MWh.

    Power per MWh is the price in force over the period (day-weighted where a schedule changes in it).
    """
    power_per_mwh = period.power_price_usd_per_kwh * 1000.0
    rows = []
    for label, _low, _high, efficiency in FLEET_CLASSES:
        revenue_per_mwh = period.revenue_usd_per_eh_day / (24.0 * efficiency)
        rows.append(
            {
                "class": label,
                "efficiency_j_per_th": efficiency,
                "revenue_usd_per_mwh": revenue_per_mwh,
                "power_usd_per_mwh": power_per_mwh,
                "margin_pct": 100.0 * (1.0 - power_per_mwh / revenue_per_mwh),
                "breakeven_power_usd_per_kwh": period.hashprice_usd_per_ph_day / (24.0 * efficiency),
            }
        )
    return pd.DataFrame(rows)


def sensitivity(period: WindowFigures) -> pd.DataFrame:
    """Hashprice ($/PH/s/day) over a grid of BTC price (columns) x network hashrate (rows).

    Axes are the period's means moved by fixed steps and rounded for reading: prices to a tenth of
    their order of magnitude ($63,000, $90,000), hashrates to a hundredth (970, 1,020 EH/s). The
    step scales with the value, so a small network never rounds to zero. The period's subsidy and
    fees per block are held.
    """
    reward = BLOCKS_PER_DAY * (period.subsidy_btc_per_block + period.fees_btc_per_block)
    price_step = _order_of(period.btc_price_usd) / 10
    hashrate_step = _order_of(period.hashrate_ehs) / 100
    prices = [_round_to(period.btc_price_usd * (1 + s), price_step) for s in SENSITIVITY_PRICE_STEPS]
    hashrates = [_round_to(period.hashrate_ehs * (1 + s), hashrate_step) for s in SENSITIVITY_HASHRATE_STEPS]
    grid = [[reward * p / (1000.0 * h) for p in prices] for h in hashrates]
    frame = pd.DataFrame(
        grid, index=pd.Index(hashrates, name="hashrate_ehs"), columns=pd.Index(prices, name="btc_price_usd")
    )
    return frame


def _order_of(value: float) -> float:
    """The power of ten at or below a positive number (90,359 -> 10,000)."""
    return 10.0 ** math.floor(math.log10(value))


def _round_to(value: float, step: float) -> float:
    """Round to a multiple of step, never below one step (a positive axis value stays positive)."""
    return max(step, round(value / step) * step)
