"""Regression detection on asv histories: change points with significance, ranged regressions,
acknowledgements, the gate. Pure functions on the tidy table of `tensorbench.analysis.results`.

Basic usage::

    from tensorbench.analysis.results import load_results
    from tensorbench.analysis.regressions import find_regressions, load_acknowledged

    table = load_results("results").table
    found = find_regressions(table, acknowledged=load_acknowledged("results/acknowledged.toml"))
    found[found.fails_gate]  # open, unacknowledged regressions: what `tensorbench regressions`
                             # exits 1 on

Method, per series (machine x env x benchmark x param_key) in commit order, one point per commit
(asv's stored result, the median of the run's samples; re-runs of a commit are merged by median):

1. Log values, so steps are ratios and noise is multiplicative.
2. Noise model (`noise_model`): the series' robust run-to-run SD (from successive differences)
   and its isolated outliers, points more than 5 robust SDs off the medians of the 5 points on
   either side, both the same way (fast or slow). Outliers are left out of steps 3-6, so a
   fast run (a cache effect, a benchmark that skipped work) cannot hide a level shift; fast
   ones are listed as kind 'outlier'. More than 8 % of such points means two interleaved
   levels: the series is 'bimodal', nothing is left out and a change must exceed the gap
   between the levels; otherwise it must be at least 1.5 run-to-run SDs ('noisy' when that
   is more than the threshold). ``min_effect`` and ``noise_model`` say which applied.
3. Candidates: binary segmentation with the standardised rank CUSUM (the Mann-Whitney z of every
   split of a segment, the standardised form of Pettitt's test), kept from z >= 3.
4. Merge, after Apache Otava's split/merge (Fleming et al., "Hunter", ICPE 2023): every change
   is tested against its neighbours with a two-sided Mann-Whitney U test on the adjacent
   segments (at most ``window`` = 50 points a side, so a change is judged locally); the weakest
   is dropped and its neighbours retested until all p-values are <= ``alpha`` (1e-3).
5. Placement: each change is moved to the split of its neighbourhood with the least one-sided
   Huber loss (squared below the level and up to 1 robust SD above it, linear beyond);
   steps 4-5 repeat until nothing moves.
6. Effect: Hodges-Lehmann shift (median of pairwise differences of log values) between the two
   windows, with its distribution-free (Moses) 99 % interval; ``ratio`` is the shift as a
   ratio. The rule: a significant change is a regression (or improvement) only when its
   estimate is at least the threshold and the noise floor; otherwise it is 'below threshold'
   and never fails the gate. The interval decides only whether a change stands alone: one
   whose whole interval lies beyond the threshold is reported on its own.
7. Ranged regressions (asv issue #932): consecutive same-direction changes whose intervals do
   not clear the threshold on their own are accumulated; the range ends at the step where the
   accumulated change reaches the threshold and is retested (window before its first step vs
   window after its last), then judged by the same rule, ``n_steps`` > 1.
8. Corroboration (`tensorbench.analysis.corroboration`): in how many other machine/env series
   of the same benchmark and parameters the same change shows around the same commits (the
   change's range, +-3), and which ran those commits and confidently did not move
   (``agreement``: 'corroborated', 'contradicted' or 'unchecked'). Agreement ranks and gates:
   - corroborated changes are promoted: listed first within their kind, and a change held
     back only by the noise floor (estimate at least the threshold, below ``min_effect``)
     becomes a regression or improvement: the other environment's move is the evidence the
     floor stands in for;
   - contradicted regressions are demoted: listed after the others, and failing the gate only
     when large (the near end of their 99 % interval at least `LARGE_FACTOR` x ``min_effect``,
     log scale): one environment moving alone while others ran the same commits steadily is
     most often its host (drift, a noisy neighbour) and rarely a code change; a large one is
     kept because a change that costs only one platform is real and must not slip through;
   - unchecked changes (nobody else ran nearby commits, or their noise cannot tell) stay as
     they are.
9. Gate: a regression fails it unless acknowledged, ``resolved`` (a later change brought the
   series back within the threshold of its old level, as asv only lists regressions still
   present) or demoted and not large. Improvements, 'below threshold' and 'outlier' rows never
   fail it.

Columns (`COLUMNS`): ``before``/``after`` are medians of the two windows, ``ratio`` the
Hodges-Lehmann estimate as a ratio, ``ratio_low``/``ratio_high`` its 99 % interval,
``significance`` the Mann-Whitney p-value (two-sided; exact up to 20 points, else the normal
approximation with tie correction), ``range_points`` the commits from last good to first bad,
``latest`` the level the series ends on, ``direction`` 'worse' or 'better', ``noise`` the
run-to-run SD as a ratio.

The unit is the per-commit median: run-to-run noise dominates the spread inside a run, and
pooling samples across commits would be pseudo-replication. Raw ``samples`` are what
`compare_commits` tests, where two runs are all there is. Why not asv's detector or Otava's:
asv fits a piecewise-constant Potts model with an information-criterion penalty, which
outliers bend; Otava (apache-otava, not a dependency) uses E-divisive candidates and
Student's t-tests, which assume normal noise. How this compares with asv's detector, on
synthetic histories and on real databases: docs/regressions-evaluation.md, written by
scripts/eval_regressions.py.

Direction: for time, peakmem and mem benchmarks higher is worse. A ``track_`` benchmark is
higher-is-better when its unit says it is a rate or a score (`higher_is_better`): a unit in
`HIGHER_IS_BETTER_UNITS` (case-insensitive), or one ending in ``/s``, ``_per_s`` or ``per
second``; any other track unit is treated as a cost (higher is worse). Noise is taken to push
the worse way (slower, or a lower rate).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .acknowledgements import (  # noqa: F401 - re-exported: importable from here as before
    Acknowledgement,
    _as_acks,
    acknowledged_warnings,
    load_acknowledged,
)
from .changepoints import (  # noqa: F401 - re-exported
    DEFAULT_ALPHA,
    DEFAULT_MIN_SIZE,
    DEFAULT_WINDOW,
    Change,
    _compare,
    _events,
    detect_changes,
)
from .noisemodel import Noise, noise_model  # noqa: F401 - re-exported

SERIES_KEYS = ["machine", "env", "benchmark", "param_key"]

COLUMNS = [
    "machine",
    "env",
    "benchmark",
    "param_key",
    "params",
    "kind",
    "last_good_commit",
    "first_bad_commit",
    "last_good_date",
    "first_bad_date",
    "before",
    "after",
    "ratio",
    "ratio_low",
    "ratio_high",
    "significance",
    "n_steps",
    "range_points",
    "unit",
    "latest",
    "resolved",
    "acknowledged",
    "reason",
    "fails_gate",
    # kind and noise (see find_regressions)
    "direction",
    "min_effect",
    "noise",
    "noise_model",
    # tensorbench.analysis.corroboration
    "corroboration",
    "corroborated_by",
    "not_seen_by",
    "agreement",
]

HIGHER_IS_BETTER_UNITS = frozenset(
    {
        "gflops",
        "flops",
        "tflops",
        "gteps",
        "teps",
        "ops",
        "throughput",
        "speedup",
        "score",
        "accuracy",
        "hits",
        "fps",
        "bandwidth",
    }
)


def higher_is_better(kind: str, unit: str | None) -> bool:
    """True when a larger value of this series is an improvement (see module docstring)."""
    if kind != "track" or not isinstance(unit, str):
        return False
    u = unit.strip().lower()
    return (
        u in HIGHER_IS_BETTER_UNITS
        or u.endswith("/s")
        or u.endswith("_per_s")
        or u.endswith("per second")
    )


# --------------------------------------------------------------------------------------------
# Tables


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})


def _points(table: pd.DataFrame) -> pd.DataFrame:
    """One finite point per (series, commit), sorted by series and commit order."""
    ok = table["value"].notna() & np.isfinite(table["value"].astype(float))
    if "status" in table:
        ok &= table["status"].eq("ok")
    t = table.loc[ok, [*SERIES_KEYS, "commit", "commit_order", "commit_date", "value", "kind"]]
    t = t.assign(unit=table.loc[ok, "unit"] if "unit" in table else None)
    t = t.assign(params=table.loc[ok, "params"] if "params" in table else None)
    # Re-runs of one commit: their median is the commit's point.
    t = t.groupby([*SERIES_KEYS, "commit_order"], sort=True, as_index=False, dropna=False).agg(
        commit=("commit", "first"),
        commit_date=("commit_date", "first"),
        value=("value", "median"),
        kind=("kind", "first"),
        unit=("unit", "first"),
        params=("params", "first"),
    )
    return t


def _resolve_since(
    table: pd.DataFrame, since: str | None
) -> tuple[int | None, pd.Timestamp | None]:
    """``since`` as a commit order (a commit hash prefix) or a UTC timestamp (a date)."""
    if since is None or since == "":
        return None, None
    s = since.strip().lower()
    if len(s) >= 4 and all(ch in "0123456789abcdef" for ch in s):
        hits = table.loc[table["commit"].str.startswith(s), "commit_order"].unique()
        if len(hits) == 1:
            return int(hits[0]), None
        if len(hits) > 1:
            raise InputError(f"--since {since!r} matches {len(hits)} commits; give more digits")
    try:
        ts = pd.Timestamp(since)
    except (ValueError, TypeError):
        raise InputError(f"--since {since!r} is neither a known commit nor a date") from None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return None, ts


KINDS = ("regression", "improvement", "below threshold", "outlier")
# A demoted (contradicted) regression still fails the gate when the near end of its interval
# is at least this many times its series' minimum effect (log scale).
LARGE_FACTOR = 2.0
AGREEMENT_RANK = {"corroborated": 0, "unchecked": 1, "contradicted": 2}


def find_regressions(
    table: pd.DataFrame,
    threshold: float = 0.05,
    since: str | None = None,
    acknowledged: list | None = None,
    *,
    alpha: float = DEFAULT_ALPHA,
    min_size: int = DEFAULT_MIN_SIZE,
    window: int = DEFAULT_WINDOW,
    kinds: Iterable[str] = ("regression", "improvement"),
    corroborate: bool = True,
) -> pd.DataFrame:
    """Regressions and improvements of every series of ``table``, one row each.

    ``table`` is `tensorbench.analysis.results.load_results(dir).table`. ``threshold`` is the minimum
    relative effect (0.05 = 5 %): a change is a regression or improvement only when its
    estimated size (``ratio``, the Hodges-Lehmann shift as a ratio) is at least that, and at
    least the series' own noise floor (``min_effect``, ``noise_model``). ``since`` (commit hash
    prefix or date) keeps changes whose first bad commit is at or after it; earlier history
    still serves as the baseline. ``acknowledged`` is a list of `Acknowledgement` (or mappings
    with benchmark, commit, reason); a change is acknowledged when an entry's pattern matches
    the benchmark and its commit is the first bad commit or any commit of the range.

    ``kinds`` selects the rows: 'regression', 'improvement', 'below threshold' (significant
    changes smaller than the threshold or the noise floor; never fail the gate) and 'outlier'
    (isolated runs faster / better than both neighbouring levels; never fail the gate).
    ``direction`` says 'worse' or 'better'. With ``corroborate`` each row also says in how
    many other machine/env series of the same benchmark and parameters the same change shows
    at the same commits (`tensorbench.analysis.corroboration`), and ``agreement`` promotes or
    demotes it (module docstring, step 8). Columns: `COLUMNS`; ``significance`` is a
    Mann-Whitney p-value. Sorted with open regressions first, then by kind, agreement
    (corroborated, unchecked, contradicted), how many others show it and effect.
    """
    if threshold < 0:
        raise InputError(f"threshold must be >= 0, got {threshold}")
    wanted = set(kinds)
    if wanted - set(KINDS):
        raise ValueError(f"unknown kinds {sorted(wanted - set(KINDS))}; known: {KINDS}")
    if table is None or len(table) == 0:
        return _empty()
    since_order, since_date = _resolve_since(table, since)
    acks = _as_acks(acknowledged)
    pts = _points(table)
    if pts.empty:
        return _empty()
    log_thr = math.log1p(threshold)
    values = pts["value"].to_numpy(dtype=float)
    orders = pts["commit_order"].to_numpy()
    commits = pts["commit"].to_numpy()
    dates = pts["commit_date"]  # indexed only for reported rows: converting all is slow
    meta = {k: pts[k].to_numpy() for k in (*SERIES_KEYS, "kind", "unit", "params")}
    sid = pts.groupby(SERIES_KEYS, sort=False, dropna=False).ngroup().to_numpy()
    starts = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]])
    ends = np.r_[starts[1:], sid.size]
    rows: list[dict[str, Any]] = []

    def recent(i: int) -> bool:
        if since_order is not None and orders[i] < since_order:
            return False
        return since_date is None or not dates.iloc[i] < since_date

    for a, b in zip(starts, ends, strict=True):
        if b - a < 2 * min_size:
            continue
        y_all = values[a:b]
        positive = bool(np.all(y_all > 0))
        # Log scale makes steps ratios; series with zeros or negatives (some track_) stay linear
        # with shifts scaled by the median level.
        scale = 1.0 if positive else max(float(np.median(np.abs(y_all))), 1e-300)
        with np.errstate(over="ignore", invalid="ignore"):
            x_all = np.log(y_all) if positive else y_all / scale
        if not np.all(np.isfinite(x_all)):
            continue  # values beyond float range once scaled: nothing to compare
        first = {k: v[a] for k, v in meta.items()}
        worse = -1 if higher_is_better(str(first["kind"]), first["unit"]) else 1
        noise, changes = _series_model(x_all, alpha, min_size, window, worse > 0)
        keep = np.flatnonzero(~noise.outliers)  # positions of the points the search sees
        x, y = x_all[keep], y_all[keep]
        thr = log_thr if positive else threshold
        effect = max(thr, noise.floor)
        model = noise.model if noise.model == "bimodal" else "noisy" if effect > thr else "normal"

        def as_ratio(v: float, positive: bool = positive) -> float:
            with np.errstate(over="ignore"):
                return float(np.expm1(v)) if positive else v

        common = {
            "min_effect": float(as_ratio(effect)),
            "noise": float(as_ratio(noise.sigma)),
            "noise_model": model,
        }
        # The level the series ends on: a regression that is gone by then is "resolved".
        tail = changes[-1].stop if changes else 0
        latest = float(np.median(y[max(tail, y.size - window) :]))
        events = _events(x, changes, worse, effect, window, alpha)
        if "outlier" in wanted:
            for i in np.flatnonzero(noise.outliers & (noise.deviation * worse < 0)):
                if abs(noise.deviation[i]) < thr or not recent(a + int(i)):
                    continue  # off its neighbours by less than the threshold: not worth a row
                j = max(int(i) - 1, 0)
                level = float(y_all[i] * np.exp(-noise.deviation[i])) if positive else math.nan
                rows.append(
                    _row(first, "outlier", "better", commits, dates, a + j, a + int(i))
                    | common
                    | {
                        "before": level,
                        "after": float(y_all[i]),
                        "ratio": float(y_all[i] / level) if positive else math.nan,
                        "ratio_low": math.nan,
                        "ratio_high": math.nan,
                        "significance": math.nan,
                        "n_steps": 1,
                        "range_points": 1,
                        "latest": latest,
                    }
                )
        for c, label in events:
            direction = "worse" if c.shift * worse > 0 else "better"
            # held back by the noise floor alone: corroboration elsewhere may promote it
            promotable = label == "below threshold" and effect > thr and abs(c.shift) >= thr
            if label not in wanted and not (promotable and corroborate):
                continue
            i0, i1 = a + int(keep[c.start]), a + int(keep[c.stop])
            if not recent(i1):
                continue
            before = float(np.median(y[c.left : c.start + 1]))
            after = float(np.median(y[c.stop : c.right]))
            if positive:
                with np.errstate(over="ignore"):  # 1e-300 -> 1e300 is a finite log shift
                    est, lo, hi = (float(v) for v in np.exp([c.shift, c.low, c.high]))
            else:
                est, lo, hi = (
                    (before + v * scale) / before if before else math.nan
                    for v in (c.shift, c.low, c.high)
                )
            resolved = False
            # only a later change can undo it; the level test alone would call a regression
            # just under the threshold by medians "resolved" on the segment it starts
            if (label == "regression" or promotable) and before and c.stop < tail:
                still = latest / before if worse > 0 else before / latest if latest else math.inf
                resolved = bool(still < 1 + threshold)
            range_commits = [str(h) for h in commits[i0 + 1 : i1 + 1]]
            ack = next(
                (
                    k
                    for k in acks
                    if any(k.matches(str(first["benchmark"]), h) for h in range_commits)
                ),
                None,
            )
            rows.append(
                _row(first, label, direction, commits, dates, i0, i1)
                | common
                | {
                    "before": before,
                    "after": after,
                    "ratio": est,
                    "ratio_low": lo,
                    "ratio_high": hi,
                    "significance": c.pvalue,
                    "n_steps": c.n_steps,
                    "range_points": int(i1 - i0),
                    "latest": latest,
                    "resolved": resolved,
                    "acknowledged": ack is not None,
                    "reason": ack.reason if ack else "",
                    "fails_gate": label == "regression" and ack is None and not resolved,
                    "_promotable": promotable,
                }
            )
    if not rows:
        return _empty()
    promotable = np.array([bool(r.get("_promotable", False)) for r in rows])
    out = pd.DataFrame(rows, columns=COLUMNS)
    if corroborate:
        from .corroboration import corroborate as _corroborate

        out = _corroborate(out, pts, threshold)
    else:
        out["corroboration"] = 0
        out["corroborated_by"] = [[] for _ in range(len(out))]
        out["not_seen_by"] = [[] for _ in range(len(out))]
        out["agreement"] = "unchecked"
    out = _apply_agreement(out, promotable, wanted)
    size = np.abs(np.log(out["ratio"].where(out["ratio"] > 0)))
    rank = {k: i for i, k in enumerate(KINDS)}
    out = out.assign(
        _pass=~out["fails_gate"].astype(bool),
        _kind=out["kind"].map(rank),
        _agree=out["agreement"].map(AGREEMENT_RANK),
        _corr=-out["corroboration"],
        _eff=-size,
    )
    out = out.sort_values(["_pass", "_kind", "_agree", "_corr", "_eff"], kind="stable")
    out = out.drop(columns=["_pass", "_kind", "_agree", "_corr", "_eff"])
    return out.reset_index(drop=True)


def _apply_agreement(out: pd.DataFrame, promotable: np.ndarray, wanted: set[str]) -> pd.DataFrame:
    """Promotion and demotion by ``agreement`` (module docstring, step 8), then only the
    ``wanted`` kinds (rows made only to be promoted go unless they were)."""
    up = promotable & out["agreement"].eq("corroborated").to_numpy()
    out.loc[up, "kind"] = np.where(
        out.loc[up, "direction"].eq("worse"), "regression", "improvement"
    )
    ratio = out["ratio"].astype(float).where(out["ratio"].astype(float) > 0)
    lo = np.log(out["ratio_low"].astype(float).where(out["ratio_low"].astype(float) > 0))
    hi = np.log(out["ratio_high"].astype(float).where(out["ratio_high"].astype(float) > 0))
    # the interval's end nearer to no change; 0 when it straddles it
    near = np.where(ratio >= 1, lo.clip(lower=0), (-hi).clip(lower=0))
    floor = np.log1p(out["min_effect"].astype(float))
    large = np.nan_to_num(near) >= LARGE_FACTOR * floor
    held = out["agreement"].eq("contradicted").to_numpy() & ~large
    out["fails_gate"] = (
        out["kind"].eq("regression")
        & ~out["acknowledged"].astype(bool)
        & ~out["resolved"].astype(bool)
        & ~held
    )
    return out[out["kind"].isin(wanted)]


# Noise models and change points by series fingerprint (its working-scale values and the
# detector's settings): a rescan (another threshold, a new result file for some series)
# redoes only the series whose values changed. Bounded: cleared when it grows past this.
_SERIES_MEMO: dict[bytes, tuple[Noise, list[Change]]] = {}
_SERIES_MEMO_MAX = 1_000_000


def _series_model(
    x_all: np.ndarray, alpha: float, min_size: int, window: int, noise_up: bool
) -> tuple[Noise, list[Change]]:
    """`noise_model` of a series and `detect_changes` of its points that are not outliers."""
    h = hashlib.blake2b(x_all.tobytes(), digest_size=16)
    h.update(repr((alpha, min_size, window, noise_up)).encode())
    key = h.digest()
    found = _SERIES_MEMO.get(key)
    if found is not None:
        return found
    noise = noise_model(x_all)
    x = x_all[~noise.outliers]
    changes = (
        detect_changes(x, alpha=alpha, min_size=min_size, window=window, noise_up=noise_up)
        if x.size >= 2 * min_size
        else []
    )
    if len(_SERIES_MEMO) >= _SERIES_MEMO_MAX:
        _SERIES_MEMO.clear()
    _SERIES_MEMO[key] = (noise, changes)
    return noise, changes


def _row(
    first: dict[str, Any],
    kind: str,
    direction: str,
    commits: np.ndarray,
    dates: pd.Series,
    i0: int,
    i1: int,
) -> dict[str, Any]:
    """The identifying columns of a row: series, kind, commits (positions in the points)."""
    return {
        "machine": first["machine"],
        "env": first["env"],
        "benchmark": first["benchmark"],
        "param_key": first["param_key"],
        "params": first["params"],
        "kind": kind,
        "direction": direction,
        "last_good_commit": str(commits[i0]),
        "first_bad_commit": str(commits[i1]),
        "last_good_date": dates.iloc[i0],
        "first_bad_date": dates.iloc[i1],
        "resolved": False,
        "acknowledged": False,
        "reason": "",
        "fails_gate": False,
    }


def compare_commits(table: pd.DataFrame, base: str, head: str, factor: float = 1.1) -> pd.DataFrame:
    """Series whose ``head`` value is worse than ``base`` by more than ``factor``.

    ``base``/``head`` are commit hash prefixes. Columns: machine, env, benchmark, param_key,
    params, before, after (the base and head values), ratio (after/before), significance
    (two-sided Mann-Whitney p of the two commits' raw samples; NaN where either lacks samples),
    unit. Sorted worst first. "Worse" follows the unit (`higher_is_better`): for a
    higher-is-better series a row is kept when before/after > factor.
    """
    cols = [
        "machine",
        "env",
        "benchmark",
        "param_key",
        "params",
        "before",
        "after",
        "ratio",
        "significance",
        "unit",
    ]
    if factor <= 0:
        raise InputError(f"factor must be > 0, got {factor}")
    t = table[table["value"].notna()] if "value" in table else table
    if "status" in t:
        t = t[t["status"].eq("ok")]

    def pick(prefix: str) -> pd.DataFrame:
        p = prefix.strip().lower()
        hits = t.loc[t["commit"].str.startswith(p), "commit"].unique()
        if len(hits) == 0:
            raise InputError(f"no results for commit {prefix!r}")
        if len(hits) > 1:
            raise InputError(f"commit {prefix!r} is ambiguous ({len(hits)} commits)")
        return t[t["commit"] == hits[0]].drop_duplicates(SERIES_KEYS, keep="last")

    keep = [*SERIES_KEYS, "value", "samples", "kind", "unit", "params"]
    a = pick(base).reindex(columns=keep)
    b = pick(head).reindex(columns=keep)
    m = a.merge(b, on=SERIES_KEYS, suffixes=("_a", "_b"))
    rows = []
    for r in m.itertuples(index=False):
        va, vb = float(r.value_a), float(r.value_b)
        if not (va and np.isfinite(va) and np.isfinite(vb)):
            continue
        ratio = vb / va
        better_up = higher_is_better(str(r.kind_b), r.unit_b)
        worse = (1 / ratio if ratio else math.inf) if better_up else ratio
        if worse <= factor:
            continue
        p = math.nan
        sa, sb = r.samples_a, r.samples_b
        if _has_samples(sa) and _has_samples(sb):
            p = _compare(np.asarray(sa, float), np.asarray(sb, float))[0]
        rows.append(
            {
                "machine": r.machine,
                "env": r.env,
                "benchmark": r.benchmark,
                "param_key": r.param_key,
                "params": r.params_b,
                "before": va,
                "after": vb,
                "ratio": ratio,
                "significance": p,
                "unit": r.unit_b,
                "_worse": worse,
            }
        )
    out = pd.DataFrame(rows, columns=[*cols, "_worse"])
    out = out.sort_values("_worse", ascending=False, kind="stable").drop(columns="_worse")
    return out.reset_index(drop=True)


def _has_samples(s: Any) -> bool:
    return isinstance(s, list | tuple | np.ndarray) and len(s) >= 2
