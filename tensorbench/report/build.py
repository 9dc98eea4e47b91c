"""Assemble a :class:`~.content.Report` from an asv results directory.

Each section draws only what the data supports and says so in a plain sentence where it has
nothing (a database without a framework parameter gets no heatmap). Ordering is stable and no
clock is read, so the same database gives the same report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..analysis.rates import WorkModel
from ..analysis.results import ResultsDB, load_results, skipped_warnings
from ..analysis.roofline import RooflineModel
from ..errors import InputError
from . import facts as facts_mod
from .claims import claims_section
from .content import Figure, Heading, Paragraph, Report, Section, Table
from .methods import methods_section
from .releases import releases_section
from .scaleout import scaleout_section
from .sections import (
    heatmap_section,
    param_sections,
    regressions_section,
    roofline_section,
    threads_section,
    workload_sections,
)
from .summary import Verdict, which_framework


def _restrict(
    db: ResultsDB,
    machine: Sequence[str] | None,
    commit: str | None,
    workloads: Sequence[str] | None,
) -> tuple[pd.DataFrame, str | None]:
    """The table the report covers, and the full hash of ``commit`` (results up to it)."""
    table = db.table

    def present(col: str) -> list[str]:
        return sorted(str(v) for v in table[col].dropna().unique())

    for kind, given, valid in (
        ("machine", machine, present("machine")),
        ("workload", workloads, present("workload")),
    ):
        for value in given or ():
            if value not in valid:
                raise InputError(
                    f"unknown {kind} {value!r} (valid: {', '.join(valid) or 'none in these results'})"
                )
    if machine:
        table = table[table["machine"].isin(list(machine))]
    full = None
    if commit is not None:
        hashes = sorted({str(c) for c in table["commit"].unique() if str(c).startswith(commit)})
        if len(hashes) != 1:
            what = "no result commit starts with" if not hashes else "several commits start with"
            raise InputError(f"--commit: {what} {commit!r} in {db.results_dir}")
        full = hashes[0]
        order = int(table.loc[table["commit"] == full, "commit_order"].max())
        table = table[table["commit_order"] <= order]  # the database as it stood at that commit
    if workloads:
        table = table[table["workload"].isin(list(workloads)) | table["workload"].isna()]
    return table, full


def _overview(db: ResultsDB, table: pd.DataFrame, runs: pd.DataFrame, commit: str | None) -> str:
    n_commits = table["commit"].nunique()
    dates = table["commit_date"].dropna()
    span = f", {dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}" if len(dates) else ""
    kinds = table["kind"].value_counts()
    measured = ", ".join(f"{int(n)} {k}" for k, n in sorted(kinds.items()) if n)
    ok = int((table["status"] == "ok").sum())
    text = (
        f"{table['machine'].nunique()} machine(s), {table['env'].nunique()} environment(s), "
        f"{table['benchmark'].nunique()} benchmarks, {n_commits} commit(s){span}; "
        f"{len(table)} results ({measured}), {ok} with a value."
    )
    if commit is not None:
        text += f" As of commit {commit[:8]}: later results are left out."
    if not runs["tensorbench"].any():
        text += " These results carry no tensorbench entry (not written by `tensorbench run`)."
    return text


def _subtitle(name: str, table: pd.DataFrame, commit: str | None) -> str:
    machines = sorted({str(m) for m in table["machine"]})
    dates = table["commit_date"].dropna()
    span = f" · commits {dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}" if len(dates) else ""
    at = f" · as of {commit[:8]}" if commit else ""
    return f"asv results database {name}/ · {', '.join(machines)}{span}{at}"


def _verdict_table(verdicts: list[Verdict]) -> tuple[list[str], list[list[str]]]:
    many = len({v.machine for v in verdicts}) > 1  # a machine column only where it varies
    columns = ["workload", "device", *(["machine"] if many else [])]
    columns += ["parameters", "fastest", "time", "margin", "confidence", "caveats"]
    rows = []
    for v in verdicts:
        margin = f"{v.margin:.2f}× over {v.runner_up}" if v.runner_up else "—"
        rows.append(
            [
                v.workload,
                v.device,
                *([v.machine] if many else []),
                v.point,
                v.fastest,
                _seconds(v.time),
                margin,
                v.confidence,
                "; ".join(v.caveats) or "—",
            ]
        )
    return columns, rows


def _seconds(value: float) -> str:
    for factor, unit in ((1.0, "s"), (1e3, "ms"), (1e6, "µs"), (1e9, "ns")):
        if value * factor >= 1:
            return f"{value * factor:.3g} {unit}"
    return f"{value * 1e9:.3g} ns"


def _summary_section(
    db: ResultsDB, table: pd.DataFrame, runs: pd.DataFrame, commit: str | None
) -> tuple[Section, list[Verdict]]:
    section = Section("summary", "Summary")
    section.add(Paragraph(_overview(db, table, runs, commit)))
    verdicts = which_framework(table, runs)
    section.add(Heading("Which framework for which workload"))
    if not verdicts:
        section.add(
            Paragraph(
                "No framework comparison: these results have no tensorbench workload with a "
                "backend parameter."
            )
        )
        return section, verdicts
    section.add(
        Paragraph(
            "Per workload and device, the fastest framework at the parameters most frameworks "
            "measured (newest result each), its margin over the runner-up, and whether asv's "
            "99 % confidence intervals tell the two apart."
        )
    )
    columns, rows = _verdict_table(verdicts)
    section.add(
        Table(
            columns,
            rows,
            caption="Sources: "
            + "; ".join(
                f"{v.workload}/{v.device}: {v.benchmark} at {v.point}, {', '.join(v.commits)}"
                for v in verdicts
            ),
        )
    )
    return section, verdicts


def _environments_section(db: ResultsDB, table: pd.DataFrame) -> Section:
    section = Section("environments", "Machines and environments")
    machines = {m: db.machines.get(m, {}) for m in sorted({str(x) for x in table["machine"]})}
    envs = db.envs[db.envs["machine"].isin(list(machines))] if len(db.envs) else db.envs
    if not machines:
        return section.add(Paragraph("No machine recorded."))
    section.add(
        Table(
            ["machine", "CPU", "cores", "memory", "OS", "GPU"],
            facts_mod.machine_rows(machines, envs),
            caption="From each machine.json, completed by tensorbench's probe where recorded.",
        )
    )
    if len(envs):
        section.add(
            Table(
                [
                    "machine",
                    "environment",
                    "python",
                    "versions",
                    "BLAS (kernel)",
                    "threads",
                    "env vars",
                    "commits",
                ],
                facts_mod.environment_rows(envs),
                caption="The newest result file of each environment.",
            )
        )
    for env in envs.sort_values(["machine", "env"]).itertuples(index=False):
        ours = env.tensorbench if isinstance(env.tensorbench, Mapping) else {}
        missing = facts_mod.unavailable(ours.get("facts") or {})
        if missing:
            listed = "; ".join(f"{k}: {v}" for k, v in missing.items())
            section.add(Paragraph(f"Not available in {env.machine} / {env.env}: {listed}."))
    return section


def _unique_slugs(sections: list[Section]) -> None:
    """Give every figure its own slug (file names of slides, ids in the page)."""
    seen: dict[str, int] = {}
    for section in sections:
        for i, block in enumerate(section.blocks):
            if isinstance(block, Figure):
                n = seen.get(block.slug, 0) + 1
                seen[block.slug] = n
                if n > 1:
                    section.blocks[i] = replace(block, slug=f"{block.slug}-{n}")


def build_report(
    results_dir: str | Path,
    *,
    machine: Sequence[str] | None = None,
    commit: str | None = None,
    workloads: Sequence[str] | None = None,
    work_model: WorkModel | None = None,
    tolerances: Mapping[str, Mapping[str, float]] | None = None,
    threshold: float = 0.05,
    roofline_model: RooflineModel | None = None,
) -> Report:
    """The report of the asv database at ``results_dir`` (see the module docstring).

    ``machine``, ``commit`` (the database as it stood at that commit) and ``workloads``
    narrow it; ``work_model``, ``roofline_model`` (FLOPs and bytes per call) and ``tolerances``
    (workload -> dtype -> relative error) come from the caller, since this layer loads no workload module. Raises :class:`InputError`
    for a missing directory, an unknown name or a commit that matches no result.
    """
    db = load_results(results_dir)
    if db.table.empty:
        raise InputError(f"no asv results under {results_dir}")
    table, full_commit = _restrict(db, machine, commit, workloads)
    runs = facts_mod.run_records(results_dir)
    runs = runs[runs["machine"].isin(set(table["machine"].astype(str)))]
    name = Path(results_dir).resolve().name
    summary, verdicts = _summary_section(db, table, runs, full_commit)
    sections = [summary, _environments_section(db, table)]
    sections.append(heatmap_section(table))
    sections += workload_sections(db, table, work_model)
    threads = threads_section(table)
    if threads is not None:
        sections.append(threads)
    if table["workload"].notna().any():
        sections.append(roofline_section(db, table, roofline_model))
    params = param_sections(table)
    if params is not None:
        sections.append(params)
    releases = releases_section(db, table, threshold)
    if releases is not None:
        sections.append(releases)
    claims = claims_section(table)
    if claims is not None:
        sections.append(claims)
    scaleout = scaleout_section(table)
    if scaleout is not None:
        sections.append(scaleout)
    regressions, open_ = regressions_section(table, str(results_dir), threshold)
    sections.append(regressions)
    sections.append(methods_section(db, table, runs, tolerances, threshold, name))
    _unique_slugs(sections)
    report = Report(
        title=f"tensorbench report: {name}",
        subtitle=_subtitle(name, table, full_commit),
        sections=sections,
    )
    report.facts = {
        "results": name,
        "figures": len(report.figures()),
        "verdicts": len(verdicts),
        "open_regressions": len(open_),
        "sections": [s.slug for s in sections],
        "skipped": skipped_warnings(db.skipped),  # the CLI repeats them on stderr
    }
    return report
