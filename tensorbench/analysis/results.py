"""Read any asv results directory into one tidy pandas table.

Pure functions, no Streamlit and no framework import: the dashboard, the `chart` command and
the regression finder all start from :func:`load_results`. One table row is machine x env x
commit x benchmark x parameter combination; :mod:`.asvformat` parses the files.

Basic usage::

    db = load_results("results")
    db.table.query("workload == 'matmul' and status == 'ok'")
"""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, TensorbenchWarning
from ..paths import native_mode
from . import resultcache
from .asvformat import (
    _STATUS,
    RESULT_COLUMNS,
    SkippedFile,
    _Combos,
    _Context,
    _read_benchmarks,
    _read_machine,
    _read_result_file,
)
from .listing import Listed, list_results
from .resultcache import (
    cache_path,
    file_digest,
    is_racy,
    judge,
    read_cache,
    write_cache,
)

__all__ = [
    "COLUMNS",
    "RESULT_COLUMNS",
    "InvalidValues",
    "InvalidValuesWarning",
    "ResultsDB",
    "SkippedFile",
    "exclude_invalid",
    "fingerprint",
    "invalid_message",
    "skipped_warnings",
    "framework_versions",
    "load_results",
    "placeholders",
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
    # What tensorbench's own result files add (asv's generic columns end above).
    "threads",  # a `threads` param where the benchmark has one (thread-scaling suite)
    "version_current",  # the result's benchmark version equals benchmarks.json's (asv's filter)
    "reason",  # why a point was skipped, where the result file says (tensorbench.skip_reasons)
    "work_flops",  # FLOPs / edges one call does, where the result file records them
    "work_edges",  # (tensorbench.work); charts fall back to the workload's work model
    "mode",  # eager | compiled: the `mode` param, else the backend's native mode (paths)
    "busy",  # why the machine was busy during the run that wrote the file, else None (noise)
    "harness",  # the timing harness that took the result (tensorbench.harness; 1 if unrecorded)
)


class InvalidValuesWarning(TensorbenchWarning):
    """A results folder holds values that cannot be measurements; they were left out."""


@dataclass(frozen=True)
class InvalidValues:
    """The values of one result file left out as impossible: ``values`` whole results (their
    rows are not in the table) and ``intervals`` results whose interval, quartiles or samples
    were dropped (the value itself was fine)."""

    path: str
    values: int
    intervals: int = 0


@dataclass
class ResultsDB:
    """Everything read from one asv results directory.

    ``table`` has :data:`COLUMNS`; ``envs`` one row per (machine, env) with the facts the
    newest result file recorded (python, requirements, env_vars, params) and how many commits
    it covers; ``order_source`` says whether ``commit_order`` follows git or commit dates;
    ``invalid`` the files whose impossible values were left out (:func:`exclude_invalid`).
    """

    table: pd.DataFrame
    skipped: list[SkippedFile] = field(default_factory=list)
    machines: dict[str, dict] = field(default_factory=dict)
    benchmarks: dict[str, dict] = field(default_factory=dict)
    envs: pd.DataFrame = field(default_factory=pd.DataFrame)
    results_dir: str = ""
    order_source: str = "date"
    invalid: list[InvalidValues] = field(default_factory=list)


def fingerprint(results_dir: str | Path) -> tuple[tuple[str, int, int, int, int], ...]:
    """A cheap key that changes when any JSON file under ``results_dir`` changes.

    (relative path, mtime, change time (both ns), inode, size) for every ``*.json`` at the top
    and one folder down, sorted. Pass it to a cache (``st.cache_data``) next to the directory
    so that a new or rewritten result file invalidates the cached table; the change time and
    inode catch what ``rsync -a`` or ``cp -p`` do (new content under the old mtime and size).
    """
    root = Path(results_dir)
    out: list[tuple[str, int, int, int, int]] = []
    try:
        top = list(os.scandir(root))
    except OSError:
        return ()
    for entry in top:
        try:
            if entry.is_dir():
                for sub in os.scandir(entry.path):
                    if sub.name.endswith(".json") and sub.is_file():
                        out.append(_stat_key(f"{entry.name}/{sub.name}", sub.stat()))
            elif entry.name.endswith(".json"):
                out.append(_stat_key(entry.name, entry.stat()))
        except OSError:
            continue  # vanished while scanning; the next call sees the new state
    out.sort()
    return tuple(out)


def _stat_key(name: str, st: os.stat_result) -> tuple[str, int, int, int, int]:
    return (name, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size)


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


def _categorical(codes: np.ndarray, labels: list[Any]) -> pd.Categorical:
    """Categorical from per-row indices into ``labels`` (None labels become missing)."""
    cats = sorted({x for x in labels if x is not None})
    where = {c: i for i, c in enumerate(cats)}
    label_codes = np.array([where[x] if x is not None else -1 for x in labels], dtype=np.int64)
    if len(labels) == 0:
        label_codes = np.zeros(0, dtype=np.int64)
    return pd.Categorical.from_codes(label_codes[codes] if len(codes) else codes, cats)


def _modes(combos: _Combos) -> list[str | None]:
    """Per combo: its ``mode`` parameter, else the native mode of tensorbench's backends."""
    out: list[str | None] = []
    for params, backend, workload in zip(
        combos.params, combos.backend, combos.workload, strict=True
    ):
        mode = params.get("mode") if isinstance(params, dict) else None
        if isinstance(mode, str):
            out.append(mode)
        elif backend is not None:
            out.append(native_mode(backend, workload or ""))
        else:
            out.append(None)
    return out


def _ours(meta: _FileMeta) -> dict[str, Any]:
    ours = meta.facts.get("tensorbench") if isinstance(meta.facts, dict) else None
    return ours if isinstance(ours, dict) else {}


def _harness(meta: _FileMeta) -> float:
    """The harness version a tensorbench file records; 1 for our files that predate the record,
    NaN for files tensorbench did not write (no "tensorbench" entry)."""
    ours = _ours(meta)
    if not ours:
        return math.nan
    value = ours.get("harness", 1)
    return float(value) if isinstance(value, int | float) else math.nan


@dataclass
class _FileMeta:
    """What the table needs of one result file besides its rows."""

    machine: str
    env: str
    commit: str
    date: float
    facts: dict[str, Any]
    path: str = ""


_ROW_ARRAYS = (
    "combo",
    "value",
    "status",
    "ci_low",
    "ci_high",
    "q25",
    "q75",
    "samples",
    "started_at",
    "version",
    "reason",
    "work_flops",
    "work_edges",
)


def _build_table(
    files: list[_FileMeta],
    rows: dict[str, np.ndarray],
    combos: _Combos,
    order: dict[str, int],
    versions: dict[str, Any],
) -> pd.DataFrame:
    """The tidy table from per-file facts and the rows' arrays (``rows["file"]`` indexes
    ``files``); version_current is worked out here, against today's benchmarks.json."""
    file_idx = rows["file"]
    combo = rows["combo"]

    def per_file(values: list[Any]) -> pd.Categorical:
        return _categorical(file_idx, values)

    def per_combo(values: list[Any]) -> pd.Categorical:
        return _categorical(combo, values)

    dates = np.array([f.date for f in files], dtype=float)
    commits = [f.commit for f in files]
    params_obj = np.empty(len(combos.params), dtype=object)
    params_obj[:] = combos.params
    expected = np.empty(len(combos.benchmark), dtype=object)
    # compared as text, as the cache keeps them (asv writes strings; anything else is odd)
    expected[:] = [None if versions.get(b) is None else str(versions[b]) for b in combos.benchmark]
    version = rows["version"]
    want = expected[combo] if len(combo) else np.empty(0, dtype=object)
    current = pd.isna(version) | pd.isna(want) | (version == want)
    data: dict[str, Any] = {
        "machine": per_file([f.machine for f in files]),
        "env": per_file([f.env for f in files]),
        "commit": per_file(commits),
        "commit_date": pd.to_datetime(dates[file_idx], unit="ms", utc=True),
        "commit_order": np.array([order.get(c, -1) for c in commits], dtype=np.int64)[file_idx]
        if len(files)
        else np.zeros(0, dtype=np.int64),
        "benchmark": per_combo(combos.benchmark),
        "kind": per_combo(combos.kind),
        "param_key": per_combo(combos.param_key),
        "params": params_obj[combo] if len(combo) else np.empty(0, dtype=object),
        "value": rows["value"],
        "status": pd.Categorical.from_codes(rows["status"], list(_STATUS)),
        "unit": per_combo(combos.unit),
        "ci_low": rows["ci_low"],
        "ci_high": rows["ci_high"],
        "q25": rows["q25"],
        "q75": rows["q75"],
        "samples": rows["samples"],
        "started_at": pd.to_datetime(rows["started_at"], unit="ms", utc=True),
        "workload": per_combo(combos.workload),
        "backend": per_combo(combos.backend),
        "device": per_combo(combos.device),
        "size": np.array(combos.size, dtype=float)[combo] if len(combo) else np.zeros(0),
        "dtype": per_combo(combos.dtype),
        "threads": np.array(combos.threads, dtype=float)[combo] if len(combo) else np.zeros(0),
        "version_current": np.asarray(current, dtype=bool),
        "reason": rows["reason"],
        "work_flops": rows["work_flops"],
        "work_edges": rows["work_edges"],
        "mode": per_combo(_modes(combos)),
        "busy": per_file([_ours(f).get("busy") or None for f in files]),
        "harness": np.array([_harness(f) for f in files], dtype=float)[file_idx]
        if len(files)
        else np.zeros(0),
    }
    return pd.DataFrame(data, columns=list(COLUMNS))


def _empty_rows() -> dict[str, np.ndarray]:
    out = {k: np.zeros(0, dtype=float) for k in _ROW_ARRAYS}
    out["file"] = np.zeros(0, dtype=np.int64)
    out["combo"] = np.zeros(0, dtype=np.int64)
    out["status"] = np.zeros(0, dtype=np.int8)
    for k in ("samples", "version", "reason"):
        out[k] = np.empty(0, dtype=object)
    return out


def _envs_table(files: list[_FileMeta]) -> pd.DataFrame:
    newest: dict[tuple[str, str], _FileMeta] = {}
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


def load_results(
    results_dir: str | Path, repo: str | Path | None = None, *, cache: bool = True
) -> ResultsDB:
    """Read the asv results under ``results_dir`` into a :class:`ResultsDB`.

    ``repo`` is the git repository the results were measured on; by default the results
    directory's parent when that is a git repository. ``commit_order`` follows git when every
    result commit is in that repository, else the commits' dates. Unreadable files (and files
    reached twice, symlink loops, unreadable folders, files too large to be results) are
    listed in ``skipped``, each once. With ``cache`` the rows are kept in a columnar cache
    beside the folder (`tensorbench.analysis.resultcache`) and only new or changed files are
    parsed; the table is the same either way. Values that cannot be measurements are left out
    (:func:`exclude_invalid`), listed in ``invalid`` and announced by one
    :class:`InvalidValuesWarning`. Raises :class:`InputError` when ``results_dir`` is not a
    directory.
    """
    root = Path(results_dir)
    if not root.is_dir():
        raise InputError(f"results directory not found: {root}")
    skipped: list[SkippedFile] = []
    benchmarks = _read_benchmarks(root, skipped)
    versions = {k: v.get("version") for k, v in benchmarks.items()}
    ctx = _Context(benchmarks=benchmarks, versions=versions, skipped=skipped)
    listed_at = time.time_ns()  # before any stat: what a file's timestamps are judged against
    trust_stat = resultcache.STAT_TRUSTED
    folders = list_results(root, skipped)
    where = cache_path(root) if cache else None
    cached = read_cache(where, root) if where is not None else None
    if cached is not None:
        try:  # the same blocks in the same order give the same combination ids
            for name, params in cached.blocks:
                ctx.combos.block(name, params, benchmarks)
        except ValueError:
            cached, ctx.combos = None, _Combos()
    machines: dict[str, dict] = {}
    metas: list[_FileMeta] = []
    cache_files: dict[str, dict[str, Any]] = {}
    # per readable file, in table order: (relative path, "cache", (start, stop)) or
    # (relative path, "new", its arrays)
    parts: list[tuple[str, str, Any]] = []
    changed = cached is None
    for folder in folders:
        machine, facts = _read_machine(Path(folder.path), skipped)
        machines[machine] = facts
        for f in folder.files:
            old = cached.files.get(f.rel) if cached is not None else None
            if old is None:
                verdict = "changed"
            elif (  # the common case, inline: judge() below says the same, per call slower
                trust_stat
                and old["racy"] is False
                and old["mtime"] == f.mtime_ns
                and old["ctime"] == f.ctime_ns
                and old["ino"] == f.ino
                and old["size"] == f.size
            ):
                verdict = "same"
            else:
                verdict = judge(old, f.size, f.mtime_ns, f.ctime_ns, f.ino)
            if verdict == "check":  # same size, stat changed or not to be trusted: the content
                if file_digest(f.path) == old["digest"]:
                    verdict = "same"
                    stat = _stat_entry(f, listed_at)
                    if any(old.get(k) != v for k, v in stat.items()):
                        old = old | stat
                        changed = True  # keep the new stat, so that the next load trusts it
                else:
                    verdict = "changed"
            if verdict == "same":
                skipped.extend(SkippedFile(f.path, reason) for reason in old["skipped"])
                cache_files[f.rel] = old
                if old["commit"] is None:
                    continue  # unreadable, and unchanged since
                parts.append((f.rel, "cache", tuple(old["rows"])))
            else:
                changed = True
                before = len(skipped)
                result = _read_result_file(f.path, machine, ctx)
                entry = _stat_entry(f, listed_at) | {
                    "skipped": [s.reason for s in skipped[before:]],
                    "commit": None,
                }
                cache_files[f.rel] = entry
                if result is None:
                    # its digest lets an unreadable file that is still racy skip the parse
                    entry["digest"] = file_digest(f.path)
                    continue
                entry.update(
                    env=result.env,
                    commit=result.commit,
                    date=result.date,
                    facts=result.facts,
                    digest=result.digest,
                )
                parts.append((f.rel, "new", result.arrays))
            meta = cache_files[f.rel]
            metas.append(
                _FileMeta(machine, meta["env"], meta["commit"], meta["date"], meta["facts"], f.path)
            )
    if cached is not None and set(cached.files) - set(cache_files):
        changed = True  # files deleted since
    rows = _assemble(parts, cached.arrays if cached is not None else None)
    if changed:  # new rows to check; cached rows were checked when parsed (and pass again)
        rows, found = exclude_invalid(rows, ctx.combos, [rel for rel, _, _ in parts])
        counts = {i.path: [i.values, i.intervals] for i in found}
        for rel, kind, _ in parts:
            if kind == "new":
                if rel in counts:  # kept only where there were some: most files have none
                    cache_files[rel]["invalid"] = counts[rel]
    if where is not None and changed:
        bounds = np.searchsorted(rows["file"], np.arange(len(parts) + 1))
        for i, (rel, _, _) in enumerate(parts):
            cache_files[rel] = cache_files[rel] | {"rows": [int(bounds[i]), int(bounds[i + 1])]}
        blocks = sorted(ctx.combos.blocks.items(), key=lambda kv: kv[1][0])
        write_cache(
            where,
            root,
            [(name, [list(p) for p in params]) for (name, params), _ in blocks],
            cache_files,
            rows,
        )
    if repo is None and _is_git_repo(root.resolve().parent):
        repo = root.resolve().parent
    dates = np.array([f.date for f in metas], dtype=float)
    order, source = _commit_order(
        [f.commit for f in metas], dates, Path(repo) if repo is not None else None
    )
    invalid = [
        InvalidValues(meta.path, *cache_files[rel]["invalid"])
        for (rel, _, _), meta in zip(parts, metas, strict=True)
        if "invalid" in cache_files[rel]
    ]
    if invalid:
        warnings.warn(InvalidValuesWarning(invalid_message(invalid)), stacklevel=2)
    return ResultsDB(
        table=_build_table(metas, rows, ctx.combos, order, versions),
        skipped=_once(skipped),
        invalid=invalid,
        machines=machines,
        benchmarks=benchmarks,
        envs=_envs_table(metas),
        results_dir=str(root),
        order_source=source,
    )


def _stat_entry(f: Listed, listed_at: int) -> dict[str, Any]:
    """What the cache keeps of a file's stat (see :func:`.resultcache.judge`)."""
    return {
        "size": f.size,
        "mtime": f.mtime_ns,
        "ctime": f.ctime_ns,
        "ino": f.ino,
        "racy": is_racy(f.mtime_ns, f.ctime_ns, listed_at),
    }


def _once(skipped: list[SkippedFile]) -> list[SkippedFile]:
    """Each (path, reason) once, in the order first met."""
    return list(dict.fromkeys(skipped))


def _assemble(
    parts: list[tuple[str, str, Any]], cached: dict[str, np.ndarray] | None
) -> dict[str, np.ndarray]:
    """The rows of every file in ``parts`` order, with ``file`` numbering the files."""
    if not parts:
        return _empty_rows()
    take: list[np.ndarray] = []
    new: list[dict[str, np.ndarray]] = []
    n_cached = len(cached["file"]) if cached is not None else 0
    offset = n_cached
    counts = []
    for _, kind, what in parts:
        if kind == "cache":
            start, stop = what
            take.append(np.arange(start, stop))
        else:
            n = len(what["combo"])
            take.append(np.arange(offset, offset + n))
            offset += n
            new.append(what)
        counts.append(len(take[-1]))
    index = np.concatenate(take)
    # the common cases (all cached, or all new) come in file order: nothing to reorder
    in_order = index.size == offset and np.array_equal(index, np.arange(index.size))
    out: dict[str, np.ndarray] = {}
    for key in _ROW_ARRAYS:
        pieces = ([cached[key]] if cached is not None else []) + [a[key] for a in new]
        column = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
        out[key] = column if in_order else column[index]
    out["file"] = np.repeat(np.arange(len(parts)), counts)
    return out


# A time or a peak memory of zero or less is no measurement. A time of one call below a
# picosecond (under one CPU cycle) or beyond 1e7 s (four months; asv's timeouts are minutes) is
# none either, and values like that overflow the rates and ratios computed from them. mem_
# measures the size of a returned object, which can be zero (real databases hold 0 bytes), not
# less. A track_ value may be anything finite (a count, a score, a difference).
TIME_RANGE = (1e-12, 1e7)
INVALID_WHY = "infinite, a time or memory of zero or less, or no plausible time"
_STATS = ("ci_low", "ci_high", "q25", "q75")


def _plausible(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Per value: finite and within [low, high] (low > 0 means strictly positive too)."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (values >= low) & (values <= high)


def exclude_invalid(
    rows: dict[str, np.ndarray], combos: _Combos, paths: list[str]
) -> tuple[dict[str, np.ndarray], list[InvalidValues]]:
    """Leave out every value that cannot be a measurement, and say where they were.

    The one place this is decided, so that every table, chart, report and the gate see the
    same data: a measured result (status ok) whose value is not finite, is zero or negative
    for a time or memory size, or is not a plausible time (:data:`TIME_RANGE`) is dropped;
    an impossible interval bound, quartile or sample of a result that is kept is dropped from
    that result (NaN, no samples; a bound below the lowest plausible value only becomes NaN,
    uncounted). ``rows["file"]`` indexes ``paths``. Returns the rows and per file the counts,
    in file order (empty when nothing was wrong).
    """
    n = len(rows["value"])
    if n == 0:
        return rows, []
    kinds = np.asarray(combos.kind, dtype=object)
    is_time = kinds == "time"
    lowest = {"time": TIME_RANGE[0], "peakmem": np.nextafter(0.0, 1.0), "mem": 0.0}
    low_c = np.array([lowest.get(k, -np.inf) for k in kinds], dtype=float)
    high_c = np.where(is_time, TIME_RANGE[1], np.inf)
    low, high = low_c[rows["combo"]], high_c[rows["combo"]]
    measured = rows["status"] == 0
    bad = measured & ~_plausible(rows["value"], low, high)
    stat_bad = np.zeros(n, dtype=bool)
    stats: dict[str, np.ndarray] = {}
    for name in _STATS:
        column = rows[name]
        wrong = ~np.isnan(column) & ~_plausible(column, low, high)
        if wrong.any():
            stats[name] = wrong
            # Only a bound that is infinite or too large is broken. One at or below zero says
            # that the interval reaches zero: asv's format-1 intervals (a normal approximation
            # over 2 repeats) do that in real databases. It cannot be drawn on a log axis, so
            # it becomes unknown (the charts then draw to the value), without a warning.
            with np.errstate(invalid="ignore"):
                stat_bad |= wrong & ~(np.isfinite(column) & (column < low))
    samples_bad = _bad_samples(rows["samples"], low, high)
    cleared = (stat_bad | samples_bad) & measured & ~bad
    if not bad.any() and not cleared.any() and not stats:
        return rows, []
    out = dict(rows)
    for name, wrong in stats.items():
        out[name] = np.where(wrong, np.nan, rows[name])
    if samples_bad.any():
        out["samples"] = rows["samples"].copy()
        out["samples"][samples_bad] = None
    keep = ~bad
    out = {k: v[keep] for k, v in out.items()}
    n_files = len(paths)
    dropped = np.bincount(rows["file"][bad], minlength=n_files)
    fixed = np.bincount(rows["file"][cleared], minlength=n_files)
    invalid = [
        InvalidValues(paths[i], int(dropped[i]), int(fixed[i]))
        for i in np.flatnonzero(dropped + fixed)
    ]
    return out, invalid


def _bad_samples(samples: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Per row: it has samples and one of them is not plausible (all rows checked at once)."""
    n = len(samples)
    bad = np.zeros(n, dtype=bool)
    where = np.flatnonzero(np.fromiter((s is not None for s in samples), bool, n))
    if not len(where):
        return bad
    lengths = np.fromiter((len(samples[i]) for i in where), np.int64, len(where))
    # np.array, not fromiter: a None among the samples becomes NaN (implausible), not an error
    flat = np.array(list(itertools.chain.from_iterable(samples[i] for i in where)), dtype=float)
    fine = _plausible(flat, np.repeat(low[where], lengths), np.repeat(high[where], lengths))
    owner = np.repeat(np.arange(len(where)), lengths)
    fine_count = np.bincount(owner, weights=fine, minlength=len(where))
    bad[where] = fine_count < lengths
    return bad


def invalid_message(invalid: list[InvalidValues], shown: int = 5) -> str:
    """One line saying how many values were left out, why, and from which files."""
    values = sum(i.values for i in invalid)
    intervals = sum(i.intervals for i in invalid)
    what = [f"{values} invalid value(s) left out"] if values else []
    if intervals:
        what.append(f"the intervals or samples of {intervals} result(s) dropped")
    files = ", ".join(f"{i.path} ({i.values + i.intervals})" for i in invalid[:shown])
    more = f" and {len(invalid) - shown} more file(s)" if len(invalid) > shown else ""
    return f"{' and '.join(what)} ({INVALID_WHY}): {files}{more}"


def skipped_warnings(skipped: list[SkippedFile]) -> list[str]:
    """One warning line per file (or benchmark in it) the reader skipped, as every command
    prints them: ``skipped PATH: REASON``."""
    return [f"skipped {s.path}: {s.reason}" for s in skipped]


def placeholders(table: pd.DataFrame) -> pd.Series:
    """Rows that are skipped because the running suite did not select them ("not in suite
    ..."): grid points nobody asked for, not problems to look at."""
    reason = table["reason"]
    return (
        table["status"].eq("skipped")
        & reason.notna()
        & reason.astype(str).str.startswith("not in suite")
    )


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
        if isinstance(facts, dict) and isinstance(facts.get("backends"), dict):
            facts = facts["backends"]  # `tensorbench info`'s layout: machine, blas, backends
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


def modes_measured(table: pd.DataFrame) -> pd.DataFrame:
    """Per (machine, env, backend name): the modes its results were measured in ("eager, compiled")."""
    cols = ["machine", "env", "package", "modes"]
    if table.empty or "mode" not in table:
        return pd.DataFrame(columns=cols)
    rows = table[table["backend"].notna() & table["mode"].notna() & (table["status"] == "ok")]
    rows = rows.assign(package=rows["backend"].astype(str).str.split(":").str[0])
    grouped = rows.groupby(["machine", "env", "package"], observed=True)["mode"]
    out = grouped.agg(lambda m: ", ".join(sorted(set(m.astype(str))))).reset_index()
    out = out.rename(columns={"mode": "modes"})[cols]
    return out.astype({c: object for c in cols})  # plain strings, not categories
