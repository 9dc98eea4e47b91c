"""Scaling out: efficiency against workers (ideal, measured, projected, published anchors), and
the all-reduce sweep's bus bandwidth beside the fitted ring model.

A projection is drawn dashed and labelled as one, with the model's assumptions in the caption
(`tensorbench.analysis.scaling`); anchors are labelled with their source. Neither is ever drawn
as a measurement.
"""

from __future__ import annotations

import textwrap

import altair as alt
import numpy as np
import pandas as pd

from ..analysis.scaling import ANCHORS, AlphaBeta, bus_bandwidth
from .theme import empty_chart, records

PROJECTION_CAPTION = (
    "Dashed: a projection, not a measurement: one worker's measured step plus a ring "
    "all-reduce of the gradients (DDP's buckets) with alpha and beta fitted on this "
    "machine's link, no overlap with backward, compute per sample constant. Triangles: "
    "published figures, labelled with their source."
)


def _series(df: pd.DataFrame) -> pd.Series:
    return df["model"].astype(str) + " · " + df["scaling"].astype(str)


def scaling_chart(measured: pd.DataFrame, projected: pd.DataFrame) -> alt.TopLevelMixin:
    """x workers (log 2), y scaling efficiency; the ideal line at 1."""
    if measured.empty:
        return empty_chart("no scale-out results: run tensorbench scale --record")
    meas = measured.assign(series=_series(measured), kind="measured")
    proj = projected.assign(series=_series(projected), kind="projected") if len(projected) else None
    top = max(256, int(meas["workers"].max()))
    x = alt.X(
        "workers:Q",
        scale=alt.Scale(type="log", base=2, domain=[1, top]),
        title="workers",
    )
    y = alt.Y("efficiency:Q", scale=alt.Scale(domain=[0, 1.2]), title="scaling efficiency")
    color = alt.Color("series:N", title="model · scaling")
    tip = ["series:N", "kind:N", "workers:Q", alt.Tooltip("efficiency:Q", format=".3f")]
    tip.append(alt.Tooltip("step_s:Q", format=".4g", title="step (s)"))
    ideal = (
        alt.Chart(records(pd.DataFrame({"workers": [1, top], "efficiency": [1.0, 1.0]})))
        .mark_line(color="#999999")
        .encode(x=x, y=y)
    )
    layers = [ideal]
    layers.append(
        alt.Chart(records(meas))
        .mark_line(point=alt.OverlayMarkDef(size=70, filled=True))
        .encode(x=x, y=y, color=color, tooltip=tip)
    )
    if proj is not None:
        layers.append(
            alt.Chart(records(proj))
            .mark_line(strokeDash=[6, 4], opacity=0.8)
            .encode(x=x, y=y, color=color, tooltip=tip)
        )
    anchors = pd.DataFrame(ANCHORS)
    layers.append(
        alt.Chart(records(anchors))
        .mark_point(shape="triangle-up", size=110, filled=True, color="#444444")
        .encode(
            x=x, y=y, tooltip=["label:N", "source:N", alt.Tooltip("efficiency:Q", format=".2f")]
        )
    )
    layers.append(
        alt.Chart(records(anchors.assign(short=[a["source"] for a in ANCHORS])))
        .mark_text(align="right", dx=-8, dy=-8, fontSize=10, color="#444444")
        .encode(x=x, y=y, text="short:N")
    )
    return alt.layer(*layers).properties(
        width=560,
        height=320,
        title=alt.TitleParams(
            "Scaling efficiency: measured (solid), projected (dashed), published (triangles)",
            subtitle=textwrap.wrap(PROJECTION_CAPTION, 120),
        ),
    )


def allreduce_chart(allreduce: pd.DataFrame, fit: AlphaBeta | None) -> alt.TopLevelMixin:
    """Bus bandwidth against message size (log-log): measured points, the fitted model."""
    if allreduce.empty:
        return empty_chart("no all-reduce results (they need 2 or more workers)")
    meas = allreduce.assign(busbw_gbs=allreduce["busbw"] / 1e9, kind="measured")
    x = alt.X("bytes:Q", scale=alt.Scale(type="log", base=2), title="message size (bytes)")
    y = alt.Y("busbw_gbs:Q", scale=alt.Scale(type="log"), title="bus bandwidth (GB/s)")
    layers = [
        alt.Chart(records(meas))
        .mark_point(filled=True, size=60)
        .encode(
            x=x,
            y=y,
            color=alt.Color("workers:N", title="workers"),
            tooltip=[
                "bytes:Q",
                "workers:N",
                alt.Tooltip("seconds:Q", format=".4g"),
                alt.Tooltip("busbw_gbs:Q", format=".3f"),
            ],
        )
    ]
    subtitle = "nccl-tests' bus bandwidth: algbw x 2 (p - 1) / p"
    if fit is not None:
        sizes = np.geomspace(meas["bytes"].min(), meas["bytes"].max(), 60)
        model = pd.DataFrame(
            {
                "bytes": sizes,
                "busbw_gbs": [
                    bus_bandwidth(s, fit.seconds(s, fit.world), fit.world) / 1e9 for s in sizes
                ],
            }
        )
        layers.append(alt.Chart(records(model)).mark_line(color="#666666").encode(x=x, y=y))
        subtitle += f"; line: ring model, {fit.describe()}"
    return alt.layer(*layers).properties(
        width=560,
        height=280,
        title=alt.TitleParams("All-reduce: bus bandwidth by message size", subtitle=subtitle),
    )
