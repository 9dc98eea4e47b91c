"""`tensorbench chart`: one of the dashboard's charts written as SVG, PNG or PDF with
vl-convert (no server, no browser), in the "talk" look by default.

The command parses the options into a request, asks `tensorbench.analysis.chartrows` for the
rows to draw (which says why when nothing matches), draws them and writes the file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..analysis.chartrows import CHART_KINDS, ChartRequest
from ..conventions import RESULTS_DIR as DEFAULT_RESULTS
from ..errors import InputError

OUT_FORMATS = (".svg", ".png", ".pdf")


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's subcommands to the `tensorbench` parser."""
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


def chart_request(args: argparse.Namespace) -> ChartRequest:
    """The parsed options as a request (InputError for a filter the kind would ignore)."""
    return ChartRequest(
        args.kind,
        workload=args.workload,
        backend=args.backend,
        size=args.size,
        dtype=args.dtype,
        device=args.device,
        machine=args.machine,
        benchmark=args.benchmark,
    )


def build_chart(request: ChartRequest, results: Path) -> Any:
    """The chart `tensorbench chart` writes for ``request`` (raises InputError)."""
    from .. import charts
    from ..analysis.chartrows import chart_rows
    from ..analysis.rates import machine_peaks
    from ..analysis.regressions import find_regressions
    from ..analysis.results import load_results, skipped_warnings
    from ..analysis.roofline import machine_bandwidths
    from ..workloads import roofline_model, work_model

    db = load_results(results)  # warns (one line) when it left impossible values out
    for line in skipped_warnings(db.skipped):
        print(f"tensorbench: warning: {line}", file=sys.stderr)
    if db.table.empty:
        raise InputError(f"no asv results under {results}")
    picked = chart_rows(db.table, request)
    r = request
    if r.kind == "history":
        found = find_regressions(picked.series, results_dir=results)
        return charts.history_chart(picked.rows, benchmark=picked.benchmark, regressions=found)
    if r.kind == "heatmap":
        return charts.heatmap_chart(picked.rows, dtype=r.dtype, device=r.device, machine=r.machine)
    if r.kind == "compare":
        return charts.compare_chart(
            picked.rows,
            workload=r.workload,
            size=r.size,
            dtype=r.dtype,
            device=r.device,
            machine=r.machine,
            envs=db.envs,
            machines=db.machines,
            work_model=work_model,
        )
    if r.kind == "scaling":
        return charts.scaling_chart(
            picked.rows,
            workload=r.workload,
            dtype=r.dtype,
            backend=r.backend,
            device=r.device,
            machine=r.machine,
            peaks=machine_peaks(db.table, db.machines),
            work_model=work_model,
        )
    return charts.roofline_chart(
        picked.rows,
        model=roofline_model,
        dtype=r.dtype,
        machine=r.machine,
        workload=r.workload,
        machines=db.machines,
        peaks=machine_peaks(db.table, db.machines),
        bandwidths=machine_bandwidths(db.table, db.machines),
    )


def cmd_chart(args: argparse.Namespace) -> int:
    from ..charts import empty_chart_message, save_chart

    if args.out.suffix.lower() not in OUT_FORMATS:
        raise InputError(f"unsupported output {args.out.name!r}: use .svg, .png or .pdf")
    if args.out.is_dir():
        raise InputError(f"--out {args.out}: is a folder; name a file (.svg, .png or .pdf)")
    if not args.results.is_dir():
        raise InputError(f"results directory not found: {args.results}")
    if not args.out.parent.is_dir():
        raise InputError(f"output folder not found: {args.out.parent}")
    request = chart_request(args)
    chart = build_chart(request, args.results)
    empty = empty_chart_message(chart)
    if empty is not None:  # an empty chart is not a result: say why, write nothing
        raise InputError(f"chart {args.kind}: {empty}; nothing written")
    try:
        save_chart(chart, args.out, theme=args.theme)
    except OSError as exc:
        raise InputError(f"--out {args.out}: cannot write ({exc.strerror})") from None
    print(f"wrote {args.out}")
    return 0
