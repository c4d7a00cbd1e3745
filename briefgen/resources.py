"""Name where the package's own files are: the default templates, their static files, the fonts.

The one place that knows the layout of the installed package; everything else imports from here,
so a wheel, an editable install and a checkout find the same files.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"  # the house's: base.html, partials/, static/, email/
EMAIL_TEMPLATES_DIR = TEMPLATES_DIR / "email"
FONTS_DIR = PACKAGE_DIR / "fonts"


def template_folders(templates_dir: Path | None = None, sector: str | None = None) -> tuple[Path, ...]:
    """The template search path, first match wins: the override folder (--templates) if any, the
    sector's templates (brief.html and its partials), then the house's (the page shell, the
    stylesheets, the disclosures, the email). Every stage that reads a template uses this order."""
    from briefgen.sector import DEFAULT_SECTOR, load_sector

    folders = [load_sector(sector or DEFAULT_SECTOR).templates, TEMPLATES_DIR]
    if templates_dir is not None:
        folders.insert(0, Path(templates_dir))
    return tuple(folders)
