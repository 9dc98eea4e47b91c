"""benchmarks/ and the package agree on what each benchmark is, today and on old commits.

asv runs today's benchmarks/ against every historic commit it builds, keys results by benchmark
name and parameters, and keeps no other attribute of a benchmark. So: every class times the grid
entry the package records for it (`tensorbench.asv.grid.TIMED_BY`), the names and parameters
results/ recorded are still the ones discovered, and today's benchmarks/ still load, prepare and
skip (with a reason) against the package of the oldest commit in results/.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tensorbench.asv.grid import COUNTED_BY, GRID, TIMED_BY

pytest.importorskip("asv_runner")

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"

# Run in a fresh interpreter whose ``tensorbench`` is the one on PYTHONPATH: asv's discovery of
# benchmarks/, then a few points set up as asv's benchmark process would.
DISCOVER = r"""
import importlib, json, sys
from asv_runner._aux import update_sys_path
from asv_runner.discovery import disc_benchmarks

root, points = sys.argv[1], json.loads(sys.argv[2])
update_sys_path(root)
import tensorbench

out = {"package": tensorbench.__file__, "benchmarks": {}, "points": []}
for b in disc_benchmarks(root):
    out["benchmarks"][b.name] = [b.param_names, b.params]
for module, cls, method, params in points:
    bench = getattr(importlib.import_module(f"benchmarks.{module}"), cls)()
    try:
        getattr(bench, "setup", lambda *p: None)(*params)
        if method.startswith("track_instructions"):
            getattr(bench, method)(*params)
        out["points"].append(["ok", type(getattr(bench, "case", None)).__name__])
    except NotImplementedError as exc:  # asv's skip (SkipNotImplemented is one)
        out["points"].append(["skip", str(exc)])
print(json.dumps(out))
"""

POINTS = [
    ("bench_array", "Matmul", "time_matmul", ["numpy:cpu", 64, "float32"]),
    ("bench_modes", "MatmulModes", "time_matmul", ["numpy:cpu", 64, "float32", "eager"]),
    ("bench_modes", "MatmulModes", "time_matmul", ["numpy:cpu", 64, "float32", "compiled"]),
    (
        "bench_instructions",
        "InstructionsMatmul",
        "track_instructions_matmul",
        ["numpy:cpu", 64, "float32"],
    ),
]


def discover(package_root: Path, cwd: Path) -> dict:
    """benchmarks/ as asv discovers it with ``package_root``'s tensorbench, and POINTS set up."""
    done = subprocess.run(
        [sys.executable, "-c", DISCOVER, str(BENCHMARKS), json.dumps(POINTS)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(package_root), "PATH": "/usr/bin:/bin", "TENSORBENCH_THREADS": "1"},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def classes() -> dict[str, type]:
    """Every benchmark class of benchmarks/ (those with a ``bench``), by class name."""
    sys.path.insert(0, str(REPO))
    try:
        import importlib

        found = {}
        for path in sorted(BENCHMARKS.glob("bench_*.py")):
            module = importlib.import_module(f"benchmarks.{path.stem}")
            for name, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ == module.__name__ and getattr(cls, "bench", ""):
                    found[name] = cls
        return found
    finally:
        sys.path.remove(str(REPO))


def test_every_class_times_the_grid_entry_the_package_records() -> None:
    found = classes()
    timed = {n: c.bench for n, c in found.items() if not n.startswith("Instructions")}
    counted = {n: c.bench for n, c in found.items() if n.startswith("Instructions")}
    assert timed == TIMED_BY
    assert counted == COUNTED_BY
    assert set(TIMED_BY.values()) | set(COUNTED_BY.values()) <= set(GRID)


def oldest_results_commit() -> str:
    """The oldest commit (by commit date) that has results in results/."""
    hashes = {
        p.name.split("-", 1)[0]
        for p in (REPO / "results").glob("*/*.json")
        if p.name not in ("machine.json", "benchmarks.json")
    }
    dated = []
    for h in sorted(hashes):
        done = subprocess.run(
            ["git", "log", "-1", "--format=%ct %H", h], capture_output=True, text=True, cwd=REPO
        )
        if done.returncode != 0:
            pytest.skip(f"commit {h} of results/ is not in this clone's history (shallow clone?)")
        dated.append(done.stdout.split())
    return min(dated)[1]


def test_todays_benchmarks_run_against_the_oldest_commit_in_results(tmp_path: Path) -> None:
    commit = oldest_results_commit()
    old = tmp_path / "package"
    old.mkdir()
    archive = subprocess.run(
        ["git", "archive", commit, "tensorbench"], capture_output=True, cwd=REPO, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
    then = discover(old, tmp_path)
    now = discover(REPO, tmp_path)
    assert then["package"].startswith(str(old)) and now["package"].startswith(str(REPO))

    # the same benchmarks, and the grid only ever grew at the end of each parameter list
    stored = json.loads((REPO / "results" / "benchmarks.json").read_text())
    assert set(then["benchmarks"]) == set(now["benchmarks"]) >= set(stored) - {"version"}
    for name, (names, params) in then["benchmarks"].items():
        today_names, today_params = now["benchmarks"][name]
        assert names == today_names, name
        assert all(v == w[: len(v)] for v, w in zip(params, today_params, strict=True)), name
    for name, (names, params) in now["benchmarks"].items():
        if name in stored:
            assert [names, params] == [stored[name]["param_names"], stored[name]["params"]]

    # points prepare (validated) or skip with a reason on both commits
    for status in (then["points"], now["points"]):
        assert status[0] == ["ok", "PreparedCase"] and status[1] == ["ok", "PreparedCase"]
        assert status[2][0] == "skip" and "compil" in status[2][1]
        assert status[3][0] == "skip" and status[3][1]
    assert "no instruction counts" in then["points"][3][1]
