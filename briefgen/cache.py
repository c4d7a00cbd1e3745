"""Turn a hash of exactly what a stage depends on into that stage's stored output, and back.

A content-addressed store under output/.cache/: one file per entry, named by kind and key
(`charts/3f2a....svg`). Entries are written to a temporary file and renamed, so two builds running
at once never read a half-written entry (the worst case is both computing the same entry). The
store is bounded: past `max_bytes`, the least recently used entries are evicted.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
CACHE_DIR = ".cache"


def digest(*parts: bytes | str) -> str:
    """SHA-256 over the parts, each length-prefixed so ('ab', 'c') and ('a', 'bc') differ."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


@dataclass
class Cache:
    """The store; `root` None disables it (--no-cache). `refresh` ignores entries but writes new ones."""

    root: Path | None
    refresh: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES
    hits: Counter = field(default_factory=Counter)
    misses: Counter = field(default_factory=Counter)

    @classmethod
    def for_output(cls, output_dir: Path, *, enabled: bool = True, refresh: bool = False) -> Cache:
        return cls(Path(output_dir) / CACHE_DIR if enabled else None, refresh=refresh)

    def _path(self, kind: str, key: str) -> Path:
        assert self.root is not None
        if not kind.isidentifier() or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"bad cache entry name {kind}/{key}")
        return self.root / kind / key

    def get(self, kind: str, key: str) -> bytes | None:
        if self.root is None or self.refresh:
            self.misses[kind] += 1
            return None
        path = self._path(kind, key)
        try:
            data = path.read_bytes()
            os.utime(path)  # least recently *used* is what eviction drops
        except OSError:
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
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except OSError:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            return
        self.evict()

    def evict(self) -> None:
        """Drop least recently used entries until the store is under max_bytes."""
        if self.root is None or not self.root.is_dir():
            return
        entries = []
        total = 0
        for path in self.root.glob("*/*"):
            try:
                stat = path.stat()
            except OSError:
                continue  # another build evicted it first
            entries.append((stat.st_mtime, path.as_posix(), stat.st_size))
            total += stat.st_size
        if total <= self.max_bytes:
            return
        for _mtime, name, size in sorted(entries):
            Path(name).unlink(missing_ok=True)
            total -= size
            if total <= self.max_bytes:
                break
