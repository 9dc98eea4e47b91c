"""`tensorbench regressions`: the regression gate over an asv results directory.

Exit codes: 0 no open regression, 1 an unacknowledged regression still present at the newest
commit, 2 bad input (missing directory, bad acknowledged.toml, unknown --since) or nothing to
judge: no readable result at all (an empty folder, one that is not an asv database), or result
files newer than every readable one that could not be read. Skipped files and acknowledgements
that match nothing are listed on stderr in every mode.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

from ..conventions import ACK_FILE, SERIES_KEYS
from ..conventions import RESULTS_DIR as DEFAULT_RESULTS  # the project's own, wherever run from
from ..errors import InputError
from . import paired


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
    p.add_argument(
        "--below-threshold",
        action="store_true",
        help="also list significant changes smaller than the threshold or the noise floor",
    )
    p.add_argument(
        "--outliers", action="store_true", help="also list isolated fast (better) outlier runs"
    )
    p.add_argument(
        "--min-corroboration",
        type=int,
        default=0,
        metavar="N",
        help="only changes seen in at least N other machine/env series at the same commits "
        "(the gate judges only those)",
    )
    p.add_argument(
        "--by",
        choices=("commit", "release"),
        default="commit",
        help="commit: changes along the history (default); release: changes between "
        "consecutive releases of a framework (results of `run --releases`)",
    )
    p.add_argument(
        "--framework",
        help="with --by release: only this framework's releases (default: every framework "
        "whose results hold two releases or more)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON list instead of tables")
    paired.add_confirm_arguments(p)
    p.set_defaults(func=cmd_regressions)


def _short(commit: str) -> str:
    return commit[:8]


def _params(row: Any) -> dict:
    params = row.params
    return dict(params) if isinstance(params, dict) else {}


def _number(x: float) -> float | None:
    """JSON has no NaN or infinity: those are null."""
    return float(x) if x is not None and math.isfinite(float(x)) else None


def _as_json(row: Any) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "direction": row.direction,
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
        "min_effect": _number(row.min_effect),
        "noise": _number(row.noise),
        "noise_model": row.noise_model,
        "corroboration": int(row.corroboration),
        "corroborated_by": list(row.corroborated_by),
        "not_seen_by": list(row.not_seen_by),
        "agreement": row.agreement,
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
    noise = ""
    if row.noise_model != "normal":
        noise = f"; {row.noise_model}: needs {row.min_effect:.1%}"
    if row.kind != "regression":
        return row.kind + noise if row.kind != "improvement" else noise.lstrip("; ")
    if row.acknowledged:
        return (f"acknowledged: {row.reason}" if row.reason else "acknowledged") + noise
    if row.resolved:
        return "resolved" + noise
    if row.agreement == "contradicted":
        # demoted: others ran these commits steadily; it gates only when large
        return (
            "OPEN, not seen elsewhere" if row.fails_gate else "demoted: not seen elsewhere"
        ) + noise
    return "OPEN" + noise


def _corroboration(row: Any) -> str:
    checked = row.corroboration + len(row.not_seen_by)
    return f"{row.corroboration}/{checked}" if checked else "-"


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
        "seen in",
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
            _corroboration(r),
            _status(r),
        )
    Console(width=200).print(table)


def _warn(message: str) -> None:
    print(f"tensorbench: warning: {message}", file=sys.stderr)


_DATE = re.compile(rb'"date"\s*:\s*(\d{9,})')


def _machine_name(folder: Path) -> str:
    try:
        name = json.loads((folder / "machine.json").read_text(encoding="utf-8")).get("machine")
    except (OSError, ValueError, AttributeError):
        name = None
    return name if isinstance(name, str) and name else folder.name


def _unjudged(db: Any) -> list[str]:
    """Unreadable result files that may be newer than everything read from their machine
    folder: the date they record (recovered from the raw bytes where the file is truncated)
    is at or after the newest readable result of that machine, or, without a date, they were
    written no earlier than the newest readable file there."""
    whole = [s for s in db.skipped if not s.reason.startswith("benchmark ")]
    by_folder: dict[Path, list[str]] = {}
    for s in whole:
        path = Path(s.path)
        if path.name not in ("machine.json", "benchmarks.json") and path.parent != Path(
            db.results_dir
        ):
            by_folder.setdefault(path.parent, []).append(s.path)
    out = []
    table = db.table
    ok = table[table["status"].eq("ok")] if len(table) else table
    for folder, bad in by_folder.items():
        rows = ok[ok["machine"].astype(str) == _machine_name(folder)] if len(ok) else ok
        if rows.empty:
            out.extend(bad)
            continue
        newest = rows["commit_date"].max().value // 1_000_000  # ms, as asv stores it
        bad_set = set(bad)
        readable = [
            e.stat().st_mtime
            for e in os.scandir(folder)
            if e.name.endswith(".json") and e.name != "machine.json" and e.path not in bad_set
        ]
        newest_mtime = max(readable, default=0.0)
        for path in bad:
            try:
                with open(path, "rb") as fh:
                    hit = _DATE.search(fh.read(1 << 16))
                if hit is not None:
                    if int(hit.group(1)) >= newest:
                        out.append(path)
                elif os.stat(path).st_mtime >= newest_mtime:
                    out.append(path)
            except OSError:
                out.append(path)
    return out


def _check_judgeable(db: Any, results: Path) -> None:
    """InputError (exit 2) when the gate has nothing it could judge; see the module docstring."""
    t = db.table
    ok = t[t["status"].eq("ok") & t["value"].notna()] if len(t) else t
    if ok.empty:
        if not db.benchmarks and not db.machines:
            raise InputError(
                f"{results}: not an asv results database (no benchmarks.json, no "
                "<machine>/machine.json, no result files)"
            )
        raise InputError(
            f"{results}: no readable benchmark results ({len(db.skipped)} file(s) skipped, "
            "listed above); nothing to judge"
        )
    newest_bad = _unjudged(db)
    if newest_bad:
        raise InputError(
            f"{results}: the newest results cannot be read ({', '.join(newest_bad[:3])}"
            f"{' ...' if len(newest_bad) > 3 else ''}); the gate cannot judge the newest commit"
        )


def cmd_regressions(args: argparse.Namespace) -> int:
    from ..analysis.acknowledgements import ack_path, acknowledged_warnings, load_acknowledged
    from ..analysis.regressions import KINDS, find_regressions
    from ..analysis.results import load_results

    if not args.results.is_dir():
        raise InputError(f"results directory not found: {args.results}")
    if not (0 <= args.threshold < 10):
        raise InputError(f"--threshold must be in [0, 10), got {args.threshold}")
    if args.min_corroboration < 0:
        raise InputError(f"--min-corroboration must be >= 0, got {args.min_corroboration}")
    acks_file = args.acknowledged or ack_path(args.results)
    if args.acknowledged is not None and not acks_file.is_file():
        raise InputError(f"acknowledgements file not found: {acks_file}")
    acks = load_acknowledged(acks_file)
    db = load_results(args.results)
    for s in db.skipped:
        _warn(f"skipped {s.path}: {s.reason}")
    _check_judgeable(db, args.results)
    for w in acknowledged_warnings(acks_file, acks, db.table):
        _warn(w)
    if args.by == "release":
        from .releasegate import release_gate

        return release_gate(args, db, acks)
    found = find_regressions(
        db.table,
        threshold=args.threshold,
        since=args.since,
        acknowledged=acks,
        results_dir=args.results,  # the per-series models kept beside the results
        kinds=KINDS,
    )
    if args.min_corroboration:
        found = found[found["corroboration"] >= args.min_corroboration]
    wanted = {"regression"}
    wanted |= {"improvement"} if args.improvements else set()
    wanted |= {"below threshold"} if args.below_threshold else set()
    wanted |= {"outlier"} if args.outliers else set()
    if args.confirm:  # paired re-measurement decides the gate instead
        return paired.confirm_regressions(args, found)
    shown = found[found["kind"].isin(wanted)]
    rows = list(shown.itertuples(index=False))
    gate = bool(found["fails_gate"].any()) if len(found) else False
    counts = found["kind"].value_counts()
    if args.json:
        print(json.dumps([_as_json(r) for r in rows], indent=2))
        return 1 if gate else 0
    n_series = db.table.groupby(SERIES_KEYS, observed=True).ngroups
    for kind in KINDS:
        if kind in wanted:
            title = f"regressions in {args.results}" if kind == "regression" else kind
            _print_table(title, [r for r in rows if r.kind == kind])
    regs = [r for r in rows if r.kind == "regression"]
    n_open = sum(bool(r.fails_gate) for r in regs)
    n_ack = sum(bool(r.acknowledged) for r in regs)
    n_res = sum(bool(r.resolved) and not r.acknowledged for r in regs)
    others = ", ".join(
        f"{int(counts.get(k, 0))} {k}{'s' if k != 'below threshold' else ''}"
        + (
            ""
            if k in wanted
            else f" (--{k.replace(' ', '-')}{'s' if k != 'below threshold' else ''})"
        )
        for k in KINDS[1:]
    )
    floor = f"; seen in >= {args.min_corroboration} other series" if args.min_corroboration else ""
    print(
        f"{n_series} series, {len(regs)} regressions: {n_open} open, {n_ack} acknowledged, "
        f"{n_res} resolved; {others}; threshold {args.threshold:.0%}{floor}"
    )
    return 1 if gate else 0
