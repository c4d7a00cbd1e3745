"""The mining sector's units (briefgen/sectors/bitcoin_mining/units.py), as exact strings, and their filters."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from briefgen.formatting import FILTERS as HOUSE_FILTERS
from briefgen.formatting import MISSING
from briefgen.html.render import environment
from briefgen.sectors.bitcoin_mining.units import FILTERS, btc, deal_kind, difficulty, ehs, j_per_th


def test_hashrate_and_difficulty():
    assert ehs(419.2) == "419 EH/s"
    assert ehs(1_027) == "1,027 EH/s"
    assert ehs(12.3) == "12.3 EH/s"
    assert ehs(12.3, sign=True) == "+12.3 EH/s"
    assert ehs(-0.04) == "0.0 EH/s"  # the house's rounding rule: no sign on what rounds to zero
    assert difficulty(1.4647e14) == "146.5T"


def test_btc():
    assert btc(0.000434219) == "0.000434 BTC"
    assert btc(0.03) == "0.03 BTC"
    assert btc(0.03, 3) == "0.030 BTC"
    assert btc(3.125) == "3.125 BTC"
    assert btc(6.25) == "6.25 BTC"
    assert btc(512_094.3) == "512,094 BTC"
    assert btc(0) == "0 BTC"


def test_fleet_efficiency_always_has_one_decimal():
    assert j_per_th(22) == "22.0 J/TH"
    assert j_per_th(25.46) == "25.5 J/TH"
    assert j_per_th(27.1) == "27.1 J/TH"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("hpc_lease", "HPC lease"),
        ("ppa", "PPA"),
        ("ercot_interconnect", "ERCOT interconnect"),
        ("ai-hosting", "AI hosting"),  # the house's acronyms too
        ("land", "Land"),
        ("HPC lease", "HPC lease"),  # an analyst's wording is kept
    ],
)
def test_deal_kinds_read_as_words_with_the_sectors_acronyms(code, expected):
    assert deal_kind(code) == expected


@pytest.mark.parametrize("missing", [None, math.nan, float("inf"), pd.NA, pd.NaT])
def test_missing_values_print_an_en_dash(missing):
    assert set(FILTERS) == {"btc", "ehs", "j_per_th", "difficulty", "deal_kind"}
    for name in ("btc", "ehs", "j_per_th", "difficulty"):
        assert FILTERS[name](missing) == MISSING, name
    if missing is None or missing is pd.NA:  # a kind is text: NaN is not one of its missing values
        assert deal_kind(missing) == MISSING


def test_the_sectors_nobreak_keeps_its_units_with_their_figures():
    text = (
        "Hashprice rose 11.0% to $40.08/PH/s/day as hashrate fell to 1,022 EH/s, adding 12.0 EH/s since "
        "30 Nov 2025 (+280 bp), at 0.03 BTC a block and 22.0 J/TH; 2,016 blocks, 5 TH/s"
    )
    html = str(environment().filters["nobreak"](text))  # the default sector's environment: its units
    for kept in ("$40.08/PH/s/day", "1,022 EH/s", "12.0 EH/s", "30 Nov 2025", "+280 bp", "0.03 BTC", "22.0 J/TH"):
        assert f'<span class="nb">{kept}</span>' in html, kept
    assert '<span class="nb">2,016 blocks</span>' in html and '<span class="nb">5 TH/s</span>' in html
    assert html.replace('<span class="nb">', "").replace("</span>", "") == text
    tiny = str(environment(sector="tests.sectors.tiny").filters["nobreak"](text))
    assert '<span class="nb">1,022 EH/s</span>' not in tiny and '<span class="nb">+280 bp</span>' in tiny


def test_the_units_are_the_sectors_filters_not_the_houses():
    assert not set(FILTERS) & set(HOUSE_FILTERS)
    env = environment()  # the default sector's
    assert env.from_string("{{ 419.2|ehs }} at {{ 1.4647e14|difficulty }}").render() == "419 EH/s at 146.5T"
    assert {"btc", "ehs"}.isdisjoint(environment(sector="tests.sectors.tiny").filters)
