"""Change points of one series: rank-CUSUM candidates, Mann-Whitney merge, one-sided Huber
placement, Hodges-Lehmann effects and the threshold rule (steps 3-7 of the method in
`tensorbench.analysis.regressions`, run by its per-series step, `perseries`). numpy only."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache
from statistics import NormalDist

import numpy as np

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
EXACT_N = 20  # up to this many points in all, Mann-Whitney p-values are exact
_REFINE_SPAN = 2  # placement fits this many windows either side (up to the neighbours)
_REFINE_BAND = 16  # and moves a change at most this far per pass


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


def rank_pvalue(left: np.ndarray, right: np.ndarray) -> float:
    """The two-sided Mann-Whitney p-value of `compare_samples`, alone."""
    return _u_test(left, right)[0]


def _u_test(left: np.ndarray, right: np.ndarray) -> tuple[float, float, float]:
    """(two-sided p-value, U's mean, U's variance) of the right sample against the left."""
    n1, n2 = left.size, right.size
    r, ties = _ranks(np.concatenate([left, right]))
    n = n1 + n2
    u = r[n1:].sum() - n2 * (n2 + 1) / 2.0  # U of the right sample
    mu = n1 * n2 / 2.0
    var = n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:
        p = 1.0
    elif n <= EXACT_N and ties == 0:
        p = exact_pvalue(u, n1, n2)
    else:
        z = max(abs(u - mu) - 0.5, 0.0) / math.sqrt(var)
        p = math.erfc(z / math.sqrt(2.0))
    return p, mu, var


def compare_samples(
    left: np.ndarray, right: np.ndarray, conf: float | None = None
) -> tuple[float, ...]:
    """Mann-Whitney p-value (two-sided) and the Hodges-Lehmann shift (right - left) with its
    distribution-free (Moses) interval at ``conf`` (default `_CONF`).

    The normal approximation with tie and continuity corrections is computed here (the same
    figure as scipy.stats.mannwhitneyu(method="asymptotic"), without its per-call overhead);
    small tie-free samples get the exact p-value (`exact_pvalue`).
    """
    p, mu, var = _u_test(left, right)
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


@lru_cache(maxsize=8)
def _norm_ppf(q: float) -> float:
    return NormalDist().inv_cdf(q)


@cache
def _u_tail(n1: int, n2: int) -> np.ndarray:
    """P(U >= u) for u = 0 .. n1 n2 under the null (no ties): the exact distribution of the
    Mann-Whitney U of samples of n1 and n2, from the recursion over which sample holds the
    largest value (a right sample's largest adds n2 pairs it beats, a left one's none)."""
    prev = [np.ones(1) for _ in range(n2 + 1)]  # no right values: U = 0 however many left
    for m in range(1, n1 + 1):
        cur = [np.ones(1)]
        for k in range(1, n2 + 1):
            counts = np.zeros(m * k + 1)
            counts[k : k + prev[k].size] += prev[k]  # the largest is the m-th right value
            counts[: cur[k - 1].size] += cur[k - 1]  # the largest is a left value
            cur.append(counts)
        prev = cur
    counts = prev[n2]
    return np.cumsum(counts[::-1])[::-1] / counts.sum()


def exact_pvalues(u: np.ndarray, n1: int, n2: int) -> np.ndarray:
    """`exact_pvalue` of many U values of samples of the same sizes."""
    big = np.rint(np.maximum(u, n1 * n2 - u)).astype(int)
    return np.minimum(1.0, 2.0 * _u_tail(n2, n1)[big])


def exact_pvalue(u: float, n1: int, n2: int) -> float:
    """Two-sided exact Mann-Whitney p-value of U = ``u`` (right sample of ``n2`` against left
    of ``n1``, no ties): twice the tail beyond the larger of U and n1 n2 - U, at most 1 (the
    figure of scipy.stats.mannwhitneyu(method="exact"), without scipy's per-call overhead)."""
    big = int(round(max(u, n1 * n2 - u)))
    return min(1.0, 2.0 * float(_u_tail(n2, n1)[big]))


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
        return compare_samples(x[max(lo, c - window) : c], x[c : min(hi, c + window)])

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


def classify_changes(
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
        p, shift, low, high = compare_samples(x[left : first.stop], x[last.stop : right])
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
