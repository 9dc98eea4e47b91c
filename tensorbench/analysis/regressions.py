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
8. Corroboration (`tensorbench.analysis.corroboration`): in how many other machine/env series of the same
   benchmark and parameters the same change shows at the same commits (+-3), and which ran
   those commits without showing it.
9. Gate: a regression fails it unless acknowledged or ``resolved`` (a later change brought the
   series back within the threshold of its old level, as asv only lists regressions still
   present). Improvements, 'below threshold' and 'outlier' rows never fail it.

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

import fnmatch
import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the tomli backport has the same API
    import tomli as tomllib

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

DEFAULT_ALPHA = 1e-3
DEFAULT_WINDOW = 50
DEFAULT_MIN_SIZE = 3
# Candidate scan: a split is kept for the merge step when its rank z reaches this; the merge
# step's p-value decides.
_SPLIT_Z = 3.0
# Huber constant (in robust SDs) of the one-sided loss that places change points.
_HUBER_C = 1.0
# Confidence of the shift interval: a change is reported unless the data are this sure that it
# is below the threshold (99 %, as asv's stats_ci_99).
_CONF = 0.99
# Outliers: a point this many robust SDs off the medians of the _OUTLIER_SIDE points on
# either side (both, the same way) is an isolated outlier, left out of the change search.
_OUTLIER_Z = 5.0
_OUTLIER_SIDE = 5
# Robust SDs below this (0.1 %, working scale) are taken as this: quantised series (bytes)
# would otherwise call every differing point an outlier.
_MIN_SCALE = 1e-3
# More isolated "outliers" than this share of a series means two interleaved levels (bimodal).
_BIMODAL_SHARE = 0.08
# A noisy series alerts only on changes of at least this many run-to-run SDs.
_NOISE_K = 1.5
_EXACT_N = 20  # up to this many points in all, Mann-Whitney p-values are exact (scipy)
_REFINE_SPAN = 2  # placement fits this many windows either side (up to the neighbours)
_REFINE_BAND = 16  # and moves a change at most this far per pass


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
# Acknowledgements


@dataclass(frozen=True)
class Acknowledgement:
    """A known regression: benchmark pattern (fnmatch), commit (a prefix will do), reason."""

    benchmark: str
    commit: str
    reason: str = ""

    def matches(self, benchmark: str, commit: str) -> bool:
        return fnmatch.fnmatchcase(benchmark, self.benchmark) and commit.startswith(self.commit)


def load_acknowledged(path: str | Path) -> list[Acknowledgement]:
    """Read ``acknowledged.toml`` (``[[acknowledged]]`` tables); [] when the file is absent.

    Raises InputError naming the file (and line, where TOML reports one) on a bad file.
    """
    path = Path(path)
    if not path.is_file():
        return []
    text, data = _read_toml(path)
    entries = data.get("acknowledged", [])
    if not isinstance(entries, list):
        raise InputError(f"{path}: 'acknowledged' must be an array of tables ([[acknowledged]])")
    out = []
    for i, entry in enumerate(entries):
        where = f"{path}:{_entry_line(text, i)}"
        if not isinstance(entry, dict):
            raise InputError(f"{where}: entry {i + 1} is not a table")
        unknown = set(entry) - {"benchmark", "commit", "reason"}
        if unknown:
            raise InputError(f"{where}: unknown keys {sorted(unknown)} in entry {i + 1}")
        for key in ("benchmark", "commit"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise InputError(f"{where}: entry {i + 1} needs a non-empty string {key!r}")
        reason = entry.get("reason", "")
        if not isinstance(reason, str):
            raise InputError(f"{where}: entry {i + 1}: 'reason' must be a string")
        out.append(Acknowledgement(entry["benchmark"], entry["commit"].strip().lower(), reason))
    return out


def _read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The text and parsed TOML of ``path``; InputError naming the file on bad bytes or syntax."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8"
        ) from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: {exc}") from None


def acknowledged_warnings(
    path: str | Path, acknowledged: list[Acknowledgement], table: pd.DataFrame
) -> list[str]:
    """What in ``acknowledged.toml`` can never take effect on ``table``, one line each.

    A top-level key other than ``acknowledged`` (a misspelt table such as
    ``[[acknowleged]]``); an entry whose benchmark pattern matches no benchmark, or whose
    commit matches no commit, of the results. [] when the file is absent.
    """
    path = Path(path)
    if not path.is_file():
        return []
    text, data = _read_toml(path)
    out = [
        f"{path}: table [{key}] is not [[acknowledged]]; its entries are ignored"
        for key in data
        if key != "acknowledged"
    ]
    if table is None or table.empty:
        return out
    benchmarks = [str(b) for b in pd.unique(table["benchmark"].astype(str))]
    commits = [str(c) for c in pd.unique(table["commit"].astype(str))]
    for i, ack in enumerate(acknowledged):
        where = f"{path}:{_entry_line(text, i)}"
        if not any(fnmatch.fnmatchcase(b, ack.benchmark) for b in benchmarks):
            out.append(f"{where}: benchmark {ack.benchmark!r} matches no benchmark in the results")
        if not any(c.startswith(ack.commit) for c in commits):
            out.append(f"{where}: commit {ack.commit!r} matches no commit in the results")
    return out


def _entry_line(text: str, index: int) -> int:
    """Line number of the ``index``-th ``[[acknowledged]]`` header (1-based), for messages."""
    seen = -1
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith("[[acknowledged]]"):
            seen += 1
            if seen == index:
                return lineno
    return 1


def _as_acks(acknowledged: Iterable[Any] | None) -> list[Acknowledgement]:
    out = []
    for a in acknowledged or ():
        if isinstance(a, Acknowledgement):
            out.append(a)
        elif isinstance(a, Mapping):
            out.append(
                Acknowledgement(str(a["benchmark"]), str(a["commit"]).lower(), a.get("reason", ""))
            )
        else:
            raise TypeError(f"acknowledgement must be an Acknowledgement or a mapping, not {a!r}")
    return out


# --------------------------------------------------------------------------------------------
# Statistics on one series (numpy only)


@dataclass(frozen=True)
class Change:
    """A change between positions ``start`` (last good) and ``stop`` (first bad) of a series.

    ``shift`` (Hodges-Lehmann, after minus before) and its interval are in the series' working
    scale (log for positive series); they compare ``x[left:start + 1]`` with ``x[stop:right]``.
    """

    start: int
    stop: int
    shift: float
    low: float
    high: float
    pvalue: float
    left: int
    right: int
    n_steps: int = 1


def _ranks(a: np.ndarray) -> tuple[np.ndarray, float]:
    """Average ranks (1-based) and the tie term sum(t^3 - t) for the variance correction."""
    order = np.argsort(a, kind="stable")
    s = a[order]
    n = s.size
    # Boundaries of runs of equal values give average ranks without scipy's overhead.
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(s[1:], s[:-1], out=new[1:])
    idx = np.flatnonzero(new)
    counts = np.diff(np.append(idx, n))
    avg = idx + (counts + 1) / 2.0
    ranks = np.empty(n)
    ranks[order] = np.repeat(avg, counts)
    ties = float(np.sum(counts.astype(float) ** 3 - counts))
    return ranks, ties


def _scan(x: np.ndarray, min_size: int) -> tuple[int, float]:
    """Best split of ``x`` by the standardised rank CUSUM: (position, |z|); (-1, 0) if none."""
    n = x.size
    if n < 2 * min_size:
        return -1, 0.0
    r, ties = _ranks(x)
    k = np.arange(1, n, dtype=float)
    s = np.cumsum(r)[:-1]
    # Mann-Whitney U of the right part minus its mean, for every split k (left = first k).
    u = k * (n + 1) / 2.0 - s
    var = k * (n - k) / 12.0 * ((n + 1) - ties / (n * (n - 1)))
    z = np.zeros_like(u)
    ok = var > 0
    z[ok] = np.abs(u[ok]) / np.sqrt(var[ok])
    z[: min_size - 1] = 0.0
    z[n - min_size :] = 0.0
    j = int(np.argmax(z))
    return j + 1, float(z[j])


def _compare(left: np.ndarray, right: np.ndarray, conf: float | None = None) -> tuple[float, ...]:
    """Mann-Whitney p-value (two-sided) and the Hodges-Lehmann shift (right - left) with its
    distribution-free (Moses) interval at ``conf`` (default `_CONF`).

    The normal approximation with tie and continuity corrections is computed here (the same
    figure as scipy.stats.mannwhitneyu(method="asymptotic"), without its per-call overhead);
    small tie-free samples get scipy's exact p-value instead.
    """
    n1, n2 = left.size, right.size
    both = np.concatenate([left, right])
    r, ties = _ranks(both)
    n = n1 + n2
    u = r[n1:].sum() - n2 * (n2 + 1) / 2.0  # U of the right sample
    mu = n1 * n2 / 2.0
    var = n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:
        p = 1.0
    elif n <= _EXACT_N and ties == 0:
        from scipy.stats import mannwhitneyu

        p = float(mannwhitneyu(right, left, method="exact").pvalue)
    else:
        z = max(abs(u - mu) - 0.5, 0.0) / math.sqrt(var)
        p = math.erfc(z / math.sqrt(2.0))
    d = np.subtract.outer(right, left).ravel()
    m = d.size
    z_ci = _norm_ppf(0.5 + (_CONF if conf is None else conf) / 2.0)
    # Moses: the interval runs from the C-th smallest to the C-th largest pairwise difference.
    c = int(math.floor(mu - z_ci * math.sqrt(max(var, 0.0))))
    lo_i = min(max(c - 1, 0), (m - 1) // 2)
    hi_i = m - 1 - lo_i
    mid = [(m - 1) // 2, m // 2]
    part = np.partition(d, sorted({lo_i, hi_i, *mid}))
    shift = 0.5 * (part[mid[0]] + part[mid[1]])
    return p, float(shift), float(part[lo_i]), float(part[hi_i])


def _norm_ppf(q: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(q))


@dataclass(frozen=True)
class Noise:
    """What a series' own history says about its noise (working scale: log for positive series).

    ``sigma`` is the robust run-to-run SD (from successive differences, so steps barely move
    it); ``outliers`` marks isolated points far off the levels on both sides of them, in either
    direction; ``model`` is 'bimodal' when such points are too many to be outliers (two
    interleaved levels), else 'normal'; ``floor`` is the smallest change the series can alert
    on whatever the threshold: ``_NOISE_K`` x sigma, or the gap between the two levels of a
    bimodal series.
    """

    sigma: float
    outliers: np.ndarray
    model: str
    floor: float
    deviation: np.ndarray  # signed distance of each point from the nearer side's median


def _robust_scale(x: np.ndarray) -> float:
    d = np.diff(x)
    if d.size == 0:
        return 0.0
    return 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2.0)


def _side_medians(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Median of up to ``k`` points before and after each point (NaN with fewer than 2)."""
    n = x.size
    left = np.full(n, np.nan)
    right = np.full(n, np.nan)
    if n >= k:
        med = np.median(np.lib.stride_tricks.sliding_window_view(x, k), axis=1)
        left[k:] = med[: n - k]
        right[: n - k] = med[1:]
    for i in range(n):  # the few points near the ends, with shorter sides
        if np.isnan(left[i]) and i >= 2:
            left[i] = np.median(x[max(0, i - k) : i])
        if np.isnan(right[i]) and n - i - 1 >= 2:
            right[i] = np.median(x[i + 1 : i + 1 + k])
    return left, right


def noise_model(x: np.ndarray) -> Noise:
    """The `Noise` of series ``x`` (finite values in commit order, working scale)."""
    x = np.asarray(x, dtype=float)
    n = x.size
    none = np.zeros(n, dtype=bool)
    if n < 5:
        return Noise(_robust_scale(x), none, "normal", 0.0, np.zeros(n))
    scale = max(_robust_scale(x), _MIN_SCALE)
    left, right = _side_medians(x, _OUTLIER_SIDE)
    dl, dr = x - left, x - right
    both = np.isfinite(dl) & np.isfinite(dr) & (np.sign(dl) == np.sign(dr))
    dev = np.where(both, np.sign(dl) * np.minimum(np.abs(dl), np.abs(dr)), 0.0)
    flagged = np.abs(dev) > _OUTLIER_Z * scale
    if flagged.sum() >= 3 and flagged.mean() > _BIMODAL_SHARE:
        # two levels taking turns: a change must be larger than the gap between them
        gap = float(np.median(np.abs(dev[flagged])))
        return Noise(_robust_scale(x), none, "bimodal", gap, dev)
    sigma = _robust_scale(x[~flagged])
    return Noise(sigma, flagged, "normal", _NOISE_K * sigma, dev)


def detect_changes(
    x: np.ndarray,
    *,
    alpha: float = DEFAULT_ALPHA,
    min_size: int = DEFAULT_MIN_SIZE,
    window: int = DEFAULT_WINDOW,
    noise_up: bool = True,
) -> list[Change]:
    """Significant level changes of one series ``x`` (finite values, in commit order).

    ``noise_up``: outliers make values larger (timings, memory); False for higher-is-better
    series, whose noise makes them smaller.

    Each Change has ``start`` = last position of the old level, ``stop`` = first of the new.
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    if n < 2 * min_size:
        return []
    # 1. candidates by binary segmentation
    cps: list[int] = []
    stack = [(0, n)]
    while stack:
        a, b = stack.pop()
        k, z = _scan(x[a:b], min_size)
        if k < 0 or z < _SPLIT_Z:
            continue
        cps.append(a + k)
        stack.append((a, a + k))
        stack.append((a + k, b))
    cps.sort()

    # 2. merge: drop the weakest change point until all are significant (as Otava does), then
    # place each one where a two-level robust fit is best (the rank scan finds changes well
    # but places them loosely, as ranks ignore how far apart values are); moving a change can
    # weaken a neighbour, so repeat until nothing moves.
    def test(i: int) -> tuple[float, ...]:
        lo = cps[i - 1] if i > 0 else 0
        hi = cps[i + 1] if i + 1 < len(cps) else n
        c = cps[i]
        return _compare(x[max(lo, c - window) : c], x[c : min(hi, c + window)])

    for _ in range(4):
        stats = [test(i) for i in range(len(cps))]
        while cps:
            worst = max(range(len(cps)), key=lambda i: stats[i][0])
            if stats[worst][0] <= alpha:
                break
            del cps[worst], stats[worst]
            for i in (worst - 1, worst):
                if 0 <= i < len(cps):
                    stats[i] = test(i)
        moved = False
        for i in range(len(cps)):
            lo = max(cps[i - 1] if i > 0 else 0, cps[i] - _REFINE_SPAN * window)
            hi = min(cps[i + 1] if i + 1 < len(cps) else n, cps[i] + _REFINE_SPAN * window)
            new = lo + _best_split(x[lo:hi], min_size, cps[i] - lo, noise_up)
            moved |= new != cps[i]
            cps[i] = new
        if not moved:
            break
    out = []
    for i, c in enumerate(cps):
        p, shift, low, high = test(i)
        if p <= alpha:
            left = max(cps[i - 1] if i > 0 else 0, c - window)
            right = min(cps[i + 1] if i + 1 < len(cps) else n, c + window)
            out.append(Change(c - 1, c, shift, low, high, p, left, right))
    return out


def _huber_prefix_costs(
    s: np.ndarray, scale: float, ks: np.ndarray, c: float = _HUBER_C
) -> np.ndarray:
    """cost[i] = one-sided Huber loss of s[:ks[i]] about its M-estimated level.

    Residuals up to ``c`` robust SDs above the level, and all below it, cost their square;
    larger ones above cost linearly. That is the likelihood of Gaussian noise plus slow-downs,
    so a noisy neighbour's run cannot pull the fit the way it pulls a mean. All prefixes are
    fitted at once (a row per prefix; a few reweighting steps from the prefix median).
    """
    m = s.size
    tri = np.arange(m)[None, :] < ks[:, None]  # row i keeps the first ks[i] values
    rows = np.sort(np.where(tri, s[None, :], np.inf), axis=1)
    i = np.arange(ks.size)
    lo, hi = np.clip((ks - 1) // 2, 0, m - 1), np.clip(ks // 2, 0, m - 1)
    level = np.where(ks > 0, 0.5 * (rows[i, lo] + rows[i, hi]), 0.0)
    values = np.where(tri, s[None, :], 0.0)
    for _ in range(3):
        r = (s[None, :] - level[:, None]) / scale
        w = np.where(tri, np.where(r > c, c / np.maximum(r, c), 1.0), 0.0)
        total = w.sum(axis=1)
        level = np.where(total > 0, (w * values).sum(axis=1) / np.where(total > 0, total, 1), 0.0)
    r = (s[None, :] - level[:, None]) / scale
    rho = np.where(r > c, c * r - c * c / 2, 0.5 * r * r)
    return np.where(tri, rho, 0.0).sum(axis=1)


def _best_split(s: np.ndarray, min_size: int, near: int, noise_up: bool = True) -> int:
    """Split of ``s`` into two constant levels with the least one-sided Huber loss (noise
    slows runs down: up for timings, down for higher-is-better series); ties go to the split
    closest to ``near``."""
    m = s.size
    if m < 2 * min_size:
        return near
    if not noise_up:
        s = -s
    d = np.diff(s)
    # Noise scale from successive differences: a step moves only one of them.
    scale = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2.0)
    if not scale > 0:
        scale = float(np.std(s)) or 1.0
    # Splits within _REFINE_BAND of ``near`` (the caller repeats while changes move).
    ks = np.arange(max(min_size, near - _REFINE_BAND), min(m - min_size, near + _REFINE_BAND) + 1)
    if ks.size == 0:
        return near
    with np.errstate(over="ignore", invalid="ignore"):
        cost = _huber_prefix_costs(s, scale, ks) + _huber_prefix_costs(s[::-1], scale, m - ks)
    finite = np.isfinite(cost)
    if not finite.any():  # values so large their squares overflow: keep the rank placement
        return near
    low = float(cost[finite].min())
    best = ks[finite & (cost <= low + 1e-9 * abs(low))]
    return int(best[np.argmin(np.abs(best - near))])


def _events(
    x: np.ndarray,
    changes: list[Change],
    worse_sign: int,
    log_threshold: float,
    window: int,
    alpha: float = DEFAULT_ALPHA,
) -> list[tuple[Change, str]]:
    """Turn changes into events: (Change, 'regression' | 'improvement' | 'below threshold').

    The rule: a change is a regression or an improvement when its estimated size (the
    Hodges-Lehmann shift) is at least ``log_threshold``; a significant change whose estimate
    falls short is 'below threshold', never a regression. The 99 % interval decides only which
    changes stand alone: one whose whole interval lies beyond the threshold is reported on its
    own; consecutive same-direction changes that do not are joined into ranged changes, each
    ending at the step where the accumulated change reaches the threshold, and tested again on
    the window before its first step and the window after its last (asv #932).
    """
    out: list[tuple[Change, str]] = []

    def reaches(c: Change) -> bool:
        return abs(c.shift) >= log_threshold

    def clears(c: Change) -> bool:
        return (c.low if c.shift > 0 else -c.high) >= log_threshold

    def label(c: Change) -> str:
        if not reaches(c):
            return "below threshold"
        return "regression" if c.shift * worse_sign > 0 else "improvement"

    bounds = [0] + [c.stop for c in changes] + [x.size]
    run: list[int] = []

    def emit(members: list[int]) -> None:
        first, last = changes[members[0]], changes[members[-1]]
        if len(members) == 1:
            out.append((first, label(first)))
            return
        left = max(bounds[members[0]], first.stop - window)
        right = min(bounds[members[-1] + 2], last.stop + window)
        p, shift, low, high = _compare(x[left : first.stop], x[last.stop : right])
        joined = Change(first.start, last.stop, shift, low, high, p, left, right, len(members))
        if p <= alpha and reaches(joined):
            out.append((joined, label(joined)))
        else:
            out.extend((changes[m], "below threshold") for m in members)

    def flush() -> None:
        # As asv does since its #932: the range ends at the step where the accumulated change
        # first reaches the threshold; steps after it start a new accumulation.
        i = 0
        while i < len(run):
            total, j = 0.0, i
            while j < len(run) - 1:
                total += changes[run[j]].shift
                if abs(total) >= log_threshold:
                    break
                j += 1
            emit(run[i : j + 1])
            i = j + 1
        run.clear()

    for i, c in enumerate(changes):
        if clears(c):
            flush()
            out.append((c, label(c)))
            continue
        if run and np.sign(changes[run[-1]].shift) != np.sign(c.shift):
            flush()
        run.append(i)
    flush()
    return out


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
    at the same commits (`tensorbench.analysis.corroboration`). Columns: `COLUMNS`; ``significance`` is
    a Mann-Whitney p-value. Sorted with open regressions first, most corroborated first,
    largest effect first.
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
        noise = noise_model(x_all)
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
        changes = (
            detect_changes(x, alpha=alpha, min_size=min_size, window=window, noise_up=worse > 0)
            if x.size >= 2 * min_size
            else []
        )
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
            if label not in wanted:
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
            if label == "regression" and before and c.stop < tail:
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
                }
            )
    if not rows:
        return _empty()
    out = pd.DataFrame(rows, columns=COLUMNS)
    if corroborate:
        from .corroboration import corroborate as _corroborate

        out = _corroborate(out, pts, threshold)
    else:
        out["corroboration"] = 0
        out["corroborated_by"] = [[] for _ in range(len(out))]
        out["not_seen_by"] = [[] for _ in range(len(out))]
    size = np.abs(np.log(out["ratio"].where(out["ratio"] > 0)))
    rank = {k: i for i, k in enumerate(KINDS)}
    out = out.assign(
        _pass=~out["fails_gate"].astype(bool),
        _kind=out["kind"].map(rank),
        _corr=-out["corroboration"],
        _eff=-size,
    )
    out = out.sort_values(["_pass", "_kind", "_corr", "_eff"], kind="stable")
    out = out.drop(columns=["_pass", "_kind", "_corr", "_eff"])
    return out.reset_index(drop=True)


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
