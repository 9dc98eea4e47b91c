"""`tensorbench regressions`: the regression gate over an asv results directory.

Exit codes: 0 no open regression, 1 an unacknowledged regression still present at the newest
commit, 2 bad input (missing directory, bad acknowledged.toml, unknown --since).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..paths import RESULTS_DIR as DEFAULT_RESULTS  # the project's own, wherever run from

ACK_FILE = "acknowledged.toml"


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's subcommands to the `tensorbench` parser."""
    p = sub.add_parser(
        "regressions",
        help="find regressions in asv results (exit 1 on an open, unacknowledged one)",
        description=(
            "Change points with a Mann-Whitney significance and a minimum effect, per machine x "
            "env x benchmark x parameters; several small steps in a row are one ranged "
            "regression. Entries in <results>/acknowledged.toml are shown but pass the gate, as "
            "do regressions no longer present at the newest commit."
        ),
    )
    p.add_argument(
        "--results", type=Path, default=DEFAULT_RESULTS, help=f"default {DEFAULT_RESULTS}"
    )
    p.add_argument("--since", default=None, help="commit (hash prefix) or date: newer changes only")
    p.add_argument(
        "--threshold", type=float, default=0.05, help="minimum effect, 0.05 = 5%% (default)"
    )
    p.add_argument(
        "--acknowledged",
        type=Path,
        default=None,
        help=f"acknowledgements file (default <results>/{ACK_FILE})",
    )
    p.add_argument("--improvements", action="store_true", help="also list improvements")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of tables")
    p.set_defaults(func=cmd_regressions)


def _short(commit: str) -> str:
    return commit[:8]


def _params(row: Any) -> dict:
    params = row.params
    return dict(params) if isinstance(params, dict) else {}


def _number(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _as_json(row: Any) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "benchmark": str(row.benchmark),
        "params": _params(row),
        "param_key": str(row.param_key),
        "machine": str(row.machine),
        "env": str(row.env),
        "commit": row.first_bad_commit,
        "last_good_commit": row.last_good_commit,
        "first_bad_date": row.first_bad_date.isoformat()
        if row.first_bad_date is not None
        else None,
        "before": _number(row.before),
        "after": _number(row.after),
        "ratio": _number(row.ratio),
        "ratio_low": _number(row.ratio_low),
        "ratio_high": _number(row.ratio_high),
        "pvalue": _number(row.significance),
        "n_steps": int(row.n_steps),
        "unit": None if not isinstance(row.unit, str) else row.unit,
        "resolved": bool(row.resolved),
        "acknowledged": bool(row.acknowledged),
        "reason": row.reason,
        "fails_gate": bool(row.fails_gate),
    }


def _fmt_value(v: float, unit: Any) -> str:
    if unit == "seconds":
        for scale, suffix in ((1, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
            if abs(v) >= scale or scale == 1e-9:
                return f"{v / scale:.3g} {suffix}"
    if unit == "bytes":
        for scale, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"), (1, "B")):
            if abs(v) >= scale or scale == 1:
                return f"{v / scale:.3g} {suffix}"
    return f"{v:.4g}" + (f" {unit}" if isinstance(unit, str) and unit else "")


def _status(row: Any) -> str:
    if row.kind != "regression":
        return ""
    if row.acknowledged:
        return f"acknowledged: {row.reason}" if row.reason else "acknowledged"
    if row.resolved:
        return "resolved"
    return "OPEN"


def _print_table(title: str, rows: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in (
        "benchmark",
        "parameters",
        "machine",
        "env",
        "last good",
        "first bad",
        "before",
        "after",
        "ratio",
        "p-value",
        "status",
    ):
        table.add_column(col, overflow="fold")
    for r in rows:
        steps = f" ({r.n_steps} steps)" if r.n_steps > 1 else ""
        table.add_row(
            str(r.benchmark),
            str(r.param_key),
            str(r.machine),
            str(r.env),
            _short(r.last_good_commit),
            _short(r.first_bad_commit) + steps,
            _fmt_value(r.before, r.unit),
            _fmt_value(r.after, r.unit),
            f"{r.ratio:.3f} [{r.ratio_low:.3f}, {r.ratio_high:.3f}]",
            f"{r.significance:.1e}",
            _status(r),
        )
    Console(width=200).print(table)


def cmd_regressions(args: argparse.Namespace) -> int:
    from ..analysis.regressions import find_regressions, load_acknowledged
    from ..analysis.results import load_results

    if not args.results.is_dir():
        raise InputError(f"results directory not found: {args.results}")
    if not (0 <= args.threshold < 10):
        raise InputError(f"--threshold must be in [0, 10), got {args.threshold}")
    ack_path = args.acknowledged or args.results / ACK_FILE
    if args.acknowledged is not None and not ack_path.is_file():
        raise InputError(f"acknowledgements file not found: {ack_path}")
    acks = load_acknowledged(ack_path)
    db = load_results(args.results)
    found = find_regressions(
        db.table, threshold=args.threshold, since=args.since, acknowledged=acks
    )
    shown = found if args.improvements else found[found["kind"] == "regression"]
    rows = list(shown.itertuples(index=False))
    gate = bool(found["fails_gate"].any()) if len(found) else False
    if args.json:
        print(json.dumps([_as_json(r) for r in rows], indent=2))
        return 1 if gate else 0
    regs = [r for r in rows if r.kind == "regression"]
    imps = [r for r in rows if r.kind == "improvement"]
    n_series = db.table.groupby(["machine", "env", "benchmark", "param_key"], observed=True).ngroups
    _print_table(f"regressions in {args.results}", regs)
    if args.improvements:
        _print_table("improvements", imps)
    n_open = sum(bool(r.fails_gate) for r in regs)
    n_ack = sum(bool(r.acknowledged) for r in regs)
    n_res = sum(bool(r.resolved) and not r.acknowledged for r in regs)
    print(
        f"{n_series} series, {len(regs)} regressions: {n_open} open, {n_ack} acknowledged, "
        f"{n_res} resolved; {int((found['kind'] == 'improvement').sum())} improvements"
        f"{'' if args.improvements else ' (--improvements lists them)'}; "
        f"threshold {args.threshold:.0%}"
    )
    for s in db.skipped:
        print(f"skipped {s.path}: {s.reason}")
    return 1 if gate else 0
