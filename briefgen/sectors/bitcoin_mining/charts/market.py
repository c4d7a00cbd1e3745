"""Turn the listed miners, their equities and their valuation into charts."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from briefgen import formatting as fmt
from briefgen.charts.spec import ChartSpec
from briefgen.sectors.bitcoin_mining.units import ehs

# matplotlib and the house style (briefgen.charts.style) are imported inside the drawing functions,
# so reading a chart's data or alt text never loads them.
if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SOURCE_MINERS = "Source: miner_hashrate.csv, network.csv; briefgen calculations"
SOURCE_CAPS = "Source: market_caps.csv; briefgen calculations"
SOURCE_VALUATION = "Source: market_caps.csv, network.csv; briefgen calculations"
MARKERS_UP_TO = 40  # sparse series (monthly reports, a few dates) get a marker on each point


def _day(value: pd.Timestamp | date) -> date:
    return pd.Timestamp(value).date()


class LineData(NamedTuple):
    frame: pd.DataFrame  # date (datetime64) + the chart's columns, no missing values


def _line_slice(frame: pd.DataFrame | None, columns: list[str]) -> LineData | None:
    if frame is None or frame.empty or any(c not in frame.columns for c in ["date", *columns]):
        return None
    frame = frame[["date", *columns]].dropna().sort_values("date").reset_index(drop=True)
    return LineData(frame) if not frame.empty else None


def _line(ax: Axes, frame: pd.DataFrame, y: np.ndarray, color: str, label: str, fill: bool = False) -> None:
    import matplotlib.dates as mdates

    from briefgen.charts import style as s

    x = mdates.date2num(frame["date"].to_numpy(dtype="datetime64[s]"))
    marker = "o" if len(x) <= MARKERS_UP_TO else None
    ax.plot(x, y, color=color, lw=1.3, marker=marker, markersize=2.2, zorder=3)
    if fill:
        ax.fill_between(x, y, ax.get_ylim()[0], color=color, alpha=0.08, lw=0, zorder=1)
    start, end = _day(frame["date"].iloc[0]), _day(frame["date"].iloc[-1])
    s.date_axis(ax, start, end)
    if start == end:  # a single point: give it a visible week either side
        ax.set_xlim(x[0] - 7, x[0] + 8)
    elif marker:  # keep the first marker whole
        lo, hi = ax.get_xlim()
        ax.set_xlim(lo - (hi - lo) * 0.02, hi)
    s.end_label(ax, float(x[-1]), float(y[-1]), label, color)


# --- listed miners' share of the network -------------------------------------------------------


def select_share(listed_share: pd.DataFrame) -> LineData | None:
    return _line_slice(listed_share, ["listed_ehs", "network_ehs", "share_pct"])


def draw_share(data: LineData) -> Figure:
    from briefgen.charts import style as s

    fig, (ax,) = s.new_figure("half")
    share = data.frame["share_pct"].to_numpy(dtype=float)
    s.y_range(ax, float(share.min()) - 2, float(share.max()) + 2, nbins=5)
    ax.yaxis.set_major_formatter(s.ticks(fmt.pct))
    _line(ax, data.frame, share, s.PALETTE["navy"], fmt.pct(share[-1], 0))
    s.unit_label(ax, "Listed miners' share of network hashrate, %")
    return fig


def describe_share(data: LineData) -> str:
    first, last = data.frame.iloc[0], data.frame.iloc[-1]
    return (
        f"The listed miners held {fmt.pct(last['share_pct'])} of network hashrate on {fmt.short_date(last['date'])} "
        f"({fmt.num(last['listed_ehs'])} of {ehs(last['network_ehs'])}), against "
        f"{fmt.pct(first['share_pct'])} on {fmt.short_date(first['date'])}."
    )


# --- listed hashrate by ticker, with capacity added ---------------------------------------------


class MinerData(NamedTuple):
    by_ticker: pd.DataFrame  # ticker, hashrate_ehs, hashrate_start_ehs, added_ehs; largest first
    since: date
    to: date


def select_miners(by_ticker: pd.DataFrame | None, since: date | None, to: date | None) -> MinerData | None:
    columns = ["ticker", "hashrate_ehs", "hashrate_start_ehs", "added_ehs"]
    if by_ticker is None or by_ticker.empty or any(c not in by_ticker.columns for c in columns):
        return None
    frame = by_ticker[columns].dropna(subset=["hashrate_ehs"]).fillna({"hashrate_start_ehs": 0.0, "added_ehs": 0.0})
    frame = frame.sort_values(["hashrate_ehs", "ticker"], ascending=[False, True]).reset_index(drop=True)
    assert since is not None and to is not None  # MinerFigures' dates: set whenever by_ticker is
    return MinerData(frame, since, to) if not frame.empty else None


def draw_miners(data: MinerData) -> Figure:
    import matplotlib.patches as mpatches

    from briefgen.charts import style as s

    frame = data.by_ticker
    fig, (ax,) = s.new_figure("half", left=0.95, right=0.2, top=0.65, bottom=0.45)
    now = frame["hashrate_ehs"].to_numpy(dtype=float)
    added = frame["added_ehs"].to_numpy(dtype=float)
    y = np.arange(len(frame))
    base = np.where(added > 0, now - added, now)
    height = 0.68
    ax.barh(y, base, height, color=s.PALETTE["navy"], zorder=2)
    ax.barh(y, np.clip(added, 0, None), height, left=base, color=s.PALETTE["amber"], zorder=2)
    ax.barh(
        y,
        np.clip(-added, 0, None),
        height,
        left=now,
        color=s.PALETTE["white"],
        edgecolor=s.PALETTE["grey"],
        lw=0.5,
        zorder=2,
    )
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.spines["bottom"].set_visible(False)
    ax.spines["left"].set_visible(True)
    ax.tick_params(axis="x", length=0)
    right = float(np.maximum(now, now - added).max())
    ax.set_xlim(0, right * 1.25)
    ax.xaxis.set_major_formatter(s.ticks(fmt.num))
    for yi, total, change in zip(y, now, added, strict=False):
        text = fmt.num(total, 1)  # one precision for every bar, as in the table beside it
        if round(change, 1) != 0:
            text += f" ({'+' if change > 0 else fmt.MINUS}{abs(change):.1f})"
        ax.annotate(
            text,
            xy=(max(total, total - change), yi),
            xytext=(3, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=s.SMALL_SIZE - 0.5,
            color=s.PALETTE["text"],
        )
    ax.set_yticks(y, list(frame["ticker"]))
    ax.set_ylim(len(frame) - 0.4, -0.6)
    s.unit_label(ax, "EH/s")
    s.top_legend(
        ax,
        [
            mpatches.Patch(color=s.PALETTE["navy"], label=f"Held on {fmt.day_month(data.since)}"),
            mpatches.Patch(color=s.PALETTE["amber"], label="Added since"),
        ],
    )
    return fig


def describe_miners(data: MinerData) -> str:
    frame = data.by_ticker
    total, added = float(frame["hashrate_ehs"].sum()), float(frame["added_ehs"].sum())
    growers = frame[frame["added_ehs"] > 0].sort_values(["added_ehs", "ticker"], ascending=[False, True]).head(2)
    led = " and ".join(f"{r['ticker']} ({ehs(r['added_ehs'], 1, sign=True)})" for _, r in growers.iterrows())
    top = frame.iloc[0]
    direction = "more" if added >= 0 else "less"
    return (
        f"The tracked miners had {ehs(total)} on {fmt.short_date(data.to)}, {ehs(abs(added), 1)} {direction} "
        f"than on {fmt.short_date(data.since)}{', led by ' + led if led else ''}. {top['ticker']} is the largest at "
        f"{ehs(top['hashrate_ehs'])}."
    )


# --- combined market cap -----------------------------------------------------------------------


def select_caps(market_cap: pd.DataFrame) -> LineData | None:
    return _line_slice(market_cap, ["market_cap_usd"])


def draw_caps(data: LineData) -> Figure:
    from briefgen.charts import style as s

    fig, (ax,) = s.new_figure("half")
    caps = data.frame["market_cap_usd"].to_numpy(dtype=float)
    s.y_range(ax, 0.0, float(caps.max()) * 1.05, nbins=5, zero=True)
    ax.yaxis.set_major_formatter(s.ticks(fmt.usd_bn))
    _line(ax, data.frame, caps, s.PALETTE["navy"], fmt.usd_bn(caps[-1]), fill=True)
    s.unit_label(ax, "Combined market cap, USD")
    return fig


def describe_caps(data: LineData) -> str:
    first, last = data.frame.iloc[0], data.frame.iloc[-1]
    return (
        f"The tracked miners' combined market cap was {fmt.usd(last['market_cap_usd'])} on "
        f"{fmt.short_date(last['date'])}, against {fmt.usd(first['market_cap_usd'])} on "
        f"{fmt.short_date(first['date'])}."
    )


# --- market cap against the 4-year block-reward opportunity ------------------------------------


def select_opportunity(market_cap: pd.DataFrame) -> LineData | None:
    return _line_slice(market_cap, ["opportunity_4y_usd", "market_cap_to_opportunity_pct"])


def draw_opportunity(data: LineData) -> Figure:
    from briefgen.charts import style as s

    fig, (ax,) = s.new_figure("full")
    ratio = data.frame["market_cap_to_opportunity_pct"].to_numpy(dtype=float)
    s.y_range(ax, min(float(ratio.min()), 100.0) - 5, max(float(ratio.max()), 100.0) + 5, nbins=5)
    ax.yaxis.set_major_formatter(s.ticks(fmt.pct))
    ax.axhline(100, color=s.PALETTE["muted"], lw=0.7, ls=(0, (3, 2)), zorder=2)
    _line(ax, data.frame, ratio, s.PALETTE["teal"], fmt.pct(ratio[-1], 0))
    s.unit_label(ax, "Combined market cap / 4-year block-reward opportunity, %")
    return fig


def describe_opportunity(data: LineData) -> str:
    last = data.frame.iloc[-1]
    return (
        f"Combined market cap was {fmt.pct(last['market_cap_to_opportunity_pct'])} of the 4-year block-reward "
        f"opportunity ({fmt.usd(last['opportunity_4y_usd'])}) on {fmt.short_date(last['date'])}. "
        f"Daily from {fmt.short_date(data.frame['date'].iloc[0])}; the dashed line marks 100%."
    )


# --- market-cap change by ticker against BTC ---------------------------------------------------


class EquityData(NamedTuple):
    by_ticker: pd.DataFrame  # ticker, change_pct; best first
    btc_change_pct: float
    start: date
    end: date


def select_equities(
    by_ticker: pd.DataFrame | None, btc_change_pct: float | None, start: date | None, end: date | None
) -> EquityData | None:
    if by_ticker is None or by_ticker.empty or btc_change_pct is None:
        return None
    frame = by_ticker[["ticker", "change_pct"]].dropna()
    frame = frame.sort_values(["change_pct", "ticker"], ascending=[False, True]).reset_index(drop=True)
    assert start is not None and end is not None  # EquityFigures' dates: set whenever by_ticker is
    return EquityData(frame, float(btc_change_pct), start, end) if not frame.empty else None


def draw_equities(data: EquityData) -> Figure:
    import matplotlib.lines as mlines

    from briefgen.charts import style as s

    frame = data.by_ticker
    fig, (ax,) = s.new_figure("half", left=0.95, right=0.2, top=0.65, bottom=0.45)
    change = frame["change_pct"].to_numpy(dtype=float)
    y = np.arange(len(frame))
    colors = [s.PALETTE["navy"] if c >= 0 else s.PALETTE["red"] for c in change]
    ax.barh(y, change, 0.68, color=colors, zorder=2)
    ax.axvline(0, color=s.PALETTE["axis"], lw=0.6, zorder=3)
    ax.axvline(data.btc_change_pct, color=s.PALETTE["amber"], lw=1.0, ls=(0, (3, 2)), zorder=1.5)
    lo, hi = min(float(change.min()), data.btc_change_pct, 0.0), max(float(change.max()), data.btc_change_pct, 0.0)
    pad = (hi - lo) * 0.16
    ax.set_xlim(lo - (pad if lo < 0 else 0), hi + pad)
    for yi, value in zip(y, change, strict=False):
        ax.annotate(
            fmt.signed_pct(value, 0),
            xy=(value, yi),
            xytext=(3 if value >= 0 else -3, 0),
            textcoords="offset points",
            ha="left" if value >= 0 else "right",
            va="center",
            fontsize=s.SMALL_SIZE - 0.5,
            color=s.PALETTE["text"],
            bbox={"boxstyle": "square,pad=0.1", "facecolor": s.PALETTE["white"], "edgecolor": "none"},
            zorder=5,
        )
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.spines["bottom"].set_visible(False)
    ax.tick_params(axis="x", length=0)
    ax.tick_params(axis="y", length=0)
    ax.xaxis.set_major_formatter(s.ticks(fmt.signed_pct))
    ax.set_yticks(y, list(frame["ticker"]))
    ax.set_ylim(len(frame) - 0.4, -0.6)
    s.unit_label(ax, f"Market-cap change, {fmt.day_month(data.start)} to {fmt.day_month(data.end)}")
    s.top_legend(
        ax,
        [
            mlines.Line2D(
                [],
                [],
                color=s.PALETTE["amber"],
                lw=1.0,
                ls=(0, (3, 2)),
                label=f"BTC {fmt.signed_pct(data.btc_change_pct, 0)}",
            )
        ],
    )
    return fig


def describe_equities(data: EquityData) -> str:
    frame = data.by_ticker
    best, worst = frame.iloc[0], frame.iloc[-1]
    beat = int((frame["change_pct"] > data.btc_change_pct).sum())
    return (
        f"From {fmt.short_date(data.start)} to {fmt.short_date(data.end)} {best['ticker']}'s market cap did best "
        f"({fmt.signed_pct(best['change_pct'])}) and {worst['ticker']}'s worst "
        f"({fmt.signed_pct(worst['change_pct'])}); "
        f"{beat} of {len(frame)} beat BTC's {fmt.signed_pct(data.btc_change_pct)}."
    )


SPECS = (
    ChartSpec(
        name="listed_share",
        title="Listed miners' share of network hashrate",
        section="miners",
        width="half",
        source=SOURCE_MINERS,
        reads=("series.listed_share",),
        select=select_share,
        draw=draw_share,
        describe=describe_share,
    ),
    ChartSpec(
        name="miner_hashrate",
        title="Hashrate by listed miner, with capacity added",
        section="miners",
        width="half",
        source=SOURCE_MINERS,
        reads=("miners.by_ticker", "miners.capacity_since", "miners.capacity_to"),
        select=select_miners,
        draw=draw_miners,
        describe=describe_miners,
    ),
    ChartSpec(
        name="market_cap",
        title="Combined market cap of the tracked miners",
        section="equities",
        width="half",
        source=SOURCE_CAPS,
        reads=("series.market_cap",),
        select=select_caps,
        draw=draw_caps,
        describe=describe_caps,
    ),
    ChartSpec(
        name="equities_vs_btc",
        title="Market-cap change by company against BTC",
        section="equities",
        width="half",
        source=SOURCE_CAPS,
        reads=("equities.by_ticker", "equities.btc_change_pct", "equities.start", "equities.end"),
        select=select_equities,
        draw=draw_equities,
        describe=describe_equities,
    ),
    ChartSpec(
        name="market_cap_to_opportunity",
        title="Combined market cap against the 4-year block-reward opportunity",
        section="valuation",
        width="full",  # the valuation section's one chart
        source=SOURCE_VALUATION,
        reads=("series.market_cap",),
        select=select_opportunity,
        draw=draw_opportunity,
        describe=describe_opportunity,
    ),
)
