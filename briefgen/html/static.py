"""Turn the template folders' static files and the bundled fonts into copies beside brief.html.

brief.html links `static/brief.css` (and `static/screen.css` for a screen), whose fonts are
`../fonts/*.otf`: the same names the PDF stage serves from its virtual root (briefgen.pdf.fetcher).
Copying exactly those files into the output folder makes output/brief.html stand alone: opened
from disk, every link resolves inside the output folder. The files are chosen by the fetcher's own
rules, so the copy holds what the PDF used (the override folder first, never a file reached through
a link out of its folder).
"""

from __future__ import annotations

from pathlib import Path

from briefgen.pdf.fetcher import VIRTUAL_BASE, Refused, Resolver
from briefgen.resources import FONTS_DIR, template_folders

STATIC = "static"
FONTS = "fonts"
_SKIP_SUFFIXES = (".tmp", "~")


def static_files(templates_dir: Path | None = None, sector: str | None = None) -> dict[str, Path]:
    """{name in the output folder: file to copy} for every static file and font the brief may link."""
    folders = template_folders(templates_dir, sector)
    resolver = Resolver(folders, None)
    names = {f"{FONTS}/{path.name}" for path in _files(FONTS_DIR)}
    for folder in folders:
        root = Path(folder) / STATIC
        names.update(f"{STATIC}/{path.relative_to(root).as_posix()}" for path in _files(root))
    found = {}
    for name in sorted(names):
        try:
            found[name] = resolver.locate(VIRTUAL_BASE + name)
        except (Refused, OSError):
            continue  # a link out of its folder, or a file removed meanwhile: not copied
    return found


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [
        path
        for path in folder.rglob("*")
        if path.is_file() and not path.name.startswith(".") and not path.name.endswith(_SKIP_SUFFIXES)
    ]


def stage_static(
    stage: Path, output: Path, templates_dir: Path | None = None, sector: str | None = None
) -> tuple[dict[Path, Path], set[str]]:
    """Copy into `stage` the static files whose published copy in `output` differs; the moves, every name.

    Returns {staged file: its destination in output} for briefgen.files.publish, and the names of
    all the static files this build publishes (changed or not), for removing stale ones.
    """
    from briefgen.files import write_atomic

    moves: dict[Path, Path] = {}
    files = static_files(templates_dir, sector)
    for name, source in files.items():
        data = source.read_bytes()
        published = output / name
        try:
            if not published.is_symlink() and published.is_file() and published.read_bytes() == data:
                continue  # unchanged: a rebuild rewrites none of the fonts
        except OSError:
            pass
        write_atomic(stage / name, data)
        moves[stage / name] = published
    return moves, set(files)


def remove_stale_static(output: Path, previous: set[str], current: set[str]) -> None:
    """Static files an earlier build published (listed in its manifest) that this one does not."""
    for name in sorted(previous - current):
        if not name.startswith((f"{STATIC}/", f"{FONTS}/")) or ".." in Path(name).parts:
            continue
        path = output / name
        if path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
