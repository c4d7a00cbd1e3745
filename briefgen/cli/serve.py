"""Commands that preview the brief: serve."""

from __future__ import annotations

from pathlib import Path

import click

from briefgen.cli.build import OUTPUT_OPTION, TEMPLATES_OPTION, report_rebuild
from briefgen.cli.main import INPUTS_OPTION, SECTOR_OPTION, main


@main.command()
@INPUTS_OPTION
@OUTPUT_OPTION
@TEMPLATES_OPTION
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to serve on (0: any free port).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to serve on; the default is reachable from this machine only.",
)
@SECTOR_OPTION
def serve(inputs_dir: Path, output_dir: Path, templates_dir: Path | None, port: int, host: str, sector: str) -> None:
    """Build, serve the brief in a browser, rebuild on every change and reload the page (Ctrl-C to stop)."""
    from briefgen.build import BuildOptions
    from briefgen.cli.main import long_running
    from briefgen.live.serve import serve as run_serve

    long_running()

    def ready(url: str) -> None:
        click.echo(
            f"serving {url} (the brief; {url}brief.pdf the PDF); watching {inputs_dir} and the templates; "
            "Ctrl-C to stop"
        )

    try:
        run_serve(
            BuildOptions(inputs_dir, output_dir, templates_dir=templates_dir, sector=sector),
            report_rebuild,
            host=host,
            port=port,
            ready=ready,
        )
    except KeyboardInterrupt:
        click.echo("stopped")
