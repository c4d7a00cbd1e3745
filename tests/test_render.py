"""Context -> HTML: escaping, sanitised commentary, strict templates, the override folder."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from jinja2 import ChoiceLoader, Environment, FileSystemLoader
from markupsafe import Markup

from briefgen.errors import RenderError
from briefgen.html.render import (
    BriefContext,
    environment,
    grid,
    pdf_metadata,
    render_commentary,
    render_html,
    render_markdown,
    rows,
)
from briefgen.inputs.config import Analyst
from briefgen.resources import TEMPLATES_DIR
from briefgen.sectors.bitcoin_mining import SECTOR
from tests.brief_fixtures import AS_OF, brief_config, brief_context, equity_figures, sector_metrics

pytestmark = pytest.mark.filterwarnings("error")

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def context(tmp_path: Path) -> BriefContext:
    return brief_context(tmp_path / "charts")


def _text(html: str) -> str:
    """Visible text of the HTML, whitespace collapsed (good enough for assertions)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- the whole brief -------------------------------------------------------------------------


def test_brief_has_every_section_and_the_cover(context):
    html = render_html(context)
    for section in (
        "summary",
        "network",
        "economics",
        "miners",
        "equities",
        "valuation",
        "deals",
        "outlook",
        "methodology",
        "sources",
        "disclosures",
    ):
        assert f'id="{section}"' in html, section
    text = _text(html)
    assert context.headline in text
    assert "Bitcoin miners add $13bn of market cap in early January as hashprice rises 11%" in text
    assert text.count("Key takeaways") == 1
    unbroken = html.replace('<span class="nb">', "").replace("</span>", "")  # figures kept whole (nobreak)
    for takeaway in context.takeaways:
        assert takeaway.replace("'", "&#39;") in unbroken
    assert "$62.0bn" in text and "+$13.2bn" in text
    assert "419.0" in text and "+12.3" in text
    assert "+300 bp" in text
    assert "$0.040/kWh" in text and "22.0 J/TH" in text  # the assumptions are printed
    assert "3" * 64 in text  # each source's digest
    assert "Alex Morgan" in text and "alex.morgan@example.com" in text
    # the house's disclosures name the sector's methodology appendix (brief.html sets `methodology`)
    assert "listed in Appendix B under the assumptions set out in Appendix A; they are estimates" in text


def test_charts_are_referenced_by_virtual_name_with_caption_alt_and_source(context):
    html = render_html(context)
    assert 'src="charts/network_hashrate.svg"' in html
    assert str(context.charts[0].path.parent) not in html  # no machine path in the HTML
    assert 'alt="Chart of network hashrate (7-day average) and difficulty."' in html
    assert "Network hashrate (7-day average) and difficulty" in html
    assert 'class="chart chart-half"' in html


def test_missing_miners_equities_and_deals_drop_their_sections(tmp_path):
    metrics = sector_metrics(miners=False, equities=False, with_deals=False)
    html = render_html(brief_context(tmp_path, metrics))
    assert 'id="miners"' not in html and 'id="equities"' not in html
    assert 'href="#miners"' not in html
    # No deals file: the section and its contents line are left out, and no source line cites a missing file.
    assert 'id="deals"' not in html and 'href="#deals"' not in html
    assert 'id="valuation"' in html  # the opportunity needs no market caps
    for missing in ("deals.csv", "market_caps.csv", "miner_hashrate.csv"):
        assert missing not in html, missing
    assert "calculations from network.csv." in html
    assert "Market cap / opportunity" not in html  # no market caps: no rows of dashes
    assert "miners: network, mining economics and valuation." in _text(html)  # the standfirst names what is there
    # The Outlook then opens the PDF chunk's first page itself.
    assert '<section class="section new-page" id="outlook">' in html


def test_a_deals_file_without_deals_in_the_period_says_so(tmp_path):
    from briefgen.inputs.folder import SourceFile

    metrics = sector_metrics(with_deals=False)
    sources = (*brief_context(tmp_path).sources, SourceFile("deals.xlsx", 0, None, None, "4" * 64))
    html = render_html(brief_context(tmp_path, metrics, sources=sources))
    assert 'id="deals"' in html and 'href="#deals"' in html
    assert "No deals or approvals were recorded in the period, 1–14 Jan 2026." in html
    assert '<section class="section" id="outlook">' in html  # it runs on after the deals section


def test_the_sensitivity_grid_appears_once_as_the_heat_map(context):
    html = render_html(context)
    assert 'class="data grid"' not in html  # the table that repeated the heat map's cells is gone
    from briefgen.sectors.bitcoin_mining.charts import CHARTS

    assert CHARTS["hashprice_sensitivity"].title.endswith("$/PH/s/day (the grid, shown once)")  # its caption says so


def test_every_table_caption_opens_a_header_that_says_continued(context):
    html = render_html(context)
    captions = re.findall(
        r'<caption class="over-continued"><span class="caption-title">([^<]+)</span></caption>\s*'
        r'<thead>\s*<tr class="continued"><th scope="colgroup" colspan="(\d+)">'
        r'<span class="caption-title">([^<]+) \(continued\)</span>',
        html,
    )
    assert len(captions) == html.count("<caption") >= 8
    assert all(first == again for first, _, again in captions)


def test_the_sources_say_rows_after_the_period_end_are_not_used(tmp_path, context):
    from datetime import date

    from briefgen.inputs.folder import SourceFile

    assert "later rows are not used" not in _text(render_html(context))  # the fixture's data ends with the period
    later = (SourceFile("network.csv", 411, date(2024, 12, 1), date(2026, 1, 15), "3" * 64), *context.sources[1:])
    text = _text(render_html(replace(context, sources=later)).replace('<span class="nb">', "").replace("</span>", ""))
    assert (
        "Every figure, chart and table uses rows up to 14 Jan 2026, the period's end; later rows are not used." in text
    )


def test_no_commentary_and_no_analysts(context):
    html = render_html(replace(context, commentary={}, config=brief_config(analysts=())))
    assert "The analysts have not added an outlook for this period." in html
    assert "Example Securities Research" in html


def test_recipient_is_printed_when_given(context):
    assert "Prepared for" not in render_html(context)
    html = render_html(replace(context, recipient="Acme Capital"))
    assert "Prepared for Acme Capital" in html


# --- escaping --------------------------------------------------------------------------------


def test_values_are_escaped_not_executed(tmp_path):
    metrics = sector_metrics()
    assert metrics.equities is not None
    frame = metrics.equities.by_ticker.copy()
    frame.loc[0, "ticker"] = SCRIPT
    frame.loc[1, "name"] = "{{ 7*7 }}"
    metrics = replace(metrics, equities=replace(equity_figures(), by_ticker=frame))
    context = brief_context(tmp_path, metrics, headline="{{ config.__class__ }} & <b>bold</b>")
    context = replace(context, config=brief_config(analysts=(Analyst(SCRIPT, "a@example.com"),), house="{% raw %}"))
    html = render_html(context)
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html and ">49<" not in html
    assert "{{ config.__class__ }} &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "{% raw %}" in html


def test_the_sandbox_refuses_unsafe_attributes(tmp_path, context):
    override = tmp_path / "override"
    (override / "partials").mkdir(parents=True)
    (override / "partials" / "section_outlook.html").write_text("{{ brief.__class__.__mro__ }}\n", encoding="utf-8")
    with pytest.raises(RenderError) as caught:
        render_html(context, override)
    assert str(caught.value).startswith(
        "template partials/section_outlook.html, line 1: access to attribute '__class__'"
    )


# --- commentary ------------------------------------------------------------------------------


def test_markdown_renders_prose_lists_tables_and_safe_links():
    html = render_markdown(
        "# Outlook\n\nA **bold** and *italic* view. See [tracker](https://example.com/t) or "
        "[mail](mailto:desk@example.com).\n\n- one\n- two\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n> quoted `code`\n"
    )
    assert isinstance(html, Markup)
    assert "<h3>Outlook</h3>" in html
    assert "<strong>bold</strong>" in html and "<em>italic</em>" in html
    assert '<a href="https://example.com/t" rel="noopener">tracker</a>' in html
    assert '<a href="mailto:desk@example.com" rel="noopener">mail</a>' in html
    assert "<li>one</li>" in html
    assert "<table>" in html and "<td>2</td>" in html  # alignment styles are dropped
    assert "style=" not in html
    assert "<blockquote>" in html and "<code>code</code>" in html


def test_markdown_raw_html_is_not_passed_through():
    html = render_markdown(
        f'Hello {SCRIPT} <img src=x onerror=alert(1)> <b>b</b>\n\n<div onclick="x()">block</div>\n\n'
        "<style>body{display:none}</style>\n\n<!-- comment -->\n"
    )
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<div" not in html
    assert "<style" not in html and "<!--" not in html
    assert "alert" not in html and "display:none" not in html  # stripped with their content
    assert "Hello" in html and "block" in html  # the text of other stripped tags stays


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>x</script>",
        "file:///etc/passwd",
        "relative/page.html",
        "/absolute/path",
        "//example.com/protocol-relative",
        "ftp://example.com/x",
    ],
)
def test_markdown_links_other_than_http_and_mailto_are_dropped(link):
    html = render_markdown(f"[click]({link}) and <{link}>")
    assert "href" not in html.replace('href="https://', "")
    assert "click" in html


def test_markdown_images_are_dropped():
    html = render_markdown("![chart](https://example.com/x.png) ![local](file:///etc/passwd)")
    assert "<img" not in html and "src=" not in html


def test_commentary_files_go_to_their_section_or_the_outlook():
    rendered = render_commentary(
        {"network": "Net.", "outlook": "Out.", "zeta-notes": "Zeta.", "alpha": "Alpha."}, SECTOR.sections
    )
    assert set(rendered) == {"network", "outlook"}
    assert rendered["network"] == Markup("<p>Net.</p>\n")
    assert rendered["outlook"] == Markup("<p>Out.</p>\n<p>Alpha.</p>\n<p>Zeta.</p>\n")


def test_a_heading_that_repeats_the_section_title_is_dropped():
    rendered = render_commentary(
        {"outlook": "# Outlook\n\nText.\n\n## Risks\n", "network": "# Other\n"}, SECTOR.sections
    )
    assert rendered["outlook"] == Markup("<p>Text.</p>\n<h3>Risks</h3>\n")
    assert rendered["network"] == Markup("<h3>Other</h3>\n")


def test_section_commentary_appears_in_its_section(context):
    html = render_html(replace(context, commentary=render_commentary({"network": "Hashrate *fell*."}, SECTOR.sections)))
    network = html[html.index('id="network"') : html.index('id="economics"')]
    assert "Hashrate <em>fell</em>." in network


# --- strict templates and the override folder ------------------------------------------------


def test_a_misspelt_variable_fails_with_file_and_line(tmp_path, context):
    override = tmp_path / "override"
    (override / "partials").mkdir(parents=True)
    (override / "partials" / "section_outlook.html").write_text(
        '<section id="outlook">\n<p>{{ brief.headlin }}</p>\n</section>\n', encoding="utf-8"
    )
    with pytest.raises(RenderError) as caught:
        render_html(context, override)
    assert str(caught.value) == (
        "template partials/section_outlook.html, line 2: "
        "'briefgen.html.render.BriefContext object' has no attribute 'headlin'"
    )


def test_an_undefined_name_fails(tmp_path, context):
    override = tmp_path / "override"
    override.mkdir()
    (override / "brief.html").write_text(
        '{% extends "base.html" %}{% block sections %}{{ nothing }}{% endblock %}', encoding="utf-8"
    )
    with pytest.raises(RenderError) as caught:
        render_html(context, override)
    assert str(caught.value) == "template brief.html, line 1: 'nothing' is undefined"


def test_a_syntax_error_names_the_template(tmp_path, context):
    override = tmp_path / "override"
    (override / "partials").mkdir(parents=True)
    (override / "partials" / "disclosures.html").write_text("<p>{% if %}</p>", encoding="utf-8")
    with pytest.raises(RenderError) as caught:
        render_html(context, override)
    assert (
        str(caught.value)
        == "template partials/disclosures.html, line 1: Expected an expression, got 'end of statement block'"
    )


def test_the_override_folder_replaces_only_the_files_it_holds(tmp_path, context):
    default = render_html(context)
    override = tmp_path / "desk"
    (override / "partials").mkdir(parents=True)
    (override / "partials" / "disclosures.html").write_text(
        '<section id="disclosures"><h2 class="section-title">Disclosures</h2>'
        "<p>DESK WORDING for {{ config.house }}.</p></section>\n",
        encoding="utf-8",
    )
    html = render_html(context, override)
    assert "DESK WORDING for Example Securities Research." in html
    assert "<h3>Analyst certification</h3>" in default and "<h3>Analyst certification</h3>" not in html
    # Everything else still comes from the project's templates, unchanged.
    assert html.split('id="sources"')[0] == default.split('id="sources"')[0]


def test_a_missing_override_folder_is_an_error(tmp_path, context):
    with pytest.raises(RenderError) as caught:
        render_html(context, tmp_path / "nope")
    assert (
        str(caught.value)
        == f"templates folder {tmp_path / 'nope'} not found (pass --templates DIR with an existing folder)"
    )


def _searched(env: Environment) -> list[list[str]]:
    """The folders each loader of the environment searches, in order (a ChoiceLoader of folder loaders)."""
    assert isinstance(env.loader, ChoiceLoader), env.loader
    paths = []
    for loader in env.loader.loaders:
        assert isinstance(loader, FileSystemLoader), loader
        paths.append(loader.searchpath)
    return paths


def test_one_environment_per_search_path(tmp_path):
    assert environment() is environment()
    env = environment()
    assert env.autoescape is True
    assert env.undefined.__name__ == "StrictUndefined"
    assert type(env).__name__ == "SandboxedEnvironment"
    assert {"usd", "pct", "bps", "signed", "rows", "grid", "chart_src"} <= set(env.filters)
    assert _searched(env) == [[str(SECTOR.templates)], [str(TEMPLATES_DIR)]]
    (tmp_path / "o").mkdir()
    searched = _searched(environment(tmp_path / "o"))
    assert searched == [[str((tmp_path / "o").resolve())], [str(SECTOR.templates)], [str(TEMPLATES_DIR)]]


# --- filters that arrange --------------------------------------------------------------------


def test_rows_turn_missing_cells_into_none():
    import pandas as pd

    frame = pd.DataFrame(
        {
            "a": [1.5, float("nan")],
            "b": pd.array([None, 2.0], dtype="Float64"),
            "d": pd.DatetimeIndex(["2026-01-02", None]),
        }
    )
    got = rows(frame)
    assert got[0]["a"] == 1.5 and got[1]["a"] is None
    assert got[0]["b"] is None and got[1]["b"] == 2.0
    assert got[1]["d"] is None
    assert rows(None) == []


def test_grid_marks_the_base_row_and_column():
    g = grid(sector_metrics().sensitivity)
    assert len(g.columns) == 7 and len(g.rows) == 5
    assert [c.base for c in g.columns] == [False, False, False, True, False, False, False]
    assert [r.base for r in g.rows] == [False, False, True, False, False]
    assert g.rows[2].cells[3].base and g.rows[0].cells[3].base and not g.rows[0].cells[0].base


def test_pdf_metadata_uses_the_as_of_date_and_analysts(context):
    meta = pdf_metadata(context)
    assert meta.created == AS_OF
    assert meta.authors == ("Alex Morgan", "Sam Patel")
    assert meta.title == "Bitcoin mining: " + context.headline
    assert meta.lang == "en-GB"


def test_the_deals_caption_says_which_deals_it_lists(tmp_path):
    from datetime import date

    html = render_html(brief_context(tmp_path, sector_metrics()))
    assert "Deals and approvals announced in the period, 1\u201314 Jan 2026" in html
    html = render_html(brief_context(tmp_path, replace(sector_metrics(), deals_since=date(2025, 12, 31))))
    assert "Deals and approvals announced since the previous brief of 31 Dec 2025, to 14 Jan 2026" in html
