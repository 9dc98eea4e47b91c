"""One thread setting applied equally to every framework, and recorded with each result.

Applied three ways, because frameworks read threads at different times: environment variables
before a framework is imported (OpenMP, MKL, OpenBLAS, MXNet's engine, XLA), threadpoolctl for
BLAS/OpenMP pools already loaded, and each loaded backend's own call (``torch.set_num_threads``).
When fewer threads than cores are asked for, the process is also pinned to that many cores, so
frameworks without a thread knob (XLA's CPU client) get the same compute as the rest.
"""

from __future__ import annotations

import os
import sys

from threadpoolctl import threadpool_limits

_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MXNET_OMP_MAX_THREADS")
_threads: int | None = None
_limiter: threadpool_limits | None = None
# The cores this process was started on, so a later, larger setting can widen the pinning again.
_START_CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def available_cores() -> int:
    """Cores this process was allowed to run on when it started (affinity-aware)."""
    return len(_START_CPUS) or os.cpu_count() or 1


def start_cpus() -> list[int]:
    """The cores this process was allowed to run on when it started (empty where unknown)."""
    return list(_START_CPUS)


def current_threads() -> int:
    """The setting in force: the last ``set_threads`` value, else all cores."""
    return _threads or available_cores()


def set_threads(n: int | None = None) -> int:
    """Use ``n`` threads (default all cores) in every framework from now on; returns ``n``."""
    global _threads, _limiter
    n = n or available_cores()
    if n < 1:
        raise ValueError(f"threads must be >= 1, got {n}")
    _threads = n
    for var in _ENV_VARS:
        os.environ[var] = str(n)
    if _START_CPUS:
        os.sched_setaffinity(0, _START_CPUS[: min(n, len(_START_CPUS))])
    apply_to_loaded()
    return n


def apply_to_loaded() -> None:
    """Re-apply the setting to pools of frameworks imported since ``set_threads``."""
    global _limiter
    n = current_threads()
    _limiter = threadpool_limits(limits=n)  # kept: the limits hold until changed
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def wait_until_quiet(max_s: float = 1.0, poll_s: float = 0.02) -> float:
    """Wait until no helper thread of this process burns CPU; returns the seconds waited.

    After a threaded call (or when a pool grows) OpenBLAS workers busy-wait for about 0.1 s
    and OpenMP workers spin briefly; on a machine with few cores they would take a core from
    the next call timed. A thread counts as busy when it used more than a tenth of ``poll_s``
    of CPU during one poll; the main thread is not counted. Gives up after ``max_s``.
    """
    import threading
    import time

    import psutil

    me, main = psutil.Process(), threading.get_native_id()

    def helpers() -> dict[int, float]:
        return {t.id: t.user_time + t.system_time for t in me.threads() if t.id != main}

    start = time.perf_counter()
    before = helpers()
    while time.perf_counter() - start < max_s:
        time.sleep(poll_s)
        now = helpers()
        busy = sum(now[t] - before.get(t, 0.0) for t in now)
        if busy < 0.1 * poll_s:
            break
        before = now
    return time.perf_counter() - start
