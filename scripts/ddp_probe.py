"""Where a 2-worker DDP step goes beyond compute + all-reduce: the parts timed apart, in one run.

Run it alone, under torchrun, one thread per worker::

    OMP_NUM_THREADS=1 .venv/bin/torchrun --standalone --nproc-per-node 2 scripts/ddp_probe.py
    MODEL=convnet OMP_NUM_THREADS=1 .venv/bin/torchrun ...   # the conv net instead of the MLP

Each variant is 60 steps back to back after a barrier, the slowest rank's time per step; the
variants are visited in alternating order over 9 rounds (median). Variants: the compute alone
(forward, loss, backward, SGD on a plain model), the compute with a barrier after each step,
a barrier alone, an all-reduce of the gradients' size alone, compute then that all-reduce,
the DDP step, and the all-reduce after 3 ms of sleeping or of spinning (and those 3 ms alone):
what waiting for the slower rank and waking an idle core add, which a model of the link
(`tensorbench.analysis.scaling`) does not see. README "Scaling out" has what it read here.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

from tensorbench.distributed import ddp
from tensorbench.distributed.worker import _samples  # the scale-out run's own sampling

STEPS = 60
ROUNDS = 9
IDLE_S = 0.003


def spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def main() -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    name = os.environ.get("MODEL", "mlp")
    b = ddp.WEAK_BATCH[name]
    x64, y64 = ddp.global_batch(name, b * world)
    x = torch.from_numpy(x64[rank * b : (rank + 1) * b]).float()
    y = torch.from_numpy(y64[rank * b : (rank + 1) * b])
    plain = ddp.build_model(name, torch.float32)
    wrapped = DDP(ddp.build_model(name, torch.float32))
    compute = ddp.make_step(plain, x, y, lambda: None)  # the same step, no DDP, no all-reduce
    ddp_step = ddp.make_step(wrapped, x, y, lambda: None)
    nbytes = ddp.grad_bytes(plain)
    flat = torch.zeros(nbytes // 4)

    variants: dict[str, Callable[[], None]] = {
        "compute": compute,
        "compute + barrier": lambda: (compute(), dist.barrier()),
        "barrier": dist.barrier,
        "all-reduce": lambda: dist.all_reduce(flat),
        "compute + all-reduce": lambda: (compute(), dist.all_reduce(flat)),
        "DDP step": ddp_step,
        "sleep 3 ms + all-reduce": lambda: (time.sleep(IDLE_S), dist.all_reduce(flat)),
        "sleep 3 ms": lambda: time.sleep(IDLE_S),
        "spin 3 ms + all-reduce": lambda: (spin(IDLE_S), dist.all_reduce(flat)),
        "spin 3 ms": lambda: spin(IDLE_S),
    }

    for fn in variants.values():  # warm-up, the same count on every rank
        for _ in range(5):
            fn()
    times: dict[str, list[float]] = {k: [] for k in variants}
    names = list(variants)
    for r in range(ROUNDS):
        for k in names if r % 2 == 0 else names[::-1]:
            times[k] += _samples(variants[k], STEPS, 1, lambda: None)
    if rank == 0:
        print(f"model {name}, {world} workers, gradients {nbytes} bytes; ms per step (range)")
        for k, v in times.items():
            lo, hi = min(v) * 1e3, max(v) * 1e3
            print(f"{k:26} {statistics.median(v) * 1e3:8.3f}  ({lo:.2f}-{hi:.2f})")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
