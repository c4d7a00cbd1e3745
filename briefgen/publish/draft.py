"""Turn the finished brief (PDF and HTML) into its draft: the same pages with a visible draft mark.

A build renders the brief once, without any mark: that is what `briefgen publish` later archives
and sends. The draft written to OUTPUT/brief.pdf is the same PDF with one more content stream on
each page: a large diagonal "DRAFT" in translucent red across the page and a red tab at the top edge
reading "DRAFT - NOT FOR DISTRIBUTION". The letters are drawn as outlines of the bundled Inter Bold
(no font is embedded or changed) inside an /Artifact marked-content sequence, so screen readers of
a tagged PDF skip them. The HTML gets a banner at the top and, on screen, the same diagonal word
(the `.briefgen-draft` rules of brief.css; the published HTML has no such element).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from functools import lru_cache
from pathlib import Path

from briefgen.resources import FONTS_DIR

MARK_TEXT = "DRAFT - not for distribution"
BANNER = MARK_TEXT.upper()  # set in capitals on the tab
WATERMARK = "DRAFT"
RED = (0.70, 0.09, 0.12)
WATERMARK_OPACITY = 0.11
BANNER_SIZE = 7.0  # points: the words on the tab at the top edge
GSTATE = "/BriefgenDraftGS"
PUBLISHABLE = ".publishable"  # in the output folder: the brief as rendered, without the mark (what publish archives)
ARTIFACT = b"/Artifact <</Type /Pagination /Subtype /Watermark>> BDC\n"


@lru_cache(maxsize=1)
def _font():
    from fontTools.ttLib import TTFont

    font = TTFont(FONTS_DIR / "Inter-Bold.otf")
    return font, font.getGlyphSet(), font.getBestCmap(), font["head"].unitsPerEm


def _outline(text: str, size: float, x: float, y: float, angle: float = 0.0) -> tuple[bytes, float]:
    """PDF path operators drawing `text` at (x, y), `size` points, turned by `angle` degrees; its width."""
    from fontTools.pens.basePen import BasePen
    from fontTools.pens.transformPen import TransformPen

    _, glyphs, cmap, upm = _font()
    scale = size / upm
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    ops: list[str] = []

    class PdfPen(BasePen):
        def _moveTo(self, p):
            ops.append(f"{p[0]:.2f} {p[1]:.2f} m")

        def _lineTo(self, p):
            ops.append(f"{p[0]:.2f} {p[1]:.2f} l")

        def _curveToOne(self, a, b, c):
            ops.append(f"{a[0]:.2f} {a[1]:.2f} {b[0]:.2f} {b[1]:.2f} {c[0]:.2f} {c[1]:.2f} c")

        def _closePath(self):
            ops.append("h")

    pen = PdfPen(glyphs)
    advance = 0.0
    for char in text:
        name = cmap.get(ord(char), ".notdef")
        glyph = glyphs[name]
        dx = advance * scale
        # font units -> points, along the baseline turned by `angle`, from (x, y)
        transform = (scale * cos, scale * sin, -scale * sin, scale * cos, x + dx * cos, y + dx * sin)
        glyph.draw(TransformPen(pen, transform))
        advance += glyph.width
    return ("\n".join(ops) + "\n").encode(), advance * scale


def text_width(text: str, size: float) -> float:
    _, glyphs, cmap, upm = _font()
    return sum(glyphs[cmap.get(ord(c), ".notdef")].width for c in text) * size / upm


def _mark_stream(x0: float, y0: float, width: float, height: float) -> bytes:
    """The draft mark for a page whose visible frame starts at (x0, y0) and is width x height points."""
    r, g, b = RED
    diagonal = math.degrees(math.atan2(height, width))
    size = min(width, height) * 0.27
    word = text_width(WATERMARK, size)
    cx, cy = x0 + width / 2, y0 + height / 2
    # Start the word so that its middle (half its width along the diagonal, half its cap height across) is the centre.
    cap = size * 0.727  # Inter's cap height is 0.727 em
    angle = math.radians(diagonal)
    sx = cx - (word / 2) * math.cos(angle) + (cap / 2) * math.sin(angle)
    sy = cy - (word / 2) * math.sin(angle) - (cap / 2) * math.cos(angle)
    big, _ = _outline(WATERMARK, size, sx, sy, diagonal)
    # The banner: a red tab hanging from the top edge, the words in white; it reads on a white
    # page and on the cover's dark house band alike.
    banner_width = text_width(BANNER, BANNER_SIZE)
    tab_w, tab_h = banner_width + 16.0, BANNER_SIZE + 7.0
    tab_x, tab_y = x0 + (width - tab_w) / 2, y0 + height - tab_h
    line, _ = _outline(BANNER, BANNER_SIZE, tab_x + 8.0, tab_y + 4.2)
    return b"".join(
        [
            b"q\n",
            ARTIFACT,
            f"{GSTATE} gs {r} {g} {b} rg\n".encode(),
            big,
            b"f\nEMC\nQ\n",
            b"q\n",
            ARTIFACT,
            f"{r} {g} {b} rg {tab_x:.2f} {tab_y:.2f} {tab_w:.2f} {tab_h:.2f} re f\n".encode(),
            b"1 1 1 rg\n",
            line,
            b"f\nEMC\nQ\n",
        ]
    )


def mark_pdf(pdf: bytes) -> bytes:
    """The draft: each page of `pdf` with the draft mark drawn over it; nothing else changed.

    pikepdf (qpdf) adds the mark through its public API: a content stream before the page's own
    (`q`) and one after (`Q` and the mark, so the mark starts from the default graphics state), and
    the mark's translucency as an /ExtGState in the page's resources. The file is written anew with
    an /ID computed from its content: equal PDFs, equal drafts.
    """
    import pikepdf  # here: `briefgen build` with nothing changed imports no PDF library

    from briefgen.pdf.merge import save_anew

    doc = pikepdf.open(io.BytesIO(pdf))
    gstate = doc.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, ca=WATERMARK_OPACITY, CA=WATERMARK_OPACITY)
    )
    marks: dict[tuple[float, ...], pikepdf.Stream] = {}  # one stream per page size, shared by the pages
    for page in doc.pages:
        box = page.cropbox
        frame = (float(box[0]), float(box[1]), float(box[2]) - float(box[0]), float(box[3]) - float(box[1]))
        if frame not in marks:
            marks[frame] = pikepdf.Stream(doc, b"\nQ\n" + _mark_stream(*frame))
        resources = page.obj.get("/Resources")
        if resources is None:
            page.obj.Resources = resources = pikepdf.Dictionary()
        if "/ExtGState" not in resources:
            resources.ExtGState = pikepdf.Dictionary()
        resources.ExtGState[GSTATE] = gstate
        page.contents_add(pikepdf.Stream(doc, b"q\n"), prepend=True)
        page.contents_add(marks[frame], prepend=False)
    return save_anew(doc)


BANNER_STYLE = (
    "margin:0;padding:4px 0;background:#b3171f;color:#fff;text-align:center;font:600 12px/1.4 Inter,"
    "sans-serif;letter-spacing:0.08em;text-transform:uppercase"
)
_BODY = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def mark_html(html: str) -> str:
    """The draft's HTML: a red banner saying it is a draft, right after <body>.

    Its colours are in the element itself, so it shows wherever the HTML is opened; brief.css adds
    the diagonal word where the stylesheet is found.
    """
    banner = f'<p class="briefgen-draft" role="note" style="{BANNER_STYLE}"><strong>{MARK_TEXT}</strong></p>\n'
    body = _BODY.search(html)
    if body is None:  # an override without <body>: the banner still opens the document
        return banner + html
    return html[: body.end()] + "\n" + banner + html[body.end() :]


def keep_publishable(stage: Path, html: str, publication: dict, cache) -> None:
    """Keep the brief as rendered (no mark) for `briefgen publish`; make brief.pdf and brief.html its draft.

    The draft PDF is the rendered one with the mark drawn over each page (mark_pdf), cached
    by the rendered PDF's digest, so an unchanged brief is not marked again.
    """
    from briefgen.files import write_atomic
    from briefgen.store.cache import digest

    final = stage / PUBLISHABLE
    final.mkdir()
    (stage / "brief.pdf").replace(final / "brief.pdf")
    (stage / "brief.html").replace(final / "brief.html")
    write_atomic(final / "brief.json", json.dumps(publication, indent=1, sort_keys=True, ensure_ascii=False).encode())
    rendered = (final / "brief.pdf").read_bytes()
    key = digest("draft", hashlib.sha256(rendered).hexdigest())
    draft = cache.get("draft", key)
    if draft is None:
        draft = mark_pdf(rendered)
        cache.put("draft", key, draft)
    write_atomic(stage / "brief.pdf", draft)
    write_atomic(stage / "brief.html", mark_html(html).encode("utf-8"))
