"""Regression detection on asv histories: change points with significance, ranged regressions,
acknowledgements, the gate. Pure functions on the tidy table of `tensorbench.analysis.results`.

Basic usage::

    from tensorbench.analysis.results import load_results
    from tensorbench.analysis.regressions import find_regressions

    table = load_results("results").table
    found = find_regressions(table, results_dir="results")  # with results/acknowledged.toml
    found[found.fails_gate]  # open, unacknowledged regressions: what `tensorbench regressions`
                             # exits 1 on

`find_regressions` is the one entry point (the command line, the dashboard and the report call
it). The pipeline's steps each have a module: the per-series step (`perseries`: steps 1-7,
built on `noisemodel` and `changepoints`), agreement across environments (`corroboration`,
step 8) and the ranking step (`ranking`: promotion, demotion, the gate, the order; steps 8-9);
`acknowledgements` reads the file that lets known regressions pass.

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

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..conventions import SERIES_KEYS
from ..errors import InputError
from . import modelstore
from .acknowledgements import ack_path, as_acknowledgements, load_acknowledged
from .changepoints import DEFAULT_ALPHA, DEFAULT_MIN_SIZE, DEFAULT_WINDOW, compare_samples
from .corroboration import Series, corroborate_series, series_label, working_series
from .perseries import KINDS, Models, Points, Settings, higher_is_better, series_rows
from .ranking import rank

__all__ = ["COLUMNS", "KINDS", "compare_commits", "find_regressions", "higher_is_better"]

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
    # kind and noise (tensorbench.analysis.perseries)
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
DETECTOR = "tensorbench.analysis.regressions"  # named in the dashboard beside its findings


def find_regressions(
    table: pd.DataFrame,
    threshold: float = 0.05,
    since: str | None = None,
    acknowledged: list | None = None,
    *,
    results_dir: str | Path | None = None,
    alpha: float = DEFAULT_ALPHA,
    min_size: int = DEFAULT_MIN_SIZE,
    window: int = DEFAULT_WINDOW,
    kinds: Iterable[str] = ("regression", "improvement"),
    corroborate: bool = True,
) -> pd.DataFrame:
    """Regressions and improvements of every series of ``table``, one row each.

    ``table`` is `tensorbench.analysis.results.load_results(dir).table`. ``threshold`` is the
    minimum relative effect (0.05 = 5 %): a change is a regression or improvement only when
    its estimated size (``ratio``, the Hodges-Lehmann shift as a ratio) is at least that, and
    at least the series' own noise floor (``min_effect``, ``noise_model``). ``since`` (commit
    hash prefix or date) keeps changes whose first bad commit is at or after it; earlier
    history still serves as the baseline. ``acknowledged`` is a list of `Acknowledgement` (or
    mappings with benchmark, commit, reason); without it, ``results_dir``'s acknowledgements
    file is read where there is one. A change is acknowledged when an entry's pattern matches
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
    if acknowledged is None and results_dir is not None:
        acknowledged = load_acknowledged(ack_path(results_dir))
    store = modelstore.store_path(results_dir) if results_dir is not None else None
    if table is None or len(table) == 0:
        return _empty()
    since_order, since_date = _resolve_since(table, since)
    settings = Settings(
        threshold=threshold,
        alpha=alpha,
        min_size=min_size,
        window=window,
        wanted=frozenset(wanted),
        corroborate=corroborate,
        acks=tuple(as_acknowledgements(acknowledged)),
        since_order=since_order,
        since_date=since_date,
        models=Models(modelstore.load(store) if store is not None else None),
    )
    frame, pos, sid = _points(table)
    if pos.size == 0:
        return _empty()
    points = Points(frame, pos, sid)
    rows = [
        row for a, b, first in points.series for row in series_rows(points, a, b, first, settings)
    ]
    if store is not None and settings.models.fresh:
        modelstore.save(store, settings.models.used)
    if not rows:
        return _empty()
    promotable = np.array([bool(r.get("_promotable", False)) for r in rows])
    out = _agreement(rows, points, threshold) if corroborate else _unchecked(rows)
    out = rank(out, promotable, wanted)
    out.attrs["detector"] = DETECTOR
    return out


def _agreement(rows: list[dict[str, Any]], points: Points, threshold: float) -> pd.DataFrame:
    """The rows with what the other environments say (`corroboration`)."""
    order = {}  # commit -> its order, for the commits rows name (corroboration compares ranges)
    for r in rows:
        order[r["last_good_commit"]], order[r["first_bad_commit"]] = r["_orders"]
    out = pd.DataFrame(rows, columns=COLUMNS)
    return corroborate_series(out, _other_series(points, out), order, threshold)


def _unchecked(rows: list[dict[str, Any]]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["corroboration"] = 0
    out["corroborated_by"] = [[] for _ in range(len(out))]
    out["not_seen_by"] = [[] for _ in range(len(out))]
    out["agreement"] = "unchecked"
    return out


def _other_series(points: Points, rows: pd.DataFrame) -> dict[tuple, list[Series]]:
    """The series of every benchmark and parameters that changed somewhere, from the points
    the per-series step already has."""
    wanted = set(zip(rows["benchmark"], rows["param_key"], strict=True))
    series: dict[tuple, list[Series]] = {}
    for a, b, first in points.series:
        key = (first["benchmark"], first["param_key"])
        if key in wanted:
            label = series_label(first["machine"], first["env"])
            series.setdefault(key, []).append(
                working_series(label, points.orders[a:b], points.values[a:b])
            )
    return series


def _empty() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    out.attrs["detector"] = DETECTOR
    return out


def _points(table: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One finite point per (series, commit): a frame, the positions of its rows that are the
    points in series and commit order, and the number of each point's series."""
    value = table["value"].to_numpy(dtype=float, na_value=np.nan)
    ok = np.isfinite(value)
    if "status" in table:
        ok &= table["status"].eq("ok").to_numpy(dtype=bool, na_value=False)
    idx = np.flatnonzero(ok)
    sid = table.groupby(SERIES_KEYS, sort=True, observed=True, dropna=False).ngroup().to_numpy()
    sid, orders = sid[idx], table["commit_order"].to_numpy()[idx]
    at = np.lexsort((orders, sid))
    sid, orders, pos = sid[at], orders[at], idx[at]
    if not np.any((sid[1:] == sid[:-1]) & (orders[1:] == orders[:-1])):
        return table, pos, sid
    # Re-runs of one commit: their median is the commit's point.
    t = table.iloc[idx][[*SERIES_KEYS, "commit", "commit_order", "commit_date", "value", "kind"]]
    t = t.assign(unit=table["unit"].iloc[idx] if "unit" in table else None)
    t = t.assign(params=table["params"].iloc[idx] if "params" in table else None)
    t = t.groupby([*SERIES_KEYS, "commit_order"], sort=True, as_index=False, dropna=False).agg(
        commit=("commit", "first"),
        commit_date=("commit_date", "first"),
        value=("value", "median"),
        kind=("kind", "first"),
        unit=("unit", "first"),
        params=("params", "first"),
    )
    sid = t.groupby(SERIES_KEYS, sort=False, dropna=False).ngroup().to_numpy()
    return t, np.arange(len(t)), sid


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
            p = compare_samples(np.asarray(sa, float), np.asarray(sb, float))[0]
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
