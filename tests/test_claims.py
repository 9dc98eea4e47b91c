"""The frameworks' claims: the claims' workloads validate, each verdict follows its rule, and the
figures (hidden share of Python time, chain/independent ratio) and their intervals are right."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import backend_params

from tensorbench.analysis import claims as cl
from tensorbench.cases import Case, prepare
from tensorbench.workloads import get_workload
from tensorbench.workloads.async_overlap import python_work

CLAIM_WORKLOADS = ("ops_independent", "ops_chain", "async_python", "async_compute", "async_overlap")
ASYNC = next(c for c in cl.CLAIMS if c.key == "async")
PARALLEL = next(c for c in cl.CLAIMS if c.key == "parallel")


@pytest.mark.parametrize("backend", backend_params("numpy", "torch", "jax", "paddle", "mxnet"))
@pytest.mark.parametrize("workload", CLAIM_WORKLOADS)
def test_claim_workloads_validate_against_float64(workload: str, backend: str) -> None:
    size = get_workload(workload).check_size
    prepared = prepare(Case(workload, backend, "cpu", "float32", size))
    assert prepared.rel_error <= 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("backend", backend_params("torch", "jax", "paddle", "mxnet"))
@pytest.mark.parametrize("workload", ["ops_independent", "ops_chain"])
def test_independent_ops_validate_compiled(workload: str, backend: str) -> None:
    size = get_workload(workload).check_size
    prepared = prepare(Case(workload, backend, "cpu", "float32", size, mode="compiled"))
    assert prepared.mode == "compiled"
    assert prepared.rel_error <= 1e-4


def test_the_chain_and_the_set_do_the_same_products() -> None:
    wl_set, wl_chain = get_workload("ops_independent"), get_workload("ops_chain")
    inputs = wl_set.make_inputs(16, "float64", {})
    outs = wl_set.reference(inputs, {})
    chain = wl_chain.reference(inputs, {})
    assert len(outs) == 8
    np.testing.assert_allclose(outs[0], inputs["x"] @ inputs["w0"])
    expected = inputs["x"]
    for i in range(8):
        expected = expected @ inputs[f"w{i}"]
    np.testing.assert_allclose(chain, expected)
    assert wl_set.work(16, {}).flops == wl_chain.work(16, {}).flops


def test_python_work_is_the_same_loop_everywhere() -> None:
    assert python_work(10) == sum(i * i % 7 for i in range(10))


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.5, 0.9, cl.HOLDS),  # the low end reaches the line: holds
        (0.49, 0.9, cl.PARTLY),
        (0.2, 0.3, cl.PARTLY),
        (0.19, 0.6, cl.INCONCLUSIVE),  # straddles the lower line
        (-0.3, 0.19, cl.DOES_NOT_HOLD),  # even the high end is below it
        (math.nan, 0.3, cl.NOT_MEASURED),
    ],
)
def test_async_verdict_follows_the_interval(low: float, high: float, expected: str) -> None:
    assert cl.verdict(ASYNC, low, high) == expected


def test_parallel_verdict_lines() -> None:
    assert cl.verdict(PARALLEL, 1.35, 1.6) == cl.HOLDS
    assert cl.verdict(PARALLEL, 1.12, 1.4) == cl.PARTLY
    assert cl.verdict(PARALLEL, 0.95, 1.05) == cl.DOES_NOT_HOLD
    assert cl.verdict(PARALLEL, 0.98, 1.2) == cl.INCONCLUSIVE


def test_hidden_share_is_zero_for_eager_and_one_for_full_overlap() -> None:
    # eager: T_overlap = T_python + T_compute
    share, low, high = cl.hidden_share((1e-3, 0.0), (2e-3, 0.0), (3e-3, 0.0))
    assert share == pytest.approx(0.0) and low == pytest.approx(0) and high == pytest.approx(0)
    # the Python work wholly hidden behind longer operators
    assert cl.hidden_share((1e-3, 0.0), (2e-3, 0.0), (2e-3, 0.0))[0] == pytest.approx(1.0)


def test_hidden_share_interval_grows_with_each_measurement_spread() -> None:
    base = cl.hidden_share((1e-3, 0.02), (2e-3, 0.02), (2.5e-3, 0.02))
    wider = cl.hidden_share((1e-3, 0.02), (2e-3, 0.02), (2.5e-3, 0.05))
    assert base[0] == pytest.approx(0.5)
    assert base[1] < 0.5 < base[2]
    assert wider[2] - wider[1] > base[2] - base[1]
    # first-order SD: T_overlap's term is 2.5e-3 * 0.02 / 1e-3 = 0.05, T_compute's 0.04,
    # T_python's (2.5e-3 - 2e-3) / 1e-3 * 0.02 = 0.01
    sd = math.sqrt(0.05**2 + 0.04**2 + 0.01**2)
    assert base[2] - base[0] == pytest.approx(cl.Z95 * sd)


def test_ratio_interval_combines_log_spreads() -> None:
    r, low, high = cl.ratio((2.0, 0.03), (1.0, 0.04))
    assert r == 2.0
    assert math.log(high / r) == pytest.approx(cl.Z95 * 0.05)
    assert math.log(r / low) == pytest.approx(cl.Z95 * 0.05)


def test_log_sd_from_a_95_interval() -> None:
    sd = cl.log_sd(1.0, math.exp(-cl.Z95 * 0.1), math.exp(cl.Z95 * 0.1))
    assert sd == pytest.approx(0.1)
    assert cl.log_sd(1.0, math.nan, 2.0) == 0.0


def _result(machine, backend, workload, size, value, spread=0.02, mode="eager"):
    return {
        "machine": machine,
        "env": "main",
        "benchmark": f"bench_claims.X.time_{workload}",
        "param_key": f"backend='{backend}:cpu', size={size}",
        "workload": workload,
        "kind": "time",
        "status": "ok",
        "value": value,
        "ci_low": value * math.exp(-cl.Z95 * spread),
        "ci_high": value * math.exp(cl.Z95 * spread),
        "commit_order": 0,
        "started_at": 0.0,
        "backend": backend,
        "device": "cpu",
        "mode": mode,
        "size": size,
        "dtype": "float32",
    }


def _table() -> pd.DataFrame:
    rows = []
    for backend, overlap in (("mxnet", 2.1e-3), ("torch", 3.0e-3)):
        rows.append(_result("m", backend, "async_python", cl.ASYNC_SIZE, 1.0e-3))
        rows.append(_result("m", backend, "async_compute", cl.ASYNC_SIZE, 2.0e-3))
        rows.append(_result("m", backend, "async_overlap", cl.ASYNC_SIZE, overlap))
        # another size the figure must not be taken from
        rows.append(_result("m", backend, "async_python", 2 * cl.ASYNC_SIZE, 1.0e-3))
        rows.append(_result("m", backend, "async_compute", 2 * cl.ASYNC_SIZE, 0.2e-3))
        rows.append(_result("m", backend, "async_overlap", 2 * cl.ASYNC_SIZE, 1.2e-3))
    rows.append(_result("m", "jax", "ops_independent", cl.PARALLEL_SIZE, 1.0e-3))
    rows.append(_result("m", "jax", "ops_chain", cl.PARALLEL_SIZE, 1.0e-3))
    rows.append(_result("m", "jax", "ops_independent", 64, 1.0e-4))
    rows.append(_result("m", "jax", "ops_chain", 64, 1.8e-4))
    return pd.DataFrame(rows)


def test_claims_table_gives_each_framework_its_verdict() -> None:
    table = cl.claims_table(_table())
    async_rows = table[table["claim"] == "async"].set_index("framework")
    assert async_rows.loc["mxnet:cpu", "value"] == pytest.approx(0.9)
    assert async_rows.loc["mxnet:cpu", "verdict"] == cl.HOLDS
    assert async_rows.loc["mxnet:cpu", "size"] == cl.ASYNC_SIZE
    assert async_rows.loc["mxnet:cpu", "role"] == "claimant"
    assert async_rows.loc["torch:cpu", "value"] == pytest.approx(0.0)
    assert async_rows.loc["torch:cpu", "verdict"] == cl.DOES_NOT_HOLD
    assert async_rows.loc["torch:cpu", "role"] == "baseline"
    parallel = table[table["claim"] == "parallel"].iloc[0]
    assert parallel["value"] == pytest.approx(1.0)  # at the declared size, not the best one
    assert parallel["verdict"] == cl.DOES_NOT_HOLD
    assert "n=64: 1.80" in parallel["note"]
    # the claims this machine cannot measure stay as rows saying what they need
    gpu = table[table["claim"] == "one_gpu"].iloc[0]
    assert gpu["verdict"] == "needs a GPU" and math.isnan(gpu["value"])
    assert table[table["claim"] == "treelstm"].iloc[0]["verdict"] == cl.NOT_MEASURED


def test_summary_takes_the_best_supported_claimant() -> None:
    top = cl.summary(cl.claims_table(_table())).set_index("claim")
    assert list(top.index) == [c.key for c in cl.CLAIMS]
    assert top.loc["async", "framework"] == "mxnet:cpu"
    assert top.loc["async", "verdict"] == cl.HOLDS


def test_failed_and_other_dtype_results_are_not_used() -> None:
    rows = _table()
    rows.loc[(rows["backend"] == "mxnet") & (rows["workload"] == "async_overlap"), "status"] = (
        "failed"
    )
    table = cl.claims_table(rows)
    assert "mxnet:cpu" not in set(table[table["claim"] == "async"]["framework"])


def test_an_empty_database_lists_every_claim_unmeasured() -> None:
    table = cl.claims_table(pd.DataFrame(columns=list(_table().columns)))
    assert list(table["claim"]) == [c.key for c in cl.CLAIMS]
    assert set(table["verdict"]) == {cl.NOT_MEASURED, "needs a GPU", "needs 256 GPUs"}


def test_benchmarks_keep_a_true_copy_of_the_claims_grid() -> None:
    """Old package commits lack these grid entries; benchmarks/ then labels their points with
    its own copy, which must be today's grid or history stops lining up."""
    from benchmarks.bench_claims import GRID_COPY

    from tensorbench.asv.grid import GRID

    for bench, (params, names) in GRID_COPY.items():
        assert (params, names) == (GRID[bench].params, GRID[bench].param_names), bench
