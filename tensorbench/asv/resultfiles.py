"""Result-file transforms: merge a suite run into earlier results, annotate with our facts.

asv ignores unknown keys, so every result file carries a ``"tensorbench"`` entry: the suites
run, threads, BLAS kernel and framework build facts, the reason for every skipped point and
the work (FLOPs, edges) of one call.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..analysis.asvfile import PER_COMBINATION, named_rows, result_data, write_result_data
from ..conventions import REPO
from ..noise import busy_reason
from ..timing import HARNESS, ROUNDS
from .grid import grid_key
from .suites import Suite
from .variance import intervals


def load_result(path: Path) -> dict[str, Any]:
    with open(path) as f:
        return json.load(f)


def save_result(path: Path, data: dict[str, Any]) -> None:
    write_result_data(path, data)


def _is_missing(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def merge_results(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """Keep ``old`` values where ``new`` skipped a point that ``old`` measured.

    Only within a benchmark whose parameter grid and version are unchanged, and only for points
    the new run skipped (NaN): an earlier value or failure (null) of that commit comes back;
    a point the new run measured or saw fail is never replaced.
    """
    rows, old_rows = named_rows(new), named_rows(old)
    for name, old_row in old_rows.items():
        row = rows.get(name)
        if row is None:
            rows[name] = old_row
            new.setdefault("durations", {}).update(
                {k: v for k, v in old.get("durations", {}).items() if k.startswith(name)}
            )
            continue
        if row["params"] != old_row["params"] or row["version"] != old_row["version"]:
            continue
        for j, (value, old_value) in enumerate(zip(row["result"], old_row["result"], strict=False)):
            if _is_missing(value) and not _is_missing(old_value):
                for column in PER_COMBINATION:  # the point's statistics and samples with it
                    if j < len(row[column]) and j < len(old_row[column]):
                        row[column][j] = old_row[column][j]
    new.update(result_data({}, rows))
    return new


def read_work_log(path: Path) -> dict[str, dict[str, dict[str, float | None]]]:
    """grid key -> {param key: {"flops", "edges"[, "ci99"]}} from the benchmark processes' log
    (``ci99``: the 99 % interval of a track_ point that measures its own, as asv does not)."""
    work: dict[str, dict[str, dict[str, float | None]]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                rec = json.loads(line)
                entry = {"flops": rec["flops"], "edges": rec["edges"]}
                if rec.get("ci99") is not None:  # a claim figure's interval (claimfigures)
                    entry["ci99"] = rec["ci99"]
                work.setdefault(rec["bench"], {})[rec["param_key"]] = entry
            except (ValueError, KeyError, TypeError):
                continue  # a torn line from a killed process: that point has no work figure
    return work


def annotate(
    data: dict[str, Any],
    env: str,
    probe: dict[str, Any],
    suite: Suite | None,
    dirty: bool,
    work: dict[str, dict] | None = None,
    load: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Stable env name, python version, and the "tensorbench" facts entry.

    ``load`` holds the machine-load snapshots taken at the start and end of this run
    (:mod:`tensorbench.noise`); a busy run marks the whole file, since asv keeps no per-point
    timestamps that would say which points a busy spell touched.
    """
    data["env_name"] = env
    data.setdefault("params", {})["python"] = probe["python"]
    data["python"] = probe["python"]
    for k, v in probe["params"].items():  # searchable in asv publish: threads, blas, builds
        data["params"][k] = v
    previous = data.get("tensorbench", {})
    suites = sorted(set(previous.get("suites", [])) | ({suite.name} if suite else set()))
    reasons = dict(previous.get("skip_reasons", {}))
    works = dict(previous.get("work", {}))
    for name in data.get("results", {}):
        key = grid_key(name)
        if key and key in probe["skip_reasons"]:
            reasons[name] = {**reasons.get(name, {}), **probe["skip_reasons"][key]}
        if key and work and key in work:
            works[name] = {**works.get(name, {}), **work[key]}
    data["tensorbench"] = {
        "suites": suites,
        "threads": probe["threads"],
        "facts": probe["facts"],
        "skip_reasons": reasons,  # benchmark -> {param_key: reason}
        "work": works,  # benchmark -> {param_key: {"flops", "edges"}} of one call
        "dirty_tree": dirty or previous.get("dirty_tree", False),
        "harness": HARNESS,
        # per timed benchmark: processes pooled per point, and each point's 95 % interval
        # including the measured between-process spread (asv's own covers samples only)
        "intervals": {**previous.get("intervals", {}), **intervals(data, ROUNDS)},
    }
    if load is not None:
        data["tensorbench"]["load"] = load
        data["tensorbench"]["busy"] = busy_reason(load["start"], load["end"])
    return data


def result_files(machine_dir: Path, commit: str) -> dict[str, Path]:
    return {str(p): p for p in machine_dir.glob(f"{commit[:8]}-*.json")}


def snapshot(machine: str, repo: Path = REPO) -> dict[str, dict]:
    folder = repo / "results" / machine
    return {str(p): load_result(p) for p in folder.glob("*.json") if p.name != "machine.json"}
