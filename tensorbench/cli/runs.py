"""`tensorbench run | compare | publish`: the asv suites and the results database."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..errors import InputError
from . import paired
from .project import REPO_HELP, project


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a suite with asv in both environments, then summarise")
    p.add_argument("--repo", type=Path, default=None, help=REPO_HELP)
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
    p.add_argument(
        "--releases",
        nargs="+",
        metavar="NAME=V1,V2",
        help="time the suite in one environment per release (e.g. torch=2.11,2.12 "
        "numpy=1.26.4,2.1.3; several frameworks: each varied alone), built once under "
        ".asv/releases with pip and reused",
    )
    p.add_argument(
        "--measure",
        choices=("time", "instructions"),
        default="time",
        help="time: asv's timings (default); instructions: instructions per call of the CPU "
        "points at one thread, counted under valgrind (free of host noise; much slower)",
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
    p.add_argument("base", nargs="?")  # optional only for --paired --python-a/--python-b
    p.add_argument("head", nargs="?")
    p.add_argument("--factor", type=float, default=1.1, help="slower by more than this fails")
    p.add_argument("--config", type=Path, help="asv.conf.json of the project (default: ours)")
    p.add_argument("--python", help="interpreter of an existing environment (default: this one)")
    p.add_argument("--bench", help="asv --bench regex")
    p.add_argument("--suite", help="suite choosing the grid points (default: quick for ours)")
    p.add_argument("--repo", type=Path, default=None, help=REPO_HELP)
    p.add_argument("--json", action="store_true")
    paired.add_compare_arguments(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("publish", help="asv publish the results database to .asv/html")
    p.add_argument("--repo", type=Path, default=None, help=REPO_HELP)
    p.set_defaults(func=cmd_publish)


def _check_run_args(args: argparse.Namespace) -> None:
    """Refuse, before anything runs, the arguments that would fail or be ignored later."""
    if args.graph_dir is not None and not Path(args.graph_dir).is_dir():
        raise InputError(f"--graph-dir {args.graph_dir}: no such folder")
    if args.python is not None and not args.python.is_file():
        raise InputError(f"--python {args.python}: no such interpreter")
    managed = bool(args.matrix or args.managed)
    if managed and (
        args.python is not None or args.graph_dir is not None or args.bench or args.env != "all"
    ):
        raise InputError(
            "--python, --graph-dir, --bench and --env apply to existing environments, "
            "not --managed/--matrix"
        )
    if args.releases and (managed or args.python is not None or args.env != "all"):
        raise InputError(
            "--releases builds its own environments: no --managed, --matrix, "
            "--python or --env with it"
        )
    if managed and args.measure != "time":
        raise InputError("--measure instructions runs in the existing environments, not --managed")
    if not managed and args.commits != "HEAD^!":
        raise InputError(
            "--commits applies to --managed or --matrix runs (existing environments run HEAD)"
        )


def cmd_run(args: argparse.Namespace) -> int:
    from ..asv import run as asvrun
    from ..asv.machine import check_machine_name, ensure_machine
    from ..asv.process import git
    from ..asv.suites import load_suite
    from ..sysinfo import info

    _check_run_args(args)
    if args.machine is not None:
        check_machine_name(args.machine)
    repo = project(args)
    suite = load_suite(args.suite, repo / "suites")
    machine = ensure_machine(info(), args.machine)
    print(
        f"tensorbench run: suite {suite.name} ({suite.count()} points before skips), machine {machine}"
    )
    start = time.perf_counter()
    failed_asv = []
    if args.releases:
        commit = git("rev-parse", "HEAD", cwd=repo)
        failed_asv += run_releases(args, suite, machine, commit, repo)
        commits = [commit]
    elif args.matrix or args.managed:
        config = asvrun.matrix_config(args.matrix, repo) if args.matrix else None
        try:
            code = asvrun.run_managed(suite, machine, args.commits, args.threads, config, repo)
        finally:
            if config is not None:  # the temporary config goes however the run ends
                shutil.rmtree(config.parent, ignore_errors=True)
        if code:
            failed_asv.append("managed")
        commits = git("rev-list", "--first-parent", args.commits, cwd=repo).split()
    else:
        envs = ("main", "mxnet") if args.env == "all" else (args.env,)
        if args.python and len(envs) > 1:
            raise InputError(
                "--python runs one environment: add --env main (or mxnet) as its label"
            )
        commit = git(
            "rev-parse", "HEAD", cwd=repo
        )  # once: a commit landing mid-run must not split it
        earlier: dict[str, dict] = {}  # env -> facts: a build timed once per run
        for env in envs:
            print(f"== environment {env}")
            t0 = time.perf_counter()
            res = asvrun.run_existing(
                env,
                suite,
                machine,
                commit,
                args.threads,
                args.graph_dir,
                args.bench,
                args.python,
                repo,
                args.measure,
                earlier=dict(earlier),
            )
            if res.facts and res.result_file is not None:
                earlier[env] = res.facts
            print(
                f"== environment {env}: {time.perf_counter() - t0:.0f} s, result {res.result_file}"
            )
            if res.result_file is None:
                failed_asv.append(env)
        commits = [commit]
    print(f"tensorbench run: {time.perf_counter() - start:.0f} s in all")
    if args.measure == "instructions":
        failures = print_instruction_summary(machine, commits, repo / "results")
    else:
        failures = print_summary(machine, commits, repo / "results")
    if failed_asv:
        print(f"asv produced no results in: {', '.join(failed_asv)}")
    return 1 if failures or failed_asv else 0


def run_releases(
    args: argparse.Namespace, suite: Any, machine: str, commit: str, repo: Path
) -> list[str]:
    """Each release's environment built (or reused) and the suite run in it; the labels of
    the releases that could not install, import or run, each reported with its first error
    line while the others go on."""
    from ..analysis.releases import parse_releases
    from ..asv import run as asvrun
    from ..asv.releases import build_release_env

    sets = parse_releases(args.releases)
    failed: list[str] = []
    for rset in sets:
        for version in rset.versions:
            t0 = time.perf_counter()
            env = build_release_env(rset, version, repo)
            if env.error:
                print(f"== {env.label}: skipped, {env.error}", file=sys.stderr)
                failed.append(env.label)
                continue
            built = "reused" if env.reused else f"built in {time.perf_counter() - t0:.0f} s"
            print(f"== environment {env.label} ({built}: {env.path})")
            res = asvrun.run_existing(
                env.label,
                suite,
                machine,
                commit,
                args.threads,
                args.graph_dir,
                args.bench,
                env.python,
                repo,
                args.measure,
            )
            if res.result_file is None:
                failed.append(env.label)
    return failed


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


def print_summary(machine: str, commits: list[str], results_dir: Path | None = None) -> int:
    """Print the summary table for ``commits`` on ``machine``; returns the number of failures."""
    from ..analysis.results import load_results
    from ..conventions import RESULTS_DIR

    results_dir = results_dir or RESULTS_DIR
    if not results_dir.is_dir():  # asv wrote nothing at all
        print(f"no results in {results_dir}")
        return 0
    db = load_results(results_dir)
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


def print_instruction_summary(machine: str, commits: list[str], results_dir: Path) -> int:
    """Instructions per call of every counted point, and the skips with their reasons; returns
    the number of failed points."""
    from ..analysis.results import load_results

    if not results_dir.is_dir():
        print(f"no results in {results_dir}")
        return 0
    table = load_results(results_dir).table
    t = table[
        (table["machine"] == machine)
        & table["commit"].isin(commits)
        & table["benchmark"].str.contains(".track_instructions_", regex=False)
    ]
    # the points this run reached: counted, failed, or skipped with a reason (asv's grid holds
    # every other point as a bare NaN)
    t = t[(t["status"] != "skipped") | t["reason"].notna()]
    for _, r in t.sort_values(["env", "benchmark", "param_key"]).iterrows():
        name = r["benchmark"].rsplit("track_instructions_", 1)[-1]
        if r["status"] == "ok":
            shown = f"{r['value']:,.0f} instructions per call"
        else:
            shown = f"{r['status']}: {r['reason'] or 'no reason recorded'}"
        print(f"  {r['env']}: {name} [{r['param_key']}]: {shown}")
    failed = t[t["status"] == "failed"]
    if len(failed):
        print(f"{len(failed)} instruction points FAILED")
    return len(failed)


def cmd_compare(args: argparse.Namespace) -> int:
    from ..asv.compare import compare
    from ..asv.process import AsvError
    from ..asv.suites import load_suite

    if args.paired:
        return paired.cmd_compare_paired(args)
    if args.head is None:
        raise InputError("compare needs two commits: BASE HEAD")
    if not 1.0 < args.factor < 1e6:
        raise InputError(f"--factor must be > 1.0, got {args.factor}")
    if args.config is not None and not args.config.is_file():
        raise InputError(f"--config {args.config}: no such file")
    if args.python is not None and not Path(args.python).is_file():
        raise InputError(f"--python {args.python}: no such interpreter")
    ours = args.config is None
    repo = project(args) if ours else None
    config = args.config or repo / "asv.conf.json"
    suite = (
        load_suite(args.suite or "quick", (repo or config.parent) / "suites")
        if (args.suite or ours)
        else None
    )
    # The results are kept for the user when the run succeeds; whatever else ends it (asv
    # failing, an error, Ctrl-C) must not leave the folder and its worktrees behind.
    folder = Path(tempfile.mkdtemp(prefix="tensorbench-compare-"))
    kept = False
    try:
        rows, results_dir = compare(
            args.base, args.head, args.factor, config, args.python, args.bench, suite, folder
        )
        kept = True
    except AsvError as exc:  # could not benchmark: neither "slower" (1) nor bad input (2)
        print(f"tensorbench: error: {exc}", file=sys.stderr)
        return 3
    finally:
        if not kept:
            shutil.rmtree(folder, ignore_errors=True)
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

    html = publish(project(args))
    print(json.dumps({"html": str(html / "index.html")}))
    return 0
