"""Turn a client's marked copy into a MIME message, and hand it to an SMTP server.

Client text reaches headers only through email.headerregistry under the SMTP policy, which refuses
line breaks; clients.py has already refused header syntax. SMTP failures are sorted into what a
re-run can act on: refused for good (5xx), not delivered yet (4xx, lost connection before the
message was sent), or unknown (the connection dropped while the message was being accepted).
"""

from __future__ import annotations

import email.policy
import enum
import os
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from briefgen.errors import DistributionError
from briefgen.resources import EMAIL_TEMPLATES_DIR

BODY_TEMPLATE = "brief.txt"
PASSWORD_ENV = "BRIEFGEN_SMTP_PASSWORD"
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


# --- messages ----------------------------------------------------------------------------


def parse_sender(text: str) -> Address:
    """Turn 'Name <address>' or a bare address into a checked From address."""
    if any(ch in text for ch in "\r\n\0"):
        raise DistributionError("the sender address holds a line break")
    header = email.policy.SMTP.header_factory("From", text)
    if len(header.addresses) != 1 or header.defects or not header.addresses[0].domain:
        raise DistributionError(f"sender {text!r} is not one address; write it as 'Desk Name <desk@example.com>'")
    name, addr = header.addresses[0].display_name, header.addresses[0].addr_spec
    try:
        addr = validate_email(addr, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise DistributionError(f"sender {addr!r} is not a valid address: {exc}") from None
    local, _, domain = addr.rpartition("@")
    return Address(display_name=" ".join(name.split()), username=local, domain=domain)


def one_line(text: str, limit: int = 200) -> str:
    """Collapse whitespace (line breaks included) and drop control characters, for a header."""
    cleaned = "".join(ch for ch in " ".join(text.split()) if ch.isprintable())
    return cleaned[:limit]


def render_body(context: dict[str, object], templates_dir: Path | None = None) -> str:
    """Render the plain-text body template; a misspelt variable is an error, not a blank.

    templates_dir is an override folder of email templates, searched before the default ones.
    """
    import jinja2

    folders = [EMAIL_TEMPLATES_DIR] if templates_dir is None else [templates_dir, EMAIL_TEMPLATES_DIR]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(folder)) for folder in folders]),
        autoescape=False,  # plain text, not HTML
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    try:
        return env.get_template(BODY_TEMPLATE).render(context)
    except jinja2.TemplateError as exc:
        raise DistributionError(f"email template {BODY_TEMPLATE}: {exc}") from None


def build_message(*, sender: Address, to_name: str, to_email: str, subject: str, body: str, message_id: str,
                  attachment: bytes, filename: str, date: datetime) -> EmailMessage:
    """One message: From, To, Subject, Date and a stable Message-ID, a text body, the PDF attached."""
    local, _, domain = to_email.rpartition("@")
    policy = email.policy.SMTP if to_email.isascii() and str(sender).isascii() else email.policy.SMTPUTF8
    msg = EmailMessage(policy=policy)
    msg["From"] = sender
    msg["To"] = Address(display_name=to_name, username=local, domain=domain)
    msg["Subject"] = one_line(subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg.set_content(body, cte="quoted-printable")
    msg.make_mixed()
    part = MIMEPart(policy=policy)  # a bare part: no MIME-Version header of its own
    part.set_content(attachment, maintype="application", subtype="pdf", disposition="attachment", filename=filename)
    msg.attach(part)
    return msg


def message_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


# --- outcomes ----------------------------------------------------------------------------


class Outcome(enum.Enum):
    SENT = "sent"
    REFUSED = "refused"  # permanent: the server said no (5xx)
    DEFERRED = "deferred"  # temporary, retries used up; certainly not delivered
    UNKNOWN = "unknown"  # the server may hold the message; re-send with the same Message-ID
    UNREACHABLE = "unreachable"  # no server to talk to; stop the run


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    detail: str = ""
    maybe_delivered: bool = False


# --- SMTP --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a temporary failure is retried: delays double up to max_delay."""

    attempts: int = 5
    first_delay: float = 2.0
    max_delay: float = 60.0

    def delay(self, retry: int) -> float:
        return min(self.max_delay, self.first_delay * 2 ** (retry - 1))


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int | None = None
    tls: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 60.0
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


class _Retry(Exception):
    """A temporary failure: the message was certainly not accepted."""


class _Unsure(Exception):
    """The connection failed while the server was taking the message."""


class _NoServer(Exception):
    """The server could not be reached at all."""


_NETWORK_ERRORS = (smtplib.SMTPServerDisconnected, ConnectionError, socket.timeout, TimeoutError, OSError)


class SmtpTransport:
    """Send through one SMTP server, keeping the connection open between messages."""

    name = "smtp"

    def __init__(self, settings: SmtpSettings, retry: RetryPolicy = RetryPolicy(),
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.retry = retry
        self._sleep = sleep
        self._smtp: smtplib.SMTP | None = None

    def deliver(self, msg: EmailMessage, sender: str, recipient: str, file_stem: str) -> Result:
        """Send one message, retrying temporary failures with backoff."""
        data = message_bytes(msg)
        maybe = False
        last: Exception | None = None
        for attempt in range(self.retry.attempts):
            if attempt:
                self._sleep(self.retry.delay(attempt))
            try:
                return self._attempt(data, sender, recipient)
            except _Unsure as exc:
                maybe, last = True, exc
            except (_Retry, _NoServer) as exc:
                last = exc
            self._drop()
        if isinstance(last, _NoServer):
            return Result(Outcome.UNREACHABLE, str(last), maybe_delivered=maybe)
        return Result(Outcome.UNKNOWN if maybe else Outcome.DEFERRED, str(last), maybe_delivered=maybe)

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
        except _NETWORK_ERRORS as exc:
            raise _Retry(f"connection lost before sending: {_describe(exc)}") from None
        if code not in (250, 251):
            self._reset()
            return self._refusal(code, reply)
        try:
            code, reply = smtp.data(data)
        except smtplib.SMTPDataError as exc:
            # The server answered the end of the message with a refusal: certainly not accepted.
            self._reset()
            return self._refusal(exc.smtp_code, exc.smtp_error)
        except _NETWORK_ERRORS as exc:
            raise _Unsure(f"connection lost while the server took the message: {_describe(exc)}") from None
        if code != 250:  # the server read the message and refused it, for now (4xx) or for good
            return self._refusal(code, reply)
        return Result(Outcome.SENT, f"{code} {_text(reply)}")

    def _refusal(self, code: int, reply: bytes | str) -> Result:
        detail = f"{code} {_text(reply)}"
        if 400 <= code < 500:
            if code == 421:  # the server is closing the connection
                self._drop()
            raise _Retry(detail)
        return Result(Outcome.REFUSED, detail)

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        context = s.ssl_context or ssl.create_default_context()
        try:
            if s.tls == "ssl":
                self._smtp = smtplib.SMTP_SSL(s.host, s.effective_port, timeout=s.timeout, context=context)
            else:
                self._smtp = smtplib.SMTP(s.host, s.effective_port, timeout=s.timeout)
            smtp = self._smtp
            smtp.ehlo()
            if s.tls == "starttls":
                if not smtp.has_extn("starttls"):
                    raise DistributionError(f"{s.host} does not offer STARTTLS; use --smtp-tls ssl or none")
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.password or "")
            return smtp
        except BaseException as exc:
            self._drop()  # never leave a half-open connection behind
            if isinstance(exc, smtplib.SMTPAuthenticationError):
                raise DistributionError(
                    f"{s.host} refused the login for {s.user}: {exc.smtp_code} {_text(exc.smtp_error)}") from None
            if isinstance(exc, ssl.SSLCertVerificationError):
                raise DistributionError(f"{s.host}: TLS certificate not trusted ({exc.verify_message})") from None
            if isinstance(exc, (smtplib.SMTPException, *_NETWORK_ERRORS)):
                raise _NoServer(f"cannot reach {s.host}:{s.effective_port}: {_describe(exc)}") from None
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
            try:
                smtp.close()
            except OSError:
                pass

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, *_NETWORK_ERRORS):
                pass
            self._drop()


def _text(reply: bytes | str) -> str:
    return one_line(reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply))


def _describe(exc: BaseException) -> str:
    return one_line(str(exc)) or type(exc).__name__
