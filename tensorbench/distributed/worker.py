"""What each rank runs under torchrun: ``python -m tensorbench.distributed.worker CONFIG``.

CONFIG is a JSON file (`tensorbench.distributed.launch` writes it): the tasks, threads per
worker, the device, samples, the status folder and the output path. Every rank validates each
DDP step's gradients before timing it, then times samples of back-to-back steps; a sample's
time is the slowest rank's (a step ends when every rank has its gradients). The all-reduce
sweep times back-to-back ``all_reduce`` calls per message size the same way. The backend's
sync (``torch.cuda.synchronize``) is inside each sample on GPUs. The same steps under DDP's
``no_sync`` (no all-reduce) give the compute part at this world size, free-running and in
lockstep (a barrier after every step, less a barrier alone): a DDP step waits for the slowest
rank at its all-reduce, which the free-running compute does not. After the samples, the same
steps are timed once more by ``torch.utils.benchmark.Timer`` (the framework's own timer) as a
cross-check in the same minute.

Rank 0 writes the results (temporary file, then a rename: never half a file); a rank that fails
writes ``rank-N.error`` with its traceback into the status folder first. ``TENSORBENCH_SCALE_DIE``
(tests only) names a rank that exits abruptly after its first task.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import sys
import time
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

DIE_ENV = "TENSORBENCH_SCALE_DIE"


def _max_over_ranks(value: float) -> float:
    import torch
    import torch.distributed as dist

    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t.item())


def _samples(run: Any, n: int, samples: int, sync: Any) -> list[float]:
    """``samples`` times of ``n`` back-to-back calls of ``run`` per call: all ranks start
    together (barrier), each sample is the slowest rank's."""
    import torch.distributed as dist

    out = []
    for _ in range(samples):
        dist.barrier()
        start = time.perf_counter()
        for _ in range(n):
            run()
        sync()
        out.append(_max_over_ranks(time.perf_counter() - start) / n)
    return out


def ddp_task(task: dict[str, Any], cfg: dict[str, Any], device: Any, sync: Any) -> dict[str, Any]:
    """Validate, then time one model and scaling at this world size."""
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP
    from torch.utils.benchmark import Timer

    from . import ddp

    rank, world = dist.get_rank(), dist.get_world_size()
    name, scaling = task["model"], task["scaling"]
    per_worker, global_size = ddp.batches(scaling, name, world)
    x64, y = ddp.global_batch(name, global_size)
    rows = slice(rank * per_worker, (rank + 1) * per_worker)
    dtype = getattr(torch, cfg["dtype"])
    x = torch.from_numpy(x64[rows]).to(device=device, dtype=dtype)
    yy = torch.from_numpy(y[rows]).to(device)
    model = ddp.build_model(name, dtype).to(device)
    ids = [device.index] if device.type == "cuda" else None
    wrapped = DDP(model, device_ids=ids)
    # the gradient check: one forward and backward, before anything is timed
    torch.nn.functional.cross_entropy(wrapped(x), yy).backward()
    got = [p.grad.detach().cpu().numpy() for p in model.parameters()]
    error = ddp.check_gradients(got, ddp.reference_gradients(name, x64, y), cfg["dtype"])
    wrapped.zero_grad(set_to_none=True)

    step = ddp.make_step(wrapped, x, yy, sync)
    n = ddp.calibrate(step, _max_over_ranks, cfg["sample_time"])

    def local_step() -> None:  # the same step without DDP's all-reduce: compute alone, with
        with wrapped.no_sync():  # the other workers computing beside it (shared cores, caches)
            step()

    def lockstep() -> None:  # compute, then wait for every rank, as a DDP step's all-reduce does
        local_step()
        dist.barrier()

    # the whole step, its compute alone, its compute in lockstep and a barrier alone, sample by
    # sample in mirrored order (A B C D D C B A ...): this host drifts by tens of per cent within
    # a minute, and the prediction compares them
    times: list[float] = []
    compute: list[float] = []
    locked: list[float] = []
    barrier: list[float] = []
    variants = [(step, times), (local_step, compute), (lockstep, locked), (dist.barrier, barrier)]
    for i in range(cfg["samples"]):
        for run_, into in variants if i % 2 == 0 else variants[::-1]:
            into += _samples(run_, n, 1, sync)
    dist.barrier()
    timer = Timer("step()", globals={"step": step}, num_threads=cfg["threads"])
    native = _max_over_ranks(timer.timeit(n * cfg["samples"]).mean)
    return {
        "model": name,
        "scaling": scaling,
        "batch_per_worker": per_worker,
        "global_batch": global_size,
        "steps_per_sample": n,
        "step_s": statistics.median(times),
        "samples_s": times,
        "native_step_s": native,
        "compute_step_s": statistics.median(compute),
        # the compute plus each step's wait for the slowest rank: a barrier after every step,
        # less a barrier's own time when the ranks are already together
        "lockstep_compute_step_s": statistics.median(locked) - statistics.median(barrier),
        "barrier_s": statistics.median(barrier),
        "grad_rel_error": error,
        "grad_bytes": ddp.grad_bytes(model),
        "parameters": sum(p.numel() for p in model.parameters()),
    }


def allreduce_task(cfg: dict[str, Any], device: Any, sync: Any) -> list[dict[str, Any]]:
    """Time ``all_reduce`` (sum) of float32 buffers of each size; checks each result first.

    The sizes are visited round-robin, one sample per size per round (``samples`` rounds,
    alternate rounds in reverse): a stretch of slow host then touches every size a little
    instead of a few sizes wholly, which bent the fitted line (max fit error 57 % once).
    """
    import torch
    import torch.distributed as dist

    world = dist.get_world_size()
    want = world * (world + 1) / 2
    calls: dict[int, int] = {}
    times: dict[int, list[float]] = {}
    for size in cfg["allreduce_bytes"]:
        buf = torch.full((size // 4,), float(dist.get_rank() + 1), device=device)
        dist.all_reduce(buf)
        sync()
        if float(buf[0]) != want or float(buf[-1]) != want:
            raise ValueError(f"all_reduce of {size} bytes summed to {float(buf[0])}, not {want}")
        start = time.perf_counter()
        dist.all_reduce(buf)
        sync()
        once = max(_max_over_ranks(time.perf_counter() - start), 1e-7)
        calls[size] = max(1, int(cfg["sample_time"] / once))
        times[size] = []
        del buf
    sizes = list(cfg["allreduce_bytes"])
    for r in range(cfg["samples"]):
        for size in sizes if r % 2 == 0 else sizes[::-1]:
            buf = torch.zeros(size // 4, device=device)

            def call(buf: Any = buf) -> None:
                dist.all_reduce(buf)

            call()  # the buffer's pages touched before the sample
            times[size] += _samples(call, calls[size], 1, sync)
            del buf
    out = []
    for size in sizes:
        seconds = statistics.median(times[size])
        algbw = size / seconds
        out.append(
            {
                "bytes": size,
                "seconds": seconds,
                "samples_s": times[size],
                "calls_per_sample": calls[size],
                "algbw": algbw,
                # nccl-tests' bus bandwidth for all-reduce: what each link carries
                "busbw": algbw * 2 * (world - 1) / world,
            }
        )
    return out


def interconnect(device: Any) -> dict[str, Any]:
    """What carries the collectives: backend, hosts, one host or several."""
    import torch
    import torch.distributed as dist

    hosts: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(hosts, socket.gethostname())
    cpus: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(cpus, len(os.sched_getaffinity(0)))
    backend = dist.get_backend()
    facts: dict[str, Any] = {
        "backend": backend,
        "torch": torch.__version__,
        "hosts": sorted(set(hosts)),
        "link": "loopback (one host)" if len(set(hosts)) == 1 else "network",
        "cpus_per_rank": cpus,  # the cores each rank's process may run on
    }
    if backend == "nccl":
        facts["nccl"] = ".".join(str(v) for v in torch.cuda.nccl.version())
        facts["gpu"] = torch.cuda.get_device_name(device)
    elif os.environ.get("GLOO_SOCKET_IFNAME"):
        facts["gloo_socket_ifname"] = os.environ["GLOO_SOCKET_IFNAME"]
    return facts


def run(cfg: dict[str, Any]) -> dict[str, Any]:
    import torch
    import torch.distributed as dist

    torch.set_num_threads(cfg["threads"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if cfg["device"] == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
        backend = "nccl"

        def sync() -> None:
            torch.cuda.synchronize(device)

    else:
        device, backend = torch.device("cpu"), "gloo"

        def sync() -> None:
            return None

    dist.init_process_group(backend, timeout=timedelta(seconds=cfg["timeout_s"]))
    rank, world = dist.get_rank(), dist.get_world_size()
    started = time.time()
    out: dict[str, Any] = {
        "world": world,
        "nodes": int(os.environ.get("GROUP_WORLD_SIZE", cfg["nodes"])),  # torchrun's agents
        "device": cfg["device"],
        "threads": cfg["threads"],
        "dtype": cfg["dtype"],
        "interconnect": interconnect(device),
        "ddp": [],
        "allreduce": [],
    }
    for i, task in enumerate(cfg["tasks"]):
        out["ddp"].append(ddp_task(task, cfg, device, sync))
        if i == 0 and os.environ.get(DIE_ENV) == str(rank):
            os._exit(7)  # tests: a worker that dies mid-run, without a word
    if world > 1 and cfg["allreduce_bytes"]:
        out["allreduce"] = allreduce_task(cfg, device, sync)
    out["wall_s"] = time.time() - started
    dist.barrier()
    dist.destroy_process_group()
    return out


def main(argv: list[str]) -> int:
    cfg = json.loads(Path(argv[0]).read_text())
    rank = os.environ.get("RANK", "0")
    status = Path(cfg["status_dir"])
    try:
        result = run(cfg)
    except BaseException:
        (status / f"rank-{rank}.error").write_text(traceback.format_exc())
        raise
    if rank == "0":
        target = Path(cfg["out"])
        tmp = target.with_name(target.name + ".partial")
        tmp.write_text(json.dumps(result, indent=1))
        os.replace(tmp, target)
    (status / f"rank-{rank}.done").write_text("")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
