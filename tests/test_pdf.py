"""HTML -> PDF: pages, metadata, embedded fonts, the locked-down fetcher, identical bytes, PDF/A-3u."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pypdf
import pytest
from pypdf.generic import ArrayObject, Destination, DictionaryObject, StreamObject

from briefgen import pdf
from briefgen.errors import PdfError
from briefgen.html.render import pdf_metadata, render_html
from briefgen.pdf import FONTS_DIR, TEMPLATES_DIR, PdfMetadata, write_pdf
from briefgen.resources import template_folders
from tests.brief_fixtures import brief_context, stream_bytes, write_chart

pytestmark = [
    pytest.mark.filterwarnings("error"),
    # WeasyPrint 70 leaves its sRGB profile open when writing PDF/A (pdf/__init__.py); not ours to close.
    pytest.mark.filterwarnings("ignore:Exception ignored in.*sRGB2014.icc:pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore:unclosed file.*sRGB2014.icc:ResourceWarning"),
]

ROOT = Path(__file__).resolve().parents[1]
META = PdfMetadata(
    title="Bitcoin mining: test brief",
    authors=("Alex Morgan", "Sam Patel"),
    subject="Example sector brief",
    keywords=("Bitcoin", "mining"),
    lang="en-GB",
    created=date(2026, 1, 15),
)
SMALL = """<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>ignored</title>
<link rel="stylesheet" href="static/brief.css"></head>
<body>
<section class="section" id="one"><h2 class="section-title">One</h2>
<p>Hashprice <strong>rose</strong> 11.0% <em>vs late December</em>; margin 47.1% (+300 bp).</p>
<figure class="chart chart-full"><figcaption class="caption">Chart</figcaption>
<img src="charts/chart.svg" alt="A chart"><p class="source">Source: test</p></figure>
{extra}
</section>
<section class="section" id="two" style="break-before: page"><h2 class="section-title">Two</h2>
<p>Second page.</p></section>
</body></html>
"""


def small_html(extra: str = "") -> str:
    return SMALL.replace("{extra}", extra)


def _dict(value: object) -> DictionaryObject:
    """A value read out of a PDF object, which must be a dictionary (pypdf types each as any PdfObject)."""
    assert isinstance(value, DictionaryObject), type(value)
    return value


def _array(value: object) -> ArrayObject:
    """A value read out of a PDF object, which must be an array."""
    assert isinstance(value, ArrayObject), type(value)
    return value


def _str(value: object) -> str:
    """A value read out of a PDF object, which must be a string or a name."""
    assert isinstance(value, str), type(value)
    return value


def _titles(reader: pypdf.PdfReader) -> list[str | None]:
    """The titles of the outline's items, which must all be top-level (no nested list of children)."""
    assert all(isinstance(item, Destination) for item in reader.outline), reader.outline
    return [item.title for item in reader.outline if isinstance(item, Destination)]


@pytest.fixture
def build(tmp_path: Path) -> Path:
    """A build folder: the HTML's charts/chart.svg is build/charts/chart.svg."""
    folder = tmp_path / "build"
    write_chart(folder / "charts", "chart")
    return folder


@pytest.fixture
def no_network(monkeypatch):
    """Record any attempt to open a socket (the fetcher must refuse before connecting)."""
    attempts: list[object] = []

    def connect(self, address):
        attempts.append(address)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


# --- pages, metadata, fonts ------------------------------------------------------------------


def test_small_html_to_pdf(tmp_path, build, weasyprint_log):
    out = tmp_path / "out" / "brief.pdf"
    info = write_pdf(small_html(), build, out, metadata=META)
    assert info.pages == 2
    assert info.size == out.stat().st_size
    assert info.warnings == ()
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) == 2
    meta = reader.metadata
    assert meta is not None
    assert meta.title == "Bitcoin mining: test brief"
    assert meta.author == "Alex Morgan, Sam Patel"
    assert meta.subject == "Example sector brief"
    assert meta.keywords == "Bitcoin, mining"
    assert meta.creation_date_raw == "D:20260115000000Z"  # the as-of date, not the build time
    assert meta.modification_date_raw == "D:20260115000000Z"
    assert _str(reader.root_object["/Lang"]) == "en-GB"
    text = reader.pages[0].extract_text()
    assert "Hashprice rose 11.0%" in text and "+300 bp" in text
    assert "Page 1 of 2" in text
    # The SVG chart is drawn as vectors: its navy polyline is stroked in the page's content.
    contents = reader.pages[0].get_contents()
    assert contents is not None
    assert b"0.043137 0.145098 0.270588 RG" in contents.get_data()
    assert _titles(reader) == ["1 One", "2 Two"]


def test_fonts_are_inter_embedded_and_subset(tmp_path, build, weasyprint_log):
    out = tmp_path / "brief.pdf"
    write_pdf(small_html(), build, out, metadata=META)
    reader = pypdf.PdfReader(out)
    names = set()
    for page in reader.pages:
        for ref in _dict(_dict(page["/Resources"])["/Font"]).values():
            font = _dict(ref.get_object())
            descendant = _dict(_array(font["/DescendantFonts"])[0].get_object()) if "/DescendantFonts" in font else font
            descriptor = _dict(descendant["/FontDescriptor"].get_object())
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]
            names.add(str(font["/BaseFont"]))
    assert names and all(re.fullmatch(r"/[A-Z]{6}\+Inter.*", name) for name in names), names
    assert {n.split("+")[1] for n in names} >= {"Inter", "Inter-Semi-Bold", "Inter-Italic"}
    if shutil.which("pdffonts"):
        listing = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
        rows = listing.splitlines()[2:]
        assert rows and all(re.search(r"\byes\s+yes\s+yes\b", row) for row in rows), listing


def test_font_configuration_is_reused_per_template_path(tmp_path):
    assert pdf.font_config() is pdf.font_config()
    assert pdf.font_config((tmp_path,)) is pdf.font_config((tmp_path,)) is not pdf.font_config()


# --- the URL fetcher ------------------------------------------------------------------------


REFUSED = [
    (
        '<img src="file:///etc/passwd" alt="">',
        "refused file:///etc/passwd: only the brief's templates, fonts and charts may be loaded",
    ),
    (
        '<img src="../../../../etc/passwd" alt="">',
        "refused file:///etc/passwd: only the brief's templates, fonts and charts may be loaded",
    ),
    (
        '<img src="http://127.0.0.1:9/x.png" alt="">',
        "refused http://127.0.0.1:9/x.png: only the brief's templates, fonts and charts may be loaded",
    ),
    (
        '<link rel="stylesheet" href="https://example.com/x.css">',
        "refused https://example.com/x.css: only the brief's templates, fonts and charts may be loaded",
    ),
    (
        '<img src="charts/%2e%2e/%2e%2e/%2e%2e/etc/passwd" alt="">',
        "refused charts/%2e%2e/%2e%2e/%2e%2e/etc/passwd: outside the brief's folders",
    ),
]


@pytest.mark.parametrize(("tag", "warning"), REFUSED)
def test_fetcher_refuses_other_files_and_the_network(tmp_path, build, no_network, weasyprint_log, tag, warning):
    info = write_pdf(small_html(tag), build, tmp_path / "brief.pdf", metadata=META)
    assert info.warnings == (warning,)
    assert no_network == []
    assert len(weasyprint_log.take("refused")) == 1  # WeasyPrint logs the failed load too
    assert b"root:" not in stream_bytes((tmp_path / "brief.pdf").read_bytes())


@pytest.mark.parametrize(("tag", "warning"), REFUSED[:3])
def test_strict_turns_a_refusal_into_an_error(tmp_path, build, no_network, weasyprint_log, tag, warning):
    out = tmp_path / "brief.pdf"
    with pytest.raises(PdfError) as caught:
        write_pdf(small_html(tag), build, out, metadata=META, strict=True)
    assert str(caught.value) == f"1 problem rendering the PDF:\n  - {warning}"
    assert not out.exists()
    assert len(weasyprint_log.take("refused")) == 1


def test_fetcher_refuses_a_link_out_of_the_chart_folder(tmp_path, build, weasyprint_log):
    secret = tmp_path / "secret.svg"
    write_chart(tmp_path, "secret")
    (build / "charts" / "link.svg").symlink_to(secret)
    info = write_pdf(small_html('<img src="charts/link.svg" alt="">'), build, tmp_path / "brief.pdf", metadata=META)
    assert info.warnings == ("refused charts/link.svg: it resolves outside charts/",)
    assert len(weasyprint_log.take("refused")) == 1


def test_fetcher_refuses_large_data_urls_and_serves_small_ones(tmp_path, build, weasyprint_log):
    small = "data:image/svg+xml," + "%3Csvg xmlns='http://www.w3.org/2000/svg' width='4' height='4'/%3E"
    large = (
        "data:image/svg+xml,"
        + "%3Csvg xmlns='http://www.w3.org/2000/svg' width='4' height='4'%3E"
        + "%20" * 90_000
        + "%3C/svg%3E"
    )
    html = small_html(f'<img src="{small}" alt=""><img src="{large}" alt="">')
    info = write_pdf(html, build, tmp_path / "brief.pdf", metadata=META)
    assert info.warnings == ("refused a data: URL of 263 KB (at most 256 KB)",)
    assert len(weasyprint_log.take("refused")) == 1


def test_a_missing_chart_fails_instead_of_vanishing(tmp_path, build, weasyprint_log):
    out = tmp_path / "brief.pdf"
    out.write_bytes(b"previous build")
    with pytest.raises(PdfError) as caught:
        write_pdf(small_html('<img src="charts/missing.svg" alt="">'), build, out, metadata=META)
    assert str(caught.value) == (
        "1 problem rendering the PDF:\n  - charts/missing.svg: could not be loaded "
        f"(file not found in {(build / 'charts').resolve()})"
    )
    assert out.read_bytes() == b"previous build"  # written atomically or not at all
    assert len(weasyprint_log.take("missing.svg")) == 1


def test_a_missing_stylesheet_fails(tmp_path, build, weasyprint_log):
    html = small_html().replace("static/brief.css", "static/missing.css")
    with pytest.raises(PdfError) as caught:
        write_pdf(html, build, tmp_path / "brief.pdf", metadata=META)
    searched = " or ".join(str(folder) for folder in template_folders())  # none given: the sector's, the house's
    assert searched.endswith(f" or {TEMPLATES_DIR}")
    assert str(caught.value) == (
        f"1 problem rendering the PDF:\n  - static/missing.css: could not be loaded (file not found in {searched})"
    )
    assert len(weasyprint_log.take("missing.css")) == 1


def test_css_warnings_are_returned_and_fatal_under_strict(tmp_path, build, weasyprint_log):
    html = small_html('<p style="colour: red">x</p>')
    info = write_pdf(html, build, tmp_path / "brief.pdf", metadata=META)
    assert info.warnings == ("WeasyPrint: Ignored `colour: red` at 1:1, unknown property.",)
    with pytest.raises(PdfError):
        write_pdf(html, build, tmp_path / "brief.pdf", metadata=META, strict=True)
    assert len(weasyprint_log.take("colour")) == 2


def test_override_templates_are_served_first(tmp_path, build, weasyprint_log):
    override = tmp_path / "desk"
    (override / "static").mkdir(parents=True)
    (override / "static" / "brief.css").write_text("body { color: #123456; }", encoding="utf-8")
    out = tmp_path / "brief.pdf"
    write_pdf(small_html(), build, out, metadata=META, template_dirs=template_folders(override))
    names = {
        str(_dict(f.get_object())["/BaseFont"])
        for p in pypdf.PdfReader(out).pages
        for f in _dict(_dict(p["/Resources"])["/Font"]).values()
    }
    assert not any("Inter" in name for name in names)  # the override stylesheet has no @font-face


# --- determinism and paths -------------------------------------------------------------------

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
    """
)


def test_same_html_gives_identical_bytes_across_processes(tmp_path, build, weasyprint_log):
    html_file = tmp_path / "brief.html"
    html_file.write_text(small_html(), encoding="utf-8")
    script = SCRIPT.format(root=str(ROOT))
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(html_file), str(build), str(tmp_path / f"{n}.pdf")],
            env={"PYTHONHASHSEED": str(n), "PATH": "/usr/bin:/bin"},
            stderr=subprocess.PIPE,
        )
        for n in (1, 2)
    ]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err.decode()
    first, second = (tmp_path / "1.pdf").read_bytes(), (tmp_path / "2.pdf").read_bytes()
    assert first == second
    # And a third render in this process, with its reused font configuration.
    meta = PdfMetadata(title="T", authors=("A",), subject="S", keywords=("k",), created=date(2026, 1, 15))
    write_pdf(small_html(), build, tmp_path / "3.pdf", metadata=meta)
    assert (tmp_path / "3.pdf").read_bytes() == first


def test_no_machine_path_appears_in_the_pdf(tmp_path, build, weasyprint_log):
    source = build / "network.csv"
    source.write_text("date,btc_price_usd\n2026-01-14,88030\n", encoding="utf-8")
    html = small_html('<a href="https://example.com/x">a link</a> <a href="#two">inside</a>')
    out = build / "brief.pdf"
    write_pdf(html, build, out, metadata=META, variant="pdf/a-3u", attachments=[(source, "Network input")])
    data = stream_bytes(out.read_bytes())
    for path in (tmp_path, ROOT, FONTS_DIR, TEMPLATES_DIR, Path.home()):
        assert str(path).encode() not in data, path
    assert b"file:" not in data
    assert b"https://example.com/x" in data  # links stay links; nothing was fetched


# --- variants --------------------------------------------------------------------------------


def test_pdf_a3u_carries_its_source_attachment(tmp_path, build, weasyprint_log):
    source = tmp_path / "network.csv"
    source.write_bytes(b"date,btc_price_usd\n2026-01-14,88030\n")
    out = tmp_path / "brief.pdf"
    write_pdf(small_html(), build, out, metadata=META, variant="pdf/a-3u", attachments=[(source, "Network input")])
    reader = pypdf.PdfReader(out)
    assert reader.attachments == {"network.csv": [source.read_bytes()]}
    catalog = reader.root_object
    # WeasyPrint lists the file specification twice in /AF (from the name tree and the objects).
    files = _array(catalog["/AF"])
    assert len({ref.idnum for ref in files}) == 1
    filespec = _dict(files[0].get_object())
    assert _str(filespec["/AFRelationship"]) == "/Source"
    assert _str(filespec["/Desc"]) == "Network input"
    params = _dict(_dict(_dict(filespec["/EF"])["/F"].get_object())["/Params"])
    assert _str(params["/CreationDate"]) == _str(params["/ModDate"]) == "D:20260115000000Z"
    stream = catalog["/Metadata"].get_object()
    assert isinstance(stream, StreamObject), type(stream)
    xmp = stream.get_data()
    assert b'pdfaid:part="3"' in xmp or b"<pdfaid:part>3</pdfaid:part>" in xmp
    conformance = re.search(rb"pdfaid:conformance(?:=\"|>)(\w)", xmp)
    assert conformance is not None, xmp
    assert b"U" in conformance.group(1)


def test_pdf_ua1_is_tagged(tmp_path, build, weasyprint_log):
    out = tmp_path / "brief.pdf"
    write_pdf(small_html(), build, out, metadata=META, variant="pdf/ua-1")
    catalog = pypdf.PdfReader(out).root_object
    assert "/StructTreeRoot" in catalog
    assert _dict(catalog["/MarkInfo"])["/Marked"]


def test_unknown_variant_and_misplaced_attachments_are_errors(tmp_path, build):
    with pytest.raises(PdfError) as caught:
        write_pdf(small_html(), build, tmp_path / "x.pdf", metadata=META, variant="pdf/x-4")  # type: ignore[arg-type]
    assert str(caught.value) == "PDF variant 'pdf/x-4' is not supported (choose pdf/a-3u or pdf/ua-1)"
    with pytest.raises(PdfError) as caught:
        write_pdf(
            small_html(),
            build,
            tmp_path / "x.pdf",
            metadata=META,
            variant="pdf/ua-1",
            attachments=[(tmp_path / "a.csv", "A")],
        )
    assert str(caught.value) == "attachments need PDF/A-3u or no variant, not pdf/ua-1"


# --- the whole brief -------------------------------------------------------------------------


def test_the_brief_renders_without_warnings(tmp_path, weasyprint_log):
    context = brief_context(tmp_path / "charts")
    out = tmp_path / "brief.pdf"
    info = write_pdf(render_html(context), tmp_path, out, metadata=pdf_metadata(context), strict=True)
    assert info.warnings == ()
    assert 6 <= info.pages <= 12
    reader = pypdf.PdfReader(out)
    assert _titles(reader) == [
        "Summary",
        "1 Network",
        "2 Mining economics",
        "3 Listed miners",
        "4 Equities",
        "5 Valuation",
        "6 Beyond block rewards",
        "7 Outlook",
        "Appendix A: Methodology and assumptions",
        "Appendix B: Data sources",
        "Disclosures and analyst certification",
    ]
    cover = reader.pages[0].extract_text()
    assert "Key takeaways".upper() in cover.upper() and f"Page 1 of {info.pages}" in cover
    assert re.search(r"Network\s*\.[ .]*\s*2\b", cover), "the contents give page numbers"
    second = reader.pages[1].extract_text()
    assert "NETWORK" in second  # the running header names the section
    assert reader.metadata is not None
    assert reader.metadata.creation_date_raw == "D:20260115000000Z"


def test_an_unwritable_output_is_an_output_error(tmp_path, build, weasyprint_log):
    from briefgen.errors import OutputError

    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(OutputError) as caught:
        write_pdf(small_html(), build, blocker / "brief.pdf", metadata=META)
    assert str(caught.value) == f"{blocker}: cannot write (Not a directory)"


def test_a_chart_still_being_drawn_is_waited_for_only_when_first_looked_up(tmp_path: Path):
    from briefgen.pdf.fetcher import Resolver, charts_pending

    folder = tmp_path / "charts"
    calls = []

    def ready(name: str) -> None:
        calls.append(name)
        folder.mkdir(exist_ok=True)
        (folder / "hashprice.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")

    resolver = Resolver(template_folders(), folder)
    with charts_pending(folder, ready):
        assert resolver.locate(pdf.VIRTUAL_BASE + "static/brief.css").name == "brief.css"
        assert calls == []  # a stylesheet does not wait for the charts
        assert resolver.locate(pdf.VIRTUAL_BASE + "charts/hashprice.svg") == (folder / "hashprice.svg").resolve()
        assert calls == ["hashprice.svg"]  # told which chart is wanted
    (folder / "hashprice.svg").unlink()
    with pytest.raises(FileNotFoundError):  # outside: nothing is drawn on demand
        resolver.locate(pdf.VIRTUAL_BASE + "charts/hashprice.svg")
    assert calls == ["hashprice.svg"]
