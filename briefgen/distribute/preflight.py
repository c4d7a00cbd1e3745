"""Turn what distribute() is given into what it may send with, or a refusal before anything is written.

Before the ledger is opened: --via and the SMTP settings into the route's label, the brief path
into its PDF bytes (refused if missing or not a PDF), clients.csv into the checked clients (every
name and firm printable by the stamp font), --from / BRIEFGEN_MAIL_FROM or brief.yaml's analysts
into the From address; and one client into the PDF metadata keys its copy carries.
"""

from __future__ import annotations

from email.headerregistry import Address
from pathlib import Path

from briefgen.distribute.clients import Client, load_clients
from briefgen.distribute.mail import parse_sender, sender_address
from briefgen.distribute.stamp import unsupported_characters
from briefgen.distribute.transport import SmtpSettings
from briefgen.errors import DistributionError, InputError, Problem

SENDER_ENV = "BRIEFGEN_MAIL_FROM"


def route_label(via: str, smtp: SmtpSettings | None) -> str:
    """How the run delivers, as the ledger records it ('outbox' or 'smtp host:port'); refuses a bad --via."""
    if via not in ("outbox", "smtp"):
        raise DistributionError(f"--via must be outbox or smtp, not {via!r}")
    if via == "smtp":
        if smtp is None:
            raise DistributionError("--via smtp needs --smtp-host")
        return smtp.label
    return "outbox"


def read_brief(brief: Path) -> bytes:
    """The brief's bytes; DistributionError if it is missing or not a PDF."""
    if not brief.is_file():
        raise DistributionError(f"{brief} not found; run `briefgen build` first, or pass --brief FILE")
    pdf = brief.read_bytes()
    if not pdf.startswith(b"%PDF-"):
        raise DistributionError(f"{brief} is not a PDF")
    return pdf


def from_address(given: str | None, inputs_dir: Path) -> Address:
    """The From address: --from / BRIEFGEN_MAIL_FROM, else the first analyst with an email in brief.yaml."""
    if given:
        return parse_sender(given)
    if (inputs_dir / "brief.yaml").is_file():
        from briefgen.inputs.config import HouseKeys, load_config

        config = load_config(inputs_dir, model=HouseKeys)  # the analysts: a house key of any sector's brief.yaml
        for analyst in config.analysts:
            if analyst.email:
                # Name and address apart: 'Dana Whitfield, CFA' is quoted, never parsed as two addresses.
                return sender_address(analyst.name, analyst.email)
    raise DistributionError(
        f"no sender address: pass --from 'Desk <desk@example.com>', set {SENDER_ENV}, "
        "or give an analyst an email in brief.yaml"
    )


def read_clients(clients_file: Path) -> tuple[Client, ...]:
    """clients.csv read and validated (briefgen.distribute.clients), every name and firm printable by the stamp."""
    clients = load_clients(clients_file, label=clients_file.name)
    check_glyphs(clients, clients_file.name)
    return clients


def check_glyphs(clients: tuple[Client, ...], label: str) -> None:
    """InputError naming each client row whose name or firm the stamp font cannot print."""
    problems = []
    for client in clients:
        for column, value in (("name", client.name), ("firm", client.firm)):
            if missing := unsupported_characters(value):
                problems.append(
                    Problem(
                        label,
                        f"the stamp font cannot print {missing!r}",
                        row=client.row,
                        column=column,
                        fix="write it in Latin, Greek or Cyrillic script",
                    )
                )
    if problems:
        raise InputError(problems)


def metadata(client: Client, text: str) -> dict[str, str]:
    """The PDF metadata keys of one client's copy; the brief's own Title and Subject stay."""
    return {
        "/Recipient": client.recipient,
        "/RecipientEmail": client.email,
        "/RecipientID": client.client_id,
        "/Marking": text,
    }
