"""tensorbench dashboard: `streamlit run dashboard/streamlit_app.py` (or `tensorbench dashboard`).

Reads the asv results directory named by TENSORBENCH_RESULTS (default: the project's
results/). This file lays out what every page shares: the navigation, the results folder,
the machine filter and the list of files that could not be read.
"""

from __future__ import annotations

import streamlit as st
import ui
from loading import results_dir

st.set_page_config(page_title="tensorbench", page_icon=":bar_chart:", layout="wide")

pages = st.navigation(
    [
        st.Page(
            "app_pages/overview.py", title="Overview", icon=":material/dashboard:", default=True
        ),
        st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("app_pages/scaling.py", title="Scaling", icon=":material/show_chart:"),
        st.Page("app_pages/regressions.py", title="Regressions", icon=":material/trending_up:"),
        st.Page("app_pages/releases.py", title="Releases", icon=":material/new_releases:"),
        st.Page("app_pages/claims.py", title="Claims", icon=":material/fact_check:"),
        st.Page("app_pages/scaleout.py", title="Scaling out", icon=":material/hub:"),
        st.Page("app_pages/environments.py", title="Environments", icon=":material/memory:"),
    ]
)

db = ui.database()
with st.sidebar:
    st.caption(f"Results: `{results_dir()}`")
    machines = sorted(db.machines) or sorted(db.table["machine"].dropna().unique())
    st.multiselect(
        "Machines",
        machines,
        default=machines,
        key="machines",
        help="Every chart shows these machines; with more than one they are split by machine.",
    )
    st.caption(f"{len(db.table):,} results · commit order from {db.order_source}")
ui.skipped_warning(db)
pages.run()
