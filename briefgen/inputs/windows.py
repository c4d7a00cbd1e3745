"""Turn dates into the brief's windows: a labelled range of days, its label, the month before, a flag's value.

brief.yaml's period and compare (briefgen.inputs.config) and the command line's --period and
--compare are Windows; the metrics compare each period with the month before it (prior_month).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from briefgen.errors import ConfigError


@dataclass(frozen=True)
class Window:
    """An inclusive range of UTC days with the label the brief prints for it."""

    start: date
    end: date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label}


def label_for(start: date, end: date) -> str:
    """Label a window the way the desk writes it: '1-14 Jan 2026', '18 Dec 2025 - 3 Jan 2026'."""
    if start == end:
        return f"{start.day} {start:%b %Y}"
    if (start.year, start.month) == (end.year, end.month):
        if start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1]:
            return f"{start:%B %Y}"
        return f"{start.day}\u2013{end.day} {end:%b %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%b} \u2013 {end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} \u2013 {end.day} {end:%b %Y}"


def parse_window_flag(text: str, option: str) -> tuple[date, date]:
    """Parse a START:END flag value (ISO dates) or raise ConfigError naming the option."""
    parts = text.split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        start, end = date.fromisoformat(parts[0].strip()), date.fromisoformat(parts[1].strip())
    except ValueError:
        raise ConfigError(f"{option} {text!r}: expected START:END as YYYY-MM-DD:YYYY-MM-DD") from None
    return start, end


def prior_month(window: Window) -> Window:
    """The calendar month before the one the window starts in: the desk's 'vs December' reference."""
    last = window.start.replace(day=1) - timedelta(days=1)
    first = last.replace(day=1)
    return Window(first, last, f"{first:%B %Y}")
