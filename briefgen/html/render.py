"""Turn a BriefContext into the brief's HTML: the one Jinja environment, its filters, safe commentary.

Templates are looked up in an override folder first (``--templates DIR``, holding only the files it
changes), then in the project's ``templates/``. The environment is sandboxed, autoescapes, and
fails on any undefined variable. Analysts' commentary is untrusted Markdown: it is rendered without
raw HTML and then cleaned against an allow-list, so only plain prose, lists, tables and http(s) or
mailto links reach the page.
"""

from __future__ import annotations

import functools
import math
import os
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import jinja2
import nh3
from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt
from markupsafe import Markup

from briefgen import __version__
from briefgen.errors import RenderError
from briefgen.formatting import FILTERS, MISSING, dates, nobreak
from briefgen.html.compiled import code_cache
from briefgen.resources import template_folders
from briefgen.sector import DEFAULT_SECTOR, load_sector

if TYPE_CHECKING:
    from briefgen.charts import Chart
    from briefgen.inputs.config import BriefConfig
    from briefgen.inputs.folder import SourceFile
    from briefgen.pdf import PdfMetadata
    from briefgen.store.figures import KeyFigure
    from briefgen.store.history import PreviousBrief

ENTRY_TEMPLATE = "brief.html"
DEFAULT_TITLE = "Sector brief"  # the series name when a sector names none (briefgen.sector.Sector.series)
DEFAULT_DISCLAIMER = (
    "For institutional investors only. Not investment advice. "
    "See the disclosures and analyst certification at the end of this note."
)
# Where the PDF stage serves charts from; charts are referenced by file name under it.
CHART_URL_PREFIX = "charts/"


@dataclass(frozen=True, eq=False)
class BriefContext:
    """Everything the templates print. Numbers come computed; templates only format and arrange.

    metrics: the sector's metrics, whatever its `compute` returns; `metrics.period` is the period's Window.
    commentary: sanitised HTML keyed by section (the sector's Sector.sections), from render_commentary.
    sources: one entry per input file, with name, rows, first, last and sha256 attributes.
    recipient: printed in the footer of a per-client copy; None for the master copy.
    previous: the latest brief recorded with an earlier as-of date (briefgen.store.history), or None.
    key_figures: the sector's key figures (Sector.key_figures), which `since` compares with `previous`.
    """

    config: BriefConfig
    metrics: Any
    charts: tuple[Chart, ...]
    headline: str
    takeaways: tuple[str, ...]
    commentary: Mapping[str, Markup] = field(default_factory=dict)
    sources: tuple[SourceFile, ...] = ()
    disclaimer: str = DEFAULT_DISCLAIMER
    recipient: str | None = None
    generator: str = f"briefgen {__version__}"
    series: str = DEFAULT_TITLE  # the note's name: the sector's Sector.series
    previous: PreviousBrief | None = None
    key_figures: tuple[KeyFigure, ...] = ()

    @property
    def as_of(self) -> date:
        return self.config.as_of or self.metrics.period.end

    def since(self, name: str) -> float | None:
        """A key figure's change since the previous brief (by KeyFigure name): % for levels, bp for shares."""
        key = next((key for key in self.key_figures if key.name == name), None)
        if key is None:
            raise KeyError(
                f"{name!r} is not one of the sector's key figures "
                f"({', '.join(k.name for k in self.key_figures) or 'it declares none'})"
            )
        if self.previous is None:
            return None
        return key.change(key.value(self.metrics), key.value(self.previous.figures))

    def charts_for(self, section: str) -> tuple[Chart, ...]:
        """The section's charts in the order charts.py drew them."""
        return tuple(chart for chart in self.charts if chart.section == section)


# --- commentary ------------------------------------------------------------------------------

_ALLOWED_TAGS = {
    "p",
    "em",
    "strong",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "h3",
    "h4",
    "blockquote",
    "code",
    "br",
}
_ALLOWED_SCHEMES = {"http", "https", "mailto"}


@functools.cache
def _markdown() -> MarkdownIt:
    # Raw HTML is parsed (not escaped into visible text) so that nh3 below can strip it: tags off
    # the allow-list go, their text stays; <script> and <style> go with their content.
    return MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable("table")


def _keep_href(tag: str, attribute: str, value: str) -> str | None:
    # Belt and braces over url_schemes: only absolute http(s) and mailto links survive.
    if tag == "a" and attribute == "href":
        scheme = value.split(":", 1)[0].strip().lower() if ":" in value else ""
        return value if scheme in _ALLOWED_SCHEMES else None
    return value


def render_markdown(text: str, section_title: str | None = None) -> Markup:
    """Render untrusted Markdown to sanitised HTML: no raw HTML, no scripts, links http(s)/mailto only.

    Headings are demoted so an analyst's '#' becomes an h3 inside the section it appears in; a
    leading heading that only repeats `section_title` ('# Outlook' in outlook.md) is dropped.
    """
    md = _markdown()
    tokens = md.parse(text)
    if (
        section_title
        and len(tokens) >= 3
        and tokens[0].type == "heading_open"
        and tokens[1].content.strip().lower() == section_title.lower()
    ):
        tokens = tokens[3:]
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = "h3" if token.tag in ("h1", "h2") else "h4"
        elif token.type in ("th_open", "td_open"):
            token.attrs.pop("style", None)  # alignment styles are not on the allow-list
    html = md.renderer.render(tokens, md.options, {})
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes={"a": {"href"}},
        attribute_filter=_keep_href,
        url_schemes=_ALLOWED_SCHEMES,
        url_relative="deny",
        link_rel="noopener",
        strip_comments=True,
    )
    return Markup(clean)


def render_commentary(texts: Mapping[str, str], sections: Mapping[str, str]) -> dict[str, Markup]:
    """Render each commentary file by the sector's sections (name -> title, in the brief's order).

    A file named after a section is that section's; any other is appended to the last section, in
    file-name order.
    """
    rendered: dict[str, Markup] = {}
    extra = []
    for name in sorted(texts):
        html = render_markdown(texts[name], sections.get(name))
        if name in sections:
            rendered[name] = html
        else:
            extra.append(html)
    if extra and sections:
        last = list(sections)[-1]
        rendered[last] = Markup("").join([rendered.get(last, Markup("")), *extra])
    return rendered


# --- filters that arrange (never compute) ----------------------------------------------------


def _cell(value: Any) -> Any:
    """A table cell as the templates want it: NaN and pandas NA become None, numpy scalars Python's."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def rows(frame: Any) -> list[dict[str, Any]]:
    """A DataFrame's rows as dicts (column -> cell), for `{% for r in frame|rows %}`."""
    if frame is None:
        return []
    columns = [str(c) for c in frame.columns]
    return [dict(zip(columns, map(_cell, values), strict=False)) for values in frame.itertuples(index=False, name=None)]


@dataclass(frozen=True)
class GridCell:
    value: float | None
    base: bool


@dataclass(frozen=True)
class GridRow:
    label: float
    base: bool
    cells: tuple[GridCell, ...]


@dataclass(frozen=True)
class Grid:
    columns: tuple[GridCell, ...]
    rows: tuple[GridRow, ...]


def grid(frame: Any) -> Grid:
    """A two-way grid (a DataFrame: one input along the index, another along the columns) as header cells and rows.

    The base case is the middle row and column: the grid's steps run symmetric around it.
    """
    if frame is None or frame.empty:
        return Grid((), ())
    mid_col, mid_row = len(frame.columns) // 2, len(frame.index) // 2
    columns = tuple(GridCell(_cell(c), i == mid_col) for i, c in enumerate(frame.columns))
    body = tuple(
        GridRow(
            _cell(label),
            r == mid_row,
            tuple(GridCell(_cell(v), r == mid_row or c == mid_col) for c, v in enumerate(values)),
        )
        for r, (label, values) in enumerate(zip(frame.index, frame.itertuples(index=False, name=None), strict=False))
    )
    return Grid(columns, body)


def chart_src(chart: Any) -> str:
    """The URL the PDF stage serves a chart file at."""
    return CHART_URL_PREFIX + quote(Path(chart.path).name)


def _finalize(value: Any) -> Any:
    # A bare {{ value }} that is None prints as a dash, never "None".
    return MISSING if value is None else value


# --- the environment -------------------------------------------------------------------------


def search_path(override_dir: Path | None = None, sector: str | None = None) -> tuple[Path, ...]:
    """The template folders, override first (briefgen.resources.template_folders)."""
    return tuple(folder.resolve() for folder in template_folders(override_dir, sector))


class _FolderLoader(jinja2.FileSystemLoader):
    """Jinja's loader for one folder, refusing a template that is (or sits under) a link leading out of it."""

    def __init__(self, folder: Path):
        super().__init__(str(folder))
        self.folder = folder

    def get_source(self, environment: jinja2.Environment, template: str):
        from briefgen.files import inside

        pieces = jinja2.loaders.split_template_path(template)
        if os.path.lexists(self.folder.joinpath(*pieces)):  # checked before Jinja opens it
            inside(self.folder, *pieces, error=RenderError)
        return super().get_source(environment, template)


@functools.lru_cache(maxsize=8)
def _environment(folders: tuple[Path, ...], sector: str) -> SandboxedEnvironment:
    loader = jinja2.ChoiceLoader([_FolderLoader(folder) for folder in folders])
    env = SandboxedEnvironment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters.update(FILTERS)
    env.filters.update({"rows": rows, "grid": grid, "chart_src": chart_src})
    supplier = load_sector(sector)
    own = supplier.filters
    if clash := sorted(set(own) & set(env.filters)):
        raise RenderError(
            f"sector {sector}: filter{'s' if len(clash) > 1 else ''} {', '.join(map(repr, clash))} would replace "
            "the house's (briefgen.formatting, Jinja's own); give the sector's filter another name"
        )
    env.filters.update(own)
    if units := supplier.units:
        env.filters["nobreak"] = functools.partial(nobreak, units=units)  # the house's, with the sector's units
    env.bytecode_cache = code_cache(env)  # compiled templates kept between runs (html/compiled.py)
    return env


def environment(override_dir: Path | None = None, sector: str | None = None) -> SandboxedEnvironment:
    """The one Jinja environment for a template search path and a sector (cached per both).

    The house's filters, then the sector's (Sector.filters); RenderError if the sector's would replace one.
    """
    if override_dir is not None and not Path(override_dir).is_dir():
        raise RenderError(f"templates folder {override_dir} not found (pass --templates DIR with an existing folder)")
    return _environment(search_path(override_dir, sector), sector or DEFAULT_SECTOR)


def _where(exc: BaseException, roots: tuple[Path, ...]) -> str:
    """'partials/cover.html, line 12' for the innermost template frame of an exception."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if not frame.filename.endswith(".html"):
            continue
        name = frame.filename
        for root in roots:
            try:
                name = Path(frame.filename).resolve().relative_to(root).as_posix()
                break
            except ValueError:
                continue
        return f"{name}, line {frame.lineno}"
    return ""


def render_html(context: BriefContext, templates_dir: Path | None = None, sector: str | None = None) -> str:
    """Render brief.html for `context`; template problems raise RenderError naming file and line."""
    env = environment(templates_dir, sector)
    try:
        return env.get_template(ENTRY_TEMPLATE).render(brief=context, m=context.metrics, config=context.config)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"template {exc.name or exc.filename}, line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise RenderError(
            f"template {exc.name} not found in {', '.join(map(str, search_path(templates_dir, sector)))}"
        ) from None
    except (jinja2.UndefinedError, jinja2.exceptions.SecurityError) as exc:
        where = _where(exc, search_path(templates_dir, sector))
        raise RenderError(f"template {where}: {exc}" if where else f"template: {exc}") from None


def pdf_metadata(context: BriefContext, keywords: tuple[str, ...] = ()) -> PdfMetadata:
    """The PDF's document information for a brief: title, analysts, as-of date (never the build time)."""
    from briefgen.pdf import PdfMetadata

    return PdfMetadata(
        title=f"{context.series}: {context.headline}",
        authors=tuple(a.name for a in context.config.analysts) or (context.config.house,),
        subject=f"{context.config.house} sector brief, {dates(context.metrics.period)}",
        keywords=keywords,
        lang="en-GB",
        created=context.as_of,
    )
