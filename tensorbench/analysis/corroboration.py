"""Corroboration: does the same benchmark change at the same commits in other environments?

A change found in one series (machine x env x benchmark x parameters) is corroborated by
another series of the same benchmark and parameters when that series, around the same commits,
shows a significant shift the same way. The check is made on the other series' own values, not
on what a detector reported there, so it judges any detector's output alike (the evaluation
applies it to asv's detector too). Pure pandas and numpy.

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
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..conventions import SERIES_KEYS
from .changepoints import EXACT_N, exact_pvalues, rank_pvalue

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


# One other series as corroboration sees it: its label, the commit orders it ran, its values on
# the working scale (log for positive series) and its robust run-to-run SD.
Series = tuple[str, np.ndarray, np.ndarray, float]


def working_series(label: str, orders: np.ndarray, values: np.ndarray) -> Series:
    """A series (one point per commit, in commit order) on the working scale, with its SD."""
    y = np.asarray(values, dtype=float)
    x = np.log(y) if np.all(y > 0) else y / max(float(np.median(np.abs(y))), 1e-300)
    d = np.diff(x)
    # from successive differences, so the series' own steps barely move it
    sd = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2) if d.size else 0
    return label, np.asarray(orders), x, sd


def _prepare(points: pd.DataFrame) -> dict[tuple, list[Series]]:
    """Per (benchmark, param_key): its series, one point per commit (re-runs merged by
    median)."""
    p = points
    if "status" in p:
        p = p[p["status"].eq("ok")]
    v = p["value"].astype(float)
    p = p.loc[v.notna() & np.isfinite(v), [*SERIES_KEYS, "commit_order", "value"]]
    p = p.groupby([*SERIES_KEYS, "commit_order"], observed=True, dropna=False, as_index=False)[
        "value"
    ].median()
    out: dict[tuple, list[Series]] = {}
    for (machine, env, bench, pk), s in p.groupby(SERIES_KEYS, observed=True, dropna=False):
        label = series_label(machine, env)
        out.setdefault((bench, pk), []).append(
            working_series(label, s["commit_order"].to_numpy(), s["value"].to_numpy(float))
        )
    return out


def _windows(
    x: np.ndarray, at: np.ndarray, first: np.ndarray, stop: np.ndarray, side: int
) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``side`` values of a series before position ``at`` (``x[at - side : at]``) and from
    it (``x[at : at + side]``), one row per position; NaN where the series (``[first, stop)``
    of the concatenated ``x``) has fewer."""
    before = at[:, None] + np.arange(-side, 0)
    after = at[:, None] + np.arange(side)
    before_ok = before >= first[:, None]
    after_ok = after < stop[:, None]
    last = x.size - 1
    b = np.where(before_ok, x[np.clip(before, 0, last)], np.nan)
    a = np.where(after_ok, x[np.clip(after, 0, last)], np.nan)
    return b, a


def _shift_medians(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Per row, the median of all (after - before) differences of its values that are not
    NaN (the Hodges-Lehmann shift, as np.median of the outer difference computes it)."""
    rows = before.shape[0]
    if rows == 0:
        return np.zeros(0)
    d = (after[:, :, None] - before[:, None, :]).reshape(rows, -1)
    valid = np.count_nonzero(~np.isnan(before), axis=1) * np.count_nonzero(~np.isnan(after), 1)
    out = np.empty(rows)
    full = valid == d.shape[1]
    m = d.shape[1]
    if full.any():  # most rows: both windows full, two order statistics are all it takes
        part = np.partition(d[full], sorted({(m - 1) // 2, m // 2}), axis=1)
        out[full] = 0.5 * (part[:, (m - 1) // 2] + part[:, m // 2])
    if not full.all():  # near a series' ends: NaN sort last, count the rest
        part = np.sort(d[~full], axis=1)
        n = valid[~full]
        at = np.arange(part.shape[0])
        out[~full] = 0.5 * (part[at, np.maximum(n - 1, 0) // 2] + part[at, n // 2])
    return out


def _reaches(
    before: np.ndarray, after: np.ndarray, sign: np.ndarray, need: np.ndarray
) -> np.ndarray:
    """Per row, whether its shift (`_shift_medians`) times ``sign`` is at least ``need``.

    Counted, not computed: a median is at least ``need`` when more than half of the
    differences are, and below it when fewer than half are; only rows with exactly half
    (an even count, the median between two differences) need the median itself.
    """
    b, a = before * sign[:, None], after * sign[:, None]  # (a - b) * sign, exactly
    m = np.count_nonzero(~np.isnan(b), axis=1) * np.count_nonzero(~np.isnan(a), axis=1)
    above = np.zeros(b.shape[0], dtype=np.int64)
    # one after-value at a time: no rows x side x side array, whose fresh pages alone cost
    # more than the counting in a new process
    for k in range(a.shape[1]):
        above += np.count_nonzero(a[:, k, None] - b >= need[:, None], axis=1)
    out = 2 * above > m
    tied = 2 * above == m
    if tied.any():
        out[tied] = _shift_medians(before[tied], after[tied]) * sign[tied] >= need[tied]
    return out


def _rank_pvalues(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """`rank_pvalue` of each row's non-NaN values: batched for full rows without ties (the
    common case: an exact p-value from U), one by one for the rest."""
    n1, n2 = before.shape[1], after.shape[1]
    both = np.concatenate([before, after], axis=1)
    order = np.argsort(both, axis=1, kind="stable")
    ranked = np.take_along_axis(both, order, axis=1)
    plain = ~np.isnan(both).any(axis=1) & ~(ranked[:, 1:] == ranked[:, :-1]).any(axis=1)
    out = np.empty(both.shape[0])
    if n1 + n2 <= EXACT_N:
        # without ties a value's rank is its place in the sorted row
        u = ((order >= n1) * np.arange(1, n1 + n2 + 1)).sum(axis=1) - n2 * (n2 + 1) / 2.0
        out[plain] = exact_pvalues(u[plain], n1, n2)
    else:
        plain[:] = False
    for i in np.flatnonzero(~plain):
        b, a = before[i], after[i]
        out[i] = rank_pvalue(b[~np.isnan(b)], a[~np.isnan(a)])
    return out


@dataclass
class _Lookups:
    """Every (change, other series) question, as arrays over the concatenated series."""

    x: np.ndarray  # every series' working-scale values, one after another
    keys: np.ndarray  # series index * _SPAN + commit order: sorted, for searchsorted
    first: np.ndarray  # per question: where its other series starts in x ...
    stop: np.ndarray  # ... and ends
    code: np.ndarray  # ... and that series' index
    sd: np.ndarray  # ... and its run-to-run SD
    lg: np.ndarray  # the change's last good commit order
    fb: np.ndarray  # and first bad
    sign: np.ndarray  # +1 or -1: the change's direction
    need: np.ndarray  # the shift the other series must reach

    def find(self, ask: np.ndarray, orders: np.ndarray, side: str) -> np.ndarray:
        """Where the questions ``ask``'s commit ``orders`` fall in their other series."""
        return np.searchsorted(self.keys, self.code[ask] * _SPAN + orders, side=side)


_SPAN = 1 << 40  # far more commit orders than a history has


def _seen_all(q: _Lookups) -> np.ndarray:
    """Per question: 1 the other series shows the change, 0 it ran the commits without it,
    -1 it cannot tell (`_seen` for one question)."""
    every = np.arange(q.code.size)
    lo = q.find(every, q.lg + 1 - TOLERANCE, "left")
    hi = q.find(every, q.fb + TOLERANCE, "right")
    out = np.full(lo.size, -1)
    # every candidate split of every question at once: the shift first (cheap; most splits of
    # most series do not move), the rank test only where the shift is large enough
    n = hi - lo
    which = np.repeat(np.arange(lo.size), n)
    at = lo[which] + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    own = at - q.first[which]
    size = (q.stop - q.first)[which]
    ok = (np.minimum(own, SIDE) >= MIN_SIDE) & (np.minimum(size - own, SIDE) >= MIN_SIDE)
    which, at = which[ok], at[ok]
    before, after = _windows(q.x, at, q.first[which], q.stop[which], SIDE)
    moved = _reaches(before, after, q.sign[which], q.need[which])
    if moved.any():
        p = _rank_pvalues(before[moved], after[moved])
        out[which[moved][p <= ALPHA]] = 1
    # One split at the change's range, its own points inside the range left out: "no move"
    # must hold wherever within the range the change happened.
    ask = np.flatnonzero((out < 0) & (hi > lo) & (q.sd > 0))
    i = q.find(ask, q.lg[ask], "right")
    k = q.find(ask, q.fb[ask], "left")
    nb = np.minimum(i - q.first[ask], CONTRA_SIDE)
    na = np.minimum(q.stop[ask] - k, CONTRA_SIDE)
    full = (nb >= MIN_SIDE) & (na >= MIN_SIDE)
    ask, i, k, nb, na = ask[full], i[full], k[full], nb[full], na[full]
    before = _windows(q.x, i, q.first[ask], q.stop[ask], CONTRA_SIDE)[0]
    after = _windows(q.x, k, q.first[ask], q.stop[ask], CONTRA_SIDE)[1]
    d = _shift_medians(before, after) * q.sign[ask]
    far = d + _Z99 * q.sd[ask] * np.sqrt(1 / nb + 1 / na)
    out[ask[far < q.need[ask]]] = 0
    return out


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
    if not len(changes):
        return corroborate_series(changes, {}, {}, threshold)
    commits = points[["commit", "commit_order"]].drop_duplicates("commit")
    order = dict(zip(commits["commit"].astype(str), commits["commit_order"], strict=True))
    # only the benchmarks and parameters that changed somewhere need their series
    wanted = pd.MultiIndex.from_frame(changes[["benchmark", "param_key"]].astype(str))
    mine = pd.MultiIndex.from_frame(points[["benchmark", "param_key"]].astype(str))
    series = _prepare(points[mine.isin(wanted)])
    return corroborate_series(changes, series, order, threshold)


def corroborate_series(
    changes: pd.DataFrame,
    series: dict[tuple, list[Series]],
    order: dict[str, int],
    threshold: float = 0.05,
) -> pd.DataFrame:
    """`corroborate` given the series already on the working scale (per (benchmark,
    param_key): `working_series`, in machine, env order) and each commit's order."""
    out = changes.copy()
    n = len(out)
    by: list[list[str]] = [[] for _ in range(n)]
    missed: list[list[str]] = [[] for _ in range(n)]
    asked, labels, q = _questions(out, series, order, threshold)
    if asked:
        for i, label, seen in zip(asked, labels, _seen_all(q).tolist(), strict=True):
            if seen == 1:
                by[i].append(label)
            elif seen == 0:
                missed[i].append(label)
    count = np.array([len(b) for b in by], dtype=int)
    out["corroboration"] = count
    out["corroborated_by"] = by
    out["not_seen_by"] = missed
    out["agreement"] = [agreement(c, m) for c, m in zip(count, missed, strict=True)]
    return out


def _questions(
    changes: pd.DataFrame,
    series: dict[tuple, list[Series]],
    order: dict[str, int],
    threshold: float,
) -> tuple[list[int], list[str], _Lookups]:
    """Which other series each change asks (row, label, in the order they are listed), and
    the questions as arrays."""
    min_shift = 0.5 * math.log1p(threshold)
    index: dict[int, int] = {}  # id(series) -> its index in the concatenation
    used: list[Series] = []
    asked: list[int] = []
    labels: list[str] = []
    cols: list[tuple[int, int, int, float, float]] = []  # series, lg, fb, sign, need
    for i, r in enumerate(changes.itertuples(index=False)):
        ratio = float(r.ratio) if r.ratio is not None else math.nan
        if r.kind not in CHANGE_KINDS or not ratio > 0 or ratio == 1:
            continue
        lg, fb = order.get(str(r.last_good_commit)), order.get(str(r.first_bad_commit))
        if lg is None or fb is None:
            continue
        own = series_label(r.machine, r.env)
        shift = math.log(ratio)
        need = max(min_shift, SHARE * abs(shift))
        for other in series.get((r.benchmark, r.param_key), []):
            if other[0] == own:
                continue
            g = index.setdefault(id(other), len(used))
            if g == len(used):
                used.append(other)
            asked.append(i)
            labels.append(other[0])
            cols.append((g, int(lg), int(fb), math.copysign(1.0, shift), need))
    sizes = np.array([o[2].size for o in used], dtype=np.int64)
    starts = np.cumsum(sizes) - sizes
    x = np.concatenate([o[2] for o in used]) if used else np.empty(0)
    codes = np.repeat(np.arange(len(used), dtype=np.int64), sizes)
    orders = np.concatenate([o[1] for o in used]).astype(np.int64) if used else codes
    g, lg, fb, sign, need = (
        (np.array(c) for c in zip(*cols, strict=True)) if cols else [np.empty(0, int)] * 5
    )
    g = g.astype(np.int64)
    q = _Lookups(
        x=x,
        keys=codes * _SPAN + orders,
        first=starts[g],
        stop=starts[g] + sizes[g],
        code=g,
        sd=np.array([o[3] for o in used], dtype=float)[g] if used else np.empty(0),
        lg=lg.astype(np.int64),
        fb=fb.astype(np.int64),
        sign=sign.astype(float),
        need=need.astype(float),
    )
    return asked, labels, q
