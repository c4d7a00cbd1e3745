"""Build a small, plausible SectorMetrics for the chart tests, directly from the dataclasses."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from briefgen.config import Assumptions, Window
from briefgen.metrics import (
    EconomicsFigures,
    EquityFigures,
    Figure,
    MinerFigures,
    NetworkFigures,
    SectorMetrics,
    Series,
    Valuation,
)

PERIOD = Window(date(2026, 1, 1), date(2026, 1, 14), "1\u201314 Jan 2026")
COMPARE = Window(date(2025, 12, 18), date(2025, 12, 31), "18\u201331 Dec 2025")
PRIOR = Window(date(2025, 12, 1), date(2025, 12, 31), "December 2025")
SUBSIDY = 3.125
FEE_PER_BLOCK = 0.03
EFFICIENCY = 22.0
POWER_USD_PER_MWH = 40.0
OPPORTUNITY_BTC = 512_094.0

MINERS = [  # ticker, name, hashrate at start, added
    ("MARA", "MARA Holdings", 58.0, 1.2),
    ("IREN", "IREN", 50.0, 0.0),
    ("CLSK", "CleanSpark", 49.0, 1.0),
    ("RIOT", "Riot Platforms", 36.5, 3.0),
    ("BTDR", "Bitdeer", 41.0, 5.0),
    ("CIFR", "Cipher Mining", 23.0, 0.5),
    ("CANG", "Cango", 50.0, 0.0),
    ("HUT", "Hut 8", 24.0, 0.6),
    ("CORZ", "Core Scientific", 19.0, -0.5),
    ("BITF", "Bitfarms", 19.5, 0.0),
    ("WULF", "TeraWulf", 13.0, 0.4),
    ("GREE", "Greenidge", 2.2, -0.2),
]
CAPS = [  # ticker, name, cap at start ($bn), change %
    ("IREN", "IREN", 10.2, 38.0),
    ("CIFR", "Cipher Mining", 6.0, 45.0),
    ("CORZ", "Core Scientific", 5.1, 22.0),
    ("CLSK", "CleanSpark", 3.4, 28.0),
    ("MARA", "MARA Holdings", 4.6, 12.0),
    ("RIOT", "Riot Platforms", 4.9, 31.0),
    ("WULF", "TeraWulf", 4.3, 18.0),
    ("HUT", "Hut 8", 4.1, 25.0),
    ("BTDR", "Bitdeer", 2.4, 9.0),
    ("APLD", "Applied Digital", 2.0, 41.0),
    ("GLXY", "Galaxy Digital", 0.9, 15.0),
    ("BITF", "Bitfarms", 1.1, 3.0),
    ("CANG", "Cango", 0.5, -4.0),
    ("GREE", "Greenidge", 0.05, -9.0),
]
BTC_CHANGE_PCT = 4.98


def daily_series() -> pd.DataFrame:
    """Daily network series, 1 Dec 2024 to 14 Jan 2026, made with DOMAIN.md's formulas."""
    rng = np.random.default_rng(7)
    dates = pd.date_range("2024-12-01", "2026-01-14", freq="D")
    n = len(dates)
    t = np.linspace(0.0, 1.0, n)
    # Price through rough 2025 anchors (Jan 95k, Apr 80k, Aug 117k, Oct 120k, Dec 88k), plus noise.
    anchors = np.array([0.0, 0.3, 0.62, 0.75, 0.92, 1.0])
    price = np.interp(t, anchors, [97_000, 80_000, 117_000, 120_000, 87_000, 92_000]) * (1 + rng.normal(0, 0.012, n))
    trend = 760 + 330 * np.clip(t * 1.15, 0, 1) - 60 * np.clip((t - 0.85) * 6, 0, 1)
    hashrate = trend * (1 + rng.normal(0, 0.045, n))
    hashrate_7d = pd.Series(hashrate).rolling(7, min_periods=1).mean().to_numpy()
    epochs = np.arange(n) // 14
    difficulty = pd.Series(hashrate_7d).groupby(epochs).transform("first").to_numpy() * 1e18 * 600 / 2**32
    btc = 144 * (SUBSIDY + FEE_PER_BLOCK) / (1_000 * hashrate)
    return pd.DataFrame(
        {
            "date": dates,
            "btc_price_usd": price,
            "hashrate_ehs": hashrate,
            "hashrate_7d_ehs": hashrate_7d,
            "difficulty": difficulty,
            "height": 875_000 + 144 * np.arange(n),
            "hashprice_usd_per_ph_day": btc * price,
            "hashprice_btc_per_ph_day": btc,
        }
    )


def monthly_series(daily: pd.DataFrame) -> pd.DataFrame:
    month = daily["date"].dt.to_period("M").dt.to_timestamp()
    grouped = daily.groupby(month)
    frame = pd.DataFrame(
        {
            "hashrate_ehs": grouped["hashrate_ehs"].mean(),
            "btc_price_usd": grouped["btc_price_usd"].mean(),
        }
    )
    frame["revenue_usd_per_eh_day"] = 144 * (SUBSIDY + FEE_PER_BLOCK) * frame["btc_price_usd"] / frame["hashrate_ehs"]
    frame["power_cost_usd_per_eh_day"] = 24 * EFFICIENCY * POWER_USD_PER_MWH
    frame["gross_profit_usd_per_eh_day"] = frame["revenue_usd_per_eh_day"] - frame["power_cost_usd_per_eh_day"]
    frame["gross_margin_pct"] = 100 * frame["gross_profit_usd_per_eh_day"] / frame["revenue_usd_per_eh_day"]
    return frame.rename_axis("month").reset_index()


def listed_share_series(daily: pd.DataFrame) -> pd.DataFrame:
    month_ends = pd.date_range("2025-01-31", "2025-12-31", freq="ME").append(pd.DatetimeIndex(["2026-01-14"]))
    listed = np.linspace(255.0, 419.0, len(month_ends))
    network = daily.set_index("date").loc[month_ends, "hashrate_7d_ehs"].to_numpy()
    return pd.DataFrame(
        {"date": month_ends, "listed_ehs": listed, "network_ehs": network, "share_pct": 100 * listed / network}
    )


def market_cap_series(daily: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    frame = daily[daily["date"] >= "2025-03-01"].reset_index(drop=True)
    n = len(frame)
    caps = 22e9 * np.exp(np.linspace(0, np.log(62 / 22), n) + np.cumsum(rng.normal(0, 0.012, n)) * 0.3)
    caps[-1] = 62.0e9
    opportunity = OPPORTUNITY_BTC * frame["btc_price_usd"].to_numpy()
    return pd.DataFrame(
        {
            "date": frame["date"],
            "market_cap_usd": caps,
            "opportunity_4y_usd": opportunity,
            "market_cap_to_opportunity_pct": 100 * caps / opportunity,
        }
    )


def sensitivity(price: float, hashrate: float) -> pd.DataFrame:
    prices = [round(price * (1 + step), -2) for step in (-0.30, -0.20, -0.10, 0.0, 0.10, 0.20, 0.30)]
    hashrates = [round(hashrate * (1 + step)) for step in (-0.10, -0.05, 0.0, 0.05, 0.10)]
    cells = [[144 * (SUBSIDY + FEE_PER_BLOCK) * p / (1_000 * h) for p in prices] for h in hashrates]
    return pd.DataFrame(cells, index=pd.Index(hashrates, name="hashrate_ehs", dtype=float),
                        columns=pd.Index(prices, name="btc_price_usd", dtype=float))


def fleet_classes(hashprice_usd: float) -> pd.DataFrame:
    rows = []
    for label, efficiency in (("Below 19 J/TH", 17.0), ("19\u201325 J/TH", 22.0), ("25\u201338 J/TH", 31.5)):
        revenue = hashprice_usd * 1_000 / (24 * efficiency)
        rows.append((label, efficiency, revenue, POWER_USD_PER_MWH, 100 * (1 - POWER_USD_PER_MWH / revenue)))
    return pd.DataFrame(rows, columns=["class", "efficiency_j_per_th", "revenue_usd_per_mwh", "power_usd_per_mwh", "margin_pct"])


def miner_figures(network_ehs: float) -> MinerFigures:
    by_ticker = pd.DataFrame(MINERS, columns=["ticker", "name", "hashrate_start_ehs", "added_ehs"])
    by_ticker["hashrate_ehs"] = by_ticker["hashrate_start_ehs"] + by_ticker["added_ehs"]
    by_ticker["share_pct"] = 100 * by_ticker["hashrate_ehs"] / network_ehs
    by_ticker = by_ticker[["ticker", "name", "hashrate_ehs", "hashrate_start_ehs", "added_ehs", "share_pct"]]
    total, start = float(by_ticker["hashrate_ehs"].sum()), float(by_ticker["hashrate_start_ehs"].sum())
    return MinerFigures(
        hashrate_ehs=Figure(total, start),
        share_of_network_pct=Figure(100 * total / network_ehs, 38.9, kind="share"),
        capacity_added_ehs=total - start,
        capacity_since=date(2025, 11, 30),
        capacity_to=date(2026, 1, 14),
        leaders=("BTDR", "RIOT"),
        by_ticker=by_ticker,
    )


def equity_figures() -> EquityFigures:
    by_ticker = pd.DataFrame(CAPS, columns=["ticker", "name", "market_cap_start_usd", "change_pct"])
    by_ticker["market_cap_start_usd"] *= 1e9
    by_ticker["market_cap_usd"] = by_ticker["market_cap_start_usd"] * (1 + by_ticker["change_pct"] / 100)
    by_ticker["vs_btc_pp"] = by_ticker["change_pct"] - BTC_CHANGE_PCT
    by_ticker = by_ticker[["ticker", "name", "market_cap_start_usd", "market_cap_usd", "change_pct", "vs_btc_pp"]]
    end, start = float(by_ticker["market_cap_usd"].sum()), float(by_ticker["market_cap_start_usd"].sum())
    return EquityFigures(
        market_cap_usd=Figure(end, start),
        start=date(2025, 12, 31),
        end=date(2026, 1, 14),
        btc_change_pct=BTC_CHANGE_PCT,
        by_ticker=by_ticker,
        best="CIFR",
        worst="GREE",
        beat_btc_count=int((by_ticker["vs_btc_pp"] > 0).sum()),
        count=len(by_ticker),
    )


def sector_metrics(miners: bool = True, equities: bool = True) -> SectorMetrics:
    """A SectorMetrics for 1-14 Jan 2026 against 18-31 Dec 2025; drop miners or equities to test skipping."""
    daily = daily_series()
    last = daily.iloc[-1]
    price, hashrate = float(last["btc_price_usd"]), float(last["hashrate_7d_ehs"])
    hashprice = float(daily["hashprice_usd_per_ph_day"].iloc[-14:].mean())
    caps = market_cap_series(daily)
    series = Series(
        daily=daily,
        monthly=monthly_series(daily),
        listed_share=listed_share_series(daily) if miners else pd.DataFrame(columns=["date", "listed_ehs", "network_ehs", "share_pct"]),
        market_cap=caps if equities else pd.DataFrame(columns=["date", "market_cap_usd", "opportunity_4y_usd", "market_cap_to_opportunity_pct"]),
    )
    level = Figure(1.0, 1.0)
    return SectorMetrics(
        period=PERIOD,
        compare=COMPARE,
        prior_month=PRIOR,
        assumptions=Assumptions(),
        network=NetworkFigures(
            hashrate_ehs=Figure(hashrate, hashrate * 1.02),
            btc_price_usd=Figure(price, price * 0.98),
            fees_btc_per_block=Figure(FEE_PER_BLOCK, FEE_PER_BLOCK),
            fee_share_pct=Figure(0.95, 0.97, kind="share"),
            difficulty=Figure(float(last["difficulty"]), float(last["difficulty"])),
            next_adjustment=None,
            block_height=int(last["height"]),
            btc_price_at_end=price,
        ),
        economics=EconomicsFigures(*(level for _ in range(8))),
        fleet_classes=fleet_classes(hashprice),
        sensitivity=sensitivity(price, hashrate),
        miners=miner_figures(hashrate) if miners else None,
        equities=equity_figures() if equities else None,
        valuation=Valuation(
            block_height=int(last["height"]),
            btc_price_usd=price,
            opportunity_4y_btc=OPPORTUNITY_BTC,
            opportunity_4y_usd=OPPORTUNITY_BTC * price,
            market_cap_usd=62e9 if equities else None,
            market_cap_to_opportunity_pct=100 * 62e9 / (OPPORTUNITY_BTC * price) if equities else None,
            market_cap_to_proportional_opportunity_x=None,
        ),
        deals=pd.DataFrame(columns=["date", "ticker", "headline"]),
        series=series,
    )
