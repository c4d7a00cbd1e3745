"""Commands of the publishing lifecycle: publish, recall, audit."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from briefgen.cli.main import INPUTS_OPTION, main, output_option

OUTPUT_OPTION = output_option("The builds' output folder (history.sqlite, published/, audit.jsonl).")


def parse_now(text: str | None) -> datetime | None:
    """--now (hidden, for tests and rehearsals): the moment to act as if it were, ISO 8601, UTC if no zone."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"expected a time as YYYY-MM-DDTHH:MM[:SS][Z], got {text!r}", param_hint="--now"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


NOW_OPTION = click.option("--now", "now_text", hidden=True, help="Act as if it were this UTC time (tests).")


@main.command("publish")
@INPUTS_OPTION
@OUTPUT_OPTION
@click.option(
    "--approved-by",
    "approved_by",
    required=True,
    metavar="NAME",
    help="Who approved the draft: a supervisory analyst or compliance, not one of the brief's analysts.",
)
@click.option("--note", metavar="TEXT", help="The approver's note, kept in the history and the audit trail.")
@NOW_OPTION
def publish_command(
    inputs_dir: Path, output_dir: Path, approved_by: str, note: str | None, now_text: str | None
) -> None:
    """Publish the last build as OUTPUT/published/<as-of>/v<N>/: the PDF without the draft mark, and RIXML.

    Refused if the inputs or templates changed since that build, if the approver is one of its
    analysts, if the build had warnings, or if the disclosures are still the shipped placeholder.
    """
    from briefgen.publish.versions import publish

    result = publish(output_dir, inputs_dir, approved_by=approved_by, note=note, now=parse_now(now_text))
    p = result.publication
    click.echo(f"{p.label} {p.status}: approved by {p.approved_by} at {p.published_at}; PDF {p.pdf_sha256[:12]}")
    for path in result.files:
        if path.parent == result.folder:
            click.echo(f"  {path}")


@main.command("recall")
@click.argument("label", metavar="AS_OF/vN")
@click.option("--reason", required=True, metavar="TEXT", help="Why the version is withdrawn (kept in the audit trail).")
@OUTPUT_OPTION
@NOW_OPTION
def recall_command(label: str, reason: str, output_dir: Path, now_text: str | None) -> None:
    """Recall a published version: nobody is sent it again, and its RIXML sidecar says Recalled."""
    from briefgen.publish.versions import recall

    p = recall(output_dir, label.strip(), reason=reason, now=parse_now(now_text))
    click.echo(f"{p.label} recalled at {p.recalled_at}: {p.recall_reason}")


@main.command("audit")
@OUTPUT_OPTION
def audit_command(output_dir: Path) -> None:
    """Print the audit trail of builds, publications, recalls and distribution runs; check its hash chain.

    Exit status 1 when the chain is broken, naming the first entry that does not fit.
    """
    from briefgen.store.audit import audit_text, verify

    check = verify(output_dir)
    click.echo(audit_text(check), nl=False)
    if not check.intact:
        click.echo(
            f"Error: the audit trail {output_dir / 'audit.jsonl'} is broken at entry {check.first_bad}: "
            f"{check.problem}",
            err=True,
        )
        sys.exit(1)
