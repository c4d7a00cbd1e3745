"""Turn the Bitcoin-mining brief's input contract into TableSpecs: its tables, their columns, bounds and rules.

The tables the desk fills in (network, miners, miner_hashrate, market_caps, deals: TABLES, in the
order `init --blank` writes them and the workbook holds them), the share counts only `briefgen
fetch equities` reads (SHARES), the unit hints for figures given in the wrong unit, and the
market-cap rule (cap = shares x close). briefgen.inputs.tables parses and checks cells by them.

brief.yaml's mining keys, `assumptions` (the cost assumptions behind gross margin, numbers or
dated schedules: assumptions.py) and `deals_since`, are MiningBriefModel's, read into a MiningConfig.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from briefgen.errors import Problem
from briefgen.inputs.cells import Column, plain_number
from briefgen.inputs.config import CONFIG_FILE, BriefConfig, BriefModel, Window
from briefgen.inputs.tables import MAX_PROBLEMS, TableSpec, row_number
from briefgen.sectors.bitcoin_mining.assumptions import (
    BOUNDS,
    DEFAULT_FLEET_EFFICIENCY_J_PER_TH,
    DEFAULT_POWER_PRICE_USD_PER_KWH,
    Assumptions,
    Schedule,
    parse_schedule,
)


def hashrate_unit_hint(value: float) -> str | None:
    """Name the unit an out-of-range EH/s figure was probably given in."""
    if value >= 5e7:
        return "looks like TH/s, not EH/s (divide by 1,000,000)"
    if value >= 5e4:
        return "looks like PH/s, not EH/s (divide by 1,000)"
    return None


def market_cap_unit_hint(value: float) -> str | None:
    if 0.001 <= value < 1e4:
        # Under 100 reads best as billions (5.2 -> $5.2B), larger as millions (5,100 -> $5.1B).
        scale = 1e9 if value < 100 else 1e6
        return (
            "looks like billions or millions of dollars, not dollars "
            f"(write the full figure, e.g. {plain_number(round(value * scale))})"
        )
    if 0 < value < 1e6:
        return "looks like thousands of dollars, not dollars (write the full figure)"
    return None


def difficulty_unit_hint(value: float) -> str | None:
    if 0 < value < 1e6:
        return "looks like trillions (T), not the full difficulty (e.g. 148.26T is 148260000000000)"
    return None


def _check_market_cap_product(frame: pd.DataFrame, label: str, problems: list[Problem]) -> None:
    """Where a row gives shares_outstanding and close_usd, its market_cap_usd must be their product.

    "Within rounding": the close as written stands for any price within half a unit of its last
    decimal (15.95: 15.945 to 15.955), and the cap for any within half a dollar.
    """
    given = frame[["market_cap_usd", "shares_outstanding", "close_usd"]].notna().all(axis=1)
    if not given.any():
        return
    traced = frame[given]
    cap, shares, close = (traced[c].astype("float64") for c in ("market_cap_usd", "shares_outstanding", "close_usd"))
    half_unit = close.map(_half_unit)
    product = shares * close
    wrong = (cap - product).abs() > shares * half_unit + 1.0  # + half a dollar of the cap's rounding, and float slack
    for index in traced.index[wrong.to_numpy()][:MAX_PROBLEMS]:
        problems.append(
            Problem(
                label,
                f"market_cap_usd {cap[index]:,.0f} is not shares_outstanding x close_usd "
                f"({int(shares[index]):,} x {close[index]:g} = {product[index]:,.0f})",
                row=row_number(frame, index),
                column="market_cap_usd",
                fix="correct the figure that is wrong, or leave shares_outstanding and close_usd blank",
            )
        )


def _half_unit(value: float) -> float:
    """Half a unit of the last decimal a number was written with (15.95 -> 0.005; 16, read as 16.0 -> 0.05)."""
    exponent = Decimal(repr(value)).as_tuple().exponent
    return 0.5 * 10.0 ** min(0, exponent if isinstance(exponent, int) else 0)


NETWORK = TableSpec(
    "network",
    (
        Column("date", "date"),
        Column("btc_price_usd", "number", minimum=0, exclusive_minimum=True, maximum=10_000_000, unit="USD per BTC"),
        Column(
            "hashrate_ehs",
            "number",
            required=False,
            minimum=0,
            exclusive_minimum=True,
            maximum=50_000,
            unit="EH/s",
            magnitude=hashrate_unit_hint,
        ),
        Column("blocks", "integer", minimum=1, maximum=1_000, unit="blocks per day"),
        Column("fees_btc", "number", minimum=0, maximum=5_000, unit="BTC per day"),
        Column("difficulty", "number", required=False, minimum=1e6, maximum=1e18, magnitude=difficulty_unit_hint),
        Column("height", "integer", required=False, minimum=0, maximum=10_000_000, unit="block height"),
        Column("source", "text", required=False, max_length=80),
    ),
    key=("date",),
    either=("hashrate_ehs", "difficulty"),
)
MINERS = TableSpec(
    "miners",
    (
        Column("ticker", "ticker"),
        Column("name", "text", max_length=120),
        Column("exchange", "text", required=False, max_length=40),
        Column("from", "date"),
        Column("to", "date", required=False),
    ),
    key=("ticker",),
    required=False,
    dated="from",
)
MINER_HASHRATE = TableSpec(
    "miner_hashrate",
    (
        Column("date", "date"),
        Column("ticker", "ticker"),
        Column(
            "hashrate_ehs",
            "number",
            minimum=0,
            exclusive_minimum=True,
            maximum=2_000,
            unit="EH/s",
            magnitude=hashrate_unit_hint,
        ),
    ),
    key=("date", "ticker"),
    required=False,
)
# shares_outstanding and close_usd are optional: written by `briefgen fetch equities` so that each
# market cap can be traced (cap = shares x close), and checked against the cap wherever both are given.
SHARES_OUTSTANDING = Column("shares_outstanding", "integer", minimum=1_000, maximum=1e12, unit="shares")
MARKET_CAPS = TableSpec(
    "market_caps",
    (
        Column("date", "date"),
        Column("ticker", "ticker"),
        Column("market_cap_usd", "number", minimum=1e6, maximum=1e13, unit="USD", magnitude=market_cap_unit_hint),
        dataclasses.replace(SHARES_OUTSTANDING, required=False),
        Column(
            "close_usd", "number", required=False, minimum=0, exclusive_minimum=True, maximum=1e6, unit="USD per share"
        ),
        Column("source", "text", required=False, max_length=80),
    ),
    key=("date", "ticker"),
    required=False,
    check=_check_market_cap_product,
)
# inputs/shares.csv: the desk's share counts, read only by `briefgen fetch equities` (foreign private
# issuers file 20-F / 6-K and often give the SEC no dei:EntityCommonStockSharesOutstanding).
SHARES = TableSpec(
    "shares",
    (
        Column("date", "date"),
        Column("ticker", "ticker"),
        SHARES_OUTSTANDING,
        Column("source", "text", required=False, max_length=200),
    ),
    key=("date", "ticker"),
    required=False,
)
DEALS = TableSpec(
    "deals",
    (
        Column("date", "date"),
        Column("ticker", "ticker"),
        Column("kind", "text", max_length=40),
        Column("counterparty", "text", required=False, max_length=120),
        Column("value_usd", "number", required=False, minimum=0, maximum=1e13, unit="USD"),
        Column("capacity_mw", "number", required=False, minimum=0, maximum=100_000, unit="MW"),
        Column("description", "text", required=False, max_length=500),
    ),
    key=(),
    required=False,
)
TABLES = (NETWORK, MINERS, MINER_HASHRATE, MARKET_CAPS, DEALS)


# --- brief.yaml ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MiningConfig(BriefConfig):
    """The brief's configuration with the mining keys: the cost assumptions and where the deals list starts."""

    assumptions: Assumptions = field(default_factory=Assumptions)
    deals_since: date | None = None  # list deals after this day (the previous brief's), not those in the period

    def window_problems(self, period: Window) -> list[Problem]:
        if self.deals_since is None or self.deals_since < period.end:
            return []
        return [
            Problem(
                CONFIG_FILE,
                f"deals_since: {self.deals_since} is not before the period ends ({period.end})",
                fix="give the as-of date of the previous published brief, or delete the key to list the period's deals",
            )
        ]


class _AssumptionsModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # A single number here; a dated schedule ({date: value}) is taken out before and checked by parse_schedule.
    power_price_usd_per_kwh: float = Field(
        default=DEFAULT_POWER_PRICE_USD_PER_KWH,
        gt=BOUNDS["power_price_usd_per_kwh"][0],
        le=BOUNDS["power_price_usd_per_kwh"][1],
    )
    fleet_efficiency_j_per_th: float = Field(
        default=DEFAULT_FLEET_EFFICIENCY_J_PER_TH,
        gt=BOUNDS["fleet_efficiency_j_per_th"][0],
        le=BOUNDS["fleet_efficiency_j_per_th"][1],
    )


class MiningBriefModel(BriefModel):
    """brief.yaml with the mining keys: `assumptions` and `deals_since`."""

    config_class: ClassVar[type[BriefConfig]] = MiningConfig
    # Out-of-range assumptions are usually a unit slip: the fix names the unit.
    range_fixes: ClassVar[dict[str, str]] = {f"assumptions.{name}": fix for name, (_low, _high, fix) in BOUNDS.items()}
    example_title: ClassVar[str] = "Bitcoin mining"

    assumptions: _AssumptionsModel = Field(default_factory=_AssumptionsModel)
    deals_since: date | None = None

    @classmethod
    def take_apart(cls, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[Problem]]:
        """Take dated schedules ({date: value}) out of raw['assumptions'] and check them apart from the schema."""
        assumptions = raw.get("assumptions")
        if not isinstance(assumptions, dict):
            return raw, {}, []
        schedules: dict[str, Schedule] = {}
        problems: list[Problem] = []

        def problem(key: str, message: str, fix: str) -> None:
            problems.append(Problem(CONFIG_FILE, f"key '{key}': {message}", fix=fix))

        rest = dict(assumptions)
        for name in BOUNDS:
            if isinstance(rest.get(name), dict):
                schedule = parse_schedule(name, rest.pop(name), problem)
                if schedule is not None:
                    schedules[name] = schedule
        return {**raw, "assumptions": rest}, schedules, problems

    def sector_values(self, taken: dict[str, Any]) -> dict[str, Any]:
        return {
            "assumptions": Assumptions(**{**self.assumptions.model_dump(), **taken}),
            "deals_since": self.deals_since,
        }
