"""Turn the delivery ledger into the files people read, and check the disk against it.

manifest.csv and manifest.json are rewritten from the ledger after every run; check_disk refuses a
run whose copies or manifest the ledger does not account for (a deleted or replaced ledger);
distribution_status is what `briefgen distribute --status` prints.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from briefgen.distribute.clients import Client, load_clients
from briefgen.distribute.csvout import csv_text
from briefgen.distribute.ledger import IN_DOUBT, LEDGER_FILE, SENDING, SENT, Delivery, Ledger, VersionCounts
from briefgen.distribute.stamp import Stamper
from briefgen.errors import DistributionError
from briefgen.files import write_atomic

MANIFEST_COLUMNS = (
    "client_id",
    "name",
    "firm",
    "email",
    "tier",
    "file",
    "sha256",
    "status",
    "via",
    "time",
    "message_id",
    "attempts",
    "error",
)


@dataclass(frozen=True)
class StatusReport:
    versions: tuple[VersionCounts, ...]
    current: str | None = None  # the version of the brief on disk, if any
    running: bool = False  # another run holds the ledger: its "in doubt" rows are in flight


# --- files -------------------------------------------------------------------------------


def safe_stem(client_id: str) -> str:
    """A file name stem from a client id: [A-Za-z0-9._-] only, plus a hash so distinct ids stay distinct."""
    readable = re.sub(r"[^A-Za-z0-9._-]|\.\.+", "_", client_id)  # no separators, no '..'
    readable = re.sub(r"_+", "_", readable).strip("._-")[:48] or "client"
    return f"{readable}-{hashlib.sha256(client_id.encode('utf-8')).hexdigest()[:8]}"


def inside(root: Path, path: Path) -> Path:
    """path (below root), refused where a link on the way leads out of root: files.inside's one rule."""
    from briefgen.files import inside as inside_folder

    return inside_folder(root, Path(path).relative_to(root), error=DistributionError)


def check_disk(output_dir: Path, version: str, rows: dict[str, Delivery]) -> None:
    """Refuse to serve a version whose copies, outbox or manifest on disk the ledger does not account for.

    They mean the ledger was deleted, emptied or replaced since they were written: trusting it now
    would send those clients the brief a second time.
    """
    copies = output_dir / "distribution" / version[:12]
    outbox = output_dir / "outbox" / version[:12]
    stems = {safe_stem(client_id) for client_id in rows}
    strays = sorted(
        p
        for folder, suffix in ((copies, ".pdf"), (outbox, ".eml"))
        if folder.is_dir()
        for p in folder.iterdir()
        if p.suffix == suffix and not p.name.startswith(".") and p.stem not in stems
    )
    missing: list[str] = []  # served according to the manifest, unknown to the ledger
    manifest = copies / "manifest.json"
    if manifest.is_file():
        try:
            listed = json.loads(manifest.read_text("utf-8"))["clients"]
            missing = [
                c["client_id"]
                for c in listed
                if (c["status"] == SENT and (c["client_id"] not in rows or rows[c["client_id"]].status != SENT))
                or (c["status"] == IN_DOUBT and c["client_id"] not in rows)
            ]
        except (OSError, ValueError, KeyError, TypeError):
            missing = ["(the manifest is unreadable)"]
    if not strays and not missing:
        return
    found = []
    for suffix, what in ((".pdf", "marked cop"), (".eml", "outbox message")):
        files = [p for p in strays if p.suffix == suffix]
        if files:
            plural = ("y", "ies") if what.endswith("cop") else ("", "s")
            found.append(f"{len(files)} {what}{plural[len(files) != 1]} such as {files[0].relative_to(output_dir)}")
    if missing:
        found.append(
            f"{manifest.relative_to(output_dir)} listing {len(missing)} client(s) served, such as {missing[0]!r}"
        )
    raise DistributionError(
        f"the delivery ledger {output_dir / LEDGER_FILE} does not know of {' and '.join(found)} for brief "
        f"{version[:12]}: it may have been deleted, emptied or replaced. Nothing was sent. Restore the ledger "
        f"from a backup; if those copies were never sent, move {copies.relative_to(output_dir)} and "
        f"{outbox.relative_to(output_dir)} out of {output_dir} and run again"
    )


# --- manifest and status -----------------------------------------------------------------


def write_manifest(
    ledger: Ledger, version: str, clients: tuple[Client, ...], output_dir: Path, title: str | None, brief: Path
) -> Path:
    """Write manifest.csv and manifest.json for a version from the ledger; return the CSV's path."""
    by_id = {c.client_id: c for c in clients}
    rows = []
    for delivery in ledger.deliveries(version).values():
        client = by_id.get(delivery.client_id)
        rows.append(
            {
                "client_id": delivery.client_id,
                "name": client.name if client else "",
                "firm": client.firm if client else "",
                "email": delivery.email,
                "tier": (client.tier or "") if client else "",
                "file": delivery.copy_file or "",
                "sha256": delivery.copy_sha256 or "",
                "status": IN_DOUBT if delivery.status == SENDING else delivery.status,
                "via": delivery.via or "",
                "time": delivery.sent_at or delivery.updated_at,
                "message_id": delivery.message_id,
                "attempts": delivery.attempts,
                "error": delivery.error or "",
            }
        )
    folder = inside(output_dir, output_dir / "distribution" / version[:12])
    # Production staff open the CSV in Excel: a client's name is never run as a formula there.
    write_atomic(folder / "manifest.csv", csv_text(MANIFEST_COLUMNS, rows).encode("utf-8"))
    document = {"version": version, "title": title, "brief": str(brief), "clients": rows}
    write_atomic(folder / "manifest.json", (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return folder / "manifest.csv"


def distribution_status(output_dir: Path, brief: Path | None = None, clients_file: Path | None = None) -> StatusReport:
    """Sent, pending, in doubt and failed per brief version; the brief on disk counts its unserved clients."""
    ledger = Ledger(output_dir)
    data = brief.read_bytes() if brief is not None and brief.is_file() else None
    current = hashlib.sha256(data).hexdigest() if data is not None else None
    versions: list[VersionCounts] = []
    running = False
    if ledger.path.exists():
        with ledger.open(exclusive=False):
            versions = ledger.counts()
            running = ledger.running()
            rows = ledger.deliveries(current) if current else {}
    else:
        rows = {}
    served = set(rows)
    if current:
        check_disk(output_dir, current, rows)  # what a run would refuse, --status refuses too
    if current and data is not None and clients_file is not None and clients_file.is_file():
        unserved = sum(1 for c in load_clients(clients_file, clients_file.name) if c.client_id not in served)
        if not any(v.version == current for v in versions):
            versions.insert(0, VersionCounts(current, Stamper.title_of(data), ""))
        versions = [
            VersionCounts(**{**asdict(v), "pending": v.pending + unserved}) if v.version == current else v
            for v in versions
        ]
    return StatusReport(tuple(versions), current, running)
