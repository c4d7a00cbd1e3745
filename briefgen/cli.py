"""Turn command lines into calls of the briefgen library, and its errors into clean messages.

Click only parses, calls one library function and prints. Heavy imports (pandas, matplotlib,
WeasyPrint) happen inside the commands, so `briefgen --help` is instant.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import time
from pathlib import Path

import click

from briefgen import __version__
from briefgen.errors import BriefgenError

INPUTS_OPTION = click.option(
    "--inputs", "inputs_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("inputs"),
    show_default=True, help="Folder holding brief.yaml and the input tables.",
)
PERIOD_OPTION = click.option("--period", metavar="START:END", help="Override the period window (YYYY-MM-DD:YYYY-MM-DD).")
COMPARE_OPTION = click.option("--compare", metavar="START:END", help="Override the compare window (YYYY-MM-DD:YYYY-MM-DD).")


class BriefgenGroup(click.Group):
    """A group that turns BriefgenError into `Error: ...` and exit status 1, in one place."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BriefgenError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=BriefgenGroup)
@click.version_option(__version__, prog_name="briefgen")
def main() -> None:
    """Build the Bitcoin-mining sector brief from a folder of input figures."""


def run() -> None:
    """The `briefgen` program: run a command, then leave without tearing the interpreter down.

    Once a command has returned, its files are written, renamed and closed and its databases
    committed; what is left is freeing a few hundred thousand objects of pandas, matplotlib and
    WeasyPrint one by one, about half a second. So flush what was printed and exit at once.
    A crash (anything but SystemExit) still unwinds normally and prints its traceback.

    A build allocates millions of short-lived objects (WeasyPrint's boxes, pandas, pypdf) on top of
    a large long-lived heap of modules; Python's default collector, run every 700 allocations,
    rescans that heap over and over (about 0.5 s of a cold build). Cycles are still collected,
    less often: a few MB more at the peak.
    """
    gc.set_threshold(100_000, 50, 100)
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            code = code or 1
    os._exit(code)


def _windows(period: str | None, compare: str | None):
    if not period and not compare:
        return None, None  # briefgen.config (pydantic, yaml) is only imported when a flag needs it
    from briefgen.config import parse_window_flag

    return (
        parse_window_flag(period, "--period") if period else None,
        parse_window_flag(compare, "--compare") if compare else None,
    )


@main.command()
@INPUTS_OPTION
@click.option("--output", "output_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, help="Folder to write brief.pdf, brief.html and charts/ into.")
@PERIOD_OPTION
@COMPARE_OPTION
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Override folder holding only the templates it changes.")
@click.option("--pdf-variant", type=click.Choice(["pdf/a-3u", "pdf/ua-1"]),
              help="pdf/a-3u attaches the input files for archiving; pdf/ua-1 makes a tagged, accessible PDF.")
@click.option("--strict", is_flag=True, help="Treat warnings (data gaps, refused resources) as errors.")
@click.option("--no-cache", "no_cache", is_flag=True, help="Neither read nor write the cache in OUTPUT/.cache.")
@click.option("--refresh", is_flag=True, help="Ignore cached results and rebuild every stage (the cache is rewritten).")
def build(inputs_dir: Path, output_dir: Path, period: str | None, compare: str | None, templates_dir: Path | None,
          pdf_variant: str | None, strict: bool, no_cache: bool, refresh: bool) -> None:
    """Build output/brief.pdf and output/brief.html from the inputs."""
    from briefgen.build import BuildOptions, build as run_build

    period_dates, compare_dates = _windows(period, compare)
    result = run_build(BuildOptions(inputs_dir, output_dir, period_dates, compare_dates, templates_dir, pdf_variant,
                                    strict, cache=not no_cache, refresh=refresh))
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    for file in result.files:
        pages = f"{file.pages} pages, " if file.pages is not None else ""
        click.echo(f"{file.path}  {pages}{file.size / 1024:,.0f} KB")
    if result.unchanged:
        click.echo(f"nothing changed since the last build; nothing rewritten ({result.seconds:.2f} s)")
    else:
        drawn = f"{len(result.drawn)} drawn, {result.charts - len(result.drawn)} from the cache"
        click.echo(f"built in {result.seconds:.2f} s ({result.charts} charts: {drawn})")


@main.command()
@INPUTS_OPTION
@click.option("--strict", is_flag=True, help="Treat warnings (such as gaps in the daily series) as errors.")
def check(inputs_dir: Path, strict: bool) -> None:
    """Validate the inputs without building; print every problem, or what was found."""
    from briefgen.inputs import load_inputs
    from briefgen.report import inputs_summary

    loaded = load_inputs(inputs_dir, strict=strict)
    for warning in loaded.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(inputs_summary(loaded), nl=False)


@main.command()
@INPUTS_OPTION
@PERIOD_OPTION
@COMPARE_OPTION
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="How to print the figures.")
def metrics(inputs_dir: Path, period: str | None, compare: str | None, fmt: str) -> None:
    """Print every figure of the brief for the period and compare windows."""
    from briefgen.inputs import load_inputs
    from briefgen.metrics import compute
    from briefgen.report import metrics_as_csv, metrics_as_json, metrics_as_table

    period_dates, compare_dates = _windows(period, compare)
    loaded = load_inputs(inputs_dir, period=period_dates, compare=compare_dates)
    for warning in loaded.warnings:
        click.echo(f"Warning: {warning}", err=True)
    result = compute(loaded)
    printer = {"json": metrics_as_json, "csv": metrics_as_csv, "table": metrics_as_table}[fmt]
    click.echo(printer(result), nl=False)


# --- distribute ----------------------------------------------------------------------------


@main.command("distribute")
@click.option("--brief", type=click.Path(dir_okay=False, path_type=Path), default=Path("output/brief.pdf"),
              show_default=True, help="The finished brief to send.")
@click.option("--clients", "clients_file", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("inputs/clients.csv"), show_default=True,
              help="client_id,name,firm,email[,password][,tier]: one row per recipient.")
@click.option("--output", "output_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, help="Folder for the copies, the outbox, the manifest and the delivery ledger.")
@click.option("--via", type=click.Choice(["outbox", "smtp"]), default="outbox", show_default=True,
              help="Write .eml files to OUTPUT/outbox/, or send through an SMTP server.")
@click.option("--smtp-host", metavar="H", help="SMTP server (with --via smtp).")
@click.option("--smtp-port", metavar="P", type=click.IntRange(1, 65535),
              help="SMTP port [default: 587 for starttls, 465 for ssl, 25 for none].")
@click.option("--smtp-tls", type=click.Choice(["starttls", "ssl", "none"]), default="starttls", show_default=True,
              help="How the connection to the server is encrypted.")
@click.option("--smtp-user", metavar="U",
              help="Log in as U; the password is read from the environment variable BRIEFGEN_SMTP_PASSWORD.")
@click.option("--from", "sender", metavar="ADDRESS", envvar="BRIEFGEN_MAIL_FROM",
              help="From address, e.g. 'Mining desk <desk@example.com>' [default: $BRIEFGEN_MAIL_FROM, "
                   "else the first analyst with an email in brief.yaml beside the clients file].")
@click.option("--dry-run", is_flag=True, help="Check everything and show who would get a copy; write and send nothing.")
@click.option("--status", "show_status", is_flag=True,
              help="Show sent, pending, in doubt and failed per brief version, then exit.")
def distribute_command(brief: Path, clients_file: Path, output_dir: Path, via: str, smtp_host: str | None,
                       smtp_port: int | None, smtp_tls: str, smtp_user: str | None, sender: str | None,
                       dry_run: bool, show_status: bool) -> None:
    """Send each client one copy of the brief, marked for them, exactly once.

    Copies are stamped "Prepared for <name>, <firm>" on every page and encrypted when clients.csv
    gives a password. A ledger in OUTPUT remembers every delivery: run the command again after a
    failure or a crash and only the missing copies go out. Exit status 1 if any delivery failed.
    """
    from briefgen.distribute import distribute, distribution_status
    from briefgen.errors import DistributionError

    if show_status:
        _print_status(distribution_status(output_dir, brief, clients_file))
        return
    smtp = None
    if via == "smtp":
        from briefgen.mail import SmtpSettings

        smtp = SmtpSettings.from_env(smtp_host, smtp_port, smtp_tls, smtp_user)
    with _ProgressBar("Distributing" if not dry_run else "Checking") as progress:
        report = distribute(brief, clients_file, output_dir, via=via, smtp=smtp, sender=sender, dry_run=dry_run,
                            progress=progress)
    _print_report(report)
    if not report.ok:
        count = len(report.undelivered)
        raise DistributionError(
            f"{count} deliver{'y' if count == 1 else 'ies'} not completed; fix the cause and run "
            "`briefgen distribute` again: only the missing copies will be sent"
        )


class _ProgressBar:
    """A rich progress bar on stderr, driven by distribute()'s progress callback; only on a terminal."""

    def __init__(self, label: str):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        console = Console(stderr=True)
        self._bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                             TextColumn("{task.fields[client]}", markup=False),  # ids are data, not markup
                             console=console, transient=True,
                             disable=not console.is_terminal)
        self._task = None

    def __enter__(self):
        return self.update

    def update(self, done: int, total: int, outcome) -> None:
        if self._task is None:  # started on the first report, once the inputs have passed their checks
            self._bar.start()
            self._task = self._bar.add_task("", total=total, client="")
        self._bar.update(self._task, completed=done, client=outcome.client_id if outcome else "")

    def __exit__(self, *exc) -> None:
        if self._task is not None:
            self._bar.stop()


def _print_report(report) -> None:
    counts = {}
    for outcome in report.outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    title = f' "{report.title}"' if report.title else ""
    click.echo(f"Brief {report.version[:12]}{title} via {report.via}{' (dry run)' if report.dry_run else ''}")
    order = ["would send", "would re-send", "sent", "already sent", "failed", "pending", "in doubt"]
    click.echo("  " + " · ".join(f"{status} {counts[status]}" for status in order if status in counts))
    for outcome in report.outcomes:
        if outcome.status in ("failed", "pending", "in doubt", "would re-send"):
            click.echo(f"  {outcome.status}: {outcome.client_id} <{outcome.email}>: {outcome.detail}")
    if report.stopped:
        click.echo(f"Stopped early: {report.stopped}")
    if report.manifest:
        click.echo(f"Manifest: {report.manifest}")


def _print_status(status) -> None:
    if not status.versions:
        click.echo("No brief has been distributed from this output folder yet.")
        return
    click.echo(f"{'version':<13}  {'sent':>5}  {'pending':>7}  {'in doubt':>8}  {'failed':>6}  {'first run (UTC)':<16}  title")
    for v in status.versions:
        mark = "*" if v.version == status.current else " "
        click.echo(f"{v.version[:12] + mark:<13}  {v.sent:>5}  {v.pending:>7}  {v.in_doubt:>8}  {v.failed:>6}  "
                   f"{v.first_seen[:16].replace('T', ' ') or 'not yet':<16}  {v.title or ''}")
    if status.current:
        click.echo("* the brief in --brief")
    if status.running:
        click.echo("A distribute run is in progress: its 'in doubt' rows are being sent now.")
    elif any(not v.first_seen for v in status.versions if v.version == status.current):
        click.echo("Run `briefgen distribute` to send it.")
    elif any(v.pending or v.in_doubt or v.failed for v in status.versions if v.version == status.current):
        click.echo("Run `briefgen distribute` again to serve the rest; in-doubt copies are re-sent with the same Message-ID.")


# --- fetch -----------------------------------------------------------------------------------


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


# --- watch -----------------------------------------------------------------------------------


@main.command()
@INPUTS_OPTION
@click.option("--output", "output_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, help="Folder to write brief.pdf, brief.html and charts/ into.")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Override folder holding only the templates it changes.")
@click.option("--interval", type=click.FloatRange(0.05, 60), default=0.3, show_default=True,
              help="Seconds between looks at the files.")
def watch(inputs_dir: Path, output_dir: Path, templates_dir: Path | None, interval: float) -> None:
    """Rebuild the brief whenever the inputs or templates change (Ctrl-C to stop)."""
    from briefgen.build import BuildOptions
    from briefgen.watch import Rebuild, watch as run_watch

    def report(step: Rebuild) -> None:
        what = ", ".join(Path(name).name for name in step.changed[:4]) or "first build"
        if len(step.changed) > 4:
            what += f" and {len(step.changed) - 4} more"
        stamp = time.strftime("%H:%M:%S")
        if step.error is not None:
            click.echo(f"{stamp}  {what}: failed after {step.seconds:.2f} s; waiting for a fix", err=True)
            click.echo(f"Error: {step.error}", err=True)
            return
        result = step.result
        if result.unchanged:
            click.echo(f"{stamp}  {what}: nothing changed in the brief ({step.seconds:.2f} s)")
            return
        warned = f", {len(result.warnings)} warning(s)" if result.warnings else ""
        click.echo(f"{stamp}  {what}: rebuilt in {step.seconds:.2f} s, {len(result.drawn)} chart(s) drawn{warned}")
        for warning in result.warnings:
            click.echo(f"Warning: {warning}", err=True)

    click.echo(f"watching {inputs_dir} and the templates; Ctrl-C to stop")
    try:
        run_watch(BuildOptions(inputs_dir, output_dir, templates_dir=templates_dir), report, interval=interval)
    except KeyboardInterrupt:
        click.echo("stopped")


# --- history, diff and batch -----------------------------------------------------------------

HISTORY_OUTPUT_OPTION = click.option(
    "--output", "output_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
    show_default=True, help="Folder holding history.sqlite (the builds' output folder).",
)


@main.command("history")
@HISTORY_OUTPUT_OPTION
def history_command(output_dir: Path) -> None:
    """List the briefs built into OUTPUT: id, as-of date, period, PDF hash, variant and key figures."""
    from briefgen.history import history_table, list_builds

    click.echo(history_table(list_builds(output_dir)), nl=False)


@main.command("diff")
@click.argument("old_id", metavar="[A]", type=int, required=False)
@click.argument("new_id", metavar="[B]", type=int, required=False)
@HISTORY_OUTPUT_OPTION
def diff_command(old_id: int | None, new_id: int | None, output_dir: Path) -> None:
    """Show the figures and input files that changed from build A to build B.

    Without ids, the last two builds; with only A, A against the last build. Ids are those of
    `briefgen history`. Figures show old -> new and the change (% for levels, bp for percentages).
    """
    from briefgen.history import diff_builds, diff_text

    click.echo(diff_text(diff_builds(output_dir, old_id, new_id)), nl=False)


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
@click.option("--cadence", type=click.Choice(["twice-monthly"]), default="twice-monthly", show_default=True,
              help="Which days of the range get a brief: every 15th and every month end.")
@INPUTS_OPTION
@click.option("--output", "output_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, help="Each brief goes to OUTPUT/batch/<as-of>/.")
@click.option("--jobs", type=click.IntRange(min=1), metavar="N",
              help="Briefs built at once, one process each [default: the number of CPUs].")
def batch_command(as_of_dates: str | None, start: str | None, end: str | None, cadence: str, inputs_dir: Path,
                  output_dir: Path, jobs: int | None) -> None:
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
        results = run_batch(dates, BuildOptions(inputs_dir, output_dir), jobs=jobs, progress=progress)
    for result in results:
        for warning in result.warnings:
            click.echo(f"Warning: {result.as_of}: {warning}", err=True)
        if result.traceback:
            click.echo(f"{result.as_of}: {result.traceback}", err=True)
    click.echo(summary_table(results), nl=False)
    failed = sum(not r.ok for r in results)
    if failed:
        raise BatchError(f"{failed} of {len(results)} brief{'s' if len(results) != 1 else ''} failed; "
                         "see the table above")


class _BatchProgress:
    """A rich progress bar over briefs on stderr, when it is a terminal."""

    def __init__(self):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(stderr=True)
        self._bar = Progress(TextColumn("Building briefs"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                             TextColumn("{task.fields[last]}", markup=False), console=console, transient=True,
                             disable=not console.is_terminal)
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
