"""The message desks send: plain text and HTML alternatives from the brief's cover, the PDF attached."""

from __future__ import annotations

import email
import email.policy
import itertools
import re
import shutil
from pathlib import Path

import pytest

from briefgen.distribute.deliver import attachment_name, distribute
from briefgen.distribute.mailbody import read_summary
from briefgen.resources import EMAIL_TEMPLATES_DIR
from tests.test_distribute_support import SENDER, body_text, brief_bytes, no_warnings  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
TITLE = "Bitcoin mining: <b>hashprice</b> & margins rise"
COVER = """<!DOCTYPE html><html><head><title>{title}</title></head><body>
<section class="cover"><header class="house-band"><p class="house-name">Northgate &amp; Co</p>
<p class="house-date">15 January 2026</p></header>
<h1 class="headline">Miners add $13bn &lt;script&gt;alert(1)&lt;/script&gt;</h1>
<div class="cover-columns"><aside class="cover-side"><div class="panel key-figures"><table class="kf">
<thead><tr><th></th><th class="num">1–14 Jan 2026</th><th class="num">18–31 Dec 2025</th><th>Chg</th></tr></thead>
<tbody><tr><th scope="row">BTC price</th><td>$90,359</td><td>$83,176</td><td>+8.6%</td></tr>
<tr><th scope="row">Combined market cap<sup>1</sup></th><td>$62.0bn</td><td>$49.0bn</td><td>+26.5%</td></tr></tbody>
</table><p class="panel-note">Window averages.</p></div>
<div class="panel analysts"><p class="analyst"><span class="analyst-name">Dana Whitfield, CFA<sup>AC</sup></span></p>
<p class="analyst"><span class="analyst-name">Marcus &lt;img src=x&gt;</span></p></div></aside>
<div class="cover-main"><ol class="takeaways"><li>Hashprice rose 11.0% to $40.08 &amp; "margins" widened.</li>
<li>Listed share hit <em>41.0%</em>.</li></ol></div></div></section></body></html>"""


def parsed(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def first_eml(root: Path, version: str) -> email.message.EmailMessage:
    return parsed(sorted((root / "output" / "outbox" / version[:12]).glob("*.eml"))[0])


def serve(root: Path):
    return distribute(root / "output" / "brief.pdf", root / "inputs" / "clients.csv", root / "output", sender=SENDER)


def test_the_message_is_plain_and_html_alternatives_from_the_cover(workdir):
    (workdir / "output" / "brief.pdf").write_bytes(brief_bytes(title=TITLE))
    (workdir / "output" / "brief.html").write_text(
        COVER.format(title=TITLE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")), encoding="utf-8"
    )
    report = serve(workdir)
    message = first_eml(workdir, report.version)
    assert message.get_content_type() == "multipart/mixed"
    alternative = next(p for p in message.iter_parts() if p.get_content_type() == "multipart/alternative")
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert message["Subject"] == TITLE
    plain = body_text(message, "plain")
    html = body_text(message, "html")
    for text in (
        "Miners add $13bn <script>alert(1)</script>",
        'Hashprice rose 11.0% to $40.08 & "margins" widened.',
        "Listed share hit 41.0%.",
        "BTC price: $90,359 (1–14 Jan 2026), $83,176 (18–31 Dec 2025), change +8.6%",
        "Analysts: Dana Whitfield, CFA, Marcus <img src=x>",
        "The disclosures and analyst certification are at the end of the attached note.",
    ):
        assert text in plain
    # Every string escaped: the headline's markup, the analyst's tag and the title's are text.
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "Marcus &lt;img src=x&gt;" in html
    assert "&lt;b&gt;hashprice&lt;/b&gt; &amp; margins" in html
    assert "Combined market cap</th>" in html and "$62.0bn" in html and "<sup>" not in html
    assert "Dana Whitfield, CFA" in html and "end of the attached note" in html
    # Inline styles only, nothing fetched from anywhere.
    assert "<style" not in html and "<link" not in html and "<script" not in html
    assert not re.search(r"<[^>]*\b(src|href|background)\s*=", html, re.I) and "url(" not in html
    (pdf,) = message.iter_attachments()
    assert pdf.get_filename() == "Bitcoin-mining-b-hashprice-b-margins-rise.pdf"


def test_a_pdf_given_alone_gets_a_message_with_its_title(workdir):
    report = serve(workdir)
    message = first_eml(workdir, report.version)
    plain = body_text(message, "plain")
    assert "Bitcoin mining: mid-January update" in plain and "Key takeaways" not in plain
    assert "Bitcoin mining: mid-January update" in body_text(message, "html")


def test_a_brief_html_from_another_build_is_not_used(workdir):
    (workdir / "output" / "brief.html").write_text(COVER.format(title="Another brief"), encoding="utf-8")
    summary = read_summary(workdir / "output" / "brief.pdf", "Bitcoin mining: mid-January update")
    assert summary.takeaways == () and summary.headline == "Bitcoin mining: mid-January update"


def test_the_sample_builds_cover_is_what_the_email_summarises(tmp_path):
    """Against the real templates: if the cover's markup changes, this says so."""
    from briefgen.build import BuildOptions, build
    from briefgen.distribute.stamp import Stamper

    shutil.copytree(ROOT / "inputs", tmp_path / "inputs")
    build(BuildOptions(tmp_path / "inputs", tmp_path / "output"))
    brief = tmp_path / "output" / "brief.pdf"
    summary = read_summary(brief, Stamper.title_of(brief.read_bytes()))
    assert summary.headline.startswith("Bitcoin miners add $13bn of market cap")
    assert len(summary.takeaways) == 5 and summary.analysts == ("Dana Whitfield", "Marcus Oyelaran")
    assert summary.key_figures is not None and summary.key_figures.rows[0][:2] == ("BTC price", "$90,359")
    assert ("Combined market cap", "$62.0bn", "$49.0bn", "+26.5%") in summary.key_figures.rows  # footnote mark gone


@pytest.mark.parametrize(
    "title, expected",
    [
        (
            "Bitcoin mining: Bitcoin miners add $13bn of market cap in early January as hashprice rises 11%",
            "Bitcoin-mining-Bitcoin-miners-add-13bn-of-market-cap-in-early-January-as.pdf",
        ),
        ("Hashprice: up 10% (again)", "Hashprice-up-10-again.pdf"),
        ("X" * 120, "brief.pdf"),
    ],
)
def test_attachment_names_keep_whole_words(title, expected):
    assert attachment_name(title, Path("brief.pdf")) == expected


def test_the_email_templates_break_no_sentence_across_lines():
    for name in ("brief.txt", "brief.html"):
        text = (EMAIL_TEMPLATES_DIR / name).read_text("utf-8")
        body = re.sub(r"\{#.*?#\}", "", text, flags=re.S)  # the template's own comments are not sent
        for line, after in itertools.pairwise(body.splitlines()):
            words = re.sub(r"<[^>]*>|\{[{%].*?[%}]\}", "", line).strip()
            following = re.sub(r"<[^>]*>|\{[{%].*?[%}]\}", "", after).strip()
            # A sentence cut by a hard break: a line of prose ending without punctuation, prose going on.
            assert not (re.search(r"[a-z,]$", words) and re.match(r"[a-z]", following)), (name, line, after)
