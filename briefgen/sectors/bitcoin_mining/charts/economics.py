"""Turn mining economics into charts: monthly revenue and profit, the sensitivity grid, fleet classes."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from briefgen import formatting as fmt
from briefgen.charts.spec import ChartSpec
from briefgen.sectors.bitcoin_mining.units import ehs

# matplotlib and the house style (briefgen.charts.style) are imported inside the drawing functions,
# so reading a chart's data or alt text never loads them.
if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

MONTHS_SHOWN = 13  # a year and the month before it: the same month last year is on the chart
SOURCE_ECONOMICS = "Source: network.csv; briefgen calculations (power price and fleet efficiency as assumed)"
SOURCE_NETWORK = "Source: network.csv; briefgen calculations"


# --- monthly revenue and gross profit per EH/s -------------------------------------------------

MONTHLY_COLUMNS = ["month", "revenue_usd_per_eh_day", "gross_profit_usd_per_eh_day", "gross_margin_pct"]


class MonthlyData(NamedTuple):
    monthly: pd.DataFrame  # month (datetime64), revenue, gross profit per EH/s per day, margin %


def select_monthly(monthly: pd.DataFrame) -> MonthlyData | None:
    if monthly is None or monthly.empty or any(c not in monthly.columns for c in MONTHLY_COLUMNS):
        return None
    frame = monthly[MONTHLY_COLUMNS].dropna().sort_values("month").tail(MONTHS_SHOWN).reset_index(drop=True)
    return MonthlyData(frame) if not frame.empty else None


def draw_monthly(data: MonthlyData) -> Figure:
    import matplotlib.lines as mlines
    import matplotlib.patches as mpatches

    from briefgen.charts import style as s

    fig, (ax,) = s.new_figure("full", top=0.65)
    frame = data.monthly
    x = np.arange(len(frame))
    revenue = frame["revenue_usd_per_eh_day"].to_numpy(dtype=float)
    profit = frame["gross_profit_usd_per_eh_day"].to_numpy(dtype=float)
    width = 0.38
    ax.bar(x - width / 2, revenue, width, color=s.PALETTE["navy"], zorder=2)
    ax.bar(x + width / 2, profit, width, color=s.PALETTE["teal"], zorder=2)
    s.y_range(ax, float(min(profit.min(), 0.0)), float(revenue.max()) * 1.07, nbins=8, zero=True)
    ax.yaxis.set_major_formatter(s.ticks(fmt.usd_k))
    ax.axhline(0, color=s.PALETTE["axis"], lw=0.6, zorder=3)
    for xi, top, margin in zip(
        x, np.maximum(revenue, profit), frame["gross_margin_pct"].to_numpy(dtype=float), strict=False
    ):
        ax.annotate(
            fmt.pct(margin, 0),
            xy=(xi, top),
            xytext=(0, 2.5),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=s.SMALL_SIZE,
            fontweight="semibold",
            color=s.PALETTE["amber_text"] if margin >= 0 else s.PALETTE["red"],
        )
    ax.set_xticks(x, [f"{m:%b-%y}" for m in frame["month"]])
    ax.set_xlim(-0.6, len(frame) - 0.4)
    s.unit_label(ax, "$/EH/s/day, fees included")
    s.top_legend(
        ax,
        [
            mpatches.Patch(color=s.PALETTE["navy"], label="Revenue"),
            mpatches.Patch(color=s.PALETTE["teal"], label="Gross profit"),
            mlines.Line2D([], [], color=s.PALETTE["amber"], marker="s", markersize=4, lw=0, label="Gross margin, %"),
        ],
    )
    return fig


def describe_monthly(data: MonthlyData) -> str:
    frame = data.monthly
    last = frame.iloc[-1]
    return (
        f"In {last['month']:%B %Y} revenue averaged {fmt.usd(last['revenue_usd_per_eh_day'])} and gross profit "
        f"{fmt.usd(last['gross_profit_usd_per_eh_day'])} per EH/s per day, a {fmt.pct(last['gross_margin_pct'])} "
        f"gross margin. Monthly bars from {frame['month'].iloc[0]:%B %Y}, with each month's gross margin above its "
        "bars."
    )


# --- hashprice sensitivity grid ----------------------------------------------------------------


@functools.cache
def _heat() -> Colormap:
    """The sensitivity grid's colour scale: pale where hashprice is low, navy where it is high.

    It steps at the middle from a light blue to a mid-dark one, skipping the band of mid blues on
    which neither white nor dark labels reach 4.5:1 contrast.
    """
    import matplotlib.colors as mcolors

    from briefgen.charts import style as s

    return mcolors.LinearSegmentedColormap.from_list(
        "briefgen_heat", [(0.0, "#EEF3F8"), (0.5, "#A9C0D8"), (0.5, "#3F6690"), (1.0, s.PALETTE["navy"])]
    )


def _luminance(rgb: Sequence[float]) -> float:
    """WCAG relative luminance of an sRGB colour (components 0-1)."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(float(c)) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: float, b: float) -> float:
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def _label_colour(fill: Sequence[float]) -> str:
    """White or the text colour, whichever reads better on the cell (the larger WCAG contrast)."""
    import matplotlib.colors as mcolors

    from briefgen.charts import style as s

    white, dark = s.PALETTE["white"], s.PALETTE["text"]
    cell = _luminance(fill)
    on_white = _contrast(cell, _luminance(mcolors.to_rgb(white)))
    on_dark = _contrast(cell, _luminance(mcolors.to_rgb(dark)))
    return white if on_white > on_dark else dark


class SensitivityData(NamedTuple):
    grid: pd.DataFrame  # index hashrate EH/s (ascending), columns BTC price USD (ascending), cells $/PH/s/day


def select_sensitivity(sensitivity: pd.DataFrame) -> SensitivityData | None:
    if sensitivity is None or sensitivity.empty:
        return None
    grid = sensitivity.sort_index(axis=0).sort_index(axis=1).astype(float)
    return SensitivityData(grid) if np.isfinite(grid.to_numpy()).all() else None


def draw_sensitivity(data: SensitivityData) -> Figure:
    import matplotlib.patches as mpatches

    from briefgen.charts import style as s

    fig, (ax,) = s.new_figure("half", left=1.45, bottom=0.85, right=0.15)
    grid = data.grid
    values = grid.to_numpy()
    rows, cols = values.shape
    lo, hi = float(values.min()), float(values.max())
    span = hi - lo or 1.0
    decimals = 1 if hi < 100 else 0
    base = (rows // 2, cols // 2)  # the grid is centred on the current price and hashrate
    for r in range(rows):
        for c in range(cols):
            level = (values[r, c] - lo) / span
            ax.add_patch(
                mpatches.Rectangle((c, r), 1, 1, facecolor=_heat()(level), edgecolor=s.PALETTE["white"], lw=0.8)
            )
            ax.text(
                c + 0.5,
                r + 0.5,
                fmt.usd(values[r, c], decimals),
                ha="center",
                va="center",
                fontsize=s.SMALL_SIZE,
                color=_label_colour(_heat()(level)),
                fontweight="bold" if (r, c) == base else "normal",
            )
    ax.add_patch(
        mpatches.Rectangle((base[1], base[0]), 1, 1, fill=False, edgecolor=s.PALETTE["amber"], lw=1.4, zorder=4)
    )
    ax.set_xlim(0, cols)
    ax.set_ylim(rows, 0)
    ax.grid(False)
    ax.spines["bottom"].set_visible(False)
    ax.tick_params(axis="x", length=0)
    ax.set_xticks(np.arange(cols) + 0.5, [fmt.usd_k(p) for p in grid.columns])
    ax.set_yticks(np.arange(rows) + 0.5, [fmt.num(h) for h in grid.index])
    ax.set_xlabel("BTC price", labelpad=3)
    ax.set_ylabel("Network hashrate, EH/s", labelpad=4)
    s.unit_label(ax, "Hashprice, $/PH/s/day (outlined: the period)")
    return fig


def describe_sensitivity(data: SensitivityData) -> str:
    grid = data.grid
    rows, cols = grid.shape
    base_h, base_p = grid.index[rows // 2], grid.columns[cols // 2]
    value = grid.iloc[rows // 2, cols // 2]
    return (
        f"At a BTC price of {fmt.usd(base_p)} and network hashrate of {ehs(base_h)}, hashprice "
        f"is {fmt.usd(value, 2)}/PH/s/day. The grid runs from {fmt.usd(grid.to_numpy().min(), 2)} "
        f"({fmt.usd(grid.columns[0])}, {ehs(grid.index[-1])}) to "
        f"{fmt.usd(grid.to_numpy().max(), 2)} ({fmt.usd(grid.columns[-1])}, {ehs(grid.index[0])})."
    )


# --- revenue per MWh by fleet-efficiency class -------------------------------------------------

FLEET_COLUMNS = ["class", "efficiency_j_per_th", "revenue_usd_per_mwh", "power_usd_per_mwh", "margin_pct"]


class FleetData(NamedTuple):
    classes: pd.DataFrame  # class, efficiency_j_per_th, revenue_usd_per_mwh, power_usd_per_mwh, margin_pct


def select_fleet(fleet_classes: pd.DataFrame) -> FleetData | None:
    if fleet_classes is None or fleet_classes.empty or any(c not in fleet_classes.columns for c in FLEET_COLUMNS):
        return None
    frame = fleet_classes[FLEET_COLUMNS].dropna().reset_index(drop=True)
    return FleetData(frame) if not frame.empty else None


def draw_fleet(data: FleetData) -> Figure:
    import matplotlib.patches as mpatches

    from briefgen.charts import style as s

    fig, (ax,) = s.new_figure("half", top=0.65)
    frame = data.classes
    x = np.arange(len(frame))
    revenue = frame["revenue_usd_per_mwh"].to_numpy(dtype=float)
    power = frame["power_usd_per_mwh"].to_numpy(dtype=float)
    width = 0.36
    ax.bar(x - width / 2, revenue, width, color=s.PALETTE["navy"], zorder=2)
    ax.bar(x + width / 2, power, width, color=s.PALETTE["grey"], zorder=2)
    s.y_range(ax, 0.0, float(max(revenue.max(), power.max())) * 1.15, nbins=5, zero=True)
    ax.yaxis.set_major_formatter(s.ticks(fmt.usd))
    for xi, top, margin in zip(x, np.maximum(revenue, power), frame["margin_pct"].to_numpy(dtype=float), strict=False):
        ax.annotate(
            f"{fmt.pct(margin, 0)} margin",
            xy=(xi, top),
            xytext=(0, 2.5),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=s.SMALL_SIZE,
            fontweight="semibold",
            color=s.PALETTE["amber_text"] if margin >= 0 else s.PALETTE["red"],
        )
    ax.set_xticks(x, list(frame["class"]))
    ax.set_xlim(-0.6, len(frame) - 0.4)
    s.unit_label(ax, "$/MWh")
    s.top_legend(
        ax,
        [
            mpatches.Patch(color=s.PALETTE["navy"], label="Revenue"),
            mpatches.Patch(color=s.PALETTE["grey"], label="Power cost"),
        ],
    )
    return fig


def describe_fleet(data: FleetData) -> str:
    frame = data.classes
    parts = "; ".join(
        f"{row['class']} {fmt.usd(row['revenue_usd_per_mwh'], 0)} ({fmt.pct(row['margin_pct'])} margin)"
        for _, row in frame.iterrows()
    )
    powers = sorted({round(float(p), 2) for p in frame["power_usd_per_mwh"]})
    power = fmt.usd(powers[0], 0) if len(powers) == 1 else "the assumed price"
    return f"Revenue per MWh by fleet-efficiency class against power at {power}/MWh: {parts}."


SPECS = (
    ChartSpec(
        name="revenue_per_eh",
        title="Revenue and gross profit per EH/s per day including fees, monthly",
        section="economics",
        width="full",
        source=SOURCE_ECONOMICS,
        reads=("series.monthly",),
        select=select_monthly,
        draw=draw_monthly,
        describe=describe_monthly,
    ),
    ChartSpec(
        name="hashprice_sensitivity",
        title="Hashprice sensitivity to BTC price and network hashrate, $/PH/s/day (the grid, shown once)",
        section="economics",
        width="half",
        source=SOURCE_NETWORK,
        reads=("sensitivity",),
        select=select_sensitivity,
        draw=draw_sensitivity,
        describe=describe_sensitivity,
    ),
    ChartSpec(
        name="fleet_classes",
        title="Revenue and power cost per MWh by fleet efficiency",
        section="economics",
        width="half",
        source=SOURCE_ECONOMICS,
        reads=("fleet_classes",),
        select=select_fleet,
        draw=draw_fleet,
        describe=describe_fleet,
    ),
)
