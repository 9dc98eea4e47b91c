"""Read any asv results directory into one tidy pandas table.

Pure functions, no Streamlit and no framework import: the dashboard, the `chart` command and
the regression finder all start from :func:`load_results`. One table row is machine x env x
commit x benchmark x parameter combination; :mod:`.asvformat` parses the files.

Basic usage::

    db = load_results("results")
    db.table.query("workload == 'matmul' and status == 'ok'")
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..conventions import native_mode
from ..errors import InputError
from .asvformat import (
    RESULT_COLUMNS,
    Combos,
    ReadContext,
    parse_result_file,
    read_benchmarks,
    read_machine,
)
from .commitorder import commit_order
from .invalidvalues import (
    InvalidValues,
    InvalidValuesWarning,
    exclude_invalid,
    invalid_message,
)
from .listing import Folder, Listed, SkippedFile, fingerprint, list_results
from .resultcache import (
    Cached,
    cache_path,
    file_digest,
    read_cache,
    reconcile,
    stat_entry,
    write_cache,
)
from .rowschema import FILE, ROW_ARRAYS, STATUS, empty_rows

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


def _categorical(codes: np.ndarray, labels: list[Any]) -> pd.Categorical:
    """Categorical from per-row indices into ``labels`` (None labels become missing)."""
    cats = sorted({x for x in labels if x is not None})
    where = {c: i for i, c in enumerate(cats)}
    label_codes = np.array([where[x] if x is not None else -1 for x in labels], dtype=np.int64)
    if len(labels) == 0:
        label_codes = np.zeros(0, dtype=np.int64)
    return pd.Categorical.from_codes(label_codes[codes] if len(codes) else codes, cats)


def _modes(combos: Combos) -> list[str | None]:
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


# The row arrays that are table columns as they are; the others become columns by way of the
# combination (``combo``) or the file, or converted (status, started_at, version).
_AS_IS = tuple(n for n in ROW_ARRAYS if n in COLUMNS and n not in ("status", "started_at"))


def _build_table(
    files: list[_FileMeta],
    rows: dict[str, np.ndarray],
    combos: Combos,
    order: dict[str, int],
    versions: dict[str, Any],
) -> pd.DataFrame:
    """The tidy table from per-file facts and the rows' arrays (``rows["file"]`` indexes
    ``files``); version_current is worked out here, against today's benchmarks.json."""
    file_idx = rows[FILE]
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
        **{name: rows[name] for name in _AS_IS},
        "status": pd.Categorical.from_codes(rows["status"], list(STATUS)),
        "unit": per_combo(combos.unit),
        "started_at": pd.to_datetime(rows["started_at"], unit="ms", utc=True),
        "workload": per_combo(combos.workload),
        "backend": per_combo(combos.backend),
        "device": per_combo(combos.device),
        "size": np.array(combos.size, dtype=float)[combo] if len(combo) else np.zeros(0),
        "dtype": per_combo(combos.dtype),
        "threads": np.array(combos.threads, dtype=float)[combo] if len(combo) else np.zeros(0),
        "version_current": np.asarray(current, dtype=bool),
        "mode": per_combo(_modes(combos)),
        "busy": per_file([_ours(f).get("busy") or None for f in files]),
        "harness": np.array([_harness(f) for f in files], dtype=float)[file_idx]
        if len(files)
        else np.zeros(0),
    }
    return pd.DataFrame(data, columns=list(COLUMNS))


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
    benchmarks = read_benchmarks(root, skipped)
    versions = {k: v.get("version") for k, v in benchmarks.items()}
    ctx = ReadContext(benchmarks=benchmarks, versions=versions, skipped=skipped)
    listed_at = time.time_ns()  # before any stat: what a file's timestamps are judged against
    folders = list_results(root, skipped)
    where = cache_path(root) if cache else None
    cached = _usable_cache(where, root, ctx)
    kept, stale = reconcile(cached, [f for folder in folders for f in folder.files], listed_at)
    reading = _read_folders(folders, kept, ctx, listed_at)
    rows = _assemble(reading.parts, cached.arrays if cached is not None else None)
    if stale or reading.parsed:  # new rows to check; cached ones passed when they were parsed
        rows = _leave_out_invalid(rows, ctx.combos, reading)
        if where is not None:
            _store(where, root, ctx.combos, reading, rows)
    metas = reading.metas
    dates = np.array([f.date for f in metas], dtype=float)
    order, source = commit_order(root, repo, [f.commit for f in metas], dates)
    invalid = [
        InvalidValues(meta.path, *reading.entries[rel]["invalid"])
        for (rel, _, _), meta in zip(reading.parts, metas, strict=True)
        if "invalid" in reading.entries[rel]
    ]
    if invalid:
        warnings.warn(InvalidValuesWarning(invalid_message(invalid)), stacklevel=2)
    return ResultsDB(
        table=_build_table(metas, rows, ctx.combos, order, versions),
        skipped=_once(skipped),
        invalid=invalid,
        machines=reading.machines,
        benchmarks=benchmarks,
        envs=_envs_table(metas),
        results_dir=str(root),
        order_source=source,
    )


def _usable_cache(where: Path | None, root: Path, ctx: ReadContext) -> Cached | None:
    """The cache of ``root`` where there is a trusted one, its combinations numbered in
    ``ctx`` as it numbered them (the same blocks in the same order give the same ids)."""
    cached = read_cache(where, root) if where is not None else None
    if cached is None:
        return None
    try:
        for name, params in cached.blocks:
            ctx.combos.block(name, params, ctx.benchmarks)
    except ValueError:
        ctx.combos = Combos()
        return None
    return cached


@dataclass
class _Reading:
    """What the files of a results folder gave, per readable file in table order."""

    metas: list[_FileMeta] = field(default_factory=list)
    # (relative path, "cache", (start, stop)) or (relative path, "new", its arrays)
    parts: list[tuple[str, str, Any]] = field(default_factory=list)
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)  # the cache's, by path
    machines: dict[str, dict] = field(default_factory=dict)
    parsed: bool = False


def _read_folders(
    folders: list[Folder], kept: dict[str, dict[str, Any]], ctx: ReadContext, listed_at: int
) -> _Reading:
    """Every listed file: its cached rows where ``kept`` has it, else parsed."""
    out = _Reading()
    for folder in folders:
        machine, facts = read_machine(Path(folder.path), ctx.skipped)
        out.machines[machine] = facts
        for f in folder.files:
            entry, arrays = kept.get(f.rel), None
            if entry is None:
                out.parsed = True
                entry, arrays = _parse(f, machine, ctx, listed_at)
            else:
                ctx.skipped.extend(SkippedFile(f.path, reason) for reason in entry["skipped"])
            out.entries[f.rel] = entry
            if entry["commit"] is None:
                continue  # unreadable (and, if cached, unchanged since)
            if arrays is None:
                out.parts.append((f.rel, "cache", tuple(entry["rows"])))
            else:
                out.parts.append((f.rel, "new", arrays))
            meta = _FileMeta(
                machine, entry["env"], entry["commit"], entry["date"], entry["facts"], f.path
            )
            out.metas.append(meta)
    return out


def _parse(
    f: Listed, machine: str, ctx: ReadContext, listed_at: int
) -> tuple[dict[str, Any], dict[str, np.ndarray] | None]:
    """A file's cache entry (its facts, stat and skip reasons) and its rows' arrays; for an
    unreadable file an entry without a commit, and no arrays."""
    before = len(ctx.skipped)
    result = parse_result_file(f.path, machine, ctx)
    entry = stat_entry(f, listed_at) | {
        "skipped": [s.reason for s in ctx.skipped[before:]],
        "commit": None,
    }
    if result is None:
        # its digest lets an unreadable file that is still racy skip the parse
        entry["digest"] = file_digest(f.path)
        return entry, None
    entry.update(
        env=result.env,
        commit=result.commit,
        date=result.date,
        facts=result.facts,
        digest=result.digest,
    )
    return entry, result.arrays


def _leave_out_invalid(
    rows: dict[str, np.ndarray], combos: Combos, reading: _Reading
) -> dict[str, np.ndarray]:
    """The rows without impossible values; a parsed file's entry keeps how many it had (most
    have none: kept only where there were some)."""
    rows, found = exclude_invalid(rows, combos, [rel for rel, _, _ in reading.parts])
    counts = {i.path: [i.values, i.intervals] for i in found}
    for rel, kind, _ in reading.parts:
        if kind == "new" and rel in counts:
            reading.entries[rel]["invalid"] = counts[rel]
    return rows


def _store(
    where: Path, root: Path, combos: Combos, reading: _Reading, rows: dict[str, np.ndarray]
) -> None:
    """Write the cache: the rows, each file's entry with its row range, and the blocks that
    number the combinations."""
    bounds = np.searchsorted(rows[FILE], np.arange(len(reading.parts) + 1))
    for i, (rel, _, _) in enumerate(reading.parts):
        reading.entries[rel] = reading.entries[rel] | {"rows": [int(bounds[i]), int(bounds[i + 1])]}
    blocks = sorted(combos.blocks.items(), key=lambda kv: kv[1][0])
    ordered = [(name, [list(p) for p in params]) for (name, params), _ in blocks]
    write_cache(where, root, ordered, reading.entries, rows)


def _once(skipped: list[SkippedFile]) -> list[SkippedFile]:
    """Each (path, reason) once, in the order first met."""
    return list(dict.fromkeys(skipped))


def _assemble(
    parts: list[tuple[str, str, Any]], cached: dict[str, np.ndarray] | None
) -> dict[str, np.ndarray]:
    """The rows of every file in ``parts`` order, with ``file`` numbering the files."""
    if not parts:
        return empty_rows()
    take: list[np.ndarray] = []
    new: list[dict[str, np.ndarray]] = []
    n_cached = len(cached[FILE]) if cached is not None else 0
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
    for key in ROW_ARRAYS:
        pieces = ([cached[key]] if cached is not None else []) + [a[key] for a in new]
        column = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
        out[key] = column if in_order else column[index]
    out[FILE] = np.repeat(np.arange(len(parts)), counts)
    return out


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
