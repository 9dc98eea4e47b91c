"""The per-series step of the regression pipeline (`tensorbench.analysis.regressions`, steps
1-7 of its method): one series' noise model (`noisemodel`) and change points
(`changepoints`), turned into rows: isolated fast outliers, and changes labelled regression,
improvement or below threshold, with their size, 99 % interval, whether a later change
resolved them and whether they are acknowledged. numpy and pandas only.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..conventions import SERIES_KEYS
from .acknowledgements import Acknowledgement
from .changepoints import Change, classify_changes, detect_changes
from .modelstore import Model, detector_digest
from .noisemodel import Noise, noise_model

KINDS = ("regression", "improvement", "below threshold", "outlier")

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
    """True when a larger value of this series is an improvement: a ``track`` benchmark whose
    unit is a rate or a score (`HIGHER_IS_BETTER_UNITS`, case-insensitive, or one ending in
    ``/s``, ``_per_s`` or ``per second``)."""
    if kind != "track" or not isinstance(unit, str):
        return False
    u = unit.strip().lower()
    return (
        u in HIGHER_IS_BETTER_UNITS
        or u.endswith("/s")
        or u.endswith("_per_s")
        or u.endswith("per second")
    )


@dataclass(frozen=True)
class Settings:
    """What the caller asked for, the same for every series."""

    threshold: float
    alpha: float
    min_size: int
    window: int
    wanted: frozenset[str]  # kinds of rows to make
    corroborate: bool  # make the rows that corroboration may promote, too
    acks: tuple[Acknowledgement, ...]
    since_order: int | None = None  # only changes whose first bad commit is at or after ...
    since_date: pd.Timestamp | None = None  # ... this commit order, or this date
    models: Models = field(default_factory=lambda: Models())


class Points:
    """Every series' points, one per (series, commit), in series and commit order: the rows
    ``pos`` of ``frame`` (the results table itself, or its re-runs merged). ``series`` lists
    each series as (first position, end position, its identifying columns)."""

    _META = (*SERIES_KEYS, "kind", "unit", "params")

    def __init__(self, frame: pd.DataFrame, pos: np.ndarray, sid: np.ndarray) -> None:
        """``sid`` numbers the series of the points ``pos``."""
        self.values = frame["value"].to_numpy(dtype=float)[pos]
        self.orders = frame["commit_order"].to_numpy()[pos]
        # commits and dates only at the few positions rows report: converting all is slow
        self._commits, self._dates, self._pos = frame["commit"], frame["commit_date"], pos
        starts = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]])
        stops = np.r_[starts[1:], sid.size]
        at = pos[starts]
        meta = {k: frame[k].iloc[at] if k in frame else [None] * at.size for k in self._META}
        firsts = pd.DataFrame({k: list(v) for k, v in meta.items()}).to_dict("records")
        self.series = list(zip(starts.tolist(), stops.tolist(), firsts, strict=True))

    def commit(self, i: int) -> str:
        return str(self._commits.iat[self._pos[i]])

    def commits(self, i: int, j: int) -> list[str]:
        """The commits of positions ``i`` to ``j`` (excluded)."""
        return [str(c) for c in self._commits.iloc[self._pos[i:j]]]

    def date(self, i: int) -> pd.Timestamp:
        return self._dates.iat[self._pos[i]]

    def recent(self, i: int, s: Settings) -> bool:
        """Whether point ``i`` is at or after ``since``."""
        if s.since_order is not None and self.orders[i] < s.since_order:
            return False
        return s.since_date is None or not self.date(i) < s.since_date


@dataclass
class _Series:
    """One series on its working scale (log for positive series) and what its noise allows."""

    a: int  # position of its first point in `Points`
    first: dict[str, Any]  # its identifying columns
    y_all: np.ndarray
    x_all: np.ndarray
    positive: bool
    scale: float  # shifts are scaled by this where the series is not log-scaled
    worse: int  # +1: higher is worse; -1: higher is better
    thr: float  # the threshold on the working scale
    noise: Noise
    changes: list[Change]
    keep: np.ndarray  # positions of the points the change search saw (outliers left out)
    window: int

    def __post_init__(self) -> None:
        self.x, self.y = self.x_all[self.keep], self.y_all[self.keep]

    @property
    def tail(self) -> int:
        """Where the last level starts (0: the series has no change)."""
        return self.changes[-1].stop if self.changes else 0

    @property
    def latest(self) -> float:
        """The level the series ends on: a regression gone by then is "resolved"."""
        y = self.y
        return float(np.median(y[max(self.tail, y.size - self.window) :]))

    @property
    def effect(self) -> float:
        return max(self.thr, self.noise.floor)

    def as_ratio(self, v: float) -> float:
        with np.errstate(over="ignore"):
            return float(np.expm1(v)) if self.positive else v


def series_rows(
    points: Points, a: int, b: int, first: dict[str, Any], s: Settings
) -> list[dict[str, Any]]:
    """The rows of the series ``[a, b)`` of ``points`` (identified by ``first``): its
    outliers (if wanted) and changes.

    A change row held back only by the noise floor gets ``_promotable`` (corroboration in
    another environment may make it a regression or improvement: the ranking step decides).
    """
    ser = _series(points, a, b, first, s)
    if ser is None:
        return []
    model = ser.noise.model
    model = model if model == "bimodal" else "noisy" if ser.effect > ser.thr else "normal"
    common = {
        "min_effect": ser.as_ratio(ser.effect),
        "noise": ser.as_ratio(ser.noise.sigma),
        "noise_model": model,
        "latest": ser.latest,
    }
    rows = _outlier_rows(points, ser, s, common) if "outlier" in s.wanted else []
    for c, label in classify_changes(ser.x, ser.changes, ser.worse, ser.effect, s.window, s.alpha):
        row = _change_row(points, ser, s, c, label, common["latest"])
        if row is not None:
            rows.append(row | common)
    return rows


def _series(points: Points, a: int, b: int, first: dict[str, Any], s: Settings) -> _Series | None:
    """A series on its working scale, with its noise model and change points (None: too
    short, or values beyond float range once scaled)."""
    if b - a < 2 * s.min_size:
        return None
    y_all = points.values[a:b]
    positive = bool(np.all(y_all > 0))
    # Log scale makes steps ratios; series with zeros or negatives (some track_) stay linear
    # with shifts scaled by the median level.
    scale = 1.0 if positive else max(float(np.median(np.abs(y_all))), 1e-300)
    with np.errstate(over="ignore", invalid="ignore"):
        x_all = np.log(y_all) if positive else y_all / scale
    if not np.all(np.isfinite(x_all)):
        return None
    worse = -1 if higher_is_better(str(first["kind"]), first["unit"]) else 1
    noise, changes = s.models.get(x_all, s.alpha, s.min_size, s.window, worse > 0)
    thr = math.log1p(s.threshold) if positive else s.threshold
    keep = np.flatnonzero(~noise.outliers)
    return _Series(
        a, first, y_all, x_all, positive, scale, worse, thr, noise, changes, keep, s.window
    )


def _outlier_rows(
    points: Points, ser: _Series, s: Settings, common: dict[str, Any]
) -> list[dict[str, Any]]:
    """Isolated runs faster (better) than the levels on both sides, off by the threshold."""
    rows = []
    dev = ser.noise.deviation
    for i in np.flatnonzero(ser.noise.outliers & (dev * ser.worse < 0)):
        if abs(dev[i]) < ser.thr or not points.recent(ser.a + int(i), s):
            continue  # off its neighbours by less than the threshold: not worth a row
        j = max(int(i) - 1, 0)
        level = float(ser.y_all[i] * np.exp(-dev[i])) if ser.positive else math.nan
        ratio = float(ser.y_all[i] / level) if ser.positive else math.nan
        rows.append(
            _row(points, ser.first, "outlier", "better", ser.a + j, ser.a + int(i))
            | common
            | {
                "before": level,
                "after": float(ser.y_all[i]),
                "ratio": ratio,
                "ratio_low": math.nan,
                "ratio_high": math.nan,
                "significance": math.nan,
                "n_steps": 1,
                "range_points": 1,
            }
        )
    return rows


def _change_row(
    points: Points,
    ser: _Series,
    s: Settings,
    c: Change,
    label: str,
    latest: float,
) -> dict[str, Any] | None:
    """The row of one change of the series (None: not wanted, or before ``since``)."""
    direction = "worse" if c.shift * ser.worse > 0 else "better"
    # held back by the noise floor alone: corroboration elsewhere may promote it
    promotable = label == "below threshold" and ser.effect > ser.thr and abs(c.shift) >= ser.thr
    if label not in s.wanted and not (promotable and s.corroborate):
        return None
    i0, i1 = ser.a + int(ser.keep[c.start]), ser.a + int(ser.keep[c.stop])
    if not points.recent(i1, s):
        return None
    y = ser.y
    before = float(np.median(y[c.left : c.start + 1]))
    after = float(np.median(y[c.stop : c.right]))
    if ser.positive:
        with np.errstate(over="ignore"):  # 1e-300 -> 1e300 is a finite log shift
            est, lo, hi = (float(v) for v in np.exp([c.shift, c.low, c.high]))
    else:
        est, lo, hi = (
            (before + v * ser.scale) / before if before else math.nan
            for v in (c.shift, c.low, c.high)
        )
    resolved = False
    # only a later change can undo it; the level test alone would call a regression just
    # under the threshold by medians "resolved" on the segment it starts
    if (label == "regression" or promotable) and before and c.stop < ser.tail:
        still = latest / before if ser.worse > 0 else before / latest if latest else math.inf
        resolved = bool(still < 1 + s.threshold)
    benchmark = str(ser.first["benchmark"])
    range_commits = points.commits(i0 + 1, i1 + 1) if s.acks else []
    ack = next((k for k in s.acks if any(k.matches(benchmark, h) for h in range_commits)), None)
    return _row(points, ser.first, label, direction, i0, i1) | {
        "before": before,
        "after": after,
        "ratio": est,
        "ratio_low": lo,
        "ratio_high": hi,
        "significance": c.pvalue,
        "n_steps": c.n_steps,
        "range_points": int(i1 - i0),
        "resolved": resolved,
        "acknowledged": ack is not None,
        "reason": ack.reason if ack else "",
        "fails_gate": label == "regression" and ack is None and not resolved,
        "_promotable": promotable,
    }


def _row(
    points: Points, first: dict[str, Any], kind: str, direction: str, i0: int, i1: int
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
        "last_good_commit": points.commit(i0),
        "first_bad_commit": points.commit(i1),
        "last_good_date": points.date(i0),
        "first_bad_date": points.date(i1),
        "_orders": (int(points.orders[i0]), int(points.orders[i1])),
        "resolved": False,
        "acknowledged": False,
        "reason": "",
        "fails_gate": False,
    }


# Noise models and change points by series fingerprint (its working-scale values, the
# detector's settings and code): a rescan (another threshold, a new result file for some
# series) redoes only the series whose values changed. Bounded: cleared when it grows past this.
_SERIES_MEMO: dict[bytes, Model] = {}
_SERIES_MEMO_MAX = 1_000_000


class Models:
    """Where a scan takes each series' model from: this process's memo, then ``stored`` (a
    `modelstore` file's), else computed. ``used`` collects what the scan used and ``fresh``
    counts the models it computed, so a caller knows whether to store them."""

    def __init__(self, stored: dict[bytes, Model] | None = None) -> None:
        self.stored = stored or {}
        self.used: dict[bytes, Model] = {}
        self.fresh = 0

    def get(
        self, x_all: np.ndarray, alpha: float, min_size: int, window: int, noise_up: bool
    ) -> Model:
        """`noise_model` of a series and `detect_changes` of its points that are not
        outliers."""
        h = hashlib.blake2b(x_all.tobytes(), digest_size=16)
        h.update(repr((alpha, min_size, window, noise_up)).encode())
        h.update(detector_digest())
        key = h.digest()
        found = _SERIES_MEMO.get(key) or self.stored.get(key)
        if found is None:
            found = _series_model(x_all, alpha, min_size, window, noise_up)
            self.fresh += 1
        if len(_SERIES_MEMO) >= _SERIES_MEMO_MAX:
            _SERIES_MEMO.clear()
        _SERIES_MEMO[key] = self.used[key] = found
        return found


def _series_model(
    x_all: np.ndarray, alpha: float, min_size: int, window: int, noise_up: bool
) -> Model:
    noise = noise_model(x_all)
    x = x_all[~noise.outliers]
    changes = (
        detect_changes(x, alpha=alpha, min_size=min_size, window=window, noise_up=noise_up)
        if x.size >= 2 * min_size
        else []
    )
    return noise, changes
