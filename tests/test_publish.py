"""The publishing lifecycle: draft mark, publish and its refusals, revisions, recalls, RIXML, audit, embargoes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from lxml import etree
from pypdf import PdfReader

from briefgen.build import BuildOptions, build
from briefgen.cli import main
from briefgen.publish.versions import PLACEHOLDER_MARK, PublishError, publish, recall
from briefgen.resources import TEMPLATES_DIR
from tests.conftest import ROOT, user_docs

if TYPE_CHECKING:
    # lxml's element type for annotations only, as in briefgen/publish/rixml.py: lxml names no public alias.
    from lxml.etree import _Element as Element

NS = {"r": "http://www.rixml.org/2017/9/RIXML"}
APPROVER = "Carla Compliance"
NOON = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
CLIENTS = """client_id,name,firm,email,password,tier
acme-1,Ana Lopez,Acme Capital,ana@acme.example.com,,1
jones-7,Bob Smith,Smith Jones,bob@jones.example.com,,2
zeta-3,Zoe Adams,Zeta Fund,zoe@zeta.example.com,,2
"""


def desk_templates(folder: Path) -> Path:
    """The desk's override: the shipped disclosures with the placeholder line deleted (as docs/publishing.md says)."""
    shipped = (TEMPLATES_DIR / "partials" / "disclosures.html").read_text(encoding="utf-8")
    assert PLACEHOLDER_MARK in shipped
    (folder / "partials").mkdir(parents=True, exist_ok=True)
    (folder / "partials" / "disclosures.html").write_text(
        shipped.replace(PLACEHOLDER_MARK + "\n", ""), encoding="utf-8"
    )
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """One build of the sample with the desk's templates; tests copy it."""
    root = tmp_path_factory.mktemp("built")
    shutil.copytree(ROOT / "inputs", root / "inputs")
    (root / "inputs" / "clients.csv").write_text(CLIENTS, encoding="utf-8")
    desk_templates(root / "desk")
    build(BuildOptions(root / "inputs", root / "output", templates_dir=root / "desk"))
    return root


@pytest.fixture
def desk(built, tmp_path) -> Path:
    shutil.copytree(built, tmp_path / "desk-copy", symlinks=True)
    root = tmp_path / "desk-copy"
    # the build recorded where its templates were: point it at this copy's
    with sqlite3.connect(root / "output" / "history.sqlite") as db:
        db.execute("UPDATE builds SET templates_dir = ?, inputs_dir = ?", (str(root / "desk"), str(root / "inputs")))
    db.close()
    return root


def run(*args: str):
    return CliRunner(env={"BRIEFGEN_MAIL_FROM": "Desk <desk@northgate.example>"}).invoke(main, list(args))


# --- the draft ---------------------------------------------------------------------------------


def _reds(pdf: Path, page: int, tmp_path: Path) -> tuple[int, int]:
    """Page `page` at 20 dpi: how many pixels are solid red (the tab) and how many tinted red (the diagonal word)."""
    prefix = tmp_path / f"{pdf.stem}-{page}"
    subprocess.run(
        ["pdftoppm", "-r", "20", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(prefix)], check=True
    )
    data = (prefix.with_suffix(".ppm")).read_bytes()
    pixels = data[data.index(b"255\n") + 4 :]
    solid = tinted = 0
    for i in range(0, len(pixels) - 2, 3):
        r, g, b = pixels[i], pixels[i + 1], pixels[i + 2]
        solid += r > 150 and g < 110 and b < 110
        tinted += r > g + 8 and r > b + 8
    return solid, tinted


def _find(node: Element, path: str) -> Element:
    """The first element at `path` (r: is the RIXML namespace) under node, which must be there."""
    found = node.find(path, NS)
    assert found is not None, path
    return found


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_every_page_of_the_draft_carries_the_mark_and_the_publishable_copy_none(built, tmp_path):
    output = built / "output"
    draft, final = output / "brief.pdf", output / ".publishable" / "brief.pdf"
    pages = len(PdfReader(draft).pages)
    assert pages == len(PdfReader(final).pages) >= 8
    for page in range(1, pages + 1):
        (draft_solid, draft_tint), (final_solid, final_tint) = (
            _reds(draft, page, tmp_path),
            _reds(final, page, tmp_path),
        )
        assert draft_solid - final_solid > 40, f"page {page}: no draft tab"
        assert draft_tint - final_tint > 400, f"page {page}: no diagonal DRAFT"
    for sheet in PdfReader(draft).pages:
        contents = sheet.get_contents()
        assert contents is not None
        assert b"/Subtype /Watermark" in contents.get_data()  # an artifact: readers of tagged PDF skip it
    for sheet in PdfReader(final).pages:
        contents = sheet.get_contents()
        assert contents is not None
        assert b"/Watermark" not in contents.get_data()
    # the words and numbers are the same: the mark only adds
    assert PdfReader(draft).pages[3].extract_text() == PdfReader(final).pages[3].extract_text()


def test_the_draft_html_says_it_is_a_draft_and_the_publishable_html_does_not(built):
    draft = (built / "output" / "brief.html").read_text()
    final = (built / "output" / ".publishable" / "brief.html").read_text()
    assert 'class="briefgen-draft"' in draft and "DRAFT - not for distribution" in draft
    assert "DRAFT" not in final and "briefgen-draft" not in final


def test_the_history_records_the_build_as_a_draft(built):
    result = run("history", "--output", str(built / "output"))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].split()[2] == "draft"
    assert run("history", "--published", "--output", str(built / "output")).output.startswith("nothing published yet")


def _certification_page(output: Path) -> int:
    """The page the certification is on; asserting that the cover names that page."""
    reader = PdfReader(output / ".publishable" / "brief.pdf")
    where = next(
        i for i, page in enumerate(reader.pages, start=1) if "I, Dana Whitfield, certify" in page.extract_text()
    )
    cover = " ".join(reader.pages[0].extract_text().split())
    assert f"Analyst certification and important disclosures: see page {where}." in cover
    return where


def test_the_cover_says_on_which_page_the_certification_and_disclosures_are(built):
    assert _certification_page(built / "output") > 1


def test_the_page_reference_follows_the_layout(built, tmp_path):
    """Without miners, market caps or deals the brief is shorter: the cover's number moves with the disclosures."""
    shutil.copytree(built / "inputs", tmp_path / "inputs")
    for name in ("miners.csv", "miner_hashrate.csv", "market_caps.csv", "deals.csv"):
        (tmp_path / "inputs" / name).unlink()
    build(BuildOptions(tmp_path / "inputs", tmp_path / "output"))
    assert 1 < _certification_page(tmp_path / "output") < _certification_page(built / "output")


def test_each_analyst_certifies_by_name(built):
    text = " ".join(page.extract_text() for page in PdfReader(built / "output" / ".publishable" / "brief.pdf").pages)
    text = " ".join(text.split())
    for name in ("Dana Whitfield", "Marcus Oyelaran"):
        assert (
            f"I, {name}, certify that all of the views expressed in this note accurately reflect my personal views"
            in text
        )


# --- publish -------------------------------------------------------------------------------------


def test_publish_writes_the_version_folder_without_the_mark_and_records_it(desk):
    output = desk / "output"
    result = run(
        "publish",
        "--inputs",
        str(desk / "inputs"),
        "--output",
        str(output),
        "--approved-by",
        APPROVER,
        "--note",
        "Reviewed against the model",
        "--now",
        "2026-01-15T12:00:00Z",
    )

    assert result.exit_code == 0, result.output
    folder = output / "published" / "2026-01-15" / "v1"
    assert result.output.startswith("2026-01-15/v1 published: approved by Carla Compliance at 2026-01-15T12:00:00Z")
    assert sorted(p.name for p in folder.iterdir()) == [
        "brief.html",
        "brief.pdf",
        "brief.rixml.xml",
        "charts",
        "figures.json",
    ]
    pdf = (folder / "brief.pdf").read_bytes()
    assert pdf == (output / ".publishable" / "brief.pdf").read_bytes() != (output / "brief.pdf").read_bytes()
    assert "DRAFT" not in (folder / "brief.html").read_text()
    assert json.loads((folder / "figures.json").read_text())["network"]["btc_price_usd"]["period"] > 0
    with sqlite3.connect(output / "history.sqlite") as db:
        row = db.execute("SELECT version, approved_by, note, published_at, pdf_sha256 FROM publications").fetchone()
    db.close()
    assert row == (1, APPROVER, "Reviewed against the model", "2026-01-15T12:00:00Z", hashlib.sha256(pdf).hexdigest())
    history = run("history", "--published", "--output", str(output)).output.splitlines()
    assert history[1].split()[2:6] == ["published", "v1", "Carla", "Compliance"]


def test_publishing_again_gives_a_revised_v2_with_the_same_pdf_bytes(desk):
    output = desk / "output"
    first = publish(output, desk / "inputs", approved_by=APPROVER, now=NOON)
    second = publish(
        output,
        desk / "inputs",
        approved_by="Sam Supervisor",
        note="figures rechecked",
        now=datetime(2026, 1, 15, 15, tzinfo=UTC),
    )

    assert (first.publication.status, second.publication.status) == ("published", "revised")
    assert second.publication.version == 2 and second.folder.name == "v2"
    assert (first.folder / "brief.pdf").read_bytes() == (second.folder / "brief.pdf").read_bytes()
    assert (first.folder / "brief.html").read_bytes() == (second.folder / "brief.html").read_bytes()
    one, two = ((f / "brief.rixml.xml").read_bytes() for f in (first.folder, second.folder))
    assert one != two  # what must differ: status, version, time
    ids = [etree.fromstring(x).get("researchID") for x in (one, two)]
    assert ids[0] == ids[1]


def test_publish_refuses_when_the_inputs_changed_since_the_build(desk):
    network = desk / "inputs" / "network.csv"
    network.write_text(network.read_text() + "\n")

    with pytest.raises(PublishError, match=r"changed since the last build .* build first"):
        publish(desk / "output", desk / "inputs", approved_by=APPROVER)
    assert not (desk / "output" / "published").exists()


def test_publish_refuses_when_the_templates_changed_since_the_build(desk):
    partial = desk / "desk" / "partials" / "disclosures.html"
    partial.write_text(partial.read_text().replace("institutional investors only", "professional investors only"))

    with pytest.raises(PublishError, match="templates changed since the last build"):
        publish(desk / "output", desk / "inputs", approved_by=APPROVER)


@pytest.mark.parametrize("approver", ["Dana Whitfield", "  marcus   OYELARAN "])
def test_publish_refuses_an_analyst_of_the_brief_as_approver(desk, approver):
    result = run(
        "publish", "--inputs", str(desk / "inputs"), "--output", str(desk / "output"), "--approved-by", approver
    )

    assert result.exit_code == 1
    assert "is an analyst of this brief; the approval must come from someone else" in result.output
    assert "Traceback" not in result.output
    assert not (desk / "output" / "published").exists()


def test_publish_refuses_a_build_that_had_warnings(desk):
    with sqlite3.connect(desk / "output" / "history.sqlite") as db:
        db.execute("""UPDATE builds SET warnings = '["network.csv: 2 days missing between rows 30 and 31"]'""")
    db.close()

    with pytest.raises(PublishError, match=r"had 1 warning\(s\), which --strict would refuse: network.csv: 2 days"):
        publish(desk / "output", desk / "inputs", approved_by=APPROVER)


def test_publish_refuses_the_shipped_placeholder_and_an_empty_disclosures_partial(built, tmp_path):
    shutil.copytree(built / "inputs", tmp_path / "inputs")
    output = tmp_path / "output"
    build(BuildOptions(tmp_path / "inputs", output))  # no override: the shipped wording
    with pytest.raises(PublishError, match="still the shipped placeholder text"):
        publish(output, tmp_path / "inputs", approved_by=APPROVER)

    (tmp_path / "empty" / "partials").mkdir(parents=True)
    (tmp_path / "empty" / "partials" / "disclosures.html").write_text(  # the headings the contents link to, no text
        '<section class="section appendix" id="disclosures"><h2 class="section-title">Disclosures</h2>\n'
        "<h3>Analyst certification</h3>\n<p> </p></section>\n"
    )
    build(BuildOptions(tmp_path / "inputs", output, templates_dir=tmp_path / "empty"))
    with pytest.raises(PublishError, match="disclosures are empty"):
        publish(output, tmp_path / "inputs", approved_by=APPROVER)


def test_publish_refuses_files_that_are_not_those_of_the_last_build(desk):
    (desk / "output" / ".publishable" / "brief.pdf").write_bytes(b"%PDF-1.7 edited")
    with pytest.raises(PublishError, match=r"is not the one the last build .* recorded; build again"):
        publish(desk / "output", desk / "inputs", approved_by=APPROVER)


@pytest.mark.parametrize("name", ["", "Carla\nCompliance", "x" * 121])
def test_publish_refuses_an_empty_or_multi_line_approver(desk, name):
    with pytest.raises(PublishError):
        publish(desk / "output", desk / "inputs", approved_by=name)


# --- "Since" ---------------------------------------------------------------------------------------


def test_since_compares_with_the_latest_published_brief_never_a_draft(built, tmp_path):
    shutil.copytree(built / "inputs", tmp_path / "inputs")
    templates = desk_templates(tmp_path / "desk")
    output = tmp_path / "output"
    month_end = BuildOptions(
        tmp_path / "inputs",
        output,
        period=(date(2025, 12, 1), date(2025, 12, 31)),
        compare=(date(2025, 11, 1), date(2025, 11, 30)),
        as_of=date(2025, 12, 31),
        templates_dir=templates,
    )
    mid_month = BuildOptions(tmp_path / "inputs", output, templates_dir=templates)
    build(month_end)
    build(mid_month)
    assert "Since 31 Dec" not in (output / "brief.html").read_text()  # the 31 Dec brief is only a draft

    build(month_end)
    publish(output, tmp_path / "inputs", approved_by=APPROVER, now=NOON)
    build(mid_month)
    html = (output / "brief.html").read_text()
    assert "Since" in html and "31 Dec 2025" in html

    recall(output, "2025-12-31/v1", reason="wrong hashrate", now=NOON)
    build(mid_month)
    assert "Since 31 Dec" not in (output / "brief.html").read_text()


# --- recall ------------------------------------------------------------------------------------------


def test_recall_marks_the_version_recalled_with_a_new_sidecar(desk):
    output = desk / "output"
    first = publish(output, desk / "inputs", approved_by=APPROVER, now=NOON)
    before = (first.folder / "brief.rixml.xml").read_bytes()

    result = run(
        "recall",
        "2026-01-15/v1",
        "--reason",
        "wrong power price",
        "--output",
        str(output),
        "--now",
        "2026-01-15T13:30:00Z",
    )

    assert result.exit_code == 0, result.output
    assert result.output == "2026-01-15/v1 recalled at 2026-01-15T13:30:00Z: wrong power price\n"
    after = etree.fromstring((first.folder / "brief.rixml.xml").read_bytes())
    status = _find(after, "r:Product/r:StatusInfo")
    assert (status.get("statusType"), status.get("statusDateTime")) == ("Recalled", "2026-01-15T13:30:00Z")
    assert _find(etree.fromstring(before), "r:Product/r:StatusInfo").get("statusType") == "Published"
    lines = run("history", "--output", str(output)).output.splitlines()
    assert lines[-1].split()[2:4] == ["recalled", "v1"]
    again = run("recall", "2026-01-15/v1", "--reason", "x", "--output", str(output))
    assert again.exit_code == 1 and "already recalled" in again.output
    unknown = run("recall", "2026-01-15/v9", "--reason", "x", "--output", str(output))
    assert unknown.exit_code == 1 and "no publication '2026-01-15/v9'" in unknown.output


# --- distribute: what clients receive --------------------------------------------------------


def distribute(desk: Path, *args: str):
    return run("distribute", "--clients", str(desk / "inputs" / "clients.csv"), "--output", str(desk / "output"), *args)


def test_distribute_sends_the_latest_publication_and_refuses_a_draft(desk):
    draft = distribute(desk, "--brief", str(desk / "output" / "brief.pdf"))
    assert draft.exit_code == 1
    assert (
        "is a draft, not a recorded publication; publish it with `briefgen publish --approved-by NAME`" in draft.output
    )
    nothing = distribute(desk)
    assert nothing.exit_code == 1 and "nothing published yet" in nothing.output
    assert not (desk / "output" / "outbox").exists()

    publication = publish(desk / "output", desk / "inputs", approved_by=APPROVER, now=NOON).publication
    sent = distribute(desk, "--now", "2026-01-20T00:00:00Z")
    assert sent.exit_code == 0, sent.output
    assert publication.pdf_sha256[:12] in sent.output and "sent 3" in sent.output


def test_distribute_allows_a_draft_for_an_internal_review_list(desk):
    result = distribute(desk, "--brief", str(desk / "output" / "brief.pdf"), "--allow-draft")
    assert result.exit_code == 0, result.output
    assert "sent 3" in result.output


def test_distribute_refuses_a_recalled_version_given_or_latest(desk):
    output = desk / "output"
    first = publish(output, desk / "inputs", approved_by=APPROVER, now=NOON)
    recall(output, "2026-01-15/v1", reason="wrong power price")

    given = distribute(desk, "--brief", str(first.folder / "brief.pdf"), "--allow-draft")
    latest = distribute(desk)

    assert (
        given.exit_code == 1 and "was recalled" in given.output and "nobody is sent a recalled version" in given.output
    )
    assert latest.exit_code == 1 and "the latest publication, 2026-01-15/v1, was recalled" in latest.output
    assert not (output / "outbox").exists()


def test_an_embargoed_tier_is_served_by_a_later_run_and_nobody_twice(desk):
    config = desk / "inputs" / "brief.yaml"
    config.write_text(config.read_text() + "distribution:\n  embargo_hours:\n    2: 24\n")
    build(BuildOptions(desk / "inputs", desk / "output", templates_dir=desk / "desk"))
    publish(desk / "output", desk / "inputs", approved_by=APPROVER, now=NOON)

    early = distribute(desk, "--now", "2026-01-15T13:00:00Z")
    assert early.exit_code == 0, early.output
    assert "sent 1" in early.output and "embargoed 2" in early.output
    assert "embargoed: jones-7 <bob@jones.example.com>: until 2026-01-16 12:00 UTC" in early.output
    status = distribute(desk, "--status", "--now", "2026-01-15T13:00:00Z")
    assert "embargoed: jones-7 (tier 2) until 2026-01-16 12:00 UTC" in status.output

    still = distribute(desk, "--now", "2026-01-16T11:59:00Z")
    assert "already sent 1" in still.output and "embargoed 2" in still.output
    late = distribute(desk, "--now", "2026-01-16T12:00:00Z")
    assert late.exit_code == 0, late.output
    assert "sent 2" in late.output and "already sent 1" in late.output and "embargoed:" not in late.output
    again = distribute(desk, "--now", "2026-01-17T00:00:00Z")
    assert "already sent 3" in again.output
    outbox = list((desk / "output" / "outbox").rglob("*.eml"))
    assert len(outbox) == 3  # one message per client, over four runs


def test_an_embargo_of_a_bad_kind_is_refused_in_brief_yaml(desk):
    config = desk / "inputs" / "brief.yaml"
    config.write_text(config.read_text() + "distribution:\n  embargo_hours:\n    2: 9999\n")
    result = run("check", "--inputs", str(desk / "inputs"))
    assert result.exit_code == 1 and "between 0 and 744 hours" in result.output


# --- RIXML ---------------------------------------------------------------------------------------


def test_the_rixml_sidecar_describes_the_publication(desk):
    published = publish(desk / "output", desk / "inputs", approved_by=APPROVER, now=NOON)
    root = etree.fromstring((published.folder / "brief.rixml.xml").read_bytes())
    pdf = published.folder / "brief.pdf"

    assert root.tag == "{http://www.rixml.org/2017/9/RIXML}Research"
    assert root.get("createDateTime") == "2026-01-15T12:00:00Z" and root.get("language") == "eng"
    product = _find(root, "r:Product")
    assert [etree.QName(child).localname for child in product] == ["StatusInfo", "Source", "Content", "Context"]
    assert _find(product, "r:StatusInfo").get("statusType") == "Published"
    house = _find(product, "r:Source/r:Organization")
    assert house.findtext("r:OrganizationName", namespaces=NS) == "Northgate Securities"
    assert [p.findtext("r:DisplayName", namespaces=NS) for p in house.iterfind(".//r:Person", NS)] == [
        "Dana Whitfield",
        "Marcus Oyelaran",
    ]
    content = _find(product, "r:Content")
    headline = json.loads((desk / "output" / ".publishable" / "brief.json").read_text())["headline"]
    assert content.findtext("r:Title", namespaces=NS) == f"Bitcoin mining: {headline}"
    abstract = content.findtext("r:Abstract", namespaces=NS)
    assert abstract is not None and abstract.startswith("- The 14 US-listed miners")
    resource = _find(content, "r:Resource")
    assert resource.findtext("r:MIMEType", namespaces=NS) == "application/pdf"
    assert resource.findtext("r:Name", namespaces=NS) == pdf.name
    size = resource.get("sizeInBytes")
    assert size is not None and int(size) == pdf.stat().st_size
    assert resource.findtext("r:Length", namespaces=NS) == str(len(PdfReader(pdf).pages))
    context = _find(product, "r:Context")
    tickers = {
        s.get("idValue"): s.findtext("r:TradingExchange", namespaces=NS)
        for s in context.iterfind(".//r:SecurityID", NS)
    }
    assert tickers["MARA"] == "NASDAQ" and len(tickers) >= 10
    assert _find(context, "r:ProductDetails").get("publicationDateTime") == "2026-01-15T12:00:00Z"
    assert _find(context, "r:ProductClassifications/r:Country").get("code") == "US"
    assert _find(context, "r:ProductClassifications/r:AssetClass").get("assetClass") == "Equity"


XSD = os.environ.get("BRIEFGEN_RIXML_XSD")


@pytest.mark.skipif(not XSD, reason="set BRIEFGEN_RIXML_XSD to the RIXML research schema (RIXML-2_6.xsd) to validate")
def test_the_rixml_sidecars_validate_against_the_schema(desk):
    assert XSD is not None  # the skipif above
    schema = etree.XMLSchema(etree.parse(XSD))
    output = desk / "output"
    first = publish(output, desk / "inputs", approved_by=APPROVER, now=NOON)
    second = publish(output, desk / "inputs", approved_by=APPROVER, now=NOON)
    recall(output, "2026-01-15/v2", reason="duplicate", now=NOON)
    for folder in (first.folder, second.folder):
        document = etree.parse(str(folder / "brief.rixml.xml"))
        assert schema.validate(document), schema.error_log


# --- the audit trail -----------------------------------------------------------------------------


def test_the_audit_trail_chains_every_step_and_names_the_first_bad_entry(desk):
    output = desk / "output"
    publish(output, desk / "inputs", approved_by=APPROVER, now=NOON)
    recall(output, "2026-01-15/v1", reason="wrong power price", now=NOON)
    distribute(desk, "--brief", str(output / "brief.pdf"), "--allow-draft")

    result = run("audit", "--output", str(output))
    assert result.exit_code == 0, result.output
    events = [line.split()[2] for line in result.output.splitlines()[:-1]]
    assert events == ["build", "publish", "recall", "distribute"]
    assert result.output.endswith("chain intact: 4 entries\n")

    trail = output / "audit.jsonl"
    lines = trail.read_text().splitlines()
    lines[1] = lines[1].replace(APPROVER, "Someone Else")
    trail.write_text("\n".join(lines) + "\n")
    broken = run("audit", "--output", str(output))
    assert broken.exit_code == 1
    assert "chain BROKEN at entry 2: line 2 was changed after it was written" in broken.output

    del lines[1]
    trail.write_text("\n".join(lines) + "\n")
    removed = run("audit", "--output", str(output))
    assert removed.exit_code == 1 and "broken at entry 2: line 2 does not follow the entry before it" in removed.output


def test_commands_are_documented():
    docs = user_docs()
    for command in ("publish", "recall", "audit"):
        assert CliRunner().invoke(main, [command, "--help"]).exit_code == 0
        assert f"briefgen {command}" in docs
    assert "--approved-by" in docs and "--allow-draft" in docs and "embargo_hours" in docs
    assert "docs/publishing.md" in (ROOT / "README.md").read_text()
    assert "publishing.md" in (ROOT / "docs" / "index.md").read_text()


def test_publish_never_follows_a_link_out_of_the_output_folder(desk, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (desk / "output" / "published").symlink_to(elsewhere)

    with pytest.raises(PublishError, match="leads outside"):
        publish(desk / "output", desk / "inputs", approved_by=APPROVER)
    assert list(elsewhere.iterdir()) == []


def test_a_client_served_before_an_embargo_was_set_is_not_reported_embargoed(desk):
    publish(desk / "output", desk / "inputs", approved_by=APPROVER, now=NOON)
    assert "sent 3" in distribute(desk, "--now", "2026-01-15T12:30:00Z").output
    config = desk / "inputs" / "brief.yaml"
    config.write_text(config.read_text() + "distribution:\n  embargo_hours:\n    2: 24\n")

    again = distribute(desk, "--now", "2026-01-15T13:00:00Z")

    assert again.exit_code == 0, again.output
    assert "already sent 3" in again.output and "embargoed" not in again.output.split("Manifest:")[0]
