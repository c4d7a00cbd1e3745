"""Turn SectorMetrics into chart files (SVG), one house style, one spec per chart."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from briefgen.charts import economics, market, network
from briefgen.charts.spec import Chart, ChartSpec, Section, data_key
from briefgen.charts.style import Width

if TYPE_CHECKING:
    from briefgen.metrics import SectorMetrics

__all__ = ["CHARTS", "Chart", "ChartSpec", "Section", "Width", "data_key", "draw_charts", "write_atomic"]

# In the brief's order: network, economics, miners, equities, valuation.
CHARTS: dict[str, ChartSpec] = {spec.name: spec for spec in (*network.SPECS, *economics.SPECS, *market.SPECS)}


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to a temporary file beside path, then move it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def draw_charts(metrics: SectorMetrics, out_dir: Path) -> tuple[Chart, ...]:
    """Draw every chart whose data is present into out_dir as <name>.svg; skip the rest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = []
    for spec in CHARTS.values():
        data = spec.data(metrics)
        if data is None:
            continue
        path = out_dir / f"{spec.name}.svg"
        write_atomic(path, spec.svg(data))
        charts.append(Chart(spec.name, path, spec.title, spec.describe(data), spec.section, spec.source, spec.width))
    return tuple(charts)
