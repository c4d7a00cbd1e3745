#!/usr/bin/env python3
"""Turn a built wheel into a verdict: does it carry every file of the package (templates, static, fonts)?

    python scripts/check_wheel.py dist/briefgen-0.1.0-py3-none-any.whl      # .ci/run does this

Lists what the wheel holds and exits 1 naming every file of briefgen/ that git tracks (or that is
new and not ignored) and the wheel lacks, so a template added without a package-data pattern
cannot ship broken.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def package_files() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "briefgen"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {name for name in listed if (ROOT / name).is_file()}


def main(wheel: str) -> int:
    names = set(zipfile.ZipFile(wheel).namelist())
    data = sorted(name for name in names if name.startswith("briefgen/") and not name.endswith(".py"))
    print(f"{Path(wheel).name}: {len(names)} files, {len(data)} besides the Python modules:")
    for name in data:
        print(f"  {name}")
    missing = sorted(package_files() - names)
    for name in missing:
        print(f"missing from the wheel: {name}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
