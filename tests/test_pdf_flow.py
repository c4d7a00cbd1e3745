"""Pieces that flow on from the previous one's last page, and page numbers drawn once the pieces are assembled.

The ground truth is one WeasyPrint document of the same HTML without the chunk markers: the assembled
brief must give the same text on every page (running headers and page numbers among it), the same
outline and the same link destinations, and a build from cached pieces the bytes of a fresh one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pypdf
import pytest

from briefgen.errors import PdfError
from briefgen.pdf import write_pdf
from briefgen.pdf.chunks import Plan
from briefgen.store.cache import Cache
from tests.brief_fixtures import write_chart
from tests.test_pdf_chunks import META, destination_pages, link_names, outline, page_texts

pytestmark = [pytest.mark.filterwarnings("error")]

SECTIONS = "<!-- briefgen:chunk sections -->"
FLOW = '<!-- briefgen:chunk two flow counters="section figure" -->'
THREE = '<!-- briefgen:chunk three counters="section figure" -->'
HTML = """<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>Flow</title>
<link rel="stylesheet" href="static/brief.css"></head>
<body>
<!-- briefgen:repeat pages="bottom-right" -->
<div class="furniture" aria-hidden="true"><span class="furniture-house">Desk running title</span>
<span class="furniture-footer">Desk footer note.</span><span class="furniture-recipient"></span></div>
<!-- /briefgen:repeat -->
<section class="cover" id="summary"><h1 class="headline">Test brief</h1>
<nav class="toc"><ol class="toc-list">
<li><a href="#one">One</a></li><li><a href="#two">Two</a></li><li><a href="#three">Three</a></li>
</ol><ol class="toc-list toc-appendix"><li><a href="#notes">Appendix A: Notes</a></li></ol></nav>
</section>
{sections}
<main>
<section class="section" id="one"><h2 class="section-title">One</h2><p>First section.</p>
<h3 style="bookmark-level: 2">One point one</h3>
<figure class="chart chart-full"><figcaption class="caption">A chart</figcaption>
<img src="charts/chart.svg" alt="A chart"><p class="source">Source: test</p></figure>{one}</section>
{flow}
<section class="section" id="two"><h2 class="section-title">Two</h2>
<p>Second, on from section one. See <a href="#notes">the notes</a>.</p>{two}</section>
{three}
<section class="section new-page" id="three"><h2 class="section-title">Three</h2><p>Commentary {commentary}</p>
<h3 style="bookmark-level: 2">Three point one</h3><p>See <a href="#two">section two</a>.</p>
<table class="data"><caption>A table</caption><tbody><tr><td>1</td></tr></tbody></table></section>
</main>
<section class="section appendix" id="notes"><h2 class="section-title">Appendix A: Notes</h2><p>Notes.</p></section>
</body></html>
"""
NEXT_PAGE = '<p style="break-before: page">Section one runs on to a page of its own.</p>'
EXTRA_PAGE = '<p style="break-before: page">An extra page of section two.</p>'


def brief(one: str = "", two: str = "", commentary: str = "v1", markers: bool = True) -> str:
    marks = (
        {"sections": SECTIONS, "flow": FLOW, "three": THREE}
        if markers
        else dict.fromkeys(("sections", "flow", "three"), "")
    )
    return HTML.format(one=one, two=two, commentary=commentary, **marks)


def filler(mm: int) -> str:
    """A block that fills `mm` of a page (no text), to move where section one ends."""
    return f'<div style="height: {mm}mm; background: #eef"></div>'


@pytest.fixture
def build(tmp_path: Path) -> Path:
    folder = tmp_path / "build"
    write_chart(folder / "charts", "chart")
    return folder


def single(html: str, build: Path, path: Path) -> list[str]:
    """The page texts of one WeasyPrint document of the same brief, without chunk markers."""
    assert len(Plan(html).chunks) == 1
    write_pdf(html, build, path, metadata=META)
    return page_texts(path)


def test_a_flowing_piece_shares_a_page_as_one_document_would(tmp_path, build, weasyprint_log):
    out = tmp_path / "brief.pdf"
    info = write_pdf(brief(), build, out, metadata=META)
    assert [name for name, _ in info.laid_out] == ["three", "sections", "two", "start", "three", "page numbers"]
    texts = page_texts(out)
    assert texts == single(brief(markers=False), build, tmp_path / "single.pdf")
    assert info.pages == len(texts) == 3  # the cover; sections one and two on one page; three and the notes
    shared = texts[1]
    assert "First section." in shared and "Second, on from section one." in shared
    assert shared.index("First section.") < shared.index("2 Two") < shared.index("Second, on")
    assert all(f"Page {n} of 3" in text for n, text in enumerate(texts, start=1))
    assert shared.count("Desk footer note.") == 1 and shared.count("Page 2 of 3") == 1  # drawn once
    assert outline(out) == outline(tmp_path / "single.pdf")
    assert ("2 Two", 1, 2) in outline(out)
    # The flowing piece's link, on the shared page, is there and leads to the notes.
    assert link_names(out, 2) == {"xref-notes-2"}
    pages = destination_pages(out)
    assert pages["two"] == 2 and pages["xref-notes-2"] == pages["xref-notes"] == pages["notes"] == 3
    assert not [name for name in pages if name.startswith("briefgen-")]  # the probes' anchors are dropped
    reader = pypdf.PdfReader(out, strict=True)
    assert len(reader.pages) == 3 and "/Annots" in reader.pages[1]


@pytest.mark.parametrize(
    "one",
    [
        pytest.param("", id="section one starts on the shared page"),
        pytest.param(NEXT_PAGE, id="nothing starts on the shared page before section two"),
        pytest.param(NEXT_PAGE + filler(225), id="section two does not fit on it"),
        pytest.param(NEXT_PAGE + filler(205), id="its heading fits, its text does not"),
    ],
)
def test_the_shared_page_reads_as_in_one_document(tmp_path, build, weasyprint_log, one):
    # The running header is string(section, first): the earlier piece's section if one starts on the page,
    # else the flowing piece's when its heading lands there, else the earlier piece's carried over.
    out = tmp_path / "brief.pdf"
    info = write_pdf(brief(one=one), build, out, metadata=META)
    texts = page_texts(out)
    assert texts == single(brief(one=one, markers=False), build, tmp_path / "single.pdf")
    assert outline(out) == outline(tmp_path / "single.pdf")
    assert destination_pages(out) == {
        k: v for k, v in destination_pages(tmp_path / "single.pdf").items() if not k.startswith("xref-")
    } | {k: v for k, v in destination_pages(out).items() if k.startswith("xref-")}
    assert all(f"Page {n} of {info.pages}" in text for n, text in enumerate(texts, start=1))


def test_a_flowing_middle_piece_that_grows_a_page(tmp_path, build, weasyprint_log):
    cache = Cache(tmp_path / "cache")
    write_pdf(brief(), build, tmp_path / "before.pdf", metadata=META, cache=cache)
    grown = tmp_path / "grown.pdf"
    info = write_pdf(brief(two=EXTRA_PAGE), build, grown, metadata=META, cache=cache)
    # Section two grows a page: its piece, the cover's contents (three and the notes move) and the page
    # numbers are laid out again; sections one and three print no page number and stay cached.
    assert info.laid_out == (("two", 2), ("start", 1), ("page numbers", 4))
    texts = page_texts(grown)
    assert texts == single(brief(two=EXTRA_PAGE, markers=False), build, tmp_path / "single.pdf")
    assert info.pages == 4 and all(f"Page {n} of 4" in text for n, text in enumerate(texts, start=1))
    assert "ONE" in texts[1] and "TWO" in texts[2] and "THREE" in texts[3]  # running headers
    cover = texts[0]
    assert re.search(r"1 One[ .]*2\b", cover) and re.search(r"2 Two[ .]*2\b", cover), cover
    assert re.search(r"3 Three[ .]*4\b", cover) and re.search(r"Appendix A: Notes[ .]*4\b", cover), cover
    assert outline(grown) == [
        ("Summary", 1, 1),
        ("1 One", 1, 2),
        ("One point one", 2, 2),
        ("2 Two", 1, 2),
        ("3 Three", 1, 4),
        ("Three point one", 2, 4),
        ("Appendix A: Notes", 1, 4),
    ]
    pages = destination_pages(grown)
    assert pages["two"] == pages["xref-two"] == 2 and pages["notes"] == pages["xref-notes"] == 4
    assert "3 Three" in texts[3] and "Figure 2: A table" in texts[3]  # counters carried across the flow
    fresh = tmp_path / "fresh.pdf"
    write_pdf(brief(two=EXTRA_PAGE), build, fresh, metadata=META)
    assert grown.read_bytes() == fresh.read_bytes()
    back = write_pdf(brief(), build, tmp_path / "back.pdf", metadata=META, cache=cache)
    assert back.laid_out == () and (tmp_path / "back.pdf").read_bytes() == (tmp_path / "before.pdf").read_bytes()


def test_what_each_edit_lays_out(tmp_path, build, weasyprint_log):
    cache = Cache(tmp_path / "cache")
    write_pdf(brief(), build, tmp_path / "0.pdf", metadata=META, cache=cache)
    edit = write_pdf(brief(commentary="v2"), build, tmp_path / "1.pdf", metadata=META, cache=cache)
    assert edit.laid_out == (("three", 1),)  # the last piece alone: nothing it measures moved
    same_length = write_pdf(
        brief(commentary="v2", two="<p>A changed line.</p>"), build, tmp_path / "2.pdf", metadata=META, cache=cache
    )
    assert same_length.laid_out == (("two", 1),)
    # Section one ends lower on the shared page: the flowing piece after it is laid out again too.
    lower = write_pdf(
        brief(one=filler(10), commentary="v2", two="<p>A changed line.</p>"),
        build,
        tmp_path / "3.pdf",
        metadata=META,
        cache=cache,
    )
    assert lower.laid_out == (("sections", 1), ("two", 1))
    assert page_texts(tmp_path / "3.pdf") == single(
        brief(one=filler(10), commentary="v2", two="<p>A changed line.</p>", markers=False), build, tmp_path / "s.pdf"
    )


def test_a_flowing_piece_cannot_follow_the_first(tmp_path, build):
    html = brief().replace(SECTIONS, "")
    with pytest.raises(PdfError, match="flows on from the first chunk"):
        write_pdf(html, build, tmp_path / "x.pdf", metadata=META)


def test_an_unknown_margin_box_is_refused(tmp_path, build):
    html = brief().replace('pages="bottom-right"', 'pages="bottom-middle"')
    with pytest.raises(PdfError, match="bottom-middle, not a page margin box"):
        write_pdf(html, build, tmp_path / "x.pdf", metadata=META)


def test_a_piece_after_main_flows_too_and_its_heading_is_copied_without_anchors(tmp_path, build, weasyprint_log):
    # The appendix (after </main>) flows on from section three; its heading holds an anchor and a link,
    # which the earlier piece's hidden copy of it must not repeat.
    notes = '<section class="section appendix" id="notes"><h2 class="section-title">Appendix A: Notes</h2>'
    heading = (
        '<!-- briefgen:chunk notes flow counters="section figure" -->\n<section class="section appendix" id="notes">'
        '<h2 class="section-title" id="notes-title">Appendix A: <a href="#one">Notes</a></h2>'
    )
    html = brief().replace(notes, heading)
    out = tmp_path / "brief.pdf"
    write_pdf(html, build, out, metadata=META)
    plain = re.sub(r"<!-- briefgen:chunk[^>]*-->", "", html)
    assert page_texts(out) == single(plain, build, tmp_path / "single.pdf")
    assert outline(out) == outline(tmp_path / "single.pdf")
    pages = destination_pages(out)
    assert pages["notes"] == pages["notes-title"] == pages["three"] == 3


def test_a_flowing_piece_without_a_heading(tmp_path, build, weasyprint_log):
    html = brief().replace('<h2 class="section-title">Two</h2>', "<p>Two, untitled.</p>")
    out = tmp_path / "brief.pdf"
    write_pdf(html, build, out, metadata=META)
    plain = re.sub(r"<!-- briefgen:chunk[^>]*-->", "", html)
    assert page_texts(out) == single(plain, build, tmp_path / "single.pdf")


def test_pieces_that_flow_with_the_page_numbers_in_every_piece(tmp_path, build, weasyprint_log):
    # A desk's base.html from before pages= (its repeat marker names no margin box): each piece prints
    # page X of Y itself, so every piece depends on every other's length, and the brief still reads right.
    html = brief(one=NEXT_PAGE).replace(' pages="bottom-right"', "")
    cache = Cache(tmp_path / "cache")
    out = tmp_path / "brief.pdf"
    info = write_pdf(html, build, out, metadata=META, cache=cache)
    assert "page numbers" not in dict(info.laid_out)
    plain = re.sub(r"<!-- briefgen:chunk[^>]*-->", "", html)
    assert page_texts(out) == single(plain, build, tmp_path / "single.pdf")
    again = write_pdf(html, build, tmp_path / "again.pdf", metadata=META, cache=cache)
    assert again.laid_out == () and (tmp_path / "again.pdf").read_bytes() == out.read_bytes()


def test_a_piece_that_shows_a_chart_still_being_drawn_is_not_forked(tmp_path, build, weasyprint_log):
    # Only this process can wait for the drawing (it holds the drawing child's pipe): a piece showing a
    # chart still being drawn is laid out here, and the others beside it, in forked children.
    import os

    from briefgen.pdf import charts_pending

    chart = '<figure class="chart chart-half"><img src="charts/later.svg" alt="Drawn later"></figure>'
    html = brief(two=chart)
    here = os.getpid()
    drawing = {"later"}
    looked_up: list[int] = []

    def ready(name: str) -> None:
        looked_up.append(os.getpid())
        if name == "later.svg" and "later" in drawing:
            if os.getpid() != here:
                raise RuntimeError("a forked process waited for the drawing")
            write_chart(build / "charts", "later", width="half")
            drawing.clear()

    out = tmp_path / "brief.pdf"
    with charts_pending(build / "charts", ready, lambda: frozenset(drawing)):
        info = write_pdf(html, build, out, metadata=META, parallel=True)
    assert not drawing and "Drawn later" not in "".join(page_texts(out))  # drawn, and laid out
    assert ("two", 1) in info.laid_out
    plain = re.sub(r"<!-- briefgen:chunk[^>]*-->", "", html)
    assert page_texts(out) == single(plain, build, tmp_path / "single.pdf")
