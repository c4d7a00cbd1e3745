"""Turn matplotlib's SVG bytes into lighter SVG bytes that draw the same picture.

WeasyPrint draws every SVG element with a saved and restored graphics state, and every clip path
as a path of its own: a chart's cost in the PDF grows with its elements, not with what shows.
matplotlib writes a group (<g id="...">) around nearly every element, clips every artist of an
axes to the axes' rectangle, and a metadata block no renderer reads. This module, run on each
chart's SVG as it is drawn, removes what changes no pixel:

- the <metadata> block;
- groups with no attribute but an id, their children moved up in their place (an id nothing links
  to: matplotlib's own names, `figure_1`, `patch_3`, `line2d_7`);
- a `clip-path` on a <path> whose every point, widened by its stroke, lies strictly inside the clip
  rectangle (the clip cuts nothing), and then the clip paths nothing refers to any longer.

The output is deterministic (the same input, the same bytes) and keeps the document order, the
ids that are referenced, the text and every drawing attribute as they were.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

__all__ = ["lighten"]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_S = f"{{{SVG_NS}}}"
_HREF = f"{{{XLINK_NS}}}href"
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_ABSOLUTE_PATH = re.compile(r"[MLCQZz\s\d.eE+-]*")  # matplotlib's path data: absolute moves, lines, curves
_URL = re.compile(r"url\(#([^)]+)\)")


def lighten(svg: bytes) -> bytes:
    """`svg` (matplotlib's output) with the elements and attributes that draw nothing removed."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(svg)
    for metadata in root.findall(f"{_S}metadata"):
        root.remove(metadata)
    clips = _clip_rectangles(root)
    _drop_needless_clips(root, clips)
    referenced = _referenced_ids(root)
    _unwrap_groups(root, referenced)
    _drop_unused_clips(root, referenced)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _clip_rectangles(root: ET.Element) -> dict[str, tuple[float, float, float, float]]:
    """Clip paths made of one untransformed rectangle: id -> (left, top, right, bottom)."""
    rectangles = {}
    for clip in root.iter(f"{_S}clipPath"):
        shapes = list(clip)
        if (
            len(shapes) != 1
            or shapes[0].tag != f"{_S}rect"
            or "transform" in shapes[0].attrib
            or clip.get("id") is None
        ):
            continue
        rect = shapes[0]
        try:
            x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
            width, height = float(rect.get("width", "")), float(rect.get("height", ""))
        except ValueError:
            continue
        rectangles[clip.get("id", "")] = (x, y, x + width, y + height)
    return rectangles


def _drop_needless_clips(root: ET.Element, clips: dict[str, tuple[float, float, float, float]]) -> None:
    """Remove clip-path from paths inside their clip rectangle (with no transform above them)."""

    def visit(node: ET.Element, transformed: bool) -> None:
        transformed = transformed or "transform" in node.attrib
        for child in node:
            visit(child, transformed)
        if node.tag != f"{_S}path" or transformed:
            return
        found = _URL.fullmatch(node.get("clip-path", ""))
        if found is None or found.group(1) not in clips:
            return
        extent = _extent(node)
        if extent is None:
            return
        left, top, right, bottom = clips[found.group(1)]
        x0, y0, x1, y1 = extent
        if left < x0 and x1 < right and top < y0 and y1 < bottom:  # touching an edge: the clip shapes its anti-aliasing
            del node.attrib["clip-path"]

    for child in root:
        visit(child, "transform" in root.attrib)


def _extent(path: ET.Element) -> tuple[float, float, float, float] | None:
    """The box holding every point of the path and its stroke (None when it cannot be told)."""
    data = path.get("d", "")
    if not _ABSOLUTE_PATH.fullmatch(data):
        return None
    numbers = [float(n) for n in _NUMBER.findall(data)]
    if not numbers or len(numbers) % 2:
        return None
    xs, ys = numbers[0::2], numbers[1::2]
    style = dict(_declarations(path.get("style", "")))
    stroke = style.get("stroke", path.get("stroke", "none"))
    width = 0.0
    if stroke not in ("none", ""):
        try:
            width = float(style.get("stroke-width", path.get("stroke-width", "1")))
        except ValueError:
            return None
        # Caps and joins reach at most this far past a point (round or square caps, a miter limit
        # of 4 times half the width); the margin is generous: a clip kept costs only time.
        width *= 2 if style.get("stroke-linejoin", "round") == "round" else 4
    return min(xs) - width, min(ys) - width, max(xs) + width, max(ys) + width


def _declarations(style: str) -> list[tuple[str, str]]:
    pairs = (item.split(":", 1) for item in style.split(";") if ":" in item)
    return [(k.strip(), v.strip()) for k, v in pairs]


def _referenced_ids(root: ET.Element) -> set[str]:
    """Every id an href or a url(#...) names."""
    names: set[str] = set()
    for node in root.iter():
        for key, value in node.attrib.items():
            if key == _HREF and value.startswith("#"):
                names.add(value[1:])
            else:
                names.update(_URL.findall(value))
    return names


def _unwrap_groups(node: ET.Element, referenced: set[str]) -> None:
    """Replace each group whose only attribute is an unreferenced id by its children, in place."""
    children: list[ET.Element] = []
    changed = False
    for child in node:
        _unwrap_groups(child, referenced)
        attrs = set(child.attrib)
        if (
            child.tag == f"{_S}g"
            and attrs <= {"id"}
            and child.get("id") not in referenced
            and not (child.text or "").strip()
        ):
            children.extend(child)
            changed = True
        else:
            children.append(child)
    if changed:
        tail = node[-1].tail if len(node) else None
        node[:] = children
        if len(node):
            node[-1].tail = tail


def _drop_unused_clips(root: ET.Element, referenced: set[str]) -> None:
    used = set()
    for node in root.iter():
        used.update(_URL.findall(node.get("clip-path", "")))
    for defs in root.iter(f"{_S}defs"):
        for clip in list(defs.findall(f"{_S}clipPath")):
            if clip.get("id") not in used:
                defs.remove(clip)
