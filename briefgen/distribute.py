"""Turn a finished brief and clients.csv into one marked copy per client, each delivered exactly once.

distribute() runs the stages in order: read the brief (its SHA-256 is its version), validate the
clients, consult the ledger, then for every client not yet served stamp a copy, commit the
Message-ID, hand the message to the outbox or the SMTP server, and record the outcome. The manifest
is rewritten from the ledger at the end of every run, whatever happened.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from briefgen.clients import Client, load_clients
from briefgen.errors import DistributionError, InputError, Problem
from briefgen.files import write_atomic
from briefgen.ledger import FAILED, IN_DOUBT, PENDING, SENDING, SENT, Delivery, Ledger, VersionCounts
from briefgen.mail import (
    Outcome,
    Result,
    RetryPolicy,
    SmtpSettings,
    SmtpTransport,
    build_message,
    message_bytes,
    parse_sender,
    render_body,
)
from briefgen.stamp import StampFont, Stamper, stamp_text, unsupported_characters

SENDER_ENV = "BRIEFGEN_MAIL_FROM"
MANIFEST_COLUMNS = ("client_id", "name", "firm", "email", "tier", "file", "sha256", "status", "time",
                    "message_id", "attempts", "error")
ALREADY_SENT, WOULD_SEND, WOULD_RESEND = "already sent", "would send", "would re-send"
EMBARGOED = "embargoed"  # not due yet: its tier's embargo runs on; a later run serves it


@dataclass(frozen=True)
class ClientOutcome:
    """What this run did for one client."""

    client_id: str
    email: str
    status: str  # sent, already sent, failed, pending, in doubt, would send, would re-send
    detail: str = ""
    file: str = ""


@dataclass(frozen=True)
class DistributionReport:
    version: str
    title: str | None
    via: str
    dry_run: bool
    outcomes: tuple[ClientOutcome, ...]
    manifest: Path | None = None
    stopped: str | None = None  # why the run stopped before the end of the list

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def undelivered(self) -> tuple[ClientOutcome, ...]:
        """Clients this run meant to serve and did not: failed, pending or in doubt."""
        return tuple(o for o in self.outcomes if o.status in (FAILED, PENDING, IN_DOUBT))

    @property
    def ok(self) -> bool:
        return not self.undelivered


@dataclass(frozen=True)
class StatusReport:
    versions: tuple[VersionCounts, ...]
    current: str | None = None  # the version of the brief on disk, if any
    running: bool = False  # another run holds the ledger: its "in doubt" rows are in flight


Progress = Callable[[int, int, "ClientOutcome | None"], None]


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# --- files -------------------------------------------------------------------------------


def safe_stem(client_id: str) -> str:
    """A file name stem from a client id: [A-Za-z0-9._-] only, plus a hash so distinct ids stay distinct."""
    readable = re.sub(r"[^A-Za-z0-9._-]|\.\.+", "_", client_id)  # no separators, no '..'
    readable = re.sub(r"_+", "_", readable).strip("._-")[:48] or "client"
    return f"{readable}-{hashlib.sha256(client_id.encode('utf-8')).hexdigest()[:8]}"


def inside(root: Path, path: Path) -> Path:
    """path, after checking that it resolves (links followed) to somewhere inside root."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise DistributionError(f"refusing to write {path}: it resolves outside {root}")
    return path


def message_id(version: str, client_id: str, domain: str) -> str:
    """The Message-ID of a (brief version, client) pair: the same on every run and every retry."""
    domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    client = hashlib.sha256(client_id.encode("utf-8")).hexdigest()[:16]
    return f"<briefgen.{version[:16]}.{client}@{domain}>"


def attachment_name(title: str | None, brief: Path) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title or "").strip("-")[:80]
    return f"{slug or brief.stem}.pdf"


# --- the run -----------------------------------------------------------------------------


def distribute(
    brief: Path,
    clients_file: Path,
    output_dir: Path,
    *,
    via: str = "outbox",
    smtp: SmtpSettings | None = None,
    sender: str | None = None,
    dry_run: bool = False,
    retry: RetryPolicy = RetryPolicy(),
    today: date | None = None,
    progress: Progress | None = None,
    held: Mapping[str, datetime] | None = None,
) -> DistributionReport:
    """Serve every client in clients_file one marked copy of brief, skipping those already served.

    `held` maps the client_id of each client still under embargo to when it ends
    (briefgen.publish.held_clients): they are reported as embargoed and served by a later run.
    """
    if via not in ("outbox", "smtp"):
        raise DistributionError(f"--via must be outbox or smtp, not {via!r}")
    if via == "smtp" and smtp is None:
        raise DistributionError("--via smtp needs --smtp-host")
    pdf = _read_brief(brief)
    version = hashlib.sha256(pdf).hexdigest()
    every_client = load_clients(clients_file, label=clients_file.name)
    _check_glyphs(every_client, clients_file.name)
    held = dict(held or {})
    from_addr = _sender(sender, clients_file.parent)
    day = today or datetime.now(timezone.utc).date()

    ledger = Ledger(output_dir)
    use_ledger = not (dry_run and not ledger.path.exists())  # a dry run creates nothing
    if use_ledger:
        ledger.open(exclusive=not dry_run)
    try:
        stamp_day = f"{day.day} {day:%b %Y}"
        rows: dict[str, Delivery] = {}
        if use_ledger:
            known = ledger.find_version(version)
            if not dry_run and known is None:
                known = ledger.version(version, title=Stamper.title_of(pdf), brief_path=str(brief), stamp_date=stamp_day)
            stamp_day = known.stamp_date if known else stamp_day  # every copy of a version carries one date
            rows = ledger.deliveries(version)
        served = {client_id for client_id, row in rows.items() if row.status == SENT}
        held = {client_id: until for client_id, until in held.items() if client_id not in served}
        clients = tuple(c for c in every_client if c.client_id not in held)
        todo = [c for c in clients if c.client_id not in served]
        texts = {c.client_id: stamp_text(c.recipient, stamp_day) for c in every_client}
        stamper = Stamper(pdf, StampFont.for_texts(texts[c.client_id] for c in (todo or every_client[:1])))
        run = _Run(
            version=version, pdf_name=attachment_name(stamper.title, brief), stamper=stamper, ledger=ledger,
            output_dir=output_dir, sender=from_addr, stamp_day=stamp_day, texts=texts, via=via,
            transport=None if dry_run else _transport(via, smtp, retry, output_dir, version),
        )
        manifest = None
        try:
            outcomes, stopped = run.serve(clients, rows, dry_run=dry_run, progress=progress)
            outcomes += [ClientOutcome(c.client_id, c.email, EMBARGOED, f"until {_utc_text(held[c.client_id])}")
                         for c in every_client if c.client_id in held]
        finally:  # even when interrupted, the manifest tells what the ledger knows
            if run.transport is not None:
                run.transport.close()
            if not dry_run:
                manifest = write_manifest(ledger, version, every_client, output_dir, stamper.title, brief)
    finally:
        ledger.close()
    return DistributionReport(version, stamper.title, via, dry_run, tuple(outcomes), manifest, stopped)


@dataclass
class _Run:
    version: str
    pdf_name: str
    stamper: Stamper
    ledger: Ledger
    output_dir: Path
    sender: Address
    stamp_day: str
    texts: dict[str, str]
    via: str
    transport: SmtpTransport | Outbox | None
    copies_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.copies_dir = self.output_dir / "distribution" / self.version[:12]

    def serve(self, clients: tuple[Client, ...], rows: dict[str, Delivery], *, dry_run: bool,
              progress: Progress | None) -> tuple[list[ClientOutcome], str | None]:
        outcomes: list[ClientOutcome] = []
        stopped = None
        total = len(clients)
        if progress:
            progress(0, total, None)
        for client in clients:
            row = rows.get(client.client_id)
            if row is not None and row.status == SENT:
                outcome = ClientOutcome(client.client_id, row.email, ALREADY_SENT, row.sent_at or "", row.copy_file or "")
            elif stopped:
                left = PENDING if row is None else IN_DOUBT if row.status == SENDING else row.status
                outcome = ClientOutcome(client.client_id, client.email, left, f"not attempted: {stopped}")
            elif dry_run:
                if not outcomes:  # stamp one copy in memory: proves the brief and font work
                    self.stamper.copy(self.texts[client.client_id], _metadata(client, self.texts[client.client_id]),
                                      client.password)
                resend = row is not None and row.status == SENDING
                outcome = ClientOutcome(client.client_id, client.email, WOULD_RESEND if resend else WOULD_SEND,
                                        f"same Message-ID {row.message_id}" if resend else "")
            else:
                outcome, result = self._deliver(client, row)
                if result.outcome is Outcome.UNREACHABLE:
                    stopped = result.detail
            outcomes.append(outcome)
            if progress:
                progress(len(outcomes), total, outcome)
        return outcomes, stopped

    def _deliver(self, client: Client, row: Delivery | None) -> tuple[ClientOutcome, Result]:
        stem = safe_stem(client.client_id)
        path = inside(self.output_dir, self.copies_dir / f"{stem}.pdf")
        copy = None
        if row is not None and row.status == SENDING and row.copy_sha256 and path.is_file():
            # In doubt: re-send the very bytes the server may already hold.
            existing = path.read_bytes()
            copy = existing if hashlib.sha256(existing).hexdigest() == row.copy_sha256 else None
        if copy is None:
            text = self.texts[client.client_id]
            copy = self.stamper.copy(text, _metadata(client, text), client.password)
            write_atomic(path, copy)
        digest = hashlib.sha256(copy).hexdigest()
        mid = row.message_id if row is not None else message_id(self.version, client.client_id, self.sender.domain)
        body = render_body({
            "name": client.name, "recipient": client.recipient, "firm": client.firm, "tier": client.tier or "",
            "title": self.stamper.title or "Research brief", "date": self.stamp_day, "filename": self.pdf_name,
            "protected": bool(client.password), "sender_name": self.sender.display_name or self.sender.addr_spec,
        })
        msg = build_message(sender=self.sender, to_name=client.name, to_email=client.email,
                            subject=self.stamper.title or "Research brief", body=body, message_id=mid,
                            attachment=copy, filename=self.pdf_name, date=datetime.now(timezone.utc))
        relative = str(path.relative_to(self.output_dir))
        # The Message-ID and `sending` are durable before the message leaves this process.
        self.ledger.begin_send(self.version, client.client_id, email=client.email, message_id=mid, via=self.via,
                               copy_file=relative, copy_sha256=digest)
        assert self.transport is not None
        try:
            result = self.transport.deliver(msg, self.sender.addr_spec, client.email, stem)
        except DistributionError as exc:  # a refused login or an untrusted certificate: nothing was sent
            self.ledger.finish(self.version, client.client_id, PENDING, str(exc))
            raise
        status = {
            Outcome.SENT: SENT, Outcome.REFUSED: FAILED, Outcome.DEFERRED: PENDING, Outcome.UNKNOWN: SENDING,
            Outcome.UNREACHABLE: SENDING if result.maybe_delivered else PENDING,
        }[result.outcome]
        self.ledger.finish(self.version, client.client_id, status, None if status == SENT else result.detail)
        shown = IN_DOUBT if status == SENDING else status
        return ClientOutcome(client.client_id, client.email, shown, result.detail, relative), result


class Outbox:
    """Write each message as a standard .eml file into output/outbox/<version>/."""

    name = "outbox"

    def __init__(self, output_dir: Path, folder: Path):
        self.output_dir = output_dir
        self.folder = folder

    def deliver(self, msg: EmailMessage, sender: str, recipient: str, file_stem: str) -> Result:
        path = inside(self.output_dir, self.folder / f"{file_stem}.eml")
        write_atomic(path, message_bytes(msg))
        return Result(Outcome.SENT, str(path.relative_to(self.output_dir)))

    def close(self) -> None:
        pass


def _transport(via: str, smtp: SmtpSettings | None, retry: RetryPolicy, output_dir: Path,
               version: str) -> SmtpTransport | Outbox:
    if via == "smtp":
        assert smtp is not None
        return SmtpTransport(smtp, retry)
    return Outbox(output_dir, output_dir / "outbox" / version[:12])


def _read_brief(brief: Path) -> bytes:
    if not brief.is_file():
        raise DistributionError(f"{brief} not found; run `briefgen build` first, or pass --brief FILE")
    pdf = brief.read_bytes()
    if not pdf.startswith(b"%PDF-"):
        raise DistributionError(f"{brief} is not a PDF")
    return pdf


def _sender(sender: str | None, inputs_dir: Path) -> Address:
    """The From address: --from / BRIEFGEN_MAIL_FROM, else the first analyst with an email in brief.yaml."""
    if sender:
        return parse_sender(sender)
    if (inputs_dir / "brief.yaml").is_file():
        from briefgen.config import load_config

        config = load_config(inputs_dir)
        for analyst in config.analysts:
            if analyst.email:
                return parse_sender(f"{analyst.name} <{analyst.email}>")
    raise DistributionError(
        f"no sender address: pass --from 'Desk <desk@example.com>', set {SENDER_ENV}, "
        "or give an analyst an email in brief.yaml"
    )


def _check_glyphs(clients: tuple[Client, ...], label: str) -> None:
    problems = []
    for client in clients:
        for column, value in (("name", client.name), ("firm", client.firm)):
            if missing := unsupported_characters(value):
                problems.append(Problem(label, f"the stamp font cannot print {missing!r}", row=client.row,
                                        column=column, fix="write it in Latin, Greek or Cyrillic script"))
    if problems:
        raise InputError(problems)


def _metadata(client: Client, text: str) -> dict[str, str]:
    # The brief's own Title and Subject stay; the recipient gets keys of their own.
    return {"/Recipient": client.recipient, "/RecipientEmail": client.email, "/RecipientID": client.client_id,
            "/Marking": text}


# --- manifest and status -----------------------------------------------------------------


def write_manifest(ledger: Ledger, version: str, clients: tuple[Client, ...], output_dir: Path,
                   title: str | None, brief: Path) -> Path:
    """Write manifest.csv and manifest.json for a version from the ledger; return the CSV's path."""
    by_id = {c.client_id: c for c in clients}
    rows = []
    for delivery in ledger.deliveries(version).values():
        client = by_id.get(delivery.client_id)
        rows.append({
            "client_id": delivery.client_id, "name": client.name if client else "",
            "firm": client.firm if client else "", "email": delivery.email,
            "tier": (client.tier or "") if client else "", "file": delivery.copy_file or "",
            "sha256": delivery.copy_sha256 or "", "status": IN_DOUBT if delivery.status == SENDING else delivery.status,
            "time": delivery.sent_at or delivery.updated_at, "message_id": delivery.message_id,
            "attempts": delivery.attempts, "error": delivery.error or "",
        })
    folder = inside(output_dir, output_dir / "distribution" / version[:12])
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(folder / "manifest.csv", text.getvalue().encode("utf-8"))
    document = {"version": version, "title": title, "brief": str(brief), "clients": rows}
    write_atomic(folder / "manifest.json", (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return folder / "manifest.csv"


def distribution_status(output_dir: Path, brief: Path | None = None, clients_file: Path | None = None) -> StatusReport:
    """Sent, pending, in doubt and failed per brief version; the brief on disk counts its unserved clients."""
    ledger = Ledger(output_dir)
    current = hashlib.sha256(brief.read_bytes()).hexdigest() if brief is not None and brief.is_file() else None
    versions: list[VersionCounts] = []
    running = False
    if ledger.path.exists():
        with ledger.open(exclusive=False):
            versions = ledger.counts()
            running = ledger.running()
            served = set(ledger.deliveries(current)) if current else set()
    else:
        served = set()
    if current and clients_file is not None and clients_file.is_file():
        unserved = sum(1 for c in load_clients(clients_file, clients_file.name) if c.client_id not in served)
        if not any(v.version == current for v in versions):
            versions.insert(0, VersionCounts(current, Stamper.title_of(brief.read_bytes()), ""))
        versions = [VersionCounts(**{**asdict(v), "pending": v.pending + unserved}) if v.version == current else v
                    for v in versions]
    return StatusReport(tuple(versions), current, running)

