"""Check the illustrative sample in inputs/ against the note's headline figures, with our own arithmetic.

Window figures follow DOMAIN.md: revenue per EH/s (window) = 144 x (subsidy + sum F / sum B) x
mean(P) / mean(H); power cost = 24 x J/TH x $/MWh. Nothing here imports briefgen's metrics, so a
bug there cannot hide a bug in the sample (or the other way round).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ROOT / "inputs"
SCRIPT = ROOT / "scripts" / "make_sample_inputs.py"
SAMPLE_FILES = (
    "brief.yaml",
    "network.csv",
    "miners.csv",
    "miner_hashrate.csv",
    "market_caps.csv",
    "deals.csv",
    "commentary/outlook.md",
)
SUBSIDY = 3.125
POWER_COST = 24 * 22 * 40  # $ per EH/s per day at 22 J/TH and $40/MWh
PERIOD = ("2026-01-01", "2026-01-14")
COMPARE = ("2025-12-18", "2025-12-31")
DECEMBER = ("2025-12-01", "2025-12-31")
NYSE_HOLIDAYS = {"2025-06-19", "2025-07-04", "2025-09-01", "2025-11-27", "2025-12-25", "2026-01-01"}


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(INPUTS / name, parse_dates=["date"] if name != "miners.csv" else None)


@pytest.fixture(scope="module")
def network() -> pd.DataFrame:
    return _read("network.csv").set_index("date")


@pytest.fixture(scope="module")
def miners() -> pd.DataFrame:
    return pd.read_csv(INPUTS / "miners.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def miner_hashrate() -> pd.DataFrame:
    return _read("miner_hashrate.csv")


@pytest.fixture(scope="module")
def caps() -> pd.DataFrame:
    return _read("market_caps.csv")


def window(network: pd.DataFrame, first: str, last: str) -> dict[str, float]:
    days = network.loc[first:last]
    price, hashrate = days["btc_price_usd"].mean(), days["hashrate_ehs"].mean()
    fee_per_block = days["fees_btc"].sum() / days["blocks"].sum()
    revenue = 144 * (SUBSIDY + fee_per_block) * price / hashrate
    return {
        "price": price,
        "hashrate": hashrate,
        "revenue": revenue,
        "margin": 1 - POWER_COST / revenue,
        "days": len(days),
    }


def members_on(miners: pd.DataFrame, day: str) -> set[str]:
    """The tickers tracked on `day` (miners.csv is read as text: the dates compare as ISO strings)."""
    return {
        ticker
        for ticker, start, end in zip(miners["ticker"], miners["from"], miners["to"], strict=True)
        if start <= day and (end == "" or day <= end)
    }


def combined_on(frame: pd.DataFrame, column: str, miners: pd.DataFrame, day: str) -> float:
    """Sum over members of each one's last value on or before `day`."""
    known = frame[(frame["date"] <= day) & frame["ticker"].isin(members_on(miners, day))]
    return float(known.sort_values("date").groupby("ticker")[column].last().sum())


# --- network.csv -----------------------------------------------------------------------------


def test_network_has_every_day_once_with_contract_columns(network):
    assert list(pd.read_csv(INPUTS / "network.csv", nrows=0).columns) == [
        "date",
        "btc_price_usd",
        "hashrate_ehs",
        "blocks",
        "fees_btc",
        "difficulty",
    ]
    assert network.index.is_unique
    expected = pd.date_range("2024-04-01", "2026-01-15", freq="D")
    assert list(network.index) == list(expected)
    assert network.notna().all().all()
    assert (network["blocks"] > 0).all() and network["blocks"].dtype.kind == "i"


def test_hashrate_is_difficulty_times_blocks(network):
    implied = network["difficulty"] * 2.0**32 * network["blocks"] / 86_400 / 1e18
    assert (implied - network["hashrate_ehs"]).abs().max() <= 0.0005 + 1e-9


def test_difficulty_is_a_two_week_step_function(network):
    changes = network.index[network["difficulty"].diff().fillna(0) != 0]
    gaps = pd.Series(changes).diff().dt.days.dropna()
    assert gaps.between(9, 19).all(), gaps.describe()
    # roughly one retarget per 2,016 blocks
    post = network.loc["2024-04-20":]
    assert abs(post["blocks"].sum() / 2016 - len(changes)) <= 2
    ratio = network["difficulty"] / network["difficulty"].shift()
    assert ratio.dropna().between(0.9, 1.1).all()


def test_difficulty_peaks_late_october_and_eases_into_late_december(network):
    peak_day = network["difficulty"].idxmax()
    assert pd.Timestamp("2025-10-15") <= peak_day <= pd.Timestamp("2025-11-15")
    assert 153e12 <= network["difficulty"].max() <= 159e12
    late_december = network.loc[COMPARE[0] : COMPARE[1], "difficulty"].mean()
    assert 145e12 <= late_december <= 151e12


def test_monthly_hashrate_matches_public_means(network):
    monthly = network["hashrate_ehs"].groupby(network.index.to_period("M")).mean()
    for month, published in {"2024-08": 631, "2025-02": 810, "2025-03": 816, "2025-05": 897, "2025-10": 1082}.items():
        assert monthly[month] == pytest.approx(published, rel=0.01), month
    assert monthly["2025-12"] == pytest.approx(1045, rel=0.01)
    assert -4.0 <= (monthly["2025-12"] / monthly["2025-11"] - 1) * 100 <= -2.0
    complete = monthly[:"2025-12"]
    assert complete.idxmax() == pd.Period("2025-10", "M")


def test_price_path_follows_the_record(network):
    price = network["btc_price_usd"]
    monthly = price.groupby(network.index.to_period("M")).mean()
    assert 55_000 <= monthly["2024-07"] <= 72_000
    assert monthly["2024-12"] >= 95_000 and monthly["2025-01"] >= 95_000
    assert 105_000 <= monthly["2025-07"] <= 125_000
    assert 120_000 <= price.loc["2025-10-01":"2025-10-10"].max() <= 128_000
    assert price.idxmax() <= pd.Timestamp("2025-10-15") and price.idxmax() >= pd.Timestamp("2025-08-01")
    assert monthly["2025-12"] == pytest.approx(88_950, rel=0.015)
    for day in ("2026-01-14", "2026-01-15"):
        assert 83_850 <= price[day] <= 88_030, day
    assert (price.round(2) == price).all()


def test_fees_per_block(network):
    per_block = (
        network["fees_btc"].groupby(network.index.to_period("M")).sum()
        / network["blocks"].groupby(network.index.to_period("M")).sum()
    )
    assert per_block["2025-01":"2025-12"].between(0.015, 0.06).all()
    assert per_block["2024-04"] > 0.3 and per_block["2024-05"] > 0.1
    assert network.loc["2024-04-20", "fees_btc"] / network.loc["2024-04-20", "blocks"] > 2


# --- the headline economics ------------------------------------------------------------------


def test_december_economics(network):
    december = window(network, *DECEMBER)
    assert december["revenue"] == pytest.approx(38_700, rel=0.025)
    assert 0.435 <= december["margin"] <= 0.455


def test_hashprice_up_about_eleven_percent(network):
    period, compare = window(network, *PERIOD), window(network, *COMPARE)
    assert period["days"] == 14 and compare["days"] == 14
    change = (period["revenue"] / compare["revenue"] - 1) * 100
    assert 10.5 <= change <= 11.5, change


def test_network_hashrate_down_about_two_percent_and_below_october(network):
    period, compare = window(network, *PERIOD), window(network, *COMPARE)
    change = (period["hashrate"] / compare["hashrate"] - 1) * 100
    assert -2.5 <= change <= -1.5, change
    assert period["hashrate"] < window(network, "2025-10-01", "2025-10-31")["hashrate"]


def test_price_up_modestly(network):
    period, compare = window(network, *PERIOD), window(network, *COMPARE)
    change = (period["price"] / compare["price"] - 1) * 100
    assert 0 < change < 10, change


def test_gross_margin_about_47_percent_and_300bp_over_december(network):
    period, december = window(network, *PERIOD), window(network, *DECEMBER)
    assert 0.465 <= period["margin"] <= 0.475, period["margin"]
    step_bp = (period["margin"] - december["margin"]) * 10_000
    assert 250 <= step_bp <= 350, step_bp


def test_late_december_weaker_than_december(network):
    assert window(network, *COMPARE)["revenue"] < window(network, *DECEMBER)["revenue"]


# --- miners ----------------------------------------------------------------------------------


def test_exactly_fourteen_members_now(miners):
    assert list(miners.columns) == ["ticker", "name", "exchange", "from", "to"]
    assert miners["ticker"].is_unique
    now = members_on(miners, "2026-01-15")
    assert len(now) == 14
    assert {
        "MARA",
        "RIOT",
        "CLSK",
        "CIFR",
        "IREN",
        "CORZ",
        "HUT",
        "BTDR",
        "BITF",
        "WULF",
        "CANG",
        "GREE",
        "GLXY",
    } <= now
    former = set(miners["ticker"]) - now
    assert former == {"SDIG", "ARBK"}
    assert all("2024-01-01" <= miners.set_index("ticker").loc[t, "to"] <= "2025-12-31" for t in former)
    assert set(miners["exchange"]) <= {"NASDAQ", "NYSE"}


def test_miner_hashrate_rows_are_month_ends_of_members(miner_hashrate, miners):
    assert not miner_hashrate.duplicated(["date", "ticker"]).any()
    dates = sorted(miner_hashrate["date"].unique())
    month_ends = [*list(pd.date_range("2024-04-30", "2025-12-31", freq="ME")), pd.Timestamp("2026-01-14")]
    assert [pd.Timestamp(d) for d in dates] == month_ends
    for row in miner_hashrate.itertuples():
        assert row.ticker in members_on(miners, row.date.strftime("%Y-%m-%d")), row
    for day in month_ends:
        present = set(miner_hashrate.loc[miner_hashrate["date"] == day, "ticker"])
        assert present == members_on(miners, day.strftime("%Y-%m-%d")), day


def test_listed_hashrate_share_and_capacity_added(network, miner_hashrate, miners):
    listed = combined_on(miner_hashrate, "hashrate_ehs", miners, "2026-01-14")
    assert 415 <= listed <= 423, listed
    share = listed / window(network, *PERIOD)["hashrate"] * 100
    assert 40.5 <= share <= 41.5, share
    before = combined_on(miner_hashrate, "hashrate_ehs", miners, COMPARE[0])  # values of 2025-11-30
    assert 10 <= listed - before <= 14, listed - before
    latest = miner_hashrate[miner_hashrate["date"] == "2026-01-14"].set_index("ticker")["hashrate_ehs"]
    start = miner_hashrate[miner_hashrate["date"] == "2025-11-30"].set_index("ticker")["hashrate_ehs"]
    added = (latest - start.reindex(latest.index).fillna(0)).sort_values(ascending=False)
    assert list(added.index[:2]) == ["BTDR", "RIOT"]


def test_listed_share_is_a_record(network, miner_hashrate, miners):
    """Share at each miner date against the month-to-date mean network hashrate."""
    shares = {}
    for day in sorted(miner_hashrate["date"].unique()):
        day = pd.Timestamp(day)
        mean = network.loc[day.replace(day=1) : day, "hashrate_ehs"].mean()
        shares[day] = combined_on(miner_hashrate, "hashrate_ehs", miners, day.strftime("%Y-%m-%d")) / mean
    latest = shares.pop(pd.Timestamp("2026-01-14"))
    assert latest > max(shares.values())


def test_sizes_are_realistic(miner_hashrate):
    latest = miner_hashrate[miner_hashrate["date"] == "2026-01-14"].set_index("ticker")["hashrate_ehs"]
    ranges = {
        "MARA": (55, 65),
        "RIOT": (35, 40),
        "CLSK": (45, 55),
        "IREN": (45, 55),
        "CIFR": (18, 25),
        "CORZ": (18, 23),
        "HUT": (10, 16),
        "BTDR": (40, 60),
        "BITF": (17, 22),
        "WULF": (11, 15),
        "CANG": (45, 55),
        "GREE": (1.5, 3.5),
    }
    for ticker, (low, high) in ranges.items():
        assert low <= latest[ticker] <= high, ticker


# --- market caps -----------------------------------------------------------------------------


def test_market_caps_cover_trading_days_for_members(caps, miners):
    assert not caps.duplicated(["date", "ticker"]).any()
    days = [d for d in pd.bdate_range("2025-06-02", "2026-01-14") if d.strftime("%Y-%m-%d") not in NYSE_HOLIDAYS]
    assert sorted(caps["date"].unique()) == days
    members = members_on(miners, "2026-01-15")
    for _, group in caps.groupby("date"):
        assert set(group["ticker"]) == members
    assert (caps["market_cap_usd"] == caps["market_cap_usd"].round()).all()


def test_combined_market_cap_and_change(caps, miners):
    now = combined_on(caps, "market_cap_usd", miners, "2026-01-14")
    year_end = combined_on(caps, "market_cap_usd", miners, "2025-12-31")
    assert 61.5e9 <= now <= 62.5e9, now
    assert 48.5e9 <= year_end <= 49.5e9, year_end
    assert 12.5e9 <= now - year_end <= 13.5e9, now - year_end


def test_tickers_differ_and_some_lag_bitcoin(caps, network):
    wide = caps.pivot(index="date", columns="ticker", values="market_cap_usd")
    change = wide.loc["2026-01-14"] / wide.loc["2025-12-31"] - 1
    btc = network.loc["2026-01-14", "btc_price_usd"] / network.loc["2025-12-31", "btc_price_usd"] - 1
    assert (change > btc).sum() >= 3 and (change < btc).sum() >= 2
    assert change.std() > 0.05
    late_2025 = wide.loc["2025-12-31"] / 1e9
    assert late_2025["IREN"] == late_2025.max()
    assert late_2025[["GREE", "CANG", "HIVE"]].max() < 1


def test_year_end_cap_near_the_four_year_opportunity(caps, miners, network):
    height = 840_000 + int(network.loc["2024-04-20":"2025-12-31", "blocks"].sum())
    this_era = 1_050_000 - height
    opportunity_btc = this_era * 3.125 + (210_240 - this_era) * 1.5625
    ratio = combined_on(caps, "market_cap_usd", miners, "2025-12-31") / (
        opportunity_btc * network.loc["2025-12-31", "btc_price_usd"]
    )
    assert 1.0 <= ratio <= 1.15, ratio


# --- deals, brief.yaml, commentary -----------------------------------------------------------


def test_deals_carry_the_note_news():
    deals = pd.read_csv(INPUTS / "deals.csv", dtype=str, keep_default_na=False)
    assert list(deals.columns) == ["date", "ticker", "kind", "counterparty", "value_usd", "capacity_mw", "description"]
    assert 6 <= len(deals) <= 8
    assert deals["date"].between("2025-12-01", "2026-01-31").all()
    rows = {(r.ticker, r.kind, r.value_usd, r.capacity_mw) for r in deals.itertuples()}
    assert ("RIOT", "land", "96000000", "") in rows
    assert ("RIOT", "hpc_lease", "311000000", "25") in rows
    assert ("GLXY", "power_approval", "", "830") in rows


def test_brief_yaml():
    raw = yaml.safe_load((INPUTS / "brief.yaml").read_text(encoding="utf-8"))
    assert "title" not in raw
    assert raw["as_of"] == date(2026, 1, 15)
    assert raw["period"] == {"start": date(2026, 1, 1), "end": date(2026, 1, 14), "label": "first two weeks of January"}
    assert raw["compare"] == {"start": date(2025, 12, 18), "end": date(2025, 12, 31), "label": "late December"}
    assert raw["assumptions"] == {"power_price_usd_per_kwh": 0.04, "fleet_efficiency_j_per_th": 22}
    assert len(raw["analysts"]) == 2 and all(set(a) == {"name", "email", "phone"} for a in raw["analysts"])
    assert raw["house"] and all(raw["house"].split()[0].lower() in a["email"] for a in raw["analysts"])


def test_brief_yaml_parses_with_briefgen_config():
    config = pytest.importorskip("briefgen.inputs.config")
    from briefgen.sectors.bitcoin_mining.contract import MiningBriefModel

    parsed = config.parse_config((INPUTS / "brief.yaml").read_text(encoding="utf-8"), MiningBriefModel)
    assert parsed.title is None and parsed.period.days == 14 and parsed.compare.days == 14


def test_outlook_commentary():
    text = (INPUTS / "commentary" / "outlook.md").read_text(encoding="utf-8")
    assert text.count("\n- ") + text.count("\n\n") >= 2 and len(text) < 3000
    assert "AI/HPC" in text


# --- determinism -----------------------------------------------------------------------------


def test_generator_rebuilds_the_sample_byte_for_byte(tmp_path):
    subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], check=True, capture_output=True, cwd=ROOT)
    for name in SAMPLE_FILES:
        assert (tmp_path / name).read_bytes() == (INPUTS / name).read_bytes(), name
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert written == set(SAMPLE_FILES)
