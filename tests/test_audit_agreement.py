"""scripts/audit_timing.py over several rounds: each round's order of the entry points, and the
paired per-point agreement of `tensorbench time` and the framework's timer with asv."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_timing", SCRIPTS / "audit_timing.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["audit_timing"] = mod
    spec.loader.exec_module(mod)
    return mod


def _rows(asv: list[float], time: list[float], ref: list[float]) -> list[dict]:
    return [
        {"env": "main", "backend": "numpy", "point": "matmul 128 float32", "round": i,
         "asv_s": a, "time_s": t, "reference_s": r, "ok": True}
        for i, (a, t, r) in enumerate(zip(asv, time, ref, strict=True))
    ]  # fmt: skip


def test_agreement_holds_1_for_equal_entry_points_and_sees_a_steady_gap(audit) -> None:
    # every round moves all three figures together (host drift): the pairs cancel it
    drift = [1.00, 1.08, 0.95, 1.10, 0.97, 1.04]
    asv = [20e-6 * d for d in drift]
    jitter = [1.01, 0.99, 1.005, 0.995, 1.0, 1.002]
    same = audit.agreement(_rows(asv, [a * j for a, j in zip(asv, jitter, strict=True)], asv), 0.02)
    (row,) = same
    assert row["time_vs_asv"]["rounds"] == 6
    assert row["time_vs_asv"]["holds_1"] and row["time_vs_asv"]["verdict"] == "same"
    assert row["time_vs_asv"]["ratio"] == pytest.approx(1.0, abs=0.01)

    # time reads 10 % more in every round: the interval excludes 1 however the host drifts
    gap = audit.agreement(
        _rows(asv, [a * 1.10 * j for a, j in zip(asv, jitter, strict=True)], asv), 0.02
    )
    res = gap[0]["time_vs_asv"]
    assert not res["holds_1"] and res["verdict"] == "slower"
    assert res["ratio"] == pytest.approx(1.10, rel=0.01)
    assert gap[0]["reference_vs_asv"]["holds_1"]


def test_agreement_leaves_out_a_figure_with_fewer_than_two_rounds(audit) -> None:
    rows = _rows([1e-3, 1e-3], [1e-3, None], [1e-3, 1.01e-3])
    (row,) = audit.agreement(rows, 0.02)
    assert "time_vs_asv" not in row
    assert row["reference_vs_asv"]["rounds"] == 2


def test_odd_rounds_run_tensorbench_time_before_asv(audit, monkeypatch) -> None:
    calls: list[str] = []

    def fake_time(backend, point, args):
        calls.append(f"time {backend} {point}")
        return 1e-3, [0.9e-3, 1.1e-3]

    def fake_asv(backend, args, folder):
        calls.append(f"asv {backend}")
        return [{"env": "main", "backend": backend, "point": "matmul 128 float32", "ok": True,
                 "asv_s": 1e-3, "reference_s": 1e-3}]  # fmt: skip

    monkeypatch.setattr(audit, "cli_time", fake_time)
    monkeypatch.setattr(audit, "audit_backend", fake_asv)
    monkeypatch.setattr(audit, "POINTS", (("matmul", 128, "float32"),))
    args = argparse.Namespace(with_time=True, graph_dir="")
    first = audit.audit_round(["numpy"], args, 0)
    assert calls == ["asv numpy", "time numpy matmul 128 float32"]
    calls.clear()
    second = audit.audit_round(["numpy"], args, 1)
    assert calls == ["time numpy matmul 128 float32", "asv numpy"]
    assert [r["round"] for r in first + second] == [0, 1]
    assert second[0]["time_s"] == 1e-3


def test_the_environment_rerun_drops_only_the_env_option(audit) -> None:
    # a backend named like an environment (mxnet) must reach the rerun in that environment
    argv = ["--env", "mxnet", "--backend", "mxnet", "--rounds", "2"]
    assert audit.without_env(argv) == ["--backend", "mxnet", "--rounds", "2"]
    assert audit.without_env(["--env=all", "--json"]) == ["--json"]
