"""Turn a hash of exactly what a stage depends on into that stage's stored output, and back.

A content-addressed store under output/.cache/: one file per entry, named by kind and key
(`chart/3f2a...`). Entries are written to a temporary file and renamed, so two builds running at
once never read a half-written entry (the worst case is both computing the same entry).

Every entry starts with a header, MAGIC and the SHA-256 of its kind, key and content, checked on
every read: a damaged entry (a flipped bit, a truncated file) is a miss, noted in `damaged`, and is
rebuilt and replaced. The header is also how the store knows its own files: eviction (past
`max_bytes`, least recently used first) only ever removes regular files with an entry's name and
header, never anything else that happens to sit in output/.cache/.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
CACHE_DIR = ".cache"
MAGIC = b"briefgen-cache-1\n"
HEADER_BYTES = len(MAGIC) + 32  # MAGIC, then the raw SHA-256 of (kind, key, content)
TEMP_PREFIX = ".tmp-"
STALE_TEMP_SECONDS = 3600  # a temporary entry this old was left by a killed build
_KEY = re.compile(r"[0-9a-f]{64}")


def digest(*parts: bytes | str) -> str:
    """SHA-256 over the parts, each length-prefixed so ('ab', 'c') and ('a', 'bc') differ."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def _seal(kind: str, key: str, data: bytes) -> bytes:
    return bytes.fromhex(digest(kind, key, data))


@dataclass
class Cache:
    """The store; `root` None disables it (--no-cache). `refresh` ignores entries but writes new ones."""

    root: Path | None
    refresh: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES
    hits: Counter = field(default_factory=Counter)
    misses: Counter = field(default_factory=Counter)
    damaged: list[str] = field(default_factory=list)  # "kind/key" of entries that failed their check
    _total: int | None = field(default=None, repr=False)  # bytes in the store as last counted, plus puts since

    @classmethod
    def for_output(
        cls, output_dir: Path, *, enabled: bool = True, refresh: bool = False, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> Cache:
        """The store of an output folder; OutputError if output/.cache is a link leading out of it."""
        from briefgen.files import inside

        return cls(inside(Path(output_dir), CACHE_DIR) if enabled else None, refresh=refresh, max_bytes=max_bytes)

    def _path(self, kind: str, key: str) -> Path:
        from briefgen.files import inside

        assert self.root is not None
        if not kind.isidentifier() or not _KEY.fullmatch(key):
            raise ValueError(f"bad cache entry name {kind}/{key}")
        return inside(self.root, kind, key)

    def get(self, kind: str, key: str) -> bytes | None:
        if self.root is None or self.refresh:
            self.misses[kind] += 1
            return None
        path = self._path(kind, key)
        try:
            with open(path, "rb") as handle:
                raw = handle.read()
            os.utime(path)  # least recently *used* is what eviction drops
        except OSError:
            self.misses[kind] += 1
            return None
        data = raw[HEADER_BYTES:]
        if (
            len(raw) < HEADER_BYTES
            or not raw.startswith(MAGIC)
            or raw[len(MAGIC) : HEADER_BYTES] != _seal(kind, key, data)
        ):
            self.damaged.append(f"{kind}/{key}")
            self.misses[kind] += 1
            return None
        self.hits[kind] += 1
        return data

    def put(self, kind: str, key: str, data: bytes) -> None:
        """Store an entry; a cache that cannot be written (full disk) is skipped, never fatal."""
        if self.root is None:
            return
        path = self._path(kind, key)
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)
            with os.fdopen(fd, "wb") as handle:
                handle.write(MAGIC + _seal(kind, key, data))
                handle.write(data)
            os.replace(tmp, path)
        except OSError:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            return
        if self._total is not None:
            self._total += HEADER_BYTES + len(data)
        self.evict()

    def entries(self) -> list[tuple[float, Path, int]]:
        """(last use, path, size) of every file this store wrote: entries, and temporary ones left by killed builds.

        Only regular files (never links, never folders) in identifier-named folders, with an
        entry's name and MAGIC at their start, count; stale temporary files are listed with last use 0.
        """
        if self.root is None or not self.root.is_dir():
            return []
        found = []
        now = time.time()
        for folder in _scan(self.root):
            if not folder.is_dir(follow_symlinks=False) or not folder.name.isidentifier():
                continue
            for entry in _scan(Path(folder.path)):
                temporary = entry.name.startswith(TEMP_PREFIX)
                if not (temporary or _KEY.fullmatch(entry.name)):
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # another build evicted it first
                if not stat.S_ISREG(info.st_mode) or not _has_magic(entry.path):
                    continue
                if temporary:
                    if now - info.st_mtime > STALE_TEMP_SECONDS:
                        found.append((0.0, Path(entry.path), info.st_size))
                    continue
                found.append((info.st_mtime, Path(entry.path), info.st_size))
        return found

    def evict(self) -> None:
        """Drop least recently used entries until the store is under max_bytes.

        The store is counted once per Cache (a build) and kept up to date by put, so a build
        that writes a hundred entries scans the folder once unless it actually nears the bound.
        """
        if self.root is None:
            return
        if self._total is not None and self._total <= self.max_bytes:
            return
        entries = self.entries()
        total = sum(size for _, _, size in entries)
        for _used, path, size in sorted(entries):
            if total <= self.max_bytes:
                break
            try:
                path.unlink()
            except FileNotFoundError:
                pass  # another build evicted it first
            except OSError:
                continue
            total -= size
        self._total = total


def _scan(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as listing:
            return list(listing)
    except OSError:
        return []


def _has_magic(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        return os.read(fd, len(MAGIC)) == MAGIC
    except OSError:
        return False
    finally:
        os.close(fd)
