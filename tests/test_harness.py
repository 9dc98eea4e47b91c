"""The asv timing harness: validation once per process and point, batched calibrated samples.

These run asv_runner's own timing code (the installed asv_runner, in this process) on the real
benchmark classes of benchmarks/, as asv's benchmark subprocess does.
"""

from __future__ import annotations

import importlib
import itertools
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tensorbench import asv_support, noise
from tensorbench import threads as threads_mod
from tensorbench.asv import points
from tensorbench.cases import ValidationError
from tensorbench.conventions import REPO
from tensorbench.timing import HARNESS

asv_runner = pytest.importorskip("asv_runner")
from asv_runner.discovery import get_benchmark_from_name  # noqa: E402

BENCH_DIR = str(REPO / "benchmarks")


def _benchmark(name: str, bench: str, combo: tuple):
    params, _ = asv_support.grid_params(bench)
    idx = list(itertools.product(*params)).index(combo)
    return get_benchmark_from_name(BENCH_DIR, f"{name}-{idx}")


@pytest.fixture
def fresh_process_cache():
    common = importlib.import_module("benchmarks.common")
    common._PREPARED.clear()
    yield common
    common._PREPARED.clear()


@pytest.fixture
def counted_setup(monkeypatch):
    calls = []
    real = asv_support.setup_case

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(asv_support, "setup_case", counting)
    return calls


def test_validation_once_per_process_and_point_with_batched_samples(
    fresh_process_cache, counted_setup
):
    bench = _benchmark("bench_array.Matmul.time_matmul", "matmul", ("numpy:cpu", 64, "float32"))
    assert bench.do_setup() is False  # not skipped
    result = bench.do_run()  # asv_runner re-runs setup before every timed call
    bench.do_teardown()
    assert len(counted_setup) == 1, "validated more than once in one process"
    assert result["number"] > 1, "a sub-millisecond call must be batched"
    assert len(result["samples"]) >= 5
    assert all(0 < s < 1e-3 for s in result["samples"])
    # the same point again in this process: still no second validation
    bench.do_setup()
    bench.do_run()
    assert len(counted_setup) == 1


def test_each_point_is_validated_once(fresh_process_cache, counted_setup):
    for size in (64, 128):
        bench = _benchmark(
            "bench_array.Matmul.time_matmul", "matmul", ("numpy:cpu", size, "float32")
        )
        bench.do_setup()
        bench.do_run()
    assert [c[2] for c in counted_setup] == [64, 128]


def test_wrong_result_still_fails(fresh_process_cache, monkeypatch):
    from tensorbench.workloads import get_workload

    wl = get_workload("matmul")
    real = wl.implementations["numpy"]

    def wrong(be, device, inputs, params):
        fn = real(be, device, inputs, params)
        return lambda: fn() * 1.01

    monkeypatch.setitem(wl.implementations, "numpy", wrong)
    bench = _benchmark("bench_array.Matmul.time_matmul", "matmul", ("numpy:cpu", 64, "float32"))
    with pytest.raises(ValidationError, match="relative error"):
        bench.do_setup()
    assert not fresh_process_cache._PREPARED


def test_skip_has_reason_and_caches_nothing(fresh_process_cache, monkeypatch):
    monkeypatch.setenv("TENSORBENCH_SUITE", "quick")
    points.current_suite.cache_clear()
    try:
        bench = _benchmark(
            "bench_array.Matmul.time_matmul", "matmul", ("numpy:cpu", 4096, "float64")
        )
        assert bench.do_setup() is True  # asv's skip
    finally:
        points.current_suite.cache_clear()
    assert not fresh_process_cache._PREPARED


def test_calibrated_number_makes_samples_last_sample_time(fresh_process_cache):
    common = fresh_process_cache
    number = common.calibrate_number(lambda: time.sleep(0.001), 0.02)
    assert 10 <= number <= 20  # 1 ms (plus sleep overshoot) per call, 20 ms per sample
    assert common.calibrate_number(lambda: time.sleep(0.03), 0.02) == 1


def _result_rows(path: Path):
    data = json.loads(path.read_text())
    cols = data.get("result_columns")
    for name, row in data.get("results", {}).items():
        if ".time_" not in f".{name.split('.')[-1]}" or cols is None:
            continue
        rec = dict(zip(cols, row, strict=False))
        yield data, name, rec


def test_committed_results_are_batched_below_one_ms():
    files = [p for p in (REPO / "results").glob("*/*.json") if p.name != "machine.json"]
    assert files, "no committed results"
    single = []
    for path in files:
        for data, name, rec in _result_rows(path):
            assert 2 <= data.get("tensorbench", {}).get("harness", 1) <= HARNESS, path.name
            numbers = rec.get("stats_number") or []
            for value, number in zip(rec["result"] or [], numbers, strict=False):
                if value is not None and not math.isnan(value) and value < 1e-3:
                    if number is None or number <= 1:
                        single.append((path.name, name, value))
    assert not single, single[:5]


def _orphan_spinner() -> int:
    """Start a CPU-burning process that is not our descendant (double fork); its pid."""
    code = (
        "import os, sys, time\n"
        "if os.fork(): os._exit(0)\n"
        "print(os.getpid(), flush=True)\n"
        "os.close(1); os.close(2)\n"  # let the caller's pipe reach EOF while we spin
        "end = time.time() + 20\n"
        "while time.time() < end: pass\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return int(out.stdout.split()[0])


def test_noise_snapshot_names_a_busy_process():
    import os
    import signal

    pid = _orphan_spinner()
    try:
        snap = noise.snapshot(window_s=0.5)
    finally:
        os.kill(pid, signal.SIGKILL)
    busy = {b["pid"]: b for b in snap["other_processes"]}
    # other work on the machine may share the cores with the spinner: a tenth of one at least
    assert pid in busy and busy[pid]["cores"] >= 0.1
    assert noise.busy_reason(snap) is not None
    assert len(snap["loadavg"]) == 3 and snap["cores"] >= 1


def test_noise_quiet_machine_is_not_busy():
    quiet = {"other_processes": [{"pid": 1, "name": "init", "cores": 0.05}]}
    assert noise.busy_reason(quiet, quiet) is None
    assert noise.busy_reason(quiet, {"other_processes": [{"pid": 9, "name": "cc", "cores": 1.0}]})


def test_timed_call_skips_only_a_sync_that_does_nothing():
    from tensorbench.backends import BACKENDS
    from tensorbench.cases import Case, prepare

    for name, bare in (("numpy", True), ("torch", True), ("jax", False), ("mxnet", False)):
        if not BACKENDS[name].available():
            continue
        case = prepare(Case("matmul", name, "cpu", "float32", 32, {}))
        assert (case.timed_call == case.fn) is bare, name
        assert BACKENDS[name].synchronizes("cpu") is not bare, name
    assert BACKENDS["torch"].synchronizes("cuda:0")


def test_audit_times_natively_before_and_after_the_samples_only(
    fresh_process_cache, monkeypatch, tmp_path
):
    log = tmp_path / "audit.jsonl"
    monkeypatch.setenv("TENSORBENCH_AUDIT_LOG", str(log))
    bench = _benchmark("bench_array.Matmul.time_matmul", "matmul", ("numpy:cpu", 64, "float32"))
    bench.do_setup()
    result = bench.do_run()  # asv_runner calls teardown + setup between samples
    bench.do_teardown()  # the one after the last sample
    assert len(result["samples"]) >= 5
    recs = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["when"] for r in recs] == ["before", "after"]
    assert all(r["bench"] == "matmul" and r["size"] == 64 and r["native_s"] > 0 for r in recs)


def test_a_newer_asv_runner_skips_instead_of_timing_one_call_per_sample():
    common = importlib.import_module("benchmarks.common")
    assert common.runner_skip_reason("0.2.5") is None
    for version in ("0.3.2", "0.3.0rc1", "1.0"):
        assert "needs asv_runner 0.2.5" in common.runner_skip_reason(version)


class _FakeClock:
    """A ``time`` module stand-in whose sleeps advance a clock and are recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _asv_wait(clock_time, seconds: float) -> list[float]:
    """asv_runner 0.2.5's wait loop for a process that runs ``seconds``: the sleeps it took."""
    start, time2sleep, first = clock_time.monotonic(), 1e-15, len(clock_time._real.slept)
    while clock_time.monotonic() - start < seconds:
        time2sleep *= 1e1
        clock_time.sleep(min(time2sleep, 0.001))
    return clock_time._real.slept[first:]


def test_the_forkserver_polls_for_a_benchmarks_end_at_most_every_50_ms(monkeypatch):
    import asv_runner.server as server

    # the forkserver's loop sleeps min(t, 1 ms) between waitpid checks: a thousand wake-ups a
    # second beside the benchmark, which slowed 2-thread points on two cores
    real_time = server.time
    monkeypatch.setattr(server, "time", real_time)  # restored after the test
    monkeypatch.syspath_prepend(str(REPO))
    from benchmarks import common

    common.quiet_forkserver_poll()  # (importing common may have done it already)
    assert server.time is not real_time and time.sleep is real_time.sleep
    assert server.time.perf_counter is real_time.perf_counter  # everything else as it was
    assert common.quiet_forkserver_poll() is False  # once only

    polite = type(server.time)(_FakeClock())
    # a benchmark that runs 2 s: after its first 0.1 s the loop wakes every 50 ms, no more
    sleeps = _asv_wait(polite, 2.0)
    assert max(sleeps) == common.SERVER_POLL_S
    assert len(sleeps) < 2.0 / common.SERVER_POLL_S + 40  # asv's own loop: ~2,000
    assert sum(s < common.SERVER_POLL_S for s in sleeps) < 40
    # the next process (a skipped point, ending in 5 ms) is waited for from the start again:
    # its end is noticed within half its run, not 50 ms later
    sleeps = _asv_wait(polite, 0.005)
    assert sum(sleeps) < 0.005 * 1.5 and max(sleeps) <= 0.0025


def test_managed_environments_pin_the_runner_under_the_name_asv_replaces():
    from tensorbench.asv.run import read_asv_conf

    req = read_asv_conf(REPO / "asv.conf.json")["matrix"]["req"]
    # asv adds "pip+asv_runner" (newest) to every environment; only this key overrides it
    assert req.get("pip+asv_runner") == ["0.2.5"] and "asv_runner" not in req


# -- mode points: names, skip reasons and work figures reach the result files ----------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("bench_array.Matmul.time_matmul", "matmul"),
        ("bench_array.Matmul.peakmem_matmul", "matmul"),
        ("bench_modes.MatmulModes.time_matmul", "matmul_modes"),
        ("bench_modes.MatmulModes.track_matmul_compile", "matmul_modes"),
        ("bench_modes.GcnStepRealModes.time_gcn_step_real", "gcn_step_real_modes"),
        ("bench_graph.GcnAccuracy.track_gcn_accuracy", "gcn_accuracy"),
        ("bench_modes.MachineBandwidth.track_peak_gbps", "peak_gbps"),
        ("benchmarks.Suite0.time_matmul", None),  # another project's benchmark
        ("bench_instructions.InstructionsMatmul.track_instructions_matmul", None),
    ],
)
def test_benchmark_names_map_to_their_grid_entry(name: str, key: str | None) -> None:
    from tensorbench.asv.grid import counted_key, grid_key

    assert grid_key(name) == key
    counted = counted_key(name)
    assert counted == ("matmul" if "Instructions" in name else None)


def test_mode_points_get_their_skip_reasons_and_work(tmp_path: Path, monkeypatch) -> None:
    """A ``*_modes`` point's skip reason and work are keyed with its ``mode`` and land on the
    mode benchmark, not on the mode-less one."""
    from tensorbench.asv import probe, resultfiles

    monkeypatch.delenv("TENSORBENCH_SUITE", raising=False)
    points.current_suite.cache_clear()
    reasons = probe.skip_reasons()
    modes = reasons["matmul_modes"]
    numpy_compiled = "backend='numpy:cpu', size=64, dtype='float32', mode='compiled'"
    assert "no compiler" in modes[numpy_compiled] or "compile" in modes[numpy_compiled]
    assert all(k.endswith(("mode='eager'", "mode='compiled'")) for k in modes)
    assert not any("mode=" in k for k in reasons["matmul"])

    log = tmp_path / "work.log"
    monkeypatch.setenv("TENSORBENCH_WORK_LOG", str(log))
    asv_support.setup_case("matmul_modes", "numpy:cpu", 64, "float32", "eager")
    work = resultfiles.read_work_log(log)
    eager = "backend='numpy:cpu', size=64, dtype='float32', mode='eager'"
    assert work["matmul_modes"][eager]["flops"] == 2 * 64**3

    data = {
        "results": {"bench_modes.MatmulModes.time_matmul": [], "bench_array.Matmul.time_matmul": []}
    }
    facts = {"python": "3.11", "params": {}, "threads": 1, "facts": {}, "skip_reasons": reasons}
    out = resultfiles.annotate(data, "existing-main", facts, None, False, work)["tensorbench"]
    assert out["skip_reasons"]["bench_modes.MatmulModes.time_matmul"][numpy_compiled]
    assert out["work"]["bench_modes.MatmulModes.time_matmul"][eager]["flops"] == 2 * 64**3
    assert eager not in out["work"].get("bench_array.Matmul.time_matmul", {})


def test_mode_points_set_threads_before_anything_can_import_the_framework(monkeypatch) -> None:
    """MXNet reads OMP_NUM_THREADS once, at import: the thread setting must come before the
    skip reason is computed, for mode points as for the others."""
    seen = []
    real = points.skip_reason

    def spy(*args, **kwargs):
        seen.append(os.environ.get("OMP_NUM_THREADS"))
        return real(*args, **kwargs)

    monkeypatch.setattr(points, "skip_reason", spy)
    monkeypatch.setenv("TENSORBENCH_THREADS", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "99")
    try:
        asv_support.setup_case("matmul_modes", "numpy:cpu", 64, "float32", "eager")
    finally:
        threads_mod.set_threads(None)
    assert seen == ["1"]
