"""clients.csv -> Client records: what is accepted, and every way a row is refused."""

from __future__ import annotations

import csv
import email
import email.policy
import io
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from briefgen.distribute.clients import Client, load_clients, parse_clients
from briefgen.distribute.mail import build_message, parse_sender
from briefgen.errors import InputError
from tests.test_distribute_support import no_warnings  # noqa: F401  (autouse guard)

HEADER = "client_id,name,firm,email,password,tier\n"


def parse(text: str) -> tuple[Client, ...]:
    return parse_clients(text.encode("utf-8"))


def problems(text: str | bytes) -> list[str]:
    with pytest.raises(InputError) as caught:
        parse_clients(text.encode("utf-8") if isinstance(text, str) else text)
    return [str(p) for p in caught.value.problems]


def test_a_valid_file_becomes_clients_with_spreadsheet_row_numbers():
    clients = parse(
        HEADER
        + "acme-1,  Ana   Łukasiewicz ,Acme Capital,Ana@Acme.example.com,,gold\n"
        + "\n"
        + 'b2,"Smith, Bob",,bob@example.com,s3cret pass,\n'
    )
    assert clients == (
        Client("acme-1", "Ana Łukasiewicz", "Acme Capital", "Ana@acme.example.com", None, "gold", row=2),
        Client("b2", "Smith, Bob", "", "bob@example.com", "s3cret pass", None, row=4),
    )
    assert clients[0].recipient == "Ana Łukasiewicz, Acme Capital"
    assert clients[1].recipient == "Smith, Bob"


def test_optional_columns_may_be_left_out_and_a_byte_order_mark_is_ignored():
    clients = parse_clients("\ufeffClient_ID,Name,Firm,Email\nx,Xi Chen,Fund,xi@example.com\n".encode("utf-8"))
    assert clients == (Client("x", "Xi Chen", "Fund", "xi@example.com", None, None, row=2),)


def test_names_are_stored_in_composed_unicode_form():
    (client,) = parse(HEADER + "z,Zoe\u0301,Fund,z@example.com,,\n")
    assert client.name == "Zoé"


def test_every_problem_is_listed_with_file_row_and_column():
    text = (
        HEADER
        + "a,Ana,Acme,not-an-address,,\n"
        + "a,Bob,Acme,bob@example.com,,\n"
        + ",Carl,Acme,carl@example.com,,\n"
        + "d,,Acme,dee@example.com,,\n"
        + "e,Eve,Acme,bob@EXAMPLE.com,,\n"
    )
    assert problems(text) == [
        "clients.csv: row 2, column 'email': not a valid address: An email address must have an @-sign. "
        "(write one plain address, e.g. ana@example.com)",
        "clients.csv: row 3, column 'client_id': duplicate client_id 'a' (first on row 2) "
        "(give every client a unique id)",
        "clients.csv: row 4, column 'client_id': empty (give every client a unique id)",
        "clients.csv: row 5, column 'name': empty (fill in the client's name)",
        "clients.csv: row 6, column 'email': address bob@example.com is listed twice (first on row 3) "
        "(merge the rows: each address gets one copy)",
    ]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            'x,"Bob\r\nBcc: all@example.com",Acme,bob@example.com,,',
            "row 2, column 'name': holds a line break or control character (write it on one line)",
        ),
        (
            'x,"Bob\nSmith",Acme,bob@example.com,,',
            "row 2, column 'name': holds a line break or control character (write it on one line)",
        ),
        (
            "x,Bob\u2028Smith,Acme,bob@example.com,,",
            "row 2, column 'name': holds a line break or control character (write it on one line)",
        ),
        (
            "x,Bob <ceo@bank.example.com>,Acme,bob@example.com,,",
            "row 2, column 'name': holds mail-header syntax ('<') "
            "(write the plain name only; put the address in the 'email' column)",
        ),
        (
            "x,ceo@bank.example.com,Acme,bob@example.com,,",
            "row 2, column 'name': holds mail-header syntax ('@') "
            "(write the plain name only; put the address in the 'email' column)",
        ),
        (
            "x,Bob,=?utf-8?q?Bcc=3A_x?=,bob@example.com,,",
            "row 2, column 'firm': holds mail-header syntax ('=?') "
            "(write the plain name only; put the address in the 'email' column)",
        ),
        (
            "x,Bob Bcc: all,Acme,bob@example.com,,",
            "row 2, column 'name': holds mail-header syntax ('Bcc:') "
            "(write the plain name only; put the address in the 'email' column)",
        ),
        (
            'x,Bob,Acme,"bob@example.com\r\nBcc: all@example.com",,',
            "row 2, column 'email': holds a line break or control character (write one address, on one line)",
        ),
        (
            "x,Bob,Acme,Bob <bob@example.com>,,",
            "row 2, column 'email': not a valid address: A display name and angle brackets around the email "
            "address are not permitted here. (write one plain address, e.g. ana@example.com)",
        ),
        (
            'x,Bob,Acme,"bob@example.com, eve@example.com",,',
            "row 2, column 'email': not a valid address: The part after the @-sign contains invalid characters: "
            "',', '@', SPACE. (write one plain address, e.g. ana@example.com)",
        ),
        (
            '"x\ny",Bob,Acme,bob@example.com,,',
            "row 2, column 'client_id': must be one line of at most 80 characters (use letters, digits, '-' or '_')",
        ),
        (
            'x,Bob,Acme,bob@example.com,"pass\nword",',
            "row 2, column 'password': holds a line break or control character (use printable characters only)",
        ),
    ],
)
def test_header_injection_and_line_breaks_are_refused(row, expected):
    assert problems(HEADER + row + "\n") == [f"clients.csv: {expected}"]


def test_header_problems_come_before_any_row_is_read():
    assert problems("client_id,name,firm,e-mail,pasword\nx,Bob,Acme,bob@example.com,\n") == [
        "clients.csv: row 1, column 'e-mail': unknown column (did you mean 'email'?)",
        "clients.csv: row 1, column 'pasword': unknown column (did you mean 'password'?)",
        "clients.csv: row 1, column 'email': missing column (add a 'email' column)",
    ]


def test_file_level_problems():
    assert problems("") == ["clients.csv: file is empty (add the header row: client_id,name,firm,email)"]
    assert problems(HEADER) == ["clients.csv: header only, no clients (add one row per client below the header)"]
    assert problems(b"client_id,name\n\xff\n") == [
        "clients.csv: not UTF-8 text (byte 16 is 0xff) (save it as 'CSV UTF-8 (comma delimited)')"
    ]
    assert problems("client_id;name;firm;email\n") == [
        "clients.csv: row 1: columns are not separated by commas (save it as 'CSV UTF-8 (comma delimited)')"
    ]
    assert problems(HEADER + "x,Bob,Acme\n") == [
        "clients.csv: row 2: 3 cells but 6 columns (check for a stray comma; quote cells that contain commas)"
    ]


def test_a_missing_file_says_what_to_write(tmp_path):
    with pytest.raises(InputError) as caught:
        load_clients(tmp_path / "clients.csv")
    assert str(caught.value) == (
        f"1 problem in the inputs:\n  - clients.csv: file not found "
        f"(create {tmp_path / 'clients.csv'} with the header: client_id,name,firm,email,password,tier)"
    )


def _csv_row(*cells: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


@settings(max_examples=300, deadline=None)
@given(name=st.text(min_size=1, max_size=40), firm=st.text(max_size=20))
def test_any_accepted_name_yields_exactly_one_recipient_and_no_extra_header(name, firm):
    try:
        (client,) = parse(HEADER + _csv_row("c1", name, firm, "ana@example.com", "", ""))
    except InputError:
        return  # refused: nothing reaches a header
    msg = build_message(
        sender=parse_sender("Desk <desk@example.com>"),
        to_name=client.name,
        to_email=client.email,
        subject=f"Brief for {client.firm}",
        body="Hello",
        message_id="<m@x>",
        attachment=b"%PDF-1.7",
        filename="brief.pdf",
        date=datetime(2026, 1, 15, tzinfo=UTC),
    )
    parsed = email.message_from_bytes(msg, policy=email.policy.default)
    assert parsed.keys() == ["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"]
    (to,) = parsed["To"].addresses
    assert to.addr_spec == "ana@example.com"
    # Compared without whitespace: a long name is folded into adjacent encoded words, and the
    # stdlib parser keeps the fold's space between them, which RFC 2047 (6.2) says readers drop.
    assert "".join(to.display_name.split()) == "".join(client.name.split())


@pytest.mark.parametrize("char", ["\u2066", "\u2069", "\u00ad", "\u200e", "\u061c", "\U000e0041"])
def test_invisible_characters_in_names_and_firms_are_refused(char):
    """Bidi isolates, soft hyphens, marks and tags used to pass: only some format characters were listed."""
    found = problems(
        f"client_id,name,firm,email\nc-1,Ana{char} Smith,Acme,ana@acme.example.com\n"
        f"c-2,Bob Jones,Ac{char}me,bob@acme.example.com\n"
    )
    assert len(found) == 2
    assert found[0].startswith(f"clients.csv: row 2, column 'name': holds an invisible character, U+{ord(char):04X} (")
    assert found[1].startswith(f"clients.csv: row 3, column 'firm': holds an invisible character, U+{ord(char):04X} (")
