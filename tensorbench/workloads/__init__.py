"""Workload registry: one module per workload, registered explicitly here."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from . import (
    async_overlap,
    conv2d,
    dispatch,
    gcn_forward,
    gcn_step,
    independent_ops,
    matmul,
    mlp_step,
    pagerank,
    stream,
    transfer,
    treelstm,
)
from .base import DTYPES, Work, Workload

WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        matmul.WORKLOAD,
        conv2d.WORKLOAD,
        dispatch.WORKLOAD,
        mlp_step.WORKLOAD,
        pagerank.WORKLOAD,
        gcn_forward.WORKLOAD,
        gcn_step.WORKLOAD,
        transfer.WORKLOAD,
        stream.COPY,
        stream.TRIAD,
        independent_ops.INDEPENDENT,
        independent_ops.CHAIN,
        async_overlap.PYTHON,
        async_overlap.COMPUTE,
        async_overlap.OVERLAP,
        treelstm.FORWARD,
        treelstm.STEP,
    )
}


def get_workload(name: str) -> Workload:
    """The registered workload called ``name``; ``KeyError`` names the valid choices."""
    try:
        return WORKLOADS[name]
    except KeyError:
        raise KeyError(f"unknown workload {name!r} (valid: {', '.join(WORKLOADS)})") from None


__all__ = [
    "DTYPES",
    "WORKLOADS",
    "Work",
    "Workload",
    "get_workload",
    "roofline_model",
    "work_model",
]


def work_model(workload: Any, size: Any, params: Any) -> tuple[float, float]:
    """(FLOPs, edges) one call of ``workload`` at ``size`` does, from its work model.

    NaN where unknown. Graph workloads count edges by generating the graph (seconds at scale
    20), so their rates come only from work recorded in the result file: NaN here.
    """
    wl = WORKLOADS.get(workload) if isinstance(workload, str) else None
    if wl is None or not isinstance(size, (int, float)) or not math.isfinite(size):
        return math.nan, math.nan
    if wl.size_name == "scale":
        return math.nan, math.nan
    merged = {**wl.default_params, **(params if isinstance(params, Mapping) else {})}
    w = wl.work(int(size), merged)
    return float(w.flops or math.nan), float(w.edges or math.nan)


def roofline_model(workload: Any, size: Any, params: Any, dtype: Any) -> tuple[float, float]:
    """(FLOPs, bytes moved) one call of ``workload`` at ``size`` in ``dtype`` does.

    The roofline's two coordinates come from these (intensity = FLOPs / bytes). NaN where
    unknown, and for graph workloads as in :func:`work_model`.
    """
    wl = WORKLOADS.get(workload) if isinstance(workload, str) else None
    if wl is None or not isinstance(size, (int, float)) or not math.isfinite(size):
        return math.nan, math.nan
    if wl.size_name == "scale" or dtype not in wl.dtypes:
        return math.nan, math.nan
    merged = {**wl.default_params, **(params if isinstance(params, Mapping) else {})}
    w = wl.work(int(size), merged)
    moved = w.traffic(str(dtype))
    return float(w.flops or math.nan), float(moved or math.nan)
