"""briefgen init: the sample, blank tables, a workbook briefgen reads back; never overwriting a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from briefgen.cli import main
from briefgen.errors import InputError
from briefgen.init import blank_brief_yaml, init_inputs
from briefgen.inputs.config import load_config
from briefgen.sectors.bitcoin_mining import SECTOR
from briefgen.sectors.bitcoin_mining.contract import TABLES, MiningBriefModel
from briefgen.sectors.bitcoin_mining.inputs import load_inputs
from tests.conftest import ROOT

SAMPLE = sorted(p.relative_to(ROOT / "inputs").as_posix() for p in (ROOT / "inputs").rglob("*") if p.is_file())


def test_init_writes_the_sample_as_in_the_checkout(tmp_path: Path):
    result = CliRunner().invoke(main, ["init", str(tmp_path / "brief")])
    assert result.exit_code == 0, result.output
    assert f"next: briefgen build --inputs {tmp_path / 'brief'}" in result.output
    written = sorted(
        p.relative_to(tmp_path / "brief").as_posix() for p in (tmp_path / "brief").rglob("*") if p.is_file()
    )
    assert written == SAMPLE
    for name in SAMPLE:
        assert (tmp_path / "brief" / name).read_bytes() == (ROOT / "inputs" / name).read_bytes(), name


def test_init_never_overwrites_a_file(tmp_path: Path):
    folder = tmp_path / "brief"
    folder.mkdir()
    (folder / "network.csv").write_text("mine\n")
    result = CliRunner().invoke(main, ["init", str(folder)])
    assert result.exit_code == 1 and "network.csv: already exists; init never overwrites a file" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in folder.iterdir()) == ["network.csv"]  # nothing else written either
    assert (folder / "network.csv").read_text() == "mine\n"


def test_a_blank_folder_says_what_to_fill_in(tmp_path: Path):
    init_inputs(tmp_path / "blank", blank=True)
    for spec in TABLES:
        assert (tmp_path / "blank" / spec.file).read_text() == ",".join(c.name for c in spec.columns) + "\n"
    config = load_config(tmp_path / "blank", model=MiningBriefModel)  # every key commented: valid, empty
    assert config.title is None and config.analysts == ()
    blank = blank_brief_yaml(SECTOR)
    assert "power_price_usd_per_kwh: 0.04" in blank and "USD per kWh" in blank
    result = CliRunner().invoke(main, ["check", "--inputs", str(tmp_path / "blank")])
    assert result.exit_code == 1
    assert "network.csv: header only, no data rows (add the data rows below the header)" in result.output


def test_the_sample_workbook_reads_back_as_the_csv_sample(tmp_path: Path):
    from briefgen.sectors.bitcoin_mining.metrics import compute
    from briefgen.sectors.bitcoin_mining.report import metrics_as_json

    init_inputs(tmp_path / "book", xlsx=True)
    assert not list((tmp_path / "book").glob("*.csv"))
    from_book = load_inputs(tmp_path / "book")
    from_csv = load_inputs(ROOT / "inputs")
    assert [s.name for s in from_book.sources][1:6] == [f"brief.xlsx[{spec.name}]" for spec in TABLES]
    assert metrics_as_json(compute(from_book)) == metrics_as_json(compute(from_csv))


def test_the_blank_workbook_is_ready_for_excel(tmp_path: Path):
    import openpyxl

    init_inputs(tmp_path / "book", blank=True, xlsx=True)
    book = openpyxl.load_workbook(tmp_path / "book" / "brief.xlsx")
    assert book.sheetnames == [spec.name for spec in TABLES]
    network = book["network"]
    assert network.freeze_panes == "A2"
    assert [c.value for c in network[1]] == [c.name for c in TABLES[0].columns]
    assert network.column_dimensions["A"].width >= 12
    rules = {str(v.sqref): v for v in network.data_validations.dataValidation}
    assert rules["A2:A100000"].type == "date"
    assert rules["B2:B100000"].type == "decimal" and rules["B2:B100000"].operator == "greaterThan"
    hashrate = {str(v.sqref): v for v in book["miner_hashrate"].data_validations.dataValidation}
    assert hashrate["B2:B100000"].type == "list" and hashrate["B2:B100000"].formula1 == "miners!$A$2:$A$1000"
    with pytest.raises(InputError, match=r"brief.xlsx\[network\]: header only"):
        load_inputs(tmp_path / "book")
