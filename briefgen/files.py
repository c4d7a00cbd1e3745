"""Turn bytes into files that are either wholly there or not at all, and only inside their folder.

Writes go to a temporary file, are flushed and renamed. Every path briefgen opens below a folder it
was given (the output folder, a templates folder) goes through `inside`, the one rule for links: a
symbolic link that stays inside the folder is followed, one that leads out of it is refused.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from briefgen.errors import BriefgenError, OutputError


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


def outside_link(root: Path, *parts: str | Path) -> tuple[Path, Path] | None:
    """The first symbolic link on the way from `root` to root/parts that leads out of root, and its target.

    `root` itself may be a link (the user named it); every part below it must stay below it. A
    dangling link counts by where it points. None when the path stays inside (or does not exist).
    """
    base = Path(os.path.realpath(root))
    current = Path(root)
    for part in Path(*parts).parts if parts else ():
        if part in ("", "."):
            continue
        current = current / part
        if os.path.islink(current) or part == "..":
            target = Path(os.path.realpath(current))
            if not target.is_relative_to(base):
                return current, target
    return None


def inside(root: Path, *parts: str | Path, error: type[BriefgenError] = OutputError) -> Path:
    """root/parts, after checking that no link on the way leads out of `root`; `error` otherwise."""
    found = outside_link(root, *parts)
    if found is not None:
        link, target = found
        raise error(
            f"{link}: a symbolic link leading out of {root} (to {target}); briefgen never reads or "
            f"writes through it: remove the link, or put the real file or folder there"
        )
    return Path(root).joinpath(*parts)


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
        if hasattr(os, "fchmod"):  # POSIX; on Windows a new file has the ordinary mode already
            os.fchmod(fd, mode)
        _write_synced(fd, data)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _explain(exc, path) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_new(path: Path, data: bytes) -> None:
    """Write `data` to a file that must not exist yet, flushed to disk: a staged file, which
    move_into_place() later renames to where it belongs (write_atomic's two halves, apart)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), FILE_MODE)
    except OSError as exc:
        raise _explain(exc, path) from None
    try:
        _write_synced(fd, data)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise _explain(exc, path) from None


def _write_synced(fd: int, data: bytes) -> None:
    """Write `data` to the open file `fd`, flush it to disk and close it."""
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def move_into_place(staged: Path, path: Path) -> None:
    """Rename a file written by write_new() to `path`, replacing what is there; across file systems
    (a folder of the output mounted from elsewhere), copy it there atomically instead."""
    ensure_dir(Path(path).parent)
    try:
        os.replace(staged, path)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise _explain(exc, Path(path)) from None
        try:
            data = Path(staged).read_bytes()
        except OSError as again:
            raise _explain(again, Path(staged)) from None
        write_atomic(Path(path), data)
        Path(staged).unlink(missing_ok=True)


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
            info = folder.lstat()  # a link named .build-* is not a folder briefgen made
            if stat.S_ISDIR(info.st_mode) and now - info.st_mtime > STALE_STAGING_SECONDS:
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


# --- what briefgen published in a folder, so that it removes only that -------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def listed(listing: Path) -> dict[str, str]:
    """{file name: SHA-256} of the files a listing says briefgen published beside it ({} if none or unreadable)."""
    try:
        names = json.loads(Path(listing).read_bytes())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(names, dict):
        return {}
    return {
        name: sha
        for name, sha in names.items()
        if isinstance(name, str) and isinstance(sha, str) and re.fullmatch(r"[\w-][\w.-]*", name)
    }


def _dump(listing: Path, names: dict[str, str]) -> None:
    write_atomic(listing, json.dumps({"files": names}, indent=1, sort_keys=True).encode())


def write_listing(listing: Path, files: list[Path], old: dict[str, str], folder: Path) -> dict[str, str]:
    """Write a listing of `files` plus the `old` ones still in `folder` as briefgen wrote them; the new files' part."""
    new = {path.name: _sha256(path) for path in files}
    still = {name: sha for name, sha in old.items() if _regular(folder / name)}
    _dump(listing, {**still, **new})
    return new


def remove_stale(listing: Path, published: dict[str, str], keep: set[str]) -> None:
    """Remove the files of `published` not in `keep` (beside `listing`) that still have the bytes briefgen wrote.

    Anything else in the folder (a file someone put there, one they edited) stays, and leaves the
    listing, which then names exactly `keep`.
    """
    folder = Path(listing).parent
    for name, sha in published.items():
        path = folder / name
        if name in keep or not _regular(path):
            continue
        try:
            if _sha256(path) == sha:
                path.unlink()
        except OSError:
            continue
    if set(published) != keep:
        # the brief is published: a listing that still names removed files is harmless
        with contextlib.suppress(OutputError):
            _dump(listing, {name: sha for name, sha in published.items() if name in keep})
