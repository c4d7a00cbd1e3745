"""Turn the network table's rows into the daily series: hashrate from difficulty, block heights, the day's subsidy.

Heights and hashrate decide the subsidy and every window figure, so the series is checked as a
series too (heights that fall, a day with neither hashrate nor difficulty, gaps).
"""

from __future__ import annotations

import pandas as pd

from briefgen.errors import Problem
from briefgen.inputs.tables import MAX_PROBLEMS, row_number, typed
from briefgen.sectors.bitcoin_mining.contract import NETWORK
from briefgen.sectors.bitcoin_mining.schedule import HALVING_DATES, block_reward_opportunity_btc

HASH_2_32 = 2.0**32


def finish_network(frame: pd.DataFrame, label: str, problems: list[Problem], warnings: list[Problem]) -> pd.DataFrame:
    """Derive hashrate from difficulty where needed, then block heights and the day's subsidy."""
    neither = frame["hashrate_ehs"].isna() & frame["difficulty"].isna() & frame["date"].notna()
    for number in frame.loc[neither, "_row"].head(MAX_PROBLEMS):
        problems.append(
            Problem(
                label,
                "no hashrate and no difficulty",
                row=int(number),
                column="hashrate_ehs",
                fix="give hashrate_ehs (EH/s) or difficulty",
            )
        )
    frame = typed(frame.sort_values("date", kind="stable").reset_index(drop=True), NETWORK)
    implied = frame["difficulty"] * HASH_2_32 / 600.0 / 1e18  # DOMAIN.md: implied hashrate = D x 2^32 / 600
    frame["hashrate_ehs"] = frame["hashrate_ehs"].fillna(implied)
    frame["blocks"] = frame["blocks"].astype("int64")
    gaps = frame["date"].diff().dt.days.fillna(1)
    if (gaps > 1).any():
        first_gap = frame.loc[gaps[gaps > 1].index[0], "date"]
        missing_days = int((gaps[gaps > 1] - 1).sum())
        warnings.append(
            Problem(
                label,
                f"{missing_days} day(s) missing from the daily series, first before {first_gap:%Y-%m-%d}",
                fix="window means use the days present",
            )
        )
    if frame["height"].notna().any():
        _check_heights(frame, gaps, label, problems, warnings)
    frame["height"] = _heights(frame, label, warnings)
    frame["subsidy_btc"] = _issuance(frame)
    return frame


def _check_heights(
    frame: pd.DataFrame, gaps: pd.Series, label: str, problems: list[Problem], warnings: list[Problem]
) -> None:
    """End-of-day heights rise by each day's blocks: a fall is an error, a mismatch a warning."""
    height, blocks = frame["height"].astype("float64"), frame["blocks"]
    rise = height.diff()
    below = height - blocks + 1 < 0  # the day's first block would have a negative height
    fall = rise <= 0
    for index in frame.index[below | fall][:MAX_PROBLEMS]:
        row, value = row_number(frame, index), int(height[index])
        if below[index]:
            message = f"height {value:,} is below the day's {int(blocks[index])} blocks"
        else:
            message = f"height {value:,} is not above the previous day's {int(height[index - 1]):,}"
        problems.append(
            Problem(
                label,
                message,
                row=row,
                column="height",
                fix="give each day's height at its last block; heights rise every day",
            )
        )
    mismatch = (gaps == 1) & ~fall & rise.notna() & (rise != blocks)
    if mismatch.any():
        index, more = frame.index[mismatch][0], int(mismatch.sum()) - 1
        warnings.append(
            Problem(
                label,
                f"height rises by {int(rise[index]):,} but blocks is {int(blocks[index])}"
                + (f" (and on {more} more day{'s' if more > 1 else ''})" if more else ""),
                row=row_number(frame, index),
                column="height",
                fix="check the heights or the block counts; the 4-year opportunity uses the heights",
            )
        )


def _heights(frame: pd.DataFrame, label: str, warnings: list[Problem]) -> pd.Series:
    """End-of-day block heights: the `height` column where given, else counted from a halving block."""
    given = frame["height"]
    if given.notna().all():
        return given.astype("int64")
    cumulative = frame["blocks"].cumsum()
    dates = frame["date"].dt.date
    inside = [(h, d) for h, d in HALVING_DATES if dates.iloc[0] <= d <= dates.iloc[-1]]
    if inside:
        anchor_height, anchor_day = inside[-1]
        # The halving block is taken as the first block of its UTC day (840,000 came at 00:09).
        before = int(cumulative[dates < anchor_day].iloc[-1]) if (dates < anchor_day).any() else 0
        return (anchor_height - 1 + cumulative - before).astype("int64")
    anchor_height, anchor_day = min(HALVING_DATES, key=lambda hd: abs((hd[1] - dates.iloc[0]).days))
    start = anchor_height + 144 * (dates.iloc[0] - anchor_day).days
    warnings.append(
        Problem(
            label,
            f"block heights estimated at 144 blocks a day from the halving of {anchor_day}",
            fix="add a 'height' column for an exact 4-year opportunity",
        )
    )
    return (start - frame["blocks"].iloc[0] + cumulative).astype("int64")


def _issuance(frame: pd.DataFrame) -> pd.Series:
    """BTC issued each day: the subsidy of each block mined that day, across a halving where one falls."""
    ends = frame["height"].to_numpy()
    starts = ends - frame["blocks"].to_numpy() + 1
    return pd.Series(
        [block_reward_opportunity_btc(int(s), int(e - s + 1)) for s, e in zip(starts, ends, strict=False)],
        index=frame.index,
        dtype="float64",
    )
