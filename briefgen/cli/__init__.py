"""Turn command lines into calls of the briefgen library, and its errors into clean messages.

One module per area registers its commands on `main`: build.py (build, check, metrics, watch),
history.py (history, diff, batch), distribute.py, fetch.py, publish.py (publish, recall, audit).

Click only parses, calls one library function and prints. Heavy imports (pandas, matplotlib,
WeasyPrint) happen inside the commands, so `briefgen --help` is instant.
"""

from __future__ import annotations

import gc
import logging
import os
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




# The commands register themselves on `main` when their modules are imported.
from briefgen.cli import build, distribute, fetch, history, publish  # noqa: E402, F401
