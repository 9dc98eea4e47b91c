"""Regressions: every detected change in a sortable table, and a benchmark's history."""

from __future__ import annotations

import streamlit as st
import ui
from loading import current_changes

from tensorbench import charts

db = ui.database()
table = ui.machine_table(db)

st.title("Regressions")
left, right = st.columns([2, 1])
threshold = left.slider(
    "Minimum change",
    0.01,
    0.5,
    0.05,
    0.01,
    format="%.2f",
    key="reg_threshold",
    help="Relative effect a change must reach (0.05 = 5 %).",
)
show_improvements = right.toggle("Show improvements", value=False, key="reg_improvements")
changes = current_changes(threshold)
changes = changes[changes["machine"].isin(set(table["machine"].astype(str)))]
if not show_improvements and "kind" in changes:
    changes = changes[changes["kind"] == "regression"]
detector = changes.attrs.get("detector", "")
st.caption(f"{len(changes)} change(s) found by `{detector}`, largest first.")

shown = changes.assign(
    first_bad=changes["first_bad_commit"].astype(str).str[:8],
    last_good=changes["last_good_commit"].astype(str).str[:8],
)
columns = [
    c
    for c in (
        "kind",
        "benchmark",
        "param_key",
        "machine",
        "env",
        "last_good",
        "first_bad",
        "ratio",
        "significance",
        "acknowledged",
    )
    if c in shown
]
picked = st.dataframe(
    shown[columns],
    hide_index=True,
    on_select="rerun",
    selection_mode="single-row",
    key="reg_table",
    column_config={
        "ratio": st.column_config.NumberColumn("ratio (after / before)", format="%.3f"),
        "significance": st.column_config.NumberColumn(
            "p-value (Mann-Whitney)", format="%.2g", help="lower is stronger evidence"
        ),
        "param_key": "parameters",
    },
)

st.subheader("History")
rows = getattr(getattr(picked, "selection", None), "rows", []) or []
ok = table[table["status"] == "ok"]
if rows:
    chosen = shown.iloc[rows[0]]
    benchmark, param_key, machine = chosen["benchmark"], chosen["param_key"], chosen["machine"]
    st.caption("From the selected row; clear the selection to pick another benchmark.")
else:
    first = shown.iloc[0] if len(shown) else None
    benchmarks = ui.options(ok["benchmark"])
    a, b = st.columns(2)
    benchmark = a.selectbox(
        "Benchmark",
        benchmarks,
        index=benchmarks.index(first["benchmark"])
        if first is not None and first["benchmark"] in benchmarks
        else 0,
        key="reg_benchmark",
    )
    keys = ui.options(ok.loc[ok["benchmark"] == benchmark, "param_key"])
    default = first["param_key"] if first is not None and first["benchmark"] == benchmark else None
    param_key = b.selectbox(
        "Parameters",
        keys,
        index=keys.index(default) if default in keys else 0,
        format_func=lambda k: k or "(no parameters)",
        key="reg_params",
    )
    machine = None
ui.show_chart(
    charts.history_chart(
        table, benchmark=benchmark, param_key=param_key, machine=machine, regressions=changes
    ),
    f"history-{benchmark}-{param_key}",
)
st.caption(
    "One point per commit (asv's median; band: 99 % confidence interval). Dashed rules mark "
    "the first bad commit of each detected change. Hover a point for hash, date, value and CI."
)
