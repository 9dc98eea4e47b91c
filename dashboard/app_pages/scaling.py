"""Scaling: time and throughput against size per backend, and thread scaling."""

from __future__ import annotations

import streamlit as st
import ui
from loading import memo

from tensorbench import charts
from tensorbench.analysis.rates import machine_peaks
from tensorbench.analysis.roofline import machine_bandwidths
from tensorbench.workloads import roofline_model, work_model

db = ui.database()
table = ui.machine_table(db)
ok = memo("ok_rows", lambda: table[table["status"] == "ok"])
mine = memo("scaling_rows", lambda: ui.ours(ok[ok["kind"] == "time"]))

st.title("Scaling")
if mine.empty:
    st.caption("No tensorbench benchmarks here: any benchmark against one numeric parameter.")
    left, right = st.columns(2)
    benchmarks = memo("benchmarks", lambda: ui.options(ok["benchmark"]))
    benchmark = left.selectbox("Benchmark", benchmarks, key="sc_benchmark")
    rows = memo("benchmark_rows", lambda: ok[ok["benchmark"] == benchmark], benchmark)
    names = memo("param_names", lambda: sorted({k for p in rows["params"] for k in p}), benchmark)
    if not names:
        st.info(f"{benchmark} has no parameters to scale over.")
        ui.show_chart(charts.latest_values_chart(rows, benchmark=benchmark), f"latest-{benchmark}")
        st.stop()
    x_param = right.selectbox("Against", names, key="sc_param")
    ui.show_chart(
        memo(
            "param_scaling",
            lambda: charts.param_scaling_chart(rows, benchmark=benchmark, x_param=x_param),
            benchmark,
            x_param,
        ),
        f"scaling-{benchmark}-{x_param}",
    )
    st.stop()

left, right = st.columns(2)
workload = left.selectbox("Workload", ui.options(mine["workload"]), key="sc_workload")
dtype = right.selectbox(
    "dtype", ui.options(mine.loc[mine["workload"] == workload, "dtype"]), key="sc_dtype"
)
ui.show_chart(
    charts.scaling_chart(
        table,
        workload=workload,
        dtype=dtype,
        peaks=machine_peaks(table, db.machines),
        work_model=work_model,
    ),
    f"scaling-{workload}-{dtype}",
)
st.caption(
    "Newest commit per point; bands are asv's 99 % confidence interval. Dashed lines with "
    "triangles are GPUs. A dotted ceiling shows the machine's measured peak where recorded. "
    "Labels name the mode: the original benchmarks time JAX jit-compiled and the other "
    "frameworks eagerly; the `*_modes` benchmarks (suite `compiled`) time both."
)

st.subheader("Roofline")
ui.show_chart(
    charts.roofline_chart(
        table,
        model=roofline_model,
        dtype=dtype,
        machines=db.machines,
        peaks=machine_peaks(table, db.machines),
        bandwidths=machine_bandwidths(table, db.machines),
    ),
    f"roofline-{dtype}",
)
st.caption(
    "Every case with a FLOP and byte count (newest result, this dtype): GFLOP/s against "
    "arithmetic intensity (FLOPs per byte of compulsory memory traffic). The dashed roofs are "
    "measured: STREAM triad GB/s (`track_peak_gbps`) and matmul GFLOP/s "
    "(`track_peak_gflops`). Colour = framework, shape = mode."
)

st.subheader("Thread scaling")
threaded = mine[mine["threads"].notna()]
if threaded.empty:
    st.info(
        "No thread-scaling results yet (the `threads` suite: `tensorbench run --suite threads`)."
    )
else:
    ui.show_chart(charts.thread_scaling_chart(threaded), "thread-scaling")
