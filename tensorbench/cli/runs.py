"""`tensorbench run | compare | publish`: the asv suites and the results database."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a suite with asv in both environments, then summarise")
    p.add_argument("--suite", default="quick", help="suite name (suites/NAME.toml) or path")
    p.add_argument("--env", choices=("main", "mxnet", "all"), default="all")
    p.add_argument(
        "--managed",
        action="store_true",
        help="asv's own virtualenvs (built on first use) instead of .venv/.venv-mxnet",
    )
    p.add_argument(
        "--commits",
        default="HEAD^!",
        help="commit range for --managed (e.g. HEAD~5..HEAD for history)",
    )
    p.add_argument(
        "--matrix",
        metavar="NAME=V1,V2",
        help="the same benchmarks over several versions of one framework (managed)",
    )
    p.add_argument("--graph-dir", help="folder holding the real graphs (cora, wiki-Vote, ...)")
    p.add_argument("--bench", help="extra asv --bench regex (default: the suite's benchmarks)")
    p.add_argument("--machine", help="machine name (default: derived from CPU, cores and GPU)")
    p.add_argument(
        "--python",
        type=Path,
        help="interpreter of an existing environment to use instead of .venv "
        "(e.g. a GPU machine's python3); results are labelled with --env",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "compare",
        help="benchmark two commits; exit 1 if HEAD got slower",
        description="Exit 0: nothing slower; 1: slower beyond --factor; "
        "2: bad input; 3: asv could not run.",
    )
    p.add_argument("base")
    p.add_argument("head")
    p.add_argument("--factor", type=float, default=1.1, help="slower by more than this fails")
    p.add_argument("--config", type=Path, help="asv.conf.json of the project (default: ours)")
    p.add_argument("--python", help="interpreter of an existing environment (default: this one)")
    p.add_argument("--bench", help="asv --bench regex")
    p.add_argument("--suite", help="suite choosing the grid points (default: quick for ours)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("publish", help="asv publish the results database to .asv/html")
    p.set_defaults(func=cmd_publish)


def cmd_run(args: argparse.Namespace) -> int:
    from ..asv import run as asvrun
    from ..asv.machine import ensure_machine
    from ..asv.process import git
    from ..asv.suites import load_suite
    from ..sysinfo import info

    suite = load_suite(args.suite)
    machine = ensure_machine(info(), args.machine)
    print(
        f"tensorbench run: suite {suite.name} ({suite.count()} points before skips), machine {machine}"
    )
    start = time.perf_counter()
    failed_asv = []
    if args.matrix or args.managed:
        config = asvrun.matrix_config(args.matrix) if args.matrix else None
        if asvrun.run_managed(suite, machine, args.commits, args.threads, config):
            failed_asv.append("managed")
        commits = git("rev-list", args.commits).split()
    else:
        envs = ("main", "mxnet") if args.env == "all" else (args.env,)
        if args.python and len(envs) > 1:
            raise InputError(
                "--python runs one environment: add --env main (or mxnet) as its label"
            )
        commit = git("rev-parse", "HEAD")  # once: a commit landing mid-run must not split it
        for env in envs:
            print(f"== environment {env}")
            t0 = time.perf_counter()
            res = asvrun.run_existing(
                env, suite, machine, commit, args.threads, args.graph_dir, args.bench, args.python
            )
            print(
                f"== environment {env}: {time.perf_counter() - t0:.0f} s, result {res.result_file}"
            )
            if res.result_file is None:
                failed_asv.append(env)
        commits = [commit]
    print(f"tensorbench run: {time.perf_counter() - start:.0f} s in all")
    failures = print_summary(machine, commits)
    if failed_asv:
        print(f"asv produced no results in: {', '.join(failed_asv)}")
    return 1 if failures or failed_asv else 0


def summarise(table: Any) -> list[dict[str, Any]]:
    """Per workload at the newest commit (at its largest size run by the most backends):
    fastest backend and every backend's speed-up over numpy:cpu."""
    from ..analysis.rates import backend_label, speedup_over

    rows: list[dict[str, Any]] = []
    t = table[(table["kind"] == "time") & table["workload"].notna() & (table["status"] == "ok")]
    t = t[t["size"].notna()]
    if t.empty:
        return rows
    t = t[t["commit_order"] == t["commit_order"].max()]
    for (wl, dtype), g in t.groupby(["workload", "dtype"], observed=True):
        by_size = g.groupby("size")["backend"].nunique()
        by_size = by_size[by_size > 0]
        if by_size.empty:
            continue
        size = by_size[by_size == by_size.max()].index.max()
        at = g[g["size"] == size].groupby(["backend", "device"], observed=True)["value"].median()
        at = at.dropna().reset_index()
        if at.empty:
            continue
        at.index = backend_label(at)
        fastest = at["value"].idxmin()
        speedups = speedup_over(at, "numpy:cpu", on=())
        rows.append(
            {
                "workload": wl,
                "dtype": dtype,
                "size": size,
                "fastest": fastest,
                "fastest_s": at["value"].min(),
                "vs_numpy": speedups.to_dict() if speedups.notna().any() else {},
            }
        )
    return rows


def print_summary(machine: str, commits: list[str]) -> int:
    """Print the summary table for ``commits`` on ``machine``; returns the number of failures."""
    from ..analysis.results import load_results
    from ..paths import RESULTS_DIR

    db = load_results(RESULTS_DIR)
    table = db.table[(db.table["machine"] == machine) & db.table["commit"].isin(commits)]
    failed = table[table["status"] == "failed"]
    rows = summarise(table)
    from rich.console import Console
    from rich.table import Table

    out = Table(title=f"summary: {machine}, {len(commits)} commit(s); speed-up over numpy:cpu")
    for col in ("workload", "dtype", "size", "fastest", "median", "speed-up vs numpy per backend"):
        out.add_column(col)
    for r in rows:
        ratios = ", ".join(
            f"{k} {v:.2f}x" for k, v in sorted(r["vs_numpy"].items(), key=lambda kv: -kv[1])
        )
        out.add_row(
            r["workload"],
            str(r["dtype"]),
            f"{r['size']:g}",
            r["fastest"],
            f"{r['fastest_s'] * 1e3:.3g} ms",
            ratios,
        )
    Console(width=200).print(out)
    if len(failed):
        print(f"{len(failed)} benchmark points FAILED (validation or crash):")
        for _, r in failed.head(20).iterrows():
            print(f"  {r['env']}: {r['benchmark']} [{r['param_key']}]")
    return len(failed)


def cmd_compare(args: argparse.Namespace) -> int:
    from ..asv.compare import compare
    from ..asv.process import AsvError
    from ..asv.suites import load_suite

    if args.factor <= 1.0:
        raise InputError(f"--factor must be > 1.0, got {args.factor}")
    ours = args.config is None
    suite = load_suite(args.suite or "quick") if (args.suite or ours) else None
    try:
        rows, results_dir = compare(
            args.base, args.head, args.factor, args.config, args.python, args.bench, suite
        )
    except AsvError as exc:  # could not benchmark: neither "slower" (1) nor bad input (2)
        print(f"tensorbench: error: {exc}", file=sys.stderr)
        return 3
    if args.json:
        print(rows.to_json(orient="records", default_handler=str))
    elif len(rows):
        print(f"{len(rows)} benchmark(s) slower than {args.factor}x in {args.head} vs {args.base}:")
        cols = [
            c
            for c in ("benchmark", "param_key", "before", "after", "ratio", "significance")
            if c in rows.columns
        ]
        # significance is the Mann-Whitney p-value of the two commits' samples
        print(rows[cols].rename(columns={"significance": "p-value"}).to_string(index=False))
    else:
        print(f"no benchmark slower than {args.factor}x ({args.head} vs {args.base})")
    print(f"(results kept in {results_dir})")
    return 1 if len(rows) else 0


def cmd_publish(args: argparse.Namespace) -> int:
    from ..asv.run import publish

    html = publish()
    print(json.dumps({"html": str(html / "index.html")}))
    return 0
