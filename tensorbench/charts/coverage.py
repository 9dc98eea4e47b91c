"""What the database holds: newest values, ok/failed/skipped counts, coverage per backend."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from ..analysis.rates import latest, select
from ..analysis.runstatus import status_per_commit
from .theme import (
    FRAMEWORK_COLORS,
    empty_chart,
    records,
    value_unit,
)
from .trends import commit_labels, commit_x


def latest_values_chart(
    table: pd.DataFrame, *, benchmark: str, machine: Any = None
) -> alt.TopLevelMixin:
    """Any benchmark's newest value per parameter combination, one colour per machine, CI bars.

    The compare view for databases that are not tensorbench's.
    """
    rows = latest(select(table, benchmark=benchmark, machine=machine, status="ok"))
    if rows.empty:
        return empty_chart(f"no ok results for {benchmark}")
    unit = str(rows["unit"].iloc[0])
    factor, shown = value_unit(unit, rows["value"])
    df = pd.DataFrame(
        {
            "params": rows["param_key"].astype(str).replace("", "(no parameters)"),
            "machine": rows["machine"].astype(str),
            "env": rows["env"].astype(str),
            "value": rows["value"] * factor,
            "low": rows["ci_low"].fillna(rows["value"]) * factor,
            "high": rows["ci_high"].fillna(rows["value"]) * factor,
            "commit": rows["commit"].astype(str).str[:8],
            "date": rows["commit_date"],
        }
    )
    base = alt.Chart(records(df))
    log = bool((df["value"] > 0).all() and df["value"].max() / max(df["value"].min(), 1e-300) > 50)
    x = alt.X(
        "value:Q",
        title=f"{shown}" + (" (log)" if log else ""),
        scale=alt.Scale(type="log" if log else "linear"),
    )
    y = alt.Y("params:N", title=None, sort=None)
    offset = alt.YOffset("machine:N")
    color = alt.Color("machine:N", title="machine")
    return alt.layer(
        base.mark_point(filled=True, size=80).encode(
            x=x,
            y=y,
            yOffset=offset,
            color=color,
            tooltip=[
                "params:N",
                "machine:N",
                "env:N",
                alt.Tooltip("value:Q", format=".4g"),
                "commit:N",
                alt.Tooltip("date:T", format="%Y-%m-%d"),
            ],
        ),
        base.mark_rule().encode(x="low:Q", x2="high:Q", y=y, yOffset=offset, color=color),
    ).properties(title=f"{benchmark}: newest result")


RAN_COLORS = {"ok": "#0072B2", "failed": "#D55E00"}
SKIPPED_COLOR = "#BBBBBB"
# 5000 -> "5k" (a narrow axis; d3's "~s" writes its zero as "0k")
THOUSANDS = (
    "datum.value >= 1000 ? format(datum.value / 1000, '~g') + 'k' : format(datum.value, '~g')"
)


def status_chart(table: pd.DataFrame, *, machine: Any = None) -> alt.TopLevelMixin:
    """Results per commit, oldest to newest: the bars are what ran (ok, failed); a small strip
    below counts what was skipped, with the commit's most frequent skip reasons in the tooltip
    (skips outnumber runs in a grid database and would read as failures if stacked on top)."""
    rows = select(table, machine=machine)
    if rows.empty:
        return empty_chart("no results")
    per = status_per_commit(rows)
    per["label"] = commit_labels(per["commit"], per["date"])
    per["order"] = per["commit_order"]
    per["reasons"] = per["reasons"].replace("", "none skipped")
    kept = ["label", "order", "commit", "date", "ok", "failed", "skipped", "reasons"]
    ran = per[kept].melt(
        id_vars=[c for c in kept if c not in ("ok", "failed")],
        value_vars=["ok", "failed"],
        var_name="status",
        value_name="n",
    )
    tooltip = [
        alt.Tooltip("commit:N", title="commit (full hash)"),
        alt.Tooltip("date:T", format="%Y-%m-%d", title="commit date"),
        alt.Tooltip("ok:Q", format=","),
        alt.Tooltip("failed:Q", format=","),
        alt.Tooltip("skipped:Q", format=","),
        alt.Tooltip("reasons:N", title="skipped because"),
    ]
    bars = (
        alt.Chart()  # data set last: Altair deep-copies inline values on every call
        .mark_bar()
        .encode(
            x=commit_x().axis(None),
            y=alt.Y("n:Q", title="results that ran", stack=True),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(domain=list(RAN_COLORS), range=list(RAN_COLORS.values())),
                title="ran",
            ),
            tooltip=tooltip,
        )
        .properties(title="results per commit: what ran, and how many were skipped")
    )
    bars.data = records(ran)
    strip = (
        alt.Chart()
        .mark_bar(color=SKIPPED_COLOR)
        .encode(
            x=commit_x(),
            y=alt.Y("skipped:Q", title="skipped", axis=alt.Axis(tickCount=2, labelExpr=THOUSANDS)),
            tooltip=tooltip,
        )
        .properties(height=44)
    )
    strip.data = records(per[kept])
    return alt.vconcat(bars, strip, spacing=4).resolve_scale(x="shared")


def coverage_chart(table: pd.DataFrame, *, machine: Any = None) -> alt.TopLevelMixin:
    """One tick per commit measured, per machine and environment, over commit dates."""
    rows = select(table, machine=machine)
    if rows.empty:
        return empty_chart("no results")
    per = (
        rows.assign(is_ok=rows["status"].eq("ok"))
        .groupby(["machine", "env", "commit"], observed=True)
        .agg(date=("commit_date", "first"), n=("value", "size"), ok=("is_ok", "sum"))
        .reset_index()
    )
    per["ok"] = per["ok"].astype(int)
    per["where"] = per["machine"].astype(str) + " · " + per["env"].astype(str)
    per["commit"] = per["commit"].astype(str).str[:8]
    chart = (
        alt.Chart()  # data set last: Altair deep-copies inline values on every call
        .mark_tick(thickness=2)
        .encode(
            x=alt.X("date:T", title="commit date"),
            y=alt.Y("where:N", title=None, axis=alt.Axis(labelLimit=500)),
            color=alt.value(FRAMEWORK_COLORS["numpy"]),
            tooltip=[
                "where:N",
                "commit:N",
                alt.Tooltip("date:T", format="%Y-%m-%d"),
                alt.Tooltip("n:Q", title="results"),
                alt.Tooltip("ok:Q", title="ok"),
            ],
        )
        .properties(title="commits measured per machine and environment")
    )
    chart.data = records(per[["where", "date", "commit", "n", "ok"]])
    return chart
