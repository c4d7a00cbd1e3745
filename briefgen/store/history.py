"""Turn finished builds into rows of the build history, and the rows back into records and diffs.

Every successful build adds one row to OUTPUT/history.sqlite (briefgen.store.historydb): its as-of
date, its windows, every figure (the sector's `figures`, stored as JSON), the SHA-256 of each
input file and of the PDF. The brief reads the history back for one thing only, the figures of
the previous brief (`previous_brief`), whose key figures it compares with its own
(briefgen.store.figures); `briefgen history` and `briefgen diff` read the rest
(briefgen.store.historytext prints them). The time a build was recorded is kept as history
metadata; nothing a brief prints depends on it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from briefgen.store.figures import figure_change, flatten_figures
from briefgen.store.historydb import (  # noqa: F401 (HistoryError, recover_history: the build's names for them)
    PROVENANCE,
    HistoryError,
    cause,
    connect,
    history_path,
    migrate,
    reader,
    recover_history,
    schema_version,
)


@dataclass(frozen=True)
class PreviousBrief:
    """The latest brief published with an earlier as-of date: its date and the figures its build recorded.

    A new brief prints the change of its key figures since these (briefgen.store.figures.KeyFigure).
    """

    build_id: int
    as_of: date
    figures: Mapping[str, Any]  # the sector's figures, as the build recorded them

    @property
    def fingerprint(self) -> str:
        """All of this brief that a new brief may print, as text: for a build's cache key.

        The date and a digest of every recorded figure: which of them a sector prints is the
        sector's business, so none is left out.
        """
        canonical = json.dumps(self.figures, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return f"previous={self.as_of.isoformat()}:{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


@dataclass(frozen=True)
class BuildRecord:
    """One recorded build, as `briefgen history` lists it."""

    id: int
    recorded_at: str
    as_of: date
    period: tuple[date, date]
    compare: tuple[date, date]
    pdf_sha256: str
    pdf_variant: str | None
    figures: Mapping[str, Any]  # the sector's figures, as recorded (briefgen.store.figures reads them)


@dataclass(frozen=True)
class FigureChange:
    """One figure that differs between two builds.

    `change` is in `unit`: '%' for a level, 'bp' for a percentage, 'n' for the difference of a whole
    number (block height, a count); '' for text (dates, tickers), which has no change.
    """

    figure: str
    old: Any
    new: Any
    change: float | None
    unit: str


@dataclass(frozen=True)
class SourceChange:
    """One input file whose bytes differ; old or new is None where the file was added or removed."""

    name: str
    old_sha256: str | None
    new_sha256: str | None


@dataclass(frozen=True)
class BuildDiff:
    old: BuildRecord
    new: BuildRecord
    figures: tuple[FigureChange, ...]
    figures_compared: int
    sources: tuple[SourceChange, ...]
    sources_compared: int


# --- recording -----------------------------------------------------------------------------


def record_build(
    output_dir: Path,
    *,
    as_of: date,
    period: Any,
    compare: Any,
    figures: Mapping[str, Any],
    sources: Iterable[Any],
    pdf_sha256: str,
    pdf_variant: str | None,
    recorded_at: datetime | None = None,
    provenance: Mapping[str, str | None] | None = None,
) -> int:
    """Record one successful build in OUTPUT/history.sqlite; return its id.

    `period` and `compare` are config Windows or (start, end) pairs; `figures` is the sector's
    figures (Sector.figures: JSON-safe data); `sources` are the inputs' SourceFiles (anything with
    name and sha256); `provenance` fills the columns that publishing checks
    (briefgen.store.historydb.PROVENANCE).
    """
    path = history_path(output_dir)
    when = (recorded_at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    (period_start, period_end), (compare_start, compare_end) = _span(period), _span(compare)
    try:
        figures_json = json.dumps(figures, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    except ValueError as exc:
        raise ValueError(f"figures must be JSON-safe data (Sector.figures) ({exc})") from None
    hashes = sorted({s.name: s.sha256 for s in sources}.items())
    with closing(connect(path, create=True)) as db:
        try:
            db.execute("BEGIN IMMEDIATE")  # take the write lock now: no upgrade deadlock between two writers
            try:
                migrate(db, path)
                cursor = db.execute(
                    "INSERT INTO builds (recorded_at, as_of, period_start, period_end, compare_start, compare_end,"
                    " pdf_sha256, pdf_variant, figures) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        when,
                        as_of.isoformat(),
                        period_start.isoformat(),
                        period_end.isoformat(),
                        compare_start.isoformat(),
                        compare_end.isoformat(),
                        pdf_sha256,
                        pdf_variant,
                        figures_json,
                    ),
                )
                assert cursor.lastrowid is not None  # an INSERT has just set it
                build_id = cursor.lastrowid
                if provenance:
                    names = [name for name in PROVENANCE if name in provenance]
                    db.execute(
                        f"UPDATE builds SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
                        (*(provenance[n] for n in names), build_id),
                    )
                db.executemany(
                    "INSERT INTO sources (build_id, name, sha256) VALUES (?, ?, ?)",
                    [(build_id, name, sha) for name, sha in hashes],
                )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite may have rolled back already (a full disk)
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise HistoryError(f"{path}: cannot record the build ({cause(exc, path)})") from None
    return build_id


def _span(window: Any) -> tuple[date, date]:
    if hasattr(window, "start") and hasattr(window, "end"):
        return window.start, window.end
    start, end = window
    return start, end


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (the PDF's, for record_build)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- reading ---------------------------------------------------------------------------------

_COLUMNS = (
    "id, recorded_at, as_of, period_start, period_end, compare_start, compare_end, pdf_sha256, pdf_variant, figures"
)


def _record(row: tuple) -> BuildRecord:
    build_id, recorded_at, as_of, p0, p1, c0, c1, pdf, variant, figures = row
    iso = date.fromisoformat
    return BuildRecord(
        build_id, recorded_at, iso(as_of), (iso(p0), iso(p1)), (iso(c0), iso(c1)), pdf, variant, json.loads(figures)
    )


def previous_brief(output_dir: Path, as_of: date) -> PreviousBrief | None:
    """The latest published, not recalled, brief with an as-of date strictly before `as_of`, or None.

    A draft is never "previous", nor is a brief for the same date. Among several versions published
    for the latest earlier date the highest stands, so the answer depends only on what the history holds.
    """
    opened = reader(output_dir)
    if opened is None:
        return None
    db, path = opened
    with closing(db):
        try:
            if schema_version(db, path) < 2:  # no publications before schema 2: nothing is "previous"
                return None
            # Drafts never count: only a publication that stands (not recalled), its latest version.
            row = db.execute(
                "SELECT b.id, b.as_of, b.figures FROM publications p JOIN builds b ON b.id = p.build_id"
                " WHERE p.as_of < ? AND p.recalled_at IS NULL ORDER BY p.as_of DESC, p.version DESC LIMIT 1",
                (as_of.isoformat(),),
            ).fetchone()
        except sqlite3.Error as exc:
            raise HistoryError(f"{path}: cannot read the build history ({cause(exc, path)})") from None
    if row is None:
        return None
    return PreviousBrief(row[0], date.fromisoformat(row[1]), json.loads(row[2]))


def previous_key(output_dir: Path, as_of: date) -> str:
    """All that the history adds to a brief dated `as_of`, as text: for a build's cache key."""
    previous = previous_brief(output_dir, as_of)
    return previous.fingerprint if previous is not None else "previous=none"


def _no_builds(output_dir: Path) -> HistoryError:
    return HistoryError(f"no builds recorded yet in {history_path(output_dir)}; run briefgen build first")


def list_builds(output_dir: Path) -> list[BuildRecord]:
    """Every recorded build, oldest first; HistoryError when there is none."""
    opened = reader(output_dir)
    if opened is None:
        raise _no_builds(output_dir)
    db, path = opened
    with closing(db):
        try:
            rows = db.execute(f"SELECT {_COLUMNS} FROM builds ORDER BY id").fetchall()
        except sqlite3.Error as exc:
            raise HistoryError(f"{path}: cannot read the build history ({cause(exc, path)})") from None
    if not rows:
        raise _no_builds(output_dir)
    return [_record(row) for row in rows]


def diff_builds(
    output_dir: Path, old_id: int | None = None, new_id: int | None = None, skip: Iterable[str] = ()
) -> BuildDiff:
    """The figures and input files that differ between two builds (default: the last two recorded).

    `skip` names recorded figures left out (the sector's Sector.derived: figures that follow from others).
    """
    opened = reader(output_dir)
    if opened is None:
        raise _no_builds(output_dir)
    db, path = opened
    with closing(db):
        try:
            ids = [row[0] for row in db.execute("SELECT id FROM builds ORDER BY id")]
            if not ids:
                raise _no_builds(output_dir)
            if old_id is None and new_id is None:
                if len(ids) < 2:
                    raise HistoryError(
                        f"only one build (id {ids[0]}) recorded in {path}; diff needs two "
                        "(build again, or name two ids)"
                    )
                old_id, new_id = ids[-2], ids[-1]
            elif new_id is None:
                new_id = ids[-1]
            for wanted in (old_id, new_id):
                if wanted not in ids:
                    raise HistoryError(
                        f"no build {wanted} in {path} (ids run from {ids[0]} to {ids[-1]}; see briefgen history)"
                    )
            rows = {
                row[0]: row for row in db.execute(f"SELECT {_COLUMNS} FROM builds WHERE id IN (?, ?)", (old_id, new_id))
            }
            hashes = {
                build: dict(
                    db.execute("SELECT name, sha256 FROM sources WHERE build_id = ? ORDER BY name", (build,)).fetchall()
                )
                for build in (old_id, new_id)
            }
        except sqlite3.Error as exc:
            raise HistoryError(f"{path}: cannot read the build history ({cause(exc, path)})") from None
    old_flat = flatten_figures(json.loads(rows[old_id][-1]), skip)
    new_flat = flatten_figures(json.loads(rows[new_id][-1]), skip)
    changes = []
    for name in [*new_flat, *(n for n in old_flat if n not in new_flat)]:
        old, new = old_flat.get(name, (None, ""))[0], new_flat.get(name, (None, ""))[0]
        if old != new:
            unit = (new_flat.get(name) or old_flat[name])[1]
            changes.append(FigureChange(name, old, new, figure_change(old, new, unit), unit))
    old_hashes, new_hashes = hashes[old_id], hashes[new_id]
    sources = [
        SourceChange(name, old_hashes.get(name), new_hashes.get(name))
        for name in sorted(old_hashes.keys() | new_hashes.keys())
        if old_hashes.get(name) != new_hashes.get(name)
    ]
    return BuildDiff(
        _record(rows[old_id]),
        _record(rows[new_id]),
        tuple(changes),
        len(old_flat.keys() | new_flat.keys()),
        tuple(sources),
        len(old_hashes.keys() | new_hashes.keys()),
    )
