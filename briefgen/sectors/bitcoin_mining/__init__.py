"""The Bitcoin-mining sector: US-listed miners, the default brief (the bank's twice-monthly note).

Everything about the subject lives in this package: the input contract (contract.py, read by
inputs.py), the metrics (metrics.py, series.py, schedule.py, assumptions.py), the
words (narrative.py, context.py), the charts (charts/), the templates (templates/), the sample
(sample/) and the public sources `briefgen fetch` reads (fetch/). `SECTOR` is what the machinery
sees (briefgen.sector.Sector); its callables import their modules on first use, so naming the
sector costs nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from briefgen.sector import Sector
from briefgen.sectors.bitcoin_mining.context import SERIES

PACKAGE = Path(__file__).resolve().parent


def _load(inputs_dir: Path, **options: Any):
    from briefgen.sectors.bitcoin_mining.inputs import load_inputs

    return load_inputs(inputs_dir, **options)


def _compute(inputs):
    from briefgen.sectors.bitcoin_mining.metrics import compute

    return compute(inputs)


def _charts():
    from briefgen.sectors.bitcoin_mining.charts import chart_specs

    return chart_specs()


def _context(*args: Any, **kwargs: Any):
    from briefgen.sectors.bitcoin_mining.context import brief_context

    return brief_context(*args, **kwargs)


def _figures(metrics) -> dict:
    from briefgen.sectors.bitcoin_mining.report import metrics_as_dict

    return metrics_as_dict(metrics)


def _issuers(inputs) -> list[dict]:
    """The miners the note covers, once each: ticker, name, exchange ("" where left empty)."""
    miners = inputs.miners
    if miners is None:
        return []
    return [{"ticker": str(row["ticker"]), "name": str(row["name"]),
             "exchange": row["exchange"] if isinstance(row.get("exchange"), str) else ""}  # NaN where left empty
            for row in miners.drop_duplicates("ticker").to_dict("records")]


def _config_model():
    from briefgen.sectors.bitcoin_mining.contract import MiningBriefModel

    return MiningBriefModel


def _commands():
    from briefgen.sectors.bitcoin_mining.fetch.commands import COMMANDS

    return COMMANDS


def _tables():
    from briefgen.sectors.bitcoin_mining.contract import TABLES

    return TABLES


SECTOR = Sector(
    name="bitcoin_mining",
    series=SERIES,
    package=PACKAGE,
    templates=PACKAGE / "templates",
    tables=_tables,
    load=_load,
    compute=_compute,
    charts=_charts,
    context=_context,
    figures=_figures,
    issuers=_issuers,
    keywords=("Bitcoin", "mining", "hashprice", "hashrate", "equities"),
    commands=_commands,
    config_model=_config_model,
)
