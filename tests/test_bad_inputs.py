"""The bad-input corpus: every case in tests/data/bad/ fails with exit status 1 and exactly its message.

Each case folder holds only what it changes from tests/data/bad/_base/ (a small, valid inputs
folder), plus:

  expected.txt   the exact stderr of `briefgen check` ("Error: ..."); {inputs} stands for the folder
  args.txt       extra arguments (e.g. --strict)                                       (optional)
  remove.txt     files of _base to delete, one a line                                  (optional)
  workbook.json  a workbook to write as brief.xlsx at test time (see `write_workbook`)  (optional)
  encode.json    {file: encoding}: files to re-encode from UTF-8 (utf-16, cp1252)      (optional)
  escapes.txt    files in which \\uXXXX stands for that (invisible) character          (optional)
  about.txt      what the case is about, when its name does not say it all             (optional)

Workbooks and odd encodings are made at test time so that every fixture stays readable text.
Messages are regenerated only deliberately, after reading the diff:

    .venv/bin/python -m tests.test_bad_inputs            # every case
    .venv/bin/python -m tests.test_bad_inputs 20-numbers-as-text 43-excel-formula-errors
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefgen.cli import main

pytestmark = pytest.mark.filterwarnings("error")

CORPUS = Path(__file__).resolve().parent / "data" / "bad"
BASE = CORPUS / "_base"
CONTROL_FILES = {"expected.txt", "args.txt", "remove.txt", "workbook.json", "encode.json", "escapes.txt", "about.txt"}
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_"))


# --- building a case's inputs folder ---------------------------------------------------------


def write_workbook(spec: dict, path: Path) -> None:
    """Write {"sheets": {title: rows}} as an .xlsx; a cell {"date": "YYYY-MM-DD"} or {"datetime": ISO}
    becomes a date cell, a string starting with '=' a formula without a saved result, and '#N/A'
    and the like Excel's error values. "edits": [[part, regex, replacement], ...] then rewrites the
    XML of the workbook's parts (a <dimension> that lies, say), as another program might write it."""
    import openpyxl

    book = openpyxl.Workbook()
    first = book.active  # the blank sheet every new workbook has
    assert first is not None
    book.remove(first)
    for title, rows in spec["sheets"].items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append([_cell(value) for value in row])
    book.save(path)
    if spec.get("edits"):
        edit_workbook(
            path, {part: [(old, new) for p, old, new in spec["edits"] if p == part] for part, _, _ in spec["edits"]}
        )


def edit_workbook(path: Path, edits: dict[str, list[tuple[str, str]]]) -> None:
    """Rewrite parts of an .xlsx in place: each (regex, replacement) must match its part's XML."""
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    assert set(edits) <= {info.filename for info, _ in parts}, f"no such part in {[i.filename for i, _ in parts]}"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, body in parts:
            for old, new in edits.get(info.filename, []):
                body, count = re.subn(old.encode(), new.encode(), body)
                assert count, f"{old!r} not found in {info.filename}"
            target.writestr(info, body)


def _cell(value):
    if isinstance(value, dict) and "date" in value:
        return datetime.fromisoformat(value["date"])
    if isinstance(value, dict) and "datetime" in value:
        return datetime.fromisoformat(value["datetime"])
    return value


def make_inputs(case: str, folder: Path) -> Path:
    """Copy _base, delete what remove.txt lists, then lay the case's own files on top."""
    source = CORPUS / case
    shutil.copytree(BASE, folder)
    remove = source / "remove.txt"
    for name in remove.read_text().split() if remove.is_file() else []:
        (folder / name).unlink()
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_file() and str(relative) not in CONTROL_FILES:
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, folder / relative)
    escapes = source / "escapes.txt"
    for name in escapes.read_text().split() if escapes.is_file() else []:
        target = folder / name  # \\u202e in the fixture (readable in a diff) becomes the character itself
        target.write_text(
            re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), target.read_text(encoding="utf-8")),
            encoding="utf-8",
        )
    encode = source / "encode.json"
    for name, encoding in (json.loads(encode.read_text()) if encode.is_file() else {}).items():
        target = folder / name
        target.write_bytes(target.read_text(encoding="utf-8").encode(encoding))
    workbook = source / "workbook.json"
    if workbook.is_file():
        spec = json.loads(workbook.read_text())
        write_workbook(spec, folder / spec.get("file", "brief.xlsx"))
    return folder


def case_args(case: str) -> list[str]:
    args = CORPUS / case / "args.txt"
    return args.read_text().split() if args.is_file() else []


def expected(case: str, folder: Path) -> str:
    return (CORPUS / case / "expected.txt").read_text(encoding="utf-8").replace("{inputs}", str(folder))


def run(command: str, folder: Path, *args: str):
    return CliRunner().invoke(main, [command, "--inputs", str(folder), *args])


# --- the corpus --------------------------------------------------------------------------------


def test_the_corpus_covers_enough_cases():
    assert len(CASES) >= 40
    for case in CASES:
        text = (CORPUS / case / "expected.txt").read_text(encoding="utf-8")
        assert text.startswith("Error: "), case
        assert text.endswith("\n") and "Traceback" not in text, case


@pytest.mark.parametrize("case", CASES)
def test_check_refuses_with_the_expected_message(case: str, tmp_path: Path):
    folder = make_inputs(case, tmp_path / "inputs")
    result = run("check", folder, *case_args(case))
    assert (result.exit_code, result.stdout) == (1, "")
    assert "Traceback" not in result.output
    assert result.stderr == expected(case, folder)


def test_every_problem_names_file_and_fix():
    """Each listed problem starts with a file (and sheet) name and ends with a fix in brackets."""
    for case in CASES:
        lines = (CORPUS / case / "expected.txt").read_text(encoding="utf-8").splitlines()
        for line in lines[1:]:
            assert line.startswith("  - "), (case, line)
            name = line[4:].split(":", 1)[0]
            assert name.split("[")[0].endswith((".csv", ".yaml", ".xlsx", ".md")) or name.startswith("commentary/"), (
                case,
                line,
            )
            if "too many problems" not in line:
                assert line.endswith(")"), (case, line)


# Cases without --strict give the same message through `briefgen metrics` (which loads the same way;
# only `check` also reads clients.csv).
METRICS_CASES = [c for c in CASES if not case_args(c) and not (CORPUS / c / "clients.csv").exists()][::4]


@pytest.mark.parametrize("case", METRICS_CASES)
def test_metrics_refuses_with_the_same_message(case: str, tmp_path: Path):
    folder = make_inputs(case, tmp_path / "inputs")
    result = run("metrics", folder)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == expected(case, folder)


@pytest.mark.parametrize("case", [c for c in CASES if "--strict" in case_args(c)])
def test_strict_cases_are_only_warnings_without_strict(case: str, tmp_path: Path):
    folder = make_inputs(case, tmp_path / "inputs")
    result = run("check", folder)
    assert result.exit_code == 0
    problems = [line[4:] for line in expected(case, folder).splitlines()[1:]]
    assert result.stderr.splitlines() == [f"Warning: {p}" for p in problems]
    assert result.stdout.startswith("OK: ")


# --- a failed build leaves output/ exactly as it was --------------------------------------------


@pytest.fixture(scope="module")
def previous_brief(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """An output folder holding a brief built from _base, and its files' bytes."""
    output = tmp_path_factory.mktemp("previous") / "output"
    result = CliRunner().invoke(main, ["build", "--inputs", str(BASE), "--output", str(output)])
    assert result.exit_code == 0, result.output
    return output, _files(output)


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under folder, hidden ones included, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


BUILD_CASES = [
    "01-missing-network-file",
    "20-numbers-as-text",
    "32-gap-in-daily-series-strict",
    "43-excel-formula-errors",
    "53-yaml-duplicate-key",
    "68-every-file-at-once",
    "74-resource-urls-strict",
    "75-workbook-declares-fewer-rows",
    "76-invisible-characters",
    "77-commentary-bidi-control",
    "78-compare-after-period",
    "79-deals-since-not-before-period-end",
]


@pytest.mark.parametrize("case", BUILD_CASES)
def test_build_refuses_and_leaves_the_previous_brief(case: str, tmp_path: Path, previous_brief):
    output, before = previous_brief
    folder = make_inputs(case, tmp_path / "inputs")
    result = CliRunner().invoke(main, ["build", "--inputs", str(folder), "--output", str(output), *case_args(case)])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == expected(case, folder)
    assert _files(output) == before


def test_a_build_failing_after_it_started_leaves_the_previous_brief(tmp_path: Path, previous_brief):
    """A template error comes after the charts are drawn in the staging folder: nothing is published."""
    output, before = previous_brief
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "brief.html").write_text(
        "{% extends 'base.html' %}{% block sections %}{{ m.no_such_figure }}{% endblock %}"
    )
    result = CliRunner().invoke(
        main, ["build", "--inputs", str(BASE), "--output", str(output), "--templates", str(templates)]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: template brief.html, line 1: ") and "no_such_figure" in result.stderr
    assert _files(output) == before


def test_good_base_passes(tmp_path: Path):
    result = run("check", BASE, "--strict")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "OK: 6 files (brief.yaml; network.csv 6 rows 2026-01-01..2026-01-06; miners.csv 4 rows 2024-01-01..2024-01-01; "
        "miner_hashrate.csv 6 rows 2026-01-01..2026-01-06; market_caps.csv 6 rows 2026-01-02..2026-01-06; "
        "deals.csv 1 rows 2026-01-05..2026-01-05); period 2026-01-04..2026-01-06, compare 2026-01-01..2026-01-03\n"
    )


# --- size limits ---------------------------------------------------------------------------------

# Run the CLI in a child and report its wall time and peak memory (this process's own, not a sibling's).
MEASURE = """
import json, resource, sys, time
from briefgen.cli import main
start = time.perf_counter()
try:
    main(sys.argv[1:], standalone_mode=False)
    code = 0
except SystemExit as exc:
    code = exc.code
# Linux keeps ru_maxrss across exec (a child of a large pytest starts "large"); VmHWM is this program's own peak.
try:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"code": code, "seconds": time.perf_counter() - start, "peak_mb": peak}))
"""


def test_a_million_rows_is_refused_fast_and_small(tmp_path: Path):
    folder = make_inputs("01-missing-network-file", tmp_path / "inputs")
    day = date(100, 1, 1)  # a million distinct days reach back to the year 100
    with open(folder / "network.csv", "w", encoding="utf-8") as handle:
        handle.write("date,btc_price_usd,hashrate_ehs,blocks,fees_btc\n")
        handle.writelines(f"{day + timedelta(days=i)},87000,1050,144,4.2\n" for i in range(1_000_000))
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, "check", "--inputs", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    report = json.loads(done.stdout.splitlines()[-1])
    assert done.stderr == (
        "Error: 1 problem in the inputs:\n"
        "  - network.csv: 1,000,001 rows; briefgen reads at most 200,000 rows a table "
        "(keep only the rows the brief needs)\n"
    )
    assert report["code"] == 1
    # The targets are a cold build under 3 s and 400 MB; a refusal must be well inside them.
    assert report["peak_mb"] < 400
    assert report["seconds"] < 10  # generous: shared CI machines are noisy


def test_a_long_workbook_sheet_is_refused(tmp_path: Path, monkeypatch):
    from briefgen.inputs import rawtables

    monkeypatch.setattr(rawtables, "MAX_ROWS", 10)
    folder = make_inputs("01-missing-network-file", tmp_path / "inputs")
    rows: list[list[object]] = [["date", "btc_price_usd", "hashrate_ehs", "blocks", "fees_btc"]]
    rows += [[{"date": str(date(2026, 1, 1) + timedelta(days=i))}, 87000, 1050, 144, 4.2] for i in range(20)]
    write_workbook({"sheets": {"network": rows}}, folder / "brief.xlsx")
    started = time.perf_counter()
    result = run("check", folder)
    assert time.perf_counter() - started < 10
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: 1 problem in the inputs:\n"
        "  - brief.xlsx[network]: more than 10 rows; briefgen reads at most 10 rows a table "
        "(keep only the rows the brief needs; delete any stray cell far below the table, "
        "which Ctrl+End in Excel finds)\n"
    )


NETWORK_SHEET = [
    ["date", "btc_price_usd", "hashrate_ehs", "blocks", "fees_btc"],
    *[[{"date": f"2026-01-0{d}"}, 87000, 1050, 144, 4.2] for d in range(1, 7)],
]


def _lengthen(path: Path, part: str, after: str, count: int) -> None:
    """Put `count` letters A after `after` in a part's XML, streamed (this process never holds them)."""
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, body in parts:
            if info.filename != part:
                target.writestr(info, body)
                continue
            head, tail = body.split(after.encode(), 1)
            with target.open(part, "w", force_zip64=True) as stream:
                stream.write(head + after.encode())
                for _ in range(count // 1_000_000):
                    stream.write(b"A" * 1_000_000)
                stream.write(tail)


def _understate(path: Path, part: str, size: int) -> None:
    """Make the zip's local header and central directory claim `part` unpacks to `size` bytes."""
    import struct
    import zipfile

    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as book:
        info = book.getinfo(part)
    name = part.encode()
    local = info.header_offset
    assert data[local : local + 4] == b"PK\x03\x04"
    struct.pack_into("<I", data, local + 22, size)
    central = struct.unpack_from("<I", data, data.rindex(b"PK\x05\x06") + 16)[0]  # the directory's offset
    while True:
        assert data[central : central + 4] == b"PK\x01\x02"
        length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + length] == name:
            struct.pack_into("<I", data, central + 24, size)
            break
        extra, comment = struct.unpack_from("<HH", data, central + 30)
        central += 46 + length + extra + comment
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("understated", [False, True])
def test_a_workbook_that_unpacks_to_gigabytes_is_refused_before_openpyxl_reads_it(tmp_path: Path, understated: bool):
    """One string of 70 MB (70 KB in the zip) used to be unpacked whole by openpyxl; with the zip's
    directory lying about the size it is caught while unpacking."""
    folder = make_inputs("01-missing-network-file", tmp_path / "inputs")
    book = folder / "brief.xlsx"
    write_workbook({"sheets": {"network": NETWORK_SHEET}}, book)
    _lengthen(book, "xl/worksheets/sheet1.xml", "<t>date", 70_000_000)
    if understated:
        _understate(book, "xl/worksheets/sheet1.xml", 2_000)
    assert book.stat().st_size < 1_000_000
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, "check", "--inputs", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["code"] == 1
    if understated:
        assert done.stderr == (
            "Error: 1 problem in the inputs:\n  - brief.xlsx: "
            "not a readable .xlsx workbook (part 'xl/worksheets/sheet1.xml': "
            "BadZipFile) (save it from Excel as 'Excel Workbook (.xlsx)')\n"
        )
    else:
        assert done.stderr == (
            "Error: 1 problem in the inputs:\n  - brief.xlsx: part 'xl/worksheets/sheet1.xml' unpacks to 67 MB "
            "(at most 64 MB "
            "uncompressed) (save only the tables the brief reads, as values, from Excel)\n"
        )
    assert report["peak_mb"] < 200  # openpyxl used to take 2.9 GB (and 15 s) to say the header was wrong


def test_a_cell_far_below_the_table_is_refused_not_read_for_minutes(tmp_path: Path, previous_brief):
    """A stray cell at XFD1048576 makes a sheet a million rows long: refused at the row bound, by
    `check` and by a build that leaves the previous brief as it was."""
    folder = make_inputs("01-missing-network-file", tmp_path / "inputs")
    book = folder / "brief.xlsx"
    write_workbook({"sheets": {"network": NETWORK_SHEET}}, book)
    edit_workbook(
        book,
        {
            "xl/worksheets/sheet1.xml": [
                ("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row></sheetData>'),
                ('<dimension ref="[^"]*" ?/>', '<dimension ref="A1:XFD1048576"/>'),
            ]
        },
    )
    result = run("check", folder)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: 1 problem in the inputs:\n  - brief.xlsx[network]: more than 200,000 rows; briefgen reads at most "
        "200,000 rows a table (keep only the rows the brief needs; delete any stray cell far below the table, which "
        "Ctrl+End in Excel finds)\n"
    )
    output, before = previous_brief
    built = CliRunner().invoke(main, ["build", "--inputs", str(folder), "--output", str(output)])
    assert (built.exit_code, built.stderr) == (1, result.stderr)
    assert _files(output) == before


def test_the_cells_read_from_a_workbook_are_bounded(tmp_path: Path, monkeypatch):
    from briefgen.inputs import rawtables

    monkeypatch.setattr(rawtables, "MAX_CELLS", 30)
    folder = make_inputs("01-missing-network-file", tmp_path / "inputs")
    write_workbook({"sheets": {"network": NETWORK_SHEET}}, folder / "brief.xlsx")
    result = run("check", folder)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: 1 problem in the inputs:\n  - brief.xlsx[network]: the workbook holds more than 30 cells; briefgen "
        "reads at most 30 (keep only the rows the brief needs, one sheet per table)\n"
    )


def test_an_oversized_brief_yaml_is_refused(tmp_path: Path):
    folder = make_inputs("01-missing-network-file", tmp_path / "inputs")
    shutil.copyfile(BASE / "network.csv", folder / "network.csv")
    (folder / "brief.yaml").write_text("title: t\n" + "# padding\n" * 10_000)
    result = run("check", folder)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: 1 problem in the inputs:\n"
        "  - brief.yaml: file is 97 KB (at most 64 KB) (keep only the settings; commentary goes in commentary/*.md)\n"
    )


# --- regenerating expected.txt (deliberately, never in CI) ---------------------------------------


def regenerate(cases: list[str]) -> None:
    """Rewrite expected.txt of the named cases from what `briefgen check` prints now; show what changed."""
    import difflib
    import tempfile

    for case in cases:
        with tempfile.TemporaryDirectory() as tmp:
            folder = make_inputs(case, Path(tmp) / "inputs")
            result = run("check", folder, *case_args(case))
            if result.exit_code != 1 or "Traceback" in result.output:
                print(f"{case}: exit {result.exit_code}, not refused:\n{result.output}")
                continue
            text = result.stderr.replace(str(folder), "{inputs}")
        path = CORPUS / case / "expected.txt"
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        if old != text:
            sys.stdout.writelines(
                difflib.unified_diff(old.splitlines(True), text.splitlines(True), f"{case} (old)", f"{case} (new)")
            )
            path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    regenerate(sys.argv[1:] or CASES)
