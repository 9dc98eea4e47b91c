"""What a paired run printed and returned: a JSON summary and the table on stdout
(`tensorbench compare --paired`)."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

from .paired import PairedRun, PointRecord, fmt_elapsed, point_name
from .worker import Point, Side


def run_to_json(run: PairedRun, skipped: Sequence[tuple[Point, str]] = ()) -> dict[str, Any]:
    """A JSON-ready summary: per point the status, the ratio per comparison, the cost."""
    pts = []
    for rec in run.records:
        row: dict[str, Any] = {
            "bench": rec.point.bench,
            "params": list(rec.point.params),
            "name": point_name(rec.point),
            "status": rec.status,
        }
        if rec.status != "ok":
            row.update(reason=rec.reason, side=_side_label(run, rec.side))
        row["comparisons"] = {
            f"{b}/{a}": res.to_dict() | {"median_a": _median(rec, a), "median_b": _median(rec, b)}
            for (a, b), res in rec.results.items()
        }
        pts.append(row)
    for p, reason in skipped:
        pts.append(
            {
                "bench": p.bench,
                "params": list(p.params),
                "name": point_name(p),
                "status": "skip",
                "reason": reason,
                "side": None,
                "comparisons": {},
            }
        )
    return {
        "sides": {k: _side_json(s) for k, s in run.sides.items()},
        "rounds": run.rounds,
        "processes": run.processes,
        "wall_s": round(run.wall_s, 1),
        "same_within": run.config.same_within,
        "confidence": run.config.confidence,
        "interval": "per-round log ratios: Hodges-Lehmann estimate and exact signed-rank "
        "interval from 6 rounds on, Student t below (each comparison's 'interval' says which)",
        "points": pts,
    }


def _median(rec: PointRecord, side: str) -> float | None:
    vals = sorted(v for rnd in rec.values.get(side, []) for v in rnd)
    return vals[len(vals) // 2] if vals else None


def _side_label(run: PairedRun, name: str | None) -> str | None:
    return None if name is None else run.sides[name].label if name in run.sides else name


def _side_json(side: Side) -> dict[str, Any]:
    return {
        "label": side.label,
        "python": side.python,
        "tree": str(side.tree) if side.tree else None,
        "env": dict(side.env),
    }


def fmt_seconds(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    for scale, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "us")):
        if v >= scale:
            return f"{v / scale:.3g} {unit}"
    return f"{v / 1e-9:.3g} ns"


def print_run(
    run: PairedRun, skipped: Sequence[tuple[Point, str]] = (), stream: Any = None
) -> None:
    """The per-point table: A, B, ratio B/A with its interval, rounds, verdict; then skips."""
    out = stream or sys.stdout
    a, b = run.comparisons[0]
    print(f"A = {run.sides[a].label}", file=out)
    print(f"B = {run.sides[b].label}", file=out)
    conf = f"{run.config.confidence:.0%}"
    print(
        f"{'point':58} {'A':>9} {'B':>9}  {'B/A [' + conf + ' interval]':27} {'rounds':>6}  verdict",
        file=out,
    )
    for rec in run.records:
        res = rec.results.get((a, b))
        if rec.status == "ok" and res is not None:
            interval = f"{res.ratio:.3f} [{res.low:.3f}, {res.high:.3f}]"
            print(
                f"{point_name(rec.point)[:58]:58} {fmt_seconds(_median(rec, a)):>9} "
                f"{fmt_seconds(_median(rec, b)):>9}  {interval:27} {res.rounds:>6}  "
                f"{res.verdict}",
                file=out,
            )
    problems = [rec for rec in run.records if rec.status != "ok"]
    if problems or skipped:
        print("not compared:", file=out)
        for rec in problems:
            print(
                f"  {point_name(rec.point)}: {rec.status} on {_side_label(run, rec.side)}: "
                f"{rec.reason}",
                file=out,
            )
        for p, reason in skipped:
            print(f"  {point_name(p)}: skip: {reason}", file=out)
    counts: dict[str, int] = {}
    for rec in run.records:
        res = rec.results.get((a, b))
        if rec.status == "ok" and res is not None:
            counts[res.verdict] = counts.get(res.verdict, 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "nothing compared"
    print(
        f"{summary}; same = inside +-{run.config.same_within:.1%}; {run.rounds} rounds, "
        f"{run.processes} processes, {fmt_elapsed(run.wall_s)}",
        file=out,
    )
