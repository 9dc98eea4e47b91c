"""Eager and compiled modes in the results table: labels, compile times, when compiling pays off.

Every row of :func:`.results.load_results`'s table has a ``mode``: the ``mode`` parameter of
the ``*_modes`` benchmarks, else the backend's native mode (``conventions.native_mode``: what the
mode-less benchmarks time, JAX jit-compiled and the rest eager). Compile times are the
``track_<workload>_compile`` results of the same benchmarks (seconds: the first call's cost
beyond a steady-state call). Pure pandas; no framework import.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .rates import backend_label, latest

COMPILE_SUFFIX = "_compile"  # track_<workload>_compile: a point's compile time


def mode_label(rows: pd.DataFrame) -> pd.Series:
    """``backend:device · mode`` per row, e.g. ``torch:cpu · compiled``."""
    label = backend_label(rows)
    if "mode" not in rows.columns:
        return label
    mode = rows["mode"].astype(object)
    return label.where(mode.isna(), label + " · " + mode.astype(str))


def payoff_calls(
    eager_s: float, compiled_s: float, eager_first_s: float, compiled_first_s: float
) -> float:
    """Calls after which the compiled version has cost less in total than the eager one.

    ``*_s`` are steady-state times per call, ``*_first_s`` the first call's extra cost (trace
    and compile, lazy initialisation). N calls cost ``first + N * steady``; the answer is the
    smallest N >= 1 with compiled <= eager: ``inf`` when the compiled call is not faster and
    its first call costs more, NaN where a figure is missing.
    """
    values = (eager_s, compiled_s, eager_first_s, compiled_first_s)
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        return math.nan
    extra = compiled_first_s - eager_first_s
    saved = eager_s - compiled_s
    if extra <= 0 and saved >= 0:
        return 1.0
    if saved <= 0:
        return 1.0 if extra <= 0 and saved == 0 else math.inf
    return float(max(1, math.ceil(extra / saved)))


def compile_table(table: pd.DataFrame) -> pd.DataFrame:
    """Eager vs compiled per (machine, workload, backend, device, size, dtype), newest results.

    Columns: machine, workload, label (backend:device), size, dtype, eager_s, compiled_s,
    eager_first_s, compiled_first_s (first-call extra), speedup (eager / compiled) and
    pays_off_after (calls, see :func:`payoff_calls`). Only points measured in both modes by
    the ``*_modes`` benchmarks (their compile times come from the same benchmarks).
    """
    columns = [
        "machine",
        "workload",
        "label",
        "size",
        "dtype",
        "eager_s",
        "compiled_s",
        "eager_first_s",
        "compiled_first_s",
        "speedup",
        "pays_off_after",
    ]
    if "mode" not in table.columns or table.empty:
        return pd.DataFrame(columns=columns)
    rows = latest(table[table["params"].map(lambda p: isinstance(p, dict) and "mode" in p)])
    if rows.empty:
        return pd.DataFrame(columns=columns)
    bench = rows["benchmark"].astype(str)
    method = bench.str.rsplit(".", n=1).str[-1]
    is_compile = (rows["kind"] == "track") & method.str.endswith(COMPILE_SUFFIX)
    is_time = rows["kind"] == "time"
    keys = ["machine", "cls", "label", "size_key", "dtype", "mode"]
    rows = rows.assign(
        cls=bench.str.rsplit(".", n=1).str[0],
        label=backend_label(rows),
        size_key=rows["param_key"].astype(str).str.split(", ").str[1],
    )
    times = rows[is_time].drop_duplicates(keys, keep="last").set_index(keys)["value"]
    firsts = rows[is_compile].drop_duplicates(keys, keep="last").set_index(keys)["value"]
    out = []
    for key, group in rows[is_time].groupby(keys[:-1], observed=True, sort=True):
        modes = set(group["mode"].astype(str))
        if not {"eager", "compiled"} <= modes:
            continue
        first = group.iloc[-1]

        def get(series: pd.Series, mode: str, key: tuple = key) -> float:
            return float(series.get((*key, mode), np.nan))

        e, c = get(times, "eager"), get(times, "compiled")
        fe, fc = get(firsts, "eager"), get(firsts, "compiled")
        out.append(
            {
                "machine": key[0],
                "workload": str(first["workload"]),
                "label": key[2],
                "size": first["size"] if np.isfinite(first["size"]) else key[3],
                "dtype": key[4],
                "eager_s": e,
                "compiled_s": c,
                "eager_first_s": fe,
                "compiled_first_s": fc,
                "speedup": e / c if c > 0 else np.nan,
                "pays_off_after": payoff_calls(e, c, fe, fc),
            }
        )
    return pd.DataFrame(out, columns=columns)
