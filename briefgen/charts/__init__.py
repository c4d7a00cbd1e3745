"""Turn a sector's chart data into chart files (SVG): one house style (style.py), one spec per chart (spec.py).

A sector lists its ChartSpecs (briefgen.sector.Sector.charts); matplotlib loads only when a chart
is drawn, so a build reads every chart's data and alt text without it.
"""

from __future__ import annotations

from briefgen.charts.spec import Chart, ChartSpec, Section, Width, data_key

__all__ = ["Chart", "ChartSpec", "Section", "Width", "data_key"]
