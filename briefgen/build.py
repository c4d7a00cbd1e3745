"""Turn an inputs folder into the finished brief: the pipeline's stages in order, in one function.

inputs (read, validate) -> metrics (pure pandas) -> charts (SVG) -> HTML (Jinja2) -> PDF
(WeasyPrint). Everything is produced in a private staging folder inside the output folder and
published by atomic renames only once every stage has succeeded, so a failed or killed build
leaves the previous brief whole.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from briefgen.errors import Problem

PDF_VARIANTS = ("pdf/a-3u", "pdf/ua-1")


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
    warnings: tuple[Problem, ...]


def build(options: BuildOptions) -> BuildResult:
    """Build brief.pdf and brief.html (charts beside them) in options.output_dir."""
    from briefgen.charts import draw_charts
    from briefgen.files import publish, staging, write_atomic
    from briefgen.inputs import load_inputs
    from briefgen.metrics import compute
    from briefgen.pdf import write_pdf
    from briefgen.render import pdf_metadata, render_html

    started = time.perf_counter()
    inputs = load_inputs(options.inputs_dir, options.period, options.compare, strict=options.strict, as_of=options.as_of)
    metrics = compute(inputs)
    output = Path(options.output_dir)
    with staging(output) as stage:
        charts = draw_charts(metrics, stage / "charts")
        context = brief_context(inputs, metrics, charts)
        html = render_html(context, options.templates_dir)
        write_atomic(stage / "brief.html", html.encode("utf-8"))
        attachments = [(options.inputs_dir / s.name.split("[")[0], s.name) for s in inputs.sources]
        pdf = write_pdf(html, stage, stage / "brief.pdf", metadata=pdf_metadata(context), variant=options.pdf_variant,
                        attachments=attachments if options.pdf_variant == "pdf/a-3u" else (), strict=options.strict,
                        templates_dir=options.templates_dir)
        moves = {chart.path: output / "charts" / chart.path.name for chart in charts}
        moves[stage / "brief.html"] = output / "brief.html"
        moves[stage / "brief.pdf"] = output / "brief.pdf"  # last: the PDF is what the desk sends
        publish(moves)
        _remove_stale_charts(output / "charts", {chart.path.name for chart in charts})
    files = (
        OutputFile(output / "brief.pdf", (output / "brief.pdf").stat().st_size, pdf.pages),
        OutputFile(output / "brief.html", (output / "brief.html").stat().st_size),
    )
    return BuildResult(files, len(charts), time.perf_counter() - started, tuple(inputs.warnings) + tuple(pdf.warnings))


def brief_context(inputs, metrics, charts):
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
