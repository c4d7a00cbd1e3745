"""Turn a built brief into what its email says: headline, key takeaways, key figures, analysts.

The build writes brief.html beside brief.pdf from the same context; its cover holds exactly the
summary a desk puts in the email. read_summary parses it (with tinyhtml5, WeasyPrint's own HTML
parser) into a small frozen BriefSummary, and only when its <title> is the PDF's title, so an HTML
file left from another build is never mistaken for this brief's. Without it (a PDF given on its
own) the summary is the title alone, and the email still goes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element

MAX_HTML_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class KeyFigures:
    """The cover's key-figures table: column headings, then (label, cells...) per row."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class BriefSummary:
    """What the email needs from the brief; every string is text, escaped where it is printed."""

    title: str
    headline: str
    takeaways: tuple[str, ...] = ()
    key_figures: KeyFigures | None = None
    analysts: tuple[str, ...] = ()
    house: str = ""
    date: str = ""
    notes: tuple[str, ...] = field(default=())  # the table's notes (window, assumptions)


def read_summary(brief: Path, title: str | None) -> BriefSummary:
    """The summary of the brief at `brief`, from the brief.html built with it; the title alone without one."""
    fallback = BriefSummary(title=title or "Research brief", headline=title or "Research brief")
    html = brief.with_suffix(".html")
    try:
        if not html.is_file() or html.is_symlink() or html.stat().st_size > MAX_HTML_BYTES:
            return fallback
        data = html.read_bytes()
    except OSError:
        return fallback
    import tinyhtml5

    # The build writes UTF-8 (as its <meta charset> says); never let the parser guess.
    root = tinyhtml5.parse(data, namespace_html_elements=False, override_encoding="utf-8")
    found = root.find(".//title")
    if title is None or found is None or _text(found) != title:
        return fallback
    headline = next((_text(e) for e in _by_class(root, "headline")), "") or title
    takeaways = tuple(t for ol in _by_class(root, "takeaways") for li in ol.iter("li") if (t := _text(li)))
    return BriefSummary(
        title=title,
        headline=headline,
        takeaways=takeaways,
        key_figures=_key_figures(root),
        analysts=tuple(t for e in _by_class(root, "analyst-name") if (t := _text(e))),
        house=next((_text(e) for e in _by_class(root, "house-name")), ""),
        date=next((_text(e) for e in _by_class(root, "house-date")), ""),
        notes=tuple(
            t for panel in _by_class(root, "key-figures") for e in _by_class(panel, "panel-note") if (t := _text(e))
        ),
    )


def _key_figures(root: Element) -> KeyFigures | None:
    table = next(_by_class(root, "kf"), None)
    if table is None:
        return None
    rows = [tuple(_text(cell) for cell in tr if cell.tag in ("th", "td")) for tr in table.iter("tr")]
    rows = [row for row in rows if any(row)]
    if len(rows) < 2:
        return None
    width = len(rows[0])
    return KeyFigures(rows[0], tuple(row for row in rows[1:] if len(row) == width))


def _by_class(root: Element, name: str) -> Iterator[Element]:
    return (e for e in root.iter() if name in (e.get("class") or "").split())


def _text(element: Element) -> str:
    """An element's text on one line, footnote and certification marks (<sup>) left out."""
    parts: list[str] = []

    def walk(node: Element) -> None:
        if node.text:
            parts.append(node.text)
        for child in node:
            if child.tag != "sup":
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return " ".join("".join(parts).split())
