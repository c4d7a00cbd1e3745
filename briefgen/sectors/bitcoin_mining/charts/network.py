"""Turn the daily network series into the hashprice and hashrate/difficulty charts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from briefgen import formatting as fmt
from briefgen.charts.spec import ChartSpec
from briefgen.sectors.bitcoin_mining import units

# matplotlib and the house style (briefgen.charts.style) are imported inside the drawing functions,
# so reading a chart's data or alt text never loads them.
if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from briefgen.inputs.config import Window

# Daily charts show a year to the last day of data (stretched back to include the compare window).
LOOKBACK_DAYS = 365
SOURCE_NETWORK = "Source: network.csv; briefgen calculations"


class DailyData(NamedTuple):
    daily: pd.DataFrame  # date (datetime64) + the chart's columns, no missing values
    start: date
    end: date
    period: Window
    compare: Window


def _daily_slice(daily: pd.DataFrame, period: Window, compare: Window, columns: list[str]) -> DailyData | None:
    if daily is None or daily.empty or any(c not in daily.columns for c in columns):
        return None
    frame = daily[["date", *columns]].dropna()
    if frame.empty:
        return None
    end = pd.Timestamp(frame["date"].max()).date()
    start = min(end - timedelta(days=LOOKBACK_DAYS - 1), compare.start - timedelta(days=14))
    start = max(start, pd.Timestamp(frame["date"].min()).date())
    frame = frame[frame["date"] >= pd.Timestamp(start)].reset_index(drop=True)
    return DailyData(frame, start, end, period, compare)


def _x(frame: pd.DataFrame) -> np.ndarray:
    import matplotlib.dates as mdates

    return mdates.date2num(frame["date"].to_numpy(dtype="datetime64[s]"))


def _windows(ax: Axes, data: DailyData) -> list[Patch]:
    from briefgen.charts import style as s

    return [
        s.shade_window(
            ax, data.compare.start, data.compare.end, s.PALETTE["compare"], f"Compare: {data.compare.label}"
        ),
        s.shade_window(ax, data.period.start, data.period.end, s.PALETTE["period"], f"Period: {data.period.label}"),
    ]


# --- hashprice ---------------------------------------------------------------------------------

HASHPRICE_COLUMNS = ["hashprice_usd_per_ph_day", "hashprice_btc_per_ph_day"]


def select_hashprice(daily: pd.DataFrame, period: Window, compare: Window) -> DailyData | None:
    return _daily_slice(daily, period, compare, HASHPRICE_COLUMNS)


def draw_hashprice(data: DailyData) -> Figure:
    from briefgen.charts import style as s

    fig, (left, right) = s.new_figure("full", ncols=2, bottom=0.95, right=0.2)
    x = _x(data.daily)
    panels = (
        (left, "hashprice_usd_per_ph_day", s.PALETTE["navy"], "$/PH/s/day", s.ticks(fmt.usd), lambda v: fmt.usd(v, 2)),
        (
            right,
            "hashprice_btc_per_ph_day",
            s.PALETTE["teal"],
            "BTC/PH/s/day",
            s.ticks(fmt.num),
            lambda v: fmt.num(v, 6),
        ),
    )
    for ax, column, color, unit, formatter, label in panels:
        y = data.daily[column].to_numpy(dtype=float)
        handles = _windows(ax, data)
        ax.plot(x, y, color=color, lw=0.9)
        s.date_axis(ax, data.start, data.end)
        s.y_range(ax, float(y.min()), float(y.max()), nbins=5)
        ax.yaxis.set_major_formatter(formatter)
        s.unit_label(ax, unit, color=color)
        s.end_label(ax, x[-1], float(y[-1]), label(float(y[-1])), color)
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=2)
    return fig


def describe_hashprice(data: DailyData) -> str:
    last = data.daily.iloc[-1]
    return (
        f"Hashprice was {fmt.usd(last['hashprice_usd_per_ph_day'], 2)}/PH/s/day "
        f"({units.btc(last['hashprice_btc_per_ph_day'])}/PH/s/day) on {fmt.short_date(last['date'])}. "
        f"Daily hashprice in USD (left) and BTC (right) from {fmt.short_date(data.start)}, with the period "
        f"({data.period.label}) and compare window ({data.compare.label}) shaded."
    )


# --- hashrate and difficulty -------------------------------------------------------------------


def select_hashrate(daily: pd.DataFrame, period: Window, compare: Window) -> DailyData | None:
    return _daily_slice(daily, period, compare, ["hashrate_7d_ehs", "difficulty"])


def draw_hashrate(data: DailyData) -> Figure:
    from briefgen.charts import style as s

    fig, (ax,) = s.new_figure("full", right=1.0)
    x = _x(data.daily)
    hashrate = data.daily["hashrate_7d_ehs"].to_numpy(dtype=float)
    difficulty = data.daily["difficulty"].to_numpy(dtype=float) / 1e12
    handles = _windows(ax, data)
    ax.plot(x, hashrate, color=s.PALETTE["navy"], lw=1.2, zorder=3)
    s.date_axis(ax, data.start, data.end)
    intervals = s.y_range(ax, float(hashrate.min()), float(hashrate.max()), nbins=5)
    ax.yaxis.set_major_formatter(s.ticks(fmt.num))
    s.unit_label(ax, "Hashrate, 7-day average, EH/s", color=s.PALETTE["navy"])
    s.end_label(ax, x[-1], float(hashrate[-1]), fmt.num(float(hashrate[-1])), s.PALETTE["navy"])

    twin = ax.twinx()
    twin.spines["right"].set_visible(False)
    twin.plot(x, difficulty, color=s.PALETTE["teal"], lw=1.0, drawstyle="steps-post", zorder=2)
    s.twin_range(twin, float(difficulty.min()), float(difficulty.max()), intervals)
    twin.yaxis.set_major_formatter(s.ticks(fmt.num))
    s.unit_label(twin, "Difficulty, T", side="right", color=s.PALETTE["teal"])
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, borderaxespad=0.5)
    return fig


def describe_hashrate(data: DailyData) -> str:
    last = data.daily.iloc[-1]
    return (
        f"Network hashrate (7-day average) was {units.ehs(last['hashrate_7d_ehs'])} and difficulty "
        f"{units.difficulty(last['difficulty'])} on {fmt.short_date(last['date'])}. Daily from "
        f"{fmt.short_date(data.start)}, hashrate on the "
        f"left axis and difficulty on the right, with the period ({data.period.label}) and compare window shaded."
    )


SPECS = (
    ChartSpec(
        name="network_hashrate",
        title="Network hashrate (7-day average) and difficulty",
        section="network",
        width="full",
        source=SOURCE_NETWORK,
        reads=("series.daily", "period", "compare"),
        select=select_hashrate,
        draw=draw_hashrate,
        describe=describe_hashrate,
    ),
    ChartSpec(
        name="hashprice",
        title="Hashprice, $/PH/s/day and BTC/PH/s/day",
        section="economics",
        width="full",
        source=SOURCE_NETWORK,
        reads=("series.daily", "period", "compare"),
        select=select_hashprice,
        draw=draw_hashprice,
        describe=describe_hashprice,
    ),
)
