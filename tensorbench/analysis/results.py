"""Read any asv results directory into one tidy pandas table.

Pure functions, no Streamlit and no framework import: the dashboard, the `chart` command and
the regression finder all start from :func:`load_results`.

Layout read (asv 0.6)::

    results/benchmarks.json                 name -> {type, unit, param_names, params, version}
    results/<machine>/machine.json          facts about the machine
    results/<machine>/<hash8>-<env>.json    one commit x environment, result format 1 or 2

One table row is machine x env x commit x benchmark x parameter combination. In format 2 every
benchmark's ``result`` list holds one value per combination of its ``params`` lists, in
``itertools.product`` order; ``null`` means the benchmark failed and ``NaN`` that it was
skipped. A file (or one benchmark inside a file) that cannot be read is skipped and listed in
``ResultsDB.skipped``; nothing else is lost.

Basic usage::

    db = load_results("results")
    db.table.query("workload == 'matmul' and status == 'ok'")
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = [
    "COLUMNS",
    "RESULT_COLUMNS",
    "ResultsDB",
    "SkippedFile",
    "detect_regressions_asv",
    "find_changes",
    "fingerprint",
    "framework_versions",
    "load_results",
    "write_synthetic_results",
]

# The table's columns, in order. Others code against these names: extend, never rename.
COLUMNS = (
    "machine",
    "env",
    "commit",
    "commit_date",
    "commit_order",
    "benchmark",
    "kind",
    "param_key",
    "params",
    "value",
    "status",
    "unit",
    "ci_low",
    "ci_high",
    "q25",
    "q75",
    "samples",
    "started_at",
    "workload",
    "backend",
    "device",
    "size",
    "dtype",
    # Extensions beyond the list.
    "threads",  # a `threads` param where the benchmark has one (thread-scaling suite)
    "version_current",  # the result's benchmark version equals benchmarks.json's (asv's filter)
    "reason",  # why a point was skipped, where the result file says (tensorbench.skip_reasons)
    "work_flops",  # FLOPs / edges one call does, where the result file records them
    "work_edges",  # (tensorbench.work); charts fall back to the workload's work model
)

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

_KIND_BY_TYPE = {"time": "time", "peakmemory": "peakmem", "memory": "mem", "track": "track"}
_KIND_BY_PREFIX = (
    ("timeraw_", "time"),
    ("time_", "time"),
    ("peakmem_", "peakmem"),
    ("mem_", "mem"),
    ("track_", "track"),
)
_UNIT_BY_KIND = {"time": "seconds", "peakmem": "bytes", "mem": "bytes"}
# Method names that say nothing about the workload: fall back to the class name.
_GENERIC_METHODS = frozenset({"", "run", "it", "call", "case", "workload", "bench", "benchmark"})
_STATUS = ("ok", "failed", "skipped")


@dataclass(frozen=True)
class SkippedFile:
    """A file (or one benchmark inside it) that was not read, and why."""

    path: str
    reason: str


@dataclass
class ResultsDB:
    """Everything read from one asv results directory.

    ``table`` has :data:`COLUMNS`; ``envs`` one row per (machine, env) with the facts the
    newest result file recorded (python, requirements, env_vars, params) and how many commits
    it covers; ``order_source`` says whether ``commit_order`` follows git or commit dates.
    """

    table: pd.DataFrame
    skipped: list[SkippedFile] = field(default_factory=list)
    machines: dict[str, dict] = field(default_factory=dict)
    benchmarks: dict[str, dict] = field(default_factory=dict)
    envs: pd.DataFrame = field(default_factory=pd.DataFrame)
    results_dir: str = ""
    order_source: str = "date"


class _BadEntry(ValueError):
    """One benchmark entry in a result file is malformed."""


class _BadFile(ValueError):
    """A result file is not a readable asv result file."""


# ---------------------------------------------------------------------------------------------
# cache key


def fingerprint(results_dir: str | Path) -> tuple[tuple[str, int, int], ...]:
    """A cheap key that changes when any JSON file under ``results_dir`` changes.

    (relative path, mtime in ns, size) for every ``*.json`` at the top and one folder down,
    sorted. Pass it to a cache (``st.cache_data``) next to the directory so that a new or
    rewritten result file invalidates the cached table.
    """
    root = Path(results_dir)
    out: list[tuple[str, int, int]] = []
    try:
        top = list(os.scandir(root))
    except OSError:
        return ()
    for entry in top:
        try:
            if entry.is_dir():
                for sub in os.scandir(entry.path):
                    if sub.name.endswith(".json") and sub.is_file():
                        st = sub.stat()
                        out.append((f"{entry.name}/{sub.name}", st.st_mtime_ns, st.st_size))
            elif entry.name.endswith(".json"):
                st = entry.stat()
                out.append((entry.name, st.st_mtime_ns, st.st_size))
        except OSError:
            continue  # vanished while scanning; the next call sees the new state
    out.sort()
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# small parsers


def _read_json(path: str) -> Any:
    with open(path, "rb") as f:
        return json.loads(f.read())


def _literal(text: str, _cache: dict[str, Any] = {}) -> Any:  # noqa: B006 - deliberate memo
    """asv stores parameter values as their repr; turn them back into values where possible."""
    try:
        return _cache[text]
    except KeyError:
        pass
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = text  # e.g. "<function f at 0x...>": keep the repr
    if isinstance(value, (list, dict, set)):
        value = text  # unhashable values would break grouping; the repr is enough
    _cache[text] = value
    return value


def _kind(name: str, bench: dict | None) -> str:
    if bench and isinstance(bench.get("type"), str) and bench["type"] in _KIND_BY_TYPE:
        return _KIND_BY_TYPE[bench["type"]]
    method = name.rsplit(".", 1)[-1]
    for prefix, kind in _KIND_BY_PREFIX:
        if method.startswith(prefix):
            return kind
    return "track"


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _workload_name(benchmark: str) -> str:
    """`bench_array.MatmulSuite.time_matmul` -> `matmul`; tolerant of other spellings."""
    parts = benchmark.split(".")
    method = parts[-1]
    for prefix, _ in _KIND_BY_PREFIX:
        if method.startswith(prefix):
            method = method[len(prefix) :]
            break
    if method not in _GENERIC_METHODS:
        return method
    if len(parts) >= 2:
        cls = re.sub(r"(Suite|Benchmarks?|Bench|Time)$", "", parts[-2]) or parts[-2]
        return _snake(cls)
    return method or benchmark


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return math.nan
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            return math.nan
    return math.nan


@dataclass
class _Combos:
    """The global table of (benchmark, parameter combination) facts, indexed by combo id."""

    benchmark: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    unit: list[str] = field(default_factory=list)
    param_key: list[str] = field(default_factory=list)
    params: list[dict] = field(default_factory=list)
    workload: list[str | None] = field(default_factory=list)
    backend: list[str | None] = field(default_factory=list)
    device: list[str | None] = field(default_factory=list)
    size: list[float] = field(default_factory=list)
    dtype: list[str | None] = field(default_factory=list)
    threads: list[float] = field(default_factory=list)
    # (benchmark name, params as tuples) -> (first combo id, number of combos)
    blocks: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    last: dict[str, tuple[list, tuple[int, int]]] = field(default_factory=dict)

    def block(self, name: str, params: Any, benchmarks: dict[str, dict]) -> tuple[int, int]:
        """First combo id and count for ``name`` with ``params``; raises _BadEntry if malformed."""
        last = self.last.get(name)
        if last is not None and last[0] == params:
            return last[1]  # the common case: same params as this benchmark's previous file
        if not isinstance(params, list) or not all(
            isinstance(p, list) and all(isinstance(v, str) for v in p) for p in params
        ):
            raise _BadEntry("params is not a list of lists of strings")
        key = (name, tuple(tuple(p) for p in params))
        found = self.blocks.get(key)
        if found is None:
            found = self._new_block(name, params, benchmarks)
            self.blocks[key] = found
        self.last[name] = (params, found)
        return found

    def _new_block(self, name: str, params: list, benchmarks: dict[str, dict]) -> tuple[int, int]:
        bench = benchmarks.get(name)
        names = bench.get("param_names") if isinstance(bench, dict) else None
        if not (isinstance(names, list) and len(names) == len(params)):
            names = [f"param{i + 1}" for i in range(len(params))]  # asv's own fallback
        kind = _kind(name, bench)
        unit = bench.get("unit") if isinstance(bench, dict) else None
        unit = unit if isinstance(unit, str) else _UNIT_BY_KIND.get(kind, "")
        workload = _workload_name(name)
        if "threads" in names and workload.endswith("_threads"):
            workload = workload[: -len("_threads")]  # the thread-scaling twin of a workload
        start = len(self.benchmark)
        combos: list[tuple] = [()]
        for values in params:  # itertools.product order, as asv writes results
            combos = [c + (v,) for c in combos for v in values]
        for combo in combos:
            key_text = ", ".join(f"{n}={v}" for n, v in zip(names, combo, strict=True))
            values = {n: _literal(v) for n, v in zip(names, combo, strict=True)}
            backend = values.get("backend")
            ours = isinstance(backend, str) and ":" in backend
            be, dev = backend.split(":", 1) if ours else (None, None)
            size = values.get("size", values.get("n"))
            dtype = values.get("dtype")
            threads = values.get("threads", values.get("nthreads"))
            self.benchmark.append(name)
            self.kind.append(kind)
            self.unit.append(unit)
            self.param_key.append(key_text)
            self.params.append(values)
            wl = values.get("workload")
            self.workload.append((wl if isinstance(wl, str) else workload) if ours else None)
            self.backend.append(be)
            self.device.append(dev)
            self.size.append(_number(size) if ours else math.nan)
            self.dtype.append(str(dtype) if ours and dtype is not None else None)
            self.threads.append(_number(threads))
        return start, len(combos)


# ---------------------------------------------------------------------------------------------
# one result file


def _v1_to_v2(d: dict) -> dict:
    """Result format 1 (asv < 0.5) in format 2's shape, after asv's Results.update_to_2."""
    stats_keys = (
        ("stats_ci_99_a", lambda z: z["ci_99"][0]),
        ("stats_ci_99_b", lambda z: z["ci_99"][1]),
        ("stats_q_25", lambda z: z.get("q_25")),
        ("stats_q_75", lambda z: z.get("q_75")),
    )
    columns = ["result", "params", "version", "started_at"] + [k for k, _ in stats_keys]
    columns.append("samples")
    started = d.get("started_at") or {}
    versions = d.get("benchmark_version") or {}
    rows: dict[str, list] = {}
    for name, value in d["results"].items():
        if not isinstance(value, dict):
            value = {"result": [value], "params": []}
        result = value.get("result")
        if not isinstance(result, list):
            result = [result]
        stats = value.get("stats")
        if stats is not None and not isinstance(stats, list):
            stats = [stats]
        row: list[Any] = [
            result,
            value.get("params") or [],
            versions.get(name) if isinstance(versions, dict) else None,
            started.get(name) if isinstance(started, dict) else None,
        ]
        for _, getter in stats_keys:
            if stats is None:
                row.append(None)
            else:
                try:
                    row.append([getter(z) if isinstance(z, dict) else None for z in stats])
                except (KeyError, IndexError, TypeError):
                    row.append(None)
        row.append(value.get("samples"))
        rows[name] = row
    out = {k: d[k] for k in ("commit_hash", "date", "params", "python", "requirements")}
    out["env_name"] = d.get("env_name") or ""
    out["env_vars"] = d.get("env_vars") or {}
    out["result_columns"] = columns
    out["results"] = rows
    return out


def _as_column(value: Any, n: int, what: str) -> list:
    """A per-combination column of an entry: None -> n Nones; otherwise a list of length n."""
    if value is None:
        return [None] * n
    if not isinstance(value, list) or len(value) != n:
        raise _BadEntry(f"{what} has {_len(value)} values for {n} parameter combinations")
    return value


def _len(value: Any) -> str:
    return str(len(value)) if isinstance(value, list) else f"a {type(value).__name__}, not"


class _Columns:
    """Index of each known result column in a file's rows; absent ones point past the row."""

    def __init__(self, result_columns: list[str]) -> None:
        self.width = len(result_columns)
        self.missing = self.width  # add() appends one None there
        where = {c: i for i, c in enumerate(result_columns)}
        for col in KNOWN_RESULT_COLUMNS:
            setattr(self, col, where.get(col, self.missing))


@dataclass
class _FileRows:
    """Column lists for the rows of one result file (or one entry of it)."""

    combo: list[int] = field(default_factory=list)
    value: list[Any] = field(default_factory=list)
    ci_a: list[Any] = field(default_factory=list)
    ci_b: list[Any] = field(default_factory=list)
    q25: list[Any] = field(default_factory=list)
    q75: list[Any] = field(default_factory=list)
    samples: list[Any] = field(default_factory=list)
    started: list[Any] = field(default_factory=list)
    current: list[bool] = field(default_factory=list)
    reason: list[str | None] = field(default_factory=list)
    flops: list[Any] = field(default_factory=list)
    edges: list[Any] = field(default_factory=list)

    def add(
        self,
        name: str,
        row: Any,
        cols: _Columns,
        ctx: _Context,
        reasons: Any = None,
        work: Any = None,
    ) -> None:
        """Append one benchmark entry's rows; raises _BadEntry (appending nothing) if malformed.

        ``reasons`` maps param_key -> skip reason and ``work`` param_key -> {"flops", "edges"}
        for this benchmark (tensorbench's own entry in the result file).
        """
        if not isinstance(row, list):
            raise _BadEntry(f"entry is a {type(row).__name__}, not a list")
        # asv drops trailing None columns; cols.missing (= width) must read None too.
        row = row[: cols.width] + [None] * (cols.width + 1 - min(len(row), cols.width))

        def get(col: str) -> Any:
            return row[getattr(cols, col)]

        start, n = ctx.combos.block(name, get("params") or [], ctx.benchmarks)
        result = get("result")
        if not isinstance(result, list):
            # format 2 always writes a list; None = all failed, a bare number = one value
            result = [None] * n if result is None else [result]
        if len(result) != n:
            raise _BadEntry(f"result has {len(result)} values for {n} parameter combinations")
        started = get("started_at")
        if started is not None and not _is_ms_timestamp(started):
            raise _BadEntry("started_at is not a timestamp in ms")
        version = get("version")
        expected = ctx.versions.get(name)
        # Validate every column before extending any, so a bad entry leaves no partial rows.
        ci_a = _as_column(get("stats_ci_99_a"), n, "stats_ci_99_a")
        ci_b = _as_column(get("stats_ci_99_b"), n, "stats_ci_99_b")
        q25 = _as_column(get("stats_q_25"), n, "stats_q_25")
        q75 = _as_column(get("stats_q_75"), n, "stats_q_75")
        samples = get("samples")
        if samples is None:
            samples = [None] * n
        else:
            samples = _as_column(samples, n, "samples")
            if not all(s is None or isinstance(s, list) for s in samples):
                raise _BadEntry("samples is not a list of lists")
            samples = [None if s is None else tuple(s) for s in samples]
        self.combo.extend(range(start, start + n))
        self.value.extend(result)
        self.ci_a.extend(ci_a)
        self.ci_b.extend(ci_b)
        self.q25.extend(q25)
        self.q75.extend(q75)
        self.samples.extend(samples)
        self.started.extend([started] * n)
        self.current.extend([version is None or expected is None or version == expected] * n)
        if isinstance(reasons, dict) and reasons:
            keys = ctx.combos.param_key[start : start + n]
            self.reason.extend(_text_or_none(reasons.get(k)) for k in keys)
        else:
            self.reason.extend([None] * n)
        if isinstance(work, dict) and work:
            keys = ctx.combos.param_key[start : start + n]
            amounts = [work.get(k) if isinstance(work.get(k), dict) else {} for k in keys]
            self.flops.extend(_number(a.get("flops")) for a in amounts)
            self.edges.extend(_number(a.get("edges")) for a in amounts)
        else:
            self.flops.extend([math.nan] * n)
            self.edges.extend([math.nan] * n)

    def arrays(self) -> dict[str, np.ndarray]:
        """Numeric columns as arrays; raises ValueError/TypeError on values of the wrong type."""
        value = _floats(self.value)
        failed = np.fromiter((v is None for v in self.value), bool, len(self.value))
        samples = np.empty(len(self.samples), dtype=object)
        for i, s in enumerate(self.samples):
            if s is not None:
                _floats(s)  # validate; kept as the tuple
                samples[i] = s
        return {
            "combo": np.array(self.combo, dtype=np.int64),
            "value": value,
            "status": np.where(failed, 1, np.where(np.isnan(value), 2, 0)).astype(np.int8),
            "ci_low": _floats(self.ci_a),
            "ci_high": _floats(self.ci_b),
            "q25": _floats(self.q25),
            "q75": _floats(self.q75),
            "samples": samples,
            "started_at": _floats(self.started),
            "version_current": np.array(self.current, dtype=bool),
            "reason": _objects(self.reason),
            "work_flops": np.array(self.flops, dtype=float),
            "work_edges": np.array(self.edges, dtype=float),
        }


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _objects(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _floats(values: list) -> np.ndarray:
    """``values`` as a 1-d float array (None -> NaN); nested lists or text raise ValueError."""
    out = np.array(values, dtype=float)
    if out.shape != (len(values),):
        raise ValueError("nested lists where numbers were expected")
    return out


@dataclass
class _Context:
    benchmarks: dict[str, dict]
    versions: dict[str, Any]
    combos: _Combos = field(default_factory=_Combos)
    skipped: list[SkippedFile] = field(default_factory=list)


@dataclass
class _FileResult:
    machine: str
    env: str
    commit: str
    date: float
    facts: dict[str, Any]
    arrays: dict[str, np.ndarray]


def _header(d: Any) -> dict:
    if not isinstance(d, dict):
        raise _BadFile(f"not an asv result file (top level is a {type(d).__name__})")
    version = d.get("version")
    if version == 1:
        try:
            d = _v1_to_v2(d)
        except (KeyError, TypeError, AttributeError) as exc:
            raise _BadFile(f"result format 1 file missing or malformed {exc}") from None
    elif version != 2:
        raise _BadFile(f"not an asv result file (format version {version!r}; 1 and 2 are read)")
    for key, types in (
        ("commit_hash", str),
        ("results", dict),
        ("result_columns", list),
    ):
        if key not in d:
            raise _BadFile(f"not an asv result file (missing key {key!r})")
        if not isinstance(d[key], types):
            raise _BadFile(f"{key!r} is a {type(d[key]).__name__}")
    if not all(isinstance(c, str) for c in d["result_columns"]):
        raise _BadFile("'result_columns' is not a list of strings")
    unknown = [c for c in d["result_columns"] if c not in KNOWN_RESULT_COLUMNS]
    if unknown:
        raise _BadFile(f"unknown result column {unknown[0]!r}")
    date = d.get("date")
    if date is not None and not _is_ms_timestamp(date):
        raise _BadFile(f"'date' is not a timestamp in ms: {str(date)[:40]!r}")
    return d


# Timestamps pandas can hold (years 1677-2262), in ms; NaN stands for "unknown".
_MS_MIN = pd.Timestamp.min.value // 1_000_000 + 1
_MS_MAX = pd.Timestamp.max.value // 1_000_000 - 1


def _is_ms_timestamp(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and math.isnan(value):
        return True
    return _MS_MIN <= value <= _MS_MAX


def _read_result_file(path: str, machine: str, ctx: _Context) -> _FileResult | None:
    try:
        d = _header(_read_json(path))
    except (OSError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        ctx.skipped.append(SkippedFile(path, _reason(exc)))
        return None
    cols = _Columns(d["result_columns"])
    # tensorbench's own entry (asv ignores unknown top-level keys): facts and skip reasons
    ours = d.get("tensorbench") if isinstance(d.get("tensorbench"), dict) else {}
    reasons = ours.get("skip_reasons") if isinstance(ours.get("skip_reasons"), dict) else {}
    work = ours.get("work") if isinstance(ours.get("work"), dict) else {}
    rows = _FileRows()
    bad: set[str] = set()
    for name, row in d["results"].items():
        try:
            rows.add(name, row, cols, ctx, reasons.get(name), work.get(name))
        except _BadEntry as exc:
            bad.add(name)
            ctx.skipped.append(SkippedFile(path, f"benchmark {name!r}: {exc}"))
    try:
        arrays = rows.arrays()
    except (TypeError, ValueError, OverflowError):
        # A value of the wrong type somewhere: find the entries it sits in, keep the rest.
        good = _FileRows()
        for name, row in d["results"].items():
            if name in bad:
                continue
            one = _FileRows()
            try:
                one.add(name, row, cols, ctx, reasons.get(name), work.get(name))
                one.arrays()
            except (_BadEntry, TypeError, ValueError, OverflowError) as exc:
                ctx.skipped.append(SkippedFile(path, f"benchmark {name!r}: {_reason(exc)}"))
                continue
            good.add(name, row, cols, ctx, reasons.get(name), work.get(name))
        arrays = good.arrays()
    params = d.get("params") if isinstance(d.get("params"), dict) else {}
    env = d.get("env_name")
    if not isinstance(env, str) or not env:
        env = Path(path).stem.split("-", 1)[-1]  # asv names files <hash8>-<env_name>.json
    date = d.get("date")
    facts = {
        "python": d.get("python"),
        "requirements": d.get("requirements") if isinstance(d.get("requirements"), dict) else {},
        "env_vars": d.get("env_vars") if isinstance(d.get("env_vars"), dict) else {},
        "params": params,
        "tensorbench": ours,
    }
    return _FileResult(
        machine=machine,
        env=env,
        commit=d["commit_hash"],
        date=float(date) if date is not None else math.nan,
        facts=facts,
        arrays=arrays,
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON (truncated or corrupt): {exc.msg} at line {exc.lineno}"
    if isinstance(exc, OSError):
        return f"cannot read: {exc.strerror or exc}"
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply"
    if isinstance(exc, TypeError | ValueError | OverflowError) and not isinstance(
        exc, _BadFile | _BadEntry
    ):
        return f"value of the wrong type ({exc})"
    return str(exc)


# ---------------------------------------------------------------------------------------------
# commit order


def _git_order(repo: Path, commits: set[str]) -> dict[str, int] | None:
    """Position of each commit in `git rev-list --topo-order` (0 = oldest), if all are there."""
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-list", "--all", "--topo-order", "--reverse"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    position = {h: i for i, h in enumerate(out.split())}
    if not commits or not commits <= position.keys():
        return None
    return {c: position[c] for c in commits}


def _commit_order(
    commits: list[str], dates: np.ndarray, repo: Path | None
) -> tuple[dict[str, int], str]:
    unique = set(commits)
    if repo is not None:
        git = _git_order(repo, unique)
        if git is not None:
            ranked = sorted(unique, key=git.__getitem__)
            return {c: i for i, c in enumerate(ranked)}, "git"
    first_date: dict[str, float] = {}
    for c, d in zip(commits, dates, strict=True):
        if not math.isnan(d) and (c not in first_date or d < first_date[c]):
            first_date[c] = d
    ranked = sorted(unique, key=lambda c: (first_date.get(c, math.inf), c))
    return {c: i for i, c in enumerate(ranked)}, "date"


def _is_git_repo(path: Path) -> bool:
    return (path / ".git").exists()


# ---------------------------------------------------------------------------------------------
# the table


def _categorical(codes: np.ndarray, labels: list[Any]) -> pd.Categorical:
    """Categorical from per-row indices into ``labels`` (None labels become missing)."""
    cats = sorted({x for x in labels if x is not None})
    where = {c: i for i, c in enumerate(cats)}
    label_codes = np.array([where[x] if x is not None else -1 for x in labels], dtype=np.int64)
    if len(labels) == 0:
        label_codes = np.zeros(0, dtype=np.int64)
    return pd.Categorical.from_codes(label_codes[codes] if len(codes) else codes, cats)


def _build_table(files: list[_FileResult], combos: _Combos, order: dict[str, int]) -> pd.DataFrame:
    counts = np.array([len(f.arrays["combo"]) for f in files], dtype=np.int64)
    file_idx = np.repeat(np.arange(len(files)), counts)

    def cat(arr: np.ndarray) -> np.ndarray:
        return np.concatenate(arr) if len(files) else np.zeros(0)

    def per_file(values: list[Any]) -> pd.Categorical:
        return _categorical(file_idx, values)

    combo = (
        np.concatenate([f.arrays["combo"] for f in files]) if files else np.zeros(0, dtype=np.int64)
    )

    def per_combo(values: list[Any]) -> pd.Categorical:
        return _categorical(combo, values)

    def column(key: str, dtype: Any = float) -> np.ndarray:
        if not files:
            return np.zeros(0, dtype=dtype)
        return np.concatenate([f.arrays[key] for f in files])

    dates = np.array([f.date for f in files], dtype=float)
    commits = [f.commit for f in files]
    params_obj = np.empty(len(combos.params), dtype=object)
    params_obj[:] = combos.params
    data: dict[str, Any] = {
        "machine": per_file([f.machine for f in files]),
        "env": per_file([f.env for f in files]),
        "commit": per_file(commits),
        "commit_date": pd.to_datetime(dates[file_idx], unit="ms", utc=True),
        "commit_order": np.array([order.get(c, -1) for c in commits], dtype=np.int64)[file_idx],
        "benchmark": per_combo(combos.benchmark),
        "kind": per_combo(combos.kind),
        "param_key": per_combo(combos.param_key),
        "params": params_obj[combo] if len(combo) else np.empty(0, dtype=object),
        "value": column("value"),
        "status": pd.Categorical.from_codes(column("status", np.int8), list(_STATUS)),
        "unit": per_combo(combos.unit),
        "ci_low": column("ci_low"),
        "ci_high": column("ci_high"),
        "q25": column("q25"),
        "q75": column("q75"),
        "samples": column("samples", object),
        "started_at": pd.to_datetime(column("started_at"), unit="ms", utc=True),
        "workload": per_combo(combos.workload),
        "backend": per_combo(combos.backend),
        "device": per_combo(combos.device),
        "size": np.array(combos.size, dtype=float)[combo] if len(combo) else np.zeros(0),
        "dtype": per_combo(combos.dtype),
        "threads": np.array(combos.threads, dtype=float)[combo] if len(combo) else np.zeros(0),
        "version_current": column("version_current", bool),
        "reason": column("reason", object),
        "work_flops": column("work_flops"),
        "work_edges": column("work_edges"),
    }
    return pd.DataFrame(data, columns=list(COLUMNS))


def _envs_table(files: list[_FileResult]) -> pd.DataFrame:
    newest: dict[tuple[str, str], _FileResult] = {}
    commits: dict[tuple[str, str], set[str]] = {}
    first: dict[tuple[str, str], float] = {}
    for f in files:
        key = (f.machine, f.env)
        commits.setdefault(key, set()).add(f.commit)
        old = newest.get(key)
        if old is None or (f.date > old.date) or math.isnan(old.date):
            newest[key] = f
        if not math.isnan(f.date) and (key not in first or f.date < first[key]):
            first[key] = f.date
    rows = []
    for key in sorted(newest):
        f = newest[key]
        rows.append(
            {
                "machine": key[0],
                "env": key[1],
                "python": f.facts["python"],
                "requirements": f.facts["requirements"],
                "env_vars": f.facts["env_vars"],
                "params": f.facts["params"],
                "tensorbench": f.facts["tensorbench"],
                "n_commits": len(commits[key]),
                "first_commit_date": pd.to_datetime(first.get(key), unit="ms", utc=True),
                "last_commit_date": pd.to_datetime(f.date, unit="ms", utc=True),
                "last_commit": f.commit,
            }
        )
    columns = [
        "machine",
        "env",
        "python",
        "requirements",
        "env_vars",
        "params",
        "tensorbench",
        "n_commits",
        "first_commit_date",
        "last_commit_date",
        "last_commit",
    ]
    return pd.DataFrame(rows, columns=columns)


def _read_benchmarks(root: Path, skipped: list[SkippedFile]) -> dict[str, dict]:
    path = root / "benchmarks.json"
    if not path.is_file():
        return {}
    try:
        d = _read_json(str(path))
    except (OSError, ValueError, RecursionError) as exc:
        skipped.append(SkippedFile(str(path), _reason(exc)))
        return {}
    if not isinstance(d, dict):
        skipped.append(SkippedFile(str(path), "not an asv benchmarks.json (not an object)"))
        return {}
    out = {k: v for k, v in d.items() if k != "version" and isinstance(v, dict)}
    ignored = [k for k, v in d.items() if k != "version" and not isinstance(v, dict)]
    if ignored:
        skipped.append(SkippedFile(str(path), f"entries that are not objects: {ignored[:3]}"))
    return out


def _read_machine(folder: Path, skipped: list[SkippedFile]) -> tuple[str, dict]:
    path = folder / "machine.json"
    if not path.is_file():
        return folder.name, {}
    try:
        d = _read_json(str(path))
    except (OSError, ValueError, RecursionError) as exc:
        skipped.append(SkippedFile(str(path), _reason(exc)))
        return folder.name, {}
    if not isinstance(d, dict):
        skipped.append(SkippedFile(str(path), "not an asv machine.json (not an object)"))
        return folder.name, {}
    name = d.get("machine")
    return (name if isinstance(name, str) and name else folder.name), d


def load_results(results_dir: str | Path, repo: str | Path | None = None) -> ResultsDB:
    """Read the asv results under ``results_dir`` into a :class:`ResultsDB`.

    ``repo`` is the git repository the results were measured on; by default the results
    directory's parent when that is a git repository. ``commit_order`` follows git when every
    result commit is in that repository, else the commits' dates. Unreadable files are listed
    in ``skipped``. Raises :class:`InputError` when ``results_dir`` is not a directory.
    """
    root = Path(results_dir)
    if not root.is_dir():
        raise InputError(f"results directory not found: {root}")
    skipped: list[SkippedFile] = []
    benchmarks = _read_benchmarks(root, skipped)
    versions = {k: v.get("version") for k, v in benchmarks.items()}
    ctx = _Context(benchmarks=benchmarks, versions=versions, skipped=skipped)
    machines: dict[str, dict] = {}
    files: list[_FileResult] = []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if not entry.is_dir():
            if entry.name.endswith(".json") and entry.name != "benchmarks.json":
                skipped.append(SkippedFile(entry.path, "not in a machine folder"))
            continue
        if entry.name.startswith("."):
            continue
        folder = Path(entry.path)
        machine, facts = _read_machine(folder, skipped)
        names = sorted(
            e.name for e in os.scandir(folder) if e.name.endswith(".json") and e.is_file()
        )
        if "machine.json" not in names and not names:
            continue  # not a machine folder at all (e.g. html output)
        machines[machine] = facts
        for name in names:
            if name == "machine.json":
                continue
            result = _read_result_file(os.path.join(entry.path, name), machine, ctx)
            if result is not None:
                files.append(result)
    if repo is None and _is_git_repo(root.resolve().parent):
        repo = root.resolve().parent
    dates = np.array([f.date for f in files], dtype=float)
    order, source = _commit_order(
        [f.commit for f in files], dates, Path(repo) if repo is not None else None
    )
    return ResultsDB(
        table=_build_table(files, ctx.combos, order),
        skipped=skipped,
        machines=machines,
        benchmarks=benchmarks,
        envs=_envs_table(files),
        results_dir=str(root),
        order_source=source,
    )


# ---------------------------------------------------------------------------------------------
# regressions (fallback until tensorbench.regressions lands)

REGRESSION_COLUMNS = (
    "machine",
    "env",
    "benchmark",
    "param_key",
    "last_good_commit",
    "first_bad_commit",
    "before",
    "after",
    "ratio",
    "significance",
    "acknowledged",
    "kind",
)


def detect_regressions_asv(table: pd.DataFrame, threshold: float = 0.05) -> pd.DataFrame:
    """Regressions found by asv's own step detection, in tensorbench.regressions' columns.

    Per (machine, env, benchmark, param_key) series of ok values in commit order, asv's
    ``detect_steps`` + ``detect_regressions`` (the detector behind ``asv publish``) give the
    upward steps. ``significance`` is the step height over asv's step error; ``acknowledged``
    is always False here (asv has no acknowledgement file).
    """
    from asv.step_detect import detect_regressions, detect_steps

    ok = table[(table["status"] == "ok") & table["value"].notna()]
    rows: list[dict[str, Any]] = []
    keys = ["machine", "env", "benchmark", "param_key"]
    for key, series in ok.groupby(keys, observed=True, sort=True):
        series = series.sort_values("commit_order")
        y = series["value"].to_numpy(dtype=float)
        if len(y) < 3:
            continue
        steps = detect_steps(y.tolist())
        _, _, positions = detect_regressions(steps, threshold=threshold)
        if not positions:
            continue
        commits = series["commit"].astype(str).to_numpy()
        step_err = {(left, right): err for left, right, _, _, err in steps}
        for before_i, after_i, before_v, after_v in positions:
            err = next((e for (lo, hi), e in step_err.items() if lo <= after_i < hi), None)
            rows.append(
                {
                    **dict(zip(keys, key, strict=True)),
                    "last_good_commit": commits[before_i],
                    "first_bad_commit": commits[after_i],
                    "before": before_v,
                    "after": after_v,
                    "ratio": after_v / before_v if before_v else math.inf,
                    "significance": (after_v - before_v) / err if err else math.nan,
                    "acknowledged": False,
                    "kind": "regression",
                }
            )
    return pd.DataFrame(rows, columns=list(REGRESSION_COLUMNS))


# ---------------------------------------------------------------------------------------------
# a synthetic database (tests, demos, and scripts/bench_dashboard.py)

# Sustained GFLOP/s per framework on a CPU in the synthetic model (x20 on a GPU): plausible,
# not measured.
_SYNTH_SPEED = {"numpy": 40.0, "torch": 60.0, "jax": 55.0, "mxnet": 30.0, "cupy": 45.0}


def _synth_flops(workload: str, size: int) -> float:
    """FLOPs from the workload's own work model where it has one, else 2 n^3 (matmul)."""
    from .workloads import WORKLOADS  # NumPy only; frameworks load inside implementations

    wl = WORKLOADS.get(workload)
    if wl is not None and getattr(wl, "size_name", "") != "scale":
        try:
            flops = wl.work(size, dict(wl.default_params)).flops
        except Exception:  # a work model that needs more than a size: use the fallback
            flops = None
        if flops:
            return float(flops)
    return 2.0 * size**3


def _synth_time(workload: str, backend: str, size: int, threads: int | None = None) -> float:
    framework, _, device = backend.partition(":")
    speed = _SYNTH_SPEED.get(framework, 50.0) * (20.0 if device.startswith("cuda") else 1.0)
    amdahl = 1.0 if threads is None else 0.15 + 0.85 / threads
    # efficiency grows with size (small problems are overhead-bound), overhead 2 us per call
    efficiency = size / (size + 64.0)
    return (_synth_flops(workload, size) / (speed * efficiency * 1e9) + 2e-6) * amdahl


def write_synthetic_results(
    dest: str | Path,
    *,
    commits: int = 12,
    workloads: tuple[str, ...] = ("matmul", "conv2d"),
    backends: tuple[str, ...] = ("numpy:cpu", "torch:cpu", "jax:cpu"),
    sizes: tuple[int, ...] = (64, 256, 1024),
    dtypes: tuple[str, ...] = ("float32",),
    machines: tuple[str, ...] = ("laptop",),
    threads: tuple[int, ...] = (),
    env: str = "virtualenv-py3.11",
    regression: float = 1.3,
    seed: int = 0,
) -> Path:
    """Write an asv results database shaped like tensorbench's own, with a known regression.

    Benchmarks are ``bench_array.<Workload>.time_<workload>`` with params backend x size x
    dtype; time = 2 size^3 / speed(backend) with 1 % noise. The last workload on the first
    backend gets ``regression`` times slower from two thirds of the way through the commits.
    ``threads`` adds ``bench_array.<Workload>Threads.time_<workload>_threads`` (first
    workload, largest size) over those thread counts. CUDA backends are skipped, with a reason,
    on machines whose name lacks "gpu". Returns ``dest``.
    """
    rng = np.random.default_rng(seed)
    root = Path(dest)
    root.mkdir(parents=True, exist_ok=True)
    names = [f"bench_array.{w.title().replace('_', '')}.time_{w}" for w in workloads]
    grids: dict[str, tuple[list[str], list[list[str]]]] = {
        name: (
            ["backend", "size", "dtype"],
            [[repr(b) for b in backends], [str(s) for s in sizes], [repr(d) for d in dtypes]],
        )
        for name in names
    }
    if threads:
        w = workloads[0]
        grids[f"bench_array.{w.title().replace('_', '')}Threads.time_{w}_threads"] = (
            ["backend", "size", "dtype", "threads"],
            [[repr(b) for b in backends], [str(max(sizes))], [repr(dtypes[0])]]
            + [[str(t) for t in threads]],
        )
    benchmarks: dict[str, Any] = {
        name: {
            "name": name,
            "type": "time",
            "unit": "seconds",
            "param_names": names_,
            "params": params,
            "version": hashlib.sha256(name.encode()).hexdigest(),
        }
        for name, (names_, params) in grids.items()
    }
    benchmarks["version"] = 2
    (root / "benchmarks.json").write_text(json.dumps(benchmarks))
    hashes = [hashlib.sha1(f"{seed}:{i}".encode()).hexdigest() for i in range(commits)]
    t0 = 1_735_689_600_000  # 2025-01-01 UTC, in ms like asv
    day = 86_400_000
    columns = ["result", "params", "version", "started_at", "duration"]
    columns += ["stats_ci_99_a", "stats_ci_99_b", "stats_q_25", "stats_q_75"]
    columns += ["stats_number", "stats_repeat"]
    for m_i, machine in enumerate(machines):
        folder = root / machine
        folder.mkdir(exist_ok=True)
        machine_facts = {
            "machine": machine,
            "arch": "x86_64",
            "cpu": f"Synthetic CPU {m_i + 1}",
            "num_cpu": "2",
            "os": "Linux 6.1",
            "ram": "8GB",
            "version": 1,
        }
        (folder / "machine.json").write_text(json.dumps(machine_facts))
        slow = (m_i + 1) ** 0.5
        has_gpu = "gpu" in machine
        # per benchmark: base times in product order, and the points skipped here
        base: dict[str, np.ndarray] = {}
        skip: dict[str, dict[str, str]] = {}
        for name, (pnames, params) in grids.items():
            times, reasons = [], {}
            combos: list[tuple] = [()]
            for values in params:
                combos = [c + (v,) for c in combos for v in values]
            for combo in combos:
                values = {k: _literal(v) for k, v in zip(pnames, combo, strict=True)}
                times.append(
                    _synth_time(
                        _workload_name(name).removesuffix("_threads"),
                        values["backend"],
                        values["size"],
                        values.get("threads"),
                    )
                )
                if ":cuda" in values["backend"] and not has_gpu:
                    key = ", ".join(f"{k}={v}" for k, v in zip(pnames, combo, strict=True))
                    reasons[key] = "no CUDA device on this machine"
                    times[-1] = math.nan
            base[name] = np.array(times) * slow
            skip[name] = reasons
        for c_i, commit in enumerate(hashes):
            date = t0 + c_i * day
            results: dict[str, list] = {}
            for w_i, (name, (_, params)) in enumerate(grids.items()):
                value = base[name] * (1 + 0.01 * rng.standard_normal(base[name].size))
                value *= 1 + (w_i % len(names)) / 4
                if name == names[-1] and c_i >= (2 * commits) // 3:
                    value[: value.size // len(backends)] *= regression  # first backend regresses
                values = [float(f"{v:.6g}") if math.isfinite(v) else math.nan for v in value]
                results[name] = [
                    values,
                    params,
                    benchmarks[name]["version"],
                    date + 60_000 * (w_i + 1),
                    1.5,
                    [float(f"{v * 0.98:.5g}") for v in values],
                    [float(f"{v * 1.02:.5g}") for v in values],
                    [float(f"{v * 0.99:.5g}") for v in values],
                    [float(f"{v * 1.01:.5g}") for v in values],
                    [10] * len(values),
                    [5] * len(values),
                ]
            data = {
                "commit_hash": commit,
                "env_name": env,
                "date": date,
                "params": {"machine": machine, "python": "3.11"},
                "python": "3.11",
                "requirements": {"numpy": "2.1.3", "torch": "2.5.1", "jax": "0.4.35"},
                "env_vars": {"OMP_NUM_THREADS": "2"},
                "result_columns": columns,
                "results": results,
                "durations": {},
                "tensorbench": {
                    "suites": ["synthetic"],
                    "threads": 2,
                    "facts": {"numpy": {"blas": "openblas 0.3.27"}},
                    "skip_reasons": {k: v for k, v in skip.items() if v},
                },
                "version": 2,
            }
            (folder / f"{commit[:8]}-{env}.json").write_text(json.dumps(data))
    return root


def find_changes(
    table: pd.DataFrame, threshold: float = 0.05, results_dir: str | Path | None = None
) -> pd.DataFrame:
    """Regressions and improvements of ``table``: `tensorbench.regressions` where installed.

    Uses ``find_regressions`` with ``<results_dir>/acknowledged.toml`` when that file exists;
    falls back to asv's step detection (:func:`detect_regressions_asv`, same core columns)
    when the module is absent. The ``detector`` attribute of the result's ``attrs`` says which.
    """
    try:
        from .regressions import find_regressions, load_acknowledged
    except ImportError:
        found = detect_regressions_asv(table, threshold=threshold)
        found.attrs["detector"] = "asv.step_detect"
        return found
    acks = None
    if results_dir is not None and (Path(results_dir) / "acknowledged.toml").is_file():
        acks = load_acknowledged(Path(results_dir) / "acknowledged.toml")
    found = find_regressions(table, threshold=threshold, acknowledged=acks)
    found.attrs["detector"] = "tensorbench.regressions"
    return found


def framework_versions(envs: pd.DataFrame) -> pd.DataFrame:
    """One row per (machine, env, package) with the version the result files record.

    From asv's ``requirements`` (an empty pin shows as "(unpinned)") and from tensorbench's own
    facts entry (``tensorbench.facts[<framework>]["version"]``), newest result file per env.
    """
    rows: list[dict[str, str]] = []
    for env in envs.itertuples(index=False):
        reqs = env.requirements if isinstance(env.requirements, dict) else {}
        for package, pin in sorted(reqs.items()):
            rows.append(
                {
                    "machine": env.machine,
                    "env": env.env,
                    "package": str(package),
                    "version": str(pin) if pin else "(unpinned)",
                    "source": "asv requirements",
                }
            )
        ours = getattr(env, "tensorbench", None)
        facts = ours.get("facts") if isinstance(ours, dict) else None
        for name, fw in sorted(facts.items()) if isinstance(facts, dict) else ():
            if isinstance(fw, dict) and fw.get("version") is not None:
                rows.append(
                    {
                        "machine": env.machine,
                        "env": env.env,
                        "package": str(name),
                        "version": str(fw["version"]),
                        "source": "tensorbench facts",
                    }
                )
    return pd.DataFrame(rows, columns=["machine", "env", "package", "version", "source"])
