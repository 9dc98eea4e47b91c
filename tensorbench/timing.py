"""Sync-correct timing.

Every timed call is followed by the backend's synchronize *inside* the timed region: MXNet's
engine, CUDA streams and JAX dispatch are asynchronous, and a timer that does not wait for the
work measures only how fast work is queued.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

# Which asv timing harness took a result, recorded in every result file ("tensorbench" ->
# "harness"). 1 (no record): validation before every sample and one call per sample (asv_runner
# 0.3 with setup). 2: validation once per process and point, then a calibrated number of
# back-to-back calls per sample (benchmarks/common.py).
HARNESS = 2


@dataclass(frozen=True)
class Timing:
    """Seconds per call: one entry per sample, each the mean of ``number`` synced calls."""

    samples: tuple[float, ...]
    number: int

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def quantile(self, q: float) -> float:
        """Linear-interpolated quantile of the samples (q in [0, 1])."""
        xs = sorted(self.samples)
        pos = q * (len(xs) - 1)
        lo, hi = math.floor(pos), math.ceil(pos)
        return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)

    @property
    def q25(self) -> float:
        return self.quantile(0.25)

    @property
    def q75(self) -> float:
        return self.quantile(0.75)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["samples"] = list(self.samples)
        d.update(median_s=self.median, q25_s=self.q25, q75_s=self.q75, n_samples=len(self.samples))
        return d


def _no_sync(result: Any) -> None:
    pass


def measure(
    fn: Callable[[], Any],
    sync: Callable[[Any], None] | None,
    *,
    warmup: int = 1,
    min_samples: int = 5,
    max_samples: int = 50,
    target_s: float = 1.0,
    min_sample_s: float = 0.005,
    number: int | None = None,
) -> Timing:
    """Time ``fn`` with ``sync(result)`` after each call, inside the timed region.

    Warm-up calls run first (also synced). Calls are batched ``number`` to a sample so that
    a sample lasts at least ``min_sample_s`` (timer resolution); the sample count fits
    ``target_s`` within [min_samples, max_samples]; ``number`` fixes the batch. ``sync=None`` exists only to show what an
    unsynchronised timer would read; never use it for a result.
    """
    sync = sync or _no_sync
    clock = time.perf_counter
    for _ in range(max(warmup, 1)):
        t0 = clock()
        sync(fn())
        one = clock() - t0
    number = number or max(1, math.ceil(min_sample_s / max(one, 1e-9)))
    n_samples = int(min(max_samples, max(min_samples, target_s / max(one * number, 1e-9))))
    samples = []
    for _ in range(n_samples):
        t0 = clock()
        for _ in range(number):
            sync(fn())
        samples.append((clock() - t0) / number)
    return Timing(samples=tuple(samples), number=number)
