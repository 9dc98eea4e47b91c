"""The synthetic cells written as a real asv results database (result format 2).

benchmarks.json, machine.json and one result file per commit with asv's statistics
(``stats_ci_99_a/b``, quartiles, samples) computed by asv_runner as asv does, so the
evaluation reads the histories through the same reader as any real database. The result
files go through the format's one writer, `asvformat.write_result_file`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..asvformat import write_result_file
from .synthetic import Cell, commit_hash

MACHINE = "evalbox"
ENV = "virtualenv-py3.11"
_T0_MS = 1_700_000_000_000  # the first commit's date; one commit an hour after it
_STATS = ("ci_99_a", "ci_99_b", "q_25", "q_75", "number", "repeat")


def _benchmarks(cells: list[Cell]) -> dict[str, Any]:
    """benchmarks.json: one benchmark per cell, one parameter (the replicate)."""
    benchmarks: dict[str, Any] = {
        c.name: {
            "name": c.name,
            "type": "time",
            "unit": "seconds",
            "param_names": ["replicate"],
            "params": [[str(r) for r in range(len(c.truth))]],
            "version": "1",
            "timeout": 60,
        }
        for c in cells
    }
    benchmarks["version"] = 2
    return benchmarks


def _row(cell: Cell, i: int, params: list[list[str]]) -> dict[str, Any]:
    """One cell's result at commit ``i``, by column name: every replicate's median and
    statistics of its samples."""
    from asv_runner.statistics import compute_stats

    row: dict[str, Any] = {k: [] for k in ("result", *(f"stats_{s}" for s in _STATS))}
    row["samples"] = []
    for r in range(len(cell.truth)):
        s = cell.samples[r, i].tolist()
        value, stats = compute_stats(s, 1)
        row["result"].append(float(value))
        for name in ("ci_99_a", "ci_99_b", "q_25", "q_75"):
            row[f"stats_{name}"].append(float(stats[name]))
        row["stats_number"].append(1)
        row["stats_repeat"].append(len(s))
        row["samples"].append(s)
    started = _T0_MS + i * 3_600_000
    return row | {"params": params, "version": "1", "started_at": started, "duration": 1.0}


def write_asv_db(root: Path, cells: list[Cell]) -> None:
    """Write ``cells`` as an asv results database (format 2) under ``root``."""
    (root / MACHINE).mkdir(parents=True)
    benchmarks = _benchmarks(cells)
    (root / "benchmarks.json").write_text(json.dumps(benchmarks))
    (root / MACHINE / "machine.json").write_text(
        json.dumps({"machine": MACHINE, "arch": "x86_64", "cpu": "synthetic", "version": 1})
    )
    n_commits = cells[0].samples.shape[1]
    for i in range(n_commits):
        commit = commit_hash(i)
        header = {
            "commit_hash": commit,
            "env_name": ENV,
            "date": _T0_MS + i * 3_600_000,
            "params": {"machine": MACHINE, "python": "3.11"},
            "python": "3.11",
            "requirements": {},
            "env_vars": {},
            "durations": {},
        }
        rows = {c.name: _row(c, i, benchmarks[c.name]["params"]) for c in cells}
        write_result_file(root / MACHINE / f"{commit[:8]}-{ENV}.json", header, rows)
