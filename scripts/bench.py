"""Measure briefgen's speed and memory on the sample inputs; write output/bench.json and print a table.

Every figure comes from this one run on this machine, so targets are compared as ratios, never
against absolute times from elsewhere. Each measure is the median of several runs; each run is a
new process (imports and interpreter exit included) unless it is the in-process watch rebuild.

    python scripts/bench.py [--runs 5] [--copies 1000] [--batch 24]
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
PYTHON = sys.executable
BRIEFGEN = [PYTHON, "-m", "briefgen"]
# Run a command as a child; print its wall time and peak resident memory (MB, largest descendant).
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "rc": done.returncode, "out": done.stdout[-2000:],
                  "err": done.stderr[-2000:]}))
"""
# One brief of a batch, built alone in a new process: what 24 sequential cold builds repeat.
ONE_BRIEF = """
import sys
from datetime import date
from pathlib import Path
from briefgen.batch import job_options
from briefgen.build import BuildOptions, build
build(job_options(date.fromisoformat(sys.argv[3]), BuildOptions(Path(sys.argv[1]), Path(sys.argv[2]), cache=False)))
"""
BATCH = """
import json, sys
from datetime import date
from pathlib import Path
from briefgen.batch import run_batch, twice_monthly
from briefgen.build import BuildOptions
days = twice_monthly(date.fromisoformat(sys.argv[3]), date.fromisoformat(sys.argv[4]))
results = run_batch(days, BuildOptions(Path(sys.argv[1]), Path(sys.argv[2]), cache=False), jobs=int(sys.argv[5]))
# Workers are the forkserver's children, not ours: each reports its own peak.
print(json.dumps(max(r.worker_peak_mb or 0 for r in results)))
sys.exit(0 if all(r.ok for r in results) else 1)
"""
WATCH = """
import json, sys, time
from pathlib import Path
from briefgen.build import BuildOptions, build
options = BuildOptions(Path(sys.argv[1]), Path(sys.argv[2]))
build(options)  # the watch's first build: everything imported and warm afterwards
outlook = Path(sys.argv[1]) / "commentary" / "outlook.md"
times = []
for i in range(int(sys.argv[3])):
    outlook.write_text(outlook.read_text() + f"\\nWatch edit {i}.\\n")
    start = time.perf_counter()
    result = build(options)
    times.append(time.perf_counter() - start)
    assert not result.unchanged and result.drawn == ()
print(json.dumps(times))
"""


def measure(command: list[str]) -> dict:
    """Run one command in a fresh process; return its seconds and peak memory."""
    out = subprocess.run([PYTHON, "-c", MEASURE, *command], capture_output=True, text=True, cwd=ROOT, check=True)
    result = json.loads(out.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{result['err']}")
    return result


def summary(samples: list[dict]) -> dict:
    return {
        "median_s": round(statistics.median(s["seconds"] for s in samples), 3),
        "runs_s": [round(s["seconds"], 3) for s in samples],
        "peak_mb": round(max(s["peak_mb"] for s in samples), 1),
    }


def bench_builds(runs: int, work: Path) -> dict:
    """Cold builds, rebuilds with nothing changed, rebuilds after a commentary edit."""
    inputs = work / "inputs"
    shutil.copytree(ROOT / "inputs", inputs)
    cold, unchanged, commentary = [], [], []
    for i in range(runs):
        out = work / f"cold-{i}"
        cold.append(measure([*BRIEFGEN, "build", "--inputs", str(inputs), "--output", str(out), "--no-cache"]))
    warm = work / "warm"
    measure([*BRIEFGEN, "build", "--inputs", str(inputs), "--output", str(warm)])
    for _ in range(runs):
        unchanged.append(measure([*BRIEFGEN, "build", "--inputs", str(inputs), "--output", str(warm)]))
        assert "nothing changed" in unchanged[-1]["out"], unchanged[-1]["out"]
    outlook = inputs / "commentary" / "outlook.md"
    for i in range(runs):
        outlook.write_text(outlook.read_text() + f"\nBenchmark edit {i}: one more sentence of commentary.\n")
        commentary.append(measure([*BRIEFGEN, "build", "--inputs", str(inputs), "--output", str(warm)]))
        assert "0 drawn" in commentary[-1]["out"], commentary[-1]["out"]
    return {"cold_build": summary(cold), "nothing_changed": summary(unchanged), "commentary_change": summary(commentary)}


def bench_watch(runs: int, work: Path) -> dict:
    inputs = work / "watch-inputs"
    shutil.copytree(ROOT / "inputs", inputs)
    sample = measure([PYTHON, "-c", WATCH, str(inputs), str(work / "watch-out"), str(runs)])
    times = json.loads(sample["out"])
    return {"median_s": round(statistics.median(times), 3), "runs_s": [round(t, 3) for t in times],
            "peak_mb": round(sample["peak_mb"], 1)}


def bench_batch(count: int, work: Path) -> dict:
    """A batch of twice-monthly briefs in parallel against the same briefs built one by one."""
    from datetime import date

    from briefgen.batch import twice_monthly

    end = date(2026, 1, 15)
    start = end
    while len(twice_monthly(start, end)) < count:
        start = date.fromordinal(start.toordinal() - 1)
    days = twice_monthly(start, end)
    inputs = str(ROOT / "inputs")
    started = time.perf_counter()
    peak = 0.0
    for day in days:
        sample = measure([PYTHON, "-c", ONE_BRIEF, inputs, str(work / "sequential" / day.isoformat()), day.isoformat()])
        peak = max(peak, sample["peak_mb"])
    sequential = time.perf_counter() - started
    jobs = os.cpu_count() or 1
    batch = measure([PYTHON, "-c", BATCH, inputs, str(work / "batch"), start.isoformat(), end.isoformat(), str(jobs)])
    worker_peak = json.loads(batch["out"].strip().splitlines()[-1])
    return {"briefs": len(days), "jobs": jobs, "sequential_s": round(sequential, 2), "batch_s": round(batch["seconds"], 2),
            "speedup": round(sequential / batch["seconds"], 2), "sequential_peak_mb": round(peak, 1),
            "batch_peak_mb": round(max(batch["peak_mb"], worker_peak), 1)}


def bench_copies(copies: int, pdf: Path) -> dict:
    sys.path.insert(0, str(ROOT / "scripts"))
    from bench_distribute import bench_distribution

    return bench_distribution(pdf, copies)


def report_table(results: dict) -> str:
    """The figures as the Markdown table the README shows."""
    lines = ["| measure | median | peak memory |", "| --- | --- | --- |"]
    for name in ("cold_build", "nothing_changed", "commentary_change", "watch_rebuild"):
        r = results[name]
        lines.append(f"| {name.replace('_', ' ')} | {r['median_s']:.2f} s | {r['peak_mb']:.0f} MB |")
    b = results["batch"]
    lines.append(f"| {b['briefs']} briefs one by one | {b['sequential_s']:.1f} s | {b['sequential_peak_mb']:.0f} MB |")
    lines.append(f"| {b['briefs']} briefs as a batch ({b['jobs']} jobs) | {b['batch_s']:.1f} s | {b['batch_peak_mb']:.0f} MB |")
    c = results["copies"]
    lines.append(f"| a marked copy ({c['copies']} copies, {c['encrypted']} encrypted) | {c['seconds_per_copy'] * 1000:.1f} ms | |")
    lines.append("")
    lines += [f"- {name}: {value}" for name, value in results["ratios"].items()]
    lines += [f"- {'met' if met else 'MISSED'}: {target}" for target, met in results["targets_met"].items()]
    machine = results["machine"]
    lines.append(f"\nMeasured on {machine['cores']} cores, Python {machine['python']}.")
    return "\n".join(lines)


def _update_readme(table: str) -> None:
    """Replace the table between the README's bench markers with this run's."""
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = "<!-- bench -->", "<!-- /bench -->"
    if start not in text:
        return
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1] if end in rest else rest
    readme.write_text(f"{head}{start}\n{table}\n{end}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--copies", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=24)
    args = parser.parse_args()
    results: dict = {"machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]}, "runs": args.runs}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("timing builds ...", file=sys.stderr)
        results.update(bench_builds(args.runs, work))
        print("timing the watch ...", file=sys.stderr)
        results["watch_rebuild"] = bench_watch(args.runs, work)
        print(f"timing a batch of {args.batch} briefs against sequential builds ...", file=sys.stderr)
        results["batch"] = bench_batch(args.batch, work)
        print(f"timing {args.copies} marked copies ...", file=sys.stderr)
        results["copies"] = bench_copies(args.copies, work / "cold-0" / "brief.pdf")
    cold = results["cold_build"]["median_s"]
    per_copy = results["copies"]["seconds_per_copy"]
    ratios = {
        "cold / nothing changed": round(cold / results["nothing_changed"]["median_s"], 1),
        "cold / commentary change": round(cold / results["commentary_change"]["median_s"], 2),
        "batch speedup over sequential": results["batch"]["speedup"],
        "build / marked copy": round(cold / per_copy, 0),
    }
    peak = max(results[k]["peak_mb"] for k in ("cold_build", "nothing_changed", "commentary_change", "watch_rebuild"))
    targets = {
        "cold build under 3 s": cold < 3.0,
        "nothing changed at least 10x faster than cold": ratios["cold / nothing changed"] >= 10,
        "commentary change at least 3x faster than cold": ratios["cold / commentary change"] >= 3,
        "batch at least 1.6x faster than sequential": ratios["batch speedup over sequential"] >= 1.6,
        "peak memory of a build under 400 MB": peak < 400,
        "a marked copy under 1/50 of a build": ratios["build / marked copy"] >= 50,
    }
    results["ratios"] = ratios
    results["targets_met"] = targets
    (ROOT / "output").mkdir(exist_ok=True)
    (ROOT / "output" / "bench.json").write_text(json.dumps(results, indent=2) + "\n")

    table = report_table(results)
    print("\n" + table)
    _update_readme(table)
    print(f"wrote {ROOT / 'output' / 'bench.json'}")


if __name__ == "__main__":
    main()
