"""Turn the brief's HTML into chunks, complete documents rendered apart, and fill in the numbers each prints.

The templates mark where chunks begin and what every chunk repeats:

    <!-- briefgen:repeat --> ... <!-- /briefgen:repeat -->
        at body level, before the first chunk marker: the page furniture (running header and footer
        strings), repeated at the start of every later chunk.
    <!-- briefgen:chunk outlook counters="section figure" -->
        a chunk starts here, on a new page; the listed CSS counters continue from the previous chunk.

HTML without chunk markers, or without the repeat markers, is one chunk. Every chunk gets the whole
<head> and the elements open at its marker reopened (closed at the end of the previous chunk). A
later chunk begins with a lead page holding the repeated furniture: it sets the running strings,
takes the `@page :first` styles meant for the cover, and is dropped when the chunks are merged.

What a chunk prints about the others goes in a per-chunk <style>, for the stylesheet to print:

    @page :first { counter-reset: page N }      numbers a later chunk's pages on from the earlier ones
    @counter-style page-total                   maps the chunk's own page count to the document's, so
                                                `counter(pages, page-total)` prints the total
    counter-set on the chunk's first container  the carried counters' values
    --target-page, --target-<counter>           on a link to an anchor in another chunk, which becomes a
                                                self-link <a id="xref-x" href="#xref-x" data-target="x">
                                                (the merged PDF points its destination at x)

A link to a later chunk gets its numbers relative to the end of its own chunk, as target-counter()
of the end anchor through a counter style that adds the distance. So a chunk's numbers depend only
on what the other chunks measure (their length, where their anchors fall, how far they move the
counters), never on its own length. A hidden probe at each chunk's end reports those measurements
through a bookmark label WeasyPrint computes: the counters there, and at the anchors linked to.

Page numbers drawn apart. A repeat marker that names margin boxes,

    <!-- briefgen:repeat pages="bottom-right" -->

says those boxes print page numbers: the chunks leave them empty, and `furniture(pages)` is a
document of that many empty pages that draws them alone, overlaid on the assembled brief (merge.py).
A chunk then prints no page number of its own unless it links to its own anchors, so it depends only
on the chunks it links to and the counters it carries: a cold build lays each chunk out once, in an
order the links allow (the cover, with the contents, last).

Chunks that flow on. A marker with `flow`,

    <!-- briefgen:chunk equities flow counters="section figure" -->

starts a chunk that runs on from the previous chunk's last page, as one document would. The previous
chunk ends with an in-flow probe whose position says how full its last page is; the flowing chunk
starts, after its lead page, with a spacer that tall, and its first page is drawn over the previous
chunk's last page when they are merged (that page's furniture comes from the earlier chunk, so the
later one leaves its own empty). The gap at the cut is the earlier chunk's closing margin (the
flowing chunk's first box starts right below the spacer; the templates give it no top margin). The
running header of the shared page is `string(..., first)` of what starts there: so that the earlier
chunk's page shows the flowing chunk's heading when nothing of its own starts there, it ends with a
hidden, zero-height copy of that heading (its strings set, no counters moved, no bookmark) whenever
the flowing chunk reports its heading on the shared page. A flowing chunk cannot follow the first
chunk, whose first page has the cover's margins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from briefgen.errors import PdfError
from briefgen.pdf.scan import VOID_ELEMENTS, Scanner, Tag, attributes
from briefgen.pdf.weasy import PROBE_LABEL

FIRST_CHUNK = "start"
XREF_PREFIX = "xref-"
END_ANCHOR = "briefgen-end"  # the probe's id: where relative numbers count from (dropped from the merged PDF)
FLOW_END = "briefgen-flow-end"  # in-flow, at the end of a chunk a flowing one follows: how full its last page is
# Where a chunk's content starts on its first page (a flowing chunk's spacer is measured from it).
TOP_ANCHOR = "briefgen-top"
HEADING_ANCHOR = "briefgen-heading"  # inside a flowing chunk's first heading: on the shared page or not
PROBES = (END_ANCHOR, FLOW_END, TOP_ANCHOR, HEADING_ANCHOR)  # anchors of the chunks' own, dropped when merged
MARGIN_BOXES = tuple(
    f"{side}-{where}"
    for side, places in (
        ("top", ("left-corner", "left", "center", "right", "right-corner")),
        ("bottom", ("left-corner", "left", "center", "right", "right-corner")),
        ("left", ("top", "middle", "bottom")),
        ("right", ("top", "middle", "bottom")),
    )
    for where in places
)
MAX_VALUE = 400  # the counter styles spell out values 0 to this (page numbers, counters, page counts)
CONTINUED_CLASS = "briefgen-continued"
PROBE_CLASS = "briefgen-probe"
POINT_CLASS = "briefgen-point"  # a probe that only marks a position
LEAD_CLASS = "briefgen-lead"
FLOW_CLASS = "briefgen-flow"
ECHO_CLASS = "briefgen-echo"
PAGE_CLASS = "briefgen-page"
_FIRST_TAG = re.compile(r"\s*(?:<!--.*?-->\s*)*<([A-Za-z][\w-]*)\b[^>]*>", re.S)
_ID = re.compile(r"""\s(?:id|name|href)=("[^"]*"|'[^']*'|[^\s>]*)""")


@dataclass(frozen=True)
class Meta:
    """What a render of a chunk measured: its pages, where its anchors fall, its counters."""

    pages: int
    anchors: Mapping[str, int]  # id -> page index within the chunk
    starts: Mapping[str, int]  # carried counters at the chunk's start (as it was rendered)
    ends: Mapping[str, int]  # counters the next chunk carries, at this chunk's end
    targets: Mapping[str, Mapping[str, int]]  # anchor -> counter -> value, for anchors other chunks link to
    # For a flowing chunk: its pages leave out the one it shares with the previous chunk, whose anchors
    # are at index -1. For a chunk a flowing one follows: where its content starts on its first page
    # and where it ends on its last (CSS px from the page's top). For a flowing chunk: whether its first
    # heading is on the shared page.
    top: float | None = None
    end: float | None = None
    heading: bool | None = None

    def to_json(self) -> dict:
        return {
            "pages": self.pages,
            "anchors": dict(self.anchors),
            "starts": dict(self.starts),
            "ends": dict(self.ends),
            "targets": {k: dict(v) for k, v in self.targets.items()},
            "top": self.top,
            "end": self.end,
            "heading": self.heading,
        }

    @classmethod
    def from_json(cls, data: dict) -> Meta:
        return cls(
            int(data["pages"]),
            dict(data["anchors"]),
            dict(data["starts"]),
            dict(data["ends"]),
            {k: dict(v) for k, v in data["targets"].items()},
            data.get("top"),
            data.get("end"),
            data.get("heading"),
        )


# A number printed about another chunk: ("=", n) the number n, ("+", d) the value at this chunk's
# end plus d, ("=", None) unknown (an anchor without a box).
Number = tuple[str, int | None]


@dataclass(frozen=True)
class Fill:
    """The numbers a chunk prints about the other chunks."""

    offset: int = 0  # pages before the chunk
    others: int = 0  # pages in all other chunks
    counters: tuple[tuple[str, int], ...] = ()  # carried counter values at the chunk's start
    links: tuple[tuple[str, tuple[tuple[str, Number], ...]], ...] = ()  # target -> ("page" or counter, number)
    above: float | None = None  # a flowing chunk's spacer: how much of the shared page the previous chunk fills
    echo: bool = False  # ends with a copy of the next (flowing) chunk's heading, for the shared page's header


@dataclass(frozen=True)
class Chunk:
    """One chunk: its span of the HTML, the elements it reopens, the counters it carries."""

    index: int
    name: str
    start: int  # where its own content starts in the HTML
    stop: int  # where it ends (the next marker, or the end)
    reopen: tuple[Tag, ...]
    close: tuple[Tag, ...]  # elements left open at its end, closed after the probe
    counters: tuple[str, ...]  # carried from the previous chunk
    next_counters: tuple[str, ...]  # what the probe reports for the next chunk
    targets: tuple[str, ...]  # anchors in this chunk that other chunks link to
    links: tuple[tuple[Tag, str], ...]  # links in this chunk to anchors in other chunks
    flow: bool = False  # runs on from the previous chunk's last page
    inner: bool = False  # links to anchors of its own (so it prints its own page numbers)
    heading: tuple[Tag, int, tuple[Tag, ...]] | None = None  # a flowing chunk's first heading (see Scanner)


class Plan:
    """The brief's HTML cut into chunks; `html(i, fill)` is chunk i with its numbers filled in."""

    def __init__(self, html: str):
        self.source = html
        scan = Scanner(html)
        self.head_close = scan.head_close
        self.body = scan.body
        self.body_close = scan.body_close
        markers = scan.markers
        repeat = self._repeat(scan, markers)
        if not markers or repeat is None or scan.body is None:
            markers, repeat = [], (0, 0)
        self.repeat = html[repeat[0] : repeat[1]]
        self.numbered = scan.numbered if markers else ()  # margin boxes drawn by furniture(), not the chunks
        unknown = sorted(set(self.numbered) - set(MARGIN_BOXES))
        if unknown:
            raise PdfError(f"templates: briefgen:repeat pages= names {', '.join(unknown)}, not a page margin box")
        self.counters = tuple(dict.fromkeys(c for m in markers for c in m.counters))
        bounds = [(0, FIRST_CHUNK, (), (), False)] + [(m.end, m.name, m.open, m.counters, m.flow) for m in markers]
        stops = [m.start for m in markers] + [len(html)]
        owner: dict[str, int] = {}
        for offset, anchor in scan.ids:
            owner.setdefault(anchor, self._index(offset, stops))
        every = [(node, target, self._index(node.start, stops)) for node, target in scan.links]
        cross = [(node, target, i) for node, target, i in every if owner.get(target, i) != i]
        inner = {i for node, target, i in every if owner.get(target) == i}
        self.chunks = tuple(
            Chunk(
                index=i,
                name=name,
                start=start,
                stop=stop,
                reopen=reopen,
                close=markers[i].open if i < len(markers) else (),
                counters=counters,
                next_counters=markers[i].counters if i < len(markers) else (),
                targets=tuple(dict.fromkeys(t for _, t, _ in cross if owner[t] == i)),
                links=tuple((node, target) for node, target, j in cross if j == i),
                flow=flow,
                inner=i in inner,
                heading=next((h for h in scan.headings if start <= h[0].start and h[1] <= stop), None)
                if flow
                else None,
            )
            for i, ((start, name, reopen, counters, flow), stop) in enumerate(zip(bounds, stops, strict=False))
        )
        for chunk in self.chunks:
            if chunk.flow and chunk.index < 2:
                raise PdfError(
                    f"templates: chunk {chunk.name} flows on from the first chunk, whose first page has the"
                    " cover's margins; put a chunk marker before it, or drop its flow"
                )
        self.owner = owner
        self.anchors = self._self_anchors([node for node, _, _ in cross], set(owner))

    @staticmethod
    def _index(offset: int, stops: Sequence[int]) -> int:
        return next(i for i, stop in enumerate(stops) if offset < stop or i == len(stops) - 1)

    @staticmethod
    def _repeat(scan: Scanner, markers: Sequence) -> tuple[int, int] | None:
        """The repeated region's span, if the HTML marks one properly (else the brief is one chunk)."""
        if len(scan.repeat) != 2 or not markers:
            return None
        (_, open_end, open_depth), (close_start, _, close_depth) = scan.repeat
        if open_depth != 0 or close_depth != 0 or close_start > markers[0].start:
            raise PdfError(
                "templates: <!-- briefgen:repeat --> and <!-- /briefgen:repeat --> must be a pair"
                " of comments directly inside <body>, before the first chunk marker"
            )
        return open_end, close_start

    @staticmethod
    def _self_anchors(links: Sequence[Tag], used: set[str]) -> dict[int, str]:
        """The self-link anchor of each cross-chunk link, by offset: its own id, or a new xref-<target>."""
        anchors: dict[int, str] = {}
        for node in links:
            anchor = dict(node.attrs).get("id") or ""
            if not anchor:
                anchor = base = XREF_PREFIX + (dict(node.attrs).get("href") or "#")[1:]
                n = 1
                while anchor in used:
                    n += 1
                    anchor = f"{base}-{n}"
            used.add(anchor)
            anchors[node.start] = anchor
        return anchors

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(chunk.name for chunk in self.chunks)

    def xrefs(self) -> dict[str, str]:
        """Self-link anchor -> the anchor it stands for (the merged PDF points one at the other)."""
        return {self.anchors[node.start]: target for chunk in self.chunks for node, target in chunk.links}

    def lead_pages(self, i: int) -> int:
        """Pages at the start of chunk i's render that the merged PDF drops."""
        return 1 if i and len(self.chunks) > 1 else 0

    @property
    def flows(self) -> tuple[bool, ...]:
        return tuple(chunk.flow for chunk in self.chunks)

    def _followed(self, i: int) -> bool:
        """Whether a flowing chunk follows chunk i."""
        return i + 1 < len(self.chunks) and self.chunks[i + 1].flow

    def needs(self, i: int) -> set[int]:
        """The chunks whose measurements chunk i's numbers depend on."""
        if not self.numbered:  # it prints page X of Y: every other chunk
            return set(range(len(self.chunks))) - {i}
        chunk = self.chunks[i]
        needed = set(range(i)) if chunk.inner else set()  # its own page numbers, counted on from the earlier chunks
        if chunk.counters or chunk.flow:
            needed.add(i - 1)
        for _, target in chunk.links:
            j = self.owner[target]
            needed |= set(range(i + 1, j + 1)) if j > i else set(range(j + 1))
        return needed - {i}

    # --- the numbers -----------------------------------------------------------------------------

    def fill(self, i: int, metas: Sequence[Meta | None]) -> Fill | None:
        """Chunk i's numbers from the other chunks' measurements; None while one it needs is unknown."""
        if len(self.chunks) == 1:
            return Fill()
        if any(metas[j] is None for j in self.needs(i)):
            return None
        known = {j: meta for j, meta in enumerate(metas) if meta is not None and j != i}
        pages = [known[j].pages if j in known else 0 for j in range(len(metas))]
        chunk = self.chunks[i]
        counters = tuple((c, known[i - 1].ends.get(c, 0)) for c in chunk.counters) if i else ()
        links = []
        for target in dict.fromkeys(target for _, target in chunk.links):
            j = self.owner[target]
            links.append((target, self._numbers(i, j, target, known, pages)))
        numbered = bool(self.numbered)
        offset = sum(pages[:i]) if not numbered or chunk.inner else 0
        above = None
        if chunk.flow:
            before = known[i - 1]
            above = max(0.0, round((before.end or 0.0) - (before.top or 0.0), 4))
        after = known.get(i + 1)
        echo = self._followed(i) and self.chunks[i + 1].heading is not None and (after is None or bool(after.heading))
        return Fill(offset, 0 if numbered else sum(pages), counters, tuple(links), above, echo)

    def _numbers(
        self, i: int, j: int, target: str, known: Mapping[int, Meta], pages: Sequence[int]
    ) -> tuple[tuple[str, Number], ...]:
        """The page and counters at `target` (in chunk j), as chunk i prints them."""
        meta = known[j]
        index = meta.anchors.get(target)
        values = meta.targets.get(target, {})
        between = range(i + 1, j)
        if index is None:
            page: Number = ("=", None)
        elif j > i:  # so many pages after chunk i's last
            page = ("+", sum(pages[k] for k in between) + index + 1)
        else:
            page = ("=", sum(pages[:j]) + index + 1)
        numbers = [("page", page)]
        for c in self.counters:
            carried = all(c in self.chunks[k].counters for k in range(i + 1, j + 1))
            if j > i and carried:  # so far past its value at chunk i's end
                moved = sum(known[k].ends.get(c, 0) - known[k].starts.get(c, 0) for k in between)
                numbers.append((c, ("+", moved + values.get(c, 0) - meta.starts.get(c, 0))))
            else:  # counted from where it last started afresh (a chunk that does not carry it): increments only,
                # which a chunk laid out with provisional numbers measures right
                fresh = max(k for k in range(j + 1) if k == 0 or c not in self.chunks[k].counters)
                moved = sum(known[k].ends.get(c, 0) - known[k].starts.get(c, 0) for k in range(fresh, j))
                numbers.append((c, ("=", moved + values.get(c, 0) - meta.starts.get(c, 0))))
        return tuple(numbers)

    def provisional(self, i: int, metas: Sequence[Meta | None]) -> Fill:
        """Numbers good enough to measure chunk i before the others are known."""
        blank = Meta(0, {}, {}, {}, {})
        fill = self.fill(i, [meta if meta is not None or j == i else blank for j, meta in enumerate(metas)])
        assert fill is not None
        return fill

    def meta(
        self,
        i: int,
        fill: Fill,
        pages: int,
        anchors: Mapping[str, int],
        probe: Sequence[int] | None,
        points: Mapping[str, tuple[int, float]] | None = None,
    ) -> Meta:
        """Chunk i's render as a Meta: its page count and anchors as WeasyPrint gives them, the probe's
        values, and the probes' positions (`points`: anchor -> page index, y in CSS px)."""
        chunk = self.chunks[i]
        lead = self.lead_pages(i) + (1 if chunk.flow else 0)  # a flowing chunk's first page is the previous one's last
        points = points or {}
        values = list(probe or ())
        expected = len(chunk.next_counters) + len(chunk.targets) * len(self.counters)
        if len(self.chunks) > 1 and len(values) != expected:
            raise PdfError(f"chunk {chunk.name}: its probe was not laid out (does the stylesheet hide it?)")
        ends = dict(zip(chunk.next_counters, values, strict=False))
        last = max([fill.offset + pages - lead, *ends.values()])
        if last > MAX_VALUE:
            raise PdfError(
                f"chunk {chunk.name}: a page number or counter reaches {last}; chunks number up to {MAX_VALUE}"
            )
        rest = values[len(chunk.next_counters) :]
        width = len(self.counters)
        targets = {
            t: dict(zip(self.counters, rest[k * width : (k + 1) * width], strict=False))
            for k, t in enumerate(chunk.targets)
        }
        floor = -1 if chunk.flow else 0
        anchors = {a: max(index - lead, floor) for a, index in anchors.items() if a not in PROBES}
        top = end = heading = None
        if self._followed(i):
            if FLOW_END not in points or TOP_ANCHOR not in points:
                raise PdfError(
                    f"chunk {chunk.name}: its flow probes were not laid out (does the stylesheet hide them?)"
                )
            if points[FLOW_END][0] != pages - 1:
                raise PdfError(f"chunk {chunk.name}: its end is not on its last page (a break after its last box?)")
            if points[TOP_ANCHOR][0] < self.lead_pages(i):
                raise PdfError(f"chunk {chunk.name}: where its content starts was measured on its lead page")
            top, end = points[TOP_ANCHOR][1], points[FLOW_END][1]
        if chunk.flow and chunk.heading is not None:
            heading = HEADING_ANCHOR in points and points[HEADING_ANCHOR][0] == lead - 1
        return Meta(pages - lead, anchors, dict(fill.counters), ends, targets, top, end, heading)

    # --- the HTML ------------------------------------------------------------------------------

    def html(self, i: int, fill: Fill) -> str:
        """Chunk i as a complete document, its numbers filled in."""
        if len(self.chunks) == 1:
            return self.source
        chunk = self.chunks[i]
        source = self.source
        assert self.body is not None
        head_close = self.head_close if self.head_close is not None else self.body.start
        parts = [source[:head_close], self._style(chunk, fill), source[head_close : self.body.end]]
        if i == 0:
            position = self.body.end
        else:
            lead = f'<div class="{LEAD_CLASS}" aria-hidden="true"></div>'
            parts += ["\n", self.repeat, lead, *self._reopen(chunk.reopen)]
            if chunk.flow:
                parts.append(f'<div class="{FLOW_CLASS}" aria-hidden="true"></div>')
            position = chunk.start
        edits = []  # (start, end, replacement) in the chunk's span, in order
        if i and self._followed(i):  # where its content starts: past the lead page's break, inside what it opens
            top = f'<div class="{POINT_CLASS}" id="{TOP_ANCHOR}" aria-hidden="true"></div>'
            first = _FIRST_TAG.match(source, chunk.start)
            inside = not chunk.reopen and first is not None and first.group(1).lower() not in VOID_ELEMENTS
            at = first.end() if inside and first is not None else chunk.start
            edits.append((at, at, top))
        for node, target in chunk.links:
            attrs = dict(node.attrs)
            anchor = self.anchors[node.start]
            attrs.update({"id": anchor, "href": f"#{anchor}", "data-target": target})
            edits.append((node.start, node.end, f"<{node.name}{attributes(list(attrs.items()))}>"))
        if chunk.heading is not None:
            at = chunk.heading[0].end
            edits.append((at, at, f'<span class="{POINT_CLASS}" id="{HEADING_ANCHOR}"></span>'))
        for start, end, replacement in sorted(edits):
            parts += [source[position:start], replacement]
            position = end
        probe = f'<div class="{PROBE_CLASS}" id="{END_ANCHOR}" aria-hidden="true"></div>'
        if self._followed(i):
            probe = (
                f'<div class="{FLOW_CLASS}-end" id="{FLOW_END}" aria-hidden="true"></div>' + self._echo(i, fill) + probe
            )
        if i == len(self.chunks) - 1:
            end = self.body_close if self.body_close is not None and self.body_close >= position else chunk.stop
            parts += [source[position:end], probe, source[end : chunk.stop]]
        else:
            parts += [
                source[position : chunk.stop],
                probe,
                *(f"</{node.name}>" for node in reversed(chunk.close)),
                "\n</body>\n</html>\n",
            ]
        return "".join(parts)

    def furniture(self, pages: int) -> str | None:
        """A document of `pages` empty pages that draws the margin boxes the repeat marker names (the
        page numbers) and nothing else, to overlay on the assembled brief; None if it names none."""
        if not self.numbered or len(self.chunks) == 1:
            return None
        assert self.body is not None
        head_close = self.head_close if self.head_close is not None else self.body.start
        page = _bare_page(box for box in MARGIN_BOXES if box not in self.numbered)
        style = (
            '<style data-briefgen-chunk="furniture">\n'
            f"@page {{ {page} }}\n@page :first {{ {page} }}\n"
            "html, body { background: none !important; }\n"
            f".{PAGE_CLASS} + .{PAGE_CLASS} {{ break-before: page; }}\n</style>\n"
        )
        body = self.source[head_close : self.body.end]
        blank = f'<div class="{PAGE_CLASS}"></div>' * pages
        return f"{self.source[:head_close]}{style}{body}\n{self.repeat}{blank}\n</body>\n</html>\n"

    def _echo(self, i: int, fill: Fill) -> str:
        """A hidden, zero-height copy of the next chunk's first heading, inside the elements it opens."""
        heading = self.chunks[i + 1].heading
        if not fill.echo or heading is None:
            return ""
        node, end, around = heading
        opened = around[len(self.chunks[i + 1].reopen) :]  # the elements the flowing chunk opens around it
        copy = _ID.sub("", self.source[node.start : end])
        tags = [
            f"<{t.name}{attributes([(k, v) for k, v in t.attrs if k not in ('id', 'name', 'href')])}>" for t in opened
        ]
        closing = "".join(f"</{t.name}>" for t in reversed(opened))
        return f'<div class="{ECHO_CLASS}" aria-hidden="true">{"".join(tags)}{copy}{closing}</div>'

    def _style(self, chunk: Chunk, fill: Fill) -> str:
        lead = self.lead_pages(chunk.index)  # the lead page is numbered `offset` and counted in counter(pages)
        shared = 1 if chunk.flow else 0  # and a flowing chunk's first page is the previous chunk's last
        rules = [_counter_style("page-total", fill.others - lead - shared, first=1)]
        if lead:
            rules += [
                f"@page :first {{ counter-reset: page {fill.offset - shared}; }}",
                f".{LEAD_CLASS} {{ break-after: page; }}",
            ]
        if self.numbered:
            boxes = _empty_boxes(self.numbered)
            rules += [f"@page {{ {boxes} }}", f"@page :first {{ {boxes} }}"]
        if chunk.flow:  # the shared page's furniture is the previous chunk's
            rules += [
                f"@page :nth({lead + 1}) {{ {_bare_page(MARGIN_BOXES)} }}",
                f".{FLOW_CLASS} {{ height: {fill.above or 0:.4f}px; margin: 0; padding: 0; border: 0; }}",
            ]
        if self._followed(chunk.index):
            rules += [
                f".{FLOW_CLASS}-end {{ height: 0; margin: 0; padding: 0; border: 0; }}",
                f".{ECHO_CLASS} {{ height: 0; overflow: hidden; visibility: hidden; margin: 0; padding: 0;"
                " border: 0; }",
                f".{ECHO_CLASS} *, .{ECHO_CLASS} *::before, .{ECHO_CLASS} *::after {{ height: 0 !important;"
                " margin: 0 !important; padding: 0 !important; border: 0 !important; font-size: 0 !important;"
                " line-height: 0 !important; counter-increment: none !important; counter-reset: none !important;"
                " counter-set: none !important; bookmark-level: none !important; break-before: auto !important;"
                " break-after: auto !important; float: none !important; position: static !important; }",
            ]
        if fill.counters:
            where = f".{CONTINUED_CLASS}" if chunk.reopen else "body"
            rules.append(f"{where} {{ counter-set: {' '.join(f'{c} {v}' for c, v in fill.counters)}; }}")
        distances = sorted({n for _, numbers in fill.links for _, (mode, n) in numbers if mode == "+" and n})
        rules += [_counter_style(_plus(d), d) for d in distances]
        properties = {
            target: " ".join(f"--target-{name}: {_value(name, number)};" for name, number in numbers)
            for target, numbers in fill.links
        }
        for node, target in chunk.links:
            rules.append(f'[id="{_css_string(self.anchors[node.start])}"] {{ {properties[target]} }}')
        rules.append(self._probe_rule(chunk))
        return f'<style data-briefgen-chunk="{escape(chunk.name)}">\n' + "\n".join(rules) + "\n</style>\n"

    def _probe_rule(self, chunk: Chunk) -> str:
        # The label is "briefgen-probe" then integers: the next chunk's counters, then for each
        # linked anchor every carried counter's value there (target-counter, as a TOC would print).
        label = [f'"{PROBE_LABEL}"']
        label += [f'" " counter({c})' for c in chunk.next_counters]
        label += [f'" " target-counter("#{_css_string(t)}", {c})' for t in chunk.targets for c in self.counters]
        return (
            f".{PROBE_CLASS} {{ position: absolute; visibility: hidden; bookmark-level: 1; "
            f"bookmark-label: {' '.join(label)}; }}\n"
            f".{POINT_CLASS} {{ position: absolute; visibility: hidden; bookmark-level: none; }}"
        )

    @staticmethod
    def _reopen(tags: Sequence[Tag]) -> list[str]:
        out = []
        for depth, node in enumerate(tags):
            attrs = [(k, v) for k, v in node.attrs if k != "id"]  # its anchor stays in the earlier chunk
            if depth == len(tags) - 1:
                classes = " ".join(filter(None, [dict(attrs).get("class") or "", CONTINUED_CLASS]))
                attrs = [(k, v) for k, v in attrs if k != "class"] + [("class", classes)]
            out.append(f"<{node.name}{attributes(attrs)}>")
        return out


def _empty_boxes(boxes: Iterable[str]) -> str:
    """Margin-box rules for an @page rule: these boxes draw nothing."""
    return " ".join(f"@{box} {{ content: none !important; }}" for box in boxes)


def _bare_page(boxes: Iterable[str]) -> str:
    """Declarations for an @page rule: no border or background drawn, and these margin boxes empty."""
    return f"border-color: transparent !important; background: none !important; {_empty_boxes(boxes)}"


def _plus(distance: int) -> str:
    return f"briefgen-plus-{distance}" if distance >= 0 else f"briefgen-minus-{-distance}"


def _value(counter: str, number: Number) -> str:
    """A --target-* property's value: the number as a string, or counted from the chunk's end anchor."""
    mode, n = number
    if mode == "=":
        return f'"{"" if n is None else n}"'
    style = f", {_plus(n)}" if n else ""
    return f'target-counter("#{END_ANCHOR}", {counter}{style})'


def _counter_style(name: str, add: int, first: int = 0) -> str:
    """A counter style printing n + add for n from `first` to MAX_VALUE (decimal beyond)."""
    symbols = " ".join(f'"{n + add}"' for n in range(first, MAX_VALUE + 1))
    return f"@counter-style {name} {{ system: fixed {first}; symbols: {symbols}; }}"


def _css_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ")
