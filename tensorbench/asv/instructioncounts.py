"""The instruction counts file: written by `tensorbench run --measure instructions`, read by the
``track_*_instructions`` benchmarks (through ``tensorbench.asv_support.instruction_count``).

The counting itself is `tensorbench.asv.instructions` (which imports nothing of this package,
as it runs under valgrind as a script); this module owns the file between the two.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .instructions import COUNTS_ENV, param_key


def write_counts(path: Path, records: list[dict[str, Any]], facts: dict[str, Any]) -> None:
    """The counts file the track benchmarks read: bench -> param key -> record."""
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for r in records:
        table.setdefault(r["bench"], {})[r["param_key"]] = r
    Path(path).write_text(json.dumps({"facts": facts, "points": table}, indent=1))


def read_counts(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """bench -> param key -> record, from a counts file (empty when there is none)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    points = data.get("points") if isinstance(data, dict) else None
    return points if isinstance(points, dict) else {}


def instruction_count(bench: str, params: Sequence[Any], names: Sequence[str]) -> float:
    """Instructions per timed call of one grid point, from the counts in ``$TENSORBENCH_INSTRUCTIONS``.

    Raises ``LookupError`` with the reason where there is no count (no counts file, the point
    was not counted, it skipped); ``RuntimeError`` where counting it failed (a wrong result):
    asv records the first as a skip, the second as a failure.
    """
    path = os.environ.get(COUNTS_ENV)
    if not path:
        raise LookupError(
            f"no instruction counts (${COUNTS_ENV} unset): run tensorbench run --measure "
            "instructions"
        )
    if not Path(path).is_file():
        raise LookupError(f"no instruction counts: {path} does not exist")
    rec = _cached_counts(path).get(bench, {}).get(param_key(names[: len(params)], params))
    if rec is None:
        raise LookupError("not counted in this run (not in the suite, or not a CPU point)")
    if rec.get("error"):
        raise RuntimeError(rec["error"])
    if rec.get("instructions") is None:
        raise LookupError(rec.get("skip") or "no count")
    return float(rec["instructions"])


_COUNTS_CACHE: dict[str, dict] = {}


def _cached_counts(path: str) -> dict[str, dict[str, dict[str, Any]]]:
    if path not in _COUNTS_CACHE:
        _COUNTS_CACHE[path] = read_counts(Path(path))
    return _COUNTS_CACHE[path]
