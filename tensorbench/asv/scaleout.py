"""Scale-out results into asv's database: the measured file, and the lookup its benchmarks do.

`tensorbench scale --record` measures through torchrun (`tensorbench.distributed.launch`),
writes what it measured to a JSON file named by ``$TENSORBENCH_SCALEOUT``, then runs asv on
``benchmarks/bench_scaleout.py``, whose ``track_`` benchmarks return the values from that file
(as the instruction benchmarks read their counts): asv stores them as its own series, keyed by
backend, model, scaling, world size and threads (all-reduce: backend, bytes, world size; the
step's compute alone, under DDP's ``no_sync``, free-running and in lockstep, as series of
their own), and
the result file's ``tensorbench.scaleout`` entry keeps the interconnect facts, the gradient
checks and the framework-timer cross-checks. Without the file every point skips with the reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..conventions import (
    ALLREDUCE_BENCHMARK,
    DDP_BENCHMARK,
    DDP_COMPUTE_BENCHMARK,
    DDP_LOCKSTEP_BENCHMARK,
    SCALE_ENV,
    param_key_of,
)

DDP_NAMES = ["backend", "model", "scaling", "workers", "threads"]
ALLREDUCE_NAMES = ["backend", "bytes", "workers"]
KINDS = {
    "ddp_step": DDP_BENCHMARK,
    "allreduce": ALLREDUCE_BENCHMARK,
    "ddp_compute": DDP_COMPUTE_BENCHMARK,
    "ddp_lockstep_compute": DDP_LOCKSTEP_BENCHMARK,
}
# asv's parameters of benchmarks/bench_scaleout.py (a copy there, for package commits without
# this module; tests check the two agree). Lists only grow at the end: asv keys results by them.
_BACKENDS = ["torch:cpu", "torch:cuda"]
_WORKERS = [1, 2, 4, 8]
PARAMS: dict[str, tuple[list[str], list[list[Any]]]] = {
    DDP_BENCHMARK: (DDP_NAMES, [_BACKENDS, ["mlp", "convnet"], ["weak", "strong"], _WORKERS, [1]]),
    ALLREDUCE_BENCHMARK: (
        ALLREDUCE_NAMES,
        [_BACKENDS, [4096 * 2**i for i in range(17)], _WORKERS[1:]],
    ),
}
PARAMS[DDP_COMPUTE_BENCHMARK] = PARAMS[DDP_LOCKSTEP_BENCHMARK] = PARAMS[DDP_BENCHMARK]
# what each step series holds, from the worker's record of one model and scaling
_STEP_FIELDS = {
    DDP_BENCHMARK: "step_s",
    DDP_COMPUTE_BENCHMARK: "compute_step_s",
    DDP_LOCKSTEP_BENCHMARK: "lockstep_compute_step_s",
}


def measured_points(worlds: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """benchmark name -> {asv param key: seconds} of every launch's results."""
    points: dict[str, dict[str, float]] = {b: {} for b in KINDS.values()}
    for w in worlds:
        backend = f"torch:{w['device']}"
        for d in w["ddp"]:
            values = [backend, d["model"], d["scaling"], w["world"], w["threads"]]
            for bench, field in _STEP_FIELDS.items():
                if field in d:
                    points[bench][param_key_of(DDP_NAMES, values)] = d[field]
        for a in w["allreduce"]:
            values = [backend, a["bytes"], w["world"]]
            points[ALLREDUCE_BENCHMARK][param_key_of(ALLREDUCE_NAMES, values)] = a["seconds"]
    return points


def facts_of(worlds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What the result file keeps beside the values: per world size the interconnect, nodes,
    threads, the gradient checks and the framework timer's steps."""
    return {
        str(w["world"]): {
            "nodes": w["nodes"],
            "threads": w["threads"],
            "device": w["device"],
            "dtype": w["dtype"],
            "interconnect": w["interconnect"],
            "ddp": [
                {
                    k: d[k]
                    for k in (
                        "model",
                        "scaling",
                        "batch_per_worker",
                        "global_batch",
                        "grad_rel_error",
                        "grad_bytes",
                        "native_step_s",
                        "steps_per_sample",
                        "barrier_s",
                    )
                    if k in d
                }
                for d in w["ddp"]
            ],
            "wall_s": round(w.get("launch_wall_s", w.get("wall_s", 0.0)), 1),
        }
        for w in worlds
    }


def write_measured(path: Path, worlds: Sequence[dict[str, Any]]) -> None:
    Path(path).write_text(
        json.dumps({"points": measured_points(worlds), "facts": facts_of(worlds)}, indent=1)
    )


def scaleout_value(kind: str, params: Sequence[Any], names: Sequence[str]) -> float:
    """The measured seconds of one point (``kind``: ddp_step | allreduce) from the file in
    ``$TENSORBENCH_SCALEOUT``; ``LookupError`` with the reason where there is none."""
    path = os.environ.get(SCALE_ENV)
    if not path:
        raise LookupError(
            f"no scale-out measurements (${SCALE_ENV} unset): run tensorbench scale --record"
        )
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise LookupError(f"scale-out measurements {path} cannot be read: {exc}") from None
    value = data.get("points", {}).get(KINDS[kind], {}).get(param_key_of(names, params))
    if value is None:
        raise LookupError("not measured in this run (world size, model or device not run)")
    return float(value)
