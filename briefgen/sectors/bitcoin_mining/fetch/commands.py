"""Turn `briefgen fetch network` and `briefgen fetch equities` command lines into refreshes of network.csv and
market_caps.csv.

The mining sector's `fetch` subcommands (Sector.commands; cli/fetch.py mounts them on the group).
Each parses its options, plans the refresh (network.plan_network_refresh,
equities.plan_equities_refresh), prints the plan and writes it (briefgen.cli.fetch.write_plan).
"""

from __future__ import annotations

from pathlib import Path

import click

from briefgen.cli.fetch import FetchProgress, parse_since, write_plan
from briefgen.cli.main import INPUTS_OPTION


@click.command("network")
@INPUTS_OPTION
@click.option(
    "--source",
    type=click.Choice(["coinmetrics", "mempool"]),
    default="coinmetrics",
    show_default=True,
    help="Coin Metrics community API (exact daily figures) or mempool.space (daily estimates).",
)
@click.option(
    "--since",
    metavar="YYYY-MM-DD",
    help="First UTC day to fetch [default: 14 days before the last day in network.csv].",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="Another server with the same API (a mirror, a proxy, a local test server); http(s) only.",
)
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
def fetch_network(inputs_dir: Path, source: str, since: str | None, base_url: str | None, dry_run: bool) -> None:
    """Fetch daily price, hashrate, blocks and fees, and merge them into network.csv by date.

    New days are added and changed figures are listed (old -> new) before they are replaced; the
    previous file is kept in INPUTS/backups/, and a 'source' column records where each row came
    from. Nothing is written if the source cannot be reached or sends a value that fails the checks.
    """
    from briefgen.sectors.bitcoin_mining.fetch.network import plan_network_refresh

    first = parse_since(since)
    with FetchProgress() as progress:
        plan = plan_network_refresh(inputs_dir, source, first, base_url, progress=progress)
    if write_plan(plan, dry_run) and source == "coinmetrics":
        from briefgen.sectors.bitcoin_mining.fetch.coinmetrics import ATTRIBUTION, LICENCE

        click.echo(f'Coin Metrics data is {LICENCE}: credit "{ATTRIBUTION}" in the brief.')


@click.command("equities")
@INPUTS_OPTION
@click.option(
    "--since",
    metavar="YYYY-MM-DD",
    help="First day to fetch [default: 14 days before the last day in market_caps.csv].",
)
@click.option(
    "--tickers",
    metavar="T,...",
    help="Only these tickers (each must be in miners.csv) [default: every member in the period].",
)
@click.option(
    "--contact",
    metavar="EMAIL",
    help="The contact address the SEC asks for in the User-Agent [default: the first analyst's email in brief.yaml].",
)
@click.option(
    "--sec-base-url",
    metavar="URL",
    help="Another server with the SEC's API, standing for both www.sec.gov and data.sec.gov; http(s) only.",
)
@click.option("--prices-base-url", metavar="URL", help="Another server with Stooq's CSV download; http(s) only.")
@click.option(
    "--stooq-apikey",
    metavar="KEY",
    envvar="STOOQ_APIKEY",
    show_envvar=True,
    help="Stooq's API key, if it asks for one (sent as the 'apikey' parameter).",
)
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
def fetch_equities(
    inputs_dir: Path,
    since: str | None,
    tickers: str | None,
    contact: str | None,
    sec_base_url: str | None,
    prices_base_url: str | None,
    stooq_apikey: str | None,
    dry_run: bool,
) -> None:
    """Compute each member's daily market cap (shares outstanding x close) and merge it into market_caps.csv.

    Shares outstanding come from SEC EDGAR filings (the latest filed on or before each day) or
    INPUTS/shares.csv, closes from Stooq. New rows are added, changed figures listed (old -> new),
    the previous file kept in INPUTS/backups/. A ticker that fails is reported and the others are
    kept (exit status 1); nothing is written when no ticker gives a usable figure.
    """
    from briefgen.errors import FetchError
    from briefgen.sectors.bitcoin_mining.fetch.equities import plan_equities_refresh

    first = parse_since(since)
    names = tuple(t for t in (tickers or "").split(",") if t.strip()) or None
    with FetchProgress() as progress:
        result = plan_equities_refresh(
            inputs_dir,
            first,
            names,
            sec_base_url=sec_base_url,
            prices_base_url=prices_base_url,
            contact=contact,
            stooq_apikey=stooq_apikey,
            progress=progress,
        )
    write_plan(result.plan, dry_run, [str(ticker) for ticker in result.tickers])
    if result.failures:
        count, total = len(result.failures), len(result.tickers)
        kept = "not written (dry run)" if dry_run else "kept"
        raise FetchError(
            "\n".join(
                [
                    f"{count} of {total} ticker{'s' if total != 1 else ''} failed; the others were {kept}:",
                    *(f"  - {t.ticker}: {t.error}" for t in result.failures),
                ]
            )
        )


COMMANDS = (fetch_network, fetch_equities)
