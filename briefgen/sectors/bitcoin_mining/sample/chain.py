"""Turn the latent hashrate into the sample's chain: blocks and difficulty day by day (steps 1-4 of
the sample package's docstring), calibrated to the reported hashrate of each month and window.

network.py adds fees and the price to make network.csv; this module knows only Bitcoin's rules
(Poisson block arrivals, the 2,016-block retarget, the halving's height) and the hashrate targets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from briefgen.sectors.bitcoin_mining.sample.common import (
    COMPARE,
    EARLY_DECEMBER,
    FIRST_DAY,
    PERIOD,
    _rng,
    ar1,
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
