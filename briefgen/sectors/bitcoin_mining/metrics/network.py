"""Turn the network table and its window figures into the brief's network section: NetworkFigures.

Hashrate, BTC price, fees and their share of the reward over each window, difficulty, and the next
retarget estimated from the pace of blocks since the last one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from briefgen.inputs.config import Window
from briefgen.sectors.bitcoin_mining.metrics.windows import (
    Figure,
    WindowFigures,
    figure,
    on_or_before,
)
from briefgen.sectors.bitcoin_mining.schedule import BLOCKS_PER_DAY


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


def next_adjustment(network: pd.DataFrame) -> NextAdjustment | None:
    """Estimate the next retarget from the pace of blocks since the last one (needs difficulty)."""
    if network["difficulty"].isna().any() or len(network) < 2:
        return None
    from briefgen.sectors.bitcoin_mining.schedule import RETARGET_INTERVAL

    last = network.iloc[-1]
    epoch_start = (int(last["height"]) // RETARGET_INTERVAL) * RETARGET_INTERVAL
    first = network.iloc[0]
    if int(first["height"]) - int(first["blocks"]) + 1 > epoch_start:
        return None  # the last retarget came before the data starts
    retarget_day = network.loc[network["height"] >= epoch_start, "date"].iloc[0]
    # Whole days after the retarget day measure the pace; right after a retarget, use the last 3 days.
    after = network[network["date"] > retarget_day]
    pace = after if len(after) >= 1 else network.tail(3)
    blocks_per_day = float(pace["blocks"].mean())
    return NextAdjustment(
        last_retarget=retarget_day.date(),
        difficulty=float(last["difficulty"]),
        blocks_per_day=blocks_per_day,
        estimated_change_pct=(blocks_per_day / BLOCKS_PER_DAY - 1.0) * 100.0,
    )


def network_figures(network: pd.DataFrame, windows: dict[str, WindowFigures | None], period: Window) -> NetworkFigures:
    """The network section: hashrate, price, fees, difficulty and its next retarget, the height at the period's end."""
    end_row = on_or_before(network, period.end)
    in_period = windows["period"]
    assert in_period is not None  # load_inputs refuses a period without daily rows
    has_difficulty = in_period.difficulty is not None
    return NetworkFigures(
        hashrate_ehs=figure("hashrate_ehs", windows),
        btc_price_usd=figure("btc_price_usd", windows),
        fees_btc_per_block=figure("fees_btc_per_block", windows),
        fee_share_pct=figure("fee_share_pct", windows, "share"),
        difficulty=figure("difficulty", windows) if has_difficulty else None,
        next_adjustment=next_adjustment(network),
        block_height=int(end_row["height"]),
        btc_price_at_end=float(end_row["btc_price_usd"]),
    )
