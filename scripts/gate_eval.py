"""The confirming gate on a history with known truth: true slowdowns kept, host blips dropped.

Builds a small git repository whose package is a stand-in for tensorbench's stable entry point
(``tensorbench/asv_support.py``: ``setup_case`` returns a case whose ``run`` is a deterministic
busy loop, as long as that commit says), with ``--commits`` commits of which ``--true`` add
``--step`` extra work to the point (an injected extra loop) and the rest change a comment only.
A results database over the same commits, as a noisy CI runner would record it, shows the true
steps plus ``--blips`` one-off host-drift blips: runs at commits that changed nothing, where
every point moved together by 5-10 %.

Then, as `tensorbench regressions --confirm` does, every candidate change (the true steps and
the blips: what a gate that trusts one run per commit would fail on) is re-measured paired
(last good against first bad commit) with `tensorbench.asv.bisect.confirm`, and each true step
is bisected from the previous true step's commit to the commit before the next one (the blips
lie inside those ranges) with `tensorbench.asv.bisect.bisect`. It also prints what the change
detector flags in the database by itself. Prints the counts and the wall time; exits 1 when a
true step is dropped, more than 10 % of the blips are kept, or a bisection misses.

  .venv/bin/python scripts/gate_eval.py [--commits 50] [--true 10] [--blips 30] [--step 0.10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import namedtuple
from pathlib import Path

import numpy as np

from tensorbench.analysis.asvfile import write_result_file
from tensorbench.analysis.regressions import find_regressions
from tensorbench.analysis.results import load_results
from tensorbench.asv.bisect import bisect, confirm
from tensorbench.asv.paired import PairedConfig
from tensorbench.asv.worker import Point

SUPPORT = '''"""Stand-in for tensorbench's stable entry point: a busy loop this commit sizes."""
from tensorbench import WORK


class Case:
    def __init__(self, n):
        self.n = n

    def run(self):
        total = 0
        for i in range(self.n):
            total += i
        return total


def setup_case(bench, backend, size, dtype, threads=None):
    return Case(WORK)
'''
POINT = Point("matmul", ("numpy:cpu", 64, "float32"))
BENCH = "bench_array.Matmul.time_matmul"
Row = namedtuple("Row", "last_good_commit first_bad_commit kind")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def make_repo(repo: Path, works: list[int]) -> list[str]:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "gate@example.com")
    git(repo, "config", "user.name", "gate")
    (repo / "tensorbench").mkdir()
    (repo / "asv.conf.json").write_text(json.dumps({"version": 1, "project": "gate"}))
    (repo / "tensorbench" / "asv_support.py").write_text(SUPPORT)
    commits = []
    for i, work in enumerate(works):
        (repo / "tensorbench" / "__init__.py").write_text(f"# commit {i}\nWORK = {work}\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"commit {i}: work {work}")
        commits.append(git(repo, "rev-parse", "HEAD"))
    return commits


def write_results(dest: Path, commits: list[str], works: list[int], blips: set[int]) -> None:
    """One run per commit: value proportional to the work, 1 % noise, blips +5-10 %."""
    rng = np.random.default_rng(7)
    params = [["'numpy:cpu'"], ["64"], ["'float32'"]]
    (dest / "m").mkdir(parents=True)
    bench = {"name": BENCH, "type": "time", "unit": "seconds", "version": "1"}
    bench.update(param_names=["backend", "size", "dtype"], params=params)
    (dest / "benchmarks.json").write_text(json.dumps({BENCH: bench, "version": 2}))
    (dest / "m" / "machine.json").write_text(json.dumps({"machine": "m", "version": 1}))
    for i, commit in enumerate(commits):
        host = 1 + rng.uniform(0.05, 0.10) if i in blips else 1.0
        value = works[i] * 2e-8 * host * (1 + 0.01 * rng.standard_normal())
        date = 1_735_689_600_000 + i * 86_400_000
        header = {
            "commit_hash": commit,
            "env_name": "existing-main",
            "date": date,
            "params": {"machine": "m"},
            "python": "3.11",
            "requirements": {},
            "env_vars": {},
            "durations": {},
        }
        row = {"result": [value], "params": params, "version": "1", "started_at": date}
        row["duration"] = 1.0
        write_result_file(dest / "m" / f"{commit[:8]}-existing-main.json", header, {BENCH: row})


def say(line: str) -> None:
    """Progress as it happens (a full run takes most of an hour)."""
    print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commits", type=int, default=50)
    ap.add_argument("--true", type=int, default=10)
    ap.add_argument("--blips", type=int, default=30)
    ap.add_argument("--step", type=float, default=0.10, help="extra work per true step")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    # true steps spaced out (at least 3 commits apart), blips on the other commits
    candidates = np.arange(2, args.commits - 1, 4)
    true_steps = sorted(int(c) + int(rng.integers(0, 2)) for c in candidates[: args.true])
    others = [i for i in range(1, args.commits) if i not in true_steps]
    blips = set(int(b) for b in rng.choice(others, size=args.blips, replace=False))
    works, work = [], 100_000
    for i in range(args.commits):
        work = round(work * (1 + args.step)) if i in true_steps else work
        works.append(work)
    config = PairedConfig()
    python = sys.executable
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="tensorbench-gate-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        commits = make_repo(repo, works)
        write_results(Path(tmp) / "results", commits, works, blips)
        table = load_results(Path(tmp) / "results").table
        flagged = find_regressions(table, kinds=("regression",))
        at = [commits.index(c) for c in flagged["first_bad_commit"] if c in commits]
        detector = {
            "regressions the detector flags by itself": len(flagged),
            "of them at true steps": sum(i in true_steps for i in at),
        }
        rows = [Row(commits[i - 1], commits[i], "true") for i in true_steps]
        rows += [Row(commits[i - 1], commits[i], "blip") for i in sorted(blips)]
        done = confirm(repo, rows, config, lambda _: python, lambda _: POINT, say, False)
        for c, r in zip(done, rows, strict=True):
            res = c.result
            said = (
                f"{res.ratio:.3f} [{res.low:.3f}, {res.high:.3f}], {len(res.log_ratios)} rounds"
                if res is not None
                else c.reason
            )
            say(f"  {r.kind} at {commits.index(r.first_bad_commit)}: {c.status} {said}")
        kept = {
            k: sum(c.status == "confirmed" for c, r in zip(done, rows, strict=True) if r.kind == k)
            for k in ("true", "blip")
        }
        not_measured = [c for c in done if c.status == "not measured"]
        found = []
        bounds = [0, *true_steps, args.commits]
        for j, step in enumerate(true_steps):
            good, bad = commits[bounds[j]], commits[bounds[j + 2] - 1]
            log: list[str] = []

            def step_said(line: str, log: list[str] = log) -> None:
                log.append(line)
                say(f"  {line}")

            out = bisect(repo, POINT, good, bad, config, python, step_said)
            found.append(out.first_bad == commits[step])
            say(f"bisection {j + 1}/{len(true_steps)} of commit {step}: found={found[-1]}")
            if not found[-1]:  # say how the search went wrong
                print(f"bisection of commit {step} missed:", *log, sep="\n  ", file=sys.stderr)
    wall = time.time() - start
    report = {
        "commits": args.commits,
        "true steps": len(true_steps),
        "blips": len(blips),
        "true steps confirmed": kept["true"],
        "blips confirmed (kept)": kept["blip"],
        "blips dropped": len(blips) - kept["blip"],
        "not measured": len(not_measured),
        "bisections that found the true commit": sum(found),
        **detector,
        "wall_s": round(wall),
    }
    for k, v in report.items():
        print(f"{k:45} {v}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    ok = kept["true"] == len(true_steps) and kept["blip"] <= 0.1 * len(blips) and all(found)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
