"""Charts over time and threads: a series' history with its detected changes, thread scaling."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from ..analysis.rates import (
    as_list,
    latest,
    select,
)
from .theme import (
    FRAMEWORK_COLORS,
    IMPROVEMENT_COLOR,
    REGRESSION_COLOR,
    empty_chart,
    framework_scale,
    records,
    value_unit,
)


def commit_labels(commits: pd.Series, dates: pd.Series) -> pd.Series:
    """Axis labels for commits: short hash and date ("1a2b3c4d · 2025-01-31")."""
    day = pd.to_datetime(dates, utc=True).dt.strftime("%Y-%m-%d").fillna("no date")
    return commits.astype(str).str[:8] + " · " + day.astype(str)


HISTORY_WIDTH = 760  # px, for any number of commits


def commit_x(field: str = "label", title: str = "commit (hash · date, oldest → newest)") -> alt.X:
    """An x encoding of commits by their labels (`commit_labels`), in commit order (the data
    need an ``order`` column); labels that would overlap are thinned, not drawn on each other."""
    return alt.X(
        f"{field}:O",
        sort=alt.EncodingSortField(field="order", op="min"),
        title=title,
        axis=alt.Axis(labelAngle=-40, labelOverlap="greedy", labelLimit=160, ticks=False),
        scale=alt.Scale(paddingInner=0, paddingOuter=0.5),
    )


def history_chart(
    table: pd.DataFrame,
    *,
    benchmark: str,
    param_key: Any = None,
    machine: Any = None,
    env: Any = None,
    regressions: pd.DataFrame | None = None,
    x: str = "commit",
) -> alt.TopLevelMixin:
    """One benchmark over commits: value with its CI band per series, regressions marked.

    ``regressions`` has `tensorbench.analysis.regressions.find_regressions`' columns; each change is a
    vertical rule at its first bad commit (vermillion: regression, green: improvement).
    ``x`` is "commit" (one step per commit, labelled by short hash and date; hover for the
    full hash), "commit_order" (positions) or "commit_date".
    """
    rows = select(table, benchmark=benchmark, machine=machine, env=env)
    if param_key is not None:
        rows = rows[rows["param_key"].isin(as_list(param_key))]
    rows = rows[(rows["status"] == "ok") & rows["value"].notna()]
    if rows.empty:
        return empty_chart(f"no ok results for {benchmark}")
    unit = str(rows["unit"].iloc[0])
    factor, shown = value_unit(unit, rows["value"])
    series = rows["param_key"].astype(str).replace("", "(no parameters)")
    if rows["machine"].nunique() > 1:
        series = rows["machine"].astype(str) + " · " + series
    if rows["env"].nunique() > 1:
        series = series + " · " + rows["env"].astype(str)
    df = pd.DataFrame(
        {
            "order": rows["commit_order"],
            "date": rows["commit_date"],
            "commit": rows["commit"].astype(str),
            "label": commit_labels(rows["commit"], rows["commit_date"]),
            "series": series,
            "value": rows["value"] * factor,
            "low": rows["ci_low"].fillna(rows["value"]) * factor,
            "high": rows["ci_high"].fillna(rows["value"]) * factor,
        }
    ).sort_values("order")
    if x == "commit":
        xenc = commit_x()
    elif x == "commit_order":
        xenc = alt.X(
            "order:Q", title="commit (oldest → newest)", axis=alt.Axis(format="d", tickMinStep=1)
        )
    else:
        xenc = alt.X("date:T", title="commit date")
    y = alt.Y("value:Q", title=f"{shown}", scale=alt.Scale(zero=False))
    many = df["series"].nunique() > 1
    color = (
        alt.Color(
            "series:N",
            title=None,
            legend=alt.Legend(
                orient="bottom",
                columns=1,
                labelLimit=600,
                symbolType="stroke",
                symbolStrokeWidth=3,
                symbolOpacity=1,
            ),
        )
        if many
        else alt.value(FRAMEWORK_COLORS["numpy"])
    )
    tooltip = [
        alt.Tooltip("commit:N", title="commit (full hash)"),
        alt.Tooltip("date:T", format="%Y-%m-%d %H:%M", title="commit date"),
        alt.Tooltip("value:Q", format=".4g", title=shown),
        alt.Tooltip("low:Q", format=".4g", title="CI low"),
        alt.Tooltip("high:Q", format=".4g", title="CI high"),
        alt.Tooltip("series:N"),
    ]
    # the data go on the layer, once: Altair deep-copies a chart's inline values on every
    # mark_*/encode call, which costs seconds on a long history
    base = alt.Chart()
    hover = alt.selection_point(on="pointerover", nearest=True, fields=["order"], empty=False)
    # the line first, so that the legend shows lines rather than the faint bands
    layers = [
        base.mark_line(strokeWidth=1.5).encode(x=xenc, y=y, color=color, detail="series:N"),
        base.mark_area(opacity=0.15).encode(
            x=xenc, y="low:Q", y2="high:Q", color=color, detail="series:N"
        ),
        base.mark_point(filled=True, size=30)
        .encode(
            x=xenc,
            y=y,
            color=color,
            detail="series:N",
            tooltip=tooltip,
            size=alt.condition(hover, alt.value(120), alt.value(30)),
        )
        .add_params(hover),
    ]
    marks = _regression_marks(rows, regressions, benchmark, param_key, x)
    if marks is not None:
        layers.append(marks)
    # A fixed width: an ordinal commit axis would otherwise take 20 px per commit (6,761 px
    # for conda's 338 commits, a thin strip once scaled to a page); labels are thinned instead.
    return alt.layer(*layers, data=records(df)).properties(title=benchmark, width=HISTORY_WIDTH)


def _regression_marks(
    rows: pd.DataFrame, regressions: pd.DataFrame | None, benchmark: str, param_key: Any, x: str
) -> alt.Chart | None:
    if regressions is None or len(regressions) == 0:
        return None
    found = regressions[regressions["benchmark"] == benchmark]
    if param_key is not None:
        found = found[found["param_key"].isin(as_list(param_key))]
    found = found[found["machine"].isin(set(rows["machine"].astype(str)))]
    if found.empty:
        return None
    commits = rows.drop_duplicates("commit").set_index(
        rows.drop_duplicates("commit")["commit"].astype(str)
    )
    marks = []
    for r in found.itertuples(index=False):
        if r.first_bad_commit not in commits.index:
            continue
        c = commits.loc[r.first_bad_commit]
        marks.append(
            {
                "order": int(c["commit_order"]),
                "date": c["commit_date"].isoformat() if pd.notna(c["commit_date"]) else None,
                "label": str(
                    commit_labels(pd.Series([r.first_bad_commit]), pd.Series([c["commit_date"]]))[0]
                ),
                "commit": str(r.first_bad_commit)[:8],
                "change": str(getattr(r, "kind", "regression")),
                "ratio": float(r.ratio),
                "params": str(r.param_key) or "(no parameters)",
            }
        )
    if not marks:
        return None
    xfield = {"commit": commit_x(), "commit_order": "order:Q"}.get(x, "date:T")
    return (
        alt.Chart(alt.Data(values=marks))
        .mark_rule(strokeWidth=2, strokeDash=[5, 3])
        .encode(
            x=xfield,
            # stroke, not color: the series keep the colour scale (and one legend) to themselves
            stroke=alt.Stroke(
                "change:N",
                scale=alt.Scale(
                    domain=["regression", "improvement"],
                    range=[REGRESSION_COLOR, IMPROVEMENT_COLOR],
                ),
                title="detected",
            ),
            tooltip=[
                alt.Tooltip("change:N"),
                alt.Tooltip("commit:N", title="first bad commit"),
                alt.Tooltip("ratio:Q", format=".3f"),
                alt.Tooltip("params:N"),
            ],
        )
    )


def thread_scaling_chart(
    table: pd.DataFrame,
    *,
    workload: str | None = None,
    size: float | None = None,
    dtype: str | None = None,
    machine: Any = None,
) -> alt.TopLevelMixin:
    """Speedup over one thread against threads, one line per backend, ideal scaling dashed."""
    rows = select(table, workload=workload, dtype=dtype, machine=machine, status="ok")
    rows = latest(
        rows[(rows["kind"] == "time") & rows["threads"].notna() & rows["workload"].notna()]
    )
    if size is not None:
        rows = rows[rows["size"] == float(size)]
    if rows.empty:
        return empty_chart("no thread-scaling results (benchmarks with a `threads` parameter)")
    keys = ["machine", "workload", "backend", "device", "size", "dtype"]
    rows = (
        rows.sort_values("started_at")
        .groupby([*keys, "threads"], observed=True, dropna=False)
        .tail(1)
    )
    one = (
        rows.sort_values("threads")
        .groupby(keys, observed=True, dropna=False)["value"]
        .transform("first")
    )
    df = pd.DataFrame(
        {
            "threads": rows["threads"],
            "speedup": one / rows["value"],
            "framework": rows["backend"].astype(str),
            "device": rows["device"].astype(str),
            "series": rows["backend"].astype(str)
            + ":"
            + rows["device"].astype(str)
            + " · "
            + rows["workload"].astype(str)
            + " "
            + rows["size"].map(lambda s: f"{s:g}"),
            "machine": rows["machine"].astype(str),
        }
    )
    top = float(df["threads"].max())
    counts = sorted({int(t) for t in df["threads"]})
    x = alt.X(
        "threads:Q",
        scale=alt.Scale(type="log", base=2),
        axis=alt.Axis(values=counts, format="d"),  # the thread counts run, not 2.5 or 7.5
        title="threads (log2)",
    )
    y = alt.Y(
        "speedup:Q",
        scale=alt.Scale(type="log", base=2),
        axis=alt.Axis(values=counts, format="d"),
        title="speedup over 1 thread",
    )
    color = alt.Color("framework:N", scale=framework_scale(df["framework"]), title="framework")
    machines = sorted(df["machine"].unique())

    def panel(machine_name: str) -> alt.LayerChart:
        ideal = alt.Chart(alt.Data(values=[{"t": 1.0, "s": 1.0}, {"t": top, "s": top}]))
        base = alt.Chart(records(df[df["machine"] == machine_name]))
        title = "thread scaling" + (f" · {machine_name}" if len(machines) > 1 else "")
        return alt.layer(
            base.mark_line(point=True).encode(
                x=x,
                y=y,
                color=color,
                detail="series:N",
                tooltip=[
                    "series:N",
                    "machine:N",
                    "threads:Q",
                    alt.Tooltip("speedup:Q", format=".3g"),
                ],
            ),
            ideal.mark_line(color="#999999", strokeDash=[4, 4]).encode(x="t:Q", y="s:Q"),
        ).properties(title=title)

    # separate data per machine (the ideal line has its own), so concat rather than facet
    return panel(machines[0]) if len(machines) == 1 else alt.hconcat(*map(panel, machines))
