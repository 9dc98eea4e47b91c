"""Compare: one workload across backends (time, throughput, speedup), and the summary heatmap."""

from __future__ import annotations

import streamlit as st
import ui
from loading import memo

from tensorbench import charts
from tensorbench.analysis.modes import compile_table
from tensorbench.analysis.rates import machine_peaks
from tensorbench.analysis.roofline import machine_bandwidths, roofline_points
from tensorbench.workloads import roofline_model, work_model

db = ui.database()
table = ui.machine_table(db)
mine = memo(
    "compare_rows", lambda: ui.ours(table[(table["status"] == "ok") & (table["kind"] == "time")])
)

st.title("Compare frameworks")
if mine.empty:
    # Not tensorbench's benchmarks: compare any benchmark's newest values across machines.
    st.caption("No tensorbench benchmarks here: newest value of any benchmark, per machine.")
    names = memo("benchmarks_all", lambda: ui.options(table["benchmark"]))
    benchmark = st.selectbox("Benchmark", names, key="cmp_benchmark")
    chart = memo(
        "latest", lambda: charts.latest_values_chart(table, benchmark=benchmark), benchmark
    )
    ui.show_chart(chart, f"latest-{benchmark}")
    st.stop()

left, mid, right, far = st.columns(4)
workload = left.selectbox("Workload", ui.options(mine["workload"]), key="cmp_workload")
rows = mine[mine["workload"] == workload]
dtype = mid.selectbox("dtype", ui.options(rows["dtype"]), key="cmp_dtype")
rows = rows[rows["dtype"] == dtype]
sizes = ui.options(rows["size"])
size = right.selectbox(
    "Size", sizes, index=len(sizes) - 1, format_func=lambda s: f"{s:g}", key="cmp_size"
)
devices = far.multiselect("Devices", ui.options(rows["device"]), key="cmp_devices")
ui.show_chart(
    charts.compare_chart(
        table,
        workload=workload,
        size=size,
        dtype=dtype,
        device=devices or None,
        envs=db.envs,
        machines=db.machines,
        work_model=work_model,
    ),
    f"compare-{workload}-{dtype}-{size:g}",
)
st.caption(
    "Newest commit per backend. Time on a log axis with asv's 99 % confidence interval; "
    "throughput from the workload's work model; speedup against NumPy on the CPU. "
    "Hover a point for versions, Python, CPU and threads. Each backend is named with its "
    "mode: the original benchmarks time JAX jit-compiled (`compiled`) and the other "
    "frameworks `eager`."
)

points = roofline_points(
    table,
    roofline_model,
    peaks=machine_peaks(table, db.machines),
    bandwidths=machine_bandwidths(table, db.machines),
    dtype=dtype,
    workload=workload,
)
points = points[points["size"] == float(size)] if len(points) else points
if len(points):
    st.dataframe(
        points[
            ["machine", "label", "gflops", "intensity", "roof", "bound", "pct_of_roofline"]
        ].rename(
            columns={
                "label": "backend · mode",
                "gflops": "GFLOP/s",
                "intensity": "FLOP/byte",
                "roof": "roof GFLOP/s",
                "bound": "bound by",
                "pct_of_roofline": "% of roofline",
            }
        ),
        hide_index=True,
    )
    st.caption(
        "% of roofline: the case's GFLOP/s over min(measured peak, measured bandwidth x "
        "intensity). Empty where a ceiling is not measured on that machine."
    )

modes = compile_table(table)
modes = modes[(modes["workload"] == workload) & (modes["dtype"] == dtype)]
if len(modes):
    st.subheader("Eager vs compiled")
    st.dataframe(modes, hide_index=True)
    st.caption(
        "Steady-state times and the first call's extra cost (trace + compile) per mode; "
        "`pays_off_after`: calls after which the compiled version has cost less in total."
    )

st.subheader("Speedup over NumPy, every workload")
ui.show_chart(charts.heatmap_chart(table, dtype=dtype, device=devices or None), f"heatmap-{dtype}")
