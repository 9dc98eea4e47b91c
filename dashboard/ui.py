"""Small layout helpers every page uses: the database, the machine filter, chart + downloads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from loading import current_db, memo, results_dir

from tensorbench.analysis.rates import select
from tensorbench.analysis.results import ResultsDB, invalid_message
from tensorbench.charts import chart_bytes, style
from tensorbench.errors import InputError


def database() -> ResultsDB:
    """The cached database, or a page that says why there is none (and stops)."""
    directory = results_dir()
    try:
        db = current_db()
    except InputError as exc:
        st.title("tensorbench")
        st.error(f"{exc}")
        st.info(
            "Point the dashboard at an asv results directory: "
            "`tensorbench dashboard --results DIR` or `TENSORBENCH_RESULTS=DIR`. "
            "Make one with `tensorbench run` (see README)."
        )
        st.stop()
    if db.table.empty:
        st.title("tensorbench")
        st.info(f"No asv results under `{directory}` yet. Run `tensorbench run` to record some.")
        skipped_warning(db)
        st.stop()
    return db


def skipped_warning(db: ResultsDB) -> None:
    """Values left out as impossible (the sentence every command prints), and the files (or
    benchmarks inside them) that could not be read, in one warning each."""
    if db.invalid:
        st.warning(invalid_message(db.invalid))
    if not db.skipped:
        return
    lines = "\n".join(f"- `{Path(s.path).name}`: {s.reason}" for s in db.skipped[:50])
    more = f"\n- … and {len(db.skipped) - 50} more" if len(db.skipped) > 50 else ""
    st.warning(
        f"**{len(db.skipped)} file(s) or entries skipped** (the rest is shown):\n{lines}{more}"
    )


def machine_table(db: ResultsDB) -> pd.DataFrame:
    """db.table limited to the machines chosen in the sidebar (shared: do not modify)."""
    chosen = st.session_state.get("machines")
    every = set(db.machines) or {str(m) for m in db.table["machine"].dropna().unique()}
    if not chosen or set(chosen) >= every:
        return db.table
    return memo("machine_table", lambda: select(db.table, machine=chosen))


def fast_spec(chart: alt.TopLevelMixin, theme: str = "screen") -> dict:
    """``style(chart, theme).to_dict()`` without Altair copying and walking every inline data
    value (about 25 us each: seconds for a long history): the values are swapped for a marker
    while Altair styles the chart and builds the spec, then put back into it."""
    held: list[list] = []
    owners: list[alt.SchemaBase] = []

    def swap(node: Any, seen: set[int]) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, alt.SchemaBase):
            data = isinstance(node, alt.Data | alt.InlineData) and isinstance(node._kwds, dict)
            values = node._kwds.get("values") if data else None
            if isinstance(values, list) and len(values) > 1:
                node._kwds["values"] = [{"__tensorbench_values__": len(held)}]
                held.append(values)
                owners.append(node)
            for v in node._kwds.values():
                swap(v, seen)
        elif isinstance(node, list | tuple):
            for v in node:
                swap(v, seen)
        elif isinstance(node, dict):
            for v in node.values():
                swap(v, seen)

    def put_back(node: Any) -> Any:
        if isinstance(node, list):
            if len(node) == 1 and isinstance(node[0], dict) and "__tensorbench_values__" in node[0]:
                return held[node[0]["__tensorbench_values__"]]
            return [put_back(v) for v in node]
        if isinstance(node, dict):
            return {k: put_back(v) for k, v in node.items()}
        return node

    swap(chart, set())
    try:
        return put_back(style(chart, theme).to_dict())
    finally:  # the chart is shared (memo): leave it as it was
        for node, values in zip(owners, held, strict=True):
            node._kwds["values"] = values


def show_chart(chart: alt.TopLevelMixin, name: str) -> None:
    """The chart, and SVG / PNG downloads in the talk theme (rendered only when clicked)."""
    st.vega_lite_chart(fast_spec(chart, "screen"), theme=None)
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "chart"
    downloads = {"svg": "image/svg+xml", "png": "image/png"}
    columns = st.columns([1, 1, 6])
    for column, (fmt, mime) in zip(columns, downloads.items(), strict=False):
        column.download_button(
            fmt.upper(),
            data=lambda fmt=fmt: chart_bytes(chart, fmt),
            file_name=f"{slug}.{fmt}",
            mime=mime,
            key=f"{fmt}-{slug}",
            on_click="ignore",
            icon=":material/download:",
        )


def ours(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of tensorbench's own benchmarks (a backend="name:device" parameter)."""
    return table[table["workload"].notna()]


def options(series: pd.Series) -> list:
    return sorted(series.dropna().unique().tolist())
