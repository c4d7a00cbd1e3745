"""Turn a chart's declaration into its data slice, its SVG bytes and its cache key.

A ChartSpec names the SectorMetrics attributes it reads; `select` receives exactly those values, in
that order, and returns the slice the chart draws (None to skip the chart). Drawing and alt text are
pure functions of the slice, so a cache can key each chart by `data_key(name, slice)`.

Nothing here imports matplotlib: `svg` imports the house style (briefgen.charts.style) when it draws,
and a sector's drawing functions import matplotlib inside themselves, so a build reads every
chart's data and alt text, and takes its SVGs from the cache, without it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from briefgen.sectors.bitcoin_mining.metrics import SectorMetrics

Section = Literal["network", "economics", "miners", "equities", "valuation"]
Width = Literal["full", "half"]


@dataclass(frozen=True)
class Chart:
    """One drawn chart, as the HTML stage places it: file, caption, alt text, size and source line."""

    name: str
    path: Path
    title: str
    alt: str
    section: Section
    source: str
    width: Width


@dataclass(frozen=True)
class ChartSpec:
    """How one chart gets its data from SectorMetrics, draws it and describes it."""

    name: str
    title: str
    section: Section
    width: Width
    source: str
    reads: tuple[str, ...]  # dotted SectorMetrics attributes, passed to select in this order
    select: Callable[..., Any]  # the reads' values -> the chart's data slice, or None to skip
    draw: Callable[[Any], Figure]  # slice -> Figure (call inside house_style; svg() does)
    describe: Callable[[Any], str]  # slice -> alt text stating what it shows and the latest values

    def data(self, metrics: SectorMetrics) -> Any:
        """The slice this chart draws, or None when its inputs are absent."""
        return self.select(*(_lookup(metrics, path) for path in self.reads))

    def chart(self, data: Any, path: Path) -> Chart:
        """The chart as the HTML places it, its SVG drawn (or to be drawn) at `path`."""
        return Chart(self.name, path, self.title, self.describe(data), self.section, self.source, self.width)

    def svg(self, data: Any) -> bytes:
        """Draw the slice in the house style and return SVG bytes (pure: equal slices, equal bytes)."""
        from briefgen.charts.style import house_style, to_svg

        with house_style():
            return to_svg(self.draw(data))


def _lookup(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


def data_key(name: str, data: Any) -> str:
    """A stable hex digest of a chart's name and data slice, for caching its SVG."""
    digest = hashlib.sha256(name.encode())
    _feed(digest, data)
    return digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    if isinstance(value, pd.DataFrame):
        digest.update(repr((list(value.columns), [str(t) for t in value.dtypes], value.shape)).encode())
        digest.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    elif isinstance(value, pd.Series):
        digest.update(repr((value.name, str(value.dtype), len(value))).encode())
        digest.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    elif isinstance(value, (tuple, list)):
        digest.update(f"{type(value).__name__}[{len(value)}]".encode())
        for item in value:
            _feed(digest, item)
    elif is_dataclass(value) and not isinstance(value, type):
        digest.update(type(value).__name__.encode())
        for f in fields(value):
            _feed(digest, getattr(value, f.name))
    elif value is None or isinstance(value, (str, int, float, bool, date)):
        digest.update(repr(value).encode())
    else:
        raise TypeError(f"cannot key chart data of type {type(value).__name__}")
