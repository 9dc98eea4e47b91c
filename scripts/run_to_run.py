"""Run-to-run spread: the coefficient of variation of each point's median over repeated runs.

Give it two or more copies of result files from repeated runs of the same suite (folders or
files; asv result JSON as `tensorbench run` writes it). For every timed point present in all of
them it takes the median each run recorded, then the CV (sample standard deviation / mean)
across runs, and prints the distribution per environment and backend, and the points above the
limit (default 3 %) among those of at least 10 µs.

Usage: python scripts/run_to_run.py RUN1 RUN2 ... [--limit 0.03] [--min-seconds 1e-5] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

from tensorbench.analysis.asvfile import combinations, param_value, read_result_file

REPO = Path(__file__).resolve().parents[1]


def benchmark_types(path: Path) -> dict[str, str]:
    """benchmark -> asv's type ("time", "peakmemory", "track"), from the benchmarks.json asv
    wrote beside the machine folder holding ``path`` (else the project's own: asv's names
    never change)."""
    for folder in (path.parent, path.parent.parent, REPO / "results"):
        spec = folder / "benchmarks.json"
        if spec.is_file():
            data = json.loads(spec.read_text())
            return {k: v.get("type") for k, v in data.items() if isinstance(v, dict)}
    return {}


def medians(path: Path) -> dict[tuple[str, str, tuple[str, ...]], float]:
    """(env, benchmark, parameter texts) -> median seconds, for every timed, non-null point of
    a file."""
    rf = read_result_file(path)
    types = benchmark_types(path)
    out = {}
    for name, row in rf.rows.items():
        if types.get(name) != "time":
            continue
        for combo, value in zip(combinations(row["params"]), row["result"], strict=False):
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                out[(rf.header["env_name"], name, combo)] = float(value)
    return out


def run_files(arg: str) -> list[Path]:
    p = Path(arg)
    files = sorted(p.glob("*.json")) if p.is_dir() else [p]
    return [f for f in files if f.name not in ("machine.json", "benchmarks.json")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--limit", type=float, default=0.03)
    ap.add_argument("--min-seconds", type=float, default=1e-5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    runs = []
    for arg in args.runs:
        merged: dict = {}
        for f in run_files(arg):
            merged.update(medians(f))
        runs.append(merged)
    common = set.intersection(*(set(r) for r in runs))
    rows = []
    for key in sorted(common):
        values = [r[key] for r in runs]
        mean = statistics.fmean(values)
        cv = statistics.stdev(values) / mean if len(values) > 1 and mean > 0 else 0.0
        backend = str(param_value(key[2][0])) if key[2] else ""
        rows.append(
            {
                "env": key[0],
                "benchmark": key[1],
                "params": ", ".join(key[2]),
                "backend": backend,
                "median_s": statistics.median(values),
                "cv": cv,
            }
        )
    timed = [r for r in rows if r["median_s"] >= args.min_seconds]
    over = [r for r in timed if r["cv"] > args.limit]
    if args.json:
        print(json.dumps({"runs": len(runs), "points": len(timed), "over_limit": over}))
    else:
        print(
            f"{len(runs)} runs, {len(timed)} points >= {args.min_seconds * 1e6:g} us "
            f"present in all; CV of the median per point:"
        )
        groups: dict[tuple[str, str], list[float]] = {}
        for r in timed:
            groups.setdefault((r["env"], r["backend"]), []).append(r["cv"])
        print(f"{'env':16} {'backend':14} {'points':>6} {'median':>7} {'p90':>7} {'max':>7}")
        for (env, backend), cvs in sorted(groups.items()):
            cvs.sort()
            p90 = cvs[min(len(cvs) - 1, int(0.9 * len(cvs)))]
            print(
                f"{env:16} {backend:14} {len(cvs):6d} {statistics.median(cvs):7.2%} "
                f"{p90:7.2%} {cvs[-1]:7.2%}"
            )
        print(f"\n{len(over)} of {len(timed)} points above {args.limit:.0%}:")
        for r in sorted(over, key=lambda r: -r["cv"]):
            print(
                f"  {r['cv']:6.2%}  {r['env']} {r['benchmark']}({r['params']}) "
                f"median {r['median_s'] * 1e6:.1f} us"
            )
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
