"""Turn the analysts' commentary files into texts, their sources, and warnings about what the inputs name.

Kept apart from the tables (pandas) so that a rebuild after a commentary edit reads the prose
without importing pandas. resource_warnings also looks at brief.yaml's texts and the tables'
text cells: an image, a style sheet or a file named anywhere is never loaded, and the desk is told.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefgen.errors import InputError, Problem
from briefgen.inputs.cells import INVISIBLE, character_name
from briefgen.inputs.folder import COMMENTARY_DIR, CONFIG_FILE, SourceFile

if TYPE_CHECKING:
    from briefgen.inputs.config import BriefConfig
    from briefgen.inputs.rawtables import RawTable
    from briefgen.inputs.tables import TableSpec

__all__ = [
    "COMMENTARY_DIR",
    "SourceFile",
    "commentary_warnings",
    "find_commentary",
    "list_items",
    "load_commentary",
    "resource_warnings",
    "resources",
]
# Bidi embeddings, overrides and isolates reorder the text around them: refused in prose too. The
# other invisible characters (zero-width spaces and joiners, soft hyphens, marks) are removed.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
MAX_COMMENTARY_BYTES = 200 * 1024
MAX_PROBLEMS = 50


def load_commentary(inputs_dir: Path) -> tuple[dict[str, str], tuple[SourceFile, ...]]:
    """Read commentary/*.md alone (a cached build reuses the tables but always reads the prose)."""
    problems: list[Problem] = []
    texts, sources = find_commentary(Path(inputs_dir), problems)
    if problems:
        raise InputError(problems)
    return texts, tuple(sources)


def find_commentary(inputs_dir: Path, problems: list[Problem]) -> tuple[dict[str, str], list[SourceFile]]:
    folder = inputs_dir / COMMENTARY_DIR
    texts: dict[str, str] = {}
    sources: list[SourceFile] = []
    if not folder.is_dir():
        return texts, sources
    for path in sorted(folder.glob("*.md")):
        label = f"{COMMENTARY_DIR}/{path.name}"
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,60}", path.stem) or path.is_symlink():
            problems.append(
                Problem(label, "file name must be letters, digits, '-' or '_' (and not a link)", fix="rename it")
            )
            continue
        data = path.read_bytes()
        if len(data) > MAX_COMMENTARY_BYTES:
            problems.append(Problem(label, f"file is larger than {MAX_COMMENTARY_BYTES // 1024} KB", fix="shorten it"))
            continue
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems.append(Problem(label, "not UTF-8 text", fix="save it as UTF-8"))
            continue
        reordering = _bidi_controls(text, label)
        if reordering:
            problems.extend(reordering)
            continue
        texts[path.stem] = INVISIBLE.sub("", text)
        sources.append(SourceFile(label, None, None, None, hashlib.sha256(data).hexdigest()))
    return texts, sources


def _bidi_controls(text: str, label: str) -> list[Problem]:
    """Name each line holding a bidi control (at most MAX_PROBLEMS of them), with its column."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if match := BIDI_CONTROLS.search(line):
            found.append(
                Problem(
                    label,
                    f"line {number}, column {match.start() + 1}: holds a bidirectional control, "
                    f"{character_name(match.group(0))}",
                    fix="delete it: it reorders the text after it without showing itself",
                )
            )
    return found[:MAX_PROBLEMS]


# What in an input would make a renderer load something: a Markdown image, an HTML tag with a
# src/href, a CSS url(), or any file: URL. briefgen loads none of them (commentary is sanitised,
# cells are escaped, the PDF fetcher serves only the brief's own folders), but it says so, and
# --strict refuses them. Plain http(s) links in commentary stay links: they are never fetched.
_RESOURCE = re.compile(
    r"!\[[^\]]*\]\(\s*<?(?P<image>[^)\s>]*)"
    r"|<\s*(?:img|image|link|script|iframe|frame|object|embed|video|audio|source|track|base|svg|use|input)\b"
    r"[^>]*?\b(?:src|href|data|srcset|poster|background)\s*=\s*[\"']?(?P<tag>[^\"'\s>]*)"
    r"|\burl\(\s*[\"']?(?P<css>[^\"')\s]*)"
    r"|@import\s+[\"']?(?P<imports>[^\"';\s]*)"
    r"|(?P<file>\bfile:[^\s)\"'>]*)",
    re.IGNORECASE,
)
_AS = {
    "image": " (a Markdown image)",
    "tag": " (in an HTML tag)",
    "css": " (a CSS url())",
    "imports": " (a CSS @import)",
    "file": "",
}


def resources(text: str) -> list[str]:
    """Each resource reference in `text`, described for a warning."""
    found = []
    for match in _RESOURCE.finditer(text):
        kind = match.lastgroup or "file"
        url = match.group(kind) or "(empty)"
        found.append(f"{url if len(url) <= 60 else url[:57] + '...'}{_AS[kind]}, which briefgen never loads")
    return found


RESOURCE_FIX = "remove it; the brief shows no images, styles or files named in the inputs"


def commentary_warnings(commentary: dict[str, str]) -> list[Problem]:
    """Warn of every resource reference in the commentary (a build that reuses cached tables calls this)."""
    found = []
    for name, text in commentary.items():
        for line, content in enumerate(text.splitlines(), start=1):
            found += [
                Problem(f"{COMMENTARY_DIR}/{name}.md", f"line {line}: refers to {what}", fix=RESOURCE_FIX)
                for what in resources(content)
            ]
    return found[:MAX_PROBLEMS]


def resource_warnings(
    config: BriefConfig | None,
    specs: Sequence[TableSpec],
    frames: dict[str, Any],
    raw: dict[str, RawTable],
    commentary: dict[str, str],
) -> list[Problem]:
    """Warn of every resource reference in brief.yaml's texts, the tables' text cells and the commentary."""
    found: list[Problem] = []
    if config is not None:
        texts = {"title": config.title, "house": config.house}
        texts.update(
            {f"analysts.{i}.{k}": getattr(a, k) for i, a in enumerate(config.analysts) for k in ("name", "phone")}
        )
        for key, text in texts.items():
            found += [
                Problem(CONFIG_FILE, f"key '{key}': refers to {what}", fix=RESOURCE_FIX)
                for what in resources(text or "")
            ]
    for spec in specs:
        frame = frames.get(spec.name)
        if frame is None:
            continue
        for column in (c.name for c in spec.columns if c.kind == "text"):
            for row, text in zip(frame["_row"], frame[column], strict=False):
                if isinstance(text, str) and text:
                    found += [
                        Problem(
                            raw[spec.name].label, f"refers to {what}", row=int(row), column=column, fix=RESOURCE_FIX
                        )
                        for what in resources(text)
                    ]
    return (found + commentary_warnings(commentary))[:MAX_PROBLEMS]


def list_items(markdown: str) -> list[str]:
    """The items of the Markdown list in takeaways.md, as plain text (the templates escape them)."""
    items: list[str] = []
    for line in markdown.splitlines():
        stripped = line.strip()
        marker = next((m for m in ("- ", "* ", "+ ") if stripped.startswith(m)), None)
        if marker is None and stripped[:1].isdigit() and ". " in stripped[:4]:
            marker = stripped[: stripped.index(". ") + 2]
        if marker is not None:
            items.append(stripped[len(marker) :].strip())
        elif stripped and items and line.startswith((" ", "\t")):
            items[-1] += " " + stripped  # a wrapped continuation line
    return [item for item in items if item]
