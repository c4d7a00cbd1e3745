"""Misbehaving SMTP servers on 127.0.0.1: nothing is sent twice in a run, nobody is waited on forever."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from briefgen.distribute.deliver import distribute
from briefgen.distribute.ledger import SENDING, SENT, Ledger
from briefgen.distribute.mail import Outcome, RetryPolicy, SmtpSettings, SmtpTransport, build_message, parse_sender
from tests.test_distribute_support import (  # noqa: F401  (fixtures)
    SENDER,
    Mailbox,
    no_warnings,
)

FAST = RetryPolicy(attempts=5, first_delay=0.01, max_delay=0.02)
WHEN = datetime(2026, 1, 15, tzinfo=UTC)


class RawSmtp(socketserver.ThreadingTCPServer):
    """A hand-written SMTP server that misbehaves on cue: `greet=False` never says hello; `stall`
    seconds of silence after the end of each message before replying 250 (or hanging up if None)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *, greet: bool = True, stall: float | None = 0.0):
        self.greet, self.stall = greet, stall
        self.messages: list[bytes] = []
        self.release = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def close(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        server: RawSmtp = self.server  # type: ignore[assignment]
        if not server.greet:
            server.release.wait(30)
            return
        self.wfile.write(b"220 raw.example ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 raw.example\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                body = b""
                while (chunk := self.rfile.readline()) and chunk != b".\r\n":
                    body += chunk
                server.messages.append(body)
                if server.stall is None:
                    return  # took the message, then dropped the line
                server.release.wait(server.stall)
                self.wfile.write(b"250 2.0.0 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


@pytest.fixture
def raw_server() -> Iterator:
    started: list[RawSmtp] = []

    def start(**options) -> RawSmtp:
        started.append(RawSmtp(**options))
        return started[-1]

    yield start
    for server in started:
        server.close()


def message(to: str = "ana@acme.example.com") -> bytes:
    return build_message(
        sender=parse_sender(SENDER),
        to_name="Ana",
        to_email=to,
        subject="S",
        body="Dear Ana,\n",
        message_id="<m1@bank.example.com>",
        attachment=b"%PDF-1.7 x",
        filename="b.pdf",
        date=WHEN,
    )


def settings(port: int, **waits) -> SmtpSettings:
    return SmtpSettings("127.0.0.1", port, tls="none", **{"connect_timeout": 5, **waits})


def test_a_server_that_stalls_past_the_final_wait_gets_the_message_once(raw_server):
    server = raw_server(stall=5)
    transport = SmtpTransport(settings(server.port, final_timeout=0.3), FAST, sleep=lambda s: None)
    result = transport.deliver(message(), "desk@bank.example.com", "ana@acme.example.com", "ana")
    transport.close()
    assert result.outcome is Outcome.UNKNOWN and result.maybe_delivered
    assert len(server.messages) == 1  # the old transport sent it again on every retry


def test_the_final_reply_is_awaited_longer_than_a_command_reply(raw_server):
    """RFC 5321 gives the end of the message 10 minutes: a slow but honest server is not left in doubt."""
    server = raw_server(stall=0.6)
    transport = SmtpTransport(settings(server.port, reply_timeout=0.2, final_timeout=10), FAST, sleep=lambda s: None)
    result = transport.deliver(message(), "desk@bank.example.com", "ana@acme.example.com", "ana")
    transport.close()
    assert result.outcome is Outcome.SENT and len(server.messages) == 1
    assert SmtpSettings("smtp.example.com").final_timeout == 600


def test_a_server_that_never_greets_fails_the_run_quickly_with_a_clear_message(workdir, raw_server):
    server = raw_server(greet=False)
    started = time.monotonic()
    report = distribute(
        workdir / "output" / "brief.pdf",
        workdir / "inputs" / "clients.csv",
        workdir / "output",
        via="smtp",
        smtp=settings(server.port, connect_timeout=0.3),
        sender=SENDER,
        retry=FAST,
    )
    assert time.monotonic() - started < 30  # a bound, not a timing: the old run waited 60 s per attempt
    assert report.stopped == (
        f"cannot reach 127.0.0.1:{server.port}: no connection or no greeting within 0.3 s; "
        "check --smtp-host and --smtp-port, and that a firewall lets the connection through"
    )
    assert {o.status for o in report.outcomes} == {"pending"} and not report.ok
    assert SmtpSettings("smtp.example.com").connect_timeout * RetryPolicy().connect_attempts < 60


def test_a_dropped_line_after_the_body_is_in_doubt_and_the_next_run_resends_it_once(workdir, raw_server, smtp_server):
    dropping = raw_server(stall=None)
    brief, clients, output = workdir / "output" / "brief.pdf", workdir / "inputs" / "clients.csv", workdir / "output"
    first = distribute(brief, clients, output, via="smtp", smtp=settings(dropping.port), sender=SENDER, retry=FAST)
    assert len(dropping.messages) == 5  # one per client: none sent twice (the old run sent each 5 times)
    assert first.count("in doubt") == 5 and not first.ok
    with Ledger(output).open(exclusive=False) as ledger:
        ids = {d.client_id: d.message_id for d in ledger.deliveries(first.version).values() if d.status == SENDING}
    assert len(ids) == 5
    mailbox = Mailbox()
    second = distribute(
        brief, clients, output, via="smtp", smtp=settings(smtp_server(mailbox).port), sender=SENDER, retry=FAST
    )
    assert second.ok and second.count("sent") == 5
    resent = {r.rcpt_tos[0]: r.message["Message-ID"] for r in mailbox.received}
    assert len(mailbox.received) == 5
    with Ledger(output).open(exclusive=False) as ledger:
        rows = ledger.deliveries(first.version)
    assert {rows[c].email: mid for c, mid in ids.items()} == resent  # the same Message-ID: one message each
    assert {r.status for r in rows.values()} == {SENT}


def test_a_connection_refused_is_not_waited_on():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    transport = SmtpTransport(settings(port), FAST, sleep=sleeps.append)
    result = transport.deliver(message(), "desk@bank.example.com", "ana@acme.example.com", "ana")
    assert result.outcome is Outcome.UNREACHABLE and sleeps == [0.01]
