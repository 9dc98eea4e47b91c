"""Print how the dashboard and the scanner grow with the database (figures, not a timed test).

For synthetic asv databases in the shape of real ones (`tensorbench.testing.write_asv_shaped_results`:
many benchmarks with few parameters, a few with many; three machines; failed and skipped
points; result formats 1 and 2) of about 10k, 100k, 300k and 3M points, and one of 4.7k
files / ~256k points (the size of the largest public database tried), each in fresh
processes:

- cold: a whole process (imports included) reading the database with no results cache;
- warm: a whole process reading it with the cache beside it;
- pages: every dashboard page through Streamlit's AppTest, first visit and a rerun, table loaded;
- scan: `find_regressions` on the table; peak memory (RSS) of the process that loaded and scanned.

Then `tensorbench regressions` as a whole process on 1,000 commits x 100 benchmarks x 3
parameters (300k points, tensorbench-shaped), against `asv publish` on the same (--asv); and on
a history shaped like a real multi-environment one ("seven-envs": 1,800 commits, 4 machines, 7
environments with their own schedules, noise and host episodes, shared code changes, ~260k
points, `write_synthetic_results(envs=SEVEN_ENVS)`), where corroboration does its work: the
command cold (no results cache, no stored models) and warm, and the Regressions page, each in
fresh processes, 3 times.

    .venv/bin/python scripts/bench_dashboard.py [--sizes 10k,100k,300k,3M,4.7k-files,seven-envs] [--asv]

Run it alone (`/work/tools/exclusive` here): the figures are wall-clock times.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable

# name -> (commits, benchmarks) for write_asv_shaped_results (about 55 points per file with
# 28 benchmarks, about 200 with 100; three machines covering 100 %, 90 % and 80 % of commits)
SIZES = {
    "10k": (68, 28),
    "100k": (673, 28),
    "300k": (545, 100),
    "3M": (5450, 100),
    "4.7k-files": (1741, 28),
}
TARGETS = {
    "cold 4.7k-files": 1.5,
    "warm 4.7k-files": 0.3,
    "page 4.7k-files": 2.0,
    "cold 3M": 15.0,
    "scan 3M": 10.0,
    "peak 3M": 4096.0,
    "regressions 300k": 1.5,
    "regressions seven-envs cold": 3.0,
    "regressions seven-envs warm": 1.5,
    "page seven-envs": 2.0,
}

LOAD = """
import sys, time, json, resource
t = time.perf_counter()
from tensorbench.analysis.results import load_results
imported = time.perf_counter()
db = load_results(sys.argv[1], cache=sys.argv[2] == "cache")
out = {"import_s": imported - t, "load_s": time.perf_counter() - imported}
out.update(rows=len(db.table), skipped=len(db.skipped))
if sys.argv[3] == "scan":
    from tensorbench.analysis.regressions import find_regressions
    t = time.perf_counter()
    found = find_regressions(db.table)
    out["scan_s"] = time.perf_counter() - t
    out["changes"] = len(found)
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""

PAGES = """
import json, logging, os, sys, time
logging.getLogger("streamlit").setLevel(logging.ERROR)
from streamlit.testing.v1 import AppTest
os.environ["TENSORBENCH_RESULTS"] = sys.argv[1]
at = AppTest.from_file("dashboard/streamlit_app.py", default_timeout=600)
t = time.perf_counter(); at.run(); first = time.perf_counter() - t
out = {"Overview (with load)": first}
for page in ["overview", "compare", "scaling", "regressions", "environments"]:
    for visit in ("first", "rerun"):
        t = time.perf_counter()
        at.switch_page(f"app_pages/{page}.py")
        at.run()
        out[f"{page} {visit}"] = time.perf_counter() - t
        if at.exception:
            out[f"{page} error"] = str(at.exception[0].message)[:200]
print(json.dumps(out))
"""


REGRESSIONS_PAGE = """
import json, logging, os, sys, time
logging.getLogger("streamlit").setLevel(logging.ERROR)
from streamlit.testing.v1 import AppTest
os.environ["TENSORBENCH_RESULTS"] = sys.argv[1]
at = AppTest.from_file("dashboard/streamlit_app.py", default_timeout=600)
at.run()
out = {}
for visit in ("first", "rerun"):
    t = time.perf_counter()
    at.switch_page("app_pages/regressions.py")
    at.run()
    out[visit] = time.perf_counter() - t
    if at.exception:
        out["error"] = str(at.exception[0].message)[:200]
print(json.dumps(out))
"""


def child(code: str, *args: str) -> tuple[float, dict]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t = time.perf_counter()
    done = subprocess.run(
        [PY, "-c", code, *args], capture_output=True, text=True, cwd=REPO, env=env, check=False
    )
    wall = time.perf_counter() - t
    if done.returncode:
        raise SystemExit(f"child failed:\n{done.stderr[-3000:]}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def verdict(key: str, value: float) -> str:
    target = TARGETS.get(key)
    if target is None:
        return ""
    return f"  (target <= {target:g}: {'ok' if value <= target else 'OVER'})"


def database(where: Path, name: str) -> Path:
    from tensorbench.testing import write_asv_shaped_results

    root = where / name / "results"
    if not root.is_dir():
        commits, benchmarks = SIZES[name]
        t = time.perf_counter()
        write_asv_shaped_results(root, commits=commits, benchmarks=benchmarks)
        print(f"  generated in {time.perf_counter() - t:.0f} s")
    return root


def bench_size(where: Path, name: str, pages: bool) -> None:
    from tensorbench.analysis.resultcache import cache_path

    root = database(where, name)
    files = sum(1 for _ in root.glob("*/*-*.json"))
    size_mb = sum(p.stat().st_size for p in root.glob("*/*.json")) / 1e6
    cache = cache_path(root)
    cache.unlink(missing_ok=True)
    wall, cold = child(LOAD, str(root), "cache", "noscan")
    print(f"{name}: {files:,} files, {size_mb:,.0f} MB, {cold['rows']:,} points")
    print(
        f"  cold start, cache absent (whole process, writes it) {wall:5.2f} s{verdict('cold ' + name, wall)}"
    )
    print(f"  results cache: {cache.stat().st_size / 1e6:,.1f} MB")
    wall, warm = child(LOAD, str(root), "cache", "scan")
    print(
        f"  warm start, cache (whole process)     {wall - warm.get('scan_s', 0):7.2f} s"
        f"   imports {warm['import_s']:.2f} s, load_results {warm['load_s']:.2f} s"
        f"{verdict('warm ' + name, warm['load_s'])}"
    )
    print(
        f"  scan (find_regressions)               {warm['scan_s']:7.2f} s"
        f"{verdict('scan ' + name, warm['scan_s'])}   {warm['changes']:,} changes"
    )
    print(
        f"  peak memory (load + scan)             {warm['peak_mb']:7.0f} MB"
        f"{verdict('peak ' + name, warm['peak_mb'])}"
    )
    if pages:
        _, times = child(PAGES, str(root))
        worst = max(v for k, v in times.items() if isinstance(v, float) and "with load" not in k)
        for key, value in times.items():
            shown = f"{value:7.2f} s" if isinstance(value, float) else value
            print(f"  page {key:<32} {shown}")
        print(
            f"  slowest page (table loaded)           {worst:7.2f} s{verdict('page ' + name, worst)}"
        )


def bench_regressions(where: Path, with_asv: bool) -> None:
    from tensorbench.testing import write_synthetic_results

    root = where / "tb300k" / "results"
    if not root.is_dir():
        write_synthetic_results(
            root,
            commits=1000,
            workloads=tuple(f"w{i:03d}" for i in range(100)),
            backends=("numpy:cpu", "torch:cpu", "jax:cpu"),
            sizes=(512,),
            dtypes=("float32",),
        )
    cli = [PY, "-m", "tensorbench.cli", "regressions", "--results", str(root), "--json"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    times = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(cli, capture_output=True, cwd=REPO, env=env, check=False)
        times.append(time.perf_counter() - t)
    best = min(times)
    print("tensorbench regressions, 1,000 commits x 100 benchmarks x 3 params (300k points)")
    print(
        f"  whole process (cache warm), best of 3 {best:7.2f} s{verdict('regressions 300k', best)}"
    )
    if not with_asv:
        return
    asv = shutil.which("asv") or str(Path(PY).with_name("asv"))
    # the synthetic commits are not in this repository: asv skips their git look-ups, so this
    # understates what asv publish costs on a real history
    conf = {
        "version": 1,
        "project": "bench",
        "repo": str(REPO),
        "dvcs": "git",
        "branches": ["HEAD"],
        "results_dir": str(root),
        "html_dir": str(where / "html"),
        "environment_type": "existing",
    }
    (where / "asv.conf.json").write_text(json.dumps(conf))
    t = time.perf_counter()
    done = subprocess.run(
        [asv, "publish", "--config", str(where / "asv.conf.json")],
        capture_output=True,
        text=True,
        cwd=where,
        check=False,
    )
    took = time.perf_counter() - t
    note = "" if done.returncode == 0 else f" (exit {done.returncode}: {done.stderr[-200:]!r})"
    print(
        f"  asv publish on the same               {took:7.2f} s{note}; ratio {took / best:.1f}x"
        " (target >= 15x)"
    )


def bench_seven_envs(where: Path, pages: bool, repeats: int = 3) -> None:
    from tensorbench.analysis.modelstore import store_path
    from tensorbench.analysis.resultcache import cache_path
    from tensorbench.testing import SEVEN_ENVS, write_synthetic_results

    root = where / "seven-envs" / "results"
    if not root.is_dir():
        write_synthetic_results(
            root,
            commits=1800,
            workloads=tuple(f"w{i:02d}" for i in range(10)),
            backends=("numpy:cpu", "torch:cpu", "jax:cpu"),
            sizes=(512,),
            envs=SEVEN_ENVS,
            steps=1.5,
            seed=1,
        )
    files = sum(1 for _ in root.glob("*/*-*.json"))
    cli = [PY, "-m", "tensorbench.cli", "regressions", "--results", str(root), "--json"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def run() -> float:
        t = time.perf_counter()
        subprocess.run(cli, capture_output=True, cwd=REPO, env=env, check=False)
        return time.perf_counter() - t

    def caches_gone() -> None:
        cache_path(root).unlink(missing_ok=True)
        store_path(root).unlink(missing_ok=True)

    cold, warm = [], []
    for _ in range(repeats):
        caches_gone()
        cold.append(run())
        warm.append(run())
    print(f"seven-envs: {files:,} files, 1,800 commits, 4 machines, 7 environments")
    for name, times in (("cold", cold), ("warm", warm)):
        spread = ", ".join(f"{x:.2f}" for x in times)
        worst = max(times)
        print(
            f"  tensorbench regressions --json, {name}: {spread} s"
            f"{verdict(f'regressions seven-envs {name}', worst)}"
        )
    if not pages:
        return
    for state in ("warm", "models not stored"):
        firsts, reruns = [], []
        for _ in range(repeats):
            if state != "warm":
                store_path(root).unlink(missing_ok=True)
            _, times = child(REGRESSIONS_PAGE, str(root))
            firsts.append(times["first"])
            reruns.append(times["rerun"])
        print(
            f"  Regressions page ({state}), first visit: {', '.join(f'{x:.2f}' for x in firsts)} s"
            f"{verdict('page seven-envs', max(firsts))}; rerun "
            f"{', '.join(f'{x:.2f}' for x in reruns)} s"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k,300k,4.7k-files,3M,regressions,seven-envs")
    parser.add_argument("--no-pages", action="store_true", help="skip the AppTest page times")
    parser.add_argument("--asv", action="store_true", help="also time asv publish (slow)")
    parser.add_argument("--keep", type=Path, help="keep the generated databases here")
    args = parser.parse_args()
    where = args.keep or Path(tempfile.mkdtemp(prefix="tb-bench-"))
    where.mkdir(parents=True, exist_ok=True)
    try:
        for name in args.sizes.split(","):
            if name == "regressions":
                bench_regressions(where, args.asv)
            elif name == "seven-envs":
                bench_seven_envs(where, pages=not args.no_pages)
            else:
                bench_size(where, name, pages=not args.no_pages and name != "3M")
    finally:
        if args.keep is None:
            shutil.rmtree(where, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
