"""What distribute refuses before sending anyone anything, and what it records and writes for people to read."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefgen.cli import main
from briefgen.distribute.deliver import distribute, distribution_status
from briefgen.distribute.mail import SmtpSettings, parse_sender
from briefgen.errors import DistributionError
from tests.test_distribute_support import (  # noqa: F401  (fixtures)
    SENDER,
    Mailbox,
    brief_bytes,
    no_warnings,
)


def run(root, **options):
    options.setdefault("sender", SENDER)
    return distribute(root / "output" / "brief.pdf", root / "inputs" / "clients.csv", root / "output", **options)


def snapshot(root) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in (root / "output").rglob("*")
        if p.is_file() and p.name != ".distribution.lock"
    }


@pytest.mark.parametrize("damage", ["emptied", "replaced"])
def test_a_damaged_ledger_is_refused_by_the_run_as_by_status(workdir, damage):
    run(workdir)
    ledger = workdir / "output" / "distribution.sqlite"
    if damage == "emptied":
        ledger.write_bytes(b"")
    else:
        import sqlite3

        ledger.unlink()
        with sqlite3.connect(ledger) as db:
            db.execute("CREATE TABLE notes (text TEXT)")
    before = snapshot(workdir)
    with pytest.raises(DistributionError) as status:
        distribution_status(workdir / "output", workdir / "output" / "brief.pdf", workdir / "inputs" / "clients.csv")
    with pytest.raises(DistributionError) as refused:
        run(workdir)
    assert "is not a briefgen delivery ledger" in str(status.value)
    assert str(refused.value) == str(status.value)
    assert snapshot(workdir) == before  # nothing written, nobody sent the brief again


def test_a_deleted_ledger_is_refused_while_the_versions_copies_are_on_disk(workdir):
    run(workdir)
    (workdir / "output" / "distribution.sqlite").unlink()
    before = snapshot(workdir)
    for dry_run in (True, False):
        with pytest.raises(DistributionError) as caught:
            run(workdir, dry_run=dry_run)
        message = str(caught.value)
        assert "does not know of 5 marked copies" in message and "Nothing was sent" in message
        assert "Restore the ledger from a backup" in message
    result = CliRunner().invoke(
        main,
        [
            "distribute",
            "--status",
            "--brief",
            str(workdir / "output" / "brief.pdf"),
            "--clients",
            str(workdir / "inputs" / "clients.csv"),
            "--output",
            str(workdir / "output"),
        ],
    )
    assert result.exit_code == 1 and "does not know of 5 marked copies" in result.output
    assert snapshot(workdir) == before


def test_a_ledger_swapped_for_another_folders_is_refused(workdir, tmp_path_factory):
    other = tmp_path_factory.mktemp("other")
    shutil.copytree(workdir, other, dirs_exist_ok=True)
    run(workdir)
    (other / "output" / "brief.pdf").write_bytes(brief_bytes(title="Another brief"))
    run(other)
    shutil.copy(other / "output" / "distribution.sqlite", workdir / "output" / "distribution.sqlite")
    with pytest.raises(DistributionError, match="does not know of 5 marked copies"):
        run(workdir)


def test_the_ledger_records_how_each_client_was_served_and_smtp_after_outbox_says_so(workdir, smtp_server):
    outbox = run(workdir)
    assert {o.via for o in outbox.outcomes} == {"outbox"}
    mailbox = Mailbox()
    port = smtp_server(mailbox).port
    smtp = run(workdir, via="smtp", smtp=SmtpSettings("127.0.0.1", port, tls="none", connect_timeout=5))
    assert mailbox.received == [] and smtp.served_elsewhere == {"outbox": 5}
    status = distribution_status(workdir / "output", workdir / "output" / "brief.pdf")
    assert status.versions[0].served_by == (("outbox", 5),)
    manifest = json.loads((workdir / "output" / "distribution" / outbox.version[:12] / "manifest.json").read_text())
    assert {c["via"] for c in manifest["clients"]} == {"outbox"}
    with (workdir / "inputs" / "clients.csv").open("a", encoding="utf-8") as handle:
        handle.write("new,Nia Long,Fresh Fund,nia@fresh.example.com,,\n")
    third = run(workdir, via="smtp", smtp=SmtpSettings("127.0.0.1", port, tls="none", connect_timeout=5))
    assert [o.via for o in third.outcomes if o.status == "sent"] == [f"smtp 127.0.0.1:{port}"]
    result = CliRunner().invoke(
        main,
        [
            "distribute",
            "--allow-draft",
            "--via",
            "smtp",
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            str(port),
            "--smtp-tls",
            "none",
            "--from",
            SENDER,
            "--brief",
            str(workdir / "output" / "brief.pdf"),
            "--clients",
            str(workdir / "inputs" / "clients.csv"),
            "--output",
            str(workdir / "output"),
        ],
    )
    assert result.exit_code == 0
    assert "not sent by this run: 5 clients were already served via outbox by an earlier run" in result.output
    status_text = (
        CliRunner()
        .invoke(
            main,
            [
                "distribute",
                "--status",
                "--output",
                str(workdir / "output"),
                "--brief",
                str(workdir / "output" / "brief.pdf"),
            ],
        )
        .output
    )
    assert f"sent 5 via outbox, 1 via smtp 127.0.0.1:{port}" in status_text


def test_the_docs_review_step_records_nothing_and_no_recipe_skips_clients(workdir):
    from tests.conftest import user_docs

    docs = user_docs()
    recipes = docs.split("```")[1::2]  # every fenced block of the README and the guide
    assert any("briefgen distribute" in recipe for recipe in recipes)
    for recipe in recipes:
        commands = [line.split("#")[0].strip() for line in recipe.splitlines() if "briefgen distribute" in line]
        served = [
            c
            for c in commands
            if c.startswith(("briefgen distribute", "BRIEFGEN"))
            and not c.startswith("briefgen distribute [")
            and "--status" not in c
            and "--dry-run" not in c
            and "--help" not in c
        ]
        # One way of serving per recipe: never the outbox and then SMTP for the same brief.
        assert not (any("--via smtp" in c for c in served) and any("--via smtp" not in c for c in served)), recipe
    assert "--outbox" not in docs  # no such flag
    run(workdir, dry_run=True)
    assert not (workdir / "output" / "distribution.sqlite").exists()


FORMULAS = """client_id,name,firm,email,password,tier
-7,=HYPERLINK(\"http://evil.example/x\";\"Ana\"),+cmd|' /C calc'!A0,ana@acme.example.com,,=1+1
ok,Bob Smith,\tTabbed Fund,bob@jones.example.com,,
"""


def test_manifest_csv_cells_are_never_formulas(workdir):
    (workdir / "inputs" / "clients.csv").write_text(FORMULAS, encoding="utf-8")
    report = run(workdir)
    folder = workdir / "output" / "distribution" / report.version[:12]
    rows = {r["email"]: r for r in csv.DictReader((folder / "manifest.csv").read_text("utf-8").splitlines())}
    ana = rows["ana@acme.example.com"]
    assert ana["client_id"] == "'-7"
    assert ana["name"] == '\'=HYPERLINK("http://evil.example/x";"Ana")'
    assert ana["firm"] == "'+cmd|' /C calc'!A0" and ana["tier"] == "'=1+1"
    assert rows["bob@jones.example.com"]["name"] == "Bob Smith"
    for row in rows.values():
        assert not any(str(cell).startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())
    document = json.loads((folder / "manifest.json").read_text("utf-8"))  # JSON keeps the data as it is
    assert document["clients"][0]["name"] == '=HYPERLINK("http://evil.example/x";"Ana")'


@pytest.mark.parametrize("name", ["Dana Whitfield, CFA", "Research: Dana;", 'Dana "DW" Whitfield', "Łukasz Nowak"])
def test_analyst_names_with_specials_are_quoted_senders(workdir, name):
    import email
    import email.policy

    (workdir / "inputs" / "brief.yaml").write_text(
        (Path(__file__).parents[1] / "inputs" / "brief.yaml")
        .read_text("utf-8")
        .replace('"Dana Whitfield"', json.dumps(name, ensure_ascii=False)),
        encoding="utf-8",
    )
    report = distribute(workdir / "output" / "brief.pdf", workdir / "inputs" / "clients.csv", workdir / "output")
    assert report.ok
    eml = next((workdir / "output" / "outbox" / report.version[:12]).glob("*.eml"))
    sender = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)["From"]
    assert len(sender.addresses) == 1
    assert sender.addresses[0].display_name == name
    assert sender.addresses[0].addr_spec == "dana.whitfield@northgate-securities.example"


@pytest.mark.parametrize(
    "text", ["Dana Whitfield, CFA <dana@bank.example.com>", '"Research: Dana;" <d@bank.example.com>']
)
def test_a_from_flag_with_specials_in_the_name_is_one_sender(text):
    address = parse_sender(text)
    assert address.addr_spec.endswith("@bank.example.com") and "," not in address.addr_spec


@pytest.mark.parametrize("text", ["Dana\r\nBcc: eve@example.com <d@bank.example.com>", "A <a@x.com>, B <b@x.com>"])
def test_a_from_flag_cannot_inject_headers_or_add_recipients(text):
    with pytest.raises(DistributionError):
        parse_sender(text)


def test_a_run_failing_mid_batch_leaves_every_client_one_message_after_the_next_run(workdir, monkeypatch):
    """The outbox commits its ledger rows by the batch: a failure inside one loses and doubles nothing."""
    import briefgen.distribute.transport as transport
    from briefgen.distribute.ledger import Ledger
    from briefgen.errors import OutputError

    real = transport.move_into_place  # how the outbox puts each message, written already, in place
    written: list[str] = []

    def disk_full_on_the_third(staged, path):
        if len(written) == 2:
            raise OutputError(f"{path}: the disk is full")
        written.append(path.name)
        real(staged, path)

    monkeypatch.setattr(transport, "move_into_place", disk_full_on_the_third)
    with pytest.raises(OutputError):
        run(workdir)
    version = distribution_status(workdir / "output", workdir / "output" / "brief.pdf").current
    assert version is not None  # the brief on disk
    with Ledger(workdir / "output").open(exclusive=False) as ledger:
        states = [d.status for d in ledger.deliveries(version).values()]
    assert states == ["sent", "sent", "sending", "sending", "sending"]  # the batch's rest: in doubt, not lost
    monkeypatch.setattr(transport, "move_into_place", real)
    again = run(workdir)
    assert again.ok and again.count("already sent") == 2 and again.count("sent") == 3
    outbox = sorted((workdir / "output" / "outbox" / version[:12]).glob("*.eml"))
    ids = [parsed_id(p) for p in outbox]
    assert len(outbox) == 5 and len(set(ids)) == 5
    manifest = json.loads((workdir / "output" / "distribution" / version[:12] / "manifest.json").read_text())
    assert {c["status"] for c in manifest["clients"]} == {"sent"}


def parsed_id(path) -> str:
    import email
    import email.policy

    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["Message-ID"]
