"""Turn block heights and dates into Bitcoin's issuance: subsidy per block and the 4-year opportunity."""

from __future__ import annotations

from datetime import date

BLOCKS_PER_DAY = 144
HALVING_INTERVAL = 210_000
INITIAL_SUBSIDY_BTC = 50.0
RETARGET_INTERVAL = 2_016
# 4 x 365 x 144 blocks: the "4-year block-reward opportunity" window.
OPPORTUNITY_BLOCKS = 4 * 365 * BLOCKS_PER_DAY

# UTC days on which each halving block was mined (heights 210,000 x n).
HALVING_DATES: tuple[tuple[int, date], ...] = (
    (210_000, date(2012, 11, 28)),
    (420_000, date(2016, 7, 9)),
    (630_000, date(2020, 5, 11)),
    (840_000, date(2024, 4, 20)),
)


def subsidy_at_height(height: int) -> float:
    """The subsidy (BTC) of the block at `height`."""
    era = height // HALVING_INTERVAL
    return 0.0 if era >= 64 else INITIAL_SUBSIDY_BTC / (2**era)


def subsidy_on(day: date) -> float:
    """The subsidy (BTC) in force on a UTC day, from the known halving dates.

    Days after the last known halving keep its subsidy: the next halving (block 1,050,000) is
    expected around April 2028, and heights, where known, decide it (see subsidy_at_height).
    """
    era = sum(1 for _, d in HALVING_DATES if day >= d)
    return INITIAL_SUBSIDY_BTC / (2**era)


def block_reward_opportunity_btc(height: int, blocks: int = OPPORTUNITY_BLOCKS) -> float:
    """Sum the subsidy over `blocks` blocks from `height` on, crossing a halving where the range does."""
    total = 0.0
    start, end = height, height + blocks  # blocks start .. end-1
    while start < end:
        era_end = (start // HALVING_INTERVAL + 1) * HALVING_INTERVAL
        stop = min(end, era_end)
        total += (stop - start) * subsidy_at_height(start)
        start = stop
    return total
