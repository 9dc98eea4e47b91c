"""tensorbench.analysis.rates: selection, newest values, rates and speedups, as numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tensorbench.analysis.rates import (
    GEOMETRIC_MEAN,
    latest,
    select,
    speedup_over,
    speedup_summary,
    with_rates,
)
from tensorbench.analysis.results import load_results
from tensorbench.workloads import work_model

BACKENDS = ("numpy:cpu", "torch:cpu", "jax:cpu")


@pytest.fixture(scope="module")
def table(synthetic_results) -> pd.DataFrame:
    return load_results(synthetic_results(commits=4, backends=BACKENDS)).table


def newest(table: pd.DataFrame, backend: str, size: int = 1024) -> pd.DataFrame:
    return latest(select(table, workload="matmul", backend=backend, size=size, status="ok"))


def test_rate_from_the_work_model_where_the_file_records_none(table: pd.DataFrame) -> None:
    rows = newest(table, "torch:cpu")
    assert rows["work_flops"].isna().all()  # synthetic files record no work
    rated = with_rates(rows, work_model)
    seconds = float(rows["value"].iloc[0])
    assert rated["rate"].iloc[0] == pytest.approx(2 * 1024**3 / seconds / 1e9)
    assert rated["rate_unit"].iloc[0] == "GFLOP/s"
    # the rate's CI comes from the time's CI, inverted
    assert rated["rate_low"].iloc[0] < rated["rate"].iloc[0] < rated["rate_high"].iloc[0]
    assert math.isnan(with_rates(rows)["rate"].iloc[0])  # no work known, no rate


def test_recorded_work_wins_over_the_work_model(table: pd.DataFrame) -> None:
    rows = newest(table, "numpy:cpu").assign(work_flops=4e9)
    rated = with_rates(rows, work_model)
    assert rated["rate"].iloc[0] == pytest.approx(4.0 / float(rows["value"].iloc[0]))


def test_speedup_over_numpy_per_machine(table: pd.DataFrame) -> None:
    rows = pd.concat([newest(table, b) for b in BACKENDS])
    speedup = speedup_over(rows, "numpy:cpu", on=["machine"])
    by_backend = dict(zip(rows["backend"].astype(str), speedup, strict=True))
    assert by_backend["numpy"] == pytest.approx(1.0)
    numpy_s = float(rows.loc[rows["backend"] == "numpy", "value"].iloc[0])
    torch_s = float(rows.loc[rows["backend"] == "torch", "value"].iloc[0])
    assert by_backend["torch"] == pytest.approx(numpy_s / torch_s)
    assert by_backend["torch"] > 1  # torch is faster in the synthetic model
    assert speedup_over(rows, "cupy:cuda", on=["machine"]).isna().all()  # no baseline: NaN


def test_speedup_summary_is_a_geometric_mean_over_sizes_and_workloads(
    table: pd.DataFrame,
) -> None:
    cells = speedup_summary(table)
    torch = cells[cells["label"] == "torch:cpu"].set_index("workload")
    sizes = (64, 256, 1024)
    ratios = [
        float(newest(table, "numpy:cpu", s)["value"].iloc[0])
        / float(newest(table, "torch:cpu", s)["value"].iloc[0])
        for s in sizes
    ]
    assert torch.loc["matmul", "speedup"] == pytest.approx(np.prod(ratios) ** (1 / 3))
    assert torch.loc["matmul", "n"] == len(sizes)
    expected = math.sqrt(torch.loc["matmul", "speedup"] * torch.loc["conv2d", "speedup"])
    assert torch.loc[GEOMETRIC_MEAN, "speedup"] == pytest.approx(expected)
    assert speedup_summary(table.iloc[:0]) is None
    assert speedup_summary(table, baseline="cupy:cuda").empty


def test_summary_of_a_run_uses_the_same_speedups(table: pd.DataFrame) -> None:
    from tensorbench.cli.runs import summarise

    rows = {(r["workload"], r["size"]): r for r in summarise(table)}
    matmul = rows[("matmul", 1024.0)]
    numpy_s = float(newest(table, "numpy:cpu")["value"].iloc[0])
    torch_s = float(newest(table, "torch:cpu")["value"].iloc[0])
    assert matmul["vs_numpy"]["torch:cpu"] == pytest.approx(numpy_s / torch_s)
    assert matmul["fastest"] == "torch:cpu"
