"""Confirm flagged regressions and bisect a change, both by paired runs (`tensorbench.asv.paired`).

- `confirm`: each regression the detector flagged in the results database (last good commit vs
  first bad commit; a ranged regression's two endpoints) is measured again, paired and
  interleaved; it is *confirmed* only when the paired verdict is "slower" by more than the "same" band (`confirms_slower`). A detector working
  on one run per commit cannot tell a real step from a stretch of runs the host happened to
  take slow; re-measuring both commits side by side in one window can.
- `bisect`: a change between a good and a bad commit (first-parent history) narrowed to one
  commit by binary search; each step times the range's good end, the midpoint and the bad end
  in the same interleaved rounds and moves to the side that carries the change
  (`tensorbench.analysis.paired.midpoint_reading`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..analysis.paired import MidpointReading, PairedResult, confirms_slower, midpoint_reading
from ..errors import ExternalError, InputError
from .paired import (
    PairedConfig,
    PairedRun,
    PointRecord,
    Progress,
    Worktrees,
    deciding,
    git,
    inject_env,
    point_name,
    resolve_commit,
    run_paired,
    worktrees,
)
from .worker import Point, Side

Say = Callable[[str], None]


def paired_commits(
    pool: Worktrees,
    a: str,
    b: str,
    points: Sequence[Point],
    config: PairedConfig,
    python: str,
    *,
    inject_b: float | None = None,
    progress: Progress | None = None,
) -> PairedRun:
    """One paired run of commit ``a`` (side A) against ``b`` (side B) on ``points``, with more
    rounds for a point still inconclusive at the cap (`deciding`): confirm and bisect act on it."""
    sides = {
        "A": Side(f"{a[:8]}", python, pool.get(a)),
        "B": Side(f"{b[:8]}", python, pool.get(b), env=inject_env(inject_b)),
    }
    return run_paired(sides, points, deciding(config), progress=progress)


def first_parent_range(repo: Path, good: str, bad: str) -> list[str]:
    """Full hashes from ``good`` to ``bad`` along ``bad``'s first-parent history, both included."""
    g, b = resolve_commit(repo, good), resolve_commit(repo, bad)
    chain = git("rev-list", "--first-parent", "--reverse", f"{g}..{b}", cwd=repo).split()
    if not chain:
        raise InputError(f"--bad {bad} is not after --good {good}")
    parent = git("rev-parse", f"{chain[0]}^1", cwd=repo) if chain else ""
    if parent != g:
        raise InputError(f"--good {good} is not on the first-parent history of --bad {bad}")
    return [g, *chain]


@dataclass
class BisectStep:
    """One paired run of the good commit against ``commit`` (position ``index`` in the range)."""

    commit: str
    index: int
    result: PairedResult | None
    changed: bool
    note: str = ""
    reading: MidpointReading | None = None  # the three-way reading of a midpoint step


@dataclass
class BisectOutcome:
    point: Point
    commits: list[str]
    steps: list[BisectStep] = field(default_factory=list)
    first_bad: str | None = None  # None: the change between good and bad is not confirmed
    last_good: str | None = None
    direction: str | None = None  # slower | faster

    def to_json(self) -> dict[str, Any]:
        return {
            "point": point_name(self.point),
            "range": self.commits,
            "first_bad": self.first_bad,
            "last_good": self.last_good,
            "direction": self.direction,
            "steps": [
                {
                    "commit": s.commit,
                    "index": s.index,
                    "changed": s.changed,
                    "note": s.note,
                    "result": s.result.to_dict() if s.result else None,
                    "reading": _reading_dict(s.reading),
                }
                for s in self.steps
            ],
        }


def _one(
    pool: Worktrees, good: str, other: str, point: Point, config: PairedConfig, python: str
) -> PairedResult:
    """``good`` against ``other`` on one point; a skip or failure there is bad input, a dead
    worker a fault."""
    run = paired_commits(pool, good, other, [point], config, python)
    rec = run.records[0]
    if rec.status == "ok":
        return rec.results[("A", "B")]
    side = run.sides[rec.side].label if rec.side in run.sides else rec.side
    message = f"{point_name(point)}: {rec.status} on {side}: {rec.reason}"
    if rec.status == "fault":
        raise ExternalError(f"worker died: {message}")
    raise InputError(message)


def _reading_dict(r: MidpointReading | None) -> dict[str, Any] | None:
    if r is None:
        return None
    finite = lambda v: float(v) if math.isfinite(v) else None  # noqa: E731
    return {
        "rounds": r.rounds,
        "estimate": finite(r.estimate),
        "low": finite(r.low),
        "high": finite(r.high),
        "share": finite(r.share),
        "decided": r.decided,
    }


def _three(
    pool: Worktrees,
    ends: tuple[str, str, str],
    point: Point,
    config: PairedConfig,
    python: str,
    slower: bool,
) -> tuple[MidpointReading, PairedResult]:
    """The range's good end, its midpoint and its bad end (``ends``) timed in the same mirrored
    rounds (G M B B M G, rotated); the point closes once the midpoint's side is decided, else
    at the cap. Returns the reading and the midpoint against the good end."""
    good, mid, bad = ends
    sides = {
        "G": Side(f"{good[:8]}", python, pool.get(good)),
        "M": Side(f"{mid[:8]}", python, pool.get(mid)),
        "B": Side(f"{bad[:8]}", python, pool.get(bad)),
    }

    def reading(rec: PointRecord) -> MidpointReading:
        v = rec.values
        return midpoint_reading(v["G"], v["M"], v["B"], slower, config.confidence)

    run = run_paired(
        sides,
        [point],
        deciding(config),
        [("G", "M"), ("M", "B")],
        close_when=lambda rec: reading(rec).decided,
    )
    rec = run.records[0]
    if rec.status != "ok":
        side = run.sides[rec.side].label if rec.side in run.sides else rec.side
        message = f"{point_name(point)}: {rec.status} on {side}: {rec.reason}"
        if rec.status == "fault":
            raise ExternalError(f"worker died: {message}")
        raise InputError(message)
    return reading(rec), rec.results[("G", "M")]


def bisect(
    repo: Path,
    point: Point,
    good: str,
    bad: str,
    config: PairedConfig,
    python: str,
    say: Say = print,
) -> BisectOutcome:
    """Binary search for the first commit of ``good..bad`` that differs from ``good``.

    First the endpoints are compared (the change must read "slower" or "faster"). Then each
    step times the current range's good end, its midpoint and its bad end in the same rounds
    and asks which half carries more of the change (`midpoint_reading`): the midpoint is
    *changed* when ``log(mid/good)`` exceeds ``log(bad/mid)``, decided once the interval of
    that difference excludes 0 (more rounds until then, up to the cap; at the cap the
    estimate decides and the step says so). Why not the good end against the midpoint alone,
    judged by half of the first endpoints' ratio: that comparison's interval was as wide as
    the step sought, and an unchanged midpoint (an A/A comparison) once read +10 % "slower".
    Where several commits share the change, this finds the one that crosses half of it.
    Every step is said via ``say``.
    """
    commits = first_parent_range(repo, good, bad)
    out = BisectOutcome(point, commits)
    with worktrees(repo) as pool:
        g = commits[0]
        res = _one(pool, g, commits[-1], point, config, python)
        out.steps.append(BisectStep(commits[-1], len(commits) - 1, res, True, "endpoints"))
        say(f"endpoints {g[:8]}..{commits[-1][:8]} ({len(commits) - 1} commits): {res.describe()}")
        if res.verdict not in ("slower", "faster"):
            say("no change confirmed between the endpoints: nothing to bisect")
            return out
        out.direction = res.verdict
        lo, hi = 0, len(commits) - 1
        step = 0
        while hi - lo > 1:
            step += 1
            mid = (lo + hi) // 2
            ends = (commits[lo], commits[mid], commits[hi])
            reading, r = _three(pool, ends, point, config, python, res.verdict == "slower")
            changed = reading.changed
            how = "decided" if reading.decided else "undecided at the cap: by the estimate"
            note = f"{reading.share:.0%} of the range's change, {reading.rounds} rounds, {how}"
            out.steps.append(BisectStep(commits[mid], mid, r, changed, note, reading))
            if changed:
                hi = mid
            else:
                lo = mid
            say(
                f"step {step}: {commits[mid][:8]} ({mid}/{len(commits) - 1}) between "
                f"{ends[0][:8]} and {ends[2][:8]}: vs good {r.describe()}; "
                f"-> {'changed' if changed else 'as good'} ({note}); "
                f"range now {commits[lo][:8]}..{commits[hi][:8]}"
            )
        out.last_good, out.first_bad = commits[lo], commits[hi]
        subject = git("log", "-1", "--format=%s", out.first_bad, cwd=repo)
        say(f"first {out.direction} commit: {out.first_bad[:8]} {subject}")
    return out


# -- confirming the regression table ---------------------------------------------------------


@dataclass
class Confirmation:
    """The paired re-measurement of one flagged regression."""

    index: int  # row position in the regression table
    point: Point | None
    last_good: str
    first_bad: str
    status: str  # confirmed | not confirmed | not measured
    result: PairedResult | None = None
    reason: str = ""

    def describe(self) -> str:
        if self.result is None:
            return f"{self.status}: {self.reason}"
        return f"{self.status}: paired {self.result.describe()}"


def confirm(
    repo: Path,
    rows: Sequence[Any],
    config: PairedConfig,
    python_for: Callable[[Any], str],
    point_of: Callable[[Any], Point | None],
    say: Say = print,
    progress: bool = True,
) -> list[Confirmation]:
    """Re-measure each regression row paired (A = last good commit, B = first bad commit).

    Rows sharing a commit pair and an interpreter are measured in one paired run. A row
    whose point cannot be timed by a worker (not a time_ benchmark, a commit missing from
    ``repo``, the point skipped or failing there) is "not measured", with the reason.
    """
    out: list[Confirmation | None] = [None] * len(rows)
    groups: dict[tuple[str, str, str], list[tuple[int, Point]]] = {}
    for i, row in enumerate(rows):
        a, b = str(row.last_good_commit), str(row.first_bad_commit)
        point = point_of(row)
        if point is None:
            out[i] = Confirmation(i, None, a, b, "not measured", reason="not a time_ grid point")
            continue
        try:
            a_full, b_full = resolve_commit(repo, a), resolve_commit(repo, b)
        except InputError as exc:
            out[i] = Confirmation(i, point, a, b, "not measured", reason=str(exc))
            continue
        groups.setdefault((a_full, b_full, python_for(row)), []).append((i, point))
    with worktrees(repo) as pool:
        for n, ((a, b, python), members) in enumerate(groups.items(), 1):
            points = list(dict.fromkeys(p for _, p in members))
            say(
                f"confirming {len(members)} regression(s) at {a[:8]}..{b[:8]} "
                f"({n}/{len(groups)}): {len(points)} point(s), paired"
            )
            bar = Progress(0) if progress else None
            run = paired_commits(pool, a, b, points, config, python, progress=bar)
            for i, point in members:
                rec = next(r for r in run.records if r.point == point)
                if rec.status != "ok":
                    side = run.sides[rec.side].label if rec.side in run.sides else rec.side
                    out[i] = Confirmation(
                        i,
                        point,
                        a,
                        b,
                        "not measured",
                        reason=f"{rec.status} on {side}: {rec.reason}",
                    )
                    continue
                res = rec.results.get(("A", "B"))
                status = (
                    "confirmed" if res is not None and confirms_slower(res) else "not confirmed"
                )
                out[i] = Confirmation(i, point, a, b, status, res)
    return [c for c in out if c is not None]
