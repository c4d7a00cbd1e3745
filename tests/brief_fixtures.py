"""Build a realistic SectorMetrics and BriefContext by hand, for the chart, render and PDF tests.

The figures mirror the mid-January 2026 note (DOMAIN.md): 1-14 Jan 2026 against 18-31 Dec 2025,
hashprice +11%, network hashrate -2%, margin 47.1% (+300 bp vs December), listed miners 419 EH/s,
combined market cap $62.0bn (+$13.2bn). Series are smooth and deterministic (no randomness).
"""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from briefgen.charts.spec import Chart, Section, Width
from briefgen.html.render import BriefContext, render_commentary
from briefgen.inputs.config import Analyst, Window
from briefgen.inputs.folder import SourceFile
from briefgen.sectors.bitcoin_mining import SECTOR
from briefgen.sectors.bitcoin_mining.assumptions import Assumptions, InForce
from briefgen.sectors.bitcoin_mining.contract import MiningConfig
from briefgen.sectors.bitcoin_mining.metrics import (
    EconomicsFigures,
    EquityFigures,
    Figure,
    MinerFigures,
    NetworkFigures,
    NextAdjustment,
    SectorMetrics,
    Series,
    Valuation,
)

PERIOD = Window(date(2026, 1, 1), date(2026, 1, 14), "1\u201314 Jan 2026")
COMPARE = Window(date(2025, 12, 18), date(2025, 12, 31), "18\u201331 Dec 2025")
PRIOR = Window(date(2025, 12, 1), date(2025, 12, 31), "December 2025")
AS_OF = date(2026, 1, 15)
REWARD = 3.125 + 0.03  # subsidy + fees per block, BTC

MINERS = [  # ticker, name, hashrate at 30 Nov 2025, added since (EH/s)
    ("MARA", "MARA Holdings", 60.4, 0.8),
    ("CLSK", "CleanSpark", 50.0, 0.6),
    ("IREN", "IREN", 50.0, 0.0),
    ("CANG", "Cango", 50.0, 0.0),
    ("BTDR", "Bitdeer", 41.0, 5.2),
    ("RIOT", "Riot Platforms", 36.1, 3.9),
    ("CIFR", "Cipher Mining", 23.5, 0.6),
    ("HUT", "Hut 8", 23.7, 0.5),
    ("CORZ", "Core Scientific", 19.4, -0.4),
    ("BITF", "Bitfarms", 19.2, 0.0),
    ("WULF", "TeraWulf", 13.1, 0.4),
    ("GREE", "Greenidge", 2.2, -0.2),
]
CAPS = [  # ticker, name, market cap 31 Dec 2025 ($bn), change to 14 Jan 2026 (%)
    ("IREN", "IREN", 10.30, 31.0),
    ("CIFR", "Cipher Mining", 6.05, 42.1),
    ("CORZ", "Core Scientific", 5.30, 21.9),
    ("RIOT", "Riot Platforms", 4.60, 33.4),
    ("MARA", "MARA Holdings", 5.05, 14.2),
    ("WULF", "TeraWulf", 4.35, 29.7),
    ("HUT", "Hut 8", 4.10, 25.6),
    ("CLSK", "CleanSpark", 3.25, 27.7),
    ("APLD", "Applied Digital", 2.35, 40.4),
    ("BTDR", "Bitdeer", 2.10, 10.5),
    ("BITF", "Bitfarms", 0.95, 6.3),
    ("CANG", "Cango", 0.30, -3.1),
    ("GREE", "Greenidge", 0.035, -8.6),
    ("SLNH", "Soluna Holdings", 0.035, 2.0),
]
BTC_CHANGE_PCT = 3.4


def _figure(period: float, compare: float, prior: float | None = None, kind: str = "level") -> Figure:
    return Figure(period, compare, prior, kind)  # type: ignore[arg-type]


def series() -> Series:
    """Smooth daily, monthly, listed-share and market-cap series, 1 Dec 2024 to 14 Jan 2026."""
    dates = pd.date_range("2024-12-01", "2026-01-14", freq="D")
    t = np.linspace(0.0, 1.0, len(dates))
    price = 97_000 + 14_000 * np.sin(t * 5.5) - 12_000 * t
    hashrate = 760 + 330 * np.clip(t * 1.15, 0, 1) - 60 * np.clip((t - 0.85) * 6, 0, 1)
    btc = 144 * REWARD / (1_000 * hashrate)
    daily = pd.DataFrame(
        {
            "date": dates,
            "btc_price_usd": price,
            "hashrate_ehs": hashrate,
            "hashrate_7d_ehs": hashrate,
            "difficulty": hashrate * 1e18 * 600 / 2**32,
            "height": 874_000 + 144 * np.arange(len(dates)),
            "hashprice_usd_per_ph_day": btc * price,
            "hashprice_btc_per_ph_day": btc,
        }
    )
    month = daily["date"].dt.to_period("M").dt.to_timestamp()
    monthly = daily.groupby(month)[["hashrate_ehs", "btc_price_usd"]].mean().rename_axis("month").reset_index()
    monthly["revenue_usd_per_eh_day"] = 144 * REWARD * monthly["btc_price_usd"] / monthly["hashrate_ehs"]
    monthly["power_cost_usd_per_eh_day"] = 21_120.0
    monthly["gross_profit_usd_per_eh_day"] = monthly["revenue_usd_per_eh_day"] - 21_120.0
    monthly["gross_margin_pct"] = 100 * monthly["gross_profit_usd_per_eh_day"] / monthly["revenue_usd_per_eh_day"]
    ends = pd.DatetimeIndex([*pd.date_range("2025-01-31", "2025-12-31", freq="ME"), pd.Timestamp("2026-01-14")])
    listed = np.linspace(255.0, 419.0, len(ends))
    network = daily.set_index("date").loc[ends, "hashrate_7d_ehs"].to_numpy()
    listed_share = pd.DataFrame(
        {"date": ends, "listed_ehs": listed, "network_ehs": network, "share_pct": 100 * listed / network}
    )
    caps_days = daily[daily["date"] >= "2025-03-01"].reset_index(drop=True)
    caps = 22e9 * np.exp(np.linspace(0, np.log(62.0 / 22), len(caps_days)))
    opportunity = 512_094.0 * caps_days["btc_price_usd"].to_numpy()
    market_cap = pd.DataFrame(
        {
            "date": caps_days["date"],
            "market_cap_usd": caps,
            "opportunity_4y_usd": opportunity,
            "market_cap_to_opportunity_pct": 100 * caps / opportunity,
        }
    )
    return Series(daily, monthly, listed_share, market_cap)


def miner_figures(network_ehs: float = 1_027.0) -> MinerFigures:
    frame = pd.DataFrame(MINERS, columns=["ticker", "name", "hashrate_start_ehs", "added_ehs"])
    # Scale to the note's totals: 419 EH/s, of which 12.3 EH/s added since late November.
    frame["added_ehs"] *= 12.3 / frame["added_ehs"].sum()
    frame["hashrate_start_ehs"] *= (419.0 - 12.3) / frame["hashrate_start_ehs"].sum()
    frame["hashrate_ehs"] = frame["hashrate_start_ehs"] + frame["added_ehs"]
    frame["share_pct"] = 100 * frame["hashrate_ehs"] / network_ehs
    frame = frame[["ticker", "name", "hashrate_ehs", "hashrate_start_ehs", "added_ehs", "share_pct"]]
    total, start = float(frame["hashrate_ehs"].sum()), float(frame["hashrate_start_ehs"].sum())
    return MinerFigures(
        hashrate_ehs=_figure(total, start - 0.0),
        share_of_network_pct=_figure(100 * total / network_ehs, 38.8, 39.5, "share"),
        capacity_added_ehs=total - start,
        capacity_since=date(2025, 11, 30),
        capacity_to=date(2026, 1, 14),
        leaders=("BTDR", "RIOT"),
        by_ticker=frame,
    )


def equity_figures() -> EquityFigures:
    frame = pd.DataFrame(CAPS, columns=["ticker", "name", "market_cap_start_usd", "change_pct"])
    # Scale to the note's totals: $48.8bn at the start, $62.0bn at the end.
    frame["market_cap_start_usd"] *= 48.8e9 / frame["market_cap_start_usd"].sum()
    weights = frame["market_cap_start_usd"] / frame["market_cap_start_usd"].sum()
    frame["change_pct"] += 100 * (62.0 / 48.8 - 1) - float((weights * frame["change_pct"]).sum())
    frame["market_cap_usd"] = frame["market_cap_start_usd"] * (1 + frame["change_pct"] / 100)
    frame["vs_btc_pp"] = frame["change_pct"] - BTC_CHANGE_PCT
    frame = frame[["ticker", "name", "market_cap_start_usd", "market_cap_usd", "change_pct", "vs_btc_pp"]]
    frame = frame.sort_values("market_cap_usd", ascending=False).reset_index(drop=True)
    return EquityFigures(
        market_cap_usd=_figure(float(frame["market_cap_usd"].sum()), float(frame["market_cap_start_usd"].sum())),
        start=date(2025, 12, 31),
        end=date(2026, 1, 14),
        btc_change_pct=BTC_CHANGE_PCT,
        by_ticker=frame,
        best="CIFR",
        worst="GREE",
        beat_btc_count=int((frame["vs_btc_pp"] > 0).sum()),
        count=len(frame),
    )


def deals() -> pd.DataFrame:
    rows = [
        (date(2026, 1, 6), "RIOT", "Land acquisition", None, 96e6, None, "About 200 acres at Rockdale, Texas"),
        (
            date(2026, 1, 8),
            "RIOT",
            "HPC lease",
            "AMD",
            311e6,
            25.0,
            "10-year data-centre lease; up to about $1bn with extensions",
        ),
        (
            date(2026, 1, 12),
            "GLXY",
            "Grid approval",
            "ERCOT",
            None,
            830.0,
            "830 MW more at Helios; over 1.6 GW approved in all",
        ),
    ]
    frame = pd.DataFrame(
        rows, columns=["date", "ticker", "kind", "counterparty", "value_usd", "capacity_mw", "description"]
    )
    frame["date"] = pd.to_datetime(frame["date"])
    frame[["value_usd", "capacity_mw"]] = frame[["value_usd", "capacity_mw"]].astype("Float64")
    return frame


def fleet_classes(revenue_per_eh_day: float = 39_920.0) -> pd.DataFrame:
    rows = []
    for label, efficiency in (("Below 19 J/TH", 17.0), ("19\u201325 J/TH", 22.0), ("25\u201338 J/TH", 31.5)):
        revenue = revenue_per_eh_day / (24 * efficiency)
        rows.append((label, efficiency, revenue, 40.0, 100 * (1 - 40.0 / revenue)))
    return pd.DataFrame(
        rows, columns=["class", "efficiency_j_per_th", "revenue_usd_per_mwh", "power_usd_per_mwh", "margin_pct"]
    )


def sensitivity(price: float = 90_250.0, hashrate: float = 1_027.0) -> pd.DataFrame:
    prices = [round(price * (1 + s), -2) for s in (-0.30, -0.20, -0.10, 0.0, 0.10, 0.20, 0.30)]
    hashrates = [round(hashrate * (1 + s)) for s in (-0.10, -0.05, 0.0, 0.05, 0.10)]
    cells = [[144 * REWARD * p / (1_000 * h) for p in prices] for h in hashrates]
    return pd.DataFrame(
        cells,
        index=pd.Index(hashrates, name="hashrate_ehs", dtype=float),
        columns=pd.Index(prices, name="btc_price_usd", dtype=float),
    )


def sector_metrics(miners: bool = True, equities: bool = True, with_deals: bool = True) -> SectorMetrics:
    """The mid-January 2026 figures; drop miners, equities or deals to test the gaps."""
    full = series()
    if not miners:
        full = replace(full, listed_share=full.listed_share.iloc[0:0])
    if not equities:
        full = replace(full, market_cap=full.market_cap.iloc[0:0])
    market_cap = 62.0e9 if equities else None
    share = 40.8
    return SectorMetrics(
        period=PERIOD,
        compare=COMPARE,
        prior_month=PRIOR,
        assumptions=Assumptions(),
        in_force={key: InForce(0.04, 22.0, 21_120.0, False) for key in ("period", "compare", "prior_month")},
        network=NetworkFigures(
            hashrate_ehs=_figure(1_027.0, 1_048.0, 1_045.0),
            btc_price_usd=_figure(90_250.0, 82_970.0, 88_950.0),
            fees_btc_per_block=_figure(0.030, 0.028, 0.029),
            fee_share_pct=_figure(0.95, 0.89, 0.92, "share"),
            difficulty=_figure(146.5e12, 148.2e12, 149.3e12),
            next_adjustment=NextAdjustment(date(2026, 1, 9), 146.5e12, 146.1, 1.46),
            block_height=932_500,
            btc_price_at_end=88_030.0,
        ),
        economics=EconomicsFigures(
            hashprice_usd_per_ph_day=_figure(39.92, 35.97, 38.70),
            hashprice_btc_per_ph_day=_figure(0.000442, 0.000434, 0.000435),
            revenue_usd_per_eh_day=_figure(39_920.0, 35_970.0, 38_700.0),
            power_cost_usd_per_eh_day=_figure(21_120.0, 21_120.0, 21_120.0),
            gross_profit_usd_per_eh_day=_figure(18_800.0, 14_850.0, 17_100.0),
            gross_margin_pct=_figure(47.1, 41.3, 44.1, "share"),
            breakeven_power_usd_per_kwh=_figure(0.0756, 0.0681, 0.0733),
            power_cost_usd_per_btc=_figure(47_783.0, 48_664.0, 48_552.0),
            block_reward_revenue_usd_per_eh_day=_figure(39_540.0, 35_650.0, 38_340.0),
            block_reward_gross_profit_usd_per_eh_day=_figure(18_420.0, 14_530.0, 17_220.0),
            block_reward_gross_margin_pct=_figure(46.6, 40.8, 44.9, "share"),
        ),
        fleet_classes=fleet_classes(),
        sensitivity=sensitivity(),
        miners=miner_figures() if miners else None,
        equities=equity_figures() if equities else None,
        valuation=Valuation(
            block_height=932_500,
            btc_price_usd=88_030.0,
            opportunity_4y_btc=512_094.0,
            opportunity_4y_usd=512_094.0 * 88_030.0,
            market_cap_usd=market_cap,
            market_cap_to_opportunity_pct=100 * 62.0e9 / (512_094.0 * 88_030.0) if equities else None,
            market_cap_to_proportional_opportunity_x=(
                62.0e9 / (share / 100 * 512_094.0 * 88_030.0) if equities and miners else None
            ),
        ),
        deals=deals() if with_deals else deals().iloc[0:0],
        series=full,
    )


def brief_config(**changes) -> MiningConfig:
    config = MiningConfig(
        title="Bitcoin mining",
        as_of=AS_OF,
        period=PERIOD,
        compare=COMPARE,
        assumptions=Assumptions(),
        analysts=(
            Analyst("Alex Morgan", "alex.morgan@example.com", "+1 212 555 0100"),
            Analyst("Sam Patel", "sam.patel@example.com", "+1 212 555 0101"),
        ),
        house="Example Securities Research",
    )
    return replace(config, **changes)


SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="{w}cm" height="{h}cm" viewBox="0 0 {vw} {vh}">
<rect x="0" y="0" width="{vw}" height="{vh}" fill="#f4f6f9"/>
<polyline fill="none" stroke="#0b2545" stroke-width="2" points="{points}"/>
</svg>
"""


def write_chart(folder: Path, name: str, width: str = "full") -> Path:
    """A small vector chart file, sized like charts.py's (full 17 x 6.5 cm, half 8.2 x 6 cm)."""
    w, h = (17.0, 6.5) if width == "full" else (8.2, 6.0)
    vw, vh = int(w * 40), int(h * 40)
    points = " ".join(f"{x},{int(vh * (0.8 - 0.5 * x / vw))}" for x in range(0, vw + 1, vw // 10))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.svg"
    path.write_text(SVG.format(w=w, h=h, vw=vw, vh=vh, points=points), encoding="utf-8")
    return path


def charts(folder: Path) -> tuple[Chart, ...]:
    """One chart per section, full and half width, written to `folder`."""
    specs: list[tuple[str, str, Section, Width]] = [
        ("network_hashrate", "Network hashrate (7-day average) and difficulty", "network", "full"),
        ("hashprice", "Hashprice, USD and BTC per PH/s per day", "economics", "half"),
        ("margin", "Revenue, power cost and gross profit per EH/s per day", "economics", "half"),
        ("listed_share", "Listed miners' share of network hashrate", "miners", "full"),
        ("market_cap", "Combined market cap vs 4-year block-reward opportunity", "valuation", "full"),
    ]
    return tuple(
        Chart(
            name,
            write_chart(folder, name, width),
            title,
            f"Chart of {title.lower()}.",
            section,
            "Source: Coin Metrics Community Data, company reports, Example Securities Research.",
            width,
        )
        for name, title, section, width in specs
    )


SOURCES = (
    SourceFile("network.csv", 410, date(2024, 12, 1), date(2026, 1, 14), "3" * 64),
    SourceFile("miners.csv", 12, date(2024, 1, 1), date(2025, 6, 1), "a1" * 32),
    SourceFile("commentary/outlook.md", 9, None, None, "b2" * 32),
)
OUTLOOK = """\
If Bitcoin's price holds its range and network hashrate growth normalises, **2026 could be a more
constructive year** for the miners: margins have room to recover and the *AI/HPC* pivot brings
contracted, dollar-denominated revenue. See [the sector tracker](https://example.com/tracker).

- Risks: a lower Bitcoin price, a faster return of hashrate, and execution on data-centre builds.
- Catalysts: further HPC leases and grid approvals.
"""


def brief_context(folder: Path, metrics: SectorMetrics | None = None, **changes) -> BriefContext:
    """A BriefContext over the hand-built metrics, with chart files written to `folder`."""
    from briefgen.sectors.bitcoin_mining.narrative import draft_headline, draft_takeaways

    metrics = metrics or sector_metrics()
    context = BriefContext(
        config=brief_config(),
        metrics=metrics,
        charts=charts(folder),
        headline=draft_headline(metrics),
        takeaways=tuple(draft_takeaways(metrics)),
        commentary=render_commentary({"outlook": OUTLOOK}, SECTOR.sections),
        sources=SOURCES,
        series=SECTOR.series,
        key_figures=SECTOR.key_figures,
    )
    return replace(context, **changes)


class LogRecords(logging.Handler):
    """WeasyPrint's warnings and errors during a test; a test takes out the ones it expects."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self, text: str) -> list[logging.LogRecord]:
        """Remove and return the records whose message contains `text`."""
        taken = [r for r in self.records if text in r.getMessage()]
        self.records = [r for r in self.records if r not in taken]
        return taken


@pytest.fixture
def weasyprint_log():
    """Fail the test on any WeasyPrint warning or error it did not take out as expected."""
    logger = logging.getLogger("weasyprint")
    handler = LogRecords()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
    unexpected = [f"{r.levelname}: {r.getMessage()}" for r in handler.records]
    assert not unexpected, "unexpected WeasyPrint log records:\n" + "\n".join(unexpected)


def stream_bytes(data: bytes) -> bytes:
    """The PDF's raw bytes followed by every Flate stream decompressed (object streams included)."""
    parts = [data]
    for match in re.finditer(rb"stream\r?\n", data):
        try:
            parts.append(zlib.decompressobj().decompress(data[match.end() :]))
        except zlib.error:
            continue
    return b"\n".join(parts)
