"""briefgen.charts.svg: lighter chart SVGs that draw the same picture."""

from __future__ import annotations

import io
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from briefgen.charts.svg import lighten

ROOT = Path(__file__).resolve().parents[1]

NS = {"s": "http://www.w3.org/2000/svg"}

SVG = b"""<?xml version="1.0" encoding="utf-8" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="100pt" height="50pt" viewBox="0 0 100 50"
     xmlns="http://www.w3.org/2000/svg" version="1.1">
 <metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></metadata>
 <defs><style type="text/css">*{stroke-linejoin: round}</style></defs>
 <g id="figure_1">
  <g id="axes_1">
   <g id="inside"><path d="M 20 20 L 30 30 z" clip-path="url(#c1)" style="fill: #123456"/></g>
   <g id="edge"><path d="M 10 10 L 90 10" clip-path="url(#c1)" style="fill: none; stroke: #000; stroke-width: 1"/></g>
   <g id="outside"><path d="M 0 0 L 95 45" clip-path="url(#c1)" style="fill: none; stroke: #000"/></g>
   <g id="curve"><path d="M 20 20 A 5 5 0 0 1 30 30" clip-path="url(#c2)" style="fill: #000"/></g>
   <g transform="translate(1 1)"><path d="M 20 20 L 30 30" clip-path="url(#c2)" style="fill: #000"/></g>
   <g id="marker-user"><use xlink:href="#m1" x="5" y="5"/></g>
   <g id="text_1"><text x="50" y="25" style="text-anchor: middle">Label</text></g>
  </g>
 </g>
 <defs>
  <path id="m1" d="M 0 0 L 0 2"/>
  <clipPath id="c1"><rect x="10" y="10" width="80" height="30"/></clipPath>
  <clipPath id="c2"><rect x="10" y="10" width="80" height="30"/></clipPath>
  <clipPath id="c3"><rect x="0" y="0" width="1" height="1"/></clipPath>
 </defs>
</svg>
"""


def _paths(root: ET.Element) -> list[ET.Element]:
    return root.findall(".//s:path", NS)


def test_drops_metadata_plain_groups_and_clips_that_cut_nothing():
    root = ET.fromstring(lighten(SVG))
    assert root.find("s:metadata", NS) is None
    assert [g.attrib for g in root.iter("{http://www.w3.org/2000/svg}g")] == [{"transform": "translate(1 1)"}]
    clips = {p.get("d"): p.get("clip-path") for p in _paths(root)}
    assert clips["M 20 20 L 30 30 z"] is None  # wholly inside
    assert clips["M 10 10 L 90 10"] == "url(#c1)"  # on the edge: half the stroke is cut
    assert clips["M 0 0 L 95 45"] == "url(#c1)"  # outside
    assert clips["M 20 20 A 5 5 0 0 1 30 30"] == "url(#c2)"  # an arc: its extent is not its points
    assert clips["M 20 20 L 30 30"] == "url(#c2)"  # under a transform
    ids = [c.get("id") for c in root.iter("{http://www.w3.org/2000/svg}clipPath")]
    assert ids == ["c1", "c2"]  # c3 was never used
    assert root.find(".//s:path[@id='m1']", NS) is not None  # referenced by the <use>


def test_keeps_text_order_and_is_deterministic():
    out = lighten(SVG)
    assert out == lighten(SVG)
    assert lighten(out) == out
    root = ET.fromstring(out)
    text = root.find(".//s:text", NS)
    assert text is not None and text.text == "Label"
    order = [node.tag.split("}")[1] for node in root.iter() if node.tag.split("}")[1] in ("path", "use", "text")]
    assert order == ["path"] * 5 + ["use", "text", "path"]


def _pixels(svgs: list[bytes], tmp_path: Path, name: str) -> list[bytes]:
    """Each SVG on a page of its own, 160 mm wide, as WeasyPrint draws it; poppler's 300 dpi renders."""
    from briefgen.pdf.fetcher import FONTS_DIR
    from briefgen.pdf.libs import import_weasyprint

    import_weasyprint()
    from weasyprint import HTML

    images = []
    for n, svg in enumerate(svgs):
        (tmp_path / f"{name}-{n}.svg").write_bytes(svg)
        images.append(f'<img style="width: 160mm; break-after: page" src="{(tmp_path / f"{name}-{n}.svg").as_uri()}">')
    faces = "".join(
        f'@font-face {{ font-family: Inter; font-weight: {w}; src: url("{(FONTS_DIR / f).as_uri()}"); }}'
        for w, f in ((400, "Inter-Regular.otf"), (600, "Inter-SemiBold.otf"))
    )
    HTML(string=f"<style>{faces} img {{ display: block; }}</style>{''.join(images)}").write_pdf(
        tmp_path / f"{name}.pdf"
    )
    subprocess.run(["pdftoppm", "-r", "300", str(tmp_path / f"{name}.pdf"), str(tmp_path / name)], check=True)
    return [page.read_bytes() for page in sorted(tmp_path.glob(f"{name}-*.ppm"))]


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_every_chart_of_the_sample_is_lighter_and_renders_the_same_at_300_dpi(tmp_path):
    from briefgen.charts.style import house_style
    from briefgen.sector import load_sector

    sector = load_sector()
    metrics = sector.compute(sector.load(ROOT / "inputs"))
    raw, light = [], []
    with house_style():
        for spec in sector.charts().values():
            data = spec.data(metrics)
            buf = io.BytesIO()
            spec.draw(data).savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
            raw.append(buf.getvalue())
            light.append(lighten(raw[-1]))
    assert len(raw) == 10
    assert sum(map(len, light)) < 0.85 * sum(map(len, raw))
    assert sum(s.count(b"<g") for s in light) < sum(s.count(b"<g") for s in raw) // 20
    assert sum(s.count(b"clip-path=") for s in light) < 0.8 * sum(s.count(b"clip-path=") for s in raw)
    assert _pixels(light, tmp_path, "light") == _pixels(raw, tmp_path, "raw")
