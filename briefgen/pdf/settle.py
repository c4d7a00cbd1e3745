"""Turn a chunk plan into each chunk's PDF bytes, its numbers settled, renders taken from the cache.

Each chunk prints numbers measured on the others (the pages and counters of the anchors it links
to, the counters it carries, where the chunk it flows on from ends; and, when the templates leave
the page numbers to the pieces, its page offset and the total), never on itself (see chunks.py).
Plan.needs(i) says which. They are settled by fixed-point iteration: start from the measurements of
the previous build (kept in the cache), render each chunk whose numbers changed, re-measure, and
stop when no chunk's numbers change; after MAX_ROUNDS rounds it fails. With nothing to start from,
the last chunk is first laid out unwritten, with provisional numbers, to measure it (it needs no
charts, so it is laid out while they are drawn); then each chunk renders once its numbers are
known, the cover (with the contents, which need every other chunk) last.

A commentary edit thus renders the last chunk alone when its length and anchors' pages hold; a
market-cap edit, the chunk of sections 4-5 and the last (Appendix B's digest of the file).

With `parallel`, the next chunk whose numbers are known is rendered in a forked process
(briefgen.background) while this one renders or writes, and the page numbers' document (furnish())
once the last chunk is laid out. Renders are pure functions of their HTML, so the bytes are the
same either way.

Cache entries (briefgen.store.cache.Cache):
    pdfmeta/<k1>   what the render of a chunk's final HTML measured and loaded, and its warnings;
                   k1 = digest(format, briefgen/WeasyPrint/pydyf versions, chunk HTML)
    pdfchunk/<k2>  that render's PDF bytes; k2 = digest(k1, the state (SHA-256) of every file it loaded)
    pdfmeta/<k0>   the last build's measurements, per chunk; k0 = digest(format, chunk names)
The page numbers' document is cached as a chunk is, by its HTML.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from briefgen import __version__
from briefgen.background import Background
from briefgen.errors import PdfError
from briefgen.pdf.chunks import Fill, Meta, Plan
from briefgen.pdf.fetcher import VIRTUAL_BASE, Resolver, charts_drawn
from briefgen.pdf.weasy import Rendered, problem_error, render

if TYPE_CHECKING:
    from briefgen.store.cache import Cache

LOG = logging.getLogger("briefgen.pdf")
FORMAT = "briefgen.pdf chunks 2"  # change when a change here would make cached chunks wrong
MAX_ROUNDS = 3
FURNITURE = "page numbers"  # the page numbers' document, as `laid_out` names it


@functools.cache
def stack_versions() -> str:
    """The versions that shape a chunk's bytes, read without importing WeasyPrint."""
    from importlib.metadata import version

    return f"briefgen {__version__}; weasyprint {version('weasyprint')}; pydyf {version('pydyf')}"


@dataclass(frozen=True)
class Done:
    """A chunk rendered (or taken from the cache) with these numbers."""

    fill: Fill
    meta: Meta
    data: bytes
    warnings: tuple[str, ...]


class ChunkStore:
    """Chunk renders by content hash; with cache None, a store that remembers nothing."""

    def __init__(
        self,
        cache: Cache | None,
        chart_dir: Path,
        template_dirs: tuple[Path, ...],
        drawing: frozenset[str] = frozenset(),
    ):
        self.cache = cache
        self.resolver = Resolver(template_dirs, chart_dir)
        self.hashes: dict[Path, str] = {}  # file SHA-256s, once per write_pdf call
        # The URLs of the charts being drawn: redrawn because their data changed, so no cached
        # chunk that showed them is the one wanted, and looking would wait for the drawing.
        self.drawing = frozenset(f"{VIRTUAL_BASE}charts/{name}.svg" for name in drawing)

    def _key(self, html: str) -> str:
        from briefgen.store.cache import digest

        return digest(FORMAT, stack_versions(), html)

    def get(self, html: str) -> tuple[Meta, tuple[str, ...], bytes] | None:
        if self.cache is None:
            return None
        from briefgen.store.cache import digest

        key = self._key(html)
        raw = self.cache.get("pdfmeta", key)
        if raw is None:
            return None
        entry = json.loads(raw)
        loaded: dict[str, str] = entry["loaded"]
        if self.drawing & loaded.keys():
            return None
        if any(self.resolver.state(url, self.hashes) != state for url, state in loaded.items()):
            return None
        data = self.cache.get("pdfchunk", digest(key, json.dumps(loaded, sort_keys=True)))
        if data is None:
            return None
        return Meta.from_json(entry["meta"]), tuple(entry["warnings"]), data

    def put(self, html: str, meta: Meta, warnings: list[str], loaded: dict[str, str], data: bytes) -> None:
        if self.cache is None:
            return
        from briefgen.store.cache import digest

        key = self._key(html)
        self.cache.put("pdfchunk", digest(key, json.dumps(loaded, sort_keys=True)), data)
        entry = {"meta": meta.to_json(), "warnings": warnings, "loaded": loaded}
        self.cache.put("pdfmeta", key, json.dumps(entry, sort_keys=True).encode())

    def _previous_key(self, plan: Plan) -> str:
        from briefgen.store.cache import digest

        return digest(FORMAT, "previous build", *plan.names)

    def previous(self, plan: Plan) -> list[Meta | None]:
        """The last build's measurements of these chunks, as a first guess."""
        raw = self.cache.get("pdfmeta", self._previous_key(plan)) if self.cache is not None else None
        if raw is None:
            return [None] * len(plan.chunks)
        return [Meta.from_json(item) for item in json.loads(raw)]

    def remember(self, plan: Plan, metas: list[Meta]) -> None:
        if self.cache is not None:
            data = json.dumps([meta.to_json() for meta in metas], sort_keys=True).encode()
            self.cache.put("pdfmeta", self._previous_key(plan), data)


def settle(
    plan: Plan,
    store: ChunkStore,
    *,
    chart_dir: Path,
    template_dirs: tuple[Path, ...],
    strict: bool = False,
    parallel: bool = False,
    laid_out: list[tuple[str, int]] | None = None,
    numbers: dict[int, Background[Rendered]] | None = None,
) -> list[Done]:
    """Every chunk rendered with numbers that agree with the others' measurements.

    `laid_out`, if given, receives (chunk name, pages) for every layout WeasyPrint did (a render,
    or a layout to measure a chunk), in order: what the call cost, for tests and the debug log.
    `numbers`, if given with `parallel`, receives the page numbers' document (Plan.furniture) being
    rendered in a child, by page count, once the last chunk to render is laid out (see furnish()).
    """
    count = len(plan.chunks)
    layouts: list[tuple[str, int]] = [] if laid_out is None else laid_out
    metas: list[Meta | None] = store.previous(plan)  # what each chunk measures, as far as known
    done: list[Done | None] = [None] * count
    ahead: dict[int, tuple[Fill, Background[Rendered]]] = {}  # chunks being rendered in a child

    def produce(i: int, fill: Fill) -> Done:
        html = plan.html(i, fill)
        early = ahead.pop(i, None)
        if early is not None and early[0] != fill:
            early[1].cancel()
            early = None
        if early is None:
            cached = store.get(html)
            if cached is not None:
                meta, warnings, data = cached
                return Done(fill, meta, data, warnings)
            if parallel:  # the next chunk to render, whose numbers are known already, beside this one
                start_next(i, fill, None)
        started = time.perf_counter()
        if early is not None:
            result = early[1].result()
        else:
            result = render(
                html,
                chart_dir=chart_dir,
                template_dirs=template_dirs,
                laid_out=functools.partial(laid, i, fill) if parallel else None,
            )
        layouts.append((plan.chunks[i].name, result.pages - plan.lead_pages(i)))
        LOG.debug(
            "rendered chunk %s: %d pages in %.2f s%s",
            plan.chunks[i].name,
            result.pages,
            time.perf_counter() - started,
            " (waited for it)" if early is not None else "",
        )
        if result.errors:
            raise problem_error(result.errors + (result.warnings if strict else []))
        meta = plan.meta(i, fill, result.pages, result.anchors, result.probe, result.points)
        assert result.data is not None
        store.put(html, meta, result.warnings, result.loaded, result.data)
        return Done(fill, meta, result.data, tuple(result.warnings))

    def laid(i: int, fill: Fill, pages: int, anchors: dict[str, int], probe, points) -> None:
        meta = plan.meta(i, fill, pages, anchors, probe, points)
        start_next(i, fill, meta)
        known = [meta if j == i else m for j, m in enumerate(metas)]
        last = all(done[j] is not None or j == i or j in ahead for j in range(count))
        if numbers is not None and last and all(m is not None for m in known):  # the page numbers, beside its writing
            total = sum(m.pages for m in known if m is not None)
            html = plan.furniture(total)
            if html is not None and total not in numbers and store.get(html) is None:
                numbers[total] = Background.start(
                    functools.partial(render, html, chart_dir=chart_dir, template_dirs=template_dirs)
                )

    def start_next(i: int, fill: Fill, meta: Meta | None) -> None:
        """Render, in a child, the next chunk (after i, then before it) whose numbers are known, with
        chunk i's measurements if it is laid out (`meta`), while chunk i renders or writes here."""
        if ahead:
            return
        known = list(metas)
        if meta is not None:
            known[i] = meta
        for j in [*range(i + 1, count), *range(i)]:
            next_fill = plan.fill(j, known)
            current = done[j]
            if next_fill is None or (current is not None and current.fill == next_fill):
                continue
            html = plan.html(j, next_fill)
            if store.get(html) is None and charts_drawn(chart_dir, html):  # a child cannot wait for the drawing
                job = functools.partial(render, html, chart_dir=chart_dir, template_dirs=template_dirs)
                ahead[j] = (next_fill, Background.start(job))
                return

    try:
        return _settle(
            plan,
            store,
            produce,
            metas,
            done,
            chart_dir=chart_dir,
            template_dirs=template_dirs,
            strict=strict,
            layouts=layouts,
            ahead=ahead,
        )
    finally:
        for _, job in ahead.values():  # a render failed: nobody will collect these
            job.cancel()


def _settle(
    plan: Plan,
    store: ChunkStore,
    produce: Callable[[int, Fill], Done],
    metas: list[Meta | None],
    done: list[Done | None],
    *,
    chart_dir: Path,
    template_dirs: tuple[Path, ...],
    strict: bool,
    layouts: list[tuple[str, int]],
    ahead: Mapping[int, object],
) -> list[Done]:
    """The fixed-point iteration (see the module's docstring), filling in `metas` and `done`."""
    count = len(plan.chunks)
    # A first build measures the last chunk first, whatever else is ready: it needs no charts, so it
    # is laid out while they are drawn, and the cover's contents then need only the chunks before it.
    first = count > 1 and all(meta is None for meta in metas)
    while None in metas:  # nothing known about some chunks (a first build): measure them
        unknown = [i for i, meta in enumerate(metas) if meta is None]
        ready = [i for i in unknown if plan.fill(i, metas) is not None]
        if first and unknown[-1] not in ready:
            ready = []
        first = False
        if ready:
            i = ready[0]
            ready_fill = plan.fill(i, metas)
            assert ready_fill is not None  # ready: every number it prints is known
            produced = done[i] = produce(i, ready_fill)
            metas[i] = produced.meta
            continue
        # Lay out the last one, unwritten, with provisional numbers: later chunks are the short ones.
        i = unknown[-1]
        fill = plan.provisional(i, metas)
        started = time.perf_counter()
        result = render(plan.html(i, fill), chart_dir=chart_dir, template_dirs=template_dirs, write=False)
        layouts.append((plan.chunks[i].name, result.pages - plan.lead_pages(i)))
        LOG.debug(
            "laid out chunk %s to measure it: %d pages in %.2f s",
            plan.chunks[i].name,
            result.pages,
            time.perf_counter() - started,
        )
        if result.errors:
            raise problem_error(result.errors + (result.warnings if strict else []))
        metas[i] = plan.meta(i, fill, result.pages, result.anchors, result.probe, result.points)
    for _ in range(MAX_ROUNDS):
        pending = list(range(count))
        while pending:  # a chunk rendering in a child last, so that this process renders the others meanwhile
            i = next((k for k in pending if k not in ahead), pending[0])
            pending.remove(i)
            settled = plan.fill(i, metas)
            assert settled is not None  # every chunk is measured by now
            current = done[i]
            if current is None or current.fill != settled:
                produced = done[i] = produce(i, settled)
                metas[i] = produced.meta
        finished = [d for d in done if d is not None]
        if len(finished) == count and all(d.fill == plan.fill(i, metas) for i, d in enumerate(finished)):
            store.remember(plan, [d.meta for d in finished])
            return finished
    moving = [plan.chunks[i].name for i, d in enumerate(done) if d is None or d.fill != plan.fill(i, metas)]
    which = f"chunk {moving[0]} keeps" if len(moving) == 1 else f"chunks {', '.join(moving)} keep"
    raise PdfError(
        f"the page numbers did not settle after {MAX_ROUNDS} rounds ({which} changing length);"
        " keep page numbers out of what decides where pages break"
    )


def furnish(
    plan: Plan,
    store: ChunkStore,
    pages: int,
    *,
    chart_dir: Path,
    template_dirs: tuple[Path, ...],
    strict: bool = False,
    laid_out: list[tuple[str, int]] | None = None,
    early: dict[int, Background[Rendered]] | None = None,
) -> tuple[bytes | None, tuple[str, ...]]:
    """The page numbers' document for a brief of `pages` pages (chunks.py: Plan.furniture), from the
    cache or rendered (or from `early`, settle()'s render of it in a child), and its warnings; None
    if the templates draw the numbers in the chunks. The early renders not used are cancelled."""
    jobs = dict(early or {})
    job = jobs.pop(pages, None)
    for other in jobs.values():
        other.cancel()
    html = plan.furniture(pages)
    if html is None:
        return None, ()
    cached = store.get(html)
    if cached is not None:
        if job is not None:
            job.cancel()
        return cached[2], cached[1]
    started = time.perf_counter()
    result = job.result() if job is not None else render(html, chart_dir=chart_dir, template_dirs=template_dirs)
    if laid_out is not None:
        laid_out.append((FURNITURE, result.pages))
    LOG.debug("rendered the page numbers: %d pages in %.2f s", result.pages, time.perf_counter() - started)
    if result.errors:
        raise problem_error(result.errors + (result.warnings if strict else []))
    if result.pages != pages:
        raise PdfError(
            f"the page numbers came out on {result.pages} pages for a brief of {pages}: the stylesheet puts"
            " something on the pages of the furniture (repeated in every chunk) that takes room"
        )
    assert result.data is not None
    store.put(html, Meta(result.pages, {}, {}, {}, {}), result.warnings, result.loaded, result.data)
    return result.data, tuple(result.warnings)
