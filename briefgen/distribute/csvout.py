"""Turn rows of strings from inputs into CSV text that a spreadsheet opens as text, never as a formula.

Excel, LibreOffice and Google Sheets run a cell starting with `=`, `+`, `-` or `@` as a formula (a
leading tab or carriage return is stripped first, so those count too): a client name such as
`=HYPERLINK(...)` in clients.csv must not become a live link in manifest.csv. Such a cell is
written with a leading apostrophe, which the spreadsheet shows as text (OWASP's advice for CSV
injection). Every CSV briefgen writes from input strings goes through spreadsheet_cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """A cell as a spreadsheet will read it as text; numbers and non-strings pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> str:
    """CSV text (LF line ends, a header row) with every string cell made safe for a spreadsheet."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: spreadsheet_cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()
