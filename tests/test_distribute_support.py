"""Helpers for the distribution tests: a small brief, a clients file, a real SMTP server, the warnings guard.

Imported by tests/test_distribute*.py and tests/test_clients.py (the autouse no_warnings guard, per module);
the fixtures built on these helpers (workdir, smtp_server) are in tests/conftest.py. It holds no tests itself.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader

SENDER = "Mining desk <desk@bank.example.com>"
WATCHED_LOGGERS = ("briefgen", "pypdf", "weasyprint", "fontTools")

CLIENTS_CSV = """client_id,name,firm,email,password,tier
acme-1,Ana Łukasiewicz,Acme Capital,ana@acme.example.com,,gold
bob/../../etc,Bob Smith,"Smith, Jones & Co",bob@jones.example.com,open-sesame,silver
zeta,Ζωή Παπαδοπούλου,Αθήνα Partners,zoe@athena.example.com,,
ivan,Иван Петров,Северный Fund,ivan@north.example.com,,
dana,Dana O'Neil,Ørsted & Co,dana@orsted.example.com,,gold
"""


@lru_cache(maxsize=4)
def brief_bytes(title: str = "Bitcoin mining: mid-January update", pages: int = 3) -> bytes:
    """A small multi-page PDF made with WeasyPrint, like the real build's output but quicker."""
    from weasyprint import HTML

    body = "".join(
        f"<h1>Section {n}</h1><p>Network hashrate and hashprice, page {n}.</p>"
        + ("<div style='page-break-after: always'></div>" if n < pages else "")
        for n in range(1, pages + 1)
    )
    style = "<style>@page { size: A4; margin: 2cm }</style>"
    html = f"<html><head><title>{title}</title>{style}</head><body>{body}</body></html>"
    return HTML(string=html).write_pdf()


@pytest.fixture(autouse=True)
def no_warnings(recwarn: pytest.WarningsRecorder, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test on any warning, or on a warning logged by briefgen, pypdf, WeasyPrint or fontTools."""
    caplog.set_level(logging.WARNING)
    yield
    warnings = [f"{w.category.__name__}: {w.message}" for w in recwarn]
    logged = [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.get_records("call")
        if r.levelno >= logging.WARNING and r.name.split(".")[0] in WATCHED_LOGGERS
    ]
    assert not warnings and not logged, warnings + logged


# --- a real SMTP server on loopback ------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps every message and can refuse, stall or drop on cue."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> SMTP reply
    temporary: dict[str, int] = field(default_factory=dict)  # recipient -> how many 451s before accepting
    on_data: Callable[[Mailbox, object], str | None] | None = None  # may return a reply, or drop the line
    lock: threading.Lock = field(default_factory=threading.Lock)
    closing: bool = False

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.closing:
            return "421 4.3.2 shutting down"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.closing:
            return "421 4.3.2 shutting down"
        if address in self.refuse:
            return self.refuse[address]
        if self.temporary.get(address, 0) > 0:
            self.temporary[address] -= 1
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.closing:
            return "421 4.3.2 shutting down"
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        if self.on_data is not None:
            reply = self.on_data(self, server)
            if reply is not None:
                return reply
        return "250 2.0.0 queued"

    def by_recipient(self) -> dict[str, list[email.message.EmailMessage]]:
        with self.lock:
            received = list(self.received)
        out: dict[str, list[email.message.EmailMessage]] = {}
        for item in received:
            for rcpt in item.rcpt_tos:
                out.setdefault(rcpt, []).append(item.message)
        return out


class LoopbackController(Controller):
    """aiosmtpd's Controller on 127.0.0.1 with a port the system picks (port 0)."""

    def __init__(self, handler: Mailbox, **server_options):
        super().__init__(handler, hostname="127.0.0.1", port=0, ready_timeout=10, **server_options)

    def _trigger_server(self):
        assert isinstance(self.server, asyncio.Server)  # typed as the AbstractServer it is created as
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def stop_soon(controller: LoopbackController) -> None:
    """Stop a server from inside one of its handlers (stop() joins the server's own thread)."""
    threading.Thread(target=controller.stop, daemon=True).start()


# --- reading results ---------------------------------------------------------------------


def body_text(message: email.message.EmailMessage, subtype: str) -> str:
    """The message's text/`subtype` body ("plain" or "html"), which it must have."""
    body = message.get_body((subtype,))
    assert body is not None, f"no text/{subtype} body"
    return body.get_content()


def attachment(message: email.message.EmailMessage) -> bytes:
    parts = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(parts) == 1, f"expected one PDF attachment, got {len(parts)}"
    return parts[0].get_content()


def page_texts(pdf: bytes, password: str | None = None) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    if reader.is_encrypted:
        assert password is not None, "copy is encrypted but no password was given"
        assert reader.decrypt(password)
    return [page.extract_text() for page in reader.pages]
