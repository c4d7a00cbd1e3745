"""Turn what a build depends on (code, input files, commentary, templates, options) into cache keys.

Cheap by design: only the standard library, so `briefgen build` can see that nothing changed
without importing pandas, matplotlib or WeasyPrint.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from briefgen.resources import PACKAGE_DIR, template_folders
from briefgen.store.cache import digest

# The libraries whose versions can change a chart, a table or a PDF byte.
RENDERING_LIBRARIES = (
    "pandas",
    "numpy",
    "matplotlib",
    "jinja2",
    "markupsafe",
    "weasyprint",
    "pydyf",
    "fonttools",
    "pikepdf",
    "markdown-it-py",
    "nh3",
    "tinycss2",
    "cssselect2",
    "pyphen",
)
COMMENTARY_DIR = "commentary"


@dataclass(frozen=True)
class Keys:
    """One digest per kind of dependency; `build` covers them all plus the options."""

    code: str
    data: str
    commentary: str
    templates: str
    build: str


def _files_digest(files: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(digest(path.relative_to(root).as_posix(), path.read_bytes()).encode())
    return h.hexdigest()


@functools.cache
def code_key() -> str:
    """briefgen's own source and the rendering libraries' versions (computed once per process)."""
    versions = []
    for name in RENDERING_LIBRARIES:
        try:
            versions.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name}==none")
    sources = [
        p
        for p in PACKAGE_DIR.rglob("*")
        if p.is_file() and p.suffix in (".py", ".otf", ".txt") and "templates" not in p.relative_to(PACKAGE_DIR).parts
    ]  # the templates have a key of their own
    return digest(_files_digest(sources, PACKAGE_DIR), *versions)


def sector_key(sector) -> str:
    """A sector's own source, when it lives outside briefgen (a desk's sector); briefgen's is in code_key."""
    package = Path(sector.package).resolve()
    if package == PACKAGE_DIR or PACKAGE_DIR in package.parents:
        return sector.name
    sources = [p for p in package.rglob("*.py") if p.is_file()]
    return digest(sector.name, _files_digest(sources, package))


def data_files(inputs_dir: Path) -> list[Path]:
    """Every regular file directly in the inputs folder: brief.yaml, the tables, the workbook."""
    return [p for p in Path(inputs_dir).iterdir() if p.is_file() and not p.name.startswith(".")]


def commentary_files(inputs_dir: Path) -> list[Path]:
    folder = Path(inputs_dir) / COMMENTARY_DIR
    return sorted(folder.glob("*.md")) if folder.is_dir() else []


def templates_key(templates_dir: Path | None, sector: str | None = None) -> str:
    """Every file on the template search path; the override folder's and the project's kept apart."""
    from briefgen.errors import RenderError
    from briefgen.files import inside

    roots = template_folders(templates_dir, sector)
    parts = []
    for root in roots:
        files = [p for p in root.rglob("*") if p.is_file() or p.is_symlink()] if root.is_dir() else []
        for path in files:  # a link out of the folder would pull another file into the brief: refused, named
            inside(root, path.relative_to(root), error=RenderError)
        parts.append(_files_digest([p for p in files if p.is_file()], root))
    return digest(*parts)


def build_keys(
    inputs_dir: Path, templates_dir: Path | None, options: tuple[str, ...], sector: str | None = None
) -> Keys:
    """Keys for one build; `options` are the flags that change the output (windows, as-of, variant)."""
    from briefgen.sector import load_sector

    inputs_dir = Path(inputs_dir)
    code = digest(code_key(), sector_key(load_sector(sector) if sector else load_sector()))
    data = digest(code, _files_digest(data_files(inputs_dir), inputs_dir), *options)
    commentary = _files_digest(commentary_files(inputs_dir), inputs_dir)
    templates = templates_key(templates_dir, sector)
    return Keys(code, data, commentary, templates, digest(data, commentary, templates))
