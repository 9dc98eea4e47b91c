"""Process luck and variance components: how far a point's number moves between fresh processes.

For each point it runs ``--runs`` fresh ``tensorbench time --json`` commands (each pooling
``--processes`` processes, the command's default) and, interleaved with them (which goes first
alternates from run to run, so that a drifting host favours neither), as many fresh processes
timing the same validated callable with the framework's own timer
(``tensorbench.audit.native_seconds``: torch.utils.benchmark.Timer, timeit with waitall or
block_until_ready), pooled by their median. It prints, per point, max/min of both over the
runs; max/min and the log SD of single processes, ours (each process's median) beside the
framework's timer's; and the variance components of our harness from every worker process
the runs pooled (Kalibera & Jones): the spread of samples within a process and of process
medians between processes, as log SDs, and how many processes a 95 % interval of +-2 %
needs. Nothing else may run meanwhile (2 cores).

  .venv/bin/python scripts/process_luck.py [--runs 10] [--points numpy-matmul-128 ...] [--out docs/process-luck.md]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHONS = {"main": REPO / ".venv/bin/python", "mxnet": REPO / ".venv-mxnet/bin/python"}

# name -> (env, workload, backend, size)
POINTS = {
    "numpy-matmul-128": ("main", "matmul", "numpy", 128),
    "torch-matmul-128": ("main", "matmul", "torch", 128),
    "torch-pagerank-12": ("main", "pagerank", "torch", 12),
    "numpy-dispatch": ("main", "dispatch", "numpy", 16),
    "torch-dispatch": ("main", "dispatch", "torch", 16),
    "mxnet-dispatch": ("mxnet", "dispatch", "mxnet", 16),
    "torch-mlp_step-256": ("main", "mlp_step", "torch", 256),
}

NATIVE = """
import json, sys
from tensorbench import threads
threads.set_threads(None)
from tensorbench.audit import native_seconds
from tensorbench.cases import Case, prepare
wl, be, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = prepare(Case(wl, be, size=size))
s, how = native_seconds(be, p.fn, threads.current_threads())
print(json.dumps({"native_s": s, "how": how}))
"""


def ours(env: str, workload: str, backend: str, size: int, target_s: float) -> dict:
    cmd = [str(PYTHONS[env]), "-m", "tensorbench.cli", "time", workload, "--backend", backend]
    cmd += ["--size", str(size), "--json", "--target-seconds", str(target_s)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO).stdout
    return json.loads(out)


def native(env: str, workload: str, backend: str, size: int) -> float:
    cmd = [str(PYTHONS[env]), "-c", NATIVE, workload, backend, str(size)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO).stdout
    return json.loads(out.strip().splitlines()[-1])["native_s"]


def components(results: list[dict]) -> dict[str, float]:
    """Within- and between-process log SDs from every pooled process's samples."""
    within, medians = [], []
    counts = []
    for r in results:
        for samples, median in zip(r["process_samples_s"], r["process_medians_s"], strict=True):
            within.append(statistics.variance([math.log(x) for x in samples]))
            medians.append(math.log(median))
            counts.append(len(samples))
    s_w2 = statistics.fmean(within)
    n = statistics.fmean(counts)
    s_b2 = max(statistics.variance(medians) - s_w2 / n, 0.0)  # the median's own noise removed
    total = statistics.variance(medians)
    need = math.ceil((1.96 * math.sqrt(total) / math.log(1.02)) ** 2)
    return {"within": math.sqrt(s_w2), "between": math.sqrt(s_b2), "processes_for_2pct": need}


def log_sd(values: list[float]) -> float:
    """The SD of ``log(values)``: a spread as a share, comparable across points."""
    return statistics.stdev([math.log(v) for v in values])


def summarise(name: str, raw: list[dict], native_runs: list[list[float]]) -> dict:
    """One point's row: ``raw`` are our runs' `time --json` outputs, ``native_runs`` the
    framework's timer's per-process seconds of the same runs (as many processes as ours)."""
    mine = [r["value_s"] for r in raw]
    theirs = [statistics.median(n) for n in native_runs]
    my_procs = [m for r in raw for m in r["process_medians_s"]]
    their_procs = [n for ns in native_runs for n in ns]
    return {
        "point": name,
        "ours_median_us": statistics.median(mine) * 1e6,
        "ours_max_min": max(mine) / min(mine),
        "native_median_us": statistics.median(theirs) * 1e6,
        "native_max_min": max(theirs) / min(theirs),
        "ours_process_max_min": max(my_procs) / min(my_procs),
        "native_process_max_min": max(their_procs) / min(their_procs),
        "ours_process_sd": log_sd(my_procs),
        "native_process_sd": log_sd(their_procs),
        **components(raw),
    }


def table(rows: list[dict]) -> str:
    header = (
        "| point | ours, median µs | ours max/min | native, median µs | native max/min "
        "| one process max/min: ours, native | between processes log SD: ours, native "
        "| within-process log SD | between-process log SD | processes for ±2 % |"
    )
    lines = [header, "|" + "---|" * 10]
    for r in rows:
        lines.append(
            f"| {r['point']} | {r['ours_median_us']:.1f} | {r['ours_max_min']:.3f} "
            f"| {r['native_median_us']:.1f} | {r['native_max_min']:.3f} "
            f"| {r['ours_process_max_min']:.3f}, {r['native_process_max_min']:.3f} "
            f"| {r['ours_process_sd'] * 100:.1f} %, {r['native_process_sd'] * 100:.1f} % "
            f"| {r['within'] * 100:.1f} % | {r['between'] * 100:.1f} % "
            f"| {r['processes_for_2pct']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--points", nargs="*", default=list(POINTS), choices=list(POINTS))
    ap.add_argument("--target-seconds", type=float, default=0.5)
    ap.add_argument("--out", type=Path, default=None, help="write the table here (markdown)")
    args = ap.parse_args(argv)
    rows = []
    start = time.time()
    for name in args.points:
        env, workload, backend, size = POINTS[name]
        raw: list[dict] = []
        native_runs: list[list[float]] = []
        for i in range(args.runs):
            if i % 2:  # the framework's timer first in odd runs: drift favours neither side
                first = [native(env, workload, backend, size)]
                r = ours(env, workload, backend, size, args.target_seconds)
            else:
                first = []
                r = ours(env, workload, backend, size, args.target_seconds)
            rest = [
                native(env, workload, backend, size) for _ in range(r["processes"] - len(first))
            ]
            raw.append(r)
            native_runs.append(first + rest)
            print(
                f"{name} run {i + 1}: ours {r['value_s'] * 1e6:.1f} us "
                f"(processes {', '.join(f'{m * 1e6:.1f}' for m in r['process_medians_s'])}), "
                f"native {statistics.median(native_runs[-1]) * 1e6:.1f} us "
                f"(processes {', '.join(f'{m * 1e6:.1f}' for m in native_runs[-1])})",
                file=sys.stderr,
                flush=True,
            )
        rows.append(summarise(name, raw, native_runs))
    text = table(rows)
    print(text)
    took = f"{args.runs} runs per point, {time.time() - start:.0f} s in all"
    print(f"\n{took}")
    if args.out:  # the page says when, where and how, so a stranger can rerun it
        intro = (
            "# Process luck: a point's value over fresh processes\n\n"
            f"`scripts/process_luck.py --runs {args.runs}` on {time.strftime('%Y-%m-%d')}, "
            f'{_cpu()}, nothing else running: {took}. "ours" is `tensorbench time --json` '
            '(each run pools its default processes); "native" is the framework\'s own timer '
            "in as many fresh processes, interleaved with ours (which goes first alternates), "
            "pooled by their median. The one-process columns take every process of the runs "
            "on its own: each of our processes' median, each of the framework's timer's "
            "processes.\n\n"
        )
        args.out.write_text(intro + text + "\n")
    return 0


def _cpu() -> str:
    """The CPU's model name and count (results here are filed per CPU)."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    return f"{model}, {os.cpu_count()} CPUs"


if __name__ == "__main__":
    sys.exit(main())
