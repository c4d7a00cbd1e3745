"""Properties of the metrics engine and the loaders, over generated data (hypothesis).

The engine: hashprice scales with price and inversely with hashrate, margins never exceed 100%,
and valid inputs never crash it. The loaders: any bytes and any table end in a result or a clean
BriefgenError, never another exception. Example counts stay modest so the file runs in seconds.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from briefgen.errors import BriefgenError
from briefgen.inputs.config import parse_config
from briefgen.inputs.rawtables import read_csv_bytes
from briefgen.sectors.bitcoin_mining.assumptions import Assumptions
from briefgen.sectors.bitcoin_mining.contract import NETWORK
from briefgen.sectors.bitcoin_mining.inputs import load_inputs
from briefgen.sectors.bitcoin_mining.metrics import compute, fleet_classes, window_figures

pytestmark = pytest.mark.filterwarnings("error")

# No "explain" phase: its line tracing multiplies the run time of a failure tenfold.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
# BRIEFGEN_PROPERTY_SCALE=50 runs fifty times the examples: a deliberate deep search, not for CI.
SCALE = int(os.environ.get("BRIEFGEN_PROPERTY_SCALE", "1"))
FAST = settings(max_examples=60 * SCALE, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(
    max_examples=25 * SCALE,
    deadline=None,
    phases=PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Figures inside the input contract, kept to magnitudes a brief can meet (the contract's own
# bounds are wider; the loader tests below cover those).
prices = st.floats(1.0, 10_000_000.0)
hashrates = st.floats(0.001, 50_000.0)
blocks = st.integers(1, 1_000)
fees = st.floats(0.0, 5_000.0)
subsidies = st.sampled_from([50.0, 25.0, 12.5, 6.25, 3.125, 1.5625])
assumptions = st.builds(Assumptions, st.floats(0.001, 1.0), st.floats(1.5, 200.0))


@st.composite
def windows(draw, days: int | None = None) -> pd.DataFrame:
    """A window of daily network rows as the engine receives them (subsidy_btc = BTC issued that day)."""
    n = days or draw(st.integers(1, 20))
    rows = []
    for i in range(n):
        count = draw(blocks)
        rows.append(
            {
                "date": pd.Timestamp("2026-01-01") + pd.Timedelta(days=i),
                "btc_price_usd": draw(prices),
                "hashrate_ehs": draw(hashrates),
                "blocks": count,
                "fees_btc": draw(fees),
                "subsidy_btc": count * draw(subsidies),
                "difficulty": float("nan"),
            }
        )
    return pd.DataFrame(rows)


# --- the metrics engine ----------------------------------------------------------------------


@FAST
@given(windows(), assumptions, st.floats(0.01, 100.0))
def test_hashprice_scales_with_price(days: pd.DataFrame, costs: Assumptions, factor: float):
    base = window_figures(days, costs)
    moved = days.assign(btc_price_usd=days["btc_price_usd"] * factor)
    scaled = window_figures(moved, costs)
    assert scaled.hashprice_usd_per_ph_day == pytest.approx(base.hashprice_usd_per_ph_day * factor, rel=1e-9)
    assert scaled.revenue_usd_per_eh_day == pytest.approx(base.revenue_usd_per_eh_day * factor, rel=1e-9)
    assert scaled.hashprice_btc_per_ph_day == pytest.approx(base.hashprice_btc_per_ph_day, rel=1e-12)


@FAST
@given(windows(), assumptions, st.floats(0.01, 100.0))
def test_hashprice_scales_inversely_with_hashrate(days: pd.DataFrame, costs: Assumptions, factor: float):
    base = window_figures(days, costs)
    scaled = window_figures(days.assign(hashrate_ehs=days["hashrate_ehs"] * factor), costs)
    assert scaled.hashprice_btc_per_ph_day == pytest.approx(base.hashprice_btc_per_ph_day / factor, rel=1e-9)
    assert scaled.hashprice_usd_per_ph_day == pytest.approx(base.hashprice_usd_per_ph_day / factor, rel=1e-9)
    # More hashrate for the same reward: each EH/s earns less, so its margin cannot rise.
    if factor > 1:
        assert scaled.gross_margin_pct <= base.gross_margin_pct + 1e-9


@FAST
@given(windows(), assumptions)
def test_margins_never_exceed_100_percent(days: pd.DataFrame, costs: Assumptions):
    figures = window_figures(days, costs)
    assert figures.gross_margin_pct < 100.0
    assert figures.gross_profit_usd_per_eh_day < figures.revenue_usd_per_eh_day
    assert figures.power_cost_usd_per_eh_day > 0
    assert 0.0 <= figures.fee_share_pct <= 100.0
    assert (fleet_classes(figures)["margin_pct"] < 100.0).all()
    assert figures.block_reward_gross_margin_pct <= figures.gross_margin_pct + 1e-9  # fees only add revenue
    # The breakeven power price is where the margin is zero.
    at_breakeven = Assumptions(figures.breakeven_power_usd_per_kwh, costs.fleet_efficiency_j_per_th)
    assert window_figures(days, at_breakeven).gross_margin_pct == pytest.approx(0.0, abs=1e-6)


@FAST
@given(windows(), assumptions)
def test_window_figures_are_ratios_of_window_means(days: pd.DataFrame, costs: Assumptions):
    figures = window_figures(days, costs)
    reward = 144 * (days["subsidy_btc"].sum() + days["fees_btc"].sum()) / days["blocks"].sum()
    assert figures.hashprice_btc_per_ph_day == pytest.approx(reward / (1000 * days["hashrate_ehs"].mean()), rel=1e-9)
    assert min(days["btc_price_usd"]) * (1 - 1e-12) <= figures.btc_price_usd <= max(days["btc_price_usd"]) * (1 + 1e-12)


# --- valid input folders never crash the engine ------------------------------------------------

TICKERS = ("MARA", "RIOT", "CLSK", "CIFR")


def _csv(header: list[str], rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@st.composite
def input_folders(draw) -> dict[str, str]:
    """A valid inputs folder: consecutive days, windows inside them, optional miners' tables."""
    n = draw(st.integers(2, 45))
    first = date(2020, 1, 1) + timedelta(days=draw(st.integers(0, 3650)))
    days = [first + timedelta(days=i) for i in range(n)]
    with_height = draw(st.booleans())
    height = draw(st.integers(600_000, 1_200_000))
    rows = []
    for day in days:
        count = draw(st.integers(100, 200))
        height += count
        row = [
            day,
            draw(st.floats(1_000, 500_000).map(lambda x: round(x, 2))),
            draw(st.floats(50, 3_000).map(lambda x: round(x, 3))),
            count,
            draw(st.floats(0, 50).map(lambda x: round(x, 4))),
        ]
        rows.append([*row, height] if with_height else row)
    header = ["date", "btc_price_usd", "hashrate_ehs", "blocks", "fees_btc"] + (["height"] if with_height else [])
    split = draw(st.integers(1, n - 1))  # compare = days[:split], period = days[split:]
    files = {
        "network.csv": _csv(header, rows),
        "brief.yaml": (
            f"title: Generated\nperiod: {{start: {days[split]}, end: {days[-1]}}}\n"
            f"compare: {{start: {days[0]}, end: {days[split - 1]}}}\n"
            f"assumptions: {{power_price_usd_per_kwh: {draw(st.floats(0.01, 0.2)):.4f}, "
            f"fleet_efficiency_j_per_th: {draw(st.floats(10, 40)):.2f}}}\n"
        ),
    }
    if draw(st.booleans()):
        tracked = draw(st.lists(st.sampled_from(TICKERS), min_size=1, max_size=4, unique=True))
        files["miners.csv"] = _csv(
            ["ticker", "name", "exchange", "from", "to"], [[t, f"{t} Inc", "NASDAQ", "2019-01-01", ""] for t in tracked]
        )
        points = draw(
            st.lists(st.tuples(st.integers(0, n - 1), st.sampled_from(tracked)), min_size=1, max_size=12, unique=True)
        )
        files["miner_hashrate.csv"] = _csv(
            ["date", "ticker", "hashrate_ehs"],
            [[days[i], t, draw(st.floats(0.1, 100).map(lambda x: round(x, 2)))] for i, t in points],
        )
        caps = draw(
            st.lists(st.tuples(st.integers(0, n - 1), st.sampled_from(tracked)), min_size=1, max_size=12, unique=True)
        )
        files["market_caps.csv"] = _csv(
            ["date", "ticker", "market_cap_usd"], [[days[i], t, draw(st.integers(10**7, 10**11))] for i, t in caps]
        )
    return files


def _write(folder: Path, files: Mapping[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.iterdir():
        stale.unlink()
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return folder


def _finite_or_none(value) -> bool:
    return value is None or (isinstance(value, float) and math.isfinite(value))


@SLOW
@given(files=input_folders())
def test_valid_inputs_never_crash_the_engine(tmp_path: Path, files: dict[str, str]):
    inputs = load_inputs(_write(tmp_path / "inputs", files))
    metrics = compute(inputs)
    for figure in (
        metrics.network.hashrate_ehs,
        metrics.economics.hashprice_usd_per_ph_day,
        metrics.economics.gross_margin_pct,
        metrics.economics.revenue_usd_per_eh_day,
    ):
        assert _finite_or_none(figure.period) and _finite_or_none(figure.compare)
    margin = metrics.economics.gross_margin_pct.period
    assert margin is not None and margin < 100.0
    assert metrics.valuation.opportunity_4y_btc > 0
    if metrics.miners is not None:
        assert metrics.miners.share_of_network_pct.period is None or metrics.miners.share_of_network_pct.period >= 0


# --- the loaders: a result or a clean error, nothing else ---------------------------------------

GOOD_BRIEF = "title: t\nperiod: {start: 2026-01-02, end: 2026-01-02}\ncompare: {start: 2026-01-01, end: 2026-01-01}\n"
GOOD_NETWORK = (
    "date,btc_price_usd,hashrate_ehs,blocks,fees_btc\n2026-01-01,87000,1050,144,4.2\n2026-01-02,88000,1040,150,4.5\n"
)
text_cells = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
cells = st.one_of(
    text_cells,
    st.sampled_from(
        [
            "2026-01-01",
            "2026-01-02",
            "87000",
            "1,234",
            "$62bn",
            "47%",
            "nan",
            "-inf",
            "1e400",
            "#N/A",
            "0",
            "-1",
            "1050",
            "144",
            "4.2",
            "MARA",
            "",
            " ",
            '"',
            "\ufeff",
            "\x00",
            "=1/0",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
)


@FAST
@given(st.binary(max_size=400))
@example(b"\xff\xfe\x00\x00")
@example(b"PK\x03\x04")
@example(b'"')
@example(b"date\r\n\r\n\r")
def test_csv_reader_gives_a_table_or_a_clean_error(data: bytes):
    try:
        table = read_csv_bytes(data, "network.csv")
    except BriefgenError:
        return
    assert isinstance(table.header, list)


@SLOW
@given(
    data=st.binary(max_size=400),
    name=st.sampled_from(["network.csv", "miners.csv", "market_caps.csv", "brief.yaml", "brief.xlsx"]),
)
def test_load_inputs_on_arbitrary_bytes(tmp_path: Path, data: bytes, name: str):
    files: dict[str, str | bytes] = {"brief.yaml": GOOD_BRIEF, "network.csv": GOOD_NETWORK}
    files[name] = data
    _load_cleanly(_write(tmp_path / "inputs", files))


@SLOW
@given(data=st.data(), name=st.sampled_from(["network", "miners", "miner_hashrate", "market_caps", "deals"]))
def test_load_inputs_on_arbitrary_tables(tmp_path: Path, data, name: str):
    spec_columns = {"network": [c.name for c in NETWORK.columns]}.get(name)
    columns = spec_columns or ["date", "ticker", "hashrate_ehs", "market_cap_usd", "name", "from", "to", "kind"]
    header = data.draw(
        st.lists(st.one_of(st.sampled_from(columns), text_cells), min_size=0, max_size=8), label="header"
    )
    rows = data.draw(st.lists(st.lists(cells, max_size=9), max_size=8), label="rows")
    files: dict[str, str | bytes] = {"brief.yaml": GOOD_BRIEF, "network.csv": GOOD_NETWORK}
    if name != "network":
        files["miners.csv"] = "ticker,name,exchange,from,to\nMARA,MARA Holdings,NASDAQ,2024-01-01,\n"
    files[f"{name}.csv"] = _csv(header, rows)
    _load_cleanly(_write(tmp_path / "inputs", files))


@SLOW
@given(data=st.data())
def test_load_inputs_on_arbitrary_workbooks(tmp_path: Path, data):
    import openpyxl
    from openpyxl.worksheet.worksheet import Worksheet

    values = st.one_of(
        cells,
        st.none(),
        st.booleans(),
        st.integers(-(10**12), 10**12),
        st.floats(allow_nan=False, allow_infinity=False),
        st.dates(date(1900, 3, 1), date(2100, 1, 1)),
    )
    book = openpyxl.Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    sheet.title = data.draw(st.sampled_from(["network", "Network", "miners", "Sheet1"]), label="sheet")
    sheet.append(["date", "btc_price_usd", "hashrate_ehs", "blocks", "fees_btc"])
    for row in data.draw(st.lists(st.lists(values, max_size=6), max_size=6), label="rows"):
        sheet.append([_excel_safe(v) for v in row])
    folder = _write(tmp_path / "inputs", {"brief.yaml": GOOD_BRIEF})
    book.save(folder / "brief.xlsx")
    _load_cleanly(folder)


def _excel_safe(value):
    """openpyxl refuses control characters in strings; a real workbook cannot hold them either."""
    if isinstance(value, str):
        return "".join(ch for ch in value if ch >= " " or ch in "\t\n")
    return value


@FAST
@given(
    st.one_of(
        st.text(max_size=200),
        st.builds(
            lambda k, v: f"{k}: {v}\n",
            st.sampled_from(
                ["title", "as_of", "period", "compare", "assumptions", "analysts", "house", "takeaways", "x"]
            ),
            text_cells,
        ),
        st.sampled_from(
            [
                "as_of: 2026-13-01",
                "as_of: 2026-02-30 25:00:00",
                "a: &a [*a]",
                "? [1]\n: 2",
                "!!python/name:os.system x",
                "title: !!binary aGk=",
                "period: {start: 2026-01-02}",
                "analysts: [1, 2]",
                "title: *x",
            ]
        ),
    )
)
def test_brief_yaml_gives_a_config_or_a_clean_error(text: str):
    with contextlib.suppress(BriefgenError):
        parse_config(text)


def _load_cleanly(folder: Path) -> None:
    try:
        inputs = load_inputs(folder)
    except BriefgenError:
        return
    assert len(inputs.network) >= 1


def test_a_small_network_does_not_crash_the_engine(tmp_path: Path):
    network = (
        "date,btc_price_usd,hashrate_ehs,blocks,fees_btc,height\n"
        "2016-01-01,430,1,144,20,391000\n2016-01-02,434,1.2,150,22,391150\n"
    )
    brief = "title: t\nperiod: {start: 2016-01-02, end: 2016-01-02}\ncompare: {start: 2016-01-01, end: 2016-01-01}\n"
    metrics = compute(load_inputs(_write(tmp_path / "inputs", {"network.csv": network, "brief.yaml": brief})))
    hashprice = metrics.economics.hashprice_usd_per_ph_day.period
    assert hashprice is not None and hashprice > 0
