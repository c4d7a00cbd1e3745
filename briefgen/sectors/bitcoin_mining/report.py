"""Turn SectorMetrics into plain data (JSON, CSV, a terminal table) for `briefgen metrics`."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, fields
from datetime import date
from typing import Any

import pandas as pd

from briefgen.formatting import change, change_vs_prior_month, num
from briefgen.sectors.bitcoin_mining.metrics import Figure, SectorMetrics


def _clean(value: Any) -> Any:
    """Make a value JSON-safe: NaN and infinity become null, dates ISO strings, numpy scalars plain."""
    if isinstance(value, Figure):
        return {k: _clean(v) for k, v in value.as_dict().items()}
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA:
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [_clean(row) for row in frame.to_dict(orient="records")]


def _figures(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {f.name: _clean(getattr(obj, f.name)) for f in fields(obj) if f.name not in skip}


def metrics_as_dict(m: SectorMetrics) -> dict[str, Any]:
    """Every figure as plain data; the JSON contract of `briefgen metrics --format json`."""
    network = _figures(m.network, skip=("next_adjustment",))
    network["next_adjustment"] = _clean(asdict(m.network.next_adjustment)) if m.network.next_adjustment else None
    economics = _figures(m.economics)
    economics["fleet_classes"] = _records(m.fleet_classes)
    grid = m.sensitivity
    economics["sensitivity"] = {
        "unit": "USD per PH/s per day",
        "btc_price_usd": _clean(list(grid.columns)),
        "hashrate_ehs": _clean(list(grid.index)),
        "hashprice_usd_per_ph_day": _clean(grid.to_numpy().tolist()),
    }
    miners = None
    if m.miners:
        miners = _figures(m.miners, skip=("by_ticker",))
        miners["by_ticker"] = _records(m.miners.by_ticker)
    equities = None
    if m.equities:
        equities = _figures(m.equities, skip=("by_ticker",))
        equities["market_cap_usd"]["change_usd"] = _clean(m.equities.market_cap_usd.change_abs)
        equities["by_ticker"] = _records(m.equities.by_ticker)
    return {
        "period": m.period.as_dict(),
        "compare": m.compare.as_dict(),
        "prior_month": m.prior_month.as_dict(),
        "assumptions": m.assumptions.as_dict(),
        # What each window used: a dated schedule's values, day-weighted over the window's days.
        "assumptions_in_force": {key: None if used is None else used.as_dict() for key, used in m.in_force.items()},
        "network": network,
        "economics": economics,
        "miners": miners,
        "equities": equities,
        "valuation": _clean(asdict(m.valuation)),
        "deals": _records(m.deals),
    }


def metrics_as_json(m: SectorMetrics) -> str:
    return json.dumps(metrics_as_dict(m), indent=2, allow_nan=False) + "\n"


def _rows(m: SectorMetrics) -> list[tuple[str, str, Figure]]:
    """(section, name, figure) for every compared figure, in the brief's order."""
    rows = []
    for section, obj in (
        ("network", m.network),
        ("economics", m.economics),
        ("miners", m.miners),
        ("equities", m.equities),
    ):
        if obj is None:
            continue
        for f in fields(obj):
            value = getattr(obj, f.name)
            if isinstance(value, Figure):
                rows.append((section, f.name, value))
    return rows


def metrics_as_csv(m: SectorMetrics) -> str:
    """One row per figure: section, figure, period, compare, change, change unit, prior month, change vs it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["section", "figure", "period", "compare", "change", "change_unit", "prior_month", "change_vs_prior_month"]
    )
    for section, name, fig in _rows(m):
        change, unit = (fig.change_bps, "bp") if fig.kind == "share" else (fig.change_pct, "%")
        writer.writerow(
            [
                section,
                name,
                _num(fig.period),
                _num(fig.compare),
                _num(change),
                unit,
                _num(fig.prior_month),
                _num(fig.change_vs_prior_month),
            ]
        )
    v = m.valuation
    for name in (
        "block_height",
        "opportunity_4y_btc",
        "opportunity_4y_usd",
        "market_cap_to_opportunity_pct",
        "market_cap_to_proportional_opportunity_x",
    ):
        writer.writerow(["valuation", name, _num(getattr(v, name)), "", "", "", "", ""])
    if m.miners:
        writer.writerow(["miners", "capacity_added_ehs", _num(m.miners.capacity_added_ehs), "", "", "", "", ""])
    return out.getvalue()


def _num(value: float | int | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{value:.10g}"


def metrics_as_table(m: SectorMetrics) -> str:
    """A human-readable table of every figure, for the terminal."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{m.period.label} vs {m.compare.label}", title_justify="left")
    for header in ("section", "figure", m.period.label, m.compare.label, "change", m.prior_month.label, "vs month"):
        table.add_column(header, justify="left" if header in ("section", "figure") else "right")
    for section, name, fig in _rows(m):
        table.add_row(
            section,
            name,
            _fmt(fig.period),
            _fmt(fig.compare),
            change(fig),
            _fmt(fig.prior_month),
            change_vs_prior_month(fig),
        )
    v = m.valuation
    table.add_row("valuation", "opportunity_4y_btc", _fmt(v.opportunity_4y_btc), "", "", "", "")
    table.add_row("valuation", "opportunity_4y_usd", _fmt(v.opportunity_4y_usd), "", "", "", "")
    table.add_row("valuation", "market_cap_to_opportunity_pct", _fmt(v.market_cap_to_opportunity_pct), "", "", "", "")
    table.add_row(
        "valuation",
        "market_cap_to_proportional_opportunity_x",
        _fmt(v.market_cap_to_proportional_opportunity_x),
        "",
        "",
        "",
        "",
    )
    if m.miners:
        table.add_row("miners", "capacity_added_ehs", _fmt(m.miners.capacity_added_ehs), "", "", "", "")
    buffer = io.StringIO()
    Console(file=buffer, width=140, color_system=None).print(table)
    return buffer.getvalue()


def _fmt(value: float | None) -> str:
    """A figure in the terminal: whole from 1,000, two decimals from 1, else three significant figures."""
    if value is None:
        return ""
    magnitude = abs(value)
    digits = (
        0 if magnitude >= 1000 else 2 if magnitude >= 1 or magnitude == 0 else 2 - math.floor(math.log10(magnitude))
    )
    return num(value, digits)
