"""Shape result tables for comparison: select, newest per series, rates, peaks, speedups.

Pure pandas/NumPy on the tidy table of :mod:`.results`; charts draw what these compute, and the
numbers are tested here, not dug out of chart specs. No framework or workload import: the work
model that fills in FLOPs a result file did not record is passed in (``work_model``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..conventions import SERIES_KEYS

# (workload, size, params) -> (FLOPs, edges) one call does; NaN where unknown.
WorkModel = Callable[[Any, Any, Any], tuple[float, float]]


def as_list(value: Any) -> list | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def select(
    table: pd.DataFrame,
    *,
    workload: Any = None,
    backend: Any = None,
    device: Any = None,
    size: Any = None,
    dtype: Any = None,
    machine: Any = None,
    benchmark: Any = None,
    env: Any = None,
    status: str | None = None,
) -> pd.DataFrame:
    """Rows of ``table`` matching every filter given (a value or a list of values).

    ``backend`` accepts "torch" or "torch:cuda" (backend and device together).
    """
    mask = np.ones(len(table), dtype=bool)
    for col, want in (
        ("workload", workload),
        ("device", device),
        ("dtype", dtype),
        ("machine", machine),
        ("benchmark", benchmark),
        ("env", env),
        ("status", status),
    ):
        values = as_list(want)
        if values is not None:
            mask &= table[col].isin(values).to_numpy()
    sizes = as_list(size)
    if sizes is not None:
        mask &= table["size"].isin([float(s) for s in sizes]).to_numpy()
    backends = as_list(backend)
    if backends is not None:
        label = table["backend"].astype(str) + ":" + table["device"].astype(str)
        mask &= (table["backend"].isin(backends) | label.isin(backends)).to_numpy()
    return table[mask]


def without_thread_suite(rows: pd.DataFrame) -> pd.DataFrame:
    """Drop the thread-scaling twins (a `threads` param) so they do not mix with the defaults."""
    return rows[rows["threads"].isna()]


def latest(table: pd.DataFrame) -> pd.DataFrame:
    """The newest ok result of every (machine, env, benchmark, parameters) series."""
    ok = table[(table["status"] == "ok") & table["value"].notna()]
    if ok.empty:
        return ok
    ok = ok.sort_values(["commit_order", "started_at"], kind="stable")
    return ok.groupby(SERIES_KEYS, observed=True, sort=False).tail(1)


def backend_label(rows: pd.DataFrame) -> pd.Series:
    """``backend:device`` per row, e.g. ``numpy:cpu`` (the grid's backend parameter)."""
    return rows["backend"].astype(str) + ":" + rows["device"].astype(str)


def speedup_over(
    rows: pd.DataFrame, baseline: str = "numpy:cpu", on: Sequence[str] = ("machine",)
) -> pd.Series:
    """Speedup of every row over ``baseline``: the baseline's time / the row's time.

    Rows are matched to the baseline's row with the same ``on`` columns (the last such row
    where there are several); NaN where the baseline has no value there.
    """
    on = list(on)
    value = rows["value"].to_numpy(dtype=float)
    base_rows = rows[(backend_label(rows) == baseline).to_numpy()]
    if not on:
        base = float(base_rows["value"].iloc[-1]) if len(base_rows) else math.nan
        return pd.Series(base / value, index=rows.index, dtype=float)
    base = base_rows.drop_duplicates(on, keep="last").set_index(on)["value"]
    where = pd.MultiIndex.from_frame(rows[on].astype(object)) if len(on) > 1 else rows[on[0]]
    if len(on) > 1:
        base.index = pd.MultiIndex.from_frame(base.index.to_frame().astype(object))
    matched = base.reindex(where).to_numpy(dtype=float)
    return pd.Series(matched / value, index=rows.index, dtype=float)


def _work(
    work_model: WorkModel | None, workload: Any, size: Any, params: Any
) -> tuple[float, float]:
    if work_model is None:
        return math.nan, math.nan
    try:
        return work_model(workload, size, params)
    except Exception:  # a work model may need inputs the table lacks: no rate for that row
        return math.nan, math.nan


def with_rates(df: pd.DataFrame, work_model: WorkModel | None = None) -> pd.DataFrame:
    """``df`` (time rows) plus ``rate``, ``rate_low``, ``rate_high`` and ``rate_unit``.

    GFLOP/s where the work model gives FLOPs, GTEPS where it gives edges (PageRank), from the
    time and its CI (a rate's low end comes from the time's high end). Work a result file
    did not record comes from ``work_model`` where given.
    """
    out = df.copy()
    flops = out["work_flops"].to_numpy(dtype=float, copy=True)
    edges = out["work_edges"].to_numpy(dtype=float, copy=True)
    missing = ~(np.isfinite(flops) | np.isfinite(edges))
    for i in np.flatnonzero(missing):  # recorded work first, else the work model
        flops[i], edges[i] = _work(
            work_model, out["workload"].iloc[i], out["size"].iloc[i], out["params"].iloc[i]
        )
    amount = np.where(np.isfinite(flops), flops, edges) / 1e9
    value = out["value"].to_numpy(dtype=float)
    is_time = (out["kind"] == "time").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rate"] = np.where(is_time, amount / value, np.nan)
        out["rate_low"] = np.where(is_time, amount / out["ci_high"].to_numpy(dtype=float), np.nan)
        out["rate_high"] = np.where(is_time, amount / out["ci_low"].to_numpy(dtype=float), np.nan)
    out["rate_unit"] = np.where(
        np.isfinite(flops), "GFLOP/s", np.where(np.isfinite(edges), "GTEPS", "")
    )
    return out


def machine_peaks(
    table: pd.DataFrame, machines: Mapping[str, Mapping] | None = None
) -> dict[str, float]:
    """Measured peak GFLOP/s per machine, where recorded.

    From a ``track_`` benchmark whose name contains "peak" and whose unit mentions FLOP/s
    (the newest value; the largest over its parameters), else a ``peak_gflops`` number in the
    machine's machine.json.
    """
    peaks: dict[str, float] = {}
    for name, facts in (machines or {}).items():
        value = facts.get("peak_gflops") if isinstance(facts, Mapping) else None
        if isinstance(value, (int, float)) and value > 0:
            peaks[name] = float(value)
    if len(table):
        bench = table["benchmark"].astype(str).str.lower()
        unit = table["unit"].astype(str).str.lower().str.replace(" ", "")
        rows = table[
            (table["kind"] == "track") & bench.str.contains("peak") & unit.str.contains("flop")
        ]
        for name, group in latest(rows).groupby("machine", observed=True):
            factor = 1e-9 if group["unit"].astype(str).str.lower().iloc[0].startswith("flop") else 1
            peaks[str(name)] = float(group["value"].max()) * factor
    return peaks


GEOMETRIC_MEAN = "geometric mean"  # the summary row of :func:`speedup_summary`


def speedup_summary(
    table: pd.DataFrame,
    *,
    baseline: str = "numpy:cpu",
    dtype: str | None = None,
    device: Any = None,
    machine: Any = None,
) -> pd.DataFrame | None:
    """Speedup over ``baseline`` per (machine, workload, backend label), plus a geometric mean.

    Per workload the speedup is the geometric mean over the sizes (and dtypes) both the backend
    and the baseline measured at their newest commit (NPBench's summary figure); the
    ``workload == "geometric mean"`` rows average those over workloads. Columns: machine,
    workload, label, mode (eager | compiled), log_speedup, n (points averaged), speedup. None when the table holds no
    tensorbench time results; empty when the baseline has none.
    """
    rows = latest(select(table, dtype=dtype, machine=machine, status="ok"))
    rows = without_thread_suite(rows[(rows["kind"] == "time") & rows["workload"].notna()])
    if rows.empty:
        return None
    # one cell per backend and mode (eager | compiled; "" where the table has no mode)
    mode = rows["mode"].astype(object).fillna("") if "mode" in rows.columns else ""
    rows = rows.assign(label=backend_label(rows), mode=mode)
    if device is not None:
        rows = rows[rows["device"].isin(as_list(device)) | (rows["label"] == baseline)]
    keys = ["machine", "workload", "size", "dtype"]
    rows = rows.sort_values("started_at").groupby([*keys, "label", "mode"], observed=True).tail(1)
    if not (rows["label"] == baseline).any():
        return pd.DataFrame(
            columns=["machine", "workload", "label", "mode", "log_speedup", "n", "speedup"]
        )
    merged = rows.assign(log_speedup=np.log(speedup_over(rows, baseline, on=keys)))
    merged = merged[merged["log_speedup"].notna()]
    cell = (
        merged.groupby(["machine", "workload", "label", "mode"], observed=True)
        .agg(log_speedup=("log_speedup", "mean"), n=("log_speedup", "size"))
        .reset_index()
    )
    geo = (
        cell.groupby(["machine", "label", "mode"], observed=True)
        .agg(log_speedup=("log_speedup", "mean"), n=("n", "sum"))
        .reset_index()
        .assign(workload=GEOMETRIC_MEAN)
    )
    cell = pd.concat([cell, geo], ignore_index=True)
    cell["speedup"] = np.exp(cell["log_speedup"])
    cell["speedup"] = np.exp(cell["log_speedup"])
    return cell
