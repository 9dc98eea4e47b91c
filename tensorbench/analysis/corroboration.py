"""Corroboration: does the same benchmark change at the same commits in other environments?

A change found in one series (machine x env x benchmark x parameters) is corroborated by
another series of the same benchmark and parameters when that series, around the same commits,
shows a significant shift the same way. The check is made on the other series' own values, not
on what a detector reported there, so it judges any detector's output alike (the evaluation
applies it to asv's detector too). Pure pandas/numpy/scipy.

Rule, for a change with last good commit ``lg`` and first bad commit ``fb`` (commit orders of
the whole database) and another series O:

- candidate splits: every commit O measured in [lg + 1 - ``tolerance``, fb + ``tolerance``];
  none means O did not run those commits (neither corroborating nor not seeing it);
- at each, up to ``SIDE`` of O's points before and from it are compared (two-sided
  Mann-Whitney, Hodges-Lehmann shift of log values); a split needs ``MIN_SIDE`` points a side
  to be checked at all;
- O corroborates when some split has p <= ``ALPHA``, the shift's sign equal to the change's,
  and a size of at least half the threshold (machines differ in how much a change costs them);
  O "ran the commits without seeing it" when it was checked and no split qualifies.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

SERIES_KEYS = ["machine", "env", "benchmark", "param_key"]
TOLERANCE = 3  # commits either side
SIDE = 10  # points a side compared
MIN_SIDE = 5  # with fewer, a two-sided rank test cannot reach ALPHA
ALPHA = 0.01
# Kinds that are level changes (an outlier is one run; it is not corroborated).
CHANGE_KINDS = frozenset({"regression", "improvement", "below threshold"})


def series_label(machine: object, env: object) -> str:
    """How a series is named in ``corroborated_by`` / ``not_seen_by``."""
    return f"{machine}:{env}"


def _prepare(points: pd.DataFrame) -> dict[tuple, list[tuple[str, np.ndarray, np.ndarray]]]:
    """Per (benchmark, param_key): [(label, commit orders, working-scale values)], one point per
    commit (re-runs merged by median)."""
    p = points
    if "status" in p:
        p = p[p["status"].eq("ok")]
    v = p["value"].astype(float)
    p = p.loc[v.notna() & np.isfinite(v), [*SERIES_KEYS, "commit_order", "value"]]
    p = p.groupby([*SERIES_KEYS, "commit_order"], observed=True, dropna=False, as_index=False)[
        "value"
    ].median()
    out: dict[tuple, list[tuple[str, np.ndarray, np.ndarray]]] = {}
    for (machine, env, bench, pk), s in p.groupby(SERIES_KEYS, observed=True, dropna=False):
        y = s["value"].to_numpy(float)
        if np.all(y > 0):
            x = np.log(y)
        else:
            x = y / max(float(np.median(np.abs(y))), 1e-300)
        out.setdefault((bench, pk), []).append(
            (series_label(machine, env), s["commit_order"].to_numpy(), x)
        )
    return out


def _seen(
    orders: np.ndarray, x: np.ndarray, lg: int, fb: int, sign: float, min_shift: float
) -> bool | None:
    """True: the series shifts the same way around [lg, fb]; False: checked, no such shift;
    None: it did not run those commits with enough points either side."""
    lo = np.searchsorted(orders, lg + 1 - TOLERANCE, side="left")
    hi = np.searchsorted(orders, fb + TOLERANCE, side="right")
    checked = False
    for j in range(lo, hi):
        before, after = x[max(0, j - SIDE) : j], x[j : j + SIDE]
        if before.size < MIN_SIDE or after.size < MIN_SIDE:
            continue
        checked = True
        shift = float(np.median(np.subtract.outer(after, before)))
        if shift * sign <= 0 or abs(shift) < min_shift:
            continue
        from scipy.stats import mannwhitneyu  # slow to import: only when a shift is tested

        if float(mannwhitneyu(after, before, method="auto").pvalue) <= ALPHA:
            return True
    return False if checked else None


def corroborate(
    changes: pd.DataFrame, points: pd.DataFrame, threshold: float = 0.05
) -> pd.DataFrame:
    """``changes`` with ``corroboration`` (how many other series of the same benchmark and
    parameters show the change), ``corroborated_by`` and ``not_seen_by`` (lists of
    "machine:env") added.

    ``changes`` needs machine, env, benchmark, param_key, kind, ratio, last_good_commit and
    first_bad_commit; ``points`` the table's machine, env, benchmark, param_key, commit,
    commit_order and value (and status, if it has one).
    """
    out = changes.copy()
    n = len(out)
    count = np.zeros(n, dtype=int)
    by: list[list[str]] = [[] for _ in range(n)]
    missed: list[list[str]] = [[] for _ in range(n)]
    if n:
        commits = points[["commit", "commit_order"]].drop_duplicates("commit")
        order = dict(zip(commits["commit"].astype(str), commits["commit_order"], strict=True))
        # only the benchmarks and parameters that changed somewhere need their series
        wanted = pd.MultiIndex.from_frame(out[["benchmark", "param_key"]].astype(str))
        mine = pd.MultiIndex.from_frame(points[["benchmark", "param_key"]].astype(str))
        series = _prepare(points[mine.isin(wanted)])
        min_shift = 0.5 * math.log1p(threshold)
        for i, r in enumerate(out.itertuples(index=False)):
            ratio = float(r.ratio) if r.ratio is not None else math.nan
            if r.kind not in CHANGE_KINDS or not ratio > 0 or ratio == 1:
                continue
            lg, fb = order.get(str(r.last_good_commit)), order.get(str(r.first_bad_commit))
            if lg is None or fb is None:
                continue
            own = series_label(r.machine, r.env)
            for label, orders, x in series.get((r.benchmark, r.param_key), []):
                if label == own:
                    continue
                seen = _seen(orders, x, int(lg), int(fb), math.copysign(1.0, ratio - 1), min_shift)
                if seen:
                    by[i].append(label)
                elif seen is False:
                    missed[i].append(label)
            count[i] = len(by[i])
    out["corroboration"] = count
    out["corroborated_by"] = by
    out["not_seen_by"] = missed
    return out
