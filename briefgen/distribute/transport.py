"""Turn messages on the wire into deliveries: .eml files in the outbox folder, or an SMTP server.

SMTP failures are sorted into what a run can act on: refused for good (5xx), not delivered yet
(4xx, a connection lost before the end of the message was sent: retried), or *in doubt* (the whole
message was sent and its reply never came: never retried in the same run, since the server may
hold it; the next run re-sends it once with the same Message-ID). The waits are settings, so
tests run in seconds.
"""

from __future__ import annotations

import contextlib
import enum
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from briefgen.distribute.manifest import inside
from briefgen.errors import DistributionError
from briefgen.files import move_into_place, write_atomic

PASSWORD_ENV = "BRIEFGEN_SMTP_PASSWORD"
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


def one_line(text: str, limit: int = 200) -> str:
    """Collapse whitespace (line breaks included) and drop control characters, for a header."""
    cleaned = "".join(ch for ch in " ".join(text.split()) if ch.isprintable())
    return cleaned[:limit]


# --- outcomes ----------------------------------------------------------------------------


class Outcome(enum.Enum):
    SENT = "sent"
    REFUSED = "refused"  # permanent: the server said no (5xx)
    DEFERRED = "deferred"  # temporary, retries used up; certainly not delivered
    UNKNOWN = "unknown"  # in doubt: the server may hold the message; the next run re-sends it, same Message-ID
    UNREACHABLE = "unreachable"  # no server to talk to; stop the run


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    detail: str = ""
    maybe_delivered: bool = False


# --- SMTP --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a temporary failure is retried: delays double up to max_delay.

    A server that cannot be reached is tried `connect_attempts` times only, so a wrong host or a
    silent server stops the run in well under a minute.
    """

    attempts: int = 5
    first_delay: float = 2.0
    max_delay: float = 60.0
    connect_attempts: int = 2

    def delay(self, retry: int) -> float:
        return min(self.max_delay, self.first_delay * 2 ** (retry - 1))


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send. The waits follow RFC 5321 section 4.5.3.2 for replies; the connection
    and the greeting are bounded far tighter, since a server that does not answer at once will not."""

    host: str
    port: int | None = None
    tls: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    connect_timeout: float = 15.0  # the TCP connection, the TLS handshake and the greeting, each
    reply_timeout: float = 300.0  # each command's reply (MAIL, RCPT: 5 minutes)
    final_timeout: float = 600.0  # the reply to the end of the message ("." : 10 minutes)
    ssl_context: ssl.SSLContext | None = None  # None: the system's trusted CAs, hostname checked

    @classmethod
    def from_env(cls, host: str | None, port: int | None, tls: str, user: str | None) -> SmtpSettings:
        """Settings from the flags, with the password taken from BRIEFGEN_SMTP_PASSWORD only."""
        if not host:
            raise DistributionError("--via smtp needs --smtp-host")
        if tls not in DEFAULT_PORTS:
            raise DistributionError(f"--smtp-tls must be one of {', '.join(DEFAULT_PORTS)}")
        password = os.environ.get(PASSWORD_ENV) or None
        if user and not password:
            raise DistributionError(f"--smtp-user is set but {PASSWORD_ENV} is empty; export the password there")
        if password and not user:
            raise DistributionError(f"{PASSWORD_ENV} is set but --smtp-user is not; pass the user name")
        if user and tls == "none" and host not in ("localhost", "127.0.0.1", "::1"):
            raise DistributionError("refusing to send a password without TLS; use --smtp-tls starttls or ssl")
        return cls(host, port, tls, user, password)

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.tls]

    @property
    def label(self) -> str:
        """How the ledger names this way of serving a client: 'smtp host:port'."""
        return f"smtp {self.host}:{self.effective_port}"


class _Retry(Exception):
    """A temporary failure: the message was certainly not accepted."""


class _Unsure(Exception):
    """The whole message was sent and its reply never came: the server may hold it."""


class _NoServer(Exception):
    """The server could not be reached at all."""


_NETWORK_ERRORS = (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError, OSError)
_LEADING_DOT = re.compile(rb"^\.", re.M)


class SmtpTransport:
    """Send through one SMTP server, keeping the connection open between messages."""

    name = "smtp"

    def __init__(
        self, settings: SmtpSettings, retry: RetryPolicy = RetryPolicy(), sleep: Callable[[float], None] = time.sleep
    ):
        self.settings = settings
        self.retry = retry
        self._sleep = sleep
        self._smtp: smtplib.SMTP | None = None

    @property
    def label(self) -> str:
        return self.settings.label

    def deliver(self, data: bytes, sender: str, recipient: str, file_stem: str) -> Result:
        """Send one message (its wire bytes), retrying failures that certainly left it undelivered."""
        last: Exception | None = None
        unreachable = 0
        for attempt in range(self.retry.attempts):
            if attempt:
                self._sleep(self.retry.delay(attempt))
            try:
                return self._attempt(data, sender, recipient)
            except _Unsure as exc:
                # Sending again now could deliver it twice: leave it in doubt for the next run.
                self._drop()
                return Result(Outcome.UNKNOWN, str(exc), maybe_delivered=True)
            except _NoServer as exc:
                last, unreachable = exc, unreachable + 1
                if unreachable >= self.retry.connect_attempts:
                    break
            except _Retry as exc:
                last = exc
            self._drop()
        if isinstance(last, _NoServer):
            return Result(Outcome.UNREACHABLE, str(last))
        return Result(Outcome.DEFERRED, str(last))

    def _attempt(self, data: bytes, sender: str, recipient: str) -> Result:
        smtp = self._connection()
        options: list[str] = []
        if not (sender.isascii() and recipient.isascii()):
            if not smtp.has_extn("smtputf8"):
                return Result(Outcome.REFUSED, "the server does not accept international (SMTPUTF8) addresses")
            options += ["SMTPUTF8", "BODY=8BITMIME"]
        try:
            code, reply = smtp.mail(sender, options)
            if code == 250:
                code, reply = smtp.rcpt(recipient)
            if code in (250, 251):
                code, reply = smtp.docmd("DATA")
                if code == 354:
                    body = _LEADING_DOT.sub(b"..", data)  # RFC 5321 4.5.2 transparency
                    smtp.send(body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        except _NETWORK_ERRORS as exc:
            # The end-of-message dot never fully left: the server cannot have accepted the message.
            raise _Retry(f"connection lost before the message was sent: {_describe(exc)}") from None
        if code != 354:
            self._reset()
            return self._refusal(code, reply)
        try:
            self._wait(self.settings.final_timeout)
            code, reply = smtp.getreply()
        except _NETWORK_ERRORS as exc:
            raise _Unsure(
                f"the message was sent but the server's reply never came ({_describe(exc)}); "
                "in doubt: the next run re-sends it once with the same Message-ID"
            ) from None
        self._wait(self.settings.reply_timeout)
        if code != 250:  # the server read the message and refused it, for now (4xx) or for good
            return self._refusal(code, reply)
        return Result(Outcome.SENT, f"{code} {_text(reply)}")

    def _wait(self, seconds: float) -> None:
        if self._smtp is not None and self._smtp.sock is not None:
            self._smtp.sock.settimeout(seconds)

    def _refusal(self, code: int, reply: bytes | str) -> Result:
        detail = f"{code} {_text(reply)}"
        if 400 <= code < 500 or code < 200:
            if code == 421 or code < 200:  # the server is closing the connection
                self._drop()
            raise _Retry(detail)
        return Result(Outcome.REFUSED, detail)

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        context = s.ssl_context or ssl.create_default_context()
        try:
            # The constructor connects and reads the greeting, each bounded by connect_timeout.
            if s.tls == "ssl":
                self._smtp = smtplib.SMTP_SSL(s.host, s.effective_port, timeout=s.connect_timeout, context=context)
            else:
                self._smtp = smtplib.SMTP(s.host, s.effective_port, timeout=s.connect_timeout)
            smtp = self._smtp
            smtp.ehlo()
            if s.tls == "starttls":
                if not smtp.has_extn("starttls"):
                    raise DistributionError(f"{s.host} does not offer STARTTLS; use --smtp-tls ssl or none")
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.password or "")
            self._wait(s.reply_timeout)
            return smtp
        except BaseException as exc:
            self._drop()  # never leave a half-open connection behind
            if isinstance(exc, smtplib.SMTPAuthenticationError):
                raise DistributionError(
                    f"{s.host} refused the login for {s.user}: {exc.smtp_code} {_text(exc.smtp_error)}"
                ) from None
            if isinstance(exc, ssl.SSLCertVerificationError):
                raise DistributionError(f"{s.host}: TLS certificate not trusted ({exc.verify_message})") from None
            if isinstance(exc, (smtplib.SMTPException, *_NETWORK_ERRORS)):
                why = _describe(exc)
                if isinstance(exc, TimeoutError) or "timed out" in why:
                    why = (
                        f"no connection or no greeting within {s.connect_timeout:g} s; "
                        "check --smtp-host and --smtp-port, and that a firewall lets the connection through"
                    )
                raise _NoServer(f"cannot reach {s.host}:{s.effective_port}: {why}") from None
            raise

    def _reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (smtplib.SMTPException, *_NETWORK_ERRORS):
            self._drop()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, *_NETWORK_ERRORS):
                pass
            self._drop()


class Outbox:
    """Write each message as a standard .eml file into output/outbox/<version>/."""

    name = "outbox"
    label = "outbox"

    def __init__(self, output_dir: Path, folder: Path):
        self.output_dir = output_dir
        self.folder = folder

    def deliver(self, data: bytes, sender: str, recipient: str, file_stem: str) -> Result:
        path = inside(self.output_dir, self.folder / f"{file_stem}.eml")
        write_atomic(path, data)
        return Result(Outcome.SENT, str(path.relative_to(self.output_dir)))

    def deliver_staged(self, staged: Path, file_stem: str) -> Result:
        """Put a message already written to disk (files.write_new, beside the output) in the outbox."""
        path = inside(self.output_dir, self.folder / f"{file_stem}.eml")
        move_into_place(staged, path)
        return Result(Outcome.SENT, str(path.relative_to(self.output_dir)))

    def close(self) -> None:
        pass


def _text(reply: bytes | str) -> str:
    return one_line(reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply))


def _describe(exc: BaseException) -> str:
    return one_line(str(exc)) or type(exc).__name__
