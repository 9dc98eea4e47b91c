"""Environments: what each machine and environment recorded (CPU, GPU, BLAS, threads, versions)."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st
import ui
from loading import memo

from tensorbench import charts
from tensorbench.analysis.results import framework_versions, modes_measured

db = ui.database()
table = ui.machine_table(db)
chosen = set(table["machine"].astype(str))

st.title("Environments")
ui.show_chart(memo("coverage", lambda: charts.coverage_chart(table)), "coverage")

envs = db.envs[db.envs["machine"].isin(chosen)]
rows = []
for env in envs.itertuples(index=False):
    machine = db.machines.get(env.machine, {})
    ours = env.tensorbench if isinstance(env.tensorbench, dict) else {}
    rows.append(
        {
            "machine": env.machine,
            "env": env.env,
            "cpu": machine.get("cpu", ""),
            "arch": machine.get("arch", ""),
            "os": machine.get("os", ""),
            "ram": machine.get("ram", ""),
            "python": env.python,
            "threads": ours.get("threads", env.env_vars.get("OMP_NUM_THREADS", "")),
            "commits": env.n_commits,
            "newest commit": env.last_commit_date,
        }
    )
st.dataframe(pd.DataFrame(rows), hide_index=True)

st.subheader("Versions")
versions = framework_versions(envs)
if not versions.empty:  # the mode each framework was measured in, wherever it is named
    measured = modes_measured(table)
    for col in ("machine", "env", "package"):
        measured[col] = measured[col].astype(str)
    versions = versions.merge(measured, on=["machine", "env", "package"], how="left")
    versions["modes"] = versions["modes"].astype(object).fillna("")
if versions.empty:
    st.caption("No versions recorded in these result files.")
else:
    st.dataframe(versions, hide_index=True)

st.subheader("Everything recorded")
for env in envs.itertuples(index=False):
    with st.expander(f"{env.machine} · {env.env}"):
        facts = {
            "machine.json": db.machines.get(env.machine, {}),
            "python": env.python,
            "requirements": env.requirements,
            "env_vars": env.env_vars,
            "params": env.params,
            "tensorbench": env.tensorbench,
        }
        st.code(json.dumps(facts, indent=2, default=str), language="json")
