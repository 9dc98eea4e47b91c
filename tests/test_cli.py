"""The CLI's machine-readable output is a contract: test its shape and exit codes."""

from __future__ import annotations

import json
import statistics

import pytest

from tensorbench.backends import BACKENDS
from tensorbench.cli import main
from tensorbench.workloads import WORKLOADS


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_json_all_cpu_cases_ok_and_cuda_skips(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--json", "--workload", "matmul", "--workload", "dispatch")
    rows = json.loads(out)
    assert code == 0
    for r in rows:
        assert {"workload", "backend", "device", "dtype", "status", "rel_error", "reason"} <= set(r)
        if r["backend"] not in WORKLOADS[r["workload"]].implementations:  # e.g. dgl-torch
            assert r["status"] == "skip" and "has no" in r["reason"], r
        elif r["device"] == "cpu" and BACKENDS[r["backend"]].available() and r["backend"] != "cupy":
            assert r["status"] == "ok", r
            assert r["rel_error"] <= 1e-4
        if r["device"].startswith("cuda"):
            assert r["status"] == "skip" and r["reason"], r
    assert {r["workload"] for r in rows} == {"matmul", "dispatch"}


def test_time_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "time",
        "matmul",
        "--backend",
        "numpy",
        "--size",
        "128",
        "--target-seconds",
        "0.05",
        "--json",
    )
    assert code == 0
    result = json.loads(out)
    assert result["median_s"] > 0 and result["threads"] >= 1 and result["gflops"] > 0
    assert len(result["samples"]) == result["n_samples"] >= 5
    assert result["q25_s"] <= result["median_s"] <= result["q75_s"]
    # pooled over fresh processes: the value is the median of all their samples, inside its
    # interval, and every process batched its calls (no one-call cold samples)
    assert result["processes"] == 3 == len(result["process_medians_s"]) == len(result["numbers"])
    pooled = [s for samples in result["process_samples_s"] for s in samples]
    assert sorted(pooled) == sorted(result["samples"])
    assert result["value_s"] == pytest.approx(statistics.median(pooled))
    assert result["ci95_s"][0] <= result["value_s"] <= result["ci95_s"][1]
    assert all(n > 1 for n in result["numbers"])
    assert result["gflops"] == pytest.approx(2 * 128**3 / result["value_s"] / 1e9)


def test_time_dispatch_reports_per_op(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "time", "dispatch", "--backend", "numpy", "--json", "--target-seconds", "0.05"
    )
    result = json.loads(out)
    assert result["us_per_op"] == pytest.approx(result["value_s"] / 100 * 1e6)


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["time", "nope", "--backend", "numpy"], "unknown workload 'nope' (valid: matmul"),
        (["time", "matmul", "--backend", "nope"], "unknown backend 'nope' (valid: numpy"),
        (["time", "matmul", "--backend", "numpy", "--device", "gpu"], "valid: cpu, cuda:N"),
        (["time", "matmul", "--backend", "numpy", "--dtype", "int8"], "unknown dtype 'int8'"),
        (["check", "--workload", "nope"], "unknown workload 'nope'"),
    ],
)
def test_unknown_names_exit_2_with_one_line(capsys, argv: list[str], needle: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) == 1


def test_time_on_absent_cuda_is_a_skip_with_reason(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "time", "matmul", "--backend", "torch", "--device", "cuda:0")
    assert code == 1 and "skip" in out and ("CUDA" in out or "not installed" in out)


def test_info_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "info", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["machine"]["cores"] >= 1 and data["threads"] >= 1
    assert set(data["backends"]) >= {"numpy", "torch", "mxnet", "cupy", "jax"}
    assert data["backends"]["numpy"]["available"] is True
    for facts in data["backends"].values():
        assert facts["available"] or facts["reason"]


def test_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "--json")
    rows = json.loads(out)
    assert code == 0
    assert any(
        r["workload"] == "conv2d" and r["backend"] == "numpy" and r["available"] for r in rows
    )
    assert all(r["available"] or r["reason"] for r in rows)
