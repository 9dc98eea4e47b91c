"""tensorbench.testing's synthetic databases, read back through the format's reader: both
formats, failed points as None and skipped ones as NaN as asv writes them, and the folder
reader agreeing with the one-file reader value for value."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from tensorbench.analysis.asvfile import read_result_file
from tensorbench.analysis.results import load_results
from tensorbench.testing import write_asv_shaped_results, write_synthetic_results


def files(root: Path) -> list[Path]:
    return sorted(root.glob("*/*-*.json"))


@pytest.fixture(scope="module")
def shaped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shaped") / "results"
    return write_asv_shaped_results(root, commits=24, benchmarks=16, format1_share=0.5)


def test_shaped_database_holds_both_formats_failures_and_skips(shaped: Path) -> None:
    read = {p: read_result_file(p) for p in files(shaped)}
    assert {rf.version for rf in read.values()} == {1, 2}
    values = [v for rf in read.values() for row in rf.rows.values() for v in row["result"]]
    assert any(v is None for v in values)  # failed
    last = sorted({p.parent.name for p in read})[-1]
    skipped = "benchmarks.Suite0.time_bench0001"  # always skipped on the last machine
    for path, rf in read.items():
        if path.parent.name == last:
            assert all(math.isnan(v) for v in rf.rows[skipped]["result"])


def test_shaped_format2_statistics_follow_the_values(shaped: Path) -> None:
    """Statistics where a point has a value, none where it failed or was skipped."""
    checked = 0
    for path in files(shaped):
        rf = read_result_file(path)
        if rf.version != 2:
            assert all(v is None for row in rf.rows.values() for v in row["stats_ci_99_a"])
            continue
        for row in rf.rows.values():
            for value, low, number in zip(
                row["result"], row["stats_ci_99_a"], row["stats_number"], strict=True
            ):
                if value is None or math.isnan(value):
                    assert low is None and number is None
                else:
                    assert low == pytest.approx(value * 0.98) and number == 10
                    checked += 1
    assert checked > 100


@pytest.mark.parametrize("make", ["shaped", "synthetic"])
def test_folder_reader_agrees_with_file_reader(tmp_path: Path, make: str) -> None:
    if make == "shaped":
        root = write_asv_shaped_results(tmp_path / "results", commits=12, benchmarks=10)
    else:
        root = write_synthetic_results(
            tmp_path / "results", backends=("numpy:cpu", "torch:cuda"), threads=(1, 2)
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = load_results(root, cache=False).table
    rows = 0
    for path in files(root):
        rf = read_result_file(path)
        mine = table[table["commit"] == rf.header["commit_hash"]]
        mine = mine[mine["machine"] == path.parent.name]
        for name, row in rf.rows.items():
            got = mine[mine["benchmark"] == name]["value"].to_numpy()
            want = np.array([math.nan if v is None else v for v in row["result"]], dtype=float)
            np.testing.assert_array_equal(got, want, err_msg=f"{path.name} {name}")
            rows += len(want)
    assert rows == len(table)


def test_synthetic_files_record_skip_reasons_and_statistics(tmp_path: Path) -> None:
    root = write_synthetic_results(
        tmp_path / "results", commits=3, backends=("numpy:cpu", "torch:cuda")
    )
    rf = read_result_file(files(root)[0])
    assert rf.version == 2 and rf.header["env_vars"] == {"OMP_NUM_THREADS": "2"}
    reasons = rf.header["tensorbench"]["skip_reasons"]
    assert reasons and all(
        set(r.values()) == {"no CUDA device on this machine"} for r in reasons.values()
    )
    row = rf.rows["bench_array.Matmul.time_matmul"]
    n = len(row["result"])
    assert row["stats_number"] == [10] * n and row["stats_repeat"] == [5] * n
    cuda = [math.isnan(v) for v in row["result"]]
    assert any(cuda) and not all(cuda)  # CUDA points skipped (NaN), CPU ones measured
