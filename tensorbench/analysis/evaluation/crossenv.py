"""Across environments: is a flagged regression seen by the other environments that ran it?

Each detector is judged by itself. A flagged regression is *checkable* when another
environment of the same benchmark and parameters ran a commit within ``AGREE_TOL`` of its range
[last good + 1, first bad] with 3 runs either side, and *corroborated* when the same detector
flagged a regression there, same direction, whose range lies within ``AGREE_TOL`` of it. On
the synthetic set (:mod:`.multienv`) the truth also gives precision and recall.
"""

from __future__ import annotations

import collections
import math

import numpy as np
import pandas as pd

from ...conventions import SERIES_KEYS
from ..regressions import find_regressions
from .asvdetector import asv_on_table
from .multienv import MultiEnv
from .synthetic import THRESHOLD

AGREE_TOL = 3  # commits: "the same place"
DETECTORS = ("before", "tensorbench", "asv")  # before: ours without cross-env agreement


def orders(table: pd.DataFrame) -> tuple[dict, dict]:
    """commit -> order, and (machine, env, benchmark, param_key) -> sorted orders it ran."""
    ok = table[(table["status"] == "ok") & table["value"].notna()]
    order = dict(zip(ok["commit"].astype(str), ok["commit_order"], strict=False))
    ran = {
        tuple(str(v) for v in k): np.unique(s.to_numpy())
        for k, s in ok.groupby(SERIES_KEYS, observed=True)["commit_order"]
    }
    return order, ran


def _checkable(key: tuple, me: tuple, lg: int, fb: int, ran: dict, envs_of: dict) -> bool:
    """Whether another environment ran a commit near [lg + 1, fb] with 3 runs either side."""
    for m, e in envs_of.get(key, []):
        if (m, e) == me:
            continue
        o = ran[(m, e, *key)]
        near = np.any((o >= lg + 1 - AGREE_TOL) & (o <= fb + AGREE_TOL))
        if near and (o <= lg).sum() >= 3 and (o >= fb).sum() >= 3:
            return True
    return False


def agreement(flagged: pd.DataFrame, partners: pd.DataFrame, table: pd.DataFrame) -> dict:
    """For each flagged regression: checkable, and corroborated by one of ``partners`` (rows
    of the same detector) of another environment; ``point``: that row's first bad commit
    within ``AGREE_TOL`` of this one's. Counts, shares and the per-row masks."""
    order, ran = orders(table)
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
        ok = _checkable(key, me, lg, fb, ran, envs_of)
        others = [p for p in by.get(key, []) if p[:2] != me and p[4] == r.direction]
        checkable.append(ok)
        tol = AGREE_TOL
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


def truth_hits(rows: pd.DataFrame, me: MultiEnv, order: dict) -> np.ndarray:
    """Whether each flagged row matches a true upward step of its series (range +- tol)."""
    out = []
    for r in rows.itertuples(index=False):
        lg, fb = order[str(r.last_good_commit)], order[str(r.first_bad_commit)]
        steps = me.truth.get((str(r.machine), str(r.env), str(r.benchmark)), [])
        out.append(any(lg + 1 - AGREE_TOL <= c <= fb + AGREE_TOL and x > 1 for c, x, _ in steps))
    return np.asarray(out, bool)


def recall(rows: pd.DataFrame, me: MultiEnv, table: pd.DataFrame) -> tuple[int, int]:
    """(found, due): true slowdowns of at least the threshold that the env could see (3 runs
    either side), and how many of them a flagged row covers (range +- tol)."""
    order, ran = orders(table)
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


def ours_cross(table: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """Ours with agreement (flagged: regressions not demoted), every regression with it, every
    regression without it (as before agreement), and every row of the first run."""
    every = find_regressions(
        table, threshold=THRESHOLD, kinds=("regression", "improvement", "below threshold")
    )
    regs = every[every["kind"] == "regression"]
    plain = find_regressions(table, threshold=THRESHOLD, corroborate=False)
    plain = plain[plain["kind"] == "regression"]
    return regs[regs["agreement"] != "contradicted"], regs, plain, every


def evaluate_set(name: str, table: pd.DataFrame, truth: MultiEnv | None, workers: int) -> dict:
    """Both detectors on one database: per detector (`DETECTORS`) its `agreement` figures
    (and, where ``truth`` is known, precision and recall), its rows, and the database's
    number of environments."""
    ok = table[(table["status"] == "ok") & table["value"].notna()]
    n_envs = ok.groupby(["machine", "env"], observed=True).ngroups
    flagged, regs, plain, every = ours_cross(table)
    asv = asv_on_table(table, workers).assign(direction="worse")
    res = {
        "before": agreement(plain, plain, table),
        "tensorbench": agreement(flagged, regs, table),
        "asv": agreement(asv, asv, table),
    }
    rows_of = {"before": plain, "tensorbench": flagged, "asv": asv}
    if truth is not None:
        order, _ = orders(table)
        for det, a in res.items():
            hits = truth_hits(rows_of[det], truth, order)
            found, due = recall(rows_of[det], truth, table)
            a["precision"] = float(hits.mean()) if hits.size else math.nan
            a["recall"] = found / due if due else math.nan
    return {
        "name": name,
        "table": table,
        "truth": truth,
        "res": res,
        "rows": rows_of,
        "regs": regs,
        "every": every,
        "n_envs": n_envs,
    }


def _why(r, near: pd.DataFrame) -> str:
    """The first reason that applies to a checkable, uncorroborated regression row."""
    if r.resolved:
        return "transient (undone later; asv lists only what is still there)"
    if len(near) and (near["kind"] == "below threshold").all():
        return "seen elsewhere below the threshold or noise floor"
    if r.n_steps > 1:
        return "ranged regression (accumulated small steps)"
    return "moved in this environment only"


def diagnose(result: dict, det: str = "before") -> collections.Counter:
    """Why flagged regressions of ``det`` ('before' or 'tensorbench') were not seen elsewhere:
    each checkable, uncorroborated one counted in one bucket (the first that applies), with
    whether it was a true step or a host-drift blip where the truth is known."""
    table, me, flagged = result["table"], result["truth"], result["rows"][det]
    a = result["res"][det]
    order, _ = orders(table)
    worse = result["every"][result["every"]["direction"] == "worse"]
    hits = truth_hits(flagged, me, order) if me is not None else None
    counts: collections.Counter = collections.Counter()
    for i, r in enumerate(flagged.itertuples(index=False)):
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
        why = _why(r, o[(o_fb >= lg + 1 - AGREE_TOL) & (o_lg + 1 <= fb + AGREE_TOL)])
        if hits is not None:
            blip = any(
                b0 - AGREE_TOL <= fb <= b1 + AGREE_TOL for b0, b1, _ in me.blips[(r.machine, r.env)]
            )
            why += " [true step]" if hits[i] else (" [host-drift blip]" if blip else " [no step]")
        counts[why] += 1
    return counts


def co_moving(table: pd.DataFrame, ours: pd.DataFrame) -> np.ndarray:
    """Per regression row of ``ours``: how many rows of other benchmarks of the same
    environment (any kind) have a first bad commit within 3 commits of its own."""
    every = find_regressions(
        table, threshold=THRESHOLD, kinds=("regression", "improvement", "below threshold")
    )
    order = dict(zip(table["commit"].astype(str), table["commit_order"], strict=False))
    fb = ours["first_bad_commit"].map(order).to_numpy()
    other_fb = every["first_bad_commit"].map(order).to_numpy()
    bench, env = every["benchmark"].to_numpy(), every["env"].to_numpy()
    return np.array(
        [
            int(((np.abs(other_fb - x) <= 3) & (bench != b) & (env == e)).sum())
            for x, b, e in zip(fb, ours["benchmark"], ours["env"], strict=True)
        ]
    )
