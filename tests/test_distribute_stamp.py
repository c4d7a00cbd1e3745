"""A finished PDF -> a copy marked for one client: every page stamped, metadata, encryption."""

from __future__ import annotations

import io
import shutil
import subprocess

import pikepdf
import pytest
from pikepdf.models.encryption import EncryptionMethod
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.errors import FileNotDecryptedError
from pypdf.generic import DictionaryObject

from briefgen.distribute.stamp import PERMISSIONS, Stamper, StampFont, stamp_text, unsupported_characters
from briefgen.errors import DistributionError
from tests.test_distribute_support import brief_bytes, no_warnings, page_texts  # noqa: F401

ANA = stamp_text("Ana Łukasiewicz, Acme Capital", "15 Jan 2026")
ZOE = stamp_text("Ζωή Παπαδοπούλου, Иван Петров Fund", "15 Jan 2026")


@pytest.fixture(scope="module")
def stamper() -> Stamper:
    return Stamper(brief_bytes(), StampFont.for_texts([ANA, ZOE]))


def test_every_page_carries_the_stamp_and_keeps_its_own_text(stamper):
    original = page_texts(brief_bytes())
    copy = page_texts(stamper.copy(ANA, {}))
    assert len(copy) == len(original) == 3
    for before, after in zip(original, copy, strict=True):
        assert before.strip() in after
        assert after.rstrip().endswith(
            "Prepared for Ana Łukasiewicz, Acme Capital · 15 Jan 2026 · not for redistribution"
        )


def test_greek_and_cyrillic_names_print_as_written(stamper):
    assert all("Prepared for Ζωή Παπαδοπούλου, Иван Петров Fund" in text for text in page_texts(stamper.copy(ZOE, {})))


def _fonts(page: PageObject) -> DictionaryObject:
    """A page's /Font resources (pypdf types every value it reads as a PdfObject)."""
    resources = page["/Resources"]
    assert isinstance(resources, DictionaryObject)
    fonts = resources["/Font"]
    assert isinstance(fonts, DictionaryObject)
    return fonts


def _content(page: PageObject) -> bytes:
    """A page's content stream, decoded (a stamped page always has one)."""
    contents = page.get_contents()
    assert contents is not None
    return contents.get_data()


def _base_fonts(page: PageObject) -> set[str]:
    names = set()
    for reference in _fonts(page).values():
        font = reference.get_object()
        assert isinstance(font, DictionaryObject)
        names.add(str(font["/BaseFont"]))
    return names


def test_the_copy_is_an_overlay_not_a_new_rendering(stamper):
    """The brief's own objects (fonts, page size, title) come through; the stamp font is added once."""
    original = PdfReader(io.BytesIO(brief_bytes()))
    copy = PdfReader(io.BytesIO(stamper.copy(ANA, {})))
    assert [p.mediabox for p in copy.pages] == [p.mediabox for p in original.pages]
    fonts = {name for page in copy.pages for name in _base_fonts(page)}
    original_fonts = {name for page in original.pages for name in _base_fonts(page)}
    added = fonts - original_fonts
    assert len(added) == 1 and next(iter(added)).endswith("+Inter-Regular")
    assert copy.metadata is not None and original.metadata is not None
    assert copy.metadata.title == original.metadata.title


def test_metadata_names_the_recipient(stamper):
    meta = PdfReader(
        io.BytesIO(stamper.copy(ANA, {"/Subject": ANA, "/Recipient": "Ana Łukasiewicz, Acme Capital"}))
    ).metadata
    assert meta is not None
    assert str(meta["/Recipient"]) == "Ana Łukasiewicz, Acme Capital"
    assert meta.subject == ANA
    assert meta.title == "Bitcoin mining: mid-January update"


def test_an_encrypted_copy_opens_with_its_password_and_not_without(stamper):
    pdf = stamper.copy(ANA, {}, password="open-sesame")
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.is_encrypted
    with pytest.raises(FileNotDecryptedError):
        reader.pages[0].extract_text()
    assert not PdfReader(io.BytesIO(pdf)).decrypt("wrong password")
    assert all("Prepared for Ana Łukasiewicz" in text for text in page_texts(pdf, password="open-sesame"))
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(io.BytesIO(pdf))
    with pikepdf.open(io.BytesIO(pdf), password="open-sesame") as opened:
        info = opened.encryption
        assert (info.V, info.R, info.bits) == (5, 6, 256)  # AES-256
        assert info.stream_method == info.string_method == EncryptionMethod.aesv3  # AES-256 for streams and strings
        # print and extract (accessibility) allowed; any change needs the thrown-away owner password
        assert opened.allow == PERMISSIONS
        assert opened.allow.print_highres and opened.allow.extract and not opened.allow.modify_other


def _decoded_streams(pdf: bytes, password: str = "") -> list[bytes]:
    """Every stream's decoded data but the file's own structure (object and xref streams), sorted."""
    with pikepdf.open(io.BytesIO(pdf), password=password) as opened:
        return sorted(
            obj.read_bytes()
            for obj in opened.objects
            if isinstance(obj, pikepdf.Stream) and obj.get("/Type") not in ("/ObjStm", "/XRef")
        )


def test_an_encrypted_copy_holds_the_same_document_under_its_own_key(stamper):
    plain = stamper.copy(ANA, {"/Recipient": "Ana"})
    first = stamper.copy(ANA, {"/Recipient": "Ana"}, password="pässwörd")
    second = stamper.copy(ANA, {"/Recipient": "Ana"}, password="other")
    assert _decoded_streams(first, "pässwörd") == _decoded_streams(plain)
    assert PdfReader(io.BytesIO(first), password="pässwörd").metadata == PdfReader(io.BytesIO(plain)).metadata
    assert b"Bitcoin mining" not in first and b"Ana" not in first  # strings are encrypted too
    assert not PdfReader(io.BytesIO(first)).decrypt("other")
    assert not PdfReader(io.BytesIO(second)).decrypt("pässwörd")  # every copy has its own key
    assert first != stamper.copy(ANA, {"/Recipient": "Ana"}, password="pässwörd")  # fresh salts each time


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed")
def test_poppler_renders_an_encrypted_copy_like_the_plain_one(stamper, tmp_path):
    (tmp_path / "plain.pdf").write_bytes(stamper.copy(ANA, {}))
    (tmp_path / "secret.pdf").write_bytes(stamper.copy(ANA, {}, password="pw"))

    def render(name: str, *password: str) -> bytes:
        return subprocess.run(
            ["pdftoppm", *password, "-r", "40", "-f", "1", "-l", "1", "-gray", str(tmp_path / name)],
            check=True,
            capture_output=True,
        ).stdout

    assert render("secret.pdf", "-upw", "pw") == render("plain.pdf")
    assert subprocess.run(["pdftoppm", "-r", "40", str(tmp_path / "secret.pdf")], capture_output=True).returncode != 0


def test_unencrypted_copies_are_reproducible(stamper):
    assert stamper.copy(ANA, {"/Subject": ANA}) == stamper.copy(ANA, {"/Subject": ANA})


def test_the_stamp_font_is_the_same_on_another_day(monkeypatch):
    """The subset keeps the font's own timestamp: a later run stamps the very same bytes."""
    import time

    texts = [stamp_text("Ana Łukasiewicz, Acme Capital", "15 Jan 2026")]
    first = StampFont.for_texts(texts)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 86_400 * 3)
    later = StampFont.for_texts(texts)
    assert later.program == first.program and later.base_name == first.base_name
    assert Stamper(brief_bytes(), first).copy(texts[0], {}) == Stamper(brief_bytes(), later).copy(texts[0], {})


def test_the_original_reader_is_left_untouched(stamper):
    first = stamper.copy(ANA, {})
    stamper.copy(ZOE, {})
    assert "Ζωή" not in "".join(page_texts(first))
    assert all("Ζωή" not in text and "Ana" in text for text in page_texts(stamper.copy(ANA, {})))


def test_rotated_pages_are_stamped_along_their_visible_bottom():
    writer = PdfWriter()
    for angle in (0, 90, 180, 270):
        page = writer.add_blank_page(595, 842)
        if angle:
            page.rotate(angle)
    raw = io.BytesIO()
    writer.write(raw)
    copy = Stamper(raw.getvalue(), StampFont.for_texts([ANA])).copy(ANA, {})
    reader = PdfReader(io.BytesIO(copy))
    assert [p.rotation for p in reader.pages] == [0, 90, 180, 270]
    assert all("Prepared for Ana Łukasiewicz" in p.extract_text() for p in reader.pages)
    # The stamp is drawn through a matrix that maps the visible bottom edge into user space.
    contents = [_content(p) for p in reader.pages]
    assert b"1 0 0 1 0.00 0.00 cm" in contents[0]
    assert b"0 1 -1 0 595.00 0.00 cm" in contents[1]
    assert b"-1 0 0 -1 595.00 842.00 cm" in contents[2]
    assert b"0 -1 1 0 0.00 842.00 cm" in contents[3]


def test_a_long_recipient_shrinks_to_fit_the_page():
    long_text = stamp_text(
        "Maximilian Alexander Fitzgerald-Worthington III, " + "Very Long Firm Name " * 5, "15 Jan 2026"
    )
    font = StampFont.for_texts([long_text])
    stamper = Stamper(brief_bytes(), font)
    content = _content(PdfReader(io.BytesIO(stamper.copy(long_text, {}))).pages[0])
    size = float(content.split(b"/BriefgenStamp ")[1].split()[0])
    assert 4 <= size < 7
    assert font.width(long_text, size) <= 595.28 - 2 * 28 + 0.01


def test_characters_the_font_lacks_are_named():
    assert unsupported_characters("Zoë 田中 Ω") == "田中"
    with pytest.raises(DistributionError) as caught:
        StampFont.for_texts(["Prepared for 田中"])
    assert str(caught.value) == "the stamp font has no glyph for '中田'"


def test_a_damaged_brief_is_refused_not_repaired():
    with pytest.raises(DistributionError) as caught:
        Stamper(brief_bytes()[:-300], StampFont.for_texts([ANA]))
    assert str(caught.value) == "the brief is not a readable PDF (can't find startxref)"
    damaged = brief_bytes().replace(b"startxref\n", b"startxref\n1", 1)  # points the reader at a wrong offset
    with pytest.raises(DistributionError) as caught:
        Stamper(damaged, StampFont.for_texts([ANA]))
    assert str(caught.value).startswith("the brief is not a readable PDF (") and "BytesIO" not in str(caught.value)


def test_an_encrypted_brief_is_refused(stamper):
    with pytest.raises(DistributionError) as caught:
        Stamper(stamper.copy(ANA, {}, password="pw"), StampFont.for_texts([ANA]))
    assert str(caught.value) == "the brief is encrypted; distribute the unencrypted build output"


def test_a_trace_mark_goes_invisibly_into_every_page(stamper):
    marked = stamper.copy(ANA, {}, mark="bgm1.ABC-123")
    with pikepdf.open(io.BytesIO(marked)) as opened:
        for page in opened.pages:
            points = [point.operands for point in pikepdf.parse_content_stream(page) if str(point.operator) == "DP"]
            assert [(str(ops[0]), str(ops[1]["/ID"])) for ops in points] == [("/BriefgenMark", "bgm1.ABC-123")]
    assert page_texts(marked) == page_texts(stamper.copy(ANA, {}))  # not drawn, not extracted as text
    assert b"BriefgenMark" not in b"".join(_decoded_streams(stamper.copy(ANA, {})))
    with pytest.raises(ValueError):
        stamper.copy(ANA, {}, mark="a) Tj (b")  # nothing but the mark's own characters reaches the content


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed")
def test_the_stamp_is_visible_when_the_page_is_rendered(stamper, tmp_path):
    """Render the bottom strip of page 1 with poppler: the stamp must darken pixels the original leaves white."""

    def bottom_strip(pdf: bytes, name: str) -> bytes:
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(pdf)
        # 72 dpi: one pixel per point; crop the lowest 30 points of the A4 page, as greyscale PGM.
        return subprocess.run(
            [
                "pdftoppm",
                "-r",
                "72",
                "-f",
                "1",
                "-l",
                "1",
                "-gray",
                "-x",
                "0",
                "-y",
                "812",
                "-W",
                "595",
                "-H",
                "30",
                str(path),
            ],
            check=True,
            capture_output=True,
        ).stdout

    def dark_pixels(pgm: bytes) -> int:
        header_end = pgm.index(b"255\n") + 4
        return sum(1 for value in pgm[header_end:] if value < 200)

    assert dark_pixels(bottom_strip(brief_bytes(), "original")) == 0
    assert dark_pixels(bottom_strip(stamper.copy(ANA, {}), "copy")) > 100


def _two_stream_pdf() -> bytes:
    """A page whose content is an array of two streams and whose fonts are inherited from the page tree."""
    from pikepdf import Array, Dictionary, Name

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(612, 792))
    page = pdf.Root.Pages.Kids[0]
    page.Contents = Array(
        [
            pdf.make_stream(b"BT /F1 12 Tf 100 %d Td (%s) Tj ET" % (y, text))
            for y, text in ((700, b"First part"), (600, b"Second part"))
        ]
    )
    if "/Resources" in page:
        del page.Resources
    helvetica = Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    pdf.Root.Pages.Resources = Dictionary(Font=Dictionary(F1=helvetica))
    out = io.BytesIO()
    pdf.save(out)
    raw = out.getvalue()
    with pikepdf.open(io.BytesIO(raw), inherit_page_attributes=False) as check:
        assert "/Resources" not in check.Root.Pages.Kids[0]  # truly inherited
    return raw


def test_content_arrays_and_inherited_resources_are_kept():
    copy = Stamper(_two_stream_pdf(), StampFont.for_texts([ANA])).copy(ANA, {})
    (text,) = page_texts(copy)
    assert "First part" in text and "Second part" in text and "Prepared for Ana Łukasiewicz" in text
    page = PdfReader(io.BytesIO(copy)).pages[0]
    assert sorted(_fonts(page)) == ["/BriefgenStamp", "/F1"]


def test_a_marked_copy_cannot_be_marked_again(stamper):
    with pytest.raises(DistributionError) as caught:
        Stamper(stamper.copy(ANA, {}), StampFont.for_texts([ZOE]))
    assert str(caught.value) == "this PDF is already a client's marked copy; distribute the brief itself"
