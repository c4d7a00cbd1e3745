"""One font subset per typeface in the merged PDF, instead of one per piece.

Every piece is its own WeasyPrint document, so each embeds its own subset of each face it uses (the
brief's four pieces and its page numbers: 16 subsets of Inter's four weights, 250 KB of a 440 KB file).
WeasyPrint subsets with HarfBuzz keeping the glyph IDs (CIDs are the original font's glyph IDs) and
without subroutines, so the subsets of one face differ only in which glyphs have outlines: their
union is one subset the pieces can share. `share_fonts` folds each group of Type0 fonts with the same
face (PostScript name less the subset tag, family, descriptor) into the one that keeps the most
glyph IDs: its font program gets the outlines and advance widths the others have and it lacks, its /W and /ToUnicode the
others' entries, and every resource dictionary that named another of them names it instead.

Nothing is folded unless the group agrees: the same glyph order (or the start of it) and the same
CFF private values, the same outline and width for a glyph two subsets both have, the same text for
a CID in two /ToUnicode tables, widths in two /W tables at most one unit (1/1000 em) apart, as
WeasyPrint rounds them. So subsets of two different fonts of one name (a desk's override) are left
as they are. fontTools (a WeasyPrint dependency) reads and writes the font programs; pikepdf the PDF.
"""

from __future__ import annotations

import hashlib
import io
import re
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from briefgen.store.cache import Cache

SUBSET_TAG = re.compile(r"/[A-Z]{6}\+")  # a subset font's name: six capitals and a plus, then the font's
_BFCHAR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
_HEADER_END = b"beginbfchar"
# Pieces may round a glyph's advance one unit (1/1000 em) apart; the first piece's width is kept, so
# a glyph of another piece moves by at most that (0.009 pt at 9 pt), which no page shows.
WIDTH_TOLERANCE = 1.0
FORMAT = "briefgen.pdf fonts 1"  # change when a change here would make a kept merged program wrong
DISAGREE = b"-"  # kept for a group that cannot be folded


class _Disagree(Exception):
    """The fonts of a group cannot share one subset."""


def share_fonts(pdf: Any, memo: Folded | None = None) -> int:
    """Fold the per-piece subsets of each face into one (see the module's docstring); how many fonts
    were folded away. `memo` keeps the merged font programs for the next build."""
    import pikepdf

    groups: dict[tuple[str, ...], list[Any]] = {}
    for obj in pdf.objects:
        key = _face(obj, pikepdf)
        if key is not None:
            groups.setdefault(key, []).append(obj)
    folded: dict[tuple[int, int], Any] = {}
    for fonts in groups.values():
        if len(fonts) < 2:
            continue
        try:
            _fold(pdf, fonts, pikepdf, memo)
        except _Disagree:
            continue
        folded.update({font.objgen: fonts[0] for font in fonts[1:]})
    if folded:
        for obj in pdf.objects:  # every /Font table of a resource dictionary: pages', Form XObjects', patterns'
            if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                continue
            for holder in (obj, obj.get("/Resources")):  # an indirect resource dictionary, or one held directly
                table = holder.get("/Font") if isinstance(holder, pikepdf.Dictionary) else None
                if not isinstance(table, pikepdf.Dictionary):
                    continue
                for name in list(table.keys()):
                    target = folded.get(table[name].objgen) if table[name].is_indirect else None
                    if target is not None:
                        table[name] = target
    return len(folded)


def _face(obj: Any, pikepdf: Any) -> tuple[str, ...] | None:
    """The face of a Type0 font WeasyPrint embeds (CFF in OpenType, Identity-H, CIDs = glyph IDs), or None."""
    if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Type") != "/Font" or obj.get("/Subtype") != "/Type0":
        return None
    if obj.get("/Encoding") != "/Identity-H" or "/ToUnicode" not in obj or len(obj.get("/DescendantFonts", [])) != 1:
        return None
    cid = obj.DescendantFonts[0]
    descriptor = cid.get("/FontDescriptor")
    if cid.get("/Subtype") != "/CIDFontType0" or cid.get("/CIDToGIDMap", "/Identity") != "/Identity":
        return None
    if descriptor is None or "/FontFile3" not in descriptor or descriptor.FontFile3.get("/Subtype") != "/OpenType":
        return None
    name = str(obj.BaseFont)
    if not SUBSET_TAG.match(name):
        return None
    fixed = [str(descriptor.get(key, "")) for key in ("/FontFamily", "/Flags", "/ItalicAngle")]
    return (name[8:], *fixed, str(cid.get("/CIDSystemInfo", "")), str(cid.get("/DW", "")))


def _fold(pdf: Any, fonts: list[Any], pikepdf: Any, memo: Folded | None) -> None:
    """Fold the group into one of its fonts, which it moves to fonts[0] (raises _Disagree, changing nothing
    in the PDF, if they conflict). The merged font program comes from `memo` when it has it."""
    try:
        datas = [bytes(f.DescendantFonts[0].FontDescriptor.FontFile3.read_bytes()) for f in fonts]
    except pikepdf.PdfError as exc:
        raise _Disagree from exc
    each = [_widths(font, pikepdf) for font in fonts]
    widths = _union(each)
    text = _text(fonts)
    used = [sorted(cids) for cids in each]
    key = hashlib.sha256(
        repr(
            [FORMAT, *((hashlib.sha256(data).hexdigest(), cids) for data, cids in zip(datas, used, strict=True))]
        ).encode()
    ).hexdigest()
    entry = memo.get(key) if memo is not None else None
    if entry is None:
        try:
            index, program = _merged(datas, used)
        except _Disagree:
            entry = DISAGREE
        else:
            entry = b"%d\n" % index + program
        if memo is not None:
            memo.put(key, entry)
    if entry == DISAGREE:
        raise _Disagree
    head, program = entry.split(b"\n", 1)
    fonts.insert(0, fonts.pop(int(head)))
    first = fonts[0]
    descriptor = first.DescendantFonts[0].FontDescriptor
    stream = pikepdf.Stream(pdf, zlib.compress(program, 9))
    stream.Filter, stream.Subtype = pikepdf.Name.FlateDecode, pikepdf.Name("/OpenType")
    descriptor.FontFile3 = stream
    first.DescendantFonts[0].W = pikepdf.Array(_w_array(widths))
    boxes = [[float(v) for v in f.DescendantFonts[0].FontDescriptor.FontBBox] for f in fonts]
    low = [_number(min(b[k] for b in boxes)) for k in (0, 1)]
    high = [_number(max(b[k] for b in boxes)) for k in (2, 3)]
    descriptor.FontBBox = pikepdf.Array([*low, *high])
    first.ToUnicode = pikepdf.Stream(pdf, _cmap(first.ToUnicode.read_bytes(), text))


def _merged(datas: list[bytes], used: list[list[int]]) -> tuple[int, bytes]:
    """The font programs `datas` (OpenType CFF subsets keeping glyph IDs, with outlines for the glyph IDs
    in `used`) as one: which of them it extends, and its bytes. Raises _Disagree if they conflict."""
    from fontTools.ttLib import TTFont

    try:  # recalcTimestamp off: saving must not write the time into head.modified (equal bytes);
        programs = [
            TTFont(
                io.BytesIO(data),
                recalcTimestamp=False,
                recalcBBoxes=False,  # set below from the members' own: recomputing runs every outline (0.6 s)
            )
            for data in datas
        ]
        if any("CFF " not in program or "hmtx" not in program for program in programs):
            raise _Disagree
        # HarfBuzz keeps the glyph IDs up to the highest one a subset uses: the longest glyph order holds
        # the others' as its start, so its font is the one the group folds into.
        longest = max(range(len(programs)), key=lambda k: (len(programs[k].getGlyphOrder()), -k))
        base = programs[longest]
        order = base.getGlyphOrder()
        top = _top(base)
        outlines = top.CharStrings
        metrics = base["hmtx"].metrics
        have = set(used[longest])
        for k, other in enumerate(programs):
            theirs = other.getGlyphOrder()
            if theirs != order[: len(theirs)] or _top(other).Private.rawDict != top.Private.rawDict:
                raise _Disagree
            if k == longest:
                continue
            # The glyphs a subset has outlines for are the CIDs its /W lists (WeasyPrint lists every glyph
            # it shows); its other glyph IDs are kept empty. Only those are compared or copied, unparsed.
            strings = _top(other).CharStrings
            for cid in used[k]:
                if cid >= len(theirs):
                    raise _Disagree
                glyph = order[cid]
                if cid in have:
                    if (
                        _code(outlines[glyph]) != _code(strings[glyph])
                        or metrics[glyph] != other["hmtx"].metrics[glyph]
                    ):
                        raise _Disagree
                    continue
                charstring = strings[glyph]
                charstring.private, charstring.globalSubrs = top.Private, top.GlobalSubrs
                outlines[glyph] = charstring
                metrics[glyph] = other["hmtx"].metrics[glyph]
                have.add(cid)
            for table in base["cmap"].tables:  # the cmap too, so the program stays one font (PDF readers go by CID)
                for sub in other["cmap"].tables:
                    if (sub.platformID, sub.platEncID) == (table.platformID, table.platEncID):
                        for code, name in sub.cmap.items():
                            table.cmap.setdefault(code, name)
        head = base["head"]
        head.xMin, head.yMin = min(p["head"].xMin for p in programs), min(p["head"].yMin for p in programs)
        head.xMax, head.yMax = max(p["head"].xMax for p in programs), max(p["head"].yMax for p in programs)
        corners = [_top(p).FontBBox for p in programs]
        top.FontBBox = [*(min(b[k] for b in corners) for k in (0, 1)), *(max(b[k] for b in corners) for k in (2, 3))]
        base["hhea"].advanceWidthMax = max(p["hhea"].advanceWidthMax for p in programs)
        out = io.BytesIO()
        base.save(out)
    except (OSError, ValueError, KeyError, TypeError, AssertionError, IndexError) as exc:  # not a font we know
        raise _Disagree from exc
    return longest, out.getvalue()


class Folded:
    """Merged font programs by content (see _fold): this process's (watch, serve) and, given one, the
    build cache's (kind "pdffont"), so an edit that changes no piece's glyph set folds nothing again."""

    _here: dict[str, bytes] = {}  # noqa: RUF012 - one per process, on purpose
    KEEP = 64

    def __init__(self, cache: Cache | None = None):
        self.cache = cache

    def get(self, key: str) -> bytes | None:
        entry = self._here.get(key)
        if entry is None and self.cache is not None:
            entry = self.cache.get("pdffont", key)
            if entry is not None:
                self._keep(key, entry)
        return entry

    def put(self, key: str, entry: bytes) -> None:
        self._keep(key, entry)
        if self.cache is not None:
            self.cache.put("pdffont", key, entry)

    def _keep(self, key: str, entry: bytes) -> None:
        self._here.pop(key, None)
        self._here[key] = entry
        while len(self._here) > self.KEEP:
            del self._here[next(iter(self._here))]


def _top(program: Any) -> Any:
    cff = program["CFF "].cff
    return cff[cff.fontNames[0]]


def _code(charstring: Any) -> bytes:
    if charstring.bytecode is None:
        charstring.compile()
    return bytes(charstring.bytecode)


def _widths(font: Any, pikepdf: Any) -> dict[int, float]:
    """CID -> width of a font's /W (both forms: c [w ...] and c_first c_last w)."""
    widths: dict[int, float] = {}
    items = list(font.DescendantFonts[0].get("/W", []))
    k = 0
    while k < len(items):
        first = int(items[k])
        if k + 1 < len(items) and isinstance(items[k + 1], pikepdf.Array):
            entries = {first + n: float(w) for n, w in enumerate(items[k + 1])}
            k += 2
        else:
            last, width = int(items[k + 1]), float(items[k + 2])
            entries = dict.fromkeys(range(first, last + 1), width)
            k += 3
        _add(widths, entries)
    return widths


def _union(each: Iterable[dict[int, float]]) -> dict[int, float]:
    """The fonts' widths together, the first font's where two round a glyph's advance apart."""
    merged: dict[int, float] = {}
    for widths in each:
        _add(merged, widths)
    return merged


def _add(widths: dict[int, float], entries: dict[int, float]) -> None:
    """Add `entries` to `widths`; a CID already there may differ by 1/1000 em at most (as pieces round it)."""
    for cid, width in entries.items():
        if abs(widths.setdefault(cid, width) - width) > WIDTH_TOLERANCE:
            raise _Disagree


def _w_array(widths: dict[int, float]) -> list[Any]:
    import pikepdf

    out: list[Any] = []
    run: list[float] = []
    start = previous = None
    for cid in sorted(widths):
        if previous is not None and cid == previous + 1:
            run.append(widths[cid])
        else:
            if start is not None:
                out += [start, pikepdf.Array([_number(w) for w in run])]
            start, run = cid, [widths[cid]]
        previous = cid
    if start is not None:
        out += [start, pikepdf.Array([_number(w) for w in run])]
    return out


def _number(value: float) -> int | float:
    return int(value) if value == int(value) else value


def _text(fonts: Iterable[Any]) -> dict[bytes, bytes]:
    """CID -> text (hex) of every font's /ToUnicode, which must be plain bfchar tables."""
    merged: dict[bytes, bytes] = {}
    for font in fonts:
        data = font.ToUnicode.read_bytes()
        if b"beginbfrange" in data or _HEADER_END not in data:
            raise _Disagree
        for code, text in _BFCHAR.findall(data.split(_HEADER_END, 1)[1]):
            if merged.setdefault(code.lower(), text.lower()) != text.lower():
                raise _Disagree
    return merged


def _cmap(template: bytes, text: dict[bytes, bytes]) -> bytes:
    """A ToUnicode CMap like `template` (WeasyPrint's), with the bfchar entries of `text`."""
    head = template.split(_HEADER_END, 1)[0].rsplit(b"\n", 1)[0]
    tail = template.rsplit(b"endbfchar", 1)[1]  # after the last of its blocks (WeasyPrint writes 100 a block)
    lines = []
    items = sorted(text.items())
    for k in range(0, len(items), 100):  # a CMap's bfchar blocks hold at most 100 entries
        block = items[k : k + 100]
        lines.append(b"%d beginbfchar" % len(block))
        lines += [b"<" + code + b"> <" + value + b">" for code, value in block]
        lines.append(b"endbfchar")
    return head + b"\n" + b"\n".join(lines) + tail
