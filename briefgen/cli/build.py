"""Commands that make and check the brief: build, check, metrics, watch."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from briefgen.cli.main import COMPARE_OPTION, INPUTS_OPTION, PERIOD_OPTION, SECTOR_OPTION, main, output_option

if TYPE_CHECKING:
    from briefgen.pdf import Variant

OUTPUT_OPTION = output_option("Folder to write brief.pdf, brief.html and charts/ into.")


def _windows(period: str | None, compare: str | None):
    if not period and not compare:
        return None, None  # briefgen.inputs.config (pydantic, yaml) is only imported when a flag needs it
    from briefgen.inputs.windows import parse_window_flag

    return (
        parse_window_flag(period, "--period") if period else None,
        parse_window_flag(compare, "--compare") if compare else None,
    )


@main.command()
@INPUTS_OPTION
@OUTPUT_OPTION
@PERIOD_OPTION
@COMPARE_OPTION
@click.option(
    "--templates",
    "templates_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Override folder holding only the templates it changes.",
)
@click.option(
    "--pdf-variant",
    type=click.Choice(["pdf/a-3u", "pdf/ua-1"]),
    help="pdf/a-3u attaches the input files for archiving; pdf/ua-1 makes a tagged, accessible PDF.",
)
@click.option("--strict", is_flag=True, help="Treat warnings (data gaps, refused resources) as errors.")
@click.option("--no-cache", "no_cache", is_flag=True, help="Neither read nor write the cache in OUTPUT/.cache.")
@click.option("--refresh", is_flag=True, help="Ignore cached results and rebuild every stage (the cache is rewritten).")
@SECTOR_OPTION
def build(
    inputs_dir: Path,
    output_dir: Path,
    period: str | None,
    compare: str | None,
    templates_dir: Path | None,
    pdf_variant: Variant | None,  # one of click.Choice(VARIANTS)
    strict: bool,
    no_cache: bool,
    refresh: bool,
    sector: str,
) -> None:
    """Build output/brief.pdf and output/brief.html from the inputs."""
    from briefgen.build import BuildOptions
    from briefgen.build import build as run_build

    period_dates, compare_dates = _windows(period, compare)
    result = run_build(
        BuildOptions(
            inputs_dir,
            output_dir,
            period_dates,
            compare_dates,
            templates_dir,
            pdf_variant,
            strict,
            cache=not no_cache,
            refresh=refresh,
            parallel=True,
            sector=sector,
        )
    )
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
@SECTOR_OPTION
def check(inputs_dir: Path, strict: bool, sector: str) -> None:
    """Validate the inputs (and clients.csv, when it is there) without building; print every problem, or what was
    found."""
    from briefgen.distribute.clients import CLIENTS_FILE, load_clients
    from briefgen.errors import InputError, Problem
    from briefgen.sector import load_sector

    problems: list[Problem] = []
    try:
        loaded = load_sector(sector).load(inputs_dir, strict=strict)
    except InputError as exc:
        problems.extend(exc.problems)
    clients = None
    if (inputs_dir / CLIENTS_FILE).is_file():  # checked as `distribute` reads it, so a bad row shows before sending day
        try:
            clients = load_clients(inputs_dir / CLIENTS_FILE)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    for warning in loaded.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(inputs_summary(loaded), nl=False)
    if clients is not None:
        click.echo(f"OK: {CLIENTS_FILE}, {len(clients):,} client{'s' if len(clients) != 1 else ''}")


@main.command()
@INPUTS_OPTION
@PERIOD_OPTION
@COMPARE_OPTION
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="How to print the figures.",
)
@SECTOR_OPTION
def metrics(inputs_dir: Path, period: str | None, compare: str | None, fmt: str, sector: str) -> None:
    """Print every figure of the brief for the period and compare windows."""
    import json

    from briefgen.sector import load_sector

    chosen = load_sector(sector)
    period_dates, compare_dates = _windows(period, compare)
    loaded = chosen.load(inputs_dir, period=period_dates, compare=compare_dates)
    for warning in loaded.warnings:
        click.echo(f"Warning: {warning}", err=True)
    result = chosen.compute(loaded)
    if fmt == "json":  # the figures the history records, as plain data
        click.echo(json.dumps(chosen.figures(result), indent=2, allow_nan=False) + "\n", nl=False)
    else:
        click.echo((chosen.metrics_csv if fmt == "csv" else chosen.metrics_table)(result), nl=False)


def inputs_summary(inputs) -> str:
    """One line saying what was found: files, rows and date ranges (for `briefgen check`).

    `inputs` is what a sector's `load` returns: its `sources` (name, rows, first, last, later)
    and its `config` (the period and compare windows).
    """
    parts = []
    for source in inputs.sources:
        if source.first and source.last:
            later = f" (+{source.later:,} after the period, not used)" if source.later else ""
            parts.append(f"{source.name} {source.rows:,} rows {source.first:%Y-%m-%d}..{source.last:%Y-%m-%d}{later}")
        else:
            parts.append(source.name)
    config = inputs.config
    windows = f"period {config.period.start}..{config.period.end}, compare {config.compare.start}..{config.compare.end}"
    return f"OK: {len(inputs.sources)} files ({'; '.join(parts)}); {windows}\n"


TEMPLATES_OPTION = click.option(
    "--templates",
    "templates_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Override folder holding only the templates it changes.",
)


def report_rebuild(step) -> None:
    """Print one pass of `watch` or `serve` (a briefgen.live.watch.Rebuild): what changed and how it went."""
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


@main.command()
@INPUTS_OPTION
@OUTPUT_OPTION
@TEMPLATES_OPTION
@SECTOR_OPTION
def watch(inputs_dir: Path, output_dir: Path, templates_dir: Path | None, sector: str) -> None:
    """Rebuild the brief whenever the inputs or templates change (Ctrl-C to stop)."""
    from briefgen.build import BuildOptions
    from briefgen.cli.main import long_running
    from briefgen.live.watch import watch as run_watch

    long_running()
    click.echo(f"watching {inputs_dir} and the templates; Ctrl-C to stop")
    # Charts and the next chunk are drawn in forked children, as in `build`; run_watch loads
    # matplotlib here first, so each child starts with it instead of importing it again.
    options = BuildOptions(inputs_dir, output_dir, templates_dir=templates_dir, sector=sector, parallel=True)
    try:
        run_watch(options, report_rebuild)
    except KeyboardInterrupt:
        click.echo("stopped")
