"""Build history: recording, the previous brief, `briefgen history` and `briefgen diff`, concurrent writers."""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefgen.cli import main
from briefgen.errors import BriefgenError
from briefgen.inputs.folder import SourceFile
from briefgen.sectors.bitcoin_mining import SECTOR
from briefgen.store.figures import flatten_figures, key_values
from briefgen.store.history import (
    PreviousBrief,
    diff_builds,
    list_builds,
    previous_brief,
    previous_key,
    record_build,
)
from briefgen.store.historydb import HISTORY_FILE, SCHEMA_VERSION, HistoryError
from tests.conftest import user_docs

pytestmark = pytest.mark.filterwarnings("error")

WHEN = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


def _figure(period: float | None, compare: float | None, share: bool = False) -> dict:
    change = "change_bps" if share else "change_pct"
    return {"period": period, "compare": compare, change: None, "prior_month": None, f"{change}_vs_prior_month": None}


def figures(
    btc: float = 90_000.0,
    hashrate: float = 1_022.0,
    margin: float = 47.0,
    cap: float | None = 62.0e9,
    height: int = 932_385,
    period: tuple[str, str] = ("2026-01-01", "2026-01-14"),
) -> dict:
    """A small slice of metrics_as_dict's data: enough for the key figures and a few more."""
    return {
        "period": {"start": period[0], "end": period[1], "label": "first two weeks of January"},
        "network": {
            "hashrate_ehs": _figure(hashrate, 1_043.0),
            "btc_price_usd": _figure(btc, 83_000.0),
            "block_height": height,
        },
        "economics": {
            "hashprice_usd_per_ph_day": _figure(40.08, 36.10),
            "revenue_usd_per_eh_day": _figure(40_080.0, 36_100.0),
            "gross_margin_pct": _figure(margin, 41.5, share=True),
            "sensitivity": {"unit": "USD per PH/s per day", "btc_price_usd": [btc], "hashrate_ehs": [hashrate]},
        },
        "miners": {
            "share_of_network_pct": _figure(41.0, 39.7, share=True),
            "leaders": ["BTDR", "RIOT"],
            "by_ticker": [{"ticker": "MARA", "name": "MARA Holdings", "hashrate_ehs": 61.2}],
        },
        "equities": None if cap is None else {"market_cap_usd": _figure(cap, 49.0e9)},
    }


def sources(network: str = "1" * 64, extra: dict[str, str] | None = None) -> tuple[SourceFile, ...]:
    files = [SourceFile("brief.yaml", 20, None, None, "b" * 64), SourceFile("network.csv", 655, None, None, network)]
    files += [SourceFile(name, 1, None, None, sha) for name, sha in (extra or {}).items()]
    return tuple(files)


def record(output: Path, as_of: date, pdf: str = "a" * 64, variant: str | None = None, **changes) -> int:
    start = as_of.replace(day=1)
    return record_build(
        output,
        as_of=as_of,
        period=(start, as_of),
        compare=(date(2025, 12, 18), date(2025, 12, 31)),
        figures=figures(**changes.pop("figures", {})),
        sources=changes.pop("sources", sources()),
        pdf_sha256=pdf,
        pdf_variant=variant,
        recorded_at=WHEN,
    )


def published(output: Path, build_id: int, as_of: date, *, recalled: bool = False) -> None:
    """Record build `build_id` as the next published version for `as_of` (no files: the history alone)."""
    from briefgen.publish.lifecycle import add_publication, next_version, writer

    with writer(output) as db:
        version = next_version(db, as_of)
        db.execute("UPDATE builds SET final_sha256 = pdf_sha256 WHERE id = ?", (build_id,))
        add_publication(
            db,
            build_id=build_id,
            as_of=as_of,
            version=version,
            approved_by="Carla Compliance",
            note=None,
            published_at="2026-01-15T10:00:00Z",
            pdf_sha256="f" * 64,
            pdf_size=1,
            folder=f"published/{as_of}/v{version}",
        )
        if recalled:
            db.execute(
                "UPDATE publications SET recalled_at = '2026-01-16T10:00:00Z', recall_reason = 'wrong'"
                " WHERE as_of = ? AND version = ?",
                (as_of.isoformat(), version),
            )


def test_history_shows_each_entry_status_version_and_approver_and_published_lists_only_those(tmp_path):
    record(tmp_path, date(2025, 12, 31), pdf="0d2d04caefcab970" + "0" * 48)
    published(tmp_path, 1, date(2025, 12, 31))
    published(tmp_path, 1, date(2025, 12, 31), recalled=True)
    record(tmp_path, date(2026, 1, 15), pdf="7f0a4c0938c55eab" + "0" * 48)

    everything = CliRunner().invoke(main, ["history", "--output", str(tmp_path)])
    only = CliRunner().invoke(main, ["history", "--published", "--output", str(tmp_path)])

    assert everything.exit_code == 0 and only.exit_code == 0, everything.output + only.output
    rows = [line.split()[:5] for line in everything.output.splitlines()[1:]]
    assert rows == [
        ["1", "2025-12-31", "published", "v1", "Carla"],
        ["1", "2025-12-31", "recalled", "v2", "Carla"],
        ["2", "2026-01-15", "draft", "-", "-"],
    ]
    assert everything.output.splitlines()[0].split()[:6] == ["id", "as", "of", "status", "version", "approved"]
    assert [line.split()[2] for line in only.output.splitlines()[1:]] == ["published", "recalled"]


# --- recording and the previous brief ---------------------------------------------------------


def test_first_recording_creates_a_versioned_database(tmp_path):
    build_id = record(tmp_path / "output", date(2026, 1, 15))

    assert build_id == 1
    with sqlite3.connect(tmp_path / "output" / HISTORY_FILE) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # readers create no side files
        assert db.execute("SELECT recorded_at, as_of, pdf_sha256 FROM builds").fetchall() == [
            ("2026-01-15T09:30:00+00:00", "2026-01-15", "a" * 64)
        ]
        assert db.execute("SELECT name, sha256 FROM sources ORDER BY name").fetchall() == [
            ("brief.yaml", "b" * 64),
            ("network.csv", "1" * 64),
        ]
    db.close()


def test_previous_brief_is_the_latest_publication_dated_strictly_before(tmp_path):
    published(tmp_path, record(tmp_path, date(2025, 12, 15), figures={"btc": 85_000.0}), date(2025, 12, 15))
    published(tmp_path, record(tmp_path, date(2025, 12, 31), figures={"btc": 87_000.0}), date(2025, 12, 31))
    rebuilt = record(tmp_path, date(2025, 12, 31), figures={"btc": 88_000.0, "cap": None})
    published(tmp_path, rebuilt, date(2025, 12, 31))  # v2, revised: it stands
    published(tmp_path, record(tmp_path, date(2026, 1, 15), figures={"btc": 90_000.0}), date(2026, 1, 15))

    previous = previous_brief(tmp_path, date(2026, 1, 15))

    assert previous == PreviousBrief(rebuilt, date(2025, 12, 31), figures(btc=88_000.0, cap=None))
    assert key_values(SECTOR.key_figures, previous.figures) == {
        "btc_price_usd": 88_000.0,
        "hashrate_ehs": 1_022.0,
        "hashprice_usd_per_ph_day": 40.08,
        "revenue_usd_per_eh_day": 40_080.0,
        "gross_margin_pct": 47.0,
        "market_cap_usd": None,
        "listed_share_pct": 41.0,
    }
    earlier = previous_brief(tmp_path, date(2025, 12, 31))
    assert earlier is not None and earlier.as_of == date(2025, 12, 15)
    assert previous_brief(tmp_path, date(2025, 12, 15)) is None


def test_a_draft_never_becomes_the_previous_brief(tmp_path):
    published(tmp_path, record(tmp_path, date(2025, 12, 15), figures={"btc": 85_000.0}), date(2025, 12, 15))
    record(tmp_path, date(2025, 12, 31), figures={"btc": 87_000.0})  # built, reviewed, never published

    previous = previous_brief(tmp_path, date(2026, 1, 15))
    assert previous is not None and previous.as_of == date(2025, 12, 15)


def test_a_recalled_version_is_not_the_previous_brief_and_the_version_before_it_is_not_either(tmp_path):
    published(tmp_path, record(tmp_path, date(2025, 12, 15), figures={"btc": 85_000.0}), date(2025, 12, 15))
    published(
        tmp_path, record(tmp_path, date(2025, 12, 31), figures={"btc": 87_000.0}), date(2025, 12, 31), recalled=True
    )

    previous = previous_brief(tmp_path, date(2026, 1, 15))
    assert previous is not None and previous.figures["network"]["btc_price_usd"]["period"] == 85_000.0


def test_a_schema_1_history_is_migrated_in_place_and_its_builds_count_as_drafts(tmp_path):
    import briefgen.publish.lifecycle as lifecycle

    with sqlite3.connect(tmp_path / HISTORY_FILE) as db:  # a history as briefgen wrote it before publishing
        from briefgen.store.historydb import SCHEMA_V1

        db.executescript(SCHEMA_V1 + "; PRAGMA user_version = 1;")
        db.execute(
            "INSERT INTO builds (recorded_at, as_of, period_start, period_end, compare_start, compare_end,"
            " pdf_sha256, figures) VALUES ('x', '2025-12-31', '2025-12-01', '2025-12-31', '2025-11-01',"
            " '2025-11-30', ?, '{}')",
            ("a" * 64,),
        )
    db.close()

    assert previous_brief(tmp_path, date(2026, 1, 15)) is None  # read-only: nothing migrated yet
    record(tmp_path, date(2026, 1, 15))
    with sqlite3.connect(tmp_path / HISTORY_FILE) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        assert db.execute("SELECT id, final_sha256 FROM builds ORDER BY id").fetchall() == [(1, None), (2, None)]
    db.close()
    assert lifecycle.publications(tmp_path) == []
    with pytest.raises(BriefgenError, match=r"older briefgen kept no publishable copy|build again"):
        from briefgen.publish.versions import publish

        publish(tmp_path, tmp_path, approved_by="Carla Compliance")


def test_no_history_means_no_previous_brief_and_no_file_is_created(tmp_path):
    assert previous_brief(tmp_path, date(2026, 1, 15)) is None
    assert not (tmp_path / HISTORY_FILE).exists()


def test_change_since_the_previous_brief_is_percent_for_levels_and_bp_for_shares():
    key = {k.name: k for k in SECTOR.key_figures}

    assert key["btc_price_usd"].change(90_000.0, 80_000.0) == pytest.approx(12.5)
    assert key["gross_margin_pct"].change(47.0, 45.5) == pytest.approx(150.0)
    assert key["market_cap_usd"].change(62.0e9, None) is None
    assert key["btc_price_usd"].change(None, 80_000.0) is None
    assert key["btc_price_usd"].change(90_000.0, 0.0) is None


def test_key_figures_read_the_same_from_metrics_and_from_their_json():
    from briefgen.sectors.bitcoin_mining.report import metrics_as_dict
    from tests.brief_fixtures import sector_metrics

    metrics = sector_metrics()
    keys = SECTOR.key_figures

    assert key_values(keys, metrics) == key_values(keys, metrics_as_dict(metrics))
    assert key_values(keys, metrics)["market_cap_usd"] == pytest.approx(62.0e9)
    assert key_values(keys, sector_metrics(miners=False, equities=False))["listed_share_pct"] is None


def test_since_names_a_key_figure_the_sector_declares(tmp_path):
    from tests.brief_fixtures import brief_context

    context = brief_context(tmp_path / "charts")

    assert context.since("btc_price_usd") is None  # no previous brief
    with pytest.raises(KeyError, match="'hash_price' is not one of the sector's key figures"):
        context.since("hash_price")


def test_a_history_from_a_newer_briefgen_is_refused(tmp_path):
    record(tmp_path, date(2026, 1, 15))
    with sqlite3.connect(tmp_path / HISTORY_FILE) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()

    with pytest.raises(HistoryError) as raised:
        previous_brief(tmp_path, date(2026, 1, 31))
    assert str(raised.value) == (
        f"{tmp_path / HISTORY_FILE} was written by a newer briefgen (schema "
        f"{SCHEMA_VERSION + 1}, this one reads {SCHEMA_VERSION}); upgrade briefgen"
    )
    assert isinstance(raised.value, BriefgenError)


def _record_many(output: str, worker: int, count: int, barrier) -> None:
    barrier.wait()  # both writers start together, on a database that does not exist yet
    for i in range(count):
        record(
            Path(output),
            date(2026, 1, 1 + i % 28),
            pdf=f"{worker}{i:063d}",
            sources=sources(extra={f"commentary/w{worker}-{i}.md": "c" * 64}),
        )


def test_two_processes_record_at_once_without_losing_a_build(tmp_path):
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    writers = [context.Process(target=_record_many, args=(str(tmp_path), w, 25, barrier)) for w in (1, 2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60)

    assert [w.exitcode for w in writers] == [0, 0]
    builds = list_builds(tmp_path)
    assert [b.id for b in builds] == list(range(1, 51))
    assert sorted(b.pdf_sha256 for b in builds) == sorted(f"{w}{i:063d}" for w in (1, 2) for i in range(25))
    with sqlite3.connect(tmp_path / HISTORY_FILE) as db:
        per_build = db.execute("SELECT COUNT(*) FROM sources GROUP BY build_id").fetchall()
    db.close()
    assert per_build == [(3,)] * 50


# --- the key-figures panel --------------------------------------------------------------------


def _key_figures_panel(html: str) -> str:
    panel = html[html.index('<div class="panel key-figures">') :]
    panel = panel.replace('<span class="nb">', "").replace("</span>", "")  # figures kept whole (nobreak filter)
    text = re.sub(r"<[^>]+>", " ", panel[: panel.index("</div>")])
    return re.sub(r"\s+", " ", text).strip()


def test_the_panel_shows_the_change_since_the_previous_brief_only_when_there_is_one(tmp_path):
    from briefgen.html.render import render_html
    from tests.brief_fixtures import brief_context

    context = brief_context(tmp_path / "charts")
    recorded = figures(btc=88_000.0, hashrate=1_000.0, margin=45.0, cap=None)
    recorded["economics"]["hashprice_usd_per_ph_day"]["period"] = 42.0
    recorded["economics"]["revenue_usd_per_eh_day"]["period"] = 42_000.0
    recorded["miners"]["share_of_network_pct"]["period"] = 40.0
    previous = PreviousBrief(3, date(2025, 12, 31), recorded)

    without = _key_figures_panel(render_html(context))
    with_previous = _key_figures_panel(render_html(replace(context, previous=previous)))

    assert "Since" not in without
    assert with_previous.startswith(
        "Key figures 1\u201314 Jan 2026 18\u201331 Dec 2025 Change Since 31 Dec 2025 "
        "BTC price $90,250 $82,970 +8.8% +2.6% "
        "Network hashrate 1,027 EH/s 1,048 EH/s \u22122.0% +2.7% "
    )
    assert "Gross margin incl. fees 47.1% 41.3% +580 bp +210 bp " in with_previous
    # The block-reward rows have no figure in the history yet: a dash, not an empty cell.
    assert "Block-reward margin subsidy only 46.6% 40.8% +580 bp \u2013 " in with_previous
    assert re.search(r"Combined market cap 1 \$62\.0bn \$48\.8bn \+27\.0% \u2013 ", with_previous)
    assert with_previous.endswith("Since: change from the period figures of our brief dated 31 Dec 2025.")


# --- briefgen history and briefgen diff -------------------------------------------------------


def test_history_lists_every_build_oldest_first(tmp_path):
    record(tmp_path, date(2025, 12, 31), pdf="0d2d04caefcab970" + "0" * 48, figures={"btc": 88_094.4, "cap": None})
    record(
        tmp_path,
        date(2026, 1, 15),
        pdf="7f0a4c0938c55eab" + "0" * 48,
        variant="pdf/a-3u",
        figures={"btc": 90_358.8, "margin": -3.4},
    )

    result = CliRunner().invoke(main, ["history", "--builds", "--output", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert result.output == (
        "id  as of       period                  pdf           variant   BTC price    hashrate  hashprice  "
        "margin  market cap\n"
        " 1  2025-12-31  2025-12-01..2025-12-31  0d2d04caefca  -           $88,094  1,022 EH/s     $40.08   "
        "47.0%           \u2013\n"
        " 2  2026-01-15  2026-01-01..2026-01-15  7f0a4c0938c5  pdf/a-3u    $90,359  1,022 EH/s     $40.08   "
        "\u22123.4%     $62.0bn\n"
    )


def test_diff_reports_changed_figures_and_input_files_with_old_and_new(tmp_path):
    record(tmp_path, date(2026, 1, 15), pdf="1" * 64)
    record(
        tmp_path,
        date(2026, 1, 15),
        pdf="2" * 64,
        figures={"btc": 99_000.0, "margin": 45.5, "height": 932_400},
        sources=sources(network="9" * 64, extra={"commentary/outlook.md": "c" * 64}),
    )

    result = CliRunner().invoke(main, ["diff", "--output", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert result.output == (
        "build 1 (as of 2026-01-15, period 2026-01-01..2026-01-15) -> "
        "build 2 (as of 2026-01-15, period 2026-01-01..2026-01-15)\n"
        "PDF: 111111111111 -> 222222222222 (changed)\n"
        "\n"
        "Input files: 2 of 3 changed\n"
        "  commentary/outlook.md  -             ->  cccccccccccc  added\n"
        "  network.csv            111111111111  ->  999999999999\n"
        "\n"
        "Figures: 3 of 28 changed\n"
        "  figure                                   old            new   change\n"
        "  network.btc_price_usd.period       90,000.00  ->  99,000.00   +10.0%\n"
        "  network.block_height                 932,385  ->    932,400      +15\n"
        "  economics.gross_margin_pct.period      47.00  ->      45.50  -150 bp\n"
    )


def test_diff_of_identical_builds_and_of_named_ids(tmp_path):
    for _ in range(3):
        record(tmp_path, date(2026, 1, 15))

    result = CliRunner().invoke(main, ["diff", "1", "3", "--output", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert result.output.endswith("Input files: none of 2 changed\n\nFigures: none of 28 changed\n")
    assert diff_builds(tmp_path, 2).new.id == 3  # with one id: that build against the last one


def test_flattened_figures_leave_out_derived_changes_and_the_sectors_derived_figures():
    flat = flatten_figures(figures(), SECTOR.derived)

    assert "economics.sensitivity.unit" in flatten_figures(figures())
    assert "economics.sensitivity.unit" not in flat
    assert not any(name.endswith(("change_pct", "change_bps")) for name in flat)
    assert flat["economics.gross_margin_pct.period"] == (47.0, "bp")
    assert flat["network.btc_price_usd.compare"] == (83_000.0, "%")
    assert flat["network.block_height"] == (932_385, "n")
    assert flat["miners.leaders"] == ("BTDR, RIOT", "")
    assert flat["miners.by_ticker[MARA].hashrate_ehs"] == (61.2, "%")


def test_history_and_diff_before_any_build_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    for command in (["history"], ["diff"]):
        result = runner.invoke(main, command)
        assert result.exit_code == 1
        assert result.output == "Error: no builds recorded yet in output/history.sqlite; run briefgen build first\n"


def test_diff_names_an_unknown_id_and_needs_two_builds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    record(Path("output"), date(2026, 1, 15))
    runner = CliRunner()

    one = runner.invoke(main, ["diff"])
    record(Path("output"), date(2026, 1, 31))
    unknown = runner.invoke(main, ["diff", "1", "7"])

    assert (one.exit_code, one.output) == (
        1,
        "Error: only one build (id 1) recorded in output/history.sqlite; "
        "diff needs two (build again, or name two ids)\n",
    )
    assert (unknown.exit_code, unknown.output) == (
        1,
        "Error: no build 7 in output/history.sqlite (ids run from 1 to 2; see briefgen history)\n",
    )


def test_commands_have_help_and_are_documented():
    docs = user_docs()
    for command in ("history", "diff", "batch"):
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0
        assert main.commands[command].help
        assert f"briefgen {command}" in docs


def test_the_previous_key_changes_only_when_what_the_brief_prints_from_history_changes(tmp_path):
    empty = previous_key(tmp_path, date(2026, 1, 15))
    record(tmp_path, date(2026, 1, 15))  # the same date: not printed in a brief dated 15 Jan
    same = previous_key(tmp_path, date(2026, 1, 15))
    draft = record(tmp_path, date(2025, 12, 31))
    still = previous_key(tmp_path, date(2026, 1, 15))  # a draft is never printed as "Since"
    published(tmp_path, draft, date(2025, 12, 31))

    assert empty == same == still == "previous=none"
    now = previous_key(tmp_path, date(2026, 1, 15))
    assert re.fullmatch(r"previous=2025-12-31:[0-9a-f]{64}", now)
    published(tmp_path, record(tmp_path, date(2025, 12, 31), figures={"btc": 91_000.0}), date(2025, 12, 31))
    assert previous_key(tmp_path, date(2026, 1, 15)) not in (now, "previous=none")  # a revision with other figures
