"""Turn SectorMetrics into the Bitcoin-mining brief's charts: one spec per chart, in the brief's order.

The chart modules load on first use of CHARTS or chart_specs(); matplotlib loads only when a chart
is drawn (see spec.LazyModule), so a build reads every chart's data and alt text without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefgen.charts.spec import Chart, ChartSpec
from briefgen.files import write_atomic

if TYPE_CHECKING:
    from briefgen.sectors.bitcoin_mining.metrics import SectorMetrics

__all__ = ["CHARTS", "chart_specs", "draw_charts"]


def chart_specs() -> dict[str, ChartSpec]:
    """Every chart's spec, in the brief's order: network, economics, miners, equities, valuation."""
    from briefgen.sectors.bitcoin_mining.charts import economics, market, network

    return {spec.name: spec for spec in (*network.SPECS, *economics.SPECS, *market.SPECS)}


def __getattr__(name: str) -> Any:
    if name == "CHARTS":
        return chart_specs()
    raise AttributeError(name)


def draw_charts(metrics: SectorMetrics, out_dir: Path) -> tuple[Chart, ...]:
    """Draw every chart whose data is present into out_dir as <name>.svg; skip the rest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = []
    for spec in chart_specs().values():
        data = spec.data(metrics)
        if data is None:
            continue
        path = out_dir / f"{spec.name}.svg"
        write_atomic(path, spec.svg(data))
        charts.append(spec.chart(data, path))
    return tuple(charts)
