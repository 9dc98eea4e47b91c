"""`tensorbench info | list | check | time`: the core commands."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from ..conventions import MODES
from ..errors import ExternalError, InputError

if TYPE_CHECKING:
    from ..cases import Case

# The measuring modules (cases, workloads, backends, timing) are imported by the commands that
# use them: every `tensorbench` command builds this parser, and importing them costs a command
# like `regressions` half a second.


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="machine, backends, versions, build facts, threads")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("list", help="workload x backend x device: available or why not")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("check", help="validate implementations against the float64 reference")
    p.add_argument("--json", action="store_true")
    p.add_argument("--workload", action="append", help="repeatable; default all")
    p.add_argument("--backend", action="append", help="repeatable; default all")
    p.add_argument("--device", action="append", help="repeatable; default cpu and cuda:0")
    p.add_argument("--dtype", action="append", help="repeatable; default float32 and float64")
    p.add_argument("--mode", choices=MODES, default=None, help="default: each backend's native")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("time", help="time one validated case")
    p.add_argument("workload")
    p.add_argument("--backend", required=True)
    p.add_argument("--device", default="cpu")
    p.add_argument("--size", type=int, default=None)
    p.add_argument("--dtype", default="float32")
    p.add_argument("--graph", default=None, help="graph file for graph workloads")
    p.add_argument(
        "--target-seconds", type=float, default=1.0, help="time budget per case and process"
    )
    p.add_argument(
        "--processes",
        type=int,
        default=3,
        help="fresh processes to pool (default 3): processes differ more than samples do",
    )
    p.add_argument("--mode", choices=MODES, default=None, help="default: the backend's native")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_time)


def _check_names(kind: str, given: list[str] | None, valid: Any) -> None:
    for name in given or ():
        if name not in valid:
            raise InputError(f"unknown {kind} {name!r} (valid: {', '.join(valid)})")


def _check_devices(devices: list[str] | None) -> None:
    from ..backends import parse_device

    for d in devices or ():
        try:
            parse_device(d)
        except ValueError as exc:
            raise InputError(str(exc)) from None


def validate_case_names(case: Case) -> None:
    """Raise InputError naming the valid choices for any unknown name or bad value in ``case``."""
    from ..backends import BACKENDS
    from ..graphs import RMAT_SCALES
    from ..workloads import WORKLOADS

    _check_names("workload", [case.workload], WORKLOADS)
    _check_names("backend", [case.backend], BACKENDS)
    _check_devices([case.device])
    wl = WORKLOADS[case.workload]
    _check_names("dtype", [case.dtype], wl.dtypes)
    takes_graph = "graph" in wl.default_params
    if case.params.get("graph") and not takes_graph:
        graphs = ", ".join(w.name for w in WORKLOADS.values() if "graph" in w.default_params)
        raise InputError(f"--graph: {case.workload} takes no graph (graph workloads: {graphs})")
    if case.size is None:
        return
    if wl.size_name == "scale" and not case.params.get("graph"):
        if case.size not in RMAT_SCALES:
            raise InputError(
                f"--size {case.size}: {case.workload}'s size is the R-MAT scale "
                f"(2**scale nodes), valid {RMAT_SCALES.start}..{RMAT_SCALES.stop - 1}"
            )
    elif case.size < 1:
        raise InputError(
            f"--size {case.size}: must be >= 1 ({case.workload}'s size is {wl.size_name}; "
            f"default {wl.default_size})"
        )


def _print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*("" if v is None else str(v) for v in r))
    Console(width=160).print(table)


def cmd_info(args: argparse.Namespace) -> int:
    from ..sysinfo import info

    data = info()
    if args.json:
        print(json.dumps(data, indent=2, default=str))
        return 0
    m = data["machine"]
    gpu = ", ".join(f"{g['name']} (driver {g['driver']})" for g in m["gpus"]) or "none"
    print(
        f"CPU     {m['cpu']} ({m['cores']} cores, {m['logical_cpus']} logical), {m['memory_gib']} GiB"
    )
    print(f"GPU     {gpu}")
    print(f"threads {data['threads']} (applied to every framework)")
    for lib in data["blas"]:
        print(
            f"BLAS    {lib.get('internal_api')} {lib.get('version', '')} "
            f"({lib.get('user_api')}, {lib.get('num_threads')} threads, {lib.get('architecture', '')})"
        )
    rows = []
    for name, facts in data["backends"].items():
        if not facts["available"]:
            rows.append([name, "no", "", facts["reason"]])
            continue
        extra = {k: v for k, v in facts.items() if k not in ("available", "version", "devices")}
        rows.append(
            [
                name,
                facts.get("version"),
                " ".join(facts["devices"]),
                ", ".join(f"{k}={v}" for k, v in extra.items()),
            ]
        )
    _print_table("backends", ["backend", "version", "devices", "build facts"], rows)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from ..backends import BACKENDS
    from ..cases import Case
    from ..workloads import WORKLOADS

    rows = []
    for wl in WORKLOADS.values():
        for be in BACKENDS:
            for dev in ("cpu", "cuda:0"):
                reason = Case(wl.name, be, dev).skip_reason()
                rows.append(
                    {
                        "workload": wl.name,
                        "backend": be,
                        "device": dev,
                        "available": reason is None,
                        "reason": reason,
                    }
                )
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(
            "cases",
            ["workload", "backend", "device", "available"],
            [
                [r["workload"], r["backend"], r["device"], "yes" if r["available"] else r["reason"]]
                for r in rows
            ],
        )
    return 0


def check_case(case: Case) -> dict[str, Any]:
    """One row of `check`: status ok / skip / fail, relative error, reason."""
    from ..backends import Skip
    from ..cases import ValidationError, prepare

    row: dict[str, Any] = {
        "workload": case.workload,
        "backend": case.backend,
        "device": case.device,
        "dtype": case.dtype,
        "size": case.size,
        "mode": case.resolved_mode(),
        "status": "ok",
        "rel_error": None,
        "reason": None,
    }
    try:
        row["rel_error"] = prepare(case).rel_error
    except Skip as exc:
        row.update(status="skip", reason=str(exc))
    except ValidationError as exc:
        row.update(status="fail", reason=str(exc))
    except Exception as exc:  # a crash in an implementation is a failure of that case only
        row.update(status="fail", reason=f"{exc.__class__.__name__}: {exc}")
    return row


def cmd_check(args: argparse.Namespace) -> int:
    from ..backends import BACKENDS
    from ..cases import all_cases
    from ..workloads import DTYPES, WORKLOADS

    _check_names("workload", args.workload, WORKLOADS)
    _check_names("backend", args.backend, BACKENDS)
    _check_names("dtype", args.dtype, DTYPES)
    _check_devices(args.device)
    devices = tuple(args.device or ("cpu", "cuda:0"))
    cases = [
        c
        for c in all_cases(devices, mode=args.mode)
        if (not args.workload or c.workload in args.workload)
        and (not args.backend or c.backend in args.backend)
        and (not args.dtype or c.dtype in args.dtype)
    ]
    rows = [check_case(c) for c in cases]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(
            "check",
            ["workload", "backend", "device", "dtype", "mode", "status", "rel_error", "reason"],
            [
                [
                    r["workload"],
                    r["backend"],
                    r["device"],
                    r["dtype"],
                    r["mode"],
                    r["status"],
                    f"{r['rel_error']:.1e}" if r["rel_error"] is not None else "",
                    r["reason"] or "",
                ]
                for r in rows
            ],
        )
        counts = {s: sum(r["status"] == s for r in rows) for s in ("ok", "skip", "fail")}
        print(f"{counts['ok']} ok, {counts['skip']} skip, {counts['fail']} fail")
    return 1 if any(r["status"] == "fail" for r in rows) else 0


def time_case(case: Case, target_s: float = 1.0, processes: int = 3) -> dict[str, Any]:
    """Validate then time ``case`` in ``processes`` fresh processes; what `time --json` prints.

    This process validates the case (errors and warnings surface here, once) and is the first
    of the ``processes``; the others are fresh worker processes (tensorbench.asv.worker), each
    preparing and timing the case with the same harness. Processes differ by more than samples
    within one do (heap layout, thread placement), so the point's value is the median of all
    their samples, and its 95 % interval comes from the spread of the processes' medians.
    """
    from dataclasses import asdict

    from .. import threads
    from ..asv.worker import CasePoint, Side, WorkerError, run_worker
    from ..cases import prepare
    from ..sysinfo import backend_facts
    from ..timing import Timing, pool

    prepared = prepare(case)
    timing = prepared.time(target_s=target_s)
    medians, per_process, numbers = [timing.median], [list(timing.samples)], [timing.number]
    spec = {**asdict(case), "params": dict(case.params), "threads": threads.current_threads()}
    for _ in range(processes - 1):
        try:
            (res,) = run_worker(Side("time"), [CasePoint(spec)], samples=8, target_s=target_s)
        except WorkerError as exc:
            raise ExternalError(str(exc)) from exc
        if res["status"] != "ok":  # validated here, so a worker's failure is a fault
            raise ExternalError(f"worker process: {res['status']}: {res['reason']}")
        medians.append(res["median"])
        per_process.append(res["samples"])
        numbers.append(res["number"])
    pooled = pool(per_process)
    everything = Timing(samples=tuple(s for ss in per_process for s in ss), number=numbers[0])
    result: dict[str, Any] = {
        "workload": case.workload,
        "backend": case.backend,
        "device": case.device,
        "dtype": case.dtype,
        "mode": prepared.mode,
        "size": prepared.size,
        "params": dict(prepared.params),
        "threads": threads.current_threads(),
        "rel_error": prepared.rel_error,
        "first_call_s": prepared.first_call_s,  # trace + compile in the compiled mode
        **everything.to_dict(),
        "numbers": numbers,  # calls per sample, per process
        "value_s": pooled.value,  # the point's value: median of all processes' samples
        "ci95_s": [pooled.low, pooled.high],
        "processes": pooled.processes,
        "process_medians_s": list(pooled.process_medians),
        "process_samples_s": per_process,
        **prepared.work().rates(pooled.value, case.dtype),
        "facts": backend_facts(case.backend),
    }
    return result


def cmd_time(args: argparse.Namespace) -> int:
    from ..backends import Skip
    from ..cases import Case, ValidationError

    params = {"graph": args.graph} if args.graph else {}
    case = Case(args.workload, args.backend, args.device, args.dtype, args.size, params, args.mode)
    validate_case_names(case)
    if not 0 < args.target_seconds <= 3600:
        raise InputError(f"--target-seconds {args.target_seconds}: must be in (0, 3600]")
    if not 1 <= args.processes <= 100:
        raise InputError(f"--processes {args.processes}: must be 1..100")
    try:
        result = time_case(case, args.target_seconds, args.processes)
    except Skip as exc:
        print(f"tensorbench: skip: {case.label()}: {exc}")
        return 1
    except ValidationError as exc:  # a wrong result is never timed: the check failed
        print(f"tensorbench: fail: {case.label()}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return 0
    rates = ", ".join(
        f"{k}={result[k]:.3g}"
        for k in ("gflops", "gteps", "us_per_op", "gbytes_per_s")
        if k in result
    )
    ci = result["ci95_s"]
    print(
        f"{case.label()}: {result['value_s'] * 1e3:.4g} ms "
        f"[95 % {ci[0] * 1e3:.4g}, {ci[1] * 1e3:.4g}] over {result['processes']} processes, "
        f"{result['n_samples']} samples (x {'/'.join(map(str, result['numbers']))} calls); "
        f"{rates}; threads={result['threads']}; rel_error={result['rel_error']:.1e}; "
        f"mode={result['mode']}, first call {result['first_call_s'] * 1e3:.1f} ms"
    )
    return 0
