"""Name where the package's own files are: the default templates, their static files, the fonts.

The one place that knows the layout of the installed package; everything else imports from here,
so a wheel, an editable install and a checkout find the same files.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"  # base.html, brief.html, partials/, static/, email/
EMAIL_TEMPLATES_DIR = TEMPLATES_DIR / "email"
FONTS_DIR = PACKAGE_DIR / "fonts"
