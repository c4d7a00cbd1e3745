"""Turn SEC EDGAR's ticker map and XBRL company concepts into share counts, each dated by its filing.

Two endpoints, on two hosts of the SEC (a single --sec-base-url may stand for both):

- https://www.sec.gov/files/company_tickers.json -> {"0": {"cik_str": 320193, "ticker": "AAPL",
  "title": "Apple Inc."}, ...}: every listed ticker and its Central Index Key.
- https://data.sec.gov/api/xbrl/companyconcept/CIK##########/dei/EntityCommonStockSharesOutstanding.json
  -> {"cik": ..., "taxonomy": "dei", "tag": ..., "units": {"shares": [{"end": "2025-07-25",
  "val": 351983107, "accn": "0001507605-25-000018", "fy": 2025, "fp": "Q2", "form": "10-Q",
  "filed": "2025-07-29"}, ...]}}: the cover-page share count of every filing. A company that never
  tagged it (a foreign private issuer filing 20-F / 6-K often does not) answers 404.

The SEC's fair-access policy asks every automated client to declare itself in the User-Agent (a name
and a contact address) and to stay under 10 requests a second: user_agent() refuses to build one
without an address, and the clients are paced at SEC_INTERVAL_S between requests.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from briefgen import __version__
from briefgen.errors import FetchError
from briefgen.fetch.http import JsonClient, NotFound, StatusError, short

NAME = "sec"
FILES_URL = "https://www.sec.gov"
API_URL = "https://data.sec.gov"
TICKERS_PATH = "/files/company_tickers.json"
CONCEPT = "dei/EntityCommonStockSharesOutstanding"
SEC_INTERVAL_S = 0.1  # 10 requests a second, the SEC's published ceiling
_EMAIL = re.compile(r"^[^@\s<>(),;:\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_UNSAFE = re.compile(r"[^\x20-\x7e]")  # a header carries printable ASCII only


@dataclass(frozen=True)
class ShareFact:
    """One filing's cover-page share count: the date it counts (end), the day it was filed, the form."""

    end: date
    filed: date
    shares: int
    form: str
    accn: str

    @property
    def described(self) -> str:
        return f"{self.form} filed {self.filed} (count at {self.end})"


def user_agent(organisation: str, contact: str) -> str:
    """The declared User-Agent the SEC asks for: 'Organisation contact@example.com (briefgen/x.y)'."""
    contact = contact.strip()
    if not _EMAIL.match(contact):
        raise FetchError(
            f"{NAME}: {contact!r} is not an e-mail address; the SEC asks every automated client to "
            "declare a contact address: pass --contact you@yourfirm.com or give the first analyst "
            "an email in brief.yaml"
        )
    name = _UNSAFE.sub(" ", organisation).strip()[:80]
    return f"{name + ' ' if name else ''}{contact} (briefgen/{__version__})"


def ticker_map(client: JsonClient) -> dict[str, int]:
    """Ticker -> CIK from company_tickers.json (the first CIK listed for a ticker wins)."""
    url = client.url(TICKERS_PATH)
    body = _get(client, url)
    if not isinstance(body, dict) or not body:
        raise FetchError(f"{NAME}: {short(url)} is not an object of companies (is the address the SEC's?)")
    found: dict[str, int] = {}
    for index, entry in body.items():
        if not isinstance(entry, dict):
            raise FetchError(f"{NAME}: {short(url)} entry {str(index)[:20]!r} is not an object")
        cik, ticker = entry.get("cik_str"), entry.get("ticker")
        if isinstance(cik, str) and cik.isdigit():
            cik = int(cik)
        if isinstance(cik, bool) or not isinstance(cik, int) or not 0 < cik < 10**10 or not isinstance(ticker, str):
            raise FetchError(
                f"{NAME}: {short(url)} entry {str(index)[:20]!r} has no numeric 'cik_str' and text 'ticker'"
            )
        found.setdefault(ticker.strip().upper(), cik)
    return found


def concept_path(cik: int) -> str:
    return f"/api/xbrl/companyconcept/CIK{cik:010d}/{CONCEPT}.json"


def share_facts(client: JsonClient, cik: int) -> tuple[ShareFact, ...] | None:
    """Every filing's share count for a CIK, in filing order; None when the company never tagged one."""
    url = client.url(concept_path(cik))
    try:
        body = _get(client, url)
    except NotFound:
        return None
    units = body.get("units") if isinstance(body, dict) else None
    if not isinstance(units, dict):
        raise FetchError(f"{NAME}: {short(url)} has no 'units' object (is the address the SEC's XBRL API?)")
    if not units:
        return None
    items = units.get("shares")
    if not isinstance(items, list):
        raise FetchError(
            f"{NAME}: {short(url)} gives the share count in {', '.join(map(str, units))[:60]}, not in 'shares'"
        )
    facts = [_fact(item, f"{NAME}: {short(url)} shares item {n}") for n, item in enumerate(items, start=1)]
    return tuple(sorted(facts, key=lambda f: (f.filed, f.end, f.accn)))


def _get(client: JsonClient, url: str) -> Any:
    try:
        return client.get(url)
    except NotFound:
        raise
    except StatusError as exc:
        if exc.status != 403:
            raise
        raise FetchError(
            f"{exc}; the SEC refuses clients that do not declare themselves or that send more than "
            "10 requests a second: check the contact address (--contact), wait ten minutes, "
            "then fetch again"
        ) from None


def _fact(item: Any, where: str) -> ShareFact:
    if not isinstance(item, dict):
        raise FetchError(f"{where} is not an object")
    value = item.get("val")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise FetchError(f"{where}: 'val' is not a positive whole number of shares: {str(value)[:40]!r}")
    form, accn = item.get("form"), item.get("accn")
    return ShareFact(
        _date(item.get("end"), "end", where),
        _date(item.get("filed"), "filed", where),
        value,
        form.strip()[:20] if isinstance(form, str) and form.strip() else "filing",
        accn.strip()[:30] if isinstance(accn, str) else "",
    )


def _date(raw: Any, field: str, where: str) -> date:
    try:
        if isinstance(raw, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise FetchError(f"{where}: '{field}' {str(raw)[:30]!r} is not a date such as 2025-07-29")


def known_on(facts: tuple[ShareFact, ...], day: date) -> ShareFact | None:
    """The share count known on `day`: of the filings filed on or before it, the latest filed.

    A filing is not known before it is filed, however early its `end`. Two filed the same day: the
    one counting the later date wins (a 10-K/A re-stating an older count does not undo a 10-Q).
    """
    index = bisect.bisect_right([f.filed for f in facts], day)
    if index == 0:
        return None
    latest_filed = facts[index - 1].filed
    same_day = [f for f in facts[:index] if f.filed == latest_filed]
    return max(same_day, key=lambda f: (f.end, f.accn))
