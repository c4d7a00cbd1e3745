"""The fetch commands: bring input figures up to date from public sources."""

from __future__ import annotations

from pathlib import Path

import click

from briefgen.cli import INPUTS_OPTION, main


@main.group("fetch")
def fetch_group() -> None:
    """Bring input figures up to date from public data sources (the only step that uses the network)."""


@fetch_group.command("network")
@INPUTS_OPTION
@click.option("--source", type=click.Choice(["coinmetrics", "mempool"]), default="coinmetrics", show_default=True,
              help="Coin Metrics community API (exact daily figures) or mempool.space (daily estimates).")
@click.option("--since", metavar="YYYY-MM-DD",
              help="First UTC day to fetch [default: 14 days before the last day in network.csv].")
@click.option("--base-url", metavar="URL",
              help="Another server with the same API (a mirror, a proxy, a local test server); http(s) only.")
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
def fetch_network(inputs_dir: Path, source: str, since: str | None, base_url: str | None, dry_run: bool) -> None:
    """Fetch daily price, hashrate, blocks and fees, and merge them into network.csv by date.

    New days are added and changed figures are listed (old -> new) before they are replaced; the
    previous file is kept in INPUTS/backups/, and a 'source' column records where each row came
    from. Nothing is written if the source cannot be reached or sends a value that fails the checks.
    """
    from datetime import date

    from briefgen.fetch import apply_plan, describe, plan_network_refresh

    try:
        first = date.fromisoformat(since) if since else None
    except ValueError:
        raise click.BadParameter(f"expected a date as YYYY-MM-DD, got {since!r}", param_hint="--since") from None
    with _FetchProgress() as progress:
        plan = plan_network_refresh(inputs_dir, source, first, base_url, progress=progress)
    for note in plan.notes:
        click.echo(f"Note: {note}", err=True)
    for warning in plan.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(describe(plan), nl=False)
    if plan.new_bytes is None:
        click.echo(f"{plan.path}: already up to date, nothing written.")
        return
    if dry_run:
        click.echo(f"Dry run: {plan.path} not written.")
        return
    backup = apply_plan(plan)
    click.echo(f"Wrote {plan.path}" + (f" (previous version kept as {backup})." if backup else "."))
    if source == "coinmetrics":
        from briefgen.fetch.coinmetrics import ATTRIBUTION, LICENCE

        click.echo(f'Coin Metrics data is {LICENCE}: credit "{ATTRIBUTION}" in the brief.')


class _FetchProgress:
    """A rich progress bar over requests on stderr, when it is a terminal (logs get no bar and no blank line)."""

    def __init__(self):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        console = Console(stderr=True)
        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console,
                             transient=True) if console.is_terminal else None
        self._task = self._bar.add_task("fetching", total=None) if self._bar else None

    def __enter__(self):
        if self._bar:
            self._bar.start()
        return self.update

    def update(self, done: int, total: int | None, what: str) -> None:
        if self._bar and self._task is not None:
            self._bar.update(self._task, completed=done, total=total, description=what)

    def __exit__(self, *exc) -> None:
        if self._bar:
            self._bar.stop()
