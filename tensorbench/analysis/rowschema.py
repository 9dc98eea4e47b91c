"""The rows the reader parses from result files, typed once.

:mod:`.asvformat` builds these arrays per file, :mod:`.resultcache` stores and restores them,
:mod:`.results` assembles them (adding :data:`FILE`, the index of the file a row came from)
and turns them into the table's columns. Each array's kind says how it is held in memory:

- ``"int8"``, ``"int64"``: NumPy integers (``status`` codes :data:`STATUS`; ``combo`` the
  parameter combination's id);
- ``"float"``: float64, NaN where the file has nothing (and ``started_at`` in ms);
- ``"text"``: an object array of ``str`` or ``None``;
- ``"samples"``: an object array of tuples of floats, or ``None``.
"""

from __future__ import annotations

import numpy as np

ROW_ARRAYS: dict[str, str] = {
    "combo": "int64",
    "value": "float",
    "status": "int8",
    "ci_low": "float",
    "ci_high": "float",
    "q25": "float",
    "q75": "float",
    "samples": "samples",
    "started_at": "float",
    "version": "text",  # the benchmark version the file recorded (asv's version column)
    "reason": "text",  # why a point was skipped, where tensorbench recorded it
    "work_flops": "float",
    "work_edges": "float",
}

FILE = "file"  # the row's file, in the order of the files read: int64

STATUS = ("ok", "failed", "skipped")  # the codes of ``status``

_DTYPES = {"int8": np.int8, "int64": np.int64, "float": np.float64}


def of_kind(*kinds: str) -> tuple[str, ...]:
    """The names of the row arrays of these kinds, in :data:`ROW_ARRAYS` order."""
    return tuple(name for name, kind in ROW_ARRAYS.items() if kind in kinds)


def dtype(name: str) -> type:
    """The NumPy dtype of row array ``name`` (``object`` for texts and samples)."""
    return _DTYPES.get(ROW_ARRAYS[name], object) if name != FILE else np.int64


def empty_rows() -> dict[str, np.ndarray]:
    """No rows: every row array and :data:`FILE`, of length 0 and its own dtype."""
    return {name: np.zeros(0, dtype=dtype(name)) for name in (*ROW_ARRAYS, FILE)}
