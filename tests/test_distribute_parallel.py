"""A large outbox run stamps its copies in forked children too: the same copies, every client served once.

distribute/serve.py stamps each batch partly here and partly in forked children, and every message is
written to the run's staging folder first and renamed into place once the ledger has its row.
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
from pathlib import Path

import pikepdf
import pytest

import briefgen.distribute.serve as serve
import briefgen.distribute.transport as transport
from briefgen.background import can_fork
from briefgen.distribute.deliver import distribute, distribution_status, safe_stem
from briefgen.distribute.ledger import Ledger
from briefgen.distribute.trace import KEY_FILE
from briefgen.errors import OutputError
from tests.test_distribute_support import SENDER, page_texts

CLIENTS = 40  # with batches of 16: two stamped in parallel, the last (8) here alone


def clients_csv(count: int) -> str:
    rows = ["client_id,name,firm,email,password,tier"]
    for i in range(count):
        password = f"pw-{i}" if i % 7 == 3 else ""
        name = f"Client {i} Łukasiewicz" if i % 3 else f"Client {i}"
        rows.append(f"c{i:03d},{name},Firm {i} Ζήτα,client{i}@firm{i}.example.com,{password},gold")
    return "\n".join(rows) + "\n"


def run(root: Path):
    return distribute(root / "output" / "brief.pdf", root / "inputs" / "clients.csv", root / "output", sender=SENDER)


@pytest.fixture
def many(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (workdir / "inputs" / "clients.csv").write_text(clients_csv(CLIENTS), encoding="utf-8")
    monkeypatch.setattr(serve, "OUTBOX_BATCH", 16)
    return workdir


def messages(root: Path, version: str) -> dict[str, email.message.EmailMessage]:
    out = {}
    for path in sorted((root / "output" / "outbox" / version[:12]).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        out[path.stem] = message
    return out


def attached(message: email.message.EmailMessage) -> bytes:
    part = next(p for p in message.walk() if p.get_content_type() == "application/pdf")
    assert part["Content-Transfer-Encoding"] == "base64"
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


def test_forked_children_stamp_the_very_copies_one_process_stamps(many, tmp_path, monkeypatch):
    if not can_fork():
        pytest.skip("this platform or process does not fork (briefgen.background.can_fork)")
    serial = tmp_path / "serial"
    shutil.copytree(many, serial)
    forked: list[int] = []
    start = serve.Background.start

    def counting(fn, *args):
        forked.append(len(args[0]))
        return start(fn, *args)

    monkeypatch.setattr(serve.Background, "start", counting)
    report = run(many)
    assert report.ok and report.count("sent") == CLIENTS
    # Two batches of 16 stamped partly in children, a child per core (the last batch, 8, here alone).
    children = min(os.cpu_count() or 1, serve.MAX_CHILDREN)
    assert sum(forked) == 16 - round(16 / (children + 1)) + 16 - round(16 * serve.HERE_SHARE)
    assert len(forked) == 2 * children

    monkeypatch.setattr(serve, "PARALLEL_BATCH", 10**6)  # the same run, all stamped in this process
    shutil.copy(many / "output" / KEY_FILE, serial / "output" / KEY_FILE)  # the same trace marks
    assert run(serial).ok

    copies = many / "output" / "distribution" / report.version[:12]
    alone = serial / "output" / "distribution" / report.version[:12]
    sent = messages(many, report.version)
    assert len(sent) == CLIENTS and len({m["Message-ID"] for m in sent.values()}) == CLIENTS
    for i in range(CLIENTS):
        stem, password = safe_stem(f"c{i:03d}"), f"pw-{i}" if i % 7 == 3 else None
        copy = (copies / f"{stem}.pdf").read_bytes()
        assert attached(sent[stem]) == copy  # the message carries the copy on disk, byte for byte
        assert f"client{i}@firm{i}.example.com" in sent[stem]["To"]
        if password is None:  # plain copies are a pure function of the brief and the client
            assert copy == (alone / f"{stem}.pdf").read_bytes()
        else:  # encrypted ones have their own random keys: the same pages, each with its own stamp
            assert page_texts(copy, password) == page_texts((alone / f"{stem}.pdf").read_bytes(), password)
            with pikepdf.open(copies / f"{stem}.pdf", password=password) as pdf:
                assert pdf.is_encrypted
        assert f"Client {i}" in page_texts(copy, password)[0]
    assert not [p.name for p in copies.iterdir() if p.name.startswith(serve.STAGING_PREFIX)]


def test_a_failure_mid_way_leaves_no_staged_file_and_the_next_run_serves_each_client_once(many, monkeypatch):
    real = transport.move_into_place
    placed: list[str] = []

    def disk_full_on_the_twentieth(staged, path):
        if len(placed) == 19:
            raise OutputError(f"{path}: the disk is full")
        placed.append(path.name)
        real(staged, path)

    monkeypatch.setattr(transport, "move_into_place", disk_full_on_the_twentieth)
    with pytest.raises(OutputError):
        run(many)
    version = distribution_status(many / "output", many / "output" / "brief.pdf").current
    assert version is not None
    copies = many / "output" / "distribution" / version[:12]
    assert not [p for p in copies.iterdir() if p.name.startswith(serve.STAGING_PREFIX)]
    with Ledger(many / "output").open(exclusive=False) as ledger:
        states = sorted(d.status for d in ledger.deliveries(version).values())
    # The first batch (16) delivered; the second batch committed `sending`: 3 delivered, 13 in doubt.
    assert states.count("sent") == 19 and states.count("sending") == 13 and len(states) == 32
    monkeypatch.setattr(transport, "move_into_place", real)
    again = run(many)
    assert again.ok and again.count("already sent") == 19 and again.count("sent") == CLIENTS - 19
    sent = messages(many, version)
    assert len(sent) == CLIENTS and len({m["Message-ID"] for m in sent.values()}) == CLIENTS
    assert sorted(p.stem for p in copies.glob("*.pdf")) == sorted(sent)


def test_a_killed_runs_staging_folder_is_removed_but_a_link_of_its_name_is_not_followed(many, tmp_path):
    report = run(many)  # makes the copies' folder
    copies = many / "output" / "distribution" / report.version[:12]
    left = copies / f"{serve.STAGING_PREFIX}4242"
    left.mkdir()
    (left / f"{safe_stem('c000')}.eml").write_bytes(b"half a message")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("not briefgen's")
    (copies / f"{serve.STAGING_PREFIX}link").symlink_to(elsewhere, target_is_directory=True)
    (many / "inputs" / "clients.csv").write_text(clients_csv(CLIENTS + 1), encoding="utf-8")  # one more to serve
    again = run(many)
    assert again.ok and again.count("sent") == 1
    assert not left.exists()
    assert (elsewhere / "keep.txt").read_text() == "not briefgen's"


def test_a_copy_that_fails_in_a_child_stops_the_run_before_its_batch_is_committed(many, monkeypatch):
    if not can_fork():
        pytest.skip("this platform or process does not fork (briefgen.background.can_fork)")
    from briefgen.distribute.stamp import Stamper
    from briefgen.errors import DistributionError

    real = Stamper.copy

    def refuse_c020(self, text, metadata, password=None, mark=None):
        if metadata.get("/RecipientID") == "c020":  # in the second batch, in a child's share
            raise DistributionError("the brief is not a readable PDF (object 12 is damaged)")
        return real(self, text, metadata, password, mark)

    monkeypatch.setattr(Stamper, "copy", refuse_c020)
    with pytest.raises(DistributionError, match="object 12 is damaged"):
        run(many)
    version = distribution_status(many / "output", many / "output" / "brief.pdf").current
    assert version is not None
    with Ledger(many / "output").open(exclusive=False) as ledger:
        states = [d.status for d in ledger.deliveries(version).values()]
    assert states == ["sent"] * 16  # the first batch; the second was never committed nor written
    copies = many / "output" / "distribution" / version[:12]
    assert len(list(copies.glob("*.pdf"))) == 16
    assert not [p for p in copies.iterdir() if p.name.startswith(serve.STAGING_PREFIX)]
    monkeypatch.setattr(Stamper, "copy", real)
    again = run(many)
    assert again.ok and again.count("already sent") == 16 and again.count("sent") == CLIENTS - 16
    assert len(messages(many, version)) == CLIENTS


def test_an_outbox_on_another_file_system_gets_its_messages_copied_there(many, monkeypatch):
    """os.replace cannot cross file systems (EXDEV): a staged file is copied into place instead."""
    import errno

    import briefgen.files as files

    real = os.replace
    crossed: list[str] = []

    def replace(src, dst):
        if serve.STAGING_PREFIX in str(src) and str(dst).endswith(".eml"):
            crossed.append(Path(dst).name)
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real(src, dst)

    monkeypatch.setattr(files.os, "replace", replace)
    report = run(many)
    assert report.ok and report.count("sent") == CLIENTS and len(crossed) == CLIENTS
    sent = messages(many, report.version)
    copies = many / "output" / "distribution" / report.version[:12]
    assert len(sent) == CLIENTS
    assert all(
        attached(sent[safe_stem(f"c{i:03d}")]) == (copies / f"{safe_stem(f'c{i:03d}')}.pdf").read_bytes()
        for i in range(CLIENTS)
    )
    assert not [p for p in copies.iterdir() if p.name.startswith(serve.STAGING_PREFIX)]
