"""Faults: a build killed at any moment, a full disk, an unwritable output folder.

Whatever happens, output/ holds the previous brief or the new one, each complete, never a
truncated file; a failure is one clean `Error: ...` line and leaves the previous files as they were.

The kill test forks the (already warm) test process for each kill, so that every moment falls
inside the build rather than in Python's start-up. The full-disk and read-only tests mount a small
tmpfs (tests run as root); where mounting is not allowed they skip, and a simulated ENOSPC
(monkeypatched fsync) still runs.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pypdf
import pytest
from click.testing import CliRunner

from briefgen.build import BuildOptions, build
from briefgen.cli import main

pytestmark = [
    pytest.mark.filterwarnings("error"),
    pytest.mark.skipif(not hasattr(os, "fork"), reason="the kill test forks"),
]

BASE = Path(__file__).resolve().parent / "data" / "bad" / "_base"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under folder (hidden ones included) by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def visible(files: dict[str, bytes]) -> dict[str, bytes]:
    """What a reader of output/ sees: files not hidden and not inside a hidden folder."""
    return {name: data for name, data in files.items() if not any(part.startswith(".") for part in Path(name).parts)}


def pdf_pages(data: bytes) -> int:
    import io

    return len(pypdf.PdfReader(io.BytesIO(data)).pages)


@dataclass
class Briefs:
    inputs: Path
    output: Path
    old: dict[str, bytes]  # output/ after building the first inputs
    new: dict[str, bytes]  # output/ after building the revised inputs over it


@pytest.fixture(scope="module")
def briefs(tmp_path_factory) -> Briefs:
    """Build the old brief, then the revised one in a copy, so both versions' bytes are known."""
    root = tmp_path_factory.mktemp("faults")
    inputs = root / "inputs"
    shutil.copytree(BASE, inputs)
    output = root / "output"
    build(BuildOptions(inputs, output))
    old = snapshot(output)
    text = (inputs / "brief.yaml").read_text(encoding="utf-8")
    (inputs / "brief.yaml").write_text(
        text.replace("title: Bitcoin mining", "title: Bitcoin mining, revised"), encoding="utf-8"
    )
    revised = root / "revised"
    shutil.copytree(output, revised)
    build(BuildOptions(inputs, revised))
    new = snapshot(revised)
    assert visible(old)["brief.pdf"] != visible(new)["brief.pdf"]
    return Briefs(inputs, output, old, new)


def restore(folder: Path, files: dict[str, bytes]) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)


def killed_build(
    inputs: Path,
    output: Path,
    *,
    after_seconds: float | None = None,
    before: str | None = None,
    after: str | None = None,
) -> str:
    """Build in a forked child and SIGKILL it after a delay, or just before or after the os.replace
    that puts a file into output/: `before="*"` is the first such rename, "brief.pdf" the PDF's.

    Returns how the child ended: "killed" or "finished".
    """
    pid = os.fork()
    if pid == 0:  # the child: build, and never return into pytest
        try:
            real = os.replace
            published = {output.resolve(), (output / "charts").resolve()}

            def matches(moment: str | None, dst) -> bool:
                target = Path(dst).resolve()
                return moment is not None and target.parent in published and moment in ("*", target.name)

            def replace(src, dst, *args, **kwargs):
                if matches(before, dst):
                    os.kill(os.getpid(), signal.SIGKILL)
                real(src, dst, *args, **kwargs)
                if matches(after, dst):
                    os.kill(os.getpid(), signal.SIGKILL)

            os.replace = replace
            build(BuildOptions(inputs, output))
        finally:
            os._exit(0)
    if after_seconds is not None:
        time.sleep(after_seconds)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return "killed" if os.WIFSIGNALED(status) else "finished"


def databases(files: dict[str, bytes]) -> dict[str, bytes]:
    """SQLite files (the build history, with its -wal and -shm) and the append-only audit trail:
    transactional or appended to, not whole-file versions."""
    return {name: data for name, data in files.items() if ".sqlite" in name or name == "audit.jsonl"}


def assert_whole(output: Path, briefs: Briefs, scratch: Path) -> str:
    """Every visible file is a complete old or new version, every database passes SQLite's own
    integrity check; return which version the PDF is."""
    seen = visible(snapshot(output))
    stores = databases(seen)
    seen = {name: data for name, data in seen.items() if name not in stores}
    assert set(seen) <= set(visible(briefs.old)) | set(visible(briefs.new))
    for name, data in seen.items():
        assert data in (briefs.old.get(name), briefs.new.get(name)), f"{name} is neither the old nor the new version"
    if stores:
        restore(scratch, stores)  # check a copy: opening the original could repair it and hide the damage
        for name in stores:
            if name.endswith(".sqlite"):
                with contextlib.closing(sqlite3.connect(scratch / name)) as db:
                    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", name
            elif name == "audit.jsonl":  # whole entries only, the hash chain unbroken
                from briefgen.store.audit import verify

                assert verify(scratch).intact, verify(scratch).problem
    pdf = seen["brief.pdf"]
    assert pdf_pages(pdf) >= 1
    return "old" if pdf == briefs.old["brief.pdf"] else "new"


def test_a_build_killed_at_any_moment_leaves_a_whole_brief(briefs: Briefs, tmp_path: Path):
    scratch = tmp_path / "scratch"
    restore(briefs.output, briefs.old)
    started = time.perf_counter()
    ended = killed_build(briefs.inputs, briefs.output)
    duration = time.perf_counter() - started
    assert ended == "finished"
    assert assert_whole(briefs.output, briefs, scratch) == "new"

    outcomes = []
    # Moments spread over the whole build: reading, drawing, rendering, writing, publishing.
    for fraction in (0.15, 0.4, 0.65, 0.85, 0.95, 1.0):
        restore(briefs.output, briefs.old)
        ended = killed_build(briefs.inputs, briefs.output, after_seconds=duration * fraction)
        outcomes.append((f"t={fraction:.2f}", ended, assert_whole(briefs.output, briefs, scratch)))
    # Moments timing cannot hit reliably, inside the publishing: each staged file is renamed into
    # output/, the PDF last. Kill before the first rename into output/, before the PDF's, and after it.
    for before, after in (("*", None), ("brief.pdf", None), (None, "brief.pdf")):
        restore(briefs.output, briefs.old)
        ended = killed_build(briefs.inputs, briefs.output, before=before, after=after)
        outcomes.append((f"before={before} after={after}", ended, assert_whole(briefs.output, briefs, scratch)))
    assert [version for name, _, version in outcomes[-3:]] == ["old", "old", "new"], outcomes
    assert all(ended == "killed" for name, ended, _ in outcomes[-3:]), outcomes


# --- full disk, unwritable output --------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 16 MB tmpfs mounted for the test (a build writes about 5 MB: draft, publishable copy, fonts,
    cache); skip where mounting is not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command here")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(mount)], capture_output=True)
        if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(folder: Path) -> Path:
    """Write a file until the disk is full."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as handle:
        for size in (65536, 4096, 512, 1):  # down to the last byte
            try:
                while True:
                    handle.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    return filler


def cli_build(inputs: Path, output: Path, *args: str):
    return CliRunner().invoke(main, ["build", "--inputs", str(inputs), "--output", str(output), *args])


def built_then_revised(tmp_path: Path, output: Path) -> tuple[Path, dict[str, bytes]]:
    """Build _base into output; then revise the inputs so that the next build has work to do
    (an unchanged build rewrites nothing). Return the inputs and output/'s files."""
    inputs = tmp_path / "inputs"
    shutil.copytree(BASE, inputs)
    first = cli_build(inputs, output)
    assert first.exit_code == 0, first.output
    text = (inputs / "brief.yaml").read_text(encoding="utf-8")
    (inputs / "brief.yaml").write_text(
        text.replace("title: Bitcoin mining", "title: Bitcoin mining, revised"), encoding="utf-8"
    )
    return inputs, snapshot(output)


def unchanged_for_readers(output: Path, before: dict[str, bytes]) -> None:
    """The brief, its HTML and charts byte-identical, and no staging folder left behind.

    The cache (output/.cache) may gain an entry computed before the failure: entries are named by
    their content's key, so a later build can only use them for the inputs they were made from.
    """
    after = snapshot(output)
    assert visible(after) == visible(before)
    assert not [name for name in after if name.startswith(".build-")]


def assert_says_disk_full(stderr: str) -> None:
    """One clean line that names the cause (not 'disk I/O error' or 'not a readable history')."""
    assert stderr.startswith("Error: ") and stderr.count("\n") == 1, stderr
    assert any(cause in stderr for cause in ("the disk is full", "No space left on device")), stderr


def test_a_full_disk_is_a_clean_error_and_the_previous_brief_stays(small_disk: Path, tmp_path: Path):
    output = small_disk / "output"
    inputs, before = built_then_revised(tmp_path, output)
    filler = fill(small_disk)
    result = cli_build(inputs, output)
    assert "Traceback" not in result.output
    assert (result.exit_code, result.stdout) == (1, "")
    assert_says_disk_full(result.stderr)
    unchanged_for_readers(output, before)
    filler.unlink()
    assert cli_build(inputs, output).exit_code == 0  # space freed: the next build succeeds


def test_a_full_disk_leaves_no_temporary_files(small_disk: Path, tmp_path: Path):
    output = small_disk / "output"
    inputs, _ = built_then_revised(tmp_path, output)
    fill(small_disk)
    assert cli_build(inputs, output).exit_code == 1
    assert [name for name in snapshot(output) if ".tmp" in name] == []


def test_a_read_only_output_is_a_clean_error_and_the_previous_brief_stays(small_disk: Path, tmp_path: Path):
    output = small_disk / "output"
    inputs, before = built_then_revised(tmp_path, output)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    result = cli_build(inputs, output)
    assert (result.exit_code, result.stdout) == (1, "")
    assert "Traceback" not in result.output
    assert result.stderr.startswith(f"Error: {output}") and result.stderr.count("\n") == 1
    assert "not writable (Read-only file system)" in result.stderr, "the message must say the folder is read-only"
    assert snapshot(output) == before  # nothing at all could be written


def test_an_output_under_a_file_is_a_clean_error(tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be\n")
    result = cli_build(BASE, blocker / "output")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: {blocker / 'output'}: cannot write (Not a directory)\n"
    assert blocker.read_text() == "a file where a folder should be\n"


def test_a_simulated_full_disk_keeps_the_previous_brief(tmp_path: Path, monkeypatch):
    """ENOSPC where it usually surfaces, at the flush to disk: runs even where tmpfs cannot be mounted."""
    output = tmp_path / "output"
    inputs, before = built_then_revised(tmp_path, output)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    result = cli_build(inputs, output)
    assert (result.exit_code, result.stdout) == (1, "")
    assert "Traceback" not in result.output
    assert_says_disk_full(result.stderr)
    unchanged_for_readers(output, before)
