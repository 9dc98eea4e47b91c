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
3. Loads it through `tensorbench.analysis.results.load_results`, runs `tensorbench.regressions` and asv's
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
import contextlib
import hashlib
import io
import json
import math
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
from tensorbench.paths import SERIES_KEYS as SERIES  # noqa: E402

SEED = 20240611
REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "asv-results"
DOC = Path(__file__).resolve().parents[1] / "docs" / "regressions-evaluation.md"
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
NEAR_STEP = 0.075  # 1.5 x THRESHOLD


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
    # Steps 1.5x the threshold, drawn after the cells above so that their draws are unchanged:
    # at a step of exactly the threshold, "estimate >= threshold" is a coin toss by definition.
    for cv in CVS:
        truth, samples = history(rng, N_STEP_SERIES, N_COMMITS, NEAR_STEP, cv, run_share)
        name = f"eval.Step{round(NEAR_STEP * 1000):03d}.time_cv{round(cv * 100)}"
        cells.append(Cell(name, NEAR_STEP, cv, truth, samples))
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


def run_tensorbench(table) -> tuple[dict[str, dict[tuple[str, int], list[int]]], float]:
    """Ours on ``table``: first-bad commit orders per (cell name, replicate), by row kind, and
    seconds. Kinds: 'regression', 'improvement', 'below worse', 'below better' (the rows listed
    "below threshold", by direction)."""
    t0 = time.perf_counter()
    found = find_regressions(
        table, threshold=THRESHOLD, kinds=("regression", "improvement", "below threshold")
    )
    elapsed = time.perf_counter() - t0
    order = {c: i for c, i in zip(table["commit"], table["commit_order"], strict=True)}
    by_kind: dict[str, dict[tuple[str, int], list[int]]] = {
        k: {} for k in ("regression", "improvement", "below worse", "below better")
    }
    for r in found.itertuples(index=False):
        kind = r.kind if r.kind != "below threshold" else f"below {r.direction}"
        key = (str(r.benchmark), _replicate(r.params))
        by_kind[kind].setdefault(key, []).append(order[r.first_bad_commit])
    return by_kind, elapsed


def merged(*found: dict) -> dict:
    out: dict = {}
    for f in found:
        for k, v in f.items():
            out.setdefault(k, []).extend(v)
    return out


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


def report(ours: dict, theirs: dict, detection: dict | None = None) -> dict[str, tuple[float, ...]]:
    """Print the comparison; returns the overall (P, R, F1) per detector.

    ``detection`` scores ours as a change detector: a slowdown listed "below threshold" counts
    as found, and every row on a step-free series as a false alarm (asv has no such list: its
    column repeats its regressions)."""
    steps = [k for k in ours if k[0] > 0]
    flat = [k for k in ours if k[0] == 0]
    creeps = [k for k in ours if k[0] < 0]
    print(f"{'cell':<16}{'tensorbench P / R / F1':>26}{'asv P / R / F1':>26}")
    for key in steps:
        print(_row(f"+{key[0]:.1%} CV {key[1]:.0%}", _prf(ours[key]), _prf(theirs[key])))
    # Overall: every step cell and every false alarm on the step-free series (creeps apart).
    # "above threshold" leaves out the steps of exactly the threshold, which the rule "reported
    # when the estimate reaches the threshold" reports about half the time by definition.
    overall = {}
    above = [k for k in steps if k[0] > THRESHOLD + 1e-9]
    for label, cells in (("overall (all)", steps), ("overall (> thr)", above)):
        for name, res in (("tensorbench", ours), ("asv", theirs)):
            tot = {k: sum(res[c][k] for c in cells + flat) for k in ("tp", "fp", "fn")}
            overall[(label, name)] = _prf(tot)
        print(_row(label, overall[(label, "tensorbench")], overall[(label, "asv")]))
    if detection is not None:
        label = "detection (all)"
        tot = {k: sum(detection[c][k] for c in steps + flat) for k in ("tp", "fp", "fn")}
        overall[(label, "tensorbench")] = _prf(tot)
        overall[(label, "asv")] = overall[("overall (all)", "asv")]
        print(_row(label, overall[(label, "tensorbench")], overall[(label, "asv")]))
    print()
    print(f"{'step-free':<16}{'tensorbench false alarms':>26}{'asv false alarms':>26}")
    for key in flat:
        print(_alarms(f"CV {key[1]:.0%}", ours[key], theirs[key]))
    sums = [{k: sum(r[c][k] for c in flat) for k in ("fp", "points")} for r in (ours, theirs)]
    print(_alarms("all", *sums))
    if detection is not None:
        det = {k: sum(detection[c][k] for c in flat) for k in ("fp", "points")}
        print(_alarms("all, detection", det, sums[1]))
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


# --------------------------------------------------------------------------------------------
# Scenarios that look like real CI (per-commit values; scored as above)

N_SCENARIO = 200  # series per scenario
SCENARIO_CV = 0.02  # per-commit value noise


def _ci_series(rng: np.random.Generator, reps: int, cv: float = SCENARIO_CV) -> np.ndarray:
    """Per-commit values around random levels, with the usual slow runs (OUTLIER_P)."""
    level = rng.uniform(1e-4, 1e-2, (reps, 1)) * np.ones((reps, N_COMMITS))
    y = level * _lognormal(rng, cv, (reps, N_COMMITS))
    slow = rng.random((reps, N_COMMITS)) < OUTLIER_P
    return y * np.where(slow, rng.uniform(1.1, 1.8, (reps, N_COMMITS)), 1.0)


def _steps(rng: np.random.Generator, y: np.ndarray, sizes: tuple[float, ...]) -> np.ndarray:
    """One upward step per series, of a size drawn from ``sizes``; returns the truth."""
    truth = rng.integers(EDGE, N_COMMITS - EDGE, len(y))
    factor = rng.choice(sizes, len(y))
    y *= np.where(np.arange(N_COMMITS)[None, :] >= truth[:, None], 1 + factor[:, None], 1.0)
    return truth


def _outliers(rng: np.random.Generator, y: np.ndarray, per_100: float) -> None:
    """``per_100`` extra outliers per 100 points, half fast (0.5-0.9x), half slow (1.2-2x)."""
    hit = rng.random(y.shape) < per_100 / 100
    fast = rng.random(y.shape) < 0.5
    y *= np.where(
        hit, np.where(fast, rng.uniform(0.5, 0.9, y.shape), rng.uniform(1.2, 2, y.shape)), 1
    )


def scenarios(seed: int = SEED) -> list[tuple[str, str, np.ndarray, np.ndarray, np.ndarray]]:
    """(name, what it scores, values [series, commit] (NaN: not measured), truth (-1: none),
    scored mask) per scenario."""
    rng = np.random.default_rng(seed + 1)
    out = []
    steps = (0.10, 0.20, 0.50)
    for per in (1.0, 2.0):
        y = _ci_series(rng, N_SCENARIO)
        truth = _steps(rng, y[: N_SCENARIO // 2], steps)
        truth = np.r_[truth, np.full(N_SCENARIO - truth.size, -1)]
        _outliers(rng, y, per)
        out.append((f"outliers {per:g}/100 both ways", "F1", y, truth))
    # A machine change: the level moves (either way) and the noise changes at one commit.
    y = _ci_series(rng, N_SCENARIO)
    at = rng.integers(EDGE, N_COMMITS - EDGE, N_SCENARIO)
    up = rng.random(N_SCENARIO) < 0.5
    factor = np.where(up, rng.uniform(1.1, 1.5, N_SCENARIO), 1 / rng.uniform(1.1, 1.5, N_SCENARIO))
    after = np.arange(N_COMMITS)[None, :] >= at[:, None]
    y = np.where(after, y * factor[:, None] * _lognormal(rng, 0.02, y.shape), y)
    out.append(("machine change (+-10-50 %, noisier)", "F1", y, np.where(up, at, -1)))
    # A runner upgrade: noise triples, the level stays.
    y = _ci_series(rng, N_SCENARIO, 0.01)
    at = rng.integers(EDGE, N_COMMITS - EDGE, (N_SCENARIO, 1))
    y = np.where(np.arange(N_COMMITS)[None, :] >= at, y * _lognormal(rng, 0.03, y.shape), y)
    out.append(("runner upgrade (noise x3)", "alarms", y, np.full(N_SCENARIO, -1)))
    # Bimodal benchmarks: two levels 5-15 % apart taking turns, 10-40 % of runs on the slow one.
    gap = rng.uniform(0.05, 0.15, (N_SCENARIO, 1))
    share = rng.uniform(0.1, 0.4, (N_SCENARIO, 1))
    y = _ci_series(rng, N_SCENARIO, 0.005) * np.where(
        rng.random((N_SCENARIO, N_COMMITS)) < share, 1 + gap, 1
    )
    truth = _steps(rng, y[: N_SCENARIO // 2], (0.3, 0.5))
    out.append(
        ("bimodal (+30/50 % steps on half)", "F1", y, np.r_[truth, np.full(N_SCENARIO // 2, -1)])
    )
    # A slow drift: +0.05 % a commit (6 % over the history); reported, not scored.
    y = _ci_series(rng, N_SCENARIO) * (1.0005 ** np.arange(N_COMMITS))[None, :]
    out.append(("slow drift (+6 % over 120 commits)", "info", y, np.full(N_SCENARIO, -1)))
    # Missing commits: a quarter of the commits not measured; steps on half the series.
    y = _ci_series(rng, N_SCENARIO)
    truth = _steps(rng, y[: N_SCENARIO // 2], steps)
    y[rng.random(y.shape) < 0.25] = np.nan
    out.append(("missing commits (25 %)", "F1", y, np.r_[truth, np.full(N_SCENARIO // 2, -1)]))
    # Zero, negative and huge values: one of each in a third of the series (a broken run).
    y = _ci_series(rng, N_SCENARIO)
    truth = _steps(rng, y[: N_SCENARIO // 2], steps)
    for i in range(0, N_SCENARIO, 3):
        j = rng.choice(np.arange(2, N_COMMITS - 2), 3, replace=False)
        y[i, j] = (0.0, -y[i, j[1]], y[i, j[2]] * 1e6)
    out.append(("zero/negative/huge values", "F1", y, np.r_[truth, np.full(N_SCENARIO // 2, -1)]))
    return out


def _scenario_table(name: str, y: np.ndarray):
    import pandas as pd

    reps, n = y.shape
    commits = [_commit(i) for i in range(n)]
    t = pd.DataFrame(
        {
            "machine": "sim",
            "env": "venv",
            "commit": np.tile(commits, reps),
            "commit_date": np.tile(
                pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"), reps
            ),
            "commit_order": np.tile(np.arange(n), reps),
            "benchmark": name,
            "kind": "time",
            "param_key": np.repeat([f"replicate={r}" for r in range(reps)], n),
            "params": [{"replicate": r} for r in np.repeat(np.arange(reps), n)],
            "value": y.ravel(),
            "status": "ok",
            "unit": "seconds",
        }
    )
    return t[t["value"].notna()]


def _asv_plain(y: list[float]) -> list[int]:
    from asv.step_detect import detect_regressions, detect_steps

    try:
        _, _, pos = detect_regressions(detect_steps(y), threshold=THRESHOLD)
    except (ValueError, ZeroDivisionError, FloatingPointError, OverflowError):
        return []
    return [after for _b, after, _vb, _va in pos or ()]


def run_scenarios(seed: int, workers: int) -> list[dict]:
    """Score both detectors on `scenarios`; prints a row per scenario and returns them."""
    rows = []
    print(
        f"{'scenario':<38}{'tensorbench P / R / F1':>24}{'alarms/1000':>12}"
        f"{'asv P / R / F1':>22}{'alarms/1000':>12}  outliers listed"
    )
    for name, what, y, truth in scenarios(seed):
        table = _scenario_table(name, y)
        found = find_regressions(table, threshold=THRESHOLD, kinds=("regression", "outlier"))
        index = {_commit(i): i for i in range(N_COMMITS)}
        ours: dict[int, list[int]] = {}
        for r in found[found["kind"] == "regression"].itertuples(index=False):
            ours.setdefault(r.params["replicate"], []).append(index[r.first_bad_commit])
        n_out = int((found["kind"] == "outlier").sum())
        jobs = []
        for r in range(len(y)):
            idx = np.flatnonzero(np.isfinite(y[r]))
            jobs.append((idx, y[r, idx].tolist()))
        with ProcessPoolExecutor(workers) as pool:
            found_asv = list(pool.map(_asv_plain, [j[1] for j in jobs], chunksize=16))
        theirs = {r: [int(jobs[r][0][k]) for k in f] for r, f in enumerate(found_asv)}
        res = {}
        for det, hits in (("tensorbench", ours), ("asv", theirs)):
            tp = fp = fn = 0
            flat_fp = flat_points = 0
            for r, t in enumerate(truth):
                h = hits.get(r, [])
                matched = t >= 0 and any(abs(x - t) <= TOLERANCE for x in h)
                tp += int(matched)
                fn += int(t >= 0 and not matched)
                fp += len(h) - int(matched)
                if t < 0:
                    flat_fp += len(h)
                    flat_points += int(np.isfinite(y[r]).sum())
            res[det] = {
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "alarms": 1000 * flat_fp / max(flat_points, 1),
            }
        cells = []
        for det in ("tensorbench", "asv"):
            d = res[det]
            prf = _prf(d) if what == "F1" else (math.nan, math.nan, math.nan)
            cells.append("".join(f"{x:>8.3f}" for x in prf) + f"{d['alarms']:>12.2f}")
        print(f"{name:<38}{cells[0]}  {cells[1]}  {n_out:>8}")
        rows.append({"name": name, "what": what, **{d: res[d] for d in res}, "outliers": n_out})
    return rows


# --------------------------------------------------------------------------------------------
# Across environments: is a flagged regression seen by the other environments that ran it?

# Synthetic multi-machine histories: (machine, env, CV of a run's samples, which commits it runs)
MULTI_ENVS = (
    ("m1", "py3.11", 0.01, "every"),
    ("m1", "py3.12", 0.02, "every 2nd"),
    ("m2", "py3.11", 0.03, "every 3rd"),
    ("m2", "py3.12", 0.05, "random 60 %"),
    ("m3", "py3.11", 0.08, "every"),
    ("m3", "py3.12", 0.06, "random 80 %"),
    ("m4", "py3.11", 0.04, "random 60 %"),
)
MULTI_COMMITS = 400
MULTI_BENCH = 60
MULTI_STEPS_PER_BENCH = 2.5  # shared steps (code changes) per benchmark, Poisson mean
MULTI_SIZES = (0.02, 0.03, 0.04, 0.06, 0.08, 0.10, 0.15, 0.25, 0.50)
MULTI_WANDER = 0.02  # SD of an environment's slow level wander (AR(1), host state)
MULTI_ENV_STEP_P = 0.04  # share of (benchmark, env) series with a step of their own
MULTI_BLIPS = 4  # host-drift blips per environment: every benchmark of it, a few runs
MULTI_BIMODAL_P = 0.08  # share of series with two interleaved levels
AGREE_TOL = 3  # commits: "the same place"


@dataclass
class MultiEnv:
    """A synthetic multi-machine database as a table, and what truly happened in it."""

    table: object  # pandas DataFrame in `load_results(...).table`'s columns
    # (machine, env, benchmark) -> [(commit, ratio, "shared" | "env")]
    truth: dict
    blips: dict  # (machine, env) -> [(first commit, last commit, ratio)]


def _schedule(rng: np.random.Generator, how: str, n: int) -> np.ndarray:
    if how == "every":
        return np.arange(n)
    if how.startswith("every "):
        k = int(how.split()[1][0])
        return np.arange(int(rng.integers(k)), n, k)
    share = float(how.split()[1]) / 100
    return np.flatnonzero(rng.random(n) < share)


def multi_env(seed: int = SEED, n_bench: int = MULTI_BENCH) -> MultiEnv:
    """Shared steps (a code change: every env that ran the commit sees it, each machine by its
    own factor 0.8-1.25), env-specific steps, env-specific noise and commit schedules (
    `MULTI_ENVS`), one-off host-drift blips (1-4 consecutive runs of one env, every benchmark
    8-25 % slower), bimodal series and the usual slow runs."""
    import pandas as pd
    from asv_runner.statistics import compute_stats

    rng = np.random.default_rng(seed + 7)
    n = MULTI_COMMITS
    commits = [_commit(10_000 + i) for i in range(n)]
    dates = pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC")
    shared: list[list[tuple[int, float]]] = []
    for _ in range(n_bench):
        k = rng.poisson(MULTI_STEPS_PER_BENCH)
        at = rng.integers(EDGE, n - EDGE, k)
        size = rng.choice(MULTI_SIZES, k)
        up = rng.random(k) < 0.65
        shared.append(
            [
                (int(a), float(1 + s if u else 1 / (1 + s)))
                for a, s, u in zip(at, size, up, strict=True)
            ]
        )
    truth: dict = {}
    blips: dict = {}
    frames = []
    for machine, env, cv, how in MULTI_ENVS:
        ran = _schedule(rng, how, n)
        # slow wander of the host (AR(1), shared by the env's benchmarks): noise that is not
        # independent from one run to the next
        wander = np.zeros(n)
        eps = rng.normal(0, MULTI_WANDER * np.sqrt(1 - 0.9**2), n)
        for i in range(1, n):
            wander[i] = 0.9 * wander[i - 1] + eps[i]
        blip_level = np.exp(wander)
        blips[(machine, env)] = []
        for _ in range(MULTI_BLIPS):
            i = int(rng.integers(EDGE, ran.size - EDGE))
            span = ran[i : i + int(rng.integers(1, 7))]
            ratio = float(rng.uniform(1.08, 1.25))
            blip_level[span] *= ratio
            blips[(machine, env)].append((int(span[0]), int(span[-1]), ratio))
        rows = []
        for b in range(n_bench):
            name = f"multi.Bench{b:03d}.time_it"
            level = np.full(n, rng.uniform(1e-4, 1e-2))
            steps = []
            for at, ratio in shared[b]:
                ratio = float(np.exp(np.log(ratio) * rng.uniform(0.8, 1.25)))
                level[at:] *= ratio
                steps.append((at, ratio, "shared"))
            if rng.random() < MULTI_ENV_STEP_P:
                at = int(rng.integers(EDGE, n - EDGE))
                ratio = float(1 + rng.uniform(0.10, 0.40))
                level[at:] *= ratio
                steps.append((at, ratio, "env"))
            truth[(machine, env, name)] = sorted(steps)
            run = level * blip_level * _lognormal(rng, cv * np.sqrt(RUN_SHARE), n)
            if rng.random() < MULTI_BIMODAL_P:
                gap = rng.uniform(0.05, 0.15)
                run *= np.where(rng.random(n) < rng.uniform(0.1, 0.4), 1 + gap, 1.0)
            slow = rng.random(n) < OUTLIER_P
            run *= np.where(slow, rng.uniform(1.1, 1.8, n), 1.0)
            samples = run[:, None] * _lognormal(rng, cv * np.sqrt(1 - RUN_SHARE), (n, N_SAMPLES))
            for i in ran:
                value, stats = compute_stats(samples[i].tolist(), 1)
                rows.append((name, int(i), float(value), stats["ci_99_a"], stats["ci_99_b"]))
        t = pd.DataFrame(rows, columns=["benchmark", "commit_order", "value", "ci_low", "ci_high"])
        t["machine"], t["env"] = machine, env
        frames.append(t)
    t = pd.concat(frames, ignore_index=True)
    t["commit"] = [commits[i] for i in t["commit_order"]]
    t["commit_date"] = dates[t["commit_order"].to_numpy()]
    t["kind"], t["unit"], t["status"], t["param_key"] = "time", "seconds", "ok", ""
    t["params"] = [{} for _ in range(len(t))]
    t["samples"] = None
    return MultiEnv(t, truth, blips)


def _orders(table) -> tuple[dict, dict]:
    """commit -> order, and (machine, env, benchmark, param_key) -> sorted orders it ran."""
    ok = table[(table["status"] == "ok") & table["value"].notna()]
    order = dict(zip(ok["commit"].astype(str), ok["commit_order"], strict=False))
    ran = {
        tuple(str(v) for v in k): np.unique(s.to_numpy())
        for k, s in ok.groupby(SERIES, observed=True)["commit_order"]
    }
    return order, ran


def agreement(flagged, partners, table, tol: int = AGREE_TOL) -> dict:
    """For each flagged regression: checkable (another env of the same benchmark and parameters
    ran a commit within ``tol`` of its range [last good + 1, first bad], with 3 points either
    side) and corroborated (another env's partner row, same direction, has a range within
    ``tol`` of it; ``point``: its first bad commit within ``tol`` of this one's)."""
    order, ran = _orders(table)
    by: dict = {}
    for r in partners.itertuples(index=False):
        key = (str(r.benchmark), str(r.param_key))
        lg, fb = order[str(r.last_good_commit)], order[str(r.first_bad_commit)]
        by.setdefault(key, []).append((str(r.machine), str(r.env), lg, fb, r.direction))
    envs_of: dict = {}
    for m, e, b, p in ran:
        envs_of.setdefault((b, p), []).append((m, e))
    checkable, corr, corr_point = [], [], []
    for r in flagged.itertuples(index=False):
        key = (str(r.benchmark), str(r.param_key))
        lg, fb = order[str(r.last_good_commit)], order[str(r.first_bad_commit)]
        me = (str(r.machine), str(r.env))
        ok = False
        for m, e in envs_of.get(key, []):
            if (m, e) == me:
                continue
            o = ran[(m, e, *key)]
            near = np.any((o >= lg + 1 - tol) & (o <= fb + tol))
            if near and (o <= lg).sum() >= 3 and (o >= fb).sum() >= 3:
                ok = True
        others = [p for p in by.get(key, []) if p[:2] != me and p[4] == r.direction]
        checkable.append(ok)
        corr.append(ok and any(p[2] + 1 <= fb + tol and p[3] >= lg + 1 - tol for p in others))
        corr_point.append(ok and any(abs(p[3] - fb) <= tol for p in others))
    c, k, cp = int(np.sum(corr)), int(np.sum(checkable)), int(np.sum(corr_point))
    return {
        "flagged": len(flagged),
        "checkable": k,
        "corroborated": c,
        "share": c / k if k else math.nan,
        "corroborated_point": cp,
        "share_point": cp / k if k else math.nan,
        "mask_checkable": np.asarray(checkable, bool),
        "mask_corr": np.asarray(corr, bool),
    }


def _truth_hits(rows, me: MultiEnv, order: dict) -> np.ndarray:
    """Whether each flagged row matches a true upward step of its series (range +- tol)."""
    out = []
    for r in rows.itertuples(index=False):
        lg, fb = order[str(r.last_good_commit)], order[str(r.first_bad_commit)]
        steps = me.truth.get((str(r.machine), str(r.env), str(r.benchmark)), [])
        out.append(any(lg + 1 - AGREE_TOL <= c <= fb + AGREE_TOL and x > 1 for c, x, _ in steps))
    return np.asarray(out, bool)


def _recall(rows, me: MultiEnv, table) -> tuple[int, int]:
    """(found, due): true slowdowns of at least the threshold that the env could see (3 runs
    either side), and how many of them a flagged row covers (range +- tol)."""
    order, ran = _orders(table)
    spans: dict = {}
    for r in rows.itertuples(index=False):
        key = (str(r.machine), str(r.env), str(r.benchmark))
        spans.setdefault(key, []).append(
            (order[str(r.last_good_commit)], order[str(r.first_bad_commit)])
        )
    due = found = 0
    for (m, e, b), steps in me.truth.items():
        o = ran.get((m, e, b, ""))
        for c, x, _ in steps:
            if x < 1 + THRESHOLD or o is None or (o < c).sum() < 3 or (o >= c).sum() < 3:
                continue
            due += 1
            found += any(
                lg + 1 - AGREE_TOL <= c <= fb + AGREE_TOL for lg, fb in spans.get((m, e, b), [])
            )
    return found, due


def _ours_cross(table) -> tuple:
    """Ours with agreement (flagged: regressions not demoted) and without it (as before:
    every regression), and every row of the former for the diagnosis."""
    every = find_regressions(
        table, threshold=THRESHOLD, kinds=("regression", "improvement", "below threshold")
    )
    regs = every[every["kind"] == "regression"]
    plain = find_regressions(table, threshold=THRESHOLD, corroborate=False)
    plain = plain[plain["kind"] == "regression"]
    return regs[regs["agreement"] != "contradicted"], regs, plain, every


def cross_env(paths: list[Path], seed: int, workers: int) -> list[dict]:
    """Both detectors on every database and on the synthetic multi-machine set: flagged
    regressions, checkable, corroborated (by the same detector in another env), the share."""

    sets = []
    for path in paths:
        sets.append((path.name, load_results(path).table, None))
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
        ok = table[(table["status"] == "ok") & table["value"].notna()]
        n_envs = ok.groupby(["machine", "env"], observed=True).ngroups
        flagged, regs, plain, every = _ours_cross(table)
        asv = _asv_on_table(table, workers).assign(direction="worse")
        res = {
            "before": agreement(plain, plain, table),
            "tensorbench": agreement(flagged, regs, table),
            "asv": agreement(asv, asv, table),
        }
        rows_of = {"before": plain, "tensorbench": flagged, "asv": asv}
        for det, a in res.items():
            pr = ""
            if truth is not None:
                order, _ = _orders(table)
                hits = _truth_hits(rows_of[det], truth, order)
                found, due = _recall(rows_of[det], truth, table)
                a["precision"] = float(hits.mean()) if hits.size else math.nan
                a["recall"] = found / due if due else math.nan
                pr = f"{a['precision']:>7.3f}{a['recall']:>7.3f}"
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
        if n_envs > 1 and not res["tensorbench"]["checkable"]:
            print(f"{'':<33}(its environments ran disjoint commits: nothing to compare)")
        out.append(
            {
                "name": name,
                "table": table,
                "truth": truth,
                "res": res,
                "rows": rows_of,
                "regs": regs,
                "every": every,
                "n_envs": n_envs,
            }
        )
    print(f"(synthetic set: {len(me.table)} points, generated in {t_gen:.1f} s)")
    return out


def diagnose(result: dict, det: str = "before") -> None:
    """Why flagged regressions were not seen elsewhere (``det``: 'before' agreement or
    'tensorbench' with it): each checkable, uncorroborated one in one bucket (first that
    applies)."""
    import collections

    table, me, plain = result["table"], result["truth"], result["rows"][det]
    a = result["res"][det]
    order, _ = _orders(table)
    every = result["every"]
    worse = every[every["direction"] == "worse"]
    hits = _truth_hits(plain, me, order) if me is not None else None
    counts: collections.Counter = collections.Counter()
    for i, r in enumerate(plain.itertuples(index=False)):
        if not a["mask_checkable"][i] or a["mask_corr"][i]:
            continue
        lg, fb = order[str(r.last_good_commit)], order[str(r.first_bad_commit)]
        o = worse[
            (worse["benchmark"] == r.benchmark)
            & (worse["param_key"] == r.param_key)
            & ((worse["machine"] != r.machine) | (worse["env"] != r.env))
        ]
        o_fb = np.array([order[str(c)] for c in o["first_bad_commit"]], dtype=int)
        o_lg = np.array([order[str(c)] for c in o["last_good_commit"]], dtype=int)
        near = o[(o_fb >= lg + 1 - AGREE_TOL) & (o_lg + 1 <= fb + AGREE_TOL)]
        blip = me is not None and any(
            b0 - AGREE_TOL <= fb <= b1 + AGREE_TOL for b0, b1, _ in me.blips[(r.machine, r.env)]
        )
        if r.resolved:
            why = "transient (undone later; asv lists only what is still there)"
        elif len(near) and (near["kind"] == "below threshold").all():
            why = "seen elsewhere below the threshold or noise floor"
        elif r.n_steps > 1:
            why = "ranged regression (accumulated small steps)"
        else:
            why = "moved in this environment only"
        if hits is not None:
            why += " [true step]" if hits[i] else (" [host-drift blip]" if blip else " [no step]")
        counts[why] += 1
    n = sum(counts.values())
    when = "before agreement" if det == "before" else "with agreement"
    print(f"{result['name']}: {n} checkable regressions not flagged elsewhere, {when}:")
    for why, k in counts.most_common():
        print(f"  {k:>5}  {why}")


# --------------------------------------------------------------------------------------------
# Real databases: no labels, so corroboration across machines/envs is the check


def _asv_on_table(table, workers: int):
    """asv's regressions (as `asv publish` finds them) on every series of a real table, as rows
    `tensorbench.analysis.corroboration.corroborate` takes."""
    import pandas as pd

    ok = table[(table["status"] == "ok") & table["value"].notna()].sort_values("commit_order")
    keys, jobs, commits = [], [], []
    for key, s in ok.groupby(SERIES, observed=True, sort=True):
        s = s.groupby("commit_order", as_index=False).agg(
            value=("value", "median"),
            commit=("commit", "first"),
            ci_low=("ci_low", "median"),
            ci_high=("ci_high", "median"),
        )
        width = (s["ci_high"] - s["ci_low"]).abs().to_numpy()
        w = [float(2 / v) if np.isfinite(v) and v > 0 else None for v in width]
        keys.append(key)
        commits.append(s["commit"].astype(str).to_numpy())
        jobs.append((s["value"].tolist(), w))
    with ProcessPoolExecutor(workers) as pool:
        found = list(pool.map(_asv_full, jobs, chunksize=16))
    rows = []
    for key, c, f in zip(keys, commits, found, strict=True):
        for before_i, after_i, vb, va in f:
            rows.append(
                dict(zip(SERIES, key, strict=True))
                | {
                    "kind": "regression",
                    "last_good_commit": c[before_i],
                    "first_bad_commit": c[after_i],
                    "ratio": va / vb if vb else math.nan,
                }
            )
    return pd.DataFrame(
        rows, columns=[*SERIES, "kind", "last_good_commit", "first_bad_commit", "ratio"]
    )


def _asv_full(args: tuple[list[float], list]) -> list[tuple[int, int, float, float]]:
    from asv.step_detect import detect_regressions, detect_steps

    y, w = args
    if len(y) < 3:
        return []
    try:
        _, _, pos = detect_regressions(detect_steps(y, w), threshold=THRESHOLD)
    except (ValueError, ZeroDivisionError, FloatingPointError, OverflowError):
        return []
    return list(pos or ())


def explain(result: dict) -> None:
    """Why a database with one environment flags what it flags: co-moving benchmarks (the
    same commits move other benchmarks of the same env), transient episodes, sizes."""
    import pandas as pd

    table, ours = result["table"], result["ours"]
    allc = find_regressions(
        table, threshold=THRESHOLD, kinds=("regression", "improvement", "below threshold")
    )
    order = dict(zip(table["commit"].astype(str), table["commit_order"], strict=False))
    fb = ours["first_bad_commit"].map(order).to_numpy()
    other_fb = allc["first_bad_commit"].map(order).to_numpy()
    co = np.array(
        [
            int(
                (
                    (np.abs(other_fb - x) <= 3)
                    & (allc["benchmark"].to_numpy() != b)
                    & (allc["env"].to_numpy() == e)
                ).sum()
            )
            for x, b, e in zip(fb, ours["benchmark"], ours["env"], strict=True)
        ]
    )
    ratio = ours["ratio"].to_numpy()
    print(
        f"{result['name']}: {len(ours)} regressions, {int((ours['fails_gate']).sum())} open; "
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
    real = every_db
    sections: list[tuple[str, str]] = []
    for title, run in (
        ("Synthetic histories with known steps", lambda: synthetic(args)),
        ("Scenarios that look like real CI", lambda: run_scenarios(args.seed, args.workers)),
        ("Across environments", lambda: _real(real, args.seed, args.workers)),
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
            r["ours"] = r["rows"]["tensorbench"]
            explain(r)


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


def synthetic(args: argparse.Namespace) -> None:
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
    ours, t_ours = run_tensorbench(table)
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
    # Regressions are scored against every step. Detection also counts a slowdown listed as
    # "below threshold" as found, and every row on a step-free series as a false alarm.
    detection = score(
        cells,
        merged(ours["regression"], ours["below worse"]),
        merged(ours["improvement"], ours["below better"]),
    )
    regressions = score(cells, ours["regression"], ours["improvement"])
    report(regressions, score(cells, theirs), detection)


if __name__ == "__main__":
    sys.exit(main())
