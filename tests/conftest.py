"""Shared fixtures: a tiny inputs folder written from inline rows, paths to the real data, and the
distribution tests' project folder and loopback SMTP servers (helpers in tests/test_distribute_support.py)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.test_distribute_support import CLIENTS_CSV, LoopbackController, Mailbox, brief_bytes

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


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A project folder with output/brief.pdf and inputs/clients.csv."""
    (tmp_path / "output").mkdir()
    (tmp_path / "inputs").mkdir()
    (tmp_path / "output" / "brief.pdf").write_bytes(brief_bytes())
    (tmp_path / "inputs" / "clients.csv").write_text(CLIENTS_CSV, encoding="utf-8")
    return tmp_path


@pytest.fixture
def smtp_server() -> Iterator[Callable[[Mailbox], LoopbackController]]:
    """Start SMTP servers on loopback for a test; every one is stopped at the end."""
    started: list[LoopbackController] = []

    def start(mailbox: Mailbox) -> LoopbackController:
        controller = LoopbackController(mailbox)
        controller.start()
        started.append(controller)
        return controller

    yield start
    for controller in started:
        if not controller.loop.is_closed():  # a test may have stopped it already (stop_soon)
            controller.stop(no_assert=True)


# WeasyPrint's log records, for the PDF tests (tests/brief_fixtures.py): a fixture every test file can use.
from tests.brief_fixtures import weasyprint_log  # noqa: E402, F401
