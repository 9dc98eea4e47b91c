"""Per-commit histories that look like real CI, each with one fault, scored as the synthetic
cells are: outliers both ways, a machine change, a runner upgrade, bimodal benchmarks, a slow
drift, missing commits, and zero/negative/huge values.

As in :mod:`.synthetic`, the order of the ``rng`` draws is part of the results.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from ..regressions import find_regressions
from .asvdetector import asv_regressions_many
from .scoring import score_series
from .synthetic import EDGE, N_COMMITS, OUTLIER_P, SEED, THRESHOLD, commit_hash, lognormal_noise

N_SCENARIO = 200  # series per scenario
SCENARIO_CV = 0.02  # per-commit value noise
_STEPS = (0.10, 0.20, 0.50)


class Scenario(NamedTuple):
    """A set of series with one fault: what it scores ('F1', 'alarms' or 'info'), values
    [series, commit] (NaN: not measured) and the first bad commit per series (-1: none)."""

    name: str
    what: str
    values: np.ndarray
    truth: np.ndarray


def _ci_series(rng: np.random.Generator, reps: int, cv: float = SCENARIO_CV) -> np.ndarray:
    """Per-commit values around random levels, with the usual slow runs (OUTLIER_P)."""
    level = rng.uniform(1e-4, 1e-2, (reps, 1)) * np.ones((reps, N_COMMITS))
    y = level * lognormal_noise(rng, cv, (reps, N_COMMITS))
    slow = rng.random((reps, N_COMMITS)) < OUTLIER_P
    return y * np.where(slow, rng.uniform(1.1, 1.8, (reps, N_COMMITS)), 1.0)


def _steps(rng: np.random.Generator, y: np.ndarray, sizes: tuple[float, ...]) -> np.ndarray:
    """One upward step per series of ``y`` (in place), of a size drawn from ``sizes``; returns
    the truth."""
    truth = rng.integers(EDGE, N_COMMITS - EDGE, len(y))
    factor = rng.choice(sizes, len(y))
    y *= np.where(np.arange(N_COMMITS)[None, :] >= truth[:, None], 1 + factor[:, None], 1.0)
    return truth


def _half_stepped(rng: np.random.Generator, y: np.ndarray, sizes=_STEPS) -> np.ndarray:
    """Steps on the first half of the series; the truth of all of them."""
    truth = _steps(rng, y[: N_SCENARIO // 2], sizes)
    return np.r_[truth, np.full(N_SCENARIO - truth.size, -1)]


def _outliers(rng: np.random.Generator, y: np.ndarray, per_100: float) -> None:
    """``per_100`` extra outliers per 100 points, half fast (0.5-0.9x), half slow (1.2-2x)."""
    hit = rng.random(y.shape) < per_100 / 100
    fast = rng.random(y.shape) < 0.5
    y *= np.where(
        hit, np.where(fast, rng.uniform(0.5, 0.9, y.shape), rng.uniform(1.2, 2, y.shape)), 1
    )


def _host_changes(rng: np.random.Generator) -> list[Scenario]:
    """A machine change (the level moves either way and the noise grows at one commit), and a
    runner upgrade (noise triples, the level stays)."""
    y = _ci_series(rng, N_SCENARIO)
    at = rng.integers(EDGE, N_COMMITS - EDGE, N_SCENARIO)
    up = rng.random(N_SCENARIO) < 0.5
    factor = np.where(up, rng.uniform(1.1, 1.5, N_SCENARIO), 1 / rng.uniform(1.1, 1.5, N_SCENARIO))
    after = np.arange(N_COMMITS)[None, :] >= at[:, None]
    y = np.where(after, y * factor[:, None] * lognormal_noise(rng, 0.02, y.shape), y)
    out = [Scenario("machine change (+-10-50 %, noisier)", "F1", y, np.where(up, at, -1))]
    y = _ci_series(rng, N_SCENARIO, 0.01)
    at = rng.integers(EDGE, N_COMMITS - EDGE, (N_SCENARIO, 1))
    y = np.where(np.arange(N_COMMITS)[None, :] >= at, y * lognormal_noise(rng, 0.03, y.shape), y)
    out.append(Scenario("runner upgrade (noise x3)", "alarms", y, np.full(N_SCENARIO, -1)))
    return out


def _broken_data(rng: np.random.Generator) -> list[Scenario]:
    """A quarter of the commits not measured; and one zero, one negative and one huge value
    in a third of the series (a broken run); steps on half the series of each."""
    y = _ci_series(rng, N_SCENARIO)
    truth = _half_stepped(rng, y)
    y[rng.random(y.shape) < 0.25] = np.nan
    out = [Scenario("missing commits (25 %)", "F1", y, truth)]
    y = _ci_series(rng, N_SCENARIO)
    truth = _half_stepped(rng, y)
    for i in range(0, N_SCENARIO, 3):
        j = rng.choice(np.arange(2, N_COMMITS - 2), 3, replace=False)
        y[i, j] = (0.0, -y[i, j[1]], y[i, j[2]] * 1e6)
    out.append(Scenario("zero/negative/huge values", "F1", y, truth))
    return out


def scenarios(seed: int = SEED) -> list[Scenario]:
    """Every scenario, drawn from one generator seeded ``seed + 1``."""
    rng = np.random.default_rng(seed + 1)
    out = []
    for per in (1.0, 2.0):
        y = _ci_series(rng, N_SCENARIO)
        truth = _half_stepped(rng, y)
        _outliers(rng, y, per)
        out.append(Scenario(f"outliers {per:g}/100 both ways", "F1", y, truth))
    out += _host_changes(rng)
    # Bimodal benchmarks: two levels 5-15 % apart taking turns, 10-40 % of runs on the slow one.
    gap = rng.uniform(0.05, 0.15, (N_SCENARIO, 1))
    share = rng.uniform(0.1, 0.4, (N_SCENARIO, 1))
    y = _ci_series(rng, N_SCENARIO, 0.005) * np.where(
        rng.random((N_SCENARIO, N_COMMITS)) < share, 1 + gap, 1
    )
    truth = _half_stepped(rng, y, (0.3, 0.5))
    out.append(Scenario("bimodal (+30/50 % steps on half)", "F1", y, truth))
    # A slow drift: +0.05 % a commit (6 % over the history); reported, not scored.
    y = _ci_series(rng, N_SCENARIO) * (1.0005 ** np.arange(N_COMMITS))[None, :]
    out.append(Scenario("slow drift (+6 % over 120 commits)", "info", y, np.full(N_SCENARIO, -1)))
    return out + _broken_data(rng)


def scenario_table(name: str, y: np.ndarray) -> pd.DataFrame:
    """The measured values of ``y`` as a table in `tensorbench.analysis.results`' columns: one
    benchmark ``name``, a series per row of ``y`` (parameter ``replicate``)."""
    reps, n = y.shape
    commits = [commit_hash(i) for i in range(n)]
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


def evaluate_scenario(scenario: Scenario, workers: int) -> dict:
    """Both detectors on one scenario: per detector tp/fp/fn and false alarms per 1,000
    points (`scoring.score_series`), and how many fast outliers ours listed."""
    y, truth = scenario.values, scenario.truth
    found = find_regressions(
        scenario_table(scenario.name, y), threshold=THRESHOLD, kinds=("regression", "outlier")
    )
    index = {commit_hash(i): i for i in range(N_COMMITS)}
    ours: dict[int, list[int]] = {}
    for r in found[found["kind"] == "regression"].itertuples(index=False):
        ours.setdefault(r.params["replicate"], []).append(index[r.first_bad_commit])
    measured = [np.flatnonzero(np.isfinite(row)) for row in y]
    jobs = [(y[r, idx].tolist(), None) for r, idx in enumerate(measured)]
    theirs = {
        r: [int(measured[r][after]) for _before, after, _vb, _va in hits]
        for r, hits in enumerate(asv_regressions_many(jobs, workers))
    }
    return {
        "name": scenario.name,
        "what": scenario.what,
        "tensorbench": score_series(truth, ours, y),
        "asv": score_series(truth, theirs, y),
        "outliers": int((found["kind"] == "outlier").sum()),
    }
