"""`tensorbench report`: one self-contained report of a results database (HTML, PDF, slides)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..conventions import RESULTS_DIR as DEFAULT_RESULTS
from ..errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's subcommands to the `tensorbench` parser."""
    p = sub.add_parser(
        "report",
        help="write a self-contained HTML (and PDF) report of a results database",
        description=(
            "PATH.html opens offline (charts inline as SVG); PATH.pdf is printed by headless "
            "Chromium; --slides DIR writes every chart as a 16:9 SVG and 1920x1080 PNG with an "
            "index. The same database gives byte-identical HTML."
        ),
    )
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="asv results directory")
    # a string, not a Path: Path("") is ".", and an empty --out must be named as such
    p.add_argument("--out", required=True, help="PATH: writes PATH.html and PATH.pdf")
    p.add_argument("--machine", action="append", help="repeatable; default all")
    p.add_argument("--commit", default=None, help="hash prefix: the database as of that commit")
    p.add_argument("--workloads", nargs="+", default=None, metavar="W", help="default all")
    p.add_argument("--slides", type=Path, default=None, metavar="DIR", help="also write slides")
    p.add_argument("--page-size", choices=("A4", "Letter"), default="A4")
    p.add_argument("--no-pdf", action="store_true", help="HTML (and slides) only")
    p.add_argument(
        "--threshold", type=float, default=0.05, help="regression threshold (default 0.05 = 5%%)"
    )
    p.set_defaults(func=cmd_report)


def _tolerances() -> dict[str, dict[str, float]]:
    """Validation tolerance per workload as the results name them (grid names included)."""
    from ..asv.grid import GRID
    from ..workloads import WORKLOADS

    out = {name: dict(wl.tolerance) for name, wl in WORKLOADS.items()}
    for name, entry in GRID.items():
        if entry.workload in WORKLOADS:
            out.setdefault(name, dict(WORKLOADS[entry.workload].tolerance))
    return out


def cmd_report(args: argparse.Namespace) -> int:
    from ..report import build_report, output_paths, write_report
    from ..workloads import roofline_model, work_model

    if not args.results.is_dir():
        raise InputError(f"results directory not found: {args.results}")
    html_path, _ = output_paths(args.out)  # before minutes of work: '', '.', '/' name no file
    if not html_path.parent.is_dir():
        raise InputError(f"output folder not found: {html_path.parent}")
    if args.slides is not None and args.slides.exists() and not args.slides.is_dir():
        raise InputError(f"--slides {args.slides}: is a file; name a folder")
    if not (0 <= args.threshold < 10):
        raise InputError(f"--threshold must be in [0, 10), got {args.threshold}")
    report = build_report(
        args.results,
        machine=args.machine,
        commit=args.commit,
        workloads=args.workloads,
        work_model=work_model,
        roofline_model=roofline_model,
        tolerances=_tolerances(),
        threshold=args.threshold,
    )
    for line in report.facts.get("skipped", ()):
        print(f"tensorbench: warning: {line}", file=sys.stderr)
    written = write_report(
        report, args.out, pdf=not args.no_pdf, slides=args.slides, page_size=args.page_size
    )
    shown = [p for p in written if args.slides is None or p.parent != args.slides]
    for path in shown:
        print(f"wrote {path}")
    if args.slides is not None:
        n = sum(p.suffix == ".svg" for p in written)
        print(f"wrote {n} slides (SVG + PNG) and {args.slides / 'index.html'}")
    print(
        f"{report.facts['figures']} charts, {len(report.sections)} sections, "
        f"{report.facts['open_regressions']} open regression(s)"
    )
    return 0
