"""Turn build records and diffs into text for the terminal: `briefgen history --builds` and `briefgen diff`.

The list shows each build's key figures: the sector's (briefgen.store.figures.KeyFigure), each
under its label and in its format; the publishing list (briefgen.publish.lifecycle) uses the
same cells and the same column aligner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from briefgen.store.figures import KeyFigure
from briefgen.store.history import BuildDiff, BuildRecord, FigureChange


def aligned(rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    """Rows as aligned columns, two spaces apart; columns in `right` are right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=False))
        ).rstrip()
        for row in rows
    ]


def listed(key_figures: Sequence[KeyFigure]) -> tuple[KeyFigure, ...]:
    """The key figures a history list shows: those with a label, in the sector's order."""
    return tuple(key for key in key_figures if key.label)


def key_cells(key_figures: Sequence[KeyFigure], figures: Mapping[str, Any]) -> tuple[str, ...]:
    """One build's listed key figures as the history prints them."""
    return tuple(key.format(key.value(figures)) for key in listed(key_figures))


def history_table(records: list[BuildRecord], key_figures: Sequence[KeyFigure]) -> str:
    """`briefgen history --builds`: one line per build, oldest first, with the sector's listed key figures."""
    keys = listed(key_figures)
    rows = [("id", "as of", "period", "pdf", "variant", *(key.label for key in keys))]
    for r in records:
        rows.append(
            (
                str(r.id),
                r.as_of.isoformat(),
                f"{r.period[0]}..{r.period[1]}",
                r.pdf_sha256[:12],
                r.pdf_variant or "-",
                *key_cells(keys, r.figures),
            )
        )
    return "\n".join(aligned(rows, right={0, *range(5, 5 + len(keys))})) + "\n"


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        text = " ".join(str(value).split())
        return text if len(text) <= 40 else text[:37] + "..."  # a deal's description can run to 500 characters
    if isinstance(value, int):
        return f"{value:,}"
    size = abs(value)
    if size >= 1e6:
        return f"{value:,.0f}"
    if size >= 1 or size == 0:
        return f"{value:,.2f}"
    return f"{value:.4g}"


def _change_text(item: FigureChange) -> str:
    if item.change is None:
        return ""
    if item.unit == "bp":
        return f"{item.change:+,.0f} bp"
    if item.unit == "n":
        return f"{item.change:+,}"
    return f"{item.change:+,.1f}%"


def _describe(r: BuildRecord) -> str:
    return f"build {r.id} (as of {r.as_of}, period {r.period[0]}..{r.period[1]})"


def diff_text(diff: BuildDiff) -> str:
    """`briefgen diff`: the changed input files (by SHA-256) and figures (old -> new, change)."""
    lines = [f"{_describe(diff.old)} -> {_describe(diff.new)}"]
    same = diff.old.pdf_sha256 == diff.new.pdf_sha256
    lines.append(f"PDF: {diff.old.pdf_sha256[:12]} -> {diff.new.pdf_sha256[:12]} ({'same' if same else 'changed'})")
    lines.append("")
    count = len(diff.sources)
    lines.append(f"Input files: {count or 'none'} of {diff.sources_compared} changed")
    if diff.sources:
        rows = [
            (
                s.name,
                (s.old_sha256 or "-")[:12],
                "->",
                (s.new_sha256 or "-")[:12],
                "added" if s.old_sha256 is None else "removed" if s.new_sha256 is None else "",
            )
            for s in diff.sources
        ]
        lines += ["  " + line for line in aligned(rows, right=set())]
    lines.append("")
    count = len(diff.figures)
    lines.append(f"Figures: {count or 'none'} of {diff.figures_compared} changed")
    if diff.figures:
        rows = [("figure", "old", "", "new", "change")]
        rows += [(f.figure, _value(f.old), "->", _value(f.new), _change_text(f)) for f in diff.figures]
        lines += ["  " + line for line in aligned(rows, right={1, 3, 4})]
    return "\n".join(lines) + "\n"
