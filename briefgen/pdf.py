"""Turn the brief's HTML into a PDF file: WeasyPrint, a locked-down URL fetcher, deterministic bytes.

Resources are served from a virtual root (VIRTUAL_BASE), never from the machine's paths, so no
folder of the build leaks into the PDF and the same HTML gives the same bytes anywhere:

    charts/...                  -> base_dir/charts (the build's chart folder)
    fonts/...                   -> briefgen/fonts (the bundled Inter)
    static/..., any other name  -> the template folders: the override folder, then templates/

Anything else (file:///etc/passwd, http(s)://, data: URLs over 256 KB, paths escaping a root) is
refused and reported as a warning; under `strict` a warning fails the build. WeasyPrint logs
instead of raising; its errors (a missing chart or stylesheet) become PdfError here.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import posixpath
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit

from briefgen.errors import OutputError, PdfError

if TYPE_CHECKING:
    from weasyprint.text.fonts import FontConfiguration

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
VIRTUAL_BASE = "file:///briefgen/"
_VIRTUAL_PREFIX = "/briefgen/"
MAX_DATA_URL_BYTES = 256 * 1024
MAX_RESOURCE_BYTES = 32 * 1024 * 1024
Variant = Literal["pdf/a-3u", "pdf/ua-1"]
VARIANTS: tuple[str, ...] = ("pdf/a-3u", "pdf/ua-1")
_CONTENT_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".otf": "font/otf", ".ttf": "font/ttf",
                  ".woff": "font/woff", ".woff2": "font/woff2", ".png": "image/png", ".jpg": "image/jpeg"}


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
    """What was written: page count, size in bytes, and the warnings met on the way."""

    pages: int
    size: int
    warnings: tuple[str, ...] = ()


# --- the URL fetcher -------------------------------------------------------------------------


class _Refused(Exception):
    """A URL the brief may not load."""


def _url_fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SafeFetcher(URLFetcher):
        """Serve only files under the allowed folders, by virtual URL; refuse and record the rest."""

        def __init__(self, template_dirs: Sequence[Path], chart_dir: Path | None):
            # chart_dir is the folder holding the SVGs (base_dir/charts), served as charts/<name>.
            super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
            self.template_dirs = tuple(Path(d).resolve() for d in template_dirs)
            self.chart_dir = Path(chart_dir).resolve() if chart_dir is not None else None
            self.refused: dict[str, str] = {}  # url -> why (warnings)
            self.failed: dict[str, str] = {}  # url -> why (errors: an allowed file that is missing)

        def fetch(self, url: str, headers: Any = None):
            try:
                return self._fetch(url, headers)
            except _Refused as exc:
                self.refused.setdefault(url, str(exc))
                raise
            except OSError as exc:
                self.failed.setdefault(url, f"{_short(url)}: {exc.strerror or exc}")
                raise

        def _fetch(self, url: str, headers: Any):
            if url.startswith("data:"):
                if len(url) > MAX_DATA_URL_BYTES:
                    raise _Refused(f"refused a data: URL of {len(url) // 1024} KB (at most {MAX_DATA_URL_BYTES // 1024} KB)")
                return super().fetch(url, headers)
            parts = urlsplit(url)
            if parts.scheme != "file" or parts.netloc or not parts.path.startswith(_VIRTUAL_PREFIX):
                raise _Refused(f"refused {_short(url)}: only the brief's templates, fonts and charts may be loaded")
            name = posixpath.normpath(unquote(parts.path[len(_VIRTUAL_PREFIX):]))
            if name.startswith(("../", "/")) or name in ("..", "."):
                raise _Refused(f"refused {_short(url)}: outside the brief's folders")
            path = self._locate(name, url)
            data = path.read_bytes()
            content_type = _CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
            return URLFetcherResponse(url, data, {"Content-Type": content_type or "application/octet-stream"})

        def _locate(self, name: str, url: str) -> Path:
            head, _, rest = name.partition("/")
            if head == "charts" and rest:
                roots: tuple[Path, ...] = (self.chart_dir,) if self.chart_dir is not None else ()
                relative = rest
            elif head == "fonts" and rest:
                roots, relative = (FONTS_DIR,), rest
            else:
                roots, relative = self.template_dirs, name
            if not roots:
                raise _Refused(f"refused {_short(url)}: no folder serves it")
            for root in roots:
                candidate = (root / relative).resolve()
                if not candidate.is_relative_to(root):
                    raise _Refused(f"refused {_short(url)}: it resolves outside {root.name}/")
                if candidate.is_file():
                    if candidate.stat().st_size > MAX_RESOURCE_BYTES:
                        raise _Refused(f"refused {_short(url)}: larger than {MAX_RESOURCE_BYTES // 2**20} MB")
                    return candidate
            where = " or ".join(str(root) for root in roots)
            raise FileNotFoundError(2, f"file not found in {where}")

    return SafeFetcher


def _short(url: str) -> str:
    """A URL as the user should read it: virtual ones by their relative name, others cut to 120 chars."""
    if url.startswith(VIRTUAL_BASE):
        return url[len(VIRTUAL_BASE):]
    return url if len(url) <= 120 else url[:117] + "..."


def make_url_fetcher(templates_dir: Path | None = None, chart_dir: Path | None = None):
    """A fetcher serving the template folders, the bundled fonts and the chart folder, nothing else."""
    folders = (TEMPLATES_DIR,) if templates_dir is None else (Path(templates_dir), TEMPLATES_DIR)
    return _url_fetcher_class()(folders, chart_dir)


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


# --- fonts -----------------------------------------------------------------------------------

_FONT_CONFIGS: dict[Path | None, FontConfiguration] = {}
_LOCK = threading.Lock()


def font_config(templates_dir: Path | None = None) -> FontConfiguration:
    """One FontConfiguration per template search path, kept for the life of the process.

    @font-face files are loaded once and reused by every later build. WeasyPrint caches a face by
    its (virtual) URL, so two override folders serving different files at one URL get one each.
    """
    key = None if templates_dir is None else Path(templates_dir).resolve()
    if key not in _FONT_CONFIGS:
        from weasyprint.text.fonts import FontConfiguration

        _FONT_CONFIGS[key] = FontConfiguration()
    return _FONT_CONFIGS[key]


# --- writing ---------------------------------------------------------------------------------


def _w3c(day: date) -> str:
    moment = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) if not isinstance(day, datetime) else day
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _midnight(day: date | None) -> datetime:
    day = day or date(2000, 1, 1)
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def _attachments(items: Sequence[tuple[Path, str]], created: date | None):
    from weasyprint import Attachment

    stamp = _midnight(created)
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
        out.append(Attachment(string=data, name=path.name, description=description,
                              created=stamp, modified=stamp, relationship="Source"))
    return out


def _problems(capture: _Capture, fetcher: Any) -> tuple[list[str], list[str]]:
    """Errors and warnings of a render; log lines about URLs the fetcher already explained are dropped."""
    explained = set(fetcher.refused) | set(fetcher.failed)
    errors = [f"{_short(url)}: could not be loaded ({why.split(': ', 1)[-1]})" for url, why in fetcher.failed.items()]
    warnings = list(fetcher.refused.values())
    for record in capture.records:
        message = record.getMessage()
        if any(url in message or repr(url) in message for url in explained):
            continue
        (errors if record.levelno >= logging.ERROR else warnings).append(f"WeasyPrint: {message}")
    return errors, warnings


def write_pdf(
    html: str,
    base_dir: Path,
    out_path: Path,
    *,
    metadata: PdfMetadata,
    variant: Variant | None = None,
    attachments: Sequence[tuple[Path, str]] = (),
    strict: bool = False,
    templates_dir: Path | None = None,
) -> PdfInfo:
    """Render `html` to `out_path` (atomically) and return its page count, size and warnings.

    base_dir is the build folder: `charts/<name>` in the HTML is served from base_dir/charts.
    templates_dir is the override folder (--templates), searched before the project's templates/
    for `static/brief.css` and anything else the templates link.
    attachments are embedded as the PDF's sources (PDF/A-3 AFRelationship /Source).
    Raises PdfError on WeasyPrint errors (a missing chart, stylesheet or font) and, under strict,
    on any warning (a refused URL, an ignored CSS declaration).
    """
    from weasyprint import HTML

    if variant is not None and variant not in VARIANTS:
        raise PdfError(f"PDF variant {variant!r} is not supported (choose {' or '.join(VARIANTS)})")
    if attachments and variant not in (None, "pdf/a-3u"):
        raise PdfError(f"attachments need PDF/A-3u or no variant, not {variant}")
    fetcher = make_url_fetcher(templates_dir, Path(base_dir) / "charts")
    embedded = _attachments(attachments, metadata.created)
    options: dict[str, Any] = {"pdf_variant": variant, "attachments": embedded or None, "uncompressed_pdf": False}
    if variant is None:
        options["pdf_identifier"] = True  # an MD5 of the content: stable for equal content
    with _LOCK, _captured() as capture:
        document = HTML(string=html, base_url=VIRTUAL_BASE, url_fetcher=fetcher).render(
            font_config=font_config(templates_dir), **options
        )
        _set_metadata(document.metadata, metadata)
        data = document.write_pdf(**options)
    errors, warnings = _problems(capture, fetcher)
    if errors or (strict and warnings):
        listed = errors + (warnings if strict else [])
        head = f"{len(listed)} problem{'s' if len(listed) != 1 else ''} rendering the PDF"
        raise PdfError("\n".join([f"{head}:", *(f"  - {p}" for p in listed)]))
    _write_atomic(Path(out_path), data)
    return PdfInfo(pages=len(document.pages), size=len(data), warnings=tuple(warnings))


def _set_metadata(target: Any, metadata: PdfMetadata) -> None:
    target.title = metadata.title
    target.authors = list(metadata.authors)
    target.description = metadata.subject or None
    target.keywords = list(metadata.keywords)
    target.lang = metadata.lang
    stamp = _w3c(metadata.created) if metadata.created is not None else None
    target.created = stamp
    target.modified = stamp


def _write_atomic(path: Path, data: bytes) -> None:
    """Write beside the target, then rename: a reader never sees half a PDF."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"{path}: could not write the PDF ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{path}: could not write the PDF ({exc.strerror or exc})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
