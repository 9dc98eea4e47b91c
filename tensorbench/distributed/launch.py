"""Run the scale-out measurements through torchrun: one launch per world size.

``torchrun --nnodes N --nproc-per-node W/N`` with c10d rendezvous starts W worker processes
(`tensorbench.distributed.worker`). On one machine ``nodes > 1`` starts N torchrun agents on
127.0.0.1, each with its share of the workers: the multi-node path (rendezvous, agents, ranks
spread over nodes) exercised without a second machine. On several machines run the same
``tensorbench scale`` on every node with ``--rdzv-endpoint HOST:PORT`` of the first; each node
starts its own share.

Workers x threads per worker must fit the cores this process may use (an error otherwise): two
workers on one core measure the scheduler. A worker that dies ends the launch with an error
naming its rank; the results of that world size are not written (rank 0 writes them last,
renamed into place).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ExternalError, InputError
from ..threads import available_cores, start_cpus
from .ddp import MODELS, SCALINGS, STRONG_BATCH

# Message sizes of the all-reduce sweep: 4 KiB to 256 MiB, every power of two.
ALLREDUCE_BYTES = tuple(4096 * 2**i for i in range(17))
DEFAULT_SAMPLES = 9  # odd: the median is a sample
DEFAULT_SAMPLE_TIME = 0.2


@dataclass(frozen=True)
class ScalePlan:
    """What `run_scale` measures."""

    workers: tuple[int, ...] = (1, 2)
    nodes: int = 1
    threads: int = 1  # per worker
    device: str = "cpu"  # cpu (gloo) | cuda (NCCL)
    models: tuple[str, ...] = MODELS
    scalings: tuple[str, ...] = SCALINGS
    allreduce_bytes: tuple[int, ...] = ALLREDUCE_BYTES
    samples: int = DEFAULT_SAMPLES
    sample_time: float = DEFAULT_SAMPLE_TIME
    dtype: str = "float32"
    rdzv_endpoint: str | None = None  # HOST:PORT on several machines; None: this machine
    timeout_s: float = 900.0
    extra_env: dict[str, str] = field(default_factory=dict)  # tests: TENSORBENCH_SCALE_DIE


def usable_cores() -> int:
    """The cores this process was started on (`tensorbench.threads` may have pinned it to
    fewer since: the workers are not bound by this process's own thread setting)."""
    return available_cores()


def _unpin() -> None:
    """In the torchrun child, before exec: every core this process started with (a CLI run
    with ``tensorbench --threads 1`` pins itself to one, and children inherit the mask)."""
    cpus = start_cpus()
    if cpus:
        os.sched_setaffinity(0, cpus)


def check_plan(plan: ScalePlan, cores: int | None = None, gpus: int | None = None) -> None:
    """``InputError`` for a plan this machine cannot run fairly, before anything starts."""
    cores = usable_cores() if cores is None else cores
    if not plan.workers or any(w < 1 for w in plan.workers):
        raise InputError(f"--workers: positive counts needed, got {list(plan.workers)}")
    if plan.nodes < 1:
        raise InputError(f"--nodes must be >= 1, got {plan.nodes}")
    if plan.threads < 1:
        raise InputError(f"--threads must be >= 1, got {plan.threads}")
    for w in plan.workers:
        if w % plan.nodes:
            raise InputError(f"--workers {w} does not split evenly over --nodes {plan.nodes}")
        if "strong" in plan.scalings:
            odd = [m for m in plan.models if STRONG_BATCH[m] % w]
            if odd:
                raise InputError(
                    f"--workers {w}: strong scaling's global batch ({STRONG_BATCH[odd[0]]} for "
                    f"{odd[0]}) does not split over {w} workers"
                )
        # on one machine every node's workers share it; on several, one node's share
        local = w if plan.rdzv_endpoint is None else w // plan.nodes
        if local * plan.threads > cores:
            raise InputError(
                f"--workers {w} x --threads {plan.threads} = {local * plan.threads} threads on "
                f"this machine, which has {cores} usable cores: workers would share cores and "
                "the timings would measure the scheduler. Use fewer workers or threads."
            )
        if plan.device == "cuda" and gpus is not None and local > gpus:
            raise InputError(f"--workers {w} on this machine needs {local} GPUs; it has {gpus}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def torchrun_command(
    python: str, plan: ScalePlan, world: int, endpoint: str, run_id: str, config: Path
) -> list[str]:
    """The torchrun command of one node (every node runs the same one)."""
    return [
        python,
        "-m",
        "torch.distributed.run",
        f"--nnodes={plan.nodes}",
        f"--nproc-per-node={world // plan.nodes}",
        "--rdzv-backend=c10d",
        f"--rdzv-endpoint={endpoint}",
        f"--rdzv-id={run_id}",
        "--max-restarts=0",
        "--monitor-interval=0.5",
        "-m",
        "tensorbench.distributed.worker",
        str(config),
    ]


class WorkerDied(ExternalError):
    """A worker process of a launch died; the message names the rank."""


def _failed_rank(output: str, status: Path) -> str:
    """Which rank failed first: torchrun's "Root Cause" block names it; else the ranks that
    wrote an error file; else those that did not finish."""
    root = output.split("Root Cause", 1)
    if len(root) == 2:
        m = re.search(r"rank\s*:\s*(\d+)", root[1])
        code = re.search(r"exitcode\s*:\s*(-?\d+)", root[1])
        if m:
            how = f" (exit code {code.group(1)})" if code else ""
            return f"rank {m.group(1)}{how}"
    errors = sorted(p.name.split(".")[0] for p in status.glob("rank-*.error"))
    if errors:
        return ", ".join(e.replace("-", " ") for e in errors)
    return "a rank (torchrun named none)"


def _error_line(status: Path, rank: str, output: str) -> str:
    """The failed rank's last error line: from its error file, else the last exception line
    torchrun relayed (an import that failed before the worker's own handler), else a word on
    how it ended."""
    m = re.match(r"rank (\d+)", rank)
    path = status / f"rank-{m.group(1)}.error" if m else None
    if path is not None and path.is_file():
        lines = [ln for ln in path.read_text().strip().splitlines() if ln.strip()]
        return f": {lines[-1].strip()}" if lines else ""
    raised = re.findall(r"^(?:\[\w+\]:)?\s*(\w+(?:Error|Exception)\b.*)$", output, re.M)
    if raised:
        return f": {raised[-1].strip()}"
    return ": it exited without a Python error (killed, or os._exit)"


def run_world(
    plan: ScalePlan, world: int, python: str = sys.executable, say: Callable[[str], None] = print
) -> dict[str, Any]:
    """One launch at ``world`` workers over ``plan.nodes`` nodes; the rank-0 results."""
    tmp = Path(tempfile.mkdtemp(prefix="tensorbench-scale-"))
    try:
        status = tmp / "status"
        status.mkdir()
        out = tmp / "result.json"
        cfg = {
            "tasks": [{"model": m, "scaling": s} for m in plan.models for s in plan.scalings],
            "allreduce_bytes": list(plan.allreduce_bytes),
            "threads": plan.threads,
            "device": plan.device,
            "dtype": plan.dtype,
            "samples": plan.samples,
            "sample_time": plan.sample_time,
            "nodes": plan.nodes,
            "timeout_s": plan.timeout_s,
            "status_dir": str(status),
            "out": str(out),
        }
        config = tmp / "config.json"
        config.write_text(json.dumps(cfg))
        endpoint = plan.rdzv_endpoint or f"127.0.0.1:{free_port()}"
        run_id = f"tensorbench-{uuid.uuid4().hex[:12]}"
        env = dict(os.environ, **plan.extra_env)
        env["OMP_NUM_THREADS"] = str(plan.threads)  # torchrun would set 1; the plan decides
        local_nodes = plan.nodes if plan.rdzv_endpoint is None else 1
        cmd = torchrun_command(python, plan, world, endpoint, run_id, config)
        say(f"torchrun: {world} worker(s) over {plan.nodes} node(s), {plan.threads} thread(s) each")
        start = time.monotonic()
        procs = [
            subprocess.Popen(
                cmd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                preexec_fn=_unpin,
            )
            for _ in range(local_nodes)
        ]
        outputs, codes = [], []
        for p in procs:
            try:
                text, _ = p.communicate(timeout=plan.timeout_s + 60)
            except subprocess.TimeoutExpired:
                for q in procs:
                    q.kill()
                raise ExternalError(
                    f"torchrun at {world} workers did not finish in {plan.timeout_s + 60:.0f} s"
                ) from None
            outputs.append(text)
            codes.append(p.returncode)
        output = "\n".join(outputs)
        if any(codes) or not out.is_file():
            rank = _failed_rank(output, status)
            tail = "\n".join(output.strip().splitlines()[-8:])
            raise WorkerDied(
                f"scale-out run at {world} workers failed: worker {rank} died"
                f"{_error_line(status, rank, output)}; no results were written for this run.\n"
                f"torchrun's last lines:\n{tail}"
            )
        result = json.loads(out.read_text())
        result["launch_wall_s"] = time.monotonic() - start
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_scale(
    plan: ScalePlan, python: str = sys.executable, say: Callable[[str], None] = print
) -> list[dict[str, Any]]:
    """Every world size of ``plan``, smallest first; all or nothing."""
    check_plan(plan)
    return [run_world(plan, w, python, say) for w in sorted(set(plan.workers))]
