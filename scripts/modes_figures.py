"""Eager vs compiled, STREAM triad and the roofline here: the figures behind README's "Modes".

Each case runs in a fresh process (``--case``), so the first call pays a cold trace + compile
(inductor's on-disk caches off) and nothing of another case is warm. Prints one table per
figure and writes the roofline as SVG. MXNet cases need its environment::

    python scripts/modes_figures.py --out docs/roofline.svg \\
        --mxnet-python .venv-mxnet/bin/python --graph-dir ../shared/data/graphs

Steady state: median of calibrated samples (``PreparedCase.time``); compile: the first call
beyond a steady-state call (``asv_support.compile_seconds``), kept out of the steady state.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path

CASES = [  # (workload, size or graph, dtype)
    ("matmul", 512, "float32"),
    ("mlp_step", 256, "float32"),
    ("gcn_step", "cora", "float32"),
]
BACKENDS = ("torch", "jax", "mxnet")
STREAM = ("stream_triad", 128, "float64")  # 1 GiB per array
STREAM_BACKENDS = ("numpy", "torch", "jax", "mxnet")
PEAK = ("matmul", 2048, "float32")


def run_case(spec: str) -> dict:
    """One case in this process: validate, time, compile time; a JSON-able dict."""
    os.environ.setdefault("TORCHINDUCTOR_FORCE_DISABLE_CACHES", "1")
    from tensorbench import asv_support
    from tensorbench.backends import Skip
    from tensorbench.cases import Case, prepare

    workload, size, backend, mode, dtype, kind = spec.split(":")
    params = {}
    if not size.isdigit():
        params["graph"] = str(Path(os.environ["TENSORBENCH_GRAPH_DIR"]) / size)
    case = Case(workload, backend, "cpu", dtype, int(size) if size.isdigit() else None, params)
    case = Case(
        *[getattr(case, f) for f in ("workload", "backend", "device", "dtype", "size")],
        case.params,
        None if mode == "native" else mode,
    )
    try:
        p = prepare(case)
    except Skip as exc:
        return {"spec": spec, "skip": str(exc)}
    work = p.work()
    out = {
        "spec": spec,
        "mode": p.mode,
        "rel_error": p.rel_error,
        "first_s": p.first_call_s,
        "flops": work.flops,
        "bytes": work.traffic(dtype),
    }
    if kind == "peak_gflops":
        out["value"] = asv_support.peak_gflops(p)
    elif kind == "peak_gbps":
        out["value"] = asv_support.peak_gbps(p)
    else:
        t = p.time(target_s=1.0, max_samples=15)
        out["steady_s"] = t.median
        out["compile_s"] = asv_support.compile_seconds(p)
    return out


def spawn(python: str, spec: str) -> dict:
    proc = subprocess.run(
        [python, __file__, "--case", spec],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1])),
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"spec": spec, "skip": f"crashed: {proc.stderr.strip().splitlines()[-1:]}"}


C_TRIAD = r"""
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
int main(int argc, char **argv) {
  long n = atol(argv[1]); double s = 3.0, best = 1e30;
  double *a = malloc(n * 8), *b = malloc(n * 8), *c = malloc(n * 8);
  #pragma omp parallel for
  for (long i = 0; i < n; i++) { a[i] = 0; b[i] = 1; c[i] = 2; }
  for (int k = 0; k < 10; k++) {
    double t = omp_get_wtime();
    #pragma omp parallel for
    for (long i = 0; i < n; i++) a[i] = b[i] + s * c[i];
    t = omp_get_wtime() - t; if (t < best) best = t;
  }
  printf("%.2f %f\n", 3.0 * 8 * n / best / 1e9, a[n / 2]);
  return 0;
}
"""


def c_triad_gbps(n: int) -> float | None:
    """Best of 10 triads of a small OpenMP C loop (gcc -O3 -march=native), in GB/s."""
    src, exe = Path("/tmp/tb_triad.c"), Path("/tmp/tb_triad")
    src.write_text(C_TRIAD)
    build = ["gcc", "-O3", "-march=native", "-fopenmp", str(src), "-o", str(exe)]
    if subprocess.run(build, capture_output=True, check=False).returncode != 0:
        return None
    out = subprocess.run([str(exe), str(n)], capture_output=True, text=True, check=False)
    return float(out.stdout.split()[0]) if out.returncode == 0 else None


def numpy_triad_gbps(n: int) -> float:
    """NumPy's in-place triad (np.multiply(c, s, out=a); a += b), best of 10, STREAM bytes."""
    import time

    import numpy as np

    a, b, c = np.zeros(n), np.ones(n), np.full(n, 2.0)
    best = math.inf
    for _ in range(10):
        t = time.perf_counter()
        np.multiply(c, 3.0, out=a)
        a += b
        best = min(best, time.perf_counter() - t)
    return 24.0 * n / best / 1e9


def roofline_svg(rows: list[dict], peak: float, bandwidth: float, out: Path) -> None:
    import pandas as pd

    from tensorbench.analysis.results import COLUMNS
    from tensorbench.charts import roofline_chart, save_chart

    records, work = [], {}
    for i, r in enumerate(r for r in rows if "steady_s" in r):
        workload, size, backend, _, dtype, _ = r["spec"].split(":")
        numeric = float(size) if size.isdigit() else math.nan
        params = {"graph": size} if not size.isdigit() else {}
        work[(workload, size)] = (r["flops"] or math.nan, r["bytes"] or math.nan)
        records.append(
            {
                "machine": "this machine",
                "env": "existing",
                "commit": "x",
                "commit_order": 0,
                "benchmark": f"{workload}.{r['mode']}",
                "kind": "time",
                "param_key": f"{backend} {size} {r['mode']}",
                "params": params,
                "value": r["steady_s"],
                "status": "ok",
                "unit": "seconds",
                "started_at": pd.Timestamp(i, unit="s", tz="UTC"),
                "workload": workload,
                "backend": backend,
                "device": "cpu",
                "size": numeric,
                "dtype": dtype,
                "threads": math.nan,
                "work_flops": math.nan,
                "work_edges": math.nan,
                "mode": r["mode"],
            }
        )
    table = pd.DataFrame(records).reindex(columns=list(COLUMNS))

    def model(workload, size, params, dtype):
        key = str(int(size)) if isinstance(size, float) and math.isfinite(size) else params["graph"]
        return work.get((workload, key), (math.nan, math.nan))

    chart = roofline_chart(
        table, model=model, peaks={"this machine": peak}, bandwidths={"this machine": bandwidth}
    )
    save_chart(chart, out, theme="screen")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=Path("docs/roofline.svg"))
    ap.add_argument("--mxnet-python", default=None)
    ap.add_argument("--graph-dir", default=None)
    ap.add_argument("--save", type=Path, default=None, help="keep the measured rows as JSON")
    ap.add_argument("--from-json", type=Path, default=None, help="only redraw from --save")
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case)))
        return 0
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        roofline_svg(saved["rows"], saved["peak"], saved["bandwidth"], args.out)
        print(f"wrote {args.out}")
        return 0
    if args.graph_dir:
        os.environ["TENSORBENCH_GRAPH_DIR"] = str(Path(args.graph_dir).resolve())
    python = {b: sys.executable for b in STREAM_BACKENDS}
    if args.mxnet_python:
        python["mxnet"] = args.mxnet_python
    rows = []
    print("workload size backend mode | steady ms | first-call extra (compile) s | rel_error")
    for workload, size, dtype in CASES:
        for backend in BACKENDS:
            for mode in ("eager", "compiled"):
                r = spawn(python[backend], f"{workload}:{size}:{backend}:{mode}:{dtype}:time")
                rows.append(r)
                if "skip" in r:
                    print(f"{workload} {size} {backend} {mode} | skip: {r['skip']}")
                else:
                    print(
                        f"{workload} {size} {backend} {mode} | {r['steady_s'] * 1e3:.4g} | "
                        f"{r['compile_s']:.3g} | {r['rel_error']:.1e}",
                        flush=True,
                    )
    print("\nSTREAM triad, 128 Mi float64 elements per array (1 GiB), best of runs, GB/s")
    best = 0.0
    for backend in STREAM_BACKENDS:
        for mode in ("eager", "compiled"):
            w, s, d = STREAM
            r = spawn(python[backend], f"{w}:{s}:{backend}:{mode}:{d}:peak_gbps")
            if "skip" in r:
                print(f"{backend} {mode}: skip: {r['skip']}")
                continue
            best = max(best, r["value"])
            print(f"{backend} {mode}: {r['value']:.2f}", flush=True)
    n = STREAM[1] * 2**20
    print(f"numpy in-place triad (this process): {numpy_triad_gbps(n):.2f}")
    c = c_triad_gbps(n)
    print(f"C OpenMP triad (gcc -O3 -march=native, {os.cpu_count()} threads): {c}")
    peak = 0.0
    for backend in ("numpy", "torch", "jax"):
        w, s, d = PEAK
        r = spawn(python[backend], f"{w}:{s}:{backend}:native:{d}:peak_gflops")
        if "value" in r:
            peak = max(peak, r["value"])
            print(f"peak matmul 2048 float32 {backend}: {r['value']:.1f} GFLOP/s")
    if args.save:
        args.save.write_text(json.dumps({"rows": rows, "peak": peak, "bandwidth": best}))
    roofline_svg(rows, peak, best, args.out)
    print(f"\nroofline (peak {peak:.1f} GFLOP/s, {best:.2f} GB/s): wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
