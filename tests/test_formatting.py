"""The desk's number formats, as exact strings: the one vocabulary of the text, the tables and the charts."""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
import pytest
from markupsafe import Markup

from briefgen.formatting import (
    FILTERS,
    MINUS,
    MISSING,
    bps,
    change,
    change_vs_prior_month,
    dates,
    day_month,
    direction,
    label,
    long_date,
    month_name,
    multiple,
    nobreak,
    num,
    pct,
    short_date,
    signed,
    signed_pct,
    two_lines,
    usd,
    usd_bn,
    usd_compact,
    usd_k,
    window,
)
from briefgen.inputs.config import Window
from briefgen.sectors.bitcoin_mining.metrics import Figure

pytestmark = pytest.mark.filterwarnings("error")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (62.04e9, "$62.0bn"),
        (13.2e9, "$13.2bn"),
        (1.6e12, "$1.6tn"),
        (96e6, "$96m"),
        (311e6, "$311m"),
        (4.5e6, "$4.5m"),
        (999.6e6, "$1.0bn"),
        (38_080, "$38,080"),
        (88_950, "$88,950"),
        (999.7, "$1,000"),
        (38.08, "$38.08"),
        (0.072, "$0.072"),
        (0, "$0.000"),
        (-2.5e9, "\u2212$2.5bn"),
        (-21_120, "\u2212$21,120"),
    ],
)
def test_usd(value, expected):
    assert usd(value) == expected


def test_usd_digits_and_sign():
    assert usd(0.04, 3) == "$0.040"
    assert usd(97.8, 0) == "$98"
    assert usd(13.2e9, sign=True) == "+$13.2bn"
    assert usd(-13.2e9, sign=True) == "\u2212$13.2bn"
    assert usd(0.0001, 3, sign=True) == "$0.000"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (62.04e9, "$62bn"),
        (13.2e9, "$13bn"),
        (1.6e9, "$1.6bn"),
        (96e6, "$96m"),
        (88_950, "$89k"),
        (38.08, "$38.08"),
        (9.96e9, "$10bn"),
        (-13.2e9, "\u2212$13bn"),
    ],
)
def test_usd_compact(value, expected):
    assert usd_compact(value) == expected


def test_counts_and_units():
    assert num(1_045) == "1,045"
    assert num(1_044.6) == "1,045"
    assert num(1234.5678, 2) == "1,234.57"
    assert num(-3) == "\u22123"


def test_percentages_and_changes():
    assert pct(47.12) == "47.1%"
    assert pct(137.5, 0) == "138%"
    assert signed_pct(11.0) == "+11.0%"
    assert signed_pct(-2.1) == "\u22122.1%"
    assert signed_pct(-2.1).startswith(MINUS)
    assert signed_pct(-0.04) == "0.0%"  # no sign on a change that rounds to zero
    assert signed_pct(0) == "0.0%"
    assert bps(300) == "+300 bp"
    assert bps(-45.4) == "\u221245 bp"
    assert signed(1.24) == "+1.2"
    assert signed(-0.31) == "\u22120.3"
    assert multiple(3.44) == "3.4x"


def test_dates():
    day = date(2026, 1, 15)
    assert long_date(day) == "15 January 2026"
    assert short_date(day) == "15 Jan 2026"
    assert day_month(day) == "15 Jan"
    assert month_name(date(2025, 12, 1)) == "December"
    assert short_date(datetime(2026, 1, 5, 13, 0)) == "5 Jan 2026"
    assert short_date(pd.Timestamp("2026-01-05")) == "5 Jan 2026"
    assert long_date("2026-01-15") == "15 January 2026"


NUMBER_FILTERS = (
    "usd",
    "usd_compact",
    "num",
    "pct",
    "signed_pct",
    "bps",
    "signed",
    "multiple",
)
DATE_FILTERS = ("long_date", "short_date", "day_month", "month_name")


@pytest.mark.parametrize("missing", [None, math.nan, float("inf"), pd.NA, pd.NaT])
def test_missing_values_print_an_en_dash(missing):
    assert MISSING == "\u2013"
    others = {"change", "change_vs_prior_month", "direction", "dates", "window", "label", "nobreak", "two_lines"}
    assert set(NUMBER_FILTERS + DATE_FILTERS) | others == set(FILTERS)
    for name in NUMBER_FILTERS + DATE_FILTERS:
        assert FILTERS[name](missing) == MISSING, name
    if missing is None or missing is pd.NA:
        assert dates(missing) == window(missing) == label(missing) == MISSING


def test_figure_changes_pick_percent_or_basis_points():
    level = Figure(110.0, 100.0, 105.0)
    share = Figure(47.1, 44.1, 44.1, kind="share")
    assert change(level) == "+10.0%"
    assert change(share) == "+300 bp"
    assert change_vs_prior_month(level) == "+4.8%"
    assert change_vs_prior_month(share) == "+300 bp"
    assert change(Figure(1.0, None)) == MISSING
    assert change(None) == MISSING


def test_windows_print_their_dates_and_label():
    period = Window(date(2026, 1, 1), date(2026, 1, 14), "first two weeks of January")
    assert dates(period) == "1\u201314 Jan 2026"
    assert window(period) == "first two weeks of January (1\u201314 Jan 2026)"
    assert window(Window(date(2025, 12, 1), date(2025, 12, 31), "December 2025")) == "December 2025"
    assert dates(Window(date(2025, 12, 18), date(2026, 1, 3), "x")) == "18 Dec 2025 \u2013 3 Jan 2026"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("hpc_lease", "Hpc lease"),  # a sector's acronym is the sector's (the mining units' deal_kind)
        ("power_approval", "Power approval"),
        ("land", "Land"),
        ("ai-hosting", "AI hosting"),
        ("HPC lease", "HPC lease"),
        ("Land acquisition", "Land acquisition"),
        ("", MISSING),
    ],
)
def test_label_turns_codes_into_words(code, expected):
    assert label(code) == expected


def test_direction_is_a_class_name():
    assert [direction(v) for v in (1.5, -0.2, 0, None)] == ["up", "down", "flat", "flat"]


def test_numpy_and_pandas_numbers():
    import numpy as np

    assert usd(np.float64(62.04e9)) == "$62.0bn"
    assert num(np.int64(1_045)) == "1,045"
    assert pct(pd.array([47.12], dtype="Float64")[0]) == "47.1%"


# --- figures that must not break across lines, the footer's two lines ---------------------------


def test_nobreak_keeps_figures_with_their_units_and_dates_together():
    text = (
        "Power rose 11.0% to $40.08/MWh/day as capacity fell to 1,022 MW, adding 12.0 GW since "
        "30 Nov 2025 (+280 bp), over 18\u201331 Dec 2025 at $0.040/kWh for 3 days and 1 day"
    )
    html = str(nobreak(text))
    for kept in (
        "$40.08/MWh/day",
        "1,022 MW",
        "12.0 GW",
        "30 Nov 2025",
        "+280 bp",
        "18\u201331 Dec 2025",
        "$0.040/kWh",
        "3 days",
        "1 day",
    ):
        assert f'<span class="nb">{kept}</span>' in html, kept
    # A bare figure has nothing to break from: left as it is.
    assert "11.0%" in html and '<span class="nb">11.0%' not in html
    assert html.replace('<span class="nb">', "").replace("</span>", "") == text


def test_nobreak_takes_a_sectors_unit_words_too():
    assert str(nobreak("5 widgets and 6 MW")) == '5 widgets and <span class="nb">6 MW</span>'
    assert str(nobreak("5 widgets and 6 MW", units=("widgets",))) == (
        '<span class="nb">5 widgets</span> and <span class="nb">6 MW</span>'
    )


def test_nobreak_escapes_text_and_never_touches_tags():
    assert str(nobreak("<b>5 MW</b> & co")) == '&lt;b&gt;<span class="nb">5 MW</span>&lt;/b&gt; &amp; co'
    html = Markup('<p class="x" title="5 MW">up 5 MW</p>')
    assert str(nobreak(html)) == '<p class="x" title="5 MW">up <span class="nb">5 MW</span></p>'
    assert nobreak(None) == MISSING


def test_two_lines_breaks_at_the_sentence_nearest_the_middle():
    notice = (
        "For institutional investors only. Not investment advice. "
        "See the disclosures and analyst certification at the end of this note."
    )
    assert two_lines(notice) == (
        "For institutional investors only. Not investment advice.\n"
        "See the disclosures and analyst certification at the end of this note."
    )
    assert two_lines("One sentence only.") == "One sentence only."
    assert two_lines(None) == ""


def test_axis_forms_keep_one_scale():
    """usd_k and usd_bn hold their scale whatever the size, so every tick of an axis shares it."""
    assert usd_k(42_350) == "$42.4k"
    assert usd_k(40_000) == "$40k"
    assert usd_k(123_456) == "$123k"
    assert usd_k(0) == "$0"
    assert usd_k(-5_000) == f"{MINUS}$5k"
    assert usd_k(42_350, 0) == "$42k"
    assert usd_bn(0) == "$0"
    assert usd_bn(62e9) == "$62bn"
    assert usd_bn(4.5e9) == "$4.5bn"
    assert usd_bn(250e6) == "$0.2bn"  # round half to even, as everywhere
    assert usd_bn(None) == MISSING
    # What the charts print with a tick's decimals: the same functions, the digits given.
    assert usd(40, 0) == "$40"
    assert usd(1234.5, 2) == "$1,234.50"
    assert num(1_000) == "1,000"
    assert pct(41.2, 0) == "41%"
    assert signed_pct(5, 0) == "+5%"
    assert signed_pct(-3, 0) == f"{MINUS}3%"
    assert signed_pct(0.2, 0) == "0%"


@pytest.mark.parametrize("form", [num, pct, signed_pct, usd, usd_k, usd_bn, signed, multiple])
def test_a_negative_that_rounds_to_zero_prints_zero_never_minus_zero(form):
    """The one rounding rule: the sign is the rounded value's. -0.3 to no decimals is 0 (so is -0.0)."""
    for value in (-0.3, -0.0, -1e-17, -0.004):
        text = form(value, 0)
        assert MINUS not in text and "-" not in text and "+" not in text, (form.__name__, value, text)
    assert num(-0.3) == "0"
    assert num(-0.3, 1) == f"{MINUS}0.3"
    assert num(-0.04, 1) == "0.0"
    assert signed(-0.04, 1) == "0.0"
    assert usd(-0.0004) == "$0.000"
    assert usd_k(-30) == "$0"  # -0.03k to one decimal: zero
