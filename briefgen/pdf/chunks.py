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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from briefgen.errors import PdfError
from briefgen.pdf.scan import Scanner, Tag, attributes
from briefgen.pdf.weasy import PROBE_LABEL

FIRST_CHUNK = "start"
XREF_PREFIX = "xref-"
END_ANCHOR = "briefgen-end"  # the probe's id: where relative numbers count from (dropped from the merged PDF)
MAX_VALUE = 400  # the counter styles spell out values 0 to this (page numbers, counters, page counts)
CONTINUED_CLASS = "briefgen-continued"
PROBE_CLASS = "briefgen-probe"
LEAD_CLASS = "briefgen-lead"


@dataclass(frozen=True)
class Meta:
    """What a render of a chunk measured: its pages, where its anchors fall, its counters."""

    pages: int
    anchors: Mapping[str, int]  # id -> page index within the chunk
    starts: Mapping[str, int]  # carried counters at the chunk's start (as it was rendered)
    ends: Mapping[str, int]  # counters the next chunk carries, at this chunk's end
    targets: Mapping[str, Mapping[str, int]]  # anchor -> counter -> value, for anchors other chunks link to

    def to_json(self) -> dict:
        return {
            "pages": self.pages,
            "anchors": dict(self.anchors),
            "starts": dict(self.starts),
            "ends": dict(self.ends),
            "targets": {k: dict(v) for k, v in self.targets.items()},
        }

    @classmethod
    def from_json(cls, data: dict) -> Meta:
        return cls(
            int(data["pages"]),
            dict(data["anchors"]),
            dict(data["starts"]),
            dict(data["ends"]),
            {k: dict(v) for k, v in data["targets"].items()},
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
        self.counters = tuple(dict.fromkeys(c for m in markers for c in m.counters))
        bounds = [(0, FIRST_CHUNK, (), ())] + [(m.end, m.name, m.open, m.counters) for m in markers]
        stops = [m.start for m in markers] + [len(html)]
        owner: dict[str, int] = {}
        for offset, anchor in scan.ids:
            owner.setdefault(anchor, self._index(offset, stops))
        cross = [(node, target, self._index(node.start, stops)) for node, target in scan.links]
        cross = [(node, target, i) for node, target, i in cross if owner.get(target, i) != i]
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
            )
            for i, ((start, name, reopen, counters), stop) in enumerate(zip(bounds, stops, strict=False))
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

    # --- the numbers -----------------------------------------------------------------------------

    def fill(self, i: int, metas: Sequence[Meta | None]) -> Fill | None:
        """Chunk i's numbers from the other chunks' measurements; None while one of them is unknown."""
        if len(self.chunks) == 1:
            return Fill()
        if any(meta is None for j, meta in enumerate(metas) if j != i):
            return None
        known = {j: meta for j, meta in enumerate(metas) if meta is not None and j != i}
        pages = [known[j].pages if j in known else 0 for j in range(len(metas))]
        chunk = self.chunks[i]
        counters = tuple((c, known[i - 1].ends.get(c, 0)) for c in chunk.counters) if i else ()
        links = []
        for target in dict.fromkeys(target for _, target in chunk.links):
            j = self.owner[target]
            links.append((target, self._numbers(i, j, target, known, pages)))
        return Fill(sum(pages[:i]), sum(pages), counters, tuple(links))

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
            else:
                numbers.append((c, ("=", values.get(c, 0))))
        return tuple(numbers)

    def provisional(self, i: int, metas: Sequence[Meta | None]) -> Fill:
        """Numbers good enough to measure chunk i before the others are known."""
        blank = Meta(0, {}, {}, {}, {})
        fill = self.fill(i, [meta if meta is not None or j == i else blank for j, meta in enumerate(metas)])
        assert fill is not None
        return fill

    def meta(self, i: int, fill: Fill, pages: int, anchors: Mapping[str, int], probe: Sequence[int] | None) -> Meta:
        """Chunk i's render (its page count and anchors as WeasyPrint gives them, probe values) as a Meta."""
        chunk = self.chunks[i]
        lead = self.lead_pages(i)
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
        anchors = {a: max(index - lead, 0) for a, index in anchors.items() if a != END_ANCHOR}
        return Meta(pages - lead, anchors, dict(fill.counters), ends, targets)

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
            position = chunk.start
        for node, target in chunk.links:
            attrs = dict(node.attrs)
            anchor = self.anchors[node.start]
            attrs.update({"id": anchor, "href": f"#{anchor}", "data-target": target})
            parts += [source[position : node.start], f"<{node.name}{attributes(list(attrs.items()))}>"]
            position = node.end
        probe = f'<div class="{PROBE_CLASS}" id="{END_ANCHOR}" aria-hidden="true"></div>'
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

    def _style(self, chunk: Chunk, fill: Fill) -> str:
        lead = self.lead_pages(chunk.index)  # the lead page is numbered `offset` and counted in counter(pages)
        rules = [_counter_style("page-total", fill.others - lead, first=1)]
        if lead:
            rules += [
                f"@page :first {{ counter-reset: page {fill.offset}; }}",
                f".{LEAD_CLASS} {{ break-after: page; }}",
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
            f"bookmark-label: {' '.join(label)}; }}"
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
