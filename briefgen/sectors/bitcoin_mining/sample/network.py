"""Turn the sample's seed into network.csv: the chain (chain.py), then fees and the price (see the
sample package's docstring, steps 5-6).
"""

from __future__ import annotations

from datetime import date

import numpy as np

from briefgen.sectors.bitcoin_mining.sample.chain import BLOCKS_PER_DAY, SUBSIDY_BTC, reported_ehs, simulate_chain
from briefgen.sectors.bitcoin_mining.sample.common import (
    COMPARE,
    DECEMBER,
    EARLY_DECEMBER,
    FIRST_DAY,
    FLEET_EFFICIENCY_J_PER_TH,
    LAST_DAY,
    PERIOD,
    POWER_PRICE_USD_PER_KWH,
    _d,
    _rng,
    ar1,
    days_between,
    interp_knots,
)

# Economics targets (see the docstring for the arithmetic).
POWER_COST_USD_PER_EH_DAY = 24 * FLEET_EFFICIENCY_J_PER_TH * POWER_PRICE_USD_PER_KWH * 1000  # 21,120
PERIOD_MARGIN = 0.473
DECEMBER_MARGIN = 0.445
HASHPRICE_CHANGE = 0.110

# Fee per block (BTC): dated levels, log-linear between them, times lognormal noise.
FEE_KNOTS = (
    ("2024-04-01", 0.20),
    ("2024-04-12", 0.60),
    ("2024-04-19", 1.10),
    ("2024-04-25", 0.70),
    ("2024-04-30", 0.32),
    ("2024-05-15", 0.22),
    ("2024-06-15", 0.30),
    ("2024-07-15", 0.085),
    ("2024-08-15", 0.078),
    ("2024-09-15", 0.055),
    ("2024-10-15", 0.14),
    ("2024-11-15", 0.10),
    ("2024-12-15", 0.087),
    ("2025-01-15", 0.046),
    ("2025-02-15", 0.043),
    ("2025-03-15", 0.039),
    ("2025-04-15", 0.042),
    ("2025-05-15", 0.042),
    ("2025-06-15", 0.034),
    ("2025-07-15", 0.031),
    ("2025-08-15", 0.025),
    ("2025-09-15", 0.027),
    ("2025-10-15", 0.022),
    ("2025-11-15", 0.021),
    ("2025-12-15", 0.018),
    ("2026-01-08", 0.024),
    ("2026-01-15", 0.024),
)
FEE_NOISE_SIGMA = 0.22
# The halving day's inscription/Runes rush, BTC per block, replacing the level on those days.
FEE_OVERRIDES = {"2024-04-20": 9.3, "2024-04-21": 2.4, "2024-04-22": 1.7, "2024-04-23": 2.65, "2024-04-24": 1.6}

# BTC price, USD: dated levels (the public record rounded to $500; designed levels from December 2025).
PRICE_KNOTS = (
    ("2024-04-01", 70000),
    ("2024-04-11", 70000),
    ("2024-04-21", 65000),
    ("2024-05-01", 58000),
    ("2024-05-11", 61000),
    ("2024-05-21", 70000),
    ("2024-06-01", 67500),
    ("2024-06-11", 67500),
    ("2024-06-21", 64000),
    ("2024-07-01", 63000),
    ("2024-07-11", 57500),
    ("2024-07-21", 68000),
    ("2024-08-01", 65000),
    ("2024-08-05", 54500),
    ("2024-08-11", 59000),
    ("2024-08-21", 61000),
    ("2024-09-01", 57500),
    ("2024-09-06", 54000),
    ("2024-09-11", 57500),
    ("2024-09-21", 63500),
    ("2024-10-01", 61000),
    ("2024-10-11", 62500),
    ("2024-10-21", 67500),
    ("2024-11-01", 69500),
    ("2024-11-11", 89000),
    ("2024-11-21", 98500),
    ("2024-12-01", 97500),
    ("2024-12-11", 101500),
    ("2024-12-21", 97000),
    ("2025-01-01", 94500),
    ("2025-01-11", 94500),
    ("2025-01-20", 102500),
    ("2025-01-21", 106000),
    ("2025-02-01", 100500),
    ("2025-02-11", 96000),
    ("2025-02-21", 96000),
    ("2025-03-01", 86000),
    ("2025-03-10", 79000),
    ("2025-03-21", 84000),
    ("2025-04-01", 85000),
    ("2025-04-08", 76500),
    ("2025-04-21", 87500),
    ("2025-05-01", 96500),
    ("2025-05-11", 104000),
    ("2025-05-22", 111500),
    ("2025-06-01", 106000),
    ("2025-06-11", 108500),
    ("2025-06-21", 101500),
    ("2025-07-01", 105500),
    ("2025-07-14", 120000),
    ("2025-07-21", 117500),
    ("2025-08-01", 113500),
    ("2025-08-13", 123500),
    ("2025-08-21", 112500),
    ("2025-09-01", 109000),
    ("2025-09-11", 115500),
    ("2025-09-21", 115500),
    ("2025-10-01", 118500),
    ("2025-10-06", 125000),
    ("2025-10-11", 111000),
    ("2025-10-21", 108500),
    ("2025-11-01", 110000),
    ("2025-11-11", 103000),
    ("2025-11-21", 85000),
    ("2025-12-01", 88500),
    ("2025-12-03", 93500),
    ("2025-12-11", 93000),
    ("2025-12-16", 91000),
    ("2025-12-18", 87000),
    ("2025-12-23", 82000),
    ("2025-12-27", 81500),
    ("2025-12-31", 86400),
    ("2026-01-01", 86000),
    ("2026-01-06", 93500),
    ("2026-01-09", 94000),
    ("2026-01-12", 91500),
    ("2026-01-14", 87960),
    ("2026-01-15", 86740),
)
PRICE_WOBBLE = (0.8, 0.016)  # AR(1) phi and daily sigma of log price around the knots
PRICE_PINNED = {"2025-12-31": 86400.00, "2026-01-14": 87960.00, "2026-01-15": 86740.00}


def fee_per_block(days: list[date]) -> np.ndarray:
    level = interp_knots(days, FEE_KNOTS, log=True)
    noise = np.exp(_rng(3).standard_normal(len(days)) * FEE_NOISE_SIGMA - FEE_NOISE_SIGMA**2 / 2)
    out = level * noise
    for text, value in FEE_OVERRIDES.items():
        out[days.index(_d(text))] = value
    return out


def _window(days: list[date], first: date, last: date) -> np.ndarray:
    return np.array([first <= d <= last for d in days])


def price_targets(days: list[date], hashrate: np.ndarray, blocks: np.ndarray, fees: np.ndarray) -> dict:
    """Mean price each solved window needs, from its realised hashrate and fees (DOMAIN.md convention)."""

    def need(first: date, last: date, revenue: float) -> float:
        w = _window(days, first, last)
        fee_per_block_btc = fees[w].sum() / blocks[w].sum()
        return revenue * hashrate[w].mean() / (BLOCKS_PER_DAY * (SUBSIDY_BTC + fee_per_block_btc))

    period_rev = POWER_COST_USD_PER_EH_DAY / (1 - PERIOD_MARGIN)
    compare_rev = period_rev / (1 + HASHPRICE_CHANGE)
    december_rev = POWER_COST_USD_PER_EH_DAY / (1 - DECEMBER_MARGIN)
    period = need(PERIOD[0], PERIOD[1], period_rev)
    compare = need(COMPARE[0], COMPARE[1], compare_rev)
    december = need(DECEMBER[0], DECEMBER[1], december_rev)
    early_days = _window(days, *EARLY_DECEMBER).sum()
    compare_days = _window(days, COMPARE[0], COMPARE[1]).sum()
    early = (december * (early_days + compare_days) - compare * compare_days) / early_days
    return {EARLY_DECEMBER: early, (COMPARE[0], COMPARE[1]): compare, (PERIOD[0], PERIOD[1]): period}


def price_path(days: list[date], targets: dict) -> np.ndarray:
    """Step 6: knots x AR(1) wobble, pinned mid-January quotes, half-sine bumps to hit window means."""
    price = interp_knots(days, PRICE_KNOTS, log=True) * np.exp(ar1(_rng(4), len(days), *PRICE_WOBBLE))
    for text, value in PRICE_PINNED.items():
        price[days.index(_d(text))] = value
    for (first, last), mean in targets.items():
        idx = np.flatnonzero(_window(days, first, last))
        bump = np.sin(np.pi * np.arange(len(idx)) / (len(idx) - 1))
        price[idx] += (mean * len(idx) - price[idx].sum()) / bump.sum() * bump
    return np.round(price, 2)


def build_network() -> list[tuple]:
    days = days_between(FIRST_DAY, LAST_DAY)
    chain = simulate_chain(days)
    blocks = np.array(chain.blocks)
    hashrate = np.array([reported_ehs(d, b) for d, b in zip(chain.difficulty, chain.blocks, strict=True)])
    fees = np.round(fee_per_block(days) * blocks, 8)
    price = price_path(days, price_targets(days, hashrate, blocks, fees))
    return [
        (d.isoformat(), f"{p:.2f}", f"{h:.3f}", str(b), f"{f:.8f}", str(diff))
        for d, p, h, b, f, diff in zip(days, price, hashrate, chain.blocks, fees, chain.difficulty, strict=True)
    ]
