"""Compare: one workload across backends (time, throughput, speedup), and the summary heatmap."""

from __future__ import annotations

import streamlit as st
import ui
from loading import memo

from tensorbench import charts
from tensorbench.workloads import work_model

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
    "Hover a point for versions, Python, CPU and threads."
)

st.subheader("Speedup over NumPy, every workload")
ui.show_chart(charts.heatmap_chart(table, dtype=dtype, device=devices or None), f"heatmap-{dtype}")
