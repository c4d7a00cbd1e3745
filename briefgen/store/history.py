"""Turn finished builds into a history of briefs, and the history into comparisons between them.

Every successful build adds one row to OUTPUT/history.sqlite: its as-of date, its windows, every
figure (`report.metrics_as_dict`, stored as JSON), the SHA-256 of each input file and of the PDF.
The brief reads the history back for one thing only, the change in its key figures since the
previous brief (`previous_brief`); `briefgen history` and `briefgen diff` read the rest.

Several builds may record at once (`briefgen batch`, two terminals): each recording is one short
write transaction and waits on a busy timeout. The database keeps SQLite's rollback journal, not
WAL: a reader then creates no side files, so reading the history on a full disk or a read-only
folder leaves it exactly as it was. The schema is versioned
with PRAGMA user_version and created on first use. The time a build was recorded is kept as
history metadata; nothing a brief prints depends on it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import math
import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Literal

from briefgen.errors import BriefgenError, Problem

HISTORY_FILE = "history.sqlite"
SCHEMA_VERSION = 2
BUSY_TIMEOUT_S = 30.0  # a recording holds the write lock for milliseconds; 30 s only matters on a stalled disk

_SCHEMA = """
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
    figures       TEXT NOT NULL    -- JSON: report.metrics_as_dict
);
CREATE INDEX builds_by_as_of ON builds (as_of, id);
CREATE TABLE sources (
    build_id INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    sha256   TEXT NOT NULL,
    PRIMARY KEY (build_id, name)
);
"""


class HistoryError(BriefgenError):
    """The build history is missing, unreadable, or lacks the build asked for."""


@dataclass(frozen=True)
class KeyFigure:
    """One line of the cover's key-figures panel: where its period value sits, and how change is told."""

    name: str
    path: tuple[str, str]  # (section, figure) in SectorMetrics and in metrics_as_dict alike
    kind: Literal["level", "share"]


KEY_FIGURES: tuple[KeyFigure, ...] = (
    KeyFigure("btc_price_usd", ("network", "btc_price_usd"), "level"),
    KeyFigure("hashrate_ehs", ("network", "hashrate_ehs"), "level"),
    KeyFigure("hashprice_usd_per_ph_day", ("economics", "hashprice_usd_per_ph_day"), "level"),
    KeyFigure("revenue_usd_per_eh_day", ("economics", "revenue_usd_per_eh_day"), "level"),
    KeyFigure("gross_margin_pct", ("economics", "gross_margin_pct"), "share"),
    KeyFigure("market_cap_usd", ("equities", "market_cap_usd"), "level"),
    KeyFigure("listed_share_pct", ("miners", "share_of_network_pct"), "share"),
)
_KEY = {k.name: k for k in KEY_FIGURES}


def key_figures(figures: Any) -> dict[str, float | None]:
    """The period value of each key figure, from SectorMetrics or from metrics_as_dict's data alike."""
    values: dict[str, float | None] = {}
    for key in KEY_FIGURES:
        section_name, figure_name = key.path
        if isinstance(figures, Mapping):
            section = figures.get(section_name)
            figure = section.get(figure_name) if section else None
            value = figure.get("period") if figure else None
        else:
            section = getattr(figures, section_name)
            value = getattr(getattr(section, figure_name), "period") if section is not None else None
        values[key.name] = _finite(value)
    return values


def change(name: str, new: float | None, old: float | None) -> float | None:
    """A key figure's change from `old` to `new`: percent for levels, basis points for shares."""
    if new is None or old is None:
        return None
    if _KEY[name].kind == "share":
        return (new - old) * 100.0
    return None if old == 0 else (new / old - 1.0) * 100.0


@dataclass(frozen=True)
class PreviousBrief:
    """The latest brief recorded with an earlier as-of date: its date and its key figures."""

    build_id: int
    as_of: date
    figures: Mapping[str, float | None]  # KEY_FIGURES name -> period value (None where the brief lacked it)

    @property
    def fingerprint(self) -> str:
        """All of this brief that a new brief prints, as text: for a build's cache key."""
        return f"previous={self.as_of.isoformat()}:{json.dumps(dict(self.figures), sort_keys=True)}"

    def change_to(self, name: str, current: float | None) -> float | None:
        """The change from this brief's figure to `current`: percent for levels, basis points for shares."""
        return change(name, current, self.figures.get(name))


@dataclass(frozen=True)
class SourceHash:
    name: str
    sha256: str


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
    key_figures: Mapping[str, float | None]


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


# --- the database ----------------------------------------------------------------------------


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
            _version(db, path)
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
    stamp = (today or datetime.now(timezone.utc).date()).isoformat()
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
        raise HistoryError(f"{path} is damaged ({why}) and cannot be moved aside ({exc.strerror or exc}); "
                           f"move it away by hand and build again") from None
    return Problem(HISTORY_FILE, f"the build history was damaged ({why}); it was moved to {aside.name} and a new "
                   "history is started", fix="the damaged file is kept for anyone who wants to rescue earlier records")


def _cause(exc: sqlite3.Error, path: Path) -> str:
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


def _connect(path: Path, create: bool) -> sqlite3.Connection:
    """Open the history in autocommit mode (transactions are explicit), creating the file only if asked."""
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        else:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                                 isolation_level=None)
        db.execute("PRAGMA foreign_keys = ON")
        return db
    except sqlite3.Error as exc:
        raise HistoryError(f"{path}: cannot open the build history ({_cause(exc, path)})") from None


def _version(db: sqlite3.Connection, path: Path) -> int:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise HistoryError(f"{path} was written by a newer briefgen (schema {version}, this one reads "
                           f"{SCHEMA_VERSION}); upgrade briefgen")
    return version


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the schema to SCHEMA_VERSION; call inside a write transaction."""
    if _version(db, path) == 0:
        for statement in _SCHEMA.split(";"):  # one by one: executescript() would commit the transaction
            if statement.strip():
                db.execute(statement)
        db.execute("PRAGMA user_version = 1")
    if _version(db, path) < 2:  # publishing: what a build leaves to publish, and the publications
        from briefgen.publish.lifecycle import SCHEMA_V2

        for statement in SCHEMA_V2.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute("PRAGMA user_version = 2")
    # Later versions add their steps here: `if version < 3: ...`, each inside this same transaction.


def _reader(output_dir: Path) -> tuple[sqlite3.Connection, Path] | None:
    """An open history for reading, or None when no build was ever recorded there."""
    path = history_path(output_dir)
    if not path.is_file():
        return None
    db = _connect(path, create=False)
    try:
        if _version(db, path) == 0:
            db.close()
            return None
    except sqlite3.Error as exc:
        db.close()
        raise HistoryError(f"{path}: not a readable build history ({_cause(exc, path)})") from None
    return db, path


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

    `period` and `compare` are config Windows or (start, end) pairs; `figures` is metrics_as_dict's
    data; `sources` are inputs.SourceFile (anything with name and sha256); `provenance` fills the
    columns that publishing checks (briefgen.publish.lifecycle.PROVENANCE).
    """
    path = history_path(output_dir)
    when = (recorded_at or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")
    (period_start, period_end), (compare_start, compare_end) = _span(period), _span(compare)
    try:
        figures_json = json.dumps(figures, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    except ValueError as exc:
        raise ValueError(f"figures must be metrics_as_dict's JSON-safe data ({exc})") from None
    hashes = sorted({s.name: s.sha256 for s in sources}.items())
    with closing(_connect(path, create=True)) as db:
        try:
            db.execute("BEGIN IMMEDIATE")  # take the write lock now: no upgrade deadlock between two writers
            try:
                _migrate(db, path)
                cursor = db.execute(
                    "INSERT INTO builds (recorded_at, as_of, period_start, period_end, compare_start, compare_end,"
                    " pdf_sha256, pdf_variant, figures) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (when, as_of.isoformat(), period_start.isoformat(), period_end.isoformat(),
                     compare_start.isoformat(), compare_end.isoformat(), pdf_sha256, pdf_variant, figures_json),
                )
                build_id = int(cursor.lastrowid)
                if provenance:
                    from briefgen.publish.lifecycle import PROVENANCE

                    names = [name for name in PROVENANCE if name in provenance]
                    db.execute(f"UPDATE builds SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
                               (*(provenance[n] for n in names), build_id))
                db.executemany("INSERT INTO sources (build_id, name, sha256) VALUES (?, ?, ?)",
                               [(build_id, name, sha) for name, sha in hashes])
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite may have rolled back already (a full disk)
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise HistoryError(f"{path}: cannot record the build ({_cause(exc, path)})") from None
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

_COLUMNS = "id, recorded_at, as_of, period_start, period_end, compare_start, compare_end, pdf_sha256, pdf_variant, figures"


def _record(row: tuple) -> BuildRecord:
    build_id, recorded_at, as_of, p0, p1, c0, c1, pdf, variant, figures = row
    iso = date.fromisoformat
    return BuildRecord(build_id, recorded_at, iso(as_of), (iso(p0), iso(p1)), (iso(c0), iso(c1)), pdf, variant,
                       key_figures(json.loads(figures)))


def previous_brief(output_dir: Path, as_of: date) -> PreviousBrief | None:
    """The latest published, not recalled, brief with an as-of date strictly before `as_of`, or None.

    A draft is never "previous", nor is a brief for the same date. Among several versions published
    for the latest earlier date the highest stands, so the answer depends only on what the history holds.
    """
    opened = _reader(output_dir)
    if opened is None:
        return None
    db, path = opened
    with closing(db):
        try:
            if _version(db, path) < 2:  # no publications before schema 2: nothing is "previous"
                return None
            # Drafts never count: only a publication that stands (not recalled), its latest version.
            row = db.execute(
                "SELECT b.id, b.as_of, b.figures FROM publications p JOIN builds b ON b.id = p.build_id"
                " WHERE p.as_of < ? AND p.recalled_at IS NULL ORDER BY p.as_of DESC, p.version DESC LIMIT 1",
                (as_of.isoformat(),)).fetchone()
        except sqlite3.Error as exc:
            raise HistoryError(f"{path}: cannot read the build history ({_cause(exc, path)})") from None
    if row is None:
        return None
    return PreviousBrief(row[0], date.fromisoformat(row[1]), key_figures(json.loads(row[2])))


def previous_key(output_dir: Path, as_of: date) -> str:
    """All that the history adds to a brief dated `as_of`, as text: for a build's cache key."""
    previous = previous_brief(output_dir, as_of)
    return previous.fingerprint if previous is not None else "previous=none"


def _no_builds(output_dir: Path) -> HistoryError:
    return HistoryError(f"no builds recorded yet in {history_path(output_dir)}; run briefgen build first")


def list_builds(output_dir: Path) -> list[BuildRecord]:
    """Every recorded build, oldest first; HistoryError when there is none."""
    opened = _reader(output_dir)
    if opened is None:
        raise _no_builds(output_dir)
    db, path = opened
    with closing(db):
        try:
            rows = db.execute(f"SELECT {_COLUMNS} FROM builds ORDER BY id").fetchall()
        except sqlite3.Error as exc:
            raise HistoryError(f"{path}: cannot read the build history ({_cause(exc, path)})") from None
    if not rows:
        raise _no_builds(output_dir)
    return [_record(row) for row in rows]


def diff_builds(output_dir: Path, old_id: int | None = None, new_id: int | None = None) -> BuildDiff:
    """The figures and input files that differ between two builds (default: the last two recorded)."""
    opened = _reader(output_dir)
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
                    raise HistoryError(f"only one build (id {ids[0]}) recorded in {path}; diff needs two "
                                       "(build again, or name two ids)")
                old_id, new_id = ids[-2], ids[-1]
            elif new_id is None:
                new_id = ids[-1]
            for wanted in (old_id, new_id):
                if wanted not in ids:
                    raise HistoryError(f"no build {wanted} in {path} (ids run from {ids[0]} to {ids[-1]}; "
                                       "see briefgen history)")
            rows = {row[0]: row for row in db.execute(f"SELECT {_COLUMNS} FROM builds WHERE id IN (?, ?)",
                                                      (old_id, new_id))}
            hashes = {build: dict(db.execute("SELECT name, sha256 FROM sources WHERE build_id = ? ORDER BY name",
                                             (build,)).fetchall()) for build in (old_id, new_id)}
        except sqlite3.Error as exc:
            raise HistoryError(f"{path}: cannot read the build history ({_cause(exc, path)})") from None
    old_flat = flatten_figures(json.loads(rows[old_id][-1]))
    new_flat = flatten_figures(json.loads(rows[new_id][-1]))
    changes = []
    for name in [*new_flat, *(n for n in old_flat if n not in new_flat)]:
        old, new = old_flat.get(name, (None, ""))[0], new_flat.get(name, (None, ""))[0]
        if old != new:
            unit = (new_flat.get(name) or old_flat[name])[1]
            changes.append(FigureChange(name, old, new, _change(old, new, unit), unit))
    old_hashes, new_hashes = hashes[old_id], hashes[new_id]
    sources = [SourceChange(name, old_hashes.get(name), new_hashes.get(name))
               for name in sorted(old_hashes.keys() | new_hashes.keys()) if old_hashes.get(name) != new_hashes.get(name)]
    return BuildDiff(_record(rows[old_id]), _record(rows[new_id]), tuple(changes), len(old_flat.keys() | new_flat.keys()),
                     tuple(sources), len(old_hashes.keys() | new_hashes.keys()))


# --- comparing figures -----------------------------------------------------------------------

# Left out of a diff: changes are derived from the values beside them, and the sensitivity grid
# from the period's figures (35 cells that all move whenever hashprice does).
_DERIVED = {"change_pct", "change_bps", "change_pct_vs_prior_month", "change_bps_vs_prior_month", "change_usd"}
_SKIPPED = {"economics.sensitivity"}
_RECORD_ID = ("ticker", "class", "date", "kind", "counterparty")  # fields that name a row of a table


def flatten_figures(figures: Mapping[str, Any]) -> dict[str, tuple[Any, str]]:
    """Every figure as {dotted name: (value, change unit)}, in the brief's order.

    Rows of tables are named by their identifying fields (`equities.by_ticker[MARA].market_cap_usd`)
    so an added row does not shift the others. The change unit is 'bp' for a percentage (a Figure of
    kind share, or a name ending in _pct or _pp), 'n' for a whole number, '%' for any other number
    and '' for text.
    """
    flat: dict[str, tuple[Any, str]] = {}

    def walk(value: Any, name: str, share: bool | None) -> None:
        if name in _SKIPPED:
            return
        if isinstance(value, Mapping):
            is_figure = bool(name) and "period" in value and "compare" in value  # a metrics Figure
            for key, item in value.items():
                if key in _DERIVED and is_figure:
                    continue
                kind = ("change_bps" in value) if is_figure and key in ("period", "compare", "prior_month") else None
                walk(item, f"{name}.{key}" if name else key, kind)
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            seen: dict[str, int] = {}
            for record in value:
                label = " ".join(str(record[k]) for k in _RECORD_ID if record.get(k) is not None) or "?"
                seen[label] = seen.get(label, 0) + 1
                label = label if seen[label] == 1 else f"{label} #{seen[label]}"
                for key, item in record.items():
                    if key not in _RECORD_ID:
                        walk(item, f"{name}[{label}].{key}", None)
        elif isinstance(value, list):
            flat[name] = (", ".join(str(v) for v in value), "")
        else:
            leaf = name.rsplit(".", 1)[-1]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                unit = ""
            elif share is not None:
                unit = "bp" if share else "%"
            elif leaf.endswith(("_pct", "_pp")):
                unit = "bp"
            elif isinstance(value, int):
                unit = "n"
            else:
                unit = "%"
            flat[name] = (value, unit)

    walk(figures, "", None)
    return flat


def _change(old: Any, new: Any, unit: str) -> float | None:
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (old, new))
    if not numbers:
        return None
    if unit == "bp":
        return (new - old) * 100.0
    if unit == "n":
        return new - old
    return None if old == 0 else (new / old - 1.0) * 100.0


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


# --- text for the terminal -------------------------------------------------------------------


def _table(rows: list[tuple[str, ...]], right: set[int]) -> list[str]:
    """Rows as aligned columns, two spaces apart; columns in `right` are right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
            for row in rows]


def history_table(records: list[BuildRecord]) -> str:
    """`briefgen history`: one line per build, oldest first, with its key figures as the brief prints them."""
    from briefgen.formatting import ehs, pct, usd

    rows = [("id", "as of", "period", "pdf", "variant", "BTC price", "hashrate", "hashprice", "margin", "market cap")]
    for r in records:
        k = r.key_figures
        rows.append((str(r.id), r.as_of.isoformat(), f"{r.period[0]}..{r.period[1]}", r.pdf_sha256[:12],
                     r.pdf_variant or "-", usd(k["btc_price_usd"]), ehs(k["hashrate_ehs"]),
                     usd(k["hashprice_usd_per_ph_day"]), pct(k["gross_margin_pct"]), usd(k["market_cap_usd"])))
    return "\n".join(_table(rows, right={0, 5, 6, 7, 8, 9})) + "\n"


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        text = " ".join(str(value).split())
        return text if len(text) <= 40 else text[:37] + "..."  # a deal's description can run to 500 characters
    if isinstance(value, int):
        return f"{value:,}"
    size = abs(value)
    if size >= 1e6:
        return f"{value:,.0f}"
    if size >= 1 or size == 0:
        return f"{value:,.2f}"
    return f"{value:.4g}"


def _change_text(item: FigureChange) -> str:
    if item.change is None:
        return ""
    if item.unit == "bp":
        return f"{item.change:+,.0f} bp"
    if item.unit == "n":
        return f"{item.change:+,}"
    return f"{item.change:+,.1f}%"


def _describe(r: BuildRecord) -> str:
    return f"build {r.id} (as of {r.as_of}, period {r.period[0]}..{r.period[1]})"


def diff_text(diff: BuildDiff) -> str:
    """`briefgen diff`: the changed input files (by SHA-256) and figures (old -> new, change)."""
    lines = [f"{_describe(diff.old)} -> {_describe(diff.new)}"]
    same = diff.old.pdf_sha256 == diff.new.pdf_sha256
    lines.append(f"PDF: {diff.old.pdf_sha256[:12]} -> {diff.new.pdf_sha256[:12]} ({'same' if same else 'changed'})")
    lines.append("")
    count = len(diff.sources)
    lines.append(f"Input files: {count or 'none'} of {diff.sources_compared} changed")
    if diff.sources:
        rows = [(s.name, (s.old_sha256 or "-")[:12], "->", (s.new_sha256 or "-")[:12],
                 "added" if s.old_sha256 is None else "removed" if s.new_sha256 is None else "")
                for s in diff.sources]
        lines += ["  " + line for line in _table(rows, right=set())]
    lines.append("")
    count = len(diff.figures)
    lines.append(f"Figures: {count or 'none'} of {diff.figures_compared} changed")
    if diff.figures:
        rows = [("figure", "old", "", "new", "change")]
        rows += [(f.figure, _value(f.old), "->", _value(f.new), _change_text(f)) for f in diff.figures]
        lines += ["  " + line for line in _table(rows, right={1, 3, 4})]
    return "\n".join(lines) + "\n"
