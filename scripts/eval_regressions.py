"""Measure tensorbench's regression detector against asv's on histories with known truth.

Prints figures; it is not a test. Run: ``.venv/bin/python scripts/eval_regressions.py``
(a few minutes on 2 cores; ``--seed N`` for another draw, ``--run-share 0.8`` for noisier runs,
``--speed`` to time a scan of a 300k-point database instead).

The engine is `tensorbench.analysis.evaluation` (its docstrings say how each part works):

1. ``synthetic``: seeded histories of ``N_COMMITS`` commits per (step, CV) cell, step-free
   series, creeps and near-threshold steps; ``asvdb`` writes them as a real asv results
   database, read back with `tensorbench.analysis.results.load_results`.
2. Ours (`find_regressions`) and asv's own detector (``asvdetector``: ``detect_steps`` with
   asv's weights 2/|ci_99| + ``detect_regressions`` at 5 %, as `asv publish` does) on it.
3. ``scoring``: a detection is a true positive when its first bad commit is within
   ``TOLERANCE`` commits of the true step (one per true step); every other reported
   regression is a false positive. For tensorbench, improvements on step-free series count
   as false alarms too (asv reports none by design).
4. ``scenarios``: CI-like faults scored the same way; ``multienv`` and ``crossenv``: whether
   a flagged regression is seen by the other environments, on the real databases at hand and
   a synthetic multi-machine set.

This script parses the arguments, prints the tables and writes docs/regressions-evaluation.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tensorbench.analysis.evaluation import crossenv, scoring  # noqa: E402
from tensorbench.analysis.evaluation.asvdb import write_asv_db  # noqa: E402
from tensorbench.analysis.evaluation.asvdetector import asv_on_table  # noqa: E402
from tensorbench.analysis.evaluation.crossenv import AGREE_TOL  # noqa: E402
from tensorbench.analysis.evaluation.multienv import MULTI_ENVS, multi_env  # noqa: E402
from tensorbench.analysis.evaluation.scenarios import evaluate_scenario, scenarios  # noqa: E402
from tensorbench.analysis.evaluation.synthetic import (  # noqa: E402
    CREEP,
    CREEP_SPACING,
    CVS,
    N_COMMITS,
    RUN_SHARE,
    SEED,
    THRESHOLD,
    TOLERANCE,
    generate,
    point_cv,
    speed_cells,
)
from tensorbench.analysis.regressions import find_regressions  # noqa: E402
from tensorbench.analysis.results import load_results  # noqa: E402

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "asv-results"
DOC = Path(__file__).resolve().parents[1] / "docs" / "regressions-evaluation.md"


def _row(label: str, a: tuple[float, ...], b: tuple[float, ...]) -> str:
    return f"{label:<16}" + "".join(
        f"{x:>10.3f}" if i % 3 == 0 else f"{x:>8.3f}" for i, x in enumerate((*a, *b))
    )


def _alarms(label: str, a: dict, b: dict) -> str:
    return (
        f"{label:<16}{a['fp']:>8} = {1000 * a['fp'] / a['points']:5.2f}/1000"
        f"{b['fp']:>12} = {1000 * b['fp'] / b['points']:5.2f}/1000"
    )


def report(ours: dict, theirs: dict, detection: dict | None = None) -> None:
    """Print the per-cell and overall comparison, the step-free false alarms and the creeps.
    ``detection`` scores ours as a change detector (`scoring.overall` says how)."""
    steps = [k for k in ours if k[0] > 0]
    flat = [k for k in ours if k[0] == 0]
    creeps = [k for k in ours if k[0] < 0]
    prf = scoring.prf
    print(f"{'cell':<16}{'tensorbench P / R / F1':>26}{'asv P / R / F1':>26}")
    for key in steps:
        print(_row(f"+{key[0]:.1%} CV {key[1]:.0%}", prf(ours[key]), prf(theirs[key])))
    overall = scoring.overall(ours, theirs, detection)
    for label in dict.fromkeys(label for label, _ in overall):
        print(_row(label, overall[(label, "tensorbench")], overall[(label, "asv")]))
    print()
    print(f"{'step-free':<16}{'tensorbench false alarms':>26}{'asv false alarms':>26}")
    for key in flat:
        print(_alarms(f"CV {key[1]:.0%}", ours[key], theirs[key]))
    sums = [scoring.total(r, flat, ("fp", "points")) for r in (ours, theirs)]
    print(_alarms("all", *sums))
    if detection is not None:
        print(_alarms("all, detection", scoring.total(detection, flat, ("fp", "points")), sums[1]))
    if creeps:
        print()
        n, step = CREEP
        print(
            f"creeps: {n} steps of +{step:.0%} every {CREEP_SPACING} commits; a hit is a first "
            f"bad commit from the first step - {TOLERANCE} to the last + {TOLERANCE} (not in "
            "the overall score)"
        )
        for key in creeps:
            print(_row(f"creep CV {key[1]:.0%}", prf(ours[key]), prf(theirs[key])))


def synthetic(args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    cells = generate(args.seed, args.run_share)
    n_series = sum(len(c.truth) for c in cells)
    with tempfile.TemporaryDirectory(prefix="tb-eval-") as tmp:
        root = Path(tmp) / "results"
        write_asv_db(root, cells)
        t1 = time.perf_counter()
        table = load_results(root).table
        t2 = time.perf_counter()
    ours = scoring.ours_by_kind(table)
    t3 = time.perf_counter()
    theirs = scoring.asv_found(table, asv_on_table(table, args.workers))
    t4 = time.perf_counter()
    print(
        f"{n_series} series x {N_COMMITS} commits = {len(table)} points; seed {args.seed}; "
        f"threshold {THRESHOLD:.0%}; match within {TOLERANCE} commits"
    )
    print(
        f"write {t1 - t0:.1f} s, load {t2 - t1:.1f} s, tensorbench {t3 - t2:.2f} s, "
        f"asv {t4 - t3:.1f} s ({args.workers} processes)"
    )
    print(
        f"noise: sample CV {', '.join(f'{cv:.0%}' for cv in CVS)}, {args.run_share:.0%} of its "
        f"variance between runs -> per-commit value CV "
        + ", ".join(f"{v:.2%}" for v in point_cv(cells).values())
        + " (robust SD of log values)"
    )
    print()
    # Regressions are scored against every step. Detection also counts a slowdown listed as
    # "below threshold" as found, and every row on a step-free series as a false alarm.
    detection = scoring.score(
        cells,
        scoring.merged(ours["regression"], ours["below worse"]),
        scoring.merged(ours["improvement"], ours["below better"]),
    )
    regressions = scoring.score(cells, ours["regression"], ours["improvement"])
    report(regressions, scoring.score(cells, theirs), detection)


def run_scenarios(seed: int, workers: int) -> None:
    print(
        f"{'scenario':<38}{'tensorbench P / R / F1':>24}{'alarms/1000':>12}"
        f"{'asv P / R / F1':>22}{'alarms/1000':>12}  outliers listed"
    )
    for scenario in scenarios(seed):
        res = evaluate_scenario(scenario, workers)
        cells = []
        for det in ("tensorbench", "asv"):
            d = res[det]
            prf = scoring.prf(d) if res["what"] == "F1" else (np.nan, np.nan, np.nan)
            cells.append("".join(f"{x:>8.3f}" for x in prf) + f"{d['alarms']:>12.2f}")
        print(f"{res['name']:<38}{cells[0]}  {cells[1]}  {res['outliers']:>8}")


def cross_env(paths: list[Path], seed: int, workers: int) -> list[dict]:
    """Both detectors on every database and on the synthetic multi-machine set: flagged
    regressions, checkable, corroborated (by the same detector in another env), the share."""
    sets = [(path.name, load_results(path).table, None) for path in paths]
    t0 = time.perf_counter()
    me = multi_env(seed)
    sets.append(("synthetic multi-machine", me.table, me))
    t_gen = time.perf_counter() - t0
    print(
        f"flagged / checkable / corroborated / share (range) / share (first bad within "
        f"{AGREE_TOL}); 'before' is our detector without cross-environment agreement"
    )
    head = f"{'set':<26}{'envs':>5}  {'detector':<13}{'flagged':>8}{'check':>7}{'corr':>6}"
    print(head + f"{'share':>7}{'point':>7}{'P':>7}{'R':>7}")
    out = []
    for name, table, truth in sets:
        result = crossenv.evaluate_set(name, table, truth, workers)
        n_envs = result["n_envs"]
        for det, a in result["res"].items():
            pr = f"{a['precision']:>7.3f}{a['recall']:>7.3f}" if truth is not None else ""
            share = (
                f"{a['share']:>7.2f}{a['share_point']:>7.2f}"
                if a["checkable"]
                else ("   not checkable" if n_envs > 1 else "   single env")
            )
            label = name if det == "before" else ""
            print(
                f"{label:<26}{(n_envs if det == 'before' else ''):>5}  {det:<13}"
                f"{a['flagged']:>8}{a['checkable']:>7}{a['corroborated']:>6}{share}{pr}"
            )
        if n_envs > 1 and not result["res"]["tensorbench"]["checkable"]:
            print(f"{'':<33}(its environments ran disjoint commits: nothing to compare)")
        out.append(result)
    print(f"(synthetic set: {len(me.table)} points, generated in {t_gen:.1f} s)")
    return out


def diagnose(result: dict, det: str = "before") -> None:
    counts = crossenv.diagnose(result, det)
    when = "before agreement" if det == "before" else "with agreement"
    print(
        f"{result['name']}: {sum(counts.values())} checkable regressions not flagged "
        f"elsewhere, {when}:"
    )
    for why, k in counts.most_common():
        print(f"  {k:>5}  {why}")


def explain(name: str, table, ours) -> None:
    """Why a database with one environment flags what it flags: co-moving benchmarks (the
    same commits move other benchmarks of the same env), transient episodes, sizes."""
    import pandas as pd

    co = crossenv.co_moving(table, ours)
    order = dict(zip(table["commit"].astype(str), table["commit_order"], strict=False))
    fb = ours["first_bad_commit"].map(order).to_numpy()
    ratio = ours["ratio"].to_numpy()
    print(
        f"{name}: {len(ours)} regressions, {int((ours['fails_gate']).sum())} open; "
        f"{int((co >= 1).sum())} with at least one other benchmark of the same env changing "
        f"within 3 commits ({int((co >= 3).sum())} with three or more); "
        f"{int(ours['resolved'].sum())} resolved by a later change; "
        f"{int((ours['noise_model'] != 'normal').sum())} on noisy/bimodal series; sizes: median "
        f"x{np.median(ratio):.2f}, {int((ratio >= 1.2).sum())} of x1.2 or more"
    )
    groups = pd.Series(fb).value_counts()
    print("  commits moving most benchmarks (first bad commit order: regressions there):")
    print("   ", ", ".join(f"{int(k)}: {int(v)}" for k, v in groups.head(8).items()))
    for k in groups.head(3).index:
        at = ours[fb == k]
        print(
            f"  e.g. {str(at['first_bad_commit'].iloc[0])[:8]} "
            f"({at['first_bad_date'].iloc[0]:%Y-%m-%d}): "
            + ", ".join(f"{b} x{x:.2f}" for b, x in zip(at["benchmark"], at["ratio"], strict=True))
        )
    lone = ours[co == 0]
    print(f"  regressions with no other benchmark of the same env moving: {len(lone)}")
    for r in lone.head(5).itertuples(index=False):
        print(
            f"    {r.benchmark} [{r.param_key}] at {str(r.first_bad_commit)[:8]}: "
            f"x{r.ratio:.3f} [{r.ratio_low:.3f}, {r.ratio_high:.3f}], p {r.significance:.1e}, "
            f"noise {r.noise:.1%} ({r.noise_model})"
        )


def _real(paths: list[Path], seed: int, workers: int) -> None:
    results = cross_env(paths, seed, workers)
    print()
    for r in results:
        if r["truth"] is not None or r["res"]["before"]["checkable"]:
            diagnose(r)
            diagnose(r, "tensorbench")
    for r in results:
        if r["truth"] is None and not r["res"]["before"]["checkable"]:
            print()
            explain(r["name"], r["table"], r["rows"]["tensorbench"])


def speed(repeats: int = 3) -> int:
    """Time `find_regressions` over every series of a 1,000 x 100 x 3 database (best of 3)."""
    with tempfile.TemporaryDirectory(prefix="tb-speed-") as tmp:
        root = Path(tmp) / "results"
        t0 = time.perf_counter()
        write_asv_db(root, speed_cells())
        t1 = time.perf_counter()
        table = load_results(root).table
        t2 = time.perf_counter()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        found = find_regressions(table, threshold=THRESHOLD)
        times.append(time.perf_counter() - t)
    n_series = table.groupby(["benchmark", "param_key"], observed=True).ngroups
    print(
        f"{len(table)} points, {n_series} series: write {t1 - t0:.1f} s, load {t2 - t1:.1f} s, "
        f"find_regressions best {min(times):.2f} s of {', '.join(f'{x:.2f}' for x in times)} "
        f"({len(found)} changes)"
    )
    return 0


class _Tee(io.StringIO):
    """Prints and keeps what was printed (for the generated document)."""

    def write(self, text: str) -> int:
        sys.__stdout__.write(text)
        return super().write(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--run-share", type=float, default=RUN_SHARE)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument(
        "--speed", action="store_true", help="only time a scan of a 300k-point database"
    )
    ap.add_argument(
        "--real",
        type=Path,
        nargs="*",
        default=None,
        help="only compare the detectors across environments, on these asv results "
        f"databases (none named: every folder in {REAL}) and the synthetic multi-machine set",
    )
    ap.add_argument("--doc", type=Path, default=DOC, help=f"generated document (default {DOC})")
    ap.add_argument("--no-doc", action="store_true", help="print only")
    args = ap.parse_args(argv)
    if args.speed:
        return speed()
    every_db = sorted(p for p in REAL.glob("*") if p.is_dir())
    if args.real is not None:
        # only the cross-environment comparison, printed
        _real(args.real or every_db, args.seed, args.workers)
        return 0
    sections: list[tuple[str, str]] = []
    for title, run in (
        ("Synthetic histories with known steps", lambda: synthetic(args)),
        ("Scenarios that look like real CI", lambda: run_scenarios(args.seed, args.workers)),
        ("Across environments", lambda: _real(every_db, args.seed, args.workers)),
    ):
        buf = _Tee()
        with contextlib.redirect_stdout(buf):
            print(f"== {title}")
            run()
            print()
        sections.append((title, buf.getvalue()))
    if not args.no_doc:
        write_doc(args.doc, sections, args)
        print(f"wrote {args.doc}")
    return 0


FINDINGS = [
    "## What we found: why flagged regressions were not seen elsewhere",
    "",
    "On the real 1,772-commit history (4 machines, 7 environments; not at hand here) 83 of our "
    "186 flagged regressions (0.45) were flagged by us in another environment at the same "
    "place, against 128 of 168 (0.77) for asv. The synthetic multi-machine set reproduces the "
    "gap (`before` above), and the breakdown (`... before agreement`) says where it comes from, "
    "in this order of weight:",
    "",
    "1. **One environment moving alone: host episodes.** Our detector lists every significant "
    "level change as a regression, including one undone a few runs later (shown 'resolved', "
    "never failing the gate). A host-drift blip of a few runs, or a stretch of slow host "
    "wander, moves every benchmark of one environment at once, so one episode makes dozens of "
    "rows that no other environment can see. asv lists only regressions still present at the "
    "newest commit, and its Potts fit needs more evidence per step, so it flags fewer of "
    "these (and far fewer true slowdowns too: its recall above). Transient and env-only rows "
    "are most of `before`'s unconfirmed ones.",
    "2. **Placement, when environments ran different commits.** One that runs every 3rd commit, "
    "or a random 60 %, can only place a change within its own gap; noise moves the robust fit "
    "a commit or two more. Comparing first bad commits (`point`) loses about a tenth of the "
    "agreements that comparing the commit ranges each environment's change could lie in keeps "
    "(`share` vs `point`).",
    "3. **Per-environment thresholds.** The same change of 5-8 % reaches the threshold in one "
    "environment and stays 'below threshold' (or under a noisy one's floor) in another.",
    "4. **Ranged regressions.** Small steps joined into one range end where each environment's "
    "accumulation first reaches the threshold, which differs between them; a few rows.",
    "",
    "Outlier rejection taking a step's first points did not show up as a bucket here: an "
    "outlier needs both sides' medians on the same side of it, which a step's first point never "
    "has. Env-only true steps (a change that costs one platform) are real and stay unconfirmed "
    "by design: they are why the share cannot be 1.",
    "",
    "**What changed** (`tensorbench.analysis.corroboration`, `regressions` step 8): every change "
    "is checked on the other environments' own values over its commit range +- 3. Another "
    "environment *corroborates* it when it shifts the same way significantly by at least a "
    "third of the change (and half the threshold); it *ran the commits without moving* only "
    "when its own run-to-run SD lets it say so with 99 % confidence (a noisy environment's "
    "silence is no evidence). Corroborated changes are promoted: ranked first, and one held "
    "back only by its series' noise floor becomes a regression. Changes no other environment "
    "corroborates while one ran the same commits steadily are demoted: listed after the others "
    "('contradicted') and not gate-failing unless large (the near end of the 99 % interval at "
    "least twice the minimum effect). Changes nobody else could check stay as they were. The "
    "single-environment figures above are unchanged by this (nothing there can be checked).",
    "",
]


def write_doc(path: Path, sections: list[tuple[str, str]], args: argparse.Namespace) -> None:
    """The generated evaluation document: the method in a few lines and the printed figures."""
    lines = [
        "# Regression detector: evaluation (generated)",
        "",
        "Written by `scripts/eval_regressions.py` (seed "
        f"{args.seed}); do not edit by hand, rerun the script. The method is in the README "
        "(Regressions) and `tensorbench/analysis/regressions.py`.",
        "",
        "- Synthetic: a hit is a first bad commit within "
        f"{TOLERANCE} commits of a true step; every other regression reported is a false "
        "alarm (for tensorbench, improvements on step-free series too). `overall (all)` counts "
        'the steps of exactly the threshold (5 %), which the rule "reported when the estimate '
        'reaches the threshold" reports about half the time by definition; `overall (> thr)` '
        "leaves them out. With 300 of the 1,200 steps at exactly the threshold, that rule caps "
        "`overall (all)` recall near (1200 - 150) / 1200 = 0.875, so F1 near 0.93, for any honest "
        "estimator. `detection (all)` scores the change detector itself: a slowdown listed "
        '"below threshold" (never a regression, never fails the gate) counts as found, and every '
        "row of any kind on a step-free series is a false alarm (`all, detection`).",
        "- Scenarios: per-commit values (2 % noise, 2 % slow runs) with the named fault; "
        "`alarms/1000` are regressions reported on step-free series per 1,000 points; "
        "`outliers listed` counts fast outlier rows (kind 'outlier').",
        "- Across environments (`--real` prints this section alone): every database in "
        "../shared/data and a synthetic multi-machine set (`multi_env`: "
        f"{len(MULTI_ENVS)} machine/env pairs with run CVs of 1-8 % running every commit, "
        "every 2nd or 3rd, or a random 60-80 %; shared steps (code changes, each machine's "
        "cost 0.8-1.25x), a few env-only steps, slow host wander, host-drift blips of 1-6 runs "
        "slowing a whole env, bimodal series, slow runs). Each detector is judged by itself: a "
        "flagged regression is *checkable* when another env of the same benchmark and "
        f"parameters ran a commit within {AGREE_TOL} of its range (last good + 1 .. first bad) "
        "with 3 runs either side, *corroborated* when the same detector flagged a regression "
        f"there whose range lies within {AGREE_TOL} commits of it; share = corroborated / "
        "checkable (`point`: first bad commits within 3 instead, as the figures quoted for the "
        "real 1,772-commit history were taken). asv: `detect_steps` with its 2/|ci_99| "
        "weights + `detect_regressions` at 5 %, per machine/env series, as `asv publish` does. "
        "Ours: `before` is every regression row without cross-environment agreement; "
        "`tensorbench` the regressions it flags now (demoted ones are listed but not counted). "
        "P/R (synthetic only): a flagged regression is right when a true slowdown of its series "
        "lies in its range +- 3; recall is over true slowdowns of at least 5 % with 3 runs "
        "either side.",
        "",
    ]
    for title, text in sections:
        lines += [f"## {title}", "", "```", text.rstrip().split("\n", 1)[-1], "```", ""]
    lines += FINDINGS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
