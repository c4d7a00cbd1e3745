"""Turn each build, publication, recall and distribution run into an entry of a hash-chained audit trail.

OUTPUT/audit.jsonl holds one JSON object a line, only ever appended to. Each entry carries `prev`,
the `hash` of the entry before it (64 zeros for the first), and its own `hash`: the SHA-256 of its
canonical JSON without the `hash` key. Editing, removing or reordering an entry breaks the chain
from there on, and `verify` names the first entry that does not fit. Appends take an exclusive lock
on the file, so two builds at once (a batch, two terminals) still chain one after the other.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from briefgen.errors import BriefgenError

AUDIT_FILE = "audit.jsonl"
GENESIS = "0" * 64


class AuditError(BriefgenError):
    """The audit trail cannot be written or read."""


@dataclass(frozen=True)
class AuditEntry:
    line: int
    data: Mapping[str, Any]


@dataclass(frozen=True)
class AuditCheck:
    entries: tuple[AuditEntry, ...]
    first_bad: int | None  # the line number of the first entry that breaks the chain
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.first_bad is None


def audit_path(output_dir: Path) -> Path:
    return Path(output_dir) / AUDIT_FILE


def _digest(entry: Mapping[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()


def _last_hash(handle) -> str:
    """The hash of the file's last complete entry (read under the lock), or GENESIS."""
    handle.seek(0)
    last = GENESIS
    for raw in handle:
        raw = raw.strip()
        if raw:
            # a damaged line: the next entry chains to the last good one; verify reports it
            with contextlib.suppress(ValueError, AttributeError):
                last = json.loads(raw).get("hash", last)
    return last


def append(output_dir: Path, event: str, details: Mapping[str, Any], *, at: datetime | None = None) -> dict[str, Any]:
    """Append one entry (`event`: build, publish, recall, distribute) and return it."""
    path = audit_path(output_dir)
    when = (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            raise AuditError(f"{path} is a link; briefgen never follows a link out of its folders")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0), 0o644)
        with os.fdopen(fd, "r+", encoding="utf-8") as handle:
            _lock(handle)
            entry: dict[str, Any] = {"at": when, "event": event, **details, "prev": _last_hash(handle)}
            entry["hash"] = _digest(entry)
            handle.write(json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise AuditError(f"{path}: cannot append to the audit trail ({exc.strerror or exc})") from None
    return entry


def verify(output_dir: Path) -> AuditCheck:
    """Read the trail and check every link of the chain."""
    path = audit_path(output_dir)
    if not path.is_file():
        return AuditCheck((), None)
    entries: list[AuditEntry] = []
    prev = GENESIS
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(f"{path}: cannot read the audit trail ({exc})") from None
    for number, raw in enumerate(lines, start=1):
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except ValueError:
            return AuditCheck(tuple(entries), number, f"line {number} is not a JSON entry")
        entries.append(AuditEntry(number, data))
        if data.get("prev") != prev:
            return AuditCheck(
                tuple(entries),
                number,
                f"line {number} does not follow the entry before it (an entry was removed, reordered or edited)",
            )
        if data.get("hash") != _digest(data):
            return AuditCheck(
                tuple(entries),
                number,
                f"line {number} was changed after it was written (its hash does not match its content)",
            )
        prev = data["hash"]
    return AuditCheck(tuple(entries), None)


def audit_text(check: AuditCheck) -> str:
    """`briefgen audit`: one line per entry, then whether the chain is intact."""
    lines = []
    for entry in check.entries:
        data = entry.data
        shown = {k: v for k, v in data.items() if k not in ("at", "event", "prev", "hash")}
        detail = "  ".join(f"{k}={_short(v)}" for k, v in sorted(shown.items()))
        lines.append(f"{entry.line:>4}  {data.get('at', '?')}  {data.get('event', '?')!s:<10}  {detail}".rstrip())
    if not check.entries and check.intact:
        lines.append("no entries yet")
    if check.intact:
        lines.append(f"chain intact: {len(check.entries)} entries")
    else:
        lines.append(f"chain BROKEN at entry {check.first_bad}: {check.problem}")
    return "\n".join(lines) + "\n"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        return text[:12]  # a SHA-256: its first 12 hex digits, as the other listings print it
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _lock(handle: Any) -> None:
    """Hold the file exclusively until it is closed (POSIX; elsewhere appends are not serialised)."""
    try:
        import fcntl
    except ImportError:
        return
    fcntl.flock(handle, fcntl.LOCK_EX)
