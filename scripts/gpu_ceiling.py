"""Matmul throughput on a CUDA GPU against the measured cuBLAS ceiling (prints JSON).

For n = 4096: float32 (TF32 off), TF32, bfloat16, each as TFLOP/s and as % of the ceiling of
its own precision; the ceiling is the best cuBLAS rate measured over n in (4096, 8192, 16384)
for that precision (a measured roof, not the datasheet's). torch.utils.benchmark syncs CUDA.
"""

from __future__ import annotations

import json
import sys


def rate(torch, n: int, dtype, tf32: bool) -> float:
    from torch.utils.benchmark import Timer

    torch.backends.cuda.matmul.allow_tf32 = tf32
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    m = Timer("a @ b", globals={"a": a, "b": b}).blocked_autorange(min_run_time=0.5)
    return 2 * n**3 / m.median / 1e12


def main() -> int:
    import torch

    if not torch.cuda.is_available():
        print(json.dumps({"status": "skip", "reason": "no CUDA device"}))
        return 0
    out = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "n": 4096}
    for label, dtype, tf32 in (
        ("float32", torch.float32, False),
        ("tf32", torch.float32, True),
        ("bfloat16", torch.bfloat16, False),
    ):
        rates = {n: rate(torch, n, dtype, tf32) for n in (4096, 8192, 16384)}
        ceiling = max(rates.values())
        out[label] = {
            "tflops_4096": rates[4096],
            "ceiling_tflops": ceiling,
            "percent_of_ceiling": 100 * rates[4096] / ceiling,
            "by_size": rates,
        }
    torch.backends.cuda.matmul.allow_tf32 = False
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
