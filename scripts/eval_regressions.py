"""Measure tensorbench's regression detector against asv's on histories with known truth.

Prints figures; it is not a test. Run: ``.venv/bin/python scripts/eval_regressions.py``
(about 20 s on 2 cores; ``--seed N`` for another draw, ``--run-share 0.8`` for noisier runs,
``--speed`` to time a scan of a 300k-point database instead).

What it does (deterministic, seeded):

1. Generates ``N_COMMITS``-commit histories: for every step size in ``STEPS`` (+5 % .. +50 %) and
   noise CV in ``CVS`` (1 %, 3 %, 5 %), ``N_STEP_SERIES`` series with one persistent upward step
   at a random commit in [``EDGE``, N_COMMITS - ``EDGE``); ``N_FLAT_SERIES`` step-free series
   per CV; and, scored apart, creeps of four +2 % steps. Noise is lognormal with the given CV
   per timing sample, ``RUN_SHARE`` of its variance shared by the run (the run's level) and the
   rest between the ``N_SAMPLES`` samples of the run, whose median is the stored result as in
   asv. A noisy neighbour slows a run, never speeds it up: with probability ``OUTLIER_P`` a run
   is slowed by 10-80 %, and with probability ``BURST_P`` two consecutive runs are.
2. Writes them as a real asv results database (format 2: benchmarks.json, machine.json, one
   result file per commit with result_columns, stats_ci_99_a/b, stats_q_25/75 and samples, the
   statistics computed by asv_runner as asv does) in a temporary directory.
3. Loads it through `tensorbench.results.load_results`, runs `tensorbench.regressions` and asv's
   own detector (`asv.step_detect.detect_steps` with asv's weights 2/|ci_99| +
   `detect_regressions` at asv's default 5 % threshold, as `asv publish` does).
4. Scores: a detection is a true positive when its first bad commit is within ``TOLERANCE``
   commits of the true step (one per true step); every other reported regression is a false
   positive. Prints precision, recall, F1 per cell (step x CV), overall (step cells plus the
   false alarms of the step-free series), and false alarms per 1,000 points on the step-free
   series. For tensorbench, reported *improvements* on step-free series count as false alarms
   too (asv reports none by design). The figures are in docs/regressions-evaluation.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tensorbench.analysis.regressions import find_regressions  # noqa: E402
from tensorbench.analysis.results import RESULT_COLUMNS, load_results  # noqa: E402

SEED = 20240611
N_COMMITS = 120
STEPS = (0.05, 0.10, 0.20, 0.50)
CVS = (0.01, 0.03, 0.05)
N_STEP_SERIES = 100  # per (step, CV) cell
N_FLAT_SERIES = 200  # per CV
N_SAMPLES = 10
RUN_SHARE = 0.5  # share of the noise variance that is between runs (the rest is within)
EDGE = 15
OUTLIER_P = 0.02
BURST_P = 0.005
TOLERANCE = 2
CREEP = (4, 0.02)  # extra cells, outside the overall score: 4 steps of +2 % (+8.2 % in all)
CREEP_SPACING = 8
THRESHOLD = 0.05


@dataclass
class Cell:
    """One benchmark of the synthetic suite: a (step, CV) cell, one series per replicate."""

    name: str
    step: float  # 0 for step-free
    cv: float
    truth: np.ndarray  # first bad commit index per replicate (-1: none)
    samples: np.ndarray  # replicate x commit x sample
    last: np.ndarray | None = None  # creeps: the last step's commit (truth is the first)


def _lognormal(rng: np.random.Generator, cv: float, size: tuple[int, ...]) -> np.ndarray:
    """Multiplicative noise with mean 1 and coefficient of variation ``cv``."""
    sigma = np.sqrt(np.log1p(cv**2))
    return rng.lognormal(-(sigma**2) / 2, sigma, size)


def history(
    rng: np.random.Generator,
    reps: int,
    n_commits: int,
    step: float,
    cv: float,
    run_share: float = RUN_SHARE,
    n_samples: int = N_SAMPLES,
    n_steps: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """``reps`` histories: (first bad commit per series or -1, samples [rep, commit, sample]).

    ``n_steps`` > 1 makes a creep: that many steps of ``step``, ``CREEP_SPACING`` apart.
    """
    level = np.ones((reps, n_commits)) * rng.uniform(1e-4, 1e-2, (reps, 1))
    truth = np.full(reps, -1)
    if step:
        span = CREEP_SPACING * (n_steps - 1)
        truth = rng.integers(EDGE, n_commits - EDGE - span, reps)
        for j in range(n_steps):
            at = truth + j * CREEP_SPACING
            level[np.arange(n_commits)[None, :] >= at[:, None]] *= 1 + step
    run = level * _lognormal(rng, cv * np.sqrt(run_share), (reps, n_commits))
    # A noisy neighbour slows a whole run, never speeds it up; now and then two in a row.
    slow = rng.random((reps, n_commits)) < OUTLIER_P
    burst = rng.random((reps, n_commits)) < BURST_P
    slow |= burst | (np.roll(burst, 1, axis=1) & (np.arange(n_commits) > 0))
    run *= np.where(slow, rng.uniform(1.1, 1.8, (reps, n_commits)), 1.0)
    within = cv * np.sqrt(1 - run_share)
    return truth, run[..., None] * _lognormal(rng, within, (reps, n_commits, n_samples))


def generate(seed: int = SEED, run_share: float = RUN_SHARE) -> list[Cell]:
    """The evaluation suite: one Cell per (step, CV), step-free cells last within each CV."""
    rng = np.random.default_rng(seed)
    cells = []
    for cv in CVS:
        for step in (*STEPS, 0.0):
            reps = N_STEP_SERIES if step else N_FLAT_SERIES
            truth, samples = history(rng, reps, N_COMMITS, step, cv, run_share)
            name = f"eval.Step{round(step * 100):02d}.time_cv{round(cv * 100)}"
            cells.append(Cell(name, step, cv, truth, samples))
    for cv in CVS[:2]:
        truth, samples = history(
            rng, N_STEP_SERIES, N_COMMITS, CREEP[1], cv, run_share, N_SAMPLES, CREEP[0]
        )
        last = truth + CREEP_SPACING * (CREEP[0] - 1)
        cells.append(Cell(f"eval.Creep.time_cv{round(cv * 100)}", -1.0, cv, truth, samples, last))
    return cells


def speed_cells(n_commits: int = 1000, n_bench: int = 100, n_params: int = 3) -> list[Cell]:
    """A database the size the issue names (1,000 commits x 100 benchmarks x 3 parameters):
    a third of the series with a step, CVs mixed."""
    rng = np.random.default_rng(SEED)
    cells = []
    for b in range(n_bench):
        step = (0.0, 0.0, 0.1)[b % 3]
        cv = CVS[b % len(CVS)]
        truth, samples = history(rng, n_params, n_commits, step, cv, n_samples=5)
        cells.append(Cell(f"speed.Bench{b:03d}.time_it", step, cv, truth, samples))
    return cells


def _robust_sd(x: np.ndarray) -> np.ndarray:
    med = np.median(x, axis=-1, keepdims=True)
    return 1.4826 * np.median(np.abs(x - med), axis=-1)


def _commit(i: int) -> str:
    return hashlib.sha1(f"eval-commit-{i}".encode()).hexdigest()


def write_asv_db(root: Path, cells: list[Cell]) -> None:
    """Write ``cells`` as an asv results database (format 2) under ``root``."""
    from asv_runner.statistics import compute_stats

    machine = "evalbox"
    env = "virtualenv-py3.11"
    (root / machine).mkdir(parents=True)
    benchmarks = {
        c.name: {
            "name": c.name,
            "type": "time",
            "unit": "seconds",
            "param_names": ["replicate"],
            "params": [[str(r) for r in range(len(c.truth))]],
            "version": "1",
            "timeout": 60,
        }
        for c in cells
    }
    benchmarks["version"] = 2
    (root / "benchmarks.json").write_text(json.dumps(benchmarks))
    (root / machine / "machine.json").write_text(
        json.dumps({"machine": machine, "arch": "x86_64", "cpu": "synthetic", "version": 1})
    )
    t0 = 1_700_000_000_000
    n_commits, n_samples = cells[0].samples.shape[1:]
    for i in range(n_commits):
        results = {}
        for c in cells:
            cols: dict[str, list] = {k: [] for k in RESULT_COLUMNS}
            for r in range(len(c.truth)):
                s = c.samples[r, i].tolist()
                value, stats = compute_stats(s, 1)
                cols["result"].append(float(value))
                cols["stats_ci_99_a"].append(float(stats["ci_99_a"]))
                cols["stats_ci_99_b"].append(float(stats["ci_99_b"]))
                cols["stats_q_25"].append(float(stats["q_25"]))
                cols["stats_q_75"].append(float(stats["q_75"]))
                cols["stats_number"].append(1)
                cols["stats_repeat"].append(n_samples)
                cols["samples"].append(s)
            results[c.name] = [
                cols["result"],
                benchmarks[c.name]["params"],
                "1",
                t0 + i * 3_600_000,
                1.0,
                cols["stats_ci_99_a"],
                cols["stats_ci_99_b"],
                cols["stats_q_25"],
                cols["stats_q_75"],
                cols["stats_number"],
                cols["stats_repeat"],
                cols["samples"],
                None,
            ]
        commit = _commit(i)
        doc = {
            "commit_hash": commit,
            "env_name": env,
            "date": t0 + i * 3_600_000,
            "params": {"machine": machine, "python": "3.11"},
            "python": "3.11",
            "requirements": {},
            "env_vars": {},
            "result_columns": RESULT_COLUMNS,
            "results": results,
            "durations": {},
            "version": 2,
        }
        (root / machine / f"{commit[:8]}-{env}.json").write_text(json.dumps(doc))


def _replicate(params: dict) -> int:
    return int(str(params["replicate"]).strip("'\""))


def _asv_one(args: tuple[list[float], list[float]]) -> list[int]:
    """First bad indices asv reports for one series (as `asv publish` + regressions do)."""
    from asv.step_detect import detect_regressions, detect_steps

    y, w = args
    steps = detect_steps(y, w)
    _, _, pos = detect_regressions(steps, threshold=THRESHOLD)
    return [after for _before, after, _vb, _va in pos or ()]


def run_asv(table, workers: int) -> dict[tuple[str, int], list[int]]:
    ok = table[table["status"] == "ok"].sort_values("commit_order")
    keys, jobs = [], []
    for (bench, _pk), s in ok.groupby(["benchmark", "param_key"], observed=True, sort=True):
        width = (s["ci_high"] - s["ci_low"]).abs().to_numpy()
        w = np.where(np.isfinite(width) & (width > 0), 2.0 / np.where(width > 0, width, 1), np.nan)
        keys.append((str(bench), _replicate(s["params"].iloc[0])))
        jobs.append((s["value"].tolist(), [None if np.isnan(v) else float(v) for v in w]))
    with ProcessPoolExecutor(workers) as pool:
        found = list(pool.map(_asv_one, jobs, chunksize=32))
    return dict(zip(keys, found, strict=True))


def run_tensorbench(table) -> tuple[dict[tuple[str, int], list[int]], dict, float]:
    t0 = time.perf_counter()
    found = find_regressions(table, threshold=THRESHOLD)
    elapsed = time.perf_counter() - t0
    order = {c: i for c, i in zip(table["commit"], table["commit_order"], strict=True)}
    reg: dict[tuple[str, int], list[int]] = {}
    imp: dict[tuple[str, int], list[int]] = {}
    for r in found.itertuples(index=False):
        key = (str(r.benchmark), _replicate(r.params))
        (reg if r.kind == "regression" else imp).setdefault(key, []).append(
            order[r.first_bad_commit]
        )
    return reg, imp, elapsed


def score(cells: list[Cell], found: dict, extra_false: dict | None = None) -> dict:
    """Per-cell counts: tp, fp, fn, points (step-free cells: false alarms)."""
    out = {}
    for c in cells:
        tp = fp = fn = 0
        for r, truth in enumerate(c.truth):
            hits = list(found.get((c.name, r), []))
            if extra_false is not None and not c.step:
                hits += extra_false.get((c.name, r), [])
            end = truth if c.last is None else c.last[r]
            matched = truth >= 0 and any(truth - TOLERANCE <= h <= end + TOLERANCE for h in hits)
            tp += int(matched)
            fn += int(truth >= 0 and not matched)
            fp += len(hits) - int(matched)
        out[(c.step, c.cv)] = {"tp": tp, "fp": fp, "fn": fn, "points": len(c.truth) * N_COMMITS}
    return out


def _prf(d: dict) -> tuple[float, float, float]:
    p = d["tp"] / (d["tp"] + d["fp"]) if d["tp"] + d["fp"] else 1.0
    r = d["tp"] / (d["tp"] + d["fn"]) if d["tp"] + d["fn"] else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def _row(label: str, a: tuple[float, ...], b: tuple[float, ...]) -> str:
    return f"{label:<16}" + "".join(
        f"{x:>10.3f}" if i % 3 == 0 else f"{x:>8.3f}" for i, x in enumerate((*a, *b))
    )


def _alarms(label: str, a: dict, b: dict) -> str:
    return (
        f"{label:<16}{a['fp']:>8} = {1000 * a['fp'] / a['points']:5.2f}/1000"
        f"{b['fp']:>12} = {1000 * b['fp'] / b['points']:5.2f}/1000"
    )


def report(ours: dict, theirs: dict) -> dict[str, tuple[float, ...]]:
    """Print the comparison; returns the overall (P, R, F1) per detector."""
    steps = [k for k in ours if k[0] > 0]
    flat = [k for k in ours if k[0] == 0]
    creeps = [k for k in ours if k[0] < 0]
    print(f"{'cell':<16}{'tensorbench P / R / F1':>26}{'asv P / R / F1':>26}")
    for key in steps:
        print(_row(f"+{key[0]:.0%} CV {key[1]:.0%}", _prf(ours[key]), _prf(theirs[key])))
    # Overall: every step cell and every false alarm on the step-free series (creeps apart).
    overall = {}
    for name, res in (("tensorbench", ours), ("asv", theirs)):
        tot = {k: sum(res[c][k] for c in steps + flat) for k in ("tp", "fp", "fn")}
        overall[name] = _prf(tot)
    print(_row("overall", overall["tensorbench"], overall["asv"]))
    print()
    print(f"{'step-free':<16}{'tensorbench false alarms':>26}{'asv false alarms':>26}")
    for key in flat:
        print(_alarms(f"CV {key[1]:.0%}", ours[key], theirs[key]))
    sums = [{k: sum(r[c][k] for c in flat) for k in ("fp", "points")} for r in (ours, theirs)]
    print(_alarms("all", *sums))
    if creeps:
        print()
        n, step = CREEP
        print(
            f"creeps: {n} steps of +{step:.0%} every {CREEP_SPACING} commits; a hit is a first "
            f"bad commit from the first step - {TOLERANCE} to the last + {TOLERANCE} (not in "
            "the overall score)"
        )
        for key in creeps:
            print(_row(f"creep CV {key[1]:.0%}", _prf(ours[key]), _prf(theirs[key])))
    return overall


def speed(repeats: int = 3) -> int:
    """Time `find_regressions` over every series of a 1,000 x 100 x 3 database (best of 3)."""
    cells = speed_cells()
    with tempfile.TemporaryDirectory(prefix="tb-speed-") as tmp:
        root = Path(tmp) / "results"
        t0 = time.perf_counter()
        write_asv_db(root, cells)
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--run-share", type=float, default=RUN_SHARE)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument(
        "--speed", action="store_true", help="only time a scan of a 300k-point database"
    )
    args = ap.parse_args(argv)
    if args.speed:
        return speed()
    t0 = time.perf_counter()
    cells = generate(args.seed, args.run_share)
    n_series = sum(len(c.truth) for c in cells)
    with tempfile.TemporaryDirectory(prefix="tb-eval-") as tmp:
        root = Path(tmp) / "results"
        write_asv_db(root, cells)
        t1 = time.perf_counter()
        db = load_results(root)
        table = db.table
        t2 = time.perf_counter()
    ours, ours_imp, t_ours = run_tensorbench(table)
    t3 = time.perf_counter()
    theirs = run_asv(table, args.workers)
    t4 = time.perf_counter()
    print(
        f"{n_series} series x {N_COMMITS} commits = {len(table)} points; seed {args.seed}; "
        f"threshold {THRESHOLD:.0%}; match within {TOLERANCE} commits"
    )
    print(
        f"write {t1 - t0:.1f} s, load {t2 - t1:.1f} s, tensorbench {t_ours:.2f} s, "
        f"asv {t4 - t3:.1f} s ({args.workers} processes)"
    )
    point_cv = {
        # robust (1.4826 x MAD), so the rare outliers do not dominate the figure
        c.cv: float(np.mean(_robust_sd(np.log(np.median(c.samples, axis=2)))))
        for c in cells
        if not c.step
    }
    print(
        f"noise: sample CV {', '.join(f'{cv:.0%}' for cv in CVS)}, {args.run_share:.0%} of its "
        f"variance between runs -> per-commit value CV "
        + ", ".join(f"{v:.2%}" for v in point_cv.values())
        + " (robust SD of log values)"
    )
    print()
    report(score(cells, ours, ours_imp), score(cells, theirs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
