"""Measure briefgen's speed and memory on the sample inputs; write output/bench.json and print a table.

Each figure is the median of several runs, each run a new process (imports included), measured in
one session so that targets are compared as ratios on the same, possibly noisy, machine.

    python scripts/bench.py [--runs 5] [--copies 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BRIEFGEN = [sys.executable, "-m", "briefgen"]
# Run a command as a child and print its wall time and peak resident memory (MB) as JSON.
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "rc": done.returncode, "stderr": done.stderr[-2000:]}))
"""


def measure(command: list[str], cwd: Path = ROOT) -> dict:
    """Run one command in a fresh process; return its seconds and peak memory."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, cwd=cwd, check=True)
    result = json.loads(out.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{result['stderr']}")
    return result


def median_of(runs: int, command: list[str], prepare=None) -> dict:
    samples = []
    for _ in range(runs):
        if prepare:
            prepare()
        samples.append(measure(command))
    return {
        "median_s": statistics.median(s["seconds"] for s in samples),
        "runs_s": [round(s["seconds"], 3) for s in samples],
        "peak_mb": max(s["peak_mb"] for s in samples),
    }


def bench_build(runs: int, work: Path) -> dict:
    """A cold build: a new process, no cache, into a fresh output folder each time."""
    out = work / "cold"

    def fresh() -> None:
        shutil.rmtree(out, ignore_errors=True)

    return median_of(runs, [*BRIEFGEN, "build", "--inputs", str(ROOT / "inputs"), "--output", str(out)], fresh)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--copies", type=int, default=1000)
    args = parser.parse_args()
    results: dict = {"machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]}, "runs": args.runs}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results["cold_build"] = bench_build(args.runs, work)
    targets = {"cold build under 3 s": results["cold_build"]["median_s"] < 3.0,
               "peak memory of a build under 400 MB": results["cold_build"]["peak_mb"] < 400}
    results["targets_met"] = targets
    (ROOT / "output").mkdir(exist_ok=True)
    (ROOT / "output" / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'measure':40} {'median':>10} {'peak MB':>10}")
    for name in ("cold_build",):
        r = results[name]
        print(f"{name:40} {r['median_s']:>9.2f}s {r['peak_mb']:>10.0f}")
    for target, met in targets.items():
        print(f"{'met' if met else 'MISSED':>6}  {target}")
    print(f"wrote {ROOT / 'output' / 'bench.json'}")


if __name__ == "__main__":
    main()
