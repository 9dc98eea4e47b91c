"""The chart sections of a report: heatmap, per-workload comparison and scaling, roofline,
thread scaling, charts against a parameter for foreign databases, and open regressions.

Each returns a :class:`~.content.Section`, or a plain sentence where the data has nothing.
"""

import math
from typing import Any

import pandas as pd

from .. import charts
from ..analysis.rates import WorkModel, latest, machine_peaks
from ..analysis.regressions import find_regressions as find_changes
from ..analysis.results import ResultsDB
from ..analysis.roofline import RooflineModel
from .content import Figure, Heading, Paragraph, Section, Table, slugify

BASELINE = "numpy:cpu"
MAX_HISTORY_CHARTS = 8  # open regressions drawn; the table lists them all
MAX_PARAM_CHARTS = 24  # foreign databases: benchmarks drawn against a numeric parameter


def _commits(rows: pd.DataFrame) -> str:
    hashes = sorted({str(c)[:8] for c in rows["commit"]})
    if not hashes:
        return "no commit"
    shown = ", ".join(hashes[:4]) + (f" and {len(hashes) - 4} more" if len(hashes) > 4 else "")
    return ("commit " if len(hashes) == 1 else "commits ") + shown


def _machines_text(rows: pd.DataFrame) -> str:
    names = sorted({str(m) for m in rows["machine"]})
    return ("machine " if len(names) == 1 else "machines ") + ", ".join(names)


def _benchmarks_text(rows: pd.DataFrame) -> str:
    return ", ".join(sorted({str(b) for b in rows["benchmark"]}))


def _source(rows: pd.DataFrame, params: str) -> str:
    return f"{_benchmarks_text(rows)} · {params} · {_commits(rows)} · {_machines_text(rows)}"


def _time_rows(table: pd.DataFrame) -> pd.DataFrame:
    return table[
        (table["kind"] == "time")
        & table["workload"].notna()
        & table["threads"].isna()
        & (table["status"] == "ok")
        & table["value"].notna()
    ]


def heatmap_section(table: pd.DataFrame) -> Section:
    section = Section("heatmap", f"Speedup over {BASELINE}")
    rows = latest(_time_rows(table))
    if rows.empty:
        return section.add(
            Paragraph("No heatmap: these results have no framework (backend) parameter.")
        )
    labels = rows["backend"].astype(str) + ":" + rows["device"].astype(str)
    if not (labels == BASELINE).any():
        return section.add(Paragraph(f"No heatmap: no {BASELINE} results to compare against."))
    section.add(
        Paragraph(
            f"Time of {BASELINE} over each framework's time, per workload the geometric mean "
            "over the sizes and dtypes both measured at their newest commit; the last row "
            "averages the workloads. Above 1: faster than NumPy."
        )
    )
    section.add(
        Figure(
            "speedup-heatmap",
            f"Speedup over {BASELINE}, every workload and framework",
            charts.heatmap_chart(table),
            _source(rows, "every size and dtype, newest result per series"),
        )
    )
    return section


def _primary_dtype(rows: pd.DataFrame) -> str | None:
    dtypes = sorted({str(d) for d in rows["dtype"].dropna()})
    if not dtypes:
        return None
    return "float32" if "float32" in dtypes else dtypes[0]


def _compare_size(rows: pd.DataFrame) -> float:
    """The size compare_chart shows: the largest every backend measured, else the largest."""
    per_backend = rows.groupby(["backend", "device"], observed=True)["size"].apply(set)
    common = set.intersection(*per_backend) if len(per_backend) else set()
    return float(max(common) if common else rows["size"].max())


def workload_sections(
    db: ResultsDB, table: pd.DataFrame, work_model: WorkModel | None
) -> list[Section]:
    section = Section("workloads", "Workloads: comparison and scaling")
    rows_all = _time_rows(table)
    workloads = sorted({str(w) for w in rows_all["workload"]})
    with_workload = table[table["workload"].notna() & (table["kind"] == "time")]
    unmeasured = sorted({str(w) for w in with_workload["workload"]} - set(workloads))
    if not workloads:
        if unmeasured:
            section.add(Paragraph(f"No result with a value for: {', '.join(unmeasured)}."))
            return [section]
        return []  # not a tensorbench database: the benchmarks section draws what it has
    peaks = machine_peaks(table, db.machines)
    section.add(
        Paragraph(
            "Per workload: time, throughput and speedup over NumPy at one size (newest result "
            "of each framework, 99 % intervals), then time and throughput against size. "
            + (
                "The throughput panels draw each machine's measured peak as a ceiling."
                if peaks
                else "No machine records a measured peak, so no ceiling is drawn."
            )
        )
    )
    for workload in workloads:
        rows = rows_all[rows_all["workload"] == workload]
        dtype = _primary_dtype(rows)
        if dtype is not None:
            rows = rows[rows["dtype"] == dtype]
        section.add(Heading(workload))
        others = sorted(
            {str(d) for d in rows_all.loc[rows_all["workload"] == workload, "dtype"].dropna()}
            - {dtype}
        )
        newest = latest(rows)
        sized = newest[newest["size"].notna()]
        if sized.empty:
            section.add(
                Paragraph(
                    f"{workload} has no numeric size (e.g. real graphs): see the summary table."
                )
            )
            continue
        size = _compare_size(sized)
        at = sized[sized["size"] == size]
        section.add(
            Figure(
                slugify(workload, "compare", dtype, f"size{size:g}"),
                f"{workload}: frameworks compared at size {size:g}"
                + (f", {dtype}" if dtype else ""),
                charts.compare_chart(
                    table,
                    workload=workload,
                    size=size,
                    dtype=dtype,
                    envs=db.envs,
                    machines=db.machines,
                    work_model=work_model,
                ),
                _source(
                    at,
                    f"size={size:g}" + (f", dtype='{dtype}'" if dtype else "") + ", every backend",
                ),
            )
        )
        if sized["size"].nunique() >= 2:
            section.add(
                Figure(
                    slugify(workload, "scaling", dtype),
                    f"{workload}: time and throughput against size"
                    + (f", {dtype}" if dtype else ""),
                    charts.scaling_chart(
                        table, workload=workload, dtype=dtype, peaks=peaks, work_model=work_model
                    ),
                    _source(
                        sized,
                        f"sizes {sized['size'].min():g}–{sized['size'].max():g}"
                        + (f", dtype='{dtype}'" if dtype else "")
                        + ", every backend",
                    ),
                )
            )
        else:
            section.add(Paragraph(f"One size only ({size:g}): no scaling curve."))
        if others:
            section.add(
                Paragraph(
                    f"Also measured in {', '.join(others)}: `tensorbench chart scaling "
                    f"--workload {workload} --dtype {others[0]}`."
                )
            )
    if unmeasured:
        section.add(
            Paragraph(
                f"No result with a value for: {', '.join(unmeasured)} (see the methods' skip reasons)."
            )
        )
    return [section]


def roofline_section(
    db: ResultsDB, table: pd.DataFrame, roofline_model: RooflineModel | None = None
) -> Section:
    section = Section("roofline", "Roofline")
    peaks = machine_peaks(table, db.machines)
    if not peaks:
        return section.add(
            Paragraph(
                "No roofline: no machine records a measured ceiling (a peak_gflops benchmark "
                "or peak_gflops in machine.json)."
            )
        )
    ceilings = ", ".join(f"{m}: {p:.4g} GFLOP/s" for m, p in sorted(peaks.items()))
    if roofline_model is None:
        return section.add(
            Paragraph(
                f"Measured ceilings: {ceilings}. No roofline chart: it needs the workloads' "
                "FLOPs-and-bytes model, which the caller did not pass (the command line does); "
                "the scaling charts draw the ceilings on their throughput panels."
            )
        )
    rows = latest(_time_rows(table))
    chart = charts.roofline_chart(table, model=roofline_model, peaks=peaks, machines=db.machines)
    section.add(Paragraph(f"Measured ceilings: {ceilings}."))
    section.add(
        Figure(
            "roofline",
            "Roofline: throughput against the measured ceiling",
            chart,
            _source(rows, "newest result per series"),
        )
    )
    return section


def threads_section(table: pd.DataFrame) -> Section | None:
    rows = table[(table["kind"] == "time") & table["threads"].notna() & (table["status"] == "ok")]
    if rows.empty:
        return None
    section = Section("threads", "Thread scaling")
    section.add(
        Figure(
            "thread-scaling",
            "Speedup over one thread against threads",
            charts.thread_scaling_chart(table),
            _source(
                latest(rows),
                "threads " + ", ".join(f"{t:g}" for t in sorted(rows["threads"].unique())),
            ),
        )
    )
    return section


def param_sections(table: pd.DataFrame) -> Section | None:
    """Databases that are not tensorbench's: each benchmark against a numeric parameter."""
    if table["workload"].notna().any():
        return None
    section = Section("benchmarks", "Benchmarks against their parameters")
    ok = latest(table)
    drawn = []
    for bench, rows in ok.groupby("benchmark", observed=True, sort=True):
        names = [k for p in rows["params"] if isinstance(p, dict) for k in p]
        numeric = [
            k
            for k in dict.fromkeys(names)
            if pd.to_numeric(pd.Series([p.get(k) for p in rows["params"]]), errors="coerce")
            .notna()
            .sum()
            >= 2
        ]
        if numeric:
            drawn.append((str(bench), numeric[0], rows))
    if not drawn:
        return section.add(
            Paragraph(
                "No benchmark has a numeric parameter with two or more values: no scaling "
                "curves (the history of each benchmark is in the regressions section where it "
                "changed)."
            )
        )
    section.add(
        Paragraph(
            "No tensorbench workloads here; each parametrised benchmark's newest values are "
            "drawn against its first numeric parameter, one line per the other parameters."
        )
    )
    for bench, param, rows in drawn[:MAX_PARAM_CHARTS]:
        section.add(
            Figure(
                slugify(bench, "vs", param),
                f"{bench} against {param}",
                charts.param_scaling_chart(table, benchmark=bench, x_param=param),
                _source(rows, f"every {param}, newest result per series"),
            )
        )
    if len(drawn) > MAX_PARAM_CHARTS:
        rest = ", ".join(b for b, _, _ in drawn[MAX_PARAM_CHARTS:])
        section.add(Paragraph(f"Not drawn ({len(drawn) - MAX_PARAM_CHARTS} more): {rest}."))
    return section


def _ratio(r: Any) -> str:
    return f"{r.ratio:.3f} [{r.ratio_low:.3f}, {r.ratio_high:.3f}]"


def regressions_section(
    table: pd.DataFrame, results_dir: str, threshold: float
) -> tuple[Section, pd.DataFrame]:
    section = Section("regressions", "Open regressions")
    found = find_changes(table, threshold=threshold, results_dir=results_dir)
    open_ = (
        found[(found["kind"] == "regression") & ~found["resolved"] & ~found["acknowledged"]]
        if len(found)
        else found
    )
    if open_.empty:
        section.add(
            Paragraph(
                f"No open regression at a {threshold:.0%} threshold "
                f"({int((found['kind'] == 'regression').sum()) if len(found) else 0} "
                "regression(s) found in all, resolved or acknowledged)."
            )
        )
        return section, open_
    size = open_["ratio"].map(lambda r: abs(math.log(r)) if r and r > 0 else 0.0)
    open_ = (
        open_.assign(_size=size)
        .sort_values(
            ["corroboration", "_size", "benchmark", "param_key", "machine", "env"],
            ascending=[False, False, True, True, True, True],
            kind="stable",
        )
        .drop(columns="_size")
    )
    section.add(
        Paragraph(
            f"{len(open_)} open regression(s) at a {threshold:.0%} threshold "
            "(tensorbench.analysis.regressions; not resolved at the newest commit, not "
            "acknowledged), most corroborated and largest first. Ratio: after / before, with "
            "its 99 % interval."
        )
    )
    section.add(
        Table(
            [
                "benchmark",
                "parameters",
                "machine",
                "env",
                "last good",
                "first bad",
                "ratio",
                "seen in",
            ],
            [
                [
                    str(r.benchmark),
                    str(r.param_key) or "—",
                    str(r.machine),
                    str(r.env),
                    str(r.last_good_commit)[:8],
                    str(r.first_bad_commit)[:8]
                    + (f" ({r.n_steps} steps)" if r.n_steps > 1 else ""),
                    _ratio(r),
                    f"{r.corroboration}/{r.corroboration + len(r.not_seen_by)}",
                ]
                for r in open_.itertuples(index=False)
            ],
        )
    )
    drawn = open_.drop_duplicates(["benchmark", "param_key", "machine"]).head(MAX_HISTORY_CHARTS)
    for r in drawn.itertuples(index=False):
        rows = table[
            (table["benchmark"] == r.benchmark)
            & (table["param_key"] == r.param_key)
            & (table["machine"] == r.machine)
            & (table["status"] == "ok")
        ]
        params = str(r.param_key) or "no parameters"
        section.add(
            Figure(
                slugify("history", r.benchmark, r.param_key, r.machine),
                f"History of {r.benchmark} ({params}) on {r.machine}",
                charts.history_chart(
                    table,
                    benchmark=str(r.benchmark),
                    param_key=str(r.param_key),
                    machine=str(r.machine),
                    regressions=found,
                ),
                f"{r.benchmark} · {params} · {_commits(rows)}, first bad "
                f"{str(r.first_bad_commit)[:8]} · machine {r.machine}",
            )
        )
    if len(open_.drop_duplicates(["benchmark", "param_key", "machine"])) > MAX_HISTORY_CHARTS:
        section.add(
            Paragraph(
                f"History charts for the first {MAX_HISTORY_CHARTS}; the others: "
                "`tensorbench chart history --benchmark NAME`."
            )
        )
    return section, open_
