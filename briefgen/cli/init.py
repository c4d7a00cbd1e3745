"""Commands that start a brief: init."""

from __future__ import annotations

from pathlib import Path

import click

from briefgen.cli.main import SECTOR_OPTION, main


@main.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--blank",
    is_flag=True,
    help="Write empty tables (header rows only) and a commented brief.yaml, not the illustrative sample.",
)
@click.option("--xlsx", is_flag=True, help="Put the tables in one Excel workbook, brief.xlsx, one sheet per table.")
@SECTOR_OPTION
def init(folder: Path, blank: bool, xlsx: bool, sector: str) -> None:
    """Create FOLDER as a new inputs folder: the illustrative sample, or blank tables to fill in.

    Never overwrites a file: if any file it would write exists, it writes nothing.
    """
    from briefgen.init import init_inputs

    result = init_inputs(folder, blank=blank, xlsx=xlsx, sector=sector)
    for path in result.written:
        click.echo(f"wrote {path}")
    if blank:
        where = f"the sheets of {folder / 'brief.xlsx'}" if xlsx else f"the tables in {folder}"
        click.echo(
            f"next: fill in {where} (and brief.yaml), then run: briefgen check --inputs {folder}{_named(sector)}"
        )
    else:
        click.echo(f"next: briefgen build --inputs {folder}{_named(sector)}")


def _named(sector: str) -> str:
    """The --sector a next command needs: none for the default sector."""
    from briefgen.sector import DEFAULT_SECTOR

    return "" if sector == DEFAULT_SECTOR else f" --sector {sector}"
