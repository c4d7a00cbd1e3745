"""The merged brief embeds one subset per face, shared by its pieces, and folds nothing that disagrees."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest
from fontTools.ttLib import TTFont

from briefgen.pdf import write_pdf
from briefgen.pdf.fonts import share_fonts
from tests.brief_fixtures import write_chart
from tests.test_pdf_chunks import META, page_texts
from tests.test_pdf_flow import brief

pytestmark = [pytest.mark.filterwarnings("error")]


@pytest.fixture
def build(tmp_path: Path) -> Path:
    folder = tmp_path / "build"
    write_chart(folder / "charts", "chart")
    return folder


def faces(pdf: pikepdf.Pdf) -> list[str]:
    """The Type0 fonts the pages reach, by name."""
    return sorted(
        str(obj.BaseFont)
        for obj in pdf.objects
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font" and obj.get("/Subtype") == "/Type0"
    )


def test_the_pieces_share_one_subset_per_face(tmp_path, build, weasyprint_log):
    out = tmp_path / "brief.pdf"
    write_pdf(brief(), build, out, metadata=META)
    with pikepdf.open(out) as pdf:
        names = faces(pdf)
    assert len(names) == len({name[8:] for name in names})  # one font per face, whatever the pieces
    if shutil.which("pdffonts"):
        rows = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout.splitlines()[
            2:
        ]
        assert len(rows) == len(names)
    texts = page_texts(out)
    assert "Page 3 of 3" in texts[2] and "Commentary v1" in texts[2] and "2 Two" in texts[1]


def _pieces(tmp_path: Path, build: Path) -> pikepdf.Pdf:
    """The brief's pieces merged by hand, before share_fonts: every piece its own subsets."""
    from briefgen.pdf import merge as merging

    captured: dict[str, pikepdf.Pdf] = {}
    real = merging.share_fonts

    def keep(pdf, memo=None):
        captured["pdf"] = pikepdf.open(io.BytesIO(merging.save_anew(pdf)))
        return real(pdf, memo)

    merging.share_fonts = keep
    try:
        write_pdf(brief(), build, tmp_path / "brief.pdf", metadata=META)
    finally:
        merging.share_fonts = real
    return captured["pdf"]


def test_fonts_that_disagree_are_not_folded(tmp_path, build, weasyprint_log):
    pdf = _pieces(tmp_path, build)
    before = faces(pdf)
    regular = [
        f for f in pdf.objects if isinstance(f, pikepdf.Dictionary) and str(f.get("/BaseFont", "")).endswith("+Inter")
    ]
    assert len({str(f.BaseFont) for f in regular if f.get("/Subtype") == "/Type0"}) > 1
    # Another font of the same name in one piece: a glyph both subsets draw gets another outline.
    font = next(f for f in regular if f.get("/Subtype") == "/Type0")
    stream = font.DescendantFonts[0].FontDescriptor.FontFile3
    program = TTFont(io.BytesIO(stream.read_bytes()), recalcTimestamp=False)
    cff = program["CFF "].cff
    strings = cff[cff.fontNames[0]].CharStrings
    glyph = program.getBestCmap()[ord("e")]
    strings[glyph].decompile()
    strings[glyph].program = [*strings[glyph].program[:-1], 10, 10, "rmoveto", 5, 0, "rlineto", "endchar"]
    data = io.BytesIO()
    program.save(data)
    stream.write(data.getvalue())
    from briefgen.pdf.merge import save_anew

    folded = share_fonts(pdf)
    after = faces(pikepdf.open(io.BytesIO(save_anew(pdf))))  # the fonts still used
    assert folded > 0 and len(after) < len(before)  # the faces that agree are folded
    assert len([n for n in after if n.endswith("+Inter")]) == len([n for n in before if n.endswith("+Inter")])


def test_a_folded_cmap_keeps_each_entry_once_whatever_the_blocks():
    # WeasyPrint writes a ToUnicode CMap's entries in blocks of 100: the folded CMap is built from one
    # such template, and must carry no block of it over beside its own.
    from briefgen.pdf.fonts import _cmap

    head = b"/CIDInit /ProcSet findresource begin\n1 begincodespacerange\n<0000> <ffff>\nendcodespacerange\n"
    entries = [(b"%04x" % n, b"%04x" % (0x41 + n)) for n in range(150)]
    blocks = [entries[:100], entries[100:]]
    template = head + b"".join(
        b"%d beginbfchar\n" % len(block) + b"".join(b"<%s> <%s>\n" % pair for pair in block) + b"endbfchar\n"
        for block in blocks
    )
    end = b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    template += end
    text = dict([*entries, (b"0fff", b"0042")])
    folded = _cmap(template, text)
    body = folded.split(b"beginbfchar", 1)[1]
    pairs = [line for line in body.split(b"\n") if line.startswith(b"<") and b"> <" in line]
    assert len(pairs) == len(set(pairs)) == len(text)
    assert folded.count(b"beginbfchar") == folded.count(b"endbfchar") == 2
    assert folded.startswith(head) and folded.endswith(end)
