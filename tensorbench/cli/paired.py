"""Paired runs on the command line: `compare --paired`, `regressions --confirm`, `bisect`.

`compare` and `regressions` keep their own modules (runs.py, regressions.py); they add these
options with one call each and hand over to the functions here, so the paired logic lives in
one place (the engine: `tensorbench.asv.paired`, the statistics: `tensorbench.analysis.paired`).

Exit codes of the paired commands: 0 nothing slower (or nothing confirmed); 1 a point slower (a
regression confirmed; bisect: no change to narrow); 2 bad input (unknown commit, bad suite, a
regex matching nothing) with a one-line error; 3 a fault: a worker process died or hung (the
side and the point are named; the other points are still reported).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError

# Defaults: see tensorbench.analysis.paired for the rule and tensorbench.asv.paired for cost.
MIN_ROUNDS = 6  # the fewest with a finite 95 % signed-rank interval
MAX_ROUNDS = 24  # tensorbench.asv.paired.PairedConfig says why


def add_paired_options(p: argparse.ArgumentParser) -> None:
    """Rounds, samples and the "same" band: shared by every paired command."""
    from ..analysis.paired import DEFAULT_SAME_WITHIN

    g = p.add_argument_group("paired runs")
    g.add_argument(
        "--same-within",
        type=float,
        default=DEFAULT_SAME_WITHIN,
        metavar="X",
        help="'same' when the 95%% interval of B/A lies inside +-X (default %(default)s)",
    )
    g.add_argument(
        "--min-rounds",
        type=int,
        default=MIN_ROUNDS,
        help="rounds every point runs (each: fresh processes on both sides, mirrored; "
        "default %(default)s)",
    )
    g.add_argument(
        "--max-rounds",
        type=int,
        default=MAX_ROUNDS,
        help="more rounds only for points whose interval is still too wide, up to this "
        "(default %(default)s)",
    )
    g.add_argument(
        "--samples", type=int, default=6, help="samples per point per process (default 6)"
    )
    g.add_argument(
        "--sample-time",
        type=float,
        default=0.02,
        help="seconds a sample lasts at least (default 0.02)",
    )
    g.add_argument(
        "--interleave",
        choices=("processes", "samples"),
        default="samples",
        help="what alternates within a round: single samples of one serving process per "
        "side (default) or whole worker processes, two per side (A B B A)",
    )
    g.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def add_compare_arguments(p: argparse.ArgumentParser) -> None:
    """`compare --paired` and its options (the rest of compare's options are runs.py's)."""
    p.add_argument(
        "--paired",
        action="store_true",
        help="paired, interleaved worker processes (A B B A per round): sees a few %% "
        "where two separate runs cannot; A and B are commits, or give --python-a/--python-b",
    )
    p.add_argument("--python-a", help="--paired: interpreter of side A (an environment)")
    p.add_argument("--python-b", help="--paired: interpreter of side B (an environment)")
    p.add_argument(
        "--points",
        type=Path,
        help="--paired: the points to time: a suite file (.toml) or a JSON list of "
        '{"bench": ..., "params": [...]}',
    )
    # Test-only: makes every sample of side B exactly this fraction longer (a spin after the
    # calls, tensorbench.timing.take_sample), to measure the method's power.
    p.add_argument("--inject-b", type=float, default=None, help=argparse.SUPPRESS)
    add_paired_options(p)


def config_from(args: argparse.Namespace) -> Any:
    from ..asv.paired import PairedConfig

    cfg = PairedConfig(
        min_rounds=args.min_rounds,
        max_rounds=args.max_rounds,
        samples=args.samples,
        sample_time=args.sample_time,
        same_within=args.same_within,
        interleave=getattr(args, "interleave", PairedConfig.interleave),
    )
    cfg.check()
    if not 0 < args.sample_time <= 10:
        raise InputError(f"--sample-time must be in (0, 10], got {args.sample_time}")
    return cfg


def _python(path: str | None, flag: str) -> str:
    if path is None:
        return sys.executable
    if not Path(path).is_file():
        raise InputError(f"{flag} {path}: no such interpreter")
    return str(Path(path).absolute())


def _load_points(args: argparse.Namespace, repo: Path) -> tuple[list[Any], list[Any]]:
    """The selected points (suite or --points, then --bench) and the ones not timed, why."""
    from ..asv.paired import filter_points, suite_points
    from ..asv.suites import load_suite
    from ..asv.worker import Point
    from ..conventions import SUITES_DIR

    skipped: list[Any] = []
    if args.points is not None and args.points.suffix == ".json":
        try:
            raw = json.loads(args.points.read_text(encoding="utf-8"))
            points = [Point(str(d["bench"]), tuple(d["params"])) for d in raw]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"--points {args.points}: not a JSON list of points ({exc})") from None
    else:
        # the grid is today's; a checkout without suites/ (another project) uses ours
        suites = repo / "suites" if (repo / "suites").is_dir() else SUITES_DIR
        suite = load_suite(args.points or args.suite or "quick", suites)
        points, skipped = suite_points(suite)
    points = filter_points(points, args.bench)
    if args.bench:
        skipped = [(p, r) for p, r in skipped if filter_points([p], args.bench)]
    if not points:
        raise InputError(f"no point selected (--bench {args.bench!r} matches none)")
    return points, skipped


def cmd_compare_paired(args: argparse.Namespace) -> int:
    """`tensorbench compare --paired A B` or `--python-a P --python-b Q`."""
    from ..asv.paired import (
        Progress,
        Side,
        estimate,
        fmt_duration,
        inject_env,
        resolve_commit,
        run_paired,
        worktrees,
    )
    from ..asv.pairedreport import print_run, run_to_json
    from .project import project

    if args.config is not None:
        raise InputError("--config applies to plain compare runs, not --paired")
    if args.factor != 1.1:
        raise InputError("--factor applies to plain compare runs; --paired uses --same-within")
    commits = [c for c in (args.base, args.head) if c is not None]
    envs = args.python_a is not None or args.python_b is not None
    if len(commits) == 1:
        raise InputError("--paired needs two commits A B (or none, with --python-a/--python-b)")
    if not commits and not envs:
        raise InputError("--paired needs two commits A B, or --python-a and --python-b")
    if args.inject_b is not None and not 0 < args.inject_b < 1:
        raise InputError(f"--inject-b must be in (0, 1), got {args.inject_b}")
    config = config_from(args)
    default = _python(args.python, "--python")
    py_a = _python(args.python_a, "--python-a") if args.python_a else default
    py_b = _python(args.python_b, "--python-b") if args.python_b else default
    repo = project(args)
    hashes = [resolve_commit(repo, c) for c in commits]
    points, skipped = _load_points(args, repo)
    est = estimate(len(points), 2, config)
    print(
        f"tensorbench compare --paired: {len(points)} point(s) (before skips), "
        f"{est['processes_min']}-{est['processes_max']} worker processes "
        f"({config.min_rounds}-{config.max_rounds} rounds of A B B A), about "
        f"{fmt_duration(est['seconds_min'])} to {fmt_duration(est['seconds_max'])} "
        f"(~{est['seconds_per_process']:.0f} s per process; a point over 20 ms a call costs more)",
        file=sys.stderr,
    )
    bar = None if args.no_progress else Progress(est["processes_max"])
    with worktrees(repo) as pool:
        if hashes:
            trees = [pool.get(h) for h in hashes]
            labels = [
                h[:8] if h.startswith(c) else f"{c} ({h[:8]})"
                for c, h in zip(commits, hashes, strict=True)
            ]
        else:
            trees = [repo, repo]
            labels = [f"python {py_a}", f"python {py_b}"]
        if py_a != py_b and hashes:
            labels = [f"{labels[0]}, python {py_a}", f"{labels[1]}, python {py_b}"]
        sides = {
            "A": Side(labels[0], py_a, trees[0]),
            "B": Side(labels[1], py_b, trees[1], env=inject_env(args.inject_b)),
        }
        if args.inject_b:
            print(f"test-only: side B gets +{args.inject_b:.1%} injected work", file=sys.stderr)
        run = run_paired(sides, points, config, progress=bar)
    code = 3 if run.faults else 1 if run.slower() else 0
    if args.json:
        print(json.dumps(run_to_json(run, skipped) | {"exit_code": code}, indent=2))
    else:
        print_run(run, skipped)
    for rec in run.faults:
        from ..asv.paired import point_name

        print(
            f"tensorbench: error: worker died on side {run.sides[rec.side].label} at "
            f"{point_name(rec.point)}: {rec.reason}",
            file=sys.stderr,
        )
    return code


# -- regressions --confirm -------------------------------------------------------------------


def add_confirm_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--confirm",
        action="store_true",
        help="re-measure every open regression paired (last good vs first bad commit, in "
        "worktrees) and fail only on confirmed ones",
    )
    p.add_argument("--repo", type=Path, default=None, help="--confirm: the git checkout")
    p.add_argument(
        "--python",
        default=None,
        help="--confirm: interpreter (default: this one; env names with 'mxnet' use "
        ".venv-mxnet where it exists)",
    )
    add_paired_options(p)


def confirm_regressions(args: argparse.Namespace, found: Any) -> int:
    """Re-measure the open regressions of ``found`` paired; exit 1 only on confirmed ones.

    Acknowledged and resolved regressions do not fail the gate and are not re-measured. A
    regression that cannot be re-measured here (not a time_ point, a commit missing from the
    checkout, the point skipped or failing) still fails the gate: it was not shown to be noise.
    """
    from ..asv.bisect import confirm
    from ..asv.paired import point_from_row
    from .project import project

    config = config_from(args)
    repo = project(args)
    default = _python(args.python, "--python")

    def python_for(row: Any) -> str:
        other = repo / ".venv-mxnet" / "bin" / "python"
        if args.python is None and "mxnet" in str(row.env) and other.is_file():
            return str(other)
        return default

    def point_of(row: Any) -> Any:
        return point_from_row(str(row.benchmark), row.params)

    rows = [r for r in found.itertuples(index=False) if r.kind == "regression" and r.fails_gate]
    if not rows:
        print("no open regression to confirm")
        return 0
    say = (lambda m: print(m, file=sys.stderr)) if args.json else print
    results = confirm(
        repo, rows, config, python_for, point_of, say=say, progress=not args.no_progress
    )
    failing = [c for c in results if c.status != "not confirmed"]
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "benchmark": str(rows[c.index].benchmark),
                        "param_key": str(rows[c.index].param_key),
                        "machine": str(rows[c.index].machine),
                        "env": str(rows[c.index].env),
                        "last_good_commit": c.last_good,
                        "first_bad_commit": c.first_bad,
                        "detector_ratio": _num(rows[c.index].ratio),
                        "status": c.status,
                        "reason": c.reason or None,
                        "paired": c.result.to_dict() if c.result else None,
                    }
                    for c in results
                ],
                indent=2,
            )
        )
    else:
        print(f"{'benchmark':44} {'parameters':44} {'commits':18} {'detector':>8}  paired")
        for c in results:
            r = rows[c.index]
            print(
                f"{str(r.benchmark)[:44]:44} {str(r.param_key)[:44]:44} "
                f"{c.last_good[:8]}..{c.first_bad[:8]} {r.ratio:8.3f}  {c.describe()}"
            )
        n_conf = sum(c.status == "confirmed" for c in results)
        n_not = sum(c.status == "not confirmed" for c in results)
        n_un = sum(c.status == "not measured" for c in results)
        print(
            f"{len(results)} open regression(s): {n_conf} confirmed, {n_not} not confirmed "
            f"(noise), {n_un} not measured (these still fail the gate)"
        )
    return 1 if failing else 0


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


# -- bisect ----------------------------------------------------------------------------------


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bisect",
        help="narrow a change between two commits to one, by paired runs",
        description="Binary search over the first-parent commits of GOOD..BAD: each step a "
        "paired run of GOOD against the midpoint. Exit 0: the first changed commit found; "
        "1: the endpoints do not differ; 2: bad input; 3: a worker died.",
    )
    p.add_argument(
        "point",
        help="the point, as compare --paired names it (matmul('numpy:cpu', 512, 'float32')) "
        "or a regex matching exactly one",
    )
    p.add_argument("--good", required=True, help="a commit without the change")
    p.add_argument("--bad", required=True, help="a later commit with it")
    p.add_argument("--python", default=None, help="interpreter (default: this one)")
    p.add_argument("--repo", type=Path, default=None, help="the git checkout")
    p.add_argument("--json", action="store_true")
    add_paired_options(p)
    p.set_defaults(func=cmd_bisect)


def _grid_point(text: str) -> Any:
    """The one grid point named (or matched as a regex) by ``text``."""
    import re

    from ..asv.grid import GRID
    from ..asv.paired import filter_points, point_name, suite_points
    from ..asv.suites import Selection, Suite

    everything = Suite(
        "grid",
        "",
        workloads={
            k: Selection(
                frozenset(e.sizes), frozenset(e.dtypes), frozenset(e.backends), frozenset(e.threads)
            )
            for k, e in GRID.items()
        },
    )
    points, _ = suite_points(everything)
    exact = [p for p in points if point_name(p) == text.strip()]
    if exact:
        return exact[0]
    try:
        hits = filter_points(points, text)
    except InputError:
        hits = []
    if len(hits) == 1:
        return hits[0]
    example = point_name(points[0])
    if not hits:
        raise InputError(f"no grid point {text!r} (name points like {example})")
    shown = ", ".join(point_name(p) for p in hits[:3])
    raise InputError(
        f"{text!r} matches {len(hits)} points ({shown}{' ...' if len(hits) > 3 else ''}); "
        f"name one, e.g. {re.escape(point_name(hits[0]))}"
    )


def cmd_bisect(args: argparse.Namespace) -> int:
    from ..asv.bisect import bisect
    from .project import project

    config = config_from(args)
    python = _python(args.python, "--python")
    repo = project(args)
    point = _grid_point(args.point)
    say = (lambda m: print(m, file=sys.stderr)) if args.json else print
    out = bisect(repo, point, args.good, args.bad, config, python, say=say)
    if args.json:
        print(json.dumps(out.to_json(), indent=2))
    return 0 if out.first_bad else 1
