#!/usr/bin/env python3
"""Turn N edits under `watch` into a verdict on its memory: RSS after the first build and after N rebuilds.

    .venv/bin/python scripts/watch_memory.py [--rebuilds 50] [--limit 1.15]

Copies the sample into a temporary folder, runs briefgen.live.watch.watch in this process as `briefgen
watch` does (long_running(): the default garbage collector), and edits the inputs once per rebuild:
the commentary most times, market_caps.csv every fifth (metrics and charts redone). After each
rebuild it reads this process's resident set size (/proc/self/status, Linux) and at the end
compares the last with the first. Exit status 1 when the ratio is over the limit. A measurement,
not a test: it takes minutes and depends on the machine.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuilds", type=int, default=50)
    parser.add_argument("--limit", type=float, default=1.15)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from briefgen.build import BuildOptions
    from briefgen.cli import long_running
    from briefgen.live.watch import Rebuild, watch

    long_running()
    work = Path(tempfile.mkdtemp(prefix="briefgen-watch-memory-"))
    try:
        shutil.copytree(ROOT / "inputs", work / "inputs")
        outlook = work / "inputs" / "commentary" / "outlook.md"
        caps = work / "inputs" / "market_caps.csv"
        original_outlook, original_caps = outlook.read_text(), caps.read_text()
        sizes: list[float] = []
        errors: list[str] = []
        seen = threading.Semaphore(0)
        stop = threading.Event()

        def report(step: Rebuild) -> None:
            if step.error:
                errors.append(step.error)
            sizes.append(rss_mb())
            print(
                f"rebuild {len(sizes):3d}: {step.seconds:5.2f} s, RSS {sizes[-1]:6.1f} MB, "
                f"gc threshold {gc.get_threshold()[0]}",
                flush=True,
            )
            seen.release()

        thread = threading.Thread(
            target=watch,
            args=(BuildOptions(work / "inputs", work / "output"), report),
            kwargs={"stop": stop},
            daemon=True,
        )
        thread.start()
        assert seen.acquire(timeout=300), "the first build did not finish"
        for edit in range(1, args.rebuilds + 1):  # the first build, then N rebuilds
            if edit % 5 == 0:  # a figure changes: metrics, charts, both PDF chunks
                lines = original_caps.splitlines()
                last = lines[-1].split(",")
                last[2] = str(int(last[2]) + edit * 1000)
                caps.write_text("\n".join([*lines[:-1], ",".join(last)]) + "\n")
            else:
                outlook.write_text(original_outlook + f"\nEdit number {edit}.\n")
            assert seen.acquire(timeout=300), f"edit {edit} gave no rebuild"
            time.sleep(0.3)  # let the watcher settle before the next edit, as a person typing would
        stop.set()
        thread.join(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if errors:
        print(f"{len(errors)} rebuild(s) failed; first: {errors[0]}", file=sys.stderr)
        return 1
    ratio = sizes[-1] / sizes[0]
    print(
        f"RSS after the first build {sizes[0]:.1f} MB, after {len(sizes) - 1} rebuilds {sizes[-1]:.1f} MB, "
        f"peak {max(sizes):.1f} MB: ratio {ratio:.3f} (limit {args.limit})"
    )
    return 0 if ratio <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
