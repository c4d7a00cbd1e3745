"""The fetch commands: bring input figures up to date from public sources."""

from __future__ import annotations

from pathlib import Path

import click

from briefgen.cli import INPUTS_OPTION, main


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
        from briefgen.sectors.bitcoin_mining.fetch.coinmetrics import ATTRIBUTION, LICENCE

        click.echo(f'Coin Metrics data is {LICENCE}: credit "{ATTRIBUTION}" in the brief.')


@fetch_group.command("equities")
@INPUTS_OPTION
@click.option("--since", metavar="YYYY-MM-DD",
              help="First day to fetch [default: 14 days before the last day in market_caps.csv].")
@click.option("--tickers", metavar="T,...", help="Only these tickers (each must be in miners.csv) [default: every "
                                                 "member in the period].")
@click.option("--contact", metavar="EMAIL", help="The contact address the SEC asks for in the User-Agent "
                                                 "[default: the first analyst's email in brief.yaml].")
@click.option("--sec-base-url", metavar="URL", help="Another server with the SEC's API, standing for both "
                                                    "www.sec.gov and data.sec.gov; http(s) only.")
@click.option("--prices-base-url", metavar="URL", help="Another server with Stooq's CSV download; http(s) only.")
@click.option("--stooq-apikey", metavar="KEY", envvar="STOOQ_APIKEY", show_envvar=True,
              help="Stooq's API key, if it asks for one (sent as the 'apikey' parameter).")
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
def fetch_equities(inputs_dir: Path, since: str | None, tickers: str | None, contact: str | None,
                   sec_base_url: str | None, prices_base_url: str | None, stooq_apikey: str | None,
                   dry_run: bool) -> None:
    """Compute each member's daily market cap (shares outstanding x close) and merge it into market_caps.csv.

    Shares outstanding come from SEC EDGAR filings (the latest filed on or before each day) or
    INPUTS/shares.csv, closes from Stooq. New rows are added, changed figures listed (old -> new),
    the previous file kept in INPUTS/backups/. A ticker that fails is reported and the others are
    kept (exit status 1); nothing is written when no ticker gives a usable figure.
    """
    from datetime import date

    from briefgen.errors import FetchError
    from briefgen.fetch import apply_plan, describe
    from briefgen.sectors.bitcoin_mining.fetch.equities import plan_equities_refresh

    try:
        first = date.fromisoformat(since) if since else None
    except ValueError:
        raise click.BadParameter(f"expected a date as YYYY-MM-DD, got {since!r}", param_hint="--since") from None
    names = tuple(t for t in (tickers or "").split(",") if t.strip()) or None
    with _FetchProgress() as progress:
        result = plan_equities_refresh(inputs_dir, first, names, sec_base_url=sec_base_url,
                                       prices_base_url=prices_base_url, contact=contact, stooq_apikey=stooq_apikey,
                                       progress=progress)
    plan = result.plan
    for note in plan.notes:
        click.echo(f"Note: {note}", err=True)
    for warning in plan.warnings:
        click.echo(f"Warning: {warning}", err=True)
    for ticker in result.tickers:
        click.echo(str(ticker))
    click.echo(describe(plan), nl=False)
    if plan.new_bytes is None:
        click.echo(f"{plan.path}: already up to date, nothing written.")
    elif dry_run:
        click.echo(f"Dry run: {plan.path} not written.")
    else:
        backup = apply_plan(plan)
        click.echo(f"Wrote {plan.path}" + (f" (previous version kept as {backup})." if backup else "."))
    if result.failures:
        count, total = len(result.failures), len(result.tickers)
        kept = "not written (dry run)" if dry_run else "kept"
        raise FetchError("\n".join([f"{count} of {total} ticker{'s' if total != 1 else ''} failed; the others "
                                     f"were {kept}:", *(f"  - {t.ticker}: {t.error}" for t in result.failures)]))


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
