"""Turn a virtual URL of the brief into the one file it may load, or a refusal.

Resources are served from a virtual root (VIRTUAL_BASE), never from the machine's paths, so no
folder of the build leaks into the PDF and the same HTML gives the same bytes anywhere:

    charts/...                  -> the build's chart folder
    fonts/...                   -> briefgen/fonts (the bundled Inter)
    static/..., any other name  -> the template folders (briefgen.resources.template_folders)

Anything else (file:///etc/passwd, http(s)://, data: URLs over 256 KB, paths escaping a root) is
refused. `Resolver` holds the rules and needs no WeasyPrint, so the chunk cache can check what a
cached render loaded without importing it; `make_url_fetcher` wraps it in WeasyPrint's URLFetcher.

A build draws its charts while the PDF stage lays out what shows none: inside
`charts_pending(folder, ready)`, a look for a chart in that folder first calls `ready(name)`, which
writes the charts that are ready, and waits for the drawing only for a chart being drawn.
"""

from __future__ import annotations

import hashlib
import mimetypes
import posixpath
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from briefgen.files import outside_link
from briefgen.resources import FONTS_DIR

VIRTUAL_BASE = "file:///briefgen/"
_VIRTUAL_PREFIX = "/briefgen/"
MAX_DATA_URL_BYTES = 256 * 1024
MAX_RESOURCE_BYTES = 32 * 1024 * 1024
_CONTENT_TYPES = {
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".otf": "font/otf",
    ".ttf": "font/ttf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".png": "image/png",
    ".jpg": "image/jpeg",
}


# Chart folders whose charts are still being written -> what writes them, given the chart looked up,
# and what says which are still being drawn.
_PENDING: dict[Path, Callable[[str], None]] = {}
_DRAWING: dict[Path, Callable[[], Collection[str]]] = {}
_CHART_SRC = re.compile(r"""["'(]charts/([^"'()\s]+?)\.svg\b""")


@contextmanager
def charts_pending(
    folder: Path, ready: Callable[[str], None], drawing: Callable[[], Collection[str]] | None = None
) -> Iterator[None]:
    """While inside, looking up a chart in `folder` first calls `ready(name)` with the chart's file
    name (it must be idempotent, and put at least that chart in the folder). `drawing()` gives the
    charts not in the folder yet because they are being drawn (see charts_drawn)."""
    key = Path(folder).resolve()
    _PENDING[key] = ready
    if drawing is not None:
        _DRAWING[key] = drawing
    try:
        yield
    finally:
        _PENDING.pop(key, None)
        _DRAWING.pop(key, None)


def charts_drawn(folder: Path, html: str) -> bool:
    """Whether every chart `html` shows from `folder` is drawn already (or none is being drawn), so a
    forked process can lay it out: waiting for the drawing is this process's, which holds its pipe."""
    drawing = _DRAWING.get(Path(folder).resolve())
    if drawing is None:
        return Path(folder).resolve() not in _PENDING
    return not (set(_CHART_SRC.findall(html)) & set(drawing()))


class Refused(Exception):
    """A URL the brief may not load."""


def short(url: str) -> str:
    """A URL as the user should read it: virtual ones by their relative name, others cut to 120 chars."""
    if url.startswith(VIRTUAL_BASE):
        return url[len(VIRTUAL_BASE) :]
    return url if len(url) <= 120 else url[:117] + "..."


class Resolver:
    """Map a virtual URL to the file serving it; raise Refused or FileNotFoundError otherwise."""

    def __init__(self, template_dirs: Sequence[Path], chart_dir: Path | None):
        # chart_dir is the folder holding the SVGs (base_dir/charts), served as charts/<name>.
        self.template_dirs = tuple(Path(d).resolve() for d in template_dirs)
        self.chart_dir = Path(chart_dir).resolve() if chart_dir is not None else None

    def locate(self, url: str) -> Path:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc or not parts.path.startswith(_VIRTUAL_PREFIX):
            raise Refused(f"refused {short(url)}: only the brief's templates, fonts and charts may be loaded")
        name = posixpath.normpath(unquote(parts.path[len(_VIRTUAL_PREFIX) :]))
        if name.startswith(("../", "/")) or name in ("..", "."):
            raise Refused(f"refused {short(url)}: outside the brief's folders")
        head, _, rest = name.partition("/")
        if head == "charts" and rest:
            roots: tuple[Path, ...] = (self.chart_dir,) if self.chart_dir is not None else ()
            relative = rest
            ready = _PENDING.get(self.chart_dir) if self.chart_dir is not None else None
            if ready is not None:
                ready(relative)
        elif head == "fonts" and rest:
            roots, relative = (FONTS_DIR,), rest
        else:
            roots, relative = self.template_dirs, name
        if not roots:
            raise Refused(f"refused {short(url)}: no folder serves it")
        for root in roots:
            # The one rule for links (briefgen.files); `..` was normalised away above.
            if outside_link(root, relative) is not None:
                raise Refused(f"refused {short(url)}: it resolves outside {root.name}/")
            candidate = (root / relative).resolve()
            if candidate.is_file():
                if candidate.stat().st_size > MAX_RESOURCE_BYTES:
                    raise Refused(f"refused {short(url)}: larger than {MAX_RESOURCE_BYTES // 2**20} MB")
                return candidate
        where = " or ".join(str(root) for root in roots)
        raise FileNotFoundError(2, f"file not found in {where}")

    def state(self, url: str, hashes: dict[Path, str] | None = None) -> str:
        """What `url` serves now, as a cache key part: the bytes' SHA-256, or why it is refused or missing."""
        try:
            path = self.locate(url)
        except Refused as exc:
            return f"refused: {exc}"
        except OSError:
            return "missing"
        if hashes is not None and path in hashes:
            return hashes[path]
        try:
            value = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return "missing"
        if hashes is not None:
            hashes[path] = value
        return value


def _url_fetcher_class():
    from briefgen.pdf.libs import import_weasyprint

    import_weasyprint()
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SafeFetcher(URLFetcher):
        """Serve only files under the allowed folders, by virtual URL; refuse and record the rest."""

        def __init__(self, template_dirs: Sequence[Path], chart_dir: Path | None):
            super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
            self.resolver = Resolver(template_dirs, chart_dir)
            self.template_dirs = self.resolver.template_dirs
            self.chart_dir = self.resolver.chart_dir
            self.refused: dict[str, str] = {}  # url -> why (warnings)
            self.failed: dict[str, str] = {}  # url -> why (errors: an allowed file that is missing)
            self.served: dict[str, str] = {}  # url -> state (what the cache must check), data: URLs aside

        def fetch(self, url: str, headers: Any = None):
            try:
                return self._fetch(url, headers)
            except Refused as exc:
                self.refused.setdefault(url, str(exc))
                if not url.startswith("data:"):
                    self.served.setdefault(url, f"refused: {exc}")
                raise
            except OSError as exc:
                self.failed.setdefault(url, f"{short(url)}: {exc.strerror or exc}")
                raise

        def _fetch(self, url: str, headers: Any):
            if url.startswith("data:"):
                if len(url) > MAX_DATA_URL_BYTES:
                    raise Refused(
                        f"refused a data: URL of {len(url) // 1024} KB (at most {MAX_DATA_URL_BYTES // 1024} KB)"
                    )
                return super().fetch(url, headers)
            path = self.resolver.locate(url)
            data = path.read_bytes()
            self.served.setdefault(url, hashlib.sha256(data).hexdigest())
            content_type = _CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
            return URLFetcherResponse(url, data, {"Content-Type": content_type or "application/octet-stream"})

    return SafeFetcher


def make_url_fetcher(template_dirs: tuple[Path, ...], chart_dir: Path | None = None):
    """A fetcher serving the template folders, the bundled fonts and the chart folder, nothing else."""
    return _url_fetcher_class()(template_dirs, chart_dir)
