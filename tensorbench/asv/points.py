"""What asv's benchmark processes call: a grid point made a validated, ready-to-time case.

benchmarks/ reaches this module only through ``tensorbench.asv_support`` (its one stable entry
point: asv runs today's benchmarks/ against every historic commit, whose packages have that
module too). The probe, the instruction counter and the paired workers use the same functions,
so a point is prepared and skipped the same way everywhere.

``setup_case`` turns one grid point into a validated case, or skips it with asv's skip and a
reason: not in the running suite, framework missing, no GPU, out of memory. A wrong result is
not a skip: ValidationError propagates and asv records a failure.

Environment (set by `tensorbench run`, inherited by asv's benchmark processes):
TENSORBENCH_SUITE (suite name or path; unset = every grid point), TENSORBENCH_THREADS
(default all cores), TENSORBENCH_GRAPH_DIR (folder holding the real graphs; unset = skip).
"""

from __future__ import annotations

import json
import os
import time
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, NoReturn

from .. import threads as threads_mod
from ..audit import AUDIT_LOG_ENV, log_native
from ..backends import Skip
from ..cases import Case, PreparedCase, prepare
from ..conventions import GRAPH_DIR_ENV, SUITE_ENV, THREADS_ENV, WORK_LOG_ENV, param_key_of
from .grid import GRID, GridPoint, point
from .suites import Suite, load_suite


def skip(reason: str) -> NoReturn:
    """Skip the current benchmark with a reason (asv_runner's skip where available)."""
    try:
        from asv_runner.benchmarks.mark import SkipNotImplemented
    except ImportError:  # plain NotImplementedError from setup is also an asv skip
        raise NotImplementedError(reason) from None
    raise SkipNotImplemented(reason)


def grid_params(bench: str) -> tuple[list[list[Any]], list[str]]:
    """asv ``params`` and ``param_names`` of a grid entry (stable across suites; a ``*_modes``
    entry ends with ``mode``)."""
    entry = GRID[bench]
    return entry.params, entry.param_names


def point_names(bench: str) -> list[str]:
    """asv's parameter names of a grid entry."""
    return GRID[bench].param_names


@lru_cache(maxsize=1)
def current_suite() -> Suite | None:
    name = os.environ.get(SUITE_ENV)
    return load_suite(name) if name else None


def device_of(backend_param: str) -> tuple[str, str]:
    """``"torch:cuda"`` -> ``("torch", "cuda:0")``."""
    name, _, dev = backend_param.partition(":")
    return name, "cuda:0" if dev == "cuda" else dev


def _threads_reason(threads: int | None) -> str | None:
    """Why a thread-scaling point cannot run on this machine (more threads than cores)."""
    if threads is not None and threads > threads_mod.available_cores():
        return f"{threads} threads asked, this machine has {threads_mod.available_cores()} cores"
    return None


def _case(p: GridPoint, *, mode: bool = True, **fields: Any) -> Case:
    name, device = device_of(p.backend)
    return Case(
        GRID[p.bench].workload, name, device, p.dtype, mode=p.mode if mode else None, **fields
    )


def skip_reason(bench: str, *params: Any, check_suite: bool = True) -> str | None:
    """Why a grid point (its parameters as asv passes them) will not run here, without
    preparing it; None: it should run. ``check_suite=False``: whether or not the running suite
    selects it (a claim figure's parts)."""
    p = point(bench, *params)
    suite = current_suite() if check_suite else None
    if suite is not None and not suite.selects(bench, p.backend, p.size, p.dtype, p.threads):
        return f"not in suite {suite.name}"
    reason = _threads_reason(p.threads)
    if reason:
        return reason
    if isinstance(p.size, str) and not os.environ.get(GRAPH_DIR_ENV):
        return f"real graph {p.size!r}: set {GRAPH_DIR_ENV} to the folder holding it"
    # the framework and device first, then the mode (NumPy has no compiler): a missing
    # framework is named as such in every mode
    reason = _case(p, mode=False).skip_reason()
    if reason or p.mode is None:
        return reason
    return _case(p).skip_reason()


def setup_case(bench: str, *params: Any, check_suite: bool = True) -> PreparedCase:
    """Resolve, thread, prepare and validate one grid point (its parameters as asv passes
    them, ``mode`` last for a ``*_modes`` entry), or skip with the reason (``check_suite``:
    `skip_reason`'s).

    Threads are set before anything can import the framework (finding the skip reason may):
    MXNet reads OMP_NUM_THREADS once, at import, and imported first it ran at half speed. A
    compiled case is validated against the float64 reference like any other; a compiler that
    fails is a skip with its first error line. Inductor's on-disk caches are off in these
    processes (unless set otherwise), so the first call's compile time is a cold one.
    """
    p = point(bench, *params)
    reason = _threads_reason(p.threads)
    if reason:
        skip(reason)
    threads_mod.set_threads(p.threads or int(os.environ.get(THREADS_ENV) or 0) or None)
    if p.mode is not None:
        os.environ.setdefault("TORCHINDUCTOR_FORCE_DISABLE_CACHES", "1")
    reason = skip_reason(bench, *params, check_suite=check_suite)
    if reason:
        skip(reason)
    fields: dict[str, Any] = {"size": p.size, "params": {}}
    if isinstance(p.size, str):
        fields = {"size": None, "params": {"graph": str(Path(os.environ[GRAPH_DIR_ENV]) / p.size)}}
    try:
        prepared = prepare(_case(p, **fields))
    except Skip as exc:
        skip(str(exc))
    log_work(bench, p.values, prepared)
    if os.environ.get(AUDIT_LOG_ENV):
        _audit_before(p, prepared)
    return prepared


# Audited points of this process: id(prepared case) -> (point key, backend name).
_AUDITED: dict[int, tuple[dict[str, Any], str]] = {}


def _audit_before(p: GridPoint, prepared: PreparedCase) -> None:
    """Time the point with the framework's own timer before asv's samples (`audit_after`)."""
    key = {"bench": p.bench, "backend": p.backend, "size": p.size, "dtype": p.dtype}
    if p.mode is not None:
        key["mode"] = p.mode
    name = device_of(p.backend)[0]
    _AUDITED[id(prepared)] = (key, name)
    log_native({**key, "when": "before"}, name, prepared.fn, threads_mod.current_threads())


def audit_after(prepared: PreparedCase) -> None:
    """Time an audited point natively again, after asv's samples (called from ``teardown``).

    With the figure from before the samples, the framework's own timer brackets asv's window, so
    the audit compares like with like even when this host drifts by a few % within a minute.
    Once per process and point; a no-op unless ``$TENSORBENCH_AUDIT_LOG`` is set.
    """
    entry = _AUDITED.pop(id(prepared), None)
    if entry is not None:
        key, name = entry
        log_native({**key, "when": "after"}, name, prepared.fn, threads_mod.current_threads())


def log_work(bench: str, values: tuple[Any, ...], prepared: PreparedCase) -> None:
    """Append the prepared point's work (FLOPs, edges, bytes) to $TENSORBENCH_WORK_LOG, if set.

    The work of a graph workload depends on the generated graph, which only the benchmark
    process has; one short line per process, appended atomically.
    """
    path = os.environ.get(WORK_LOG_ENV)
    if not path:
        return
    key = param_key_of(point_names(bench), values)
    w = prepared.work()
    line = {"bench": bench, "param_key": key, "flops": w.flops, "edges": w.edges}
    line["bytes"] = w.traffic(prepared.case.dtype)
    with open(path, "a") as f:
        f.write(json.dumps(line) + "\n")


# -- what the track_ benchmarks record beyond a time ------------------------------------------


def claim_figure(bench: str, *params: Any) -> float:
    """A claim's figure at a grid point, its parts timed in this one process
    (`tensorbench.asv.claimfigures`). The suite selects the figure, not its parts: the quick
    suite runs the figures alone, and its parts, asked whether the suite selects them, all
    skipped ("not in suite quick"), which left every quick-suite figure empty."""
    from .claimfigures import claim_figure as measure
    from .claimfigures import figure_reason

    reason = skip_reason(bench, *params) or figure_reason(bench, params[0])
    if reason:
        skip(reason)
    return measure(bench, *params, setup=partial(setup_case, check_suite=False))


def gcn_test_accuracy(bench: str, backend: str, graph: str, dtype: str) -> float:
    """Train the GCN on a real LINQS graph (pygcn's split, 200 epochs); test accuracy."""
    threads_mod.set_threads(int(os.environ.get(THREADS_ENV) or 0) or None)  # before any import
    reason = skip_reason(bench, backend, graph, dtype)
    if reason:
        skip(reason)
    from ..backends import get_backend
    from ..workloads.gcn import train

    name, device = device_of(backend)
    be = get_backend(name)
    be.load()
    result = train(be, device, str(Path(os.environ[GRAPH_DIR_ENV]) / graph))
    return float(result["test_accuracy"])


def gpu_peak_bytes(prepared: PreparedCase) -> int:
    """Peak device memory of one synced call, from the framework's own counter."""
    backend, device = prepared.backend, prepared.case.device
    backend.reset_peak_memory(device)
    prepared.run()
    peak = backend.peak_memory(device)
    if peak is None:
        skip(f"{backend.name} keeps no device-memory counter on {device}")
    return peak


def peak_gflops(prepared: PreparedCase) -> float:
    """Best-of-runs GFLOP/s of a validated case: the machine's measured ceiling for charts."""
    timing = prepared.time(min_samples=5, max_samples=10, target_s=1.0)
    return float(prepared.work().flops) / min(timing.samples) / 1e9


def compile_seconds(prepared: PreparedCase, calls: int = 3) -> float:
    """The first call's cost beyond a steady-state call: trace + compile (compiled mode), lazy
    initialisation (both modes). Kept out of the timed samples; the steady-state time is the
    median of ``calls`` synced calls."""
    clock = time.perf_counter
    times = []
    for _ in range(calls):
        t0 = clock()
        prepared.run()
        times.append(clock() - t0)
    return max(prepared.first_call_s - sorted(times)[len(times) // 2], 0.0)


def peak_gbps(prepared: PreparedCase) -> float:
    """Best-of-runs GB/s of a validated STREAM case: the machine's measured memory ceiling."""
    timing = prepared.time(min_samples=5, max_samples=10, target_s=1.0)
    moved = prepared.work().traffic(prepared.case.dtype)
    if not moved:
        skip(f"{prepared.case.workload} has no traffic model")
    return float(moved) / min(timing.samples) / 1e9
