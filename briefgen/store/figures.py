"""Turn a build's recorded figures into comparisons: a sector's key figures, their change, a flat diff.

A build records every figure as plain data (the sector's `figures`, stored as JSON in the
history). Two things compare them:

- `KeyFigure`: one headline figure a sector declares (briefgen.sector.Sector.key_figures): where
  its period value sits, whether its change is told in percent (a level) or basis points (a
  share), and how `briefgen history` prints it. The brief's "since the previous brief" column
  and the history's tables read the key figures; nothing here knows which figures they are.
- `flatten_figures` and `figure_change`: every figure as one dotted name, for `briefgen diff`.

Nothing here imports more than the standard library, so a sector can declare its key figures
at import time for free.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal


def _plain(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


@dataclass(frozen=True)
class KeyFigure:
    """One headline figure: where its period value sits, how its change is told, how the history prints it.

    `path` is (section, figure) alike in the sector's metrics (attributes) and in its recorded
    figures (keys), the figure holding a `period` value. A "level" changes in percent, a "share"
    (a figure that is itself a percentage) in basis points. `label` heads its column in
    `briefgen history`; `format` prints its value there (None as the formatter wants it).
    """

    name: str
    path: tuple[str, str]
    kind: Literal["level", "share"]
    label: str = ""
    format: Callable[[float | None], str] = _plain

    def value(self, figures: Any) -> float | None:
        """The period value, from the sector's metrics or from the figures a build recorded alike."""
        section_name, figure_name = self.path
        if isinstance(figures, Mapping):
            section = figures.get(section_name)
            figure = section.get(figure_name) if section else None
            value = figure.get("period") if figure else None
        else:
            section = getattr(figures, section_name, None)
            value = getattr(section, figure_name).period if section is not None else None
        return finite(value)

    def change(self, new: float | None, old: float | None) -> float | None:
        """The change from `old` to `new`: percent for a level, basis points for a share."""
        if new is None or old is None:
            return None
        if self.kind == "share":
            return (new - old) * 100.0
        return None if old == 0 else (new / old - 1.0) * 100.0


def key_values(key_figures: Iterable[KeyFigure], figures: Any) -> dict[str, float | None]:
    """Each key figure's period value by name (None where the figures lack it)."""
    return {key.name: key.value(figures) for key in key_figures}


def finite(value: Any) -> float | None:
    """A number as a float, or None for anything else (text, a bool, NaN, infinity)."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


# --- every figure, for a diff ----------------------------------------------------------------

# Left out of a diff: a Figure's changes are derived from the values beside it.
_DERIVED = {"change_pct", "change_bps", "change_pct_vs_prior_month", "change_bps_vs_prior_month", "change_usd"}
# Fields that name a row of a table in the recorded figures (a company's ticker, a deal's date...).
_RECORD_ID = ("ticker", "class", "date", "kind", "counterparty")


def flatten_figures(figures: Mapping[str, Any], skip: Iterable[str] = ()) -> dict[str, tuple[Any, str]]:
    """Every figure as {dotted name: (value, change unit)}, in the recorded order; names in `skip` left out.

    Rows of tables are named by their identifying fields (`equities.by_ticker[MARA].market_cap_usd`)
    so an added row does not shift the others. The change unit is 'bp' for a percentage (a Figure of
    kind share, or a name ending in _pct or _pp), 'n' for a whole number, '%' for any other number
    and '' for text.
    """
    flat: dict[str, tuple[Any, str]] = {}
    skipped = set(skip)

    def walk(value: Any, name: str, share: bool | None) -> None:
        if name in skipped:
            return
        if isinstance(value, Mapping):
            is_figure = bool(name) and "period" in value and "compare" in value  # a metrics Figure
            for key, item in value.items():
                if key in _DERIVED and is_figure:
                    continue
                kind = ("change_bps" in value) if is_figure and key in ("period", "compare", "prior_month") else None
                walk(item, f"{name}.{key}" if name else key, kind)
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            seen: dict[str, int] = {}
            for record in value:
                label = " ".join(str(record[k]) for k in _RECORD_ID if record.get(k) is not None) or "?"
                seen[label] = seen.get(label, 0) + 1
                label = label if seen[label] == 1 else f"{label} #{seen[label]}"
                for key, item in record.items():
                    if key not in _RECORD_ID:
                        walk(item, f"{name}[{label}].{key}", None)
        elif isinstance(value, list):
            flat[name] = (", ".join(str(v) for v in value), "")
        else:
            leaf = name.rsplit(".", 1)[-1]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                unit = ""
            elif share is not None:
                unit = "bp" if share else "%"
            elif leaf.endswith(("_pct", "_pp")):
                unit = "bp"
            elif isinstance(value, int):
                unit = "n"
            else:
                unit = "%"
            flat[name] = (value, unit)

    walk(figures, "", None)
    return flat


def figure_change(old: Any, new: Any, unit: str) -> float | None:
    """The change of one flattened figure in its unit: bp, a difference ('n') or percent; None for text."""
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (old, new))
    if not numbers:
        return None
    if unit == "bp":
        return (new - old) * 100.0
    if unit == "n":
        return new - old
    return None if old == 0 else (new / old - 1.0) * 100.0
