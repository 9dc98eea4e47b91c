"""Overview: what is in the database, and where the runs stand."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import ui
from loading import memo

from tensorbench import charts
from tensorbench.analysis.results import framework_versions, placeholders
from tensorbench.analysis.runstatus import skip_reasons

db = ui.database()
everything = ui.machine_table(db)
# "not in suite" skips are grid points a suite left out on purpose: not counted as skipped
table = memo("overview_table", lambda: everything[~placeholders(everything)])
left_out = len(everything) - len(table)

st.title("tensorbench results")
ok = table[table["status"] == "ok"]
cols = st.columns(6)
cols[0].metric("Machines", table["machine"].nunique())
cols[1].metric("Environments", table.groupby(["machine", "env"], observed=True).ngroups)
cols[2].metric("Commits", table["commit"].nunique())
cols[3].metric("Benchmarks", table["benchmark"].nunique())
cols[4].metric(
    "Results ok",
    f"{len(ok):,}",
    help=f"of {len(table):,}; the rest failed or skipped"
    + (
        f" ({left_out:,} grid points not in the suite that ran are not counted)" if left_out else ""
    ),
)
last = table["started_at"].max()
last = last if pd.notna(last) else table["commit_date"].max()
cols[5].metric("Last run", f"{last:%Y-%m-%d}" if pd.notna(last) else "—")

if len(ui.ours(ok)):
    st.subheader("Speedup over NumPy, every workload")
    # one chart per machine, each as wide as the page: side by side they ran off its edge
    for name in sorted(ui.ours(ok)["machine"].astype(str).unique()):
        heatmap = memo("heatmap", lambda name=name: charts.heatmap_chart(ok, machine=name), name)
        ui.show_chart(heatmap, f"speedup-heatmap-{name}")

st.subheader("Results per commit")
counts = table["status"].astype(str).value_counts()
ran, skipped = int(counts.get("ok", 0) + counts.get("failed", 0)), int(counts.get("skipped", 0))
st.markdown(
    f"**{ran:,} results ran** ({int(counts.get('ok', 0)):,} ok, "
    f"{int(counts.get('failed', 0)):,} failed)"
    + (f"; **{skipped:,} were skipped**, because:" if skipped else "; none was skipped.")
)
if skipped:
    reasons = memo("skip_reasons", lambda: skip_reasons(table))
    st.markdown("\n".join(f"- {r.n:,} ({r.share:.0%}): {r.reason}" for r in reasons.itertuples()))
ui.show_chart(memo("status_chart", lambda: charts.status_chart(table)), "results-per-commit")

st.subheader("Machines")


def machine_rows() -> pd.DataFrame:
    per = table.groupby("machine", observed=True).agg(
        commits=("commit", "nunique"), newest=("commit_date", "max")
    )
    envs = table.groupby(["machine", "env"], observed=True).size().reset_index()
    rows = []
    for machine, facts in sorted(db.machines.items()):
        if machine not in per.index:
            continue
        rows.append(
            {
                "machine": machine,
                "cpu": facts.get("cpu", ""),
                "arch": facts.get("arch", ""),
                "cores": facts.get("num_cpu", ""),
                "ram": facts.get("ram", ""),
                "environments": ", ".join(
                    sorted(envs.loc[envs["machine"] == machine, "env"].astype(str))
                ),
                "commits": int(per.loc[machine, "commits"]),
                "newest commit": per.loc[machine, "newest"],
            }
        )
    return pd.DataFrame(rows)


st.dataframe(memo("machine_rows", machine_rows), hide_index=True)

st.subheader("Framework versions")
versions = framework_versions(db.envs)
if versions.empty:
    st.caption("No versions recorded (asv `existing` environments record none; see Environments).")
else:
    st.dataframe(versions, hide_index=True)
