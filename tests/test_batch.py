"""Many briefs at once: the twice-monthly dates, each note's windows, parallel isolated builds, failures."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefgen.batch import BatchResult, note_windows, run_batch, summary_table, twice_monthly
from briefgen.build import BuildOptions
from briefgen.cli import main
from briefgen.inputs.config import Window

pytestmark = pytest.mark.filterwarnings("error")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "inputs"  # network data 2024-04-01 to 2026-01-15
OUT_OF_DATA = (
    "1 problem in the inputs: brief.yaml: period: 2026-01-01 to 2026-01-31 is outside the network data "
    "(2024-04-01 to 2026-01-15) (choose dates inside the data or add the missing days to network.csv)"
)


# --- dates and windows -----------------------------------------------------------------------


def test_twice_monthly_is_every_15th_and_every_month_end_in_the_range():
    assert twice_monthly(date(2025, 12, 10), date(2026, 2, 28)) == [
        date(2025, 12, 15),
        date(2025, 12, 31),
        date(2026, 1, 15),
        date(2026, 1, 31),
        date(2026, 2, 15),
        date(2026, 2, 28),
    ]
    assert twice_monthly(date(2024, 2, 16), date(2024, 3, 15)) == [date(2024, 2, 29), date(2024, 3, 15)]
    assert twice_monthly(date(2026, 1, 16), date(2026, 1, 30)) == []


def test_a_mid_month_note_covers_the_first_two_weeks_against_late_last_month():
    assert note_windows(date(2026, 1, 15)) == (
        Window(date(2026, 1, 1), date(2026, 1, 14), "first two weeks of January"),
        Window(date(2025, 12, 18), date(2025, 12, 31), "late December"),
    )
    assert note_windows(date(2024, 3, 15))[1] == Window(date(2024, 2, 16), date(2024, 2, 29), "late February")


def test_a_month_end_note_covers_the_month_against_the_month_before():
    assert note_windows(date(2026, 1, 31)) == (
        Window(date(2026, 1, 1), date(2026, 1, 31), "January 2026"),
        Window(date(2025, 12, 1), date(2025, 12, 31), "December 2025"),
    )
    assert note_windows(date(2026, 3, 31))[1] == Window(date(2026, 2, 1), date(2026, 2, 28), "February 2026")


def test_any_other_date_covers_the_month_to_date_against_as_many_days_before():
    assert note_windows(date(2026, 1, 10)) == (
        Window(date(2026, 1, 1), date(2026, 1, 10), "1\u201310 Jan 2026"),
        Window(date(2025, 12, 22), date(2025, 12, 31), "22\u201331 Dec 2025"),
    )


def test_the_summary_table():
    results = [
        BatchResult(date(2025, 12, 31), Path("out/batch/2025-12-31"), "built", pages=9, seconds=6.14),
        BatchResult(
            date(2026, 1, 31),
            Path("out/batch/2026-01-31"),
            "failed",
            seconds=0.12,
            error="1 problem in the inputs:\n  - brief.yaml: period: outside the network data",
        ),
    ]

    assert summary_table(results) == (
        "as of       status  pages  seconds  error\n"
        "2025-12-31  built       9      6.1\n"
        "2026-01-31  failed      -      0.1  1 problem in the inputs: brief.yaml: period: outside the network data\n"
        "1 of 2 briefs built\n"
    )


# --- building --------------------------------------------------------------------------------


def test_two_briefs_build_in_parallel_into_their_own_folders_and_a_failure_stays_isolated(tmp_path):
    output = tmp_path / "output"
    calls: list[tuple[int, int, date | None]] = []
    dates = [date(2026, 1, 31), date(2025, 12, 31), date(2026, 1, 15)]  # 31 Jan is past the data: it fails

    results = run_batch(
        dates,
        BuildOptions(SAMPLE, output),
        jobs=2,
        progress=lambda done, total, result: calls.append((done, total, result.as_of if result else None)),
    )

    assert [(r.as_of, r.status, r.output_dir) for r in results] == [
        (date(2025, 12, 31), "built", output / "batch" / "2025-12-31"),
        (date(2026, 1, 15), "built", output / "batch" / "2026-01-15"),
        (date(2026, 1, 31), "failed", output / "batch" / "2026-01-31"),
    ]
    assert results[2].error == OUT_OF_DATA.replace("inputs: ", "inputs:\n  - ")
    assert [r.pages for r in results[:2]] == [9, 9]  # the sample brief is nine pages
    assert calls[0] == (0, 3, None) and [c[:2] for c in calls[1:]] == [(1, 3), (2, 3), (3, 3)]
    assert sorted(c[2] for c in calls[1:] if c[2] is not None) == sorted(dates)  # each names its brief's date
    # Each brief is whole in its own folder, for its own dates; nothing else was written.
    assert sorted(p.name for p in output.iterdir()) == ["batch"]
    assert sorted(p.name for p in (output / "batch").iterdir()) == ["2025-12-31", "2026-01-15"]
    december = (output / "batch" / "2025-12-31" / "brief.html").read_text(encoding="utf-8")
    january = (output / "batch" / "2026-01-15" / "brief.html").read_text(encoding="utf-8")
    assert "December 2025" in december and "1\u201314 Jan 2026" not in december
    assert "1\u201314 Jan 2026" in january and "18\u201331 Dec 2025" in january
    for folder in ("2025-12-31", "2026-01-15"):
        assert (output / "batch" / folder / "brief.pdf").read_bytes().startswith(b"%PDF-")
        assert not any(p.name.startswith(".build-") for p in (output / "batch" / folder).iterdir())


def test_batch_command_prints_the_table_and_exits_1_when_a_brief_failed(tmp_path):
    result = CliRunner().invoke(
        main, ["batch", "--as-of", "2026-01-31", "--inputs", str(SAMPLE), "--output", str(tmp_path), "--jobs", "2"]
    )

    assert result.exit_code == 1
    output = re.sub(r"\b\d+\.\d\b", "S.S", result.output)  # the seconds vary
    assert output == (
        "as of       status  pages  seconds  error\n"
        f"2026-01-31  failed      -      S.S  {OUT_OF_DATA}\n"
        "0 of 1 brief built\n"
        "Error: 1 of 1 brief failed; see the table above\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Error: give the as-of dates: --as-of DATES, or --from DATE --to DATE"),
        (
            ["--as-of", "2026-01-15", "--from", "2026-01-01"],
            "Error: give either --as-of DATES or --from DATE --to DATE, not both",
        ),
        (
            ["--as-of", "2026-01-15,15/01/2026"],
            "Error: Invalid value for --as-of: expected a date as YYYY-MM-DD, got '15/01/2026'",
        ),
        (
            ["--from", "2026-02-01", "--to", "2026-01-01"],
            "Error: Invalid value for --to: 2026-01-01 is before --from 2026-02-01",
        ),
        (
            ["--from", "2026-01-16", "--to", "2026-01-20"],
            "Error: no twice-monthly as-of date (a 15th or a month end) from 2026-01-16 to 2026-01-20",
        ),
    ],
)
def test_batch_command_says_what_dates_it_needs(args, message):
    result = CliRunner().invoke(main, ["batch", *args])

    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == message
