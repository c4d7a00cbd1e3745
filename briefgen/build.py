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
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefgen.store.cache import CACHE_DIR, Cache, digest
from briefgen.publish.draft import PUBLISHABLE
from briefgen.errors import Problem
from briefgen.sector import DEFAULT_SECTOR, Sector, load_sector
from briefgen.store.keys import Keys, build_keys

if TYPE_CHECKING:
    from briefgen.background import Background

PDF_VARIANTS = ("pdf/a-3u", "pdf/ua-1")
MANIFEST = "last-build.json"
CHARTS_MANIFEST = ".briefgen-charts.json"  # in charts/: the charts briefgen published there, by SHA-256


@dataclass(frozen=True)
class BuildOptions:
    """What `briefgen build` was asked for."""

    inputs_dir: Path = Path("inputs")
    output_dir: Path = Path("output")
    period: tuple[date, date] | None = None
    compare: tuple[date, date] | None = None
    templates_dir: Path | None = None
    pdf_variant: str | None = None
    strict: bool = False
    as_of: date | None = None
    cache: bool = True  # --no-cache: neither read nor write output/.cache
    refresh: bool = False  # --refresh: ignore cached entries, write new ones
    labels: tuple[str, str] | None = None  # the period's and compare window's labels, with period/compare
    # Draw charts in a second process while laying out pages: the `briefgen build` program turns it on;
    # off for library callers (a process with threads must not fork) and for a batch's workers.
    parallel: bool = False
    sector: str = DEFAULT_SECTOR  # briefgen.sector.load_sector's name: the subject the brief is about

    def fingerprint(self) -> tuple[str, ...]:
        """The options that change the output, as text for the cache keys."""
        return (f"period={self.period}", f"compare={self.compare}", f"as_of={self.as_of}", f"labels={self.labels}",
                f"variant={self.pdf_variant}", f"strict={self.strict}", f"sector={self.sector}")


@dataclass(frozen=True)
class OutputFile:
    path: Path
    size: int
    pages: int | None = None


@dataclass(frozen=True)
class BuildResult:
    files: tuple[OutputFile, ...]
    charts: int
    seconds: float
    warnings: tuple[Problem | str, ...]
    unchanged: bool = False  # nothing changed since the last build: nothing was rewritten
    drawn: tuple[str, ...] = ()  # the charts drawn by this build (the rest came from the cache)
    cache_hits: dict[str, int] = field(default_factory=dict)


def build(options: BuildOptions) -> BuildResult:
    """Build brief.pdf and brief.html (charts beside them) in options.output_dir."""
    started = time.perf_counter()
    from briefgen.files import inside
    from briefgen.store.history import recover_history

    output = Path(options.output_dir)
    inside(output, "charts")  # refused before anything is done: a link out of the output folder
    cache = Cache.for_output(output, enabled=options.cache, refresh=options.refresh)
    keys = build_keys(options.inputs_dir, options.templates_dir, options.fingerprint(), options.sector)
    from briefgen.html.overrides import override_warnings

    overrides = override_warnings(options.templates_dir, options.strict, options.sector)  # a mistyped override's name
    recovered = recover_history(output)  # a damaged history is moved aside: a record, not a dependency
    notes = (recovered,) if recovered is not None else ()
    previous = _unchanged(output, keys, cache)
    if previous is not None:
        return dataclasses.replace(previous, seconds=time.perf_counter() - started, unchanged=True, drawn=(),
                                   warnings=(*notes, *previous.warnings))

    from briefgen.inputs.commentary import commentary_warnings, load_commentary
    from briefgen.publish.draft import keep_publishable
    from briefgen.errors import InputError
    from briefgen.files import staging
    from briefgen.store.history import HistoryError, record_build
    from briefgen.html.render import render_commentary

    # The prose is read and checked on every build; everything else comes from the skeleton.
    texts, prose_sources = load_commentary(options.inputs_dir)
    prose_warnings = tuple(commentary_warnings(texts))
    takeaways = texts.pop("takeaways", "")
    prose = render_commentary(texts, load_sector(options.sector).sections)
    sections = sorted(name for name, html in prose.items() if str(html).strip())
    skeleton, drawn, svgs = _skeleton(options, keys, cache, sections, prose_sources, takeaways)
    table_sources = [_source(s) for s in skeleton["sources"]]
    try:
        if options.strict and prose_warnings:  # a skeleton made now already refused them with the tables'
            raise InputError(prose_warnings)
        with staging(output) as stage:
            html = _fill(skeleton["html"], prose, prose_sources)
            pdf = _write_brief(options, stage, html, skeleton["metadata"], svgs, (*table_sources, *prose_sources),
                               cache)
            keep_publishable(stage, html, skeleton["publication"], cache)
            charts, static = _publish(stage, output, options, cache)
    finally:
        svgs.cancel()  # a failed build: stop drawing charts nobody will use
    files = (
        OutputFile(output / "brief.pdf", (output / "brief.pdf").stat().st_size, pdf.pages),
        OutputFile(output / "brief.html", (output / "brief.html").stat().st_size),
    )
    as_of = date.fromisoformat(skeleton["as_of"])
    warnings = (*overrides, *skeleton["warnings"], *prose_warnings, *pdf.warnings)
    from briefgen.store.audit import AuditError, append

    provenance = {"final_sha256": _sha256(output / PUBLISHABLE / "brief.pdf"), "build_key": keys.build,
                  "inputs_dir": str(Path(options.inputs_dir).resolve()),
                  "templates_dir": str(Path(options.templates_dir).resolve()) if options.templates_dir else None,
                  "options": json.dumps(list(options.fingerprint())),
                  "warnings": json.dumps([str(w) for w in warnings], ensure_ascii=False)}
    try:
        build_id = record_build(output, as_of=as_of, period=_span(skeleton["period"]),
                                compare=_span(skeleton["compare"]), figures=skeleton["figures"],
                                sources=(*table_sources, *prose_sources), pdf_sha256=_sha256(output / "brief.pdf"),
                                pdf_variant=options.pdf_variant, provenance=provenance)
    except HistoryError as exc:  # the brief is published by now: say the history missed it, do not fail
        warnings += (Problem("history.sqlite", f"this build was not recorded: {exc}"),)
    else:
        try:
            append(output, "build", {"build": build_id, "as_of": as_of.isoformat(), "status": "draft",
                                     "pdf_sha256": provenance["final_sha256"], "warnings": len(warnings)})
        except AuditError as exc:
            warnings += (Problem("audit.jsonl", f"the audit trail missed this build: {exc}"),)
    result = BuildResult(files, len(charts), time.perf_counter() - started, warnings, drawn=drawn,
                         cache_hits=dict(cache.hits))
    _write_manifest(output, keys, cache, result, as_of, static)
    # Said once, not kept in the manifest: the next build has nothing to repair.
    notes += tuple(Problem(f"{CACHE_DIR}/{name}", "damaged cache entry ignored; rebuilt and replaced")
                   for name in dict.fromkeys(cache.damaged))
    return dataclasses.replace(result, warnings=(*notes, *warnings)) if notes else result


def _write_brief(options: BuildOptions, stage: Path, html: str, meta: dict, svgs: Background[dict[str, bytes]],
                 sources, cache: Cache):
    """brief.html, the charts and brief.pdf, written into the staging folder; the PdfInfo.

    The charts may still be being drawn (briefgen.background): the PDF stage lays out what shows
    none meanwhile, and writes them into charts/ when it first needs one.
    """
    from briefgen.errors import PdfError
    from briefgen.files import write_atomic
    from briefgen.pdf import PdfMetadata, charts_pending, write_pdf
    from briefgen.resources import template_folders

    chart_dir = stage / "charts"

    @functools.cache
    def place_charts() -> None:
        for name, svg in svgs.result().items():
            write_atomic(chart_dir / f"{name}.svg", svg)

    write_atomic(stage / "brief.html", html.encode("utf-8"))
    metadata = PdfMetadata(meta["title"], tuple(meta["authors"]), meta["subject"], tuple(meta["keywords"]),
                           meta["lang"], date.fromisoformat(meta["created"]))
    archive = options.pdf_variant == "pdf/a-3u"
    attachments = [(options.inputs_dir / s.name.split("[")[0], s.name) for s in sources] if archive else []
    try:
        with charts_pending(chart_dir, place_charts):
            pdf = write_pdf(html, stage, stage / "brief.pdf", metadata=metadata, variant=options.pdf_variant,
                            attachments=attachments, strict=options.strict,
                            template_dirs=template_folders(options.templates_dir, options.sector),
                            cache=cache, parallel=options.parallel)
    except PdfError:
        place_charts()  # charts that failed to draw: their own error, not WeasyPrint's "could not load"
        raise
    place_charts()
    return pdf


def _publish(stage: Path, output: Path, options: BuildOptions, cache: Cache) -> tuple[list[Path], set[str]]:
    """Move the staged files over the published ones, the PDF last; the charts and static files published.

    The stylesheets and fonts go first (briefgen.html.static), so brief.html opened from disk finds them.
    """
    from briefgen.files import inside, listed, publish, remove_stale, write_listing
    from briefgen.html.static import remove_stale_static, stage_static

    folder, publishable = inside(output, "charts"), inside(output, PUBLISHABLE)
    charts = sorted((stage / "charts").glob("*.svg"))
    moves, static = stage_static(stage, output, options.templates_dir, options.sector)
    # The listing names every chart published there, old and new, until the stale ones are gone:
    # a build killed in between leaves the next one what it needs to remove them.
    old = listed(folder / CHARTS_MANIFEST)
    kept = {**old, **write_listing(stage / CHARTS_MANIFEST, charts, old, folder)}
    moves.update({chart: folder / chart.name for chart in charts})
    moves[stage / CHARTS_MANIFEST] = folder / CHARTS_MANIFEST
    for name in ("brief.json", "brief.html", "brief.pdf"):  # before the draft: a publish reads the pair
        moves[stage / PUBLISHABLE / name] = publishable / name
    moves[stage / "brief.html"] = output / "brief.html"
    moves[stage / "brief.pdf"] = output / "brief.pdf"  # last: the PDF is what the desk sends
    publish(moves)
    remove_stale(folder / CHARTS_MANIFEST, kept, {chart.name for chart in charts})
    remove_stale_static(output, _manifest_files(cache), static)
    return charts, static


def _manifest_files(cache: Cache) -> set[str]:
    """The files the last build's manifest says it published (none without the cache)."""
    try:
        return set(json.loads((cache.root / MANIFEST).read_text())["files"]) if cache.root is not None else set()
    except (OSError, ValueError, KeyError, TypeError):
        return set()


# --- the skeleton: the whole brief but its prose ---------------------------------------------

PROSE_MARK = "<!--briefgen:commentary:{}-->"


def _digest_mark(name: str) -> str:
    """Where a commentary file's SHA-256 goes in the skeleton's sources table."""
    return "briefgen-sha256-" + hashlib.sha256(name.encode()).hexdigest()[:16]


def _fill(skeleton: str, prose: dict, prose_sources) -> str:
    """Put the rendered commentary and the commentary files' digests into the skeleton, in one pass.

    The marks cannot come from an input: every input string is escaped (a '<' prints as '&lt;')
    and the sanitiser drops comments from commentary.
    """
    values = {PROSE_MARK.format(name): str(html) for name, html in prose.items() if str(html).strip()}
    values.update({_digest_mark(source.name): source.sha256 for source in prose_sources})
    if not values:
        return skeleton
    pattern = re.compile("|".join(re.escape(mark) for mark in values))
    return pattern.sub(lambda match: values[match.group(0)], skeleton)


def _skeleton(options: BuildOptions, keys: Keys, cache: Cache, sections: list[str], prose_sources,
              takeaways: str) -> tuple[dict, tuple[str, ...], Background[dict[str, bytes]]]:
    """The brief's HTML with marks where the prose goes, what else the PDF and history need, the charts.

    Keyed by everything but the prose itself, so a commentary edit reuses it without importing
    pandas, matplotlib or Jinja's rendering of the figures. Returns the skeleton, the charts drawn
    (not taken from the cache) and every chart's SVG bytes by name, perhaps still being drawn.
    """
    from briefgen.background import Background
    from briefgen.store.history import previous_key

    key = digest(keys.data, keys.templates, ",".join(sections), ",".join(s.name for s in prose_sources), takeaways)
    cached = cache.get("skeleton", key)
    if cached is not None:
        skeleton = json.loads(cached)
        svgs = [cache.get("chart", chart["key"]) for chart in skeleton["charts"]]
        current = previous_key(options.output_dir, date.fromisoformat(skeleton["as_of"]))
        if skeleton["previous"] == current and all(svg is not None for svg in svgs):
            return skeleton, (), Background.done({chart["name"]: svg for chart, svg in zip(skeleton["charts"], svgs)})

    from markupsafe import Markup

    from briefgen.store.history import previous_brief
    from briefgen.html.render import pdf_metadata, render_html
    from briefgen.publish.versions import publication_facts

    sector = load_sector(options.sector)
    inputs, metrics = _inputs_and_metrics(options, sector, keys, cache)
    charts, entries, drawn, svgs = _charts(metrics, options.sector, keys, cache, options.parallel)
    try:  # the charts are being drawn meanwhile
        config = inputs.config
        marks = {name: Markup(PROSE_MARK.format(name)) for name in sections}
        sources = (*(s for s in inputs.sources if not s.name.startswith("commentary/")),
                   *(dataclasses.replace(s, sha256=_digest_mark(s.name)) for s in prose_sources))
        previous = previous_brief(options.output_dir, config.as_of)
        context = sector.context(inputs, metrics, charts, previous, marks, sources, takeaways)
        metadata = pdf_metadata(context, sector.keywords)
        skeleton = {
            "html": render_html(context, options.templates_dir, options.sector),
            "metadata": {"title": metadata.title, "authors": list(metadata.authors), "subject": metadata.subject,
                         "keywords": list(metadata.keywords), "lang": metadata.lang,
                         "created": metadata.created.isoformat()},
            "figures": sector.figures(metrics),
            "as_of": config.as_of.isoformat(),
            "period": config.period.as_dict(),
            "compare": config.compare.as_dict(),
            "sources": [{"name": s.name, "rows": s.rows, "first": s.first and s.first.isoformat(),
                         "last": s.last and s.last.isoformat(), "sha256": s.sha256}
                        for s in inputs.sources if not s.name.startswith("commentary/")],
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


def _span(window: dict) -> tuple[date, date]:
    return date.fromisoformat(window["start"]), date.fromisoformat(window["end"])


# --- the cached stages -----------------------------------------------------------------------


def _inputs_and_metrics(options: BuildOptions, sector: Sector, keys: Keys, cache: Cache):
    """Validated inputs and their metrics, cached by the key of the tables and brief.yaml."""
    from briefgen.store import snapshot

    cached = cache.get("metrics", keys.data)
    if cached is not None:
        try:
            inputs, metrics = snapshot.loads(cached)
            return inputs, metrics
        except (snapshot.Damaged, ValueError, TypeError):
            cache.damaged.append(f"metrics/{keys.data}")  # sealed yet unreadable: written by another briefgen
    inputs = sector.load(options.inputs_dir, period=options.period, compare=options.compare, strict=options.strict,
                         as_of=options.as_of, labels=options.labels)
    metrics = sector.compute(inputs)
    try:  # JSON, not pickle: reading a cache entry can never run code
        cache.put("metrics", keys.data, snapshot.dumps((dataclasses.replace(inputs, commentary={}), metrics)))
    except snapshot.Unsupported:
        pass  # a value the snapshot cannot store exactly: computed again next time rather than stored wrong
    return inputs, metrics


def _charts(metrics, sector: str, keys: Keys, cache: Cache, parallel: bool):
    """The charts, and their SVG bytes to come: each SVG keyed by its own data slice, drawn only on a miss.

    The whole set is also keyed by the tables' key, so a build whose tables did not change (a
    template edit) takes every chart from the cache without importing matplotlib. Charts are
    named by their place in the build's folder, charts/<name>.svg. With `parallel`, the missing
    ones are drawn in a forked process (briefgen.background) while the build goes on.
    """
    from briefgen.background import Background
    from briefgen.charts import Chart

    listing = cache.get("chartset", keys.data)
    if listing is not None:
        entries = json.loads(listing)
        svgs = [cache.get("chart", entry["key"]) for entry in entries]
        if all(svg is not None for svg in svgs):
            charts = tuple(Chart(e["name"], Path("charts", f"{e['name']}.svg"), e["title"], e["alt"], e["section"],
                                 e["source"], e["width"]) for e in entries)
            return charts, entries, (), Background.done({e["name"]: svg for e, svg in zip(entries, svgs)})

    from briefgen.charts import data_key

    charts, entries, cached, todo = [], [], {}, []
    for spec in load_sector(sector).charts().values():
        data = spec.data(metrics)
        if data is None:
            continue
        key = digest(keys.code, data_key(spec.name, data))
        svg = cache.get("chart", key)
        if svg is None:
            todo.append((spec.name, key, data))
        else:
            cached[spec.name] = svg
        chart = spec.chart(data, Path("charts", f"{spec.name}.svg"))
        charts.append(chart)
        entries.append({"name": chart.name, "key": key, "title": chart.title, "alt": chart.alt,
                        "section": chart.section, "source": chart.source, "width": chart.width})

    def keep(drawn: dict[str, bytes]) -> dict[str, bytes]:
        for name, key, _ in todo:
            cache.put("chart", key, drawn[name])
        cache.put("chartset", keys.data, json.dumps(entries, sort_keys=True).encode())
        return {entry["name"]: cached.get(entry["name"]) or drawn[entry["name"]] for entry in entries}

    jobs = [(sector, name, data) for name, _, data in todo]
    # One chart is not worth a process; nor is a batch worker's, whose siblings have the other cores.
    drawing = Background.start(_draw, jobs) if parallel and len(jobs) > 1 else Background.done(_draw(jobs))
    return tuple(charts), entries, tuple(name for name, _, _ in todo), drawing.then(keep)


def _draw(jobs: list[tuple[str, str, Any]]) -> dict[str, bytes]:
    """Each (sector, chart name, data slice) drawn to SVG bytes."""
    return {name: load_sector(sector).charts()[name].svg(data) for sector, name, data in jobs}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _unchanged(output: Path, keys: Keys, cache: Cache) -> BuildResult | None:
    """The last build's result when its key matches and its files are intact; else None."""
    if cache.root is None or cache.refresh:
        return None
    from briefgen.files import inside
    from briefgen.store.history import previous_key

    try:
        manifest = json.loads(inside(cache.root, MANIFEST).read_text())
        if manifest["key"] != keys.build:
            return None
        # A brief recorded since with an earlier date changes this one's "since" column.
        if manifest["previous"] != previous_key(output, date.fromisoformat(manifest["as_of"])):
            return None
        for name, sha in manifest["files"].items():
            if _sha256(output / name) != sha:
                return None
    except (OSError, ValueError, KeyError):
        return None
    files = tuple(OutputFile(output / f["path"], f["size"], f["pages"]) for f in manifest["outputs"])
    return BuildResult(files, manifest["charts"], 0.0, tuple(manifest["warnings"]))


def _write_manifest(output: Path, keys: Keys, cache: Cache, result: BuildResult, as_of: date,
                    static: set[str]) -> None:
    if cache.root is None:
        return
    from briefgen.files import ensure_dir, write_atomic
    from briefgen.store.history import previous_key

    names = ["brief.pdf", "brief.html", *(f"{PUBLISHABLE}/{n}" for n in ("brief.pdf", "brief.html", "brief.json")),
             *(f"charts/{p.name}" for p in sorted((output / "charts").glob("*.svg"))), *sorted(static)]
    manifest: dict[str, Any] = {
        "key": keys.build,
        "files": {name: _sha256(output / name) for name in names},
        "outputs": [{"path": f.path.relative_to(output).as_posix(), "size": f.size, "pages": f.pages}
                    for f in result.files],
        "charts": result.charts,
        "warnings": [str(w) for w in result.warnings],
        "as_of": as_of.isoformat(),
        "previous": previous_key(output, as_of),
    }
    ensure_dir(cache.root)
    write_atomic(cache.root / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
