"""The noise model of one series: its robust run-to-run SD, isolated outliers (either way) and
whether it is bimodal (step 2 of the method in `tensorbench.analysis.regressions`). numpy only."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

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
    # the few points near the ends, with shorter sides (only those can still be NaN)
    for i in range(2, min(k, n)):
        left[i] = np.median(x[max(0, i - k) : i])
    for i in range(max(n - k, 0), n - 2):
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
