"""The between-process part of a point's uncertainty, and the interval it gives an asv result.

asv times a point in ``rounds`` fresh processes (ours: 1, for the quick suite's 10 minutes) and
its 99 % interval comes from the samples of those processes: it cannot show how much a point
moves from one process to the next (heap layout, thread placement). Those figures were
measured (Kalibera & Jones: measure the variance at each level once, then plan from it) by
``scripts/process_luck.py``: 10 runs x 3 fresh processes per point, log SD of the process
medians beyond what their own samples explain (docs/process-luck.md). Backends not measured
take the largest figure.
"""

from __future__ import annotations

import math
from typing import Any

from ..analysis.asvfile import benchmark_kind, combinations, named_rows, param_value

# Log SD between fresh processes, by backend, after the harness's allocation rotation (the
# largest over the points measured for that backend; docs/process-luck.md, intel-xeon-2c).
BETWEEN_PROCESS_LOG_SD = {"numpy": 0.026, "torch": 0.023, "mxnet": 0.031}
DEFAULT_BETWEEN_LOG_SD = max(BETWEEN_PROCESS_LOG_SD.values())
_Z99 = 2.5758  # asv's stats_ci_99 is a 99 % interval
_Z95 = 1.96


def between_log_sd(backend_param: str) -> float:
    """The measured between-process log SD of a backend (``"torch:cpu"`` or ``"torch"``)."""
    return BETWEEN_PROCESS_LOG_SD.get(backend_param.partition(":")[0], DEFAULT_BETWEEN_LOG_SD)


def interval95(
    value: float, ci99: tuple[float, float] | None, processes: int, backend_param: str
) -> tuple[float, float] | None:
    """95 % interval of an asv point: its samples' spread (from asv's 99 % interval) plus the
    between-process spread for ``processes`` processes. None where the value is unusable."""
    if not (isinstance(value, float | int) and math.isfinite(value) and value > 0):
        return None
    within = 0.0
    if ci99 and all(isinstance(c, float | int) and c > 0 for c in ci99):
        within = (math.log(ci99[1]) - math.log(ci99[0])) / (2 * _Z99)
    between = between_log_sd(backend_param) / math.sqrt(max(processes, 1))
    half = _Z95 * math.hypot(within, between)
    return value * math.exp(-half), value * math.exp(half)


def intervals(data: dict[str, Any], processes: int = 1) -> dict[str, dict[str, Any]]:
    """benchmark -> {"processes", "ci95": one [low, high] or None per result} for every timed
    benchmark of an asv result file whose first parameter is a backend."""
    out: dict[str, dict[str, Any]] = {}
    for name, row in named_rows(data).items():
        params = row["params"]
        if benchmark_kind(name) != "time" or not params:
            continue
        ci = []
        for combo, value, low, high in zip(
            combinations(params),
            row["result"],
            row["stats_ci_99_a"],
            row["stats_ci_99_b"],
            strict=False,
        ):
            backend = str(param_value(combo[0]))
            pair = interval95(value, (low, high), processes, backend) if value is not None else None
            ci.append(list(pair) if pair else None)
        out[name] = {"processes": processes, "ci95": ci}
    return out
