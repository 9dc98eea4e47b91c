"""The timer must wait for asynchronous work: proven with a fake async backend (fast, always
runs) and with MXNet's real engine (test_mxnet_sync.py)."""

from __future__ import annotations

import itertools
import math
import threading
import time

import pytest

from tensorbench.timing import (
    ROTATION,
    Timing,
    calibrate,
    hold_outputs,
    measure,
    measure_call,
    pool,
    sample,
    take_sample,
)

WORK_S = 0.02


def async_op() -> threading.Event:
    """Return at once, like an async engine; the work finishes WORK_S later on another thread."""
    done = threading.Event()
    threading.Timer(WORK_S, done.set).start()
    return done


def test_synced_timer_measures_the_work() -> None:
    t = measure(async_op, lambda ev: ev.wait(), min_samples=5, max_samples=5, target_s=0.1)
    assert WORK_S * 0.9 <= t.median <= WORK_S * 3


def test_unsynced_timer_measures_only_dispatch() -> None:
    t = measure(async_op, None, min_samples=5, max_samples=5, target_s=0.1)
    assert t.median < WORK_S / 5  # what a timer without sync would (wrongly) report


def test_sync_is_inside_the_timed_region_of_every_call() -> None:
    calls: list[str] = []
    measure(
        lambda: calls.append("fn"),
        lambda _: calls.append("sync"),
        min_samples=3,
        max_samples=3,
        target_s=0.0,
    )
    assert calls == ["fn", "sync"] * (len(calls) // 2)
    assert len(calls) >= 2 * 4  # warm-up + 3 samples, each >= 1 call


def test_statistics() -> None:
    t = Timing(samples=(4.0, 1.0, 3.0, 2.0, 5.0), number=1)
    assert t.median == 3.0
    assert t.q25 == 2.0 and t.q75 == 4.0
    d = t.to_dict()
    assert (
        d["median_s"] == 3.0 and d["n_samples"] == 5 and d["samples"] == [4.0, 1.0, 3.0, 2.0, 5.0]
    )


def test_sample_count_respects_bounds() -> None:
    t = measure(lambda: time.sleep(0.001), None, min_samples=4, max_samples=6, target_s=10.0)
    assert len(t.samples) == 6
    t = measure(lambda: None, None, min_samples=4, max_samples=6, target_s=0.0)
    assert len(t.samples) == 4
    assert t.number > 1  # tiny calls are batched so a sample outlasts the timer's resolution
    t = measure(lambda: None, None, min_samples=5, max_samples=40, target_s=0.0)
    assert len(t.samples) == 8  # rounded up to whole allocation rotations


def test_cold_calls_are_warm_up_never_samples() -> None:
    """A fresh process's first calls are slow (page faults, lazy start-up): they calibrate and
    warm up, and neither set the batch size nor appear among the samples."""
    calls = []

    def cold_then_fast() -> None:
        calls.append(1)
        time.sleep(0.02 if len(calls) <= 3 else 0.0002)

    t = measure_call(cold_then_fast, min_samples=8, max_samples=8, sample_time=0.01)
    assert t.number >= 10  # from the warm calls: 0.01 s / 0.2 ms, not 0.01 s / 20 ms = 1
    assert max(t.samples) < 0.005
    number, warm = calibrate(cold_then_fast, 0.01)
    assert warm < 0.005 and number > 1


def test_samples_rotate_the_allocation_phase() -> None:
    """Before sample i, i % ROTATION + 1 extra outputs are held alive, outside the timed region."""
    live: list[int] = []
    seen: list[int] = []

    class Out:
        def __init__(self) -> None:
            live.append(1)

        def __del__(self) -> None:
            live.pop()

    def call() -> Out:
        seen.append(len(live))  # outputs alive while this call runs (held ones)
        return Out()

    sample(call, number=1, samples=2 * ROTATION, warm_s=1e-6)
    # per sample: the held calls (each seeing those held before it), then the timed call
    timed = []
    for i in range(2 * ROTATION):
        seen_now = seen[: i % ROTATION + 2]
        del seen[: i % ROTATION + 2]
        timed.append(seen_now[-1])
    assert timed == [i % ROTATION + 1 for i in range(2 * ROTATION)]
    assert hold_outputs(call, 5, warm_s=1.0) == []  # slow calls: nothing held (memory)


def test_held_outputs_move_numpy_buffers_across_a_cache_line() -> None:
    """The reason for the rotation: with a few 64 KiB outputs held, the next output of the
    same size starts at another offset within a 64-byte cache line (glibc's malloc)."""
    import numpy as np

    a = np.ones((128, 128), np.float32)

    def call():
        return a @ a

    offsets = []
    for _ in range(50):  # steady state first: the same chunk is reused call after call
        call()
    for phase in range(ROTATION):
        held = hold_outputs(call, phase, warm_s=1e-5)
        offsets.append(call().ctypes.data % 64)
        del held
    # consecutive chunks from the top of the heap give each offset once per rotation (as in a
    # fresh worker process); a fragmented heap like this test process's gives fewer
    assert len(set(offsets)) >= 2


def test_pooled_value_and_interval_include_the_spread_between_processes() -> None:
    # three processes whose medians are 1, 1.21 and 1.1: logs 0, 2 ln 1.1, ln 1.1, SD ln 1.1
    p = pool([[0.9, 1.0, 1.1], [1.2, 1.21, 1.22], [1.05, 1.1, 1.15]])
    assert p.value == pytest.approx(1.1) and p.processes == 3 and p.samples == 9
    assert p.process_medians == pytest.approx((1.0, 1.21, 1.1))
    half = 4.303 * math.log(1.1) / math.sqrt(3)  # t(2) = 4.303
    assert p.low == pytest.approx(1.1 * math.exp(-half), rel=1e-3)
    assert p.high == pytest.approx(1.1 * math.exp(half), rel=1e-3)
    # one disturbed process moves the pooled median little, and widens the interval
    calm = pool([[1.0] * 8, [1.01] * 8, [0.99] * 8])
    disturbed = pool([[1.0] * 8, [1.01] * 8, [0.99] * 4 + [5.0] * 4])
    assert disturbed.value == pytest.approx(1.0, rel=0.01)
    assert disturbed.high / disturbed.low > calm.high / calm.low
    one = pool([[1.0, 2.0, 3.0, 4.0, 5.0]])
    assert (one.value, one.low, one.high) == (3.0, 2.0, 4.0)


def test_injected_extra_makes_each_sample_exactly_that_much_longer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The paired comparison's power runs need a change of exactly +5 % or +2 %: the spin after
    the calls lasts that share of the calls' own time, whatever the calls took."""
    import tensorbench.timing as timing

    now = [0.0]

    def clock() -> float:  # each read costs a little, as a real one does
        now[0] += 1e-4
        return now[0]

    durations = itertools.cycle([1.0, 3.0, 0.5])  # any 3 in a row: 4.5

    def call() -> None:  # calls of varying length (hold_outputs makes some calls too)
        now[0] += next(durations)

    monkeypatch.setattr(timing.time, "perf_counter", clock)
    plain = take_sample(call, 3, 0, 1e-6)
    assert plain == pytest.approx(1.5, rel=1e-3)
    for extra in (0.02, 0.05):
        assert take_sample(call, 3, 1, 1e-6, extra) == pytest.approx(1.5 * (1 + extra), rel=1e-3)
    assert sample(call, 3, 1, 1e-6, 0.02) == [pytest.approx(1.53, rel=1e-3)]


def test_bad_thread_counts_are_rejected() -> None:
    from tensorbench.threads import set_threads

    with pytest.raises(ValueError):
        set_threads(-1)
