"""Turn HTML into what cutting it into chunks needs: anchors, internal links, markers, open elements.

One pass of html.parser, with the offset of every tag of interest in the source, so chunks are cut
from the HTML exactly as the templates wrote it. The open elements are tracked as written; a marker
inside an element whose end tag HTML may leave out (a <p>, an <li>) is refused, as it cannot be cut
reliably there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

from briefgen.errors import PdfError

MARKER = re.compile(r'\s*briefgen:chunk\s+([A-Za-z][\w-]*)(\s+flow)?(?:\s+counters="([A-Za-z\s_-]*)")?\s*')
REPEAT_OPEN = re.compile(r'\s*briefgen:repeat(?:\s+pages="([a-z\s-]*)")?\s*')
REPEAT_CLOSE = "/briefgen:repeat"
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_OPTIONAL_END = {
    "p",
    "li",
    "dt",
    "dd",
    "tr",
    "td",
    "th",
    "thead",
    "tbody",
    "tfoot",
    "option",
    "optgroup",
    "colgroup",
    "caption",
    "rb",
    "rt",
    "rp",
    "rtc",
}


@dataclass(frozen=True)
class Tag:
    start: int
    end: int
    name: str
    attrs: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class Marker:
    start: int
    end: int
    name: str
    counters: tuple[str, ...]
    open: tuple[Tag, ...]  # the elements inside <body> open at the marker, outermost first
    flow: bool = False  # the chunk runs on from the previous one's last page (see chunks.py)


class Scanner(HTMLParser):
    """One pass over the HTML: anchors, internal links, markers and the elements open at each marker."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=False)
        self.html = html
        self.lines = [0] + [m.end() for m in re.finditer("\n", html)]
        self.stack: list[Tag] = []
        self.body: Tag | None = None
        self.head_close: int | None = None
        self.body_close: int | None = None
        self.ids: list[tuple[int, str]] = []
        self.links: list[tuple[Tag, str]] = []
        self.markers: list[Marker] = []
        self.repeat: list[tuple[int, int, int]] = []  # (start, end, open elements below body)
        self.numbered: tuple[str, ...] = ()  # the margin boxes the repeat marker says print page numbers
        # Every heading: its start tag, where its end tag ends, and the elements open around it.
        self.headings: list[tuple[Tag, int, tuple[Tag, ...]]] = []
        self._open_headings: list[tuple[Tag, tuple[Tag, ...]]] = []
        self.feed(html)
        self.close()

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.lines[line - 1] + column

    def _tag(self, name: str, attrs: list[tuple[str, str | None]]) -> Tag:
        start = self._offset()
        text = self.get_starttag_text() or ""
        return Tag(start, start + len(text), name, tuple(attrs))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = self._tag(tag, attrs)
        self._record(node)
        if tag == "body" and self.body is None:
            self.body = node
        if tag in HEADINGS:
            self._open_headings.append((node, self._below_body() or ()))
        if tag not in VOID_ELEMENTS:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._record(self._tag(tag, attrs))

    def _record(self, node: Tag) -> None:
        values = dict(node.attrs)
        for key in ("id",) + (("name",) if node.name == "a" else ()):
            if values.get(key):
                self.ids.append((node.start, values[key] or ""))
        href = values.get("href") or ""
        if node.name == "a" and href.startswith("#") and len(href) > 1:
            self.links.append((node, href[1:]))

    def handle_endtag(self, tag: str) -> None:
        offset = self._offset()
        if tag == "head" and self.head_close is None:
            self.head_close = offset
        if tag == "body":
            self.body_close = offset
        if tag in HEADINGS and self._open_headings and self._open_headings[-1][0].name == tag:
            node, around = self._open_headings.pop()
            self.headings.append((node, offset + len(f"</{tag}>"), around))
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth].name == tag:
                del self.stack[depth:]
                break

    def _below_body(self) -> tuple[Tag, ...] | None:
        names = [node.name for node in self.stack]
        if "body" not in names:
            return None
        return tuple(self.stack[names.index("body") + 1 :])

    def handle_comment(self, data: str) -> None:
        start = self._offset()
        end = start + len(data) + 7  # <!-- and -->
        below = self._below_body()
        opening = REPEAT_OPEN.fullmatch(data)
        if opening is not None or data.strip() == REPEAT_CLOSE:
            self.repeat.append((start, end, -1 if below is None else len(below)))
            if opening is not None:
                self.numbered = tuple((opening.group(1) or "").split())
            return
        match = MARKER.fullmatch(data)
        if match is None:
            return
        if below is None:
            raise PdfError(f"templates: <!--{data}--> must be inside <body>")
        if inside := [node.name for node in below if node.name in _OPTIONAL_END]:
            raise PdfError(f"templates: <!--{data}--> sits inside <{inside[-1]}>; put it between sections")
        name, flow, counters = match.group(1), bool(match.group(2)), tuple((match.group(3) or "").split())
        self.markers.append(Marker(start, end, name, counters, below, flow))


def attributes(attrs: Sequence[tuple[str, str | None]]) -> str:
    """Attributes as HTML source, values escaped."""
    return "".join(f" {k}" if v is None else f' {k}="{escape(v, quote=True)}"' for k, v in attrs)
