"""Turn Stooq's daily CSV download into closing prices by day, as the source sent them.

GET https://stooq.com/q/d/l/?s=mara.us&i=d&d1=20250601&d2=20250630 answers
`Date,Open,High,Low,Close,Volume` then one line a trading day (`2025-06-02,15.1,15.6,14.9,15.15,41230000`),
the source pandas-datareader's Stooq reader also reads. Closes are kept as text (Decimal), never
through a float. What Stooq sends instead of a table is named: the body "No data" (an unknown
ticker, or no trading in the range), a page about its daily limit, an HTML page (since 2026 Stooq
asks for an API key, and may answer non-browser clients with a challenge page).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from briefgen.errors import FetchError
from briefgen.fetch.http import JsonClient, short
from briefgen.fetch.rows import decimal_or_none, plain

NAME = "stooq"
DEFAULT_BASE_URL = "https://stooq.com"
PATH = "/q/d/l/"
HEADER = ("date", "open", "high", "low", "close", "volume")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class NoData(FetchError):
    """Stooq has no prices for the ticker in the range asked (its body is "No data")."""


def symbol(ticker: str) -> str:
    """Stooq's name for a US listing: lower case with '.us' (BRK.B -> brk-b.us, as Stooq writes it)."""
    return f"{ticker.lower().replace('.', '-')}.us"


def closes(client: JsonClient, ticker: str, since: date, until: date, apikey: str | None = None) -> dict[date, str]:
    """Each trading day's close from `since` to `until` (both included), as plain decimal text."""
    params = {"s": symbol(ticker), "i": "d", "d1": since.strftime("%Y%m%d"), "d2": until.strftime("%Y%m%d")}
    if apikey:
        params["apikey"] = apikey
    url = client.url(PATH, params)
    body = client.get_bytes(url, accept="text/csv")
    return parse(body, ticker, url)


def parse(body: bytes, ticker: str, url: str) -> dict[date, str]:
    where = NAME  # the caller names the ticker
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FetchError(f"{where}: {short(url)} did not send UTF-8 text") from None
    stripped = text.strip()
    lowered = stripped[:400].lower()
    if lowered in ("no data", "brak danych"):
        raise NoData(
            f"{where}: Stooq has no prices for {symbol(ticker)} in the period (an unknown ticker, "
            "or none traded); check the ticker in miners.csv"
        )
    if "exceeded the daily hits limit" in lowered:
        raise FetchError(f"{where}: Stooq's daily download limit is used up; try again tomorrow")
    if lowered.startswith(("<!doctype", "<html", "<")) or "<html" in lowered:
        raise FetchError(
            f"{where}: {short(url)} sent a web page, not a CSV table: Stooq asks for an API key "
            "(get one at https://stooq.com/q/d/?s=spy.us&get_apikey, pass --stooq-apikey) or is "
            "refusing scripted downloads; use --prices-base-url for another source with the same CSV"
        )
    rows = list(csv.reader(io.StringIO(text, newline="")))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise NoData(f"{where}: {short(url)} sent an empty answer")
    header = tuple(cell.strip().lower() for cell in rows[0])
    if header[:5] != HEADER[:5]:
        raise FetchError(
            f"{where}: {short(url)} did not send the columns Date,Open,High,Low,Close,Volume "
            f"(first line {','.join(rows[0])[:60]!r})"
        )
    found: dict[date, str] = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) < 5 or not _DATE.match(row[0].strip()):
            raise FetchError(f"{where}: line {line} of the CSV is not a day's prices: {','.join(row)[:60]!r}")
        try:
            day = date.fromisoformat(row[0].strip())
        except ValueError:
            raise FetchError(f"{where}: line {line}: {row[0].strip()!r} is not a real date") from None
        close = decimal_or_none(row[4])
        if close is None or close <= 0:
            raise FetchError(
                f"{where}: line {line} ({day}): the close {row[4].strip()[:20]!r} is not a positive number"
            )
        if day in found:
            raise FetchError(f"{where}: line {line}: {day} appears twice")
        found[day] = plain(close)
    return found
