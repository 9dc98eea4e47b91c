"""Every result against the machine's roofline (Williams, Waterman & Patterson, 2009).

A point's attainable rate is ``min(peak GFLOP/s, bandwidth GB/s x intensity)``, intensity
being FLOPs per byte of compulsory memory traffic. Both ceilings are measured, not datasheet
figures: ``track_peak_gflops`` (best matmul) and ``track_peak_gbps`` (best STREAM triad). The
work model (FLOPs and bytes per call) is passed in as data (``RooflineModel``), so this module
imports no workload.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .modes import mode_label
from .rates import latest, select, without_thread_suite

# (workload, size, params, dtype) -> (FLOPs, bytes moved) one call does; NaN where unknown.
RooflineModel = Callable[[Any, Any, Any, Any], tuple[float, float]]

COLUMNS = [
    "machine",
    "workload",
    "label",
    "framework",
    "mode",
    "device",
    "size",
    "dtype",
    "time",
    "gflops",
    "intensity",
    "roof",
    "bound",
    "pct_of_roofline",
]


def machine_bandwidths(
    table: pd.DataFrame, machines: Mapping[str, Mapping] | None = None
) -> dict[str, float]:
    """Measured memory bandwidth (GB/s) per machine, where recorded.

    From a ``track_`` benchmark whose name contains "peak" and whose unit is bytes per second
    (``track_peak_gbps``: the newest value, the largest over its parameters), else a
    ``peak_gbps`` number in the machine's machine.json.
    """
    out: dict[str, float] = {}
    for name, facts in (machines or {}).items():
        value = facts.get("peak_gbps") if isinstance(facts, Mapping) else None
        if isinstance(value, (int, float)) and value > 0:
            out[name] = float(value)
    if len(table):
        bench = table["benchmark"].astype(str).str.lower()
        unit = table["unit"].astype(str).str.lower().str.replace(" ", "")
        rows = table[(table["kind"] == "track") & bench.str.contains("peak") & (unit == "gb/s")]
        for name, group in latest(rows).groupby("machine", observed=True):
            out[str(name)] = float(group["value"].max())
    return out


def attainable(intensity: Any, peak: float, bandwidth: float) -> Any:
    """The roof at ``intensity`` FLOP/byte: ``min(peak, bandwidth x intensity)`` GFLOP/s."""
    return np.minimum(peak, bandwidth * np.asarray(intensity, dtype=float))


def roofline_points(
    table: pd.DataFrame,
    model: RooflineModel,
    *,
    peaks: Mapping[str, float] | None = None,
    bandwidths: Mapping[str, float] | None = None,
    dtype: Any = None,
    machine: Any = None,
    workload: Any = None,
) -> pd.DataFrame:
    """One row per case (machine x workload x backend x mode x size x dtype, newest result)
    with its GFLOP/s, intensity and, where both ceilings are known, the roof there, which roof
    binds (``memory``/``compute``) and ``pct_of_roofline``. Columns: :data:`COLUMNS`.
    Cases without FLOPs or bytes in the model (graphs, dispatch chains) are left out.
    """
    rows = select(table, dtype=dtype, machine=machine, workload=workload, status="ok")
    rows = without_thread_suite(rows[(rows["kind"] == "time") & rows["backend"].notna()])
    rows = latest(rows)
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    rows = rows.assign(label=mode_label(rows)).sort_values("started_at")
    keys = ["machine", "workload", "label", "size", "dtype"]
    rows = rows.groupby(keys, observed=True, dropna=False).tail(1)  # real graphs: size NaN
    flops, moved = [], []
    for wl, size, params, dt in zip(
        rows["workload"], rows["size"], rows["params"], rows["dtype"], strict=True
    ):
        try:
            f, b = model(str(wl), size, params, str(dt))
        except Exception:  # a model may need inputs the table lacks: no point for that row
            f, b = math.nan, math.nan
        flops.append(f)
        moved.append(b)
    recorded = rows["work_flops"].to_numpy(dtype=float)
    flops_arr = np.where(np.isfinite(flops), flops, recorded)
    moved_arr = np.asarray(moved, dtype=float)
    seconds = rows["value"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        gflops = flops_arr / seconds / 1e9
        intensity = flops_arr / moved_arr
    df = pd.DataFrame(
        {
            "machine": rows["machine"].astype(str).to_numpy(),
            "workload": rows["workload"].astype(str).to_numpy(),
            "label": rows["label"].to_numpy(),
            "framework": rows["backend"].astype(str).to_numpy(),
            "mode": rows["mode"].astype(str).to_numpy() if "mode" in rows else "",
            "device": rows["device"].astype(str).to_numpy(),
            "size": rows["size"].to_numpy(dtype=float),
            "dtype": rows["dtype"].astype(str).to_numpy(),
            "time": seconds,
            "gflops": gflops,
            "intensity": intensity,
        }
    )
    df = df[np.isfinite(df["gflops"]) & np.isfinite(df["intensity"]) & (df["intensity"] > 0)]
    peak = df["machine"].map(dict(peaks or {})).astype(float)
    bw = df["machine"].map(dict(bandwidths or {})).astype(float)
    df["roof"] = attainable(df["intensity"], peak, bw)
    df["bound"] = np.where(
        peak.isna() | bw.isna(),
        "",
        np.where(bw * df["intensity"] < peak, "memory", "compute"),
    )
    df["pct_of_roofline"] = 100.0 * df["gflops"] / df["roof"]
    return df.reset_index(drop=True)[COLUMNS]
