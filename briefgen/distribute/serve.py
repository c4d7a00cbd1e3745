"""Serve a run's clients: stamp each copy, compose its message, commit, hand over, record.

The ledger is written first for every batch (`sending`, with the Message-ID and the copy's SHA-256),
then the files, then the outcomes: a crash leaves no copy the ledger does not know. Through the
outbox, a batch is stamped by forked children, one per core, while this process commits and
renames the batch before; each child writes its copies and messages to the run's staging folder,
and only their paths come back. distribute() (deliver.py) reads the inputs and the ledger and
makes the Run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from pathlib import Path
from typing import NamedTuple

from briefgen.background import Background
from briefgen.distribute.clients import Client
from briefgen.distribute.ledger import FAILED, IN_DOUBT, PENDING, SENDING, SENT, Delivery, Ledger, Sending
from briefgen.distribute.mail import MessageTemplate, render_body
from briefgen.distribute.mailbody import BriefSummary
from briefgen.distribute.manifest import inside, safe_stem
from briefgen.distribute.naming import message_id
from briefgen.distribute.preflight import metadata
from briefgen.distribute.stamp import Stamper
from briefgen.distribute.trace import copy_mark
from briefgen.distribute.transport import Outbox, Outcome, Result, SmtpTransport
from briefgen.errors import DistributionError
from briefgen.files import ensure_dir, move_into_place, write_atomic, write_new

ALREADY_SENT, WOULD_SEND, WOULD_RESEND = "already sent", "would send", "would re-send"
Progress = Callable[[int, int, "ClientOutcome | None"], None]


OUTBOX_BATCH = 100  # deliveries per ledger commit when writing the outbox (SMTP: one at a time)
PARALLEL_BATCH = 16  # a batch of at least this many copies is stamped by forked children too
STAGING_PREFIX = ".staging-"  # in the copies' folder: dot names are not copies (manifest.check_disk)
MAX_CHILDREN = 4  # one per core, up to this many
HERE_SHARE = 0.1  # of a batch stamped here while the one before is written (the first: as each child)


@dataclass(frozen=True)
class ClientOutcome:
    """What this run did for one client."""

    client_id: str
    email: str
    status: str  # sent, already sent, failed, pending, in doubt, would send, would re-send
    detail: str = ""
    file: str = ""
    via: str = ""  # how the client was served: 'outbox' or 'smtp host:port'


class _Todo(NamedTuple):
    """A client this run serves, at its place in the clients file, with the ledger's row if any."""

    client: Client
    position: int  # in the clients file
    row: Delivery | None


class _Coming:
    """A batch being stamped: a share of it here, when compose_here() is called, the rest meanwhile
    in forked children, one per core (briefgen.background; computed here at once where the platform
    does not fork).

    The share here is small: this process also commits and writes the batch before, mostly waiting
    on the disk, while the children stamp.
    """

    def __init__(self, run: Run, todo: list[_Todo], here_share: float | None):
        for international in sorted({not args.client.email.isascii() for args in todo}):
            run.template(international)  # made before the fork: every process writes from the same ones
        children = min(os.cpu_count() or 1, MAX_CHILDREN) if len(todo) >= PARALLEL_BATCH else 0
        share = 1 / (children + 1) if here_share is None else here_share  # None: nothing else to do here
        cut = round(len(todo) * share) if children else len(todo)
        rest = todo[cut:]
        self._run, self._todo_here = run, todo[:cut]
        self._there: list[Background[list[_Item]]] = []
        self._here: list[_Item] | None = None
        try:
            for i in range(children):
                part = rest[i * len(rest) // children : (i + 1) * len(rest) // children]
                self._there.append(Background.start(run.prepare_many, part))
        except BaseException:  # a fork refused (no memory, no processes left): stop those started
            self.cancel()
            raise

    def compose_here(self) -> None:
        if self._here is None:
            self._here = self._run.prepare_many(self._todo_here)

    def items(self) -> list[_Item]:
        """Every copy of the batch, in order (waits for the children's)."""
        try:
            self.compose_here()
            assert self._here is not None
            return self._here + [item for job in self._there for item in job.result()]
        finally:
            self.cancel()

    def cancel(self) -> None:
        for job in self._there:
            job.cancel()


@dataclass
class _Item:
    """One delivery ready to hand over: the copy stamped, the message composed."""

    client: Client
    index: int
    stem: str
    path: Path
    copy: bytes  # empty once staged
    reused: bool  # an in-doubt copy re-sent byte for byte, already on disk
    sending: Sending
    wire: bytes  # empty once staged
    staged_copy: Path | None = None  # the copy and the message, written to the run's staging folder
    staged_wire: Path | None = None


@dataclass
class Run:
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
    staging: Path | None = field(init=False, default=None)  # while serving through the outbox
    _templates: dict[bool, MessageTemplate] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.copies_dir = self.output_dir / "distribution" / self.version[:12]

    def serve(
        self, clients: tuple[Client, ...], rows: dict[str, Delivery], *, dry_run: bool, progress: Progress | None
    ) -> tuple[list[ClientOutcome], str | None]:
        """Serve the clients a batch at a time; outcomes in the clients' order, and why it stopped early.

        While one batch is committed and written here, the next is already being stamped in a forked
        child (`_Coming`): each copy is a pure function of the brief and its client, so on two cores
        the stamping and the writing overlap.
        """
        done: dict[int, ClientOutcome] = {}
        self.stopped: str | None = None
        total = len(clients)
        todo: list[_Todo] = []

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
                todo.append(_Todo(client, index, row))
        size = OUTBOX_BATCH if isinstance(self.transport, Outbox) else 1
        batches = [todo[start : start + size] for start in range(0, len(todo), size)]
        if isinstance(self.transport, Outbox) and todo:
            self.staging = self._new_staging()
        coming = None
        try:
            coming = _Coming(self, batches[0], None) if batches else None
            for number, batch in enumerate(batches):
                if self.stopped:  # the server went away: nobody else is tried this run
                    for client, index, row in batch:
                        left = PENDING if row is None else IN_DOUBT if row.status == SENDING else row.status
                        record(
                            index, ClientOutcome(client.client_id, client.email, left, f"not attempted: {self.stopped}")
                        )
                    continue
                assert coming is not None
                items = coming.items()
                later = batches[number + 1] if number + 1 < len(batches) else None
                coming = _Coming(self, later, HERE_SHARE) if later else None
                for item, outcome in self._hand_over(items):
                    record(item.index, outcome)
                del items
                if coming is not None and not self.stopped:
                    coming.compose_here()
        finally:
            if coming is not None:
                coming.cancel()  # a failure meanwhile: the children's batch is neither written nor sent
            if self.staging is not None:  # what is left in it was never handed over
                shutil.rmtree(self.staging, ignore_errors=True)
                self.staging = None
        return [done[i] for i in sorted(done)], self.stopped

    def _new_staging(self) -> Path:
        """This run's staging folder, beside the copies, after removing those of runs that were killed.

        Only one run at a time holds the ledger, so a staging folder found now belongs to none.
        """
        copies = ensure_dir(inside(self.output_dir, self.copies_dir))
        for folder in copies.glob(f"{STAGING_PREFIX}*"):
            if stat.S_ISDIR(folder.lstat().st_mode):  # a link of that name is not one briefgen made
                shutil.rmtree(folder, ignore_errors=True)
        staging = copies / f"{STAGING_PREFIX}{os.getpid()}"
        return ensure_dir(staging)

    def prepare_many(self, todo: list[_Todo]) -> list[_Item]:
        return [self._prepare(*args) for args in todo]

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
        wire = self.template(not client.email.isascii()).render(
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
        if self.staging is None:
            return _Item(client, index, stem, path, copy, reused, sending, wire)
        # Written now, by whichever process stamped it; renamed into place once the ledger has its row.
        staged_copy = None if reused else self.staging / f"{stem}.pdf"
        staged_wire = self.staging / f"{stem}.eml"
        if staged_copy is not None:
            write_new(staged_copy, copy)
        write_new(staged_wire, wire)
        return _Item(client, index, stem, path, b"", reused, sending, b"", staged_copy, staged_wire)

    def _mark(self, client: Client) -> str | None:
        return copy_mark(self.mark_key, self.version, client.client_id) if self.mark_key else None

    def template(self, international: bool) -> MessageTemplate:
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
                if item.staged_copy is not None:
                    move_into_place(item.staged_copy, item.path)
                elif not item.reused:
                    write_atomic(item.path, item.copy)
                if item.staged_wire is not None:
                    assert isinstance(self.transport, Outbox)  # only the outbox's messages are staged
                    result = self.transport.deliver_staged(item.staged_wire, item.stem)
                else:
                    result = self.transport.deliver(item.wire, self.sender.addr_spec, item.client.email, item.stem)
                results.append((item, result))
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
