"""run(): the fast exit and the raised GC threshold only for one-shot commands, and a way to turn them off."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from briefgen.cli import FAST_EXIT_VARIABLE, fast_exit_allowed, long_running
from briefgen.live.watch import relevant
from tests.conftest import ROOT

ATEXIT = (
    "import atexit, gc, sys\n"
    "atexit.register(lambda: print('atexit ran, threshold', gc.get_threshold()[0]))\n"
    "sys.argv = ['briefgen', '--version']\n"
    "from briefgen.cli import run\n"
    "run()\n"
)


def _python(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    environment = {name: value for name, value in os.environ.items() if name != FAST_EXIT_VARIABLE}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=environment, timeout=300
    )


def test_a_one_shot_command_exits_at_once():
    done = _python("-c", ATEXIT)
    assert done.returncode == 0 and "briefgen, version" in done.stdout
    assert "atexit ran" not in done.stdout  # os._exit: no teardown


def test_the_environment_variable_turns_the_fast_exit_and_the_threshold_off():
    done = _python("-c", ATEXIT, env={FAST_EXIT_VARIABLE: "0"})
    assert done.returncode == 0
    assert "atexit ran, threshold" in done.stdout and "threshold 100000" not in done.stdout


def test_a_profiler_gets_its_profile(tmp_path: Path):
    profile = tmp_path / "check.prof"
    done = _python("-m", "cProfile", "-o", str(profile), "-m", "briefgen", "check", "--inputs", str(ROOT / "inputs"))
    assert done.returncode == 0, done.stderr
    assert profile.is_file() and profile.stat().st_size > 0


def test_fast_exit_is_refused_under_a_tracer():
    previous = sys.gettrace()
    sys.settrace(lambda *args: None)
    try:
        assert not fast_exit_allowed()
    finally:
        sys.settrace(previous)


def test_long_running_commands_get_the_default_collector():
    before = gc.get_threshold()
    try:
        gc.set_threshold(100_000, 50, 100)
        long_running()
        assert gc.get_threshold() == before and gc.get_threshold()[0] != 100_000
    finally:
        gc.set_threshold(*before)


def test_watch_ignores_hidden_files_backups_and_editor_temporaries(tmp_path: Path):
    folders = [tmp_path / "inputs"]
    assert relevant(tmp_path / "inputs" / "network.csv", folders)
    assert relevant(tmp_path / "inputs" / "commentary" / "outlook.md", folders)
    for name in (
        ".network.csv.swp",
        "network.csv~",
        ".#outlook.md",
        "backups/network.csv",
        ".cache/x",
        "commentary/.outlook.md.tmp",
    ):
        assert not relevant(tmp_path / "inputs" / name, folders), name
