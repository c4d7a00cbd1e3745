"""Charts: every chart drawn as real-text SVG in the house style, described, deterministic, skippable.

Drawn the way the build draws them: each ChartSpec's data(metrics) and chart(...), and the SVG
bytes from briefgen.charts.stage.draw (spec.svg in this process, or in the build's child).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from briefgen.charts import Chart, data_key
from briefgen.charts.stage import draw as _draw
from briefgen.sectors.bitcoin_mining.charts import CHARTS
from tests.brief_fixtures import sector_metrics

ROOT = Path(__file__).resolve().parents[1]
SVG = "{http://www.w3.org/2000/svg}"
MINER_CHARTS = {"listed_share", "miner_hashrate"}
EQUITY_CHARTS = {"market_cap", "equities_vs_btc", "market_cap_to_opportunity"}


@pytest.fixture(scope="module")
def metrics():
    return sector_metrics()


def draw(metrics) -> list[tuple[Chart, bytes]]:
    """Every chart whose data is present, as charts.stage.chart_stage places it and draw draws it, in order."""
    slices = {name: spec.data(metrics) for name, spec in CHARTS.items()}
    present = {name: data for name, data in slices.items() if data is not None}
    svgs = _draw([("bitcoin_mining", name, data) for name, data in present.items()])
    assert list(svgs) == list(present)
    return [(CHARTS[name].chart(data, Path("charts", f"{name}.svg")), svgs[name]) for name, data in present.items()]


@pytest.fixture(scope="module")
def drawn(metrics) -> list[tuple[Chart, bytes]]:
    return draw(metrics)


def test_draws_every_chart_when_all_inputs_are_present(drawn):
    assert [c.name for c, _ in drawn] == list(CHARTS)
    assert len(drawn) >= 9
    for chart, svg in drawn:
        assert chart.path == Path("charts", f"{chart.name}.svg") and svg.startswith(b"<?xml")
        assert chart.section in {"network", "economics", "miners", "equities", "valuation"}
        assert chart.width in {"full", "half"}
        assert chart.title and chart.source.startswith("Source: ")


def test_each_chart_is_svg_of_its_page_size_with_real_inter_text(drawn):
    sizes = {"full": "481.889764pt", "half": "232.440945pt"}  # 17 cm and 8.2 cm wide
    for chart, svg in drawn:
        text = svg.decode("utf-8")
        root = ET.fromstring(text)
        assert root.tag == f"{SVG}svg"
        assert root.get("width") == sizes[chart.width], chart.name
        texts = list(root.iter(f"{SVG}text"))
        assert len(texts) >= 5, chart.name
        assert all("font-family: 'Inter'" in t.get("style", "") for t in texts), chart.name
        # Text as glyph outlines would define paths named after the font; none may appear.
        assert not re.search(r'id="(Inter|DejaVu)', text), chart.name
        assert "<image" not in text, chart.name  # vector only
        assert "Matplotlib v" not in text and "<dc:date>" not in text


def test_svgs_carry_their_axis_labels_as_searchable_text(drawn):
    by_name = {c.name: svg.decode("utf-8") for c, svg in drawn}
    assert "Hashrate, 7-day average, EH/s" in by_name["network_hashrate"]
    assert "$/PH/s/day" in by_name["hashprice"]  # one unit style everywhere: $/PH/s/day, never USD/PH/s/day
    assert "USD" not in by_name["hashprice"] + by_name["hashprice_sensitivity"] + by_name["revenue_per_eh"]
    assert "$40k" in by_name["revenue_per_eh"]
    assert "$60bn" in by_name["market_cap"]
    assert "Jan-26" in by_name["hashprice"]


def test_alt_text_states_the_latest_values(drawn, metrics):
    alt = {c.name: c.alt for c, _ in drawn}
    daily = metrics.series.daily.iloc[-1]
    month = metrics.series.monthly.iloc[-1]
    share = metrics.series.listed_share.iloc[-1]
    caps = metrics.series.market_cap.iloc[-1]
    assert f"Hashprice was ${daily['hashprice_usd_per_ph_day']:.2f}/PH/s/day" in alt["hashprice"]
    assert f"({daily['hashprice_btc_per_ph_day']:.6f} BTC/PH/s/day) on 14 Jan 2026" in alt["hashprice"]
    assert f"was {daily['hashrate_7d_ehs']:,.0f} EH/s and difficulty" in alt["network_hashrate"]
    assert f"difficulty {daily['difficulty'] / 1e12:.1f}T on 14 Jan 2026" in alt["network_hashrate"]
    assert f"In January 2026 revenue averaged ${month['revenue_usd_per_eh_day']:,.0f}" in alt["revenue_per_eh"]
    assert f"a {month['gross_margin_pct']:.1f}% gross margin" in alt["revenue_per_eh"]
    assert f"held {share['share_pct']:.1f}% of network hashrate on 14 Jan 2026" in alt["listed_share"]
    assert "was $62.0bn on 14 Jan 2026" in alt["market_cap"]
    assert f"{caps['market_cap_to_opportunity_pct']:.1f}% of the 4-year" in alt["market_cap_to_opportunity"]
    caps_by_ticker = metrics.equities.by_ticker.set_index("ticker")["change_pct"]
    best, worst = caps_by_ticker.idxmax(), caps_by_ticker.idxmin()
    beat = int((caps_by_ticker > metrics.equities.btc_change_pct).sum())
    assert (
        f"{best}'s market cap did best (+{caps_by_ticker[best]:.1f}%) and {worst}'s worst "
        f"(\u2212{-caps_by_ticker[worst]:.1f}%); {beat} of {len(caps_by_ticker)} beat BTC's "
        f"+{metrics.equities.btc_change_pct:.1f}%"
    ) in alt["equities_vs_btc"]
    miners = metrics.miners.by_ticker.set_index("ticker")
    leader = miners["added_ehs"].idxmax()
    assert (
        f"had {miners['hashrate_ehs'].sum():,.0f} EH/s on 14 Jan 2026, {miners['added_ehs'].sum():.1f} EH/s more "
        f"than on 30 Nov 2025, led by {leader} (+{miners.loc[leader, 'added_ehs']:.1f} EH/s)"
    ) in alt["miner_hashrate"]
    base = metrics.sensitivity.iloc[2, 3]
    assert f"hashprice is ${base:.2f}/PH/s/day" in alt["hashprice_sensitivity"]
    first = metrics.fleet_classes.iloc[0]
    assert (
        f"Below 19 J/TH ${first['revenue_usd_per_mwh']:.0f} ({first['margin_pct']:.1f}% margin)" in alt["fleet_classes"]
    )
    for text in alt.values():
        assert len(re.findall(r"[.;]( |$)", text)) <= 3, text  # one or two sentences


def test_charts_needing_miners_or_equities_are_skipped_without_them():
    without_miners = draw(sector_metrics(miners=False))
    assert {c.name for c, _ in without_miners} == set(CHARTS) - MINER_CHARTS
    bare = sector_metrics(miners=False, equities=False)
    assert {name for name, spec in CHARTS.items() if spec.data(bare) is None} == MINER_CHARTS | EQUITY_CHARTS
    assert {c.name for c, _ in draw(bare)} == set(CHARTS) - MINER_CHARTS - EQUITY_CHARTS


def test_charts_with_empty_frames_are_skipped(metrics):
    empty_miners = replace(metrics.miners, by_ticker=metrics.miners.by_ticker.iloc[0:0])
    empty_equities = replace(metrics.equities, by_ticker=metrics.equities.by_ticker.iloc[0:0])
    thin = replace(
        metrics,
        miners=empty_miners,
        equities=empty_equities,
        sensitivity=pd.DataFrame(),
        fleet_classes=metrics.fleet_classes.iloc[0:0],
    )
    names = {c.name for c, _ in draw(thin)}
    assert names == set(CHARTS) - {"miner_hashrate", "equities_vs_btc", "hashprice_sensitivity", "fleet_classes"}


def test_charts_draw_from_a_few_rows_and_losses(metrics):
    series = metrics.series
    losing = metrics.equities.by_ticker.assign(change_pct=lambda f: -f["change_pct"].abs() - 1).tail(2)
    monthly = series.monthly.tail(1).assign(gross_profit_usd_per_eh_day=-5_000.0, gross_margin_pct=-12.5)
    few = replace(
        metrics,
        series=replace(
            series,
            daily=series.daily.tail(3),
            monthly=monthly,
            listed_share=series.listed_share.tail(1),
            market_cap=series.market_cap.tail(2),
        ),
        miners=replace(metrics.miners, by_ticker=metrics.miners.by_ticker.head(1)),
        equities=replace(metrics.equities, by_ticker=losing, btc_change_pct=-12.0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        charts = draw(few)
    assert [c.name for c, _ in charts] == list(CHARTS)
    alt = {c.name: c.alt for c, _ in charts}
    assert "a \u221212.5% gross margin" in alt["revenue_per_eh"]
    assert "beat BTC's \u221212.0%" in alt["equities_vs_btc"]


def test_drawing_raises_no_warnings_and_leaves_global_rcparams_alone(metrics):
    before = dict(matplotlib.rcParams)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw(metrics)
    assert [str(w.message) for w in caught] == []
    assert dict(matplotlib.rcParams) == before


def test_svg_bytes_are_identical_across_processes(tmp_path):
    script = (
        "import sys; from pathlib import Path; from tests.brief_fixtures import sector_metrics; "
        "from tests.test_charts import draw; out = Path(sys.argv[1]); out.mkdir(); "
        "[(out / chart.path.name).write_bytes(svg) for chart, svg in draw(sector_metrics())]"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path / run)], cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed}
        )
        for run, seed in (("one", "1"), ("two", "2"))
    ]
    assert [run.wait(timeout=120) for run in runs] == [0, 0]
    one = sorted((tmp_path / "one").glob("*.svg"))
    assert len(one) == len(CHARTS)
    for path in one:
        assert path.read_bytes() == (tmp_path / "two" / path.name).read_bytes(), path.name


def test_each_spec_reads_only_what_it_declares(metrics):
    for spec in CHARTS.values():
        assert spec.reads and all(isinstance(r, str) for r in spec.reads)
    keys = {name: data_key(name, spec.data(metrics)) for name, spec in CHARTS.items()}
    assert keys == {name: data_key(name, spec.data(metrics)) for name, spec in CHARTS.items()}
    daily = metrics.series.daily.copy()
    daily.loc[daily.index[-1], "hashprice_usd_per_ph_day"] += 1.0
    changed = replace(metrics, series=replace(metrics.series, daily=daily))
    moved = {name for name, spec in CHARTS.items() if data_key(name, spec.data(changed)) != keys[name]}
    assert moved == {"hashprice"}


def test_svg_of_a_slice_is_a_pure_function_of_it(metrics):
    spec = CHARTS["equities_vs_btc"]
    assert spec.svg(spec.data(metrics)) == spec.svg(spec.data(metrics))


def test_charts_draw_from_the_sample_inputs():
    inputs = ROOT / "inputs"
    if not (inputs / "network.csv").is_file():
        pytest.skip("sample inputs not present")
    from briefgen.sectors.bitcoin_mining.inputs import load_inputs
    from briefgen.sectors.bitcoin_mining.metrics import compute

    charts = draw(compute(load_inputs(inputs)))
    assert [c.name for c, _ in charts] == list(CHARTS)


# --- legibility: heat-map labels, one precision per chart ---------------------------------------


def test_every_heat_map_label_reads_at_4_5_to_1_or_better():
    """WCAG AA for small text: the label colour chosen for each level of the scale beats 4.5:1."""
    from matplotlib.colors import to_rgb

    from briefgen.sectors.bitcoin_mining.charts import economics

    def luminance(rgb) -> float:  # WCAG 2 relative luminance, written out here
        def linear(c: float) -> float:
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (linear(c) for c in rgb[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    for step in range(101):
        fill = economics._heat()(step / 100)
        label = to_rgb(economics._label_colour(fill))
        light, dark = sorted((luminance(fill), luminance(label)), reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, step


def test_bar_labels_have_one_precision_per_chart(metrics):
    """Listed-miner bars all print one decimal, like the table beside them (61.2 (+0.8), 3.5, 2.3 (-0.1))."""
    import matplotlib.pyplot as plt

    from briefgen.sectors.bitcoin_mining.charts import market

    data = market.select_miners(metrics.miners.by_ticker, metrics.miners.capacity_since, metrics.miners.capacity_to)
    assert data is not None  # the fixture's metrics have miners
    fig = market.draw_miners(data)
    from matplotlib.text import Annotation

    labels = [t.get_text() for t in fig.axes[0].texts if isinstance(t, Annotation) and t.get_text()[:1].isdigit()]
    plt.close(fig)
    assert len(labels) == len(data.by_ticker) and all(
        re.fullmatch(r"\d[\d,]*\.\d( \([+\u2212]\d+\.\d\))?", label) for label in labels
    ), labels


def test_tick_labels_print_through_the_desk_forms_with_decimals_from_the_step():
    """An axis's ticks use briefgen.formatting: a tick a float error below zero is 0, never -0."""
    from briefgen import formatting as fmt
    from briefgen.charts.style import ticks

    def labels(fn, locs: list[float]) -> list[str]:
        formatter = ticks(fn)
        formatter.set_locs(locs)
        return [formatter(x) for x in locs]

    assert labels(fmt.num, [-0.5, -2.7e-17, 0.5, 1.0]) == ["\u22120.5", "0.0", "0.5", "1.0"]
    assert labels(fmt.usd_k, [-20_000.0, -1e-12, 20_000.0, 40_000.0]) == ["\u2212$20k", "$0", "$20k", "$40k"]
    assert labels(fmt.usd_bn, [0.0, 0.5e9, 1e9]) == ["$0", "$0.5bn", "$1.0bn"]
    assert labels(fmt.signed_pct, [-10.0, -1e-15, 10.0]) == ["\u221210%", "0%", "+10%"]
    assert labels(fmt.usd, [38.0, 39.0, 40.0]) == ["$38", "$39", "$40"]
