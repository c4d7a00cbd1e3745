"""Turn numbers and dates into the research desk's printed form: $62.0bn, 47.1%, +300 bp, 15 Jan 2026.

The one number vocabulary of the brief: the body text, the tables (registered once as Jinja filters
by `briefgen.html.render`, see FILTERS), the narrative, the charts' alt text and the charts' own tick
and value labels (briefgen.charts.style.ticks wraps these same functions) all print through it.

One rounding rule everywhere: a number is rounded to the decimals asked for, and the sign is that of
the rounded value, so -0.3 with no decimals prints "0", never "-0" (and zero never takes a + sign).
A missing value (None, NaN, pandas NA, infinite) prints as an en dash. Negative numbers use a true
minus sign (U+2212).

A sector's own units live in its package and reach its templates through Sector.filters, built on
num() and finite() here, and Sector.units, the unit words nobreak keeps with their figures; FILTERS
are the house's, which every sector's templates share.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Collection
from datetime import date, datetime
from typing import Any

from markupsafe import Markup, escape

MISSING = "\u2013"  # en dash
MINUS = "\u2212"

_SCALES = ((1e12, "tn"), (1e9, "bn"), (1e6, "m"))


def _absent(value: Any) -> bool:
    return value is None or type(value).__name__ in ("NAType", "NaTType")


def finite(value: Any) -> float | None:
    """The value as a finite float, or None when it is missing (None, NaN, pandas NA, infinite)."""
    if _absent(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _signed(text: str, negative: bool, sign: bool) -> str:
    """Prefix a formatted magnitude with a minus sign, or a plus sign when `sign` asks for one."""
    if negative:
        return MINUS + text
    return "+" + text if sign else text


def _is_zero(text: str) -> bool:
    return not any(ch in "123456789" for ch in text)


def _magnitude(number: float, digits: int) -> tuple[str, bool]:
    """Round |number| to `digits` decimals; report whether the rounded value is negative (not -0)."""
    text = f"{abs(number):,.{digits}f}"
    return text, number < 0 and not _is_zero(text)


def num(value: Any, digits: int = 0, sign: bool = False) -> str:
    """1,045 / 12.5 with `digits` decimals; `sign` adds + to positives."""
    number = finite(value)
    if number is None:
        return MISSING
    text, negative = _magnitude(number, digits)
    return _signed(text, negative, sign and not _is_zero(text))


def signed(value: Any, digits: int = 1) -> str:
    """+1.2 / \u22120.3: a change with its sign always shown (zero has none)."""
    return num(value, digits, sign=True)


def usd(value: Any, digits: int | None = None, sign: bool = False) -> str:
    """$62.0bn, $96m, $38,080, $38.08, $0.072: scale and decimals chosen from the size.

    Billions and trillions keep one decimal; millions none from $10m up (one below); thousands and
    up print whole dollars; under $1,000 two decimals; under $1 three. `digits` overrides decimals.
    """
    number = finite(value)
    if number is None:
        return MISSING
    size = abs(number)
    for scale, suffix in _SCALES:
        if size >= scale * 0.9995:
            places = digits if digits is not None else (1 if suffix != "m" or size < 9.995e6 else 0)
            text, negative = _magnitude(number / scale, places)
            return _signed(f"${text}{suffix}", negative, sign and not _is_zero(text))
    places = digits if digits is not None else (0 if size >= 999.5 else 2 if size >= 0.9995 else 3)
    text, negative = _magnitude(number, places)
    return _signed(f"${text}", negative, sign and not _is_zero(text))


def _fixed_scale(value: Any, scale: float, suffix: str, digits: int | None) -> str:
    number = finite(value)
    if number is None:
        return MISSING
    scaled = number / scale
    if digits is None:  # whole from 100 (or when whole), else one decimal
        digits = 0 if abs(scaled) >= 100 or scaled == round(scaled) else 1
    text, negative = _magnitude(scaled, digits)
    return "$0" if _is_zero(text) else _signed(f"${text}{suffix}", negative, False)


def usd_k(value: Any, digits: int | None = None) -> str:
    """$42.4k from 42,350, zero $0: thousands whatever the size, so every tick of an axis shares the scale."""
    return _fixed_scale(value, 1e3, "k", digits)


def usd_bn(value: Any, digits: int | None = None) -> str:
    """$62bn, $4.5bn, zero $0: billions whatever the size (an axis's scale; usd() picks its own)."""
    return _fixed_scale(value, 1e9, "bn", digits)


def usd_compact(value: Any, sign: bool = False) -> str:
    """$62bn, $13bn, $1.6bn, $96m, $89k, $38.08: two significant figures or whole units, for headlines."""
    number = finite(value)
    if number is None:
        return MISSING
    size = abs(number)
    for scale, suffix in (*_SCALES, (1e3, "k")):
        if size >= scale * 0.9995:
            scaled = size / scale
            places = 0 if scaled >= 9.95 else 1
            text, negative = _magnitude(math.copysign(scaled, number), places)
            return _signed(f"${text}{suffix}", negative, sign and not _is_zero(text))
    return usd(number, sign=sign)


def pct(value: Any, digits: int = 1) -> str:
    """47.1%: a value already in percent."""
    number = finite(value)
    if number is None:
        return MISSING
    return f"{num(number, digits)}%"


def signed_pct(value: Any, digits: int = 1) -> str:
    """+11.0%, \u22122.1%: a percentage change with its sign (zero has none)."""
    number = finite(value)
    if number is None:
        return MISSING
    return f"{signed(number, digits)}%"


def bps(value: Any) -> str:
    """+300 bp, \u221245 bp: a change in basis points, whole numbers, signed."""
    number = finite(value)
    if number is None:
        return MISSING
    return f"{signed(number, 0)} bp"


def multiple(value: Any, digits: int = 1) -> str:
    """3.4x: a ratio printed as a multiple."""
    number = finite(value)
    if number is None:
        return MISSING
    return f"{num(number, digits)}x"


def _date(value: Any) -> date | None:
    if _absent(value):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, datetime):  # also pandas Timestamp
        return value.date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected a date, got {type(value).__name__}")


def long_date(value: Any) -> str:
    """15 January 2026."""
    day = _date(value)
    return MISSING if day is None else f"{day.day} {day:%B %Y}"


def short_date(value: Any) -> str:
    """15 Jan 2026."""
    day = _date(value)
    return MISSING if day is None else f"{day.day} {day:%b %Y}"


def day_month(value: Any) -> str:
    """15 Jan: for ranges whose year is printed once."""
    day = _date(value)
    return MISSING if day is None else f"{day.day} {day:%b}"


def month_name(value: Any) -> str:
    """December: the month a date falls in, for 'vs December'."""
    day = _date(value)
    return MISSING if day is None else f"{day:%B}"


def dates(span: Any) -> str:
    """1–14 Jan 2026: a window's dates, whatever its label says."""
    if _absent(span):
        return MISSING
    from briefgen.inputs.windows import label_for

    return label_for(span.start, span.end)


def window(span: Any) -> str:
    """'first two weeks of January (1–14 Jan 2026)', or just the dates when the label is the dates."""
    if _absent(span):
        return MISSING
    text = dates(span)
    name = (span.label or "").strip()
    return text if not name or name == text else f"{name} ({text})"


ACRONYMS = frozenset({"ai", "ipo", "m&a", "mw", "gw"})  # a sector adds its own (label's acronyms)


def label(value: Any, acronyms: Collection[str] = ACRONYMS) -> str:
    """'ai_hosting' -> 'AI hosting', 'power_approval' -> 'Power approval'; other text is left as written.

    Words in `acronyms` (lower case) print in capitals.
    """
    if _absent(value):
        return MISSING
    text = str(value).strip()
    if not text or " " in text or text != text.lower():
        return text or MISSING  # an analyst's own wording: keep it
    words = [w.upper() if w in acronyms else w for w in text.replace("_", " ").replace("-", " ").split()]
    first = words[0]
    return " ".join([first if first.isupper() else first.capitalize(), *words[1:]])


def change(figure: Any, digits: int = 1) -> str:
    """A metrics Figure's change vs its compare window: signed % for levels, bp for shares."""
    if figure is None:
        return MISSING
    if getattr(figure, "kind", "level") == "share":
        return bps(figure.change_bps)
    return signed_pct(figure.change_pct, digits)


def change_vs_prior_month(figure: Any, digits: int = 1) -> str:
    """A metrics Figure's change vs the prior calendar month: signed % for levels, bp for shares."""
    if figure is None:
        return MISSING
    value = figure.change_vs_prior_month
    return bps(value) if getattr(figure, "kind", "level") == "share" else signed_pct(value, digits)


def direction(value: Any) -> str:
    """'up', 'down' or 'flat': a CSS class for a change cell (never a number)."""
    number = finite(value)
    if number is None or number == 0:
        return "flat"
    return "up" if number > 0 else "down"


# A figure and its unit, or a date, that must not break across lines: "$40.08/MWh/day", "+280 bp",
# "12 MW", "30 Nov 2025", "1–14 Jan 2026". Matched in text only, never inside a tag. A sector adds
# its own unit words (Sector.units), which the environment passes to nobreak.
_MONTHS = (
    "January|February|March|April|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
)
UNITS = ("bp", "pp", "MW", "GW", "MWh", "kWh", "day", "days")  # the house's unit words
_TAG = re.compile(r"(<[^>]*>)")


@functools.cache
def _unbroken(units: tuple[str, ...]) -> re.Pattern[str]:
    words = "|".join(re.escape(unit) for unit in sorted(set(units), key=lambda u: (-len(u), u)))  # longest first
    return re.compile(
        rf"(?:(?<![\w.,])\d{{1,2}}(?:–\d{{1,2}})?\s(?:{_MONTHS})(?:\s\d{{4}})?\b"  # 30 Nov 2025, 18–31 Dec 2025
        rf"|[+{MINUS}]?\$?\d[\d,]*(?:\.\d+)?(?:tn|bn|m|k|T|x|%)?"  # a number, $ and scale
        rf"(?:\s(?:{words})\b)?(?:/(?:[A-Za-z]+(?:/[A-Za-z]+)*))?)"  # its unit, and a /per-unit
    )


def nobreak(value: Any, units: tuple[str, ...] = ()) -> Markup:
    """HTML in which figures with units and dates cannot break across lines (white-space: nowrap).

    Plain text is escaped first; Markup (a {% filter %} block, already escaped) is changed only
    between tags. A figure without a unit is left alone: only what a break would split is wrapped.
    The unit words are the house's (UNITS) and `units` (a sector's, Sector.units).
    """
    if _absent(value):
        return Markup(MISSING)
    html = str(value) if isinstance(value, Markup) else str(escape(value))
    pattern = _unbroken(UNITS + tuple(units))
    parts = _TAG.split(html)
    for i in range(0, len(parts), 2):  # even items are text, odd ones tags
        parts[i] = pattern.sub(_wrap, parts[i])
    return Markup("".join(parts))


def _wrap(match: re.Match[str]) -> str:
    text = match.group(0)
    return f'<span class="nb">{text}</span>' if (" " in text or "/" in text) else text


def two_lines(value: Any) -> str:
    """A short notice laid out as two deliberate lines: broken at the sentence end nearest its middle.

    For the page footer, whose margin box keeps the newline (white-space: pre-line); one sentence
    stays one line.
    """
    text = " ".join(str(value or "").split())
    ends = [m.end() for m in re.finditer(r"[.!?] (?=\S)", text)]
    if not ends:
        return text
    cut = min(ends, key=lambda end: abs(2 * end - len(text)))
    return text[:cut].rstrip() + "\n" + text[cut:]


FILTERS: dict[str, Callable[..., str]] = {
    "nobreak": nobreak,
    "two_lines": two_lines,
    "usd": usd,
    "usd_compact": usd_compact,
    "num": num,
    "pct": pct,
    "signed_pct": signed_pct,
    "bps": bps,
    "signed": signed,
    "multiple": multiple,
    "long_date": long_date,
    "short_date": short_date,
    "day_month": day_month,
    "month_name": month_name,
    "dates": dates,
    "window": window,
    "label": label,
    "change": change,
    "change_vs_prior_month": change_vs_prior_month,
    "direction": direction,
}
