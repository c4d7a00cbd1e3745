"""Turn a finished brief and clients.csv into one marked copy per client, each delivered exactly once.

distribute() runs the stages in order: read the brief (its SHA-256 is its version), validate the
clients, consult the ledger, then for every client not yet served stamp a copy, commit the
Message-ID, hand the message to the outbox or the SMTP server, and record the outcome. The manifest
is rewritten from the ledger at the end of every run, whatever happened.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.headerregistry import Address
from pathlib import Path

from briefgen.distribute.clients import Client
from briefgen.distribute.ledger import FAILED, IN_DOUBT, PENDING, SENDING, SENT, Delivery, Ledger, Sending
from briefgen.distribute.mail import MessageTemplate, render_body
from briefgen.distribute.mailbody import BriefSummary, read_summary
from briefgen.distribute.manifest import (  # noqa: F401  (StatusReport, distribution_status, safe_stem: this module's interface too)
    StatusReport,
    check_disk,
    distribution_status,
    inside,
    safe_stem,
    write_manifest,
)
from briefgen.distribute.naming import attachment_name, message_id
from briefgen.distribute.preflight import from_address, metadata, read_brief, read_clients, route_label
from briefgen.distribute.stamp import Stamper, StampFont, stamp_text
from briefgen.distribute.trace import copy_mark, mark_key
from briefgen.distribute.transport import Outbox, Outcome, Result, RetryPolicy, SmtpSettings, SmtpTransport
from briefgen.errors import DistributionError
from briefgen.files import write_atomic

ALREADY_SENT, WOULD_SEND, WOULD_RESEND = "already sent", "would send", "would re-send"
EMBARGOED = "embargoed"  # not due yet: its tier's embargo runs on; a later run serves it
Progress = Callable[[int, int, "ClientOutcome | None"], None]


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class ClientOutcome:
    """What this run did for one client."""

    client_id: str
    email: str
    status: str  # sent, already sent, failed, pending, in doubt, would send, would re-send
    detail: str = ""
    file: str = ""
    via: str = ""  # how the client was served: 'outbox' or 'smtp host:port'


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

    @property
    def served_elsewhere(self) -> dict[str, int]:
        """Clients skipped because an earlier run served them another way (the outbox, another server)."""
        counts: dict[str, int] = {}
        for o in self.outcomes:
            if o.status == ALREADY_SENT and o.via != self.via:
                counts[o.via or "?"] = counts.get(o.via or "?", 0) + 1
        return counts


# --- the run -----------------------------------------------------------------------------


OUTBOX_BATCH = 100  # deliveries per ledger commit when writing the outbox (SMTP: one at a time)
DEFAULT_RETRY = RetryPolicy()  # frozen, so one instance serves as every call's default


def distribute(
    brief: Path,
    clients_file: Path,
    output_dir: Path,
    *,
    via: str = "outbox",
    smtp: SmtpSettings | None = None,
    sender: str | None = None,
    dry_run: bool = False,
    retry: RetryPolicy = DEFAULT_RETRY,
    today: date | None = None,
    progress: Progress | None = None,
    templates_dir: Path | None = None,
    held: Mapping[str, datetime] | None = None,
) -> DistributionReport:
    """Serve every client in clients_file one marked copy of brief, skipping those already served.

    templates_dir is the override folder of `build --templates`: its email/brief.txt (and
    email/brief.html), if any, replace the default body templates. `held` maps the client_id of each
    client still under embargo to when it ends (briefgen.publish.versions.held_clients): they are reported as
    embargoed and served by a later run.
    """
    label = route_label(via, smtp)
    pdf = read_brief(brief)
    version = hashlib.sha256(pdf).hexdigest()
    every_client = read_clients(clients_file)
    held = dict(held or {})
    from_addr = from_address(sender, clients_file.parent)
    day = today or datetime.now(UTC).date()

    ledger = Ledger(output_dir)
    if not ledger.path.exists():
        check_disk(output_dir, version, {})  # refused before a new ledger is created
    use_ledger = not (dry_run and not ledger.path.exists())  # a dry run creates nothing
    if use_ledger:
        ledger.open(exclusive=not dry_run)
    try:
        stamp_day = f"{day.day} {day:%b %Y}"
        rows: dict[str, Delivery] = {}
        known = ledger.find_version(version) if use_ledger else None
        if known is not None:
            rows = ledger.deliveries(version)
        check_disk(output_dir, version, rows)  # before anything is written or sent
        if use_ledger and not dry_run and known is None:
            known = ledger.version(version, title=Stamper.title_of(pdf), brief_path=str(brief), stamp_date=stamp_day)
        stamp_day = known.stamp_date if known else stamp_day  # every copy of a version carries one date
        served = {client_id for client_id, row in rows.items() if row.status == SENT}
        held = {client_id: until for client_id, until in held.items() if client_id not in served}
        clients = tuple(c for c in every_client if c.client_id not in held)
        todo = [c for c in clients if c.client_id not in served]
        texts = {c.client_id: stamp_text(c.recipient, stamp_day) for c in every_client}
        stamper = Stamper(pdf, StampFont.for_texts(texts[c.client_id] for c in (todo or every_client[:1])))
        run = _Run(
            version=version,
            pdf_name=attachment_name(stamper.title, brief),
            stamper=stamper,
            ledger=ledger,
            output_dir=output_dir,
            sender=from_addr,
            stamp_day=stamp_day,
            texts=texts,
            via=label,
            summary=read_summary(brief, stamper.title),
            transport=None if dry_run else _transport(via, smtp, retry, output_dir, version),
            email_templates=Path(templates_dir) / "email" if templates_dir is not None else None,
            mark_key=mark_key(output_dir, create=not dry_run),  # `briefgen trace` checks copies' marks with it
        )
        manifest = None
        try:
            outcomes, stopped = run.serve(clients, rows, dry_run=dry_run, progress=progress)
            outcomes += [
                ClientOutcome(c.client_id, c.email, EMBARGOED, f"until {_utc_text(held[c.client_id])}")
                for c in every_client
                if c.client_id in held
            ]
        finally:  # even when interrupted, the manifest tells what the ledger knows
            if run.transport is not None:
                run.transport.close()
            if not dry_run:
                manifest = write_manifest(ledger, version, every_client, output_dir, stamper.title, brief)
    finally:
        ledger.close()
    return DistributionReport(version, stamper.title, label, dry_run, tuple(outcomes), manifest, stopped)


@dataclass
class _Item:
    """One delivery ready to hand over: the copy stamped, the message composed."""

    client: Client
    index: int
    stem: str
    path: Path
    copy: bytes
    reused: bool  # an in-doubt copy re-sent byte for byte, already on disk
    sending: Sending
    wire: bytes


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
    summary: BriefSummary
    transport: SmtpTransport | Outbox | None
    email_templates: Path | None = None  # the override folder's email/, searched before the default
    mark_key: bytes | None = None  # None (a dry run before any real one): copies are stamped unmarked
    copies_dir: Path = field(init=False)
    _templates: dict[bool, MessageTemplate] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.copies_dir = self.output_dir / "distribution" / self.version[:12]

    def serve(
        self, clients: tuple[Client, ...], rows: dict[str, Delivery], *, dry_run: bool, progress: Progress | None
    ) -> tuple[list[ClientOutcome], str | None]:
        done: dict[int, ClientOutcome] = {}
        self.stopped: str | None = None
        total = len(clients)
        batch: list[_Item] = []
        size = OUTBOX_BATCH if isinstance(self.transport, Outbox) else 1

        def record(index: int, outcome: ClientOutcome) -> None:
            done[index] = outcome
            if progress:
                progress(len(done), total, outcome)

        if progress:
            progress(0, total, None)
        for index, client in enumerate(clients):
            row = rows.get(client.client_id)
            if row is not None and row.status == SENT:
                record(
                    index,
                    ClientOutcome(
                        client.client_id, row.email, ALREADY_SENT, row.sent_at or "", row.copy_file or "", row.via or ""
                    ),
                )
            elif self.stopped:
                left = PENDING if row is None else IN_DOUBT if row.status == SENDING else row.status
                record(index, ClientOutcome(client.client_id, client.email, left, f"not attempted: {self.stopped}"))
            elif dry_run:
                if not done:  # stamp one copy in memory: proves the brief and font work
                    self.stamper.copy(
                        self.texts[client.client_id],
                        metadata(client, self.texts[client.client_id]),
                        client.password,
                        self._mark(client),
                    )
                resend = row is not None and row.status == SENDING
                record(
                    index,
                    ClientOutcome(
                        client.client_id,
                        client.email,
                        WOULD_RESEND if resend else WOULD_SEND,
                        f"same Message-ID {row.message_id}" if resend and row is not None else "",
                        via=self.via,
                    ),
                )
            else:
                batch.append(self._prepare(client, index, row))
                if len(batch) >= size:
                    for item, outcome in self._hand_over(batch):
                        record(item.index, outcome)
                    batch = []
        if batch:
            for item, outcome in self._hand_over(batch):
                record(item.index, outcome)
        return [done[i] for i in sorted(done)], self.stopped

    def _prepare(self, client: Client, index: int, row: Delivery | None) -> _Item:
        stem = safe_stem(client.client_id)
        path = inside(self.output_dir, self.copies_dir / f"{stem}.pdf")
        copy = None
        if row is not None and row.status == SENDING and row.copy_sha256 and path.is_file():
            # In doubt: re-send the very bytes the server may already hold.
            existing = path.read_bytes()
            copy = existing if hashlib.sha256(existing).hexdigest() == row.copy_sha256 else None
        reused = copy is not None
        if copy is None:
            text = self.texts[client.client_id]
            copy = self.stamper.copy(text, metadata(client, text), client.password, self._mark(client))
        mid = row.message_id if row is not None else message_id(self.version, client.client_id, self.sender.domain)
        context = {
            "name": client.name,
            "recipient": client.recipient,
            "firm": client.firm,
            "tier": client.tier or "",
            "title": self.stamper.title or "Research brief",
            "date": self.stamp_day,
            "filename": self.pdf_name,
            "protected": bool(client.password),
            "sender_name": self.sender.display_name or self.sender.addr_spec,
            "summary": self.summary,
        }
        wire = self._template(not client.email.isascii()).render(
            to_name=client.name,
            to_email=client.email,
            message_id=mid,
            date=datetime.now(UTC),
            body=render_body(context, self.email_templates),
            html=render_body(context, self.email_templates, html=True),
            attachment=copy,
        )
        sending = Sending(
            client.client_id,
            client.email,
            mid,
            self.via,
            str(path.relative_to(self.output_dir)),
            hashlib.sha256(copy).hexdigest(),
        )
        return _Item(client, index, stem, path, copy, reused, sending, wire)

    def _mark(self, client: Client) -> str | None:
        return copy_mark(self.mark_key, self.version, client.client_id) if self.mark_key else None

    def _template(self, international: bool) -> MessageTemplate:
        """What every message of the run shares, written once (one template per address kind)."""
        if international not in self._templates:
            self._templates[international] = MessageTemplate(
                sender=self.sender,
                subject=self.stamper.title or "Research brief",
                filename=self.pdf_name,
                html=True,
                international=international,
            )
        return self._templates[international]

    def _hand_over(self, batch: list[_Item]) -> list[tuple[_Item, ClientOutcome]]:
        """Commit `sending` for the batch, write the copies, deliver, then commit the outcomes.

        Every file is written after its ledger row: a crash leaves no copy the ledger does not know,
        and a row left `sending` is re-sent once, with the same Message-ID, by the next run.
        """
        self.ledger.begin_many(self.version, [item.sending for item in batch])
        assert self.transport is not None
        results: list[tuple[_Item, Result]] = []
        try:
            for item in batch:
                if not item.reused:
                    write_atomic(item.path, item.copy)
                results.append(
                    (item, self.transport.deliver(item.wire, self.sender.addr_spec, item.client.email, item.stem))
                )
        except DistributionError as exc:  # a refused login or an untrusted certificate: nothing was sent
            self.ledger.finish(self.version, batch[len(results)].client.client_id, PENDING, str(exc))
            raise
        finally:  # what was delivered before a failure is recorded as delivered
            self.ledger.finish_many(
                self.version,
                [
                    (item.client.client_id, _STATUS[r.outcome], None if r.outcome is Outcome.SENT else r.detail)
                    for item, r in results
                ],
            )
        out = []
        for item, result in results:
            if result.outcome is Outcome.UNREACHABLE:
                self.stopped = result.detail
            status = _STATUS[result.outcome]
            shown = IN_DOUBT if status == SENDING else status
            out.append(
                (
                    item,
                    ClientOutcome(
                        item.client.client_id, item.client.email, shown, result.detail, item.sending.copy_file, self.via
                    ),
                )
            )
        return out


_STATUS = {
    Outcome.SENT: SENT,
    Outcome.REFUSED: FAILED,
    Outcome.DEFERRED: PENDING,
    Outcome.UNKNOWN: SENDING,
    Outcome.UNREACHABLE: PENDING,
}


def _transport(
    via: str, smtp: SmtpSettings | None, retry: RetryPolicy, output_dir: Path, version: str
) -> SmtpTransport | Outbox:
    if via == "smtp":
        assert smtp is not None
        return SmtpTransport(smtp, retry)
    return Outbox(output_dir, output_dir / "outbox" / version[:12])
