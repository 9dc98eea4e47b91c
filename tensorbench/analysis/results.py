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
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..paths import native_mode
from .asvformat import (
    _STATUS,
    RESULT_COLUMNS,
    SkippedFile,
    _Combos,
    _Context,
    _FileResult,
    _read_benchmarks,
    _read_machine,
    _read_result_file,
)

__all__ = [
    "COLUMNS",
    "RESULT_COLUMNS",
    "ResultsDB",
    "SkippedFile",
    "fingerprint",
    "framework_versions",
    "load_results",
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
)


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
        "mode": per_combo(_modes(combos)),
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
