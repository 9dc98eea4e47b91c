"""A claim's figure measured inside one process, its parts interleaved (the ``track_`` benchmarks
of benchmarks/bench_claims.py).

A claim's figure is a ratio of the times of two or three workloads. Timed in separate processes,
each time carries its process's luck: NumPy's async_overlap at n = 256 read 7.56 ms in one
process and 6.29 ms in another, which moved NumPy's "hidden share" (truly 0: NumPy cannot
overlap) from 0.11 to 0.51. Here every part is prepared (and validated) in the same process and
timed in rounds, the order rotated each round so that drift reaches every part alike; each
round gives one figure, and the result is the Hodges-Lehmann estimate of the rounds' figures
with its exact signed-rank 99 % interval (asv's interval level), written to the work log beside
the point so that the result file carries it (`resultfiles.read_work_log`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

from ..analysis.paired import wilcoxon_interval
from ..conventions import WORK_LOG_ENV, param_key_of
from ..timing import calibrate, sample
from .grid import GRID

ROUNDS = 9  # odd; the 99 % signed-rank interval needs at least 8
SAMPLES = 3  # per part and round: the round takes their median
SAMPLE_S = 0.02
CONFIDENCE = 0.99


def hidden_share(t: Sequence[float]) -> float:
    """1 - (T_overlap - T_compute) / T_python from (T_python, T_compute, T_overlap)."""
    python, compute, overlap = t
    return 1 - (overlap - compute) / python


def log_chain_over_independent(t: Sequence[float]) -> float:
    """log(T_chain / T_independent) from (T_chain, T_independent)."""
    return math.log(t[0] / t[1])


def log_baseline_over_point(t: Sequence[float]) -> float:
    """log(T_baseline / T_point) from (T_baseline, T_point): the point's speedup."""
    return math.log(t[0] / t[1])


# The framework whose plain recursion is a TreeLSTM point's baseline: the point's own. Timed
# beside MXNet in one process, torch's recursion ran 40-65 % slower than alone (52 -> 72-86 ms
# at 8 trees: the two runtimes' worker threads share 2 cores), so a figure never mixes
# frameworks; NumPy has no recursion of its own and no figure.
RECURSION_IN = {"torch": "torch", "dgl-torch": "torch", "mxnet": "mxnet", "dgl-mxnet": "mxnet"}


def baseline_backend(backend: str) -> str | None:
    """``dgl-mxnet:cpu`` -> ``mxnet:cpu``: where a TreeLSTM point's baseline runs (None: none)."""
    name, _, device = backend.partition(":")
    framework = RECURSION_IN.get(name)
    return f"{framework}:{device}" if framework else None


def figure_reason(bench: str, backend: str) -> str | None:
    """Why a claim's figure has no meaning at ``backend`` (None: it has)."""
    parts = CLAIM_PARTS[bench.removesuffix("_modes")][0]
    if any(part.endswith("@baseline") for part in parts) and baseline_backend(backend) is None:
        name = backend.partition(":")[0]
        return f"{name} has no plain recursion of its own to time beside it in one process"
    return None


# claim benchmark -> (its parts' grid entries, the figure of one round, back from the figure's
# scale to the reported one). A part named "entry@baseline" runs at `baseline_backend` of the
# point's backend, at the point's size and dtype.
CLAIM_PARTS: dict[str, tuple[tuple[str, ...], Callable[[Sequence[float]], float], Any]] = {
    "async_hidden": (("async_python", "async_compute", "async_overlap"), hidden_share, None),
    "parallel_ratio": (("ops_chain", "ops_independent"), log_chain_over_independent, math.exp),
    "treelstm_batching": (
        ("treelstm_step@baseline", "treelstm_step"),
        log_baseline_over_point,
        math.exp,
    ),
}


def claim_figure(bench: str, *params: Any, setup: Callable[..., Any]) -> float:
    """The claim's figure at this grid point, its parts timed in one process (``setup``: the
    package's `setup_case`, which skips with the reason where a part cannot run)."""
    base = bench.removesuffix("_modes")
    parts, per_round, back = CLAIM_PARTS[base]
    suffix = "_modes" if bench.endswith("_modes") else ""
    calls = []
    for part in parts:
        entry, _, at = part.partition("@")
        args = (baseline_backend(params[0]), *params[1:]) if at == "baseline" else params
        calls.append(setup(entry + suffix, *args).timed_call)
    plan = [calibrate(call, SAMPLE_S) for call in calls]
    figures = []
    for r in range(ROUNDS):
        times = [0.0] * len(calls)
        for k in range(len(calls)):
            i = (k + r) % len(calls)
            number, warm = plan[i]
            times[i] = sorted(sample(calls[i], number, SAMPLES, warm))[SAMPLES // 2]
        figures.append(per_round(times))
    estimate, low, high = wilcoxon_interval(figures, CONFIDENCE)
    if back is not None:
        estimate, low, high = back(estimate), back(low), back(high)
    _log(bench, params, low, high)
    return estimate


def _log(bench: str, params: Sequence[Any], low: float, high: float) -> None:
    """The interval beside the point in $TENSORBENCH_WORK_LOG (read back into the result file)."""
    path = os.environ.get(WORK_LOG_ENV)
    if not path:
        return
    key = param_key_of(GRID[bench].param_names, params)
    line = {"bench": bench, "param_key": key, "flops": None, "edges": None}
    line["ci99"] = [low, high] if math.isfinite(low) and math.isfinite(high) else None
    with open(path, "a") as f:
        f.write(json.dumps(line) + "\n")
