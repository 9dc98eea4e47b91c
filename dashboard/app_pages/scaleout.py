"""Scaling out: data-parallel training steps over workers (ideal, measured, projected, published)
and the all-reduce sweep with its fitted ring model. The projection is recomputed here from the
measured points and drawn as one (`tensorbench.analysis.scaling`)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import ui
from loading import memo

from tensorbench.analysis import scaling
from tensorbench.charts.scaleout import PROJECTION_CAPTION, allreduce_chart, scaling_chart

db = ui.database()
table = ui.machine_table(db)
ddp = memo("scale_ddp", lambda: scaling.ddp_rows(table))
allreduce = memo("scale_allreduce", lambda: scaling.allreduce_rows(table))

st.title("Scaling out")
if ddp.empty:
    st.info(
        "No scale-out results here. `tensorbench scale --workers 1,2 --record` measures "
        "DistributedDataParallel steps and an all-reduce sweep through torchrun and stores them."
    )
    st.stop()
st.caption(
    "DDP training steps launched by torchrun, one thread per worker; a step is the slowest "
    "rank's time, its gradients checked against the single-process float64 gradients of the "
    "global batch first. Weak scaling keeps the batch per worker, strong scaling the global batch."
)
fits = scaling.fits(allreduce)
measured = scaling.measured_scaling(ddp)
projected = [scaling.projection(ddp, fit, m, b) for (m, b, _), fit in fits.items()]
proj = pd.concat(projected, ignore_index=True) if projected else pd.DataFrame()
ui.show_chart(scaling_chart(measured, proj), "scaling-out")
st.caption(PROJECTION_CAPTION)
st.dataframe(
    measured.assign(step_ms=measured["step_s"] * 1e3)[
        ["machine", "backend", "model", "scaling", "workers", "step_ms", "throughput", "efficiency"]
    ],
    hide_index=True,
)
for (machine, backend, workers), fit in fits.items():
    st.subheader(f"All-reduce · {machine} · {backend} · {workers} workers")
    rows = allreduce[(allreduce["machine"] == machine) & (allreduce["backend"] == backend)]
    ui.show_chart(allreduce_chart(rows, fit), f"allreduce-{machine}")
    check = scaling.prediction_check(ddp, fit, machine, backend)
    if len(check):
        st.caption("The fitted model's prediction of each measured multi-worker step:")
        st.dataframe(check, hide_index=True)
