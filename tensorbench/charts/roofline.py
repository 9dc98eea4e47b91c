"""The roofline chart: every case's GFLOP/s against its arithmetic intensity, under the
machine's two measured ceilings (Williams, Waterman & Patterson, 2009).

Log-log axes; the sloped roof is the measured STREAM triad bandwidth, the flat one the
measured matmul peak; colour = framework, shape = mode (eager or compiled). Basic usage::

    db = load_results("results")
    chart = roofline_chart(db.table, model=roofline_model)  # tensorbench.workloads'
    save_chart(chart, "roofline.svg")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from ..analysis.rates import machine_peaks
from ..analysis.roofline import RooflineModel, machine_bandwidths, roofline_points
from .theme import empty_chart, framework_scale, records

MODE_SHAPES = {"eager": "circle", "compiled": "diamond"}


def _roof_lines(peak: float | None, bandwidth: float | None, lo: float, hi: float) -> list[dict]:
    """Vertices of the two roofs between intensities ``lo`` and ``hi`` (log-spaced)."""
    out: list[dict] = []
    if bandwidth:
        top = hi if not peak else min(hi, peak / bandwidth)  # the ridge point
        for x in np.geomspace(lo, max(top, lo * 1.01), 2):
            out.append(
                {"x": float(x), "y": float(bandwidth * x), "roof": f"memory {bandwidth:.4g} GB/s"}
            )
    if peak:
        start = lo if not bandwidth else max(lo, peak / bandwidth)
        for x in (start, max(hi, start * 1.01)):
            out.append({"x": float(x), "y": float(peak), "roof": f"compute {peak:.4g} GFLOP/s"})
    return out


def roofline_chart(
    table: pd.DataFrame,
    *,
    model: RooflineModel,
    dtype: Any = None,
    machine: Any = None,
    workload: Any = None,
    machines: Mapping[str, Mapping] | None = None,
    peaks: Mapping[str, float] | None = None,
    bandwidths: Mapping[str, float] | None = None,
) -> alt.TopLevelMixin:
    """GFLOP/s (log) against FLOP/byte (log), one point per case, both measured roofs drawn.

    ``model`` gives (FLOPs, bytes) per call (``tensorbench.workloads.roofline_model``).
    Ceilings default to those recorded in ``table`` (``track_peak_gflops``,
    ``track_peak_gbps``) or the machines' machine.json. One panel per machine.
    """
    peaks = dict(peaks) if peaks is not None else machine_peaks(table, machines)
    bandwidths = dict(bandwidths) if bandwidths is not None else machine_bandwidths(table, machines)
    points = roofline_points(
        table,
        model,
        peaks=peaks,
        bandwidths=bandwidths,
        dtype=dtype,
        machine=machine,
        workload=workload,
    )
    if points.empty:
        return empty_chart("no results with a known FLOP and byte count for these filters")
    points = points.assign(case=points["workload"] + " " + points["size"].map("{:g}".format))
    color = alt.Color("framework:N", scale=framework_scale(points["framework"]), title="framework")
    present = sorted(set(points["mode"]))
    shape = alt.Shape(
        "mode:N",
        scale=alt.Scale(domain=present, range=[MODE_SHAPES.get(m, "square") for m in present]),
        title="mode",
    )
    tooltip = [
        alt.Tooltip("label:N", title="backend · mode"),
        alt.Tooltip("case:N", title="workload size"),
        alt.Tooltip("dtype:N"),
        alt.Tooltip("gflops:Q", title="GFLOP/s", format=".4g"),
        alt.Tooltip("intensity:Q", title="FLOP/byte", format=".3g"),
        alt.Tooltip("roof:Q", title="roof GFLOP/s", format=".4g"),
        alt.Tooltip("pct_of_roofline:Q", title="% of roofline", format=".3g"),
        alt.Tooltip("bound:N", title="bound by"),
    ]
    x_title, y_title = "arithmetic intensity (FLOP/byte, log)", "GFLOP/s (log)"
    x = alt.X("intensity:Q", scale=alt.Scale(type="log"), title=x_title)
    y = alt.Y("gflops:Q", scale=alt.Scale(type="log"), title=y_title)
    names = sorted(points["machine"].unique())

    def panel(name: str) -> alt.LayerChart:
        mine = points[points["machine"] == name]
        peak, bandwidth = peaks.get(name), bandwidths.get(name)
        ridge = peak / bandwidth if peak and bandwidth else None
        lo = float(mine["intensity"].min()) / 2
        hi = float(mine["intensity"].max()) * 2
        if ridge:  # show the ridge point and both roofs around it
            lo, hi = min(lo, ridge / 16), max(hi, ridge * 4)
        layers: list[Any] = []
        roof = _roof_lines(peak, bandwidth, lo, hi)
        if roof:
            lines = alt.Chart(alt.Data(values=roof))
            ends = alt.Chart(alt.Data(values=[roof[0], roof[-1]]))
            layers.append(
                ends.mark_text(align="left", dx=4, dy=-8, color="black").encode(
                    x=alt.X("x:Q", scale=alt.Scale(type="log")),
                    y=alt.Y("y:Q", scale=alt.Scale(type="log")),
                    text="roof:N",
                )
            )
            layers.append(
                lines.mark_line(color="black", strokeDash=[4, 2]).encode(
                    x=alt.X("x:Q", scale=alt.Scale(type="log"), title=x_title),
                    y=alt.Y("y:Q", scale=alt.Scale(type="log"), title=y_title),
                    detail="roof:N",
                    tooltip=[alt.Tooltip("roof:N", title="measured ceiling")],
                )
            )
        layers.append(
            alt.Chart(records(mine))
            .mark_point(filled=True, size=90, opacity=0.85)
            .encode(x=x, y=y, color=color, shape=shape, tooltip=tooltip)
        )
        missing = [
            what
            for what, have in (("peak GFLOP/s", peaks.get(name)), ("GB/s", bandwidths.get(name)))
            if not have
        ]
        note = f" (no measured {' or '.join(missing)})" if missing else ""
        return alt.layer(*layers).properties(title=f"roofline · {name}{note}")

    if len(names) == 1:
        return panel(names[0])
    return alt.vconcat(*map(panel, names))
