"""`briefgen fetch network`: a local HTTP server plays each source in its documented shape.

Coin Metrics: {"data": [...], "next_page_url": ...} pages of string values, HashRate in TH/s.
mempool.space: daily hashrates stamped at the midnight closing their day, fee averages per bucket
of blocks, one historical price per request. Nothing here touches the real internet.
"""

from __future__ import annotations

import csv
import json
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from werkzeug import Request, Response

from briefgen.cli import main
from briefgen.errors import FetchError, InputError
from briefgen.fetch import HttpPolicy, apply_plan, describe
from briefgen.sectors.bitcoin_mining.fetch.mempool import midnight, period_for
from briefgen.sectors.bitcoin_mining.fetch.network import plan_network_refresh
from briefgen.sectors.bitcoin_mining.inputs import load_inputs
from tests.conftest import ROOT, user_docs, write_inputs

pytestmark = pytest.mark.filterwarnings("error")

TODAY = date(2025, 3, 8)
CM_PATH = "/v4/timeseries/asset-metrics"
NOW = datetime(2025, 3, 8, 12, 30, 5, tzinfo=UTC)

# (day, PriceUSD, HashRate in TH/s, BlkCnt, FeeTotNtv): what the Coin Metrics stand-in serves
SERVED = [
    ("2025-03-01", "80000", "1100000000", "140", "2"),
    ("2025-03-02", "82000.25", "1080500000.5", "146", "3.5"),
    ("2025-03-03", "84000", "1120000000", "150", "2.6"),
    ("2025-03-04", "90000", "1000000000", "144", "3"),
    ("2025-03-05", "92000", "1010000000", "150", "4.5"),
    ("2025-03-06", "94000", "990000000", "138", "2.1"),
]


def implied(hashrate_ths: str, blocks: str) -> int:
    """The data README's difficulty_implied: TH/s x 1e12 x 86,400 / (blocks x 2^32), in exact arithmetic."""
    return round(Fraction(hashrate_ths) * 10**12 * 86_400 / (int(blocks) * 2**32))


def record(
    day: str, price: str | None, hashrate: str | None, blocks: str | None, fees: str | None, issued: str | None = None
) -> dict:
    values = {
        "PriceUSD": price,
        "HashRate": hashrate,
        "BlkCnt": blocks,
        "FeeTotNtv": fees,
        "IssTotNtv": issued if issued is not None else (str(int(blocks) * 3.125) if blocks else None),
    }
    return {"asset": "btc", "time": f"{day}T00:00:00.000000000Z", **{k: v for k, v in values.items() if v is not None}}


def coinmetrics(httpserver, records: list[dict], seen: list[dict] | None = None, next_host: str | None = None) -> str:
    """Serve records in pages of the requested page_size, linked by next_page_url; return the base URL."""
    base = httpserver.url_for("/").rstrip("/")

    def handler(request: Request) -> Response:
        args = dict(request.args)
        if seen is not None:
            seen.append(args)
        size = int(args["page_size"])
        start = int(args.get("next_page_token", 0))
        body: dict = {"data": records[start : start + size]}
        if start + size < len(records):
            query = {**{k: v for k, v in args.items() if k != "next_page_token"}, "next_page_token": str(start + size)}
            body["next_page_token"] = str(start + size)
            body["next_page_url"] = f"{next_host or base}{CM_PATH}?{urlencode(query)}"
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request(CM_PATH).respond_with_handler(handler)
    return base


def served_records() -> list[dict]:
    return [record(*row) for row in SERVED]


EXISTING = """
date,btc_price_usd,hashrate_ehs,blocks,fees_btc,difficulty,source
2025-02-27,79000,1090,144,2.2,110000000000000,
2025-02-28,79500,1095,145,2.4,110000000000000,
2025-03-01,80000,1100,140,2,{d1},coinmetrics
2025-03-02,82000,1080,146,3,{d2},
""".format(d1=implied("1100000000", "140"), d2=implied("1080500000.5", "146"))
BRIEF = "title: t\nperiod: {start: 2025-03-04, end: 2025-03-06}\ncompare: {start: 2025-03-01, end: 2025-03-03}\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_inputs(tmp_path / "inputs", {"brief.yaml": BRIEF, "network.csv": EXISTING})


def fast(attempts: int = 3) -> HttpPolicy:
    return HttpPolicy(attempts=attempts, backoff_s=0.5, timeout_s=5.0)


def plan(folder: Path, base: str, since: date | None = date(2025, 3, 1), sleeps: list[float] | None = None, **kwargs):
    sleeps = [] if sleeps is None else sleeps
    return plan_network_refresh(
        folder,
        "coinmetrics",
        since,
        base,
        today=kwargs.pop("today", TODAY),
        policy=kwargs.pop("policy", fast()),
        sleep=sleeps.append,
        page_size=kwargs.pop("page_size", 2),
        **kwargs,
    )


def refused(folder: Path, base: str, **kwargs) -> str:
    """Fetch expecting a refusal; check network.csv is byte-identical and no backup was made."""
    before = (folder / "network.csv").read_bytes()
    with pytest.raises(FetchError) as caught:
        plan(folder, base, **kwargs)
    assert (folder / "network.csv").read_bytes() == before
    assert not (folder / "backups").exists()
    return str(caught.value)


# --- Coin Metrics: paging, conversion, merge -------------------------------------------------


def test_pages_are_followed_and_rows_merged_by_date(httpserver, folder: Path):
    seen: list[dict] = []
    progress: list[tuple] = []
    base = coinmetrics(httpserver, served_records(), seen)
    result = plan(folder, base, progress=lambda *args: progress.append(args))
    assert [s.get("next_page_token") for s in seen] == [None, "2", "4"]
    assert seen[0] == {
        "assets": "btc",
        "metrics": "PriceUSD,HashRate,BlkCnt,FeeTotNtv,IssTotNtv",
        "frequency": "1d",
        "start_time": "2025-03-01",
        "page_size": "2",
    }
    assert [p[:2] for p in progress] == [(1, 4), (2, 4), (3, 4)]  # 8 days at 2 a page: 4 expected, 3 came
    assert result.added == tuple(date(2025, 3, d) for d in (3, 4, 5, 6))
    assert result.unchanged == 1  # 2025-03-01 agrees
    assert [(c.day, c.cells) for c in result.changed] == [
        (
            date(2025, 3, 2),
            (
                ("btc_price_usd", "82000", "82000.25"),
                ("hashrate_ehs", "1080", "1080.5000005"),
                ("fees_btc", "3", "3.5"),
            ),
        )
    ]
    assert describe(result) == (
        "coinmetrics: 6 days fetched, 2025-03-01 to 2025-03-06\n"
        "  new: 4 days, 2025-03-03 to 2025-03-06\n"
        "  changed: 1 day (old -> new)\n"
        "    2025-03-02  btc_price_usd 82000 -> 82000.25; hashrate_ehs 1080 -> 1080.5000005; fees_btc 3 -> 3.5\n"
        "  unchanged: 1 day\n"
    )
    assert (folder / "network.csv").read_text() == EXISTING.lstrip("\n")  # a plan writes nothing

    old = (folder / "network.csv").read_bytes()
    backup = apply_plan(result, now=NOW)
    d = {day: implied(h, b) for day, _, h, b, _ in SERVED}
    assert (folder / "network.csv").read_text() == (
        "date,btc_price_usd,hashrate_ehs,blocks,fees_btc,difficulty,source\n"
        "2025-02-27,79000,1090,144,2.2,110000000000000,manual\n"
        "2025-02-28,79500,1095,145,2.4,110000000000000,manual\n"
        f"2025-03-01,80000,1100,140,2,{d['2025-03-01']},coinmetrics\n"
        f"2025-03-02,82000.25,1080.5000005,146,3.5,{d['2025-03-02']},coinmetrics\n"
        f"2025-03-03,84000,1120,150,2.6,{d['2025-03-03']},coinmetrics\n"
        f"2025-03-04,90000,1000,144,3,{d['2025-03-04']},coinmetrics\n"
        f"2025-03-05,92000,1010,150,4.5,{d['2025-03-05']},coinmetrics\n"
        f"2025-03-06,94000,990,138,2.1,{d['2025-03-06']},coinmetrics\n"
    )
    assert backup == folder / "backups" / "network.2025-03-08T123005.csv"
    assert backup.read_bytes() == old
    loaded = load_inputs(folder)  # the backups folder is not an input: the loader reads exact names only
    assert [s.name for s in loaded.sources] == ["brief.yaml", "network.csv"]
    assert loaded.network["hashrate_ehs"].iloc[-1] == 990.0


def test_a_second_backup_in_the_same_second_gets_its_own_name(httpserver, folder: Path):
    base = coinmetrics(httpserver, served_records())
    apply_plan(plan(folder, base), now=NOW)
    httpserver.clear()
    base = coinmetrics(httpserver, [record("2025-03-07", "95000", "1000000000", "144", "3")])
    second = apply_plan(plan(folder, base, since=date(2025, 3, 7)), now=NOW)
    assert second == folder / "backups" / "network.2025-03-08T123005-2.csv"
    assert sorted(p.name for p in (folder / "backups").iterdir()) == [
        "network.2025-03-08T123005-2.csv",
        "network.2025-03-08T123005.csv",
    ]


def test_refetching_the_same_data_changes_nothing(httpserver, folder: Path):
    base = coinmetrics(httpserver, served_records())
    apply_plan(plan(folder, base), now=NOW)
    again = plan(folder, base)
    assert (again.added, again.changed, again.unchanged, again.new_bytes) == ((), (), 6, None)
    assert apply_plan(again) is None
    assert describe(again).endswith("  unchanged: 6 days\n")


def test_the_unfinished_day_is_skipped_with_a_note(httpserver, folder: Path):
    records = [
        *served_records(),
        record("2025-03-07", "95000", None, None, None),
        record("2025-03-08", "96000", "1000000000", "60", "1"),
    ]
    result = plan(folder, coinmetrics(httpserver, records))
    assert result.added[-1] == date(2025, 3, 6)
    assert [str(n) for n in result.notes] == [
        "coinmetrics 2025-03-07: skipped: no HashRate, BlkCnt, FeeTotNtv yet "
        "(Coin Metrics fills a day in once it is complete; fetch again later)",
        "coinmetrics 2025-03-08: skipped: the day is not over yet",
    ]


def test_issuance_is_checked_against_the_halving_schedule(httpserver, tmp_path: Path):
    folder = write_inputs(tmp_path / "inputs", {"brief.yaml": "title: t\n"})
    records = [
        record("2024-04-18", "63000", "600000000", "140", "20", "875"),  # 6.25 a block, as scheduled
        record("2024-04-19", "64000", "620000000", "151", "30", "931.25"),  # the day Coin Metrics splits
        record("2024-04-20", "64500", "610000000", "148", "300", "462.5"),  # 3.125 from the halving
        record("2024-04-21", "64900", "600000000", "144", "40", "450"),  # 3.125 (the day after: not checked)
        record("2024-04-22", "66800", "590000000", "144", "35", "900"),  # 6.25: disagrees
    ]
    result = plan(folder, coinmetrics(httpserver, records), since=date(2024, 4, 18))
    assert [str(w) for w in result.warnings] == [
        "coinmetrics 2024-04-22: IssTotNtv 900 BTC over 144 blocks is 6.25 BTC a block, but the halving schedule "
        "says 3.125 (briefgen takes the subsidy from the schedule; if a halving has happened, add it to "
        "briefgen/sectors/bitcoin_mining/schedule.py)"
    ]
    apply_plan(result)
    assert (folder / "network.csv").read_text().splitlines()[0] == (
        "date,btc_price_usd,hashrate_ehs,blocks,fees_btc,difficulty,source"
    )
    assert not (folder / "backups").exists()  # nothing to keep: there was no network.csv


def test_the_real_coin_metrics_series_passes_the_checks(httpserver, tmp_path: Path, real_data: Path):
    """638 real days served back as the API would: no issuance warning (the split halving day is expected)."""
    with real_data.open() as handle:
        rows = list(csv.DictReader(handle))
    records = [
        record(r["date"], r["price_usd"], r["hashrate_ths"], r["blk_cnt"], r["fee_tot_btc"], r["iss_tot_btc"])
        for r in rows
    ]
    folder = write_inputs(tmp_path / "inputs", {"brief.yaml": "title: t\n"})
    result = plan(
        folder, coinmetrics(httpserver, records), since=date(2024, 4, 1), page_size=200, today=date(2026, 1, 1)
    )
    assert (len(result.added), result.warnings) == (638, ())
    apply_plan(result)
    network = load_inputs(folder).network
    assert (network["difficulty"] / [float(r["difficulty_implied"]) for r in rows] - 1).abs().max() < 1e-9
    assert network.loc[network["date"] == "2025-10-30", "difficulty"].iloc[0] == pytest.approx(155.97e12, rel=1e-4)


def test_bad_values_are_refused_naming_source_and_day(httpserver, folder: Path):
    records = served_records()
    records[3]["PriceUSD"] = "n/a"
    records[4]["HashRate"] = "620000000000000"  # H/s, not TH/s: 620,000,000 EH/s
    records[5]["BlkCnt"] = "138.5"
    message = refused(folder, coinmetrics(httpserver, records))
    assert message == (
        "coinmetrics sent 3 unusable values; nothing was merged:\n"
        "  - coinmetrics 2025-03-04: column 'btc_price_usd': expected a number, got text 'n/a' "
        "(write a plain number such as 1234.5)\n"
        "  - coinmetrics 2025-03-05: column 'hashrate_ehs': 620,000,000 looks like TH/s, not EH/s "
        "(divide by 1,000,000) (check the figure and its unit)\n"
        "  - coinmetrics 2025-03-06: column 'blocks': expected a whole number, got '138.5' "
        "(blocks are counted in whole numbers)"
    )


def test_a_day_sent_twice_is_refused(httpserver, folder: Path):
    records = served_records()
    message = refused(folder, coinmetrics(httpserver, [*records, records[-1]]))
    assert (
        message == "coinmetrics sent 1 unusable value; nothing was merged:\n"
        "  - coinmetrics 2025-03-06: the day appears twice in the response"
    )


# --- Coin Metrics: failures leave network.csv as it was --------------------------------------


def test_429_is_retried_after_the_wait_the_server_asks(httpserver, folder: Path):
    httpserver.expect_oneshot_request(CM_PATH).respond_with_data("slow down", status=429, headers={"Retry-After": "7"})
    base = coinmetrics(httpserver, served_records())
    sleeps: list[float] = []
    result = plan(folder, base, sleeps=sleeps)
    assert sleeps == [7.0]
    assert len(result.fetched) == 6


def test_5xx_is_retried_with_backoff(httpserver, folder: Path):
    httpserver.expect_oneshot_request(CM_PATH).respond_with_data("oops", status=502)
    httpserver.expect_oneshot_request(CM_PATH).respond_with_data("oops", status=503)
    base = coinmetrics(httpserver, served_records())
    sleeps: list[float] = []
    assert len(plan(folder, base, sleeps=sleeps, policy=fast(attempts=4)).fetched) == 6
    assert sleeps == [0.5, 1.0]  # 503 without Retry-After backs off like any 5xx


def test_a_persistent_500_is_refused(httpserver, folder: Path):
    httpserver.expect_request(CM_PATH).respond_with_json({"error": {"type": "internal", "message": "boom"}}, status=500)
    base = httpserver.url_for("/").rstrip("/")
    sleeps: list[float] = []
    assert refused(folder, base, sleeps=sleeps) == (
        f"coinmetrics: {base}{CM_PATH} answered 500 Internal Server Error 3 times: 'boom'; "
        f"the source may be busy or down, try again later\n{folder / 'network.csv'} was not changed."
    )
    assert sleeps == [0.5, 1.0]


def test_a_client_error_is_not_retried_and_shows_the_server_message(httpserver, folder: Path):
    httpserver.expect_request(CM_PATH).respond_with_json(
        {"error": {"type": "bad_parameter", "message": "Bad parameter 'start_time'."}}, status=400
    )
    base = httpserver.url_for("/").rstrip("/")
    sleeps: list[float] = []
    assert refused(folder, base, sleeps=sleeps) == (
        f"coinmetrics: {base}{CM_PATH} answered 400 Bad Request: \"Bad parameter 'start_time'.\"\n"
        f"{folder / 'network.csv'} was not changed."
    )
    assert (sleeps, len(httpserver.log)) == ([], 1)


def test_a_retry_after_too_long_is_reported_not_waited(httpserver, folder: Path):
    httpserver.expect_request(CM_PATH).respond_with_data("", status=429, headers={"Retry-After": "3600"})
    base = httpserver.url_for("/").rstrip("/")
    assert refused(folder, base) == (
        f"coinmetrics: {base}{CM_PATH} answered 429 and asks us to wait 3,600 s before trying again; "
        f"try again later\n{folder / 'network.csv'} was not changed."
    )


def test_malformed_json_is_refused(httpserver, folder: Path):
    httpserver.expect_request(CM_PATH).respond_with_data('{"data": [{"time": ', content_type="application/json")
    base = httpserver.url_for("/").rstrip("/")
    assert refused(folder, base) == (
        f"coinmetrics: {base}{CM_PATH} did not send valid JSON (Expecting value at line 1 column 20)\n"
        f"{folder / 'network.csv'} was not changed."
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"data": [{"asset": "btc", "PriceUSD": "1"}]}, "coinmetrics: page 1, item 1 has no 'time' field"),
        ({"items": []}, "coinmetrics: {url} sent no 'data' list (is the base URL a Coin Metrics API?)"),
        (
            {"data": [{"asset": "eth", "time": "2025-03-01T00:00:00.000000000Z"}]},
            "coinmetrics: page 1, item 1 is for asset 'eth', not btc",
        ),
        (
            {"data": [{"asset": "btc", "time": "2025-03-01T13:00:00Z"}]},
            "coinmetrics: page 1, item 1: 'time' '2025-03-01T13:00:00Z' is not a UTC midnight "
            "such as 2024-04-01T00:00:00.000000000Z",
        ),
    ],
)
def test_a_missing_or_wrong_field_is_refused(httpserver, folder: Path, body: dict, problem: str):
    httpserver.expect_request(CM_PATH).respond_with_json(body)
    base = httpserver.url_for("/").rstrip("/")
    assert refused(folder, base) == problem.format(url=base + CM_PATH) + f"\n{folder / 'network.csv'} was not changed."


def test_a_next_page_on_another_host_is_refused(httpserver, folder: Path):
    base = coinmetrics(httpserver, served_records(), next_host="http://collector.example")
    assert refused(folder, base) == (
        f"coinmetrics: {base}{CM_PATH} points the next page at 'http://collector.example{CM_PATH}', off {base}; "
        f"refusing to follow it\n{folder / 'network.csv'} was not changed."
    )
    assert len(httpserver.log) == 1


def test_a_redirect_is_refused(httpserver, folder: Path):
    httpserver.expect_request(CM_PATH).respond_with_data("", status=302, headers={"Location": "http://other.example/"})
    base = httpserver.url_for("/").rstrip("/")
    assert refused(folder, base) == (
        f"coinmetrics: {base}{CM_PATH} redirects (302) to 'http://other.example/'; briefgen does not follow "
        f"redirects: pass the final address as --base-url\n{folder / 'network.csv'} was not changed."
    )


def test_an_unreachable_source_is_a_clear_error(folder: Path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    assert refused(folder, f"http://127.0.0.1:{port}", sleeps=sleeps) == (
        f"coinmetrics: cannot reach http://127.0.0.1:{port}{CM_PATH} (Connection refused); "
        f"check the network connection and the address\n{folder / 'network.csv'} was not changed."
    )
    assert sleeps == []  # nothing listens there: retrying would only make the user wait


def test_a_server_that_does_not_answer_in_time_is_a_clear_error(httpserver, folder: Path):
    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response("{}", content_type="application/json")

    httpserver.expect_request(CM_PATH).respond_with_handler(slow)
    base = httpserver.url_for("/").rstrip("/")
    policy = HttpPolicy(attempts=2, backoff_s=0.25, timeout_s=0.2)
    sleeps: list[float] = []
    assert refused(folder, base, policy=policy, sleeps=sleeps) == (
        f"coinmetrics: cannot reach {base}{CM_PATH} (timed out) after 2 attempts; "
        f"check the network connection and the address\n{folder / 'network.csv'} was not changed."
    )
    assert sleeps == [0.25]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://mirror.example", "must start with http:// or https://"),
        ("file:///etc/passwd", "must start with http:// or https://"),
        ("mirror.example:8080", "must start with http:// or https://"),
        ("http://", "has no host name"),
        ("https://user:secret@mirror.example", "holds credentials; give the address without them"),
        ("https://mirror.example/?key=1", "must not carry a query or a fragment"),
    ],
)
def test_only_plain_http_and_https_base_urls_are_accepted(folder: Path, url: str, problem: str):
    assert refused(folder, url) == f"coinmetrics: base URL {url!r} {problem}"


def test_an_invalid_network_csv_is_refused_before_fetching(httpserver, folder: Path):
    (folder / "network.csv").write_text("date,btc_price_usd,hashrate_ehs,blocks,fees_btc\n2025-03-01,n/a,1100,140,2\n")
    with pytest.raises(InputError) as caught:
        plan(folder, coinmetrics(httpserver, served_records()))
    assert str(caught.value) == (
        "2 problems in the inputs:\n"
        "  - network.csv: row 2, column 'btc_price_usd': expected a number, got text 'n/a' "
        "(write a plain number such as 1234.5)\n"
        "  - network.csv: nothing was fetched (fix the file first, then fetch again)"
    )
    assert httpserver.log == []


def test_a_file_edited_during_the_fetch_is_not_overwritten(httpserver, folder: Path):
    result = plan(folder, coinmetrics(httpserver, served_records()))
    (folder / "network.csv").write_text(EXISTING.lstrip("\n") + "2025-03-03,84000,1120,150,2.6,,\n")
    with pytest.raises(FetchError) as caught:
        apply_plan(result)
    assert str(caught.value) == (
        f"{folder / 'network.csv'} changed while the data was being fetched; nothing was written: fetch again"
    )


def test_without_since_the_last_two_weeks_are_fetched_again(httpserver, folder: Path):
    seen: list[dict] = []
    plan(folder, coinmetrics(httpserver, served_records(), seen), since=None)
    assert seen[0]["start_time"] == "2025-02-17"  # 14 days ending on the last day in network.csv, 2025-03-02


def test_without_since_or_rows_there_is_nowhere_to_start(tmp_path: Path):
    folder = write_inputs(tmp_path / "inputs", {"brief.yaml": "title: t\n"})
    with pytest.raises(FetchError) as caught:
        plan(folder, "http://127.0.0.1:9", since=None)
    assert (
        str(caught.value)
        == f"{folder / 'network.csv'} has no rows to continue from; say where to start with --since YYYY-MM-DD"
    )


def test_extra_columns_line_endings_and_heights_are_kept(httpserver, tmp_path: Path):
    text = (
        "\ufeffdate,btc_price_usd,hashrate_ehs,blocks,fees_btc,height,note\r\n"
        '2025-03-01,80000,1100,140,2,886700,"checked, twice"\r\n'
    )
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "network.csv").write_bytes(text.encode("utf-8"))
    result = plan(folder, coinmetrics(httpserver, served_records()[:3]))
    assert result.warnings == ()
    apply_plan(result)
    d = {day: implied(h, b) for day, _, h, b, _ in SERVED}
    assert (folder / "network.csv").read_bytes().decode("utf-8") == (
        "\ufeffdate,btc_price_usd,hashrate_ehs,blocks,fees_btc,height,note,difficulty,source\r\n"
        f'2025-03-01,80000,1100,140,2,886700,"checked, twice",{d["2025-03-01"]},coinmetrics\r\n'
        f"2025-03-02,82000.25,1080.5000005,146,3.5,886846,,{d['2025-03-02']},coinmetrics\r\n"
        f"2025-03-03,84000,1120,150,2.6,886996,,{d['2025-03-03']},coinmetrics\r\n"
    )
    assert [(c.day, c.cells) for c in result.changed] == [
        (date(2025, 3, 1), (("difficulty", "", str(d["2025-03-01"])),))
    ]


def test_a_changed_block_count_warns_about_a_kept_height(httpserver, tmp_path: Path):
    folder = write_inputs(
        tmp_path / "inputs",
        {
            "network.csv": """
        date,btc_price_usd,hashrate_ehs,blocks,fees_btc,height
        2025-03-01,80000,1100,141,2,886700
        """
        },
    )
    result = plan(folder, coinmetrics(httpserver, served_records()[:1]))
    assert [str(w) for w in result.warnings] == [
        "coinmetrics 2025-03-01: blocks changed but the height 886700 was kept "
        "(check the 'height' column from this day on)"
    ]


# --- mempool.space ---------------------------------------------------------------------------

M = [midnight(date(2025, 3, day)) for day in (1, 2, 3, 4)]
HEIGHTS = [886_700, 886_844, 886_994, 887_132]  # at each midnight: 144, 150 and 138 blocks in the days between
RETARGET = 887_040  # 440 x 2,016: inside 2025-03-03 (blocks 886,995 .. 887,132)
PRICES = {M[1]: 86_000, M[2]: 87_000.5, M[3]: 88_000}


def fee_buckets() -> list[dict]:
    """Buckets 15 minutes either side of each midnight (so the midnight height is exact) and one at noon."""
    points = [{"avgHeight": HEIGHTS[0] - 1, "timestamp": M[0] - 900, "avgFees": 900_000, "USD": 85_000}]
    fees = [(1_000_000, 1_200_000, 1_400_000), (2_000_000, 2_500_000, 3_000_000), (1_500_000, 1_600_000, 1_700_000)]
    for day in range(3):
        start, end = M[day], M[day + 1]
        points += [
            {"avgHeight": HEIGHTS[day] + 1, "timestamp": start + 900, "avgFees": fees[day][0], "USD": 85_000},
            {
                "avgHeight": (HEIGHTS[day] + HEIGHTS[day + 1]) // 2,
                "timestamp": start + 43_200,
                "avgFees": fees[day][1],
                "USD": 85_000,
            },
            {"avgHeight": HEIGHTS[day + 1] - 1, "timestamp": end - 900, "avgFees": fees[day][2], "USD": 85_000},
        ]
    points.append({"avgHeight": HEIGHTS[3] + 1, "timestamp": M[3] + 900, "avgFees": 5, "USD": 88_000})
    return points


def mempool(httpserver, fees: list[dict] | None = None) -> str:
    httpserver.expect_request("/api/v1/mining/hashrate/1m").respond_with_json(
        {
            "hashrates": [
                {"timestamp": M[1], "avgHashrate": 7.0e20},
                {"timestamp": M[2], "avgHashrate": 7.1e20},
                {"timestamp": M[3], "avgHashrate": 6.9e20},
            ],
            "difficulty": [
                {"time": M[2] + 50_000, "height": RETARGET, "difficulty": 1.12e14, "adjustment": 1.12 / 1.10}
            ],
            "currentHashrate": 6.95e20,
            "currentDifficulty": 1.12e14,
        }
    )
    httpserver.expect_request("/api/v1/mining/blocks/fees/1m").respond_with_json(fees or fee_buckets())

    def price(request: Request) -> Response:
        assert request.args["currency"] == "USD"
        stamp = int(request.args["timestamp"])
        return Response(
            json.dumps({"prices": [{"time": stamp - 600, "USD": PRICES[stamp]}], "exchangeRates": {"USDEUR": 0.92}}),
            content_type="application/json",
        )

    httpserver.expect_request("/api/v1/historical-price").respond_with_handler(price)
    return httpserver.url_for("/").rstrip("/")


def test_mempool_endpoints_combine_into_daily_rows(httpserver, tmp_path: Path):
    folder = write_inputs(tmp_path / "inputs", {"brief.yaml": "title: t\n"})
    progress: list[tuple] = []
    result = plan_network_refresh(
        folder,
        "mempool",
        date(2025, 3, 1),
        mempool(httpserver),
        today=date(2025, 3, 4),
        policy=fast(),
        sleep=lambda s: None,
        progress=lambda *a: progress.append(a),
    )
    assert [p[:2] for p in progress] == [(1, None), (2, None), (3, 5), (4, 5), (5, 5)]
    assert [str(n) for n in result.notes] == [
        "mempool: blocks and fees per day are estimated from 0.5-hour fee averages (period 1m); Coin Metrics has "
        "exact daily counts (see the README's mempool.space section)"
    ]
    apply_plan(result)
    # fees: the day's mean avgFees x its blocks; difficulty: 45 blocks at 1.10e14 and 93 at 1.12e14 on 3 March
    blended = (45 * 1.12e14 / (1.12 / 1.10) + 93 * 1.12e14) / 138
    lines = (folder / "network.csv").read_text().splitlines()
    assert lines[:3] == [
        "date,btc_price_usd,hashrate_ehs,blocks,fees_btc,difficulty,source",
        f"2025-03-01,86000,700,144,{1_200_000 * 144 / 1e8:g},110000000000000,mempool",
        f"2025-03-02,87000.5,710,150,{2_500_000 * 150 / 1e8:g},110000000000000,mempool",
    ]
    day3 = lines[3].split(",")
    assert day3[:5] == ["2025-03-03", "88000", "690", "138", f"{1_600_000 * 138 / 1e8:g}"]
    assert float(day3[5]) == pytest.approx(blended, abs=1)
    assert day3[6] == "mempool"
    assert len(lines) == 4


def test_mempool_periods_follow_how_far_back_since_is():
    today = date(2025, 3, 8)
    assert period_for(date(2025, 3, 1), today) == ("1m", 1_800)
    assert period_for(date(2024, 12, 20), today) == ("3m", 7_200)
    assert period_for(date(2024, 6, 1), today) == ("1y", 28_800)
    assert period_for(date(2020, 1, 1), today) == ("all", 86_400)


def test_mempool_missing_field_is_refused(httpserver, folder: Path):
    fees = fee_buckets()
    del fees[1]["avgHeight"]
    base = mempool(httpserver, fees)
    before = (folder / "network.csv").read_bytes()
    with pytest.raises(FetchError) as caught:
        plan_network_refresh(folder, "mempool", date(2025, 3, 1), base, today=date(2025, 3, 4), policy=fast())
    assert str(caught.value) == (
        f"mempool: {base}/api/v1/mining/blocks/fees/1m item 2 has no 'avgHeight' field\n"
        f"{folder / 'network.csv'} was not changed."
    )
    assert (folder / "network.csv").read_bytes() == before


def test_mempool_days_without_figures_are_skipped_with_a_note(httpserver, tmp_path: Path):
    folder = write_inputs(tmp_path / "inputs", {"brief.yaml": "title: t\n"})
    base = mempool(httpserver, [p for p in fee_buckets() if p["timestamp"] < M[2] + 3600])
    result = plan_network_refresh(folder, "mempool", date(2025, 2, 27), base, today=date(2025, 3, 4), policy=fast())
    assert result.added == (date(2025, 3, 1), date(2025, 3, 2))
    assert [str(n) for n in result.notes[1:]] == [
        "mempool 2025-02-27: skipped: mempool has no daily hashrate, block heights or fee averages for it",
        "mempool 2025-02-28: skipped: mempool has no daily hashrate or block heights for it",
        "mempool 2025-03-03: skipped: mempool has no block heights for it",  # no bucket after its closing midnight
    ]


# --- the command -----------------------------------------------------------------------------


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_fetch_then_metrics_gives_the_served_figures(httpserver, tmp_path: Path):
    folder = write_inputs(
        tmp_path / "inputs",
        {
            "brief.yaml": BRIEF,
            "network.csv": """
        date,btc_price_usd,hashrate_ehs,blocks,fees_btc
        2025-02-28,79500,1095,145,2.4
        2025-03-01,80000,1100,140,2
        """,
        },
    )
    base = coinmetrics(httpserver, served_records())
    fetched = run("fetch", "network", "--inputs", str(folder), "--since", "2025-03-01", "--base-url", base)
    assert fetched.exit_code == 0, fetched.output
    assert fetched.stdout.endswith(
        f"Wrote {folder / 'network.csv'} (previous version kept as {next((folder / 'backups').iterdir())}).\n"
        'Coin Metrics data is CC BY-NC 4.0: credit "Source: Coin Metrics Community Data" in the brief.\n'
    )

    figures = run("metrics", "--inputs", str(folder), "--format", "json")
    assert figures.exit_code == 0, figures.output
    network = json.loads(figures.stdout)["network"]
    economics = json.loads(figures.stdout)["economics"]
    # period 4-6 March and compare 1-3 March are all served rows: EH/s = TH/s / 1e6
    assert network["hashrate_ehs"]["period"] == pytest.approx((1000 + 1010 + 990) / 3)
    assert network["hashrate_ehs"]["compare"] == pytest.approx((1100 + 1080.5000005 + 1120) / 3)
    assert network["btc_price_usd"]["period"] == pytest.approx(92_000)
    assert network["btc_price_usd"]["compare"] == pytest.approx((80_000 + 82_000.25 + 84_000) / 3)
    assert network["fees_btc_per_block"]["period"] == pytest.approx(9.6 / 432)
    assert network["difficulty"]["period"] == pytest.approx(sum(implied(h, b) for _, _, h, b, _ in SERVED[3:]) / 3)
    # revenue per EH/s = 144 x (3.125 + sum F / sum B) x mean(P) / mean(H)
    assert economics["revenue_usd_per_eh_day"]["period"] == pytest.approx(144 * (3.125 + 9.6 / 432) * 92_000 / 1000)


def test_dry_run_prints_the_changes_and_writes_nothing(httpserver, folder: Path):
    before = (folder / "network.csv").read_bytes()
    base = coinmetrics(httpserver, served_records())
    result = run("fetch", "network", "--inputs", str(folder), "--since", "2025-03-01", "--base-url", base, "--dry-run")
    assert result.exit_code == 0
    assert result.stdout == (
        "coinmetrics: 6 days fetched, 2025-03-01 to 2025-03-06\n"
        "  new: 4 days, 2025-03-03 to 2025-03-06\n"
        "  changed: 1 day (old -> new)\n"
        "    2025-03-02  btc_price_usd 82000 -> 82000.25; hashrate_ehs 1080 -> 1080.5000005; fees_btc 3 -> 3.5\n"
        "  unchanged: 1 day\n"
        f"Dry run: {folder / 'network.csv'} not written.\n"
    )
    assert (folder / "network.csv").read_bytes() == before
    assert not (folder / "backups").exists()


def test_command_errors_are_one_clean_line(folder: Path):
    result = run("fetch", "network", "--inputs", str(folder), "--base-url", "ftp://mirror.example")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: coinmetrics: base URL 'ftp://mirror.example' must start with http:// or https://\n",
    )
    result = run("fetch", "network", "--inputs", str(folder), "--since", "1 March")
    assert result.exit_code == 2
    assert result.stderr.endswith("Error: Invalid value for --since: expected a date as YYYY-MM-DD, got '1 March'\n")


def test_the_sample_inputs_take_a_refresh(httpserver, tmp_path: Path):
    sample = ROOT / "inputs"
    if not (sample / "network.csv").is_file():
        pytest.skip("the sample inputs are not generated (make inputs)")
    folder = Path(shutil.copytree(sample, tmp_path / "inputs"))
    before = json.loads(run("metrics", "--inputs", str(folder), "--format", "json").stdout)
    first, last = (date.fromisoformat(before["period"][k]) for k in ("start", "end"))
    days = [first + timedelta(days=n) for n in range((last - first).days + 4)]  # the whole period and 3 days more
    records = [
        record(
            d.isoformat(),
            f"{90_000 + 100 * n}",
            f"{1_000_000_000 + 5_000_000 * n}",
            f"{140 + n % 5}",
            f"{2 + n / 10:g}",
        )
        for n, d in enumerate(days)
    ]
    result = run(
        "fetch",
        "network",
        "--inputs",
        str(folder),
        "--since",
        first.isoformat(),
        "--base-url",
        coinmetrics(httpserver, records),
    )
    assert result.exit_code == 0, result.output
    after = json.loads(run("metrics", "--inputs", str(folder), "--format", "json").stdout)
    assert after["period"] == before["period"]
    period, network = records[:-3], after["network"]
    assert network["hashrate_ehs"]["period"] == pytest.approx(
        sum(int(r["HashRate"]) for r in period) / len(period) / 1e6
    )
    assert network["btc_price_usd"]["period"] == pytest.approx(sum(int(r["PriceUSD"]) for r in period) / len(period))
    assert network["fees_btc_per_block"]["period"] == pytest.approx(
        sum(float(r["FeeTotNtv"]) for r in period) / sum(int(r["BlkCnt"]) for r in period)
    )
    if date.fromisoformat(before["compare"]["end"]) < first:  # the compare window was not fetched: unchanged
        assert network["hashrate_ehs"]["compare"] == before["network"]["hashrate_ehs"]["compare"]

    # The brief built from the refreshed inputs prints the served figures and credits the source.
    from pypdf import PdfReader

    from briefgen.formatting import usd
    from briefgen.sectors.bitcoin_mining.units import ehs

    built = run("build", "--inputs", str(folder), "--output", str(tmp_path / "output"))
    assert built.exit_code == 0, built.output
    cover = PdfReader(tmp_path / "output" / "brief.pdf").pages[0].extract_text()
    assert usd(network["btc_price_usd"]["period"]) in cover
    assert ehs(network["hashrate_ehs"]["period"]) in cover
    html = (tmp_path / "output" / "brief.html").read_text()
    assert 'Network data marked "coinmetrics": Source: Coin Metrics Community Data' in html


def test_building_never_touches_the_network():
    """Only `briefgen fetch` imports briefgen.fetch; the build, check and metrics paths never do."""
    code = (
        "import sys, briefgen.cli, briefgen.build, briefgen.sectors.bitcoin_mining.inputs, "
        "briefgen.sectors.bitcoin_mining.metrics; "
        "print(sorted(m for m in sys.modules if m.startswith('briefgen.fetch')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_the_command_has_help_and_is_documented():
    result = run("fetch", "network", "--help")
    assert result.exit_code == 0
    docs = user_docs()
    for text in (
        "briefgen fetch network",
        "--inputs",
        "--source",
        "--since",
        "--base-url",
        "--dry-run",
        "CC BY-NC 4.0",
        "Source: Coin Metrics Community Data",
        "mempool.space",
    ):
        assert text in docs, text


# --- deadlines and nesting -------------------------------------------------------------------


class _Trickler:
    """A server on 127.0.0.1 that sends its answer one byte every `every` seconds (headers first, or not at all)."""

    def __init__(self, every: float, headers_first: bool):
        import threading

        self.every, self.headers_first = every, headers_first
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self) -> None:
        body = b'{"data": []}' + b" " * 10_000
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                if self.headers_first:
                    conn.sendall(head)
                for byte in body if self.headers_first else head + body:
                    if self.stop.wait(self.every):
                        return
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break  # the client gave up: wait for the next one

    def close(self) -> None:
        self.stop.set()
        self.listener.close()
        self.thread.join(5)


@pytest.mark.parametrize("headers_first", [True, False])
def test_a_server_trickling_its_answer_is_cut_off_at_the_request_deadline(folder: Path, headers_first: bool):
    """A byte every 0.05 s never trips a 5 s socket timeout: without a deadline this fetch took 10 minutes."""
    server = _Trickler(0.05, headers_first)
    try:
        policy = HttpPolicy(attempts=3, backoff_s=0.1, timeout_s=5.0, request_deadline_s=0.5)
        sleeps: list[float] = []
        assert refused(folder, server.base, policy=policy, sleeps=sleeps) == (
            f"coinmetrics: {server.base}{CM_PATH} did not finish within 0.5 s (the deadline for one request); the "
            f"server is answering too slowly, try again later\n{folder / 'network.csv'} was not changed."
        )
        assert sleeps == []  # a trickling server is not retried
    finally:
        server.close()


def test_the_run_has_a_deadline_too(httpserver, folder: Path):
    """Retries and their waits add up: the run's deadline stops them, without waiting past it."""
    httpserver.expect_request(CM_PATH).respond_with_data("busy", status=503)
    base = httpserver.url_for("/").rstrip("/")
    policy = HttpPolicy(attempts=6, backoff_s=1.0, timeout_s=5.0, run_deadline_s=2.5)
    sleeps: list[float] = []
    assert refused(folder, base, policy=policy, sleeps=sleeps) == (
        f"coinmetrics: stopped at {base}{CM_PATH}: the fetch ran past its 2.5 s deadline; try again later, or fetch "
        f"a shorter period with --since\n{folder / 'network.csv'} was not changed."
    )
    assert sleeps == [1.0]  # the next wait, 2 s, would have gone past it


def test_deeply_nested_json_is_a_clean_error_not_a_recursion_error(httpserver, folder: Path):
    httpserver.expect_request(CM_PATH).respond_with_data("[" * 200_000 + "]" * 200_000, content_type="application/json")
    base = httpserver.url_for("/").rstrip("/")
    assert refused(folder, base) == (
        f"coinmetrics: {base}{CM_PATH} sent JSON nested more than 64 deep; that is not the source's API\n"
        f"{folder / 'network.csv'} was not changed."
    )


def test_brackets_inside_strings_do_not_count_as_nesting():
    from briefgen.fetch.http import _depth

    assert _depth('{"a": "[[[[[[[[", "b": [[1]], "c": "\\"{{{"}') == 3
    assert _depth("[" * 65 + "]" * 65) == 65
