"""Releases side by side: each point's time at every release of one framework."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ..analysis.releases import own_rows, point_label, sort_versions
from .theme import empty_chart, records, time_unit


def releases_chart(axis: pd.DataFrame, framework: str) -> alt.TopLevelMixin:
    """Small multiples, one per workload: x the releases of ``framework`` in version order,
    y the time of each of its points (log), one line per point (backend, size, dtype, mode).

    ``axis`` is `tensorbench.analysis.releases.release_axis`; a slope from one release to the
    next is the change `regressions --by release` judges.
    """
    rows = own_rows(axis, framework)
    if rows.empty:
        return empty_chart(f"no results at two releases of {framework}")
    factor, unit = time_unit(rows["value"])
    data = pd.DataFrame(
        {
            "release": rows["release"].astype(str),
            "workload": rows["workload"].astype(str),
            "point": [point_label(r) for r in rows.to_dict("records")],
            "machine": rows["machine"].astype(str),
            "time": rows["value"].astype(float) * factor,
        }
    )
    order = sort_versions(data["release"].unique())
    base = alt.Chart(records(data)).encode(
        x=alt.X("release:O", sort=order, title=f"{framework} release"),
        y=alt.Y("time:Q", scale=alt.Scale(type="log"), title=f"time per call ({unit})"),
        color=alt.Color("point:N", title="point", legend=alt.Legend(labelLimit=320)),
        tooltip=["workload:N", "point:N", "release:O", alt.Tooltip("time:Q", format=".4g")],
    )
    lines = base.mark_line(point=True).properties(width=220, height=180)
    return lines.facet(facet=alt.Facet("workload:N", title=None), columns=3).resolve_scale(
        y="independent"
    )
