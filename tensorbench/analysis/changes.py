"""Regressions and improvements of a results table, with the project's acknowledgements."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .regressions import find_regressions, load_acknowledged

ACK_FILE = "acknowledged.toml"  # beside the results: changes people have explained


def find_changes(
    table: pd.DataFrame, threshold: float = 0.05, results_dir: str | Path | None = None
) -> pd.DataFrame:
    """:func:`find_regressions` of ``table`` with ``<results_dir>/acknowledged.toml`` if present.

    ``significance`` in the result is the Mann-Whitney p-value (lower is stronger evidence).
    """
    path = Path(results_dir) / ACK_FILE if results_dir is not None else None
    acks = load_acknowledged(path) if path is not None and path.is_file() else None
    found = find_regressions(table, threshold=threshold, acknowledged=acks)
    found.attrs["detector"] = "tensorbench.analysis.regressions"
    return found
