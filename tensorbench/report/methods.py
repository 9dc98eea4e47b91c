"""The methods section, written from what the results record: how each number was taken.

Only facts the database holds (or the caller passes, like the validation tolerances that live
with the workloads) are stated; where a fact is not recorded the text says so.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace

import pandas as pd

from ..analysis.results import ResultsDB, invalid_message
from .content import Paragraph, Section, Table
from .facts import asv_settings

# What each harness version (the "harness" entry tensorbench writes, tensorbench/timing.py)
# means; results without the entry were taken by version 1.
HARNESS = {
    1: "validation before every sample and one call per sample (asv_runner 0.3 with setup)",
    2: "validation once per process and point, then a calibrated number of back-to-back "
    "synchronised calls per sample",
    3: "as 2, with each sample at another allocation phase (0-3 extra outputs held alive "
    "between samples, so buffers land at every 16-byte offset of a cache line), the same "
    "harness as tensorbench time and the paired comparison",
    4: "as 3, with asv's forkserver looking for a benchmark's end every 50 ms once the process "
    "has run 0.1 s, instead of every millisecond (those wake-ups ran on the cores the "
    "benchmark's threads used)",
}

SYNC = (
    "Every timed call is followed by its backend's synchronize inside the timed region "
    "(MXNet's npx.waitall, torch.cuda.synchronize, JAX's block_until_ready, CuPy's stream), "
    "so asynchronous engines are timed to completion; inputs are made once per point and "
    "copied to each framework in setup, outside the timed call."
)


def _harness_text(runs: pd.DataFrame) -> str:
    ours = runs[runs["tensorbench"]]
    counts = Counter(int(h) if pd.notna(h) else 1 for h in ours["harness"])
    parts = []
    for version in sorted(counts):
        recorded = "" if version != 1 else " (no harness record)"
        what = HARNESS.get(version, "a harness this report does not describe")
        parts.append(f"{counts[version]} by harness {version}{recorded}: {what}")
    return f"Of {len(ours)} result files, " + "; ".join(parts) + "."


def _threads_text(runs: pd.DataFrame, db: ResultsDB) -> str:
    ours = runs[runs["tensorbench"]]
    per_machine = {
        m: sorted({int(t) for t in g["threads"].dropna()})
        for m, g in ours.groupby("machine", sort=True)
    }
    listed = "; ".join(
        f"{m}: {', '.join(map(str, t)) or 'not recorded'}" for m, t in per_machine.items()
    )
    env_vars = sorted(
        {
            f"{k}={v}"
            for ev in db.envs["env_vars"]
            if isinstance(ev, Mapping)
            for k, v in ev.items()
            if "THREAD" in k.upper()
        }
    )
    text = (
        f"Threads per framework ({listed}): the same count is applied to every framework "
        "(environment variables before import, threadpoolctl for BLAS and OpenMP, "
        "torch.set_num_threads) and the process is pinned to that many cores."
    )
    if env_vars:
        text += f" Thread variables asv recorded: {', '.join(env_vars)}."
    return text


def _load_text(runs: pd.DataFrame) -> str:
    ours = runs[runs["tensorbench"]]
    busy = ours[ours["busy"].notna()]
    dirty = int(ours["dirty_tree"].sum())
    text = (
        f"Machine load: {len(busy)} of {len(ours)} result files are marked busy (another "
        "process used more than a quarter of a core during the run)"
    )
    reasons = sorted({str(b) for b in busy["busy"]})
    text += f": {'; '.join(reasons[:3])}." if reasons else "."
    if dirty:
        text += f" {dirty} were measured on a tree with uncommitted changes."
    return text


def _skip_table(table: pd.DataFrame) -> Table | None:
    skipped = table[(table["status"] == "skipped") & table["reason"].notna()]
    if skipped.empty:
        return None
    label = skipped["backend"].astype(str) + ":" + skipped["device"].astype(str)
    counts = Counter(zip(label, skipped["reason"].astype(str), strict=True))
    rows = [
        [backend, reason, str(n)]
        for (backend, reason), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return Table(
        ["backend", "why it was skipped", "points"],
        rows[:15],
        caption=f"{len(rows)} distinct skip reasons"
        + (", the 15 commonest." if len(rows) > 15 else "."),
    )


def _tolerance_text(
    table: pd.DataFrame, tolerances: Mapping[str, Mapping[str, float]] | None
) -> str:
    workloads = sorted({str(w) for w in table["workload"].dropna()})
    if not tolerances:
        return (
            "Validation: every implementation is checked against a float64 reference before "
            "it is timed; the tolerances were not given to this report."
        )
    groups: dict[str, list[str]] = {}
    for w in workloads:
        tol = tolerances.get(w)
        if tol:
            text = ", ".join(f"{tol[d]:g} ({d})" for d in sorted(tol))
            groups.setdefault(text, []).append(w)
    listed = "; ".join(f"{t} for {', '.join(ws)}" for t, ws in sorted(groups.items()))
    return (
        "Validation: before it is timed, every implementation's output is compared with a "
        "float64 reference computed from the same inputs; the relative error "
        f"‖out − ref‖/‖ref‖ must not exceed {listed}. A missing, empty, NaN or wrongly shaped "
        "output fails, and only validated cases are timed."
    )


def methods_section(
    db: ResultsDB,
    table: pd.DataFrame,
    runs: pd.DataFrame,
    tolerances: Mapping[str, Mapping[str, float]] | None,
    threshold: float,
    name: str,
) -> Section:
    """The "Methods" section of the report on ``table`` (the rows the report covers)."""
    section = Section("methods", "Methods")
    ours = bool(runs["tensorbench"].any()) if len(runs) else False
    if ours:
        section.add(Paragraph("Timing. " + SYNC + " " + _harness_text(runs)))
        section.add(Paragraph(_tolerance_text(table, tolerances)))
        section.add(Paragraph(_threads_text(runs, db)))
        section.add(Paragraph(_load_text(runs)))
    else:
        section.add(
            Paragraph(
                "These results were not written by tensorbench: synchronisation, validation, "
                "thread counts and machine load are not recorded, and the values are as asv "
                "measured them."
            )
        )
    settings = asv_settings(db.benchmarks, {str(b) for b in table["benchmark"]})
    section.add(
        Paragraph(
            "Statistics. Each value is asv's median over its samples; intervals are asv's 99 % "
            "confidence intervals (stats_ci_99_a/b) where recorded. Speedups are time ratios "
            "over numpy:cpu, averaged as geometric means. Regressions: tensorbench's detector "
            f"(rank-based change points, Mann-Whitney p ≤ 1e-3, {threshold:.0%} threshold, "
            "corroboration across machines and environments)."
        )
    )
    if settings:
        section.add(
            Table(
                ["asv setting", "values (benchmarks)"],
                settings,
                caption="asv's timing settings from benchmarks.json, over the benchmarks shown.",
            )
        )
    skips = _skip_table(table)
    if skips is not None:
        section.add(skips)
    n_files = len(runs)
    unread = len(db.skipped)
    section.add(
        Paragraph(
            f"Data: {name}/ ({n_files} result files, {unread} unreadable file(s) or "
            f"benchmark(s) left out); commits ordered by {db.order_source}. Rebuild with "
            f"`tensorbench report --results {name} --out report`."
        )
    )
    if db.invalid:  # the sentence every command prints on stderr, paths from the folder's name
        named = [
            replace(i, path=f"{name}/{os.path.relpath(i.path, db.results_dir)}") for i in db.invalid
        ]
        section.add(Paragraph(f"Not a measurement: {invalid_message(named)}."))
    return section
