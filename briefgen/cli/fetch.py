"""The `fetch` group: bring input figures up to date from public sources, by the default sector's commands.

The subcommands are the default sector's (Sector.commands, e.g. `fetch network` and `fetch
equities`, defined in the sector's fetch/commands.py), loaded when the group is used, so
`briefgen --help` imports no sector. What every such command shares is here: the --since
parser, the progress bar, and printing, then writing, a refresh plan.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING

import click

from briefgen.cli.main import main

if TYPE_CHECKING:
    from briefgen.fetch.merge import RefreshPlan


class _SectorCommands(click.Group):
    """A group whose subcommands are the default sector's `commands`, looked up on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *_sector_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self.commands.get(cmd_name) or _sector_commands().get(cmd_name)


@functools.cache
def _sector_commands() -> dict[str, click.Command]:
    from briefgen.sector import load_sector

    return {command.name or "": command for command in load_sector().commands()}


@main.group("fetch", cls=_SectorCommands)
def fetch_group() -> None:
    """Bring input figures up to date from public data sources (the only step that uses the network)."""


def parse_since(since: str | None) -> date | None:
    """The --since option's day, or None; a usage error naming the option when it is no date."""
    try:
        return date.fromisoformat(since) if since else None
    except ValueError:
        raise click.BadParameter(f"expected a date as YYYY-MM-DD, got {since!r}", param_hint="--since") from None


def write_plan(plan: RefreshPlan, dry_run: bool, lines: Iterable[str] = ()) -> bool:
    """Print the plan's notes and warnings (stderr), `lines`, what it changes; then write it unless `dry_run`.

    Returns whether the file was written.
    """
    from briefgen.fetch import apply_plan, describe

    for note in plan.notes:
        click.echo(f"Note: {note}", err=True)
    for warning in plan.warnings:
        click.echo(f"Warning: {warning}", err=True)
    for line in lines:
        click.echo(line)
    click.echo(describe(plan), nl=False)
    if plan.new_bytes is None:
        click.echo(f"{plan.path}: already up to date, nothing written.")
        return False
    if dry_run:
        click.echo(f"Dry run: {plan.path} not written.")
        return False
    backup = apply_plan(plan)
    click.echo(f"Wrote {plan.path}" + (f" (previous version kept as {backup})." if backup else "."))
    return True


class FetchProgress:
    """A rich progress bar over requests on stderr, when it is a terminal (logs get no bar and no blank line).

    `with FetchProgress() as progress:` gives the callback a fetch calls after each request.
    """

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        console = Console(stderr=True)
        self._bar = (
            Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
            )
            if console.is_terminal
            else None
        )
        self._task = self._bar.add_task("fetching", total=None) if self._bar else None

    def __enter__(self) -> Callable[[int, int | None, str], None]:
        if self._bar:
            self._bar.start()
        return self.update

    def update(self, done: int, total: int | None, what: str) -> None:
        if self._bar and self._task is not None:
            self._bar.update(self._task, completed=done, total=total, description=what)

    def __exit__(self, *exc: object) -> None:
        if self._bar:
            self._bar.stop()
