"""Turn the brief's HTML into a PDF file: WeasyPrint, a locked-down URL fetcher, deterministic bytes.

The brief is rendered in pieces, "chunks" (chunks.py), which the templates mark: the cover; sections
1-3; sections 4-5, which run on from section 3's last page; and section 6 to the end. Each is laid
out and cached apart, by content hash (settle.py), so an edit lays out the pieces it touches: a
commentary edit the last, a market-cap cell sections 4-5 and the last. Each piece prints the
numbers of the whole document (figure and section numbers, the contents' page numbers), settled
across pieces; the page numbers are drawn once the pieces are merged into one PDF with the outline
and links in order (merge.py). With `parallel`, a piece renders in a forked process while another
renders or writes. PDF/A-3u and PDF/UA-1, whose XMP and structure tree a merge would break, are
rendered as one document, as is HTML without chunk markers.

Resources come only through the fetcher (fetcher.py): the template folders, the bundled fonts and
the chart folder, by virtual URL. Anything else is refused and reported as a warning; under `strict`
a warning fails the build. WeasyPrint logs instead of raising; its errors (a missing chart or
stylesheet) become PdfError here (weasy.py). WeasyPrint and pikepdf are imported inside functions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from briefgen.errors import PdfError
from briefgen.files import write_atomic
from briefgen.pdf.fetcher import (
    FONTS_DIR,
    MAX_DATA_URL_BYTES,
    MAX_RESOURCE_BYTES,
    VIRTUAL_BASE,
    charts_pending,
    make_url_fetcher,
)
from briefgen.pdf.weasy import font_config
from briefgen.resources import TEMPLATES_DIR, template_folders

if TYPE_CHECKING:
    from briefgen.store.cache import Cache

__all__ = [
    "FONTS_DIR",
    "MAX_DATA_URL_BYTES",
    "MAX_RESOURCE_BYTES",
    "TEMPLATES_DIR",
    "VARIANTS",
    "VIRTUAL_BASE",
    "PdfInfo",
    "PdfMetadata",
    "Variant",
    "charts_pending",
    "font_config",
    "make_url_fetcher",
    "write_pdf",
]

Variant = Literal["pdf/a-3u", "pdf/ua-1"]
VARIANTS: tuple[str, ...] = ("pdf/a-3u", "pdf/ua-1")
LOG = logging.getLogger("briefgen.pdf")


@dataclass(frozen=True)
class PdfMetadata:
    """The PDF's document information. `created` is the brief's as-of date, never the build time."""

    title: str
    authors: tuple[str, ...] = ()
    subject: str = ""
    keywords: tuple[str, ...] = ()
    lang: str = "en-GB"
    created: date | None = None


@dataclass(frozen=True)
class PdfInfo:
    """What was written: page count, size in bytes, the warnings met on the way, and what it cost.

    laid_out: (piece, pages) for every layout WeasyPrint did, in order: a chunk rendered or laid out
    to measure it ("document" for a single-document render); pieces taken from the cache are not
    listed, so an unchanged brief lays out nothing.
    """

    pages: int
    size: int
    warnings: tuple[str, ...] = ()
    laid_out: tuple[tuple[str, int], ...] = ()


def write_pdf(
    html: str,
    base_dir: Path,
    out_path: Path,
    *,
    metadata: PdfMetadata,
    variant: Variant | None = None,
    attachments: Sequence[tuple[Path, str]] = (),
    strict: bool = False,
    template_dirs: tuple[Path, ...] = (),
    cache: Cache | None = None,
    parallel: bool = False,
    drawing: Collection[str] = (),
) -> PdfInfo:
    """Render `html` to `out_path` (atomically) and return its page count, size and warnings.

    base_dir is the build folder: `charts/<name>` in the HTML is served from base_dir/charts.
    template_dirs is the template search path (briefgen.resources.template_folders): the override folder
    (--templates), the sector's templates, the house's; each searched in turn
    for `static/brief.css` and anything else the templates link. None given: template_folders(), the
    default sector's and the house's.
    attachments are embedded as the PDF's sources (PDF/A-3 AFRelationship /Source).
    cache keeps each chunk's PDF by content hash (kinds "pdfchunk" and "pdfmeta"; "pdffont" for the
    merged font programs); the bytes written are the same with or without it. parallel renders a
    chunk in a forked process while another renders or writes (settle.py); the bytes are the same
    either way. drawing names the charts still being drawn (redrawn because their data changed): a
    chunk that showed one is not looked up in the cache, which would wait for the drawing, but laid
    out at once.
    Raises PdfError on WeasyPrint errors (a missing chart, stylesheet or font) and, under strict,
    on any warning (a refused URL, an ignored CSS declaration).
    """
    if variant is not None and variant not in VARIANTS:
        raise PdfError(f"PDF variant {variant!r} is not supported (choose {' or '.join(VARIANTS)})")
    if attachments and variant not in (None, "pdf/a-3u"):
        raise PdfError(f"attachments need PDF/A-3u or no variant, not {variant}")
    chart_dir = Path(base_dir) / "charts"
    template_dirs = tuple(template_dirs) or template_folders()
    if variant is None and not attachments:
        laid_out: list[tuple[str, int]] = []
        data, pages, warnings = _chunked(
            html, chart_dir, metadata, template_dirs, cache, strict, parallel, laid_out, frozenset(drawing)
        )
    else:
        data, pages, warnings = _single(html, chart_dir, metadata, variant, attachments, template_dirs, strict)
        laid_out = [("document", pages)]
    if strict and warnings:
        from briefgen.pdf.weasy import problem_error

        raise problem_error(warnings)
    write_atomic(Path(out_path), data)
    return PdfInfo(pages=pages, size=len(data), warnings=tuple(warnings), laid_out=tuple(laid_out))


def _single(
    html: str,
    chart_dir: Path,
    metadata: PdfMetadata,
    variant: Variant | None,
    attachments: Sequence[tuple[Path, str]],
    template_dirs: tuple[Path, ...],
    strict: bool,
) -> tuple[bytes, int, list[str]]:
    """The whole brief as one WeasyPrint document (PDF/A-3u, PDF/UA-1, or with attachments)."""
    from briefgen.pdf.weasy import attachments as embed
    from briefgen.pdf.weasy import problem_error, render

    options = {
        "pdf_variant": variant,
        "attachments": embed(attachments, metadata.created) or None,
        "uncompressed_pdf": False,
    }
    if variant is None:
        options["pdf_identifier"] = True  # an MD5 of the content: stable for equal content
    result = render(html, chart_dir=chart_dir, template_dirs=template_dirs, options=options, metadata=metadata)
    if result.errors:
        raise problem_error(result.errors + (result.warnings if strict else []))
    assert result.data is not None
    return result.data, result.pages, result.warnings


def _chunked(
    html: str,
    chart_dir: Path,
    metadata: PdfMetadata,
    template_dirs: tuple[Path, ...],
    cache: Cache | None,
    strict: bool,
    parallel: bool,
    laid_out: list[tuple[str, int]],
    drawing: frozenset[str] = frozenset(),
) -> tuple[bytes, int, list[str]]:
    """The brief rendered chunk by chunk (each cached), merged into one PDF; each layout done in `laid_out`."""
    from briefgen.pdf.chunks import PROBES, Plan
    from briefgen.pdf.fonts import Folded
    from briefgen.pdf.merge import merge
    from briefgen.pdf.settle import ChunkStore, furnish, settle

    started = time.perf_counter()
    plan = Plan(html)
    store = ChunkStore(cache, chart_dir, template_dirs, drawing)
    numbers: dict = {}  # the page numbers' document, rendered in a child while the last chunk writes
    try:
        done = settle(
            plan,
            store,
            chart_dir=chart_dir,
            template_dirs=template_dirs,
            strict=strict,
            parallel=parallel,
            laid_out=laid_out,
            numbers=numbers,
        )
        pages = sum(chunk.meta.pages for chunk in done)
        furniture, furniture_warnings = furnish(
            plan,
            store,
            pages,
            chart_dir=chart_dir,
            template_dirs=template_dirs,
            strict=strict,
            laid_out=laid_out,
            early=numbers,
        )
    finally:
        for job in numbers.values():  # a render failed: nobody will collect these (cancel is idempotent)
            job.cancel()
    settled = time.perf_counter()
    data = merge(
        [chunk.data for chunk in done],
        metadata,
        plan.xrefs(),
        drop=PROBES if len(done) > 1 else (),
        flows=plan.flows,
        furniture=furniture,
        fonts=Folded(cache),
    )
    LOG.debug(
        "chunks %s settled in %.2f s, merged in %.2f s; laid out %s",
        ", ".join(plan.names),
        settled - started,
        time.perf_counter() - settled,
        ", ".join(f"{name} ({pages} pages)" for name, pages in laid_out) or "nothing",
    )
    warnings = list(dict.fromkeys([*(w for chunk in done for w in chunk.warnings), *furniture_warnings]))  # once each
    return data, pages, warnings
