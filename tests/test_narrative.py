"""Drafted headline and takeaways: exact words from the mid-January 2026 figures, and the gaps."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from briefgen.inputs.config import Window
from briefgen.sectors.bitcoin_mining.metrics import Figure
from briefgen.sectors.bitcoin_mining.narrative import compare_phrase, draft_headline, draft_takeaways, period_phrase
from tests.brief_fixtures import sector_metrics

pytestmark = pytest.mark.filterwarnings("error")


def test_headline_mirrors_the_note():
    assert draft_headline(sector_metrics()) == (
        "Bitcoin miners add $13bn of market cap in early January as hashprice rises 11%"
    )


def test_headline_without_equities_leads_on_hashprice():
    metrics = sector_metrics(equities=False)
    assert draft_headline(metrics) == "Bitcoin hashprice rises 11% in early January as network hashrate falls 2%"


def test_headline_when_market_cap_falls():
    metrics = sector_metrics()
    assert metrics.equities is not None
    metrics = replace(metrics, equities=replace(metrics.equities, market_cap_usd=Figure(50e9, 55.2e9)))
    assert draft_headline(metrics).startswith("Bitcoin miners shed $5.2bn of market cap in early January")


def test_five_takeaways_from_the_figures():
    assert draft_takeaways(sector_metrics()) == [
        "The 14 US-listed miners we track added $13.2bn of market cap over the first two weeks of January, "
        "to $62.0bn; 11 of 14 beat Bitcoin, up 3.4% from its 31 Dec 2025 close.",
        "Average hashprice rose 11.0% vs late December to $39.92/PH/s/day as Bitcoin's average price rose 8.8% "
        "and network hashrate fell 2.0% to 1,027 EH/s.",
        "Gross mining margin was 47.1% including fees and 46.6% on the block reward alone, +300 bp and +170 bp "
        "on December as a whole, at $0.040/kWh and 22.0 J/TH.",
        "Listed miners' hashrate reached 419 EH/s, a record 40.8% of the network, adding 12.3 EH/s since "
        "30 Nov 2025, led by BTDR and RIOT.",
        "Beyond block rewards: 3 deals, including RIOT's HPC lease with AMD (25 MW, $311m) and RIOT's "
        "land acquisition ($96m).",
    ]


def test_missing_inputs_drop_their_takeaways_and_others_fill_in():
    takeaways = draft_takeaways(sector_metrics(miners=False, equities=False, with_deals=False))
    assert len(takeaways) == 4
    assert takeaways[0].startswith("Average hashprice rose 11.0%")
    assert (
        takeaways[2]
        == "Breakeven power price for a 22.0 J/TH fleet is $0.076/kWh; power cost per Bitcoin mined is $47,783."
    )
    assert takeaways[3] == "Transaction fees were 0.9% of miners' Bitcoin revenue (+6 bp vs late December)."
    assert not any("market cap" in t or "Listed miners" in t for t in takeaways)


def test_margin_changes_name_their_comparison():
    """Against the month of December when the data covers it, else against the compare window, said so."""
    metrics = sector_metrics()
    e = metrics.economics
    no_month = replace(
        e,
        gross_margin_pct=Figure(47.1, 41.3, None, "share"),
        block_reward_gross_margin_pct=Figure(46.6, 40.8, None, "share"),
    )
    text = draft_takeaways(replace(metrics, economics=no_month))[2]
    assert text == (
        "Gross mining margin was 47.1% including fees and 46.6% on the block reward alone, "
        "+580 bp and +580 bp on late December, at $0.040/kWh and 22.0 J/TH."
    )


def test_margin_takeaway_prints_the_assumptions_the_period_used():
    from briefgen.sectors.bitcoin_mining.assumptions import InForce

    metrics = sector_metrics()
    in_force = {**metrics.in_force, "period": InForce(0.045, 23.25, 24 * 23.25 * 45, True)}
    text = draft_takeaways(replace(metrics, in_force=in_force))[2]
    assert text.endswith("at $0.045/kWh and 23.2 J/TH.")  # 23.25 rounds half to even


def test_valuation_fills_in_when_deals_are_missing():
    takeaways = draft_takeaways(sector_metrics(with_deals=False))
    assert takeaways[4] == (
        "Miners' market cap is 138% of the 4-year block-reward opportunity of $45.1bn (512,094 BTC), "
        "3.4x their proportional share."
    )


def test_no_record_when_the_share_was_higher_before():
    metrics = sector_metrics()
    series = metrics.series.listed_share.copy()
    series.loc[0, "share_pct"] = 55.0
    metrics = replace(metrics, series=replace(metrics.series, listed_share=series))
    assert "a record" not in draft_takeaways(metrics)[3]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 1, 1), date(2026, 1, 14), "over the first two weeks of January"),
        (date(2026, 1, 1), date(2026, 1, 7), "over the first week of January"),
        (date(2026, 1, 1), date(2026, 1, 10), "over the first 10 days of January"),
        (date(2026, 1, 1), date(2026, 1, 31), "in January 2026"),
        (date(2026, 1, 5), date(2026, 1, 18), "over 5\u201318 Jan 2026"),
    ],
)
def test_period_phrase(start, end, expected):
    assert period_phrase(Window(start, end, "LABEL")) == expected


def test_compare_phrase():
    assert compare_phrase(Window(date(2025, 12, 18), date(2025, 12, 31), "x")) == "late December"
    assert compare_phrase(Window(date(2025, 12, 1), date(2025, 12, 31), "x")) == "December"
    assert compare_phrase(Window(date(2025, 12, 1), date(2025, 12, 14), "x")) == "early December"
    assert compare_phrase(Window(date(2025, 12, 5), date(2025, 12, 20), "5-20 Dec")) == "5-20 Dec"
