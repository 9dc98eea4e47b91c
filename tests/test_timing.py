"""The timer must wait for asynchronous work: proven with a fake async backend (fast, always
runs) and with MXNet's real engine (test_mxnet_sync.py)."""

from __future__ import annotations

import threading
import time

import pytest

from tensorbench.timing import Timing, measure

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


def test_bad_thread_counts_are_rejected() -> None:
    from tensorbench.threads import set_threads

    with pytest.raises(ValueError):
        set_threads(-1)
