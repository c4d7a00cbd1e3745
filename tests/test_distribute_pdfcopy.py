"""One template PDF -> many copies with a few objects replaced, plain or AES-256 encrypted."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, StreamObject, create_string_object

from briefgen.pdfcopy import CopyTemplate
from tests.test_distribute_support import brief_bytes, no_warnings  # noqa: F401


@pytest.fixture(scope="module")
def template() -> CopyTemplate:
    out = io.BytesIO()
    PdfWriter(clone_from=PdfReader(io.BytesIO(brief_bytes()))).write(out)
    return CopyTemplate(out.getvalue())


def replacement(template: CopyTemplate, who: str) -> dict:
    """New metadata naming who, and page 1's content with a comment naming who."""
    reader = template.reader
    page = reader.pages[0]
    content = page.raw_get("/Contents")
    stream = DecodedStreamObject()
    stream.set_data(page.get_contents().get_data() + b"\n% for " + who.encode() + b"\n")
    info = DictionaryObject(reader.get_object(template.info))
    info[NameObject("/Recipient")] = create_string_object(who)
    return {content.idnum: stream, template.info: info}


def streams(reader: PdfReader) -> dict[int, bytes]:
    """Every stream's decoded data, by object number."""
    objects = (reader.get_object(idnum) for idnum in reader.xref[0])
    return {obj.indirect_reference.idnum: obj.get_data() for obj in objects if isinstance(obj, StreamObject)}


def test_a_plain_copy_reuses_every_other_object_byte_for_byte(template):
    copy = template.copy(replacement(template, "Ana"))
    reader = PdfReader(io.BytesIO(copy), strict=True)
    assert reader.metadata["/Recipient"] == "Ana"
    assert reader.metadata.title == "Bitcoin mining: mid-January update"
    assert [p.extract_text() for p in reader.pages][1:] == [p.extract_text() for p in template.reader.pages][1:]
    changed = set(replacement(template, "Ana"))
    for idnum, chunk in template._chunks.items():
        if idnum not in changed:
            assert chunk in copy
    assert copy == template.copy(replacement(template, "Ana"))  # reproducible
    assert copy != template.copy(replacement(template, "Bob"))


def test_an_encrypted_copy_holds_the_same_document_under_its_own_key(template):
    plain = PdfReader(io.BytesIO(template.copy(replacement(template, "Ana"))))
    first = template.copy(replacement(template, "Ana"), password="pässwörd", permissions=-4)
    second = template.copy(replacement(template, "Ana"), password="other")
    reader = PdfReader(io.BytesIO(first), strict=True)
    assert reader.is_encrypted and reader._encryption.R == 6
    assert not reader.decrypt("other")
    assert reader.decrypt("pässwörd")
    assert reader.metadata == plain.metadata
    assert [o.title for o in reader.outline] == [o.title for o in plain.outline]
    assert streams(reader) == streams(plain)
    assert b"Bitcoin mining" not in first and b"mid-January" not in first
    assert not PdfReader(io.BytesIO(second)).decrypt("pässwörd")  # every copy has its own file key


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed")
def test_poppler_renders_an_encrypted_copy_like_the_plain_one(template, tmp_path):
    (tmp_path / "plain.pdf").write_bytes(template.copy(replacement(template, "Ana")))
    (tmp_path / "secret.pdf").write_bytes(template.copy(replacement(template, "Ana"), password="pw"))

    def render(name: str, *password: str) -> bytes:
        return subprocess.run(["pdftoppm", *password, "-r", "40", "-f", "1", "-l", "1", "-gray", str(tmp_path / name)],
                              check=True, capture_output=True).stdout

    assert render("secret.pdf", "-upw", "pw") == render("plain.pdf")
    assert subprocess.run(["pdftoppm", "-r", "40", str(tmp_path / "secret.pdf")], capture_output=True).returncode != 0


def test_only_templates_written_by_pypdf_are_accepted(template):
    assert PdfReader(io.BytesIO(brief_bytes())).xref_objStm  # WeasyPrint packs objects into streams
    with pytest.raises(ValueError):
        CopyTemplate(brief_bytes())
    with pytest.raises(ValueError) as caught:
        template.copy({99999: DictionaryObject()})
    assert str(caught.value) == "no object [99999] in the template"
