"""Each framework's own timer, for the timing audit (scripts/audit_timing.py).

When ``$TENSORBENCH_AUDIT_LOG`` is set, every point that asv prepares is also timed here, in the
same benchmark process, on the same validated callable and arrays, with the same threads, just
before asv's samples and again just after them (``asv_support.audit_after``, from the
benchmark's ``teardown``): so the two figures differ only by the harness, not by the process (on
this machine NumPy's small matmuls read 1.6x apart between processes, depending on the 64-byte
alignment of the output buffer that malloc happens to return).

  torch  torch.utils.benchmark.Timer(..., num_threads=N).blocked_autorange()
  mxnet  timeit around fn(); mx.npx.waitall()      (blocks on the engine)
  jax    timeit around jax.block_until_ready(fn())
  numpy and the rest  timeit around fn()
"""

from __future__ import annotations

import json
import os
import statistics
import timeit
from typing import Any

AUDIT_LOG_ENV = "TENSORBENCH_AUDIT_LOG"
# Environment variables that change how many threads a framework or BLAS uses.
_THREAD_ENV_PREFIXES = ("OMP_", "MKL_", "OPENBLAS_", "MXNET_", "XLA_", "GOTO", "KMP_")


def native_seconds(
    backend: str, fn: Any, threads: int, min_run_time: float = 1.0, repeat: int = 5
) -> tuple[float, str]:
    """Median seconds per call of ``fn`` by the framework's own timer, and how it was timed."""
    if backend == "torch":
        from torch.utils.benchmark import Timer

        # Timer defaults to num_threads=1: give it the thread count everything else uses.
        m = Timer("fn()", globals={"fn": fn}, num_threads=threads).blocked_autorange(
            min_run_time=min_run_time
        )
        return m.median, "torch.utils.benchmark.Timer.blocked_autorange"
    if backend == "mxnet":
        import mxnet as mx

        def call() -> None:
            fn()
            mx.npx.waitall()

        how = "timeit(fn(); npx.waitall())"
    elif backend == "jax":
        import jax

        def call() -> None:
            jax.block_until_ready(fn())

        how = "timeit(jax.block_until_ready(fn()))"
    else:
        call, how = fn, "timeit(fn())"
    timer = timeit.Timer(call)
    number, _ = timer.autorange()  # calls per batch so that a batch lasts >= 0.2 s
    runs = timer.repeat(repeat=repeat, number=number)
    return statistics.median(runs) / number, how


def _synced(backend: str, fn: Any) -> Any:
    """``fn`` followed by the wait its framework's own timing idiom uses."""
    if backend == "mxnet":
        import mxnet as mx

        def call() -> Any:
            out = fn()
            mx.npx.waitall()
            return out

        return call
    if backend == "jax":
        import jax

        return lambda: jax.block_until_ready(fn())
    return fn


def native_over_phases(backend: str, fn: Any, threads: int) -> tuple[float, str]:
    """:func:`native_seconds` at each allocation phase the harness rotates through, median.

    The harness holds 1-4 extra outputs before each sample so that buffers land at every offset
    of a cache line (tensorbench/timing.py); a framework's timer in one allocation state would
    read one offset only (NumPy matmul 128: 29 or 43 µs), so it runs once per phase here and the
    audit compares like with like. Calls too slow for outputs to be held: one plain run.
    """
    import time

    from .timing import HOLD_MAX_CALL_S, ROTATION, hold_outputs

    call = _synced(backend, fn)  # held calls must finish before the timer starts
    t0 = time.perf_counter()
    call()
    warm = time.perf_counter() - t0
    if warm >= HOLD_MAX_CALL_S:
        return native_seconds(backend, fn, threads)
    values = []
    for phase in range(ROTATION):
        held = hold_outputs(call, phase, warm)
        seconds, how = native_seconds(backend, fn, threads, min_run_time=0.3, repeat=3)
        values.append(seconds)
        del held
    return statistics.median(values), f"{how}, median over {ROTATION} allocation phases"


def log_native(key: dict[str, Any], backend: str, fn: Any, threads: int) -> None:
    """Time ``fn`` natively and append one JSON line to ``$TENSORBENCH_AUDIT_LOG``, if set."""
    path = os.environ.get(AUDIT_LOG_ENV)
    if not path or backend.startswith(("dgl", "pyg", "cupy")):
        return
    from threadpoolctl import threadpool_info

    seconds, how = native_over_phases(backend, fn, threads)
    pools = [
        f"{p['internal_api']} x{p['num_threads']} {p.get('architecture', '')}".strip()
        for p in threadpool_info()
    ]
    thread_env = {k: v for k, v in os.environ.items() if k.startswith(_THREAD_ENV_PREFIXES)}
    rec = {**key, "native_s": seconds, "how": how, "threadpools": pools, "cores": _cores()}
    rec["thread_env"] = thread_env
    with open(path, "a") as f:
        f.write(json.dumps(rec) + "\n")


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
