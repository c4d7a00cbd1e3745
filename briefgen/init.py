"""Turn an empty folder into a new brief's inputs: the illustrative sample, or blank tables to fill in.

`briefgen init DIR` writes the sector's sample (briefgen.sector.Sector.sample); `--blank` writes
each of the sector's tables (Sector.tables) with its header row only and a brief.yaml whose keys
are all commented, with their units and defaults (the house's keys and the sector's,
Sector.blank_config); `--xlsx` puts the same tables in one workbook, brief.xlsx, one sheet per
table (what the sector's `load` reads: sheets named after the tables, the header in the first
row), with a frozen header row, column widths, number formats and Excel data validation so an
analyst can fill it in Excel.

Nothing that exists is ever overwritten: if any file init would write is already there, it writes
nothing and says which. Each file is written whole or not at all (a temporary file hard-linked
into place, which fails rather than replace a file that appeared meanwhile).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from briefgen.errors import InputError, Problem
from briefgen.files import FILE_MODE, _explain, ensure_dir
from briefgen.inputs.cells import Column
from briefgen.inputs.config import DEFAULT_HOUSE
from briefgen.inputs.rawtables import WORKBOOK
from briefgen.inputs.tables import TableSpec
from briefgen.sector import DEFAULT_SECTOR, Sector, load_sector

# brief.yaml's house keys, commented; the sector's own keys (Sector.blank_config) go between the two parts.
BLANK_WINDOWS = """\
# brief.yaml: what this brief is about. Every key is optional: delete the '# ' before a key to set it.
# Dates are written YYYY-MM-DD; text in "quotes". See the user guide, docs/inputs.md.

# title: "Margins recover"              # the headline; default: drafted from the figures
# as_of: 2026-01-15                     # the note's date; default: the last day of the daily table
# period:                               # the window the note reports on
#   start: 2026-01-01                   # default: the first of as_of's month (the previous full
#   end: 2026-01-14                     #   month when that is under a week) to as_of
#   label: "first two weeks of January" # default: drawn from the dates
# compare:                              # the window it is compared with
#   start: 2025-12-18                   # default: as many days as the period, ending the day before it
#   end: 2025-12-31
#   label: "late December"
"""
BLANK_PEOPLE = f"""\
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


def init_inputs(folder: Path, blank: bool = False, xlsx: bool = False, sector: str = DEFAULT_SECTOR) -> InitResult:
    """Write a new inputs folder for a sector (see the module's docstring); raise InputError if any file exists."""
    folder = Path(folder)
    files = planned_files(blank, xlsx, load_sector(sector))
    taken = [name for name in files if os.path.lexists(folder / name)]
    if taken:
        raise InputError(
            [
                Problem(
                    f"{folder}/{name}",
                    "already exists; init never overwrites a file",
                    fix="choose a new or empty folder, or move the file away",
                )
                for name in taken
            ]
        )
    written = []
    for name, data in files.items():
        _write_new(folder / name, data)
        written.append(folder / name)
    return InitResult(folder, tuple(written))


def blank_brief_yaml(sector: Sector) -> str:
    """The blank brief.yaml: every key commented, the house's and the sector's."""
    return BLANK_WINDOWS + sector.blank_config() + BLANK_PEOPLE


def planned_files(blank: bool, xlsx: bool, sector: Sector) -> dict[str, bytes]:
    """What init writes for a sector, by path in the inputs folder."""
    if blank:
        files = {"brief.yaml": blank_brief_yaml(sector).encode("utf-8")}
        tables: dict[str, tuple[tuple[str, ...], list[tuple]]] = {
            spec.name: (tuple(c.name for c in spec.columns), []) for spec in sector.tables()
        }
    elif sector.sample is None:
        raise InputError(
            [
                Problem(
                    sector.name,
                    "this sector has no illustrative sample",
                    fix="run briefgen init --blank to write its tables empty",
                )
            ]
        )
    else:
        sample = sector.sample()
        files, tables = dict(sample.files), sample.tables
    if xlsx:
        files[WORKBOOK] = workbook_bytes(tables, sector.tables())
    else:
        files.update({f"{name}.csv": csv_bytes(*table) for name, table in tables.items()})
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
        raise InputError(
            [
                Problem(
                    str(path),
                    "appeared while init was writing; it was left as it is",
                    fix="run init again in a new folder",
                )
            ]
        ) from None
    except OSError as exc:
        raise _explain(exc, path) from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def csv_bytes(header: tuple[str, ...], rows: Any) -> bytes:
    """A table as UTF-8 CSV with LF line ends, the way init (and a sector's sample) writes it."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


# --- the workbook ----------------------------------------------------------------------------


def workbook_bytes(tables: dict[str, tuple[tuple[str, ...], list[tuple]]], specs: tuple[TableSpec, ...]) -> bytes:
    """The tables as one .xlsx workbook, one sheet per table (declared in `specs`), ready to be filled in Excel."""
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    assert first is not None  # a new workbook holds one empty sheet
    book.remove(first)
    by_name = {spec.name: spec for spec in specs}
    for name, (header, rows) in tables.items():
        spec = by_name[name]
        sheet = book.create_sheet(name)
        sheet.append(list(header))
        columns = [spec.column(h) for h in header]
        for row in rows:
            sheet.append([_cell(column, value) for column, value in zip(columns, row, strict=False)])
        _dress(sheet, spec, columns, specs)
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


def _dress(sheet: Any, spec: TableSpec, columns: list[Column], specs: tuple[TableSpec, ...]) -> None:
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
        validation = _validation(column, spec, specs)
        if validation is not None:
            validation.add(f"{letter}2:{letter}{MAX_VALIDATED_ROW}")
            sheet.add_data_validation(validation)


def _listing(column: Column, specs: tuple[TableSpec, ...]) -> TableSpec | None:
    """The table a ticker column refers to: the one whose rows are keyed by that ticker alone."""
    return next((spec for spec in specs if spec.key == (column.name,)), None)


def _validation(column: Column, spec: TableSpec, specs: tuple[TableSpec, ...]) -> Any:
    """Excel's check for a column: a date, a number in its range, or a ticker listed on the table keyed by it."""
    from openpyxl.worksheet.datavalidation import DataValidation

    blank_ok = not column.required
    if column.kind == "date":
        return DataValidation(
            type="date",
            operator="between",
            formula1="DATE(2009,1,3)",
            formula2="DATE(2100,12,31)",
            allow_blank=blank_ok,
            showErrorMessage=True,
            errorTitle="Not a date",
            error="Type a date, e.g. 2026-01-15.",
        )
    if column.kind in ("number", "integer") and column.minimum is not None:
        kind: Literal["whole", "decimal"] = "whole" if column.kind == "integer" else "decimal"
        low = column.minimum
        operator: Literal["between", "greaterThan"]
        formulas: tuple[str, str | None]
        operator, formulas = "between", (f"{low:g}", f"{column.maximum:g}")
        if column.exclusive_minimum:
            operator, formulas = "greaterThan", (f"{low:g}", None)
        unit = f" ({column.unit})" if column.unit else ""
        bound = f"above {low:g}" if column.exclusive_minimum else f"from {low:g} to {column.maximum:g}"
        return DataValidation(
            type=kind,
            operator=operator,
            formula1=formulas[0],
            formula2=formulas[1],
            allow_blank=blank_ok,
            showErrorMessage=True,
            errorTitle="Not a valid figure",
            error=f"{column.name}{unit}: type a plain number {bound}, without units.",
        )
    listing = _listing(column, specs) if column.kind == "ticker" else None
    if listing is not None and listing.name != spec.name:
        from openpyxl.utils import get_column_letter

        letter = get_column_letter(1 + [c.name for c in listing.columns].index(column.name))
        return DataValidation(
            type="list",
            formula1=f"{listing.name}!${letter}$2:${letter}$1000",
            allow_blank=blank_ok,
            showErrorMessage=True,
            errorTitle="Unknown ticker",
            error=f"Use a ticker listed on the {listing.name} sheet.",
        )
    return None
