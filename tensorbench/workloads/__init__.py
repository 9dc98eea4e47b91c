"""Workload registry: one module per workload, registered explicitly here."""

from __future__ import annotations

from . import conv2d, dispatch, gcn_forward, gcn_step, matmul, mlp_step, pagerank, transfer
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
    )
}


def get_workload(name: str) -> Workload:
    """The registered workload called ``name``; ``KeyError`` names the valid choices."""
    try:
        return WORKLOADS[name]
    except KeyError:
        raise KeyError(f"unknown workload {name!r} (valid: {', '.join(WORKLOADS)})") from None


__all__ = ["DTYPES", "WORKLOADS", "Work", "Workload", "get_workload"]
