"""Shared fixtures: a tiny inputs folder written from inline rows, and paths to the real data."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def user_docs() -> str:
    """The README and every page of the user guide in docs/, as one text (what a user can read)."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)


REAL_DATA = ROOT.parent / "shared" / "data" / "btc_daily_2024-04-01_2025-12-29.csv"


def write_inputs(folder: Path, files: dict[str, str]) -> Path:
    """Write {name: text} into folder (dedented), creating sub-folders; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return folder


@pytest.fixture
def real_data() -> Path:
    if not REAL_DATA.is_file():
        pytest.skip("real network data not present in ../shared/data/")
    return REAL_DATA
