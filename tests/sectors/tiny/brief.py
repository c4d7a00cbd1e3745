"""Turn the tiny sector's inputs folder (brief.yaml, prices.csv) into its metrics, chart and BriefContext.

One table, read and checked by briefgen.inputs against its TableSpec; one metric, the average
value over the period and over the compare window with its change; one chart, the daily values
with the period shaded. The windows come from brief.yaml (or the flags) exactly as for any sector.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from briefgen.charts.spec import ChartSpec
from briefgen.errors import InputError, Problem
from briefgen.inputs.cells import Column
from briefgen.inputs.commentary import SourceFile, find_commentary
from briefgen.inputs.config import BriefConfig, Window, load_config, resolve_windows, with_overrides
from briefgen.inputs.rawtables import read_csv_bytes
from briefgen.inputs.tables import TableSpec, parse_table, typed

PRICES = TableSpec(
    "prices",
    (Column("date", "date"), Column("value", "number", minimum=0, maximum=1e9, unit="USD")),
    key=("date",),
)
TABLES = (PRICES,)


@dataclass(frozen=True)
class Inputs:
    """What `load` found: the config with its windows resolved, the rows up to the period's end."""

    config: BriefConfig
    prices: pd.DataFrame  # date (datetime64), value
    commentary: dict[str, str]
    sources: tuple[SourceFile, ...]
    warnings: tuple[Problem, ...] = field(default=())


@dataclass(frozen=True)
class Average:
    period: float
    compare: float
    change_pct: float | None


@dataclass(frozen=True)
class Prices:
    average: Average


@dataclass(frozen=True)
class Metrics:
    period: Window
    compare: Window
    daily: pd.DataFrame  # the rows the brief uses: date, value
    prices: Prices


def load(
    inputs_dir: Path,
    *,
    period: tuple[date, date] | None = None,
    compare: tuple[date, date] | None = None,
    strict: bool = False,
    as_of: date | None = None,
    labels: tuple[str, str] | None = None,
) -> Inputs:
    """Read and check brief.yaml and prices.csv; one InputError naming every problem."""
    inputs_dir = Path(inputs_dir)
    config = with_overrides(load_config(inputs_dir), period, compare, as_of, labels)
    path = inputs_dir / PRICES.file
    if not path.is_file():
        raise InputError([Problem(PRICES.file, "file not found", fix="add prices.csv with the columns date,value")])
    data = path.read_bytes()
    problems: list[Problem] = []
    warnings: list[Problem] = []
    frame = parse_table(PRICES, read_csv_bytes(data, PRICES.file), problems, warnings)
    commentary, prose = find_commentary(inputs_dir, problems)
    if strict:
        problems.extend(warnings)
    if problems or frame is None:
        raise InputError(problems)
    frame = typed(frame.drop(columns="_row"), PRICES).sort_values("date").reset_index(drop=True)
    config = resolve_windows(config, frame["date"].iloc[0].date(), frame["date"].iloc[-1].date(), daily=PRICES.file)
    assert config.period is not None  # resolve_windows fills both windows or raises
    used = frame[frame["date"] <= pd.Timestamp(config.period.end)].reset_index(drop=True)
    config_bytes = (inputs_dir / "brief.yaml").read_bytes()
    sources = (
        SourceFile("brief.yaml", config_bytes.count(b"\n"), None, None, hashlib.sha256(config_bytes).hexdigest()),
        SourceFile(
            PRICES.file,
            len(used),
            used["date"].iloc[0].date(),
            used["date"].iloc[-1].date(),
            hashlib.sha256(data).hexdigest(),
            later=len(frame) - len(used),
        ),
        *prose,
    )
    return Inputs(config, used, commentary, sources, tuple(warnings))


def _mean(frame: pd.DataFrame, window: Window) -> float:
    inside = frame[(frame["date"] >= pd.Timestamp(window.start)) & (frame["date"] <= pd.Timestamp(window.end))]
    return float(inside["value"].mean())


def compute(inputs: Inputs) -> Metrics:
    """The period's average value, the compare window's, and the change between them in percent."""
    windows = inputs.config.period, inputs.config.compare
    assert windows[0] is not None and windows[1] is not None  # `load` resolved them
    period, compare = _mean(inputs.prices, windows[0]), _mean(inputs.prices, windows[1])
    change = None if compare == 0 else (period / compare - 1.0) * 100.0
    return Metrics(windows[0], windows[1], inputs.prices, Prices(Average(period, compare, change)))


def figures(metrics: Metrics) -> dict[str, Any]:
    """Every figure as plain data: what the history records and `briefgen metrics --format json` prints."""
    average = metrics.prices.average
    return {
        "period": metrics.period.as_dict(),
        "compare": metrics.compare.as_dict(),
        "prices": {"average": {"period": average.period, "compare": average.compare, "change_pct": average.change_pct}},
    }


# --- the chart ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    days: tuple[date, ...]
    values: tuple[float, ...]
    period: tuple[date, date]


def _select(daily: pd.DataFrame, period: Window) -> Line | None:
    if daily is None or daily.empty:
        return None
    days = tuple(d.date() for d in daily["date"])
    return Line(days, tuple(float(v) for v in daily["value"]), (period.start, period.end))


def _draw(line: Line):
    import matplotlib.dates as mdates

    from briefgen.charts.style import new_figure

    fig, (ax,) = new_figure("full")
    x = mdates.date2num(list(line.days))
    ax.plot(x, line.values, lw=1.3)
    ax.axvspan(mdates.date2num(line.period[0]), mdates.date2num(line.period[1]), alpha=0.1, lw=0)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    return fig


def _describe(line: Line) -> str:
    return (
        f"Line chart of the daily value from {line.days[0]:%d %b %Y} to {line.days[-1]:%d %b %Y}, "
        f"last {line.values[-1]:,.2f}; the period is shaded."
    )


CHARTS = {
    "prices": ChartSpec(
        name="prices",
        title="Daily value, the period shaded",
        section="prices",
        width="full",
        source="Source: prices.csv",
        reads=("daily", "period"),
        select=_select,
        draw=_draw,
        describe=_describe,
    ),
}


def context(inputs: Inputs, metrics: Metrics, charts, previous, commentary, sources, takeaways: str):
    """What the template prints: a headline drafted from the average (unless brief.yaml gives a title)."""
    from briefgen.html.render import BriefContext
    from briefgen.inputs.commentary import list_items
    from tests.sectors.tiny import KEY_FIGURES, SERIES

    average = metrics.prices.average
    headline = (
        inputs.config.title or f"The average is {average.period:,.2f}, {average.change_pct:+.1f}% on the compare window"
    )
    return BriefContext(
        config=inputs.config,
        metrics=metrics,
        charts=charts,
        headline=headline,
        takeaways=tuple(list_items(takeaways)),
        commentary=commentary,
        sources=sources,
        previous=previous,
        series=SERIES,
        key_figures=KEY_FIGURES,
    )
