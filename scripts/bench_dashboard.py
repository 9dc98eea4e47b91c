"""Print how fast the dashboard loads an asv results database (figures, not a timed test).

Generates 1,000 commits x 100 benchmarks x 3 parameter values (300k points) in a temporary
folder, then reports the cold load (files -> tidy table, `tensorbench.analysis.results.load_results`)
and the warm load (the dashboard's `st.cache_data` loader hit: fingerprint + cached table),
and the load time of ../shared/data/asv-results/openblas-benchmarks where present.

    .venv/bin/python scripts/bench_dashboard.py [--commits 1000] [--benchmarks 100]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "dashboard"))  # the app's own cached loader, as the app runs it

from tensorbench.analysis.results import fingerprint, load_results  # noqa: E402
from tensorbench.testing import write_synthetic_results  # noqa: E402

TARGET_COLD_S = 1.5
TARGET_WARM_S = 0.3


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def report(label: str, times: list[float], target: float | None = None) -> None:
    best, median = min(times), statistics.median(times)
    verdict = "" if target is None else ("  ok" if median <= target else "  OVER TARGET")
    goal = "" if target is None else f" (target <= {target} s)"
    print(f"{label:<44} median {median:6.3f} s  best {best:6.3f} s  n={len(times)}{goal}{verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--benchmarks", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    # Streamlit warns that no app is running when its cache is used from a script: expected.
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    import loading  # dashboard/loading.py

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        root = write_synthetic_results(
            Path(tmp) / "results",
            commits=args.commits,
            workloads=tuple(f"w{i:03d}" for i in range(args.benchmarks)),
            backends=("numpy:cpu", "torch:cpu", "jax:cpu"),
            sizes=(512,),
            dtypes=("float32",),
        )
        files = sum(1 for _ in root.glob("*/*.json"))
        size_mb = sum(p.stat().st_size for p in root.glob("*/*.json")) / 1e6
        print(f"generated {files} files, {size_mb:.0f} MB in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        db = load_results(root)
        first = time.perf_counter() - t
        print(
            f"table: {len(db.table):,} rows x {db.table.shape[1]} columns, {len(db.skipped)} skipped"
        )
        report("first load in this process", [first], TARGET_COLD_S)
        report(
            "cold load (files -> tidy table)",
            timed(lambda: load_results(root), args.repeat),
            TARGET_COLD_S,
        )
        report("fingerprint (cache key)", timed(lambda: fingerprint(root), args.repeat))
        loading.load_db(str(root), fingerprint(root))  # fill the cache
        report(
            "warm load (dashboard cache hit)",
            timed(lambda: loading.load_db(str(root), fingerprint(root)), args.repeat),
            TARGET_WARM_S,
        )
    openblas = REPO.parent / "shared" / "data" / "asv-results" / "openblas-benchmarks"
    if openblas.is_dir():
        db = load_results(openblas)
        print(f"openblas-benchmarks: {len(db.table):,} rows")
        report("openblas-benchmarks cold load", timed(lambda: load_results(openblas), args.repeat))
    else:
        print(f"openblas-benchmarks not present at {openblas}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
