"""Hostile input: markup, template syntax, scripts and URLs in any input string are shown as text or
dropped, never executed; nothing outside the brief's own folders is loaded; attachments hold only
the inputs briefgen read; no path built from an input value leaves output/.

One build of a deliberately hostile inputs folder (as PDF/A-3u, so the inputs are attached) is
shared by the tests below; the network is cut off for it.
"""

from __future__ import annotations

import io
import re
import shutil
import socket
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pypdf
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from briefgen.cli import main
from briefgen.html.render import environment
from tests.brief_fixtures import stream_bytes

pytestmark = [
    pytest.mark.filterwarnings("error"),
    # WeasyPrint 70 leaves its sRGB profile open when writing PDF/A (pdf/__init__.py); not ours to close.
    pytest.mark.filterwarnings("ignore:Exception ignored in.*sRGB2014.icc:pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore:unclosed file.*sRGB2014.icc:ResourceWarning"),
]

BASE = Path(__file__).resolve().parent / "data" / "bad" / "_base"

BRIEF = """\
title: "<script>alert('title')</script>{{ 7*7 }} {{ config.__class__.__init__.__globals__ }}"
house: "<b>House</b> {% for x in range(3) %}LOOP{% endfor %}"
as_of: 2026-01-06
period: {start: 2026-01-04, end: 2026-01-06}
compare: {start: 2026-01-01, end: 2026-01-03}
analysts:
  - name: "<img src=x onerror=alert(1)>{{ ''.__class__.__mro__ }}"
    email: analyst@example.com
    phone: "</style><b>x</b>"
"""
MINERS = """\
ticker,name,exchange,from,to
MARA,"<script>alert(1)</script>MARA Holdings",NASDAQ,2024-01-01,
RIOT,"{{ 7*7 }}Riot {% raw %}",NASDAQ,2024-01-01,
CLSK,"<style>*{color:red}</style>CleanSpark",<i>NASDAQ</i>,2024-01-01,
SDIG,Stronghold,NASDAQ,2024-01-01,2025-03-14
"""
DEALS = """\
date,ticker,kind,counterparty,value_usd,capacity_mw,description
2026-01-05,RIOT,"<iframe src=file:///etc/passwd>","AMD{{7*7}} ${7*7} #{7*7} <%= 7*7 %>",311000000,25,"<img src=""file:///etc/passwd""> <link rel=stylesheet href=http://127.0.0.1:9/x.css> url(http://127.0.0.1:9/y.png) {{ lipsum.__globals__ }}"
"""  # noqa: E501 - one hostile CSV row, which cannot be split
SUMMARY = """\
**Bold** and *em*, a [good link](https://example.com/note) and a [bad link](javascript:alert(1)) and [a file](file:///etc/passwd).

<script>alert('commentary')</script>
<img src="file:///etc/passwd">
![passwd](file:///etc/passwd)
![remote](http://127.0.0.1:9/tracker.png)
<style>body { display: none }</style>
<div style="background: url(http://127.0.0.1:9/bg.png)">raw div</div>

- item one
- item {{ 7*7 }}

| a | b |
|---|---|
| 1 | <b>2</b> |
"""
# Files in the inputs folder that briefgen does not read: none may end up in the PDF.
STRAYS = {
    "secret.txt": "password=hunter2\n",
    ".env": "TOKEN=abc\n",
    "commentary/notes.txt": "private\n",
    "old/network.csv": "date,btc_price_usd\n1999-01-01,OLD-COPY-42\n",
}


@dataclass
class Built:
    inputs: Path
    output: Path
    stderr: str
    html: str
    pdf: bytes
    connections: list


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    root = tmp_path_factory.mktemp("hostile")
    inputs = root / "inputs"
    shutil.copytree(BASE, inputs)
    files = {
        "brief.yaml": BRIEF,
        "miners.csv": MINERS,
        "deals.csv": DEALS,
        "commentary/summary.md": SUMMARY,
        "commentary/outlook.md": "Plain outlook.\n",
        **STRAYS,
    }
    for name, text in files.items():
        (inputs / name).parent.mkdir(parents=True, exist_ok=True)
        (inputs / name).write_text(text, encoding="utf-8")
    output = root / "output"
    connections: list = []

    def connect(self, address):
        connections.append(address)
        raise OSError("network disabled for the hostile build")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect)
        result = CliRunner().invoke(
            main, ["build", "--inputs", str(inputs), "--output", str(output), "--pdf-variant", "pdf/a-3u"]
        )
    assert result.exit_code == 0, result.output
    return Built(
        inputs,
        output,
        result.stderr,
        (output / "brief.html").read_text(encoding="utf-8"),
        (output / "brief.pdf").read_bytes(),
        connections,
    )


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


# --- markup, template syntax and scripts are text ----------------------------------------------


def test_markup_in_values_is_escaped_never_interpreted(built: Built):
    html = built.html
    for element in ("<script", "<iframe", "<style", "<i>", "<link rel=stylesheet", "<img src=x"):
        assert element not in html.lower().replace('<link rel="stylesheet" href="static/brief.css">', "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;MARA Holdings" in html
    assert "&lt;style&gt;*{color:red}&lt;/style&gt;CleanSpark" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;iframe src=file:///etc/passwd&gt;" in html


def test_template_syntax_in_values_is_never_evaluated(built: Built):
    html = built.html
    assert "{{ 7*7 }}Riot {% raw %}" in html
    assert "AMD{{7*7}} ${7*7} #{7*7} &lt;%= 7*7 %&gt;" in html
    assert "{% for x in range(3) %}LOOP{% endfor %}" in html and "LOOPLOOP" not in html
    assert "{{ config.__class__.__init__.__globals__ }}" in html
    assert "__builtins__" not in html and "<function" not in html and "<class" not in html


def test_values_reach_the_pdf_as_the_text_typed(built: Built):
    text = pdf_text(built.pdf)
    assert "<script>alert(1)</script>MARA Holdings" in text
    assert "{{ 7*7 }}Riot" in text
    assert "<b>House</b>" in text


class _Elements(HTMLParser):
    """Every element and attribute a browser (or WeasyPrint) would see."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


def test_commentary_keeps_the_safe_markdown_subset_only(built: Built):
    start = built.html.index('<div class="commentary">') + len('<div class="commentary">')
    commentary = built.html[start : built.html.index("</div>", start)]
    assert "<strong>Bold</strong>" in commentary and "<em>em</em>" in commentary
    assert '<a href="https://example.com/note"' in commentary
    assert "<li>item one</li>" in commentary and "<table>" in commentary
    parser = _Elements()
    parser.feed(commentary)
    tags = {tag for tag, _ in parser.found}
    assert tags <= {
        "p",
        "em",
        "strong",
        "ul",
        "ol",
        "li",
        "a",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "h3",
        "h4",
        "blockquote",
        "code",
        "br",
    }, tags
    for tag, attrs in parser.found:
        for name, value in attrs:
            safe_link = value is not None and value.startswith(("https://", "http://", "mailto:"))
            assert ((tag, name) == ("a", "href") and safe_link) or (tag, name, value) == ("a", "rel", "noopener"), (
                tag,
                name,
                value,
            )


# --- nothing outside the brief is loaded --------------------------------------------------------


def test_no_network_access_and_no_file_outside_the_brief_is_loaded(built: Built):
    assert built.connections == []
    passwd = Path("/etc/passwd")
    if passwd.is_file():
        first_line = passwd.read_bytes().splitlines()[0]
        assert first_line not in stream_bytes(built.pdf)
    assert b"127.0.0.1:9" not in stream_bytes(built.pdf).replace(b"http://127.0.0.1:9/", b"")  # only as text, if at all


def test_urls_in_the_inputs_are_named_as_warnings(built: Built):
    warnings = [line for line in built.stderr.splitlines() if line.startswith("Warning: ")]
    named = "\n".join(warnings)
    for url in (
        "file:///etc/passwd",
        "http://127.0.0.1:9/x.css",
        "http://127.0.0.1:9/y.png",
        "http://127.0.0.1:9/tracker.png",
        "http://127.0.0.1:9/bg.png",
    ):
        assert url in named, url
    assert "https://example.com/note" not in named  # a plain link stays a link: it is never fetched


def test_strict_refuses_urls_in_the_inputs(built: Built, tmp_path: Path):
    output = tmp_path / "output"
    result = CliRunner().invoke(main, ["build", "--inputs", str(built.inputs), "--output", str(output), "--strict"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert (
        "deals.csv: row 2, column 'description': refers to file:///etc/passwd (in an HTML tag), "
        "which briefgen never loads" in result.stderr
    )
    assert "commentary/summary.md: line 5: refers to file:///etc/passwd (a Markdown image)" in result.stderr
    assert not (output / "brief.pdf").exists()


# --- attachments and paths -----------------------------------------------------------------------


def test_attachments_hold_only_the_inputs_briefgen_read(built: Built):
    attachments = pypdf.PdfReader(io.BytesIO(built.pdf)).attachments
    expected = {
        "brief.yaml": "brief.yaml",
        "network.csv": "network.csv",
        "miners.csv": "miners.csv",
        "miner_hashrate.csv": "miner_hashrate.csv",
        "market_caps.csv": "market_caps.csv",
        "deals.csv": "deals.csv",
        "summary.md": "commentary/summary.md",
        "outlook.md": "commentary/outlook.md",
    }
    assert set(attachments) == set(expected)
    for name, source in expected.items():
        assert attachments[name] == [(built.inputs / source).read_bytes()], name
    everything = stream_bytes(built.pdf)
    for stray in STRAYS.values():
        assert stray.strip().splitlines()[-1].encode() not in everything


def test_every_output_file_stays_inside_output(built: Built):
    root = built.output.parent
    assert sorted(p.name for p in root.iterdir()) == ["inputs", "output"]
    for path in built.output.rglob("*"):
        assert path.resolve().is_relative_to(built.output.resolve())
        assert not any(ticker in path.name for ticker in ("MARA", "RIOT", "CLSK", "SDIG"))


@pytest.mark.parametrize("ticker", ["../../etc/x", "..", "A/B", "A\\\\B", "/ETC", "CON:", "A B", "RIOT\u2044X"])
def test_a_ticker_cannot_hold_a_path(ticker: str, tmp_path: Path):
    inputs = tmp_path / "inputs"
    shutil.copytree(BASE, inputs)
    (inputs / "miners.csv").write_text(
        f'ticker,name,exchange,from,to\n"{ticker}",X,NASDAQ,2024-01-01,\n', encoding="utf-8"
    )
    for name in ("miner_hashrate.csv", "market_caps.csv", "deals.csv"):
        (inputs / name).unlink()
    result = CliRunner().invoke(main, ["check", "--inputs", str(inputs)])
    assert result.exit_code == 1
    assert "miners.csv: row 2, column 'ticker': not a ticker: " in result.stderr


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_a_client_id_always_names_a_file_inside_the_output_folder(client_id: str):
    from briefgen.distribute.deliver import safe_stem

    stem = safe_stem(client_id)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", stem) and ".." not in stem and not stem.startswith(".")
    root = Path("/srv/briefgen/output/copies")
    assert (root / f"{stem}.pdf").resolve().parent == root


# --- the sandbox ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "{{ value.__class__.__mro__ }}",
        "{{ value.__class__.__base__.__subclasses__() }}",
        "{{ value.format.__globals__ }}",
        "{{ config.__init__.__globals__ }}",
        "{{ value.__len__.__self__ }}",
        "{{ (value|attr('__class__')).__mro__ }}",
    ],
)
def test_templates_cannot_reach_attributes_or_calls_of_input_values(template: str):
    from briefgen.inputs.config import BriefConfig

    env = environment()
    assert isinstance(env, jinja2.sandbox.SandboxedEnvironment)
    with pytest.raises((jinja2.exceptions.SecurityError, jinja2.exceptions.UndefinedError)):
        env.from_string(template).render(value="<b>MARA</b>{{ 7*7 }}", config=BriefConfig(title="t"))


def test_an_input_value_is_data_to_the_template_never_source():
    env = environment()
    rendered = env.from_string("<p>{{ value }}</p>").render(value="{{ 7*7 }}{% include 'base.html' %}<script>")
    assert rendered == "<p>{{ 7*7 }}{% include &#39;base.html&#39; %}&lt;script&gt;</p>"


# --- the PDF stage loads only the brief's own folders ------------------------------------------

HOSTILE_TEMPLATE = (
    """{% extends "base.html" %}
{% block head %}<link rel="stylesheet" href="https://example.com/x.css">
<link rel="stylesheet" href="http://127.0.0.1:9/y.css">{% endblock %}
{% block sections %}<p>Body</p><img src="file:///etc/passwd" alt="a"><img src="../../../../etc/passwd" alt="b">
<img src="data:image/png;base64,"""
    + "A" * (300 * 1024)
    + """" alt="c">{% endblock %}
"""
)


def test_the_pdf_stage_refuses_other_files_the_network_and_large_data_urls(tmp_path: Path, monkeypatch):
    connections: list = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connections.append(address))
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "brief.html").write_text(HOSTILE_TEMPLATE, encoding="utf-8")
    output = tmp_path / "output"
    args = ["build", "--inputs", str(BASE), "--output", str(output), "--templates", str(templates)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning: ")]
    assert any("file:///etc/passwd" in w and "refused" in w for w in warnings), warnings
    assert any("https://example.com/x.css" in w and "refused" in w for w in warnings), warnings
    assert any("http://127.0.0.1:9/y.css" in w and "refused" in w for w in warnings), warnings
    assert any("data: URL" in w and "refused" in w for w in warnings), warnings
    # ../../../../etc/passwd resolves against the virtual base to file:///etc/passwd: refused above.
    assert connections == []
    first_line = Path("/etc/passwd").read_bytes().splitlines()[0] if Path("/etc/passwd").is_file() else b"root:x:0:0"
    assert first_line not in stream_bytes((output / "brief.pdf").read_bytes())

    before = (output / "brief.pdf").read_bytes()
    strict = CliRunner().invoke(main, [*args, "--strict"])
    assert strict.exit_code == 1
    assert strict.stderr.startswith("Error: ") and "refused" in strict.stderr and "Traceback" not in strict.output
    assert (output / "brief.pdf").read_bytes() == before


def test_strict_refuses_a_url_added_to_the_commentary_of_a_cached_build(tmp_path: Path):
    inputs = tmp_path / "inputs"
    shutil.copytree(BASE, inputs)
    (inputs / "commentary").mkdir()
    (inputs / "commentary" / "outlook.md").write_text("Clean.\n", encoding="utf-8")
    output = tmp_path / "output"
    args = ["build", "--inputs", str(inputs), "--output", str(output), "--strict"]
    assert CliRunner().invoke(main, args).exit_code == 0
    (inputs / "commentary" / "outlook.md").write_text("Clean.\n![x](file:///etc/passwd)\n", encoding="utf-8")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "commentary/outlook.md: line 2: refers to file:///etc/passwd (a Markdown image)" in result.stderr
