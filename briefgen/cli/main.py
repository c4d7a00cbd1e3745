"""Turn a command line into the `briefgen` group: its shared options, its errors as clean messages, the exit.

The command modules (build.py, history.py, ...) register their commands on `main` from here;
briefgen/cli/__init__.py imports them all, so `briefgen.cli.main` is the whole program.
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
from briefgen.sector import DEFAULT_SECTOR


def _inputs_folder(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """Every command reads the inputs folder: a missing one is one clean error, before any work starts.

    Raised as InputError (exit status 1, `Error: ...`), like every other input problem; the group's
    invoke catches it, since Click parses a command's options inside it.
    """
    from briefgen.errors import InputError, Problem

    if not value.is_dir():
        what = "is a file, not a folder" if value.exists() else "inputs folder not found"
        raise InputError([Problem(str(value), what, fix="pass --inputs DIR")])
    return value


INPUTS_OPTION = click.option(
    "--inputs",
    "inputs_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("inputs"),
    show_default=True,
    help="Folder holding brief.yaml and the input tables.",
    callback=_inputs_folder,
)


def output_option(help_text: str):
    """The --output folder option (default output/), with what the command keeps there as its help."""
    return click.option(
        "--output",
        "output_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("output"),
        show_default=True,
        help=help_text,
    )


PERIOD_OPTION = click.option(
    "--period", metavar="START:END", help="Override the period window (YYYY-MM-DD:YYYY-MM-DD)."
)
COMPARE_OPTION = click.option(
    "--compare", metavar="START:END", help="Override the compare window (YYYY-MM-DD:YYYY-MM-DD)."
)
SECTOR_OPTION = click.option(
    "--sector",
    metavar="NAME",
    default=DEFAULT_SECTOR,
    envvar="BRIEFGEN_SECTOR",
    show_default=True,
    show_envvar=True,
    help="The sector the brief is about: a module of briefgen.sectors, or a dotted module name (a desk's own).",
)


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
    """Build a sector brief from a folder of input figures.

    The sector (what the brief is about: its tables, figures, charts and templates) is chosen with
    --sector or BRIEFGEN_SECTOR; the default is bitcoin_mining, the Bitcoin-mining brief.
    """


FAST_EXIT_VARIABLE = "BRIEFGEN_FAST_EXIT"  # set to 0 to exit the ordinary way (docs/development.md)
_DEFAULT_GC_THRESHOLD = gc.get_threshold()
_ONE_SHOT = {"fast": True}  # False once a long-running command (watch, serve) has started


def long_running() -> None:
    """Called first by `watch` and `serve`: the default collector, and the ordinary exit.

    The raised GC threshold pays off over one build; over hundreds of rebuilds in one process it
    lets cycles pile up (173 -> 364 MB over 36 rebuilds), so a long-running command undoes it.
    """
    _ONE_SHOT["fast"] = False
    gc.set_threshold(*_DEFAULT_GC_THRESHOLD)


def fast_exit_allowed() -> bool:
    """Whether run() may raise the GC threshold and leave by os._exit.

    Not when BRIEFGEN_FAST_EXIT is 0 (or false, no, off), nor under a profiler, a tracer or a
    coverage tool (they write their data at exit: `python -m cProfile -m briefgen build`).
    """
    if os.environ.get(FAST_EXIT_VARIABLE, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if sys.gettrace() is not None or sys.getprofile() is not None:
        return False
    monitoring = getattr(sys, "monitoring", None)  # Python 3.12+: cProfile and coverage may use it
    return not (monitoring is not None and any(monitoring.get_tool(tool) for tool in range(6)))


def run() -> None:
    """The `briefgen` program: run a command, then, for a one-shot command, leave without tearing down.

    Once a command has returned, its files are written, renamed and closed and its databases
    committed; what is left is freeing a few hundred thousand objects of pandas, matplotlib and
    WeasyPrint one by one, about half a second. So flush what was printed and exit at once.
    A crash (anything but SystemExit) still unwinds normally and prints its traceback.

    A build allocates millions of short-lived objects (WeasyPrint's boxes, pandas) on top of
    a large long-lived heap of modules; Python's default collector, run every 700 allocations,
    rescans that heap over and over (about 0.5 s of a cold build). Cycles are still collected,
    less often: a few MB more at the peak.

    Neither applies to `watch` and `serve` (see long_running) nor when fast_exit_allowed() says no;
    then the program exits the ordinary way, running atexit handlers.
    """
    _ONE_SHOT["fast"] = fast_exit_allowed()
    if _ONE_SHOT["fast"]:
        gc.set_threshold(100_000, 50, 100)
    code: str | int | None
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
    if not _ONE_SHOT["fast"]:
        sys.exit(code)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            code = code or 1
    os._exit(code)


# The commands register themselves on `main` when their modules are imported.
