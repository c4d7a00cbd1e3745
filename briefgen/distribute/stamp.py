"""Turn the finished brief PDF into a copy marked for one client, optionally encrypted.

The brief is not rendered again: each page gets one more content stream that draws the line
"Prepared for <name>, <firm> · <date> · not for redistribution" over what is already there. The
line is set in the bundled Inter font, embedded as a subset holding only the characters a run's
clients need (built once per run), so names in Latin, Greek or Cyrillic script print as written
and any reader extracts them as text. The same stream may carry an invisible mark (a marked-content
point, see trace.py) that names the delivery even after the copy's metadata is stripped.

The PDF work is pikepdf's (qpdf): the brief is opened once, the stamp font and one stamp stream per
page frame are added once, and each copy only rewrites those streams and the document information,
then saves; qpdf copies every other object's bytes through and encrypts with AES-256 (R6).
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf, Stream, String

from briefgen.errors import DistributionError
from briefgen.resources import FONTS_DIR

FONT_PATH = FONTS_DIR / "Inter-Regular.otf"
FONT_RESOURCE = "/BriefgenStamp"
MARK_PROPERTY = "/BriefgenMark"  # the tag of the marked-content point holding a copy's trace mark
MARK_CHARACTERS = re.compile(r"[A-Za-z0-9.:_-]{1,200}")  # written as a PDF literal string unescaped
FONT_SIZE = 7.0
MIN_FONT_SIZE = 4.0
SIDE_MARGIN = 28.0  # points kept clear left and right of the line
BASELINE = 12.0  # points above the page's visible bottom edge, below any usual footer
GREY = 0.35
# Readers may print and extract text (for accessibility); changing the copy needs the owner
# password, which is random and thrown away.
PERMISSIONS = pikepdf.Permissions(
    accessibility=True,
    extract=True,
    print_lowres=True,
    print_highres=True,
    modify_annotation=False,
    modify_assembly=False,
    modify_form=False,
    modify_other=False,
)
# Plain copies: every stream's bytes copied through as they are (already compressed by WeasyPrint),
# the same bytes for the same copy (the /ID is a hash of the content, not of the time).
_PLAIN_SAVE = {
    "deterministic_id": True,
    "fix_metadata_version": False,
    "compress_streams": False,
    "stream_decode_level": pikepdf.StreamDecodeLevel.none,
}


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
        # The font's own head.modified, not the time of the run: the same texts give the same program.
        font = TTFont(io.BytesIO(FONT_PATH.read_bytes()), recalcTimestamp=False)
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
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <ffff>",
        "endcodespacerange",
    ]
    pairs = sorted({gid: ch for ch, gid in sorted(glyphs.items(), reverse=True)}.items())
    for start in range(0, len(pairs), 100):
        batch = pairs[start : start + 100]
        lines.append(f"{len(batch)} beginbfchar")
        lines.extend(f"<{gid:04x}> <{ch.encode('utf-16-be').hex()}>" for gid, ch in batch)
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")


class Stamper:
    """Make marked copies of one brief: open it once, then stamp as many copies as needed."""

    def __init__(self, pdf: bytes, font: StampFont):
        self._pdf = _open(pdf)
        self.page_count = len(self._pdf.pages)
        if self.page_count == 0:
            raise DistributionError("the brief has no pages")
        # pikepdf pushes inherited attributes (/Resources, boxes, /Rotate) down to each page on opening.
        if any(
            FONT_RESOURCE in page.obj.get("/Resources", Dictionary()).get("/Font", Dictionary())
            for page in self._pdf.pages
        ):
            raise DistributionError("this PDF is already a client's marked copy; distribute the brief itself")
        self.font = font
        self.title = _title(self._pdf)
        self._info: dict[str, pikepdf.Object] = dict(self._pdf.docinfo.items())
        self._stamps = self._prepare()

    @staticmethod
    def title_of(pdf: bytes) -> str | None:
        """The brief's title from its metadata, on one line."""
        with _open(pdf) as document:
            return _title(document)

    def copy(
        self, text: str, metadata: Mapping[str, str], password: str | None = None, mark: str | None = None
    ) -> bytes:
        """Return the brief with text stamped on every page, metadata added, encrypted if password.

        mark, if given, goes into every page's stamp as an invisible marked-content point.
        """
        if mark is not None and not MARK_CHARACTERS.fullmatch(mark):
            raise ValueError(f"a trace mark is letters, digits and .:_- only, not {mark!r}")
        for stream, frame in self._stamps:
            stream.write(self._stamp_content(text, frame, mark))
        info = self._pdf.docinfo  # one object for every copy, so the document does not grow copy by copy
        for name in sorted(info.keys() - self._info.keys()):
            del info[name]
        for name, value in self._info.items():
            info[name] = value
        for key, text in metadata.items():
            info[Name(key)] = String(text)
        out = io.BytesIO()
        try:
            if password:
                # Every copy gets its own random file key and salts; the owner password is thrown away.
                encryption = pikepdf.Encryption(
                    owner=secrets.token_urlsafe(16), user=password, R=6, allow=PERMISSIONS, aes=True, metadata=True
                )
                self._pdf.save(out, fix_metadata_version=False, encryption=encryption)
            else:
                self._pdf.save(out, **_PLAIN_SAVE)
        except pikepdf.PdfError as exc:  # an object qpdf only reads now, when the copy is written
            raise DistributionError(f"the brief is not a readable PDF ({pdf_error_reason(exc)})") from None
        return out.getvalue()

    def _prepare(self) -> list[tuple[Stream, tuple[float, ...]]]:
        """Add the stamp font, and around every page's content a save/restore and a stamp stream.

        Pages with the same visible frame share one stamp stream; each copy rewrites only those.
        """
        pdf = self._pdf
        font_ref = self._add_font()
        opening = pdf.make_stream(b"q\n")
        stamps: dict[tuple[float, ...], Stream] = {}
        for page in pdf.pages:
            frame = _visible_frame(page)
            if frame not in stamps:
                stamps[frame] = pdf.make_stream(b"\nQ\n")
            # The page's own drawing runs between q and Q, so the stamp starts from a clean state.
            page.contents_add(opening, prepend=True)
            page.contents_add(stamps[frame])
            page.add_resource(font_ref, Name.Font, Name(FONT_RESOURCE))
        return [(stream, frame) for frame, stream in stamps.items()]

    def _stamp_content(self, text: str, frame: tuple[float, ...], mark: str | None) -> bytes:
        a, b, c, d, e, f, width = frame
        size = FONT_SIZE
        room = max(width - 2 * SIDE_MARGIN, 50.0)
        if self.font.width(text, size) > room:
            size = max(MIN_FONT_SIZE, size * room / self.font.width(text, size))
        x = max((width - self.font.width(text, size)) / 2, 4.0)
        # The stamp is an artifact (not part of the document's logical content) for tagged-PDF readers.
        point = f"{MARK_PROPERTY} <</ID ({mark})>> DP " if mark else ""
        return (
            (
                f"\nQ\nq {a:g} {b:g} {c:g} {d:g} {e:.2f} {f:.2f} cm /Artifact <</Type /Pagination>> BDC {point}"
                f"{GREY} g BT {FONT_RESOURCE} {size:.2f} Tf {x:.2f} {BASELINE:.2f} Td "
            ).encode()
            + self.font.encode(text)
            + b" Tj ET EMC Q\n"
        )

    def _add_font(self) -> pikepdf.Object:
        pdf, font = self._pdf, self.font
        program = pdf.make_stream(b"")
        program.write(font.program, filter=Name.FlateDecode)  # already Flate-compressed, once per run
        program.Subtype = Name.OpenType
        to_unicode = pdf.make_stream(b"")
        to_unicode.write(font.to_unicode, filter=Name.FlateDecode)
        descriptor = pdf.make_indirect(
            Dictionary(
                Type=Name.FontDescriptor,
                FontName=Name("/" + font.base_name),
                Flags=32,  # nonsymbolic
                FontBBox=Array(font.bbox),
                ItalicAngle=0,
                Ascent=font.ascent,
                Descent=font.descent,
                CapHeight=font.cap_height,
                StemV=80,
                FontFile3=program,
            )
        )
        # CIDs are glyph ids of the embedded CFF program, as WeasyPrint embeds the same font.
        cid_font = pdf.make_indirect(
            Dictionary(
                Type=Name.Font,
                Subtype=Name.CIDFontType0,
                BaseFont=Name("/" + font.base_name),
                CIDSystemInfo=Dictionary(Registry=String("Adobe"), Ordering=String("Identity"), Supplement=0),
                FontDescriptor=descriptor,
                W=Array([0, Array(font.widths)]),
            )
        )
        return pdf.make_indirect(
            Dictionary(
                Type=Name.Font,
                Subtype=Name.Type0,
                BaseFont=Name("/" + font.base_name),
                Encoding=Name("/Identity-H"),
                DescendantFonts=Array([cid_font]),
                ToUnicode=to_unicode,
            )
        )


def _open(pdf: bytes) -> Pdf:
    try:
        # No recovery: a truncated or damaged brief is refused rather than repaired and sent to everyone.
        document = Pdf.open(io.BytesIO(pdf), attempt_recovery=False)
    except pikepdf.PasswordError:
        raise DistributionError("the brief is encrypted; distribute the unencrypted build output") from None
    except pikepdf.PdfError as exc:
        raise DistributionError(f"the brief is not a readable PDF ({pdf_error_reason(exc)})") from None
    if document.is_encrypted:
        document.close()
        raise DistributionError("the brief is encrypted; distribute the unencrypted build output")
    return document


def pdf_error_reason(exc: Exception) -> str:
    """qpdf's message without the name it gives the in-memory file ("stream <_io.BytesIO ...>")."""
    message = re.sub(r"^\S+ <[^>]*>\s*", "", str(exc))
    found = re.fullmatch(r"\((offset \d+)\):\s*(.*)", message, re.S)
    if found:
        return f"{found.group(2)} at {found.group(1)}"
    return message.lstrip(": ") or type(exc).__name__


def _title(pdf: Pdf) -> str | None:
    title = pdf.docinfo.get("/Title")
    return " ".join(str(title).split()) or None if title is not None else None


def _visible_frame(page: pikepdf.Page) -> tuple[float, ...]:
    """The matrix from the visible page (bottom-left at 0, 0, after /Rotate) to user space, and its width."""
    x0, y0, x1, y1 = (float(v) for v in page.cropbox)  # the effective crop box: the media box if none
    x0, x1 = min(x0, x1), max(x0, x1)
    y0, y1 = min(y0, y1), max(y0, y1)
    rotate = int(page.obj.get("/Rotate", 0)) % 360
    if rotate == 90:
        return (0, 1, -1, 0, x1, y0, y1 - y0)
    if rotate == 180:
        return (-1, 0, 0, -1, x1, y1, x1 - x0)
    if rotate == 270:
        return (0, -1, 1, 0, x0, y1, y1 - y0)
    return (1, 0, 0, 1, x0, y0, x1 - x0)
