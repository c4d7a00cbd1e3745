"""Turn a drawn Figure into house-style SVG bytes: palette, fonts, sizes, tick formats, axes helpers.

The one place the brief's chart look is defined. Text stays real text in the SVG (svg.fonttype
"none") so WeasyPrint sets it in the document's Inter and it stays searchable in the PDF; matplotlib
lays it out with the same Inter files, so widths match.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal

import matplotlib
import matplotlib.dates as mdates
from cycler import cycler
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath
from matplotlib.ticker import Formatter, MaxNLocator, MultipleLocator

from briefgen import formatting as fmt
from briefgen.charts.svg import lighten
from briefgen.resources import FONTS_DIR

if TYPE_CHECKING:  # a name for the type checker only: spec imports this module when it draws, never the reverse
    from matplotlib.typing import RcKeyType

    from briefgen.charts.spec import Width

FONT_DIR = FONTS_DIR
FONT_FAMILY = "Inter"
# What the SVGs name after Inter: matplotlib lays the text out in Inter (bundled, found first), and a
# browser showing the chart through <img> (brief.html, `serve`), which cannot use the page's
# @font-face, falls back to a sans-serif rather than its default serif.
FONT_FAMILIES = [FONT_FAMILY, "sans-serif"]
FALLBACK_SANS = [FONT_FAMILY, "Helvetica Neue", "Arial"]

# Restrained research-desk palette: navy carries the main series, teal the second, amber highlights.
PALETTE = {
    "navy": "#0B2545",
    "teal": "#13807A",
    "amber": "#D4862B",
    "amber_text": "#B06A17",  # amber dark enough to read as small text on white
    "red": "#B5403A",
    "slate": "#8DA9C4",
    "grey": "#9AA3AD",
    "grid": "#DADFE4",
    "axis": "#4A5562",
    "text": "#1F2933",
    "muted": "#5F6B78",
    "compare": "#E9ECEF",
    "period": "#F6E3C8",
    "white": "#FFFFFF",
}

# Page geometry: A4 with ~17 cm text width; charts are full width or half width.
CM = 1 / 2.54
SIZES_CM: dict[Width, tuple[float, float]] = {"full": (17.0, 6.5), "half": (8.2, 6.0)}

TICK_SPACING_CM = 1.4  # the least room a date tick label gets
TEXT_SIZE = 7.0
SMALL_SIZE = 6.5

RC: dict[RcKeyType, Any] = {
    "font.family": FONT_FAMILIES,
    "font.sans-serif": FALLBACK_SANS,
    "font.size": TEXT_SIZE,
    "text.color": PALETTE["text"],
    "svg.fonttype": "none",
    "svg.hashsalt": "briefgen",
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "axes.edgecolor": PALETTE["axis"],
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.spines.left": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "axes.labelcolor": PALETTE["muted"],
    "axes.labelsize": SMALL_SIZE,
    "axes.unicode_minus": True,
    "axes.formatter.use_mathtext": False,
    "axes.prop_cycle": cycler(color=[PALETTE["navy"], PALETTE["teal"], PALETTE["amber"], PALETTE["grey"]]),
    "grid.color": PALETTE["grid"],
    "grid.linewidth": 0.5,
    "xtick.color": PALETTE["axis"],
    "xtick.labelcolor": PALETTE["muted"],
    "xtick.labelsize": SMALL_SIZE,
    "xtick.major.size": 2.5,
    "xtick.major.width": 0.6,
    "xtick.major.pad": 2.5,
    "ytick.labelcolor": PALETTE["muted"],
    "ytick.labelsize": SMALL_SIZE,
    "ytick.major.size": 0,
    "ytick.major.pad": 2.0,
    "lines.linewidth": 1.2,
    "lines.solid_joinstyle": "round",
    "patch.linewidth": 0,
    "legend.frameon": False,
    "legend.fontsize": SMALL_SIZE,
    "legend.handlelength": 1.3,
    "legend.handleheight": 0.6,
    "legend.handletextpad": 0.4,
    "legend.columnspacing": 1.2,
    "legend.borderpad": 0.0,
    "legend.borderaxespad": 0.0,
    "path.simplify": True,
    # Unhinted outlines: exact design advances, as WeasyPrint lays the text out, and faster layout.
    "text.hinting": "no_hinting",
}

_registered = False


def register_fonts() -> None:
    """Register the bundled Inter faces with matplotlib once per process."""
    global _registered
    if _registered:
        return
    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    for path in sorted(FONT_DIR.glob("Inter-*.otf")):
        if str(path) not in known:
            font_manager.fontManager.addfont(str(path))
    _registered = True


def _figure(ax: Axes) -> Figure:
    """The top-level figure an axes is drawn on (charts never use subfigures)."""
    figure = ax.get_figure(root=True)
    assert isinstance(figure, Figure)
    return figure


@contextmanager
def house_style() -> Iterator[None]:
    """Apply the house rcParams for the duration of a drawing, leaving global state untouched."""
    register_fonts()
    with matplotlib.rc_context(RC):
        yield


def new_figure(
    width: Width,
    left: float = 1.0,
    right: float = 0.35,
    top: float = 0.6,
    bottom: float = 0.5,
    ncols: int = 1,
    gap: float = 1.4,
) -> tuple[Figure, list[Axes]]:
    """A figure of the chart's fixed page size with ncols axes and fixed margins in cm.

    Fixed margins rather than a layout engine: the same plot area on every chart of a width, and
    one draw per save instead of three (constrained layout costs ~60 ms a chart).
    """
    w, h = SIZES_CM[width]
    fig = Figure(figsize=(w * CM, h * CM))
    axes = fig.subplots(1, ncols, squeeze=False)[0].tolist()
    axis_width = (w - left - right - gap * (ncols - 1)) / ncols
    fig.subplots_adjust(
        left=left / w,
        right=1 - right / w,
        top=1 - top / h,
        bottom=bottom / h,
        wspace=gap / axis_width,
    )
    return fig, axes


def to_svg(fig: Figure) -> bytes:
    """Serialise a figure to SVG bytes with no date or version stamp, so equal data gives equal bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return lighten(buf.getvalue())


# --- numbers on axes: the desk's own forms (briefgen.formatting), decimals from the tick step ---


class _DeskTicks(Formatter):
    """Tick labels in one of briefgen.formatting's forms, with as many decimals as the tick step needs."""

    def __init__(self, fn: Callable[[float, int], str], scale: float) -> None:
        self.fn, self.scale, self.decimals = fn, scale, 0

    def set_locs(self, locs: list[float]) -> None:
        super().set_locs(locs)
        steps = [b - a for a, b in itertools.pairwise(locs) if b > a]
        step = min(steps) / self.scale if steps else 1.0
        self.decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.fn(x, self.decimals)


def ticks(fn: Callable[[float, int], str]) -> Formatter:
    """A tick formatter from one of briefgen.formatting's number forms: num, usd, pct, signed_pct, usd_k, usd_bn.

    The form is called with the tick and its decimals: 1,000 / $40 / 41% / +5% / $40k / $62bn.
    """
    scale = 1e3 if fn is fmt.usd_k else 1e9 if fn is fmt.usd_bn else 1.0  # the steps of a scaled axis, in its unit
    return _DeskTicks(fn, scale)


# --- axes ----------------------------------------------------------------------------------------


def unit_label(ax: Axes, text: str, side: Literal["left", "right"] = "left", color: str | None = None) -> None:
    """The y-axis unit, set horizontally above the axis the way research notes do."""
    x, ha = (0.0, "left") if side == "left" else (1.0, "right")
    ax.annotate(
        text,
        xy=(x, 1.0),
        xycoords="axes fraction",
        xytext=(0, 5),
        textcoords="offset points",
        ha=ha,
        va="bottom",
        fontsize=SMALL_SIZE,
        color=color or PALETTE["muted"],
        fontweight="medium",
    )


def top_legend(ax: Axes, handles: list, ncols: int | None = None) -> None:
    """A frameless one-line legend above the plot, right-aligned so the unit label keeps the left."""
    ax.legend(
        handles=handles,
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncols=ncols or len(handles),
        borderaxespad=0.5,
    )


def date_axis(ax: Axes, start: date, end: date) -> None:
    """Date ticks within start..end: months labelled Jan-25, or days for short spans, at least 1.4 cm apart.

    Ticks are fixed, so widening the x range later (room for a value label) adds no empty months.
    """
    fig_w, _ = _figure(ax).get_size_inches()
    most = max(3, int(ax.get_position().width * fig_w / (TICK_SPACING_CM * CM)))
    months = (end.year - start.year) * 12 + end.month - start.month
    if months >= 3:
        step = next((n for n in (1, 2, 3, 6) if months / n <= most), 12)
        ticks = [d for d in _month_starts(start, end) if (d.month - 1) % step == 0]
        labels = [f"{d:%b-%y}" for d in ticks]
    else:
        days = (end - start).days + 1
        step = next((n for n in (1, 2, 7, 14) if days / n <= most), 28)
        ticks = [start + timedelta(days=k) for k in range(0, days, step)]
        labels = [fmt.day_month(d) for d in ticks]
    ax.set_xticks(mdates.date2num(ticks), labels)
    ax.set_xlim(mdates.date2num(start), mdates.date2num(end + timedelta(days=1)))


def _month_starts(start: date, end: date) -> list[date]:
    first = date(start.year, start.month, 1)
    out = []
    while first <= end:
        if first >= start:
            out.append(first)
        first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return out


def shade_window(ax: Axes, start: date, end: date, color: str, label: str | None = None):
    """Shade an inclusive window of days behind the data."""
    return ax.axvspan(
        mdates.date2num(start),
        mdates.date2num(end + timedelta(days=1)),
        color=color,
        lw=0,
        zorder=0,
        label=label,
    )


def nice_step(raw: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at or above raw (no 2.5: ticks stay on whole labels)."""
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if mult * power >= raw * (1 - 1e-9):
            return mult * power
    return 10 * power


def y_range(ax: Axes, lo: float, hi: float, nbins: int = 5, zero: bool = False) -> int:
    """Set round y limits on tick marks around lo..hi; return the number of intervals."""
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    values = MaxNLocator(nbins=nbins, steps=[1, 2, 5, 10]).tick_values(lo, hi)
    values = list(values)
    while len(values) > 2 and values[1] <= lo:
        values = values[1:]
    while len(values) > 2 and values[-2] >= hi:
        values = values[:-1]
    step = values[1] - values[0]
    ax.set_ylim(values[0], values[-1])
    ax.yaxis.set_major_locator(MultipleLocator(step))
    return len(values) - 1


def twin_range(twin: Axes, lo: float, hi: float, intervals: int) -> None:
    """Give a second y axis round ticks on the same gridlines as the first (same number of intervals)."""
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    step = nice_step((hi - lo) / intervals)
    while True:
        base = math.floor(lo / step) * step
        if base + step * intervals >= hi:
            break
        step = nice_step(step * 1.0001)
    twin.set_ylim(base, base + step * intervals)
    twin.yaxis.set_major_locator(MultipleLocator(step))
    twin.grid(False)


_TEXT_PATH = TextToPath()
_LABEL_FONT = FontProperties(family=FONT_FAMILIES, size=SMALL_SIZE, weight="semibold")


def end_label(ax: Axes, x: float, y: float, text: str, color: str, dx: float = 4) -> None:
    """Mark the latest point, write its value beside it, and widen the x range so the value fits."""
    ax.plot([x], [y], marker="o", markersize=2.8, color=color, zorder=5, clip_on=False)
    ax.annotate(
        text,
        xy=(x, y),
        xytext=(dx, 0),
        textcoords="offset points",
        ha="left",
        va="center",
        fontsize=SMALL_SIZE,
        fontweight="semibold",
        color=color,
        annotation_clip=False,
        zorder=6,
        bbox={"boxstyle": "square,pad=0.15", "facecolor": PALETTE["white"], "edgecolor": "none"},
    )
    width_pt, _, _ = _TEXT_PATH.get_text_width_height_descent(text, _LABEL_FONT, ismath=False)
    label_in = (dx + 2 + width_pt) / 72
    fig_w, _ = _figure(ax).get_size_inches()
    axis_in = ax.get_position().width * fig_w
    lo, hi = ax.get_xlim()
    needed = lo + (x - lo) * axis_in / max(axis_in - label_in, 1e-6)
    if needed > hi:
        ax.set_xlim(lo, needed)
