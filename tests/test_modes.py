"""Eager and compiled modes: resolution, validation, compile failures as skips; STREAM; the
roofline and compile-payoff tables; the *_modes benchmarks' entry points."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from tensorbench import asv_support
from tensorbench.analysis.modes import compile_table, mode_label, payoff_calls
from tensorbench.analysis.results import load_results
from tensorbench.analysis.roofline import machine_bandwidths, roofline_points
from tensorbench.asv.grid import GRID
from tensorbench.backends import Skip
from tensorbench.cases import Case, ValidationError, prepare
from tensorbench.conventions import native_mode
from tensorbench.workloads import WORKLOADS, get_workload, roofline_model


def test_native_modes_are_what_the_original_benchmarks_time():
    assert native_mode("jax", "matmul") == "compiled"
    assert native_mode("jax", "dispatch") == "eager"
    assert native_mode("torch", "matmul") == "eager"
    assert Case("matmul", "jax").resolved_mode() == "compiled"
    assert Case("matmul", "torch").resolved_mode() == "eager"
    assert Case("matmul", "jax", mode="eager").resolved_mode() == "eager"


def test_mode_reasons_name_the_gap():
    assert Case("matmul", "numpy", mode="compiled").skip_reason() == (
        "numpy: no compiler (runs eagerly only)"
    )
    assert Case("matmul", "numpy", mode="eager").skip_reason() is None
    gap = get_workload("gcn_step").mode_reason("mxnet", "compiled", "Gluon hybridize")
    assert "nd.sparse" in gap
    with pytest.raises(ValueError, match="unknown mode 'jit'"):
        Case("matmul", "torch", mode="jit").resolve()
    assert "compiled" in Case("matmul", "torch", mode="compiled").label()


def test_every_workload_factory_matches_its_mode():
    for wl in WORKLOADS.values():
        for backend in wl.implementations:
            native = wl.native_mode(backend)
            assert wl.factory(backend, native) is wl.implementations[backend]
            assert wl.factory(backend, None) is wl.implementations[backend]
        for mode, impls in wl.other_modes.items():
            for backend in impls:  # an "other" mode is never the native one
                assert wl.native_mode(backend) != mode, (wl.name, backend, mode)


def test_jax_eager_matmul_is_validated_and_not_jitted():
    prepared = prepare(Case("matmul", "jax", "cpu", "float64", 64, mode="eager"))
    assert prepared.mode == "eager"
    assert prepared.rel_error <= 1e-10
    assert not hasattr(prepared.fn, "lower")  # a plain closure, not a jitted function


def _with_compiled(monkeypatch, factory):
    wl = get_workload("matmul")
    patched = dataclasses.replace(
        wl, other_modes={**wl.other_modes, "compiled": {"numpy": factory}}
    )
    monkeypatch.setitem(WORKLOADS, "matmul", patched)


def test_a_compile_failure_is_a_skip_with_the_first_error_line(monkeypatch):
    def broken(be, device, inputs, params):
        def fn():
            raise RuntimeError("\nC++ compile error: cannot find cc1plus\nmany more lines")

        return fn

    _with_compiled(monkeypatch, broken)
    with pytest.raises(Skip) as exc:
        prepare(Case("matmul", "numpy", "cpu", "float32", 16, mode="compiled"))
    assert str(exc.value).endswith("RuntimeError: C++ compile error: cannot find cc1plus")


def test_a_wrong_compiled_result_still_fails_validation(monkeypatch):
    def wrong(be, device, inputs, params):
        return lambda: inputs["a"] @ inputs["b"] + 1.0

    _with_compiled(monkeypatch, wrong)
    with pytest.raises(ValidationError, match="relative error"):
        prepare(Case("matmul", "numpy", "cpu", "float32", 16, mode="compiled"))


@pytest.mark.parametrize("workload", ["stream_copy", "stream_triad"])
@pytest.mark.parametrize("backend,mode", [("numpy", None), ("jax", "eager"), ("jax", None)])
def test_stream_kernels_validate(workload, backend, mode):
    prepared = prepare(Case(workload, backend, "cpu", "float64", 1, mode=mode))
    b = np.asarray(prepared.output[0])
    assert b.shape == (2**20,)
    assert prepared.rel_error <= 1e-10


def test_stream_work_counts_what_stream_counts():
    triad = get_workload("stream_triad").work(1, {})
    assert triad.traffic("float64") == 3 * 8 * 2**20
    assert triad.traffic("float32") == 3 * 4 * 2**20
    assert triad.intensity("float64") == pytest.approx(2 / 24)
    assert get_workload("stream_copy").work(1, {}).flops is None


def test_every_workload_models_bytes_moved():
    for name in ("matmul", "conv2d", "mlp_step", "dispatch", "stream_triad"):
        flops, moved = roofline_model(name, get_workload(name).check_size, {}, "float32")
        assert flops > 0 and moved > 0, name
    flops, moved = roofline_model("matmul", 512, {}, "float32")
    assert (flops, moved) == (2 * 512**3, 3 * 512 * 512 * 4)
    assert all(math.isnan(v) for v in roofline_model("pagerank", 12, {}, "float32"))


def test_payoff_calls():
    # compiled: 1 ms/call after 1 s extra; eager: 3 ms/call after 0.1 s: (1 - 0.1) / 0.002
    assert payoff_calls(3e-3, 1e-3, 0.1, 1.0) == 450
    assert payoff_calls(1e-3, 2e-3, 0.0, 1.0) == math.inf  # slower and dearer: never
    assert payoff_calls(2e-3, 1e-3, 0.5, 0.1) == 1  # cheaper from the first call
    assert math.isnan(payoff_calls(1e-3, math.nan, 0.0, 1.0))


def test_mode_grid_params_append_mode_last():
    params, names = asv_support.grid_params("matmul_modes")
    assert names == ["backend", "size", "dtype", "mode"]
    assert params[-1] == ["eager", "compiled"]
    assert params[:3] == asv_support.grid_params("matmul")[0]
    assert GRID["peak_gbps"].workload == "stream_triad"


def _modes_db(tmp_path):
    """A tiny asv database: matmul in both modes with compile times, and both ceilings."""
    import json

    root = tmp_path / "results"
    (root / "box").mkdir(parents=True)
    (root / "box" / "machine.json").write_text(json.dumps({"machine": "box", "version": 1}))
    modes = "bench_modes.MatmulModes"
    benches = {
        f"{modes}.time_matmul": ("time", "seconds", [[1e-3, 5e-4], [2e-3, 1e-3]]),
        f"{modes}.track_matmul_compile": ("track", "seconds", [[0.01, 2.0], [0.01, 0.5]]),
        "bench_array.MachinePeak.track_peak_gflops": ("track", "GFLOP/s", None),
        "bench_modes.MachineBandwidth.track_peak_gbps": ("track", "GB/s", None),
        "bench_array.Matmul.time_matmul": ("time", "seconds", None),
    }
    mode_params = [
        ["'numpy:cpu'", "'torch:cpu'"],
        ["512"],
        ["'float32'"],
        ["'eager'", "'compiled'"],
    ]
    plain = [["'jax:cpu'"], ["512"], ["'float32'"]]
    meta, results = {"version": 2}, {}
    for name, (kind, unit, values) in benches.items():
        params = mode_params if "Modes" in name else plain
        names = ["backend", "size", "dtype"] + (["mode"] if "Modes" in name else [])
        if values is not None:
            flat = [v for pair in values for v in pair]  # backend-major, mode-minor
        elif "gflops" in name:
            flat = [100.0]
        elif "gbps" in name:
            flat = [10.0]
        else:
            flat = [5e-4]
        meta[name] = {
            "name": name,
            "type": kind,
            "unit": unit,
            "param_names": names,
            "params": params,
            "version": "1",
        }
        results[name] = [flat, params, "1", 1_700_000_000_000]
    (root / "benchmarks.json").write_text(json.dumps(meta))
    data = {
        "commit_hash": "a" * 40,
        "env_name": "e",
        "date": 1_700_000_000_000,
        "params": {"machine": "box"},
        "python": "3.11",
        "requirements": {},
        "result_columns": ["result", "params", "version", "started_at"],
        "results": results,
        "durations": {},
        "version": 2,
    }
    (root / "box" / "aaaaaaaa-e.json").write_text(json.dumps(data))
    return root


def test_results_carry_the_mode_and_the_tables_use_it(tmp_path):
    db = load_results(_modes_db(tmp_path))
    table = db.table
    times = table[table["kind"] == "time"]
    got = {(b, m) for b, m in zip(times["backend"], times["mode"], strict=True)}
    # the mode param where there is one; the native mode (jax: compiled) where there is not
    assert got == {
        ("numpy", "eager"),
        ("numpy", "compiled"),
        ("torch", "eager"),
        ("torch", "compiled"),
        ("jax", "compiled"),
    }
    assert set(mode_label(times)) >= {"torch:cpu · compiled", "jax:cpu · compiled"}
    assert machine_bandwidths(table) == {"box": 10.0}

    pays = compile_table(table).set_index("label")
    torch = pays.loc["torch:cpu"]
    assert (torch["eager_s"], torch["compiled_s"]) == (2e-3, 1e-3)
    assert torch["pays_off_after"] == math.ceil((0.5 - 0.01) / 1e-3)

    points = roofline_points(table, roofline_model, peaks={"box": 100.0}, bandwidths={"box": 10.0})
    point = points.set_index("label").loc["torch:cpu · compiled"]
    intensity = 2 * 512**3 / (3 * 512 * 512 * 4)  # 85 FLOP/byte: compute-bound at 10 GB/s
    assert point["intensity"] == pytest.approx(intensity)
    assert point["gflops"] == pytest.approx(2 * 512**3 / 1e-3 / 1e9)
    assert point["roof"] == pytest.approx(min(100.0, 10.0 * intensity))
    assert point["bound"] == "compute"
    assert point["pct_of_roofline"] == pytest.approx(100 * point["gflops"] / 100.0)


def test_roofline_chart_draws_points_roofs_and_modes(tmp_path):
    pytest.importorskip("altair")
    from tensorbench.charts import roofline_chart, save_chart

    db = load_results(_modes_db(tmp_path))
    chart = roofline_chart(db.table, model=roofline_model)
    spec = chart.to_dict()
    text = str(spec)
    assert "memory 10 GB/s" in text and "compute 100 GFLOP/s" in text
    assert "'field': 'mode'" in text and "diamond" in text
    out = tmp_path / "roofline.svg"
    save_chart(chart, out)
    assert out.read_text().startswith("<svg") and "GFLOP/s" in out.read_text()


def test_roofline_without_ceilings_says_so(tmp_path):
    pytest.importorskip("altair")
    from tensorbench.charts import roofline_chart

    table = load_results(_modes_db(tmp_path)).table
    table = table[~table["benchmark"].str.contains("peak")]
    assert "no measured peak GFLOP/s or GB/s" in str(
        roofline_chart(table, model=roofline_model).to_dict()
    )
    assert pd.isna(roofline_points(table, roofline_model)["pct_of_roofline"]).all()


@pytest.mark.mxnet
@pytest.mark.parametrize("workload", ["matmul", "conv2d", "dispatch", "mlp_step", "stream_triad"])
def test_mxnet_hybridized_cases_validate(workload):
    pytest.importorskip("mxnet")
    size = get_workload(workload).check_size
    prepared = prepare(Case(workload, "mxnet", "cpu", "float32", size, mode="compiled"))
    assert prepared.mode == "compiled"
    assert prepared.rel_error <= 1e-4
    assert Case("gcn_step", "mxnet", mode="compiled").skip_reason().startswith("no hybridized")


@pytest.mark.slow
@pytest.mark.parametrize("workload", ["matmul", "mlp_step", "gcn_step"])
def test_torch_compiled_cases_validate(workload):
    pytest.importorskip("torch")
    size = get_workload(workload).check_size
    prepared = prepare(Case(workload, "torch", "cpu", "float32", size, mode="compiled"))
    assert prepared.mode == "compiled"
    assert prepared.rel_error <= 1e-4
