"""Turn builds and approvals into a brief's lifecycle in the history: draft, published, revised, recalled.

A build is a draft. Publishing it adds a row to `publications` (schema 2 of OUTPUT/history.sqlite):
the as-of date, the version (1, 2, ... per as-of date), who approved it and when, and the SHA-256
of the PDF that went out. Version 1 is *published*, later ones *revised*; a recall stamps the row
with a time and a reason, and it never goes out again. Each build row also keeps what publishing
checks: the unmarked PDF's SHA-256, the build's key, where its inputs and templates were, and its
warnings.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from briefgen.store.historydb import (
    HistoryError,
    cause,
    connect,
    history_path,
    migrate,
    reader,
    schema_version,
)

if TYPE_CHECKING:
    from briefgen.store.figures import KeyFigure

DRAFT, PUBLISHED, REVISED, RECALLED = "draft", "published", "revised", "recalled"


@dataclass(frozen=True)
class BuildProvenance:
    """What a recorded build left for publishing to check."""

    id: int
    as_of: date
    pdf_sha256: str
    final_sha256: str | None
    build_key: str | None
    inputs_dir: str | None
    templates_dir: str | None
    options: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def sector(self) -> str:
        """The sector the build was about: its `sector=` option (BuildOptions.fingerprint), else the default."""
        from briefgen.sector import DEFAULT_SECTOR

        return next((o.split("=", 1)[1] for o in self.options if o.startswith("sector=")), DEFAULT_SECTOR)


@dataclass(frozen=True)
class Publication:
    id: int
    build_id: int
    as_of: date
    version: int
    approved_by: str
    note: str | None
    published_at: str
    pdf_sha256: str
    pdf_size: int
    folder: str
    recalled_at: str | None
    recall_reason: str | None

    @property
    def status(self) -> str:
        if self.recalled_at is not None:
            return RECALLED
        return PUBLISHED if self.version == 1 else REVISED

    @property
    def label(self) -> str:
        """`<as-of>/v<N>`, as `briefgen recall` names it."""
        return f"{self.as_of.isoformat()}/v{self.version}"


_PUBLICATION = (
    "id, build_id, as_of, version, approved_by, note, published_at, pdf_sha256, pdf_size, folder, "
    "recalled_at, recall_reason"
)


def _publication(row: tuple) -> Publication:
    values = list(row)
    values[2] = date.fromisoformat(values[2])
    return Publication(*values)


@contextmanager
def _read(output_dir: Path) -> Iterator[sqlite3.Connection | None]:
    """The history open for reading, or None when it holds no schema-2 tables yet."""
    opened = reader(output_dir)
    if opened is None:
        yield None
        return
    db, path = opened
    with closing(db):
        try:
            yield db if schema_version(db, path) >= 2 else None
        except sqlite3.Error as exc:
            raise HistoryError(f"{path}: cannot read the build history ({cause(exc, path)})") from None


@contextmanager
def writer(output_dir: Path) -> Iterator[sqlite3.Connection]:
    """One write transaction on the history (schema brought up to date first), committed on success.

    publish and recall hold it while they write their folder, so two cannot take one version number.
    """
    path = history_path(output_dir)
    if not path.is_file():
        raise HistoryError(f"no builds recorded yet in {path}; run briefgen build first")
    with closing(connect(path, create=True)) as db:
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                migrate(db, path)
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise HistoryError(f"{path}: cannot write the build history ({cause(exc, path)})") from None


def last_build(output_dir: Path) -> BuildProvenance:
    """The last build recorded (what `briefgen publish` turns into a publication)."""
    with _read(output_dir) as db:
        row = (
            None
            if db is None
            else db.execute(
                "SELECT id, as_of, pdf_sha256, final_sha256, build_key, inputs_dir, templates_dir, options, warnings"
                " FROM builds ORDER BY id DESC LIMIT 1"
            ).fetchone()
        )
    if row is None:
        raise HistoryError(
            f"no build recorded by this briefgen in {history_path(output_dir)}; run briefgen build first"
        )
    build_id, as_of, pdf, final, key, inputs, templates, options, warnings = row
    return BuildProvenance(
        build_id,
        date.fromisoformat(as_of),
        pdf,
        final,
        key,
        inputs,
        templates,
        tuple(json.loads(options or "[]")),
        tuple(json.loads(warnings or "[]")),
    )


def build_figures(output_dir: Path, build_id: int) -> dict:
    """The figures a build recorded (the sector's figures, Sector.figures)."""
    with _read(output_dir) as db:
        row = None if db is None else db.execute("SELECT figures FROM builds WHERE id = ?", (build_id,)).fetchone()
    if row is None:
        raise HistoryError(f"build {build_id} is missing from {history_path(output_dir)}")
    return json.loads(row[0])


def publications(output_dir: Path) -> list[Publication]:
    """Every publication, oldest first (by as-of date, then version)."""
    with _read(output_dir) as db:
        if db is None:
            return []
        rows = db.execute(f"SELECT {_PUBLICATION} FROM publications ORDER BY as_of, version").fetchall()
    return [_publication(row) for row in rows]


def add_publication(
    db: sqlite3.Connection,
    *,
    build_id: int,
    as_of: date,
    version: int,
    approved_by: str,
    note: str | None,
    published_at: str,
    pdf_sha256: str,
    pdf_size: int,
    folder: str,
) -> Publication:
    """Record version `version` for `as_of` inside the open transaction `db` (from `next_version`)."""
    cursor = db.execute(
        "INSERT INTO publications (build_id, as_of, version, approved_by, note, published_at, pdf_sha256, pdf_size,"
        " folder) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (build_id, as_of.isoformat(), version, approved_by, note, published_at, pdf_sha256, pdf_size, folder),
    )
    assert cursor.lastrowid is not None  # an INSERT has just set it
    return Publication(
        cursor.lastrowid,
        build_id,
        as_of,
        version,
        approved_by,
        note,
        published_at,
        pdf_sha256,
        pdf_size,
        folder,
        None,
        None,
    )


def next_version(db: sqlite3.Connection, as_of: date) -> int:
    """The version a new publication for `as_of` gets: 1, then one more than the highest so far."""
    return db.execute(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM publications WHERE as_of = ?", (as_of.isoformat(),)
    ).fetchone()[0]


def mark_recalled(db: sqlite3.Connection, publication: Publication, when: str, reason: str) -> Publication:
    db.execute(
        "UPDATE publications SET recalled_at = ?, recall_reason = ? WHERE id = ?", (when, reason, publication.id)
    )
    return Publication(**{**publication.__dict__, "recalled_at": when, "recall_reason": reason})


def find_publication(output_dir: Path, label: str) -> Publication:
    """The publication named `<as-of>/v<N>`; HistoryError naming what exists otherwise."""
    known = publications(output_dir)
    for publication in known:
        if publication.label == label:
            return publication
    names = ", ".join(p.label for p in known) or "none yet"
    raise HistoryError(
        f"no publication {label!r} in {history_path(output_dir)} (published: {names}); "
        "name it as <as-of>/v<N>, e.g. 2026-01-15/v1"
    )


def by_sha256(output_dir: Path, sha256: str) -> Publication | None:
    """The publication whose PDF has this SHA-256 (the latest version, if several), else None."""
    matches = [p for p in publications(output_dir) if p.pdf_sha256 == sha256]
    return matches[-1] if matches else None


def lifecycle_table(
    builds, published: list[Publication], key_figures: Sequence[KeyFigure] = (), *, published_only: bool = False
) -> str:
    """`briefgen history`: each build with its status (draft, published, revised, recalled), version and approver.

    A build published more than once gets a line per version; `published_only` lists publications
    alone. The sector's listed key figures follow (briefgen.store.historytext.key_cells).
    """
    from briefgen.store.historytext import aligned, key_cells, listed

    by_build: dict[int, list[Publication]] = {}
    for publication in published:
        by_build.setdefault(publication.build_id, []).append(publication)
    keys = listed(key_figures)
    rows = [("id", "as of", "status", "version", "approved by", "published (UTC)", "pdf", *(key.label for key in keys))]
    for record in builds:
        figures = key_cells(keys, record.figures)
        versions = by_build.get(record.id, [])
        if not versions and not published_only:
            rows.append(
                (str(record.id), record.as_of.isoformat(), DRAFT, "-", "-", "-", record.pdf_sha256[:12], *figures)
            )
        for p in versions:
            rows.append(
                (
                    str(record.id),
                    p.as_of.isoformat(),
                    p.status,
                    f"v{p.version}",
                    " ".join(p.approved_by.split()),
                    p.published_at.replace("T", " ").rstrip("Z")[:16],
                    p.pdf_sha256[:12],
                    *figures,
                )
            )
    if len(rows) == 1:
        return "nothing published yet; briefgen publish --approved-by NAME publishes the last build\n"
    return "\n".join(aligned(rows, right={0, *range(7, 7 + len(keys))})) + "\n"
