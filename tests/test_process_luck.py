"""scripts/process_luck.py: the framework's own timer is pooled over as many fresh processes as
ours, the two sides alternate which goes first, and single processes are reported beside the
pooled values."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.fixture(scope="module")
def luck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("process_luck", SCRIPTS / "process_luck.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["process_luck"] = mod
    spec.loader.exec_module(mod)
    return mod


def _ours(medians: list[float]) -> dict:
    """A `time --json` output pooling one process per median (8 samples each, +-1 %)."""
    samples = [[m * f for f in (0.99, 1.0, 1.01, 1.0, 0.995, 1.005, 1.0, 1.0)] for m in medians]
    return {"value_s": sorted(medians)[len(medians) // 2], "processes": len(medians),
            "process_medians_s": medians, "process_samples_s": samples}  # fmt: skip


def test_one_lucky_process_moves_the_single_process_spread_not_the_pooled_value(luck) -> None:
    raw = [_ours([10e-6, 10.2e-6, 9.9e-6]), _ours([10.1e-6, 10e-6, 10e-6])]
    # the framework's timer: one process of the first run is 40 % slow (its buffer's luck)
    native = [[10e-6, 14e-6, 10.1e-6], [10e-6, 9.9e-6, 10e-6]]
    row = luck.summarise("p", raw, native)
    assert row["native_max_min"] == pytest.approx(10.1 / 10.0)  # medians of three: 10.1, 10.0
    assert row["native_process_max_min"] == pytest.approx(14 / 9.9)
    assert row["ours_max_min"] == pytest.approx(10.0 / 10.0)  # pooled values 10.0 and 10.0
    assert row["ours_process_max_min"] == pytest.approx(10.2 / 9.9)
    assert row["native_process_sd"] > 5 * row["ours_process_sd"]
    assert "| p | 10.0 | 1.000 | 10.1 | 1.010 | 1.030, 1.414 |" in luck.table([row])


def test_each_run_times_as_many_native_processes_as_ours_pooled_alternating_first(
    luck, monkeypatch
) -> None:
    calls: list[str] = []

    def ours(*args: object) -> dict:
        calls.append("ours")
        return _ours([10e-6, 10e-6, 10e-6])

    def native(*args: object) -> float:
        calls.append("native")
        return 11e-6

    monkeypatch.setattr(luck, "ours", ours)
    monkeypatch.setattr(luck, "native", native)
    assert luck.main(["--runs", "2", "--points", "numpy-dispatch"]) == 0
    assert calls == ["ours", "native", "native", "native", "native", "ours", "native", "native"]
