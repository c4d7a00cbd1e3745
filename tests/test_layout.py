"""The sample brief's pages as a client sees them: running headers, continued tables, no half-empty pages."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest

from briefgen.build import BuildOptions, build
from tests.conftest import ROOT

MM = 72 / 25.4  # PDF points per millimetre
TOP_MARGIN, BOTTOM_MARGIN = 24 * MM + 4 * MM, 20 * MM  # brief.css @page: margin and the header rule's padding


@pytest.fixture(scope="module")
def brief(tmp_path_factory) -> Path:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    root = tmp_path_factory.mktemp("layout")
    shutil.copytree(ROOT / "inputs", root / "inputs")
    build(BuildOptions(root / "inputs", root / "output", cache=False))
    return root / "output" / "brief.pdf"


def _pages(pdf: Path) -> list[list[str]]:
    """Each page's lines as pdftotext -layout gives them, spaces collapsed, blank lines dropped."""
    count = len(pypdf.PdfReader(pdf).pages)
    pages = []
    for n in range(1, count + 1):
        text = subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), "-layout", str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        pages.append([" ".join(line.split()) for line in text.splitlines() if line.strip()])
    return pages


def _section_starts(pdf: Path) -> dict[int, list[str]]:
    """Page number -> titles of the sections (outline level 1) that start on it, in order."""
    reader = pypdf.PdfReader(pdf)
    starts: dict[int, list[str]] = {}
    for node in reader.outline:
        if not isinstance(node, list):
            index = reader.get_destination_page_number(node)
            assert node.title is not None and index is not None, node
            title = re.sub(r"^\d+\s+", "", node.title)  # "3 Listed miners" -> "Listed miners"
            starts.setdefault(index + 1, []).append(title)
    return starts


def test_the_running_header_names_the_section_that_starts_on_the_page(brief: Path):
    pages = _pages(brief)
    starts = _section_starts(brief)
    carried: str | None = None
    for number, lines in enumerate(pages, start=1):
        if number == 1:
            continue  # the cover has no running header
        header = lines[0]
        here = starts.get(number, [])
        expected = here[0] if here else carried
        assert expected is not None, f"page {number} comes before the first section starts"
        assert header.endswith(expected.upper()), (number, header, expected)
        carried = here[-1] if here else carried
    # Appendix B starts part-way down a page that opens with the end of Appendix A: that page says Appendix B.
    page_b = next(n for n, titles in starts.items() if "Appendix B: Data sources" in titles)
    assert "Appendix A: Methodology and assumptions" not in starts.get(page_b, [])
    assert pages[page_b - 1][0].endswith("APPENDIX B: DATA SOURCES")


def test_a_table_that_runs_onto_the_next_page_repeats_its_header_as_continued(brief: Path):
    pages = _pages(brief)
    continued = [(n, lines[1]) for n, lines in enumerate(pages, start=1) if lines[1].endswith("(continued)")]
    assert continued, "the sample's economics table runs from page 2 to page 3"
    for number, caption in continued:
        match = re.match(r"(Figure \d+: .+) \(continued\)$", caption)
        assert match is not None, caption
        figure = match.group(1)
        assert any(line.startswith(figure) for line in pages[number - 2]), (number, figure)  # it began a page before
        assert pages[number - 1][2].startswith("1\u201314 Jan 2026") or "Ticker" in pages[number - 1][2]  # header row


def _lowest_text(pdf: Path) -> list[tuple[float, float]]:
    """Per page: the lowest word's bottom above the footer, and the page height (points)."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    out = []
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', html, re.S):
        height = float(page.group(2))
        bottoms = [float(y) for y in re.findall(r'yMax="([\d.]+)"', page.group(3))]
        body = [y for y in bottoms if y < height - BOTTOM_MARGIN]
        out.append((max(body) if body else TOP_MARGIN, height))
    return out


# "No page ends with a third or more of blank space": pages 2 and 9 of the brief before (31-32% blank,
# measured as here) were named as failing it, so the limit checked is 30% of the page's text area.
MOST_BLANK = 0.30


# The one section that may open a page after a part-empty one: the disclosures close the note kept whole.
KEPT_WHOLE = "Disclosures and analyst certification"


def test_no_page_but_the_last_ends_half_empty(brief: Path):
    pages = _lowest_text(brief)
    starts = _section_starts(brief)
    for number, (lowest, height) in enumerate(pages[:-1], start=1):
        area = height - BOTTOM_MARGIN - TOP_MARGIN
        blank = (height - BOTTOM_MARGIN - lowest) / area
        if starts.get(number + 1, [None])[0] == KEPT_WHOLE:
            continue  # the disclosures did not fit below the last appendix: they start the next page whole
        assert blank < MOST_BLANK, f"page {number}: {blank:.0%} blank"


def test_the_footer_notice_is_two_deliberate_lines(brief: Path):
    for lines in _pages(brief):
        first, second = lines[-2:]  # the footer: notice and page number, then the notice's second line
        assert first.startswith("For institutional investors only. Not investment advice. Page "), first
        assert second == "See the disclosures and analyst certification at the end of this note.", second
        assert not any(line.strip() == "this note." for line in lines)
