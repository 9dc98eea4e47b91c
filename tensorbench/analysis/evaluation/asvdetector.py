"""asv's own regression detection, as ``asv publish`` runs it: the baseline we compare with.

``asv.step_detect.detect_steps`` fits a piecewise-constant model to a series (weights 2/|ci_99|
where the result has an interval), and ``detect_regressions`` reports the steps that are still
there at the newest point and at least ``threshold`` (asv's default 5 %). One wrapper, one error
policy: a series asv cannot fit (too short, or its fit raises on degenerate values) has no
regression, as ``asv publish`` would show none.

asv is a third-party import here (not ``tensorbench.asv``), loaded only when a detection runs,
so the rest of the analysis still loads where asv is not installed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from ...conventions import SERIES_KEYS
from .synthetic import THRESHOLD

# (index of the last good point, index of the first bad one, value before, value after)
AsvRegression = tuple[int, int, float, float]


def asv_weights(ci_low: Sequence[float], ci_high: Sequence[float]) -> list[float | None]:
    """asv's weight per point, 2 / |ci_99|; None where the interval is missing or empty."""
    width = np.abs(np.asarray(ci_high, dtype=float) - np.asarray(ci_low, dtype=float))
    return [float(2 / v) if np.isfinite(v) and v > 0 else None for v in width]


def asv_regressions(
    values: Sequence[float], weights: Sequence[float | None] | None = None
) -> list[AsvRegression]:
    """The regressions asv reports on one series, oldest first; none where asv cannot fit it."""
    from asv.step_detect import detect_regressions, detect_steps

    if len(values) < 3:
        return []
    try:
        steps = detect_steps(list(values), None if weights is None else list(weights))
        _, _, found = detect_regressions(steps, threshold=THRESHOLD)
    except (ValueError, ZeroDivisionError, FloatingPointError, OverflowError):
        return []
    return [(int(b), int(a), float(vb), float(va)) for b, a, vb, va in found or ()]


def _detect(job: tuple[list[float], list[float | None] | None]) -> list[AsvRegression]:
    return asv_regressions(*job)


def asv_regressions_many(
    jobs: list[tuple[list[float], list[float | None] | None]], workers: int, chunksize: int = 16
) -> list[list[AsvRegression]]:
    """:func:`asv_regressions` of every (values, weights) job, in order, over ``workers``
    processes (asv's fit is pure Python and slow; the series are independent)."""
    if workers <= 1:
        return [_detect(j) for j in jobs]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_detect, jobs, chunksize=chunksize))


def asv_on_table(table: pd.DataFrame, workers: int) -> pd.DataFrame:
    """asv's regressions on every series (machine x env x benchmark x parameters) of a table in
    `tensorbench.analysis.results`' columns, as rows `corroboration` takes: the series keys,
    kind, last good and first bad commit, ratio. Several results of one commit in a series
    count as their median, as asv keeps one per commit."""
    ok = table[(table["status"] == "ok") & table["value"].notna()].sort_values("commit_order")
    keys, jobs, commits = [], [], []
    for key, s in ok.groupby(SERIES_KEYS, observed=True, sort=True):
        s = s.groupby("commit_order", as_index=False).agg(
            value=("value", "median"),
            commit=("commit", "first"),
            ci_low=("ci_low", "median"),
            ci_high=("ci_high", "median"),
        )
        keys.append(key)
        commits.append(s["commit"].astype(str).to_numpy())
        jobs.append((s["value"].tolist(), asv_weights(s["ci_low"], s["ci_high"])))
    rows = []
    for key, c, found in zip(keys, commits, asv_regressions_many(jobs, workers), strict=True):
        for before_i, after_i, vb, va in found:
            rows.append(
                dict(zip(SERIES_KEYS, key, strict=True))
                | {
                    "kind": "regression",
                    "last_good_commit": c[before_i],
                    "first_bad_commit": c[after_i],
                    "ratio": va / vb if vb else math.nan,
                }
            )
    columns = [*SERIES_KEYS, "kind", "last_good_commit", "first_bad_commit", "ratio"]
    return pd.DataFrame(rows, columns=columns)
