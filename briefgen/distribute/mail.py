"""Turn a client's marked copy into a MIME message: checked addresses, the text and HTML bodies, the PDF.

Client and analyst text reaches headers only through email.headerregistry.Address under the SMTP
policy, which quotes display names and refuses line breaks; clients.py has already refused header
syntax. Handing messages over is transport.py's.
"""

from __future__ import annotations

import base64
import binascii
import email.policy
import functools
import re
import secrets
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from briefgen.distribute.transport import (  # noqa: F401  (delivery lives in transport.py; these names stay importable here)
    Outcome,
    Result,
    RetryPolicy,
    SmtpSettings,
    SmtpTransport,
    one_line,
)
from briefgen.errors import DistributionError
from briefgen.resources import EMAIL_TEMPLATES_DIR

BODY_TEMPLATE = "brief.txt"
HTML_TEMPLATE = "brief.html"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAME_AND_ADDRESS = re.compile(r"^\s*(?P<name>.*?)\s*<(?P<addr>[^<>]*)>\s*$", re.S)


# --- addresses ---------------------------------------------------------------------------


def sender_address(name: str, addr: str) -> Address:
    """A From address from a display name and an address given apart: any name is quoted, none can break a header."""
    if _CONTROL.search(name) or _CONTROL.search(addr):
        raise DistributionError(f"sender {name!r} <{addr}> holds a line break or control character")
    try:
        addr = validate_email(addr.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise DistributionError(f"sender {addr!r} is not a valid address: {exc}") from None
    local, _, domain = addr.rpartition("@")
    # Address quotes a display name holding specials (`,` `:` `;` `"`...) as RFC 5322 asks.
    return Address(display_name=" ".join(name.split()).strip('"').strip(), username=local, domain=domain)


def parse_sender(text: str) -> Address:
    """Turn 'Name <address>' or a bare address into a checked From address.

    Everything before the last `<...>` is the display name, verbatim: 'Dana Whitfield, CFA
    <dana@x.com>' is one sender, not two addresses.
    """
    if _CONTROL.search(text):
        raise DistributionError("the sender address holds a line break or control character")
    match = _NAME_AND_ADDRESS.match(text)
    name, addr = (match["name"], match["addr"]) if match else ("", text.strip())
    if (
        not addr
        or any(ch in addr for ch in ", ;")
        or any(ch in name for ch in "<>")
        or (not match and any(ch in text for ch in '<>"'))
    ):
        raise DistributionError(f"sender {text!r} is not one address; write it as 'Desk Name <desk@example.com>'")
    return sender_address(name, addr)


# --- messages ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _environment(folders: tuple[Path, ...], html: bool):
    import jinja2

    return jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(folder)) for folder in folders]),
        autoescape=html,  # the HTML part escapes every string; the plain part is text
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_body(context: dict[str, object], templates_dir: Path | None = None, *, html: bool = False) -> str:
    """Render the plain-text (or HTML) body template; a misspelt variable is an error, not a blank.

    templates_dir is an override folder of email templates, searched before the default ones.
    """
    import jinja2

    name = HTML_TEMPLATE if html else BODY_TEMPLATE
    folders = (EMAIL_TEMPLATES_DIR,) if templates_dir is None else (Path(templates_dir), EMAIL_TEMPLATES_DIR)
    try:
        return _environment(folders, html).get_template(name).render(context)
    except jinja2.TemplateError as exc:
        raise DistributionError(f"email template {name}: {exc}") from None


def build_message(
    *,
    sender: Address,
    to_name: str,
    to_email: str,
    subject: str,
    body: str,
    message_id: str,
    attachment: bytes,
    filename: str,
    date: datetime,
    html: str | None = None,
) -> bytes:
    """One message on the wire (CRLF lines): From, To, Subject, Date, a stable Message-ID, the text
    body (and an HTML alternative), the PDF attached."""
    template = MessageTemplate(
        sender=sender, subject=subject, filename=filename, html=html is not None, international=not to_email.isascii()
    )
    return template.render(
        to_name=to_name,
        to_email=to_email,
        message_id=message_id,
        date=date,
        body=body,
        html=html,
        attachment=attachment,
    )


class MessageTemplate:
    """The part of a run's messages that is the same for every client, written once by the email package.

    From, Subject, MIME-Version, the multipart structure, every part's headers and the attachment's
    file name are serialised once, with a one-line marker where each client's own bytes go: their
    To, Date and Message-ID (written by the email package too, under the same policy), the two
    bodies (quoted-printable by binascii.b2a_qp) and the attachment (base64, encoded once). The
    email package's generator writes headers through its parser and payloads line by line, which
    for 1,000 clients and a 0.5 MB PDF was most of the time distribution took. The boundaries
    cannot occur in what is put in: they are runs of '=', which quoted-printable always escapes and
    base64 never writes mid-payload.
    """

    def __init__(self, *, sender: Address, subject: str, filename: str, html: bool, international: bool = False):
        # SMTPUTF8 only for non-ASCII addresses; a display name in any script travels as an RFC 2047 word.
        self.policy = email.policy.SMTPUTF8 if international or not sender.addr_spec.isascii() else email.policy.SMTP
        token = secrets.token_hex(12)
        self._markers = {name: f"briefgen-{name}-{token}" for name in ("to", "dated", "text", "html", "pdf")}
        msg = EmailMessage(policy=self.policy)
        msg["From"] = sender
        msg["X-Briefgen-To"] = self._markers["to"]  # each replaced, whole line, by the client's own headers
        msg["Subject"] = one_line(subject)
        msg["X-Briefgen-Dated"] = self._markers["dated"]
        msg.set_content(self._markers["text"], cte="quoted-printable")
        if html:
            msg.add_alternative(self._markers["html"], subtype="html", cte="quoted-printable")
        msg.make_mixed()
        part = MIMEPart(policy=self.policy)  # a bare part: no MIME-Version header of its own
        part["Content-Type"] = "application/pdf"
        part.add_header("Content-Disposition", "attachment", filename=filename)
        part["Content-Transfer-Encoding"] = "base64"
        part.set_payload(self._markers["pdf"])
        # typeshed types attach(payload: Self), so an EmailMessage takes only EmailMessages; the email
        # package attaches any Message, and a bare MIMEPart is the point (no MIME-Version of its own).
        msg.attach(part)  # type: ignore[arg-type]
        wire = msg.as_bytes()  # the SMTP policies write CRLF line ends
        self._pieces: list[bytes] = []
        self._slots: list[str] = []
        for slot, header in (("to", "X-Briefgen-To"), ("dated", "X-Briefgen-Dated")):
            placeholder = self._markers[slot].encode("ascii")
            wire = wire.replace(f"{header}: ".encode("ascii") + placeholder + b"\r\n", placeholder)
        wanted = {name: marker for name, marker in self._markers.items() if html or name != "html"}
        for name, marker in sorted(wanted.items(), key=lambda item: wire.find(item[1].encode("ascii"))):
            head, found, wire = wire.partition(marker.encode("ascii"))
            if not found or marker.encode("ascii") in wire:
                raise RuntimeError(f"the message template holds its {name} marker not exactly once")
            self._pieces.append(head)
            self._slots.append(name)
        self._pieces.append(wire)

    def render(
        self,
        *,
        to_name: str,
        to_email: str,
        message_id: str,
        date: datetime,
        body: str,
        html: str | None,
        attachment: bytes,
    ) -> bytes:
        """One client's message on the wire."""
        if not to_email.isascii() and self.policy is not email.policy.SMTPUTF8:
            raise ValueError("an international address needs a template made with international=True")
        local, _, domain = to_email.rpartition("@")
        headers = EmailMessage(policy=self.policy)
        headers["To"] = Address(display_name=to_name, username=local, domain=domain)  # refuses CR/LF
        headers["Date"] = format_datetime(date)
        headers["Message-ID"] = message_id
        block = headers.as_bytes().removesuffix(b"\r\n")  # the header block, without the blank line
        # A folded To goes on with whitespace, so the first line starting "Date: " is the Date header.
        to, _, dated = block.partition(b"\r\nDate: ")
        filled = {
            "to": to + b"\r\n",
            "dated": b"Date: " + dated,
            "text": _quoted_printable(body),
            "html": _quoted_printable(html or ""),
            "pdf": base64.encodebytes(attachment).replace(b"\n", b"\r\n").removesuffix(b"\r\n"),
        }
        out = [self._pieces[0]]
        for slot, piece in zip(self._slots, self._pieces[1:], strict=True):
            out += (filled[slot], piece)
        return b"".join(out)


def _quoted_printable(text: str) -> bytes:
    """A text body as quoted-printable UTF-8 with CRLF line ends, as the email package writes it.

    Without its last line end: the template has one after the marker (set_content ends every text
    body with one).
    """
    lines = "\n".join(text.splitlines())
    return binascii.b2a_qp(lines.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
