"""Turn raw cells (CSV text or Excel values) into typed values, or into a Problem saying how to fix them.

Each column of the input contract is a Column: a name, a kind and its bounds. Parsing never
raises; it returns the value or the message and fix that go into a Problem.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

EXCEL_ERRORS = {
    "#DIV/0!",
    "#N/A",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#NUM!",
    "#NULL!",
    "#SPILL!",
    "#CALC!",
    "#GETTING_DATA",
}
MAX_TEXT = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
# Characters that change what a reader sees without showing themselves: Unicode's format characters
# (category Cf: bidi embeddings, overrides and isolates, zero-width spaces and joiners, the soft
# hyphen, the byte-order mark, invisible operators, tags) and the default-ignorable fillers outside
# it. Written out as ranges so that no import walks the Unicode database; a test checks that every
# Cf character Python knows is here.
INVISIBLE = re.compile(
    "[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]"
)
INVISIBLE_FIX = "delete it, or retype the text: it changes how the text reads without showing itself"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TICKER = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,9}$")
_SUFFIXES = {"k": 1e3, "m": 1e6, "mm": 1e6, "mn": 1e6, "b": 1e9, "bn": 1e9, "t": 1e12, "tn": 1e12}

Kind = Literal["date", "number", "integer", "text", "ticker"]


class UnsavedFormula(str):
    """A workbook cell holding a formula whose result was never saved (the workbook was not saved by Excel)."""


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
    `magnitude` turns an out-of-range number into a hint about its unit (e.g. kW given for MW).
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


def invisible(text: str) -> str | None:
    """Describe the first invisible character in `text` ('U+202E (RIGHT-TO-LEFT OVERRIDE) at character 8'), or None."""
    match = INVISIBLE.search(text)
    return None if match is None else f"{character_name(match.group(0))} at character {match.start() + 1}"


def character_name(char: str) -> str:
    """'U+202E (RIGHT-TO-LEFT OVERRIDE)': a character a message cannot simply show."""
    return f"U+{ord(char):04X} ({unicodedata.name(char, 'FORMAT CHARACTER')})"


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "") or (isinstance(raw, float) and math.isnan(raw))


def parse_cell(column: Column, raw: Any) -> Any:
    """Return the typed value of `raw` for `column` (None when blank and optional), or raise CellError."""
    if isinstance(raw, UnsavedFormula):
        raise CellError(
            f"formula {_shown(raw)} has no saved result", "open the workbook in Excel and save it, or paste values only"
        )
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
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and 20_000 <= raw <= 80_000 and raw == int(raw):
        # A date cell formatted as a number shows Excel's serial day count (46027 is 2026-01-04).
        day = date(1899, 12, 30) + timedelta(days=int(raw))
        raise CellError(
            f"expected a date, got the number {int(raw)} (Excel's serial number for {day})",
            "format the column as a date, YYYY-MM-DD",
        )
    text = str(raw).strip()
    if _ISO_DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise CellError(f"no such date {_shown(text)}", "check the month and day") from None
    raise CellError(
        f"expected a date as YYYY-MM-DD, got {_shown(text)}", "write every date as YYYY-MM-DD, e.g. 2026-01-15"
    )


def plain_number(value: float) -> str:
    """Write a number the way the contract wants it: digits, no exponent, no separators."""
    if math.isfinite(value) and abs(value) < 1e16 and value == int(value):
        return str(int(value))
    return f"{value:.10g}"


def _number_hint(text: str, unit: str = "") -> str | None:
    """Say how to rewrite a number typed as text ('1,234', '$62bn', '47%', '12 MW' where MW is the unit)."""
    cleaned = text.replace("\u2212", "-").replace("\u00a0", " ").strip()
    percent = cleaned.endswith("%")
    cleaned = re.sub(r"^(US\$|\$|USD)\s*", "", cleaned.removesuffix("%").strip())
    # Commas count only as thousands separators ('1,234,567.8'): '87000,1050,144' is several cells
    # run together (a stray quote), not one number.
    match = re.fullmatch(r"([-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*([A-Za-z][A-Za-z/]*)?", cleaned)
    if not match:
        return None
    value, word = float(match.group(1).replace(",", "")), match.group(2) or ""
    if not math.isfinite(value):
        return None
    if percent:
        return None if word else f"write the plain number {value:g} without the % sign"
    if word and word.lower() not in _SUFFIXES:
        # Only the column's own unit can simply be dropped ('12 MW' for MW): '1050 kW' needs converting.
        if not unit.lower().replace(" ", "").startswith(word.lower()):
            return None
        return f"write the plain number {plain_number(value)} without the unit '{word}'"
    value *= _SUFFIXES.get(word.lower(), 1.0)
    if not math.isfinite(value):
        return None
    return f"write the plain number {plain_number(value)} without separators, currency signs or units"


def _number(column: Column, raw: Any) -> float:
    if isinstance(raw, bool):
        raise CellError(f"expected a number, got {_shown(raw)}", "write a plain number such as 1234.5")
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        text = str(raw).strip()
        try:
            value = float(text)
        except ValueError:
            hint = _number_hint(text, column.unit)
            raise CellError(
                f"expected a number, got text {_shown(text)}", hint or "write a plain number such as 1234.5"
            ) from None
        if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
            if math.isfinite(value):  # Python also reads '1_000' and other scripts' digits; the contract does not
                raise CellError(f"expected a number, got text {_shown(text)}", "write a plain number such as 1234.5")
            raise CellError(
                f"expected a finite number, got {_shown(text)}", "replace NaN or infinity with the real figure"
            )
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
        raise CellError(f"expected a whole number, got {_shown(raw)}", f"{column.name} are counted in whole numbers")
    return int(value)


def _text(column: Column, raw: Any) -> str:
    text = str(raw).strip()
    if _CONTROL.search(text):
        raise CellError("holds a line break or control character", "keep the text on one line")
    if hidden := invisible(text):
        raise CellError(f"holds an invisible character, {hidden}", INVISIBLE_FIX)
    if len(text) > column.max_length:
        raise CellError(f"is {len(text)} characters long (at most {column.max_length})", "shorten it")
    return text


def _ticker(column: Column, raw: Any) -> str:
    text = str(raw).strip()
    if hidden := invisible(text):
        raise CellError(f"holds an invisible character, {hidden}", INVISIBLE_FIX)
    if not _TICKER.match(text):
        fix = "use the exchange ticker in capitals, e.g. RIOT"
        if _TICKER.match(text.upper()):
            fix = f"write it in capitals: {text.upper()}"
        raise CellError(f"not a ticker: {_shown(text)}", fix)
    return text
