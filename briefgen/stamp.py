"""Turn the finished brief PDF into a copy marked for one client, optionally encrypted.

The brief is not rendered again: each page gets one more content stream that draws the line
"Prepared for <name>, <firm> · <date> · not for redistribution" over what is already there. The
line is set in the bundled Inter font, embedded as a subset holding only the characters a run's
clients need (built once per run), so names in Latin, Greek or Cyrillic script print as written
and pypdf or any reader extracts them as text.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.constants import UserAccessPermissions
from pypdf.errors import PyPdfError
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    EncodedStreamObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    RectangleObject,
    StreamObject,
    TextStringObject,
    create_string_object,
)

from briefgen.errors import DistributionError
from briefgen.pdfcopy import CopyTemplate

FONT_PATH = Path(__file__).resolve().parent / "fonts" / "Inter-Regular.otf"
FONT_RESOURCE = "/BriefgenStamp"
FONT_SIZE = 7.0
MIN_FONT_SIZE = 4.0
SIDE_MARGIN = 28.0  # points kept clear left and right of the line
BASELINE = 12.0  # points above the page's visible bottom edge, below any usual footer
GREY = 0.35
# Readers may print and extract text (for accessibility); changing the copy needs the owner
# password, which is random and thrown away.
PERMISSIONS = int(
    UserAccessPermissions.PRINT
    | UserAccessPermissions.PRINT_TO_REPRESENTATION
    | UserAccessPermissions.EXTRACT
    | UserAccessPermissions.EXTRACT_TEXT_AND_GRAPHICS
) | 0x7FFFF0C0  # the bits the standard reserves as 1 (bit 32 stays 0, as pypdf writes P unsigned)


def stamp_text(name_and_firm: str, day: str) -> str:
    """The line printed on every page of a client's copy."""
    return f"Prepared for {name_and_firm} \u00b7 {day} \u00b7 not for redistribution"


@lru_cache(maxsize=1)
def _font_cmap() -> dict[int, str]:
    from fontTools.ttLib import TTFont

    with TTFont(FONT_PATH, lazy=True) as font:
        return dict(font.getBestCmap())


def unsupported_characters(text: str) -> str:
    """The characters of text that the stamp font cannot draw, in order of first appearance."""
    cmap = _font_cmap()
    return "".join(dict.fromkeys(ch for ch in text if ord(ch) not in cmap))


@dataclass(frozen=True)
class StampFont:
    """A subset of Inter holding the characters of a run's stamps, ready to embed in each copy."""

    program: bytes  # the subset OpenType (CFF) font, Flate-compressed
    to_unicode: bytes  # the CMap from glyph ids back to text, Flate-compressed
    glyphs: Mapping[str, int]
    widths: tuple[float, ...]  # advance of each glyph id, in thousandths of an em
    base_name: str
    bbox: tuple[float, float, float, float]
    ascent: float
    descent: float
    cap_height: float

    @classmethod
    def for_texts(cls, texts: Iterable[str]) -> StampFont:
        """Subset the stamp font to the characters of texts; raise if one cannot be drawn."""
        from fontTools import subset
        from fontTools.ttLib import TTFont

        chars = set("".join(texts)) | {" ", "?"}
        missing = unsupported_characters("".join(sorted(chars)))
        if missing:
            raise DistributionError(f"the stamp font has no glyph for {missing!r}")
        options = subset.Options()
        options.layout_features = []  # one glyph per character: no shaping, no kerning
        options.name_IDs = [1, 2, 3, 4, 6]
        options.notdef_outline = True
        options.desubroutinize = True
        options.hinting = False
        font = TTFont(io.BytesIO(FONT_PATH.read_bytes()))
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=[ord(ch) for ch in chars])
        subsetter.subset(font)
        buffer = io.BytesIO()
        font.save(buffer)
        program = buffer.getvalue()

        scale = 1000 / font["head"].unitsPerEm
        order = font.getGlyphOrder()
        gid = {name: index for index, name in enumerate(order)}
        glyphs = {chr(code): gid[name] for code, name in font.getBestCmap().items()}
        advances = font["hmtx"].metrics
        widths = tuple(round(advances[name][0] * scale, 2) for name in order)
        head, hhea, os2 = font["head"], font["hhea"], font["OS/2"]
        # A subset's name starts with six capitals that tell subsets apart (PDF 32000, 9.9.2).
        tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(program).digest()[:6])
        return cls(
            program=zlib.compress(program, 6),
            to_unicode=zlib.compress(_to_unicode_cmap(glyphs), 6),
            glyphs=glyphs,
            widths=widths,
            base_name=f"{tag}+{font['name'].getDebugName(6) or 'Inter-Regular'}",
            bbox=tuple(round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)),
            ascent=round(hhea.ascent * scale),
            descent=round(hhea.descent * scale),
            cap_height=round(getattr(os2, "sCapHeight", hhea.ascent) * scale),
        )

    def width(self, text: str, size: float) -> float:
        """The width of text set at size points, in points."""
        fallback = self.glyphs["?"]
        return sum(self.widths[self.glyphs.get(ch, fallback)] for ch in text) * size / 1000

    def encode(self, text: str) -> bytes:
        """Text as a PDF hex string of two-byte glyph ids (Identity-H)."""
        fallback = self.glyphs["?"]
        return b"<" + "".join(f"{self.glyphs.get(ch, fallback):04x}" for ch in text).encode() + b">"


def _to_unicode_cmap(glyphs: Mapping[str, int]) -> bytes:
    lines = [
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
        "1 begincodespacerange", "<0000> <ffff>", "endcodespacerange",
    ]
    pairs = sorted({gid: ch for ch, gid in sorted(glyphs.items(), reverse=True)}.items())
    for start in range(0, len(pairs), 100):
        batch = pairs[start:start + 100]
        lines.append(f"{len(batch)} beginbfchar")
        lines.extend(f"<{gid:04x}> <{ch.encode('utf-16-be').hex()}>" for gid, ch in batch)
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")


class Stamper:
    """Make marked copies of one brief: parse it once, then stamp as many copies as needed."""

    def __init__(self, pdf: bytes, font: StampFont):
        try:
            # strict: a truncated or damaged brief is refused rather than repaired and sent to everyone
            self._reader = PdfReader(io.BytesIO(pdf), strict=True)
            if self._reader.is_encrypted:
                raise DistributionError("the brief is encrypted; distribute the unencrypted build output")
            self.page_count = len(self._reader.pages)
        except PyPdfError as exc:
            raise DistributionError(f"the brief is not a readable PDF ({exc})") from None
        if self.page_count == 0:
            raise DistributionError("the brief has no pages")
        if any(FONT_RESOURCE in (_inherited(p, "/Resources") or {}).get("/Font", {}) for p in self._reader.pages):
            raise DistributionError("this PDF is already a client's marked copy; distribute the brief itself")
        self.font = font
        self.title = _title(self._reader)
        self._template, self._stamps, self._info = self._template_copy()

    @staticmethod
    def title_of(pdf: bytes) -> str | None:
        """The brief's title from its metadata, on one line."""
        try:
            return _title(PdfReader(io.BytesIO(pdf), strict=True))
        except PyPdfError as exc:
            raise DistributionError(f"the brief is not a readable PDF ({exc})") from None

    def copy(self, text: str, metadata: Mapping[str, str], password: str | None = None) -> bytes:
        """Return the brief with text stamped on every page, metadata added, encrypted if password."""
        replace: dict[int, PdfObject] = {}
        for idnum, frame in self._stamps.items():
            stream = DecodedStreamObject()
            stream.set_data(self._stamp_content(text, frame))
            replace[idnum] = stream
        info = DictionaryObject(self._info)
        for key, value in metadata.items():
            info[NameObject(key)] = create_string_object(value)
        replace[self._template.info] = info
        return self._template.copy(replace, password, PERMISSIONS)

    def _template_copy(self) -> tuple[CopyTemplate, dict[int, tuple[float, ...]], DictionaryObject]:
        """Write the brief once with the stamp font and an empty stamp stream per page frame.

        Each copy then only replaces those streams and the metadata (see pdfcopy.py).
        """
        writer = PdfWriter(clone_from=self._reader, keep_initial_header=True)
        font_ref = self._add_font(writer)
        opening = _stream(writer, b"q\n")
        closings: dict[tuple[float, ...], IndirectObject] = {}
        for page in writer.pages:
            frame = _visible_frame(page)
            if frame not in closings:
                closings[frame] = _stream(writer, b"\nQ\n")
            contents = page.get("/Contents")
            contents = contents.get_object() if contents is not None else ArrayObject()
            parts = list(contents) if isinstance(contents, ArrayObject) else [page.raw_get("/Contents")]
            page[NameObject("/Contents")] = ArrayObject([opening, *parts, closings[frame]])
            page[NameObject("/Resources")] = _resources_with_font(page, font_ref)
        writer.add_metadata({"/Producer": (self._reader.metadata or {}).get("/Producer", "briefgen")})
        out = io.BytesIO()
        writer.write(out)
        template = CopyTemplate(out.getvalue())
        stamps = {page.raw_get("/Contents")[-1].idnum: _visible_frame(page) for page in template.reader.pages}
        if template.info is None:
            raise DistributionError("the brief's copy has no metadata dictionary")
        return template, stamps, template.reader.get_object(template.info)

    def _stamp_content(self, text: str, frame: tuple[float, ...]) -> bytes:
        a, b, c, d, e, f, width = frame
        size = FONT_SIZE
        room = max(width - 2 * SIDE_MARGIN, 50.0)
        if self.font.width(text, size) > room:
            size = max(MIN_FONT_SIZE, size * room / self.font.width(text, size))
        x = max((width - self.font.width(text, size)) / 2, 4.0)
        return (
            f"\nQ\nq {a:g} {b:g} {c:g} {d:g} {e:.2f} {f:.2f} cm {GREY} g BT {FONT_RESOURCE} {size:.2f} Tf "
            f"{x:.2f} {BASELINE:.2f} Td "
        ).encode() + self.font.encode(text) + b" Tj ET Q\n"

    def _add_font(self, writer: PdfWriter) -> IndirectObject:
        font = self.font
        program = _encoded(font.program, {"/Subtype": NameObject("/OpenType")})
        to_unicode = _encoded(font.to_unicode, {})
        descriptor = DictionaryObject({
            NameObject("/Type"): NameObject("/FontDescriptor"),
            NameObject("/FontName"): NameObject("/" + font.base_name),
            NameObject("/Flags"): NumberObject(32),  # nonsymbolic
            NameObject("/FontBBox"): ArrayObject(NumberObject(v) for v in font.bbox),
            NameObject("/ItalicAngle"): NumberObject(0),
            NameObject("/Ascent"): NumberObject(font.ascent),
            NameObject("/Descent"): NumberObject(font.descent),
            NameObject("/CapHeight"): NumberObject(font.cap_height),
            NameObject("/StemV"): NumberObject(80),
            NameObject("/FontFile3"): writer._add_object(program),
        })
        # CIDs are glyph ids of the embedded CFF program, as WeasyPrint embeds the same font.
        cid_font = DictionaryObject({
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/CIDFontType0"),
            NameObject("/BaseFont"): NameObject("/" + font.base_name),
            NameObject("/CIDSystemInfo"): DictionaryObject({
                NameObject("/Registry"): TextStringObject("Adobe"),
                NameObject("/Ordering"): TextStringObject("Identity"),
                NameObject("/Supplement"): NumberObject(0),
            }),
            NameObject("/FontDescriptor"): writer._add_object(descriptor),
            NameObject("/W"): ArrayObject([NumberObject(0), ArrayObject(FloatObject(w) for w in font.widths)]),
        })
        type0 = DictionaryObject({
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type0"),
            NameObject("/BaseFont"): NameObject("/" + font.base_name),
            NameObject("/Encoding"): NameObject("/Identity-H"),
            NameObject("/DescendantFonts"): ArrayObject([writer._add_object(cid_font)]),
            NameObject("/ToUnicode"): writer._add_object(to_unicode),
        })
        # pypdf has no public way to add a bare object; _add_object is stable in the pinned 7.1.
        return writer._add_object(type0)


def _title(reader: PdfReader) -> str | None:
    title = (reader.metadata or {}).get("/Title")
    return " ".join(str(title).split()) or None if title else None


def _encoded(data: bytes, extra: Mapping[str, PdfObject]) -> EncodedStreamObject:
    stream = EncodedStreamObject()
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    for key, value in extra.items():
        stream[NameObject(key)] = value
    stream._data = data  # already Flate-compressed, once per run
    return stream


def _stream(writer: PdfWriter, data: bytes) -> IndirectObject:
    stream = StreamObject()
    stream.set_data(data)
    return writer._add_object(stream)


def _inherited(page: DictionaryObject, key: str) -> PdfObject | None:
    node: DictionaryObject | None = page
    while node is not None:
        if key in node:
            return node[key].get_object()
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
    return None


def _resources_with_font(page: DictionaryObject, font_ref: IndirectObject) -> DictionaryObject:
    """A page-own copy of its (maybe shared or inherited) resources, with the stamp font added.

    The copy is shallow: other pages' resources and the objects they point to stay untouched.
    """
    resources = _inherited(page, "/Resources")
    merged = DictionaryObject(resources) if isinstance(resources, DictionaryObject) else DictionaryObject()
    fonts = merged.get("/Font")
    fonts = DictionaryObject(fonts.get_object()) if fonts is not None else DictionaryObject()
    fonts[NameObject(FONT_RESOURCE)] = font_ref
    merged[NameObject("/Font")] = fonts
    return merged


def _visible_frame(page: DictionaryObject) -> tuple[float, ...]:
    """The matrix from the visible page (bottom-left at 0, 0, after /Rotate) to user space, and its width."""
    box = _inherited(page, "/CropBox") or _inherited(page, "/MediaBox")
    x0, y0, x1, y1 = (float(v) for v in RectangleObject(box)) if box is not None else (0.0, 0.0, 612.0, 792.0)
    x0, x1 = min(x0, x1), max(x0, x1)
    y0, y1 = min(y0, y1), max(y0, y1)
    rotate = int(_inherited(page, "/Rotate") or 0) % 360
    if rotate == 90:
        return (0, 1, -1, 0, x1, y0, y1 - y0)
    if rotate == 180:
        return (-1, 0, 0, -1, x1, y1, x1 - x0)
    if rotate == 270:
        return (0, -1, 1, 0, x0, y1, y1 - y0)
    return (1, 0, 0, 1, x0, y0, x1 - x0)
