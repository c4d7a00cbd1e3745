"""Commands over the record of briefs: history, diff, batch."""

from __future__ import annotations

from pathlib import Path

import click

from briefgen.cli.main import INPUTS_OPTION, SECTOR_OPTION, main, output_option

HISTORY_OUTPUT_OPTION = output_option("Folder holding history.sqlite (the builds' output folder).")


@main.command("history")
@HISTORY_OUTPUT_OPTION
@click.option("--published", "published_only", is_flag=True, help="List publications only (no drafts).")
@click.option(
    "--builds", "builds_only", is_flag=True, help="The builds' table of old: period, PDF hash, variant and key figures."
)
@SECTOR_OPTION
def history_command(output_dir: Path, published_only: bool, builds_only: bool, sector: str) -> None:
    """List the briefs in OUTPUT: status (draft, published, revised, recalled), version, approver, key figures.

    The key figures are the sector's (--sector).
    """
    from briefgen.publish.lifecycle import lifecycle_table, publications
    from briefgen.sector import load_sector
    from briefgen.store.history import list_builds
    from briefgen.store.historytext import history_table

    builds = list_builds(output_dir)
    keys = load_sector(sector).key_figures
    if builds_only:
        click.echo(history_table(builds, keys), nl=False)
        return
    click.echo(lifecycle_table(builds, publications(output_dir), keys, published_only=published_only), nl=False)


@main.command("diff")
@click.argument("old_id", metavar="[A]", type=int, required=False)
@click.argument("new_id", metavar="[B]", type=int, required=False)
@HISTORY_OUTPUT_OPTION
@SECTOR_OPTION
def diff_command(old_id: int | None, new_id: int | None, output_dir: Path, sector: str) -> None:
    """Show the figures and input files that changed from build A to build B.

    Without ids, the last two builds; with only A, A against the last build. Ids are those of
    `briefgen history`. Figures show old -> new and the change (% for levels, bp for percentages).
    """
    from briefgen.sector import load_sector
    from briefgen.store.history import diff_builds
    from briefgen.store.historytext import diff_text

    click.echo(diff_text(diff_builds(output_dir, old_id, new_id, skip=load_sector(sector).derived)), nl=False)


def _iso_date(text: str, option: str):
    from datetime import date

    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"expected a date as YYYY-MM-DD, got {text.strip()!r}", param_hint=option) from None


@main.command("batch")
@click.option("--as-of", "as_of_dates", metavar="DATES", help="As-of dates, comma-separated: 2025-12-31,2026-01-15.")
@click.option("--from", "start", metavar="DATE", help="First day of a range of as-of dates (with --to).")
@click.option("--to", "end", metavar="DATE", help="Last day of the range (with --from).")
@click.option(
    "--cadence",
    type=click.Choice(["twice-monthly"]),
    default="twice-monthly",
    show_default=True,
    help="Which days of the range get a brief: every 15th and every month end.",
)
@INPUTS_OPTION
@output_option("Each brief goes to OUTPUT/batch/<as-of>/.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    metavar="N",
    help="Briefs built at once, one process each [default: the number of CPUs].",
)
@SECTOR_OPTION
def batch_command(
    as_of_dates: str | None,
    start: str | None,
    end: str | None,
    cadence: str,
    inputs_dir: Path,
    output_dir: Path,
    jobs: int | None,
    sector: str,
) -> None:
    """Build one brief per as-of date, in parallel, each into its own folder.

    A note dated the 15th covers the 1st to the 14th against the previous month's last 14 days; a
    note dated a month end covers that month against the previous one; any other date the month to
    date against as many days before. One failed brief does not stop the others; a table ends the
    run, and the exit status is 1 if any brief failed.
    """
    from briefgen.batch import BatchError, run_batch, summary_table, twice_monthly
    from briefgen.build import BuildOptions

    if as_of_dates and (start or end):
        raise click.UsageError("give either --as-of DATES or --from DATE --to DATE, not both")
    if as_of_dates:
        dates = [_iso_date(text, "--as-of") for text in as_of_dates.split(",") if text.strip()]
    elif start and end:
        first, last = _iso_date(start, "--from"), _iso_date(end, "--to")
        if last < first:
            raise click.BadParameter(f"{last} is before --from {first}", param_hint="--to")
        dates = twice_monthly(first, last)
        if not dates:
            raise click.UsageError(f"no {cadence} as-of date (a 15th or a month end) from {first} to {last}")
    else:
        raise click.UsageError("give the as-of dates: --as-of DATES, or --from DATE --to DATE")
    with _BatchProgress() as progress:
        results = run_batch(dates, BuildOptions(inputs_dir, output_dir, sector=sector), jobs=jobs, progress=progress)
    for result in results:
        for warning in result.warnings:
            click.echo(f"Warning: {result.as_of}: {warning}", err=True)
        if result.traceback:
            click.echo(f"{result.as_of}: {result.traceback}", err=True)
    click.echo(summary_table(results), nl=False)
    failed = sum(not r.ok for r in results)
    if failed:
        raise BatchError(
            f"{failed} of {len(results)} brief{'s' if len(results) != 1 else ''} failed; see the table above"
        )


class _BatchProgress:
    """A rich progress bar over briefs on stderr, when it is a terminal."""

    def __init__(self):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(stderr=True)
        self._bar = Progress(
            TextColumn("Building briefs"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[last]}", markup=False),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self._task = None

    def __enter__(self):
        return self.update

    def update(self, done: int, total: int, result) -> None:
        if self._task is None:
            self._bar.start()
            self._task = self._bar.add_task("", total=total, last="")
        last = f"{result.as_of} {result.status}" if result is not None else ""
        self._bar.update(self._task, completed=done, last=last)

    def __exit__(self, *exc) -> None:
        if self._task is not None:
            self._bar.stop()
