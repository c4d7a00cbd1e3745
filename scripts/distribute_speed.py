"""Time `briefgen distribute` end to end via the outbox: stamp, MIME, files, ledger, manifest.

Writes a clients file of n clients (one in ten with a password, names in several scripts) into a
temporary folder, runs distribute() once into it, and prints the seconds per copy. Not a test:
machines are noisy; compare the figure with a cold build measured on the same machine.

Run: python scripts/distribute_speed.py [output/brief.pdf] [n] [--profile]
"""

from __future__ import annotations

import cProfile
import json
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

from briefgen.distribute.deliver import distribute


def clients_csv(n: int) -> str:
    rows = ["client_id,name,firm,email,password,tier"]
    for i in range(n):
        password = f"pw-{i}" if i % 10 == 0 else ""
        rows.append(
            f"c{i},Client {i} Łukasiewicz-Ørsted,Firm {i} Ζήτα Капитал,client{i}@firm{i}.example.com,{password},gold"
        )
    return "\n".join(rows) + "\n"


def measure(brief: Path, n: int, profile: bool = False) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="briefgen-distribute-"))
    try:
        shutil.copy(brief, folder / "brief.pdf")
        if brief.with_suffix(".html").is_file():  # the email's summary, as beside a real build
            shutil.copy(brief.with_suffix(".html"), folder / "brief.html")
        (folder / "clients.csv").write_text(clients_csv(n), encoding="utf-8")
        profiler = cProfile.Profile() if profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        report = distribute(
            folder / "brief.pdf", folder / "clients.csv", folder / "out", sender="Mining desk <desk@bank.example.com>"
        )
        if profiler:
            profiler.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        assert report.ok and report.count("sent") == n
        # CPU time too: on a shared machine the wall clock mostly measures the other processes.
        return {
            "copies": n,
            "seconds": round(seconds, 3),
            "ms_per_copy": round(seconds / n * 1000, 2),
            "cpu_ms_per_copy": round(cpu / n * 1000, 2),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    path = Path(args[0]) if args else Path("output/brief.pdf")
    count = int(args[1]) if len(args) > 1 else 1000
    print(json.dumps(measure(path, count, "--profile" in sys.argv), indent=2))
