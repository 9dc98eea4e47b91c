"""Values that cannot be measurements, left out in one place.

:func:`exclude_invalid` decides it for every table, chart, report and the gate alike: the
reader applies it to the rows it parses (:mod:`.results`), and what it left out is listed per
file and announced by one :class:`InvalidValuesWarning`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..errors import TensorbenchWarning
from .asvformat import Combos


class InvalidValuesWarning(TensorbenchWarning):
    """A results folder holds values that cannot be measurements; they were left out."""


@dataclass(frozen=True)
class InvalidValues:
    """The values of one result file left out as impossible: ``values`` whole results (their
    rows are not in the table) and ``intervals`` results whose interval, quartiles or samples
    were dropped (the value itself was fine)."""

    path: str
    values: int
    intervals: int = 0


# A time or a peak memory of zero or less is no measurement. A time of one call below a
# picosecond (under one CPU cycle) or beyond 1e7 s (four months; asv's timeouts are minutes) is
# none either, and values like that overflow the rates and ratios computed from them. mem_
# measures the size of a returned object, which can be zero (real databases hold 0 bytes), not
# less. A track_ value may be anything finite (a count, a score, a difference).
TIME_RANGE = (1e-12, 1e7)
INVALID_WHY = "infinite, a time or memory of zero or less, or no plausible time"
_STATS = ("ci_low", "ci_high", "q25", "q75")


def _plausible(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Per value: finite and within [low, high] (low > 0 means strictly positive too)."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (values >= low) & (values <= high)


def exclude_invalid(
    rows: dict[str, np.ndarray], combos: Combos, paths: list[str]
) -> tuple[dict[str, np.ndarray], list[InvalidValues]]:
    """Leave out every value that cannot be a measurement, and say where they were.

    The one place this is decided, so that every table, chart, report and the gate see the
    same data: a measured result (status ok) whose value is not finite, is zero or negative
    for a time or memory size, or is not a plausible time (:data:`TIME_RANGE`) is dropped;
    an impossible interval bound, quartile or sample of a result that is kept is dropped from
    that result (NaN, no samples; a bound below the lowest plausible value only becomes NaN,
    uncounted). ``rows["file"]`` indexes ``paths``. Returns the rows and per file the counts,
    in file order (empty when nothing was wrong).
    """
    n = len(rows["value"])
    if n == 0:
        return rows, []
    kinds = np.asarray(combos.kind, dtype=object)
    is_time = kinds == "time"
    lowest = {"time": TIME_RANGE[0], "peakmem": np.nextafter(0.0, 1.0), "mem": 0.0}
    low_c = np.array([lowest.get(k, -np.inf) for k in kinds], dtype=float)
    high_c = np.where(is_time, TIME_RANGE[1], np.inf)
    low, high = low_c[rows["combo"]], high_c[rows["combo"]]
    measured = rows["status"] == 0
    bad = measured & ~_plausible(rows["value"], low, high)
    stat_bad = np.zeros(n, dtype=bool)
    stats: dict[str, np.ndarray] = {}
    for name in _STATS:
        column = rows[name]
        wrong = ~np.isnan(column) & ~_plausible(column, low, high)
        if wrong.any():
            stats[name] = wrong
            # Only a bound that is infinite or too large is broken. One at or below zero says
            # that the interval reaches zero: asv's format-1 intervals (a normal approximation
            # over 2 repeats) do that in real databases. It cannot be drawn on a log axis, so
            # it becomes unknown (the charts then draw to the value), without a warning.
            with np.errstate(invalid="ignore"):
                stat_bad |= wrong & ~(np.isfinite(column) & (column < low))
    samples_bad = _bad_samples(rows["samples"], low, high)
    cleared = (stat_bad | samples_bad) & measured & ~bad
    if not bad.any() and not cleared.any() and not stats:
        return rows, []
    out = dict(rows)
    for name, wrong in stats.items():
        out[name] = np.where(wrong, np.nan, rows[name])
    if samples_bad.any():
        out["samples"] = rows["samples"].copy()
        out["samples"][samples_bad] = None
    keep = ~bad
    out = {k: v[keep] for k, v in out.items()}
    n_files = len(paths)
    dropped = np.bincount(rows["file"][bad], minlength=n_files)
    fixed = np.bincount(rows["file"][cleared], minlength=n_files)
    invalid = [
        InvalidValues(paths[i], int(dropped[i]), int(fixed[i]))
        for i in np.flatnonzero(dropped + fixed)
    ]
    return out, invalid


def _bad_samples(samples: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Per row: it has samples and one of them is not plausible (all rows checked at once)."""
    n = len(samples)
    bad = np.zeros(n, dtype=bool)
    where = np.flatnonzero(np.fromiter((s is not None for s in samples), bool, n))
    if not len(where):
        return bad
    lengths = np.fromiter((len(samples[i]) for i in where), np.int64, len(where))
    # np.array, not fromiter: a None among the samples becomes NaN (implausible), not an error
    flat = np.array(list(itertools.chain.from_iterable(samples[i] for i in where)), dtype=float)
    fine = _plausible(flat, np.repeat(low[where], lengths), np.repeat(high[where], lengths))
    owner = np.repeat(np.arange(len(where)), lengths)
    fine_count = np.bincount(owner, weights=fine, minlength=len(where))
    bad[where] = fine_count < lengths
    return bad


def invalid_message(invalid: list[InvalidValues], shown: int = 5) -> str:
    """One line saying how many values were left out, why, and from which files."""
    values = sum(i.values for i in invalid)
    intervals = sum(i.intervals for i in invalid)
    what = [f"{values} invalid value(s) left out"] if values else []
    if intervals:
        what.append(f"the intervals or samples of {intervals} result(s) dropped")
    files = ", ".join(f"{i.path} ({i.values + i.intervals})" for i in invalid[:shown])
    more = f" and {len(invalid) - shown} more file(s)" if len(invalid) > shown else ""
    return f"{' and '.join(what)} ({INVALID_WHY}): {files}{more}"
