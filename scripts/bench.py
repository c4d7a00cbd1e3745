"""Measure what a user runs, as processes; write output/bench.json and the README's table.

Every figure comes from this one run on this machine, and every target is a ratio between
commands run in the same round, so a noisy, shared machine moves both sides alike:

- each round runs, one after the other, the naive anchor pipeline (../shared/anchors/naive/), a
  cold `briefgen build --no-cache`, a rebuild with nothing changed, one after a commentary edit,
  one after a market-cap cell edit, and two edits picked up by a running `briefgen watch` (timed
  from outside: from the edit to the new brief.pdf on disk);
- each ratio is the median of the per-round ratios; each time is the median over the rounds;
- after the rounds, the watch is driven to 50 rebuilds and its memory compared with the first;
  then `briefgen distribute` sends to 1,000 clients through the outbox, and `briefgen batch`
  builds a few twice-monthly briefs against the same briefs one process each.

Every command is a new process of the installed `briefgen` program (imports and interpreter exit
included). The machine sets PYTHONDONTWRITEBYTECODE=1 and the bench keeps the environment as it
is, so briefgen's own modules are compiled on every run and the figures include that.

    python scripts/bench.py [--rounds 5] [--copies 1000] [--batch 6]
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BRIEFGEN = [str(Path(PYTHON).with_name("briefgen"))]
ANCHOR = ROOT.parent / "shared" / "anchors" / "naive" / "pipeline.py"
WATCH_REBUILDS = 50
# Run a command as a child; print its wall time, CPU time and peak resident memory (MB).
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
                  "rc": done.returncode, "out": done.stdout[-2000:], "err": done.stderr[-2000:]}))
"""


@dataclass
class Sample:
    seconds: float
    cpu: float
    peak_mb: float
    out: str


def measure(command: list[str], *, cwd: Path = ROOT) -> Sample:
    """Run one command in a fresh process; its wall and CPU seconds and peak memory."""
    done = subprocess.run([PYTHON, "-c", MEASURE, *command], capture_output=True, text=True, cwd=cwd, check=True)
    result = json.loads(done.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{result['out']}\n{result['err']}")
    return Sample(result["seconds"], result["cpu"], result["peak_mb"], result["out"])


def build(inputs: Path, output: Path, *flags: str) -> Sample:
    return measure([*BRIEFGEN, "build", "--inputs", str(inputs), "--output", str(output), *flags])


def edit_commentary(inputs: Path, n: int) -> None:
    outlook = inputs / "commentary" / "outlook.md"
    outlook.write_text(
        outlook.read_text(encoding="utf-8") + f"\nBenchmark edit {n}: one more sentence.\n", encoding="utf-8"
    )


def edit_market_cap(inputs: Path, n: int) -> None:
    """Change one market_cap_usd cell of the last day by a few dollars (a typo fixed by hand)."""
    path = inputs / "market_caps.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    column = rows[0].index("market_cap_usd")
    rows[-1][column] = str(int(float(rows[-1][column])) + 1000 + n)
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (MB), from /proc."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            continue
    return total / 1024


class Watch:
    """A running `briefgen watch`, and the time from an edit to the new brief.pdf on disk."""

    def __init__(self, inputs: Path, output: Path):
        self.pdf = output / "brief.pdf"
        self.proc = subprocess.Popen(
            [*BRIEFGEN, "watch", "--inputs", str(inputs), "--output", str(output)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        self.rebuilds = 0
        self._wait_for(lambda: self.pdf.exists(), 120)
        time.sleep(1.0)  # let the first build finish recording before the first edit

    def _stamp(self) -> tuple[int, int]:
        st = self.pdf.stat()
        return st.st_ino, st.st_mtime_ns

    def _wait_for(self, ready: Callable[[], bool], limit: float) -> None:
        deadline = time.perf_counter() + limit
        while not ready():
            if self.proc.poll() is not None:
                stderr = self.proc.stderr.read().decode() if self.proc.stderr is not None else ""
                raise SystemExit(f"briefgen watch stopped: {stderr[-2000:]}")
            if time.perf_counter() > deadline:
                raise SystemExit("briefgen watch did not write a new brief.pdf in time")
            time.sleep(0.005)

    def latency(self, edit: Callable[[], None]) -> float:
        before = self._stamp()
        start = time.perf_counter()
        edit()
        self._wait_for(lambda: self._stamp() != before, 120)
        seconds = time.perf_counter() - start
        self.rebuilds += 1
        time.sleep(0.3)  # the rebuild records its history after the PDF lands
        return seconds

    def memory_mb(self) -> float:
        return _tree_rss_mb(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def median(values: list[float]) -> float:
    return statistics.median(values)


def bench_rounds(rounds: int, work: Path) -> dict:
    """The interleaved rounds: anchor, cold, the three rebuilds and the two watch edits."""
    inputs, watch_inputs = work / "inputs", work / "watch-inputs"
    shutil.copytree(ROOT / "inputs", inputs)
    shutil.copytree(ROOT / "inputs", watch_inputs)
    warm = work / "warm"
    build(inputs, warm)
    watch = Watch(watch_inputs, work / "watch-out")
    first_memory = None
    rows: dict[str, list] = {
        k: []
        for k in ("anchor", "cold", "unchanged", "commentary", "market_cap", "watch_commentary", "watch_market_cap")
    }
    try:
        for n in range(rounds):
            if ANCHOR.exists():
                rows["anchor"].append(
                    measure([PYTHON, str(ANCHOR), str(work / f"naive-{n}.pdf"), "--mode", "serial"], cwd=ANCHOR.parent)
                )
            rows["cold"].append(build(inputs, work / f"cold-{n}", "--no-cache"))
            unchanged = build(inputs, warm)
            assert "nothing changed" in unchanged.out, unchanged.out
            rows["unchanged"].append(unchanged)
            edit_commentary(inputs, n)
            rows["commentary"].append(build(inputs, warm))
            edit_market_cap(inputs, n)
            rows["market_cap"].append(build(inputs, warm))
            rows["watch_commentary"].append(watch.latency(functools.partial(edit_commentary, watch_inputs, n)))
            if first_memory is None:
                first_memory = watch.memory_mb()
            rows["watch_market_cap"].append(watch.latency(functools.partial(edit_market_cap, watch_inputs, n)))
        while watch.rebuilds < WATCH_REBUILDS:
            k = watch.rebuilds
            watch.latency(functools.partial(edit_market_cap if k % 3 == 2 else edit_commentary, watch_inputs, 100 + k))
        last_memory = watch.memory_mb()
    finally:
        watch.stop()
    cold = rows["cold"]
    result: dict = {
        "cold_build": _times(cold),
        "nothing_changed": _times(rows["unchanged"]),
        "commentary_edit": _times(rows["commentary"]),
        "market_cap_edit": _times(rows["market_cap"]),
        "watch_commentary_edit": {
            "median_s": round(median(rows["watch_commentary"]), 3),
            "runs_s": [round(t, 3) for t in rows["watch_commentary"]],
        },
        "watch_market_cap_edit": {
            "median_s": round(median(rows["watch_market_cap"]), 3),
            "runs_s": [round(t, 3) for t in rows["watch_market_cap"]],
        },
        "watch_memory": {
            "after_first_mb": round(first_memory or 0, 1),
            f"after_{WATCH_REBUILDS}_mb": round(last_memory, 1),
        },
        "ratios": {
            "nothing changed / cold": _ratio([s.seconds for s in rows["unchanged"]], cold),
            "commentary edit / cold": _ratio([s.seconds for s in rows["commentary"]], cold),
            "market-cap edit / cold": _ratio([s.seconds for s in rows["market_cap"]], cold),
            "watch commentary edit / cold": _ratio(rows["watch_commentary"], cold),
            "watch market-cap edit / cold": _ratio(rows["watch_market_cap"], cold),
            f"watch memory after {WATCH_REBUILDS} / after 1": round(last_memory / (first_memory or last_memory), 3),
        },
    }
    if rows["anchor"]:
        result["naive_anchor"] = _times(rows["anchor"])
        result["ratios"]["cold / naive anchor, wall"] = _ratio([s.seconds for s in cold], rows["anchor"])
        result["ratios"]["cold / naive anchor, CPU"] = round(
            median([c.cpu / a.cpu for c, a in zip(cold, rows["anchor"], strict=True)]), 3
        )
    return result


def _times(samples: list[Sample]) -> dict:
    return {
        "median_s": round(median([s.seconds for s in samples]), 3),
        "runs_s": [round(s.seconds, 3) for s in samples],
        "median_cpu_s": round(median([s.cpu for s in samples]), 3),
        "peak_mb": round(max(s.peak_mb for s in samples), 1),
    }


def _ratio(values: list[float], against: list[Sample]) -> float:
    """The median of the per-round ratios value / against."""
    return round(median([v / a.seconds for v, a in zip(values, against, strict=True)]), 3)


def bench_distribute(copies: int, work: Path, cold_s: float) -> dict:
    """`briefgen distribute` to `copies` clients through the outbox, end to end, one process."""
    inputs = work / "dist-inputs"
    shutil.copytree(ROOT / "inputs", inputs)
    output = work / "dist-out"
    # The desk's disclosures (the shipped text without its placeholder marker), so the build can be published.
    from briefgen.resources import TEMPLATES_DIR

    desk = work / "desk-templates"
    (desk / "partials").mkdir(parents=True)
    shipped = (TEMPLATES_DIR / "partials" / "disclosures.html").read_text(encoding="utf-8")
    (desk / "partials" / "disclosures.html").write_text(
        "".join(line for line in shipped.splitlines(keepends=True) if "briefgen:disclosures-placeholder" not in line),
        encoding="utf-8",
    )
    build(inputs, output, "--templates", str(desk))
    measure(
        [*BRIEFGEN, "publish", "--inputs", str(inputs), "--output", str(output), "--approved-by", "Bench Supervisor"]
    )
    clients = inputs / "clients.csv"
    with clients.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["client_id", "name", "firm", "email", "password"])
        for i in range(copies):
            writer.writerow(
                [
                    f"c{i:04d}",
                    f"Client {i}",
                    f"Fund {i % 37}",
                    f"client{i}@example.com",
                    f"secret-{i}" if i % 10 == 0 else "",
                ]
            )
    sample = measure(
        [
            *BRIEFGEN,
            "distribute",
            "--clients",
            str(clients),
            "--output",
            str(output),
            "--via",
            "outbox",
            "--from",
            "Mining desk <desk@example.com>",
        ]
    )
    per_copy = sample.seconds / copies
    return {
        "copies": copies,
        "encrypted": copies // 10,
        "seconds": round(sample.seconds, 2),
        "ms_per_copy": round(per_copy * 1000, 2),
        "peak_mb": round(sample.peak_mb, 1),
        "cold_per_copy": round(cold_s / per_copy, 1),
    }


def bench_batch(count: int, work: Path) -> dict:
    """`briefgen batch` of `count` twice-monthly briefs against the same briefs one process each."""
    days: list[date] = []
    day = date(2026, 1, 15)
    while len(days) < count:
        if day.day == 15 or (day + timedelta(days=1)).day == 1:
            days.append(day)
        day -= timedelta(days=1)
    days.sort()
    inputs = str(ROOT / "inputs")
    one_by_one = [
        measure(
            [
                *BRIEFGEN,
                "batch",
                "--as-of",
                d.isoformat(),
                "--inputs",
                inputs,
                "--output",
                str(work / "one" / d.isoformat()),
                "--jobs",
                "1",
            ]
        )
        for d in days
    ]
    jobs = os.cpu_count() or 1
    batch = measure(
        [
            *BRIEFGEN,
            "batch",
            "--as-of",
            ",".join(d.isoformat() for d in days),
            "--inputs",
            inputs,
            "--output",
            str(work / "batch"),
            "--jobs",
            str(jobs),
        ]
    )
    sequential = sum(s.seconds for s in one_by_one)
    return {
        "briefs": len(days),
        "jobs": jobs,
        "one_by_one_s": round(sequential, 2),
        "batch_s": round(batch.seconds, 2),
        "speedup": round(sequential / batch.seconds, 2),
    }


def targets(results: dict) -> dict[str, bool]:
    r = results["ratios"]
    met = {
        "rebuild after one market-cap cell <= 0.35x cold": r["market-cap edit / cold"] <= 0.35,
        "rebuild after a commentary edit <= 0.25x cold": r["commentary edit / cold"] <= 0.25,
        "nothing changed <= 0.05x cold": r["nothing changed / cold"] <= 0.05,
        "watch, commentary edit -> new PDF <= 0.3x cold": r["watch commentary edit / cold"] <= 0.3,
        "watch, market-cap cell -> new PDF <= 0.4x cold": r["watch market-cap edit / cold"] <= 0.4,
        f"watch memory after {WATCH_REBUILDS} rebuilds <= 1.15x after the first": r[
            f"watch memory after {WATCH_REBUILDS} / after 1"
        ]
        <= 1.15,
        "distribute, 1,000 clients via the outbox: a copy <= 1/300 of a cold build": results["distribute"][
            "cold_per_copy"
        ]
        >= 300,
        "peak memory of a cold build <= 200 MB": results["cold_build"]["peak_mb"] <= 200,
        "batch at least 1.6x faster than one by one": results["batch"]["speedup"] >= 1.6,
    }
    if "cold / naive anchor, wall" in r:
        met["cold build <= 0.85x the naive anchor's wall time"] = r["cold / naive anchor, wall"] <= 0.85
        met["cold build <= 1.0x the naive anchor's CPU time"] = r["cold / naive anchor, CPU"] <= 1.0
    return met


def report_table(results: dict) -> str:
    """The figures as the Markdown table the README shows."""
    lines = ["| measure | median | CPU | peak memory |", "| --- | --- | --- | --- |"]
    named = [
        ("naive_anchor", "naive anchor pipeline (../shared/anchors)"),
        ("cold_build", "cold build (--no-cache)"),
        ("nothing_changed", "rebuild, nothing changed"),
        ("commentary_edit", "rebuild after a commentary edit"),
        ("market_cap_edit", "rebuild after one market-cap cell"),
    ]
    for key, label in named:
        if key in results:
            r = results[key]
            lines.append(f"| {label} | {r['median_s']:.2f} s | {r['median_cpu_s']:.2f} s | {r['peak_mb']:.0f} MB |")
    for key, label in (
        ("watch_commentary_edit", "watch: commentary edit -> new PDF"),
        ("watch_market_cap_edit", "watch: market-cap cell -> new PDF"),
    ):
        lines.append(f"| {label} | {results[key]['median_s']:.2f} s | | |")
    m = results["watch_memory"]
    lines.append(
        f"| watch memory, after 1 and {WATCH_REBUILDS} rebuilds | | | {m['after_first_mb']:.0f} -> "
        f"{m[f'after_{WATCH_REBUILDS}_mb']:.0f} MB |"
    )
    d = results["distribute"]
    lines.append(
        f"| distribute to {d['copies']:,} clients via the outbox ({d['encrypted']} encrypted), a copy | "
        f"{d['ms_per_copy']:.1f} ms | | {d['peak_mb']:.0f} MB |"
    )
    b = results["batch"]
    lines.append(
        f"| {b['briefs']} briefs one process each / as one batch ({b['jobs']} jobs) | "
        f"{b['one_by_one_s']:.1f} s / {b['batch_s']:.1f} s | | |"
    )
    lines.append("")
    lines += [f"- {name}: {value}" for name, value in results["ratios"].items()]
    lines.append(f"- cold build / a distributed copy: {d['cold_per_copy']}")
    lines.append(f"- batch speedup over one by one: {b['speedup']}")
    lines += [f"- {'met' if ok else 'MISSED'}: {target}" for target, ok in results["targets_met"].items()]
    machine = results["machine"]
    lines.append(
        f"\nMeasured on {machine['cores']} cores, Python {machine['python']}, {results['rounds']} interleaved "
        f"rounds (medians of per-round ratios), PYTHONDONTWRITEBYTECODE={machine['dont_write_bytecode']}."
    )
    return "\n".join(lines)


def _update_readme(table: str) -> None:
    """Replace the table between the README's bench markers with this run's."""
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, end = "<!-- bench -->", "<!-- /bench -->"
    if start not in text:
        return
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1] if end in rest else rest
    readme.write_text(f"{head}{start}\n{table}\n{end}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--copies", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=6)
    args = parser.parse_args()
    results: dict = {
        "machine": {
            "cores": os.cpu_count(),
            "python": sys.version.split()[0],
            "dont_write_bytecode": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
        },
        "rounds": args.rounds,
    }
    if not ANCHOR.exists():
        print(f"{ANCHOR} is absent: the anchor line is skipped", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"{args.rounds} interleaved rounds of builds, rebuilds and watch edits ...", file=sys.stderr)
        results.update(bench_rounds(args.rounds, work))
        print(f"distributing to {args.copies} clients ...", file=sys.stderr)
        results["distribute"] = bench_distribute(args.copies, work, results["cold_build"]["median_s"])
        print(f"a batch of {args.batch} briefs against one by one ...", file=sys.stderr)
        results["batch"] = bench_batch(args.batch, work)
    results["targets_met"] = targets(results)
    (ROOT / "output").mkdir(exist_ok=True)
    (ROOT / "output" / "bench.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    table = report_table(results)
    print("\n" + table)
    _update_readme(table)
    print(f"wrote {ROOT / 'output' / 'bench.json'}")


if __name__ == "__main__":
    main()
