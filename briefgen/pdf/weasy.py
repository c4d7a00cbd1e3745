"""Turn one HTML document into PDF bytes with WeasyPrint, and say what it loaded and logged.

WeasyPrint logs instead of raising; its log lines are captured per render and split into errors
(a missing chart or stylesheet) and warnings (a refused URL, an ignored CSS declaration). The
render also reports each page's anchors and the chunk probe (see chunks.py), which it removes from
the outline before writing. WeasyPrint is imported here only, inside functions.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefgen.errors import PdfError
from briefgen.pdf.fetcher import VIRTUAL_BASE, make_url_fetcher, short
from briefgen.pdf.libs import import_weasyprint

if TYPE_CHECKING:
    from weasyprint.text.fonts import FontConfiguration

    from briefgen.pdf import PdfMetadata

PROBE_LABEL = "briefgen-probe"
PROBE_PREFIX = "briefgen-"  # the chunks' probe anchors, whose positions a render reports
_FONT_SUFFIXES = (".otf", ".ttf", ".woff", ".woff2")


# --- WeasyPrint's log ------------------------------------------------------------------------


class _Capture(logging.Handler):
    """Collect WeasyPrint's warnings and errors raised on this thread."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.thread = threading.get_ident()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.records.append(record)


@contextmanager
def _captured() -> Iterator[_Capture]:
    logger = logging.getLogger("weasyprint")
    handler = _Capture()
    level = logger.level
    if logger.getEffectiveLevel() > logging.WARNING:  # an app that quietened logging must not hide problems
        logger.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _problems(capture: _Capture, fetcher: Any) -> tuple[list[str], list[str]]:
    """Errors and warnings of a render; log lines about URLs the fetcher already explained are dropped."""
    explained = set(fetcher.refused) | set(fetcher.failed)
    errors = [f"{short(url)}: could not be loaded ({why.split(': ', 1)[-1]})" for url, why in fetcher.failed.items()]
    warnings = list(fetcher.refused.values())
    for record in capture.records:
        message = record.getMessage()
        if any(url in message or repr(url) in message for url in explained):
            continue
        (errors if record.levelno >= logging.ERROR else warnings).append(f"WeasyPrint: {message}")
    return errors, warnings


def problem_error(problems: Sequence[str]) -> PdfError:
    head = f"{len(problems)} problem{'s' if len(problems) != 1 else ''} rendering the PDF"
    return PdfError("\n".join([f"{head}:", *(f"  - {p}" for p in problems)]))


# --- fonts -----------------------------------------------------------------------------------

_FONT_CONFIGS: dict[tuple[Path, ...], FontConfiguration] = {}
# The font files each configuration has loaded (url -> state): WeasyPrint fetches a face only the
# first time, so later renders depend on them without asking the fetcher.
_FONT_URLS: dict[tuple[Path, ...], dict[str, str]] = {}
LOCK = threading.Lock()


def _new_lock_in_child() -> None:
    """A forked child (briefgen.background) has one thread: a lock another thread held stays free."""
    global LOCK
    LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX only; elsewhere nothing forks (briefgen.background)
    os.register_at_fork(after_in_child=_new_lock_in_child)


def _font_key(template_dirs: tuple[Path, ...]) -> tuple[Path, ...]:
    return tuple(Path(d).resolve() for d in template_dirs)


def font_config(template_dirs: tuple[Path, ...] = ()) -> FontConfiguration:
    """One FontConfiguration per template search path, kept for the life of the process.

    @font-face files are loaded once and reused by every later build. WeasyPrint caches a face by
    its (virtual) URL, so two override folders serving different files at one URL get one each.
    """
    key = _font_key(template_dirs)
    if key not in _FONT_CONFIGS:
        import_weasyprint()
        from weasyprint.text.fonts import FontConfiguration

        _FONT_CONFIGS[key] = FontConfiguration()
    return _FONT_CONFIGS[key]


# --- rendering -------------------------------------------------------------------------------


@dataclass
class Rendered:
    """One render: its pages, anchors (id -> page index), probe values, problems and what it loaded."""

    pages: int
    anchors: dict[str, int]
    probe: tuple[int, ...] | None
    errors: list[str]
    warnings: list[str]
    loaded: dict[str, str] = field(default_factory=dict)  # url -> state, for the cache
    data: bytes | None = None
    points: dict[str, tuple[int, float]] = field(default_factory=dict)  # the probes' page index and y (chunks.py)


def render(
    html: str,
    *,
    chart_dir: Path,
    template_dirs: tuple[Path, ...],
    write: bool = True,
    options: dict[str, Any] | None = None,
    metadata: PdfMetadata | None = None,
    laid_out: Callable[[int, dict[str, int], tuple[int, ...] | None, dict[str, tuple[int, float]]], None] | None = None,
) -> Rendered:
    """Lay out `html` (and write it unless `write` is false); never raises on WeasyPrint's problems.

    `laid_out(pages, anchors, probe, points)`, if given, is called between layout and writing, outside the
    lock: what the layout measured, while the bytes are still to come (settle.py starts the next
    chunk then).
    """
    import_weasyprint()
    from weasyprint import HTML

    options = {"uncompressed_pdf": False, "pdf_identifier": True} if options is None else options
    fetcher = make_url_fetcher(template_dirs, chart_dir)
    key = _font_key(template_dirs)
    with LOCK, _captured() as capture:
        document = HTML(string=html, base_url=VIRTUAL_BASE, url_fetcher=fetcher).render(
            font_config=font_config(template_dirs), **options
        )
        probe = _take_probe(document)
        fonts = _FONT_URLS.setdefault(key, {})
        fonts.update({url: state for url, state in fetcher.served.items() if url.lower().endswith(_FONT_SUFFIXES)})
        loaded = {**fonts, **fetcher.served}
    anchors: dict[str, int] = {}
    points: dict[str, tuple[int, float]] = {}
    for index, page in enumerate(document.pages):
        for anchor, position in page.anchors.items():
            anchors.setdefault(anchor, index)
            if anchor.startswith(PROBE_PREFIX):
                points.setdefault(anchor, (index, float(position[1])))
    data = None
    if write:
        if laid_out is not None:
            laid_out(len(document.pages), anchors, probe, points)
        if metadata is not None:
            set_metadata(document.metadata, metadata)
        with LOCK, _captured() as writing:
            data = document.write_pdf(**options)
        capture.records += writing.records
    errors, warnings = _problems(capture, fetcher)
    return Rendered(len(document.pages), anchors, probe, errors, warnings, loaded, data, points)


def _take_probe(document: Any) -> tuple[int, ...] | None:
    """Read the probe's bookmark (counter values, see chunks.py) and drop it from the outline."""
    values = None
    for page in document.pages:
        kept = []
        for bookmark in page.bookmarks:
            label = bookmark[1]
            if label.split(" ", 1)[0] == PROBE_LABEL:
                values = tuple(int(v) for v in label.split()[1:])
            else:
                kept.append(bookmark)
        # Supported API, not an internal: Page.bookmarks is a documented attribute of the public Page
        # class (WeasyPrint 70's API reference lists Page's members, "the list of (level, label,
        # target, state) tuples"), and Document.make_bookmark_tree(), which write_pdf() turns into the
        # outline, reads only that list. WeasyPrint has no option to keep a bookmark out of the
        # outline: `bookmark-level: none` would not record the label, and the label is the probe.
        page.bookmarks = kept
    return values


# --- the single-document render (PDF/A-3u, PDF/UA-1, attachments) ----------------------------


def _w3c(day: date) -> str:
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC) if not isinstance(day, datetime) else day
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def midnight(day: date | None) -> datetime:
    day = day or date(2000, 1, 1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def attachments(items: Sequence[tuple[Path, str]], created: date | None):
    from weasyprint import Attachment

    stamp = midnight(created)
    out = []
    seen: set[Path] = set()
    for path, description in items:
        path = Path(path)
        if path.resolve() in seen:  # a workbook's sheets share one file: embed it once
            continue
        seen.add(path.resolve())
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PdfError(f"attachment {path}: {exc.strerror or exc}") from None
        # Bytes, not a file name: WeasyPrint would stamp a file's ctime/mtime and keep its path.
        out.append(
            Attachment(
                string=data,
                name=path.name,
                description=description,
                created=stamp,
                modified=stamp,
                relationship="Source",
            )
        )
    return out


def set_metadata(target: Any, metadata: PdfMetadata) -> None:
    target.title = metadata.title
    target.authors = list(metadata.authors)
    target.description = metadata.subject or None
    target.keywords = list(metadata.keywords)
    target.lang = metadata.lang
    stamp = _w3c(metadata.created) if metadata.created is not None else None
    target.created = stamp
    target.modified = stamp
