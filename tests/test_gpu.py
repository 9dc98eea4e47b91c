"""GPU: CUDA cases validate where a GPU exists (marker `gpu`), skip with a reason where not;
the prepared GPU check script's CPU-side parts (arguments, output layout) are tested here."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tensorbench.asv.grid import GRID
from tensorbench.asv.suites import load_suite
from tensorbench.asv_support import grid_params
from tensorbench.backends import BACKENDS, Skip
from tensorbench.cases import Case, prepare
from tensorbench.workloads import WORKLOADS

REPO = Path(__file__).resolve().parents[1]
GPU_WORKLOADS = [w for w in WORKLOADS]


@pytest.mark.gpu
@pytest.mark.parametrize("backend", ["torch", "cupy", "jax"])
@pytest.mark.parametrize("workload", GPU_WORKLOADS)
def test_cuda_cases_validate_or_skip_with_reason(workload: str, backend: str) -> None:
    case = Case(workload, backend, "cuda:0", "float32", WORKLOADS[workload].check_size)
    reason = case.skip_reason()
    if reason:
        assert reason.strip()
        pytest.skip(reason)
    assert prepare(case).rel_error <= 1e-4


def test_without_gpu_every_cuda_case_skips_with_a_reason() -> None:
    if any(BACKENDS[b].available() and "cuda:0" in BACKENDS[b].devices() for b in BACKENDS):
        pytest.skip("a CUDA device is present")
    for workload in WORKLOADS:
        for backend in BACKENDS:
            case = Case(workload, backend, "cuda:0")
            reason = case.skip_reason()
            assert reason, case
            with pytest.raises(Skip):
                prepare(case)


def test_transfer_is_gpu_only_and_counts_both_directions() -> None:
    assert Case("transfer", "torch", "cpu").skip_reason() == "transfer runs on cuda devices only"
    assert WORKLOADS["transfer"].work(16, {}).bytes == 2 * 16 * 2**20


def test_device_memory_counters_are_none_on_the_host() -> None:
    for name in ("numpy", "torch", "jax"):
        if BACKENDS[name].available():
            assert BACKENDS[name].peak_memory("cpu") is None


def test_gpu_grid_entries_hold_only_cuda_backends() -> None:
    for key in ("transfer", "matmul_gpumem", "pagerank_gpumem"):
        params, names = grid_params(key)
        assert names[0] == "backend" and all(b.endswith(":cuda") for b in params[0])
    gpu = load_suite("gpu")
    assert {"transfer", "matmul_gpumem"} <= set(gpu.workloads)
    assert all(
        b.endswith(":cuda") or b == "numpy:cpu"
        for sel in gpu.workloads.values()
        for b in sel.backends
    )
    assert set(gpu.workloads) <= set(GRID)


def run_script(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "gpu_check.sh"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.parametrize("args", [[], ["a", "b"], ["--help"], [""]])
def test_gpu_check_needs_exactly_one_outdir(args: list[str]) -> None:
    res = run_script(*args)
    assert res.returncode == 2 and "usage: bash scripts/gpu_check.sh OUTDIR" in res.stderr


@pytest.mark.slow
def test_gpu_check_dry_run_writes_the_documented_layout(tmp_path: Path) -> None:
    import sys

    out = tmp_path / "out"
    env = dict(os.environ, GPU_CHECK_DRY_RUN="1", PYTHON=sys.executable)
    before = sorted((REPO / "results").rglob("*"))
    res = run_script(str(out), env=env)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["dry_run"] is True and summary["machine"]
    assert set(summary["steps"]) == {"info", "check", "suite", "crosscheck", "ceiling"}
    assert summary["steps"]["info"]["exit"] == 0 and summary["steps"]["check"]["exit"] == 0
    info = json.loads((out / "info.json").read_text())
    assert "backends" in info and info["machine"]["cores"] >= 1
    rows = json.loads((out / "check.json").read_text())
    assert rows and {r["workload"] for r in rows} == {"dispatch", "matmul"}
    assert all(r["status"] != "fail" for r in rows)
    lines = [json.loads(x) for x in (out / "crosscheck.jsonl").read_text().splitlines()]
    assert {r["backend"] for r in lines} == {"torch", "cupy"}
    assert "== info" in (out / "gpu_check.log").read_text()
    assert sorted((REPO / "results").rglob("*")) == before  # a dry run leaves results/ alone
    # Exit 1 is allowed for one reason only: the CPU cross-check timed torch outside its
    # tolerance (this host drifts); every other step succeeded and the rows say which was off.
    failed = {name for name, step in summary["steps"].items() if step["exit"] not in (0, None)}
    if res.returncode == 1:
        assert failed == {"crosscheck"}, summary["steps"]
        assert any(r.get("within_tolerance") is False for r in lines), lines
    else:
        assert res.returncode == 0 and not failed, (res.returncode, summary["steps"])
