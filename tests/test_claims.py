"""The frameworks' claims: the claims' workloads validate, each verdict follows its rule, and the
figures (hidden share of Python time, chain/independent ratio) and their intervals are right."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import backend_params

from tensorbench.analysis import claims as cl
from tensorbench.analysis.asvfile import write_result_file
from tensorbench.analysis.results import load_results
from tensorbench.asv import claimfigures as cf
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
    assert len(outs) == len(chain) == 8  # both keep eight outputs alive
    np.testing.assert_allclose(outs[0], inputs["x"] @ inputs["w0"])
    expected = inputs["x"]
    for i in range(8):
        expected = expected @ inputs[f"w{i}"]
        np.testing.assert_allclose(chain[i], expected)
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


def test_round_figures() -> None:
    # eager: T_overlap = T_python + T_compute hides nothing; full overlap hides all
    assert cf.hidden_share((1e-3, 2e-3, 3e-3)) == pytest.approx(0.0)
    assert cf.hidden_share((1e-3, 2e-3, 2e-3)) == pytest.approx(1.0)
    assert math.exp(cf.log_chain_over_independent((3e-3, 2e-3))) == pytest.approx(1.5)


class _Part:
    def __init__(self, name: str) -> None:
        self.name = name
        self.timed_call = name  # what the fake sampler is handed


def test_claim_figure_times_its_parts_in_rounds_and_logs_the_interval(monkeypatch, tmp_path):
    # python 1.0 ms, compute 2.0 ms, overlap 2.5 ms + round-to-round jitter: half hidden
    rng = np.random.default_rng(3)
    seconds = {"async_python": 1e-3, "async_compute": 2e-3, "async_overlap": 2.5e-3}
    order: list[str] = []

    def fake_sample(call, number, samples, warm):
        order.append(call)
        return list(seconds[call] * (1 + 0.01 * rng.standard_normal(samples)))

    monkeypatch.setattr(cf, "calibrate", lambda call, t: (1, seconds[call]))
    monkeypatch.setattr(cf, "sample", fake_sample)
    log = tmp_path / "work.jsonl"
    monkeypatch.setenv("TENSORBENCH_WORK_LOG", str(log))
    made = []

    def setup(bench, *params):
        made.append((bench, params))
        return _Part(bench)

    value = cf.claim_figure("async_hidden", "numpy:cpu", 256, "float32", setup=setup)
    assert [b for b, _ in made] == ["async_python", "async_compute", "async_overlap"]
    assert value == pytest.approx(0.5, abs=0.05)
    # every round times every part once, the order rotated from round to round
    assert len(order) == 3 * cf.ROUNDS
    assert order[:3] == ["async_python", "async_compute", "async_overlap"]
    assert order[3:6] == ["async_compute", "async_overlap", "async_python"]
    line = json.loads(log.read_text().splitlines()[-1])
    assert line["bench"] == "async_hidden"
    assert line["param_key"] == "backend='numpy:cpu', size=256, dtype='float32'"
    low, high = line["ci99"]
    assert low < value < high and high - low < 0.3


def test_parallel_figure_is_a_ratio_with_its_interval(monkeypatch):
    seconds = {"ops_chain_modes": 3e-3, "ops_independent_modes": 2e-3}
    monkeypatch.setattr(cf, "calibrate", lambda call, t: (1, seconds[call]))
    monkeypatch.setattr(cf, "sample", lambda call, n, k, w: [seconds[call]] * k)
    monkeypatch.delenv("TENSORBENCH_WORK_LOG", raising=False)
    value = cf.claim_figure(
        "parallel_ratio_modes", "jax:cpu", 256, "float32", "compiled", setup=lambda b, *p: _Part(b)
    )
    assert value == pytest.approx(1.5)


def test_a_recorded_interval_reaches_the_table(tmp_path: Path) -> None:
    """asv records no interval for a track_ point; the claim figure's own one is read back."""
    bench = "bench_claims.AsyncHidden.track_async_hidden"
    params = [["'numpy:cpu'", "'jax:cpu'"], ["256"], ["'float32'"]]
    spec = {"name": bench, "type": "track", "unit": "share", "version": "1"}
    spec.update(param_names=["backend", "size", "dtype"], params=params)
    (tmp_path / "m").mkdir()
    (tmp_path / "benchmarks.json").write_text(json.dumps({bench: spec, "version": 2}))
    (tmp_path / "m" / "machine.json").write_text(json.dumps({"machine": "m", "version": 1}))
    key = "backend='jax:cpu', size=256, dtype='float32'"
    header = {
        "commit_hash": "a" * 40,
        "env_name": "existing-main",
        "date": 1_735_689_600_000,
        "params": {"machine": "m"},
        "python": "3.11",
        "requirements": {},
        "env_vars": {},
        "durations": {},
        "tensorbench": {"work": {bench: {key: {"flops": None, "edges": None, "ci99": [0.1, 0.4]}}}},
    }
    row = {
        "result": [0.01, 0.26],
        "params": params,
        "version": "1",
        "started_at": 1_735_689_600_000,
    }
    write_result_file(tmp_path / "m" / "aaaaaaaa-existing-main.json", header, {bench: row})
    table = load_results(tmp_path).table.set_index("backend")
    assert (table.loc["jax", "ci_low"], table.loc["jax", "ci_high"]) == (0.1, 0.4)
    assert math.isnan(table.loc["numpy", "ci_low"])  # none recorded: none invented


def _result(backend, method, size, value, low=None, high=None, workload="", kind="track"):
    return {
        "machine": "m",
        "env": "main",
        "benchmark": f"bench_claims.X.{method}",
        "param_key": f"backend='{backend}:cpu', size={size}",
        "workload": workload,
        "kind": kind,
        "status": "ok",
        "value": value,
        "ci_low": value - 0.05 if low is None else low,
        "ci_high": value + 0.05 if high is None else high,
        "commit_order": 0,
        "started_at": 0.0,
        "backend": backend,
        "device": "cpu",
        "mode": "eager",
        "size": size,
        "dtype": "float32",
    }


def _table() -> pd.DataFrame:
    hidden, ratio = "track_async_hidden", "track_parallel_ratio"
    rows = [
        _result("mxnet", hidden, cl.ASYNC_SIZE, 0.9),
        _result("torch", hidden, cl.ASYNC_SIZE, 0.0),
        # another size the verdict must not be taken from
        _result("torch", hidden, 2 * cl.ASYNC_SIZE, 0.7),
        _result(
            "torch", "time_async_python", cl.ASYNC_SIZE, 3e-3, workload="async_python", kind="time"
        ),
        _result("jax", ratio, cl.PARALLEL_SIZE, 1.0, 0.9, 1.05),
        _result("jax", ratio, 64, 1.8),
    ]
    return pd.DataFrame(rows)


def test_treelstm_batching_rows_name_the_step_times() -> None:
    batching = "track_treelstm_batching"
    rows = _table().to_dict("records") + [
        _result("dgl-torch", batching, cl.TREELSTM_SIZE, 4.0, 3.1, 5.0),
        _result("torch", batching, cl.TREELSTM_SIZE, 1.0, 0.97, 1.03),
        _result(
            "dgl-torch",
            "time_treelstm_step",
            cl.TREELSTM_SIZE,
            0.012,
            workload="treelstm_step",
            kind="time",
        ),
    ]
    table = cl.claims_table(pd.DataFrame(rows))
    tree = table[table["claim"] == "treelstm"].set_index("framework")
    assert tree.loc["dgl-torch:cpu", "verdict"] == cl.HOLDS
    assert tree.loc["dgl-torch:cpu", "role"] == "claimant"
    assert "treelstm_step alone 12.00 ms" in tree.loc["dgl-torch:cpu", "note"]
    assert tree.loc["torch:cpu", "verdict"] == cl.DOES_NOT_HOLD  # recursion against itself
    assert tree.loc["torch:cpu", "role"] == "baseline"
    assert list(tree.index)[0] == "dgl-torch:cpu"  # claimants first


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
    assert "python alone 3.00 ms" in async_rows.loc["torch:cpu", "note"]
    assert "n=512: 0.70" in async_rows.loc["torch:cpu", "note"]
    parallel = table[table["claim"] == "parallel"].iloc[0]
    assert parallel["value"] == pytest.approx(1.0)  # at the declared size, not the best one
    assert parallel["verdict"] == cl.DOES_NOT_HOLD
    assert "n=64: 1.80" in parallel["note"]
    assert parallel["low"] == 0.9 and parallel["high"] == 1.05
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
    rows.loc[rows["backend"] == "mxnet", "status"] = "failed"
    rows.loc[rows["backend"] == "jax", "dtype"] = "float64"
    table = cl.claims_table(rows)
    assert "mxnet:cpu" not in set(table["framework"])
    assert table[table["claim"] == "parallel"].iloc[0]["verdict"] == cl.NOT_MEASURED


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


def test_report_section_lists_every_claim_and_only_where_measured() -> None:
    from tensorbench.report.claims import claims_section

    section = claims_section(_table())
    summary_table = next(b for b in section.blocks if hasattr(b, "rows"))
    assert [r[-1] for r in summary_table.rows][:2] == [cl.HOLDS, cl.DOES_NOT_HOLD]
    assert "needs a GPU" in [r[-1] for r in summary_table.rows]
    assert claims_section(_table().iloc[0:0]) is None


def test_a_suite_that_selects_a_figure_runs_its_parts(monkeypatch, tmp_path) -> None:
    """A suite may select a figure alone (the quick suite does); its parts are prepared all the
    same (asked whether the suite selected them, every part skipped and every quick-suite
    figure was empty)."""
    from tensorbench.asv import points
    from tensorbench.conventions import SUITE_ENV

    suite = tmp_path / "figures.toml"
    suite.write_text(
        'name = "figures"\n[workloads.async_hidden]\nsizes = [256]\ndtypes = ["float32"]\n'
        'backends = ["numpy:cpu"]\n'
    )
    monkeypatch.setenv(SUITE_ENV, str(suite))
    monkeypatch.delenv("TENSORBENCH_WORK_LOG", raising=False)
    monkeypatch.setattr(cf, "calibrate", lambda call, t: (1, 0.0))
    monkeypatch.setattr(cf, "sample", lambda call, n, k, w: [1e-3] * k)
    points.current_suite.cache_clear()
    try:
        assert not points.current_suite().selects("async_python", "numpy:cpu", 256, "float32")
        # equal times for python, compute and overlap: 1 - (1 - 1) / 1 = all hidden
        value = points.claim_figure("async_hidden", "numpy:cpu", 256, "float32")
        assert value == pytest.approx(1.0)
        with pytest.raises(NotImplementedError, match="not in suite figures"):
            points.claim_figure("async_hidden", "numpy:cpu", 512, "float32")
    finally:
        points.current_suite.cache_clear()  # later tests must not see this suite
