"""Scale-out: the ring all-reduce model and projection, the plan checks, torchrun launches
(1 and 2 workers, two "nodes" on 127.0.0.1, a worker that dies), the asv lookup, the report
section and the dashboard page.

The launches run real torchrun with gloo on this machine's loopback: they are what users run.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tensorbench.analysis import scaling
from tensorbench.analysis.asvfile import write_result_file
from tensorbench.analysis.results import load_results
from tensorbench.asv.scaleout import PARAMS, measured_points, scaleout_value
from tensorbench.cli import main
from tensorbench.conventions import (
    ALLREDUCE_BENCHMARK,
    DDP_BENCHMARK,
    DDP_COMPUTE_BENCHMARK,
    DDP_LOCKSTEP_BENCHMARK,
    SCALE_ENV,
    SCALE_MODELS,
    param_key_of,
)
from tensorbench.distributed.launch import ScalePlan, WorkerDied, check_plan, run_world
from tensorbench.errors import InputError

REPO = Path(__file__).resolve().parents[1]
QUICK = {"samples": 2, "sample_time": 0.02, "allreduce_bytes": (4096, 1 << 16, 1 << 20)}


# -- the model -----------------------------------------------------------------------------------


def test_alpha_beta_fit_recovers_a_known_link_and_states_its_error() -> None:
    alpha, beta = 40e-6, 1 / 2e9  # 40 us per message step, 2 GB/s
    sizes = [4096 * 2**i for i in range(17)]
    rng = np.random.default_rng(3)
    exact = [scaling.ring_seconds(alpha, beta, s, 2) for s in sizes]
    noisy = [t * math.exp(rng.normal(0, 0.02)) for t in exact]
    fit = scaling.fit_alpha_beta(sizes, noisy, 2)
    assert fit.alpha == pytest.approx(alpha, rel=0.05)
    assert fit.beta == pytest.approx(beta, rel=0.05)
    assert 0.005 < fit.rms_rel_error < 0.04 and fit.max_rel_error < 0.08
    clean = scaling.fit_alpha_beta(sizes, exact, 2)
    assert clean.max_rel_error < 1e-9
    # the same link predicts what 8 workers' ring costs: 14 steps, 7/4 of the bytes
    assert clean.seconds(1 << 20, 8) == pytest.approx(14 * alpha + 2 * 7 / 8 * (1 << 20) * beta)
    assert clean.seconds(1 << 20, 1) == 0.0
    with pytest.raises(ValueError, match="2 workers"):
        scaling.fit_alpha_beta(sizes, exact, 1)
    with pytest.raises(ValueError, match="2 or more sizes"):
        scaling.fit_alpha_beta(sizes[:1], exact[:1], 2)


def test_bus_bandwidth_and_buckets_follow_nccl_tests_and_ddp() -> None:
    assert scaling.bus_bandwidth(1e9, 1.0, 2) == pytest.approx(1e9)  # 2 (p-1)/p = 1
    assert scaling.bus_bandwidth(1e9, 1.0, 8) == pytest.approx(1.75e9)
    assert scaling.buckets(1000) == [1000.0]
    mib = 1 << 20
    assert scaling.buckets(mib + 30 * mib) == [float(mib), float(25 * mib), float(5 * mib)]


def _ddp_frame(t1: dict[tuple[str, str], float], t2: dict[tuple[str, str], float]) -> pd.DataFrame:
    rows = []
    for (model, sc), t in t1.items():
        rows.append(("m", "torch:cpu", model, sc, 1, 1, t))
    for (model, sc), t in t2.items():
        rows.append(("m", "torch:cpu", model, sc, 2, 1, t))
    cols = ["machine", "backend", "model", "scaling", "workers", "threads", "step_s"]
    return pd.DataFrame(rows, columns=cols)


def test_efficiency_prediction_and_projection_from_measured_steps() -> None:
    fit = scaling.AlphaBeta(
        alpha=50e-6, beta=1e-9, world=2, points=17, rms_rel_error=0, max_rel_error=0
    )
    t1 = {("mlp", "weak"): 0.010, ("mlp", "strong"): 0.019}
    comm = sum(fit.seconds(b, 2) for b in scaling.buckets(scaling.grad_bytes("mlp")))
    t2 = {("mlp", "weak"): 0.010 + comm, ("mlp", "strong"): 0.010 + comm}
    ddp = _ddp_frame(t1, t2)
    measured = scaling.measured_scaling(ddp).set_index(["scaling", "workers"])
    assert measured.loc[("weak", 1), "efficiency"] == 1.0
    assert measured.loc[("weak", 2), "efficiency"] == pytest.approx(0.010 / (0.010 + comm))
    assert measured.loc[("strong", 2), "efficiency"] == pytest.approx(0.019 / (2 * (0.010 + comm)))
    # weak: global batch 2 x 256 over the step; strong: 512 over it
    assert measured.loc[("weak", 2), "throughput"] == pytest.approx(512 / (0.010 + comm))
    check = scaling.prediction_check(ddp, fit, "m", "torch:cpu")
    assert len(check) == 2  # strong at 2 workers runs the weak batch: compute measured
    assert np.allclose(check["error"], 0.0)
    proj = scaling.projection(ddp, fit, "m", "torch:cpu", (1, 8, 256)).set_index(
        ["scaling", "workers"]
    )
    assert proj.loc[("weak", 1), "efficiency"] == pytest.approx(1.0)
    weak256 = 0.010 + sum(fit.seconds(b, 256) for b in scaling.buckets(scaling.grad_bytes("mlp")))
    assert proj.loc[("weak", 256), "step_s"] == pytest.approx(weak256)
    assert proj.loc[("weak", 8), "efficiency"] > proj.loc[("weak", 256), "efficiency"]
    assert (proj["kind"] == "projected").all()


def test_the_prediction_adds_ddps_own_work_measured_at_one_worker() -> None:
    # DDP's hooks and bucket copies cost each worker alike: one worker's DDP step less its
    # no_sync step (in lockstep where recorded, else free-running), from the row whose batch per
    # worker matches (strong scaling at 2 workers runs the weak batch)
    fit = scaling.AlphaBeta(
        alpha=50e-6, beta=1e-9, world=2, points=17, rms_rel_error=0, max_rel_error=0
    )
    nan = float("nan")
    cols = ["machine", "backend", "model", "scaling", "workers", "threads", "step_s"]
    rows = [
        ("m", "torch:cpu", "mlp", "weak", 1, 1, 0.0105, 0.0098, 0.0100),
        ("m", "torch:cpu", "mlp", "strong", 1, 1, 0.0300, 0.0190, 0.0190),
        ("m", "torch:cpu", "mlp", "strong", 2, 1, 0.0140, 0.0105, 0.0110),
        ("m", "torch:cpu", "convnet", "weak", 1, 1, 0.0120, 0.0116, nan),
        ("m", "torch:cpu", "convnet", "weak", 2, 1, 0.0140, 0.0118, nan),
    ]
    ddp = pd.DataFrame(rows, columns=[*cols, "compute_s", "lockstep_s"])
    check = scaling.prediction_check(ddp, fit, "m", "torch:cpu").set_index(["model", "scaling"])
    mlp = check.loc[("mlp", "strong")]
    assert mlp["ddp_overhead_s"] == pytest.approx(0.0005)  # the weak row: 0.0105 - 0.0100
    comm = fit.seconds(scaling.grad_bytes("mlp"), 2)
    assert mlp["predicted_s"] == pytest.approx(0.0110 + 0.0005 + comm)
    assert mlp["error"] == pytest.approx((0.0115 + comm) / 0.0140 - 1)
    conv = check.loc[("convnet", "weak")]
    assert conv["ddp_overhead_s"] == pytest.approx(0.0004)  # no lockstep: 0.0120 - 0.0116
    # without a one-worker row there is nothing to add, and the check still runs
    alone = scaling.prediction_check(ddp[ddp["workers"] == 2], fit, "m", "torch:cpu")
    assert (alone["ddp_overhead_s"] == 0.0).all() and len(alone) == 2


# -- plans ------------------------------------------------------------------------------------------


def test_workers_times_threads_beyond_the_cores_is_a_clear_error() -> None:
    with pytest.raises(
        InputError, match=r"--workers 4 x --threads 1 = 4 threads .* 2 usable cores"
    ):
        check_plan(ScalePlan(workers=(1, 4)), cores=2)
    with pytest.raises(InputError, match="--threads 2 = 4"):
        check_plan(ScalePlan(workers=(2,), threads=2), cores=2)
    with pytest.raises(InputError, match="does not split evenly over --nodes 2"):
        check_plan(ScalePlan(workers=(3,), nodes=2, scalings=("weak",)), cores=8)
    with pytest.raises(InputError, match="strong scaling's global batch"):
        check_plan(ScalePlan(workers=(3,)), cores=8)
    check_plan(ScalePlan(workers=(1, 2)), cores=2)  # what this 2-core machine runs
    # on several machines only one node's share must fit this one
    check_plan(ScalePlan(workers=(4,), nodes=2, rdzv_endpoint="h:1"), cores=2)
    assert main(["scale", "--workers", "1,x"]) == 2


def test_the_models_facts_match_the_models_built() -> None:
    import torch

    from tensorbench.distributed import ddp

    for name, facts in SCALE_MODELS.items():
        model = ddp.build_model(name, torch.float32)
        assert sum(p.numel() for p in model.parameters()) == facts["parameters"], name
        assert ddp.grad_bytes(model) == scaling.grad_bytes(name)


def test_gradient_check_rejects_a_wrong_gradient() -> None:
    from tensorbench.distributed import ddp

    x, y = ddp.global_batch("mlp", 8)
    ref = ddp.reference_gradients("mlp", x, y)
    assert ddp.check_gradients([g.astype(np.float32) for g in ref], ref, "float32") < 1e-6
    bad = [g.copy() for g in ref]
    bad[0] *= 1.001
    with pytest.raises(ValueError, match="differ from the single-process float64 gradients"):
        ddp.check_gradients(bad, ref, "float32")


# -- torchrun launches ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_and_two() -> list[dict]:
    plan = ScalePlan(workers=(1, 2), **QUICK)
    check_plan(plan)
    return [run_world(plan, w, say=str) for w in (1, 2)]


@pytest.mark.slow
def test_one_and_two_workers_are_measured_and_their_gradients_checked(one_and_two) -> None:
    one, two = one_and_two
    assert (one["world"], two["world"]) == (1, 2)
    for w in (one, two):
        got = {(d["model"], d["scaling"]) for d in w["ddp"]}
        assert got == {(m, s) for m in ("mlp", "convnet") for s in ("weak", "strong")}
        for d in w["ddp"]:
            assert d["grad_rel_error"] < 1e-4
            assert d["step_s"] > 0 and len(d["samples_s"]) == 2
            # the framework's own timer, same steps, same minute: not wildly apart
            assert 0.3 < d["native_step_s"] / d["step_s"] < 3
            assert 0 < d["compute_step_s"]  # the step under no_sync: no all-reduce
            # in lockstep, with a barrier's own time taken off: still a compute time
            assert 0 < d["barrier_s"] < d["lockstep_compute_step_s"] < d["step_s"] * 3
        assert w["interconnect"]["backend"] == "gloo"
        assert w["interconnect"]["link"] == "loopback (one host)"
    strong2 = next(d for d in two["ddp"] if d["model"] == "mlp" and d["scaling"] == "strong")
    assert (strong2["batch_per_worker"], strong2["global_batch"]) == (256, 512)
    assert one["allreduce"] == []  # one worker has nothing to reduce
    sizes = [a["bytes"] for a in two["allreduce"]]
    assert sizes == list(QUICK["allreduce_bytes"])
    assert all(a["busbw"] == pytest.approx(a["algbw"]) for a in two["allreduce"])  # p = 2


@pytest.mark.slow
def test_two_nodes_rendezvous_on_localhost() -> None:
    plan = ScalePlan(workers=(2,), nodes=2, models=("mlp",), scalings=("weak",), **QUICK)
    check_plan(plan)
    out = run_world(plan, 2, say=str)
    assert out["world"] == 2 and out["nodes"] == 2
    assert out["ddp"][0]["grad_rel_error"] < 1e-4
    assert len(out["allreduce"]) == 3


@pytest.mark.slow
def test_a_worker_that_dies_names_its_rank_and_writes_nothing(
    tmp_path, monkeypatch, capsys
) -> None:
    plan = ScalePlan(
        workers=(2,), models=("mlp",), extra_env={"TENSORBENCH_SCALE_DIE": "1"}, **QUICK
    )
    with pytest.raises(WorkerDied, match=r"worker rank 1 \(exit code 7\) died") as err:
        run_world(plan, 2, say=str)
    assert "no results were written" in str(err.value)
    # through the command: exit 3, one line naming the rank, no --json file
    monkeypatch.setenv("TENSORBENCH_SCALE_DIE", "1")
    out = tmp_path / "scale.json"
    code = main(["scale", "--workers", "2", "--quick", "--json", str(out)])
    assert code == 3
    assert "rank 1" in capsys.readouterr().err
    assert not out.exists()
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("tensorbench-scale-*"))


@pytest.mark.slow
def test_workers_get_every_core_even_when_the_command_pins_itself(tmp_path) -> None:
    # `tensorbench --threads 1` pins the command's own process to one core; children inherit
    # the mask, and two workers would then share that core
    from tensorbench.threads import start_cpus

    out = tmp_path / "scale.json"
    code = main(["--threads", "1", "scale", "--workers", "2", "--quick", "--json", str(out)])
    assert code == 0
    (world,) = json.loads(out.read_text())
    assert world["interconnect"]["cpus_per_rank"] == [len(start_cpus())] * 2


@pytest.mark.gpu
def test_the_same_command_runs_with_nccl_on_a_gpu(tmp_path) -> None:
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device (NCCL): torch sees none here")
    out = tmp_path / "gpu.json"
    n = min(torch.cuda.device_count(), 2)
    assert (
        main(["scale", "--device", "cuda", "--workers", str(n), "--quick", "--json", str(out)]) == 0
    )
    (world,) = json.loads(out.read_text())
    assert world["interconnect"]["backend"] == "nccl"


# -- asv: the lookup, the database, the report, the dashboard -------------------------------------


def test_benchmarks_keep_the_packages_parameters() -> None:
    import sys

    sys.path.insert(0, str(REPO))
    try:
        from benchmarks import bench_scaleout
    finally:
        sys.path.remove(str(REPO))
    names, params = PARAMS[DDP_BENCHMARK]
    assert (bench_scaleout.DdpStep.param_names, bench_scaleout.DdpStep.params) == (names, params)
    compute = bench_scaleout.DdpCompute
    assert (compute.param_names, compute.params) == PARAMS[DDP_COMPUTE_BENCHMARK]
    locked = bench_scaleout.DdpLockstepCompute
    assert (locked.param_names, locked.params) == PARAMS[DDP_LOCKSTEP_BENCHMARK]
    names, params = PARAMS[ALLREDUCE_BENCHMARK]
    assert (bench_scaleout.Allreduce.param_names, bench_scaleout.Allreduce.params) == (
        names,
        params,
    )


def _worlds() -> list[dict]:
    """Launch results as rank 0 writes them, with made-up times: a 2-worker step 15 % slower
    than one worker's, of which the compute (no_sync) is 5 % slower, and 10 % in lockstep (the
    MLP only: the conv net's records are as older runs wrote them)."""
    out = []
    for world in (1, 2):
        ddp = []
        for m in ("mlp", "convnet"):
            for s in ("weak", "strong"):
                base = 0.02 if s == "strong" and world == 1 else 0.01
                ddp.append(
                    {
                        "model": m,
                        "scaling": s,
                        "step_s": base * (1.15 if world == 2 else 1),
                        "compute_step_s": base * (1.05 if world == 2 else 1),
                    }
                )
                if m == "mlp":
                    ddp[-1]["lockstep_compute_step_s"] = base * (1.10 if world == 2 else 1)
        sizes = [4096 * 2**i for i in range(17)] if world == 2 else []
        allreduce = [{"bytes": b, "seconds": 2 * 40e-6 + b / 2e9} for b in sizes]
        out.append(
            {"world": world, "device": "cpu", "threads": 1, "ddp": ddp, "allreduce": allreduce}
        )
    return out


def test_the_lookup_returns_measured_points_and_says_why_not(tmp_path, monkeypatch) -> None:
    names = PARAMS[DDP_BENCHMARK][0]
    monkeypatch.delenv(SCALE_ENV, raising=False)
    with pytest.raises(LookupError, match="tensorbench scale --record"):
        scaleout_value("ddp_step", ["torch:cpu", "mlp", "weak", 1, 1], names)
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"points": measured_points(_worlds())}))
    monkeypatch.setenv(SCALE_ENV, str(path))
    assert scaleout_value("ddp_step", ["torch:cpu", "mlp", "weak", 2, 1], names) == pytest.approx(
        0.0115
    )
    with pytest.raises(LookupError, match="not measured"):
        scaleout_value("ddp_step", ["torch:cpu", "mlp", "weak", 8, 1], names)
    ar = PARAMS[ALLREDUCE_BENCHMARK][0]
    assert scaleout_value("allreduce", ["torch:cpu", 4096, 2], ar) == pytest.approx(
        80e-6 + 4096 / 2e9
    )


def test_a_later_timed_run_keeps_the_scale_out_facts_and_reasons() -> None:
    # annotate rebuilds a result file's facts entry from the timed run's probe, which knows
    # nothing of scale-out: the interconnect facts and skip reasons must survive it
    from tensorbench.asv.run import keep_facts_of_other_runs

    previous = {
        "scaleout": {"2": {"interconnect": {"backend": "gloo"}}},
        "skip_reasons": {DDP_BENCHMARK: {"k": "4 workers need more cores"}, "other": {"k": "x"}},
    }
    data = {"results": {DDP_BENCHMARK: [[None]], "other": [[1.0]]}, "tensorbench": {}}
    keep_facts_of_other_runs(data, previous)
    assert data["tensorbench"]["scaleout"] == previous["scaleout"]
    assert data["tensorbench"]["skip_reasons"] == {
        DDP_BENCHMARK: {"k": "4 workers need more cores"}
    }


def write_scale_db(root: Path) -> Path:
    """An asv database holding the scale-out benchmarks of `_worlds` (as asv would store them)."""
    points = measured_points(_worlds())
    benchmarks = {"version": 2}
    (root / "m").mkdir(parents=True)
    rows = {}
    for bench, (names, params) in PARAMS.items():
        benchmarks[bench] = {
            "name": bench,
            "type": "track",
            "unit": "seconds",
            "param_names": names,
            "params": [[repr(v) for v in p] for p in params],
            "version": "1",
        }
        values = [points[bench].get(param_key_of(names, c)) for c in itertools.product(*params)]
        rows[bench] = {
            "result": values,
            "params": benchmarks[bench]["params"],
            "version": "1",
            "started_at": 1_764_979_200_000,
            "duration": 1.0,
        }
    (root / "benchmarks.json").write_text(json.dumps(benchmarks))
    (root / "m" / "machine.json").write_text(json.dumps({"machine": "m", "version": 1}))
    header = {
        "commit_hash": "a" * 40,
        "env_name": "existing-main",
        "date": 1_764_979_200_000,
        "params": {"machine": "m"},
        "python": "3.11",
        "requirements": {},
        "env_vars": {},
        "durations": {},
    }
    write_result_file(root / "m" / "aaaaaaaa-existing-main.json", header, rows)
    return root


def test_figures_from_the_database_and_the_report_section(tmp_path) -> None:
    from tensorbench.report.scaleout import scaleout_section

    table = load_results(write_scale_db(tmp_path / "results"), cache=False).table
    ddp = scaling.ddp_rows(table)
    assert len(ddp) == 8 and set(ddp["workers"]) == {1, 2}
    ar = scaling.allreduce_rows(table)
    assert len(ar) == 17
    ((key, fit),) = scaling.fits(ar).items()
    assert key == ("m", "torch:cpu", 2)
    assert fit.alpha == pytest.approx(40e-6, rel=1e-6) and fit.beta == pytest.approx(
        0.5e-9, rel=1e-6
    )
    measured = scaling.measured_scaling(ddp).set_index(["model", "scaling", "workers"])
    assert measured.loc[("mlp", "weak", 2), "efficiency"] == pytest.approx(1 / 1.15)
    # the prediction's compute part is the no_sync step at the same world size, in lockstep
    # where that was measured, else free-running
    check = scaling.prediction_check(ddp, fit, "m", "torch:cpu").set_index(["model", "scaling"])
    mlp = check.loc[("mlp", "weak")]
    assert mlp["compute_from"] == "no_sync in lockstep, same workers"
    comm = fit.seconds(scaling.grad_bytes("mlp"), 2)
    assert mlp["predicted_s"] == pytest.approx(0.011 + comm)
    conv = check.loc[("convnet", "weak")]
    assert conv["compute_from"] == "no_sync, same workers"
    comm = fit.seconds(scaling.grad_bytes("convnet"), 2)
    assert conv["predicted_s"] == pytest.approx(0.0105 + comm)
    section = scaleout_section(table)
    assert section is not None and section.title == "Scaling out"
    figures = [b for b in section.blocks if type(b).__name__ == "Figure"]
    assert {f.slug for f in figures} == {"allreduce-m-torch-cpu", "scaling-out"}
    spec = json.dumps(figures[-1].chart.to_dict())
    assert "projection" in spec.lower() and "strokeDash" in spec
    # a database without scale-out results has no such section
    assert scaleout_section(table.iloc[0:0]) is None


def test_dashboard_page(tmp_path, monkeypatch, synthetic_results) -> None:
    from streamlit.testing.v1 import AppTest

    app = str(REPO / "dashboard" / "streamlit_app.py")
    for results, has in (
        (write_scale_db(tmp_path / "r"), True),
        (synthetic_results(commits=3), False),
    ):
        monkeypatch.setenv("TENSORBENCH_RESULTS", str(results))
        at = AppTest.from_file(app, default_timeout=120)
        at.run()
        at.switch_page("app_pages/scaleout.py")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.title[0].value == "Scaling out"
        if has:
            assert any("projection" in c.value for c in at.caption)
            assert len(at.get("vega_lite_chart")) == 2
        else:
            assert "tensorbench scale" in at.info[0].value
