"""The `tensorbench` command. Each area registers its subcommands from its own module.

Machine-readable output (``--json``) is part of the contract. Exit codes: 0 ok, 1 a check or
gate failed, 2 bad input (unknown names, bad files).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import InputError
from . import core, dashboard, graph, regressions, report, runs

AREAS = (core, graph, runs, dashboard, regressions, report)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tensorbench", description="Honest benchmarks across array frameworks."
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="threads for every framework (default: all cores)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for area in AREAS:
        area.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .. import threads

    threads.set_threads(getattr(args, "threads", None))  # before any framework is imported
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"tensorbench: error: {exc}", file=sys.stderr)
        return 2
