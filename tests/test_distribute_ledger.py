"""The delivery ledger: states per (brief version, client), counts, one run at a time."""

from __future__ import annotations

import sqlite3

import pytest

from briefgen.distribute.ledger import FAILED, PENDING, SENDING, SENT, Delivery, Ledger, VersionCounts
from briefgen.errors import DistributionError
from tests.test_distribute_support import no_warnings  # noqa: F401

V1, V2 = "a" * 64, "b" * 64


def open_ledger(tmp_path) -> Ledger:
    ledger = Ledger(tmp_path).open()
    ledger.version(V1, title="Mid-January", brief_path="output/brief.pdf", stamp_date="15 Jan 2026")
    return ledger


def send(ledger: Ledger, client_id: str, version: str = V1, mid: str | None = None) -> None:
    ledger.begin_send(
        version,
        client_id,
        email=f"{client_id}@example.com",
        message_id=mid or f"<{client_id}@x>",
        via="smtp",
        copy_file=f"distribution/{client_id}.pdf",
        copy_sha256="0" * 64,
    )


def row_of(ledger: Ledger, client_id: str, version: str = V1) -> Delivery:
    """The ledger's row for (version, client), which must be there."""
    row = ledger.get(version, client_id)
    assert row is not None, (version, client_id)
    return row


def test_a_delivery_goes_from_sending_to_sent_with_its_message_id_kept(tmp_path):
    with open_ledger(tmp_path) as ledger:
        send(ledger, "ana")
        row = row_of(ledger, "ana")
        assert (row.status, row.message_id, row.attempts, row.sent_at) == (SENDING, "<ana@x>", 1, None)
        ledger.finish(V1, "ana", SENT)
        row = row_of(ledger, "ana")
        assert row.status == SENT and row.sent_at is not None and row.error is None


def test_a_retry_keeps_the_message_id_and_counts_attempts(tmp_path):
    with open_ledger(tmp_path) as ledger:
        send(ledger, "bob")
        ledger.finish(V1, "bob", FAILED, "550 5.1.1 no such user")
        assert row_of(ledger, "bob").error == "550 5.1.1 no such user"
        send(ledger, "bob")
        assert (row_of(ledger, "bob").attempts, row_of(ledger, "bob").status) == (2, SENDING)
        with pytest.raises(RuntimeError):
            send(ledger, "bob", mid="<other@x>")  # a delivery never changes its Message-ID
        ledger.finish(V1, "bob", SENT)
        with pytest.raises(RuntimeError):
            send(ledger, "bob")  # nothing is sent twice


def test_the_stamp_date_of_a_version_is_fixed_at_its_first_run(tmp_path):
    with open_ledger(tmp_path) as ledger:
        again = ledger.version(V1, title="Mid-January", brief_path="output/brief.pdf", stamp_date="16 Jan 2026")
        assert again.stamp_date == "15 Jan 2026"
        assert ledger.find_version(V2) is None


def test_counts_per_version_read_sending_as_in_doubt(tmp_path):
    with open_ledger(tmp_path) as ledger:
        for client, status in (("a", SENT), ("b", SENT), ("c", FAILED), ("d", PENDING), ("e", SENDING)):
            send(ledger, client)
            ledger.finish(V1, client, status)
        ledger.version(V2, title=None, brief_path="output/brief.pdf", stamp_date="31 Jan 2026")
        send(ledger, "a", version=V2)
        counts = {c.version: c for c in ledger.counts()}
    assert counts[V1] == VersionCounts(
        V1, "Mid-January", counts[V1].first_seen, sent=2, pending=1, in_doubt=1, failed=1, served_by=(("smtp", 2),)
    )
    assert (counts[V2].sent, counts[V2].in_doubt) == (0, 1)


def test_one_run_at_a_time_and_readers_never_block(tmp_path):
    with open_ledger(tmp_path) as ledger:
        with pytest.raises(DistributionError) as caught:
            Ledger(tmp_path).open()
        reader = Ledger(tmp_path).open(exclusive=False)
        assert reader.running()
        assert [c.version for c in reader.counts()] == [V1]
        with pytest.raises(sqlite3.OperationalError):
            reader.db.execute("DELETE FROM deliveries")  # read-only
        reader.close()
        send(ledger, "ana")
    assert str(caught.value) == (
        f"another `briefgen distribute` is running on {tmp_path} (it holds {tmp_path / '.distribution.lock'})"
    )
    with Ledger(tmp_path).open(exclusive=False) as reader:
        assert not reader.running()


def test_a_file_that_is_not_a_ledger_is_refused(tmp_path):
    (tmp_path / "distribution.sqlite").write_bytes(b"not a database at all, just text" * 100)
    with pytest.raises(DistributionError) as caught:
        Ledger(tmp_path).open()
    assert str(caught.value) == (
        f"cannot use the delivery ledger {tmp_path / 'distribution.sqlite'}: file is not a database"
    )
