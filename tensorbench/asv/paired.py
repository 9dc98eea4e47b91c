"""Paired, interleaved runs: sides timed in alternating fresh worker processes, round by round.

`tensorbench compare --paired A B` (and `regressions --confirm`, `bisect`) run here. A *side*
(`tensorbench.asv.worker.Side`) is an interpreter plus, for a commit, a checkout in a temporary
``git worktree``. Each round runs every side's worker processes in mirrored order (A B B A, then
B A A B: `tensorbench.analysis.paired.mirrored_order`), every process timing all points still
open; the statistics (per-round log ratios, their interval, verdict, when a point is settled) are
`tensorbench.analysis.paired`'s. Why: this host drifts 5-10 % over minutes and fresh processes
differ (heap layout, thread placement); run A then run B cannot see 5 %, pairs inside one short
window can (as Chromium's Pinpoint confirms and bisects; pyperf uses many worker processes).

Points that skip or fail on a side are reported with the side and the reason and leave the
comparison; a worker process that dies is a *fault*: the point it died on is named with the
side, and the other points go on.
"""

from __future__ import annotations

import contextlib
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..analysis.paired import (
    DEFAULT_CONFIDENCE,
    DEFAULT_SAME_WITHIN,
    PairedResult,
    mirrored_order,
    paired_from_rounds,
    settled,
)
from ..errors import ExternalError, InputError
from .claimfigures import CLAIM_PARTS
from .grid import GRID
from .lockstep import lockstep_round
from .suites import Suite
from .worker import INJECT_ENV, Point, Side, WorkerError, run_worker

TEMP_PREFIX = "tensorbench-compare-"  # every temporary worktree folder starts with this
# Grid entries whose benchmarks are not time_ ones (track_ or peakmem_): nothing to pair.
# track_ entries (a claim's figure times its own parts: tensorbench.asv.claimfigures)
_NOT_TIMED = ("peak_gflops", "peak_gbps", "gcn_accuracy", "transfer") + tuple(
    # the claims' figures (track_: their parts timed inside one process)
    name
    for base in CLAIM_PARTS
    for name in (base, f"{base}_modes")
    if name in GRID
)

# Per-process costs for the estimate printed before a run (measured here, 2 vCPUs): start-up
# with NumPy and the package, and per point preparation (build, validate) beyond calibration.
EST_PROCESS_S = 1.5
EST_PREPARE_S = 0.4
CALIBRATE_S = 0.25  # tensorbench.timing.CALIBRATE_S: warm-up + calibration per point
EST_SETTLE_S = 0.1  # ServingWorker.settle: OpenBLAS's threads spin ~0.1 s after a call


INTERLEAVES = ("samples", "processes")


@dataclass(frozen=True)
class PairedConfig:
    """How many rounds and samples a paired run takes, and what "same" means."""

    min_rounds: int = 6  # the signed-rank interval needs 6 (tensorbench.analysis.paired)
    # An A/A interval fits inside +-2 % only after ~20 rounds where a round's log ratio
    # scatters by 2-3 %, as here (docs/paired-power.md: at 12 rounds 7-15 of 20 A/A runs
    # read "same", at 21-24 rounds 29 of 30)
    max_rounds: int = 24
    samples: int = 6  # samples per point per process (process-to-process noise dominates)
    sample_time: float = 0.02
    same_within: float = DEFAULT_SAME_WITHIN
    confidence: float = DEFAULT_CONFIDENCE
    target: float | None = None  # settled half-width (log); None: 0.4 x the band
    # Rounds beyond max_rounds for a point whose verdict is still "inconclusive" (0: none).
    # A gate acts on the verdict, so confirm and bisect take more rounds where one is missing,
    # as Pinpoint raises its repeat count on an unclear comparison.
    extend_rounds: int = 0
    worker_timeout: float | None = 1800.0
    # "samples": each round starts one serving process per side and alternates single
    # samples of them; "processes": each round runs two whole processes per side, mirrored
    # (see run_paired, and docs/paired-power.md for what each measured here).
    interleave: str = "samples"

    def check(self) -> None:
        if not 2 <= self.min_rounds <= self.max_rounds:
            raise InputError(
                f"rounds: need 2 <= min ({self.min_rounds}) <= max ({self.max_rounds})"
            )
        if self.extend_rounds < 0:
            raise InputError(f"extend_rounds must be >= 0, got {self.extend_rounds}")
        if self.samples < 1:
            raise InputError(f"--samples must be >= 1, got {self.samples}")
        if not 0 < self.same_within < 1:
            raise InputError(f"--same-within must be in (0, 1), got {self.same_within}")
        if self.interleave not in INTERLEAVES:
            raise InputError(f"--interleave must be one of {INTERLEAVES}, got {self.interleave!r}")


# A run that a gate acts on (confirm, bisect) goes on to this many rounds in all for a point
# still inconclusive at max_rounds: a +10 % step read 1.036 [0.943, 1.108] after 12 rounds of a
# workload whose processes differ by +-10 %, and an undecided confirmation drops a true step.
DECIDING_ROUNDS = 36


def deciding(config: PairedConfig) -> PairedConfig:
    """``config`` for a run whose verdict something acts on: ``extend_rounds`` set (up to
    `DECIDING_ROUNDS` in all), unless the caller chose one."""
    if config.extend_rounds:
        return config
    return replace(config, extend_rounds=max(DECIDING_ROUNDS - config.max_rounds, 0))


@dataclass
class PointRecord:
    """What one point collected: per side, per round, the medians of that side's processes."""

    point: Point
    values: dict[str, list[list[float]]] = field(default_factory=dict)
    status: str = "ok"  # ok | skip | fail | fault
    reason: str | None = None
    side: str | None = None  # the side a skip, failure or fault happened on
    results: dict[tuple[str, str], PairedResult] = field(default_factory=dict)
    open: bool = True


@dataclass
class PairedRun:
    """The outcome of `run_paired`: a record per point, and what the run cost."""

    sides: dict[str, Side]
    comparisons: list[tuple[str, str]]
    records: list[PointRecord]
    rounds: int
    processes: int
    wall_s: float
    config: PairedConfig

    def result(self, point: Point, pair: tuple[str, str] | None = None) -> PairedResult | None:
        pair = pair or self.comparisons[0]
        for r in self.records:
            if r.point == point:
                return r.results.get(pair)
        return None

    @property
    def faults(self) -> list[PointRecord]:
        return [r for r in self.records if r.status == "fault"]

    def slower(self, pair: tuple[str, str] | None = None) -> list[PointRecord]:
        pair = pair or self.comparisons[0]
        return [
            r
            for r in self.records
            if r.status == "ok" and pair in r.results and r.results[pair].verdict == "slower"
        ]


# -- points ----------------------------------------------------------------------------------


def point_name(point: Point) -> str:
    """``matmul('numpy:cpu', 128, 'float32')``: what --bench regexes match (asv's spelling)."""
    return f"{point.bench}({', '.join(repr(p) for p in point.params)})"


def suite_points(suite: Suite) -> tuple[list[Point], list[tuple[Point, str]]]:
    """The suite's grid points in grid order, and the ones not timed here, with the reason."""
    points: list[Point] = []
    skipped: list[tuple[Point, str]] = []
    for bench, entry in GRID.items():
        sel = suite.workloads.get(bench)
        if sel is None:
            continue
        threads: list[Any] = [t for t in entry.threads if t in sel.threads] or [None]
        modes: list[Any] = list(entry.modes) or [None]
        for backend in entry.backends:
            if backend not in sel.backends:
                continue
            for size in entry.sizes:
                if size not in sel.sizes:
                    continue
                for dtype in entry.dtypes:
                    if dtype not in sel.dtypes:
                        continue
                    for th in threads:
                        for mode in modes:
                            params: tuple[Any, ...] = (backend, size, dtype)
                            params += (th,) if th is not None else ()
                            params += (mode,) if mode is not None else ()
                            p = Point(bench, params)
                            if bench in _NOT_TIMED or bench.endswith("_gpumem"):
                                skipped.append((p, "not a time_ benchmark (track_ or peakmem_)"))
                            else:
                                points.append(p)
    return points, skipped


def filter_points(points: Iterable[Point], regex: str | None) -> list[Point]:
    """Points whose name (`point_name`, also with asv's ``time_`` prefix) matches ``regex``."""
    if not regex:
        return list(points)
    try:
        pattern = re.compile(regex)
    except re.error as exc:
        raise InputError(f"--bench {regex!r}: not a regular expression ({exc})") from None
    return [
        p
        for p in points
        if pattern.search(point_name(p)) or pattern.search("time_" + point_name(p))
    ]


def point_from_row(benchmark: str, params: dict[str, Any]) -> Point | None:
    """The worker point of a results-table row (asv name + parameter dict), or None.

    ``bench_array.Matmul.time_matmul`` with backend/size/dtype -> ``matmul(backend, size,
    dtype)``: the grid key is the method name without ``time_``; parameters in grid order.
    """
    method = str(benchmark).rsplit(".", 1)[-1]
    if not method.startswith("time_"):
        return None
    bench = method[len("time_") :]
    entry = GRID.get(bench)
    if entry is None or not isinstance(params, dict):
        return None
    size_name = "graph" if any(isinstance(s, str) for s in entry.sizes) else "size"
    names = ["backend", size_name, "dtype"]
    names += ["threads"] if entry.threads else []
    names += ["mode"] if entry.modes else []
    if any(n not in params for n in names):
        return None
    values = []
    for n in names:
        v = params[n]
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        values.append(v)
    return Point(bench, tuple(values))


# -- worktrees ------------------------------------------------------------------------------


def git(*args: str, cwd: Path) -> str:
    """Run git; a failure is an ExternalError carrying git's last line."""
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:
        raise ExternalError("git is not installed") from None
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        raise ExternalError(f"git {' '.join(args[:2])}: {tail}")
    return proc.stdout.strip()


def resolve_commit(repo: Path, rev: str) -> str:
    """The full hash of ``rev`` in ``repo``; an unknown commit is bad input (exit 2)."""
    proc = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise InputError(f"unknown commit {rev!r} in {repo}")
    return proc.stdout.strip()


class Worktrees:
    """Temporary worktrees of one repository, added on first use (see `worktrees`)."""

    def __init__(self, repo: Path, folder: Path) -> None:
        self.repo = repo
        self.folder = folder
        self.trees: dict[str, Path] = {}

    def get(self, commit: str) -> Path:
        """The worktree of ``commit`` (a full hash), checked out on first use."""
        if commit not in self.trees:
            tree = self.folder / f"tree-{commit[:12]}"
            self.trees[commit] = tree  # registered first: a Ctrl-C mid-add is cleaned up too
            git("worktree", "add", "--detach", str(tree), commit, cwd=self.repo)
        return self.trees[commit]


@contextlib.contextmanager
def worktrees(repo: Path) -> Iterator[Worktrees]:
    """Temporary worktrees of ``repo``'s commits, removed however the block ends.

    One temporary folder (``tensorbench-compare-*``) holds them; on exit (normal, error or
    Ctrl-C) every worktree is unregistered from the repository and the folder deleted, so
    neither the temporary directory nor ``git worktree list`` keeps anything.
    """
    top = Path(git("rev-parse", "--show-toplevel", cwd=repo))
    pool = Worktrees(top, Path(tempfile.mkdtemp(prefix=TEMP_PREFIX)))
    try:
        yield pool
    finally:
        for tree in pool.trees.values():
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)],
                cwd=top,
                capture_output=True,
            )
        shutil.rmtree(pool.folder, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=top, capture_output=True)


# -- cost estimate and progress ---------------------------------------------------------------


def estimate(n_points: int, n_sides: int, config: PairedConfig) -> dict[str, float]:
    """Processes and wall seconds a run may take: the minimum and the cap of rounds (with the
    extension for inconclusive points).

    Per process: start-up plus, per point, preparation, calibration and the samples (a point
    takes at least ``sample_time`` per sample; slower calls take longer, so this is a floor
    for points over 20 ms a call).
    """
    lockstep = config.interleave == "samples"
    # a lockstep sample waits for the previous side's threads to stop spinning first
    per_sample = config.sample_time + (EST_SETTLE_S if lockstep else 0.0)
    per_point = EST_PREPARE_S + CALIBRATE_S + config.samples * per_sample
    per_process = EST_PROCESS_S + n_points * per_point
    per_round = (1 if lockstep else 2) * n_sides
    cap = config.max_rounds + config.extend_rounds
    return {
        "processes_min": per_round * config.min_rounds,
        "processes_max": per_round * cap,
        "seconds_per_process": per_process,
        "seconds_min": per_round * config.min_rounds * per_process,
        "seconds_max": per_round * cap * per_process,
    }


def fmt_duration(s: float) -> str:
    """``42 s``, ``7 min``, ``1.5 h``: a cost estimate's precision."""
    if s < 120:
        return f"{s:.0f} s"
    return f"{s / 60:.0f} min" if s < 5400 else f"{s / 3600:.1f} h"


def fmt_elapsed(s: float) -> str:
    if not math.isfinite(s):
        return "?"
    s = int(round(s))
    return (
        f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )


class Progress:
    """A one-line progress bar on stderr (one line per process where stderr is not a tty)."""

    def __init__(self, total_max: int, stream: Any = None, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total_max = total_max
        self.start = time.monotonic()

    def update(self, done: int, expected: int, what: str) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        eta = elapsed / done * max(expected - done, 0) if done else math.nan
        width = 24
        filled = int(width * done / max(expected, 1))
        bar = "#" * filled + "." * (width - filled)
        line = (
            f"[{bar}] {done}/{expected} processes  {what}  elapsed {fmt_elapsed(elapsed)}"
            f"  left ~{fmt_elapsed(eta)}"
        )
        if self.tty:
            self.stream.write("\r" + line[:160].ljust(160))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


# -- the schedule ---------------------------------------------------------------------------


Runner = Callable[..., list[dict[str, Any]]]


def run_paired(
    sides: dict[str, Side],
    points: Sequence[Point],
    config: PairedConfig | None = None,
    comparisons: Sequence[tuple[str, str]] | None = None,
    *,
    progress: Progress | None = None,
    runner: Runner | None = None,
    close_when: Callable[[PointRecord], bool] | None = None,
) -> PairedRun:
    """Time ``points`` on every side in mirrored rounds until each is settled or the cap.

    ``sides`` maps a short name (``"A"``) to its `Side`; ``comparisons`` lists (baseline,
    candidate) pairs of those names, default the first two sides. Every round runs fresh
    processes on every side (`mirrored_order`), timing the points still open; after
    ``min_rounds`` a point closes once every comparison of it is `settled`; at ``max_rounds``
    it closes unless a comparison is still inconclusive, which goes on for at most
    ``extend_rounds`` more. ``close_when`` replaces that rule: from ``min_rounds`` on, a point
    closes once it returns True (bisect's three-way steps), else at the cap.

    How a round runs (``config.interleave``):

    - ``"processes"``: two whole worker processes per side (``runner``, default
      `run_worker`) in mirrored order; a side's round value is the geometric mean of their
      medians.
    - ``"samples"`` (default): one fresh serving process per side (`ServingWorker`) prepares
      the open points, started one after another; then, point by point, the parent takes
      single samples from the sides in mirrored order (A B B A, B A A B, ...), so every
      sample of A has a sample of B within ~2 sample times of it. A side's round value is the
      median of its samples. Why: this host drifts over seconds to tens of seconds
      (consecutive processes read alike, docs/paired-power.md), and a round of whole processes
      spans ~25 s, so the drift inside it was the round's noise; alternating samples cancels
      drift slower than a sample, and what is left is each process's own luck. Before the
      next side's sample the parent waits until the last side's threads are idle
      (`ServingWorker.settle`: OpenBLAS spins ~0.1 s after a call). The default because
      its round spread was the lower one, 2-4x at the same hour on one machine and at the
      1 ms point on the other, for half the processes a round (docs/paired-power.md).

    Passing a ``runner`` (the tests' fake workers) always runs whole processes.
    """
    config = config or PairedConfig()
    config.check()
    lockstep = runner is None and config.interleave == "samples"
    runner = runner or run_worker
    names = list(sides)
    pairs = list(comparisons or [(names[0], names[1])])
    records = [PointRecord(p, {s: [] for s in names}) for p in points]
    start = time.monotonic()
    processes = 0
    rounds = 0
    for r in range(config.max_rounds + config.extend_rounds):
        active = [rec for rec in records if rec.open]
        if not active:
            break
        rounds = r + 1
        for rec in active:
            for s in names:
                rec.values[s].append([])
        order = mirrored_order(r, names)
        if lockstep:
            if progress is not None:
                progress.update(
                    processes,
                    processes + len(names) * max(config.min_rounds - r, 1),
                    f"round {r + 1} ({len(active)} points)",
                )
            lockstep_round(sides, order[: len(names)], r, active, config)
            processes += len(names)
            order = []
        for i, s in enumerate(order):
            todo = [rec for rec in active if rec.open]
            if not todo:
                break
            if progress is not None:
                expected = (
                    processes + (len(order) - i) + len(order) * max(config.min_rounds - r - 1, 0)
                )
                progress.update(
                    processes, expected, f"round {r + 1} process {i + 1}/{len(order)} ({s})"
                )
            _run_one(sides[s], s, todo, config, runner)
            processes += 1
        for rec in active:
            if rec.status != "ok":
                rec.open = False
                continue
            rec.results = {
                (a, b): paired_from_rounds(
                    rec.values[a], rec.values[b], config.same_within, config.confidence
                )
                for a, b in pairs
            }
            results = rec.results.values()
            if close_when is not None:
                rec.open = not (rounds >= config.min_rounds and close_when(rec))
            elif all(settled(res, config.min_rounds, config.target) for res in results):
                rec.open = False
            elif rounds >= config.max_rounds and all(x.verdict != "inconclusive" for x in results):
                rec.open = False
    if progress is not None:
        progress.update(processes, processes, f"{rounds} rounds")
        progress.close()
    return PairedRun(
        sides=dict(sides),
        comparisons=pairs,
        records=records,
        rounds=rounds,
        processes=processes,
        wall_s=time.monotonic() - start,
        config=config,
    )


def _run_one(
    side: Side, name: str, todo: list[PointRecord], config: PairedConfig, runner: Runner
) -> None:
    """One worker process on ``side`` for the records in ``todo``; results into the records."""
    try:
        out = runner(
            side,
            [rec.point for rec in todo],
            samples=config.samples,
            sample_time=config.sample_time,
            timeout=config.worker_timeout,
        )
        died = None
    except WorkerError as exc:
        out = list(getattr(exc, "results", []))
        died = str(exc)
    except subprocess.TimeoutExpired:
        out, died = [], f"worker on {side.label} timed out after {config.worker_timeout:.0f} s"
    for rec, res in zip(todo, out, strict=False):
        status = res.get("status")
        if status == "ok":
            median = res.get("median")
            if isinstance(median, int | float) and median > 0:
                rec.values[name][-1].append(float(median))
            continue
        rec.status = "skip" if status == "skip" else "fail"
        rec.reason = str(res.get("reason") or "no reason given")
        rec.side = name
        rec.open = False
    if died is not None and len(out) < len(todo):
        # the point the process was on when it died; the points after it go on next time
        rec = todo[len(out)]
        rec.status, rec.reason, rec.side, rec.open = "fault", died, name, False


def inject_env(fraction: float | None) -> dict[str, str]:
    """Test-only: the worker environment that adds ``fraction`` of extra work to every call."""
    return {INJECT_ENV: repr(float(fraction))} if fraction else {}
