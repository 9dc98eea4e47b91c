"""Seeded synthetic histories with known steps, the truth the evaluation scores against.

For every step size in ``STEPS`` and noise CV in ``CVS``: ``N_STEP_SERIES`` series with one
persistent upward step at a random commit in [``EDGE``, N_COMMITS - ``EDGE``);
``N_FLAT_SERIES`` step-free series per CV; creeps of four +2 % steps (scored apart); and steps
of 1.5 x the threshold. Noise is lognormal with the given CV per timing sample, ``RUN_SHARE``
of its variance shared by the run and the rest between the ``N_SAMPLES`` samples of the run
(whose median asv stores). A noisy neighbour slows a run, never speeds it up: with probability
``OUTLIER_P`` a run is slowed by 10-80 %, and with probability ``BURST_P`` two in a row are.

The draws are part of the results: the order of every ``rng`` call is kept as it was, so a
seed gives the same histories, and the same figures, as before.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

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
TOLERANCE = 2  # commits between a reported first bad commit and the true one
CREEP = (4, 0.02)  # extra cells, outside the overall score: 4 steps of +2 % (+8.2 % in all)
CREEP_SPACING = 8
THRESHOLD = 0.05
NEAR_STEP = 0.075  # 1.5 x THRESHOLD


@dataclass
class Cell:
    """One benchmark of the synthetic suite: a (step, CV) cell, one series per replicate."""

    name: str
    step: float  # 0 for step-free, -1 for a creep
    cv: float
    truth: np.ndarray  # first bad commit index per replicate (-1: none)
    samples: np.ndarray  # replicate x commit x sample
    last: np.ndarray | None = None  # creeps: the last step's commit (truth is the first)


def lognormal_noise(rng: np.random.Generator, cv: float, size: tuple[int, ...]) -> np.ndarray:
    """Multiplicative noise with mean 1 and coefficient of variation ``cv``."""
    sigma = np.sqrt(np.log1p(cv**2))
    return rng.lognormal(-(sigma**2) / 2, sigma, size)


def commit_hash(i: int) -> str:
    """The synthetic commit ``i``'s hash (stable: it names the result files)."""
    return hashlib.sha1(f"eval-commit-{i}".encode()).hexdigest()


def robust_sd(x: np.ndarray) -> np.ndarray:
    """1.4826 x the median absolute deviation along the last axis (rare outliers do not
    dominate it)."""
    med = np.median(x, axis=-1, keepdims=True)
    return 1.4826 * np.median(np.abs(x - med), axis=-1)


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
    run = level * lognormal_noise(rng, cv * np.sqrt(run_share), (reps, n_commits))
    # A noisy neighbour slows a whole run, never speeds it up; now and then two in a row.
    slow = rng.random((reps, n_commits)) < OUTLIER_P
    burst = rng.random((reps, n_commits)) < BURST_P
    slow |= burst | (np.roll(burst, 1, axis=1) & (np.arange(n_commits) > 0))
    run *= np.where(slow, rng.uniform(1.1, 1.8, (reps, n_commits)), 1.0)
    within = cv * np.sqrt(1 - run_share)
    return truth, run[..., None] * lognormal_noise(rng, within, (reps, n_commits, n_samples))


def generate(
    seed: int = SEED,
    run_share: float = RUN_SHARE,
    n_step_series: int = N_STEP_SERIES,
    n_flat_series: int = N_FLAT_SERIES,
) -> list[Cell]:
    """The evaluation suite: one Cell per (step, CV), step-free cells last within each CV,
    then the creeps and the near-threshold steps. Smaller ``n_*_series`` give a quick set
    (tests); the defaults are the evaluation's."""
    rng = np.random.default_rng(seed)
    cells = []
    for cv in CVS:
        for step in (*STEPS, 0.0):
            reps = n_step_series if step else n_flat_series
            truth, samples = history(rng, reps, N_COMMITS, step, cv, run_share)
            name = f"eval.Step{round(step * 100):02d}.time_cv{round(cv * 100)}"
            cells.append(Cell(name, step, cv, truth, samples))
    for cv in CVS[:2]:
        truth, samples = history(
            rng, n_step_series, N_COMMITS, CREEP[1], cv, run_share, N_SAMPLES, CREEP[0]
        )
        last = truth + CREEP_SPACING * (CREEP[0] - 1)
        cells.append(Cell(f"eval.Creep.time_cv{round(cv * 100)}", -1.0, cv, truth, samples, last))
    # Steps 1.5x the threshold, drawn after the cells above so that their draws are unchanged:
    # at a step of exactly the threshold, "estimate >= threshold" is a coin toss by definition.
    for cv in CVS:
        truth, samples = history(rng, n_step_series, N_COMMITS, NEAR_STEP, cv, run_share)
        name = f"eval.Step{round(NEAR_STEP * 1000):03d}.time_cv{round(cv * 100)}"
        cells.append(Cell(name, NEAR_STEP, cv, truth, samples))
    return cells


def speed_cells(n_commits: int = 1000, n_bench: int = 100, n_params: int = 3) -> list[Cell]:
    """A database of 1,000 commits x 100 benchmarks x 3 parameters (for timing a scan): a
    third of the series with a step, CVs mixed."""
    rng = np.random.default_rng(SEED)
    cells = []
    for b in range(n_bench):
        step = (0.0, 0.0, 0.1)[b % 3]
        cv = CVS[b % len(CVS)]
        truth, samples = history(rng, n_params, n_commits, step, cv, n_samples=5)
        cells.append(Cell(f"speed.Bench{b:03d}.time_it", step, cv, truth, samples))
    return cells


def point_cv(cells: list[Cell]) -> dict[float, float]:
    """Per CV, the mean robust SD of the step-free series' log values: the per-commit noise
    that the per-sample CV and the run share give."""
    return {
        c.cv: float(np.mean(robust_sd(np.log(np.median(c.samples, axis=2)))))
        for c in cells
        if not c.step
    }
