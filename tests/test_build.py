"""build(): each kind of change re-renders exactly what depends on it; cached equals uncached.

Each test works in its own folder: the cold build and the uncached one are made once per session
and only read; a test that builds on top of them copies them first (the `workspace` fixture).
"""

from __future__ import annotations

import multiprocessing
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from briefgen.build import BuildOptions, BuildResult, build
from briefgen.live.watch import Rebuild, watch
from tests.conftest import ROOT

ALL_CHARTS = {
    "network_hashrate",
    "hashprice",
    "revenue_per_eh",
    "hashprice_sensitivity",
    "fleet_classes",
    "listed_share",
    "miner_hashrate",
    "market_cap",
    "equities_vs_btc",
    "market_cap_to_opportunity",
}
MARKET_CAP_CHARTS = {"market_cap", "equities_vs_btc", "market_cap_to_opportunity"}


@dataclass(frozen=True)
class Built:
    """A finished build, shared read-only: its inputs, its output folder and what build() returned."""

    inputs: Path
    output: Path
    result: BuildResult


@pytest.fixture(scope="session")
def cold(tmp_path_factory) -> Built:
    """One cold build of the sample inputs with its cache. Read only: a test that changes it copies it."""
    root = tmp_path_factory.mktemp("cold")
    shutil.copytree(ROOT / "inputs", root / "inputs")
    result = build(BuildOptions(root / "inputs", root / "output"))
    return Built(root / "inputs", root / "output", result)


@pytest.fixture(scope="session")
def uncached(cold: Built, tmp_path_factory) -> Path:
    """The same inputs built without a cache, charts drawn in a child (read only): the reference bytes."""
    output = tmp_path_factory.mktemp("uncached") / "output"
    result = build(BuildOptions(cold.inputs, output, cache=False, parallel=True))
    assert set(result.drawn) == ALL_CHARTS
    assert not (output / ".cache").exists()
    return output


@pytest.fixture
def workspace(cold: Built, tmp_path: Path) -> Path:
    """This test's own copy of the cold build: inputs/ and output/ (its cache and history too)."""
    shutil.copytree(cold.inputs, tmp_path / "inputs")
    shutil.copytree(cold.output, tmp_path / "output", symlinks=True)
    return tmp_path


def _outputs(output: Path) -> dict[str, bytes]:
    """The brief's files: PDF, HTML and charts (not the cache or the history database)."""
    files = [output / "brief.pdf", output / "brief.html", *sorted((output / "charts").glob("*.svg"))]
    return {p.relative_to(output).as_posix(): p.read_bytes() for p in files}


def test_each_kind_of_change_redoes_only_what_depends_on_it(cold: Built, workspace: Path):
    assert set(cold.result.drawn) == ALL_CHARTS and not cold.result.unchanged
    options = BuildOptions(workspace / "inputs", workspace / "output")
    before = _outputs(workspace / "output")
    mtimes = {name: (workspace / "output" / name).stat().st_mtime_ns for name in before}

    again = build(options)
    assert again.unchanged and again.drawn == ()
    assert {name: (workspace / "output" / name).stat().st_mtime_ns for name in before} == mtimes

    outlook = workspace / "inputs" / "commentary" / "outlook.md"
    outlook.write_text(outlook.read_text() + "\nA new closing line on miners' power contracts.\n")
    prose = build(options)
    assert not prose.unchanged and prose.drawn == ()
    after = _outputs(workspace / "output")
    assert after["brief.pdf"] != before["brief.pdf"]
    assert "power contracts" in after["brief.html"].decode()
    assert {k: v for k, v in after.items() if k.startswith("charts/")} == {
        k: v for k, v in before.items() if k.startswith("charts/")
    }

    caps = workspace / "inputs" / "market_caps.csv"
    caps.write_text(caps.read_text().replace("2026-01-14,MARA,", "2026-01-14,MARA,1"))
    market = build(options)
    assert set(market.drawn) == MARKET_CAP_CHARTS


def test_cached_build_is_byte_identical_to_an_uncached_one(workspace: Path, uncached: Path):
    output = workspace / "output"
    for name in ("brief.pdf", "brief.html"):  # not unchanged: built again, every stage from the cache
        (output / name).unlink()
    cached = build(BuildOptions(workspace / "inputs", output))
    assert not cached.unchanged and cached.drawn == ()
    assert _outputs(output) == _outputs(uncached)
    # Charts drawn and the Outlook rendered in forked processes, or all here: the same bytes.
    serial = build(BuildOptions(workspace / "inputs", workspace / "serial", cache=False, parallel=False))
    assert set(serial.drawn) == ALL_CHARTS
    assert _outputs(workspace / "serial") == _outputs(uncached)


def test_a_cold_build_draws_its_charts_in_a_child_and_never_imports_matplotlib(
    cold: Built, uncached: Path, tmp_path: Path
):
    script = (
        "import sys; from pathlib import Path; from briefgen.build import BuildOptions, build; "
        f"r = build(BuildOptions(Path({str(cold.inputs)!r}), Path(sys.argv[1]), cache=False, parallel=True)); "
        "print(len(r.drawn), 'matplotlib' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "cold")], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(len(ALL_CHARTS)), "False"]
    assert _outputs(tmp_path / "cold") == _outputs(uncached)


def test_a_build_that_takes_every_chart_from_the_cache_never_imports_matplotlib(workspace: Path):
    """A template change renders the brief again; the charts, keyed by the tables, come from the cache."""
    from tests.test_publish import desk_templates

    desk = desk_templates(workspace / "desk")
    script = (
        "import sys; from pathlib import Path; from briefgen.build import BuildOptions, build; "
        "r = build(BuildOptions(Path(sys.argv[1]), Path(sys.argv[2]), templates_dir=Path(sys.argv[3]))); "
        "print(r.unchanged, len(r.drawn), r.charts, 'matplotlib' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(workspace / "inputs"), str(workspace / "output"), str(desk)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "0", str(len(ALL_CHARTS)), "False"]


def test_a_commentary_edit_imports_neither_pandas_nor_matplotlib(workspace: Path):
    """Everything but the commentary comes from the cache: no table is read, no chart drawn."""
    outlook = workspace / "inputs" / "commentary" / "outlook.md"
    outlook.write_text(outlook.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    script = (
        "import sys; from pathlib import Path; from briefgen.build import BuildOptions, build; "
        "r = build(BuildOptions(Path(sys.argv[1]), Path(sys.argv[2]))); "
        "print(r.unchanged, len(r.drawn), sorted(m for m in ('pandas', 'matplotlib') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(workspace / "inputs"), str(workspace / "output")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "0", "[]"]


def test_a_chart_that_fails_to_draw_fails_the_build_with_its_own_error(cold: Built, tmp_path: Path, monkeypatch):
    import briefgen.charts.stage

    def broken(jobs):
        raise ZeroDivisionError("a chart divided by zero")

    monkeypatch.setattr(briefgen.charts.stage, "draw", broken)  # inherited by the forked child
    with pytest.raises(ZeroDivisionError, match="divided by zero") as caught:
        build(BuildOptions(cold.inputs, tmp_path / "undrawn", cache=False, parallel=True))
    assert "In the background process" in "".join(caught.value.__notes__)  # drawn in a child, reported here
    assert multiprocessing.active_children() == []
    assert not (tmp_path / "undrawn" / "brief.pdf").exists()


def test_a_build_that_fails_while_charts_are_drawn_stops_the_drawing(cold: Built, tmp_path: Path, monkeypatch):
    import briefgen.html.render
    from briefgen.errors import RenderError

    def broken(*args, **kwargs):
        raise RenderError("templates/brief.html, line 3: a broken override")

    monkeypatch.setattr(briefgen.html.render, "render_html", broken)
    with pytest.raises(RenderError, match="broken override"):
        build(BuildOptions(cold.inputs, tmp_path / "broken", cache=False, parallel=True))
    assert multiprocessing.active_children() == []
    assert not (tmp_path / "broken" / "brief.pdf").exists()


def test_refresh_ignores_the_cache(workspace: Path):
    options = BuildOptions(workspace / "inputs", workspace / "output", refresh=True)
    result = build(options)
    assert not result.unchanged and set(result.drawn) == ALL_CHARTS


def test_watch_rebuilds_on_change_and_survives_a_bad_edit(workspace: Path):
    options = BuildOptions(workspace / "inputs", workspace / "output")  # the copy: the first build is unchanged
    reports: list[Rebuild] = []
    done = threading.Event()
    thread = threading.Thread(target=watch, args=(options, reports.append), kwargs={"stop": done}, daemon=True)
    thread.start()

    def wait_for(count: int) -> Rebuild:
        deadline = time.monotonic() + 120
        while len(reports) < count:
            assert time.monotonic() < deadline, "watch did not rebuild"
            time.sleep(0.05)
        return reports[count - 1]

    try:
        assert wait_for(1).result is not None
        network = workspace / "inputs" / "network.csv"
        good = network.read_text()
        network.write_text(good.replace("2026-01-14,", "14/01/2026,", 1))
        broken = wait_for(2)
        assert broken.result is None and "network.csv" in broken.changed[0]
        assert broken.error is not None and "expected a date as YYYY-MM-DD, got '14/01/2026'" in broken.error
        network.write_text(good)
        fixed = wait_for(3)
        assert fixed.error is None and fixed.result is not None
    finally:
        done.set()
        thread.join(timeout=30)


def test_the_watch_program_draws_in_children_and_writes_what_a_cold_build_writes(tmp_path: Path):
    """`briefgen watch` (a process of its own, charts and chunks in forked children) after a market-cap
    edit: the very bytes `briefgen build --no-cache` writes from the same inputs."""
    import csv
    import signal

    shutil.copytree(ROOT / "inputs", tmp_path / "inputs")
    program = [sys.executable, "-m", "briefgen"]
    watching = subprocess.Popen(
        [*program, "watch", "--inputs", "inputs", "--output", "watched"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []

    def wait_for(text: str) -> None:
        assert watching.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = watching.stdout.readline()
            lines.append(line)
            if text in line:
                return
            assert line, "".join(lines)
        raise AssertionError("".join(lines))

    try:
        wait_for("first build: rebuilt")
        path = tmp_path / "inputs" / "market_caps.csv"
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        column = rows[0].index("market_cap_usd")
        rows[-1][column] = str(int(float(rows[-1][column])) + 1234)
        with path.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
        wait_for("market_caps.csv: rebuilt")
    finally:
        watching.send_signal(signal.SIGINT)
        watching.wait(timeout=60)
    assert "chart(s) drawn" in "".join(lines)
    subprocess.run([*program, "build", "--no-cache", "--output", "cold"], cwd=tmp_path, check=True, capture_output=True)
    for name in ("brief.pdf", "brief.html"):
        assert (tmp_path / "watched" / name).read_bytes() == (tmp_path / "cold" / name).read_bytes()


def test_history_adds_the_since_column_and_rebuilds_stay_identical(tmp_path: Path):
    from briefgen.publish.versions import publish
    from tests.test_publish import desk_templates

    shutil.copytree(ROOT / "inputs", tmp_path / "inputs")
    output = tmp_path / "output"
    desk = desk_templates(tmp_path / "desk")
    month_end = BuildOptions(
        tmp_path / "inputs",
        output,
        period=(date(2025, 12, 1), date(2025, 12, 31)),
        compare=(date(2025, 11, 1), date(2025, 11, 30)),
        as_of=date(2025, 12, 31),
        templates_dir=desk,
    )
    build(month_end)
    assert "Since 31 Dec" not in (output / "brief.html").read_text()
    publish(output, tmp_path / "inputs", approved_by="Carla Compliance")  # only a publication is "previous"
    mid_month = BuildOptions(tmp_path / "inputs", output, templates_dir=desk)
    build(mid_month)
    first = (output / "brief.pdf").read_bytes()
    html = (output / "brief.html").read_text()
    assert "Since" in html and "31 Dec 2025" in html
    build(BuildOptions(tmp_path / "inputs", output, templates_dir=desk, cache=False))
    assert (output / "brief.pdf").read_bytes() == first


def test_nothing_dated_after_the_period_end_reaches_the_brief(tmp_path: Path):
    """Rows after the period's end in every dated input (network, listed hashrate, market caps, deals, a
    miner whose membership starts later) leave the figures, charts and pages exactly as without them.

    They used to leak: the network series ran to the last row (charts, the next-adjustment estimate),
    and every deal in deals.csv was listed, and cited in the takeaways, whatever its date.
    """
    from briefgen.sectors.bitcoin_mining.inputs import load_inputs
    from briefgen.sectors.bitcoin_mining.metrics import compute
    from briefgen.sectors.bitcoin_mining.report import metrics_as_json

    plain, future = tmp_path / "plain", tmp_path / "future"
    shutil.copytree(ROOT / "inputs", plain)
    shutil.copytree(ROOT / "inputs", future)
    additions = {
        "network.csv": "".join(f"2026-02-{d:02d},123457,987.6,150,9.87654321,142624508284647\n" for d in range(1, 8)),
        "miner_hashrate.csv": "2026-02-01,MARA,99.9\n2026-02-01,NEWM,12.3\n",
        "market_caps.csv": "2026-02-03,MARA,77777000000\n2026-02-03,NEWM,1234000000\n",
        "deals.csv": "2026-02-02,MARA,hpc_lease,FutureCo,9990000000,999,Signed after the period\n"
        "2026-01-16,NEWM,land,LaterCo,5000000,,Announced the day after the note\n",
        "miners.csv": "NEWM,Future Miner Inc.,NASDAQ,2026-02-01,\n",
    }
    for name, rows in additions.items():
        with open(future / name, "a", encoding="utf-8") as handle:
            handle.write(rows)
    loaded = load_inputs(future)
    assert len(loaded.network) == len(load_inputs(plain).network)  # no February day is kept
    assert metrics_as_json(compute(loaded)) == metrics_as_json(compute(load_inputs(plain)))
    built = {}
    for folder in (plain, future):
        build(BuildOptions(folder, folder.parent / f"{folder.name}-out", cache=False))
        out = folder.parent / f"{folder.name}-out"
        html = (out / "brief.html").read_text(encoding="utf-8")
        built[folder.name] = (
            re.sub(r"\b[0-9a-f]{64}\b", "<sha256>", html),
            {p.name: p.read_bytes() for p in sorted((out / "charts").glob("*.svg"))},
        )
    html = built["future"][0]
    for text in ("FutureCo", "LaterCo", "NEWM", "Future Miner", "123,457", "Feb 2026", "16 Jan 2026"):
        assert text not in html, text
    assert built["future"] == built["plain"]  # only the digests of the changed files differ
    assert not loaded.warnings  # the gap before the February rows is after the period: nothing the brief shows
