"""The CLI's wiring: every command documented, errors printed cleanly with exit status 1."""

from __future__ import annotations

import click
from click.testing import CliRunner

from briefgen.cli import main
from tests.conftest import ROOT, user_docs, write_inputs


def _commands(group: click.Group, prefix: str = "briefgen") -> list[tuple[str, click.Command]]:
    found = []
    context = click.Context(group)
    for name in group.list_commands(context):  # not group.commands: `fetch` loads the sector's commands lazily
        command = group.get_command(context, name)
        assert command is not None, name
        found.append((f"{prefix} {name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix} {name}"))
    return found


def test_every_command_has_help_and_is_in_the_docs():
    readme = user_docs()
    commands = _commands(main)
    assert {name for name, _ in commands} >= {
        "briefgen build",
        "briefgen check",
        "briefgen metrics",
        "briefgen watch",
        "briefgen history",
        "briefgen diff",
        "briefgen batch",
        "briefgen distribute",
        "briefgen fetch network",
    }
    for name, command in commands:
        assert command.help and command.help.strip(), f"{name} has no help text"
        assert f"`{name}" in readme, f"{name} is not documented in README.md or docs/"
        result = CliRunner().invoke(main, [*name.split()[1:], "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output


def test_readme_quick_start_is_the_two_make_targets():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    block = quick.split("```", 2)[1].strip().splitlines()
    assert block == ["make brief", "make test"]


def test_a_library_error_is_one_clean_message(tmp_path):
    folder = write_inputs(tmp_path, {"brief.yaml": "title: t\n", "network.csv": "date,btc_price_usd\n2025-01-01,1\n"})
    result = CliRunner().invoke(main, ["check", "--inputs", str(folder)])
    assert result.exit_code == 1
    assert result.output == (
        "Error: 3 problems in the inputs:\n"
        "  - network.csv: row 1, column 'blocks': missing column (add a column 'blocks')\n"
        "  - network.csv: row 1, column 'fees_btc': missing column (add a column 'fees_btc')\n"
        "  - network.csv: row 1, column 'hashrate_ehs': missing column (add a column 'hashrate_ehs' "
        "(EH/s) or 'difficulty')\n"
    )
    assert "Traceback" not in result.output


def test_a_bad_window_flag(tmp_path):
    result = CliRunner().invoke(main, ["metrics", "--inputs", str(ROOT / "inputs"), "--period", "2026-01-01"])
    assert result.exit_code == 1
    assert result.output == "Error: --period '2026-01-01': expected START:END as YYYY-MM-DD:YYYY-MM-DD\n"


def test_metrics_json_reproduces_the_seeds_headlines():
    import json

    result = CliRunner().invoke(main, ["metrics", "--inputs", str(ROOT / "inputs"), "--format", "json"])
    assert result.exit_code == 0, result.output
    m = json.loads(result.output)
    assert abs(m["equities"]["market_cap_usd"]["period"] / 1e9 - 62) < 0.5
    assert abs(m["equities"]["market_cap_usd"]["change_usd"] / 1e9 - 13) < 0.5
    assert abs(m["economics"]["hashprice_usd_per_ph_day"]["change_pct"] - 11) < 0.5
    assert abs(m["network"]["hashrate_ehs"]["change_pct"] + 2) < 0.5
    assert m["network"]["hashrate_ehs"]["period"] < m["network"]["hashrate_ehs"]["prior_month"]
    assert abs(m["economics"]["gross_margin_pct"]["period"] - 47) < 0.5
    assert abs(m["economics"]["gross_margin_pct"]["change_bps_vs_prior_month"] - 300) < 50
    assert abs(m["miners"]["hashrate_ehs"]["period"] - 419) < 2
    assert abs(m["miners"]["share_of_network_pct"]["period"] - 41) < 0.5
    assert abs(m["miners"]["capacity_added_ehs"] - 12) < 1
    assert m["miners"]["leaders"] == ["BTDR", "RIOT"]
    assert len(m["equities"]["by_ticker"]) == 14


def test_the_program_exits_fast_yet_prints_everything_and_keeps_its_exit_status(tmp_path):
    """`briefgen` (cli.run) leaves with os._exit: what it printed must still arrive whole, through a pipe."""
    import subprocess
    import sys

    def program(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "briefgen", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
        )

    in_process = CliRunner().invoke(main, ["metrics", "--inputs", str(ROOT / "inputs"), "--format", "csv"])
    piped = program("metrics", "--inputs", str(ROOT / "inputs"), "--format", "csv")
    assert piped.returncode == 0 and piped.stdout == in_process.output and len(piped.stdout) > 1000
    missing = program("check", "--inputs", str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.startswith("Error:") and "Traceback" not in missing.stderr
    usage = program("build", "--no-such-flag")
    assert usage.returncode == 2 and "No such option" in usage.stderr
    assert program("--version").returncode == 0


def test_a_missing_inputs_folder_is_one_clean_error_for_every_command(tmp_path):
    """build, batch and watch used to end in a FileNotFoundError traceback; every command now says the same."""
    missing = tmp_path / "no-such-folder"
    expected = f"Error: 1 problem in the inputs:\n  - {missing}: inputs folder not found (pass --inputs DIR)\n"
    for args in (
        ["build", "--output", str(tmp_path / "out")],
        ["batch", "--as-of", "2026-01-15", "--output", str(tmp_path / "out")],
        ["watch", "--output", str(tmp_path / "out")],
        ["check"],
        ["metrics"],
        ["fetch", "network"],
    ):
        result = CliRunner().invoke(main, [*args, "--inputs", str(missing)])
        assert result.exit_code == 1, (args, result.output)
        assert result.output == expected, args
        assert result.exception is None or isinstance(result.exception, SystemExit), args
    assert not (tmp_path / "out").exists()


def test_check_reads_the_clients_file_when_it_is_there(tmp_path):
    """The docs said `check` validates inputs/clients.csv; it did not read it at all."""
    import shutil

    folder = tmp_path / "inputs"
    shutil.copytree(ROOT / "tests" / "data" / "bad" / "_base", folder)
    (folder / "clients.csv").write_text(
        "client_id,name,firm,email\nc-1,Ana Smith,Acme,ana@acme.example.com\n"
        "c-2,Bob Jones,Jones,bob@jones.example.com\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["check", "--inputs", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "OK: clients.csv, 2 clients"
    (folder / "clients.csv").write_text(
        "client_id,name,firm,email\nc-1,Ana Smith,Acme,Ana <ana@acme.example.com>\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["check", "--inputs", str(folder)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: 1 problem in the inputs:\n  - clients.csv: row 2, column 'email': ")


def test_the_clients_file_is_never_committed():
    """clients.csv holds client emails and PDF passwords: git must ignore it wherever it is."""
    import subprocess

    if not (ROOT / ".git").exists():
        import pytest

        pytest.skip("not a git checkout")
    for path in ("inputs/clients.csv", "clients.csv", "elsewhere/clients.csv"):
        done = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT)
        assert done.returncode == 0, f"{path} is not ignored"
    assert "`clients.csv` is ignored by git" in user_docs()
