"""Turn an inputs folder into the finished brief: the pipeline's stages in order, in one function.

inputs (read, validate) -> metrics (pure pandas) -> charts (SVG) -> HTML (Jinja2) -> PDF
(WeasyPrint). Each stage's output is cached under output/.cache/ by a hash of exactly what it
depends on (briefgen.store.keys), so a rebuild redoes only what changed. Everything is produced in a
private staging folder inside the output folder and published by atomic renames once every stage
has succeeded, so a failed or killed build leaves the previous brief whole.

On two cores a cold build overlaps its stages (briefgen.background): the charts are drawn in a
forked process while the HTML is rendered and the PDF stage lays out the pages that show none, and
the PDF stage renders its last chunk in another while the first one writes. The bytes are the same
as doing everything in order here. `briefgen build` asks for it (`BuildOptions(parallel=True)`); the
library's default is off, and background.can_fork() refuses to fork a process that has other threads.

What happens after the stages (publishing the staged files, the history record, the manifest and
the unchanged check against it) is briefgen.outputs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefgen.errors import Problem
from briefgen.outputs import BuildResult, OutputFile, publish_stage, record, unchanged, write_manifest
from briefgen.sector import DEFAULT_SECTOR, Sector, load_sector, sector_module
from briefgen.store.cache import CACHE_DIR, Cache, digest
from briefgen.store.keys import Keys, build_keys

if TYPE_CHECKING:
    from briefgen.background import Gathering
    from briefgen.inputs.folder import SourceFile
    from briefgen.pdf import Variant

__all__ = ["PDF_VARIANTS", "BuildOptions", "BuildResult", "OutputFile", "build"]

PDF_VARIANTS = ("pdf/a-3u", "pdf/ua-1")


@dataclass(frozen=True)
class BuildOptions:
    """What `briefgen build` was asked for."""

    inputs_dir: Path = Path("inputs")
    output_dir: Path = Path("output")
    period: tuple[date, date] | None = None
    compare: tuple[date, date] | None = None
    templates_dir: Path | None = None
    pdf_variant: Variant | None = None
    strict: bool = False
    as_of: date | None = None
    cache: bool = True  # --no-cache: neither read nor write output/.cache
    refresh: bool = False  # --refresh: ignore cached entries, write new ones
    labels: tuple[str, str] | None = None  # the period's and compare window's labels, with period/compare
    # Draw charts in a second process while laying out pages: `briefgen build` and `watch` turn it on;
    # off for library callers (a process with threads must not fork) and for a batch's workers.
    parallel: bool = False
    sector: str = DEFAULT_SECTOR  # briefgen.sector.load_sector's name: the subject the brief is about

    def fingerprint(self) -> tuple[str, ...]:
        """The options that change the output, as text for the cache keys."""
        return (
            f"period={self.period}",
            f"compare={self.compare}",
            f"as_of={self.as_of}",
            f"labels={self.labels}",
            f"variant={self.pdf_variant}",
            f"strict={self.strict}",
            f"sector={self.sector}",
        )


def build(options: BuildOptions) -> BuildResult:
    """Build brief.pdf and brief.html (charts beside them) in options.output_dir."""
    started = time.perf_counter()
    from briefgen.errors import InputError
    from briefgen.files import inside, staging
    from briefgen.html.overrides import override_warnings
    from briefgen.publish.draft import keep_publishable
    from briefgen.store.history import recover_history

    output = Path(options.output_dir)
    inside(output, "charts")  # refused before anything is done: a link out of the output folder
    cache = Cache.for_output(output, enabled=options.cache, refresh=options.refresh)
    keys = build_keys(options.inputs_dir, options.templates_dir, options.fingerprint(), options.sector)
    overrides = override_warnings(options.templates_dir, options.strict, options.sector)  # a mistyped override's name
    recovered = recover_history(output)  # a damaged history is moved aside: a record, not a dependency
    notes: tuple[Problem, ...] = (recovered,) if recovered is not None else ()
    previous = unchanged(output, keys, cache)
    if previous is not None:
        return dataclasses.replace(
            previous,
            seconds=time.perf_counter() - started,
            unchanged=True,
            drawn=(),
            warnings=(*notes, *previous.warnings),
        )

    prose = _prose(options)  # read and checked on every build; everything else comes from the skeleton
    skeleton, drawn, svgs = _skeleton(options, keys, cache, prose)
    sources = (*(_source(s) for s in skeleton["sources"]), *prose.sources)
    try:
        if options.strict and prose.warnings:  # a skeleton made now already refused them with the tables'
            raise InputError(prose.warnings)
        with staging(output) as stage:
            html = _fill(skeleton["html"], prose)
            pdf = _write_brief(options, stage, html, skeleton["metadata"], svgs, sources, cache)
            keep_publishable(stage, html, skeleton["publication"], cache)
            charts, static = publish_stage(stage, output, options.templates_dir, options.sector, cache)
    finally:
        svgs.cancel()  # a failed build: stop drawing charts nobody will use
    files = (
        OutputFile(output / "brief.pdf", (output / "brief.pdf").stat().st_size, pdf.pages),
        OutputFile(output / "brief.html", (output / "brief.html").stat().st_size),
    )
    warnings = (*overrides, *skeleton["warnings"], *prose.warnings, *pdf.warnings)
    warnings += record(output, options, keys, skeleton, sources, warnings)
    result = BuildResult(
        files, len(charts), time.perf_counter() - started, warnings, drawn=drawn, cache_hits=dict(cache.hits)
    )
    write_manifest(output, keys, cache, result, date.fromisoformat(skeleton["as_of"]), static)
    # Said once, not kept in the manifest: the next build has nothing to repair.
    notes += tuple(
        Problem(f"{CACHE_DIR}/{name}", "damaged cache entry ignored; rebuilt and replaced")
        for name in dict.fromkeys(cache.damaged)
    )
    return dataclasses.replace(result, warnings=(*notes, *warnings)) if notes else result


@dataclass(frozen=True)
class Prose:
    """The commentary of one build: rendered by section, its files, its warnings and the takeaways' text."""

    html: dict[str, Any]  # section -> rendered Markup
    sources: tuple[SourceFile, ...]
    warnings: tuple[Problem, ...]
    takeaways: str

    @property
    def sections(self) -> list[str]:
        """The sections with commentary, sorted: part of the skeleton's key."""
        return sorted(name for name, html in self.html.items() if str(html).strip())


def _prose(options: BuildOptions) -> Prose:
    """Read, check and render the commentary."""
    from briefgen.html.render import render_commentary
    from briefgen.inputs.commentary import commentary_warnings, load_commentary

    texts, sources = load_commentary(options.inputs_dir)
    warnings = tuple(commentary_warnings(texts))
    takeaways = texts.pop("takeaways", "")
    return Prose(render_commentary(texts, load_sector(options.sector).sections), tuple(sources), warnings, takeaways)


def _write_brief(
    options: BuildOptions, stage: Path, html: str, meta: dict, svgs: Gathering[bytes], sources, cache: Cache
):
    """brief.html, the charts and brief.pdf, written into the staging folder; the PdfInfo.

    The charts may still be being drawn (briefgen.background): the PDF stage lays out what shows
    none meanwhile. The charts taken from the cache go into charts/ when the PDF stage first needs
    one; it waits for the drawing only when it needs a chart being drawn.
    """
    from briefgen.errors import PdfError
    from briefgen.files import write_atomic
    from briefgen.pdf import PdfMetadata, charts_pending, write_pdf
    from briefgen.resources import template_folders

    chart_dir = stage / "charts"
    placed: set[str] = set()

    def place_charts(file: str | None = None) -> None:
        """Write the charts that are ready into charts/: all of them (waiting for the drawing) unless
        `file`, the one looked up, is a chart from the cache."""
        name = file.removesuffix(".svg") if file is not None else None
        if len(placed) == len(svgs.ready) + len(svgs.pending):
            return
        ready = svgs.ready if name is not None and name not in svgs.pending else svgs.result()
        for chart, svg in ready.items():
            if chart not in placed:
                write_atomic(chart_dir / f"{chart}.svg", svg)
                placed.add(chart)

    write_atomic(stage / "brief.html", html.encode("utf-8"))
    metadata = PdfMetadata(
        meta["title"],
        tuple(meta["authors"]),
        meta["subject"],
        tuple(meta["keywords"]),
        meta["lang"],
        date.fromisoformat(meta["created"]),
    )
    archive = options.pdf_variant == "pdf/a-3u"
    attachments = [(options.inputs_dir / s.name.split("[")[0], s.name) for s in sources] if archive else []
    try:
        with charts_pending(chart_dir, place_charts, lambda: svgs.pending - placed):
            pdf = write_pdf(
                html,
                stage,
                stage / "brief.pdf",
                metadata=metadata,
                variant=options.pdf_variant,
                attachments=attachments,
                strict=options.strict,
                template_dirs=template_folders(options.templates_dir, options.sector),
                cache=cache,
                parallel=options.parallel,
                drawing=svgs.pending,
            )
    except PdfError:
        place_charts()  # charts that failed to draw: their own error, not WeasyPrint's "could not load"
        raise
    place_charts()
    return pdf


# --- the skeleton: the whole brief but its prose ---------------------------------------------

PROSE_MARK = "<!--briefgen:commentary:{}-->"


def _digest_mark(name: str) -> str:
    """Where a commentary file's SHA-256 goes in the skeleton's sources table."""
    return "briefgen-sha256-" + hashlib.sha256(name.encode()).hexdigest()[:16]


def _fill(skeleton: str, prose: Prose) -> str:
    """Put the rendered commentary and the commentary files' digests into the skeleton, in one pass.

    The marks cannot come from an input: every input string is escaped (a '<' prints as '&lt;')
    and the sanitiser drops comments from commentary.
    """
    values = {PROSE_MARK.format(name): str(html) for name, html in prose.html.items() if str(html).strip()}
    values.update({_digest_mark(source.name): source.sha256 for source in prose.sources})
    if not values:
        return skeleton
    pattern = re.compile("|".join(re.escape(mark) for mark in values))
    return pattern.sub(lambda match: values[match.group(0)], skeleton)


def _skeleton(
    options: BuildOptions, keys: Keys, cache: Cache, prose: Prose
) -> tuple[dict, tuple[str, ...], Gathering[bytes]]:
    """The brief's HTML with marks where the prose goes, what else the PDF and history need, the charts.

    Keyed by everything but the prose itself, so a commentary edit reuses it without importing
    pandas, matplotlib or Jinja's rendering of the figures. Returns the skeleton, the charts drawn
    (not taken from the cache) and every chart's SVG bytes by name, perhaps still being drawn.
    """
    from briefgen.background import Gathering
    from briefgen.store.history import previous_key

    key = digest(
        keys.data, keys.templates, ",".join(prose.sections), ",".join(s.name for s in prose.sources), prose.takeaways
    )
    cached = cache.get("skeleton", key)
    if cached is not None:
        skeleton = json.loads(cached)
        svgs = [cache.get("chart", chart["key"]) for chart in skeleton["charts"]]
        current = previous_key(options.output_dir, date.fromisoformat(skeleton["as_of"]))
        if skeleton["previous"] == current and all(svg is not None for svg in svgs):
            return (
                skeleton,
                (),
                Gathering.done(
                    {
                        chart["name"]: svg
                        for chart, svg in zip(skeleton["charts"], svgs, strict=False)
                        if svg is not None
                    }
                ),
            )

    from markupsafe import Markup

    from briefgen.charts.stage import chart_stage
    from briefgen.html.render import pdf_metadata, render_html
    from briefgen.publish.versions import publication_facts
    from briefgen.store.history import previous_brief

    sector = load_sector(options.sector)
    inputs, metrics = _inputs_and_metrics(options, sector, keys, cache)
    charts, entries, drawn, svgs = chart_stage(metrics, options.sector, keys, cache, options.parallel)
    try:  # the charts are being drawn meanwhile
        config = inputs.config
        marks = {name: Markup(PROSE_MARK.format(name)) for name in prose.sections}
        sources = (
            *(s for s in inputs.sources if not s.name.startswith("commentary/")),
            *(dataclasses.replace(s, sha256=_digest_mark(s.name)) for s in prose.sources),
        )
        previous = previous_brief(options.output_dir, config.as_of)
        context = sector.context(inputs, metrics, charts, previous, marks, sources, prose.takeaways)
        metadata = pdf_metadata(context, sector.keywords)
        assert metadata.created is not None  # pdf_metadata dates it by the brief's as-of date
        skeleton = {
            "html": render_html(context, options.templates_dir, options.sector),
            "metadata": {
                "title": metadata.title,
                "authors": list(metadata.authors),
                "subject": metadata.subject,
                "keywords": list(metadata.keywords),
                "lang": metadata.lang,
                "created": metadata.created.isoformat(),
            },
            "figures": sector.figures(metrics),
            "as_of": config.as_of.isoformat(),
            "period": config.period.as_dict(),
            "compare": config.compare.as_dict(),
            "sources": [
                {
                    "name": s.name,
                    "rows": s.rows,
                    "first": s.first and s.first.isoformat(),
                    "last": s.last and s.last.isoformat(),
                    "sha256": s.sha256,
                }
                for s in inputs.sources
                if not s.name.startswith("commentary/")
            ],
            "warnings": [str(w) for w in inputs.warnings if not w.file.startswith("commentary/")],
            "charts": [{"name": e["name"], "key": e["key"]} for e in entries],
            "previous": previous_key(options.output_dir, config.as_of),
            "publication": publication_facts(context, sector.issuers(inputs)),
        }
    except BaseException:
        svgs.cancel()
        raise
    cache.put("skeleton", key, json.dumps(skeleton, sort_keys=True).encode())
    return skeleton, drawn, svgs


def _source(entry: dict):
    from briefgen.inputs.folder import SourceFile

    first, last = (date.fromisoformat(entry[k]) if entry[k] else None for k in ("first", "last"))
    return SourceFile(entry["name"], entry["rows"], first, last, entry["sha256"])


# --- the cached stages -----------------------------------------------------------------------


def _inputs_and_metrics(options: BuildOptions, sector: Sector, keys: Keys, cache: Cache):
    """Validated inputs and their metrics, cached by the key of the tables and brief.yaml."""
    from briefgen.store import snapshot

    cached = cache.get("metrics", keys.data)
    if cached is not None:
        try:
            inputs, metrics = snapshot.loads(cached, packages=(sector_module(options.sector),))
            return inputs, metrics
        except (snapshot.Damaged, ValueError, TypeError):
            cache.damaged.append(f"metrics/{keys.data}")  # sealed yet unreadable: written by another briefgen
    inputs = sector.load(
        options.inputs_dir,
        period=options.period,
        compare=options.compare,
        strict=options.strict,
        as_of=options.as_of,
        labels=options.labels,
    )
    metrics = sector.compute(inputs)
    # JSON, not pickle: reading a cache entry can never run code. A value the snapshot cannot store
    # exactly (snapshot.Unsupported) is computed again next time rather than stored wrong.
    with contextlib.suppress(snapshot.Unsupported):
        frozen = snapshot.dumps((dataclasses.replace(inputs, commentary={}), metrics), (sector_module(options.sector),))
        cache.put("metrics", keys.data, frozen)
    return inputs, metrics
