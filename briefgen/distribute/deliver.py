"""Turn a finished brief and clients.csv into one marked copy per client, each delivered exactly once.

distribute() runs the stages in order: read the brief (its SHA-256 is its version), validate the
clients, consult the ledger, then for every client not yet served stamp a copy, commit the
Message-ID, hand the message to the outbox or the SMTP server, and record the outcome. The manifest
is rewritten from the ledger at the end of every run, whatever happened.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from briefgen.distribute.ledger import FAILED, IN_DOUBT, PENDING, SENT, Delivery, Ledger
from briefgen.distribute.mailbody import read_summary
from briefgen.distribute.manifest import (  # noqa: F401  (StatusReport, distribution_status, safe_stem: this module's interface too)
    StatusReport,
    check_disk,
    distribution_status,
    inside,
    safe_stem,
    write_manifest,
)
from briefgen.distribute.naming import attachment_name
from briefgen.distribute.preflight import from_address, read_brief, read_clients, route_label
from briefgen.distribute.serve import ALREADY_SENT, WOULD_RESEND, WOULD_SEND, ClientOutcome, Progress, Run  # noqa: F401  (the outcomes are this module's interface too)
from briefgen.distribute.stamp import Stamper, StampFont, stamp_text
from briefgen.distribute.trace import mark_key
from briefgen.distribute.transport import Outbox, RetryPolicy, SmtpSettings, SmtpTransport

EMBARGOED = "embargoed"  # not due yet: its tier's embargo runs on; a later run serves it


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


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
        run = Run(
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


def _transport(
    via: str, smtp: SmtpSettings | None, retry: RetryPolicy, output_dir: Path, version: str
) -> SmtpTransport | Outbox:
    if via == "smtp":
        assert smtp is not None
        return SmtpTransport(smtp, retry)
    return Outbox(output_dir, output_dir / "outbox" / version[:12])
