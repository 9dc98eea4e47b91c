"""A result's 95 % interval must include the spread between fresh processes, which asv's own
interval (from the samples of one process) cannot show."""

from __future__ import annotations

import math

import pytest

from tensorbench.asv.resultfiles import annotate
from tensorbench.asv.variance import BETWEEN_PROCESS_LOG_SD, between_log_sd, interval95, intervals


def test_interval_adds_the_between_process_spread_to_the_samples() -> None:
    within = 0.01  # log SD of the median from the samples: asv's 99 % interval is +-2.5758 x
    ci99 = (math.exp(-2.5758 * within), math.exp(2.5758 * within))
    low, high = interval95(1.0, ci99, processes=1, backend_param="torch:cpu")
    half = 1.96 * math.hypot(within, BETWEEN_PROCESS_LOG_SD["torch"])
    assert (low, high) == pytest.approx((math.exp(-half), math.exp(half)))
    # more processes shrink the between-process part as 1/sqrt(P)
    low4, high4 = interval95(1.0, ci99, processes=4, backend_param="torch:cpu")
    assert high4 / low4 < high / low
    # without asv's interval only the between-process part remains; junk values give none
    assert interval95(2.0, None, 1, "numpy:cpu")[1] == pytest.approx(2.0 * math.exp(1.96 * 0.026))
    assert interval95(float("nan"), ci99, 1, "numpy:cpu") is None
    assert interval95(-1.0, ci99, 1, "numpy:cpu") is None


def test_unmeasured_backends_take_the_largest_measured_spread() -> None:
    assert between_log_sd("jax:cpu") == max(BETWEEN_PROCESS_LOG_SD.values())
    assert between_log_sd("numpy") == BETWEEN_PROCESS_LOG_SD["numpy"]


def test_result_files_record_processes_and_intervals() -> None:
    data = {
        "result_columns": ["result", "params", "stats_ci_99_a", "stats_ci_99_b"],
        "results": {
            "bench_array.Matmul.time_matmul": [
                [1e-3, None, float("nan"), 2e-3],
                [["'numpy:cpu'", "'torch:cpu'"], ["64", "128"]],
                [0.9e-3, None, None, 1.9e-3],
                [1.1e-3, None, None, 2.1e-3],
            ],
            "bench_array.Matmul.peakmem_matmul": [[1.0], [["'numpy:cpu'"]], [None], [None]],
        },
    }
    probe = {"python": "3.11", "params": {}, "threads": 2, "facts": {}, "skip_reasons": {}}
    ours = annotate(data, "existing-main", probe, None, False)["tensorbench"]["intervals"]
    assert set(ours) == {"bench_array.Matmul.time_matmul"}  # timed benchmarks only
    entry = ours["bench_array.Matmul.time_matmul"]
    assert entry["processes"] == 1
    assert entry["ci95"][1] is None and entry["ci95"][2] is None
    (lo0, hi0), (lo3, hi3) = entry["ci95"][0], entry["ci95"][3]
    assert lo0 < 1e-3 < hi0 and lo3 < 2e-3 < hi3
    # the torch point (index 3) uses torch's between-process spread, numpy's point numpy's
    assert entry == intervals(data, 1)["bench_array.Matmul.time_matmul"]
