"""Claims: what the frameworks' authors claimed in talks, measured here, each with a verdict."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import ui
from loading import memo

from tensorbench.analysis.claims import CLAIMS, claims_table, summary

db = ui.database()
table = ui.machine_table(db)
claims = memo("claims_table", lambda: claims_table(table))

st.title("Claims")
st.caption(
    "Each verdict comes from the claim's rule in `tensorbench.analysis.claims` applied to the "
    "99 % interval of its figure: **holds** where even the interval's low end reaches the "
    "claim's line, **holds partly** where it reaches the lower line, **does not hold here** "
    "where even its high end stays below that, **inconclusive** otherwise."
)


def _figure(row: pd.Series) -> str:
    if pd.isna(row["value"]):
        return "—"
    return f"{row['value']:.2f} [{row['low']:.2f}, {row['high']:.2f}]"


top = summary(claims)
# st.table, not st.dataframe: the sentences wrap, and the verdicts are text a reader can copy
st.table(
    pd.DataFrame(
        {
            "claim": top["sentence"],
            "who": top["who"],
            "tested by": top["tested_by"],
            "figure": [f"{r['measure']}: {_figure(r)}" for _, r in top.iterrows()],
            "framework": top["framework"].fillna("—"),
            "verdict": top["verdict"],
        }
    ).set_index("claim")
)
lines = {c.key: c for c in CLAIMS}
for key, rows in claims.groupby("claim", sort=False):
    claim = lines[key]
    if rows["framework"].isna().all():
        continue
    st.subheader(claim.sentence)
    st.caption(
        f"{claim.who} · tested by {claim.tested_by} · {claim.measure}: holds from "
        f"{claim.holds_at:g}, partly from {claim.partly_at:g}"
    )
    st.table(
        pd.DataFrame(
            {
                "machine": rows["machine"],
                "framework": rows["framework"],
                "role": rows["role"],
                "mode": rows["mode"],
                "size": rows["size"],
                "figure [99 %]": [_figure(r) for _, r in rows.iterrows()],
                "verdict": rows["verdict"],
                "note": rows["note"],
            }
        ).set_index("machine")
    )
