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
  and a size of at least half the threshold and ``SHARE`` of the change's own size (machines
  differ in how much a change costs them, but a 3 % wobble elsewhere does not confirm a 20 %
  jump: host drift makes such coincidences common);
- O "ran the commits without seeing it" (``not_seen_by``) only when it says so with
  confidence: ``CONTRA_SIDE`` of its points before the change's range (at or before ``lg``)
  and from its end (at or after ``fb``) differ (Hodges-Lehmann) by so little that the 99 %
  bound in the change's direction, with O's own run-to-run SD, stays below that same
  minimum. A series too noisy to tell, or one that moved by an amount in between, is neither
  (silence from a noisy environment is no evidence). The windows are short so that O's own
  unrelated changes a few commits further do not read as this one.

`agreement` sums this up per change: 'corroborated' (some other series shows it),
'contradicted' (none shows it and at least one ran the commits without moving) or
'unchecked' (nobody else could tell). Comparing the range, not the first bad commit, is what
lets environments that ran different commits agree: one that ran every third commit can only
place a change within three commits.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..paths import SERIES_KEYS
from .changepoints import _compare

TOLERANCE = 3  # commits either side
SIDE = 10  # points a side compared
MIN_SIDE = 5  # with fewer, a two-sided rank test cannot reach ALPHA
ALPHA = 0.01
# Another series' shift must be at least this share of the change's own to corroborate it, and
# a series whose interval excludes this share ran the commits without it.
SHARE = 1 / 3
CONTRA_SIDE = 6  # points a side in the "ran it without moving" test
_Z99 = 2.5758  # two-sided 99 % normal quantile
# Kinds that are level changes (an outlier is one run; it is not corroborated).
CHANGE_KINDS = frozenset({"regression", "improvement", "below threshold"})


def series_label(machine: object, env: object) -> str:
    """How a series is named in ``corroborated_by`` / ``not_seen_by``."""
    return f"{machine}:{env}"


def _prepare(
    points: pd.DataFrame,
) -> dict[tuple, list[tuple[str, np.ndarray, np.ndarray, float]]]:
    """Per (benchmark, param_key): [(label, commit orders, working-scale values, robust
    run-to-run SD)], one point per commit (re-runs merged by median)."""
    p = points
    if "status" in p:
        p = p[p["status"].eq("ok")]
    v = p["value"].astype(float)
    p = p.loc[v.notna() & np.isfinite(v), [*SERIES_KEYS, "commit_order", "value"]]
    p = p.groupby([*SERIES_KEYS, "commit_order"], observed=True, dropna=False, as_index=False)[
        "value"
    ].median()
    out: dict[tuple, list[tuple[str, np.ndarray, np.ndarray, float]]] = {}
    for (machine, env, bench, pk), s in p.groupby(SERIES_KEYS, observed=True, dropna=False):
        y = s["value"].to_numpy(float)
        if np.all(y > 0):
            x = np.log(y)
        else:
            x = y / max(float(np.median(np.abs(y))), 1e-300)
        d = np.diff(x)
        # from successive differences, so the series' own steps barely move it
        sd = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2) if d.size else 0
        out.setdefault((bench, pk), []).append(
            (series_label(machine, env), s["commit_order"].to_numpy(), x, sd)
        )
    return out


def _seen(
    orders: np.ndarray, x: np.ndarray, sd: float, lg: int, fb: int, shift: float, need: float
) -> bool | None:
    """True: the series shifts the same way by at least ``need`` around [lg, fb]; False: it ran
    those commits and its interval says it moved less than ``need``; None: it cannot tell
    (did not run them with enough points either side, or too noisy to say)."""
    sign = math.copysign(1.0, shift)
    lo = np.searchsorted(orders, lg + 1 - TOLERANCE, side="left")
    hi = np.searchsorted(orders, fb + TOLERANCE, side="right")
    for j in range(lo, hi):
        before, after = x[max(0, j - SIDE) : j], x[j : j + SIDE]
        if before.size < MIN_SIDE or after.size < MIN_SIDE:
            continue
        d = float(np.median(np.subtract.outer(after, before)))
        if d * sign < need:
            continue  # cheap test first: most splits of most series do not move
        if _compare(before, after)[0] <= ALPHA:
            return True
    if hi == lo:
        return None  # ran none of the commits near the change
    # One split at the change's range, its own points inside the range left out: "no move"
    # must hold wherever within the range the change happened.
    i = np.searchsorted(orders, lg, side="right")
    k = np.searchsorted(orders, fb, side="left")
    before, after = x[max(0, i - CONTRA_SIDE) : i], x[k : k + CONTRA_SIDE]
    if before.size < MIN_SIDE or after.size < MIN_SIDE or not sd > 0:
        return None
    d = float(np.median(np.subtract.outer(after, before))) * sign
    far = d + _Z99 * sd * math.sqrt(1 / before.size + 1 / after.size)
    return False if far < need else None


def agreement(corroboration: int, not_seen_by: list) -> str:
    """'corroborated', 'contradicted' or 'unchecked' (see the module docstring)."""
    if corroboration > 0:
        return "corroborated"
    return "contradicted" if not_seen_by else "unchecked"


def corroborate(
    changes: pd.DataFrame, points: pd.DataFrame, threshold: float = 0.05
) -> pd.DataFrame:
    """``changes`` with ``corroboration`` (how many other series of the same benchmark and
    parameters show the change), ``corroborated_by``, ``not_seen_by`` (lists of "machine:env")
    and ``agreement`` added.

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
            shift = math.log(ratio)
            need = max(min_shift, SHARE * abs(shift))
            for label, orders, x, sd in series.get((r.benchmark, r.param_key), []):
                if label == own:
                    continue
                seen = _seen(orders, x, sd, int(lg), int(fb), shift, need)
                if seen:
                    by[i].append(label)
                elif seen is False:
                    missed[i].append(label)
            count[i] = len(by[i])
    out["corroboration"] = count
    out["corroborated_by"] = by
    out["not_seen_by"] = missed
    out["agreement"] = [agreement(c, m) for c, m in zip(count, missed, strict=True)]
    return out
