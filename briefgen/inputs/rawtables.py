"""Turn CSV bytes and the sheets of brief.xlsx into raw tables (header and rows), within fixed bounds.

Nothing here knows a table's columns (briefgen.inputs.tables parses the cells). What it guarantees is
that a file is read whole and cheaply or refused: a CSV file is text in UTF-8; a workbook is a zip
whose parts are bounded before openpyxl opens it (a small .xlsx can hold a gigabyte-long shared
string) and again while they are read (the sizes a zip declares are the sender's word); every row
of a sheet is read, whatever its declared <dimension> says, and the cells read are counted.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefgen.errors import InputError, Problem
from briefgen.inputs.cells import UnsavedFormula, is_blank

WORKBOOK = "brief.xlsx"
MAX_ROWS = 200_000
MAX_COLUMNS = 64  # a sheet's columns beyond this are not read (the widest table has 8)
MAX_FILE_BYTES = 50 * 1024 * 1024
# A workbook's parts, uncompressed: a 200,000-row sheet of 8 columns is about 50 MB of XML.
MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_WORKBOOK_BYTES = 160 * 1024 * 1024
MAX_MEMBERS = 1_000
MAX_CELLS = 2_000_000  # cells read from all sheets together (200,000 rows of 8 columns is 1.6 million)
_CHUNK = 1024 * 1024
_KEEP_SMALL = "keep only the rows the brief needs"


@dataclass
class RawTable:
    """Header and rows of one table as read, before any parsing."""

    label: str  # "network.csv" or "brief.xlsx[network]"
    header: list[str]
    rows: list[list[Any]]  # every row below the header, blank ones included, so row numbers match the sheet
    sha256: str
    header_row: int = 1  # the header's row number as a spreadsheet shows it (blank rows above it count)


def _looks_utf16(data: bytes) -> bool:
    """A byte-order mark, or ASCII letters each paired with a NUL byte ('d\\0a\\0t\\0e\\0')."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    head = data[:8]
    for text, nul in ((head[0::2], head[1::2]), (head[1::2], head[0::2])):
        if len(head) == 8 and nul == b"\0" * 4 and all(32 <= b < 127 for b in text):
            return True
    return False


def _decode(data: bytes, label: str) -> str:
    if _looks_utf16(data):
        raise InputError(
            [
                Problem(
                    label, "saved as UTF-16 ('Unicode Text'), not UTF-8", fix="save it as 'CSV UTF-8 (comma delimited)'"
                )
            ]
        )
    if data.startswith(b"PK\x03\x04"):
        raise InputError(
            [
                Problem(
                    label,
                    "an Excel workbook (or other zip file), not a CSV table",
                    fix=f"export the sheet as 'CSV UTF-8 (comma delimited)', or name the workbook {WORKBOOK}",
                )
            ]
        )
    if b"\x00" in data[:4096]:
        raise InputError([Problem(label, "binary file, not a CSV table", fix="export the sheet as CSV UTF-8")])
    try:
        return data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError as exc:
        raise InputError(
            [
                Problem(
                    label,
                    f"not UTF-8 text (byte {exc.start + 1} is {data[exc.start]:#04x})",
                    fix="save it as 'CSV UTF-8 (comma delimited)'",
                )
            ]
        ) from None


def read_csv_bytes(data: bytes, label: str) -> RawTable:
    """Split CSV bytes into a header and rows, refusing what is not a comma-separated UTF-8 table."""
    if len(data) > MAX_FILE_BYTES:
        raise InputError(
            [
                Problem(
                    label,
                    f"file is {len(data) / 2**20:.0f} MB (at most {MAX_FILE_BYTES // 2**20} MB)",
                    fix="keep only the rows the brief needs",
                )
            ]
        )
    text = _decode(data, label)
    lines = text.count("\n") + (not text.endswith("\n"))
    if lines > MAX_ROWS + 1:
        raise InputError(
            [
                Problem(
                    label,
                    f"{lines:,} rows; briefgen reads at most {MAX_ROWS:,} rows a table",
                    fix="keep only the rows the brief needs",
                )
            ]
        )
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), strict=True):
            rows.append(row)
    except csv.Error as exc:
        raise InputError([_csv_problem(label, len(rows) + 1, str(exc))]) from None
    blank = [not any(cell.strip() for cell in r) for r in rows]
    if all(blank):
        raise InputError([Problem(label, "file is empty", fix="add a header row and data rows")])
    top = blank.index(False)
    header = [h.strip().lstrip("\ufeff").lower() for h in rows[top]]
    if len(header) == 1:
        for delimiter, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
            if delimiter in rows[top][0]:
                raise InputError(
                    [
                        Problem(
                            label,
                            f"columns are separated by {name}, not commas",
                            fix="save it as 'CSV UTF-8 (comma delimited)'",
                        )
                    ]
                )
    return RawTable(label, header, rows[top + 1 :], hashlib.sha256(data).hexdigest(), header_row=top + 1)


def _csv_problem(label: str, row: int, error: str) -> Problem:
    """Say what a csv.Error means for the row it stopped on."""
    if "unexpected end of data" in error:
        return Problem(
            label,
            'a double quote (") opens a cell that is never closed',
            row=row,
            fix="remove the stray quote, or close the quoted cell",
        )
    if "expected after" in error:
        return Problem(
            label,
            'text follows the closing double quote (") of a cell',
            row=row,
            fix='quote the whole cell, doubling any quote inside it: "6"" rack"',
        )
    if "field larger than field limit" in error:
        return Problem(label, "a cell is longer than 131,072 characters", row=row, fix="check for a stray double quote")
    return Problem(label, f"not a readable CSV table ({error})", row=row, fix="export the sheet as CSV UTF-8")


def read_workbook(path: Path) -> dict[str, RawTable]:
    """Read every sheet of the workbook as raw tables, keyed by sheet name (lower case, '.csv' dropped)."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(
            [
                Problem(
                    WORKBOOK,
                    f"workbook is {size / 2**20:.0f} MB (at most {MAX_FILE_BYTES // 2**20} MB)",
                    fix=_KEEP_SMALL,
                )
            ]
        )
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    check_zip(data)
    sheets = _sheet_rows(data, values=True)
    if any(None in row for rows in sheets.values() for row in rows):
        # A blank cell may be a formula whose result was never saved (a workbook written by a
        # script, not Excel): name the formula rather than calling the cell empty.
        formulas = _sheet_rows(data, values=False)
        for title, rows in sheets.items():
            for row, source in zip(rows, formulas[title], strict=False):
                for index, value in enumerate(row):
                    if (
                        value is None
                        and index < len(source)
                        and isinstance(source[index], str)
                        and source[index].startswith("=")
                    ):
                        row[index] = UnsavedFormula(source[index])
    tables = {}
    for title, rows in sheets.items():
        label = f"{WORKBOOK}[{title}]"
        blank = [all(is_blank(c) for c in r) for r in rows]
        if all(blank):
            tables[title.strip().lower().removesuffix(".csv")] = RawTable(label, [], [], digest)
            continue
        top = blank.index(False)
        header = ["" if h is None else str(h).strip().lower() for h in rows[top]]
        while header and header[-1] == "":
            header.pop()
        tables[title.strip().lower().removesuffix(".csv")] = RawTable(
            label, header, [r[: len(header)] for r in rows[top + 1 :]], digest, header_row=top + 1
        )
    return tables


def check_zip(data: bytes) -> None:
    """Refuse a workbook whose parts would unpack to more than the bounds, before openpyxl sees it.

    The sizes in the zip's directory are checked first (cheap, and enough for an honest file);
    then every part is unpacked in chunks and counted, so a directory that understates a part's
    size cannot get more than the bound past this point either.
    """
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip at all: openpyxl's refusal names it as an unreadable workbook
    with book:
        parts = book.infolist()
        if len(parts) > MAX_MEMBERS:
            raise InputError(
                [
                    Problem(
                        WORKBOOK,
                        f"holds {len(parts):,} parts (at most {MAX_MEMBERS:,})",
                        fix="save it from Excel as 'Excel Workbook (.xlsx)'",
                    )
                ]
            )
        for part in parts:
            if part.file_size > MAX_MEMBER_BYTES:
                raise _too_large(part.filename, part.file_size)
        if sum(part.file_size for part in parts) > MAX_WORKBOOK_BYTES:
            raise _too_large("", sum(part.file_size for part in parts))
        total = 0
        for part in parts:
            size = 0
            try:
                with book.open(part) as stream:
                    while chunk := stream.read(_CHUNK):
                        size += len(chunk)
                        total += len(chunk)
                        if size > MAX_MEMBER_BYTES:
                            raise _too_large(part.filename, size, at_least=True)
                        if total > MAX_WORKBOOK_BYTES:
                            raise _too_large("", total, at_least=True)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
                # A part that does not unpack to what the directory says (a bad CRC, a size that
                # lies), is encrypted or uses an unknown compression: the file is damaged.
                raise InputError(
                    [
                        Problem(
                            WORKBOOK,
                            f"not a readable .xlsx workbook (part {part.filename!r}: {type(exc).__name__})",
                            fix="save it from Excel as 'Excel Workbook (.xlsx)'",
                        )
                    ]
                ) from None


def _too_large(part: str, size: int, at_least: bool = False) -> InputError:
    what = f"part {part!r} unpacks to" if part else "its parts unpack to"
    bound = MAX_MEMBER_BYTES if part else MAX_WORKBOOK_BYTES
    more = "more than " if at_least else ""
    return InputError(
        [
            Problem(
                WORKBOOK,
                f"{what} {more}{size / 2**20:,.0f} MB (at most {bound // 2**20} MB uncompressed)",
                fix="save only the tables the brief reads, as values, from Excel",
            )
        ]
    )


def _sheet_rows(data: bytes, values: bool) -> dict[str, list[list[Any]]]:
    """Every sheet's rows ({title: rows}); with `values`, formulas give their saved results.

    Each row is cut to the header's width once the header is found (cells right of it are never
    used), and the cells kept are counted against MAX_CELLS across the workbook.
    """
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=values)
    except Exception as exc:  # openpyxl raises many types for a damaged file; all mean the same to the user
        raise InputError(
            [
                Problem(
                    WORKBOOK,
                    f"not a readable .xlsx workbook ({type(exc).__name__})",
                    fix="save it from Excel as 'Excel Workbook (.xlsx)'",
                )
            ]
        ) from None
    sheets: dict[str, list[list[Any]]] = {}
    cells = 0
    try:
        for sheet in book.worksheets:
            label = f"{WORKBOOK}[{sheet.title}]"
            # In read-only mode openpyxl stops at the sheet's declared <dimension>; a script or an
            # old exporter can declare fewer rows than it wrote. Forget it and read every row.
            sheet.reset_dimensions()
            rows = sheets[sheet.title] = []
            width = MAX_COLUMNS
            header_found = False
            for count, row in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)):
                if count >= MAX_ROWS + 1:  # the header and MAX_ROWS rows below it
                    raise InputError(
                        [
                            Problem(
                                label,
                                f"more than {MAX_ROWS:,} rows; briefgen reads at most {MAX_ROWS:,} rows a table",
                                fix=f"{_KEEP_SMALL}; delete any stray "
                                "cell far below the table, which Ctrl+End in Excel finds",
                            )
                        ]
                    )
                cells_of_row = list(row[:width])
                if not header_found and not all(is_blank(c) for c in cells_of_row):
                    header_found = True
                    width = max(i for i, c in enumerate(cells_of_row) if not is_blank(c)) + 1
                    cells_of_row = cells_of_row[:width]
                cells += len(cells_of_row)
                if cells > MAX_CELLS:
                    raise InputError(
                        [
                            Problem(
                                label,
                                f"the workbook holds more than {MAX_CELLS:,} cells; briefgen "
                                f"reads at most {MAX_CELLS:,}",
                                fix=f"{_KEEP_SMALL}, one sheet per table",
                            )
                        ]
                    )
                rows.append(cells_of_row)
    finally:
        book.close()
    return sheets
