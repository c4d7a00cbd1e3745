"""Turn command lines into calls of the briefgen library, and its errors into clean messages.

Click only parses, calls one library function and prints. Heavy imports (pandas, matplotlib,
WeasyPrint) happen inside the commands, so `briefgen --help` is instant.
"""

from __future__ import annotations

import sys
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


def _windows(period: str | None, compare: str | None):
    from briefgen.config import parse_window_flag

    return (
        parse_window_flag(period, "--period") if period else None,
        parse_window_flag(compare, "--compare") if compare else None,
    )


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
