"""Turn the sample's seed into network.csv: chain, difficulty, fees, price (see the sample package's docstring)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

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

# Bitcoin.
TWO_32 = 2.0**32
BLOCKS_PER_DAY = 144
RETARGET_INTERVAL = 2_016
EXPECTED_EPOCH_SECONDS = RETARGET_INTERVAL * 600
HALVING_DAY = date(2024, 4, 20)
HALVING_HEIGHT = 840_000  # the first block mined on HALVING_DAY
SUBSIDY_BTC = 3.125
PRE_HALVING_DIFFICULTY = ((date(2024, 4, 1), 83_126_997_504_685), (date(2024, 4, 10), 86_388_558_925_000))
PRE_HALVING_EPOCH_START = 838_656  # 416 x 2,016: the epoch the halving falls in began here

# Latent hashrate shape, EH/s, on the 8th and 23rd of each month (the calibration sets the level).
# A smoothed reading of the public half-month means: those already contain block luck, which the
# Poisson draw adds back, so the latent path must be smoother than the record it imitates.
HASHRATE_KNOTS = (
    ("2024-04-08", 624),
    ("2024-04-23", 620),
    ("2024-05-08", 605),
    ("2024-05-23", 598),
    ("2024-06-08", 585),
    ("2024-06-23", 578),
    ("2024-07-08", 595),
    ("2024-07-23", 625),
    ("2024-08-08", 630),
    ("2024-08-23", 635),
    ("2024-09-08", 640),
    ("2024-09-23", 642),
    ("2024-10-08", 680),
    ("2024-10-23", 720),
    ("2024-11-08", 725),
    ("2024-11-23", 740),
    ("2024-12-08", 770),
    ("2024-12-23", 785),
    ("2025-01-08", 785),
    ("2025-01-23", 780),
    ("2025-02-08", 800),
    ("2025-02-23", 812),
    ("2025-03-08", 812),
    ("2025-03-23", 825),
    ("2025-04-08", 855),
    ("2025-04-23", 870),
    ("2025-05-08", 885),
    ("2025-05-23", 905),
    ("2025-06-08", 880),
    ("2025-06-23", 860),
    ("2025-07-08", 890),
    ("2025-07-23", 905),
    ("2025-08-08", 930),
    ("2025-08-23", 965),
    ("2025-09-08", 1010),
    ("2025-09-23", 1055),
    ("2025-10-08", 1049),
    ("2025-10-23", 1118),
    ("2025-11-08", 1089),
    ("2025-11-23", 1073),
    ("2025-12-08", 1052),
    ("2025-12-23", 1043),
    ("2026-01-07", 1022),
    ("2026-01-15", 1015),
)
HASHRATE_WOBBLE = (0.7, 0.012)  # AR(1) phi and daily sigma of log latent hashrate

# Reported (difficulty x blocks) mean hashrate per segment, EH/s.
MONTHLY_HASHRATE_EHS = {
    (2024, 4): 625,
    (2024, 5): 599,
    (2024, 6): 580,
    (2024, 7): 615,
    (2024, 8): 631,
    (2024, 9): 641,
    (2024, 10): 704,
    (2024, 11): 731,
    (2024, 12): 779,
    (2025, 1): 781,
    (2025, 2): 810,
    (2025, 3): 816,
    (2025, 4): 870,
    (2025, 5): 897,
    (2025, 6): 868,
    (2025, 7): 902,
    (2025, 8): 949,
    (2025, 9): 1035,
    (2025, 10): 1082,
    (2025, 11): 1078,
}
DECEMBER_HASHRATE_EHS = 1048.0
COMPARE_HASHRATE_EHS = 1042.9
PERIOD_HASHRATE_CHANGE = -0.020

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


_K = np.arange(0, 600, dtype=float)
_LOG_K_FACTORIAL = np.array([math.lgamma(k + 1) for k in range(600)])


def poisson_ppf(u: float, lam: float) -> int:
    """The smallest k with P(Poisson(lam) <= k) >= u: monotone in lam for a fixed u."""
    cdf = np.cumsum(np.exp(_K * math.log(lam) - lam - _LOG_K_FACTORIAL))
    return int(np.searchsorted(cdf, u, side="left"))


def implied_ehs(difficulty: float) -> float:
    return difficulty * TWO_32 / 600 / 1e18


def reported_ehs(difficulty: int, blocks: int) -> float:
    """Coin Metrics' hashrate: the difficulty in force times the day's blocks."""
    return round(difficulty * TWO_32 * blocks / 86_400 / 1e18, 3)


# --- network.csv: the chain ------------------------------------------------------------------


@dataclass
class Chain:
    """The chain simulated day by day: blocks and difficulty so far, height and retarget state."""

    blocks: list[int] = field(default_factory=list)
    difficulty: list[int] = field(default_factory=list)
    height: int | None = None  # height of the next day's first block (None before the halving day)
    current: int = PRE_HALVING_DIFFICULTY[-1][1]
    epoch_start_s: float = 0.0  # seconds from FIRST_DAY 00:00 UTC to the current epoch's first block

    def copy(self) -> Chain:
        return Chain(list(self.blocks), list(self.difficulty), self.height, self.current, self.epoch_start_s)

    def _anchor_heights(self, i: int) -> None:
        """On the halving day: count heights back from block 840,000 and time the epoch's first block."""
        start = HALVING_HEIGHT
        for k in range(i - 1, -1, -1):
            start -= self.blocks[k]
            if start <= PRE_HALVING_EPOCH_START < start + self.blocks[k]:
                self.epoch_start_s = k * 86_400 + (PRE_HALVING_EPOCH_START - start + 0.5) * 86_400 / self.blocks[k]
                break
        else:
            raise AssertionError("the pre-halving epoch starts before the first day")
        self.height = HALVING_HEIGHT

    def step(self, i: int, latent_ehs: float, u: float) -> None:
        day = FIRST_DAY + timedelta(days=i)
        if day < HALVING_DAY:
            difficulty = [d for start, d in PRE_HALVING_DIFFICULTY if day >= start][-1]
        else:
            if self.height is None:
                self._anchor_heights(i)
            difficulty = self.current
        blocks = poisson_ppf(u, BLOCKS_PER_DAY * latent_ehs / implied_ehs(difficulty))
        self.blocks.append(blocks)
        self.difficulty.append(difficulty)
        if self.height is None:
            return
        first, self.height = self.height, self.height + blocks
        boundary = (self.height - 1) // RETARGET_INTERVAL * RETARGET_INTERVAL
        if boundary >= first:  # a multiple of 2,016 was mined today: retarget from tomorrow
            mined_s = i * 86_400 + (boundary - first + 0.5) * 86_400 / blocks
            ratio = EXPECTED_EPOCH_SECONDS / (mined_s - self.epoch_start_s)
            self.current = round(self.current * min(4.0, max(0.25, ratio)))
            self.epoch_start_s = mined_s

    def reported_mean(self, idx: range) -> float:
        return float(np.mean([reported_ehs(self.difficulty[i], self.blocks[i]) for i in idx]))


@dataclass(frozen=True)
class Segment:
    first: int  # day index
    last: int
    target_ehs: float | None


def hashrate_segments(days: list[date]) -> list[Segment]:
    """Calendar months to Nov 2025, then early/late December and the period, then the rest."""
    index = {d: i for i, d in enumerate(days)}
    out = []
    for (year, month), target in MONTHLY_HASHRATE_EHS.items():
        first = date(year, month, 1)
        last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
        out.append(Segment(index[max(first, FIRST_DAY)], index[last], float(target)))
    early = (DECEMBER_HASHRATE_EHS * 31 - COMPARE_HASHRATE_EHS * 14) / 17
    period = COMPARE_HASHRATE_EHS * (1 + PERIOD_HASHRATE_CHANGE)
    out.append(Segment(index[EARLY_DECEMBER[0]], index[EARLY_DECEMBER[1]], early))
    out.append(Segment(index[COMPARE[0]], index[COMPARE[1]], COMPARE_HASHRATE_EHS))
    out.append(Segment(index[PERIOD[0]], index[PERIOD[1]], period))
    if index[PERIOD[1]] < len(days) - 1:
        out.append(Segment(index[PERIOD[1]] + 1, len(days) - 1, None))
    return out


def simulate_chain(days: list[date]) -> Chain:
    """Steps 1-4 of the docstring: latent hashrate, Poisson blocks, retargets, calibrated segments."""
    n = len(days)
    latent = interp_knots(days, HASHRATE_KNOTS, log=True) * np.exp(ar1(_rng(1), n, *HASHRATE_WOBBLE))
    uniforms = _rng(2).random(n)
    chain = Chain()
    multiplier = 1.0
    for seg in hashrate_segments(days):
        idx = range(seg.first, seg.last + 1)

        def run(m: float, base: Chain = chain, idx: range = idx) -> Chain:
            trial = base.copy()
            for i in idx:
                trial.step(i, latent[i] * m, uniforms[i])
            return trial

        if seg.target_ehs is None:
            chain = run(multiplier)
            continue
        lo, hi = 0.6, 1.6
        best: tuple[float, float, Chain] | None = None
        for _ in range(48):
            mid = (lo + hi) / 2
            trial = run(mid)
            error = trial.reported_mean(idx) - seg.target_ehs
            if best is None or abs(error) < best[0]:
                best = (abs(error), mid, trial)
            if error < 0:
                lo = mid
            else:
                hi = mid
        assert best is not None  # the search ran its 48 rounds
        _, multiplier, chain = best
    return chain


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
