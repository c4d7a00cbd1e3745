"""Turn an inputs folder into the finished brief: the pipeline's stages in order, in one function.

inputs (read, validate) -> metrics (pure pandas) -> charts (SVG) -> HTML (Jinja2) -> PDF
(WeasyPrint). Each stage's output is cached under output/.cache/ by a hash of exactly what it
depends on (briefgen.keys), so a rebuild redoes only what changed. Everything is produced in a
private staging folder inside the output folder and published by atomic renames once every stage
has succeeded, so a failed or killed build leaves the previous brief whole.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from briefgen.cache import Cache, digest
from briefgen.errors import Problem
from briefgen.keys import Keys, build_keys

PDF_VARIANTS = ("pdf/a-3u", "pdf/ua-1")
MANIFEST = "last-build.json"


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

    def fingerprint(self) -> tuple[str, ...]:
        """The options that change the output, as text for the cache keys."""
        return (f"period={self.period}", f"compare={self.compare}", f"as_of={self.as_of}", f"labels={self.labels}",
                f"variant={self.pdf_variant}", f"strict={self.strict}")


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
    output = Path(options.output_dir)
    cache = Cache.for_output(output, enabled=options.cache, refresh=options.refresh)
    keys = build_keys(options.inputs_dir, options.templates_dir, options.fingerprint())
    previous = _unchanged(output, keys, cache)
    if previous is not None:
        return dataclasses.replace(previous, seconds=time.perf_counter() - started, unchanged=True, drawn=())

    from briefgen.files import publish, staging, write_atomic
    from briefgen.history import HistoryError, file_sha256, previous_brief, record_build
    from briefgen.pdf import write_pdf
    from briefgen.render import pdf_metadata, render_html
    from briefgen.report import metrics_as_dict

    inputs, metrics = _inputs_and_metrics(options, keys, cache)
    previous = previous_brief(output, inputs.config.as_of)
    with staging(output) as stage:
        charts, drawn = _charts(metrics, keys, cache, stage / "charts")
        context = brief_context(inputs, metrics, charts, previous)
        html = render_html(context, options.templates_dir)
        write_atomic(stage / "brief.html", html.encode("utf-8"))
        attachments = [(options.inputs_dir / s.name.split("[")[0], s.name) for s in inputs.sources]
        pdf = write_pdf(html, stage, stage / "brief.pdf", metadata=pdf_metadata(context), variant=options.pdf_variant,
                        attachments=attachments if options.pdf_variant == "pdf/a-3u" else (), strict=options.strict,
                        templates_dir=options.templates_dir, cache=cache)
        moves = {chart.path: output / "charts" / chart.path.name for chart in charts}
        moves[stage / "brief.html"] = output / "brief.html"
        moves[stage / "brief.pdf"] = output / "brief.pdf"  # last: the PDF is what the desk sends
        publish(moves)
        _remove_stale_charts(output / "charts", {chart.path.name for chart in charts})
    files = (
        OutputFile(output / "brief.pdf", (output / "brief.pdf").stat().st_size, pdf.pages),
        OutputFile(output / "brief.html", (output / "brief.html").stat().st_size),
    )
    config = inputs.config
    warnings = tuple(inputs.warnings) + tuple(pdf.warnings)
    try:
        record_build(output, as_of=config.as_of, period=config.period, compare=config.compare,
                     figures=metrics_as_dict(metrics), sources=inputs.sources,
                     pdf_sha256=file_sha256(output / "brief.pdf"), pdf_variant=options.pdf_variant)
    except HistoryError as exc:  # the brief is published by now: say the history missed it, do not fail
        warnings += (Problem("history.sqlite", f"this build was not recorded: {exc}"),)
    result = BuildResult(files, len(charts), time.perf_counter() - started, warnings, drawn=drawn,
                         cache_hits=dict(cache.hits))
    _write_manifest(output, keys, cache, result, config.as_of)
    return result


# --- the cached stages -----------------------------------------------------------------------


def _inputs_and_metrics(options: BuildOptions, keys: Keys, cache: Cache):
    """Validated inputs and their metrics; the tables' part is cached, the commentary always read."""
    from briefgen.errors import InputError
    from briefgen.inputs import COMMENTARY_DIR, commentary_warnings, load_commentary, load_inputs
    from briefgen.metrics import compute

    key = keys.data
    cached = cache.get("metrics", key)
    if cached is not None:
        inputs, metrics = pickle.loads(cached)
        commentary, sources = load_commentary(options.inputs_dir)
        fresh = tuple(commentary_warnings(commentary))
        if options.strict and fresh:
            raise InputError(fresh)
        tables = tuple(s for s in inputs.sources if not s.name.startswith(f"{COMMENTARY_DIR}/"))
        warnings = tuple(w for w in inputs.warnings if not w.file.startswith(f"{COMMENTARY_DIR}/")) + fresh
        return dataclasses.replace(inputs, commentary=commentary, sources=tables + sources, warnings=warnings), metrics
    inputs = load_inputs(options.inputs_dir, options.period, options.compare, strict=options.strict, as_of=options.as_of,
                         labels=options.labels)
    metrics = compute(inputs)
    cache.put("metrics", key, pickle.dumps((dataclasses.replace(inputs, commentary={}), metrics), protocol=5))
    return inputs, metrics


def _charts(metrics, keys: Keys, cache: Cache, out_dir: Path):
    """Chart files for the metrics: each SVG keyed by its own data slice, drawn only on a miss.

    The whole set is also keyed by the tables' key, so a build whose tables did not change (a
    commentary edit) takes every chart from the cache without importing matplotlib.
    """
    from briefgen.charts import Chart
    from briefgen.files import ensure_dir, write_atomic

    ensure_dir(out_dir)
    listing = cache.get("chartset", keys.data)
    if listing is not None:
        entries = json.loads(listing)
        svgs = [cache.get("chart", entry["key"]) for entry in entries]
        if all(svg is not None for svg in svgs):
            charts = []
            for entry, svg in zip(entries, svgs):
                write_atomic(out_dir / f"{entry['name']}.svg", svg)
                charts.append(Chart(entry["name"], out_dir / f"{entry['name']}.svg", entry["title"], entry["alt"],
                                    entry["section"], entry["source"], entry["width"]))
            return tuple(charts), ()

    from briefgen.charts import chart_specs, data_key

    charts, entries, drawn = [], [], []
    for spec in chart_specs().values():
        data = spec.data(metrics)
        if data is None:
            continue
        key = digest(keys.code, data_key(spec.name, data))
        svg = cache.get("chart", key)
        if svg is None:
            svg = spec.svg(data)
            cache.put("chart", key, svg)
            drawn.append(spec.name)
        path = out_dir / f"{spec.name}.svg"
        write_atomic(path, svg)
        chart = Chart(spec.name, path, spec.title, spec.describe(data), spec.section, spec.source, spec.width)
        charts.append(chart)
        entries.append({"name": chart.name, "key": key, "title": chart.title, "alt": chart.alt,
                        "section": chart.section, "source": chart.source, "width": chart.width})
    cache.put("chartset", keys.data, json.dumps(entries, sort_keys=True).encode())
    return tuple(charts), tuple(drawn)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _unchanged(output: Path, keys: Keys, cache: Cache) -> BuildResult | None:
    """The last build's result when its key matches and its files are intact; else None."""
    if cache.root is None or cache.refresh:
        return None
    from briefgen.history import previous_key

    try:
        manifest = json.loads((cache.root / MANIFEST).read_text())
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


def _write_manifest(output: Path, keys: Keys, cache: Cache, result: BuildResult, as_of: date) -> None:
    if cache.root is None:
        return
    from briefgen.files import ensure_dir, write_atomic
    from briefgen.history import previous_key

    names = ["brief.pdf", "brief.html", *(f"charts/{p.name}" for p in sorted((output / "charts").glob("*.svg")))]
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


# --- assembling the context ------------------------------------------------------------------


def brief_context(inputs, metrics, charts, previous=None):
    """Assemble what the templates print: drafted headline and takeaways, unless the analysts wrote them."""
    from briefgen.narrative import draft_headline, draft_takeaways
    from briefgen.render import BriefContext, render_commentary

    config = inputs.config
    commentary = dict(inputs.commentary)
    written = _list_items(commentary.pop("takeaways", ""))
    takeaways = draft_takeaways(metrics)
    if written:
        takeaways = [*takeaways, *written] if config.takeaways == "extend" else written
    return BriefContext(
        config=config,
        metrics=metrics,
        charts=charts,
        headline=config.title or draft_headline(metrics),
        takeaways=tuple(takeaways),
        commentary=render_commentary(commentary),
        sources=inputs.sources,
        previous=previous,
    )


def _list_items(markdown: str) -> list[str]:
    """The items of the Markdown list in takeaways.md, as plain text (the templates escape them)."""
    items: list[str] = []
    for line in markdown.splitlines():
        stripped = line.strip()
        marker = next((m for m in ("- ", "* ", "+ ") if stripped.startswith(m)), None)
        if marker is None and stripped[:1].isdigit() and ". " in stripped[:4]:
            marker = stripped[: stripped.index(". ") + 2]
        if marker is not None:
            items.append(stripped[len(marker):].strip())
        elif stripped and items and line.startswith((" ", "\t")):
            items[-1] += " " + stripped  # a wrapped continuation line
    return [item for item in items if item]


def _remove_stale_charts(folder: Path, keep: set[str]) -> None:
    """Charts an earlier build drew that this one did not (e.g. miners' data removed)."""
    for path in folder.glob("*.svg"):
        if path.name not in keep:
            path.unlink(missing_ok=True)
