"""The input contract: every problem named by file, row and column, with a fix; good files load."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from briefgen.errors import InputError
from briefgen.sectors.bitcoin_mining.inputs import load_inputs
from tests.conftest import write_inputs

NETWORK = """
date,btc_price_usd,hashrate_ehs,blocks,fees_btc
2025-03-01,80000,1100,140,2.0
2025-03-02,82000,1080,146,3.0
2025-03-03,84000,1120,150,2.6
2025-03-04,90000,1000,144,3.0
"""
BRIEF = "title: t\nperiod: {start: 2025-03-03, end: 2025-03-04}\ncompare: {start: 2025-03-01, end: 2025-03-02}\n"
MINERS = "ticker,name,exchange,from,to\nAAA,Alpha,NASDAQ,2024-01-01,\nOLD,Old Co,NYSE,2024-01-01,2025-02-15\n"


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_inputs(folder)
    return [str(p) for p in caught.value.problems]


def test_good_inputs_load(tmp_path: Path):
    inputs = load_inputs(write_inputs(tmp_path, {"brief.yaml": BRIEF, "network.csv": NETWORK}))
    assert list(inputs.network["hashrate_ehs"]) == [1100, 1080, 1120, 1000]
    names = [s.name for s in inputs.sources]
    assert names == ["brief.yaml", "network.csv"]
    network = inputs.sources[1]
    assert network.first is not None and network.last is not None
    assert (network.rows, network.first.isoformat(), network.last.isoformat()) == (4, "2025-03-01", "2025-03-04")
    assert len(network.sha256) == 64


def test_every_bad_cell_is_named(tmp_path: Path):
    network = (
        "date,btc_price_usd,hashrate_ehs,blocks,fees_btc\n"
        '2025-03-01,"80,000",1100,140,2.0\n'
        "03/02/2025,$80k,1100000000,140.5,n/a\n"
        "2025-03-03,80000,nan,140,#DIV/0!\n"
        "2025-03-03,-5,inf,0,2\n"
        "2025-03-04,80000,900000,144,47%\n"
    )
    found = problems_of(write_inputs(tmp_path, {"brief.yaml": BRIEF, "network.csv": network}))
    assert found == [
        "network.csv: row 2, column 'btc_price_usd': expected a number, got text '80,000' "
        "(write the plain number 80000 without separators, currency signs or units)",
        "network.csv: row 3, column 'date': expected a date as YYYY-MM-DD, got '03/02/2025' "
        "(write every date as YYYY-MM-DD, e.g. 2026-01-15)",
        "network.csv: row 3, column 'btc_price_usd': expected a number, got text '$80k' "
        "(write the plain number 80000 without separators, currency signs or units)",
        "network.csv: row 3, column 'hashrate_ehs': 1,100,000,000 looks like TH/s, not EH/s (divide by 1,000,000) "
        "(check the figure and its unit)",
        "network.csv: row 3, column 'blocks': expected a whole number, got '140.5' "
        "(blocks are counted in whole numbers)",
        "network.csv: row 3, column 'fees_btc': expected a number, got text 'n/a' "
        "(write a plain number such as 1234.5)",
        "network.csv: row 4, column 'hashrate_ehs': expected a finite number, got 'nan' "
        "(replace NaN or infinity with the real figure)",
        "network.csv: row 4, column 'fees_btc': Excel formula error '#DIV/0!' "
        "(fix the formula in the workbook, or paste values only)",
        "network.csv: row 5, column 'btc_price_usd': -5 USD per BTC is out of range (expected above 0 USD per BTC) "
        "(check the figure and its unit)",
        "network.csv: row 5, column 'hashrate_ehs': expected a finite number, got 'inf' "
        "(replace NaN or infinity with the real figure)",
        "network.csv: row 5, column 'blocks': 0 blocks per day is out of range (expected at least 1 blocks per day) "
        "(check the figure and its unit)",
        "network.csv: row 5, column 'date': duplicate date 2025-03-03 (first on row 4) (keep one row per date)",
        "network.csv: row 6, column 'hashrate_ehs': 900,000 looks like PH/s, not EH/s (divide by 1,000) "
        "(check the figure and its unit)",
        "network.csv: row 6, column 'fees_btc': expected a number, got text '47%' "
        "(write the plain number 47 without the % sign)",
    ]


def test_misspelt_column_suggests_the_name(tmp_path: Path):
    network = NETWORK.replace("fees_btc", "fee_btc")
    found = problems_of(write_inputs(tmp_path, {"brief.yaml": BRIEF, "network.csv": network}))
    assert found == ["network.csv: row 1, column 'fees_btc': missing column (rename column 'fee_btc' to 'fees_btc')"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "network.csv: file is empty (add a header row and data rows)"),
        (
            b"date,btc_price_usd,hashrate_ehs,blocks,fees_btc\n",
            "network.csv: header only, no data rows (add the data rows below the header)",
        ),
        (
            b"date;btc_price_usd;hashrate_ehs\n2025-03-01;1;2\n",
            "network.csv: columns are separated by semicolons, not commas (save it as 'CSV UTF-8 (comma delimited)')",
        ),
        (
            b"date,btc_price_usd\n2025-03-01,8\xe90\n",
            "network.csv: not UTF-8 text (byte 32 is 0xe9) (save it as 'CSV UTF-8 (comma delimited)')",
        ),
    ],
)
def test_unreadable_files(tmp_path: Path, data: bytes, message: str):
    folder = write_inputs(tmp_path, {"brief.yaml": BRIEF})
    (folder / "network.csv").write_bytes(data)
    assert problems_of(folder) == [message]


def test_byte_order_mark_is_accepted(tmp_path: Path):
    folder = write_inputs(tmp_path, {"brief.yaml": BRIEF})
    (folder / "network.csv").write_bytes(b"\xef\xbb\xbf" + NETWORK.lstrip().encode())
    assert len(load_inputs(folder).network) == 4


def test_missing_files(tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "Network.CSV").write_text(NETWORK)
    found = problems_of(folder)
    assert found == [
        f"brief.yaml: file not found (create {folder}/brief.yaml with at least a 'title:' line)",
        "network.csv: file not found (rename Network.CSV to network.csv)",
    ]


def test_tickers_must_be_tracked_members(tmp_path: Path):
    hashrate = "date,ticker,hashrate_ehs\n2025-03-01,AAA,10\n2025-03-01,OLD,5\n2025-03-01,AAB,4\n2025-03-01,aaa,4\n"
    folder = write_inputs(
        tmp_path, {"brief.yaml": BRIEF, "network.csv": NETWORK, "miners.csv": MINERS, "miner_hashrate.csv": hashrate}
    )
    assert problems_of(folder) == [
        "miner_hashrate.csv: row 3, column 'date': OLD was not tracked on 2025-03-01 (member 2024-01-01 to 2025-02-15) "
        "(fix the date, or the membership dates in miners.csv)",
        "miner_hashrate.csv: row 4, column 'ticker': ticker AAB is not in miners.csv (did you mean AAA?)",
        "miner_hashrate.csv: row 5, column 'ticker': not a ticker: 'aaa' (write it in capitals: AAA)",
    ]


def test_market_cap_in_billions_names_the_unit(tmp_path: Path):
    caps = "date,ticker,market_cap_usd\n2025-03-01,AAA,5.2\n"
    folder = write_inputs(
        tmp_path, {"brief.yaml": BRIEF, "network.csv": NETWORK, "miners.csv": MINERS, "market_caps.csv": caps}
    )
    assert problems_of(folder) == [
        "market_caps.csv: row 2, column 'market_cap_usd': 5.2 looks like billions or millions of dollars, not dollars "
        "(write the full figure, e.g. 5200000000) (check the figure and its unit)",
    ]


def test_yaml_problems_are_named_by_key(tmp_path: Path):
    brief = "title: t\nassumptions: {power_price: 3, fleet_efficiency_j_per_th: abc}\nas_of: 15/01/2026\n"
    folder = write_inputs(tmp_path, {"brief.yaml": brief, "network.csv": NETWORK})
    assert problems_of(folder) == [
        "brief.yaml: key 'as_of': expected a date, got '15/01/2026' (write the date as YYYY-MM-DD)",
        "brief.yaml: key 'assumptions.fleet_efficiency_j_per_th': expected a number, got 'abc' "
        "(write a plain number, without units)",
        "brief.yaml: key 'assumptions.power_price': unknown key (did you mean 'power_price_usd_per_kwh'?)",
    ]


def test_malformed_yaml(tmp_path: Path):
    folder = write_inputs(tmp_path, {"brief.yaml": "title: [\n", "network.csv": NETWORK})
    assert problems_of(folder) == [
        "brief.yaml: line 2, column 1: expected the node content, but found '<stream end>' "
        "(check indentation and quoting)"
    ]


def test_windows_outside_the_data_or_reversed(tmp_path: Path):
    brief = "title: t\nperiod: {start: 2025-03-04, end: 2025-03-09}\ncompare: {start: 2025-03-02, end: 2025-03-01}\n"
    folder = write_inputs(tmp_path, {"brief.yaml": brief, "network.csv": NETWORK})
    assert problems_of(folder) == [
        "brief.yaml: period: 2025-03-04 to 2025-03-09 is outside the network data (2025-03-01 to 2025-03-04) "
        "(choose dates inside the data or add the missing days to network.csv)",
        "brief.yaml: compare: ends (2025-03-01) before it starts (2025-03-02) (swap the dates)",
    ]


def test_gaps_are_a_warning(tmp_path: Path):
    network = NETWORK.replace("2025-03-02,82000,1080,146,3.0\n", "")
    inputs = load_inputs(write_inputs(tmp_path, {"brief.yaml": BRIEF, "network.csv": network}))
    assert str(inputs.warnings[0]) == (
        "network.csv: 1 day(s) missing from the daily series, first before 2025-03-03 "
        "(window means use the days present)"
    )
    with pytest.raises(InputError) as caught:
        load_inputs(tmp_path, strict=True)
    assert caught.value.problems == inputs.warnings


def test_workbook_sheets_stand_in_for_csv_files(tmp_path: Path):
    from datetime import datetime

    book = openpyxl.Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    sheet.title = "network"
    sheet.append(["date", "btc_price_usd", "hashrate_ehs", "blocks", "fees_btc"])
    for day, price in ((1, 80000), (2, 82000), (3, 84000)):
        sheet.append([datetime(2025, 3, day), price, 1000 + day, 144, 2.5])
    sheet.append([datetime(2025, 3, 4), "#N/A", 1000, 144, 2.5])
    brief = "title: t\nperiod: {start: 2025-03-03, end: 2025-03-03}\ncompare: {start: 2025-03-01, end: 2025-03-02}\n"
    folder = write_inputs(tmp_path, {"brief.yaml": brief})
    book.save(folder / "brief.xlsx")
    assert problems_of(folder) == [
        "brief.xlsx[network]: row 5, column 'btc_price_usd': Excel formula error '#N/A' "
        "(fix the formula in the workbook, or paste values only)"
    ]
    sheet.delete_rows(5)
    book.save(folder / "brief.xlsx")
    inputs = load_inputs(folder)
    assert list(inputs.network["btc_price_usd"]) == [80000, 82000, 84000]
    assert inputs.sources[1].name == "brief.xlsx[network]"


def test_every_unicode_format_character_counts_as_invisible():
    """cells.INVISIBLE is written out as ranges: it must cover every Cf character this Python knows."""
    import sys
    import unicodedata

    from briefgen.inputs.cells import INVISIBLE

    missing = [
        f"U+{c:04X}"
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) == "Cf" and not INVISIBLE.fullmatch(chr(c))
    ]
    assert missing == []
    assert not INVISIBLE.search("Riot Platforms Inc. \u00e9\u00e8 \u4e2d\u6587 \U0001f600 - \u2013 \u00a0")


def test_commentary_loses_invisible_characters_but_keeps_its_words(tmp_path: Path):
    """Zero-width spaces and soft hyphens in prose are removed (they used to reach the PDF); bidi controls are
    refused."""
    folder = write_inputs(
        tmp_path,
        {
            "brief.yaml": BRIEF,
            "network.csv": NETWORK,
            "commentary/outlook.md": "Hash\u00adprice rose\u200b; miners\u2060 gained.\ufeff\n",
        },
    )
    assert load_inputs(folder).commentary["outlook"] == "Hashprice rose; miners gained.\n"
    (folder / "commentary" / "outlook.md").write_text(
        "Fine.\n\nSee \u2067RIOT\u2069 and \u202eMARA.\n", encoding="utf-8"
    )
    assert problems_of(folder) == [
        "commentary/outlook.md: line 3, column 5: holds a bidirectional control, U+2067 (RIGHT-TO-LEFT ISOLATE) "
        "(delete it: it reorders the text after it without showing itself)"
    ]


def test_as_of_defaults_to_the_period_end_not_to_the_last_day_of_data(tmp_path: Path):
    """A brief for 3-4 March built from a file that runs on is dated 4 March (it used to take the file's last day)."""
    brief = "title: t\nperiod: {start: 2025-03-03, end: 2025-03-04}\ncompare: {start: 2025-03-01, end: 2025-03-02}\n"
    network = NETWORK + "2025-03-05,91000,1010,144,3.1\n2025-03-06,92000,1020,144,3.2\n"
    inputs = load_inputs(write_inputs(tmp_path, {"brief.yaml": brief, "network.csv": network}))
    assert str(inputs.config.as_of) == "2025-03-04"
    assert str(inputs.network["date"].max().date()) == "2025-03-04"
    source = inputs.sources[1]
    assert (source.rows, str(source.last), source.later) == (4, "2025-03-04", 2)


# --- the generic machinery knows no sector ----------------------------------------------------


def test_the_generic_layers_import_no_sector():
    """briefgen.inputs and briefgen.fetch are the toolkit's: importing every module of them loads no sector."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    modules = [
        "briefgen.inputs." + m for m in ("cells", "rawtables", "tables", "config", "folder", "commentary", "yamltext")
    ]
    modules += ["briefgen.fetch", "briefgen.fetch.rows", "briefgen.fetch.merge", "briefgen.fetch.http"]
    code = (
        f"import sys; import {', '.join(modules)}; "
        "print(sorted(m for m in sys.modules if m.startswith('briefgen.sectors')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_brief_yaml_keys_are_the_house_s_plus_the_sector_s():
    """The house's schema refuses a sector's keys; the mining model adds them, and names them in its hints."""
    from briefgen.inputs.config import BriefModel, parse_config
    from briefgen.sectors.bitcoin_mining.contract import MiningBriefModel, MiningConfig

    with pytest.raises(InputError) as caught:
        parse_config("title: t\nassumptions: {power_price_usd_per_kwh: 0.05}\n", BriefModel)
    (problem,) = caught.value.problems
    assert str(problem).startswith("brief.yaml: key 'assumptions': unknown key (known keys: title, as_of, period,")
    assert "deals_since" not in str(problem)
    with pytest.raises(InputError) as caught:
        parse_config("title: t\nasumptions: {power_price_usd_per_kwh: 0.05}\n", MiningBriefModel)
    assert [str(p) for p in caught.value.problems] == [
        "brief.yaml: key 'asumptions': unknown key (did you mean 'assumptions'?)"
    ]
    config = parse_config(
        "title: t\nassumptions: {power_price_usd_per_kwh: 0.05}\ndeals_since: 2025-02-01\n", MiningBriefModel
    )
    assert isinstance(config, MiningConfig)
    assert (config.assumptions.power_price_usd_per_kwh, str(config.deals_since)) == (0.05, "2025-02-01")
    assert type(parse_config("title: t\n", BriefModel)).__name__ == "BriefConfig"
    assert type(parse_config("title: t\n")).__name__ == "BriefConfig"  # the default: the house's keys, no sector's


def test_the_house_keys_of_any_sectors_brief_yaml():
    """publish and distribute read the analysts and the embargoes of whichever sector's brief.yaml (HouseKeys):
    a sector's keys are left to its load, a house key is still checked."""
    from briefgen.inputs.config import HouseKeys, parse_config

    text = (
        "analysts: [{name: Ada, email: ada@example.com}]\ndistribution: {embargo_hours: {retail: 2}}\n"
        "assumptions: {power_price_usd_per_kwh: 0.05}\nprices_since: 2026-01-01\n"  # the mining sector's, any other's
    )
    config = parse_config(text, HouseKeys)
    assert (config.analysts[0].email, config.embargo_hours) == ("ada@example.com", (("retail", 2.0),))
    assert type(config).__name__ == "BriefConfig"
    with pytest.raises(InputError) as caught:
        parse_config(text)  # the house's model alone refuses another sector's keys, never reads them as its own
    assert [p.message.split(":")[0] for p in caught.value.problems] == ["key 'assumptions'", "key 'prices_since'"]
    with pytest.raises(InputError, match="embargo for tier retail"):
        parse_config("distribution: {embargo_hours: {retail: 9999}}\nassumptions: {}\n", HouseKeys)


def test_a_table_s_own_rules_are_hooks_of_its_spec():
    """`either` asks for one of several optional columns; `check` runs once the cells are parsed."""
    from briefgen.errors import Problem
    from briefgen.inputs.cells import Column
    from briefgen.inputs.rawtables import RawTable
    from briefgen.inputs.tables import TableSpec, parse_table

    def at_most_total(frame, label: str, problems: list[Problem]) -> None:
        for _, row in frame[frame["part"] > frame["total"]].iterrows():
            problems.append(Problem(label, "part exceeds total", row=int(row["_row"]), column="part"))

    spec = TableSpec(
        "loads",
        (
            Column("date", "date"),
            Column("part", "number", required=False, unit="MW"),
            Column("total", "number", required=False),
        ),
        key=("date",),
        either=("part", "total"),
        check=at_most_total,
    )
    problems: list[Problem] = []
    assert parse_table(spec, RawTable("loads.csv", ["date", "other"], [["2025-01-01", "1"]], ""), problems) is None
    assert [str(p) for p in problems] == [
        "loads.csv: row 1, column 'part': missing column (add a column 'part' (MW) or 'total')"
    ]
    problems.clear()
    rows = [["2025-01-01", "1", "2"], ["2025-01-02", "3", "2"]]
    frame = parse_table(spec, RawTable("loads.csv", ["date", "part", "total"], rows, ""), problems)
    assert frame is not None and [str(p) for p in problems] == ["loads.csv: row 3, column 'part': part exceeds total"]
