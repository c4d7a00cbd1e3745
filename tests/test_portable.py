"""The package imports where POSIX-only modules are missing (Windows), so it can at least build serially there."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

# Every module of the package, imported with the POSIX-only standard modules made unimportable.
SCRIPT = """
import sys
for name in ("fcntl", "resource", "termios", "pwd", "grp"):
    sys.modules[name] = None  # import raises ImportError, as on Windows
import pkgutil, importlib, briefgen
failed = []
for info in pkgutil.walk_packages(briefgen.__path__, "briefgen."):
    if info.name == "briefgen.__main__":  # runs the CLI
        continue
    try:
        importlib.import_module(info.name)
    except ImportError as exc:
        failed.append(f"{info.name}: {exc}")
print("\\n".join(failed))
"""


def test_every_module_imports_without_the_posix_only_modules():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", done.stdout
