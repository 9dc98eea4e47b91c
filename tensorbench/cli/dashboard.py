"""`tensorbench dashboard | chart`: the Streamlit dashboard, and its charts without a server.

``dashboard`` starts ``streamlit run dashboard/streamlit_app.py`` on 127.0.0.1 with the results
directory in ``TENSORBENCH_RESULTS``. ``chart`` writes one chart as SVG, PNG or PDF with
vl-convert (no server, no browser), in the "talk" look by default.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..paths import DASHBOARD_APP as APP
from ..paths import RESULTS_DIR as DEFAULT_RESULTS
from ..paths import RESULTS_ENV

CHART_KINDS = ("compare", "scaling", "history", "heatmap", "roofline")
OUT_FORMATS = (".svg", ".png", ".pdf")


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's subcommands to the `tensorbench` parser."""
    p = sub.add_parser("dashboard", help="start the Streamlit dashboard on 127.0.0.1")
    p.add_argument("--results", type=Path, default=None, help=f"default {DEFAULT_RESULTS}")
    p.add_argument("--port", type=int, default=8501)
    p.set_defaults(func=cmd_dashboard)

    p = sub.add_parser("chart", help="write a dashboard chart to .svg/.png/.pdf (no server)")
    p.add_argument("kind", choices=CHART_KINDS)
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="asv results directory")
    p.add_argument("--out", type=Path, required=True, help="output file: .svg, .png or .pdf")
    p.add_argument("--workload", default=None)
    p.add_argument("--backend", action="append", help="repeatable: torch or torch:cuda")
    p.add_argument("--size", type=float, default=None)
    p.add_argument("--dtype", default=None)
    p.add_argument("--device", action="append", help="repeatable: cpu, cuda")
    p.add_argument("--machine", action="append", help="repeatable; default all")
    p.add_argument("--benchmark", default=None, help="full asv name (history)")
    p.add_argument("--theme", choices=("talk", "screen"), default="talk")
    p.set_defaults(func=cmd_chart)


def cmd_dashboard(args: argparse.Namespace) -> int:
    if not APP.is_file():
        raise InputError(f"dashboard app not found at {APP} (run from a tensorbench checkout)")
    results = args.results if args.results is not None else DEFAULT_RESULTS
    if args.results is not None and not results.is_dir():
        raise InputError(f"results directory not found: {results}")
    if not 0 < args.port < 65536:
        raise InputError(f"--port must be 1-65535, got {args.port}")
    env = dict(os.environ, **{RESULTS_ENV: str(results.resolve())})
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address=127.0.0.1",
        f"--server.port={args.port}",
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=minimal",
    ]
    print(f"tensorbench dashboard: http://127.0.0.1:{args.port}  (results: {results})")
    server = subprocess.Popen(command, env=env)

    def stop(signum: int, frame: Any) -> None:  # a terminated CLI must not orphan the server
        server.terminate()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        return server.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)


# The filters each chart kind uses; any other one given would be silently ignored: refused.
_KIND_OPTIONS = {
    "compare": {"workload", "backend", "size", "dtype", "device", "machine"},
    "scaling": {"workload", "backend", "dtype", "device", "machine"},
    "heatmap": {"workload", "dtype", "device", "machine"},
    "history": {"workload", "backend", "size", "dtype", "device", "machine", "benchmark"},
    "roofline": {"workload", "backend", "size", "dtype", "device", "machine"},
}


def _check_kind_options(args: argparse.Namespace) -> None:
    used = _KIND_OPTIONS[args.kind]
    for option in sorted(set().union(*_KIND_OPTIONS.values()) - used):
        if getattr(args, option) is not None:
            valid = ", ".join(f"--{o}" for o in sorted(used))
            raise InputError(f"chart {args.kind} takes no --{option} (its filters: {valid})")


def _empty_message(chart: Any) -> str | None:
    """The message of a chart that only says why there is nothing to draw, else None."""
    values = getattr(getattr(chart, "data", None), "values", None)
    if isinstance(values, list) and len(values) == 1 and isinstance(values[0], dict):
        if set(values[0]) == {"message"}:
            return str(values[0]["message"])
    return None


def _check_size(args: argparse.Namespace, table: Any) -> None:
    """--size must be one the chosen workload was measured at (named when it is not)."""
    from ..analysis.rates import select

    if args.size is None:
        return
    rows = select(
        table,
        workload=args.workload,
        backend=args.backend,
        dtype=args.dtype,
        device=args.device,
        machine=args.machine,
        benchmark=args.benchmark,
        status="ok",
    )
    sizes = sorted({float(v) for v in rows["size"].dropna()})
    if float(args.size) not in sizes:
        what = (
            f"{args.workload or args.benchmark} results"
            if args.workload or args.benchmark
            else "results"
        )
        valid = ", ".join(f"{v:g}" for v in sizes) or "none"
        raise InputError(f"--size {args.size:g}: no {what} at that size (sizes: {valid})")


def _choose(kind: str, given: Any, present: list[str]) -> None:
    values = given if isinstance(given, list) else [given]
    for v in values:
        if v is not None and v not in present:
            valid = ", ".join(present) or "none in these results"
            raise InputError(f"unknown {kind} {v!r} (valid: {valid})")


def build_chart(args: argparse.Namespace) -> Any:
    """The chart `tensorbench chart` writes, from parsed arguments (raises InputError)."""
    from .. import charts
    from ..analysis.rates import machine_peaks, select
    from ..analysis.regressions import find_regressions as find_changes
    from ..analysis.results import load_results, skipped_warnings
    from ..workloads import work_model

    db = load_results(args.results)  # warns (one line) when it left impossible values out
    for line in skipped_warnings(db.skipped):
        print(f"tensorbench: warning: {line}", file=sys.stderr)
    table = db.table
    if table.empty:
        raise InputError(f"no asv results under {args.results}")

    def present(col: str) -> list[str]:
        return sorted(str(v) for v in table[col].dropna().unique())

    _choose("workload", args.workload, present("workload"))
    _choose("machine", args.machine, present("machine"))
    _choose("dtype", args.dtype, present("dtype"))
    _choose("device", args.device, present("device"))
    labels = present("backend") + sorted(
        {f"{b}:{d}" for b, d in zip(table["backend"], table["device"], strict=True) if b == b}
    )
    _choose("backend", args.backend, labels)
    if args.benchmark is not None:
        _choose("benchmark", args.benchmark, present("benchmark"))
    if args.kind in ("compare", "scaling") and args.workload is None:
        raise InputError(
            f"chart {args.kind} needs --workload (valid: {', '.join(present('workload'))})"
        )
    _check_size(args, table)
    if args.kind == "compare":
        return charts.compare_chart(
            select(table, backend=args.backend),
            workload=args.workload,
            size=args.size,
            dtype=args.dtype,
            device=args.device,
            machine=args.machine,
            envs=db.envs,
            machines=db.machines,
            work_model=work_model,
        )
    if args.kind == "scaling":
        return charts.scaling_chart(
            table,
            workload=args.workload,
            dtype=args.dtype,
            backend=args.backend,
            device=args.device,
            machine=args.machine,
            peaks=machine_peaks(table, db.machines),
            work_model=work_model,
        )
    if args.kind == "roofline":
        from ..analysis.roofline import machine_bandwidths
        from ..workloads import roofline_model

        return charts.roofline_chart(
            select(table, backend=args.backend, device=args.device, size=args.size),
            model=roofline_model,
            dtype=args.dtype,
            machine=args.machine,
            workload=args.workload,
            machines=db.machines,
            peaks=machine_peaks(table, db.machines),
            bandwidths=machine_bandwidths(table, db.machines),
        )
    if args.kind == "heatmap":
        rows = select(table, workload=args.workload) if args.workload else table
        return charts.heatmap_chart(
            rows, dtype=args.dtype, device=args.device, machine=args.machine
        )
    # history: one benchmark, the parameter combinations the filters leave
    rows = select(
        table,
        workload=args.workload,
        backend=args.backend,
        size=args.size,
        dtype=args.dtype,
        device=args.device,
        machine=args.machine,
        benchmark=args.benchmark,
    )
    rows = rows[rows["status"] == "ok"]
    benchmarks = sorted(str(b) for b in rows["benchmark"].unique())
    if not benchmarks:
        raise InputError("no results match these filters")
    if len(benchmarks) > 1:  # the thread-scaling twin only when asked for by name
        plain = sorted(str(b) for b in rows.loc[rows["threads"].isna(), "benchmark"].unique())
        benchmarks = plain if len(plain) == 1 else benchmarks
    if len(benchmarks) > 1:
        raise InputError(
            f"several benchmarks match; choose one with --benchmark: {', '.join(benchmarks)}"
        )
    return charts.history_chart(
        rows[rows["benchmark"] == benchmarks[0]],
        benchmark=benchmarks[0],
        regressions=find_changes(
            table[table["benchmark"] == benchmarks[0]], results_dir=args.results
        ),
    )


def cmd_chart(args: argparse.Namespace) -> int:
    from ..charts import save_chart

    if args.out.suffix.lower() not in OUT_FORMATS:
        raise InputError(f"unsupported output {args.out.name!r}: use .svg, .png or .pdf")
    if args.out.is_dir():
        raise InputError(f"--out {args.out}: is a folder; name a file (.svg, .png or .pdf)")
    if not args.results.is_dir():
        raise InputError(f"results directory not found: {args.results}")
    if not args.out.parent.is_dir():
        raise InputError(f"output folder not found: {args.out.parent}")
    _check_kind_options(args)
    chart = build_chart(args)
    empty = _empty_message(chart)
    if empty is not None:  # an empty chart is not a result: say why, write nothing
        raise InputError(f"chart {args.kind}: {empty}; nothing written")
    try:
        save_chart(chart, args.out, theme=args.theme)
    except OSError as exc:
        raise InputError(f"--out {args.out}: cannot write ({exc.strerror})") from None
    print(f"wrote {args.out}")
    return 0
