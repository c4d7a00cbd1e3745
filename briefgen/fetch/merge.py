"""Turn fetched rows and the current table (a Target's CSV file) into a checked plan, and write it safely.

A plan says which rows are new, which change (old and new text of each cell) and which agree, and
holds the bytes of the merged file. Nothing is written until apply_plan(): it keeps the previous
file in inputs/backups/ (the loader reads only the file names it knows, so backups are never
inputs), then replaces the file through a temporary file and os.replace. Rows untouched by the
fetch keep their exact text; extra columns are kept; rows end up sorted by date (within a date, the
file's rows in their order, then new ones as fetched).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import math
import shutil
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from briefgen.errors import FetchError, InputError, OutputError, Problem
from briefgen.fetch.rows import SourceResult, Target
from briefgen.files import write_atomic
from briefgen.inputs.rawtables import WORKBOOK, read_csv_bytes, read_workbook
from briefgen.inputs.tables import TableSpec, parse_table

BACKUP_DIR = "backups"
MANUAL = "manual"  # the source of rows that were in the file before any fetch recorded one
# A fetched number equal to the file's within this relative tolerance is "unchanged" (a Target may
# loosen it for a derived column).
DEFAULT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class RowChange:
    """A row whose figures the fetch changes: (column, old text, new text) for each differing cell.

    `label` names the row beyond its day where the table's key has more than the date.
    """

    day: date
    cells: tuple[tuple[str, str, str], ...]
    label: str = ""


@dataclass(frozen=True)
class RefreshPlan:
    """What a fetch would do to its file; new_bytes is None when the file is already up to date.

    fetched and added are days; in a table keyed by more than the date rows counts
    the rows fetched and added_rows the rows added, as (day, label).
    """

    path: Path
    source: str
    fetched: tuple[date, ...]
    added: tuple[date, ...]
    changed: tuple[RowChange, ...]
    unchanged: int
    old_bytes: bytes | None
    new_bytes: bytes | None
    notes: tuple[Problem, ...] = field(default=())
    warnings: tuple[Problem, ...] = field(default=())
    rows: int = 0
    added_rows: tuple[tuple[date, str], ...] = field(default=())
    keyed: bool = False  # the table's key has more than the date: describe counts rows, not days


@dataclass(frozen=True)
class Existing:
    """The file as it is: its bytes, header, raw rows (padded) and their parsed values."""

    data: bytes | None
    header: list[str]
    rows: list[list[str]]
    values: list[dict[Hashable, Any]]  # one record per row (DataFrame.to_dict: keyed by column name)

    @property
    def last_day(self) -> date | None:
        days = [v["date"] for v in self.values if v.get("date") is not None]
        return max(days) if days else None


OVERLAP_DAYS = 14  # a refresh fetches the file's last two weeks again, so late corrections come in


def fetch_window(existing: Existing, path: Path, since: date | None, today: date | None) -> tuple[date, date]:
    """The first day to fetch and today (UTC): --since, else the file's last OVERLAP_DAYS days again."""
    today = today or datetime.now(UTC).date()
    if since is None:
        last = existing.last_day
        if last is None:
            raise FetchError(f"{path} has no rows to continue from; say where to start with --since YYYY-MM-DD")
        since = last - timedelta(days=OVERLAP_DAYS - 1)
    if since >= today:
        raise FetchError(f"--since {since} is not before today ({today}, UTC): no complete day to fetch")
    return since, today


def read_existing(path: Path, spec: TableSpec) -> Existing:
    """Read and check the current file (it must pass the contract before anything is merged)."""
    if not path.exists():
        return Existing(None, [], [], [])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError([Problem(spec.file, f"cannot be read ({exc.strerror or exc})")]) from None
    raw = read_csv_bytes(data, spec.file)
    if not raw.rows:  # a header alone: a folder being set up; the merged file gets the contract's header
        return Existing(data, [], [], [])
    problems: list[Problem] = []
    frame = parse_table(spec, raw, problems)
    if problems or frame is None:
        problems.append(Problem(spec.file, "nothing was fetched", fix="fix the file first, then fetch again"))
        raise InputError(problems)
    width = len(raw.header)
    rows = [[str(c) for c in row[:width]] + [""] * (width - len(row)) for row in raw.rows]
    return Existing(data, raw.header, rows, frame.drop(columns="_row").to_dict("records"))


def refuse_workbook_table(inputs_dir: Path, spec: TableSpec) -> None:
    """fetch writes the CSV file; a sheet of the same name in brief.xlsx would then be given twice."""
    workbook = inputs_dir / WORKBOOK
    if not workbook.is_file():
        return
    if spec.name in read_workbook(workbook):
        raise FetchError(
            f"the {spec.name.replace('_', ' ')} figures are in {WORKBOOK} (sheet '{spec.name}'), and "
            f"fetch writes {spec.file}: move the sheet to {spec.file} (File > Save As > CSV UTF-8), "
            "then fetch"
        )


def _absent(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _same(column: str, old: Any, new: Any, target: Target) -> bool:
    if _absent(old) or _absent(new):
        return _absent(old) and _absent(new)
    tolerance = dict(target.tolerance).get(column, DEFAULT_TOLERANCE)
    return math.isclose(float(old), float(new), rel_tol=tolerance, abs_tol=0.0)


def _key(values: dict[Hashable, Any], target: Target) -> tuple[Any, ...]:
    return (values["date"], *(values.get(k) or "" for k in target.key))


def plan_merge(
    path: Path, existing: Existing, result: SourceResult, fetched: pd.DataFrame, target: Target
) -> RefreshPlan:
    """Merge validated fetched rows (`fetched`, parsed, aligned with result.rows) into `existing`."""
    used = [c for c in target.values if any(row.cells.get(c, "").strip() for row in result.rows)]
    header = list(existing.header) or [*target.header]
    header += [c for c in (*target.key, *used, "source") if c not in header]
    at = {name: index for index, name in enumerate(header)}  # parse_table refuses a column named twice
    width = len(header)
    rows: dict[tuple[Any, ...], list[str]] = {}
    values: dict[tuple[Any, ...], dict[Hashable, Any]] = {}
    for cells, parsed in zip(existing.rows, existing.values, strict=False):
        rows[_key(parsed, target)] = cells + [""] * (width - len(cells))
        values[_key(parsed, target)] = parsed
    added: list[tuple[Any, ...]] = []
    changed: list[RowChange] = []
    warnings: list[Problem] = list(result.warnings)
    unchanged = 0
    for row, new in zip(result.rows, fetched.drop(columns="_row").to_dict("records"), strict=False):
        given = [c for c in target.values if row.cells.get(c, "").strip()]  # a blank never erases a value
        key, label = row.key(target), " ".join(row.cells.get(k, "") for k in target.key)
        if key not in rows:
            cells = [""] * width
            cells[at["date"]] = row.day.isoformat()
            for column in (*target.key, *given):
                cells[at[column]] = row.cells[column]
            cells[at["source"]] = row.source or result.source
            rows[key] = cells
            added.append(key)
            continue
        cells, old = rows[key], values[key]
        diffs = tuple((c, cells[at[c]], row.cells[c]) for c in given if not _same(c, old.get(c), new[c], target))
        if not diffs:
            unchanged += 1
            continue
        for column in given:
            cells[at[column]] = row.cells[column]
        cells[at["source"]] = row.source or result.source
        changed.append(RowChange(row.day, diffs, label))
        if target.running is not None:
            total, count = target.running
            kept = old.get(total)
            if any(c == count for c, _, _ in diffs) and not _absent(kept):
                warnings.append(
                    Problem(
                        f"{result.source} {row.day}",
                        f"{count} changed but the {total} {kept} was kept",
                        fix=f"check the '{total}' column from this day on",
                    )
                )
    fetched_days = tuple(sorted({r.day for r in result.rows})) if target.key else tuple(r.day for r in result.rows)
    added_rows = tuple((k[0], " ".join(k[1:])) for k in sorted(added)) if target.key else ()
    added_days = tuple(sorted({k[0] for k in added})) if target.key else tuple(k[0] for k in added)
    if not added and not changed:
        return RefreshPlan(
            path,
            result.source,
            fetched_days,
            (),
            (),
            unchanged,
            existing.data,
            None,
            result.notes,
            tuple(warnings),
            rows=len(result.rows),
            added_rows=added_rows,
            keyed=bool(target.key),
        )
    # By date; within a date the file's order, then new rows as fetched (a stable sort keeps both).
    ordered = sorted(rows, key=lambda key: key[0])
    for key in ordered:
        if not rows[key][at["source"]].strip():
            rows[key][at["source"]] = MANUAL
    if target.running is not None and all(column in at for column in target.running):
        _chain_totals(ordered, rows, at, set(added), *target.running)
    new_bytes = _serialize(header, [rows[key] for key in ordered], existing.data)
    problems: list[Problem] = []
    parse_table(target.spec, read_csv_bytes(new_bytes, f"{target.spec.file} (as merged)"), problems)
    if problems:  # unreachable after the checks above; if it ever happens, refuse rather than write a bad file
        raise InputError(problems)
    return RefreshPlan(
        path,
        result.source,
        fetched_days,
        added_days,
        tuple(changed),
        unchanged,
        existing.data,
        new_bytes,
        result.notes,
        tuple(warnings),
        rows=len(result.rows),
        added_rows=added_rows,
        keyed=bool(target.key),
    )


def _chain_totals(
    ordered: list[tuple[Any, ...]],
    rows: dict[tuple[Any, ...], list[str]],
    at: dict[str, int],
    added: set[tuple[Any, ...]],
    total: str,
    count: str,
) -> None:
    """Give a new day the total of the day before plus its count, so a running-total column stays complete."""
    for before, key in itertools.pairwise(ordered):
        cells, previous = rows[key], rows[before][at[total]].strip()
        if key in added and not cells[at[total]].strip() and previous and key[0] - before[0] == timedelta(days=1):
            cells[at[total]] = str(int(float(previous)) + int(float(cells[at[count]])))


def _serialize(header: list[str], rows: list[list[str]], old: bytes | None) -> bytes:
    """CSV bytes keeping the old file's line endings and byte-order mark."""
    newline = "\r\n" if old and b"\r\n" in old else "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    bom = codecs.BOM_UTF8 if old and old.startswith(codecs.BOM_UTF8) else b""
    return bom + buffer.getvalue().encode("utf-8")


# --- writing ---------------------------------------------------------------------------------


def apply_plan(plan: RefreshPlan, now: datetime | None = None) -> Path | None:
    """Write the plan: back up the previous file, then replace it atomically. Return the backup's path."""
    if plan.new_bytes is None:
        return None
    path = plan.path
    try:
        current = path.read_bytes() if path.exists() else None
    except OSError as exc:
        raise OutputError(f"{path}: cannot be read ({exc.strerror or exc}); nothing was written") from None
    if current != plan.old_bytes:
        raise FetchError(f"{path} changed while the data was being fetched; nothing was written: fetch again")
    backup = _backup(path, current, now or datetime.now(UTC)) if current is not None else None
    write_atomic(path, plan.new_bytes)
    return backup


def _backup(path: Path, data: bytes, now: datetime) -> Path:
    folder = path.parent / BACKUP_DIR
    stamp = now.strftime("%Y-%m-%dT%H%M%S")
    try:
        folder.mkdir(exist_ok=True)
        for attempt in range(1, 100):
            target = folder / f"{path.stem}.{stamp}{'' if attempt == 1 else f'-{attempt}'}{path.suffix}"
            try:
                with open(target, "xb") as handle:
                    handle.write(data)
                shutil.copymode(path, target)
                return target
            except FileExistsError:
                continue
    except OSError as exc:
        raise OutputError(
            f"{folder}: cannot keep a backup ({exc.strerror or exc}); {path.name} was not changed"
        ) from None
    raise OutputError(f"{folder}: too many backups stamped {stamp}; {path.name} was not changed")


# --- describing ------------------------------------------------------------------------------


def day_ranges(days: tuple[date, ...] | list[date]) -> str:
    """Consecutive days as ranges: '2024-04-01 to 2024-04-03, 2024-04-05'."""
    spans: list[list[date]] = []
    for day in sorted(days):
        if spans and spans[-1][1] + timedelta(days=1) == day:
            spans[-1][1] = day
        else:
            spans.append([day, day])
    return ", ".join(str(a) if a == b else f"{a} to {b}" for a, b in spans)


def describe(plan: RefreshPlan) -> str:
    """What the plan does, for the terminal: new days (rows), each change (old -> new), those that agree."""
    if not plan.fetched:
        return f"{plan.source}: no complete day to merge\n"
    unit = "row" if plan.keyed else "day"

    def count(n: int, what: str = unit) -> str:
        return f"{n:,} {what}{'s' if n != 1 else ''}"

    if plan.keyed:
        lines = [
            f"{plan.source}: {count(plan.rows)} fetched over {count(len(plan.fetched), 'day')}, "
            f"{day_ranges(plan.fetched)}"
        ]
        if plan.added_rows:
            lines.append(f"  new: {count(len(plan.added_rows))}, {day_ranges(plan.added)}")
    else:
        lines = [f"{plan.source}: {count(len(plan.fetched))} fetched, {day_ranges(plan.fetched)}"]
        if plan.added:
            lines.append(f"  new: {count(len(plan.added))}, {day_ranges(plan.added)}")
    if plan.changed:
        lines.append(f"  changed: {count(len(plan.changed))} (old -> new)")
        for change in plan.changed:
            cells = "; ".join(f"{column} {old or '(blank)'} -> {new}" for column, old, new in change.cells)
            lines.append(f"    {change.day}  {change.label + '  ' if change.label else ''}{cells}")
    if plan.unchanged:
        lines.append(f"  unchanged: {count(plan.unchanged)}")
    return "\n".join(lines) + "\n"
