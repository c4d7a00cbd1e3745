"""`briefgen fetch equities`: a local HTTP server plays the SEC (both hosts) and Stooq in their documented shapes.

SEC: /files/company_tickers.json -> {"0": {"cik_str", "ticker", "title"}, ...};
/api/xbrl/companyconcept/CIK##########/dei/EntityCommonStockSharesOutstanding.json ->
{"units": {"shares": [{"end", "val", "accn", "fy", "fp", "form", "filed"}]}}, 404 for a company
that never tagged it. Stooq: /q/d/l/?s=<ticker>.us&i=d -> Date,Open,High,Low,Close,Volume, or the
body "No data". Expected market caps are computed here from the served numbers.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug import Request, Response

from briefgen import __version__
from briefgen.cli import main
from briefgen.errors import FetchError, InputError
from briefgen.fetch import HttpPolicy, apply_plan, describe
from briefgen.sectors.bitcoin_mining.fetch.equities import plan_equities_refresh
from briefgen.sectors.bitcoin_mining.inputs import load_inputs
from tests.conftest import user_docs, write_inputs

pytestmark = pytest.mark.filterwarnings("error")

TODAY = date(2025, 7, 9)  # Stooq's row for today is not final and must not be merged
SINCE = date(2025, 7, 1)
DAYS = [date(2025, 7, d) for d in (1, 2, 3, 7, 8, 9)]  # 4 July (a Friday) is a holiday: nobody trades
CIK = {"MARA": 1507605, "RIOT": 1167419, "BTDR": 1899123, "CLSK": 827876, "CIFR": 1819989, "WULF": 1083301}

# ticker -> (filed, end, shares, form): the cover-page share counts the SEC serves
FACTS = {
    "MARA": [
        ("2025-05-08", "2025-04-25", 350_000_000, "10-Q"),
        ("2025-07-03", "2025-06-30", 360_000_000, "10-Q"),
        ("2025-07-08", "2025-06-30", 370_000_000, "S-3"),
        ("2025-07-10", "2025-07-09", 999_000_000, "8-K"),
    ],
    "RIOT": [("2025-04-30", "2025-04-25", 300_123_456, "10-Q")],
    "CLSK": [("2025-05-09", "2025-05-01", 280_000_000, "10-Q")],
    "CIFR": [("2025-05-09", "2025-05-01", 380_000_000, "10-Q")],
    "WULF": [("2025-05-09", "2025-05-01", 390_000_000, "10-Q")],
}
# ticker -> closes on DAYS (Stooq's text); CLSK gets "No data", CIFR a malformed table
CLOSES = {
    "MARA": ["15.15", "15.62", "16.01", "16.4", "17.055", "18"],
    "RIOT": ["9.87", "10.02", "10.5", "10.33", "11.1", "11.2"],
    "BTDR": ["12.5", "12.75", "13", "13.25", "13.5", "14"],
    "WULF": ["4.41", "4.52", "4.6", "4.71", "4.8", "4.9"],
}
DESK_BTDR = 200_500_000  # inputs/shares.csv: BTDR files 20-F and tags no dei share count

MINERS = """
ticker,name,exchange,from,to
MARA,MARA Holdings Inc.,NASDAQ,2024-01-01,
RIOT,Riot Platforms Inc.,NASDAQ,2024-01-01,
BTDR,Bitdeer Technologies Group,NASDAQ,2024-01-01,
HIVE,HIVE Digital Technologies Ltd.,NASDAQ,2024-01-01,
CLSK,CleanSpark Inc.,NASDAQ,2024-01-01,
CIFR,Cipher Mining Inc.,NASDAQ,2024-01-01,
WULF,TeraWulf Inc.,NASDAQ,2025-07-07,
"""
EXISTING = """
date,ticker,market_cap_usd
2025-06-30,MARA,5000000000
2025-07-01,MARA,5300000000
2025-07-02,MARA,5467000000
"""
BRIEF = """
title: t
period: {start: 2025-07-07, end: 2025-07-08}
compare: {start: 2025-07-01, end: 2025-07-03}
analysts:
  - name: "Dana Whitfield"
    email: "dana.whitfield@northgate-securities.example"
house: "Northgate Securities"
"""


def network_csv() -> str:
    lines = ["date,btc_price_usd,hashrate_ehs,blocks,fees_btc"]
    day = date(2025, 6, 25)
    while day <= date(2025, 7, 8):
        lines.append(f"{day},{100_000 + 100 * day.day},900,144,3")
        day += timedelta(days=1)
    return "\n".join(lines) + "\n"


def cap(shares: int, close: str) -> int:
    return int((Decimal(shares) * Decimal(close)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_inputs(
        tmp_path / "inputs",
        {
            "brief.yaml": BRIEF,
            "network.csv": network_csv(),
            "miners.csv": MINERS,
            "market_caps.csv": EXISTING,
            "shares.csv": f"date,ticker,shares_outstanding,source\n2025-06-30,BTDR,{DESK_BTDR},20-F cover page\n",
        },
    )


def concept(ticker: str) -> dict:
    return {
        "cik": CIK[ticker],
        "taxonomy": "dei",
        "tag": "EntityCommonStockSharesOutstanding",
        "label": "Entity Common Stock, Shares Outstanding",
        "entityName": ticker,
        "units": {
            "shares": [
                {
                    "end": end,
                    "val": val,
                    "accn": f"0000000000-25-{n:06d}",
                    "fy": 2025,
                    "fp": "Q2",
                    "form": form,
                    "filed": filed,
                }
                for n, (filed, end, val, form) in enumerate(FACTS[ticker], start=1)
            ]
        },
    }


def serve(httpserver, seen: list[Request] | None = None, stooq: dict | None = None, sec: dict | None = None) -> str:
    """The SEC and Stooq on one local server; `stooq` / `sec` map a ticker to a Response that replaces its answer."""
    stooq, sec = stooq or {}, sec or {}
    tickers = {str(n): {"cik_str": cik, "ticker": t, "title": f"{t} Inc."} for n, (t, cik) in enumerate(CIK.items())}
    by_cik = {f"CIK{cik:010d}": t for t, cik in CIK.items()}

    def handler(request: Request) -> Response:
        if seen is not None:
            seen.append(request)
        if request.path == "/files/company_tickers.json":
            return Response(json.dumps(tickers), content_type="application/json")
        if request.path.startswith("/api/xbrl/companyconcept/"):
            ticker = by_cik.get(request.path.split("/")[4])
            if ticker in sec:
                return sec[ticker] if isinstance(sec[ticker], Response) else sec[ticker]()
            if ticker not in FACTS:
                return Response('{"message": "Not found"}', status=404, content_type="application/json")
            return Response(json.dumps(concept(ticker)), content_type="application/json")
        if request.path == "/q/d/l/":
            ticker = request.args["s"].removesuffix(".us").upper()
            if ticker in stooq:
                return stooq[ticker] if isinstance(stooq[ticker], Response) else stooq[ticker]()
            if ticker == "CIFR":
                return Response("Date,Open,High,Low,Close,Volume\n2025-07-01,1,1,1,n/a,5\n", content_type="text/csv")
            if ticker not in CLOSES:
                return Response("No data", content_type="text/csv")
            rows = [f"{d},1,2,0.5,{c},1000" for d, c in zip(DAYS, CLOSES[ticker], strict=False)]
            return Response("Date,Open,High,Low,Close,Volume\n" + "\n".join(rows) + "\n", content_type="text/csv")
        return Response("not here", status=404)

    httpserver.expect_request("").respond_with_handler(handler)
    return httpserver.url_for("/").rstrip("/")


def fast() -> HttpPolicy:
    return HttpPolicy(attempts=3, backoff_s=0.5, timeout_s=5.0)


def plan(folder: Path, base: str, sleeps: list[float] | None = None, **kwargs):
    sleeps = [] if sleeps is None else sleeps
    return plan_equities_refresh(
        folder,
        kwargs.pop("since", SINCE),
        kwargs.pop("tickers", None),
        sec_base_url=base,
        prices_base_url=base,
        today=kwargs.pop("today", TODAY),
        policy=fast(),
        sleep=sleeps.append,
        **kwargs,
    )


def merged(folder: Path) -> dict[tuple[str, str], dict[str, str]]:
    import csv

    with open(folder / "market_caps.csv", newline="", encoding="utf-8") as handle:
        return {(r["date"], r["ticker"]): r for r in csv.DictReader(handle)}


def expected_rows() -> dict[tuple[str, str], tuple[int, int, str]]:
    """(day, ticker) -> (cap, shares, close), from the served numbers and the rules: filed on or before the day."""
    mara = {1: 350_000_000, 2: 350_000_000, 3: 360_000_000, 7: 360_000_000, 8: 370_000_000}
    rows = {}
    for index, day in enumerate(DAYS[:-1]):  # not today
        for ticker, shares in (
            ("MARA", mara[day.day]),
            ("RIOT", 300_123_456),
            ("BTDR", DESK_BTDR),
            ("WULF", 390_000_000),
        ):
            if ticker == "WULF" and day < date(2025, 7, 7):
                continue  # not a member yet
            close = CLOSES[ticker][index]
            rows[(day.isoformat(), ticker)] = (cap(shares, close), shares, close)
    return rows


# --- the plan: sources, rules, per-ticker failures -------------------------------------------


def test_market_caps_are_shares_times_close_with_failures_per_ticker(httpserver, folder: Path):
    seen: list[Request] = []
    calls = {"n": 0}

    def riot_busy() -> Response:  # the first answer for RIOT is a 429 asking to wait 2 s
        calls["n"] += 1
        if calls["n"] == 1:
            return Response("slow down", status=429, headers={"Retry-After": "2"})
        rows = [f"{d},1,2,0.5,{c},1000" for d, c in zip(DAYS, CLOSES["RIOT"], strict=False)]
        return Response("Date,Open,High,Low,Close,Volume\n" + "\n".join(rows) + "\n", content_type="text/csv")

    sleeps: list[float] = []
    base = serve(httpserver, seen, stooq={"RIOT": riot_busy})
    result = plan(folder, base, sleeps)
    failures = {t.ticker: t.error for t in result.failures}
    assert set(failures) == {"HIVE", "CLSK", "CIFR"}
    assert "HIVE is not in the SEC's ticker map" in failures["HIVE"] and "shares.csv" in failures["HIVE"]
    assert "Stooq has no prices for clsk.us" in failures["CLSK"]
    assert "line 2 (2025-07-01): the close 'n/a' is not a positive number" in failures["CIFR"]
    assert 2.0 in sleeps  # the 429's Retry-After was honoured
    by_ticker = {t.ticker: t for t in result.tickers}
    assert by_ticker["MARA"].shares_from == (
        "sec 10-Q filed 2025-05-08 (count at 2025-04-25)",
        "sec 10-Q filed 2025-07-03 (count at 2025-06-30)",
        "sec S-3 filed 2025-07-08 (count at 2025-06-30)",
    )
    assert by_ticker["BTDR"].shares_from == ("shares.csv 2025-06-30",)
    assert str(by_ticker["WULF"]) == (
        "WULF: 2 days, shares from sec 10-Q filed 2025-05-09 (count at 2025-05-01), closes from stooq"
    )
    assert any("BTDR" in str(n) and "shares.csv only" in str(n) for n in result.plan.notes)

    # The SEC was asked with a declared User-Agent naming the house and the contact; Stooq for daily rows.
    sec_requests = [r for r in seen if not r.path.startswith("/q/")]
    assert {r.headers["User-Agent"] for r in sec_requests} == {
        f"Northgate Securities dana.whitfield@northgate-securities.example (briefgen/{__version__})"
    }
    stooq_mara = next(r for r in seen if r.args.get("s") == "mara.us")
    assert dict(stooq_mara.args) == {"s": "mara.us", "i": "d", "d1": "20250701", "d2": "20250708"}

    apply_plan(result.plan)
    rows = merged(folder)
    for key, (value, shares, close) in expected_rows().items():
        row = rows[key]
        assert (int(row["market_cap_usd"]), int(row["shares_outstanding"]), row["close_usd"]) == (value, shares, close)
    assert rows[("2025-07-08", "MARA")]["source"] == "sec S-3 filed 2025-07-08 (count at 2025-06-30) + stooq"
    assert rows[("2025-07-03", "BTDR")]["source"] == "shares.csv 2025-06-30 + stooq"
    assert rows[("2025-06-30", "MARA")] == {
        "date": "2025-06-30",
        "ticker": "MARA",
        "market_cap_usd": "5000000000",
        "shares_outstanding": "",
        "close_usd": "",
        "source": "manual",
    }
    # by date; within a date the file's rows first, then new ones in miners.csv order (not re-sorted by ticker)
    assert [t for d, t in rows if d == "2025-07-07"] == ["MARA", "RIOT", "BTDR", "WULF"]
    assert ("2025-07-09", "MARA") not in rows  # today's close is not final
    assert ("2025-07-03", "WULF") not in rows  # WULF joined on 7 July
    assert not any(k[0] == "2025-07-04" for k in rows)
    assert not any(k[1] in ("HIVE", "CLSK", "CIFR") for k in rows)
    # the written file passes the loader's contract, including cap = shares x close
    load_inputs(folder)


def test_changes_are_reported_old_to_new(httpserver, folder: Path):
    result = plan(folder, serve(httpserver), tickers=("MARA",))
    text = describe(result.plan)
    first = cap(350_000_000, "15.15")
    assert text.startswith(
        "sec+stooq: 5 rows fetched over 5 days, 2025-07-01 to 2025-07-03, 2025-07-07 to 2025-07-08\n"
        "  new: 3 rows, 2025-07-03 to 2025-07-03, 2025-07-07 to 2025-07-08\n".replace(
            "2025-07-03 to 2025-07-03", "2025-07-03"
        )
    )
    assert (
        f"    2025-07-01  MARA  market_cap_usd 5300000000 -> {first}; shares_outstanding (blank) -> 350000000; "
        "close_usd (blank) -> 15.15\n"
    ) in text
    assert [c.label for c in result.plan.changed] == ["MARA", "MARA"]
    again = plan(folder, serve(httpserver), tickers=("MARA",))
    apply_plan(again.plan)
    assert plan(folder, serve(httpserver), tickers=("MARA",)).plan.new_bytes is None  # refetching changes nothing


def test_a_desk_row_overrides_a_filing_from_its_date_until_a_newer_filing(httpserver, folder: Path):
    (folder / "shares.csv").write_text("date,ticker,shares_outstanding,source\n2025-07-07,MARA,365000000,desk\n")
    result = plan(folder, serve(httpserver), tickers=("MARA",))
    apply_plan(result.plan)
    rows = merged(folder)
    assert rows[("2025-07-03", "MARA")]["shares_outstanding"] == "360000000"  # the filing of 3 July
    assert rows[("2025-07-07", "MARA")]["shares_outstanding"] == "365000000"  # the desk, dated 7 July
    assert rows[("2025-07-08", "MARA")]["shares_outstanding"] == "370000000"  # filed 8 July, newer than the desk


def test_malformed_json_from_the_sec_fails_that_ticker_only(httpserver, folder: Path):
    base = serve(httpserver, sec={"RIOT": Response("{not json", content_type="application/json")})
    result = plan(folder, base, tickers=("MARA", "RIOT"))
    assert [t.ticker for t in result.failures] == ["RIOT"]
    assert "did not send valid JSON" in result.failures[0].error
    assert {k[1] for k in result.plan.added_rows} == {"MARA"}


def test_a_share_count_in_another_unit_fails_that_ticker(httpserver, folder: Path):
    odd = Response(
        json.dumps({"units": {"pure": [{"end": "2025-05-01", "val": 5, "filed": "2025-05-02"}]}}),
        content_type="application/json",
    )
    result = plan(folder, serve(httpserver, sec={"RIOT": odd}), tickers=("RIOT", "MARA"))
    assert "gives the share count in pure, not in 'shares'" in result.failures[0].error


def test_nothing_valid_leaves_market_caps_untouched(httpserver, folder: Path):
    before = (folder / "market_caps.csv").read_bytes()
    base = serve(httpserver, stooq={t: Response("boom", status=500) for t in ("MARA", "RIOT")})
    with pytest.raises(FetchError) as caught:
        plan(folder, base, tickers=("MARA", "RIOT", "HIVE"))
    message = str(caught.value)
    assert message.startswith("no ticker gave a usable market cap:\n  - MARA: stooq: ")
    assert "answered 500 Internal Server Error 3 times" in message and "  - HIVE: no share count" in message
    assert message.endswith("market_caps.csv was not changed.")
    assert (folder / "market_caps.csv").read_bytes() == before
    assert not (folder / "backups").exists()


def test_a_refusal_by_the_sec_says_why_it_may_have_come(httpserver, folder: Path):
    refused = Response("Your request has been identified as part of a network of automated tools", status=403)
    result = plan(folder, serve(httpserver, sec={"RIOT": refused}), tickers=("MARA", "RIOT"))
    assert [t.ticker for t in result.failures] == ["RIOT"]
    assert "answered 403 Forbidden" in result.failures[0].error
    assert "check the contact address (--contact), wait ten minutes" in result.failures[0].error


def test_a_web_page_instead_of_csv_is_named(httpserver, folder: Path):
    page = Response("<!DOCTYPE html><html><body>Get your apikey</body></html>", content_type="text/html")
    result = plan(folder, serve(httpserver, stooq={"RIOT": page}), tickers=("MARA", "RIOT"))
    assert "sent a web page, not a CSV table: Stooq asks for an API key" in result.failures[0].error


def test_the_api_key_is_sent_to_stooq_and_never_shown(httpserver, folder: Path):
    seen: list[Request] = []
    page = Response("Exceeded the daily hits limit", content_type="text/plain")
    result = plan(
        folder, serve(httpserver, seen, stooq={"RIOT": page}), tickers=("MARA", "RIOT"), stooq_apikey="s3cr3t"
    )
    assert all(r.args.get("apikey") == "s3cr3t" for r in seen if r.path == "/q/d/l/")
    assert "daily download limit" in result.failures[0].error and "s3cr3t" not in result.failures[0].error


def test_sec_requests_are_paced_at_ten_a_second(httpserver, folder: Path):
    sleeps: list[float] = []
    plan(folder, serve(httpserver), sleeps, tickers=("MARA", "RIOT"), clock=lambda: 100.0)  # a clock that stands still
    assert sleeps == [0.1, pytest.approx(0.1)]  # after the ticker map, then between the two concept requests


def test_the_run_deadline_fails_the_tickers_not_reached(httpserver, folder: Path):
    now = {"s": 0.0}
    rows = [f"{d},1,2,0.5,{c},1000" for d, c in zip(DAYS, CLOSES["MARA"], strict=False)]

    def slow_mara() -> Response:  # the clock has gone past the deadline once MARA's prices arrive
        now["s"] = 1000.0
        return Response("Date,Open,High,Low,Close,Volume\n" + "\n".join(rows) + "\n", content_type="text/csv")

    result = plan(
        folder,
        serve(httpserver, stooq={"MARA": slow_mara}),
        tickers=("MARA", "RIOT"),
        clock=lambda: now["s"],
        deadline_s=60.0,
    )
    assert [t.ticker for t in result.failures] == ["RIOT"]
    assert "deadline of 60 s passed" in result.failures[0].error
    assert {k[1] for k in result.plan.added_rows} == {"MARA"}


def test_a_gap_is_a_trading_day_others_traded_not_a_holiday(httpserver, folder: Path):
    rows = [f"{d},1,2,0.5,{c},1000" for d, c in zip(DAYS, CLOSES["RIOT"], strict=False) if d != date(2025, 7, 2)]
    riot = Response("Date,Open,High,Low,Close,Volume\n" + "\n".join(rows) + "\n", content_type="text/csv")
    result = plan(folder, serve(httpserver, stooq={"RIOT": riot}), tickers=("MARA", "RIOT"))
    assert [str(w) for w in result.plan.warnings] == [
        "sec+stooq RIOT: no close on 2025-07-02, when other tickers traded (the brief uses the last close before; "
        "check for a trading halt)"
    ]  # 4 July: nobody traded, so not a gap


def test_without_a_contact_address_nothing_is_requested(httpserver, folder: Path):
    (folder / "brief.yaml").write_text("title: t\nhouse: Northgate\n")
    seen: list[Request] = []
    base = serve(httpserver, seen)
    with pytest.raises(FetchError, match="declare a contact address"):
        plan(folder, base)
    with pytest.raises(FetchError, match="is not an e-mail address"):
        plan(folder, base, contact="the desk")
    assert seen == []


def test_shares_csv_is_checked_like_every_input(httpserver, folder: Path):
    (folder / "shares.csv").write_text(
        "date,ticker,shares_outstanding,source\n2025-06-30,BTDR,2.0e8x,20-F\n2025-06-30,BTDX,200000000,20-F\n"
    )
    seen: list[Request] = []
    with pytest.raises(InputError) as caught:
        plan(folder, serve(httpserver, seen))
    problems = [str(p) for p in caught.value.problems]
    assert problems[0].startswith("shares.csv: row 2, column 'shares_outstanding': ")
    assert problems[-1] == "shares.csv: nothing was fetched (fix the file first, then fetch again)"
    (folder / "shares.csv").write_text("date,ticker,shares_outstanding,source\n2025-06-30,BTDX,200000000,20-F\n")
    with pytest.raises(InputError) as caught:
        plan(folder, serve(httpserver, seen))
    assert str(caught.value.problems[0]) == (
        "shares.csv: row 2, column 'ticker': ticker BTDX is not in miners.csv (did you mean BTDR?)"
    )
    assert seen == []


def test_unknown_tickers_are_refused(httpserver, folder: Path):
    with pytest.raises(FetchError, match=r"--tickers: MARAA not in miners.csv \(did you mean MARA\?\)"):
        plan(folder, serve(httpserver), tickers=("MARAA",))


# --- the contract: market_cap_usd = shares_outstanding x close_usd ---------------------------


def test_the_contract_checks_a_traced_cap_within_rounding(folder: Path):
    (folder / "market_caps.csv").write_text(
        "date,ticker,market_cap_usd,shares_outstanding,close_usd,source\n"
        "2025-07-01,MARA,5302500000,350000000,15.15,sec\n"  # exact
        "2025-07-02,MARA,5467000001,350000000,15.62,sec\n"  # a dollar of rounding
        "2025-07-03,MARA,5500000000,,,manual\n"  # no trace: nothing to check
        "2025-07-07,MARA,5904000000,360000000,15.4,sec\n"  # 360,000,000 x 15.4 is 5,544,000,000
        "2025-07-08,MARA,6310350000,370000000,17.06,sec\n"  # cap from 17.055, close shown to the cent: rounding
        "2025-07-09,MARA,6310350000,370000000,17.0561,sec\n"
    )  # to four places, 17.05605 at least: not rounding
    with pytest.raises(InputError) as caught:
        load_inputs(folder)
    assert [str(p) for p in caught.value.problems] == [
        "market_caps.csv: row 5, column 'market_cap_usd': market_cap_usd 5,904,000,000 is not shares_outstanding x "
        "close_usd (360,000,000 x 15.4 = 5,544,000,000) (correct the figure that is wrong, or leave "
        "shares_outstanding and close_usd blank)",
        "market_caps.csv: row 7, column 'market_cap_usd': market_cap_usd 6,310,350,000 is not shares_outstanding x "
        "close_usd (370,000,000 x 17.0561 = 6,310,757,000) (correct the figure that is wrong, or leave "
        "shares_outstanding and close_usd blank)",
    ]


# --- the command, and a brief built from what it wrote ---------------------------------------


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_fetch_then_build_prints_the_combined_market_cap(httpserver, folder: Path, tmp_path: Path):
    base = serve(httpserver)
    result = run(
        "fetch",
        "equities",
        "--inputs",
        str(folder),
        "--since",
        "2025-07-01",
        "--sec-base-url",
        base,
        "--prices-base-url",
        base,
    )
    # HIVE, CLSK and CIFR fail: exit 1, each named, the others written with a backup of the old file (the
    # command runs on the real date, so 9 July is over and merged too)
    assert result.exit_code == 1
    assert (
        "MARA: 6 days, shares from sec 10-Q filed 2025-05-08 (count at 2025-04-25); sec 10-Q filed 2025-07-03 "
        "(count at 2025-06-30); sec S-3 filed 2025-07-08 (count at 2025-06-30), closes from stooq\n"
    ) in result.stdout
    backup = next((folder / "backups").iterdir())
    assert f"Wrote {folder / 'market_caps.csv'} (previous version kept as {backup}).\n" in result.stdout
    assert result.stderr.splitlines()[-4:][0] == "Error: 3 of 7 tickers failed; the others were kept:"
    assert backup.read_text() == EXISTING.lstrip("\n")

    # combined market cap on the period's end (8 July) and the compare end (3 July): members' caps that day
    expected = expected_rows()
    period = sum(expected[("2025-07-08", t)][0] for t in ("MARA", "RIOT", "BTDR", "WULF"))
    compare = sum(expected[("2025-07-03", t)][0] for t in ("MARA", "RIOT", "BTDR"))
    figures = run("metrics", "--inputs", str(folder), "--format", "json")
    assert figures.exit_code == 0, figures.output
    equities = json.loads(figures.stdout)["equities"]
    assert equities["market_cap_usd"]["period"] == pytest.approx(period, abs=0.5)
    assert equities["market_cap_usd"]["compare"] == pytest.approx(compare, abs=0.5)

    from briefgen.formatting import usd

    built = run("build", "--inputs", str(folder), "--output", str(tmp_path / "output"))
    assert built.exit_code == 0, built.output
    html = (tmp_path / "output" / "brief.html").read_text()
    assert usd(period) in html and usd(compare) in html


def test_the_sample_inputs_take_a_refresh(httpserver, tmp_path: Path):
    import shutil

    from tests.conftest import ROOT

    sample = ROOT / "inputs"
    if not (sample / "market_caps.csv").is_file():
        pytest.skip("the sample inputs are not generated (make inputs)")
    folder = Path(shutil.copytree(sample, tmp_path / "inputs"))
    members = [line.split(",")[0] for line in (folder / "miners.csv").read_text().splitlines()[1:]]
    shares = {t: 100_000_000 + 7_654_321 * n for n, t in enumerate(members)}
    days = [date(2026, 1, d) for d in (2, 5, 6, 7, 8, 9, 12, 13, 14)]
    closes = {t: [f"{10 + n + k / 100:g}" for k in range(len(days))] for n, t in enumerate(members)}

    def handler(request: Request) -> Response:
        if request.path == "/files/company_tickers.json":
            body = {str(n): {"cik_str": 1000 + n, "ticker": t, "title": t} for n, t in enumerate(members)}
            return Response(json.dumps(body), content_type="application/json")
        if request.path.startswith("/api/xbrl/"):
            ticker = members[int(request.path.split("/")[4][3:]) - 1000]
            fact = {
                "end": "2025-10-31",
                "val": shares[ticker],
                "accn": "0000000000-25-000001",
                "fy": 2025,
                "fp": "Q3",
                "form": "10-Q",
                "filed": "2025-11-05",
            }
            return Response(json.dumps({"units": {"shares": [fact]}}), content_type="application/json")
        ticker = request.args["s"].removesuffix(".us").upper()
        rows = [f"{d},1,1,1,{c},100" for d, c in zip(days, closes[ticker], strict=False)]
        return Response("Date,Open,High,Low,Close,Volume\n" + "\n".join(rows) + "\n", content_type="text/csv")

    httpserver.expect_request("").respond_with_handler(handler)
    base = httpserver.url_for("/").rstrip("/")
    result = run(
        "fetch",
        "equities",
        "--inputs",
        str(folder),
        "--since",
        "2026-01-01",
        "--sec-base-url",
        base,
        "--prices-base-url",
        base,
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(run("metrics", "--inputs", str(folder), "--format", "json").stdout)
    end = date.fromisoformat(figures["period"]["end"])
    assert end == days[-1]
    on_end = [t for t in members if t not in ("SDIG", "ARBK")]  # their membership ended in 2024 and 2025
    expected = sum(cap(shares[t], closes[t][-1]) for t in on_end)
    assert figures["equities"]["market_cap_usd"]["period"] == pytest.approx(expected, abs=0.5)


def test_dry_run_writes_nothing(httpserver, folder: Path):
    before = (folder / "market_caps.csv").read_bytes()
    base = serve(httpserver)
    result = run(
        "fetch",
        "equities",
        "--inputs",
        str(folder),
        "--since",
        "2025-07-01",
        "--tickers",
        "MARA,RIOT",
        "--sec-base-url",
        base,
        "--prices-base-url",
        base,
        "--dry-run",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(f"Dry run: {folder / 'market_caps.csv'} not written.\n")
    assert (folder / "market_caps.csv").read_bytes() == before and not (folder / "backups").exists()


def test_the_command_has_help_and_is_documented():
    assert run("fetch", "equities", "--help").exit_code == 0
    docs = user_docs()
    for text in (
        "briefgen fetch equities",
        "--sec-base-url",
        "--prices-base-url",
        "--tickers",
        "--contact",
        "shares.csv",
        "EntityCommonStockSharesOutstanding",
        "10 requests",
        "User-Agent",
        "Stooq",
        "shares_outstanding",
        "close_usd",
    ):
        assert text in docs, text
