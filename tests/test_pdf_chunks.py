"""The brief rendered in chunks: numbers across chunks, links, outline, merged bytes, the chunk cache."""

from __future__ import annotations

import multiprocessing
import re
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pypdf
import pytest
from pypdf.generic import ArrayObject, Destination

from briefgen.errors import PdfError
from briefgen.html.render import pdf_metadata, render_html
from briefgen.pdf import PdfMetadata, write_pdf
from briefgen.pdf.chunks import Meta, Plan
from briefgen.pdf.merge import PRODUCER
from briefgen.pdf.weasy import Rendered
from briefgen.sectors.bitcoin_mining import SECTOR
from briefgen.store.cache import Cache
from tests.brief_fixtures import brief_context, write_chart

pytestmark = [pytest.mark.filterwarnings("error")]

ROOT = Path(__file__).resolve().parents[1]
META = PdfMetadata(
    title="Chunks: test brief",
    authors=("Alex Morgan",),
    subject="Example",
    keywords=("Bitcoin",),
    lang="en-GB",
    created=date(2026, 1, 15),
)
MARKER = '<!-- briefgen:chunk three counters="section figure" -->'
CHUNKED = """<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>Chunks</title>
<link rel="stylesheet" href="static/brief.css"></head>
<body>
<!-- briefgen:repeat -->
<div class="furniture" aria-hidden="true"><span class="furniture-house">Desk running title</span>
<span class="furniture-footer">Desk footer note.</span><span class="furniture-recipient"></span></div>
<!-- /briefgen:repeat -->
<section class="cover" id="summary"><h1 class="headline">Test brief</h1>
<nav class="toc"><ol class="toc-list">
<li><a href="#one">One</a></li><li><a href="#two">Two</a></li><li><a href="#three">Three</a></li>
</ol><ol class="toc-list toc-appendix"><li><a href="#notes">Appendix A: Notes</a></li></ol></nav>
</section>
<main>
<section class="section" id="one"><h2 class="section-title">One</h2><p>First section.</p>
<h3 style="bookmark-level: 2">One point one</h3>
<figure class="chart chart-full"><figcaption class="caption">A chart</figcaption>
<img src="charts/chart.svg" alt="A chart"><p class="source">Source: test</p></figure></section>
<section class="section" id="two" style="break-before: page"><h2 class="section-title">Two</h2>
<p>Second.</p>{two}</section>
{marker}
<section class="section new-page" id="three"><h2 class="section-title">Three</h2><p>Commentary {three}</p>
<h3 style="bookmark-level: 2">Three point one</h3><p>See <a href="#one">section one</a>.</p>
<table class="data"><caption>A table</caption><tbody><tr><td>1</td></tr></tbody></table>{extra}</section>
</main>
<section class="section appendix" id="notes"><h2 class="section-title">Appendix A: Notes</h2><p>Notes.</p></section>
</body></html>
"""
EXTRA_PAGE = '<p style="break-before: page">An extra page of commentary.</p>'


def chunked(three: str = "v1", extra: str = "", two: str = "", marker: str = MARKER) -> str:
    return CHUNKED.format(three=three, extra=extra, two=two, marker=marker)


@pytest.fixture
def build(tmp_path: Path) -> Path:
    folder = tmp_path / "build"
    write_chart(folder / "charts", "chart")
    return folder


def page_texts(path: Path) -> list[str]:
    """Each page's text as pdftotext gives it (one space between words)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    pages = len(pypdf.PdfReader(path).pages)
    return [
        " ".join(
            subprocess.run(
                ["pdftotext", "-f", str(n), "-l", str(n), "-layout", str(path), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
        )
        for n in range(1, pages + 1)
    ]


def outline(path: Path) -> list[tuple[str, int, int]]:
    """(title, level, page number) of every outline item, in order."""
    reader = pypdf.PdfReader(path, strict=True)
    items: list[tuple[str, int, int]] = []

    def walk(nodes, level):
        for node in nodes:
            if isinstance(node, list):
                walk(node, level + 1)
            else:
                assert node.title is not None, node
                items.append((node.title, level, _page_number(reader, node)))

    walk(reader.outline, 1)
    return items


def _page_number(reader: pypdf.PdfReader, destination: Destination) -> int:
    """The number (from 1) of the page a destination points to, which it must."""
    index = reader.get_destination_page_number(destination)
    assert index is not None, destination
    return index + 1


def destination_pages(path: Path) -> dict[str, int]:
    reader = pypdf.PdfReader(path, strict=True)
    return {name: _page_number(reader, dest) for name, dest in reader.named_destinations.items()}


def link_names(path: Path, page: int) -> set[str]:
    reader = pypdf.PdfReader(path, strict=True)
    return {
        str(a.get_object()["/Dest"]) for a in reader.pages[page - 1].get("/Annots", []) if "/Dest" in a.get_object()
    }


# --- numbers across chunks -------------------------------------------------------------------


def test_every_footer_numbers_the_whole_document(tmp_path, build, weasyprint_log):
    out = tmp_path / "brief.pdf"
    info = write_pdf(chunked(), build, out, metadata=META, cache=Cache(tmp_path / "cache"))
    texts = page_texts(out)
    assert info.pages == len(texts) == 4  # cover, One, Two, Three (+ appendix)
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {info.pages}" in text, text
        assert "Desk footer note." in text  # the repeated furniture's strings reach every chunk
    assert "Desk running title" in texts[3] and "THREE" in texts[3]  # running header, and the section starting the page
    # Section and figure numbers carry on from the first chunk, whose chart is Figure 1.
    assert "3 Three" in texts[3] and "Figure 2: A table" in texts[3]


def test_contents_give_later_chunks_their_numbers_and_links(tmp_path, build, weasyprint_log):
    out = tmp_path / "brief.pdf"
    write_pdf(chunked(), build, out, metadata=META)
    cover = page_texts(out)[0]
    assert re.search(r"1 One[ .]*2\b", cover) and re.search(r"2 Two[ .]*3\b", cover)
    assert re.search(r"3 Three[ .]*4\b", cover), cover  # section and page from the next chunk
    assert re.search(r"Appendix A: Notes[ .]*4\b", cover)
    pages = destination_pages(out)
    assert pages["three"] == pages["notes"] == 4
    names = link_names(out, 1)
    assert names == {"one", "two", "xref-three", "xref-notes"}
    # Each link's destination lands where its section is.
    assert pages["xref-three"] == pages["three"] and pages["xref-notes"] == pages["notes"]
    # A link back from the later chunk lands on section one.
    assert link_names(out, 4) == {"xref-one"} and pages["xref-one"] == pages["one"] == 2


def test_outline_matches_a_single_document_render(tmp_path, build, weasyprint_log):
    merged, single = tmp_path / "merged.pdf", tmp_path / "single.pdf"
    write_pdf(chunked(), build, merged, metadata=META)
    write_pdf(chunked(marker=""), build, single, metadata=META)
    assert (
        outline(merged)
        == outline(single)
        == [
            ("Summary", 1, 1),
            ("1 One", 1, 2),
            ("One point one", 2, 2),
            ("2 Two", 1, 3),
            ("3 Three", 1, 4),
            ("Three point one", 2, 4),
            ("Appendix A: Notes", 1, 4),
        ]
    )
    assert page_texts(merged) == page_texts(single)


def test_a_chunk_that_grows_renumbers_both_chunks(tmp_path, build, caplog, weasyprint_log):
    cache = Cache(tmp_path / "cache")
    first, second = tmp_path / "1.pdf", tmp_path / "2.pdf"
    write_pdf(chunked(), build, first, metadata=META, cache=cache)
    caplog.set_level("DEBUG", logger="briefgen.pdf")
    info = write_pdf(chunked(extra=EXTRA_PAGE), build, second, metadata=META, cache=cache)
    rendered = [r.getMessage().split(":")[0] for r in caplog.records if r.getMessage().startswith("rendered")]
    assert rendered == ["rendered chunk three", "rendered chunk start"]  # the later chunk, then the cover's numbers
    texts = page_texts(second)
    assert info.pages == 5
    assert all(f"Page {n} of 5" in text for n, text in enumerate(texts, start=1))
    assert re.search(r"Appendix A: Notes[ .]*5\b", texts[0]), texts[0]
    fresh = tmp_path / "fresh.pdf"
    write_pdf(chunked(extra=EXTRA_PAGE), build, fresh, metadata=META)
    assert second.read_bytes() == fresh.read_bytes()


# --- the merged file -------------------------------------------------------------------------


def test_the_merged_pdf_is_well_formed(tmp_path, build, weasyprint_log):
    out = tmp_path / "brief.pdf"
    write_pdf(chunked(), build, out, metadata=META)
    reader = pypdf.PdfReader(out, strict=True)
    assert reader.metadata == {
        "/Title": "Chunks: test brief",
        "/Producer": PRODUCER,
        "/Author": "Alex Morgan",
        "/Subject": "Example",
        "/Keywords": "Bitcoin",
        "/CreationDate": "D:20260115000000Z",
        "/ModDate": "D:20260115000000Z",
    }
    lang, file_id = reader.root_object["/Lang"], reader.trailer["/ID"]
    assert isinstance(lang, str) and lang == "en-GB"
    assert isinstance(file_id, ArrayObject)
    assert file_id[0] == file_id[1] and len(bytes(file_id[0].original_bytes)) == 16
    if shutil.which("qpdf"):
        check = subprocess.run(["qpdf", "--check", str(out)], capture_output=True, text=True)
        assert check.returncode == 0 and "No syntax or stream encoding errors" in check.stdout, (
            check.stdout + check.stderr
        )
    if shutil.which("pdffonts"):
        rows = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout.splitlines()[
            2:
        ]
        assert rows and all(re.search(r"\byes\s+yes\s+yes\b", row) for row in rows), rows
        names = [row.split()[0] for row in rows]
        assert len(set(names)) == len(names)  # each chunk's subset has a tag of its own


SCRIPT = textwrap.dedent(
    """
    import sys
    from datetime import date
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from briefgen.pdf import PdfMetadata, write_pdf
    html = Path(sys.argv[1]).read_text(encoding="utf-8")
    meta = PdfMetadata(title="T", authors=("A",), subject="S", keywords=("k",), created=date(2026, 1, 15))
    write_pdf(html, Path(sys.argv[2]), Path(sys.argv[3]), metadata=meta)
    print(sorted(m for m in ("pandas", "matplotlib") if m in sys.modules))
    """
)


def test_identical_bytes_across_processes_and_from_the_cache(tmp_path, build, weasyprint_log):
    html_file = tmp_path / "brief.html"
    html_file.write_text(chunked(), encoding="utf-8")
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                SCRIPT.format(root=str(ROOT)),
                str(html_file),
                str(build),
                str(tmp_path / f"{n}.pdf"),
            ],
            env={"PYTHONHASHSEED": str(n), "PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        assert out.strip() == "[]"  # the PDF stage pulls in neither pandas nor matplotlib
    first = (tmp_path / "1.pdf").read_bytes()
    assert first == (tmp_path / "2.pdf").read_bytes()
    meta = PdfMetadata(title="T", authors=("A",), subject="S", keywords=("k",), created=date(2026, 1, 15))
    cache = Cache(tmp_path / "cache")
    for n in (3, 4):  # uncached, then both chunks from the cache
        write_pdf(chunked(), build, tmp_path / f"{n}.pdf", metadata=meta, cache=cache)
        assert (tmp_path / f"{n}.pdf").read_bytes() == first
    assert cache.hits["pdfchunk"] == 2


def test_an_unchanged_chunk_comes_from_the_cache(tmp_path, build, weasyprint_log):
    cache = Cache(tmp_path / "cache")
    write_pdf(chunked(), build, tmp_path / "1.pdf", metadata=META, cache=cache)
    assert cache.hits["pdfchunk"] == 0
    write_pdf(chunked(three="v2"), build, tmp_path / "2.pdf", metadata=META, cache=cache)
    assert cache.hits["pdfchunk"] == 1  # the cover and sections one and two
    assert "Commentary v2" in page_texts(tmp_path / "2.pdf")[3]
    # A chart the first chunk shows changes: that chunk is rendered again.
    write_chart(build / "charts", "chart", width="half")
    write_pdf(chunked(three="v2"), build, tmp_path / "3.pdf", metadata=META, cache=cache)
    assert cache.hits["pdfchunk"] == 2  # only the later chunk this time
    assert (tmp_path / "3.pdf").read_bytes() != (tmp_path / "2.pdf").read_bytes()


def test_the_pdf_stage_imports_nothing_heavy_until_it_renders(tmp_path, build):
    html_file = tmp_path / "brief.html"
    html_file.write_text(chunked(), encoding="utf-8")
    cache_dir = tmp_path / "cache"
    script = textwrap.dedent(f"""
        import sys
        from datetime import date
        from pathlib import Path
        sys.path.insert(0, {str(ROOT)!r})
        import briefgen.pdf
        print(sorted(m for m in ("pandas", "matplotlib", "weasyprint", "pikepdf") if m in sys.modules))
        from briefgen.store.cache import Cache
        from briefgen.pdf import PdfMetadata, write_pdf
        meta = PdfMetadata(title="T", created=date(2026, 1, 15))
        write_pdf(Path(sys.argv[1]).read_text(), Path(sys.argv[2]), Path(sys.argv[3]), metadata=meta,
                  cache=Cache(Path(sys.argv[4])))
        print(sorted(m for m in ("pandas", "matplotlib", "weasyprint", "pikepdf") if m in sys.modules))
    """)
    runs = [
        subprocess.run(
            [sys.executable, "-c", script, str(html_file), str(build), str(tmp_path / "out.pdf"), str(cache_dir)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        for _ in range(2)
    ]
    assert [run.returncode for run in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    assert runs[0].stdout.split("\n")[:2] == ["[]", "['pikepdf', 'weasyprint']"]
    assert runs[1].stdout.split("\n")[:2] == ["[]", "['pikepdf']"]  # all cached: WeasyPrint is not even imported


# --- templates and security ------------------------------------------------------------------


def test_the_real_brief_in_chunks_matches_a_single_render(tmp_path, weasyprint_log):
    context = brief_context(tmp_path / "charts")
    html = render_html(context)
    assert MARKER.replace("three", "outlook") in html
    # Override templates that drop the markers (brief.html's and base.html's) still render: as one
    # chunk, one cache entry.
    override = tmp_path / "desk"
    override.mkdir()
    for name, folder in (("brief.html", SECTOR.templates), ("base.html", ROOT / "briefgen" / "templates")):
        source = (folder / name).read_text(encoding="utf-8")
        (override / name).write_text(re.sub(r"\n<!-- briefgen:chunk[^\n]*", "", source), encoding="utf-8")
    single_html = render_html(context, override)
    assert "briefgen:chunk" not in single_html and len(Plan(single_html).chunks) == 1
    merged, single = tmp_path / "merged.pdf", tmp_path / "single.pdf"
    cache = Cache(tmp_path / "cache")
    info = write_pdf(html, tmp_path, merged, metadata=pdf_metadata(context), strict=True, cache=cache)
    write_pdf(single_html, tmp_path, single, metadata=pdf_metadata(context), strict=True, cache=cache)
    # Four chunks, the page numbers, the previous-build record; one chunk, its record.
    assert cache.misses["pdfmeta"] == 8
    assert outline(merged) == outline(single)
    texts = page_texts(merged)
    assert texts == page_texts(single)
    assert all(f"Page {n} of {info.pages}" in text for n, text in enumerate(texts, start=1))
    deals = next(page for title, _, page in outline(merged) if title == "6 Beyond block rewards")
    outlook = next(page for title, _, page in outline(merged) if title == "7 Outlook")
    # The second chunk opens a page with Beyond block rewards (no charts); the Outlook runs on after it.
    assert texts[deals - 1].split("BEYOND BLOCK REWARDS")[1].lstrip().startswith("6 Beyond block rewards")
    assert outlook == deals
    assert re.search(rf"7 Outlook[ .]*{outlook}\b", texts[0])


def test_refusals_and_warnings_hold_in_every_chunk_and_from_the_cache(tmp_path, build, weasyprint_log):
    html = chunked(three='<img src="file:///etc/passwd" alt="">').replace(
        "</head>", '<link rel="stylesheet" href="https://example.com/x.css"></head>'
    )
    cache = Cache(tmp_path / "cache")
    refused = (
        "refused https://example.com/x.css: only the brief's templates, fonts and charts may be loaded",
        "refused file:///etc/passwd: only the brief's templates, fonts and charts may be loaded",
    )
    info = write_pdf(html, build, tmp_path / "1.pdf", metadata=META, cache=cache)
    assert info.warnings == refused  # the stylesheet's refusal once, though both chunks asked for it
    # Logged by each render: the later chunk's measuring layout, the first chunk's, the later chunk's.
    assert len(weasyprint_log.take("refused")) == 5
    again = write_pdf(html, build, tmp_path / "2.pdf", metadata=META, cache=cache)
    assert again.warnings == refused and cache.hits["pdfchunk"] == 2
    with pytest.raises(PdfError) as caught:
        write_pdf(html, build, tmp_path / "3.pdf", metadata=META, cache=cache, strict=True)
    assert str(caught.value) == "2 problems rendering the PDF:\n" + "\n".join(f"  - {w}" for w in refused)
    assert not (tmp_path / "3.pdf").exists()


@pytest.mark.parametrize("parallel", [False, True], ids=["here", "in-a-child"])
def test_a_missing_chart_in_a_later_chunk_fails(tmp_path, build, weasyprint_log, parallel):
    out = tmp_path / "brief.pdf"
    with pytest.raises(PdfError) as caught:
        write_pdf(
            chunked(three='<img src="charts/missing.svg" alt="">'),
            build,
            out,
            metadata=META,
            cache=Cache(tmp_path / "cache"),
            parallel=parallel,
        )
    assert str(caught.value) == (
        "1 problem rendering the PDF:\n  - charts/missing.svg: could not be loaded "
        f"(file not found in {(build / 'charts').resolve()})"
    )
    assert not out.exists()
    assert len(weasyprint_log.take("missing.svg")) >= 1  # logged at least by the measuring layout, here
    assert multiprocessing.active_children() == []


def test_the_next_chunk_rendered_in_a_child_gives_the_same_bytes_and_warnings(tmp_path, build, caplog, weasyprint_log):
    html = chunked(three='<img src="file:///etc/passwd" alt="">')
    serial = write_pdf(html, build, tmp_path / "serial.pdf", metadata=META)
    caplog.set_level("DEBUG", logger="briefgen.pdf")
    parallel = write_pdf(html, build, tmp_path / "parallel.pdf", metadata=META, parallel=True)
    # The later chunk was rendered in a child while the first one was written.
    assert any(
        r.getMessage().startswith("rendered chunk three") and "waited for it" in r.getMessage() for r in caplog.records
    )
    assert (tmp_path / "parallel.pdf").read_bytes() == (tmp_path / "serial.pdf").read_bytes()
    assert parallel == serial and parallel.warnings  # the refusal, reported from the child too
    weasyprint_log.take("passwd")
    assert multiprocessing.active_children() == []


def test_markers_the_split_cannot_honour():
    assert len(Plan(chunked().replace("<!-- briefgen:repeat -->", "")).chunks) == 1  # no furniture marked
    with pytest.raises(PdfError) as caught:
        Plan(chunked().replace(MARKER, f"<p>{MARKER}</p>"))
    assert str(caught.value) == (
        'templates: <!-- briefgen:chunk three counters="section figure" --> sits inside <p>; put it between sections'
    )
    with pytest.raises(PdfError) as caught:
        Plan(chunked().replace("<!-- /briefgen:repeat -->", "").replace("</main>", "</main><!-- /briefgen:repeat -->"))
    assert str(caught.value).startswith(
        "templates: <!-- briefgen:repeat --> and <!-- /briefgen:repeat --> must be a pair"
    )


def test_numbers_that_never_settle_fail(monkeypatch, tmp_path, build):
    # A cover whose length depends on the later chunk's, and the other way round: no fixed point.
    def fake(html, **_):
        if 'data-briefgen-chunk="start"' in html:
            symbols = re.search(r'symbols: "(\d+)"', html)
            assert symbols is not None
            later = int(symbols.group(1)) - 1  # page-total maps 1 to 1 + the others
            return Rendered(1 if later == 1 else 2, {"one": 1}, (2, 1, 1, 1), [], [], {}, b"")
        reset = re.search(r"counter-reset: page (\d+)", html)
        assert reset is not None
        before = int(reset.group(1))  # numbers the lead page
        pages = 2 if before == 1 else 1
        return Rendered(1 + pages, {"three": 1, "notes": 1}, (3, 1) * 2, [], [], {}, b"")  # + its lead page

    monkeypatch.setattr("briefgen.pdf.settle.render", fake)
    with pytest.raises(PdfError) as caught:
        write_pdf(chunked(), build, tmp_path / "x.pdf", metadata=META)
    assert str(caught.value) == (
        "the page numbers did not settle after 3 rounds (chunk start keeps changing"
        " length); keep page numbers out of what decides where pages break"
    )


def test_a_chunk_meta_round_trips_as_json():
    meta = Meta(3, {"three": 0}, {"section": 2, "figure": 1}, {}, {"three": {"section": 3, "figure": 2}})
    assert Meta.from_json(meta.to_json()) == meta


def test_a_chunk_showing_a_chart_being_drawn_is_not_looked_up_and_nothing_waits(tmp_path):
    """A chart is redrawn because its data changed: the chunk cached with the old one is not wanted,
    and checking it would wait for the drawing (the fetcher's hook) before any layout could start."""
    from briefgen.pdf.fetcher import VIRTUAL_BASE, charts_pending
    from briefgen.pdf.settle import ChunkStore
    from briefgen.resources import template_folders

    charts = tmp_path / "charts"
    charts.mkdir()
    (charts / "caps.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    cache = Cache(tmp_path / "cache")
    meta = Meta(1, {}, {}, {}, {})
    url = f"{VIRTUAL_BASE}charts/caps.svg"
    loaded = {url: ChunkStore(cache, charts, template_folders()).resolver.state(url)}
    ChunkStore(cache, charts, template_folders()).put("<p>chunk</p>", meta, [], loaded, b"%PDF-chunk")
    waited: list[str] = []
    with charts_pending(charts, waited.append):
        assert ChunkStore(cache, charts, template_folders(), frozenset({"caps"})).get("<p>chunk</p>") is None
        assert waited == []
        found = ChunkStore(cache, charts, template_folders()).get("<p>chunk</p>")  # not redrawn: checked
        assert found is not None and found[2] == b"%PDF-chunk"
        assert waited == ["caps.svg"]
