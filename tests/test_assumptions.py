"""Cost assumptions as dated schedules: parsing, validation, the values in force over a window, and the brief."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefgen.cli import main
from briefgen.errors import InputError
from briefgen.inputs.config import parse_config
from briefgen.sectors.bitcoin_mining.assumptions import Assumptions, Schedule
from briefgen.sectors.bitcoin_mining.contract import MiningBriefModel, MiningConfig
from briefgen.sectors.bitcoin_mining.inputs import load_inputs
from briefgen.sectors.bitcoin_mining.metrics import compute
from briefgen.sectors.bitcoin_mining.report import metrics_as_dict
from tests.conftest import write_inputs
from tests.test_metrics import NETWORK

# The six days of tests/test_metrics.py: period 4-6 Mar, compare 1-3 Mar 2025, subsidy 3.125 BTC.
BRIEF = """
title: Test brief
period: {start: 2025-03-04, end: 2025-03-06}
compare: {start: 2025-03-01, end: 2025-03-03}
assumptions:
  power_price_usd_per_kwh: {2025-03-01: 0.05, 2025-03-06: 0.04}
  fleet_efficiency_j_per_th: {2025-03-05: 20, 2025-03-01: 24}
"""


def _assumptions(text: str) -> Assumptions:
    """The assumptions brief.yaml's text gives (parsed by the mining sector's model, a MiningConfig)."""
    config = parse_config(text, MiningBriefModel)
    assert isinstance(config, MiningConfig)
    return config.assumptions


def _problems(text: str) -> list[str]:
    with pytest.raises(InputError) as caught:
        parse_config(text, MiningBriefModel)
    return [str(p) for p in caught.value.problems]


# --- parsing ----------------------------------------------------------------------------------


def test_a_single_number_is_in_force_on_every_day():
    a = _assumptions("assumptions: {power_price_usd_per_kwh: 0.05, fleet_efficiency_j_per_th: 21.5}\n")
    assert not a.dated
    assert a.power_price.on(date(1990, 1, 1)) == 0.05 and a.fleet_efficiency.on(date(2030, 1, 1)) == 21.5
    assert a.as_dict() == {"power_price_usd_per_kwh": 0.05, "fleet_efficiency_j_per_th": 21.5}


def test_a_schedule_is_sorted_and_each_value_holds_from_its_date():
    a = _assumptions(BRIEF)
    assert a.dated
    assert a.fleet_efficiency.steps == ((date(2025, 3, 1), 24.0), (date(2025, 3, 5), 20.0))
    assert a.fleet_efficiency.on(date(2025, 3, 4)) == 24.0
    assert a.fleet_efficiency.on(date(2025, 3, 5)) == 20.0  # in force from its own date
    assert a.fleet_efficiency.on(date(2025, 2, 1)) == 24.0  # before the first date: the first value
    assert a.as_dict()["fleet_efficiency_j_per_th"] == {"2025-03-01": 24.0, "2025-03-05": 20.0}


def test_a_window_across_a_change_uses_the_day_weighted_values():
    a = Assumptions(
        Schedule(((date(2025, 3, 1), 0.05), (date(2025, 3, 6), 0.04))),
        Schedule(((date(2025, 3, 1), 24.0), (date(2025, 3, 5), 20.0))),
    )
    used = a.over([date(2025, 3, 4), date(2025, 3, 5), date(2025, 3, 6)])
    # Days: (24 J/TH, $50/MWh), (20, 50), (20, 40): power per EH/s per day 28,800, 24,000 and 19,200.
    assert used.power_cost_usd_per_eh_day == pytest.approx((28_800 + 24_000 + 19_200) / 3)
    assert used.fleet_efficiency_j_per_th == pytest.approx(64 / 3)
    assert used.power_price_usd_per_kwh == pytest.approx(0.14 / 3)
    assert used.spans_change
    inside = a.over([date(2025, 3, 1), date(2025, 3, 2)])
    assert (inside.fleet_efficiency_j_per_th, inside.power_price_usd_per_kwh, inside.spans_change) == (
        24.0,
        0.05,
        False,
    )


# --- validation: every fault named by brief.yaml and its key ----------------------------------


def test_schedule_faults_name_the_file_the_key_and_the_fix():
    text = (
        "assumptions:\n"
        "  fleet_efficiency_j_per_th: {2024-13-01: 27.1, 2025-02-01: 0.5, 2025-03-01: abc, 2025-04-01: true,"
        " '2025-5-1': 22, 2025-06-01 10:00:00: 22}\n"
        "  power_price_usd_per_kwh: {2025-01-01: 40}\n"
    )
    assert _problems(text) == [
        "brief.yaml: key 'assumptions.power_price_usd_per_kwh.2025-01-01': must be above 0 and at most 1, got 40 "
        "(give dollars per kWh, e.g. 0.04 for $40/MWh)",
        "brief.yaml: key 'assumptions.fleet_efficiency_j_per_th': '2024-13-01' is not a date "
        "(write each date as YYYY-MM-DD)",
        "brief.yaml: key 'assumptions.fleet_efficiency_j_per_th.2025-02-01': must be above 1 and at most 200, got 0.5 "
        "(give joules per terahash, e.g. 22)",
        "brief.yaml: key 'assumptions.fleet_efficiency_j_per_th.2025-03-01': expected a number, got 'abc' "
        "(write a plain number, without units)",
        "brief.yaml: key 'assumptions.fleet_efficiency_j_per_th.2025-04-01': expected a number, got 'True' "
        "(write a plain number, without units)",
        "brief.yaml: key 'assumptions.fleet_efficiency_j_per_th': '2025-5-1' is not a date "
        "(write each date as YYYY-MM-DD)",
        "brief.yaml: key 'assumptions.fleet_efficiency_j_per_th': '2025-06-01 10:00:00' is not a date "
        "(write each date as YYYY-MM-DD)",
    ]


def test_an_empty_schedule_and_other_keys_report_together():
    assert _problems("as_of: 15/01/2026\nassumptions:\n  fleet_efficiency_j_per_th: {}\n") == [
        "brief.yaml: key 'as_of': expected a date, got '15/01/2026' (write the date as YYYY-MM-DD)",
        "brief.yaml: key 'assumptions.fleet_efficiency_j_per_th': the schedule has no dates "
        "(give one or more 'YYYY-MM-DD: value' lines, or a single number)",
    ]


def test_a_bad_schedule_is_one_clean_error_from_the_cli(tmp_path: Path):
    brief = BRIEF.replace("2025-03-05: 20", "2025-03-05: -20")
    folder = write_inputs(tmp_path, {"brief.yaml": brief, "network.csv": NETWORK})
    result = CliRunner().invoke(main, ["check", "--inputs", str(folder)])
    assert result.exit_code == 1
    assert result.output == (
        "Error: 1 problem in the inputs:\n"
        "  - brief.yaml: key 'assumptions.fleet_efficiency_j_per_th.2025-03-05': must be above 1 and at most 200, "
        "got -20 (give joules per terahash, e.g. 22)\n"
    )
    assert "Traceback" not in result.output


# --- the figures and the brief ----------------------------------------------------------------


@pytest.fixture
def scheduled(tmp_path: Path):
    return compute(load_inputs(write_inputs(tmp_path, {"brief.yaml": BRIEF, "network.csv": NETWORK})))


def test_each_window_uses_the_values_in_force_on_its_days(scheduled):
    e = scheduled.economics
    period_power = (28_800 + 24_000 + 19_200) / 3  # worked by hand above
    compare_power = 24 * 24 * 50  # 1-3 Mar: all at 24 J/TH and $50/MWh
    assert e.power_cost_usd_per_eh_day.period == pytest.approx(period_power)
    assert e.power_cost_usd_per_eh_day.compare == pytest.approx(compare_power)
    revenue = 144 * (3.125 + 9.6 / 432) * 92000 / 1000
    assert e.gross_margin_pct.period == pytest.approx(100 * (revenue - period_power) / revenue)
    reward = 144 * 3.125 * 92000 / 1000
    assert e.block_reward_gross_profit_usd_per_eh_day.period == pytest.approx(reward - period_power)
    # Breakeven divides by the day-weighted efficiency; revenue per MWh's power is the day-weighted price.
    assert e.breakeven_power_usd_per_kwh.period == pytest.approx((revenue / 1000) / (24 * 64 / 3))
    assert scheduled.fleet_classes["power_usd_per_mwh"].iloc[0] == pytest.approx(1000 * 0.14 / 3)


def test_the_json_prints_the_schedule_and_the_values_each_window_used(scheduled):
    data = metrics_as_dict(scheduled)
    assert data["assumptions"] == {
        "power_price_usd_per_kwh": {"2025-03-01": 0.05, "2025-03-06": 0.04},
        "fleet_efficiency_j_per_th": {"2025-03-01": 24.0, "2025-03-05": 20.0},
    }
    period = data["assumptions_in_force"]["period"]
    assert period["fleet_efficiency_j_per_th"] == pytest.approx(64 / 3)
    assert period["power_cost_usd_per_eh_day"] == pytest.approx(24_000)
    assert period["spans_change"] is True
    assert data["assumptions_in_force"]["compare"]["spans_change"] is False
    assert data["assumptions_in_force"]["prior_month"] is None  # no February data


def test_the_methodology_appendix_prints_the_schedule_and_what_each_window_used(tmp_path: Path, scheduled):
    from briefgen.html.render import render_html
    from tests.brief_fixtures import brief_context
    from tests.test_render import _text

    context = brief_context(tmp_path / "charts", scheduled)
    text = _text(render_html(context).replace('<span class="nb">', "").replace("</span>", ""))
    appendix = text.split("Appendix A: Methodology and assumptions", 2)[2]
    assert "Power price $0.050/kWh from 1 Mar 2025; $0.040/kWh from 6 Mar 2025" in appendix
    assert "Network fleet efficiency 24.0 J/TH from 1 Mar 2025; 20.0 J/TH from 5 Mar 2025" in appendix
    assert (
        "In force, 4–6 Mar 2025 21.3 J/TH at $0.047/kWh (day-weighted: the schedule changes inside the window)"
        in appendix
    )
    assert "In force, 1–3 Mar 2025 24.0 J/TH at $0.050/kWh" in appendix
    # The cover's margin takeaway and the economics section print the period's values.
    assert "at $0.047/kWh and 21.3 J/TH" in text
