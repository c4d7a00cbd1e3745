"""Turn an inputs folder (CSV files or the one workbook) into the raw tables of a contract, and its files into
SourceFiles.

The folder holds brief.yaml, the tables (one CSV file each, or one sheet each of brief.xlsx, not
both) and commentary/. read_tables reads the tables a sector declares, says which are missing
(naming a stray file or sheet that looks like one: 'rename Network.CSV to network.csv') and
leaves the cells to briefgen.inputs.tables. Problems are put in the order a reader fixes them
(in_file_order). No pandas at import: commentary.py, read on every rebuild, imports SourceFile.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefgen.errors import InputError, Problem
from briefgen.inputs.rawtables import WORKBOOK, RawTable, read_csv_bytes, read_workbook

if TYPE_CHECKING:
    import pandas as pd

    from briefgen.inputs.tables import TableSpec

CONFIG_FILE = "brief.yaml"
COMMENTARY_DIR = "commentary"


@dataclass(frozen=True)
class SourceFile:
    """What the appendix says of each input: rows used, their date range and SHA-256 of the file's bytes."""

    name: str
    rows: int | None  # None for prose (commentary), which has no rows
    first: date | None
    last: date | None
    sha256: str
    later: int = 0  # rows dated after the period's end: in the file, checked, never used


def read_tables(
    inputs_dir: Path,
    specs: Sequence[TableSpec],
    problems: list[Problem],
    warnings: list[Problem],
    ignore: Iterable[str] = (),
) -> tuple[dict[str, RawTable], set[str]]:
    """Read each table's file or sheet; return them, and the names of the tables given (readable or not).

    `ignore` names other files the folder may hold that are not tables of the brief (no warning).
    """
    workbook = inputs_dir / WORKBOOK
    sheets: dict[str, RawTable] = {}
    unreadable = False
    if workbook.is_file():
        try:
            sheets = read_workbook(workbook)
        except InputError as exc:
            problems.extend(exc.problems)
            unreadable = True  # it may hold any table: say nothing more of missing ones
    strays = _strays(inputs_dir, sheets, specs, ignore)
    raw: dict[str, RawTable] = {}
    given = {spec.name for spec in specs if (inputs_dir / spec.file).is_file() or spec.name in sheets or unreadable}
    for spec in specs:
        path = inputs_dir / spec.file
        if path.is_file() and spec.name in sheets:
            problems.append(
                Problem(
                    spec.file,
                    f"given both as {spec.file} and as sheet '{spec.name}' of {WORKBOOK}",
                    fix="keep one of them",
                )
            )
        elif path.is_file():
            try:
                raw[spec.name] = read_csv_bytes(path.read_bytes(), spec.file)
            except InputError as exc:
                problems.extend(exc.problems)
        elif spec.name in sheets:
            raw[spec.name] = sheets[spec.name]
        elif spec.name not in given:
            near = difflib.get_close_matches(spec.file, list(strays), n=1, cutoff=0.75)
            stray = strays[near[0]] if near else None
            if spec.required:
                where = f"{inputs_dir}/{spec.file}" + (f" or a sheet '{spec.name}' in {WORKBOOK}" if sheets else "")
                fix = _rename(stray, spec) if stray else f"create {where}"
                problems.append(Problem(spec.file, "file not found", fix=fix))
            elif stray:
                what = "sheet" if stray.endswith("]") else "file"
                warnings.append(Problem(stray, f"{what} is not read", fix=_rename(stray, spec)))
    return raw, given


def _strays(
    inputs_dir: Path, sheets: dict[str, RawTable], specs: Sequence[TableSpec], ignore: Iterable[str]
) -> dict[str, str]:
    """Files and sheets briefgen does not read, as {name to compare: label}; sheets compare as name.csv."""
    known = (
        {spec.file for spec in specs} | {spec.name for spec in specs} | {CONFIG_FILE, WORKBOOK, COMMENTARY_DIR, *ignore}
    )
    found = {p.name.lower(): p.name for p in inputs_dir.iterdir() if p.name not in known and not p.name.startswith(".")}
    for name, table in sheets.items():
        if name not in known:
            found[f"{name}.csv"] = table.label
    return found


def _rename(stray: str, spec: TableSpec) -> str:
    """How to name a stray file or sheet so briefgen reads it."""
    if stray.startswith(f"{WORKBOOK}[") and stray.endswith("]"):
        return f"rename sheet '{stray[len(WORKBOOK) + 1 : -1]}' to '{spec.name}'"
    return f"rename {stray} to {spec.file}"


def in_file_order(problems: list[Problem], specs: Sequence[TableSpec]) -> list[Problem]:
    """Group problems by file (brief.yaml, the workbook, the tables in contract order, then the rest as found), then
    by row."""
    tables = [spec.name for spec in specs]
    first_seen: dict[str, int] = {}
    for problem in problems:
        first_seen.setdefault(problem.file, len(first_seen))

    def rank(label: str) -> tuple[int, int]:
        if label in (CONFIG_FILE, WORKBOOK):
            return (0, int(label == WORKBOOK))
        sheet = label.startswith(f"{WORKBOOK}[") and label.endswith("]")
        table = (
            label[len(WORKBOOK) + 1 : -1].strip().lower().removesuffix(".csv") if sheet else label.removesuffix(".csv")
        )
        return (1, tables.index(table)) if table in tables else (2, first_seen[label])

    return sorted(problems, key=lambda p: (rank(p.file), p.row or 0))


def cut_after(frames: dict[str, pd.DataFrame], specs: Sequence[TableSpec], end: date) -> dict[str, int]:
    """Keep only rows dated (spec.dated) on or before `end`, in place; return how many each table left out.

    Every row was checked, but nothing after the period's end may reach a figure, a chart, a table
    or a takeaway: a brief for early December built from files that run into January must print
    what was known in early December.
    """
    import pandas as pd

    cut = pd.Timestamp(end)
    later: dict[str, int] = {}
    for spec in specs:
        frame = frames.get(spec.name)
        if frame is None or spec.dated is None:
            continue
        after = frame[spec.dated] > cut
        later[spec.name] = int(after.sum())
        if later[spec.name]:
            frames[spec.name] = frame[~after].reset_index(drop=True)
    return later


def source_file(raw: RawTable, frame: pd.DataFrame, spec: TableSpec, later: int = 0) -> SourceFile:
    """The appendix's record of a table: its label, rows used, the range of its dated column and the file's SHA-256."""
    import pandas as pd

    dates: Any = frame[spec.dated] if spec.dated is not None and spec.dated in frame else None
    first = last = None
    if dates is not None and dates.notna().any():
        first, last = pd.Timestamp(dates.min()).date(), pd.Timestamp(dates.max()).date()
    return SourceFile(raw.label, len(frame), first, last, raw.sha256, later)


def config_source(inputs_dir: Path) -> SourceFile:
    """The appendix's record of brief.yaml: its lines and SHA-256."""
    data = (inputs_dir / CONFIG_FILE).read_bytes()
    return SourceFile(CONFIG_FILE, data.count(b"\n"), None, None, hashlib.sha256(data).hexdigest())
