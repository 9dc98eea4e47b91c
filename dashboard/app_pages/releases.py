"""Releases: each framework's releases side by side, and the largest release-to-release changes."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st
import ui
from loading import memo

from tensorbench.analysis.releases import (
    FRAMEWORKS,
    env_versions,
    noise_floor,
    release_axis,
    release_changes,
)
from tensorbench.charts.releases import releases_chart

db = ui.database()
table = ui.machine_table(db)
versions = memo("release_versions", lambda: env_versions(db.envs))
# computed once per database version and machine selection, not on every widget's rerun
axes = memo("release_axes", lambda: {fw: release_axis(table, versions, fw) for fw in FRAMEWORKS})

st.title("Releases")
releases: dict[str, int] = {}
for fw in FRAMEWORKS:
    n = axes[fw]["release"].nunique()
    if n >= 2:
        releases[fw] = n
if not releases:
    st.info(
        "No framework has results at two releases or more here. "
        "`tensorbench run --releases torch=2.11,2.12` times the suite once per release."
    )
    st.stop()

framework = st.selectbox(
    "Framework", list(releases), format_func=lambda f: f"{f} ({releases[f]} releases)"
)
threshold = st.slider("Changes beyond", 0.01, 0.5, 0.05, 0.01, format="%.2f")
floors = memo("release_floors", lambda: noise_floor(table, versions))
changes = memo(
    "release_changes",
    lambda: release_changes(table, versions, framework, threshold, floors),
    framework,
    threshold,
)
st.subheader("Largest changes first")
for (machine, commit), (floor, n) in sorted(floors.items()):
    st.caption(
        f"{machine} · {commit[:8]}: the release environments ran one after another, unpaired; "
        f"points no release step touched moved by up to {math.expm1(floor):.0%} (95th "
        f"percentile of {n}), so a step smaller than that cannot be told from the host's "
        "noise: confirm it with `tensorbench compare --paired --python-a A --python-b B`."
    )
if changes:
    st.dataframe(
        pd.DataFrame(
            {
                "step": [f"{c.before} → {c.after}" for c in changes],
                "point": [c.label for c in changes],
                "change": [f"{(c.ratio - 1) * 100:+.0f} %" for c in changes],
                "interval": [
                    f"[{(c.low - 1) * 100:+.0f}, {(c.high - 1) * 100:+.0f}] %" for c in changes
                ],
                "beyond noise floor": [c.beyond_floor for c in changes],
                "machine": [c.machine for c in changes],
                "also changed": [", ".join(c.also_changed) for c in changes],
            }
        ),
        hide_index=True,
    )
else:
    st.caption(f"No change beyond {threshold:.0%} whose interval excludes no change.")
ui.show_chart(
    memo("release_chart", lambda: releases_chart(axes[framework], framework), framework),
    "releases",
)
