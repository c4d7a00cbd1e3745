"""The trace command: which client, brief version and delivery a marked copy was made for."""

from __future__ import annotations

import os
from pathlib import Path

import click

from briefgen.cli.main import main, output_option

PASSWORD_ENV = "BRIEFGEN_TRACE_PASSWORD"


@main.command("trace")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@output_option("The output folder the copies were distributed from (its ledger and key).")
def trace_command(file: Path, output_dir: Path) -> None:
    """Name the client, brief version and delivery a marked copy FILE was made for.

    Every copy `briefgen distribute` makes carries an invisible, authenticated mark on each page,
    which survives removing the PDF's metadata. Exit status 1 if FILE carries no mark, or a mark
    OUTPUT did not make (a copy of another desk's brief, or a forged mark). An encrypted copy
    whose bytes were changed is opened with the password in $BRIEFGEN_TRACE_PASSWORD (like the
    SMTP password, never a flag: command lines are visible to other users).
    """
    from briefgen.distribute.trace import trace

    report = trace(file, output_dir, os.environ.get(PASSWORD_ENV) or None)
    for traced in report.traced:
        version, delivery = traced.version, traced.delivery
        title = f' "{version.title}"' if version.title else ""
        click.echo(f"{report.file}: the copy made for {delivery.client_id} <{delivery.email}>")
        click.echo(f"  brief     {version.version[:12]}{title}, stamped {version.stamp_date}")
        status = "in doubt" if delivery.status == "sending" else delivery.status
        when = delivery.sent_at or delivery.updated_at
        click.echo(f"  delivery  {status} {when} via {delivery.via or '?'}, Message-ID {delivery.message_id}")
        if traced.pages:
            pages = (
                "every page"
                if len(traced.pages) == report.page_count
                else f"page{'s' if len(traced.pages) > 1 else ''} {', '.join(map(str, traced.pages))}"
            )
            click.echo(f"  mark      on {pages} of {report.page_count}, authenticated by {output_dir}")
        same = (
            "this file is byte for byte that copy"
            if traced.identical
            else "this file differs from it (metadata stripped or content changed)"
        )
        click.echo(f"  file      {delivery.copy_file or '?'}: {same}")
    if len(report.traced) > 1:
        click.echo(f"Pages of {len(report.traced)} different copies were put together in {report.file}.")
    if report.unmarked_pages:
        click.echo(f"Pages without a mark: {', '.join(map(str, report.unmarked_pages))} (added to the copy?)")
