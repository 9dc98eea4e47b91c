"""MXNet's engine is asynchronous: prove our timer awaits it (runs in .venv-mxnet)."""

from __future__ import annotations

import statistics
import timeit

import pytest

pytestmark = [pytest.mark.mxnet, pytest.mark.slow]
mx = pytest.importorskip("mxnet")

from tensorbench.cases import Case, prepare  # noqa: E402
from tensorbench.timing import measure  # noqa: E402


def blocking_reference(a, b, repeat: int = 7) -> float:
    """Median seconds of ``np.dot(a, b).wait_to_read()`` under timeit: blocks on the result."""
    dot = mx.np.dot
    runs = timeit.repeat(lambda: dot(a, b).wait_to_read(), number=1, repeat=repeat)
    return statistics.median(runs)


def test_timer_waits_for_the_mxnet_engine() -> None:
    prepared = prepare(Case("matmul", "mxnet", "cpu", "float32", 2048))
    a, b = (mx.np.array(prepared_input) for prepared_input in _inputs())
    ours = prepared.time(min_samples=7, max_samples=7, number=1).median
    ref = blocking_reference(a, b)
    assert 0.85 <= ours / ref <= 1.15, f"ours {ours:.4f}s vs blocking reference {ref:.4f}s"

    unsynced = measure(prepared.fn, None, min_samples=7, max_samples=7, number=1).median
    mx.npx.waitall()
    assert unsynced < 0.2 * ref, f"without sync the timer read {unsynced:.4f}s (work {ref:.4f}s)"


def _inputs():
    from tensorbench.workloads.matmul import make_inputs

    inputs = make_inputs(2048, "float32", {})
    return inputs["a"], inputs["b"]
