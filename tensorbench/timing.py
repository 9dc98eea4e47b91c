"""Sync-correct, steady-state timing: the one harness every timed number goes through.

Every timed call is followed by the backend's synchronize *inside* the timed region: MXNet's
engine, CUDA streams and JAX dispatch are asynchronous, and a timer that does not wait for the
work measures only how fast work is queued.

``measure`` is what `tensorbench time`, the paired comparison's worker processes and the timing
audit use, and ``calibrate_number`` plus ``hold_outputs`` are what the asv benchmarks use (through
``tensorbench.asv_support``), so a point is timed the same way everywhere:

1. Warm-up and calibration in one: synced calls for at least ``CALIBRATE_S`` (at least 4 calls,
   unless one call alone takes ``SLOW_CALL_S``); ``number`` (calls per sample, so that a sample
   lasts at least ``sample_time``) comes from the later half of them. A fresh process reads slow
   for its first tenths of a second (page faults, thread pools, lazy initialisation): none of
   those calls is a sample.
2. Samples of ``number`` back-to-back calls under one clock, as ``timeit`` does.
3. Allocation rotation: before sample *i*, ``i % ROTATION + 1`` outputs of extra calls are held
   alive (outside the timed region), so the buffers the timed calls allocate land at other
   heap offsets in each sample. Why: NumPy's output buffer comes from malloc, and its offset
   within a 64-byte cache line is fixed for the life of a process; measured here, matmul 128
   float32 ran 29 µs with a 64-byte-aligned output and 40 µs at the other three offsets, so a
   process read one or the other for all its samples (the "process luck" seen as 27.7 vs 44 µs
   in two fresh processes). Rotating through four phases gives every process the same mix, so
   the median no longer depends on which process took it.

This module imports nothing of the package: the paired comparison loads it by path into worker
processes running *another* checkout's package, so every side is timed by today's harness.
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
# back-to-back calls per sample (benchmarks/common.py). 3: as 2, plus allocation rotation
# across samples (``hold_outputs``), the same calibration in `tensorbench time` and workers.
# 4: as 3, with asv's forkserver polling for a benchmark's end every 50 ms once the process has
# run 0.1 s, instead of every millisecond (benchmarks/common.py: those wake-ups shared the cores
# of 2-thread points).
HARNESS = 4

# Fresh processes asv times each point in (benchmarks/common.py's ``rounds``): one, so the
# quick suite fits 10 minutes; the between-process spread enters each result's interval
# instead (tensorbench/asv/variance.py), and `tensorbench time` pools 3 processes by default.
ROUNDS = 1
SAMPLE_TIME = 0.05  # seconds a sample lasts at least (MXNet's engine needs ~50 ms to average)
CALIBRATE_S = 0.25  # warm-up + calibration calls, never sampled
SLOW_CALL_S = 0.5  # one call this long ends calibration by itself
ROTATION = 4  # allocation phases: 16-byte malloc granularity x 4 = one 64-byte cache line
HOLD_MAX_CALL_S = 0.005  # hold extra outputs only of calls this short (bounded memory)


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


def synced(fn: Callable[[], Any], sync: Callable[[Any], None] | None) -> Callable[[], Any]:
    """``fn`` followed by ``sync(result)``, as one callable (``fn`` itself when no sync)."""
    if sync is None:
        return fn

    def call() -> Any:
        result = fn()
        sync(result)
        return result

    return call


def calibrate(call: Callable[[], Any], sample_time: float = SAMPLE_TIME) -> tuple[int, float]:
    """Warm ``call`` up and return (calls per sample, a warm call's seconds).

    Calls run for at least ``CALIBRATE_S`` (and at least 4 of them, unless a call alone takes
    ``SLOW_CALL_S``); the warm figure is the median of the later half, so cold first calls
    (4.3 ms against 20 µs warm for torch matmul 128 in a fresh process) never set ``number``.
    """
    clock = time.perf_counter
    times: list[float] = []
    start = clock()
    while True:
        t0 = clock()
        call()
        times.append(clock() - t0)
        if times[-1] >= SLOW_CALL_S or (len(times) >= 4 and clock() - start >= CALIBRATE_S):
            break
    later = sorted(times[len(times) // 2 :])
    warm = max(later[len(later) // 2], 1e-9)
    return max(1, math.ceil(sample_time / warm)), warm


def calibrate_number(call: Callable[[], Any], sample_time: float = SAMPLE_TIME) -> int:
    """Calls per sample so that a sample lasts at least ``sample_time``, from warm calls."""
    return calibrate(call, sample_time)[0]


def hold_outputs(call: Callable[[], Any], phase: int, warm_s: float) -> list[Any]:
    """Outputs of ``phase % ROTATION + 1`` extra calls, to keep alive during the next sample.

    Held buffers shift where the timed calls' own outputs are allocated (see the module
    docstring): with 1..ROTATION outputs held, consecutive equal-sized chunks put the timed
    output at each 16-byte offset of a cache line once per rotation (with none held it reuses
    an older chunk, and one offset came up twice). Only for calls under ``HOLD_MAX_CALL_S``,
    whose outputs are small.
    """
    if warm_s >= HOLD_MAX_CALL_S:
        return []
    return [call() for _ in range(phase % ROTATION + 1)]


def take_sample(
    call: Callable[[], Any], number: int, phase: int, warm_s: float, extra: float = 0.0
) -> float:
    """Seconds per call of one sample: ``number`` back-to-back calls, outputs held per
    allocation ``phase``.

    ``extra`` is test-only (the paired comparison's power runs, $TENSORBENCH_INJECT in the
    worker): after the calls the sample spins until it has lasted ``1 + extra`` times what the
    calls took, a change of exactly ``extra`` whatever the host does. (A pure-Python loop
    sized once from a warm call, tried first, added more than asked and varied by process:
    the sizing call and the loop's speed after a BLAS call both vary; docs/paired-power.md.)
    """
    clock = time.perf_counter
    held = hold_outputs(call, phase, warm_s)
    t0 = clock()
    for _ in range(number):
        call()
    t1 = clock()
    if extra > 0:
        end = t1 + extra * (t1 - t0)
        while (t1 := clock()) < end:
            pass
    del held
    return (t1 - t0) / number


def sample(
    call: Callable[[], Any], number: int, samples: int, warm_s: float, extra: float = 0.0
) -> list[float]:
    """``samples`` samples of ``number`` back-to-back calls, rotating the allocation phase
    (``extra``: see `take_sample`)."""
    return [take_sample(call, number, i, warm_s, extra) for i in range(samples)]


def measure(
    fn: Callable[[], Any],
    sync: Callable[[Any], None] | None,
    **kwargs: Any,
) -> Timing:
    """Time ``fn`` with ``sync(result)`` after each call, inside the timed region.

    ``sync=None`` exists only to show what an unsynchronised timer would read; never use it for
    a result. Keywords as :func:`measure_call`.
    """
    return measure_call(synced(fn, sync), **kwargs)


def measure_call(
    call: Callable[[], Any],
    *,
    min_samples: int = 8,
    max_samples: int = 40,
    target_s: float = 1.0,
    sample_time: float = SAMPLE_TIME,
    number: int | None = None,
) -> Timing:
    """Time ``call``, which already synchronises (``PreparedCase.timed_call``).

    Calibration (which is also the warm-up) sets ``number`` unless it is given (then one
    warm-up call); the sample
    count fits ``target_s`` within [min_samples, max_samples], rounded up to whole allocation
    rotations where the bounds allow.
    """
    if number:
        # The batch is given: one warm-up call. An unsynchronised demonstration passes number=1:
        # its calls return at once, and 0.25 s of calibration calls would queue thousands of
        # them on an asynchronous engine (MXNet matmul 2048: minutes of queued work).
        t0 = time.perf_counter()
        call()
        warm = time.perf_counter() - t0
    else:
        number, warm = calibrate(call, sample_time)
    n = plan_samples(warm * number, target_s, min_samples, max_samples)
    return Timing(samples=tuple(sample(call, number, n, warm)), number=number)


def plan_samples(sample_s: float, target_s: float, min_samples: int, max_samples: int) -> int:
    """Samples that fit ``target_s`` within [min_samples, max_samples], rounded up to whole
    allocation rotations where the bounds allow."""
    n = int(min(max_samples, max(min_samples, target_s / max(sample_s, 1e-9))))
    whole = math.ceil(n / ROTATION) * ROTATION
    return whole if whole <= max_samples else n


# Two-sided 95 % quantiles of Student's t by degrees of freedom (scipy.stats.t.ppf(0.975, df));
# beyond the table 2.0 is within 2 % of the true quantile.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip


def t95(df: int) -> float:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom (df >= 1)."""
    return _T95[df - 1] if df <= len(_T95) else 2.0


@dataclass(frozen=True)
class Pooled:
    """A point's value pooled over worker processes, each one fresh.

    ``value`` is the median of every process's samples together: robust to one disturbed
    process, as the median of one process is to a disturbed sample. The 95 % interval is a
    t interval from the spread of the processes' medians (log scale, centred on ``value``), so
    it includes the between-process part (heap layout, thread placement) that samples within
    one process cannot show; with one process it is that process's interquartile range.
    """

    value: float
    low: float
    high: float
    process_medians: tuple[float, ...]
    samples: int  # all samples pooled, over every process

    @property
    def processes(self) -> int:
        return len(self.process_medians)


def pool(process_samples: list[list[float]]) -> Pooled:
    """Pool the samples (seconds per call) that each of several processes took of one point."""
    everything = Timing(tuple(s for ss in process_samples for s in ss), number=1)
    medians = [statistics.median(ss) for ss in process_samples]
    value = everything.median
    if len(medians) > 1:
        logs = [math.log(m) for m in medians]
        half = t95(len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs))
        low, high = value * math.exp(-half), value * math.exp(half)
    else:
        low, high = everything.q25, everything.q75
    return Pooled(value, low, high, tuple(medians), len(everything.samples))
