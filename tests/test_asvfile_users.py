"""The readers and writers outside the format owner (the run's merge and save, the interval
annotation, scripts/run_to_run.py, scripts/audit_timing.py, scripts/gate_eval.py) read and write
result files through tensorbench.analysis.asvfile: by column name, in format 1 or 2."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tensorbench.analysis.asvfile import (
    RESULT_COLUMNS,
    named_rows,
    read_result_file,
    result_data,
    write_result_file,
)
from tensorbench.asv import resultfiles
from tensorbench.asv.variance import between_log_sd, interval95, intervals

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
HEADER = {
    "commit_hash": "a" * 40,
    "env_name": "existing-main",
    "date": 1_700_000_000_000,
    "params": {"machine": "m"},
    "python": "3.11",
    "requirements": {},
    "env_vars": {},
    "durations": {},
}
GRID = [["'numpy:cpu'", "'torch:cpu'"], ["64", "128"], ["'float32'"]]
MATMUL = "bench_array.Matmul.time_matmul"


def script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def matmul_row(values: list, **columns: object) -> dict:
    return {"result": values, "params": GRID, "version": "1", **columns}


def test_merge_restores_a_skipped_point_from_a_file_of_other_columns() -> None:
    """An earlier file asv wrote with fewer columns still gives back what it measured, with its
    interval, where the new run skipped the point; the new run's own values stay."""
    old = {
        **HEADER,
        "result_columns": ["result", "params", "version", "stats_ci_99_a"],
        "results": {MATMUL: [[1.0, 2.0, 3.0, 4.0], GRID, "1", [0.9, 1.9, 2.9, 3.9]]},
        "version": 2,
    }
    new = result_data(HEADER, {MATMUL: matmul_row([math.nan, 5.0, math.nan, math.nan])})
    merged = named_rows(resultfiles.merge_results(new, old))[MATMUL]
    assert merged["result"] == [1.0, 5.0, 3.0, 4.0]
    assert merged["stats_ci_99_a"] == [0.9, None, 2.9, 3.9]


def test_merge_keeps_a_new_grid_and_adds_benchmarks_the_new_run_lacks() -> None:
    other = "bench_array.Conv2d.time_conv2d"
    old = result_data(HEADER, {MATMUL: matmul_row([1.0] * 4), other: {"result": [7.0]}})
    new_grid = {"result": [math.nan], "params": [["'numpy:cpu'"]], "version": "1"}
    merged = named_rows(resultfiles.merge_results(result_data(HEADER, {MATMUL: new_grid}), old))
    assert math.isnan(merged[MATMUL]["result"][0])  # another grid: nothing comes back
    assert merged[other]["result"] == [7.0]


def test_save_writes_what_asv_writes_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "m" / "aaaaaaaa-existing-main.json"
    data = result_data(HEADER, {MATMUL: matmul_row([1.0, None, math.nan, None])})
    data["tensorbench"] = {"suites": ["quick"]}
    resultfiles.save_result(path, data)
    back = read_result_file(path)
    assert back.header["tensorbench"] == {"suites": ["quick"]}
    assert back.rows[MATMUL]["result"][:2] == [1.0, None]
    assert json.loads(path.read_text())["result_columns"] == list(RESULT_COLUMNS)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


def test_intervals_take_each_combination_s_own_backend() -> None:
    ci_a, ci_b = [0.9e-3, 1.8e-3, 0.9e-3, None], [1.1e-3, 2.2e-3, 1.1e-3, None]
    rows = {
        MATMUL: matmul_row([1e-3, 2e-3, 1e-3, None], stats_ci_99_a=ci_a, stats_ci_99_b=ci_b),
        "bench_array.Matmul.time_failed": matmul_row([None] * 4),
        "bench_array.Matmul.peakmem_matmul": matmul_row([1.0] * 4),
    }
    out = intervals(result_data(HEADER, rows), processes=3)
    assert set(out) == {MATMUL, "bench_array.Matmul.time_failed"}  # timed benchmarks only
    ci = out[MATMUL]["ci95"]
    # product order: numpy 64, numpy 128, torch 64, torch 128 (failed)
    assert ci[0] == list(interval95(1e-3, (0.9e-3, 1.1e-3), 3, "numpy:cpu"))
    assert ci[2] == list(interval95(1e-3, (0.9e-3, 1.1e-3), 3, "torch:cpu"))
    assert ci[0] != ci[2] and between_log_sd("numpy") != between_log_sd("torch")
    assert ci[3] is None
    assert out["bench_array.Matmul.time_failed"]["ci95"] == [None] * 4


@pytest.mark.parametrize("version", [1, 2])
def test_run_to_run_reads_either_format(tmp_path: Path, version: int) -> None:
    run_to_run = script("run_to_run")
    machine = tmp_path / "m"
    spec = {"name": MATMUL, "type": "time", "params": GRID}
    machine.mkdir()
    (tmp_path / "benchmarks.json").write_text(json.dumps({MATMUL: spec, "version": 2}))
    path = machine / "aaaaaaaa-existing-main.json"
    write_result_file(
        path, HEADER, {MATMUL: matmul_row([1.0, None, math.nan, 4.0])}, version=version
    )
    assert run_to_run.medians(path) == {
        ("existing-main", MATMUL, ("'numpy:cpu'", "64", "'float32'")): 1.0,
        ("existing-main", MATMUL, ("'torch:cpu'", "128", "'float32'")): 4.0,
    }


def test_audit_reads_values_and_calls_per_sample(tmp_path: Path) -> None:
    audit = script("audit_timing")
    specs = tmp_path / "benchmarks.json"
    specs.write_text(json.dumps({MATMUL: {"type": "time"}, "other.Thing.time_x": {"type": "time"}}))
    rows = {
        MATMUL: matmul_row([1e-3, 2e-3, None, 4e-3], stats_number=[100, 50, None, 25]),
        "other.Thing.time_x": {"result": [1.0]},  # not a grid benchmark: left out
    }
    write_result_file(tmp_path / "r.json", HEADER, rows)
    points = audit.timed_points(tmp_path / "r.json", specs)
    assert points == {
        ("matmul", "numpy:cpu", 64, "float32"): (1e-3, 100),
        ("matmul", "numpy:cpu", 128, "float32"): (2e-3, 50),
        ("matmul", "torch:cpu", 64, "float32"): (None, None),
        ("matmul", "torch:cpu", 128, "float32"): (4e-3, 25),
    }


def test_gate_history_loads_as_written(tmp_path: Path) -> None:
    from tensorbench.analysis.results import load_results

    gate = script("gate_eval")
    commits = [str(i) * 40 for i in range(1, 5)]  # file names keep 8 characters
    gate.write_results(tmp_path, commits, [100, 100, 200, 200], blips=set())
    table = load_results(tmp_path, cache=False).table.sort_values("commit_date")
    assert table["commit"].tolist() == commits
    ratio = table["value"].iloc[2] / table["value"].iloc[1]
    assert 1.9 < ratio < 2.1  # value follows the work, 1 % noise


def test_run_to_run_names_the_backend_of_a_spread_point(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_to_run = script("run_to_run")
    spec = {"name": MATMUL, "type": "time", "params": GRID}
    (tmp_path / "benchmarks.json").write_text(json.dumps({MATMUL: spec, "version": 2}))
    runs = []
    for i, torch_value in enumerate((1e-3, 2e-3)):  # torch 128 moves, the rest does not
        folder = tmp_path / f"run{i}"
        row = matmul_row([1e-3, 1e-3, 1e-3, torch_value])
        write_result_file(folder / "aaaaaaaa-existing-main.json", HEADER, {MATMUL: row})
        runs.append(str(folder))
    assert run_to_run.main([*runs, "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["points"] == 4
    [over] = out["over_limit"]
    assert over["backend"] == "torch:cpu"
    assert over["params"] == "'torch:cpu', 128, 'float32'"
