"""The distribute command: marked copies to every client, exactly once."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from briefgen.cli.main import main, output_option
from briefgen.cli.publish import NOW_OPTION, parse_now

if TYPE_CHECKING:
    from rich.progress import TaskID

    from briefgen.distribute.deliver import DistributionReport


@main.command("distribute")
@click.option(
    "--brief",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The PDF to send [default: the latest published version in OUTPUT/published/]. A draft is "
    "refused unless --allow-draft; a recalled version always.",
)
@click.option("--allow-draft", is_flag=True, help="Send a draft given by --brief (for an internal review list).")
@click.option(
    "--clients",
    "clients_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("inputs/clients.csv"),
    show_default=True,
    help="client_id,name,firm,email[,password][,tier]: one row per recipient.",
)
@output_option("Folder for the copies, the outbox, the manifest and the delivery ledger.")
@click.option(
    "--via",
    type=click.Choice(["outbox", "smtp"]),
    default="outbox",
    show_default=True,
    help="Write .eml files to OUTPUT/outbox/, or send through an SMTP server.",
)
@click.option("--smtp-host", metavar="H", help="SMTP server (with --via smtp).")
@click.option(
    "--smtp-port",
    metavar="P",
    type=click.IntRange(1, 65535),
    help="SMTP port [default: 587 for starttls, 465 for ssl, 25 for none].",
)
@click.option(
    "--smtp-tls",
    type=click.Choice(["starttls", "ssl", "none"]),
    default="starttls",
    show_default=True,
    help="How the connection to the server is encrypted.",
)
@click.option(
    "--smtp-user",
    metavar="U",
    help="Log in as U; the password is read from the environment variable BRIEFGEN_SMTP_PASSWORD.",
)
@click.option(
    "--from",
    "sender",
    metavar="ADDRESS",
    envvar="BRIEFGEN_MAIL_FROM",
    help="From address, e.g. 'Research desk <desk@example.com>' [default: $BRIEFGEN_MAIL_FROM, "
    "else the first analyst with an email in brief.yaml beside the clients file].",
)
@click.option(
    "--templates",
    "templates_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Override folder, as for build: its email/brief.txt replaces the email's body template.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Review: check everything and show who would get a copy; write, send and record nothing.",
)
@click.option(
    "--status",
    "show_status",
    is_flag=True,
    help="Show sent, pending, in doubt and failed per brief version, and who is under embargo; then exit.",
)
@NOW_OPTION
def distribute_command(
    brief: Path,
    clients_file: Path,
    output_dir: Path,
    via: str,
    smtp_host: str | None,
    smtp_port: int | None,
    smtp_tls: str,
    smtp_user: str | None,
    sender: str | None,
    templates_dir: Path | None,
    dry_run: bool,
    show_status: bool,
    allow_draft: bool,
    now_text: str | None,
) -> None:
    """Send each client one copy of the brief, marked for them, exactly once.

    Copies are stamped "Prepared for <name>, <firm>" on every page and encrypted when clients.csv
    gives a password. A ledger in OUTPUT remembers every delivery: run the command again after a
    failure or a crash and only the missing copies go out. Exit status 1 if any delivery failed.
    """
    from briefgen.distribute.deliver import distribute, distribution_status
    from briefgen.errors import DistributionError
    from briefgen.publish.versions import held_clients, select_brief

    now = parse_now(now_text)
    if show_status:
        selected = None
        with contextlib.suppress(DistributionError):  # nothing published yet: the ledger's counts alone
            selected = select_brief(output_dir, brief, allow_draft=True)
        _print_status(distribution_status(output_dir, selected.path if selected else brief, clients_file))
        if selected is not None and selected.publication is not None:
            _print_embargoed(selected.publication, clients_file, now)
        return
    selected = select_brief(output_dir, brief, allow_draft=allow_draft)
    held = held_clients(selected.publication, _clients(clients_file), _embargo_hours(clients_file), now)
    smtp = None
    if via == "smtp":
        from briefgen.distribute.mail import SmtpSettings

        smtp = SmtpSettings.from_env(smtp_host, smtp_port, smtp_tls, smtp_user)
    with _ProgressBar("Distributing" if not dry_run else "Checking") as progress:
        report = distribute(
            selected.path,
            clients_file,
            output_dir,
            via=via,
            smtp=smtp,
            sender=sender,
            dry_run=dry_run,
            progress=progress,
            templates_dir=templates_dir,
            held=held,
        )
    _print_report(report)
    if not dry_run:
        from briefgen.store.audit import append

        counts: dict[str, int] = {}
        for outcome in report.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        append(
            output_dir,
            "distribute",
            {
                "publication": selected.publication.label if selected.publication else "draft",
                "pdf_sha256": report.version,
                "via": via,
                "counts": counts,
                "served": sorted(o.client_id for o in report.outcomes if o.status == "sent"),
            },
            at=now,
        )
    if not report.ok:
        count = len(report.undelivered)
        raise DistributionError(
            f"{count} deliver{'y' if count == 1 else 'ies'} not completed; fix the cause and run "
            "`briefgen distribute` again: only the missing copies will be sent"
        )


def _clients(clients_file: Path):
    from briefgen.distribute.clients import load_clients

    return load_clients(clients_file, label=clients_file.name) if clients_file.is_file() else ()


def _embargo_hours(clients_file: Path) -> dict[str, float]:
    """The tiers' embargoes from brief.yaml beside the clients file (`distribution: embargo_hours:`)."""
    if not (clients_file.parent / "brief.yaml").is_file():
        return {}
    from briefgen.inputs.config import HouseKeys, load_config

    return dict(load_config(clients_file.parent, model=HouseKeys).embargo_hours)


def _print_embargoed(publication, clients_file: Path, now) -> None:
    from briefgen.publish.versions import held_clients

    clients = _clients(clients_file)
    held = held_clients(publication, clients, _embargo_hours(clients_file), now)
    tiers = {c.client_id: c.tier for c in clients}
    for client_id, until in sorted(held.items(), key=lambda item: (item[1], item[0])):
        click.echo(f"  embargoed: {client_id} (tier {tiers[client_id]}) until {until:%Y-%m-%d %H:%M} UTC")


class _ProgressBar:
    """A rich progress bar on stderr, driven by distribute()'s progress callback; only on a terminal."""

    def __init__(self, label: str):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        console = Console(stderr=True)
        self._bar = Progress(
            TextColumn(label),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[client]}", markup=False),  # ids are data, not markup
            console=console,
            transient=True,
            disable=not console.is_terminal,
            auto_refresh=False,  # no refresh thread: a process with one thread may stamp on every core
        )
        self._task: TaskID | None = None
        self._shown = 0.0

    def __enter__(self):
        return self.update

    def update(self, done: int, total: int, outcome) -> None:
        if self._task is None:  # started on the first report, once the inputs have passed their checks
            self._bar.start()
            self._task = self._bar.add_task("", total=total, client="")
        now = time.monotonic()
        redraw = done == total or now - self._shown >= 0.1  # ten times a second, and the last
        self._bar.update(self._task, completed=done, client=outcome.client_id if outcome else "", refresh=redraw)
        if redraw:
            self._shown = now

    def __exit__(self, *exc) -> None:
        if self._task is not None:
            self._bar.stop()


def _print_report(report: DistributionReport) -> None:
    counts: dict[str, int] = {}
    for outcome in report.outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    title = f' "{report.title}"' if report.title else ""
    click.echo(f"Brief {report.version[:12]}{title} via {report.via}{' (dry run)' if report.dry_run else ''}")
    order = ["would send", "would re-send", "sent", "already sent", "embargoed", "failed", "pending", "in doubt"]
    click.echo("  " + " · ".join(f"{status} {counts[status]}" for status in order if status in counts))
    for outcome in report.outcomes:
        if outcome.status in ("failed", "pending", "in doubt", "would re-send", "embargoed"):
            click.echo(f"  {outcome.status}: {outcome.client_id} <{outcome.email}>: {outcome.detail}")
    for way, count in report.served_elsewhere.items():
        # Said out loud: a run via SMTP after an outbox run skips the clients the outbox served.
        click.echo(
            f"  not sent by this run: {count} client{'s were' if count != 1 else ' was'} already served via {way} "
            "by an earlier run (see --status)"
        )
    if report.stopped:
        click.echo(f"Stopped early: {report.stopped}")
    if report.manifest:
        click.echo(f"Manifest: {report.manifest}")


def _print_status(status) -> None:
    if not status.versions:
        click.echo("No brief has been distributed from this output folder yet.")
        return
    click.echo(
        f"{'version':<13}  {'sent':>5}  {'pending':>7}  {'in doubt':>8}  {'failed':>6}  {'first run (UTC)':<16}  title"
    )
    for v in status.versions:
        mark = "*" if v.version == status.current else " "
        click.echo(
            f"{v.version[:12] + mark:<13}  {v.sent:>5}  {v.pending:>7}  {v.in_doubt:>8}  {v.failed:>6}  "
            f"{v.first_seen[:16].replace('T', ' ') or 'not yet':<16}  {v.title or ''}"
        )
    for v in status.versions:
        if v.served_by:
            ways = ", ".join(f"{count} via {way}" for way, count in v.served_by)
            click.echo(f"{v.version[:12]}  sent {ways}")
    if status.current:
        click.echo("* the brief in --brief")
    if status.running:
        click.echo("A distribute run is in progress: its 'in doubt' rows are being sent now.")
    elif any(not v.first_seen for v in status.versions if v.version == status.current):
        click.echo("Run `briefgen distribute` to send it.")
    elif any(v.pending or v.in_doubt or v.failed for v in status.versions if v.version == status.current):
        click.echo(
            "Run `briefgen distribute` again to serve the rest; in-doubt copies are re-sent with the same Message-ID."
        )
