"""Turn an empty folder into a new brief's inputs: the illustrative sample, or blank tables to fill in.

`briefgen init DIR` writes the sample (briefgen.sectors.bitcoin_mining.sample); `--blank` writes each table with its header
row only and a brief.yaml whose keys are all commented, with their units and defaults; `--xlsx`
puts the same tables in one workbook, brief.xlsx, one sheet per table (what briefgen.sectors.bitcoin_mining.inputs reads:
sheets named after the tables, the header in the first row), with a frozen header row, column
widths, number formats and Excel data validation so an analyst can fill it in Excel.

Nothing that exists is ever overwritten: if any file init would write is already there, it writes
nothing and says which. Each file is written whole or not at all (a temporary file hard-linked
into place, which fails rather than replace a file that appeared meanwhile).
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from briefgen.inputs.cells import Column
from briefgen.inputs.config import DEFAULT_HOUSE
from briefgen.sectors.bitcoin_mining.assumptions import DEFAULT_FLEET_EFFICIENCY_J_PER_TH, DEFAULT_POWER_PRICE_USD_PER_KWH
from briefgen.errors import InputError, Problem
from briefgen.files import FILE_MODE, _explain, ensure_dir
from briefgen.inputs.rawtables import WORKBOOK
from briefgen.inputs.tables import TableSpec
from briefgen.sectors.bitcoin_mining.contract import MINERS, TABLES

BLANK_BRIEF_YAML = f"""\
# brief.yaml: what this brief is about. Every key is optional: delete the '# ' before a key to set it.
# Dates are written YYYY-MM-DD; text in "quotes". See the user guide, docs/inputs.md.

# title: "Hashprice recovers"           # the headline; default: drafted from the figures
# as_of: 2026-01-15                     # the note's date; default: the last day of the network table
# period:                               # the window the note reports on
#   start: 2026-01-01                   # default: the first of as_of's month (the previous full
#   end: 2026-01-14                     #   month when that is under a week) to as_of
#   label: "first two weeks of January" # default: drawn from the dates
# compare:                              # the window it is compared with
#   start: 2025-12-18                   # default: as many days as the period, ending the day before it
#   end: 2025-12-31
#   label: "late December"
# assumptions:                          # behind gross margin
#   power_price_usd_per_kwh: {DEFAULT_POWER_PRICE_USD_PER_KWH}         # USD per kWh; default {DEFAULT_POWER_PRICE_USD_PER_KWH}
#   fleet_efficiency_j_per_th: {DEFAULT_FLEET_EFFICIENCY_J_PER_TH:g}          # the network fleet's J/TH; default {DEFAULT_FLEET_EFFICIENCY_J_PER_TH:g}
# analysts:                             # default: none
#   - name: "Dana Whitfield"
#     email: "dana.whitfield@example.com"
#     phone: "+1 212 555 0142"
# house: "{DEFAULT_HOUSE}"              # the publisher on the cover band; default "{DEFAULT_HOUSE}"
# takeaways: replace                    # replace or extend: what commentary/takeaways.md does to the
#                                       #   drafted takeaways; default: replace
"""

MAX_VALIDATED_ROW = 100_000  # data validation and formats reach this far down each sheet
_WIDTHS = {"date": 12, "ticker": 10, "integer": 16, "number": 16}
_FORMATS = {"date": "yyyy-mm-dd", "integer": "#,##0", "number": "#,##0.########", "text": "@", "ticker": "@"}


@dataclass(frozen=True)
class InitResult:
    folder: Path
    written: tuple[Path, ...]


def init_inputs(folder: Path, blank: bool = False, xlsx: bool = False) -> InitResult:
    """Write a new inputs folder (see the module's docstring); raise InputError if any file exists."""
    folder = Path(folder)
    files = planned_files(blank, xlsx)
    taken = [name for name in files if os.path.lexists(folder / name)]
    if taken:
        raise InputError([Problem(f"{folder}/{name}", "already exists; init never overwrites a file",
                                  fix="choose a new or empty folder, or move the file away") for name in taken])
    written = []
    for name, data in files.items():
        _write_new(folder / name, data)
        written.append(folder / name)
    return InitResult(folder, tuple(written))


def planned_files(blank: bool, xlsx: bool) -> dict[str, bytes]:
    """What init writes, by path in the inputs folder."""
    from briefgen.sectors.bitcoin_mining import sample

    if blank:
        files = {"brief.yaml": BLANK_BRIEF_YAML.encode("utf-8")}
        tables: dict[str, tuple[tuple[str, ...], list[tuple]]] = {
            spec.name: (tuple(c.name for c in spec.columns), []) for spec in TABLES}
    else:
        files = sample.sample_files(tables=False)
        tables = sample.sample_tables()
    if xlsx:
        files[WORKBOOK] = workbook_bytes(tables)
    else:
        files.update({f"{name}.csv": sample.csv_bytes(*table) for name, table in tables.items()})
    return dict(sorted(files.items(), key=lambda item: ("/" in item[0], item[0])))


def _write_new(path: Path, data: bytes) -> None:
    """Write a file that must not exist yet: a temporary file beside it, hard-linked to its name."""
    ensure_dir(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _explain(exc, path.parent) from None
    try:
        if hasattr(os, "fchmod"):  # POSIX; on Windows a new file has the ordinary mode already
            os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)  # fails with FileExistsError instead of replacing a file
    except FileExistsError:
        raise InputError([Problem(str(path), "appeared while init was writing; it was left as it is",
                                  fix="run init again in a new folder")]) from None
    except OSError as exc:
        raise _explain(exc, path) from None
    finally:
        Path(tmp).unlink(missing_ok=True)


# --- the workbook ----------------------------------------------------------------------------


def workbook_bytes(tables: dict[str, tuple[tuple[str, ...], list[tuple]]]) -> bytes:
    """The tables as one .xlsx workbook, one sheet per table, ready to be filled in Excel."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    specs = {spec.name: spec for spec in TABLES}
    for name, (header, rows) in tables.items():
        spec = specs[name]
        sheet = book.create_sheet(name)
        sheet.append(list(header))
        columns = [spec.column(h) for h in header]
        for row in rows:
            sheet.append([_cell(column, value) for column, value in zip(columns, row)])
        _dress(sheet, spec, columns)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(column: Column, value: Any) -> Any:
    """A CSV cell of the sample as Excel should hold it: dates as dates, numbers as numbers."""
    if value in ("", None):
        return None
    if column.kind == "date":
        return date.fromisoformat(str(value))
    if column.kind == "integer":
        return int(value)
    if column.kind == "number":
        return float(value)
    return str(value)


def _dress(sheet: Any, spec: TableSpec, columns: list[Column]) -> None:
    """Header style, frozen header row, widths, number formats and data validation for one sheet."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet.freeze_panes = "A2"
    bold, fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="0A2240")
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        header = sheet.cell(row=1, column=index)
        header.font, header.fill = bold, fill
        width = _WIDTHS.get(column.kind, min(max(column.max_length // 3, 14), 60))
        sheet.column_dimensions[letter].width = max(width, len(column.name) + 3)
        sheet.column_dimensions[letter].number_format = _FORMATS[column.kind]  # rows typed in later
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = _FORMATS[column.kind]
        validation = _validation(column, spec)
        if validation is not None:
            validation.add(f"{letter}2:{letter}{MAX_VALIDATED_ROW}")
            sheet.add_data_validation(validation)


def _validation(column: Column, spec: TableSpec) -> Any:
    """Excel's check for a column: a date, a number in its range, or a ticker listed on the miners sheet."""
    from openpyxl.worksheet.datavalidation import DataValidation

    blank_ok = not column.required
    if column.kind == "date":
        return DataValidation(type="date", operator="between", formula1="DATE(2009,1,3)", formula2="DATE(2100,12,31)",
                              allow_blank=blank_ok, showErrorMessage=True, errorTitle="Not a date",
                              error="Type a date, e.g. 2026-01-15.")
    if column.kind in ("number", "integer") and column.minimum is not None:
        kind = "whole" if column.kind == "integer" else "decimal"
        low = column.minimum
        operator, formulas = "between", (f"{low:g}", f"{column.maximum:g}")
        if column.exclusive_minimum:
            operator, formulas = "greaterThan", (f"{low:g}", None)
        unit = f" ({column.unit})" if column.unit else ""
        bound = f"above {low:g}" if column.exclusive_minimum else f"from {low:g} to {column.maximum:g}"
        return DataValidation(type=kind, operator=operator, formula1=formulas[0], formula2=formulas[1],
                              allow_blank=blank_ok, showErrorMessage=True, errorTitle="Not a valid figure",
                              error=f"{column.name}{unit}: type a plain number {bound}, without units.")
    if column.kind == "ticker" and spec.name != MINERS.name:
        return DataValidation(type="list", formula1=f"{MINERS.name}!$A$2:$A$1000", allow_blank=blank_ok,
                              showErrorMessage=True, errorTitle="Unknown ticker",
                              error="Use a ticker listed on the miners sheet.")
    return None
