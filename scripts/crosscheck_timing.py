"""Cross-check tensorbench's timer against each framework's own blocking benchmark tool.

Prints one JSON object per backend: our median (`tensorbench time` path: prepare + measure)
beside the reference, and their ratio. References:
  mxnet  timeit around ``mx.np.dot(a, b).wait_to_read()`` (blocks on the result)
  torch  ``torch.utils.benchmark.Timer(...).blocked_autorange()`` (syncs CUDA itself)
  cupy   ``cupyx.profiler.benchmark`` (CUDA events)
  numpy  timeit around ``a @ b``

Usage: python scripts/crosscheck_timing.py [--size 2048] [--device cpu] [--backend B ...]
Run it in the environment holding the backend (.venv-mxnet for mxnet).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import timeit

from tensorbench import threads
from tensorbench.backends import BACKENDS, Skip
from tensorbench.cases import Case, prepare
from tensorbench.workloads.matmul import make_inputs


def reference_seconds(backend: str, device: str, a_np, b_np) -> tuple[float, str]:
    be = BACKENDS[backend]
    a, b = be.asarray(a_np, device), be.asarray(b_np, device)
    if backend == "mxnet":
        dot = be.lib.np.dot
        runs = timeit.repeat(lambda: dot(a, b).wait_to_read(), number=1, repeat=9)
        return statistics.median(runs), "timeit(np.dot(a, b).wait_to_read())"
    if backend == "torch":
        from torch.utils.benchmark import Timer

        # Timer defaults to num_threads=1: give it the same threads as ours.
        m = Timer(
            "torch.matmul(a, b)",
            globals={"torch": be.lib, "a": a, "b": b},
            num_threads=threads.current_threads(),
        ).blocked_autorange(min_run_time=1.0)
        return m.median, "torch.utils.benchmark.Timer.blocked_autorange"
    if backend == "cupy":
        from cupyx.profiler import benchmark

        res = benchmark(lambda: a @ b, n_repeat=20, n_warmup=3)
        return float(statistics.median(res.gpu_times[0])), "cupyx.profiler.benchmark (GPU time)"
    if backend == "jax":
        f = be.lib.jit(be.lib.numpy.matmul)
        f(a, b).block_until_ready()
        runs = timeit.repeat(lambda: f(a, b).block_until_ready(), number=1, repeat=9)
        return statistics.median(runs), "timeit(jit(matmul)(a, b).block_until_ready())"
    runs = timeit.repeat(lambda: a @ b, number=1, repeat=9)
    return statistics.median(runs), "timeit(a @ b)"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=2048)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32")
    p.add_argument("--backend", action="append", help="default: every available one")
    p.add_argument("--tolerance", type=float, default=0.15, help="allowed |ratio - 1|")
    args = p.parse_args(argv)
    inputs = make_inputs(args.size, args.dtype, {})
    worst_ok = True
    for name in args.backend or list(BACKENDS):
        try:
            prepared = prepare(Case("matmul", name, args.device, args.dtype, args.size))
        except (Skip, KeyError) as exc:
            if args.backend:
                print(json.dumps({"backend": name, "status": "skip", "reason": str(exc)}))
            continue
        ours = prepared.time(min_samples=9, max_samples=15, target_s=2.0).median
        ref, how = reference_seconds(name, args.device, inputs["a"], inputs["b"])
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
