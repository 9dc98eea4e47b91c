"""Parse a results folder's asv files (format 1 and 2) into per-file row arrays; nothing is lost.

:mod:`.asvfile` owns one file's format (its columns, validation, reader and writer; its names
are re-exported here); this module turns many files into the arrays of :mod:`.rowschema`, fast.

Layout read (asv 0.6)::

    results/benchmarks.json                 name -> {type, unit, param_names, params, version}
    results/<machine>/machine.json          facts about the machine
    results/<machine>/<hash8>-<env>.json    one commit x environment, result format 1 or 2

In format 2 every benchmark's ``result`` list holds one value per combination of its
``params`` lists, in ``itertools.product`` order; ``null`` means the benchmark failed and
``NaN`` that it was skipped. A file (or one benchmark inside a file) that cannot be read is
skipped and listed as a :class:`SkippedFile`, with the reason. :mod:`.results` builds the table.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..conventions import param_key
from .asvfile import (
    KIND_PREFIXES,
    KNOWN_RESULT_COLUMNS,
    MS_MAX,
    MS_MIN,
    RESULT_COLUMNS,
    BadResultFile,
    ColumnPicker,
    ResultFile,
    benchmark_kind,
    combinations,
    is_ms_timestamp,
    param_value,
    parse_json,
    read_json,
    read_result_file,
    validated,
    write_result_file,
)
from .listing import SkippedFile
from .resultcache import content_digest
from .rowschema import ROW_ARRAYS

# The format's public names are reachable here too: asvformat reads a whole results folder,
# asvfile owns one file's format.
__all__ = [
    "KNOWN_RESULT_COLUMNS",
    "RESULT_COLUMNS",
    "ResultFile",
    "SkippedFile",
    "read_result_file",
    "write_result_file",
]

_UNIT_BY_KIND = {"time": "seconds", "peakmem": "bytes", "mem": "bytes"}

# Method names that say nothing about the workload: fall back to the class name.
_GENERIC_METHODS = frozenset({"", "run", "it", "call", "case", "workload", "bench", "benchmark"})


class _BadEntry(ValueError):
    """One benchmark entry in a result file is malformed."""


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _workload_name(benchmark: str) -> str:
    """`bench_array.MatmulSuite.time_matmul` -> `matmul`; tolerant of other spellings."""
    parts = benchmark.split(".")
    method = parts[-1]
    for prefix, _ in KIND_PREFIXES:
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
class Combos:
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
        kind = benchmark_kind(name, bench)
        unit = bench.get("unit") if isinstance(bench, dict) else None
        unit = unit if isinstance(unit, str) else _UNIT_BY_KIND.get(kind, "")
        workload = _workload_name(name)
        if "threads" in names and workload.endswith("_threads"):
            workload = workload[: -len("_threads")]  # the thread-scaling twin of a workload
        start = len(self.benchmark)
        combos = combinations(params)
        for combo in combos:
            key_text = param_key(names, combo)
            values = {n: param_value(v) for n, v in zip(names, combo, strict=True)}
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


def _as_column(value: Any, n: int, what: str) -> list:
    """A per-combination column of an entry: None -> n Nones; otherwise a list of length n."""
    if value is None:
        return [None] * n
    if not isinstance(value, list) or len(value) != n:
        raise _BadEntry(f"{what} has {_len(value)} values for {n} parameter combinations")
    return value


def _len(value: Any) -> str:
    return str(len(value)) if isinstance(value, list) else f"a {type(value).__name__}, not"


# The columns the table takes from each row, in the order _FileRows.add unpacks them.
_TABLE_COLUMNS = (
    "result",
    "params",
    "version",
    "started_at",
    "stats_ci_99_a",
    "stats_ci_99_b",
    "stats_q_25",
    "stats_q_75",
    "samples",
)


@dataclass
class _FileRows:
    """Lists of the row arrays (:data:`.rowschema.ROW_ARRAYS`, ``status`` aside: it follows
    from ``value``) for the rows of one result file (or one entry of it)."""

    combo: list[int] = field(default_factory=list)
    value: list[Any] = field(default_factory=list)
    ci_low: list[Any] = field(default_factory=list)
    ci_high: list[Any] = field(default_factory=list)
    q25: list[Any] = field(default_factory=list)
    q75: list[Any] = field(default_factory=list)
    samples: list[Any] = field(default_factory=list)
    started_at: list[Any] = field(default_factory=list)
    # as the file says; results.py compares it with benchmarks.json's (version_current)
    version: list[Any] = field(default_factory=list)
    reason: list[str | None] = field(default_factory=list)
    work_flops: list[Any] = field(default_factory=list)
    work_edges: list[Any] = field(default_factory=list)

    def add(
        self,
        name: str,
        row: Any,
        cols: ColumnPicker,
        ctx: ReadContext,
        reasons: Any = None,
        work: Any = None,
    ) -> None:
        """Append one benchmark entry's rows; raises _BadEntry (appending nothing) if malformed.

        ``reasons`` maps param_key -> skip reason and ``work`` param_key -> {"flops", "edges"}
        (and "ci99" where a track_ point measured its own interval) for this benchmark
        (tensorbench's own entry in the result file).
        """
        if type(row) is not list:
            raise _BadEntry(f"entry is a {type(row).__name__}, not a list")
        result, params, version, started, ci_a, ci_b, q25, q75, samples = cols(row)
        start, n = ctx.combos.block(name, params or [], ctx.benchmarks)
        if type(result) is not list:
            # format 2 always writes a list; None = all failed, a bare number = one value
            result = [None] * n if result is None else [result]
        if len(result) != n:
            raise _BadEntry(f"result has {len(result)} values for {n} parameter combinations")
        if (
            started is not None
            and not (type(started) is int and MS_MIN <= started <= MS_MAX)
            and not is_ms_timestamp(started)
        ):
            raise _BadEntry("started_at is not a timestamp in ms")
        # Validate every column before extending any, so a bad entry leaves no partial rows.
        nones = [None] * n
        ci_a = (
            ci_a if type(ci_a) is list and len(ci_a) == n else _as_column(ci_a, n, "stats_ci_99_a")
        )
        ci_b = (
            ci_b if type(ci_b) is list and len(ci_b) == n else _as_column(ci_b, n, "stats_ci_99_b")
        )
        q25 = q25 if type(q25) is list and len(q25) == n else _as_column(q25, n, "stats_q_25")
        q75 = q75 if type(q75) is list and len(q75) == n else _as_column(q75, n, "stats_q_75")
        if samples is None:
            samples = nones
        else:
            samples = _as_column(samples, n, "samples")
            if not all(s is None or isinstance(s, list) for s in samples):
                raise _BadEntry("samples is not a list of lists")
            samples = [None if s is None else tuple(s) for s in samples]
        if isinstance(work, dict) and work:
            ci_a, ci_b = _own_intervals(ci_a, ci_b, work, ctx.combos.param_key[start : start + n])
        self.combo.extend(range(start, start + n))
        self.value.extend(result)
        self.ci_low.extend(ci_a)
        self.ci_high.extend(ci_b)
        self.q25.extend(q25)
        self.q75.extend(q75)
        self.samples.extend(samples)
        self.started_at.extend([started] * n)
        self.version.extend(
            [version if version is None or type(version) is str else str(version)] * n
        )
        if isinstance(reasons, dict) and reasons:
            keys = ctx.combos.param_key[start : start + n]
            self.reason.extend(_text_or_none(reasons.get(k)) for k in keys)
        else:
            self.reason.extend(nones)
        if isinstance(work, dict) and work:
            keys = ctx.combos.param_key[start : start + n]
            amounts = [work.get(k) if isinstance(work.get(k), dict) else {} for k in keys]
            self.work_flops.extend(_number(a.get("flops")) for a in amounts)
            self.work_edges.extend(_number(a.get("edges")) for a in amounts)
        else:
            self.work_flops.extend([math.nan] * n)
            self.work_edges.extend([math.nan] * n)

    def arrays(self) -> dict[str, np.ndarray]:
        """The row arrays; raises ValueError/TypeError on values of the wrong type."""
        out: dict[str, np.ndarray] = {}
        for name, kind in ROW_ARRAYS.items():
            if name != "status":
                out[name] = _AS_ARRAY[kind](getattr(self, name))
        value = out["value"]
        failed = np.fromiter((v is None for v in self.value), bool, len(self.value))
        out["status"] = np.where(failed, 1, np.where(np.isnan(value), 2, 0)).astype(np.int8)
        return out


def _samples(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for i, s in enumerate(values):
        if s is not None:
            _floats(s)  # validate; kept as the tuple
            out[i] = s
    return out


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


# How each kind of row array (rowschema) is made from a _FileRows list.
_AS_ARRAY = {
    "int64": lambda values: np.array(values, dtype=np.int64),
    "float": _floats,
    "text": _objects,
    "samples": _samples,
}


@dataclass
class ReadContext:
    benchmarks: dict[str, dict]
    versions: dict[str, Any]
    combos: Combos = field(default_factory=Combos)
    skipped: list[SkippedFile] = field(default_factory=list)


@dataclass
class _FileResult:
    machine: str
    env: str
    commit: str
    date: float
    facts: dict[str, Any]
    arrays: dict[str, np.ndarray]
    digest: str = ""  # of the bytes parsed: the cache checks a suspect file's content by it


def parse_result_file(path: str, machine: str, ctx: ReadContext) -> _FileResult | None:
    try:
        with open(path, "rb") as f:
            raw = f.read()
        d = validated(parse_json(raw))
    except (OSError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        ctx.skipped.append(SkippedFile(path, _reason(exc)))
        return None
    cols = ColumnPicker.of(d, _TABLE_COLUMNS)
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
        digest=content_digest(raw),
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        # json's own messages may end in "at" ("Unterminated string starting at")
        where = f"line {exc.lineno}, column {exc.colno}"
        said = exc.msg if exc.msg.endswith(" at") else f"{exc.msg} at"
        return f"invalid JSON (truncated or corrupt): {said} {where}"
    if isinstance(exc, OSError):
        return f"cannot read: {exc.strerror or exc}"
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply"
    if isinstance(exc, TypeError | ValueError | OverflowError) and not isinstance(
        exc, BadResultFile | _BadEntry
    ):
        return f"value of the wrong type ({exc})"
    return str(exc)


def read_benchmarks(root: Path, skipped: list[SkippedFile]) -> dict[str, dict]:
    path = root / "benchmarks.json"
    if not path.is_file():
        return {}
    try:
        d = read_json(path)
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


def read_machine(folder: Path, skipped: list[SkippedFile]) -> tuple[str, dict]:
    path = folder / "machine.json"
    if not path.is_file():
        return folder.name, {}
    try:
        d = read_json(path)
    except (OSError, ValueError, RecursionError) as exc:
        skipped.append(SkippedFile(str(path), _reason(exc)))
        return folder.name, {}
    if not isinstance(d, dict):
        skipped.append(SkippedFile(str(path), "not an asv machine.json (not an object)"))
        return folder.name, {}
    name = d.get("machine")
    return (name if isinstance(name, str) and name else folder.name), d


def _own_intervals(
    ci_a: list[Any], ci_b: list[Any], work: dict[str, Any], keys: Sequence[str]
) -> tuple[list[Any], list[Any]]:
    """asv's 99 % interval columns, with the interval tensorbench recorded for a point where
    asv has none (a claim figure's ``track_``: `tensorbench.asv.claimfigures`)."""
    a, b = list(ci_a), list(ci_b)
    for i, key in enumerate(keys):
        own = work.get(key)
        ci = own.get("ci99") if isinstance(own, dict) else None
        if a[i] is None and b[i] is None and isinstance(ci, list) and len(ci) == 2:
            low, high = _number(ci[0]), _number(ci[1])
            if math.isfinite(low) and math.isfinite(high):
                a[i], b[i] = low, high
    return a, b
