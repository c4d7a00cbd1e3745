"""Turn clients.csv into validated Client records, refusing anything that could forge a header or a path.

Every problem is collected with its file, row and column, then raised at once as one InputError.
Rows are numbered as a spreadsheet shows them: the header is row 1, the first client row 2.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from briefgen.errors import InputError, Problem
from briefgen.inputs.cells import INVISIBLE, INVISIBLE_FIX, invisible

CLIENTS_FILE = "clients.csv"
REQUIRED_COLUMNS = ("client_id", "name", "firm", "email")
OPTIONAL_COLUMNS = ("password", "tier")
MAX_CLIENTS = 20_000
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ID = 80
MAX_NAME = 100  # name and firm together must fit one stamp line on an A4 page
MAX_TIER = 40
MAX_PASSWORD_BYTES = 127  # the most an AES-256 (revision 6) PDF password can hold

# Line breaks of every kind, other control characters, and invisible format characters (cells.INVISIBLE).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]|" + INVISIBLE.pattern)
# Text that would read as mail-header syntax: an address, an encoded word, a header field.
_HEADER_SYNTAX = re.compile(
    r"[<>@]|=\?|\?=|(?i:\b(?:to|cc|bcc|from|sender|reply-to|subject|content-[a-z-]+|mime-version|message-id)\s*:)"
)


@dataclass(frozen=True)
class Client:
    """One recipient of the brief, as clients.csv lists them."""

    client_id: str
    name: str
    firm: str
    email: str
    password: str | None = None
    tier: str | None = None
    row: int = 0

    @property
    def recipient(self) -> str:
        """Name and firm, as the stamp and the metadata print them."""
        return f"{self.name}, {self.firm}" if self.firm else self.name


def load_clients(path: Path, label: str | None = None) -> tuple[Client, ...]:
    """Read and validate a clients file; raise InputError listing every problem."""
    label = label or path.name
    if not path.is_file():
        raise InputError(
            [
                Problem(
                    label,
                    "file not found",
                    fix=f"create {path} with the header: {','.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}",
                )
            ]
        )
    data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        raise InputError([Problem(label, f"file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB")])
    return parse_clients(data, label)


def parse_clients(data: bytes, label: str = CLIENTS_FILE) -> tuple[Client, ...]:
    """Validate the bytes of a clients CSV; raise InputError listing every problem."""
    if b"\x00" in data[:4096]:
        raise InputError([Problem(label, "binary file, not a CSV table", fix="export the sheet as CSV UTF-8")])
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError as exc:
        raise InputError(
            [
                Problem(
                    label,
                    f"not UTF-8 text (byte {exc.start + 1} is {data[exc.start]:#04x})",
                    fix="save it as 'CSV UTF-8 (comma delimited)'",
                )
            ]
        ) from None
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InputError(
            [Problem(label, f"not a readable CSV table ({exc})", fix="export the sheet as CSV UTF-8")]
        ) from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise InputError([Problem(label, "file is empty", fix=f"add the header row: {','.join(REQUIRED_COLUMNS)}")])
    if len(records) - 1 > MAX_CLIENTS:
        raise InputError([Problem(label, f"more than {MAX_CLIENTS:,} clients", fix="split the list")])
    problems: list[Problem] = []
    header = _header(records[0], label, problems)
    if problems:
        raise InputError(problems)
    clients: list[Client] = []
    ids: list[tuple[int, str]] = []
    for index, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            problems.append(
                Problem(
                    label,
                    f"{len(record)} cells but {len(header)} columns",
                    row=index,
                    fix="check for a stray comma; quote cells that contain commas",
                )
            )
            continue
        cells = dict(zip(header, record, strict=True))
        ids.append((index, unicodedata.normalize("NFC", cells["client_id"].strip())))
        client = _client(cells, index, label, problems)
        if client is not None:
            clients.append(client)
    if not ids and not problems:
        problems.append(Problem(label, "header only, no clients", fix="add one row per client below the header"))
    problems.extend(_duplicates(ids, clients, label))
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.row or 0))  # read top to bottom, like the sheet
    return tuple(clients)


def _header(cells: list[str], label: str, problems: list[Problem]) -> list[str]:
    header = [cell.strip().lower() for cell in cells]
    if len(header) == 1 and any(d in cells[0] for d in ";\t|"):
        problems.append(
            Problem(label, "columns are not separated by commas", row=1, fix="save it as 'CSV UTF-8 (comma delimited)'")
        )
        return header
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(Problem(label, f"column '{name}' appears twice", row=1, fix="delete one of them"))
        seen.add(name)
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            fix = f"did you mean '{close[0]}'?" if close else f"known columns: {', '.join(known)}"
            problems.append(Problem(label, "unknown column", row=1, column=name, fix=fix))
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            problems.append(Problem(label, "missing column", row=1, column=name, fix=f"add a '{name}' column"))
    return header


def _client(cells: dict[str, str], row: int, label: str, problems: list[Problem]) -> Client | None:
    count = len(problems)

    def refuse(column: str, message: str, fix: str | None = None) -> None:
        problems.append(Problem(label, message, row=row, column=column, fix=fix))

    client_id = unicodedata.normalize("NFC", cells["client_id"].strip())
    if not client_id:
        refuse("client_id", "empty", "give every client a unique id")
    elif len(client_id) > MAX_ID or _CONTROL.search(client_id):
        refuse("client_id", f"must be one line of at most {MAX_ID} characters", "use letters, digits, '-' or '_'")

    name = _text(cells["name"], "name", MAX_NAME, required=True, refuse=refuse)
    firm = _text(cells["firm"], "firm", MAX_NAME, required=False, refuse=refuse)
    email = _email(cells["email"], refuse)

    password = cells.get("password") or None
    if password is not None:
        if _CONTROL.search(password):
            refuse("password", "holds a line break or control character", "use printable characters only")
        elif len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
            refuse("password", f"longer than {MAX_PASSWORD_BYTES} bytes", "choose a shorter password")
        elif password != password.strip():
            refuse("password", "starts or ends with a space", "remove the spaces, or choose another password")
    tier = _text(cells.get("tier", ""), "tier", MAX_TIER, required=False, refuse=refuse) or None

    if len(problems) > count:
        return None
    return Client(client_id, name, firm, email, password, tier, row)


def _text(raw: str, column: str, limit: int, *, required: bool, refuse) -> str:
    """Check one line of display text that will reach a mail header, a stamp and PDF metadata."""
    if hidden := invisible(raw.strip()):
        refuse(column, f"holds an invisible character, {hidden}", INVISIBLE_FIX)
        return ""
    if _CONTROL.search(raw.strip()):
        refuse(column, "holds a line break or control character", "write it on one line")
        return ""
    value = unicodedata.normalize("NFC", " ".join(raw.split()))
    if required and not value:
        refuse(column, "empty", f"fill in the client's {column}")
    elif len(value) > limit:
        refuse(column, f"longer than {limit} characters", "shorten it")
    elif match := _HEADER_SYNTAX.search(value):
        refuse(
            column,
            f"holds mail-header syntax ({match.group(0)!r})",
            "write the plain name only; put the address in the 'email' column",
        )
    return value


def _email(raw: str, refuse) -> str:
    value = raw.strip()
    if not value:
        refuse("email", "empty", "fill in the client's email address")
        return ""
    if _CONTROL.search(value):
        refuse("email", "holds a line break or control character", "write one address, on one line")
        return ""
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        refuse("email", f"not a valid address: {exc}", "write one plain address, e.g. ana@example.com")
        return ""
    return checked.normalized


def _duplicates(ids: list[tuple[int, str]], clients: list[Client], label: str) -> list[Problem]:
    problems = []
    first: dict[str, int] = {}
    for row, client_id in ids:
        if client_id and client_id in first:
            problems.append(
                Problem(
                    label,
                    f"duplicate client_id '{client_id}' (first on row {first[client_id]})",
                    row=row,
                    column="client_id",
                    fix="give every client a unique id",
                )
            )
        first.setdefault(client_id, row)
    emails: dict[str, int] = {}
    for client in clients:
        key = client.email.casefold()
        if key in emails:
            problems.append(
                Problem(
                    label,
                    f"address {client.email} is listed twice (first on row {emails[key]})",
                    row=client.row,
                    column="email",
                    fix="merge the rows: each address gets one copy",
                )
            )
        else:
            emails[key] = client.row
    return problems
