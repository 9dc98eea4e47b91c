"""What a results database records about how it was measured: runs, environments, settings.

The results table keeps only the newest ``"tensorbench"`` entry per environment; a report
needs every run's (was *this* run busy? which harness took it?), so :func:`run_records` reads
that one key from every result file. Everything here is plain data for the report's tables
and its methods section; nothing is measured or guessed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

RUN_COLUMNS = [
    "machine",
    "env",
    "commit",
    "date",
    "tensorbench",  # the file has tensorbench's own entry
    "suites",
    "threads",
    "harness",  # None: no record (harness 1, or not tensorbench's)
    "busy",  # why the machine counted as busy, or None
    "dirty_tree",
]

# asv's per-benchmark timing settings as benchmarks.json records them.
ASV_SETTINGS = (
    "repeat",
    "number",
    "rounds",
    "min_run_count",
    "sample_time",
    "warmup_time",
    "timeout",
)


def _machine_name(folder: Path) -> str:
    try:
        name = json.loads((folder / "machine.json").read_text(encoding="utf-8")).get("machine")
    except (OSError, ValueError, AttributeError):
        name = None
    return name if isinstance(name, str) and name else folder.name


def run_records(results_dir: str | Path) -> pd.DataFrame:
    """One row per result file: machine, env, commit, date and tensorbench's run facts.

    Unreadable files are left out here: the results reader already lists them.
    """
    root = Path(results_dir)
    rows: list[dict[str, Any]] = []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if not entry.is_dir() or entry.name.startswith("."):
            continue
        folder = Path(entry.path)
        machine = _machine_name(folder)
        for path in sorted(folder.glob("*.json")):
            if path.name == "machine.json":
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError, RecursionError):
                continue
            if not isinstance(data, dict):
                continue
            ours = data.get("tensorbench")
            ours = ours if isinstance(ours, dict) else {}
            rows.append(
                {
                    "machine": machine,
                    "env": str(data.get("env_name", "")),
                    "commit": str(data.get("commit_hash", "")),
                    "date": data.get("date"),
                    "tensorbench": bool(ours),
                    "suites": tuple(ours.get("suites") or ()),
                    "threads": ours.get("threads"),
                    "harness": ours.get("harness"),
                    "busy": ours.get("busy") or None,
                    "dirty_tree": bool(ours.get("dirty_tree", False)),
                }
            )
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def _backend_facts(facts: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Per framework facts: ``facts["backends"]`` (tensorbench's probe) or the top level."""
    backends = facts.get("backends")
    source = backends if isinstance(backends, Mapping) else facts
    return {str(k): v for k, v in source.items() if isinstance(v, Mapping) and k != "machine"}


def blas_text(facts: Mapping[str, Any]) -> str:
    """'openblas 0.3.30 (Haswell kernel, pthreads, 2 threads)' for each BLAS the run loaded."""
    libs = facts.get("blas")
    if isinstance(libs, str):
        return libs
    parts = []
    for lib in libs if isinstance(libs, list) else ():
        if not isinstance(lib, Mapping) or lib.get("user_api") != "blas":
            continue
        details = [
            f"{lib['architecture']} kernel" if lib.get("architecture") else None,
            lib.get("threading_layer"),
            f"{lib['num_threads']} threads" if lib.get("num_threads") else None,
        ]
        inner = ", ".join(d for d in details if d)
        name = f"{lib.get('internal_api', '?')} {lib.get('version', '')}".strip()
        parts.append(f"{name} ({inner})" if inner else name)
    for name, fw in sorted(_backend_facts(facts).items()):
        if fw.get("blas") and isinstance(fw.get("blas"), str):
            parts.append(f"{name}: {fw['blas']}" + (" + oneDNN" if fw.get("mkldnn") else ""))
    return "; ".join(dict.fromkeys(parts))


def versions_text(facts: Mapping[str, Any], requirements: Mapping[str, Any]) -> str:
    """'numpy 2.4.6, torch 2.13.0+cpu, ...': the frameworks the run had, else asv's pins."""
    out = []
    for name, fw in sorted(_backend_facts(facts).items()):
        if fw.get("available") is False:
            continue
        if fw.get("version"):
            out.append(f"{name} {fw['version']}")
    if out:
        return ", ".join(out)
    return ", ".join(
        f"{pkg} {pin}" if pin else f"{pkg} (unpinned)" for pkg, pin in sorted(requirements.items())
    )


def unavailable(facts: Mapping[str, Any]) -> dict[str, str]:
    """Framework -> why it could not run, as the run recorded it."""
    return {
        name: str(fw.get("reason", "not available"))
        for name, fw in sorted(_backend_facts(facts).items())
        if fw.get("available") is False
    }


def machine_rows(machines: Mapping[str, Mapping], envs: pd.DataFrame) -> list[list[str]]:
    """machine, CPU, cores, memory, OS, GPU: machine.json, completed by tensorbench's probe."""
    probed: dict[str, Mapping[str, Any]] = {}
    for env in envs.itertuples(index=False):
        ours = env.tensorbench if isinstance(env.tensorbench, Mapping) else {}
        facts = ours.get("facts") if isinstance(ours.get("facts"), Mapping) else {}
        if isinstance(facts.get("machine"), Mapping):
            probed.setdefault(str(env.machine), facts["machine"])
    rows = []
    for name in sorted(machines):
        m, p = machines[name] or {}, probed.get(name, {})
        gpus = p.get("gpus")
        gpu = ", ".join(
            str(g.get("name", g)) if isinstance(g, Mapping) else str(g)
            for g in (gpus if isinstance(gpus, list) else ())
        )
        rows.append(
            [
                name,
                str(p.get("cpu") or m.get("cpu") or "not recorded"),
                str(p.get("cores") or m.get("num_cpu") or "not recorded"),
                f"{p['memory_gib']} GiB" if p.get("memory_gib") else str(m.get("ram") or "—"),
                str(p.get("os") or m.get("os") or "not recorded"),
                (gpu or "none") if isinstance(gpus, list) else "not recorded",
            ]
        )
    return rows


def environment_rows(envs: pd.DataFrame) -> list[list[str]]:
    """machine, env, python, versions, BLAS and its kernel, threads, env vars, commits."""
    rows = []
    for env in envs.sort_values(["machine", "env"]).itertuples(index=False):
        ours = env.tensorbench if isinstance(env.tensorbench, Mapping) else {}
        facts = ours.get("facts") if isinstance(ours.get("facts"), Mapping) else {}
        reqs = env.requirements if isinstance(env.requirements, Mapping) else {}
        env_vars = env.env_vars if isinstance(env.env_vars, Mapping) else {}
        params = env.params if isinstance(env.params, Mapping) else {}
        threads = ours.get("threads") or params.get("threads")
        first = env.first_commit_date
        last = env.last_commit_date
        span = (
            f"{first:%Y-%m-%d} – {last:%Y-%m-%d}"
            if pd.notna(first) and pd.notna(last)
            else "dates not recorded"
        )
        rows.append(
            [
                str(env.machine),
                str(env.env),
                str(env.python),
                versions_text(facts, reqs) or "not recorded",
                blas_text(facts) or str(params.get("blas") or "not recorded"),
                str(threads) if threads else "not recorded",
                ", ".join(f"{k}={v}" for k, v in sorted(env_vars.items())) or "—",
                f"{env.n_commits} ({span})",
            ]
        )
    return rows


def asv_settings(benchmarks: Mapping[str, Any], names: Iterable[str]) -> list[list[str]]:
    """Distinct asv timing settings over ``names``: setting, values, how many benchmarks."""
    rows = []
    wanted = [benchmarks[n] for n in sorted(set(names)) if isinstance(benchmarks.get(n), Mapping)]
    for key in ASV_SETTINGS:
        counts: dict[str, int] = {}
        for b in wanted:
            if key in b:
                counts[repr(b[key])] = counts.get(repr(b[key]), 0) + 1
        if counts:
            values = ", ".join(f"{v} ({n})" for v, n in sorted(counts.items()))
            rows.append([key, values])
    return rows
