"""`briefgen distribute`: wiring, summaries, exact error text and exit codes."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefgen.cli import main
from tests.conftest import user_docs
from tests.test_distribute_support import SENDER, Mailbox, no_warnings  # noqa: F401


@pytest.fixture
def cli(workdir, monkeypatch):
    """Run `briefgen ...` inside the work folder, with a sender and no SMTP password set.

    The work folder's brief is a fixture PDF, not a recorded publication: these tests are about
    delivery, so they send it as a draft (`--allow-draft`); test_publish.py covers the refusal.
    """
    monkeypatch.chdir(workdir)
    runner = CliRunner(env={"BRIEFGEN_MAIL_FROM": SENDER, "BRIEFGEN_SMTP_PASSWORD": None})
    return lambda *args: runner.invoke(main, ["distribute", "--brief", "output/brief.pdf", "--allow-draft", *args])


def short_version(root: Path) -> str:
    return hashlib.sha256((root / "output" / "brief.pdf").read_bytes()).hexdigest()[:12]


def test_help_lists_every_option_and_the_docs_describe_them():
    result = CliRunner().invoke(main, ["distribute", "--help"])
    assert result.exit_code == 0
    options = re.findall(r"(--[a-z][a-z-]+)", result.output)
    expected = {
        "--brief",
        "--clients",
        "--output",
        "--via",
        "--smtp-host",
        "--smtp-port",
        "--smtp-tls",
        "--smtp-user",
        "--from",
        "--dry-run",
        "--status",
        "--help",
    }
    assert expected <= set(options)
    docs = user_docs()
    assert all(option in docs for option in expected - {"--help"})
    assert "distribute" in CliRunner().invoke(main, ["--help"]).output


def test_a_run_prints_a_summary_and_a_second_run_sends_nothing(cli, workdir):
    version = short_version(workdir)
    first = cli()
    assert first.exit_code == 0, first.output
    assert first.stdout == (
        f'Brief {version} "Bitcoin mining: mid-January update" via outbox\n'
        "  sent 5\n"
        f"Manifest: {Path('output') / 'distribution' / version / 'manifest.csv'}\n"
    )
    assert len(list((workdir / "output" / "outbox" / version).glob("*.eml"))) == 5
    second = cli()
    assert second.exit_code == 0
    assert second.stdout.splitlines()[1] == "  already sent 5"


def test_status_shows_counts_per_version(cli, workdir):
    before = cli("--status").stdout.splitlines()
    assert before[1].split() == [
        f"{short_version(workdir)}*",
        "0",
        "5",
        "0",
        "0",
        "not",
        "yet",
        "Bitcoin",
        "mining:",
        "mid-January",
        "update",
    ]
    assert before[2:] == ["* the brief in --brief", "Run `briefgen distribute` to send it."]
    (workdir / "output" / "brief.pdf").rename(workdir / "brief.pdf")
    assert cli("--status").stdout == "No brief has been distributed from this output folder yet.\n"
    (workdir / "brief.pdf").rename(workdir / "output" / "brief.pdf")
    cli()
    lines = cli("--status").stdout.splitlines()
    assert lines[0].split() == ["version", "sent", "pending", "in", "doubt", "failed", "first", "run", "(UTC)", "title"]
    assert lines[1].split()[:5] == [f"{short_version(workdir)}*", "5", "0", "0", "0"]
    assert lines[1].endswith("Bitcoin mining: mid-January update")
    assert lines[2:] == [f"{short_version(workdir)}  sent 5 via outbox", "* the brief in --brief"]


def test_a_dry_run_lists_who_would_get_a_copy(cli, workdir):
    result = cli("--dry-run")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f'Brief {short_version(workdir)} "Bitcoin mining: mid-January update" via outbox (dry run)',
        "  would send 5",
    ]
    assert not (workdir / "output" / "distribution.sqlite").exists()


def test_bad_clients_are_refused_with_file_row_and_column(cli, workdir):
    (workdir / "inputs" / "clients.csv").write_text(
        'client_id,name,firm,email\nx,"Eve\r\nBcc: all@example.com",Acme,eve@example.com\ny,Yan,Acme,yan@\n'
    )
    result = cli()
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: 2 problems in the inputs:\n"
        "  - clients.csv: row 2, column 'name': holds a line break or control character (write it on one line)\n"
        "  - clients.csv: row 3, column 'email': not a valid address: There must be something after the @-sign. "
        "(write one plain address, e.g. ana@example.com)\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--via", "smtp"], "Error: --via smtp needs --smtp-host\n"),
        (
            ["--via", "smtp", "--smtp-host", "127.0.0.1", "--smtp-user", "desk"],
            "Error: --smtp-user is set but BRIEFGEN_SMTP_PASSWORD is empty; export the password there\n",
        ),
        (
            ["--brief", "missing.pdf"],
            "Error: missing.pdf not found; run `briefgen build` first, or pass --brief FILE\n",
        ),
        (
            ["--from", "desk@example.com, eve@example.com"],
            "Error: sender 'desk@example.com, eve@example.com' is not one address; "
            "write it as 'Desk Name <desk@example.com>'\n",
        ),
    ],
)
def test_settings_errors_are_clean_messages(cli, args, message):
    result = cli(*args)
    assert (result.exit_code, result.stderr) == (1, message)


def test_a_refused_recipient_makes_the_exit_status_1_and_is_named(cli, smtp_server):
    mailbox = Mailbox(refuse={"zoe@athena.example.com": "550 5.1.1 mailbox unavailable"})
    port = smtp_server(mailbox).port
    args = ["--via", "smtp", "--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--smtp-tls", "none"]
    result = cli(*args)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[1] == "  sent 4 · failed 1"
    assert lines[2] == "  failed: zeta <zoe@athena.example.com>: 550 5.1.1 mailbox unavailable"
    assert result.stderr.endswith(
        "Error: 1 delivery not completed; fix the cause and run `briefgen distribute` again: "
        "only the missing copies will be sent\n"
    )
    mailbox.refuse.clear()
    again = cli(*args)
    assert again.exit_code == 0 and again.stdout.splitlines()[1] == "  sent 1 · already sent 4"
    assert len(mailbox.received) == 5
