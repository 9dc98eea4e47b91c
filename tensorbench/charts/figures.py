"""Compare backends: one workload at one size, the speedup heatmap, scaling over size.

Every function takes the results table (and optional filters) and returns an Altair chart;
the numbers come from :mod:`tensorbench.analysis.rates`. Basic usage::

    db = load_results("results")
    chart = scaling_chart(db.table, workload="matmul", dtype="float32")
    save_chart(chart, "matmul.svg")
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from ..analysis.rates import (
    WorkModel,
    as_list,
    backend_label,
    latest,
    select,
    speedup_over,
    speedup_summary,
    with_rates,
    without_thread_suite,
)
from .roofline import MODE_SHAPES
from .theme import (
    ci_band,
    device_dash,
    device_shape,
    empty_chart,
    framework_scale,
    records,
    series_label,
    time_rate_columns,
    time_unit,
    value_unit,
    versions,
)

# Points measured while the machine was busy (tensorbench.noise marks the result file) are
# greyed out, and their tooltip says why: they are kept, never silently mixed with quiet runs.
BUSY_OPACITY = alt.condition("datum.busy", alt.value(0.25), alt.value(1.0))


def _busy(rows: pd.DataFrame) -> list[str]:
    """Per row: why the machine was busy during its run, or "" (falsy in Vega) when quiet."""
    if "busy" not in rows:
        return [""] * len(rows)
    return ["" if b is None or (isinstance(b, float) and b != b) else str(b) for b in rows["busy"]]


def compare_chart(
    table: pd.DataFrame,
    *,
    workload: str,
    size: float | None = None,
    dtype: str | None = None,
    device: Any = None,
    machine: Any = None,
    baseline: str = "numpy:cpu",
    envs: pd.DataFrame | None = None,
    machines: Mapping[str, Mapping] | None = None,
    work_model: WorkModel | None = None,
) -> alt.TopLevelMixin:
    """Time (log axis, 99 % CI), throughput and speedup over ``baseline``, one row per backend.

    The newest result of each backend at one size (default: the largest measured by every
    backend shown, else the largest). Tooltips carry versions, python, CPU and env vars.
    ``work_model`` supplies the work of results whose files did not record it.
    """
    rows = select(table, workload=workload, dtype=dtype, machine=machine, status="ok")
    rows = without_thread_suite(rows[rows["kind"] == "time"])
    if device is not None:
        rows = rows[rows["device"].isin(as_list(device)) | (backend_label(rows) == baseline)]
    rows = latest(rows)
    if rows.empty:
        return empty_chart(f"no {workload} results for these filters")
    if size is None:
        per_backend = rows.groupby(["backend", "device"], observed=True)["size"].apply(set)
        common = set.intersection(*per_backend) if len(per_backend) else set()
        size = max(common) if common else rows["size"].max()
    rows = rows[rows["size"] == float(size)]
    rows = with_rates(rows.sort_values("started_at"), work_model)
    many = rows["machine"].nunique() > 1
    rows = rows.assign(label=series_label(rows, many))
    # one point per label: the newest env that measured it
    rows = rows.groupby("label", sort=False).tail(1)
    factor, unit = time_unit(rows["value"])
    facts = versions(envs, machines)
    df = pd.DataFrame(
        {
            "label": rows["label"],
            **time_rate_columns(rows, factor),
            "speedup": speedup_over(rows, baseline, on=["machine"]),
            "commit": rows["commit"].astype(str).str[:8],
            "commit_date": rows["commit_date"],
            "busy": _busy(rows),
            "versions": [
                facts.get((str(m), str(e), str(b)), "")
                for m, e, b in zip(rows["machine"], rows["env"], rows["backend"], strict=True)
            ],
        }
    )
    order = df.sort_values(["machine", "time"])["label"].tolist()
    y = alt.Y("label:N", sort=order, title=None)
    color = alt.Color("framework:N", scale=framework_scale(df["framework"]), title="framework")
    tooltip = [
        alt.Tooltip("label:N", title="backend · mode"),
        alt.Tooltip("time:Q", title=f"time ({unit})", format=".4g"),
        alt.Tooltip("time_low:Q", title="CI low", format=".4g"),
        alt.Tooltip("time_high:Q", title="CI high", format=".4g"),
        alt.Tooltip("rate:Q", title="throughput", format=".4g"),
        alt.Tooltip("speedup:Q", title=f"speedup vs {baseline}", format=".3g"),
        alt.Tooltip("commit:N"),
        alt.Tooltip("commit_date:T", title="commit date", format="%Y-%m-%d"),
        alt.Tooltip("versions:N"),
        alt.Tooltip("busy:N", title="machine busy during the run"),
    ]
    base_chart = alt.Chart(records(df))
    time_title = f"time ({unit}, log) — lower is better"
    time_x = alt.X("time:Q", scale=alt.Scale(type="log"), title=time_title)
    time = alt.layer(
        base_chart.mark_rule(strokeWidth=2).encode(
            x=alt.X("time_low:Q", scale=alt.Scale(type="log"), title=time_title),
            x2="time_high:Q",
            y=y,
            color=color,
        ),
        base_chart.mark_point(filled=True, size=140).encode(
            x=time_x, y=y, color=color, tooltip=tooltip, opacity=BUSY_OPACITY
        ),
    ).properties(title=f"{workload} · size {size:g}" + (f" · {dtype}" if dtype else ""))
    panels = [time]
    rate_unit = next((u for u in rows["rate_unit"] if u), "")
    if df["rate"].notna().any():
        rate_x = alt.X("rate:Q", title=f"{rate_unit} — higher is better")
        panels.append(
            alt.layer(
                base_chart.mark_bar().encode(
                    x=rate_x, y=y.axis(None), color=color, tooltip=tooltip
                ),
                base_chart.mark_rule(color="black").encode(
                    x="rate_low:Q", x2="rate_high:Q", y=y.axis(None)
                ),
            ).properties(title="throughput")
        )
    if df["speedup"].notna().any():
        speed_x = alt.X(
            "speedup:Q", scale=alt.Scale(type="log"), title=f"speedup vs {baseline} (log)"
        )
        panels.append(
            alt.layer(
                base_chart.mark_bar().encode(
                    x=speed_x, x2=alt.datum(1), y=y.axis(None), color=color, tooltip=tooltip
                ),
                alt.Chart(alt.Data(values=[{"one": 1}])).mark_rule(color="black").encode(x="one:Q"),
            ).properties(title="speedup")
        )
    return alt.hconcat(*panels).resolve_scale(y="shared")


HEATMAP_FLAT_COLUMNS = 10  # up to this many backend columns, their labels stay level


def heatmap_chart(
    table: pd.DataFrame,
    *,
    baseline: str = "numpy:cpu",
    dtype: str | None = None,
    device: Any = None,
    machine: Any = None,
) -> alt.TopLevelMixin:
    """Speedup over ``baseline`` for every workload x backend, with a geometric-mean row.

    Per workload the speedup is the geometric mean over the sizes (and dtypes) both the backend
    and the baseline measured at their newest commit (NPBench's summary figure).
    """
    cell = speedup_summary(table, baseline=baseline, dtype=dtype, device=device, machine=machine)
    if cell is None:
        return empty_chart("no tensorbench results to compare")
    if cell.empty:
        return empty_chart(f"no {baseline} results to compare against")
    if cell["label"].astype(str).str.startswith(baseline).all():
        # the baseline's own column of 1x would read as a result: there is nothing to compare
        devices = f" on {', '.join(map(str, np.atleast_1d(device)))}" if device else ""
        return empty_chart(f"no results{devices} to compare with {baseline}")
    if "mode" in cell.columns:  # eager | compiled, named beside the backend
        named = cell["mode"].astype(str) != ""
        cell["label"] = cell["label"].where(~named, cell["label"] + " · " + cell["mode"])
    cell["text"] = cell["speedup"].map(lambda v: f"{v:.2g}×")
    cell["framework"] = cell["label"].str.split(":").str[0]
    workloads = sorted(set(cell["workload"]) - {"geometric mean"}) + ["geometric mean"]
    labels = sorted(set(cell["label"]), key=lambda s: (not s.startswith(baseline), s))
    span = float(np.nanmax(np.abs(cell["log_speedup"]))) if len(cell) else 1.0
    span = 2.0 ** max(1, math.ceil(span / math.log(2)))  # symmetric, a power of two
    # "numpy:cpu · eager" on two lines (framework, then device and mode): a column is 90 px
    # on screen, too narrow for the whole label on one; many columns are slanted as well.
    # Past `HEATMAP_FLAT_COLUMNS` columns, one line turned upright: slanted two-line labels of
    # 17 columns (native and eager/compiled modes) ran into their neighbours at 1500 px.
    two_lines = "[split(datum.label, ':')[0], slice(datum.label, indexof(datum.label, ':') + 1)]"
    many = len(labels) > HEATMAP_FLAT_COLUMNS
    x_axis = alt.Axis(
        orient="bottom",  # Vega draws a label's second line downwards: into a top axis
        labelExpr="datum.label" if many else two_lines,
        labelAngle=-90 if many else 0,
        labelAlign="right" if many else "center",
        labelBaseline="middle" if many else "top",
        labelLimit=0,  # whole labels: never an ellipsis
    )
    enc = {
        "x": alt.X("label:N", sort=labels, title=None, axis=x_axis),
        "y": alt.Y("workload:N", sort=workloads, title=None),
    }
    color = alt.Color(
        "speedup:Q",
        scale=alt.Scale(
            type="log", scheme="blueorange", domain=[1 / span, span], domainMid=1, reverse=True
        ),
        title="speedup ×",
        legend=alt.Legend(
            values=[1 / span, 1, span],
            labelExpr="datum.value < 1 ? '1/' + format(1 / datum.value, '~g') + '×'"
            " : format(datum.value, '~g') + '×'",
        ),
    )
    tooltip = [
        alt.Tooltip("workload:N"),
        alt.Tooltip("label:N", title="backend · mode"),
        alt.Tooltip("machine:N"),
        alt.Tooltip("speedup:Q", format=".3g"),
        alt.Tooltip("n:Q", title="sizes x dtypes averaged"),
    ]
    machines = sorted(cell["machine"].astype(str).unique())

    def panel(machine_name: str) -> alt.LayerChart:
        mine = cell[cell["machine"].astype(str) == machine_name]
        base = alt.Chart(records(mine.astype({"workload": str, "label": str, "machine": str})))
        title = machine_name if len(machines) > 1 else f"speedup over {baseline} · {machine_name}"
        return alt.layer(
            base.mark_rect().encode(**enc, color=color, tooltip=tooltip),
            base.mark_text().encode(
                **enc,
                text="text:N",
                # white on the darkest cells, black elsewhere
                color=alt.condition(
                    f"abs(log(datum.speedup)) > {0.6 * math.log(span):.6f}",
                    alt.value("white"),
                    alt.value("black"),
                ),
            ),
        ).properties(title=title)

    if len(machines) == 1:
        return panel(machines[0])
    # one machine under the other: side by side, the second ran off a page's right edge
    return alt.vconcat(*map(panel, machines)).properties(
        title=f"speedup over {baseline} (geometric mean over sizes)"
    )


def scaling_chart(
    table: pd.DataFrame,
    *,
    workload: str,
    dtype: str | None = None,
    backend: Any = None,
    device: Any = None,
    machine: Any = None,
    peaks: Mapping[str, float] | None = None,
    work_model: WorkModel | None = None,
) -> alt.TopLevelMixin:
    """Time and throughput against size on log-log axes, one line per backend, CI bands.

    ``peaks`` (GFLOP/s per machine, e.g. from :func:`machine_peaks`) draws the machine's
    measured peak as a ceiling on the throughput panel.
    """
    rows = select(
        table,
        workload=workload,
        dtype=dtype,
        backend=backend,
        device=device,
        machine=machine,
        status="ok",
    )
    rows = latest(without_thread_suite(rows[(rows["kind"] == "time") & rows["size"].notna()]))
    if rows.empty:
        return empty_chart(f"no {workload} results for these filters")
    if rows["dtype"].nunique() > 1 and dtype is None:
        rows = rows[rows["dtype"] == sorted(rows["dtype"].dropna().unique())[0]]
    rows = rows.sort_values("started_at")
    keys = ["machine", "backend", "device", *(["mode"] if "mode" in rows else []), "size"]
    rows = rows.groupby(keys, observed=True).tail(1)
    rows = with_rates(rows, work_model)
    factor, unit = time_unit(rows["value"])
    df = pd.DataFrame(
        {
            "size": rows["size"],
            **time_rate_columns(rows, factor),
            "series": series_label(rows, False),
            "commit": rows["commit"].astype(str).str[:8],
            "busy": _busy(rows),
        }
    )
    x = alt.X("size:Q", scale=alt.Scale(type="log", nice=False, padding=12), title="size (log)")
    color = alt.Color("framework:N", scale=framework_scale(df["framework"]), title="framework")
    # Device: dashed line and a triangle marker for GPUs. Vega-Lite merges the two into one
    # legend (same field); a dash-only legend would draw no symbols next to point marks.
    shape = device_shape(df["device"])
    if df["mode"].nunique() > 1 and df["device"].nunique() == 1:  # eager vs compiled markers
        modes = sorted(set(df["mode"]))
        shape = alt.Shape(
            "mode:N",
            scale=alt.Scale(domain=modes, range=[MODE_SHAPES.get(m, "square") for m in modes]),
            title="mode",
        )
    many_devices = df["device"].nunique() > 1
    dash = alt.StrokeDash(
        "device:N",
        scale=device_dash(df["device"]),
        title="device",
        legend=alt.Legend() if many_devices else None,
    )
    tooltip = [
        alt.Tooltip("series:N", title="backend · mode"),
        alt.Tooltip("machine:N"),
        alt.Tooltip("size:Q"),
        alt.Tooltip("time:Q", title=f"time ({unit})", format=".4g"),
        alt.Tooltip("rate:Q", title="throughput", format=".4g"),
        alt.Tooltip("commit:N"),
    ]
    rate_unit = next((u for u in rows["rate_unit"] if u), "")
    machines = sorted(df["machine"].unique())

    def lines(base: alt.Chart, y: alt.Y, low: str, high: str) -> list[alt.Chart]:
        # lines first: the layer's legend comes from them, not from the faint bands
        return [
            base.mark_line().encode(x=x, y=y, color=color, strokeDash=dash, detail="series:N"),
            base.mark_point(filled=True, size=70).encode(
                x=x,
                y=y,
                color=color,
                shape=shape,
                detail="series:N",
                tooltip=[*tooltip, alt.Tooltip("busy:N", title="machine busy during the run")],
                opacity=BUSY_OPACITY,
            ),
            ci_band(base, x, low, high, color, "series:N"),
        ]

    def panels(machine_name: str) -> alt.HConcatChart:
        mine = df[df["machine"] == machine_name]
        base = alt.Chart(records(mine))
        where = f" · {machine_name}" if len(machines) > 1 else ""
        time_y = alt.Y("time:Q", scale=alt.Scale(type="log"), title=f"time ({unit}, log)")
        out = [
            alt.layer(*lines(base, time_y, "time_low", "time_high")).properties(
                title=f"{workload}: time{where}"
            )
        ]
        if mine["rate"].notna().any():
            rate_y = alt.Y("rate:Q", scale=alt.Scale(type="log"), title=f"{rate_unit} (log)")
            layers = lines(base, rate_y, "rate_low", "rate_high")
            peak = (peaks or {}).get(machine_name)
            if peak and rate_unit == "GFLOP/s":
                ceiling = alt.Chart(
                    alt.Data(values=[{"peak": peak, "label": f"measured peak {peak:.4g} GFLOP/s"}])
                )
                layers.append(
                    ceiling.mark_rule(strokeDash=[2, 2], color="black").encode(y="peak:Q")
                )
                layers.append(
                    ceiling.mark_text(align="left", dx=4, dy=-10, color="black").encode(
                        y="peak:Q", text="label:N", x=alt.value(0)
                    )
                )
            out.append(alt.layer(*layers).properties(title=f"{workload}: throughput{where}"))
        return alt.hconcat(*out)

    if len(machines) == 1:
        return panels(machines[0])
    # one row per machine (separate data per row, so concat rather than facet)
    return alt.vconcat(*[panels(m) for m in machines])


def param_scaling_chart(
    table: pd.DataFrame, *, benchmark: str, x_param: str, machine: Any = None
) -> alt.TopLevelMixin:
    """Any benchmark's newest values against one numeric parameter, one line per the rest.

    For databases that are not tensorbench's (e.g. OpenBLAS: time against ``size`` per
    ``variant``).
    """
    rows = latest(select(table, benchmark=benchmark, machine=machine, status="ok"))
    if rows.empty:
        return empty_chart(f"no results for {benchmark}")
    x = [p.get(x_param) if isinstance(p, Mapping) else None for p in rows["params"]]
    rest = [
        ", ".join(f"{k}={v!r}" for k, v in p.items() if k != x_param)
        if isinstance(p, Mapping)
        else ""
        for p in rows["params"]
    ]
    unit = str(rows["unit"].iloc[0])
    factor, shown_unit = value_unit(unit, rows["value"])
    df = pd.DataFrame(
        {
            "x": pd.to_numeric(pd.Series(x, index=rows.index), errors="coerce"),
            "series": rest,
            "machine": rows["machine"].astype(str),
            "value": rows["value"] * factor,
            "low": rows["ci_low"].fillna(rows["value"]) * factor,
            "high": rows["ci_high"].fillna(rows["value"]) * factor,
        }
    ).dropna(subset=["x"])
    if df.empty:
        return empty_chart(f"{x_param} is not numeric for {benchmark}")
    if df["machine"].nunique() > 1:
        df["series"] = (df["machine"] + " · " + df["series"]).str.removesuffix(" · ")
    base = alt.Chart(records(df))
    xs = alt.X("x:Q", scale=alt.Scale(type="log", nice=False, padding=12), title=f"{x_param} (log)")
    color = alt.Color("series:N", title=None)
    return alt.layer(
        base.mark_line(point=True).encode(
            x=xs,
            y=alt.Y("value:Q", scale=alt.Scale(type="log"), title=f"{shown_unit} (log)"),
            color=color,
            tooltip=[
                "series:N",
                "machine:N",
                alt.Tooltip("x:Q", title=x_param),
                alt.Tooltip("value:Q", format=".4g"),
            ],
        ),
        base.mark_area(opacity=0.18).encode(x=xs, y="low:Q", y2="high:Q", color=color),
    ).properties(title=benchmark)
