"""Turn raw cells (CSV text or Excel values) into typed values, or into a Problem saying how to fix them.

Each column of the input contract is a Column: a name, a kind and its bounds. Parsing never
raises; it returns the value or the message and fix that go into a Problem.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Literal

EXCEL_ERRORS = {"#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!", "#GETTING_DATA"}
MAX_TEXT = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TICKER = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,9}$")
_SUFFIXES = {"k": 1e3, "m": 1e6, "mm": 1e6, "mn": 1e6, "b": 1e9, "bn": 1e9, "t": 1e12, "tn": 1e12}

Kind = Literal["date", "number", "integer", "text", "ticker"]


class CellError(ValueError):
    """A cell that breaks its column's rule; carries the message and the fix."""

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class Column:
    """One column of the contract.

    `minimum`/`maximum` bound numbers (`exclusive_minimum` refuses the minimum itself);
    `magnitude` turns an out-of-range number into a hint about its unit (e.g. TH/s given for EH/s).
    """

    name: str
    kind: Kind
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    unit: str = ""
    magnitude: Callable[[float], str | None] | None = None
    max_length: int = MAX_TEXT


def _shown(raw: Any) -> str:
    text = str(raw)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "") or (isinstance(raw, float) and math.isnan(raw))


def parse_cell(column: Column, raw: Any) -> Any:
    """Return the typed value of `raw` for `column` (None when blank and optional), or raise CellError."""
    if isinstance(raw, str) and raw.strip() in EXCEL_ERRORS:
        raise CellError(f"Excel formula error {raw.strip()!r}", "fix the formula in the workbook, or paste values only")
    if is_blank(raw):
        if column.required:
            raise CellError("empty cell", f"fill in the {column.name}" + (f" ({column.unit})" if column.unit else ""))
        return None
    parser = {"date": _date, "number": _number, "integer": _integer, "text": _text, "ticker": _ticker}[column.kind]
    return parser(column, raw)


def _date(column: Column, raw: Any) -> date:
    if isinstance(raw, datetime):
        if raw.time() != datetime.min.time():
            raise CellError(f"expected a date, got a date and time {_shown(raw)}", "give the UTC day only, YYYY-MM-DD")
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    if _ISO_DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise CellError(f"no such date {_shown(text)}", "check the month and day") from None
    raise CellError(f"expected a date as YYYY-MM-DD, got {_shown(text)}", "write every date as YYYY-MM-DD, e.g. 2026-01-15")


def _number_hint(text: str) -> str | None:
    """Say how to rewrite a number typed as text ('1,234', '$62bn', '47%')."""
    cleaned = text.replace("\u2212", "-").replace(" ", "").replace("\u00a0", "")
    percent = cleaned.endswith("%")
    cleaned = cleaned.rstrip("%").lstrip("$").replace("US$", "").replace(",", "")
    match = re.fullmatch(r"([-+]?\d+(?:\.\d+)?)([a-zA-Z]{0,2})", cleaned)
    if not match:
        return None
    value, suffix = float(match.group(1)), match.group(2).lower()
    if suffix and suffix not in _SUFFIXES:
        return None
    if percent:
        return f"write the plain number {value:g} without the % sign"
    value *= _SUFFIXES.get(suffix, 1.0)
    return f"write the plain number {value:.10g} without separators, currency signs or units"


def _number(column: Column, raw: Any) -> float:
    if isinstance(raw, bool):
        raise CellError(f"expected a number, got {_shown(raw)}")
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        text = str(raw).strip()
        try:
            value = float(text)
        except ValueError:
            hint = _number_hint(text)
            raise CellError(f"expected a number, got text {_shown(text)}", hint or "write a plain number such as 1234.5") from None
        if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
            raise CellError(f"expected a finite number, got {_shown(text)}", "replace NaN or infinity with the real figure")
    if not math.isfinite(value):
        raise CellError(f"expected a finite number, got {_shown(raw)}", "replace NaN or infinity with the real figure")
    return _bounded(column, value)


def _bounded(column: Column, value: float) -> float:
    low, high = column.minimum, column.maximum
    too_low = low is not None and (value <= low if column.exclusive_minimum else value < low)
    too_high = high is not None and value > high
    if too_low or too_high:
        hint = column.magnitude(value) if column.magnitude else None
        unit = f" {column.unit}" if column.unit else ""
        if too_low:
            bound = f"above {low:,.10g}" if column.exclusive_minimum else f"at least {low:,.10g}"
        else:
            bound = f"at most {high:,.10g}"
        message = f"{value:,.10g}{unit} is out of range (expected {bound}{unit})"
        if hint:
            message = f"{value:,.10g} {hint}"
        raise CellError(message, "check the figure and its unit")
    return value


def _integer(column: Column, raw: Any) -> int:
    value = _number(column, raw)
    if value != int(value):
        raise CellError(f"expected a whole number, got {_shown(raw)}", "blocks are counted in whole numbers")
    return int(value)


def _text(column: Column, raw: Any) -> str:
    text = str(raw).strip()
    if _CONTROL.search(text):
        raise CellError("holds a line break or control character", "keep the text on one line")
    if len(text) > column.max_length:
        raise CellError(f"is {len(text)} characters long (at most {column.max_length})", "shorten it")
    return text


def _ticker(column: Column, raw: Any) -> str:
    text = str(raw).strip()
    if not _TICKER.match(text):
        fix = "use the exchange ticker in capitals, e.g. RIOT"
        if _TICKER.match(text.upper()):
            fix = f"write it in capitals: {text.upper()}"
        raise CellError(f"not a ticker: {_shown(text)}", fix)
    return text


def hashrate_unit_hint(value: float) -> str | None:
    """Name the unit an out-of-range EH/s figure was probably given in."""
    if value >= 5e7:
        return "looks like TH/s, not EH/s (divide by 1,000,000)"
    if value >= 5e4:
        return "looks like PH/s, not EH/s (divide by 1,000)"
    return None


def market_cap_unit_hint(value: float) -> str | None:
    if 0 < value < 1e4:
        return "looks like billions or millions of dollars, not dollars (write the full figure, e.g. 5200000000)"
    if 0 < value < 1e6:
        return "looks like thousands of dollars, not dollars (write the full figure)"
    return None


def difficulty_unit_hint(value: float) -> str | None:
    if 0 < value < 1e6:
        return "looks like trillions (T), not the full difficulty (e.g. 148.26T is 148260000000000)"
    return None
