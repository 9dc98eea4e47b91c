"""Regressions: every detected change in a sortable table, filtered by corroboration, and the
history of a change beside the same benchmark on the machines/envs that corroborate it."""

from __future__ import annotations

import numpy as np
import streamlit as st
import ui
from loading import current_changes, memo, results_dir

from tensorbench import charts
from tensorbench.analysis.acknowledgements import ack_path, acknowledged_warnings, load_acknowledged
from tensorbench.conventions import SERIES_KEYS
from tensorbench.errors import InputError

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
min_corroboration = right.number_input(
    "Seen in at least N other machines/envs",
    min_value=0,
    value=0,
    step=1,
    key="reg_min_corroboration",
    help="Corroboration: other machine/env series of the same benchmark and parameters that "
    "shift the same way at the same commits (within 3).",
)
acks_file = ack_path(results_dir())
try:
    changes = current_changes(threshold)
    warnings = memo(
        "ack_warnings",
        lambda: acknowledged_warnings(acks_file, load_acknowledged(acks_file), table),
        acks_file.stat().st_mtime_ns if acks_file.is_file() else None,
    )
except InputError as exc:  # a bad acknowledged.toml: say which line, show no changes
    st.error(str(exc))
    st.stop()
for warning in warnings:
    st.warning(warning)
changes = changes[changes["machine"].isin(set(table["machine"].astype(str)))]
if not show_improvements and "kind" in changes:
    changes = changes[changes["kind"] == "regression"]
if "corroboration" in changes:
    changes = changes[changes["corroboration"] >= min_corroboration]
    changes = changes.sort_values("corroboration", ascending=False, kind="stable")
detector = changes.attrs.get("detector", "")
st.caption(
    f"{len(changes)} change(s) found by `{detector}`, most corroborated first, then largest. "
    "'seen in' counts the other machines/envs showing the same change; 'not seen by' ran "
    "those commits without it."
)

shown = changes.assign(
    first_bad=changes["first_bad_commit"].astype(str).str[:8],
    last_good=changes["last_good_commit"].astype(str).str[:8],
)
if "mode" in table and not shown.empty:  # name the mode wherever a framework is named
    as_text = {c: str for c in SERIES_KEYS}
    modes = table[[*SERIES_KEYS, "mode"]].astype(as_text).drop_duplicates(SERIES_KEYS)
    shown = shown.astype(as_text).merge(modes, on=SERIES_KEYS, how="left")
columns = [
    c
    for c in (
        "kind",
        "benchmark",
        "param_key",
        "mode",
        "machine",
        "env",
        "last_good",
        "first_bad",
        "ratio",
        "significance",
        "corroboration",
        "corroborated_by",
        "not_seen_by",
        "noise_model",
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
        "corroboration": st.column_config.NumberColumn("seen in"),
        "corroborated_by": st.column_config.ListColumn("seen by"),
        "not_seen_by": st.column_config.ListColumn("not seen by"),
        "noise_model": "noise",
    },
)

st.subheader("History")
rows = getattr(getattr(picked, "selection", None), "rows", []) or []
ok = memo("ok_rows", lambda: table[table["status"] == "ok"])
if rows:
    chosen = shown.iloc[rows[0]]
    benchmark, param_key, machine = chosen["benchmark"], chosen["param_key"], chosen["machine"]
    st.caption("From the selected row; clear the selection to pick another benchmark.")
else:
    # open on the largest open regression (else the first row shown), not on the first name
    open_ = shown[shown["fails_gate"].astype(bool)] if "fails_gate" in shown else shown.iloc[:0]
    if len(open_):
        with np.errstate(all="ignore"):
            size = np.nan_to_num(np.abs(np.log(open_["ratio"].to_numpy(float))), nan=-1.0)
        first = open_.iloc[int(np.argmax(size))]
    else:
        first = shown.iloc[0] if len(shown) else None
    benchmarks = memo("benchmarks", lambda: ui.options(ok["benchmark"]))
    a, b = st.columns(2)
    benchmark = a.selectbox(
        "Benchmark",
        benchmarks,
        index=benchmarks.index(first["benchmark"])
        if first is not None and first["benchmark"] in benchmarks
        else 0,
        key="reg_benchmark",
    )
    keys = memo(
        "param_keys",
        lambda: ui.options(ok.loc[ok["benchmark"] == benchmark, "param_key"]),
        benchmark,
    )
    default = first["param_key"] if first is not None and first["benchmark"] == benchmark else None
    param_key = b.selectbox(
        "Parameters",
        keys,
        index=keys.index(default) if default in keys else 0,
        format_func=lambda k: k or "(no parameters)",
        key="reg_params",
    )
    machine = None
if rows and chosen.get("corroborated_by"):
    # the change beside the same benchmark on the machines/envs that corroborate it
    where = [(str(chosen["machine"]), str(chosen["env"]))] + [
        tuple(label.rsplit(":", 1)) for label in chosen["corroborated_by"]
    ]
    for col, (m, e) in zip(st.columns(len(where)), where, strict=True):
        with col:
            st.caption(f"{m} · {e}")
            ui.show_chart(
                charts.history_chart(
                    table,
                    benchmark=benchmark,
                    param_key=param_key,
                    machine=m,
                    env=e,
                    regressions=changes,
                ),
                f"history-{benchmark}-{param_key}-{m}-{e}",
            )
else:
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
