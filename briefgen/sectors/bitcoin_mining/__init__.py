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

from briefgen.formatting import pct, usd
from briefgen.sector import SampleInputs, Sector
from briefgen.sectors.bitcoin_mining.units import FILTERS, UNITS, ehs
from briefgen.store.figures import KeyFigure

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

    return brief_context(*args, **kwargs, series=SERIES, key_figures=KEY_FIGURES)


def _figures(metrics) -> dict:
    from briefgen.sectors.bitcoin_mining.report import metrics_as_dict

    return metrics_as_dict(metrics)


def _metrics_table(metrics) -> str:
    from briefgen.sectors.bitcoin_mining.report import metrics_as_table

    return metrics_as_table(metrics)


def _metrics_csv(metrics) -> str:
    from briefgen.sectors.bitcoin_mining.report import metrics_as_csv

    return metrics_as_csv(metrics)


def _sample() -> SampleInputs:
    from briefgen.sectors.bitcoin_mining import sample

    return SampleInputs(sample.sample_files(tables=False), sample.sample_tables())


SERIES = "Bitcoin mining"  # the note's name; brief.yaml's `title` overrides the headline, not this
# The cover's key-figures panel, in its order; those with a label are `briefgen history`'s columns.
KEY_FIGURES = (
    KeyFigure("btc_price_usd", ("network", "btc_price_usd"), "level", "BTC price", usd),
    KeyFigure("hashrate_ehs", ("network", "hashrate_ehs"), "level", "hashrate", ehs),
    KeyFigure("hashprice_usd_per_ph_day", ("economics", "hashprice_usd_per_ph_day"), "level", "hashprice", usd),
    KeyFigure("revenue_usd_per_eh_day", ("economics", "revenue_usd_per_eh_day"), "level"),
    KeyFigure("gross_margin_pct", ("economics", "gross_margin_pct"), "share", "margin", pct),
    KeyFigure("market_cap_usd", ("equities", "market_cap_usd"), "level", "market cap", usd),
    KeyFigure("listed_share_pct", ("miners", "share_of_network_pct"), "share"),
)
# Commentary files named after a section appear in it (under that title); any other file goes to the Outlook.
SECTIONS = {
    "summary": "Key takeaways",
    "network": "Network",
    "economics": "Mining economics",
    "miners": "Listed miners",
    "equities": "Equities",
    "valuation": "Valuation",
    "deals": "Beyond block rewards",
    "outlook": "Outlook",
}


def _blank_config() -> str:
    """brief.yaml's mining keys, commented, for `briefgen init --blank`."""
    from briefgen.sectors.bitcoin_mining.assumptions import (
        DEFAULT_FLEET_EFFICIENCY_J_PER_TH as FLEET,
    )
    from briefgen.sectors.bitcoin_mining.assumptions import (
        DEFAULT_POWER_PRICE_USD_PER_KWH as POWER,
    )

    return (
        "# assumptions:                          # behind gross margin\n"
        f"#   power_price_usd_per_kwh: {POWER}         # USD per kWh; default {POWER}\n"
        f"#   fleet_efficiency_j_per_th: {FLEET:g}          # the network fleet's J/TH; default {FLEET:g}\n"
    )


def _issuers(inputs) -> list[dict]:
    """The miners the note covers, once each: ticker, name, exchange ("" where left empty)."""
    miners = inputs.miners
    if miners is None:
        return []
    return [
        {
            "ticker": str(row["ticker"]),
            "name": str(row["name"]),
            "exchange": row["exchange"] if isinstance(row.get("exchange"), str) else "",
        }  # NaN where left empty
        for row in miners.drop_duplicates("ticker").to_dict("records")
    ]


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
    metrics_table=_metrics_table,
    metrics_csv=_metrics_csv,
    sections=SECTIONS,
    key_figures=KEY_FIGURES,
    derived=("economics.sensitivity",),  # 35 cells that all move whenever hashprice does
    issuers=_issuers,
    keywords=("Bitcoin", "mining", "hashprice", "hashrate", "equities"),
    sample=_sample,
    blank_config=_blank_config,
    preload=("briefgen.sectors.bitcoin_mining.inputs", "briefgen.sectors.bitcoin_mining.metrics"),
    commands=_commands,
    config_model=_config_model,
    filters=FILTERS,  # btc, ehs, j_per_th, difficulty, deal_kind (units.py)
    units=UNITS,  # EH/s, BTC, blocks...: kept with their figures by nobreak
)
