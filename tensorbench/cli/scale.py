"""`tensorbench scale`: data-parallel scaling through torchrun, measured and projected.

Exit codes: 0 measured (and recorded with ``--record``); 2 bad input (workers x threads beyond
the cores, a world size that does not split over the nodes); 3 a worker died (the message
names its rank; nothing of that run is written) or torchrun / asv failed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..errors import ExternalError, InputError
from .project import REPO_HELP, project


def _counts(text: str) -> tuple[int, ...]:
    try:
        out = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise InputError(f"--workers {text!r}: give counts like 1,2") from None
    if not out:
        raise InputError("--workers: give at least one count, like 1,2")
    return out


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scale",
        help="data-parallel training scaling (DDP via torchrun), all-reduce sweep, projection",
        description="Times a DistributedDataParallel training step (an MLP and a small conv "
        "net, weak and strong scaling) and an all-reduce sweep (4 KiB to 256 MiB) at each "
        "world size, through torchrun (gloo on CPUs, NCCL with --device cuda); gradients are "
        "checked against the single-process float64 gradients of the global batch first. "
        "Prints the measured points, the fitted all-reduce model, its prediction of the "
        "measured steps and the projection to 256 workers.",
    )
    p.add_argument("--workers", type=_counts, default=(1, 2), help="world sizes (default 1,2)")
    p.add_argument("--nodes", type=int, default=1, help="torchrun nodes (default 1)")
    # its own dest: the global `tensorbench --threads` (this process's setting) is another one
    p.add_argument(
        "--threads",
        dest="worker_threads",
        type=int,
        default=1,
        help="threads per worker (default 1)",
    )
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument(
        "--rdzv-endpoint",
        default=None,
        help="HOST:PORT of the rendezvous, on several machines (run the same command on each); "
        "default: every node on this machine (127.0.0.1)",
    )
    p.add_argument("--samples", type=int, default=9, help="samples per point (default 9)")
    p.add_argument("--quick", action="store_true", help="tests: 2 samples of 0.05 s, 3 sizes")
    p.add_argument("--json", type=Path, default=None, help="write the measurements here")
    p.add_argument(
        "--record",
        action="store_true",
        help="store the results in the asv database (results/) for this commit",
    )
    p.add_argument("--machine", default=None, help="machine name for --record")
    p.add_argument("--repo", type=Path, default=None, help=REPO_HELP)
    p.set_defaults(func=cmd_scale)


def cmd_scale(args: argparse.Namespace) -> int:
    from ..distributed.launch import ScalePlan, run_scale

    kw: dict[str, Any] = {}
    if args.quick:
        kw = {"samples": 2, "sample_time": 0.05, "allreduce_bytes": (4096, 1 << 16, 1 << 20)}
    elif args.samples < 1:
        raise InputError(f"--samples must be >= 1, got {args.samples}")
    else:
        kw["samples"] = args.samples
    plan = ScalePlan(
        workers=args.workers,
        nodes=args.nodes,
        threads=args.worker_threads,
        device=args.device,
        rdzv_endpoint=args.rdzv_endpoint,
        **kw,
    )
    repo = project(args) if args.record else None
    worlds = run_scale(plan, say=lambda m: print(m, file=sys.stderr, flush=True))
    if args.json:
        args.json.write_text(json.dumps(worlds, indent=1))
    print_scale(worlds)
    if repo is not None:  # --record
        record(worlds, plan, repo, args.machine)
    return 0


def _frames(worlds: list[dict[str, Any]]) -> tuple[Any, Any]:
    import pandas as pd

    ddp = pd.DataFrame(
        [
            {
                "machine": "here",
                "backend": f"torch:{w['device']}",
                "model": d["model"],
                "scaling": d["scaling"],
                "workers": w["world"],
                "threads": w["threads"],
                "step_s": d["step_s"],
                "compute_s": d.get("compute_step_s", math.nan),
                "lockstep_s": d.get("lockstep_compute_step_s", math.nan),
                "native_step_s": d["native_step_s"],
                "grad_rel_error": d["grad_rel_error"],
            }
            for w in worlds
            for d in w["ddp"]
        ]
    )
    ar = pd.DataFrame(
        [
            {
                "machine": "here",
                "backend": f"torch:{w['device']}",
                "bytes": a["bytes"],
                "workers": w["world"],
                "seconds": a["seconds"],
                "algbw": a["algbw"],
                "busbw": a["busbw"],
            }
            for w in worlds
            for a in w["allreduce"]
        ]
    )
    return ddp, ar


def print_scale(worlds: list[dict[str, Any]]) -> None:
    """The measured points, the all-reduce sweep and fit, the prediction check, the projection."""
    from ..analysis import scaling

    ddp, ar = _frames(worlds)
    meas = scaling.measured_scaling(ddp)
    print(
        "DDP training step (the slowest rank's time; native: torch.utils.benchmark.Timer; "
        "compute: the step under no_sync, no all-reduce; lockstep: the same with a barrier "
        "after each step, less a barrier alone)"
    )
    print(
        f"{'model':8} {'scaling':7} {'workers':>7} {'step ms':>9} {'native ms':>9} "
        f"{'compute ms':>10} {'lockstep ms':>11} {'per s':>9} {'eff':>5} {'grad err':>9}"
    )
    for r in meas.itertuples():
        row = ddp[(ddp.model == r.model) & (ddp.scaling == r.scaling) & (ddp.workers == r.workers)]
        d = row.iloc[0]
        print(
            f"{r.model:8} {r.scaling:7} {r.workers:>7} {r.step_s * 1e3:9.3f} "
            f"{d.native_step_s * 1e3:9.3f} {d.compute_s * 1e3:10.3f} "
            f"{d.lockstep_s * 1e3:11.3f} {r.throughput:9.0f} "
            f"{r.efficiency:5.2f} "
            f"{d.grad_rel_error:9.1e}"
        )
    for w in worlds:
        print(f"interconnect at {w['world']} workers: {json.dumps(w['interconnect'])}")
    if ar.empty:
        print("all-reduce: needs 2 or more workers (none run)")
        return
    print("all-reduce (sum, float32): nccl-tests' algbw and busbw")
    print(f"{'bytes':>10} {'workers':>7} {'time us':>10} {'algbw GB/s':>10} {'busbw GB/s':>10}")
    for r in ar.itertuples():
        print(
            f"{r.bytes:>10} {r.workers:>7} {r.seconds * 1e6:10.1f} {r.algbw / 1e9:10.3f} "
            f"{r.busbw / 1e9:10.3f}"
        )
    for (_, backend, workers), fit in scaling.fits(ar).items():
        print(f"ring all-reduce model, {backend}, {workers} workers: {fit.describe()}")
        check = scaling.prediction_check(ddp, fit, "here", backend)
        for c in check.itertuples():
            print(
                f"  predicted {c.model} {c.scaling} at {c.workers}: compute {c.compute_s * 1e3:.3f} "
                f"ms ({c.compute_from}) + DDP's own work {c.ddp_overhead_s * 1e3:.3f} ms (1 "
                f"worker) + all-reduce = {c.predicted_s * 1e3:.3f} ms; measured "
                f"{c.measured_s * 1e3:.3f} ms ({c.error:+.1%})"
            )
        proj = scaling.projection(ddp, fit, "here", backend, (8, 64, 256))
        for p in proj.itertuples():
            print(
                f"  projection (not measured) {p.model} {p.scaling} at {p.workers}: step "
                f"{p.step_s * 1e3:.3f} ms, efficiency {p.efficiency:.2f}"
            )


def record(worlds: list[dict[str, Any]], plan: Any, repo: Path, machine: str | None) -> None:
    """Run asv on benchmarks/bench_scaleout.py with the measurements, then keep the facts."""
    from ..asv import run as asvrun
    from ..asv.machine import check_machine_name, ensure_machine
    from ..asv.process import git
    from ..asv.resultfiles import load_result, save_result
    from ..asv.scaleout import facts_of, write_measured
    from ..conventions import SCALE_ENV
    from ..distributed.launch import usable_cores
    from ..sysinfo import info

    if machine is not None:
        check_machine_name(machine)
    machine = ensure_machine(info(), machine)
    commit = git("rev-parse", "HEAD", cwd=repo)
    fd, name = tempfile.mkstemp(prefix="tensorbench-scaleout-", suffix=".json")
    os.close(fd)
    os.environ[SCALE_ENV] = name
    try:
        write_measured(Path(name), worlds)
        res = asvrun.run_existing(
            "main", None, machine, commit, plan.threads, bench=r"bench_scaleout\.", repo=repo
        )
    finally:
        os.environ.pop(SCALE_ENV, None)
        Path(name).unlink(missing_ok=True)
    if res.result_file is None:
        raise ExternalError("asv recorded nothing for bench_scaleout (see its output above)")
    data = load_result(res.result_file)
    tb = data.setdefault("tensorbench", {})
    tb["scaleout"] = {**tb.get("scaleout", {}), **facts_of(worlds)}
    reasons = tb.setdefault("skip_reasons", {})
    cores, ran = usable_cores(), {w["world"] for w in worlds}
    for bench, kept in data.get("results", {}).items():
        if not bench.startswith("bench_scaleout."):
            continue
        why = reasons.setdefault(bench, {})
        values = kept[0] if isinstance(kept, list) else kept.get("result", [])
        for (key, point), value in zip(_points(bench), values or [], strict=False):
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                why.pop(key, None)
                continue
            w = int(point["workers"])
            if point["backend"] == "torch:cuda" and plan.device != "cuda":
                why[key] = "a GPU run: tensorbench scale --device cuda on a machine with GPUs"
            elif w * plan.threads > cores and plan.rdzv_endpoint is None:
                why[key] = (
                    f"{w} workers x {plan.threads} thread(s) need more than this machine's {cores} cores"
                )
            elif w not in ran:
                why[key] = f"world size {w} not run (--workers {','.join(map(str, sorted(ran)))})"
            else:
                why[key] = "not measured by this run"
    save_result(res.result_file, data)
    print(f"recorded in {res.result_file}")


def _points(bench: str) -> list[tuple[str, dict[str, Any]]]:
    """(asv parameter key, values by name) of a scale-out benchmark's points, in the order its
    results list them."""
    import itertools

    from ..asv.scaleout import PARAMS
    from ..conventions import param_key_of

    names, params = PARAMS[bench]
    return [
        (param_key_of(names, combo), dict(zip(names, combo, strict=True)))
        for combo in itertools.product(*params)
    ]
