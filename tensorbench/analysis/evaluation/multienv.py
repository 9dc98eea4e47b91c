"""A synthetic multi-machine history, and what truly happened in it.

Shared steps (a code change: every environment that ran the commit sees it, each machine by
its own factor 0.8-1.25), environment-only steps, per-environment noise and commit schedules
(``MULTI_ENVS``), slow host wander (AR(1)), host-drift blips (1-6 consecutive runs of one
environment, every benchmark 8-25 % slower), bimodal series and the usual slow runs.

As in :mod:`.synthetic`, the order of the ``rng`` draws is part of the results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .synthetic import (
    EDGE,
    N_SAMPLES,
    OUTLIER_P,
    RUN_SHARE,
    SEED,
    commit_hash,
    lognormal_noise,
)

# (machine, env, CV of a run's samples, which commits it runs)
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

Step = tuple[int, float, str]  # (commit, ratio, "shared" | "env")


@dataclass
class MultiEnv:
    """A synthetic multi-machine database as a table, and what truly happened in it."""

    table: pd.DataFrame  # in `load_results(...).table`'s columns
    truth: dict[tuple[str, str, str], list[Step]]  # (machine, env, benchmark) -> steps
    blips: dict[tuple[str, str], list[tuple[int, int, float]]]  # -> (first, last, ratio)


def schedule(rng: np.random.Generator, how: str, n: int) -> np.ndarray:
    """The commits an environment runs: "every", "every Nth" or "random P %"."""
    if how == "every":
        return np.arange(n)
    if how.startswith("every "):
        k = int(how.split()[1][0])
        return np.arange(int(rng.integers(k)), n, k)
    share = float(how.split()[1]) / 100
    return np.flatnonzero(rng.random(n) < share)


def _shared_steps(rng: np.random.Generator, n_bench: int, n: int) -> list[list[tuple[int, float]]]:
    """Per benchmark, the code changes every environment sees: (commit, ratio), 65 % up."""
    shared = []
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
    return shared


def _host_level(
    rng: np.random.Generator, ran: np.ndarray, n: int
) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """One environment's host factor per commit (slow AR(1) wander, noise that is not
    independent from one run to the next, times its blips) and the blips."""
    wander = np.zeros(n)
    eps = rng.normal(0, MULTI_WANDER * np.sqrt(1 - 0.9**2), n)
    for i in range(1, n):
        wander[i] = 0.9 * wander[i - 1] + eps[i]
    level = np.exp(wander)
    blips = []
    for _ in range(MULTI_BLIPS):
        i = int(rng.integers(EDGE, ran.size - EDGE))
        span = ran[i : i + int(rng.integers(1, 7))]
        ratio = float(rng.uniform(1.08, 1.25))
        level[span] *= ratio
        blips.append((int(span[0]), int(span[-1]), ratio))
    return level, blips


def _series(
    rng: np.random.Generator, shared: list[tuple[int, float]], host: np.ndarray, cv: float
) -> tuple[list[Step], np.ndarray]:
    """One benchmark in one environment: its true steps and samples [commit, sample]."""
    n = host.size
    level = np.full(n, rng.uniform(1e-4, 1e-2))
    steps = []
    for at, ratio in shared:
        ratio = float(np.exp(np.log(ratio) * rng.uniform(0.8, 1.25)))
        level[at:] *= ratio
        steps.append((at, ratio, "shared"))
    if rng.random() < MULTI_ENV_STEP_P:
        at = int(rng.integers(EDGE, n - EDGE))
        ratio = float(1 + rng.uniform(0.10, 0.40))
        level[at:] *= ratio
        steps.append((at, ratio, "env"))
    run = level * host * lognormal_noise(rng, cv * np.sqrt(RUN_SHARE), n)
    if rng.random() < MULTI_BIMODAL_P:
        gap = rng.uniform(0.05, 0.15)
        run *= np.where(rng.random(n) < rng.uniform(0.1, 0.4), 1 + gap, 1.0)
    slow = rng.random(n) < OUTLIER_P
    run *= np.where(slow, rng.uniform(1.1, 1.8, n), 1.0)
    samples = run[:, None] * lognormal_noise(rng, cv * np.sqrt(1 - RUN_SHARE), (n, N_SAMPLES))
    return sorted(steps), samples


def multi_env(seed: int = SEED, n_bench: int = MULTI_BENCH) -> MultiEnv:
    """The synthetic multi-machine database (`MULTI_ENVS` x ``n_bench`` benchmarks x
    `MULTI_COMMITS` commits) and its truth."""
    from asv_runner.statistics import compute_stats

    rng = np.random.default_rng(seed + 7)
    n = MULTI_COMMITS
    commits = [commit_hash(10_000 + i) for i in range(n)]
    dates = pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC")
    shared = _shared_steps(rng, n_bench, n)
    truth: dict = {}
    blips: dict = {}
    frames = []
    for machine, env, cv, how in MULTI_ENVS:
        ran = schedule(rng, how, n)
        host, blips[(machine, env)] = _host_level(rng, ran, n)
        rows = []
        for b in range(n_bench):
            name = f"multi.Bench{b:03d}.time_it"
            truth[(machine, env, name)], samples = _series(rng, shared[b], host, cv)
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
