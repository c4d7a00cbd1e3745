"""The whole distribution: marked copies, outbox and SMTP delivery, exactly once across failures and crashes."""

from __future__ import annotations

import csv
import email
import email.policy
import hashlib
import json
import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from briefgen.distribute.clients import load_clients
from briefgen.distribute.deliver import distribute, distribution_status, safe_stem
from briefgen.distribute.ledger import Ledger
from briefgen.distribute.mail import RetryPolicy, SmtpSettings
from briefgen.errors import DistributionError, InputError
from tests.test_distribute_support import (  # noqa: F401  (fixtures)
    SENDER,
    Mailbox,
    attachment,
    body_text,
    brief_bytes,
    no_warnings,
    page_texts,
    stop_soon,
)

DAY = date(2026, 1, 15)
FAST = RetryPolicy(attempts=3, first_delay=0.01, max_delay=0.02)
PASSWORDS = {"bob/../../etc": "open-sesame"}


def paths(root: Path) -> tuple[Path, Path, Path]:
    return root / "output" / "brief.pdf", root / "inputs" / "clients.csv", root / "output"


def run(root: Path, **options):
    brief, clients, output = paths(root)
    options.setdefault("sender", SENDER)
    options.setdefault("today", DAY)
    return distribute(brief, clients, output, **options)


def smtp_run(root: Path, port: int, **options):
    return run(
        root, via="smtp", smtp=SmtpSettings("127.0.0.1", port, tls="none", connect_timeout=5), retry=FAST, **options
    )


def version_of(root: Path) -> str:
    return hashlib.sha256((root / "output" / "brief.pdf").read_bytes()).hexdigest()


def check_copy(pdf: bytes, client, day: str = "15 Jan 2026") -> None:
    """The copy is the brief, marked for this client on every page, opening only with their password."""
    texts = page_texts(pdf, password=client.password)
    assert len(texts) == 3
    assert all(f"Prepared for {client.name}, {client.firm} · {day} · not for redistribution" in t for t in texts)


def assert_served_exactly_once(mailbox: Mailbox, root: Path, day: str = "15 Jan 2026") -> dict[str, list]:
    """Every client holds exactly one distinct message (by Message-ID), carrying their own copy."""
    clients = load_clients(root / "inputs" / "clients.csv")
    inbox = mailbox.by_recipient()
    assert set(inbox) == {c.email for c in clients}
    ids = set()
    for client in clients:
        messages = inbox[client.email]
        (mid,) = {m["Message-ID"] for m in messages}
        ids.add(mid)
        for message in messages:
            assert message["To"].addresses[0].display_name == client.name
            check_copy(attachment(message), client, day)
    assert len(ids) == len(clients)
    return inbox


# --- outbox ------------------------------------------------------------------------------


def test_outbox_writes_one_marked_message_per_client_and_a_manifest(workdir):
    report = run(workdir)
    assert report.ok and report.count("sent") == 5 and report.title == "Bitcoin mining: mid-January update"
    version = version_of(workdir)
    outbox = workdir / "output" / "outbox" / version[:12]
    clients = load_clients(workdir / "inputs" / "clients.csv")
    assert sorted(p.name for p in outbox.iterdir()) == sorted(f"{safe_stem(c.client_id)}.eml" for c in clients)
    manifest_text = (workdir / "output" / "distribution" / version[:12] / "manifest.csv").read_text("utf-8")
    manifest = {row["client_id"]: row for row in csv.DictReader(manifest_text.splitlines())}
    ids = set()
    for client in clients:
        message = email.message_from_bytes(
            (outbox / f"{safe_stem(client.client_id)}.eml").read_bytes(), policy=email.policy.default
        )
        assert message["To"].addresses[0].addr_spec == client.email
        assert message["Subject"] == "Bitcoin mining: mid-January update"
        assert message["From"] == SENDER
        pdf = attachment(message)
        check_copy(pdf, client)
        row = manifest[client.client_id]
        assert (row["status"], row["email"], row["name"]) == ("sent", client.email, client.name)
        assert row["sha256"] == hashlib.sha256(pdf).hexdigest()
        assert hashlib.sha256((workdir / "output" / row["file"]).read_bytes()).hexdigest() == row["sha256"]
        assert row["time"] and row["message_id"] == message["Message-ID"]
        ids.add(message["Message-ID"])
    assert len(ids) == 5
    document = json.loads((workdir / "output" / "distribution" / version[:12] / "manifest.json").read_text("utf-8"))
    assert document["version"] == version and len(document["clients"]) == 5
    assert {c["client_id"]: c["sha256"] for c in document["clients"]} == {k: v["sha256"] for k, v in manifest.items()}


def test_a_second_run_sends_nothing_and_a_new_client_alone_is_served(workdir):
    run(workdir)
    outbox = workdir / "output" / "outbox" / version_of(workdir)[:12]
    before = {p.name: p.read_bytes() for p in outbox.iterdir()}
    again = run(workdir)
    assert again.ok and again.count("already sent") == 5 and again.count("sent") == 0
    assert {p.name: p.read_bytes() for p in outbox.iterdir()} == before
    with (workdir / "inputs" / "clients.csv").open("a", encoding="utf-8") as handle:
        handle.write("new,Nia Long,Fresh Fund,nia@fresh.example.com,,\n")
    third = run(workdir)
    assert [o.client_id for o in third.outcomes if o.status == "sent"] == ["new"]


def test_a_changed_brief_is_a_new_version_and_goes_to_everyone(workdir):
    first = run(workdir)
    (workdir / "output" / "brief.pdf").write_bytes(brief_bytes(title="Bitcoin mining: month-end recap"))
    second = run(workdir, today=date(2026, 1, 31))
    assert second.version != first.version and second.count("sent") == 5
    assert second.title == "Bitcoin mining: month-end recap"
    status = distribution_status(
        workdir / "output", workdir / "output" / "brief.pdf", workdir / "inputs" / "clients.csv"
    )
    assert [(v.version, v.sent, v.pending) for v in status.versions] == [(second.version, 5, 0), (first.version, 5, 0)]
    assert status.current == second.version


def test_file_names_are_safe_and_stay_inside_output(workdir):
    run(workdir)
    written = {p.relative_to(workdir) for p in workdir.rglob("*") if p.is_file()}
    assert all(p.parts[0] in ("output", "inputs") for p in written)
    assert sorted(p.name for p in (workdir / "output" / "distribution" / version_of(workdir)[:12]).iterdir()) == [
        "acme-1-7974d1de.pdf",
        "bob_etc-15891357.pdf",
        "dana-2c9e0a25.pdf",
        "ivan-cd0b9452.pdf",
        "manifest.csv",
        "manifest.json",
        "zeta-5cc10d91.pdf",
    ]
    assert safe_stem("../..") == "client-" + hashlib.sha256(b"../..").hexdigest()[:8]
    assert safe_stem(".hidden").startswith("hidden-") and safe_stem("j.smith").startswith("j.smith-")
    assert safe_stem("ACME") != safe_stem("acme") and safe_stem("a b") != safe_stem("a_b")


def test_a_folder_linked_outside_output_is_refused(workdir, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (workdir / "output" / "outbox").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(DistributionError) as caught:
        run(workdir)
    assert "a symbolic link leading out of" in str(caught.value) and "outbox" in str(caught.value)
    assert list(elsewhere.iterdir()) == []


def test_a_dry_run_writes_nothing(workdir):
    report = run(workdir, dry_run=True)
    assert report.count("would send") == 5 and report.manifest is None
    assert sorted(p.name for p in (workdir / "output").iterdir()) == ["brief.pdf"]


def test_names_the_stamp_font_cannot_print_are_refused_with_row_and_column(workdir):
    with (workdir / "inputs" / "clients.csv").open("a", encoding="utf-8") as handle:
        handle.write("tanaka,田中 Hiro,Tokyo Fund,hiro@tokyo.example.com,,\n")
    with pytest.raises(InputError) as caught:
        run(workdir)
    assert [str(p) for p in caught.value.problems] == [
        "clients.csv: row 7, column 'name': the stamp font cannot print '田中' "
        "(write it in Latin, Greek or Cyrillic script)"
    ]
    assert not (workdir / "output" / "distribution.sqlite").exists()


def test_the_sender_defaults_to_the_first_analyst_in_brief_yaml(workdir):
    (workdir / "inputs" / "brief.yaml").write_text(
        "title: Mid-January\nanalysts:\n  - name: Lee Park\n  - name: Ana Diaz\n    email: ana.diaz@bank.example.com\n"
    )
    report = run(workdir, sender=None)
    eml = next((workdir / "output" / "outbox" / report.version[:12]).iterdir())
    assert (
        email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)["From"]
        == "Ana Diaz <ana.diaz@bank.example.com>"
    )
    (workdir / "inputs" / "brief.yaml").write_text("title: Mid-January\n")
    with pytest.raises(DistributionError) as caught:
        run(workdir, sender=None)
    assert str(caught.value) == (
        "no sender address: pass --from 'Desk <desk@example.com>', set BRIEFGEN_MAIL_FROM, "
        "or give an analyst an email in brief.yaml"
    )


def test_a_missing_brief_says_to_build_it(workdir):
    (workdir / "output" / "brief.pdf").unlink()
    with pytest.raises(DistributionError) as caught:
        run(workdir)
    assert str(caught.value) == (
        f"{workdir / 'output' / 'brief.pdf'} not found; run `briefgen build` first, or pass --brief FILE"
    )


# --- SMTP --------------------------------------------------------------------------------


def test_smtp_delivers_exactly_one_marked_copy_to_every_client(workdir, smtp_server):
    mailbox = Mailbox()
    events = []
    report = smtp_run(workdir, smtp_server(mailbox).port, progress=lambda done, total, o: events.append((done, total)))
    assert report.ok and report.count("sent") == 5
    assert events == [(i, 5) for i in range(6)]
    inbox = assert_served_exactly_once(mailbox, workdir)
    assert all(len(messages) == 1 for messages in inbox.values())
    assert {r.mail_from for r in mailbox.received} == {"desk@bank.example.com"}


def test_refused_recipients_are_recorded_and_served_on_the_next_run(workdir, smtp_server):
    mailbox = Mailbox(refuse={"zoe@athena.example.com": "550 5.1.1 <zoe@athena.example.com>: mailbox unavailable"})
    port = smtp_server(mailbox).port
    first = smtp_run(workdir, port)
    assert not first.ok
    assert [(o.client_id, o.status, o.detail) for o in first.undelivered] == [
        ("zeta", "failed", "550 5.1.1 <zoe@athena.example.com>: mailbox unavailable")
    ]
    status = distribution_status(
        workdir / "output", workdir / "output" / "brief.pdf", workdir / "inputs" / "clients.csv"
    )
    assert (status.versions[0].sent, status.versions[0].failed) == (4, 1)
    mailbox.refuse.clear()
    second = smtp_run(workdir, port)
    assert second.ok and [o.client_id for o in second.outcomes if o.status == "sent"] == ["zeta"]
    inbox = assert_served_exactly_once(mailbox, workdir)
    assert all(len(messages) == 1 for messages in inbox.values())


def test_a_server_that_stops_mid_run_leaves_the_rest_for_the_next_run(workdir, smtp_server):
    mailbox = Mailbox()
    controller = smtp_server(mailbox)

    def stop_after_two(box: Mailbox, server) -> None:
        if len(box.received) == 2:
            box.closing = True  # later commands get 421 until the server is gone
            stop_soon(controller)

    mailbox.on_data = stop_after_two
    first = smtp_run(workdir, controller.port)
    # The server never took the third message: it and the two after it are certainly not delivered.
    assert [o.status for o in first.outcomes] == ["sent", "sent", "pending", "pending", "pending"]
    assert len(mailbox.received) == 2

    mailbox.closing, mailbox.on_data = False, None
    second = smtp_run(workdir, smtp_server(mailbox).port)  # the server is back, on another port
    assert second.ok and second.count("sent") == 3 and second.count("already sent") == 2
    inbox = assert_served_exactly_once(mailbox, workdir)
    assert all(len(messages) == 1 for messages in inbox.values())


def test_a_run_killed_mid_way_is_completed_by_the_next_run_without_a_second_distinct_message(workdir, smtp_server):
    """SIGKILL lands after the server accepted the third message but before the ledger recorded it."""
    process: list[subprocess.Popen] = []

    def kill_on_third(box: Mailbox, server) -> None:
        if len(box.received) == 3:
            os.kill(process[0].pid, signal.SIGKILL)

    mailbox = Mailbox(on_data=kill_on_third)
    port = smtp_server(mailbox).port
    brief, clients, output = paths(workdir)
    command = [
        sys.executable,
        "-m",
        "briefgen",
        "distribute",
        "--brief",
        str(brief),
        "--allow-draft",
        "--clients",
        str(clients),
        "--output",
        str(output),
        "--via",
        "smtp",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        "--smtp-tls",
        "none",
        "--from",
        SENDER,
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("BRIEFGEN_SMTP_PASSWORD", "BRIEFGEN_MAIL_FROM")}
    process.append(subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    _, stderr = process[0].communicate(timeout=60)
    assert process[0].returncode == -signal.SIGKILL, stderr.decode()
    assert len(mailbox.received) == 3

    status = distribution_status(output, brief, clients)
    counts = status.versions[0]
    assert (counts.sent, counts.in_doubt, counts.pending, counts.failed) == (2, 1, 2, 0)
    assert not status.running  # the kernel released the dead run's lock

    mailbox.on_data = None
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    with Ledger(output).open(exclusive=False) as ledger:
        assert status.current is not None  # the version of the brief on disk
        version = ledger.find_version(status.current)
        assert version is not None
        day = version.stamp_date  # the day the killed run started
    inbox = assert_served_exactly_once(mailbox, workdir, day)
    # The in-doubt client got the same message twice (same Message-ID); everyone else once.
    assert sorted(len(messages) for messages in inbox.values()) == [1, 1, 1, 1, 2]
    final = distribution_status(output, brief, clients).versions[0]
    assert (final.sent, final.in_doubt, final.pending, final.failed) == (5, 0, 0, 0)


def test_the_templates_override_folder_gives_the_email_body(workdir, tmp_path):
    override = tmp_path / "house-templates"
    (override / "email").mkdir(parents=True)
    (override / "email" / "brief.txt").write_text("Hello {{ name }}, our house letter.\n")
    (override / "partials").mkdir()  # the same folder as build's --templates: other files are the brief's
    assert run(workdir, templates_dir=override).ok
    outbox = workdir / "output" / "outbox" / version_of(workdir)[:12]
    for path in outbox.iterdir():
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert body_text(message, "plain").startswith("Hello ")
        assert "our house letter" in body_text(message, "plain")
