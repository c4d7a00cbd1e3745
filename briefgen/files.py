"""Turn bytes into files that are either wholly there or not at all: temp file, fsync, rename."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from briefgen.errors import OutputError


def _explain(exc: OSError, path: Path) -> OutputError:
    if exc.errno == errno.ENOSPC:
        return OutputError(f"{path}: the disk is full; free some space and build again (the previous files are kept)")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(f"{path}: not writable ({exc.strerror}); choose another --output folder")
    return OutputError(f"{path}: cannot write ({exc.strerror or exc})")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates files readable by their owner only; published files get the usual mode.
FILE_MODE = 0o666 & ~_umask()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, flush it to disk, then rename it into place.

    The folder is created if need be; a file that already exists keeps its mode.
    """
    path = Path(path)
    ensure_dir(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _explain(exc, path.parent) from None
    try:
        try:
            mode = path.stat().st_mode & 0o7777
        except OSError:
            mode = FILE_MODE
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _explain(exc, path) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure_dir(path: Path) -> Path:
    """Create a folder (and parents), turning OS errors into OutputError."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file has the folder's name
        raise _explain(NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)), Path(path)) from None
    except OSError as exc:
        raise _explain(exc, Path(path)) from None
    return Path(path)


STALE_STAGING_SECONDS = 3600


def remove_stale_staging(output_dir: Path) -> None:
    """Remove staging folders left by builds that were killed (an hour old: no build runs that long)."""
    now = time.time()
    for folder in Path(output_dir).glob(".build-*"):
        try:
            if now - folder.stat().st_mtime > STALE_STAGING_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


@contextmanager
def staging(output_dir: Path) -> Iterator[Path]:
    """A private folder inside `output_dir` for one build's files; removed when the build ends."""
    ensure_dir(output_dir)
    remove_stale_staging(output_dir)
    try:
        stage = Path(tempfile.mkdtemp(dir=output_dir, prefix=".build-"))
    except OSError as exc:
        raise _explain(exc, Path(output_dir)) from None
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def publish(files: dict[Path, Path]) -> None:
    """Move finished files {staged: destination} into place, each by one atomic rename, in order."""
    for staged, destination in files.items():
        try:
            ensure_dir(destination.parent)
            os.replace(staged, destination)
        except OSError as exc:
            raise _explain(exc, destination) from None
