"""Turn an output folder into its history database: found, opened, brought to the current schema.

OUTPUT/history.sqlite holds every build (briefgen.store.history writes and reads them) and every
publication (briefgen.publish.lifecycle). This module is what both share: where the file is, how it
is opened (autocommit, explicit transactions, a busy timeout; read-only where only read), the
schema and its migrations, a damaged file moved aside, and SQLite's errors told as their causes.

Several builds may record at once (`briefgen batch`, two terminals): each recording is one short
write transaction and waits on a busy timeout. The database keeps SQLite's rollback journal, not
WAL: a reader then creates no side files, so reading the history on a full disk or a read-only
folder leaves it exactly as it was. The schema is versioned with PRAGMA user_version and created
on first use.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path

from briefgen.errors import BriefgenError, Problem

HISTORY_FILE = "history.sqlite"
SCHEMA_VERSION = 2
BUSY_TIMEOUT_S = 30.0  # a recording holds the write lock for milliseconds; 30 s only matters on a stalled disk

SCHEMA_V1 = """
CREATE TABLE builds (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at   TEXT NOT NULL,   -- UTC, ISO 8601: history metadata, never printed in a brief
    as_of         TEXT NOT NULL,   -- YYYY-MM-DD
    period_start  TEXT NOT NULL,
    period_end    TEXT NOT NULL,
    compare_start TEXT NOT NULL,
    compare_end   TEXT NOT NULL,
    pdf_sha256    TEXT NOT NULL,
    pdf_variant   TEXT,
    figures       TEXT NOT NULL    -- JSON: the sector's figures (Sector.figures)
);
CREATE INDEX builds_by_as_of ON builds (as_of, id);
CREATE TABLE sources (
    build_id INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    sha256   TEXT NOT NULL,
    PRIMARY KEY (build_id, name)
);
"""
# Added by schema 2, for publishing (briefgen.publish.lifecycle); migrate runs it on an older history, in the
# same transaction. PROVENANCE: the build columns it adds, which record_build fills and publish checks.
SCHEMA_V2 = """
ALTER TABLE builds ADD COLUMN final_sha256 TEXT;   -- the PDF without the draft mark (what publish sends)
ALTER TABLE builds ADD COLUMN build_key TEXT;      -- keys.Keys.build: inputs, templates, code, options
ALTER TABLE builds ADD COLUMN inputs_dir TEXT;
ALTER TABLE builds ADD COLUMN templates_dir TEXT;
ALTER TABLE builds ADD COLUMN options TEXT;        -- JSON: BuildOptions.fingerprint()
ALTER TABLE builds ADD COLUMN warnings TEXT;       -- JSON list of the build's warnings, as printed
CREATE TABLE publications (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    build_id      INTEGER NOT NULL REFERENCES builds (id),
    as_of         TEXT NOT NULL,
    version       INTEGER NOT NULL,
    approved_by   TEXT NOT NULL,
    note          TEXT,
    published_at  TEXT NOT NULL,   -- UTC, ISO 8601 with Z
    pdf_sha256    TEXT NOT NULL,
    pdf_size      INTEGER NOT NULL,
    folder        TEXT NOT NULL,   -- relative to the output folder: published/<as-of>/v<N>
    recalled_at   TEXT,
    recall_reason TEXT,
    UNIQUE (as_of, version)
);
"""
PROVENANCE = ("final_sha256", "build_key", "inputs_dir", "templates_dir", "options", "warnings")


class HistoryError(BriefgenError):
    """The build history is missing, unreadable, or lacks the build asked for."""


# --- the database -----------------------------------------------------------------------------


FULL_DISK_BYTES = 256 * 1024  # less free space than this: call SQLite's I/O error a full disk


def history_path(output_dir: Path) -> Path:
    """OUTPUT/history.sqlite; OutputError if it is a link leading out of the output folder."""
    from briefgen.files import inside

    return inside(Path(output_dir), HISTORY_FILE)


_DAMAGE = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}  # the file's content is broken (not busy, full or unwritable)


def _damaged(path: Path) -> str | None:
    """What is wrong with the history's content, or None when it reads (or cannot be opened for another reason)."""
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)) as db:
            schema_version(db, path)
            problems = [row[0] for row in db.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                return problems[0]
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        name = getattr(exc, "sqlite_errorname", "")
        return str(exc) if any(name == code or name.startswith(code + "_") for code in _DAMAGE) else None
    except HistoryError:
        return None  # a newer briefgen's history: not damaged, refused where it is read
    return None


def recover_history(output_dir: Path, today: date | None = None) -> Problem | None:
    """Move a damaged history aside (history.sqlite.damaged-<date>) so builds go on; the warning, or None.

    The history is a record, not a dependency: a file SQLite calls corrupt or not a database must
    not stop the desk from building. The damaged file (and its journal, which must not be played
    into the new history) is kept beside it for whoever wants to rescue it; the next recording
    starts a new history.
    """
    path = history_path(output_dir)
    try:
        before = path.stat()
    except OSError:
        return None
    if not path.is_file():
        return None
    why = _damaged(path)
    if why is None:
        return None
    stamp = (today or datetime.now(UTC).date()).isoformat()
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    try:
        if path.stat().st_ino != before.st_ino:  # another build recovered it meanwhile
            return None
        os.replace(path, aside)
        journal = path.with_name(path.name + "-journal")
        if journal.exists():
            os.replace(journal, aside.with_name(aside.name + "-journal"))
    except OSError as exc:
        raise HistoryError(
            f"{path} is damaged ({why}) and cannot be moved aside ({exc.strerror or exc}); "
            f"move it away by hand and build again"
        ) from None
    return Problem(
        HISTORY_FILE,
        f"the build history was damaged ({why}); it was moved to {aside.name} and a new history is started",
        fix="the damaged file is kept for anyone who wants to rescue earlier records",
    )


def cause(exc: sqlite3.Error, path: Path) -> str:
    """Name what SQLite's 'disk I/O error' or 'unable to open database file' means here."""
    folder = path.parent
    try:
        if shutil.disk_usage(folder).free < FULL_DISK_BYTES:
            return "the disk is full; free some space and build again"
    except OSError:
        pass
    if folder.is_dir() and not os.access(folder, os.W_OK):
        return f"{folder} is not writable; choose another --output folder"
    return str(exc)


def connect(path: Path, create: bool) -> sqlite3.Connection:
    """Open the history in autocommit mode (transactions are explicit), creating the file only if asked."""
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        else:
            db = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None
            )
        db.execute("PRAGMA foreign_keys = ON")
        return db
    except sqlite3.Error as exc:
        raise HistoryError(f"{path}: cannot open the build history ({cause(exc, path)})") from None


def schema_version(db: sqlite3.Connection, path: Path) -> int:
    """The schema version of an open history; HistoryError for one written by a newer briefgen."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"{path} was written by a newer briefgen (schema {version}, this one reads "
            f"{SCHEMA_VERSION}); upgrade briefgen"
        )
    return version


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the schema to SCHEMA_VERSION; call inside a write transaction."""
    if schema_version(db, path) == 0:
        for statement in SCHEMA_V1.split(";"):  # one by one: executescript() would commit the transaction
            if statement.strip():
                db.execute(statement)
        db.execute("PRAGMA user_version = 1")
    if schema_version(db, path) < 2:  # publishing: what a build leaves to publish, and the publications
        for statement in SCHEMA_V2.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute("PRAGMA user_version = 2")
    # Later versions add their steps here: `if version < 3: ...`, each inside this same transaction.


def reader(output_dir: Path) -> tuple[sqlite3.Connection, Path] | None:
    """An open history for reading, or None when no build was ever recorded there."""
    path = history_path(output_dir)
    if not path.is_file():
        return None
    db = connect(path, create=False)
    try:
        if schema_version(db, path) == 0:
            db.close()
            return None
    except sqlite3.Error as exc:
        db.close()
        raise HistoryError(f"{path}: not a readable build history ({cause(exc, path)})") from None
    return db, path
