"""Timing audit: asv's numbers (through benchmarks/) against each framework's own timer.

For every CPU backend of this environment (numpy, torch, jax, mxnet) it runs asv exactly as
`tensorbench run` does (existing environment, the suite's thread count) on a fixed set of points,
into a throwaway results folder. With $TENSORBENCH_AUDIT_LOG set, each benchmark process also
times the same validated callable with the framework's own tool, same threads, right before
and right after asv's samples (tensorbench/audit.py says which tool per framework, and why
in-process); the reference is the geometric mean of the two, so drift of the host during asv's
window cancels instead of reading as harness error.

It prints one line per point (asv median, reference, ratio, asv's calls per sample, how far the
reference moved from before to after; asv's own output comes first, hidden with --json) and
exits 1 when a ratio is outside 1 +- tolerance (default 10%), 3 when asv could not run.
With --with-time it also runs `tensorbench time` on each point (fresh processes, pooled) and
prints its value and 95 % interval beside asv's and the reference: the three must agree.

With --rounds R (>= 2) the whole audit repeats R times, `tensorbench time` after asv in even
rounds and before it in odd ones, and each point gets paired ratios over the rounds: time/asv
and framework's timer/asv with their 95 % interval and verdict (tensorbench.analysis.paired, as
`compare --paired`; a round is the pair). One round's two figures differ by the luck of their
own processes and minutes; rounds show whether the entry points differ beyond that.

Usage (one environment per call; --env all runs both of the project's environments):
  .venv/bin/python scripts/audit_timing.py [--env all] [--backend B ...] [--threads N] [--json]
      [--with-time [--rounds R] [--time-processes P]]
Run it alone on the machine: any other load makes the comparison meaningless.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
GRAPH_DIR = REPO.parent / "shared" / "data" / "graphs"
BACKENDS = ("numpy", "torch", "jax", "mxnet")
# The audited points: (grid key, size, dtype). gcn_step_real needs the real Cora graph.
POINTS = (
    ("matmul", 128, "float32"),
    ("matmul", 512, "float32"),
    ("matmul", 2048, "float32"),
    ("conv2d", 32, "float32"),
    ("dispatch", 16, "float32"),
    ("mlp_step", 256, "float32"),
    ("pagerank", 12, "float32"),
    ("gcn_step_real", "cora", "float32"),
)


def suite_file(backend: str, folder: Path, with_graphs: bool) -> Path:
    """A suite selecting the audited points of one backend."""
    lines = ['name = "audit"', 'description = "timing audit points"']
    by_key: dict[str, list] = {}
    for key, size, dtype in POINTS:
        if not isinstance(size, str) or with_graphs:
            by_key.setdefault(key, []).append((size, dtype))
    for key, points in by_key.items():
        lines += [
            f"[workloads.{key}]",
            f"sizes = {json.dumps([s for s, _ in points])}",
            f"dtypes = {json.dumps(sorted({d for _, d in points}))}",
            f'backends = ["{backend}:cpu"]',
        ]
    path = folder / f"audit-{backend}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_asv(
    backend: str,
    folder: Path,
    threads: int,
    graph_dir: Path | None,
    audit_log: Path,
    quiet: bool = False,
    launch_method: str | None = None,
) -> dict:
    """asv on the backend's points here; {(key, backend, size, dtype): (median, number)}.
    ``quiet`` hides asv's progress (stdout carries --json's lines then)."""
    from tensorbench.asv import process
    from tensorbench.asv.run import read_asv_conf, suite_bench_regex
    from tensorbench.asv.suites import load_suite

    suite_path = suite_file(backend, folder, graph_dir is not None)
    conf = read_asv_conf(REPO / "asv.conf.json")
    results = folder / f"results-{backend}"
    conf.update(
        repo=str(REPO),
        benchmark_dir=str(REPO / "benchmarks"),
        results_dir=str(results),
        env_dir=str(folder / "env"),
        html_dir=str(folder / "html"),
    )
    if launch_method:
        conf["launch_method"] = launch_method
    conf_path = folder / "asv.conf.json"
    conf_path.write_text(json.dumps(conf))
    env = dict(
        os.environ,
        HOME=str(folder),  # asv's machine file goes to this throwaway home, not the user's
        TENSORBENCH_SUITE=str(suite_path),
        TENSORBENCH_THREADS=str(threads),
        TENSORBENCH_AUDIT_LOG=str(audit_log),
    )
    if graph_dir is not None:
        env["TENSORBENCH_GRAPH_DIR"] = str(graph_dir)
    machine = ["machine", "--yes", "--machine", "audit", "--config", str(conf_path)]
    cmd = ["run", "--config", str(conf_path), "-E", f"existing:{sys.executable}"]
    cmd += ["--set-commit-hash", process.git("rev-parse", "HEAD", cwd=REPO)]
    cmd += ["--machine", "audit", "--show-stderr"]
    cmd += ["--bench", suite_bench_regex(load_suite(str(suite_path)))]
    try:
        process.run_asv(machine, cwd=REPO, env=env, quiet=True)
        code = process.run_asv(cmd, cwd=REPO, env=env, quiet=quiet)
    except process.AsvError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(3) from None
    files = [p for p in results.glob("audit/*.json") if p.name != "machine.json"]
    if not files:
        hint = " (run without --json to see its output)" if quiet else ""
        print(f"error: asv run exited {code} and wrote no result{hint}", file=sys.stderr)
        raise SystemExit(3)
    return timed_points(files[0], results / "benchmarks.json")


def timed_points(path: Path, benchmarks_json: Path) -> dict[tuple, tuple[Any, Any]]:
    """(grid key, backend, size, dtype) -> (asv's value, its calls per sample) for each timed
    point of one result file; benchmarks.json says which benchmarks are timed."""
    from tensorbench.analysis.asvfile import (
        benchmark_kind,
        combinations,
        param_value,
        read_result_file,
    )
    from tensorbench.asv.grid import grid_key

    rf = read_result_file(path)
    # what each benchmark is, as stored: its kind by asv, its grid entry by the package
    specs = json.loads(benchmarks_json.read_text())
    out = {}
    for name, row in rf.rows.items():
        key = grid_key(name)
        if key is None or benchmark_kind(name, specs.get(name)) != "time":
            continue
        for combo, value, number in zip(
            combinations(row["params"]), row["result"], row["stats_number"], strict=False
        ):
            out[(key, *(param_value(v) for v in combo[:3]))] = (value, number)
    return out


def audit_backend(backend: str, args: argparse.Namespace, folder: Path) -> list[dict]:
    graph_dir = Path(args.graph_dir) if args.graph_dir and Path(args.graph_dir).is_dir() else None
    log = folder / f"native-{backend}.jsonl"
    ours = run_asv(
        backend,
        folder,
        args.threads,
        graph_dir,
        log,
        quiet=args.json,
        launch_method=args.launch_method,
    )
    native: dict[tuple, list[dict]] = {}
    for line in log.read_text().splitlines() if log.exists() else []:
        rec = json.loads(line)
        native.setdefault((rec["bench"], rec["size"], rec["dtype"]), []).append(rec)
    rows = []
    for key, size, dtype in POINTS:
        measured = ours.get((key, f"{backend}:cpu", size, dtype))
        refs = native.get((key, size, dtype))
        if measured is None or measured[0] is None or not refs:
            continue
        asv_s, number = measured
        before = [r["native_s"] for r in refs if r.get("when", "before") == "before"]
        after = [r["native_s"] for r in refs if r.get("when") == "after"]
        # The framework's timer ran just before and just after asv's samples (one of each per
        # asv process): their geometric mean is the reference for asv's window, and after/before
        # is how far this host drifted during it, printed beside the ratio.
        if not before:
            continue
        bracket = [statistics.median(before)] + ([statistics.median(after)] if after else [])
        ref = statistics.geometric_mean(bracket)
        drift = bracket[-1] / bracket[0] if after else None
        ratio = asv_s / ref
        rows.append(
            {
                "env": args.env_label,
                "backend": backend,
                "point": f"{key} {size} {dtype}",
                "asv_s": asv_s,
                "asv_number": number,
                "reference_s": ref,
                "reference_before_s": bracket[0],
                "reference_after_s": bracket[1] if after else None,
                "native_drift": round(drift, 3) if drift else None,
                "reference": refs[0]["how"],
                "threadpools": refs[0].get("threadpools"),
                "thread_env": refs[0].get("thread_env"),
                "ratio": round(ratio, 3),
                "ok": abs(ratio - 1) <= args.tolerance,
            }
        )
    return rows


def cli_time(backend: str, point: str, args: argparse.Namespace) -> tuple[float, list] | None:
    """`tensorbench time` on one point in fresh processes (the CLI's own pooling): value, 95 %
    interval; None when it failed."""
    from tensorbench.asv.grid import GRID

    key, size, dtype = point.split()
    workload = GRID[key].workload
    where = (
        ["--graph", str(Path(args.graph_dir) / size)] if not size.isdigit() else ["--size", size]
    )
    cmd = [sys.executable, "-m", "tensorbench.cli", "--threads", str(args.threads), "time"]
    cmd += [workload, "--backend", backend, "--dtype", dtype, *where, "--json"]
    if args.time_processes:
        cmd += ["--processes", str(args.time_processes)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        return None
    result = json.loads(done.stdout)
    return result["value_s"], result["ci95_s"]


def audit_round(wanted: list[str], args: argparse.Namespace, index: int) -> list[dict]:
    """One round: asv on every backend's points, then `tensorbench time` on each (with
    --with-time); odd rounds time first, so over a pair of rounds a linear drift of the host
    weighs on both entry points alike."""
    graphs = bool(args.graph_dir) and Path(args.graph_dir).is_dir()
    early: dict[tuple[str, str], tuple | None] = {}
    if args.with_time and index % 2 == 1:
        for backend in wanted:
            for key, size, dtype in POINTS:
                if graphs or not isinstance(size, str):
                    point = f"{key} {size} {dtype}"
                    early[(backend, point)] = cli_time(backend, point, args)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="tensorbench-audit-") as tmp:
        for backend in wanted:
            rows += audit_backend(backend, args, Path(tmp))
    for r in rows:
        r["round"] = index
        if args.with_time:
            key = (r["backend"], r["point"])
            got = early.get(key) if index % 2 == 1 else cli_time(*key, args)
            if got is not None:
                r["time_s"], r["time_ci"] = got
    return rows


def agreement(rows: list[dict], same_within: float) -> list[dict]:
    """Per point over the rounds: the paired ratios time/asv and framework's timer/asv, each
    with its 95 % interval (rounds are the pairs: both figures of a round come from the same
    minutes) and whether that interval holds 1 (no difference this many rounds can see)."""
    from tensorbench.analysis.paired import paired_from_rounds

    by_point: dict[tuple[str, str, str], list[dict]] = {}
    for r in rows:
        by_point.setdefault((r["env"], r["backend"], r["point"]), []).append(r)
    out = []
    for (env, backend, point), got in by_point.items():
        row: dict[str, Any] = {"env": env, "backend": backend, "point": point}
        asv = [[r["asv_s"]] for r in got]
        for name, field in (("time", "time_s"), ("reference", "reference_s")):
            other = [[r[field]] if r.get(field) else [] for r in got]
            if sum(1 for o in other if o) < 2:
                continue
            res = paired_from_rounds(asv, other, same_within=same_within)
            row[f"{name}_vs_asv"] = {
                **res.to_dict(),
                "holds_1": bool(res.low <= 1 <= res.high),
            }
        out.append(row)
    return out


def print_agreement(table: list[dict]) -> None:
    for row in table:
        parts = []
        for name in ("reference", "time"):
            res = row.get(f"{name}_vs_asv")
            if res:
                parts.append(
                    f"{name}/asv {res['ratio']:.3f} [{res['low']:.3f}, {res['high']:.3f}]"
                    f" {res['verdict']}{'' if res['holds_1'] else ' (excludes 1)'}"
                )
        print(f"{row['env']:6} {row['backend']:6} {row['point']:28} " + "  ".join(parts))
    for name in ("reference", "time"):
        have = [row[f"{name}_vs_asv"] for row in table if f"{name}_vs_asv" in row]
        if have:
            holds = sum(r["holds_1"] for r in have)
            same = sum(r["verdict"] == "same" for r in have)
            print(
                f"{name}/asv over {have[0]['rounds']} rounds: interval holds 1 at {holds} of "
                f'{len(have)} points, "same" within {have[0]["same_within"]:.0%} at {same}'
            )


def without_env(argv: list[str]) -> list[str]:
    """``argv`` less its ``--env X`` (or ``--env=X``): only that, a backend named like an
    environment (``--backend mxnet``) stays."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--env":
            skip = True
        elif not a.startswith("--env="):
            out.append(a)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--env", choices=("here", "main", "mxnet", "all"), default="here")
    p.add_argument("--backend", action="append", choices=BACKENDS)
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--tolerance", type=float, default=0.10)
    p.add_argument("--graph-dir", default=str(GRAPH_DIR))
    p.add_argument("--json", action="store_true")
    p.add_argument("--point", action="append", help='only this point, e.g. "matmul 128"')
    p.add_argument("--with-time", action="store_true", help="also run `tensorbench time`")
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="repeat the audit; from 2 rounds on, print paired ratios with intervals per point",
    )
    p.add_argument(
        "--time-processes", type=int, help="processes per `tensorbench time` (default: its own)"
    )
    p.add_argument("--same-within", type=float, default=0.02, help="the paired verdict's band")
    p.add_argument(
        "--launch-method",
        choices=("forkserver", "spawn"),
        help="asv's way of starting benchmark processes (default: asv.conf.json's)",
    )
    p.add_argument("--env-label", default="here", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.env != "here":  # re-run this script in each environment's interpreter
        from tensorbench.asv.process import env_python

        codes = []
        for env in ("main", "mxnet") if args.env == "all" else (args.env,):
            rest = without_env(list(sys.argv[1:] if argv is None else argv))
            cmd = [str(env_python(env, REPO)), __file__, *rest, "--env-label", env]
            codes.append(subprocess.run(cmd, cwd=REPO).returncode)
        return max(codes)

    from tensorbench import noise
    from tensorbench.backends import BACKENDS as ALL

    wanted = args.backend or [b for b in BACKENDS if ALL[b].available()]
    rows: list[dict] = []
    start = noise.snapshot()
    if args.point:
        global POINTS
        POINTS = tuple(p for p in POINTS if f"{p[0]} {p[1]}" in args.point)
    for index in range(args.rounds):
        rows += audit_round(wanted, args, index)
    busy = noise.busy_reason(start, noise.snapshot())
    if busy:
        print(f"warning: {busy}: this audit is not trustworthy", file=sys.stderr)
    for r in rows:
        if args.json:
            print(json.dumps(r))
        else:
            print(
                f"{r['round']:2} {r['env']:6} {r['backend']:6} {r['point']:28} asv {r['asv_s'] * 1e6:10.1f} us"
                f" (x{r['asv_number']:<5}) ref {r['reference_s'] * 1e6:10.1f} us"
                f"  ratio {r['ratio']:.3f} {'ok' if r['ok'] else 'OUTSIDE'}"
                f"  (ref after/before {r['native_drift'] or float('nan'):.3f})"
                + (
                    f"  time {r['time_s'] * 1e6:.1f} us [{r['time_ci'][0] * 1e6:.1f}, "
                    f"{r['time_ci'][1] * 1e6:.1f}] time/asv {r['time_s'] / r['asv_s']:.3f}"
                    if "time_s" in r
                    else ""
                )
            )
    if args.rounds > 1:
        table = agreement(rows, args.same_within)
        if args.json:
            for row in table:
                print(json.dumps({"agreement": row}))
        else:
            print_agreement(table)
    return 0 if rows and all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
