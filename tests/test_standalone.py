"""brief.html stands alone: everything it links is in the output folder; a mistyped override is reported."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from briefgen.build import BuildOptions, build
from briefgen.errors import RenderError
from briefgen.html.overrides import unused_overrides
from briefgen.resources import FONTS_DIR, TEMPLATES_DIR
from briefgen.sectors.bitcoin_mining import SECTOR
from tests.conftest import ROOT


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for attribute in ("href", "src"):
            if values.get(attribute):
                self.links.append(values[attribute])


def _local_links(output: Path) -> set[Path]:
    """Every file brief.html and its stylesheets link, resolved relative to the file that links it."""
    parser = _Links()
    parser.feed((output / "brief.html").read_text())
    found, todo = set(), [(output / "brief.html", link) for link in parser.links]
    while todo:
        source, link = todo.pop()
        parts = urlsplit(link)
        if parts.scheme or link.startswith("#"):
            assert parts.scheme in ("", "http", "https", "mailto"), link
            continue
        target = (source.parent / parts.path).resolve()
        if target in found:
            continue
        found.add(target)
        if target.suffix == ".css" and target.is_file():
            todo += [(target, url) for url in re.findall(r"url\(\"?([^\")]+)\"?\)", target.read_text())]
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("standalone")
    shutil.copytree(ROOT / "inputs", root / "inputs")
    build(BuildOptions(root / "inputs", root / "output"))
    return root


def test_everything_brief_html_links_is_inside_the_output_folder(built: Path):
    output = (built / "output").resolve()
    links = _local_links(output)
    assert output / "static" / "brief.css" in links and output / "static" / "screen.css" in links
    assert output / "static" / "sector.css" in links  # the sector's own, from its templates' static/
    assert output / "fonts" / "Inter-Regular.otf" in links
    assert any(path.parent == output / "charts" for path in links)
    for path in links:
        assert path.is_relative_to(output) and path.is_file(), path
    assert (output / "static" / "brief.css").read_bytes() == (TEMPLATES_DIR / "static" / "brief.css").read_bytes()
    assert (output / "static" / "sector.css").read_bytes() == (SECTOR.templates / "static" / "sector.css").read_bytes()
    assert (output / "fonts" / "Inter-Bold.otf").read_bytes() == (FONTS_DIR / "Inter-Bold.otf").read_bytes()


def test_static_files_follow_the_override_and_stale_ones_go(built: Path, tmp_path: Path):
    override = tmp_path / "templates"
    (override / "static").mkdir(parents=True)
    css = (TEMPLATES_DIR / "static" / "brief.css").read_text() + "\n.house-name { letter-spacing: 0.02em; }\n"
    (override / "static" / "brief.css").write_text(css)
    (override / "static" / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (override / "static" / "brief.css").write_text(css + '.house-band { background-image: url("logo.svg"); }\n')
    output = built / "output"
    mine = output / "static" / "mine.txt"
    mine.write_text("the user's own file")  # briefgen did not write it: never removed
    build(BuildOptions(built / "inputs", output, templates_dir=override))
    assert (output / "static" / "brief.css").read_text().endswith('url("logo.svg"); }\n')
    assert (output / "static" / "logo.svg").is_file()
    build(BuildOptions(built / "inputs", output))
    assert not (output / "static" / "logo.svg").exists()  # the last build published it; this one does not
    assert (output / "static" / "brief.css").read_bytes() == (TEMPLATES_DIR / "static" / "brief.css").read_bytes()
    assert mine.read_text() == "the user's own file"


def test_a_mistyped_override_is_a_warning_and_fatal_under_strict(built: Path, tmp_path: Path):
    override = tmp_path / "templates"
    (override / "partials").mkdir(parents=True)
    disclosures = (TEMPLATES_DIR / "partials" / "disclosures.html").read_text()
    (override / "partials" / "disclosure.html").write_text(
        disclosures.replace("</section>", "<p>House text.</p></section>")
    )
    (problem,) = unused_overrides(override)
    assert str(problem) == (
        "templates/partials/disclosure.html: overrides nothing: no default template has this "
        "name and no template uses it (did you mean partials/disclosures.html? rename it)"
    )
    result = build(BuildOptions(built / "inputs", built / "override-out", templates_dir=override))
    assert str(problem) in [str(w) for w in result.warnings]
    with pytest.raises(RenderError, match=re.escape("partials/disclosure.html: overrides nothing")):
        build(BuildOptions(built / "inputs", built / "strict-out", templates_dir=override, strict=True))
    assert not (built / "strict-out" / "brief.pdf").exists()


def test_a_new_partial_that_an_override_includes_is_not_reported(tmp_path: Path):
    override = tmp_path / "templates"
    (override / "partials").mkdir(parents=True)
    brief = (SECTOR.templates / "brief.html").read_text()
    (override / "brief.html").write_text(
        brief.replace(
            '{% include "partials/disclosures.html" %}',
            '{% include "partials/house_notice.html" %}\n{% include "partials/disclosures.html" %}',
        )
    )
    (override / "partials" / "house_notice.html").write_text("<p>House notice.</p>\n")
    assert unused_overrides(override) == ()
