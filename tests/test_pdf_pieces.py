"""What each kind of edit lays out again (pieces, pages), and the assembled brief after a middle piece grows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from briefgen.pdf import write_pdf
from briefgen.store.cache import Cache
from tests.brief_fixtures import write_chart
from tests.test_pdf_chunks import (
    EXTRA_PAGE,
    META,
    chunked,
    destination_pages,
    outline,
    page_texts,
)

pytestmark = [pytest.mark.filterwarnings("error")]

# Three pieces: the cover and section one; section two (the middle); section three and the appendix.
MIDDLE = '<!-- briefgen:chunk two counters="section figure" -->'


@pytest.fixture
def build(tmp_path: Path) -> Path:
    folder = tmp_path / "build"
    write_chart(folder / "charts", "chart")
    return folder


def three_pieces(**changes: str) -> str:
    html = chunked(**changes)
    cut = html.index('<section class="section" id="two"')
    return html[:cut] + MIDDLE + "\n" + html[cut:]


def test_each_edit_lays_out_only_the_pieces_it_touches(tmp_path, build, weasyprint_log):
    cache = Cache(tmp_path / "cache")
    cold = write_pdf(three_pieces(), build, tmp_path / "cold.pdf", metadata=META, cache=cache)
    # A first build: the later pieces laid out unwritten to measure them (last first), then every piece
    # rendered once with its numbers: what chunking costs a cold build (4 pages laid out as 6).
    assert cold.laid_out == (("three", 1), ("two", 1), ("start", 2), ("two", 1), ("three", 1))
    assert cold.pages == 4
    same = write_pdf(three_pieces(), build, tmp_path / "same.pdf", metadata=META, cache=cache)
    assert same.laid_out == ()  # every piece from the cache
    edited = write_pdf(three_pieces(three="v2"), build, tmp_path / "edit.pdf", metadata=META, cache=cache)
    assert edited.laid_out == (("three", 1),)  # a commentary edit: its piece, one page
    middle = write_pdf(
        three_pieces(three="v2", two="<p>A changed figure.</p>"),
        build,
        tmp_path / "mid.pdf",
        metadata=META,
        cache=cache,
    )
    assert middle.laid_out == (("two", 1),)  # same length: nothing else moves
    assert "A changed figure." in page_texts(tmp_path / "mid.pdf")[2]


def test_a_middle_piece_that_grows_a_page_renumbers_everything_right(tmp_path, build, weasyprint_log):
    cache = Cache(tmp_path / "cache")
    write_pdf(three_pieces(), build, tmp_path / "before.pdf", metadata=META, cache=cache)
    grown = tmp_path / "grown.pdf"
    info = write_pdf(three_pieces(two=EXTRA_PAGE), build, grown, metadata=META, cache=cache)
    # The middle piece grows to two pages; the cover's contents and every total change, and the last
    # piece starts a page later: each is laid out once more, and no more.
    assert sorted(info.laid_out) == [("start", 2), ("three", 1), ("two", 2)]
    texts = page_texts(grown)
    assert info.pages == len(texts) == 5
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of 5" in text, text
        assert "Desk footer note." in text
    # Running headers: the section starting on the page, else the one carried over.
    assert all("Desk running title" in text for text in texts[1:])
    assert "TWO" in texts[2] and "TWO" in texts[3] and "THREE" in texts[4]
    # The contents on the cover.
    cover = texts[0]
    assert re.search(r"1 One[ .]*2\b", cover) and re.search(r"2 Two[ .]*3\b", cover), cover
    assert re.search(r"3 Three[ .]*5\b", cover) and re.search(r"Appendix A: Notes[ .]*5\b", cover), cover
    # Bookmarks and link destinations.
    assert outline(grown) == [
        ("Summary", 1, 1),
        ("1 One", 1, 2),
        ("One point one", 2, 2),
        ("2 Two", 1, 3),
        ("3 Three", 1, 5),
        ("Three point one", 2, 5),
        ("Appendix A: Notes", 1, 5),
    ]
    pages = destination_pages(grown)
    assert pages["three"] == pages["xref-three"] == pages["notes"] == pages["xref-notes"] == 5
    assert pages["xref-one"] == pages["one"] == 2
    assert "3 Three" in texts[4] and "Figure 2: A table" in texts[4]  # counters carried across both cuts
    # Assembled from cached pieces = a from-scratch build = a single document's pages.
    fresh = tmp_path / "fresh.pdf"
    write_pdf(three_pieces(two=EXTRA_PAGE), build, fresh, metadata=META)
    assert grown.read_bytes() == fresh.read_bytes()
    again = tmp_path / "again.pdf"
    write_pdf(three_pieces(two=EXTRA_PAGE), build, again, metadata=META)
    assert again.read_bytes() == fresh.read_bytes()
    single = tmp_path / "single.pdf"
    write_pdf(chunked(two=EXTRA_PAGE, marker=""), build, single, metadata=META)
    assert page_texts(single) == texts and outline(single) == outline(grown)
    # Shrinking back: the pieces of the first build come from the cache again.
    back = write_pdf(three_pieces(), build, tmp_path / "back.pdf", metadata=META, cache=cache)
    assert back.laid_out == () and (tmp_path / "back.pdf").read_bytes() == (tmp_path / "before.pdf").read_bytes()


def test_a_single_document_render_reports_one_layout(tmp_path, build, weasyprint_log):
    info = write_pdf(chunked(), build, tmp_path / "ua.pdf", metadata=META, variant="pdf/ua-1")
    assert info.laid_out == (("document", info.pages),)


def _laid_out(caplog) -> str:
    lines = [r.getMessage() for r in caplog.records if r.name == "briefgen.pdf" and "; laid out " in r.getMessage()]
    assert len(lines) == 1, lines
    caplog.clear()
    return lines[0].split("; laid out ", 1)[1]


def test_the_sample_brief_edit_by_edit(tmp_path, caplog, weasyprint_log):
    import csv
    import shutil

    from briefgen.build import BuildOptions
    from briefgen.build import build as build_brief

    inputs, output = tmp_path / "inputs", tmp_path / "output"
    shutil.copytree(Path(__file__).resolve().parents[1] / "inputs", inputs)
    options = BuildOptions(inputs_dir=inputs, output_dir=output)
    caplog.set_level("DEBUG", logger="briefgen.pdf")
    build_brief(options)
    # A first build: the Outlook's chunk measured (no charts: while they are drawn), then each chunk
    # once in the order its numbers allow (the cover, with the contents, last), then the page numbers.
    assert _laid_out(caplog) == (
        "outlook (3 pages), sections (4 pages), equities (2 pages), start (1 pages), outlook (3 pages),"
        " page numbers (9 pages)"
    )
    outlook = inputs / "commentary" / "outlook.md"
    text = outlook.read_text(encoding="utf-8")
    assert " the " in text
    outlook.write_text(text.replace(" the ", " one ", 1), encoding="utf-8")
    build_brief(options)
    assert _laid_out(caplog) == "outlook (3 pages)"  # the Outlook and appendices; everything else cached
    # The sample's last page is full: one more sentence adds a page. The sections print no page number of
    # their own, so only the cover's contents (the appendices' pages) and the page numbers change.
    outlook.write_text(text + "\nOne more sentence.\n", encoding="utf-8")
    build_brief(options)
    assert _laid_out(caplog) == "outlook (4 pages), start (1 pages), page numbers (10 pages)"
    path = inputs / "market_caps.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    column = rows[0].index("market_cap_usd")
    rows[-1][column] = str(int(float(rows[-1][column])) + 7)
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    build_brief(options)
    # Sections 4 and 5 (the equities chunk, which shares a page with section 3) and Appendix B's digest of
    # market_caps.csv; the cover's figures, rounded, hold. Sections 1-3 are not laid out again.
    assert _laid_out(caplog) == "equities (2 pages), outlook (4 pages)"
    assert build_brief(options).unchanged
    assert not [r for r in caplog.records if "laid out" in r.getMessage()]  # nothing laid out, nothing written
