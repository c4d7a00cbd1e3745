"""Turn edits to the inputs or templates into rebuilds, in one long-lived process.

The process keeps pandas, matplotlib, WeasyPrint and its font configuration loaded between
rebuilds, and the cache makes each rebuild redo only what the edit touched. A bad edit prints its
error and the watch waits for the fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from briefgen.build import BuildOptions, BuildResult, build
from briefgen.errors import BriefgenError
from briefgen.resources import TEMPLATES_DIR

Snapshot = dict[str, tuple[int, int]]  # path -> (mtime_ns, size)


@dataclass(frozen=True)
class Rebuild:
    """One pass of the watch: what changed and how the rebuild went."""

    changed: tuple[str, ...]
    result: BuildResult | None
    error: str | None
    seconds: float


def snapshot(folders: list[Path]) -> Snapshot:
    """mtime and size of every file under the folders (hidden files and backups left out)."""
    seen: Snapshot = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if any(part.startswith(".") for part in path.relative_to(folder).parts) or "backups" in path.parts:
                continue
            try:
                stat = path.stat()
            except OSError:
                continue  # removed while we looked
            if path.is_file():
                seen[path.as_posix()] = (stat.st_mtime_ns, stat.st_size)
    return seen


def changes(before: Snapshot, after: Snapshot) -> tuple[str, ...]:
    """The files added, removed or modified between two snapshots."""
    return tuple(sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name)))


def watched_folders(options: BuildOptions) -> list[Path]:
    folders = [Path(options.inputs_dir), TEMPLATES_DIR]
    if options.templates_dir is not None:
        folders.insert(1, Path(options.templates_dir))
    return folders


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
    interval: float = 0.3,
    settle: float = 0.2,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """Build once, then rebuild after every change until `stop()` is true.

    A change is acted on once the files have been quiet for `settle` seconds, so an editor's
    save (often a write, a rename and a touch) gives one rebuild, not three.
    """
    folders = watched_folders(options)
    seen = snapshot(folders)
    report(rebuild(options, ()))
    while not stop():
        time.sleep(interval)
        current = snapshot(folders)
        changed = changes(seen, current)
        if not changed:
            continue
        while True:  # wait for the edit to settle
            time.sleep(settle)
            later = snapshot(folders)
            if later == current:
                break
            current = later
        changed = changes(seen, current)
        seen = current
        report(rebuild(options, changed))
