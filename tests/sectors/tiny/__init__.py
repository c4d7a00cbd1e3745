"""A tiny second sector: one table (prices.csv: date, value), one metric, one chart, one template.

It exists to prove the seam (tests/test_second_sector.py): everything briefgen knows about it is
this SECTOR. Like the mining sector, naming it costs nothing: its callables import brief.py (and
with it pandas) on first use. docs/sectors.md walks through it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from briefgen.formatting import MISSING, finite, num
from briefgen.sector import SampleInputs, Sector
from briefgen.store.figures import KeyFigure

PACKAGE = Path(__file__).resolve().parent
SERIES = "Tiny prices"
KEY_FIGURES = (KeyFigure("average", ("prices", "average"), "level", "average", lambda v: num(v, 2)),)


def points(value: Any) -> str:
    """104.5 pts: the sector's own unit, a filter of its templates (Sector.filters)."""
    number = finite(value)
    return MISSING if number is None else f"{num(number, 1)} pts"


def _tables():
    from tests.sectors.tiny.brief import TABLES

    return TABLES


def _load(inputs_dir: Path, **options: Any):
    from tests.sectors.tiny.brief import load

    return load(inputs_dir, **options)


def _compute(inputs):
    from tests.sectors.tiny.brief import compute

    return compute(inputs)


def _charts():
    from tests.sectors.tiny.brief import CHARTS

    return CHARTS


def _context(*args: Any, **kwargs: Any):
    from tests.sectors.tiny.brief import context

    return context(*args, **kwargs)


def _figures(metrics) -> dict:
    from tests.sectors.tiny.brief import figures

    return figures(metrics)


def _table(metrics) -> str:
    from tests.sectors.tiny.brief import figures

    average = figures(metrics)["prices"]["average"]
    return f"average  {average['period']:,.2f}  {average['compare']:,.2f}  {average['change_pct']:+.1f}%\n"


def _csv(metrics) -> str:
    from tests.sectors.tiny.brief import figures

    average = figures(metrics)["prices"]["average"]
    return (
        "figure,period,compare,change_pct\n"
        f"average,{average['period']!r},{average['compare']!r},{average['change_pct']!r}\n"
    )


def _sample() -> SampleInputs:
    rows = [(f"2026-01-{day:02d}", f"{100 + day}") for day in range(1, 29)]
    config = "as_of: 2026-01-28\nperiod:\n  start: 2026-01-15\n  end: 2026-01-28\n"
    return SampleInputs({"brief.yaml": config.encode()}, {"prices": (("date", "value"), rows)})


SECTOR = Sector(
    name="tests.sectors.tiny",
    series=SERIES,
    package=PACKAGE,
    templates=PACKAGE / "templates",
    tables=_tables,
    load=_load,
    compute=_compute,
    charts=_charts,
    context=_context,
    figures=_figures,
    metrics_table=_table,
    metrics_csv=_csv,
    sections={"outlook": "Outlook"},
    key_figures=KEY_FIGURES,
    keywords=("prices",),
    sample=_sample,
    filters={"points": points},
)
