"""Turn deliveries into durable facts: a SQLite ledger of who was sent which brief version, and when.

One row per (brief version, client). The Message-ID and the state `sending` are committed before a
message is handed to a server, so a run that dies at any point leaves the ledger saying exactly
what may have happened: `sent` is certain; `sending` left behind by a dead run is "in doubt" (the
server may or may not hold the message) and is re-sent with the same Message-ID; `pending` and
`failed` were certainly not delivered.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from briefgen.errors import DistributionError

LEDGER_FILE = "distribution.sqlite"
LOCK_FILE = ".distribution.lock"
SCHEMA_VERSION = 1

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
IN_DOUBT = "in doubt"  # how `sending` reads once the run that wrote it is gone

_SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
    version     TEXT PRIMARY KEY,
    title       TEXT,
    brief_path  TEXT NOT NULL,
    stamp_date  TEXT NOT NULL,
    first_seen  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    version     TEXT NOT NULL REFERENCES versions(version),
    client_id   TEXT NOT NULL,
    email       TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    via         TEXT,
    copy_file   TEXT,
    copy_sha256 TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    updated_at  TEXT NOT NULL,
    sent_at     TEXT,
    PRIMARY KEY (version, client_id)
);
"""


def now() -> str:
    """The current UTC time as the ledger writes it."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Version:
    version: str
    title: str | None
    brief_path: str
    stamp_date: str
    first_seen: str


@dataclass(frozen=True)
class Delivery:
    version: str
    client_id: str
    email: str
    message_id: str
    status: str
    via: str | None
    copy_file: str | None
    copy_sha256: str | None
    attempts: int
    error: str | None
    updated_at: str
    sent_at: str | None


@dataclass(frozen=True)
class Sending:
    """A delivery about to be handed over: what begin_send commits first."""

    client_id: str
    email: str
    message_id: str
    via: str  # 'outbox' or 'smtp host:port'
    copy_file: str
    copy_sha256: str


@dataclass(frozen=True)
class VersionCounts:
    """How the deliveries of one brief version stand."""

    version: str
    title: str | None
    first_seen: str
    sent: int = 0
    pending: int = 0
    in_doubt: int = 0
    failed: int = 0
    served_by: tuple[tuple[str, int], ...] = ()  # (way, clients sent): 'outbox', 'smtp host:port'


class Ledger:
    """The ledger file of one output folder, held by at most one run at a time."""

    def __init__(self, output_dir: Path):
        from briefgen.files import inside

        # Neither file may be a link leading out of the output folder (OutputError names it).
        self.path = inside(Path(output_dir), LEDGER_FILE)
        self._lock_path = inside(Path(output_dir), LOCK_FILE)
        self._lock_fd: int | None = None
        self._db: sqlite3.Connection | None = None

    # --- opening -------------------------------------------------------------------------

    def open(self, *, exclusive: bool = True) -> Ledger:
        """Open (a run creates the file if there is none); exclusive runs also take the folder's lock.

        A file that is there but is not a briefgen ledger (emptied, truncated, replaced by another
        database) is refused by a run exactly as by --status: taking it for a new ledger would send
        every client the brief again.
        """
        if exclusive:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._take_lock()
        if exclusive and not self.path.exists():
            self._create()
        try:
            # isolation_level=None: transactions are explicit, so each commit is one durable step.
            # Readers (--status, --dry-run) open read-only and never wait on or block a run.
            target = str(self.path) if exclusive else f"{self.path.resolve().as_uri()}?mode=ro"
            self._db = sqlite3.connect(target, isolation_level=None, timeout=30, uri=not exclusive)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute("PRAGMA foreign_keys = ON")
            current = self._db.execute("PRAGMA user_version").fetchone()[0]
            if current > SCHEMA_VERSION:
                raise DistributionError(f"{self.path} was written by a newer briefgen (schema {current})")
            self._check_ours(current)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise DistributionError(f"cannot use the delivery ledger {self.path}: {exc}") from None
        except BaseException:
            self.close()
            raise
        return self

    def _create(self) -> None:
        """A new ledger is made beside the real name and renamed into place whole, so a run killed
        while creating it leaves no empty file that the next run would have to refuse."""
        fresh = self.path.with_name(f".{self.path.name}.new")
        fresh.unlink(missing_ok=True)
        try:
            db = sqlite3.connect(str(fresh), isolation_level=None)
            try:
                db.execute("PRAGMA synchronous = FULL")
                db.executescript(f"BEGIN; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
            finally:
                db.close()
            os.replace(fresh, self.path)
        except sqlite3.DatabaseError as exc:
            fresh.unlink(missing_ok=True)
            raise DistributionError(f"cannot create the delivery ledger {self.path}: {exc}") from None

    def _check_ours(self, schema: int) -> None:
        tables = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if schema != SCHEMA_VERSION or not {"versions", "deliveries"} <= tables:
            raise DistributionError(
                f"{self.path} is not a briefgen delivery ledger (it may have been emptied or replaced); nothing "
                "was sent. Restore it from a backup; only if no brief was ever distributed from this folder, "
                "move it away and run again"
            )

    def _take_lock(self) -> None:
        import fcntl  # POSIX only; distribution runs on the desk's Linux and macOS machines

        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DistributionError(
                f"another `briefgen distribute` is running on {self.path.parent} (it holds {self._lock_path})"
            ) from None
        self._lock_fd = fd

    def running(self) -> bool:
        """Whether another process holds the folder's lock (a run is under way)."""
        import fcntl

        if self._lock_fd is not None or not self._lock_path.exists():
            return False
        fd = os.open(self._lock_path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the lock
            self._lock_fd = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("ledger is not open")
        return self._db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # --- versions ------------------------------------------------------------------------

    def find_version(self, version: str) -> Version | None:
        row = self.db.execute("SELECT * FROM versions WHERE version = ?", (version,)).fetchone()
        return Version(**dict(row)) if row else None

    def version(self, version: str, *, title: str | None, brief_path: str, stamp_date: str) -> Version:
        """The record of a brief version, created on its first run (its stamp date stays fixed)."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO versions (version, title, brief_path, stamp_date, first_seen)"
                " VALUES (?, ?, ?, ?, ?)",
                (version, title, brief_path, stamp_date, now()),
            )
            row = db.execute("SELECT * FROM versions WHERE version = ?", (version,)).fetchone()
        return Version(**dict(row))

    # --- deliveries ----------------------------------------------------------------------

    def deliveries(self, version: str) -> dict[str, Delivery]:
        rows = self.db.execute("SELECT * FROM deliveries WHERE version = ? ORDER BY rowid", (version,))
        return {row["client_id"]: Delivery(**dict(row)) for row in rows}

    def get(self, version: str, client_id: str) -> Delivery | None:
        row = self.db.execute(
            "SELECT * FROM deliveries WHERE version = ? AND client_id = ?", (version, client_id)
        ).fetchone()
        return Delivery(**dict(row)) if row else None

    def begin_send(
        self, version: str, client_id: str, *, email: str, message_id: str, via: str, copy_file: str, copy_sha256: str
    ) -> None:
        """Commit the Message-ID and `sending` before the message leaves; this is what makes re-runs safe."""
        self.begin_many(version, [Sending(client_id, email, message_id, via, copy_file, copy_sha256)])

    def begin_many(self, version: str, batch: list[Sending]) -> None:
        """begin_send for several deliveries in one commit (one disk flush, however many clients)."""
        stamp = now()
        with self.transaction() as db:
            for item in batch:
                existing = db.execute(
                    "SELECT message_id, status FROM deliveries WHERE version = ? AND client_id = ?",
                    (version, item.client_id),
                ).fetchone()
                if existing is not None and existing["status"] == SENT:
                    raise RuntimeError(f"{item.client_id} was already sent {version}")
                if existing is not None and existing["message_id"] != item.message_id:
                    raise RuntimeError(f"{item.client_id}: Message-ID changed for {version}")
                db.execute(
                    """INSERT INTO deliveries (version, client_id, email, message_id, status, via, copy_file,
                                               copy_sha256, attempts, error, updated_at)
                       VALUES (?, ?, ?, ?, 'sending', ?, ?, ?, 1, NULL, ?)
                       ON CONFLICT (version, client_id) DO UPDATE SET
                           email = excluded.email, status = 'sending', via = excluded.via,
                           copy_file = excluded.copy_file, copy_sha256 = excluded.copy_sha256,
                           attempts = deliveries.attempts + 1, updated_at = excluded.updated_at""",
                    (
                        version,
                        item.client_id,
                        item.email,
                        item.message_id,
                        item.via,
                        item.copy_file,
                        item.copy_sha256,
                        stamp,
                    ),
                )

    def finish(self, version: str, client_id: str, status: str, error: str | None = None) -> None:
        """Record how a delivery ended: sent, failed (refused), pending (not delivered) or still sending."""
        self.finish_many(version, [(client_id, status, error)])

    def finish_many(self, version: str, outcomes: list[tuple[str, str, str | None]]) -> None:
        """finish for several deliveries, (client_id, status, error) each, in one commit."""
        for _, status, _ in outcomes:
            if status not in (SENT, FAILED, PENDING, SENDING):
                raise ValueError(status)
        stamp = now()
        with self.transaction() as db:
            db.executemany(
                """UPDATE deliveries SET status = ?, error = ?, updated_at = ?,
                       sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END
                   WHERE version = ? AND client_id = ?""",
                [(status, error, stamp, status, stamp, version, client_id) for client_id, status, error in outcomes],
            )

    def served_by(self, version: str) -> dict[str, int]:
        """How many clients of a version were served each way: 'outbox', 'smtp host:port'."""
        rows = self.db.execute(
            "SELECT COALESCE(via, '?') AS via, COUNT(*) AS n FROM deliveries WHERE version = ? AND status = 'sent' "
            "GROUP BY via ORDER BY n DESC, via",
            (version,),
        )
        return {row["via"]: row["n"] for row in rows}

    # --- reporting -----------------------------------------------------------------------

    def counts(self) -> list[VersionCounts]:
        """Sent, pending, in doubt and failed per brief version, newest first."""
        rows = self.db.execute(
            """SELECT v.version, v.title, v.first_seen,
                      SUM(d.status = 'sent') AS sent, SUM(d.status = 'pending') AS pending,
                      SUM(d.status = 'sending') AS in_doubt, SUM(d.status = 'failed') AS failed
               FROM versions v LEFT JOIN deliveries d ON d.version = v.version
               GROUP BY v.version ORDER BY v.first_seen DESC, v.rowid DESC"""
        )
        return [
            VersionCounts(
                r["version"],
                r["title"],
                r["first_seen"],
                r["sent"] or 0,
                r["pending"] or 0,
                r["in_doubt"] or 0,
                r["failed"] or 0,
                tuple(self.served_by(r["version"]).items()),
            )
            for r in rows.fetchall()
        ]
