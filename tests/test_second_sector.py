"""The seam: a second sector, defined in the test suite, goes through the same pipeline as the mining brief.

tests/sectors/tiny is one table (prices.csv), one metric (the period's average and its change),
one chart and one template. Nothing in briefgen is patched: the sector is named by its module,
built, recorded in the history, published with the desk's disclosures (as .ci/run does) and
distributed through the outbox to two clients, each getting a copy stamped for them.
"""

from __future__ import annotations

import email
import email.policy
import io
import re
import statistics
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from briefgen.build import BuildOptions, build
from briefgen.cli import main
from briefgen.distribute.manifest import safe_stem
from briefgen.publish.versions import PLACEHOLDER_MARK, publish
from briefgen.resources import TEMPLATES_DIR
from briefgen.sector import load_sector
from briefgen.store.history import list_builds
from tests.sectors.tiny import KEY_FIGURES

SECTOR = "tests.sectors.tiny"
FIRST, LAST = date(2026, 1, 1), date(2026, 2, 11)
PERIOD = (date(2026, 1, 15), date(2026, 1, 28))  # the first brief; compare: the 14 days before
CLIENTS = (
    "client_id,name,firm,email\nacme-1,Ana Lopez,Acme Capital,ana@acme.example.com\n"
    "zeta-3,Zoe Adams,Zeta Fund,zoe@zeta.example.com\n"
)
NOON = datetime(2026, 1, 29, 12, 0, tzinfo=UTC)


def values() -> dict[date, float]:
    """The rows of prices.csv: an uneven path, so an average of the wrong days shows."""
    days = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
    return {day: round(100.0 + 3.7 * n + (n % 5) * 1.3, 2) for n, day in enumerate(days)}


def average(rows: dict[date, float], start: date, end: date) -> float:
    return statistics.fmean(value for day, value in rows.items() if start <= day <= end)


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    """An inputs folder for the tiny sector, two clients, and the desk's disclosures override."""
    inputs = tmp_path / "inputs"
    (inputs / "commentary").mkdir(parents=True)
    (inputs / "prices.csv").write_text("date,value\n" + "".join(f"{d},{v}\n" for d, v in values().items()))
    (inputs / "brief.yaml").write_text('house: "Tiny Desk"\nanalysts:\n  - name: "Ada Analyst"\n')
    (inputs / "commentary" / "outlook.md").write_text("Prices should *settle*.\n")
    (inputs / "clients.csv").write_text(CLIENTS)
    shipped = (TEMPLATES_DIR / "partials" / "disclosures.html").read_text(encoding="utf-8")
    (tmp_path / "desk" / "partials").mkdir(parents=True)
    (tmp_path / "desk" / "partials" / "disclosures.html").write_text(shipped.replace(PLACEHOLDER_MARK + "\n", ""))
    return tmp_path


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


@pytest.mark.parametrize(
    "name, code", [(SECTOR, "tests.sectors.tiny.brief"), ("bitcoin_mining", "briefgen.sectors.bitcoin_mining.metrics")]
)
def test_naming_a_sector_imports_none_of_its_code_nor_pandas(name: str, code: str):
    import subprocess

    program = (
        f"import sys; from briefgen.sector import load_sector; s = load_sector({name!r}); "
        f"print('pandas' in sys.modules, {code!r} in sys.modules, s.name)"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.stdout.split() == ["False", "False", name]


def test_a_second_sector_is_built_recorded_published_and_distributed(desk: Path):
    inputs, output, templates = desk / "inputs", desk / "output", desk / "desk"
    rows = values()
    compare = (PERIOD[0] - timedelta(days=14), PERIOD[0] - timedelta(days=1))
    expected, before = average(rows, *PERIOD), average(rows, *compare)

    result = build(BuildOptions(inputs, output, period=PERIOD, templates_dir=templates, sector=SECTOR))

    assert result.warnings == () and result.charts == 1
    # the history recorded the build, with the sector's figures
    (record,) = list_builds(output)
    assert (record.as_of, record.period, record.compare) == (PERIOD[1], PERIOD, compare)
    assert KEY_FIGURES[0].value(record.figures) == pytest.approx(expected)

    published = publish(output, inputs, approved_by="Carla Compliance", now=NOON)

    folder = published.folder
    assert folder == output / "published" / PERIOD[1].isoformat() / "v1" and (folder / "brief.pdf").is_file()
    text = pdf_text((folder / "brief.pdf").read_bytes())
    assert f"Average value 15\u201328 Jan 2026: {expected:,.2f}, against {before:,.2f} over 1\u201314 Jan 2026" in text
    assert f"({(expected / before - 1) * 100:+.1f}%)" in text
    assert f"In the sector's own unit: {expected:,.1f} pts." in text  # its filter (Sector.filters)
    assert "Prices should settle." in text  # commentary/outlook.md, in the sector's one section
    meta = PdfReader(folder / "brief.pdf").metadata
    assert meta is not None and meta.title is not None
    assert meta.title.startswith("Tiny prices: The average is")
    assert "DRAFT" not in text
    # the sector has no methodology appendix: the house's disclosures name none
    assert "computed from the input data listed in Appendix B; they are estimates" in text
    assert "Appendix A" not in text

    sent = CliRunner().invoke(
        main,
        [
            "distribute",
            "--clients",
            str(inputs / "clients.csv"),
            "--output",
            str(output),
            "--templates",
            str(templates),
            "--from",
            "Tiny Desk <desk@example.com>",
        ],
    )

    assert sent.exit_code == 0, sent.output
    (box,) = (output / "outbox").iterdir()
    messages = sorted(box.glob("*.eml"))
    assert [m.name for m in messages] == [f"{safe_stem('acme-1')}.eml", f"{safe_stem('zeta-3')}.eml"], sent.output
    for path, (name, firm) in zip(messages, [("Ana Lopez", "Acme Capital"), ("Zoe Adams", "Zeta Fund")], strict=False):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        (pdf,) = [p.get_content() for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
        copy = pdf_text(pdf)
        assert f"Prepared for {name}, {firm}" in copy and f"{expected:,.2f}" in copy
        assert ({"Ana Lopez", "Zoe Adams"} - {name}).pop() not in copy


def test_the_cli_builds_the_sector_and_compares_it_with_the_previous_brief(desk: Path, monkeypatch):
    inputs, output, templates = desk / "inputs", desk / "output", desk / "desk"
    build(BuildOptions(inputs, output, period=PERIOD, templates_dir=templates, sector=SECTOR))
    publish(output, inputs, approved_by="Carla Compliance", now=NOON)
    rows = values()
    february = (date(2026, 2, 1), LAST)  # the default period: the month to date of the last day

    built = CliRunner().invoke(
        main,
        ["build", "--sector", SECTOR, "--inputs", str(inputs), "--output", str(output), "--templates", str(templates)],
    )
    monkeypatch.setenv("BRIEFGEN_SECTOR", SECTOR)
    listed = CliRunner().invoke(main, ["history", "--builds", "--output", str(output)])
    figures = CliRunner().invoke(main, ["metrics", "--inputs", str(inputs), "--format", "csv"])
    checked = CliRunner().invoke(main, ["check", "--inputs", str(inputs)])

    assert built.exit_code == 0, built.output
    assert re.search(r"brief\.pdf {2}\d+ pages", built.output)
    since = (average(rows, *february) / average(rows, *PERIOD) - 1) * 100
    text = pdf_text((output / "brief.pdf").read_bytes())
    assert f"Since our brief of 28 January 2026: {since:+.1f}%." in text
    assert listed.exit_code == 0, listed.output
    header, first, second = listed.output.splitlines()
    assert header.split()[-1] == "average"
    assert (
        first.split()[-1] == f"{average(rows, *PERIOD):,.2f}"
        and second.split()[-1] == f"{average(rows, *february):,.2f}"
    )
    assert figures.output.splitlines()[1].startswith(f"average,{average(rows, *february)!r},")
    assert checked.exit_code == 0 and checked.output.startswith("OK: 3 files (brief.yaml; prices.csv 42 rows ")


def test_a_sectors_filter_may_not_replace_a_house_filter(monkeypatch):
    import dataclasses
    import types

    from briefgen.errors import RenderError
    from briefgen.html.render import environment

    name = "tests.sectors.clashing"
    module = types.ModuleType(name)
    own = {"points": str, "num": str, "round": str}  # the house's num, Jinja's round
    module.__dict__["SECTOR"] = dataclasses.replace(load_sector(SECTOR), name=name, filters=own)
    monkeypatch.setitem(sys.modules, name, module)

    with pytest.raises(RenderError) as caught:
        environment(sector=name)

    assert str(caught.value) == (
        f"sector {name}: filters 'num', 'round' would replace the house's (briefgen.formatting, Jinja's own); "
        "give the sector's filter another name"
    )
    assert environment(sector=SECTOR).filters["points"](104.46) == "104.5 pts"


def test_init_writes_the_sectors_sample_and_blank_tables(tmp_path: Path):
    sample = CliRunner().invoke(main, ["init", str(tmp_path / "sample"), "--sector", SECTOR])
    blank = CliRunner().invoke(main, ["init", str(tmp_path / "blank"), "--blank", "--sector", SECTOR])

    assert sample.exit_code == 0, sample.output
    assert sample.output.endswith(f"next: briefgen build --inputs {tmp_path / 'sample'} --sector {SECTOR}\n")
    assert (tmp_path / "sample" / "prices.csv").read_text().startswith("date,value\n2026-01-01,101\n")
    assert load_sector(SECTOR).load(tmp_path / "sample").config.period.end == date(2026, 1, 28)
    assert blank.exit_code == 0, blank.output
    assert (tmp_path / "blank" / "prices.csv").read_text() == "date,value\n"
    assert "assumptions" not in (tmp_path / "blank" / "brief.yaml").read_text()  # the mining sector's keys


def test_the_sectors_metrics_are_cached_and_only_its_own_dataclasses_are_read_back(desk: Path):
    """A desk's sector outside briefgen gets its metrics cached like the mining brief's; a snapshot
    names only briefgen's dataclasses and the build's sector's, never another module's."""
    from briefgen.store import snapshot
    from tests.sectors.tiny.brief import Average

    options = BuildOptions(desk / "inputs", desk / "out", period=PERIOD, sector=SECTOR, templates_dir=desk / "desk")
    assert build(options).cache_hits.get("metrics", 0) == 0
    (desk / "inputs" / "commentary" / "takeaways.md").write_text("- Prices rose.\n")  # a new skeleton, same tables
    again = build(options)
    assert again.cache_hits["metrics"] == 1 and again.cache_hits.get("skeleton", 0) == 0

    value = Average(1.5, 1.25, 20.0)
    with pytest.raises(snapshot.Unsupported):
        snapshot.dumps(value)  # not briefgen's, and no package named
    data = snapshot.dumps(value, ("tests.sectors.tiny",))
    assert snapshot.loads(data, ("tests.sectors.tiny",)) == value
    with pytest.raises(snapshot.Damaged, match="is not a briefgen dataclass"):
        snapshot.loads(data)  # read back by a build of another sector: refused, nothing imported
    forged = data.replace(b"tests.sectors.tiny.brief:Average", b"tests.sectors.tinyx:Average")
    with pytest.raises(snapshot.Damaged):
        snapshot.loads(forged, ("tests.sectors.tiny",))  # a sibling whose name merely starts the same
