"""Turn SectorMetrics into the Bitcoin-mining brief's charts: one spec per chart, in the brief's order.

The chart modules load on first use of CHARTS or chart_specs(); matplotlib loads only when a chart
is drawn (each drawing function imports it), so a build reads every chart's data and alt text
without it. The build draws them (briefgen.build): spec.data(metrics), spec.chart(...), spec.svg(data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from briefgen.charts.spec import ChartSpec

__all__ = ["CHARTS", "chart_specs"]


def chart_specs() -> dict[str, ChartSpec]:
    """Every chart's spec, in the brief's order: network, economics, miners, equities, valuation."""
    from briefgen.sectors.bitcoin_mining.charts import economics, market, network

    return {spec.name: spec for spec in (*network.SPECS, *economics.SPECS, *market.SPECS)}


def __getattr__(name: str) -> Any:
    if name == "CHARTS":
        return chart_specs()
    raise AttributeError(name)
