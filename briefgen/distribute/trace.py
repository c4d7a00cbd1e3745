"""Turn a marked copy of the brief back into the client, brief version and delivery it was made for.

Every copy `briefgen distribute` makes carries, in the stamp on each page, an invisible
marked-content point `/BriefgenMark <</ID (bgm1.XXXX...)>> DP` (see stamp.py). It is not drawn and
not extracted as text, and it stays when the document information and the XMP metadata are
stripped. Its ID is "bgm1." and the base32 of 32 bytes:

    8 bytes   the start of the brief version (the brief's SHA-256)
    8 bytes   the start of SHA-256(client_id)
    16 bytes  HMAC-SHA256 of the 16 bytes above and the prefix, under the output folder's key

The key (KEY_FILE, 32 random bytes, created by the first real distribution run) never leaves the
output folder, so a mark cannot be forged for, or moved to, another copy, and a copy marked by
another desk's output folder is told apart from one of ours. The ledger is then asked which of
its deliveries has that version and client. A copy whose bytes were not changed at all (also an
encrypted one) is found by its SHA-256, which the ledger records for every copy sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from briefgen.distribute.ledger import Delivery, Ledger, Version
from briefgen.errors import DistributionError

KEY_FILE = ".distribution.key"
MARK_PREFIX = "bgm1."
_MARK = re.compile(r"bgm1\.([A-Z2-7]{52})")
_TAG_CONTEXT = b"briefgen trace mark v1\0"


# --- the key and the mark ------------------------------------------------------------------


def mark_key(output_dir: Path, *, create: bool) -> bytes | None:
    """The output folder's mark key; made (readable by its owner only) if create and there is none yet."""
    path = output_dir / KEY_FILE
    if path.is_symlink():  # never follow a link out of the output folder
        raise DistributionError(f"{path} is a symbolic link; refusing to use it as the distribution key")
    if create and not path.exists():
        output_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_hex(32) + "\n")
                out.flush()
                os.fsync(out.fileno())
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise DistributionError(f"cannot read the distribution key {path}: {exc}") from None
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise DistributionError(f"{path} is not a briefgen distribution key (64 hex digits)")
    return bytes.fromhex(text)


def _client_hash(client_id: str) -> bytes:
    return hashlib.sha256(client_id.encode("utf-8")).digest()[:8]


def _tag(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _TAG_CONTEXT + payload, hashlib.sha256).digest()[:16]


def copy_mark(key: bytes, version: str, client_id: str) -> str:
    """The mark stamped into the copy of brief version for client_id."""
    payload = bytes.fromhex(version[:16]) + _client_hash(client_id)
    return MARK_PREFIX + base64.b32encode(payload + _tag(key, payload)).decode("ascii").rstrip("=")


# --- reading a copy ------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """One mark read from a copy, and the pages (from 1) that carry it."""

    mark: str
    pages: tuple[int, ...]


@dataclass(frozen=True)
class PageMarks:
    page_count: int
    found: tuple[Found, ...]
    encrypted: bool  # and no password was given: the pages could not be read


def read_marks(pdf: bytes, password: str | None = None) -> PageMarks:
    """The briefgen marks on the pages of pdf, in order of first appearance."""
    import pikepdf

    from briefgen.distribute.stamp import MARK_PROPERTY, pdf_error_reason

    try:
        document = pikepdf.open(io.BytesIO(pdf), password=password or "")
    except pikepdf.PasswordError:
        return PageMarks(0, (), encrypted=True)
    except pikepdf.PdfError as exc:
        raise DistributionError(f"not a readable PDF ({pdf_error_reason(exc)})") from None
    pages: dict[str, list[int]] = {}
    with document:
        for number, page in enumerate(document.pages, 1):
            try:
                points = pikepdf.parse_content_stream(page, "DP")
            except pikepdf.PdfError:
                continue  # a page whose content cannot be read carries no mark we can trust
            for point in points:
                operands = point.operands
                if (
                    len(operands) == 2
                    and operands[0] == pikepdf.Name(MARK_PROPERTY)
                    and isinstance(operands[1], pikepdf.Dictionary)
                ):
                    value = operands[1].get("/ID")
                    mark = str(value) if isinstance(value, pikepdf.String) else ""
                    if number not in pages.setdefault(mark, []):
                        pages[mark].append(number)
        count = len(document.pages)
    return PageMarks(count, tuple(Found(mark, tuple(numbers)) for mark, numbers in pages.items()), encrypted=False)


# --- tracing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Traced:
    """The delivery one mark (or the file's bytes) names."""

    version: Version
    delivery: Delivery
    pages: tuple[int, ...]  # the pages carrying the mark; empty when found by the file's SHA-256
    identical: bool  # the file is byte for byte the copy the ledger recorded


@dataclass(frozen=True)
class TraceReport:
    file: Path
    page_count: int
    traced: tuple[Traced, ...]
    unmarked_pages: tuple[int, ...]  # pages carrying no mark (pages added to, or swapped into, a copy)


def trace(pdf_path: Path, output_dir: Path, password: str | None = None) -> TraceReport:
    """Name the client, brief version and delivery the marked copy at pdf_path was made for.

    Raises DistributionError (the command's exit status 1) for a file that is not a PDF, carries
    no mark, carries a mark this output folder did not make, or names no delivery in its ledger.
    """
    try:
        pdf = pdf_path.read_bytes()
    except OSError as exc:
        raise DistributionError(f"{pdf_path}: {exc.strerror or exc}") from None
    if not pdf.startswith(b"%PDF-"):
        raise DistributionError(f"{pdf_path} is not a PDF")
    digest = hashlib.sha256(pdf).hexdigest()
    ledger = Ledger(output_dir)
    if not ledger.path.is_file():
        raise DistributionError(
            f"{output_dir} has no delivery ledger ({ledger.path.name}): nothing was "
            "distributed from it; pass --output with the folder the copies were made in"
        )
    with ledger.open(exclusive=False):
        records = (ledger.find_version(v.version) for v in ledger.counts())
        versions = {record.version: record for record in records if record is not None}
        deliveries = {version: ledger.deliveries(version) for version in versions}
    by_digest = [
        (versions[version], delivery)
        for version, rows in deliveries.items()
        for delivery in rows.values()
        if delivery.copy_sha256 == digest
    ]
    try:
        marks = read_marks(pdf, password)
    except DistributionError as exc:
        raise DistributionError(f"{pdf_path}: {exc}") from None
    if marks.encrypted:
        if by_digest:
            return TraceReport(pdf_path, 0, tuple(Traced(v, d, (), True) for v, d in by_digest), ())
        how = (
            "the password given does not open it"
            if password
            else "set BRIEFGEN_TRACE_PASSWORD to the client's password (from clients.csv) to read its mark"
        )
        raise DistributionError(f"{pdf_path} is encrypted and is not byte for byte a copy in the ledger; {how}")
    if not marks.found:
        raise DistributionError(
            f"{pdf_path} carries no briefgen mark: it is not a copy made by "
            "`briefgen distribute` (or its stamps were removed)"
        )
    key = mark_key(output_dir, create=False)
    if key is None:
        raise DistributionError(
            f"{output_dir} has no distribution key ({KEY_FILE}); the mark in {pdf_path} cannot be checked"
        )
    traced = []
    for found in marks.found:
        payload = _verified(found.mark, key)
        if payload is None:
            raise DistributionError(
                f"{pdf_path}: the mark on page {found.pages[0]} was not made by {output_dir}: the file is "
                "a copy of another desk's brief (another output folder), or its mark was forged"
            )
        traced.append(_lookup(payload, found, versions, deliveries, digest, pdf_path))
    marked = {number for found in marks.found for number in found.pages}
    unmarked = tuple(n for n in range(1, marks.page_count + 1) if n not in marked)
    return TraceReport(pdf_path, marks.page_count, tuple(traced), unmarked)


def _verified(mark: str, key: bytes) -> bytes | None:
    """The mark's version and client bytes if its tag is right under key, else None."""
    found = _MARK.fullmatch(mark)
    if found is None:
        return None
    raw = base64.b32decode(found.group(1) + "====")
    if base64.b32encode(raw).decode("ascii").rstrip("=") != found.group(1):
        return None  # the last character's spare bits must be zero: one mark, one spelling
    payload, tag = raw[:16], raw[16:]
    return payload if hmac.compare_digest(tag, _tag(key, payload)) else None


def _lookup(
    payload: bytes,
    found: Found,
    versions: Mapping[str, Version | None],
    deliveries: Mapping[str, Mapping[str, Delivery]],
    digest: str,
    pdf_path: Path,
) -> Traced:
    prefix, client = payload[:8].hex(), payload[8:]
    for version, rows in deliveries.items():
        if not version.startswith(prefix):
            continue
        for delivery in rows.values():
            record = versions[version]
            if _client_hash(delivery.client_id) == client and record is not None:
                return Traced(record, delivery, found.pages, delivery.copy_sha256 == digest)
    raise DistributionError(
        f"{pdf_path}: the mark is authentic (brief version {prefix[:12]}) but the ledger records no delivery "
        "of that version to its client: the copy never left a --dry-run, or the ledger was replaced"
    )
