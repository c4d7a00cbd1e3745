"""Turn a `--templates` override folder into warnings about the files in it that override nothing.

An override folder holds only the files it changes, each under the name of the default it replaces
(`partials/disclosures.html`). A mistyped name (`partials/disclosure.html`) would silently change
nothing: the default would still be used. So every file whose name is no default's, and that no
other template or stylesheet mentions (a new partial that an overridden template includes, an image
a stylesheet links), is reported, with the nearest default's name. `--strict` makes it fatal.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from briefgen.errors import Problem, RenderError
from briefgen.resources import template_folders

_TEXT_SUFFIXES = (".html", ".css", ".txt", ".svg", ".xml", ".j2", ".jinja")
_IGNORED = ("~", ".tmp", ".swp", ".bak")


def _files(folder: Path) -> dict[str, Path]:
    """{relative name: path} of the regular, non-hidden files under a folder."""
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        if path.is_file() and not path.name.endswith(_IGNORED):
            found[relative.as_posix()] = path
    return found


def unused_overrides(templates_dir: Path | None, sector: str | None = None) -> tuple[Problem, ...]:
    """A warning for each file of the override folder that replaces no default and that nothing uses."""
    if templates_dir is None or not Path(templates_dir).is_dir():
        return ()
    folder = Path(templates_dir)
    overrides = _files(folder)
    defaults = {
        name: path for folder in reversed(template_folders(None, sector)) for name, path in _files(folder).items()
    }
    effective = {**defaults, **overrides}  # what the brief is made of: the override wins
    texts = {}
    for name, path in effective.items():
        if path.suffix.lower() in _TEXT_SUFFIXES:
            try:
                texts[name] = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
    problems = []
    for name in overrides:
        if name in defaults:
            continue
        basename = name.rsplit("/", 1)[-1]
        if any(basename in text for other, text in texts.items() if other != name):
            continue  # a new file an override uses
        near = difflib.get_close_matches(name, list(defaults), n=1, cutoff=0.6)
        fix = f"did you mean {near[0]}? rename it" if near else "name it like the default it replaces, or remove it"
        problems.append(
            Problem(
                f"{folder.name}/{name}",
                "overrides nothing: no default template has this name and no template uses it",
                fix=fix,
            )
        )
    return tuple(problems)


def override_warnings(templates_dir: Path | None, strict: bool, sector: str | None = None) -> tuple[Problem, ...]:
    """unused_overrides() as a build's warnings; with `strict`, a RenderError listing them."""
    found = unused_overrides(templates_dir, sector)
    if found and strict:
        raise RenderError(
            "\n".join(
                ["the templates folder has files that override nothing:", *(f"  - {problem}" for problem in found)]
            )
        )
    return found
