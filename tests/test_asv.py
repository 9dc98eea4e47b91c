"""asv integration: suites, the point-selection regex, result merging, the compare gate and
the committed results database."""

from __future__ import annotations

import itertools
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tensorbench.analysis.results import RESULT_COLUMNS
from tensorbench.asv import machine, resultfiles
from tensorbench.asv.grid import GRID, TIMED_BY, point
from tensorbench.asv.run import suite_bench_regex
from tensorbench.asv.suites import SuiteError, available_suites, load_suite
from tensorbench.conventions import param_key_of

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["quick", "full", "threads", "sweeps", "history", "gpu"])
def test_committed_suites_are_valid(name: str) -> None:
    suite = load_suite(name)
    assert suite.name == name and suite.count() > 0
    assert name in available_suites()


def test_full_suite_sweeps_the_issue_ranges() -> None:
    full = load_suite("full")
    assert sorted(full.workloads["matmul"].sizes) == [64, 128, 256, 512, 1024, 2048, 4096]
    assert sorted(full.workloads["conv2d"].sizes) == [16, 32, 64, 128]
    assert sorted(full.workloads["pagerank"].sizes) == [10, 12, 14, 16, 18, 20]


@pytest.mark.parametrize(
    "text, needle",
    [
        ("[workloads.nope]\nsizes = [1]\n", "workloads.nope: unknown workload (valid: matmul"),
        ("[workloads.matmul]\nsizes = [100]\n", "100 is not in the grid (valid: 64, 128"),
        ('[workloads.matmul]\nsizes = ["big"]\n', "wrong type"),
        ('[workloads.matmul]\nsizes = [64]\nbackends = ["tpu:0"]\n', "'tpu:0' is not in the grid"),
        (
            '[workloads.matmul]\nsizes = [64]\ncolour = "red"\n',
            "workloads.matmul.colour: unknown key",
        ),
        ("speed = 3\n[workloads.matmul]\nsizes = [64]\n", "unknown key 'speed'"),
        ("[workloads.matmul]\nsizes = 64\n", "must be a non-empty list"),
        ('[workloads.matmul]\ndtypes = ["float32"]\n', "sizes is required"),
        ('name = "x"\n[workloads.matmul\nsizes = [64]\n', "line 2"),
        ('name = "x"\n', "[workloads.NAME] tables are required"),
    ],
)
def test_bad_suite_files_name_file_key_and_choices(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SuiteError) as err:
        load_suite(path)
    assert str(path) in str(err.value) and needle in str(err.value)


def test_unknown_suite_names_the_valid_ones() -> None:
    with pytest.raises(SuiteError, match="valid: .*quick"):
        load_suite("nope")


def asv_benchmarks() -> list[tuple[str, str, list]]:
    """Every timed benchmark of benchmarks/ as asv names it (``module.Class.method``), with the
    grid entry its class times and its parameter lists."""
    import importlib
    import inspect

    found = []
    for path in sorted((REPO / "benchmarks").glob("bench_*.py")):
        module = importlib.import_module(f"benchmarks.{path.stem}")
        for cls_name, cls in vars(module).items():
            key = TIMED_BY.get(cls_name)
            if key is None or not inspect.isclass(cls):
                continue
            for method in dir(cls):
                if method.split("_")[0] in ("time", "track", "peakmem", "mem"):
                    found.append((f"{path.stem}.{cls_name}.{method}", key, cls.params))
    return found


def test_every_grid_entry_has_an_asv_benchmark() -> None:
    assert {key for _, key, _ in asv_benchmarks()} == set(GRID)


@pytest.mark.parametrize("suite_name", ["quick", "threads", "full", "compiled", "claims"])
def test_bench_regex_selects_exactly_the_suite_points(suite_name: str) -> None:
    """Against the real classes' names: the eager/compiled classes' methods are named after the
    workload (``MatmulModes.time_matmul``), and a regex built from the entry's key once
    selected none of them, so the compiled suite ran nothing of its own."""
    suite = load_suite(suite_name)
    regex = suite_bench_regex(suite)
    selected = 0
    for name, *_, wanted in asv_points(suite):
        assert bool(re.search(regex, name)) == wanted, name
        selected += wanted
    assert selected >= suite.count()


def asv_points(suite):
    """Every asv benchmark point as asv names it: (name, grid key, params, point, whether
    ``suite`` selects it)."""
    for bench, key, params in asv_benchmarks():
        for combo in itertools.product(*params):
            p = point(key, *combo)
            wanted = suite.selects(key, p.backend, p.size, p.dtype, p.threads)
            yield f"{bench}({', '.join(map(repr, combo))})", key, combo, p, wanted


def test_a_build_timed_in_an_earlier_environment_of_the_run_is_not_timed_again() -> None:
    """torch 2.13.0+cpu sits in both `main` and `mxnet`: one quick run times it once; NumPy
    (2.4 there, 1.23 here) and anything whose build facts differ are timed in both, and the
    points left out say why in the result file."""
    from tensorbench.asv.run import same_build_reasons, same_builds

    torch = {"available": True, "version": "2.13.0+cpu", "blas": "mkl", "threads": 2}
    main = {
        "backends": {
            "numpy": {"available": True, "version": "2.4.6"},
            "torch": torch,
            "jax": {"available": True, "version": "0.10.2"},
            "mxnet": {"available": False, "version": None},
        }
    }
    here = {
        "backends": {
            "numpy": {"available": True, "version": "1.23.5"},
            "torch": dict(torch),
            "mxnet": {"available": True, "version": "1.9.1"},
            "jax": {"available": False, "version": None},
        }
    }
    same = same_builds({"main": main}, here)
    assert list(same) == ["torch"] and "environment main" in same["torch"]
    assert same_builds({"main": main}, {"backends": {"torch": {**torch, "threads": 1}}}) == {}
    assert same_builds({}, here) == {}

    suite = load_suite("quick")
    regex = suite_bench_regex(suite, skip_frameworks=frozenset(same))
    reasons = same_build_reasons(suite, same)
    left_out = 0
    for name, key, combo, p, wanted in asv_points(suite):
        is_torch = p.backend.startswith("torch:")
        assert bool(re.search(regex, name)) == (wanted and not is_torch), name
        if wanted and is_torch:
            pk = param_key_of(GRID[key].param_names, combo)
            assert reasons[key][pk] == same["torch"], name
            left_out += 1
    assert left_out > 0
    assert reasons["matmul"]["backend='torch:cpu', size=128, dtype='float32'"] == same["torch"]
    assert not any(
        not k.startswith("backend='torch:") for r in reasons.values() for k in r
    )  # only torch's points


def result_file(values: list, params: list | None = None) -> dict:
    cols = list(RESULT_COLUMNS)
    n = len(values)
    entry = [
        list(values),
        params or [["'a'", "'b'", "'c'"]],
        "v1",
        0,
        1.0,
        [v if v == v else None for v in values],
        [None] * n,
        [None] * n,
        [None] * n,
        [1] * n,
        [5] * n,
        [[v] * 5 if v == v and v is not None else None for v in values],
        None,
    ]
    return {"result_columns": cols, "results": {"b.C.time_x": entry}, "durations": {}}


def test_merge_keeps_points_another_suite_measured() -> None:
    old = result_file([1.0, 2.0, None])
    new = result_file([math.nan, 5.0, math.nan])
    merged = resultfiles.merge_results(new, old)["results"]["b.C.time_x"]
    assert merged[0] == [1.0, 5.0, None]  # restored, re-measured kept, failed stays failed
    assert merged[11][0] == [1.0] * 5  # its samples came back too


def test_merge_ignores_a_changed_grid() -> None:
    old = result_file([1.0, 2.0, 3.0])
    new = result_file([math.nan, math.nan], params=[["'a'", "'b'"]])
    merged = resultfiles.merge_results(new, old)["results"]["b.C.time_x"]
    assert all(math.isnan(v) for v in merged[0])


def test_machine_name_has_no_hostname() -> None:
    info = {
        "machine": {
            "cpu": "AMD EPYC 7B13 64-Core Processor",
            "cores": 2,
            "gpus": [{"name": "NVIDIA H100 80GB HBM3", "driver": "550"}],
        }
    }
    assert machine.machine_name(info) == "amd-epyc-7b13-2c-h100-80gb-hbm3"


TOY_BENCH = "import time\n\ndef time_work():\n    time.sleep({})\n"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def toy_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway project: commit 1 sleeps 10 ms, commit 2 sleeps 20 ms, commit 3 = commit 2."""
    repo = tmp_path_factory.mktemp("toy")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.org")
    _git(repo, "config", "user.name", "t")
    (repo / "asv.conf.json").write_text(
        json.dumps(
            {
                "version": 1,
                "project": "toy",
                "repo": ".",
                "branches": ["main"],
                "environment_type": "virtualenv",
                "benchmark_dir": "benchmarks",
                "results_dir": "results",
            }
        )
    )
    (repo / "benchmarks").mkdir()
    (repo / "benchmarks" / "__init__.py").write_text("")
    for i, (sleep, msg) in enumerate([(0.01, "fast"), (0.02, "2x slower"), (0.02, "same")]):
        (repo / "benchmarks" / "bench.py").write_text(TOY_BENCH.format(sleep) + f"# {i}\n")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", msg)
    return repo


def compare(repo: Path, base: str, head: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tensorbench.cli",
            "compare",
            base,
            head,
            "--config",
            str(repo / "asv.conf.json"),
            "--factor",
            "1.3",
            "--python",
            sys.executable,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_compare_fails_on_a_2x_slowdown(toy_repo: Path) -> None:
    res = compare(toy_repo, "HEAD~2", "HEAD~1")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "time_work" in res.stdout


@pytest.mark.slow
def test_compare_passes_on_equal_commits(toy_repo: Path) -> None:
    res = compare(toy_repo, "HEAD~1", "HEAD")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "no benchmark slower" in res.stdout


def test_compare_rejects_bad_factor_and_commits(toy_repo: Path) -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "tensorbench.cli", "compare", "HEAD", "HEAD", "--factor", "0.9"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "--factor" in bad.stderr
    res = compare(toy_repo, "nope", "HEAD")
    assert res.returncode == 2 and "nope" in res.stderr


def test_ensure_machine_writes_asv_machine_file_without_hostname(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(machine.Path, "home", lambda: tmp_path)
    info = {
        "machine": {
            "cpu": "AMD EPYC 7B13",
            "cores": 2,
            "logical_cpus": 4,
            "arch": "x86_64",
            "os": "Linux 6.1",
            "memory_gib": 23.5,
            "gpus": [],
        }
    }
    name = machine.ensure_machine(info)
    data = json.loads((tmp_path / ".asv-machine.json").read_text())
    assert data[name] == {
        "machine": "amd-epyc-7b13-2c",
        "os": "Linux 6.1",
        "arch": "x86_64",
        "cpu": "AMD EPYC 7B13",
        "num_cpu": "4",
        "ram": "23.5GB",
    }
    import socket

    assert socket.gethostname() not in json.dumps(data)
