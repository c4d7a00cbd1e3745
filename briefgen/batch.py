"""Turn a list of as-of dates into one brief each, built in parallel, each in its own folder.

The desk publishes twice a month. `note_windows` says which days a note dated `as_of` covers:

- a mid-month note, dated the 15th, reports the 1st to the 14th ("first two weeks of January")
  against the last 14 days of the previous month ("late December");
- a month-end note, dated the last day of a month, reports that whole month ("January 2026")
  against the whole previous month ("December 2025");
- a note dated any other day reports the month to date (the 1st to `as_of`) against as many
  days ending the day before.

`run_batch` builds one brief per date across the machine's cores: one worker process per brief at
a time, each writing only into OUTPUT/batch/<as-of>/ (its own staging folder, cache and history),
so briefs share no file. A brief that fails is reported with its error; the others carry on.
"""

from __future__ import annotations

import calendar
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from briefgen.errors import BriefgenError
from briefgen.inputs.windows import Window, label_for

if TYPE_CHECKING:
    from briefgen.build import BuildOptions

BATCH_DIR = "batch"
CADENCES = ("twice-monthly",)
MID_MONTH_DAY = 15
LATE_MONTH_DAYS = 14  # the mid-month note's compare window: the previous month's last 14 days
# Imported once by the forkserver, so each worker starts with the pipeline already loaded; the
# sector's own heavy modules (Sector.preload) are added to these.
_PRELOAD = ("briefgen.build", "briefgen.charts", "briefgen.html.render", "briefgen.pdf")


class BatchError(BriefgenError):
    """One or more briefs of a batch failed (the others were built)."""


@dataclass(frozen=True)
class BatchResult:
    """One brief of a batch: where it went, and how it went.

    status is "built" or "failed"; error is the failure's message (BriefgenError), or the exception
    of a bug, whose traceback is kept in `traceback`.
    """

    as_of: date
    output_dir: Path
    status: Literal["built", "failed"]
    pages: int | None = None
    seconds: float | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    traceback: str | None = None
    worker_peak_mb: float | None = None  # the worker process's peak resident memory so far

    @property
    def ok(self) -> bool:
        return self.status == "built"


# --- dates and windows -----------------------------------------------------------------------


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def twice_monthly(start: date, end: date) -> list[date]:
    """Every 15th and every month end from `start` to `end`, both included, in order."""
    dates = []
    month = start.replace(day=1)
    while month <= end:
        for day in (month.replace(day=MID_MONTH_DAY), month_end(month)):
            if start <= day <= end:
                dates.append(day)
        month = month_end(month) + timedelta(days=1)
    return dates


def note_windows(as_of: date) -> tuple[Window, Window]:
    """The period and compare windows of the note dated `as_of` (see the module's docstring)."""
    first = as_of.replace(day=1)
    previous_end = first - timedelta(days=1)
    if as_of.day == MID_MONTH_DAY:
        period = Window(first, as_of - timedelta(days=1), f"first two weeks of {as_of:%B}")
        compare = Window(previous_end - timedelta(days=LATE_MONTH_DAYS - 1), previous_end, f"late {previous_end:%B}")
        return period, compare
    if as_of == month_end(as_of):
        previous_first = previous_end.replace(day=1)
        return (
            Window(first, as_of, label_for(first, as_of)),
            Window(previous_first, previous_end, label_for(previous_first, previous_end)),
        )
    days = (as_of - first).days + 1
    compare_start = previous_end - timedelta(days=days - 1)
    return (
        Window(first, as_of, label_for(first, as_of)),
        Window(compare_start, previous_end, label_for(compare_start, previous_end)),
    )


def batch_folder(output_dir: Path, as_of: date) -> Path:
    """Where the brief dated `as_of` goes: OUTPUT/batch/<as-of>/."""
    return Path(output_dir) / BATCH_DIR / as_of.isoformat()


# --- building --------------------------------------------------------------------------------


def _build_one(options: BuildOptions) -> BatchResult:
    """Build one brief in a worker process; a BriefgenError is a failed brief, a bug propagates."""
    from briefgen.build import build

    assert options.as_of is not None
    started = time.perf_counter()
    try:
        result = build(options)
    except BriefgenError as exc:
        return BatchResult(
            options.as_of, options.output_dir, "failed", seconds=time.perf_counter() - started, error=str(exc)
        )
    pdf = next((f for f in result.files if f.path.name.endswith(".pdf")), None)
    peak_mb = _peak_mb()
    return BatchResult(
        options.as_of,
        options.output_dir,
        "built",
        pages=pdf.pages if pdf else None,
        seconds=time.perf_counter() - started,
        warnings=tuple(str(w) for w in result.warnings),
        worker_peak_mb=peak_mb,
    )


def job_options(as_of: date, options: BuildOptions) -> BuildOptions:
    """The build options of one brief: `options` with this note's date, windows and folder."""
    period, compare = note_windows(as_of)
    return replace(
        options,
        as_of=as_of,
        period=(period.start, period.end),
        compare=(compare.start, compare.end),
        labels=(period.label, compare.label),
        output_dir=batch_folder(options.output_dir, as_of),
    )


def _absolute(options: BuildOptions) -> BuildOptions:
    # Workers fork from a server started in the directory the first batch ran in: resolve relative
    # paths here, so a later change of directory (a test's chdir) cannot point them elsewhere.
    templates = options.templates_dir
    return replace(
        options,
        inputs_dir=Path(options.inputs_dir).absolute(),
        output_dir=Path(options.output_dir).absolute(),
        templates_dir=None if templates is None else Path(templates).absolute(),
    )


def _context(sector: str) -> multiprocessing.context.BaseContext:
    """A fork server where the platform has one: workers start clean, without the parent's threads
    (the progress bar's), and with the pipeline's and the sector's modules already imported; spawn elsewhere."""
    from briefgen.sector import load_sector

    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([*_PRELOAD, *load_sector(sector).preload])
        return context
    return multiprocessing.get_context("spawn")


Progress = Callable[[int, int, "BatchResult | None"], None]


def run_batch(
    dates: Iterable[date], options: BuildOptions, jobs: int | None = None, progress: Progress | None = None
) -> list[BatchResult]:
    """Build one brief per as-of date, `jobs` at a time (default: one per CPU); results in date order.

    `options` gives the inputs, the output folder (briefs go to OUTPUT/batch/<as-of>/), templates,
    PDF variant and strictness; its windows and as-of date are replaced by each note's.
    `progress(done, total, result)` is called once before the first brief and after each one.
    """
    days = sorted(set(dates))
    total = len(days)
    if progress:
        progress(0, total, None)
    if not days:
        return []
    workers = max(1, min(jobs or os.cpu_count() or 1, total))
    base = _absolute(options)
    if workers > 1:  # the other workers have the other cores: each draws its charts itself
        base = replace(base, parallel=False)
    results: dict[date, BatchResult] = {}
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=_context(options.sector))
    try:
        pending: dict[Future, date] = {executor.submit(_build_one, job_options(day, base)): day for day in days}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: pending[f]):
                day = pending.pop(future)
                result = _outcome(future, day, options)
                results[day] = result
                if progress:
                    progress(len(results), total, result)
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)  # Ctrl-C: start nothing more
        raise
    executor.shutdown(wait=True)
    return [results[day] for day in days]


def _outcome(future: Future, day: date, options: BuildOptions) -> BatchResult:
    """The worker's result with the folder as the caller named it; a bug or a dead worker is a failure."""
    folder = batch_folder(options.output_dir, day)
    try:
        return replace(future.result(), output_dir=folder)
    except Exception as exc:
        text = "".join(traceback.format_exception(exc))
        return BatchResult(day, folder, "failed", error=f"{type(exc).__name__}: {exc}", traceback=text)


# --- the summary -----------------------------------------------------------------------------


def one_line(message: str) -> str:
    """A multi-line error (an InputError's list of problems) as one line for a table."""
    lines = [line.strip().removeprefix("- ") for line in message.splitlines()]
    return " ".join(line for line in lines if line)


def summary_table(results: list[BatchResult]) -> str:
    """The table that ends a batch: as of, status, pages, seconds, error; then a count."""
    rows = [("as of", "status", "pages", "seconds", "error")]
    for r in results:
        rows.append(
            (
                r.as_of.isoformat(),
                r.status,
                "-" if r.pages is None else str(r.pages),
                "-" if r.seconds is None else f"{r.seconds:.1f}",
                one_line(r.error) if r.error else "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2]), row[3].rjust(widths[3])]
        lines.append("  ".join([*cells, row[4]]).rstrip())
    built = sum(r.ok for r in results)
    lines.append(f"{built} of {len(results)} brief{'s' if len(results) != 1 else ''} built")
    return "\n".join(lines) + "\n"


def _peak_mb() -> float | None:
    """This worker's peak resident memory in MB; None where the platform has no `resource` (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
