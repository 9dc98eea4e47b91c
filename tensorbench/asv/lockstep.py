"""Lockstep rounds of a paired run: one serving process per side, single samples alternated.

`tensorbench.asv.paired.run_paired` calls `lockstep_round` for ``interleave="samples"``; its
docstring says why and what was measured. Kept apart so the schedule of whole processes and
this one each fit in a module; the records and config are paired.py's ``PointRecord`` and
``PairedConfig`` (typed loosely here: importing them back would be a cycle).
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from ..analysis.paired import mirrored_order
from .worker import ServingWorker, Side, WorkerError


def lockstep_round(
    sides: dict[str, Side],
    start_order: list[str],
    round_index: int,
    todo: list[Any],
    config: Any,
) -> None:
    """One ``interleave="samples"`` round (see `run_paired`); results into the records.

    Each side's process prepares every point in ``todo`` (one process at a time, so no
    preparation overlaps another's samples); a side where a point skips or fails reports it
    as a whole-process round does. Each point then takes ``2 * ceil(samples / 2)`` samples per side, in
    mirrored order rotated per pair of samples. A process that dies makes the point it was on
    a fault on that side; the points after it take no value this round.
    """
    points = [rec.point for rec in todo]
    workers: dict[str, ServingWorker] = {}
    dead: set[str] = set()
    try:
        for s in start_order:
            worker = ServingWorker(sides[s], points, config.sample_time, config.worker_timeout)
            workers[s] = worker
            try:
                reports = worker.start()
            except WorkerError as exc:
                reports = list(exc.results)
                dead.add(s)
                if len(reports) < len(todo):
                    rec = todo[len(reports)]
                    rec.status, rec.reason, rec.side, rec.open = "fault", str(exc), s, False
            for rec, rep in zip(todo, reports, strict=False):
                if rep.get("status") != "ok" and rec.status == "ok":
                    rec.status = "skip" if rep.get("status") == "skip" else "fail"
                    rec.reason = str(rep.get("reason") or "no reason given")
                    rec.side = s
                    rec.open = False
        names = list(sides)
        for index, rec in enumerate(todo):
            if rec.status != "ok" or dead:
                continue
            times: dict[str, list[float]] = {s: [] for s in names}
            last: str | None = None
            for k in range(math.ceil(config.samples / 2)):
                for s in mirrored_order(round_index + k, names):
                    if last is not None and last != s:
                        workers[last].settle()  # its pool's spinning threads are not s's load
                    last = s
                    try:
                        times[s].append(workers[s].sample(index))
                    except WorkerError as exc:
                        dead.add(s)
                        rec.status, rec.reason, rec.side, rec.open = "fault", str(exc), s, False
                        break
                if dead:
                    break
            if dead:
                continue
            for s in names:
                rec.values[s][-1].append(statistics.median(times[s]))
    finally:
        for worker in workers.values():
            worker.close()
