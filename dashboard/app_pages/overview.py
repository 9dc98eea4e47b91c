"""Overview: what is in the database, and where the runs stand."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import ui

from tensorbench import charts
from tensorbench.analysis.results import framework_versions

db = ui.database()
table = ui.machine_table(db)

st.title("tensorbench results")
ok = table[table["status"] == "ok"]
cols = st.columns(6)
cols[0].metric("Machines", table["machine"].nunique())
cols[1].metric("Environments", table.groupby(["machine", "env"], observed=True).ngroups)
cols[2].metric("Commits", table["commit"].nunique())
cols[3].metric("Benchmarks", table["benchmark"].nunique())
cols[4].metric("Results ok", f"{len(ok):,}", help=f"of {len(table):,}; the rest failed or skipped")
last = table["started_at"].max()
last = last if pd.notna(last) else table["commit_date"].max()
cols[5].metric("Last run", f"{last:%Y-%m-%d}" if pd.notna(last) else "—")

if len(ui.ours(ok)):
    st.subheader("Speedup over NumPy, every workload")
    ui.show_chart(charts.heatmap_chart(ok), "speedup-heatmap")
st.subheader("Results per commit")
ui.show_chart(charts.status_chart(table), "results-per-commit")

st.subheader("Machines")
rows = []
for machine, facts in sorted(db.machines.items()):
    mine = table[table["machine"] == machine]
    if mine.empty:
        continue
    rows.append(
        {
            "machine": machine,
            "cpu": facts.get("cpu", ""),
            "arch": facts.get("arch", ""),
            "cores": facts.get("num_cpu", ""),
            "ram": facts.get("ram", ""),
            "environments": ", ".join(sorted(mine["env"].astype(str).unique())),
            "commits": mine["commit"].nunique(),
            "newest commit": mine["commit_date"].max(),
        }
    )
st.dataframe(pd.DataFrame(rows), hide_index=True)

st.subheader("Framework versions")
versions = framework_versions(db.envs)
if versions.empty:
    st.caption("No versions recorded (asv `existing` environments record none; see Environments).")
else:
    st.dataframe(versions, hide_index=True)
