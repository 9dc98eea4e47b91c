"""Cross-check tensorbench's timer against each framework's own blocking benchmark tool.

Prints one JSON object per backend: our median (`tensorbench time` path: prepare + measure)
beside the framework's own timer on the same validated callable, and their ratio. The
reference is `tensorbench.audit.native_seconds`, the timing audit's (torch's
``torch.utils.benchmark.Timer``, which syncs CUDA itself; timeit with ``npx.waitall()`` for
MXNet, with ``block_until_ready`` for JAX, plain timeit for NumPy), and for CuPy, which it does
not cover, ``cupyx.profiler.benchmark`` (CUDA events).

Usage: python scripts/crosscheck_timing.py [--size 2048] [--device cpu] [--backend B ...]
Run it in the environment holding the backend (.venv-mxnet for mxnet).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys

from tensorbench import threads
from tensorbench.audit import native_seconds
from tensorbench.backends import BACKENDS, Skip
from tensorbench.cases import Case, PreparedCase, prepare


def reference_seconds(prepared: PreparedCase) -> tuple[float, str]:
    """Seconds per call of the validated callable by the framework's own timer, and how."""
    name = prepared.case.backend
    if name == "cupy":
        # timeit would read the launch only: CuPy returns before the GPU is done
        from cupyx.profiler import benchmark

        res = benchmark(prepared.fn, n_repeat=20, n_warmup=3)
        return float(statistics.median(res.gpu_times[0])), "cupyx.profiler.benchmark (GPU time)"
    return native_seconds(name, prepared.fn, threads.current_threads())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=2048)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32")
    p.add_argument("--backend", action="append", help="default: every available one")
    p.add_argument("--tolerance", type=float, default=0.15, help="allowed |ratio - 1|")
    args = p.parse_args(argv)
    worst_ok = True
    for name in args.backend or list(BACKENDS):
        try:
            prepared = prepare(Case("matmul", name, args.device, args.dtype, args.size))
        except (Skip, KeyError) as exc:
            if args.backend:
                print(json.dumps({"backend": name, "status": "skip", "reason": str(exc)}))
            continue
        ours = prepared.time(min_samples=9, max_samples=15, target_s=2.0).median
        ref, how = reference_seconds(prepared)
        ratio = ours / ref
        ok = abs(ratio - 1) <= args.tolerance
        worst_ok &= ok
        print(
            json.dumps(
                {
                    "backend": name,
                    "device": args.device,
                    "size": args.size,
                    "dtype": args.dtype,
                    "ours_s": ours,
                    "reference_s": ref,
                    "reference": how,
                    "ratio": round(ratio, 3),
                    "gflops": 2 * args.size**3 / ours / 1e9,
                    "within_tolerance": ok,
                }
            )
        )
    return 0 if worst_ok else 1


if __name__ == "__main__":
    sys.exit(main())
