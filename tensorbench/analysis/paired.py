"""Paired, interleaved comparisons: the ratio B/A of one point, its interval and a verdict.

Pure functions (NumPy and SciPy only) behind `tensorbench compare --paired`, `regressions
--confirm`, `bisect` and scripts/paired_power.py; the process scheduling is in
`tensorbench.asv.paired`.

The unit of replication is the *round*: sides A and B run fresh worker processes in one short
time window, in a mirrored order (A B B A, then B A A B in the next round), and the round's value
of each side is the geometric mean of its processes' medians. A round gives one log ratio
``log(B_r / A_r)``. Why rounds and not samples or processes:

- Samples inside one process share that process's luck (heap layout, thread placement), so
  pooling them would count one draw of that luck many times (pseudo-replication).
- The host drifts by 5-10 % over minutes, the same way for both sides. Inside a round the
  mirrored order cancels a linear drift exactly (A's mean position equals B's), so the round's
  log ratio carries only the process-to-process noise; what drifts between rounds cancels in
  each round's ratio.

Interval: by default the Hodges-Lehmann estimate of the per-round log ratios (the median of
their pairwise means, the Walsh averages) with its exact Wilcoxon signed-rank interval, shown as a
ratio; Student's t on the mean (``method="t"``) stays for comparison. Why rank-based: this host
has episodes in which one process runs 10-40 % slow (a neighbour's burst), so a few rounds'
log ratios sit far out; one such round inflates the standard deviation a t interval is built
from, while the signed-rank interval, built from ranks, barely moves (as Chromium's Pinpoint, which compares with rank tests). The interval is
distribution-free where t assumes normal rounds, needs only that a round's log ratio is
symmetric about the true shift (the mirrored order makes A and B exchangeable under no change),
and costs about 5 % of t's efficiency when rounds are normal. Its price: at 95 % it exists from
6 rounds on (with fewer, no interval can exclude anything), so that is the least a comparison
runs by default; a comparison told to stop earlier (``--max-rounds 4``, the tests' fast runs)
gets the t interval, and every result says which interval it carries. Why not a bootstrap: with the 6 to 20 rounds a comparison affords the percentile bootstrap
under-covers (at R = 6 a nominal 95 % covers about 88 %).

Verdict, with X = ``same_within`` (0.02 = 2 %):

- ``same``: the whole interval lies inside [1/(1+X), 1+X]: any change is smaller than X. This
  wins over "the interval excludes 1": a 0.3 % shift measured very precisely is still "same".
- ``slower`` / ``faster``: the interval excludes 1 (and is not inside the band).
- ``inconclusive``: neither; more rounds would tell.

Rounds (Kalibera & Jones, "Rigorous benchmarking in reasonable time", ISMM 2013: choose the
repetitions from the measured variance): every point runs ``min_rounds``; a point stops early
once it is *settled* (`settled`): its interval is inside the band ("same" cannot become a false
"slower"), or lies wholly beyond it (a large change), or its half-width is at most ``target``
(default 0.4 X). Stopping on precision does not look at the sign of the estimate, so it does
not inflate false "slower"/"faster" as stopping on significance would. Why 0.4 X: once the
half-width h <= X/2 the verdicts are exhaustive (same iff |mean| < X - h), and with h = 0.4 X an
A/A comparison reads "same" unless its mean is off by more than 1.5 half-widths, about 3 standard
errors: under 0.5 % of comparisons, against about 5 % at h = X/2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

VERDICTS = ("same", "slower", "faster", "inconclusive")
DEFAULT_SAME_WITHIN = 0.02
DEFAULT_CONFIDENCE = 0.95
METHODS = ("auto", "wilcoxon", "t")
DEFAULT_METHOD = "auto"  # wilcoxon from MIN_WILCOXON_ROUNDS rounds on, t below
MIN_WILCOXON_ROUNDS = 6  # the fewest rounds whose exact 95 % signed-rank interval is finite
TARGET_FRACTION = 0.4  # settled half-width as a fraction of the band (see the module docstring)


@dataclass(frozen=True)
class PairedResult:
    """One comparison of one point: the ratio B/A, its interval and the verdict."""

    rounds: int
    ratio: float  # exp(estimate of the per-round log ratios' centre): B/A, > 1: B is slower
    low: float
    high: float
    verdict: str
    same_within: float
    confidence: float
    log_ratios: tuple[float, ...]
    method: str = DEFAULT_METHOD

    @property
    def half_width(self) -> float:
        """Half the interval's width in log units (about the relative half-width)."""
        if not (self.low > 0 and self.high > 0):
            return math.inf
        return (math.log(self.high) - math.log(self.low)) / 2

    def to_dict(self) -> dict[str, object]:
        return {
            "rounds": self.rounds,
            "ratio": _finite(self.ratio),
            "low": _finite(self.low),
            "high": _finite(self.high),
            "verdict": self.verdict,
            "same_within": self.same_within,
            "confidence": self.confidence,
            "interval": self.method,
            "log_ratios": [float(x) for x in self.log_ratios],
        }

    def describe(self) -> str:
        """``1.049 [1.041, 1.057] slower`` style text."""
        return f"{self.ratio:.3f} [{self.low:.3f}, {self.high:.3f}] {self.verdict}"


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def geometric_mean(values: Sequence[float]) -> float:
    """Geometric mean of positive values (NaN when there are none or any is not positive)."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0 or not np.all(arr > 0) or not np.all(np.isfinite(arr)):
        return math.nan
    return float(np.exp(np.mean(np.log(arr))))


def round_log_ratios(
    a_rounds: Sequence[Sequence[float]], b_rounds: Sequence[Sequence[float]]
) -> np.ndarray:
    """Per-round ``log(gm(B_r) / gm(A_r))``; rounds where either side has no value are left out.

    ``a_rounds[r]`` holds the medians of side A's processes in round r (one per process).
    """
    out = []
    for a, b in zip(a_rounds, b_rounds, strict=False):
        ga, gb = geometric_mean(a), geometric_mean(b)
        if math.isfinite(ga) and math.isfinite(gb):
            out.append(math.log(gb) - math.log(ga))
    return np.asarray(out, dtype=float)


def log_interval(
    log_ratios: Sequence[float], confidence: float = DEFAULT_CONFIDENCE
) -> tuple[float, float, float]:
    """(mean, low, high) of the mean log ratio: Student's t over rounds.

    Fewer than two rounds give an infinite interval (nothing to estimate the spread from).
    """
    x = np.asarray(log_ratios, dtype=float)
    if x.size == 0:
        return math.nan, -math.inf, math.inf
    mean = float(np.mean(x))
    if x.size < 2:
        return mean, -math.inf, math.inf
    sem = float(np.std(x, ddof=1)) / math.sqrt(x.size)
    from scipy import stats  # here: importing scipy.stats costs every command 0.5 s or more

    t = float(stats.t.ppf(0.5 + confidence / 2, x.size - 1))
    return mean, mean - t * sem, mean + t * sem


def _signed_rank_cdf(n: int) -> np.ndarray:
    """P(T+ <= t) for t = 0 .. n(n+1)/2: the exact null distribution of Wilcoxon's statistic."""
    top = n * (n + 1) // 2
    counts = np.zeros(top + 1)
    counts[0] = 1.0
    for i in range(1, n + 1):  # each rank i is in the positive sum or not, equally likely
        shifted = np.zeros_like(counts)
        shifted[i:] = counts[: top + 1 - i]
        counts = counts + shifted
    return np.cumsum(counts) / counts.sum()


def wilcoxon_interval(
    log_ratios: Sequence[float], confidence: float = DEFAULT_CONFIDENCE
) -> tuple[float, float, float]:
    """(Hodges-Lehmann estimate, low, high): the exact signed-rank interval of the shift.

    The Walsh averages (x_i + x_j) / 2, i <= j, sorted; the interval runs from the k-th smallest
    to the k-th largest, k - 1 being the largest t with P(T+ <= t) <= (1 - confidence) / 2.
    Where no such t exists (fewer than 6 values at 95 %) the interval is infinite.
    """
    x = np.asarray(log_ratios, dtype=float)
    if x.size == 0:
        return math.nan, -math.inf, math.inf
    i, j = np.triu_indices(x.size)
    walsh = np.sort((x[i] + x[j]) / 2)
    estimate = float(np.median(walsh))
    k = int(np.searchsorted(_signed_rank_cdf(x.size), (1 - confidence) / 2, side="right"))
    if k == 0:
        return estimate, -math.inf, math.inf
    return estimate, float(walsh[k - 1]), float(walsh[walsh.size - k])


def verdict(log_low: float, log_high: float, same_within: float = DEFAULT_SAME_WITHIN) -> str:
    """The verdict of an interval on the log scale (see the module docstring)."""
    band = math.log1p(same_within)
    if not (math.isfinite(log_low) and math.isfinite(log_high)):
        return "inconclusive"
    if -band < log_low and log_high < band:
        return "same"
    if log_low > 0:
        return "slower"
    if log_high < 0:
        return "faster"
    return "inconclusive"


def confirms_slower(result: PairedResult) -> bool:
    """Whether a paired result confirms a flagged regression: "slower", and by more than the
    "same" band. An unchanged pair is an A/A comparison, which reads "slower" by chance in a
    few per cent of runs (more with sequential rounds), almost always by less than the band."""
    return result.verdict == "slower" and result.ratio > 1 + result.same_within


def paired_result(
    log_ratios: Sequence[float],
    same_within: float = DEFAULT_SAME_WITHIN,
    confidence: float = DEFAULT_CONFIDENCE,
    method: str = DEFAULT_METHOD,
) -> PairedResult:
    """Ratio, interval and verdict from per-round log ratios (``method``: see the module)."""
    if not 0 < same_within < 1:
        raise ValueError(f"same_within must be in (0, 1), got {same_within}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    x = np.asarray(log_ratios, dtype=float)
    if method == "auto":
        method = "wilcoxon" if x.size >= MIN_WILCOXON_ROUNDS else "t"
    interval = wilcoxon_interval if method == "wilcoxon" else log_interval
    mean, lo, hi = interval(x, confidence)
    with np.errstate(over="ignore"):
        ratio, low, high = (float(np.exp(v)) for v in (mean, lo, hi))
    return PairedResult(
        rounds=int(x.size),
        ratio=ratio,
        low=low,
        high=high,
        verdict=verdict(lo, hi, same_within),
        same_within=same_within,
        confidence=confidence,
        log_ratios=tuple(float(v) for v in x),
        method=method,
    )


def paired_from_rounds(
    a_rounds: Sequence[Sequence[float]],
    b_rounds: Sequence[Sequence[float]],
    same_within: float = DEFAULT_SAME_WITHIN,
    confidence: float = DEFAULT_CONFIDENCE,
    method: str = DEFAULT_METHOD,
) -> PairedResult:
    """`paired_result` of the per-round values of both sides (process medians per round)."""
    return paired_result(round_log_ratios(a_rounds, b_rounds), same_within, confidence, method)


def default_target(same_within: float = DEFAULT_SAME_WITHIN) -> float:
    """The half-width (log units) at which a point needs no more rounds: 0.4 of the band."""
    return TARGET_FRACTION * math.log1p(same_within)


def settled(result: PairedResult, min_rounds: int, target: float | None = None) -> bool:
    """Whether a point needs no more rounds (see the module docstring)."""
    if result.rounds < min_rounds:
        return False
    if result.verdict == "same":
        return True
    band = math.log1p(result.same_within)
    lo = math.log(result.low) if result.low > 0 else -math.inf
    hi = math.log(result.high) if result.high > 0 else math.inf
    if lo > band or hi < -band:  # wholly beyond the band: a large change, no doubt left
        return True
    limit = default_target(result.same_within) if target is None else target
    return result.half_width <= limit


def mirrored_order(round_index: int, sides: Sequence[str]) -> list[str]:
    """The process order of one round: the sides rotated by the round, then reversed.

    Two sides: A B B A in even rounds, B A A B in odd ones. Each side's mean position in a
    round is the same, so a drift linear in time cancels inside every round; alternating
    which side starts balances what is left (a first process after a pause, say) over rounds.
    """
    k = len(sides)
    if k == 0:
        return []
    base = [sides[(i + round_index) % k] for i in range(k)]
    return base + base[::-1]


@dataclass(frozen=True)
class MidpointReading:
    """Where a bisection midpoint M lies between the good end G and the bad end B, all three
    timed in the same rounds: per round ``s = log(M/G) - log(B/M)`` (sign turned so that the
    change's direction is positive), its Hodges-Lehmann estimate and signed-rank interval.

    ``s > 0``: more of the change lies between G and M than between M and B (M carries it);
    ``s < 0``: M is still like G. ``share`` is ``log(M/G) / log(B/G)`` over the rounds.
    """

    rounds: int
    estimate: float
    low: float
    high: float
    share: float

    @property
    def decided(self) -> bool:
        """Whether the interval excludes 0: the side of the change is known at the confidence."""
        return self.low > 0 or self.high < 0

    @property
    def changed(self) -> bool:
        """M carries the change (by the interval when decided, by the estimate otherwise)."""
        return self.low > 0 if self.decided else self.estimate > 0


def midpoint_reading(
    good: Sequence[Sequence[float]],
    mid: Sequence[Sequence[float]],
    bad: Sequence[Sequence[float]],
    slower: bool = True,
    confidence: float = DEFAULT_CONFIDENCE,
) -> MidpointReading:
    """`MidpointReading` of per-round process medians of the three sides (rounds where a side
    has no value are left out).

    Why three sides in the same rounds rather than G against M alone, judged by half of an
    earlier endpoints' ratio: one paired comparison's interval is as wide as the step sought
    (6-12 % for a +10 % step on this host), and an A/A midpoint once read +10 % [3.4, 15.8]
    "slower" and sent a search the wrong way. Here the endpoints are re-measured beside the
    midpoint, so host episodes move all three together, and a side is chosen only when the
    interval of the difference excludes 0 (more rounds otherwise), as Pinpoint compares a
    midpoint with its neighbours.
    """
    sign = 1.0 if slower else -1.0
    diffs, up, whole = [], [], []
    for g, m, b in zip(good, mid, bad, strict=False):
        gg, gm, gb = geometric_mean(g), geometric_mean(m), geometric_mean(b)
        if not all(math.isfinite(v) for v in (gg, gm, gb)):
            continue
        first, second = math.log(gm / gg), math.log(gb / gm)
        diffs.append(sign * (first - second))
        up.append(first)
        whole.append(first + second)
    if not diffs:
        return MidpointReading(0, math.nan, -math.inf, math.inf, math.nan)
    method = wilcoxon_interval if len(diffs) >= MIN_WILCOXON_ROUNDS else log_interval
    est, lo, hi = method(diffs, confidence)
    total = float(np.sum(whole))
    share = float(np.sum(up)) / total if total else math.nan
    return MidpointReading(len(diffs), est, lo, hi, share)
