"""Score detections against the known truth: hits, misses, false alarms, precision and recall.

A detection is a true positive when its first bad commit is within ``TOLERANCE`` commits of
the true step (for a creep: from its first step - TOLERANCE to its last + TOLERANCE), at most
one per true step; every other reported detection is a false positive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..regressions import find_regressions
from .synthetic import N_COMMITS, THRESHOLD, TOLERANCE, Cell

# (cell name, replicate) -> first bad commit indices reported on that series
Found = dict[tuple[str, int], list[int]]
Counts = dict[str, int]
ROW_KINDS = ("regression", "improvement", "below worse", "below better")


def prf(counts: Mapping[str, int]) -> tuple[float, float, float]:
    """(precision, recall, F1) of tp/fp/fn counts; precision or recall of nothing is 1."""
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def match(truth: int, hits: Sequence[int], end: int | None = None) -> Counts:
    """One series: tp/fp/fn of ``hits`` against a true step at ``truth`` (-1: none), or a
    creep from ``truth`` to ``end``."""
    end = truth if end is None else end
    matched = truth >= 0 and any(truth - TOLERANCE <= h <= end + TOLERANCE for h in hits)
    return {
        "tp": int(matched),
        "fp": len(hits) - int(matched),
        "fn": int(truth >= 0 and not matched),
    }


def score(cells: list[Cell], found: Found, extra_false: Found | None = None) -> dict:
    """Per (step, CV) cell: tp, fp, fn and points. ``extra_false`` are detections that count
    as false alarms on the step-free cells only (improvements, say)."""
    out = {}
    for c in cells:
        tot = {"tp": 0, "fp": 0, "fn": 0}
        for r, truth in enumerate(c.truth):
            hits = list(found.get((c.name, r), []))
            if extra_false is not None and not c.step:
                hits += extra_false.get((c.name, r), [])
            one = match(int(truth), hits, None if c.last is None else int(c.last[r]))
            tot = {k: tot[k] + one[k] for k in tot}
        out[(c.step, c.cv)] = tot | {"points": len(c.truth) * N_COMMITS}
    return out


def total(scores: dict, keys: Iterable, fields: Sequence[str] = ("tp", "fp", "fn")) -> Counts:
    """The counts of ``scores`` summed over the cells ``keys``."""
    keys = list(keys)
    return {k: sum(scores[c][k] for c in keys) for k in fields}


def overall(ours: dict, theirs: dict, detection: dict | None = None) -> dict:
    """(P, R, F1) per (label, detector) over every step cell plus the false alarms of the
    step-free cells (creeps apart). '(> thr)' leaves out the steps of exactly the threshold,
    which "reported when the estimate reaches the threshold" reports half the time by
    definition. ``detection`` scores ours as a change detector (asv has no such list: its
    figure repeats its regressions')."""
    steps = [k for k in ours if k[0] > 0]
    flat = [k for k in ours if k[0] == 0]
    above = [k for k in steps if k[0] > THRESHOLD + 1e-9]
    out = {}
    for label, cells in (("overall (all)", steps), ("overall (> thr)", above)):
        for name, res in (("tensorbench", ours), ("asv", theirs)):
            out[(label, name)] = prf(total(res, cells + flat))
    if detection is not None:
        label = "detection (all)"
        out[(label, "tensorbench")] = prf(total(detection, steps + flat))
        out[(label, "asv")] = out[("overall (all)", "asv")]
    return out


def merged(*found: Found) -> Found:
    """The detections of several kinds, per series, in one list."""
    out: Found = {}
    for f in found:
        for k, v in f.items():
            out.setdefault(k, []).extend(v)
    return out


def replicate(params: Mapping) -> int:
    """The synthetic series' replicate number from its parameters (asv stores a repr)."""
    return int(str(params["replicate"]).strip("'\""))


def ours_by_kind(table: pd.DataFrame) -> dict[str, Found]:
    """Our detector on ``table``: first bad commit orders per (cell name, replicate), by row
    kind: 'regression', 'improvement', 'below worse', 'below better' (the rows listed "below
    threshold", by direction)."""
    found = find_regressions(
        table, threshold=THRESHOLD, kinds=("regression", "improvement", "below threshold")
    )
    order = dict(zip(table["commit"], table["commit_order"], strict=True))
    by_kind: dict[str, Found] = {k: {} for k in ROW_KINDS}
    for r in found.itertuples(index=False):
        kind = r.kind if r.kind != "below threshold" else f"below {r.direction}"
        key = (str(r.benchmark), replicate(r.params))
        by_kind[kind].setdefault(key, []).append(order[r.first_bad_commit])
    return by_kind


def asv_found(table: pd.DataFrame, asv_rows: pd.DataFrame) -> Found:
    """asv's regression rows (`asvdetector.asv_on_table`) of a synthetic table as first bad
    commit orders per (cell name, replicate)."""
    order = dict(zip(table["commit"], table["commit_order"], strict=True))
    rep = {pk: replicate(p) for pk, p in zip(table["param_key"], table["params"], strict=True)}
    out: Found = {}
    for r in asv_rows.itertuples(index=False):
        key = (str(r.benchmark), rep[r.param_key])
        out.setdefault(key, []).append(int(order[r.first_bad_commit]))
    return out


def score_series(truth: np.ndarray, hits: Mapping[int, list[int]], y: np.ndarray) -> dict:
    """Per-commit series (a scenario): tp/fp/fn of ``hits`` per series index against
    ``truth``, and false alarms per 1,000 measured points of the step-free series."""
    tot = {"tp": 0, "fp": 0, "fn": 0}
    flat_fp = flat_points = 0
    for r, t in enumerate(truth):
        h = hits.get(r, [])
        one = match(int(t), h)
        tot = {k: tot[k] + one[k] for k in tot}
        if t < 0:
            flat_fp += len(h)
            flat_points += int(np.isfinite(y[r]).sum())
    return tot | {"alarms": 1000 * flat_fp / max(flat_points, 1)}
