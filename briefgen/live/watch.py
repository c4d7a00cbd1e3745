"""Turn edits to the inputs or templates into rebuilds, in one long-lived process.

The process keeps pandas, matplotlib, WeasyPrint and its font configuration loaded between
rebuilds, and the cache makes each rebuild redo only what the edit touched. A bad edit prints its
error and the watch waits for the fix.

Edits are seen through the operating system's file-system events (watchfiles, a well-kept binding
of the Rust `notify` crate: inotify on Linux, FSEvents on macOS), not by looking at the files over
and over: an idle watch costs nothing, and a rebuild starts as soon as an editor's save settles.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from briefgen.build import BuildOptions, BuildResult, build
from briefgen.errors import BriefgenError, InputError, Problem
from briefgen.resources import template_folders

# An editor's save is often a write, a rename and a touch: changes within this many milliseconds of
# each other give one rebuild, not three.
DEBOUNCE_MS = 200
# How long the watcher waits for an event before looking at `stop` again (it wakes for no file).
WAKE_MS = 250
SKIPPED_FOLDERS = ("backups",)  # where briefgen itself writes inside the inputs (backups of edited files)


@dataclass(frozen=True)
class Rebuild:
    """One pass of the watch: what changed and how the rebuild went."""

    changed: tuple[str, ...]
    result: BuildResult | None
    error: str | None
    seconds: float


def watched_folders(options: BuildOptions) -> list[Path]:
    return [Path(options.inputs_dir), *template_folders(options.templates_dir, options.sector)]


def relevant(path: Path, folders: list[Path]) -> bool:
    """Whether a change to `path` can change the brief: not hidden, not a backup, not an editor's temp file."""
    path = Path(path)
    name = path.name
    if name.endswith(("~", ".swp", ".swx", ".tmp")) or name.startswith((".#", "#")):
        return False
    for folder in folders:
        try:
            parts = path.relative_to(folder).parts
        except ValueError:
            continue
        return not any(part.startswith(".") or part in SKIPPED_FOLDERS or part == "__pycache__" for part in parts)
    return True


def rebuild(options: BuildOptions, changed: tuple[str, ...]) -> Rebuild:
    started = time.perf_counter()
    try:
        result = build(options)
    except BriefgenError as exc:
        return Rebuild(changed, None, str(exc), time.perf_counter() - started)
    return Rebuild(changed, result, None, time.perf_counter() - started)


def watch(
    options: BuildOptions,
    report: Callable[[Rebuild], None],
    *,
    debounce_ms: int = DEBOUNCE_MS,
    stop: threading.Event | None = None,
) -> None:
    """Build once, then rebuild after every change until `stop` is set (or Ctrl-C: KeyboardInterrupt).

    The watcher starts before the first build, so an edit saved while it runs is not missed.
    With `options.parallel`, matplotlib and the sector's charts are loaded here first: the forked
    children a rebuild draws its charts in start with them loaded, rebuild after rebuild.
    """
    import watchfiles

    folders = [folder.resolve() for folder in watched_folders(options)]
    missing = [folder for folder in folders if not folder.is_dir()]
    if missing:
        raise InputError(
            [
                Problem(str(folder), "folder not found", fix="pass an existing folder to --inputs or --templates")
                for folder in missing
            ]
        )
    if options.parallel:
        _load_charts(options.sector)
    first = True
    for changes in watchfiles.watch(
        *folders,
        watch_filter=lambda _, path: relevant(Path(path), folders),
        debounce=debounce_ms,
        stop_event=stop,
        rust_timeout=WAKE_MS,
        yield_on_timeout=True,
        raise_interrupt=True,
    ):
        if first:  # the first wake-up: the watcher is running now
            first = False
            report(rebuild(options, ()))  # it reads every file, whatever changed meanwhile
            continue
        if changes:
            report(rebuild(options, tuple(sorted({path for _, path in changes}))))


def _load_charts(sector: str) -> None:
    """Import matplotlib, the house chart style with its fonts and the sector's chart specs, once."""
    from briefgen.charts.style import register_fonts
    from briefgen.sector import load_sector

    register_fonts()
    load_sector(sector).charts()
