"""`briefgen trace FILE.pdf`: a marked copy -> the client, brief version and delivery it was made for."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner

from briefgen.cli import main
from briefgen.distribute.deliver import distribute, safe_stem
from briefgen.distribute.trace import KEY_FILE, copy_mark, mark_key, read_marks
from tests.conftest import user_docs
from tests.test_distribute_support import SENDER, brief_bytes, no_warnings  # noqa: F401


def run(*args: str, env: dict | None = None):
    return CliRunner(env={"BRIEFGEN_TRACE_PASSWORD": None, **(env or {})}).invoke(main, ["trace", *args])


@pytest.fixture
def distributed(workdir: Path) -> Path:
    """The work folder after a real `distribute` run to the outbox: five marked copies, one encrypted."""
    report = distribute(
        workdir / "output" / "brief.pdf", workdir / "inputs" / "clients.csv", workdir / "output", sender=SENDER
    )
    assert report.ok
    return workdir


def key_of(output: Path) -> bytes:
    """The output folder's mark key, which a run that distributed has made."""
    key = mark_key(output, create=False)
    assert key is not None, f"no mark key in {output}"
    return key


def copy_of(root: Path, client_id: str) -> Path:
    version = hashlib.sha256((root / "output" / "brief.pdf").read_bytes()).hexdigest()
    return root / "output" / "distribution" / version[:12] / f"{safe_stem(client_id)}.pdf"


def stripped(source: Path, target: Path, password: str = "") -> Path:
    """source saved again by pikepdf with its document information and XMP metadata deleted."""
    with pikepdf.open(source, password=password) as pdf:
        del pdf.trailer["/Info"]
        if "/Metadata" in pdf.Root:
            del pdf.Root["/Metadata"]
        pdf.save(target)
    with pikepdf.open(target) as check:  # nothing is left that names the recipient but the pages
        assert "/Info" not in check.trailer and "/Metadata" not in check.Root
    return target


def test_a_copy_stripped_of_its_metadata_still_names_its_client(distributed, tmp_path):
    leaked = stripped(copy_of(distributed, "zeta"), tmp_path / "leaked.pdf")
    assert b"zeta" not in leaked.read_bytes() and b"zoe@" not in leaked.read_bytes()
    result = run(str(leaked), "--output", str(distributed / "output"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    version = hashlib.sha256((distributed / "output" / "brief.pdf").read_bytes()).hexdigest()[:12]
    assert lines[0] == f"{leaked}: the copy made for zeta <zoe@athena.example.com>"
    assert lines[1].startswith(f'  brief     {version} "Bitcoin mining: mid-January update", stamped ')
    assert lines[2].startswith("  delivery  sent ") and "via outbox, Message-ID <briefgen." in lines[2]
    assert lines[3] == f"  mark      on every page of 3, authenticated by {distributed / 'output'}"
    assert lines[4].endswith(": this file differs from it (metadata stripped or content changed)")
    assert f"distribution/{version}/{safe_stem('zeta')}.pdf" in lines[4]


def test_an_untouched_copy_is_recognised_byte_for_byte_even_encrypted(distributed, monkeypatch):
    monkeypatch.chdir(distributed)
    plain = run(str(copy_of(distributed, "acme-1")))  # --output defaults to output/
    assert plain.exit_code == 0, plain.output
    assert "the copy made for acme-1 <ana@acme.example.com>" in plain.stdout
    assert "this file is byte for byte that copy" in plain.stdout
    # Bob's copy is encrypted: its bytes are in the ledger, no password needed.
    secret = run(str(copy_of(distributed, "bob/../../etc")))
    assert secret.exit_code == 0, secret.output
    assert "the copy made for bob/../../etc <bob@jones.example.com>" in secret.stdout


def test_an_encrypted_copy_that_was_changed_needs_the_clients_password(distributed, tmp_path):
    source = copy_of(distributed, "bob/../../etc")
    changed = tmp_path / "changed.pdf"
    with pikepdf.open(source, password="open-sesame") as pdf:
        del pdf.trailer["/Info"]
        pdf.save(changed, encryption=pikepdf.Encryption(owner="x", user="open-sesame"))
    output = str(distributed / "output")
    locked = run(str(changed), "--output", output)
    assert locked.exit_code == 1
    assert locked.stderr == (
        f"Error: {changed} is encrypted and is not byte for byte a copy in the ledger; set "
        "BRIEFGEN_TRACE_PASSWORD to the client's password (from clients.csv) to read its mark\n"
    )
    opened = run(str(changed), "--output", output, env={"BRIEFGEN_TRACE_PASSWORD": "open-sesame"})
    assert opened.exit_code == 0, opened.output
    assert "the copy made for bob/../../etc <bob@jones.example.com>" in opened.stdout


def test_an_unmarked_pdf_is_refused(distributed):
    original = distributed / "output" / "brief.pdf"
    result = run(str(original), "--output", str(distributed / "output"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {original} carries no briefgen mark: it is not a copy made by "
        "`briefgen distribute` (or its stamps were removed)\n"
    )
    assert result.stdout == ""


def test_a_copy_marked_by_another_output_folder_is_refused(distributed, tmp_path):
    """Another desk distributes the same brief to the same client list: its copies are not ours."""
    other = tmp_path / "other-desk"
    shutil.copytree(distributed / "inputs", other / "inputs")
    (other / "output").mkdir(parents=True)
    shutil.copy(distributed / "output" / "brief.pdf", other / "output" / "brief.pdf")
    assert distribute(
        other / "output" / "brief.pdf", other / "inputs" / "clients.csv", other / "output", sender=SENDER
    ).ok
    theirs = stripped(copy_of(other, "zeta"), tmp_path / "theirs.pdf")
    assert run(str(theirs), "--output", str(other / "output")).exit_code == 0  # their desk can trace it
    result = run(str(theirs), "--output", str(distributed / "output"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {theirs}: the mark on page 1 was not made by {distributed / 'output'}: the file "
        "is a copy of another desk's brief (another output folder), or its mark was forged\n"
    )


def test_a_forged_mark_is_refused(distributed, tmp_path):
    """A mark built for a real delivery under a guessed key, or an edited mark, does not pass."""
    version = hashlib.sha256((distributed / "output" / "brief.pdf").read_bytes()).hexdigest()
    from briefgen.distribute.stamp import Stamper, StampFont, stamp_text

    text = stamp_text("Ζωή Παπαδοπούλου, Αθήνα Partners", "1 Jan 2026")
    stamper = Stamper(brief_bytes(), StampFont.for_texts([text]))
    genuine = copy_mark(key_of(distributed / "output"), version, "zeta")
    middle = len(genuine) // 2
    edited = genuine[:middle] + ("A" if genuine[middle] != "A" else "B") + genuine[middle + 1 :]
    respelled = genuine[:-1] + chr(ord(genuine[-1]) + 1)  # the same bytes in base32's spare bits
    for mark in (copy_mark(os.urandom(32), version, "zeta"), edited, respelled, "bgm1.NOTAMARK"):
        forged = tmp_path / "forged.pdf"
        forged.write_bytes(stamper.copy(text, {}, mark=mark))
        result = run(str(forged), "--output", str(distributed / "output"))
        assert result.exit_code == 1, mark
        assert "was not made by" in result.stderr and "forged" in result.stderr


def test_an_output_folder_that_never_distributed_says_so(tmp_path, distributed):
    leaked = copy_of(distributed, "zeta")
    result = run(str(leaked), "--output", str(tmp_path / "empty"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tmp_path / 'empty'} has no delivery ledger (distribution.sqlite)")


def test_a_file_that_is_not_a_pdf_exits_1(tmp_path, distributed):
    bogus = tmp_path / "notes.pdf"
    bogus.write_text("hello")
    result = run(str(bogus), "--output", str(distributed / "output"))
    assert (result.exit_code, result.stderr) == (1, f"Error: {bogus} is not a PDF\n")
    missing = run(str(tmp_path / "missing.pdf"), "--output", str(distributed / "output"))
    assert missing.exit_code == 1 and missing.stderr.startswith(f"Error: {tmp_path / 'missing.pdf'}: ")


def test_pages_from_two_copies_are_each_named(distributed, tmp_path):
    mixed = tmp_path / "mixed.pdf"
    with (
        pikepdf.open(copy_of(distributed, "acme-1")) as first,
        pikepdf.open(copy_of(distributed, "ivan")) as second,
        pikepdf.open(io.BytesIO(brief_bytes())) as unmarked,
    ):
        first.pages[2] = second.pages[2]
        first.pages.append(unmarked.pages[0])
        first.save(mixed)
    result = run(str(mixed), "--output", str(distributed / "output"))
    assert result.exit_code == 0, result.output
    assert "the copy made for acme-1 <ana@acme.example.com>" in result.stdout
    assert "the copy made for ivan <ivan@north.example.com>" in result.stdout
    assert "  mark      on pages 1, 2 of 4" in result.stdout and "  mark      on page 3 of 4" in result.stdout
    assert "Pages of 2 different copies were put together" in result.stdout
    assert "Pages without a mark: 4" in result.stdout


def test_the_key_is_made_once_by_a_real_run_readable_by_its_owner_only(workdir):
    output = workdir / "output"
    distribute(output / "brief.pdf", workdir / "inputs" / "clients.csv", output, sender=SENDER, dry_run=True)
    assert not (output / KEY_FILE).exists()  # a dry run writes nothing
    distribute(output / "brief.pdf", workdir / "inputs" / "clients.csv", output, sender=SENDER)
    key = (output / KEY_FILE).read_bytes()
    assert (output / KEY_FILE).stat().st_mode & 0o077 == 0
    assert mark_key(output, create=True) == bytes.fromhex(key.decode())
    marks = read_marks(copy_of(workdir, "acme-1").read_bytes())
    version = hashlib.sha256((output / "brief.pdf").read_bytes()).hexdigest()
    assert [f.mark for f in marks.found] == [copy_mark(key_of(output), version, "acme-1")]


def test_a_key_that_is_a_link_is_refused(workdir, tmp_path):
    outside = tmp_path / "elsewhere.key"
    outside.write_text("0" * 64)
    (workdir / "output" / KEY_FILE).symlink_to(outside)
    with pytest.raises(Exception) as caught:
        mark_key(workdir / "output", create=True)
    assert "is a symbolic link" in str(caught.value)


def test_help_and_docs_describe_trace():
    result = CliRunner().invoke(main, ["trace", "--help"])
    assert result.exit_code == 0 and "--output" in result.output
    assert "trace" in CliRunner().invoke(main, ["--help"]).output
    docs = user_docs()
    assert "briefgen trace" in docs and "BRIEFGEN_TRACE_PASSWORD" in docs


def test_an_authentic_mark_without_a_delivery_or_without_the_key_exits_1(distributed, tmp_path):
    from briefgen.distribute.stamp import Stamper, StampFont, stamp_text

    output = distributed / "output"
    version = hashlib.sha256((output / "brief.pdf").read_bytes()).hexdigest()
    text = stamp_text("Nobody, Nowhere", "1 Jan 2026")
    copy = tmp_path / "never-sent.pdf"
    copy.write_bytes(
        Stamper(brief_bytes(), StampFont.for_texts([text])).copy(
            text, {}, mark=copy_mark(key_of(output), version, "nobody")
        )
    )
    result = run(str(copy), "--output", str(output))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {copy}: the mark is authentic (brief version {version[:12]}) but the ledger "
        "records no delivery of that version to its client: the copy never left a --dry-run, "
        "or the ledger was replaced\n"
    )
    (output / KEY_FILE).unlink()
    leaked = stripped(copy_of(distributed, "zeta"), tmp_path / "leaked.pdf")
    result = run(str(leaked), "--output", str(output))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {output} has no distribution key ({KEY_FILE}); the mark in {leaked} cannot be checked\n"
    )
