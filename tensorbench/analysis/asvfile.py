"""One asv result file: its columns, its reader and its writer (the one owner of the format).

asv (0.6, ``asv/results.py``) keeps one file per commit x environment,
``results/<machine>/<hash8>-<env>.json``. Format 2 stores each benchmark as a positional row
whose meaning ``result_columns`` gives; format 1 (asv < 0.5) stored dicts. Code outside this
module never indexes a row by position:

- :func:`read_result_file` (a path) and :func:`named_rows` (a parsed dict) give each
  benchmark's row as a dict keyed by :data:`RESULT_COLUMNS`;
- :func:`write_result_file` and :func:`result_data` build the rows and ``result_columns``
  from such dicts, as asv writes them; :func:`write_result_data` writes a parsed file back;
- :class:`ColumnPicker` is the positional fast path for :mod:`.asvformat`, which reads a whole
  results folder into arrays;
- :func:`combinations`, :func:`param_value` and :func:`benchmark_kind` read a row's parameter
  grid and a benchmark's kind, one way for every reader.

Basic usage::

    rf = read_result_file("results/m/0123abcd-env.json")
    rf.rows["bench.Suite.time_x"]["result"]  # one value per parameter combination
    write_result_file(path, rf.header, rf.rows)

In ``result`` ``None`` means the benchmark failed and ``NaN`` that it was skipped, as asv writes.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
import operator
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:  # several times faster than json on asv's files; json remains for NaN and errors
    import orjson
except ImportError:  # pragma: no cover - a core dependency, absent only in odd installs
    orjson = None

__all__ = [
    "KIND_PREFIXES",
    "KNOWN_RESULT_COLUMNS",
    "PER_COMBINATION",
    "RESULT_COLUMNS",
    "BadResultFile",
    "ColumnPicker",
    "ResultFile",
    "benchmark_kind",
    "combinations",
    "named_rows",
    "param_value",
    "read_result_file",
    "result_data",
    "write_result_data",
    "write_result_file",
]

# The result columns asv 0.6 writes, in its order (asv/results.py, Results.save); anything else
# is foreign.
RESULT_COLUMNS = (
    "result",
    "params",
    "version",
    "started_at",
    "duration",
    "stats_ci_99_a",
    "stats_ci_99_b",
    "stats_q_25",
    "stats_q_75",
    "stats_number",
    "stats_repeat",
    "samples",
    "profile",
)

KNOWN_RESULT_COLUMNS = frozenset(RESULT_COLUMNS)

# The columns holding one value per parameter combination (the others: one per benchmark).
PER_COMBINATION = (
    "result",
    "stats_ci_99_a",
    "stats_ci_99_b",
    "stats_q_25",
    "stats_q_75",
    "stats_number",
    "stats_repeat",
    "samples",
)

# The top-level fields asv writes before the results, in its order; others follow the results.
_LEADING = ("commit_hash", "env_name", "date", "params", "python", "requirements", "env_vars")
_WRITER_OWNS = frozenset({"results", "result_columns", "version"})
# Format 1 keeps the per-benchmark columns in top-level dicts named thus.
_V1_DICTS = (
    ("version", "benchmark_version"),
    ("started_at", "started_at"),
    ("duration", "duration"),
    ("profile", "profiles"),
)
# Format 1's per-combination stats dict: column -> how it is read from the dict.
_V1_STATS = (
    ("stats_ci_99_a", lambda z: z["ci_99"][0]),
    ("stats_ci_99_b", lambda z: z["ci_99"][1]),
    ("stats_q_25", lambda z: z.get("q_25")),
    ("stats_q_75", lambda z: z.get("q_75")),
    ("stats_number", lambda z: z.get("number")),
    ("stats_repeat", lambda z: z.get("repeat")),
)


# Format 1's top-level fields that become format 2's rows (or its version).
_V1_OWNS = frozenset({"results", "version", *(key for _, key in _V1_DICTS)})


class BadResultFile(ValueError):
    """A file is not a readable asv result file."""


@dataclass
class ResultFile:
    """One result file: ``header`` (the top-level fields other than the results), ``rows``
    (benchmark name -> {column: value} for every column of :data:`RESULT_COLUMNS`) and the
    format ``version`` it was stored in. Format 1 files are read in format 2's shape."""

    header: dict[str, Any]
    rows: dict[str, dict[str, Any]]
    version: int = 2


def parse_json(raw: bytes) -> Any:
    """asv's JSON, NaN and Infinity included (json's error messages, with line numbers)."""
    # orjson rejects NaN and Infinity; json's messages are the ones users see, so anything
    # orjson refuses goes through json.
    if orjson is not None and b"NaN" not in raw and b"Infinity" not in raw:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw)


def read_json(path: str | Path) -> Any:
    with open(path, "rb") as f:
        return parse_json(f.read())


# Timestamps pandas can hold (years 1677-2262: pd.Timestamp.min/max), in ms; NaN stands for
# "unknown". Written out so that reading one file needs no pandas.
MS_MIN = -9_223_372_036_854
MS_MAX = 9_223_372_036_853


def is_ms_timestamp(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and math.isnan(value):
        return True
    return MS_MIN <= value <= MS_MAX


def validated(d: Any) -> dict:
    """A parsed result file in format 2's shape (format 1 converted); raises BadResultFile."""
    if not isinstance(d, dict):
        raise BadResultFile(f"not an asv result file (top level is a {type(d).__name__})")
    version = d.get("version")
    if version == 1:
        try:
            d = _v1_to_v2(d)
        except (KeyError, TypeError, AttributeError) as exc:
            raise BadResultFile(f"result format 1 file missing or malformed {exc}") from None
    elif version != 2:
        raise BadResultFile(
            f"not an asv result file (format version {version!r}; 1 and 2 are read)"
        )
    for key, types in (("commit_hash", str), ("results", dict), ("result_columns", list)):
        if key not in d:
            raise BadResultFile(f"not an asv result file (missing key {key!r})")
        if not isinstance(d[key], types):
            raise BadResultFile(f"{key!r} is a {type(d[key]).__name__}")
    if not all(isinstance(c, str) for c in d["result_columns"]):
        raise BadResultFile("'result_columns' is not a list of strings")
    unknown = [c for c in d["result_columns"] if c not in KNOWN_RESULT_COLUMNS]
    if unknown:
        raise BadResultFile(f"unknown result column {unknown[0]!r}")
    date = d.get("date")
    if date is not None and not is_ms_timestamp(date):
        raise BadResultFile(f"'date' is not a timestamp in ms: {str(date)[:40]!r}")
    return d


def _v1_to_v2(d: dict) -> dict:
    """Result format 1 (asv < 0.5) in format 2's shape, after asv's Results.update_to_2; a
    stats value that is not there reads None (asv would refuse the whole file)."""
    tops = {column: d.get(key) or {} for column, key in _V1_DICTS}
    rows: dict[str, list] = {}
    for name, value in d["results"].items():
        if not isinstance(value, dict):
            value = {"result": [value], "params": []}
        result = value.get("result")
        stats = value.get("stats")
        if stats is not None and not isinstance(stats, list):
            stats = [stats]
        row: dict[str, Any] = {
            "result": result if isinstance(result, list) else [result],
            "params": value.get("params") or [],
            "samples": value.get("samples"),
        }
        for column, top in tops.items():
            row[column] = top.get(name) if isinstance(top, dict) else None
        for column, getter in _V1_STATS:
            try:
                row[column] = None if stats is None else [_v1_stat(z, getter) for z in stats]
            except (KeyError, IndexError, TypeError):
                row[column] = None
        rows[name] = [row[c] for c in RESULT_COLUMNS]
    missing = [k for k in ("commit_hash", "date", "params", "python", "requirements") if k not in d]
    if missing:  # asv refuses a format 1 file without them
        raise KeyError(missing[0])
    # other top-level fields (tensorbench's own entry among them) are kept as they are
    out = {k: v for k, v in d.items() if k not in _V1_OWNS}
    out["env_name"] = d.get("env_name") or ""
    out["env_vars"] = d.get("env_vars") or {}
    if "durations" not in out:  # format 1 keeps the build's durations as "<build>" etc.
        durations = tops["duration"] if isinstance(tops["duration"], dict) else {}
        out["durations"] = {k: v for k, v in durations.items() if k.startswith("<")}
    out["result_columns"] = list(RESULT_COLUMNS)
    out["results"] = rows
    return out


def _v1_stat(z: Any, getter: Any) -> Any:
    return getter(z) if isinstance(z, dict) else None


def read_result_file(path: str | Path) -> ResultFile:
    """The result file at ``path`` (format 1 or 2) as a :class:`ResultFile`, rows as
    :func:`named_rows` gives them. Raises :class:`BadResultFile` (a ValueError, as is json's
    error) for a file that is not one, OSError when it cannot be read."""
    with open(path, "rb") as f:
        raw = parse_json(f.read())
    d = validated(raw)
    header = {k: v for k, v in d.items() if k not in _WRITER_OWNS}
    return ResultFile(header=header, rows=named_rows(d), version=raw["version"])


def named_rows(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each benchmark's row of a parsed result file (format 1 converted) by column name.

    Every row has every column of :data:`RESULT_COLUMNS`: those of :data:`PER_COMBINATION`
    hold one value per parameter combination (``None`` where asv left the column out),
    ``params`` a list, the others the file's value or ``None``. Only the results are looked
    at, so a partial dict (``result_columns`` and ``results``) will do. Raises
    :class:`BadResultFile` for an entry that is not a row.
    """
    if data.get("version") == 1:
        data = validated(dict(data))
    columns = data.get("result_columns") or []
    rows = {}
    for name, row in (data.get("results") or {}).items():
        if not isinstance(row, list):
            raise BadResultFile(f"benchmark {name!r}: entry is a {type(row).__name__}")
        rows[name] = _row_dict(dict(zip(columns, row, strict=False)))
    return rows


def _row_dict(given: dict[str, Any]) -> dict[str, Any]:
    params = given.get("params") or []
    n = math.prod(len(p) for p in params) if _is_grid(params) else 1
    out = {}
    for column in RESULT_COLUMNS:
        value = given.get(column)
        if column in PER_COMBINATION:
            value = [None] * n if value is None else value if isinstance(value, list) else [value]
        out[column] = value
    out["params"] = params
    return out


def _is_grid(params: Any) -> bool:
    return isinstance(params, list) and all(isinstance(p, list) for p in params)


class ColumnPicker:
    """The ``wanted`` columns (two or more) of a format 2 file's positional rows, for readers
    of many rows that cannot afford a dict per row; None where the file has no such column or
    asv dropped it (trailing nulls). ``picker(row)`` returns them as a tuple."""

    def __init__(self, result_columns: list[str], wanted: tuple[str, ...]) -> None:
        self.width = len(result_columns)
        where = {c: i for i, c in enumerate(result_columns)}
        # a column the file lacks reads the None appended past the row's end
        self._get = operator.itemgetter(*(where.get(c, self.width) for c in wanted))

    @classmethod
    def of(cls, data: Mapping[str, Any], wanted: tuple[str, ...]) -> ColumnPicker:
        """The picker for a :func:`validated` file's rows."""
        return cls(data["result_columns"], wanted)

    def __call__(self, row: list) -> tuple:
        width = self.width
        if len(row) <= width:
            row = row + [None] * (width + 1 - len(row))
        else:
            row = row[:width] + [None]
        return self._get(row)


def write_result_file(
    path: Path | str,
    header: Mapping[str, Any],
    rows: Mapping[str, Mapping[str, Any]],
    *,
    version: int = 2,
) -> None:
    """Write one asv result file as asv does (:func:`result_data`), atomically: a temporary
    file beside it, then a rename, so no reader sees half a file."""
    _write_atomically(Path(path), json.dumps(result_data(header, rows, version=version)))


def write_result_data(path: Path | str, data: Mapping[str, Any]) -> None:
    """Write a parsed result file (as json read it, changed or not) back as asv writes one,
    atomically; format 1 goes out as format 2. Raises :class:`BadResultFile` where ``data``
    is not a result file."""
    d = validated(dict(data))
    header = {k: v for k, v in d.items() if k not in _WRITER_OWNS}
    write_result_file(path, header, named_rows(d))


def result_data(
    header: Mapping[str, Any],
    rows: Mapping[str, Mapping[str, Any]],
    *,
    version: int = 2,
) -> dict[str, Any]:
    """The content of a result file, as asv would write it.

    ``header`` holds the top-level fields other than the results (commit_hash, env_name,
    date, params, python, requirements, env_vars, durations, ...); ``rows`` maps a benchmark
    name to its columns by name (:data:`RESULT_COLUMNS`). A column left out is written as asv
    writes a column it has no value for: ``params`` as ``[]``, others as null, trailing nulls
    dropped, and a list of nothing but nulls as one null. ``version`` 1 gives the legacy
    format (asv < 0.5). Raises ValueError for an unknown column, a row without ``result`` or
    a header field that only the writer may set.
    """
    owned = _WRITER_OWNS & header.keys()
    if owned:
        raise ValueError(f"the writer sets {sorted(owned)}; leave them out of the header")
    for name, row in rows.items():
        unknown = set(row) - KNOWN_RESULT_COLUMNS
        if unknown:
            raise ValueError(f"benchmark {name!r}: unknown result column {sorted(unknown)[0]!r}")
        if "result" not in row:
            raise ValueError(f"benchmark {name!r}: no 'result'")
    if version == 2:
        return _format2(header, rows)
    if version == 1:
        return _format1(header, rows)
    raise ValueError(f"result format version {version!r}: 1 and 2 are written")


def _ordered(header: Mapping[str, Any], results: dict[str, Any]) -> dict[str, Any]:
    """asv's top-level order: its leading fields, then ``results``, then the rest."""
    data = {k: header[k] for k in _LEADING if k in header}
    data.update(results)
    data.update((k, v) for k, v in header.items() if k not in data)
    return data


def _format2(header: Mapping[str, Any], rows: Mapping[str, Mapping[str, Any]]) -> dict:
    positional = {}
    for name, row in rows.items():
        values = []
        for column in RESULT_COLUMNS:
            value = row.get(column, [] if column == "params" else None)
            if column != "params" and isinstance(value, list) and all(v is None for v in value):
                value = None
            values.append(value)
        while values and values[-1] is None:
            values.pop()
        positional[name] = values
    data = _ordered(header, {"result_columns": list(RESULT_COLUMNS), "results": positional})
    data["version"] = 2
    return data


def _format1(header: Mapping[str, Any], rows: Mapping[str, Mapping[str, Any]]) -> dict:
    results = {name: _v1_entry(row) for name, row in rows.items()}
    tops: dict[str, Any] = {"results": results}
    for column, key in _V1_DICTS:
        given = {name: row[column] for name, row in rows.items() if row.get(column) is not None}
        if column == "duration":  # format 1 keeps the build's durations among the benchmarks'
            given.update(header.get("durations") or {})
        if given:
            tops[key] = given
    data = _ordered({k: v for k, v in header.items() if k != "durations"}, tops)
    data["version"] = 1
    return data


def _v1_entry(row: Mapping[str, Any]) -> Any:
    """A benchmark's format 1 entry: a bare value without parameters or statistics, else a
    dict of result, params and (where any) stats and samples."""
    result = row["result"]
    result = result if isinstance(result, list) else [result]
    params = row.get("params") or []
    stats = _v1_stats(row, len(result))
    samples = row.get("samples")
    if not params and stats is None and samples is None and len(result) == 1:
        return result[0]
    entry: dict[str, Any] = {"result": result, "params": params}
    if stats is not None:
        entry["stats"] = stats
    if samples is not None:
        entry["samples"] = samples
    return entry


def _v1_stats(row: Mapping[str, Any], n: int) -> list | None:
    columns = {c: row.get(c) or [None] * n for c, _ in _V1_STATS}
    if all(all(v is None for v in values) for values in columns.values()):
        return None
    stats: list[dict | None] = []
    for i in range(n):
        a, b, q25, q75, number, repeat = (columns[c][i] for c, _ in _V1_STATS)
        if all(v is None for v in (a, b, q25, q75, number, repeat)):
            stats.append(None)
            continue
        z = {"ci_99": [a, b], "q_25": q25, "q_75": q75, "number": number, "repeat": repeat}
        stats.append(z)
    return stats


def _write_atomically(path: Path, text: str) -> None:
    """Readers never see half a file: write beside it, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide results from other users
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# asv's benchmark kinds by the method name's prefix (asv/benchmark.py), where benchmarks.json
# says no type; the longer prefix first.
KIND_PREFIXES = (
    ("timeraw_", "time"),
    ("time_", "time"),
    ("peakmem_", "peakmem"),
    ("mem_", "mem"),
    ("track_", "track"),
)
_KIND_BY_TYPE = {"time": "time", "peakmemory": "peakmem", "memory": "mem", "track": "track"}


def benchmark_kind(name: str, spec: Mapping[str, Any] | None = None) -> str:
    """time, peakmem, mem or track: from the benchmark's ``spec`` in benchmarks.json where it
    has a type, else from its method name's prefix (track when none fits)."""
    kind = spec.get("type") if isinstance(spec, Mapping) else None
    if isinstance(kind, str) and kind in _KIND_BY_TYPE:
        return _KIND_BY_TYPE[kind]
    method = name.rsplit(".", 1)[-1]
    for prefix, by_prefix in KIND_PREFIXES:
        if method.startswith(prefix):
            return by_prefix
    return "track"


def combinations(params: list[list[str]]) -> list[tuple[str, ...]]:
    """A row's parameter combinations, as asv's texts, in the order of its per-combination
    columns (``itertools.product`` of ``params``; one empty combination without params)."""
    return list(itertools.product(*params))


def param_value(text: str, _memo: dict[str, Any] = {}) -> Any:  # noqa: B006 - deliberate memo
    """A parameter value from the repr asv stores (``"'numpy:cpu'"`` -> ``"numpy:cpu"``,
    ``"64"`` -> 64); a text that is no literal, or a list, dict or set (unhashable, they would
    break grouping), stays the text."""
    try:
        return _memo[text]
    except KeyError:
        pass
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = text  # e.g. "<function f at 0x...>": keep the repr
    if isinstance(value, (list, dict, set)):
        value = text
    _memo[text] = value
    return value
