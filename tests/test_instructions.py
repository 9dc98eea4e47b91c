"""Instruction counts under valgrind (`tensorbench run --measure instructions`)."""

from __future__ import annotations

import importlib
import itertools
import json
import re
import sys
from pathlib import Path

import pytest

from tensorbench.asv import instructioncounts, instructions
from tensorbench.asv.grid import TIMED_BY
from tensorbench.asv.run import (
    add_instruction_facts,
    instruction_points,
    instructions_bench_regex,
    keep_facts_of_other_runs,
    suite_bench_regex,
)
from tensorbench.asv.suites import load_suite
from tensorbench.asv_support import grid_params

REPO = Path(__file__).resolve().parents[1]
needs_valgrind = pytest.mark.skipif(
    instructions.valgrind_reason() is not None,
    reason=f"instruction counting unavailable: {instructions.valgrind_reason()}",
)
POINT = {"bench": "matmul", "params": ["numpy:cpu", 64, "float64"]}


def _env(**extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("TENSORBENCH_")}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


@pytest.mark.slow
@needs_valgrind
def test_counts_repeat_within_half_a_percent_and_see_a_2_percent_injection() -> None:
    python = Path(sys.executable)
    runs = [instructions.count_points(python, [POINT], env=_env(), cwd=REPO)[0] for _ in range(2)]
    injected = instructions.count_points(
        python, [POINT], env=_env(TENSORBENCH_INJECT_WORK="0.02"), cwd=REPO
    )[0]
    a, b = (r["instructions"] for r in runs)
    # 64x64 float64 NumPy matmul: about 190k instructions per call at one thread (AVX2 path)
    assert 50_000 < a < 2_000_000, runs
    assert abs(a - b) / a <= 0.005, runs
    # the injected spin is 2 % of the counted warm-up calls, which cost what the measured ones do
    assert injected["injected_turns"] > 0, injected
    own = injected["instructions"] / injected["plain_instructions"] - 1
    assert own == pytest.approx(0.02, abs=0.0005), injected
    base = (a + b) / 2
    # the plain figure of an injected run (its region less the loop's counted cost) is what a
    # plain run reads: the injection adds no call and moves no region
    assert abs(injected["plain_instructions"] / base - 1) <= 0.005, (injected, runs)
    assert injected["instructions"] / base - 1 == pytest.approx(0.02, abs=0.005), injected


FAKE_SUPPORT = """
import os, sys

def skip(reason):
    raise NotImplementedError(reason)

def grid_params(bench):
    return [["fine:cpu", "crashy:cpu", "later:cpu"], [1, 2], ["float32"]], ["backend", "size", "dtype"]

class Case:
    def run(self):
        return sum(range(200))

def setup_case(bench, backend, size, dtype):
    if backend == "crashy:cpu" or (backend == "later:cpu" and size == 2):
        # what a framework's JIT emitting an instruction valgrind cannot run looks like
        sys.stderr.write("vex amd64->IR: unhandled instruction bytes: 0x62 0xF1 0x7C\\n")
        sys.stderr.flush()
        os.abort()
    if backend == "later:cpu" and size == 1:
        skip("later is not installed")
    return Case()
"""


@pytest.fixture
def fake_package(tmp_path: Path) -> Path:
    """A package under test whose ``crashy`` backend kills the process, as a JIT that valgrind
    cannot translate does."""
    pkg = tmp_path / "fake" / "tensorbench"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "asv_support.py").write_text(FAKE_SUPPORT)
    return pkg.parent


@pytest.mark.slow
@needs_valgrind
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_backend_failing_under_valgrind_skips_with_its_first_error_line(
    fake_package: Path, jobs: int
) -> None:
    """Also with backends counted side by side: the same records, in the points' order."""
    points = [
        {"bench": "matmul", "params": [backend, size, "float32"]}
        for backend in ("fine:cpu", "crashy:cpu", "later:cpu")
        for size in (1, 2)
    ]
    records = instructions.count_points(
        Path(sys.executable),
        points,
        env=_env(PYTHONPATH=str(fake_package)),
        cwd=fake_package,
        jobs=jobs,
    )
    by = {(r["params"][0], r["params"][1]): r for r in records}
    assert [r["params"] for r in records] == [p["params"] for p in points]
    assert by[("fine:cpu", 1)]["instructions"] > 0 and by[("fine:cpu", 2)]["instructions"] > 0
    crash = "under valgrind: vex amd64->IR: unhandled instruction bytes: 0x62 0xF1 0x7C"
    # the backend never finished a point: all of its points skip with the reason
    assert by[("crashy:cpu", 1)]["skip"] == crash and by[("crashy:cpu", 2)]["skip"] == crash
    # a point the framework skips keeps that reason; a later crash costs only its own point
    assert by[("later:cpu", 1)]["skip"] == "later is not installed"
    assert by[("later:cpu", 2)]["skip"] == crash
    assert "instructions" not in by[("later:cpu", 2)]


def test_failure_reason_prefers_the_python_error_then_valgrind_then_the_signal() -> None:
    err = "==12== Process terminating with default action of signal 4 (SIGILL)\n"
    tb = "Traceback (most recent call last):\n  File x\nRuntimeError: XLA init failed\n"
    assert instructions._failure_reason(tb + err, 1) == "RuntimeError: XLA init failed"
    assert instructions._failure_reason(err, -4) == (
        "Process terminating with default action of signal 4 (SIGILL)"
    )
    assert instructions._failure_reason("", -9) == "killed by signal SIGKILL"
    assert instructions._failure_reason("", 3) == "exit code 3"


def test_calls_fill_the_target_whatever_the_estimate_of_a_cheap_call() -> None:
    # calls of at most FULL_CALLS_MAX instructions: always MAX_CALLS, whatever the estimate
    assert instructions.calls_for(650_000) == instructions.MAX_CALLS
    assert instructions.calls_for(instructions.FULL_CALLS_MAX) == instructions.MAX_CALLS
    assert instructions.calls_for(4_000_000) == 5
    assert instructions.calls_for(100) == instructions.MAX_CALLS
    assert instructions.calls_for(70_000_000) == 1


def _bench_module():
    sys.path.insert(0, str(REPO))
    try:
        return importlib.import_module("benchmarks.bench_instructions")
    finally:
        sys.path.remove(str(REPO))


def test_warm_up_is_set_by_the_estimate_not_the_clock() -> None:
    """Every run warms a point up with the same number of calls: 200 for cheap calls, fewer for
    dear ones (400 M instructions in all), at least one."""
    assert instructions.warmup_calls(1_400_000) == 200
    assert instructions.warmup_calls(7_000_000) == 57
    assert instructions.warmup_calls(5e9) == 1
    assert instructions.warmup_calls(0) == 200


def test_track_benchmark_skips_with_a_reason_without_a_count(tmp_path, monkeypatch) -> None:
    mod = _bench_module()
    bench = mod.InstructionsMatmul()
    assert bench.unit == "instructions"
    assert (bench.params, bench.param_names) == tuple(grid_params("matmul"))
    monkeypatch.delenv(instructions.COUNTS_ENV, raising=False)
    with pytest.raises(NotImplementedError, match=r"TENSORBENCH_INSTRUCTIONS unset"):
        bench.track_instructions_matmul("numpy:cpu", 128, "float32")

    counted = {"bench": "matmul", "params": ["numpy:cpu", 128, "float32"], "instructions": 651e3}
    skipped = {"bench": "matmul", "params": ["jax:cpu", 128, "float32"], "skip": "why not"}
    for r in (counted, skipped):
        r["param_key"] = instructions.param_key(["backend", "size", "dtype"], r["params"])
    path = tmp_path / "counts.json"
    instructioncounts.write_counts(path, [counted, skipped], {})
    monkeypatch.setenv(instructions.COUNTS_ENV, str(path))
    assert bench.track_instructions_matmul("numpy:cpu", 128, "float32") == 651e3
    with pytest.raises(NotImplementedError, match="^why not$"):
        bench.track_instructions_matmul("jax:cpu", 128, "float32")
    with pytest.raises(NotImplementedError, match="not counted in this run"):
        bench.track_instructions_matmul("torch:cpu", 128, "float32")


def test_time_regex_leaves_instruction_benchmarks_out_and_vice_versa() -> None:
    suite = load_suite("quick")
    timed, counted = suite_bench_regex(suite), instructions_bench_regex(suite)
    for key in instructions.SUPPORTED:
        params, _ = grid_params(key)
        timed_by = next(cls for cls, timed in TIMED_BY.items() if timed == key)
        for combo in itertools.product(*params):
            args = f"({', '.join(map(repr, combo))})"
            t = f"bench_array.{timed_by}.time_{key}{args}"
            i = f"bench_instructions.Y.track_instructions_{key}{args}"
            assert bool(re.search(timed, t)) == suite.selects(key, *combo), t
            assert not re.search(timed, i), i
            assert bool(re.search(counted, i)) == suite.selects(key, *combo), i
            assert not re.search(counted, t), t


def test_points_are_the_suites_cpu_points_less_the_probes_skips() -> None:
    suite = load_suite("quick")
    probe = {"skip_reasons": {"matmul": {"backend='mxnet:cpu', size=128, dtype='float32'": "no"}}}
    todo, reasons = instruction_points(suite, probe)
    keys = {(p["bench"], *p["params"]) for p in todo}
    assert ("matmul", "numpy:cpu", 128, "float32") in keys
    assert ("matmul", "mxnet:cpu", 128, "float32") not in keys
    assert not any(p["params"][0].endswith(":cuda") for p in todo)
    assert reasons["matmul"]["backend='mxnet:cpu', size=128, dtype='float32'"] == "no"
    assert reasons["matmul"]["backend='torch:cuda', size=128, dtype='float32'"] == (
        "instructions are counted on the CPU only"
    )
    assert {p["bench"] for p in todo} <= set(suite.workloads)
    # backends whose counts do not repeat under valgrind skip with the reason, never silently
    pagerank = reasons["pagerank"]["backend='dgl-mxnet:cpu', size=10, dtype='float32'"]
    assert pagerank == instructions.UNSTABLE["dgl-mxnet:cpu"] and "vary" in pagerank
    assert not any(p["params"][0] in instructions.UNSTABLE for p in todo)
    # JAX (a JIT with its own threads) too, at every workload
    for workload, size in (("matmul", 128), ("gcn_step", 12)):
        why = reasons[workload][f"backend='jax:cpu', size={size}, dtype='float32'"]
        assert why == instructions.UNSTABLE["jax:cpu"]
    assert not any(p["params"][0] == "jax:cpu" for p in todo)


def test_result_file_keeps_instruction_reasons_across_runs() -> None:
    name = "bench_instructions.InstructionsMatmul.track_instructions_matmul"
    a, b = "backend='jax:cpu'", "backend='numpy:cpu'"
    data = {"results": {name: []}, "tensorbench": {"skip_reasons": {name: {a: "old", b: "old"}}}}
    counted = {"calls": {"matmul": {b: 30}}, "skip_reasons": {"matmul": {}}, "wall_s": 1.0}
    add_instruction_facts(data, counted)
    assert data["tensorbench"]["skip_reasons"][name] == {a: "old"}  # b counted now
    assert data["tensorbench"]["instructions"] == {"calls": {"matmul": {b: 30}}, "wall_s": 1.0}
    later = {"results": {name: []}, "tensorbench": {"skip_reasons": {}}}
    keep_facts_of_other_runs(later, data["tensorbench"])
    assert later["tensorbench"]["skip_reasons"][name] == {a: "old"}
    assert later["tensorbench"]["instructions"]["wall_s"] == 1.0


NAME = "bench_instructions.InstructionsMatmul.track_instructions_matmul"
PARAMS = [["'numpy:cpu'", "'jax:cpu'"], ["128"], ["'float32'"]]


def _write_db(root: Path, values: list[list[float]], reasons: dict[str, str]) -> Path:
    """An asv database of instruction counts: one result file per commit, dated in order."""
    from tensorbench.analysis.results import RESULT_COLUMNS

    bench = {"name": NAME, "type": "track", "unit": "instructions", "version": "1"}
    bench.update(param_names=grid_params("matmul")[1], params=PARAMS)
    (root / "benchmarks.json").write_text(json.dumps({NAME: bench, "version": 2}))
    machine = root / "m"
    machine.mkdir()
    (machine / "machine.json").write_text(json.dumps({"machine": "m", "version": 1}))
    for i, result in enumerate(values):
        date = 1_700_000_000_000 + i * 86_400_000
        commit = f"{i:02d}" * 20  # distinct 8-character prefixes (the file names)
        rec = {
            "version": 2,
            "commit_hash": commit,
            "env_name": "existing-main",
            "date": date,
            "params": {},
            "python": "3.11",
            "requirements": {},
            "result_columns": list(RESULT_COLUMNS[:5]),
            "results": {NAME: [result, PARAMS, "1", date, 1.0]},
            "tensorbench": {"skip_reasons": {NAME: reasons}},
        }
        (machine / f"{commit[:8]}-existing-main.json").write_text(json.dumps(rec))
    return root


def test_reader_treats_instruction_counts_as_a_series(tmp_path: Path) -> None:
    from tensorbench.analysis.results import load_results

    reason = {"backend='jax:cpu', size=128, dtype='float32'": "under valgrind: timed out"}
    t = load_results(_write_db(tmp_path, [[651722.0, float("nan")]], reason)).table
    t = t.set_index("param_key")
    ok = t.loc["backend='numpy:cpu', size=128, dtype='float32'"]
    assert (ok["kind"], ok["unit"], ok["status"], ok["value"]) == (
        "track",
        "instructions",
        "ok",
        651722.0,
    )
    skipped = t.loc["backend='jax:cpu', size=128, dtype='float32'"]
    assert (skipped["status"], skipped["reason"]) == ("skipped", "under valgrind: timed out")


def test_regressions_find_a_2_percent_step_in_instruction_counts(tmp_path: Path) -> None:
    from tensorbench.analysis.regressions import find_regressions
    from tensorbench.analysis.results import load_results

    # 0.1 % run-to-run wobble (what callgrind counts show here), +2 % from the 9th commit on
    wobble = [1.0, 1.001, 0.999, 1.0005, 0.9995, 1.0, 1.001, 0.999]
    values = [[651722.0 * w, 695356.0 * w] for w in wobble]
    values += [[651722.0 * 1.02 * w, 695356.0 * w] for w in wobble]
    table = load_results(_write_db(tmp_path, values, {})).table
    found = find_regressions(table, threshold=0.01, corroborate=False)
    assert list(found["param_key"]) == ["backend='numpy:cpu', size=128, dtype='float32'"]
    row = found.iloc[0]
    assert (row["kind"], row["direction"]) == ("regression", "worse")  # more instructions
    assert row["ratio"] == pytest.approx(1.02, abs=0.002)
    assert row["first_bad_commit"] == "08" * 20


def _figures_script():
    import importlib.util

    path = REPO / "scripts" / "instructions_figures.py"
    spec = importlib.util.spec_from_file_location("instructions_figures", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["instructions_figures"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_figures_judge_each_injected_run_against_the_other_runs_plain_counts() -> None:
    """A run's injected count is compared with the median plain count of the *other* runs, so
    the between-process spread is in the reading; a point missing from a run is a skip."""
    figures = _figures_script()
    plain = [1000.0, 1010.0, 990.0]
    injected = [p * 1.02 for p in plain]
    changes = figures.injected_changes(plain, injected)
    # run 0 against median(1010, 990) = 1000: exactly +2 %; run 1 against 995: +3.5 %
    assert changes[0] == pytest.approx(0.02)
    assert changes[1] == pytest.approx(1010 * 1.02 / 995 - 1)
    assert figures.injected_changes([500.0], [510.0]) == [pytest.approx(0.02)]

    point = {"bench": "matmul", "params": ["numpy:cpu", 64, "float64"], "calls": 50}
    runs = [
        [{**point, "plain_instructions": p, "instructions": i}]
        for p, i in zip(plain, injected, strict=True)
    ]
    got_plain, got_changes = figures.point_row(runs, point)
    assert got_plain == plain and got_changes == changes
    assert figures.point_row([*runs, [{**point, "skip": "no valgrind"}]], point) is None
    page = figures.render(
        {
            "suite": "quick",
            "valgrind": "valgrind-3.19.0",
            "inject": 0.02,
            "envs": {"main": {"points": 1, "runs": runs, "wall_s": [10.0, 11.0, 12.0]}},
        }
    )
    assert "| matmul numpy:cpu 64 float64 | 1,000 | 50 | 1.000 % |" in page
    # runs 1 and 2 read +3.5 % and +0.5 %, beyond 0.5 points of the share
    assert "injection found in every run: 0 of 1" in page and "| 1 of 3 |" in page


def test_the_figures_list_every_in_scope_skip_with_todays_reason() -> None:
    """The page's skip list: the probe's reasons for the counted workloads' sizes and dtypes on
    the CPU, an unsteady backend's reason as the code gives it today (the records may predate
    it), frameworks the environment does not install left to the other environment, and only
    the backends a run was limited to."""
    figures = _figures_script()
    counted = [{"bench": "pagerank", "params": ["numpy:cpu", 10, "float32"], "calls": 2}]
    reasons = {
        "pagerank": {
            "backend='jax:cpu', size=10, dtype='float32'": "an old reason",
            "backend='pyg:cpu', size=10, dtype='float32'": "pyg has no pagerank implementation",
            "backend='mxnet:cpu', size=10, dtype='float32'": "mxnet not installed (...)",
            "backend='torch:cuda', size=10, dtype='float32'": "no CUDA device",
            "backend='pyg:cpu', size=12, dtype='float32'": "pyg has no pagerank implementation",
        }
    }
    skips = figures.probe_skips(reasons, counted)
    assert skips == {
        "pagerank jax:cpu 10 float32": instructions.UNSTABLE["jax:cpu"],
        "pagerank pyg:cpu 10 float32": "pyg has no pagerank implementation",
    }
    assert figures.probe_skips(reasons, counted, ["pyg:cpu"]) == {
        "pagerank pyg:cpu 10 float32": "pyg has no pagerank implementation"
    }
