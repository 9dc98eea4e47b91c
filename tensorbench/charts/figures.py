"""Altair charts over the tidy results table (`tensorbench.results`); no Streamlit here.

Every function takes the table (and optional filters) and returns an Altair chart; drawing is
the caller's business: the dashboard shows it, :func:`save_chart` writes SVG/PNG/PDF with
vl-convert (no browser). Charts are unstyled; :func:`style` applies the "screen" or the
"talk" look (large fonts, 16:9) at the top level, where Vega-Lite wants its config.

Each framework keeps one colour everywhere (Okabe-Ito, safe for colour-blind readers); the
device is the line dash (CPU solid, GPU dashed). Every chart takes ``machine`` to filter and
splits by machine when more than one is shown.

Basic usage::

    db = load_results("results")
    chart = scaling_chart(db.table, workload="matmul", dtype="float32")
    save_chart(chart, "matmul.svg")
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from .errors import InputError

__all__ = [
    "EXPORT_FORMATS",
    "FRAMEWORK_COLORS",
    "chart_bytes",
    "compare_chart",
    "coverage_chart",
    "empty_chart",
    "heatmap_chart",
    "history_chart",
    "latest",
    "latest_values_chart",
    "machine_peaks",
    "param_scaling_chart",
    "save_chart",
    "scaling_chart",
    "select",
    "status_chart",
    "style",
    "thread_scaling_chart",
    "with_rates",
]

# Okabe & Ito (2008), the colour-blind-safe qualitative palette; one colour per framework.
FRAMEWORK_COLORS: dict[str, str] = {
    "numpy": "#0072B2",  # blue
    "torch": "#D55E00",  # vermillion
    "jax": "#009E73",  # bluish green
    "cupy": "#E69F00",  # orange
    "mxnet": "#CC79A7",  # reddish purple
    "dgl-torch": "#56B4E9",  # sky blue
    "dgl-mxnet": "#000000",  # black
    "dgl": "#56B4E9",
    "pyg": "#999999",  # grey (Okabe-Ito's yellow is too faint on white for lines)
}
_OTHER_COLORS = ("#882255", "#44AA99", "#DDCC77", "#332288")  # Tol's, after Okabe-Ito
# Packages whose recorded version describes each framework (asv env requirements).
_FRAMEWORK_PACKAGES = {
    "numpy": ("numpy",),
    "torch": ("torch",),
    "jax": ("jax", "jaxlib"),
    "cupy": ("cupy-cuda12x", "cupy-cuda11x", "cupy"),
    "mxnet": ("mxnet", "mxnet-cu112"),
    "dgl": ("dgl",),
    "dgl-torch": ("dgl", "torch"),
    "dgl-mxnet": ("dgl", "mxnet"),
    "pyg": ("torch_geometric", "torch"),
}
REGRESSION_COLOR = "#D55E00"
IMPROVEMENT_COLOR = "#009E73"
EXPORT_FORMATS = ("svg", "png", "pdf")
SERIES_KEYS = ["machine", "env", "benchmark", "param_key"]


# ---------------------------------------------------------------------------------------------
# data preparation (pure pandas; tested through the charts)


def _as_list(value: Any) -> list | None:
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
        values = _as_list(want)
        if values is not None:
            mask &= table[col].isin(values).to_numpy()
    sizes = _as_list(size)
    if sizes is not None:
        mask &= table["size"].isin([float(s) for s in sizes]).to_numpy()
    backends = _as_list(backend)
    if backends is not None:
        label = table["backend"].astype(str) + ":" + table["device"].astype(str)
        mask &= (table["backend"].isin(backends) | label.isin(backends)).to_numpy()
    return table[mask]


def _without_thread_suite(rows: pd.DataFrame) -> pd.DataFrame:
    """Drop the thread-scaling twins (a `threads` param) so they do not mix with the defaults."""
    return rows[rows["threads"].isna()]


def latest(table: pd.DataFrame) -> pd.DataFrame:
    """The newest ok result of every (machine, env, benchmark, parameters) series."""
    ok = table[(table["status"] == "ok") & table["value"].notna()]
    if ok.empty:
        return ok
    ok = ok.sort_values(["commit_order", "started_at"], kind="stable")
    return ok.groupby(SERIES_KEYS, observed=True, sort=False).tail(1)


@lru_cache(maxsize=1)
def _workloads() -> Mapping[str, Any]:
    # tensorbench.workloads imports NumPy only (frameworks load inside the factories).
    try:
        from .workloads import WORKLOADS
    except Exception:  # a broken workload module must not take the charts down
        return {}
    return WORKLOADS


def _work(workload: Any, size: Any, params: Any) -> tuple[float, float]:
    """(FLOPs, edges) one call does, from the workload's work model; NaN where unknown."""
    wl = _workloads().get(workload) if isinstance(workload, str) else None
    if wl is None or not isinstance(size, (int, float)) or not math.isfinite(size):
        return math.nan, math.nan
    if getattr(wl, "size_name", "") == "scale":
        # Graph workloads count edges by generating the graph (seconds at scale 20): their
        # rate comes only from work recorded in the result file (work_edges).
        return math.nan, math.nan
    merged = {
        **getattr(wl, "default_params", {}),
        **(params if isinstance(params, Mapping) else {}),
    }
    try:
        w = wl.work(int(size), merged)
    except Exception:  # a work model may need inputs the table lacks
        return math.nan, math.nan
    return float(w.flops or math.nan), float(w.edges or math.nan)


def with_rates(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (time rows) plus ``rate``, ``rate_low``, ``rate_high`` and ``rate_unit``.

    GFLOP/s where the work model gives FLOPs, GTEPS where it gives edges (PageRank), from the
    time and its CI (a rate's low end comes from the time's high end).
    """
    out = df.copy()
    flops = out["work_flops"].to_numpy(dtype=float, copy=True)
    edges = out["work_edges"].to_numpy(dtype=float, copy=True)
    missing = ~(np.isfinite(flops) | np.isfinite(edges))
    for i in np.flatnonzero(missing):  # recorded work first, else the work model
        flops[i], edges[i] = _work(
            out["workload"].iloc[i], out["size"].iloc[i], out["params"].iloc[i]
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


def _time_rate_columns(rows: pd.DataFrame, factor: float) -> dict[str, Any]:
    """Framework, device, machine, time (scaled by ``factor``) with its CI, and the rate with
    its CI: the columns the compare and scaling charts share."""
    return {
        "framework": rows["backend"].astype(str),
        "device": rows["device"].astype(str),
        "machine": rows["machine"].astype(str),
        "time": rows["value"] * factor,
        "time_low": rows["ci_low"].fillna(rows["value"]) * factor,
        "time_high": rows["ci_high"].fillna(rows["value"]) * factor,
        "rate": rows["rate"],
        "rate_low": rows["rate_low"],
        "rate_high": rows["rate_high"],
    }


def _time_unit(seconds: pd.Series | np.ndarray) -> tuple[float, str]:
    """A factor and unit that put typical times between 1 and 1000."""
    values = np.asarray(seconds, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    typical = float(np.median(values)) if len(values) else 1.0
    for factor, unit in ((1.0, "s"), (1e3, "ms"), (1e6, "µs"), (1e9, "ns")):
        if typical * factor >= 1:
            return factor, unit
    return 1e9, "ns"


def _value_unit(unit: str, values: pd.Series) -> tuple[float, str]:
    if unit == "seconds":
        return _time_unit(values)
    if unit == "bytes":
        typical = float(np.nanmedian(values)) if len(values) else 1.0
        for factor, name in ((2**-30, "GiB"), (2**-20, "MiB"), (2**-10, "KiB")):
            if typical * factor >= 1:
                return factor, name
        return 1.0, "bytes"
    return 1.0, unit


def _framework_scale(frameworks: Iterable[str]) -> alt.Scale:
    present = sorted({str(f) for f in frameworks if isinstance(f, str)})
    known = [f for f in FRAMEWORK_COLORS if f in present]
    others = [f for f in present if f not in FRAMEWORK_COLORS]
    domain = known + others
    colors = [FRAMEWORK_COLORS[f] for f in known]
    colors += [_OTHER_COLORS[i % len(_OTHER_COLORS)] for i in range(len(others))]
    return alt.Scale(domain=domain, range=colors)


def _device_dash(devices: Iterable[str]) -> alt.Scale:
    """CPU solid, every GPU device dashed (a different dash each)."""
    present = sorted({str(d) for d in devices}, key=lambda d: (d != "cpu", d))
    dashes = [[6, 3], [2, 2], [8, 3, 2, 3]]
    gpu = 0
    out = []
    for d in present:
        if d == "cpu":
            out.append([1, 0])
        else:
            out.append(dashes[gpu % len(dashes)])
            gpu += 1
    return alt.Scale(domain=present, range=out)


def _device_shape(devices: Iterable[str]) -> alt.Shape:
    present = sorted({str(d) for d in devices}, key=lambda d: (d != "cpu", d))
    shapes = ["circle" if d == "cpu" else "triangle-up" for d in present]
    return alt.Shape(
        "device:N",
        scale=alt.Scale(domain=present, range=shapes),
        title="device",
        legend=alt.Legend() if len(present) > 1 else None,
    )


def _records(df: pd.DataFrame) -> alt.Data:
    """Inline data for Vega-Lite: timestamps as ISO text, categories as text, NaN as null.

    Inline values bypass Altair's 5,000-row guard, which would otherwise turn a long history
    into an exception; the charts here keep only the columns they draw.
    """
    out = {}
    for col in df.columns:
        s = df[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(s):
            out[col] = [None if pd.isna(v) else v.isoformat() for v in s]
        elif (
            isinstance(s.dtype, pd.CategoricalDtype)
            or s.dtype == object
            or pd.api.types.is_string_dtype(s)
        ):
            out[col] = [
                None
                if (v is None or (isinstance(v, float) and math.isnan(v)))
                else (v if isinstance(v, (bool, int, float)) else str(v))
                for v in s
            ]
        else:
            arr = s.to_numpy()
            if arr.dtype.kind == "f":
                out[col] = [None if not math.isfinite(v) else float(v) for v in arr]
            elif arr.dtype.kind in "iu":
                out[col] = [int(v) for v in arr]
            elif arr.dtype.kind == "b":
                out[col] = [bool(v) for v in arr]
            else:
                out[col] = [str(v) for v in arr]
    n = len(df)
    return alt.Data(values=[{c: out[c][i] for c in out} for i in range(n)])


def empty_chart(message: str) -> alt.Chart:
    """A chart that says why there is nothing to draw (so a page never shows a blank)."""
    return (
        alt.Chart(alt.Data(values=[{"message": message}]))
        .mark_text(size=16, color="#555555")
        .encode(text="message:N")
        .properties(width=500, height=80)
    )


def _versions(envs: pd.DataFrame | None, machines: Mapping[str, Mapping] | None) -> dict:
    """(machine, env, framework) -> 'torch 2.3.0 · py3.11 · cpu X · OMP_NUM_THREADS=4'."""
    out: dict[tuple[str, str, str], str] = {}
    if envs is None or len(envs) == 0:
        return out
    for row in envs.itertuples(index=False):
        reqs = row.requirements if isinstance(row.requirements, Mapping) else {}
        env_vars = row.env_vars if isinstance(row.env_vars, Mapping) else {}
        mfacts = (machines or {}).get(row.machine, {}) or {}
        ours = row.tensorbench if isinstance(getattr(row, "tensorbench", None), Mapping) else {}
        recorded = ours.get("facts") if isinstance(ours.get("facts"), Mapping) else {}
        for fw, packages in _FRAMEWORK_PACKAGES.items():
            parts = [f"{pkg} {reqs[pkg] or '(unpinned)'}" for pkg in packages if pkg in reqs]
            facts = recorded.get(fw)
            if isinstance(facts, Mapping):  # tensorbench's own record: version, build, BLAS
                parts += [f"{k} {v}" for k, v in facts.items() if not isinstance(v, (dict, list))]
            parts.append(f"python {row.python}")
            if mfacts.get("cpu"):
                parts.append(str(mfacts["cpu"]))
            if ours.get("threads"):
                parts.append(f"threads {ours['threads']}")
            parts += [f"{k}={v}" for k, v in sorted(env_vars.items())]
            out[(row.machine, row.env, fw)] = " · ".join(parts)
    return out


# ---------------------------------------------------------------------------------------------
# charts


def _label(df: pd.DataFrame, with_machine: bool) -> pd.Series:
    label = df["backend"].astype(str) + ":" + df["device"].astype(str)
    if with_machine:
        label = df["machine"].astype(str) + " · " + label
    return label


def compare_chart(
    table: pd.DataFrame,
    *,
    workload: str,
    size: float | None = None,
    dtype: str | None = None,
    device: Any = None,
    machine: Any = None,
    baseline: str = "numpy:cpu",
    envs: pd.DataFrame | None = None,
    machines: Mapping[str, Mapping] | None = None,
) -> alt.TopLevelMixin:
    """Time (log axis, 99 % CI), throughput and speedup over ``baseline``, one row per backend.

    The newest result of each backend at one size (default: the largest measured by every
    backend shown, else the largest). Tooltips carry versions, python, CPU and env vars.
    """
    rows = select(table, workload=workload, dtype=dtype, machine=machine, status="ok")
    rows = _without_thread_suite(rows[rows["kind"] == "time"])
    if device is not None:
        rows = rows[
            rows["device"].isin(_as_list(device))
            | (rows["backend"].astype(str) + ":" + rows["device"].astype(str) == baseline)
        ]
    rows = latest(rows)
    if rows.empty:
        return empty_chart(f"no {workload} results for these filters")
    if size is None:
        per_backend = rows.groupby(["backend", "device"], observed=True)["size"].apply(set)
        common = set.intersection(*per_backend) if len(per_backend) else set()
        size = max(common) if common else rows["size"].max()
    rows = rows[rows["size"] == float(size)]
    rows = with_rates(rows.sort_values("started_at"))
    many = rows["machine"].nunique() > 1
    rows = rows.assign(label=_label(rows, many))
    # one point per label: the newest env that measured it
    rows = rows.groupby("label", sort=False).tail(1)
    base = rows[rows["backend"].astype(str) + ":" + rows["device"].astype(str) == baseline]
    base_time = base.set_index("machine")["value"].to_dict() if len(base) else {}
    factor, unit = _time_unit(rows["value"])
    facts = _versions(envs, machines)
    df = pd.DataFrame(
        {
            "label": rows["label"],
            **_time_rate_columns(rows, factor),
            "speedup": [
                base_time.get(m, math.nan) / v
                for m, v in zip(rows["machine"], rows["value"], strict=True)
            ],
            "commit": rows["commit"].astype(str).str[:8],
            "commit_date": rows["commit_date"],
            "versions": [
                facts.get((str(m), str(e), str(b)), "")
                for m, e, b in zip(rows["machine"], rows["env"], rows["backend"], strict=True)
            ],
        }
    )
    order = df.sort_values(["machine", "time"])["label"].tolist()
    y = alt.Y("label:N", sort=order, title=None)
    color = alt.Color("framework:N", scale=_framework_scale(df["framework"]), title="framework")
    tooltip = [
        alt.Tooltip("label:N", title="backend"),
        alt.Tooltip("time:Q", title=f"time ({unit})", format=".4g"),
        alt.Tooltip("time_low:Q", title="CI low", format=".4g"),
        alt.Tooltip("time_high:Q", title="CI high", format=".4g"),
        alt.Tooltip("rate:Q", title="throughput", format=".4g"),
        alt.Tooltip("speedup:Q", title=f"speedup vs {baseline}", format=".3g"),
        alt.Tooltip("commit:N"),
        alt.Tooltip("commit_date:T", title="commit date", format="%Y-%m-%d"),
        alt.Tooltip("versions:N"),
    ]
    base_chart = alt.Chart(_records(df))
    time_title = f"time ({unit}, log) — lower is better"
    time_x = alt.X("time:Q", scale=alt.Scale(type="log"), title=time_title)
    time = alt.layer(
        base_chart.mark_rule(strokeWidth=2).encode(
            x=alt.X("time_low:Q", scale=alt.Scale(type="log"), title=time_title),
            x2="time_high:Q",
            y=y,
            color=color,
        ),
        base_chart.mark_point(filled=True, size=140).encode(
            x=time_x, y=y, color=color, tooltip=tooltip
        ),
    ).properties(title=f"{workload} · size {size:g}" + (f" · {dtype}" if dtype else ""))
    panels = [time]
    rate_unit = next((u for u in rows["rate_unit"] if u), "")
    if df["rate"].notna().any():
        rate_x = alt.X("rate:Q", title=f"{rate_unit} — higher is better")
        panels.append(
            alt.layer(
                base_chart.mark_bar().encode(
                    x=rate_x, y=y.axis(None), color=color, tooltip=tooltip
                ),
                base_chart.mark_rule(color="black").encode(
                    x="rate_low:Q", x2="rate_high:Q", y=y.axis(None)
                ),
            ).properties(title="throughput")
        )
    if df["speedup"].notna().any():
        speed_x = alt.X(
            "speedup:Q", scale=alt.Scale(type="log"), title=f"speedup vs {baseline} (log)"
        )
        panels.append(
            alt.layer(
                base_chart.mark_bar().encode(
                    x=speed_x, x2=alt.datum(1), y=y.axis(None), color=color, tooltip=tooltip
                ),
                alt.Chart(alt.Data(values=[{"one": 1}])).mark_rule(color="black").encode(x="one:Q"),
            ).properties(title="speedup")
        )
    return alt.hconcat(*panels).resolve_scale(y="shared")


def heatmap_chart(
    table: pd.DataFrame,
    *,
    baseline: str = "numpy:cpu",
    dtype: str | None = None,
    device: Any = None,
    machine: Any = None,
) -> alt.TopLevelMixin:
    """Speedup over ``baseline`` for every workload x backend, with a geometric-mean row.

    Per workload the speedup is the geometric mean over the sizes (and dtypes) both the backend
    and the baseline measured at their newest commit (NPBench's summary figure).
    """
    rows = latest(select(table, dtype=dtype, machine=machine, status="ok"))
    rows = _without_thread_suite(rows[(rows["kind"] == "time") & rows["workload"].notna()])
    if rows.empty:
        return empty_chart("no tensorbench results to compare")
    rows = rows.assign(label=rows["backend"].astype(str) + ":" + rows["device"].astype(str))
    if device is not None:
        rows = rows[rows["device"].isin(_as_list(device)) | (rows["label"] == baseline)]
    keys = ["machine", "workload", "size", "dtype"]
    rows = rows.sort_values("started_at").groupby([*keys, "label"], observed=True).tail(1)
    base = rows[rows["label"] == baseline][[*keys, "value"]].rename(columns={"value": "base"})
    if base.empty:
        return empty_chart(f"no {baseline} results to compare against")
    merged = rows.merge(base, on=keys)
    merged["log_speedup"] = np.log(merged["base"] / merged["value"])
    cell = (
        merged.groupby(["machine", "workload", "label"], observed=True)
        .agg(log_speedup=("log_speedup", "mean"), n=("log_speedup", "size"))
        .reset_index()
    )
    geo = (
        cell.groupby(["machine", "label"], observed=True)
        .agg(log_speedup=("log_speedup", "mean"), n=("n", "sum"))
        .reset_index()
        .assign(workload="geometric mean")
    )
    cell = pd.concat([cell, geo], ignore_index=True)
    cell["speedup"] = np.exp(cell["log_speedup"])
    cell["text"] = cell["speedup"].map(lambda v: f"{v:.2g}×")
    cell["framework"] = cell["label"].str.split(":").str[0]
    workloads = sorted(set(cell["workload"]) - {"geometric mean"}) + ["geometric mean"]
    labels = sorted(set(cell["label"]), key=lambda s: (s != baseline, s))
    span = float(np.nanmax(np.abs(cell["log_speedup"]))) if len(cell) else 1.0
    span = 2.0 ** max(1, math.ceil(span / math.log(2)))  # symmetric, a power of two
    enc = {
        "x": alt.X("label:N", sort=labels, title=None, axis=alt.Axis(labelAngle=0, orient="top")),
        "y": alt.Y("workload:N", sort=workloads, title=None),
    }
    color = alt.Color(
        "speedup:Q",
        scale=alt.Scale(
            type="log", scheme="blueorange", domain=[1 / span, span], domainMid=1, reverse=True
        ),
        title="speedup ×",
        legend=alt.Legend(
            values=[1 / span, 1, span],
            labelExpr="datum.value < 1 ? '1/' + format(1 / datum.value, '~g') + '×'"
            " : format(datum.value, '~g') + '×'",
        ),
    )
    tooltip = [
        alt.Tooltip("workload:N"),
        alt.Tooltip("label:N", title="backend"),
        alt.Tooltip("machine:N"),
        alt.Tooltip("speedup:Q", format=".3g"),
        alt.Tooltip("n:Q", title="sizes x dtypes averaged"),
    ]
    machines = sorted(cell["machine"].astype(str).unique())

    def panel(machine_name: str) -> alt.LayerChart:
        mine = cell[cell["machine"].astype(str) == machine_name]
        base = alt.Chart(_records(mine.astype({"workload": str, "label": str, "machine": str})))
        title = machine_name if len(machines) > 1 else f"speedup over {baseline}"
        return alt.layer(
            base.mark_rect().encode(**enc, color=color, tooltip=tooltip),
            base.mark_text().encode(
                **enc,
                text="text:N",
                # white on the darkest cells, black elsewhere
                color=alt.condition(
                    f"abs(log(datum.speedup)) > {0.6 * math.log(span):.6f}",
                    alt.value("white"),
                    alt.value("black"),
                ),
            ),
        ).properties(title=title)

    if len(machines) == 1:
        return panel(machines[0])
    return alt.hconcat(*map(panel, machines)).properties(
        title=f"speedup over {baseline} (geometric mean over sizes)"
    )


def _ci_band(
    base: alt.Chart, x: alt.X, low: str, high: str, color: alt.Color, dash: Any
) -> alt.Chart:
    return base.mark_area(opacity=0.18).encode(
        x=x, y=f"{low}:Q", y2=f"{high}:Q", color=color, detail=dash
    )


def scaling_chart(
    table: pd.DataFrame,
    *,
    workload: str,
    dtype: str | None = None,
    backend: Any = None,
    device: Any = None,
    machine: Any = None,
    peaks: Mapping[str, float] | None = None,
) -> alt.TopLevelMixin:
    """Time and throughput against size on log-log axes, one line per backend, CI bands.

    ``peaks`` (GFLOP/s per machine, e.g. from :func:`machine_peaks`) draws the machine's
    measured peak as a ceiling on the throughput panel.
    """
    rows = select(
        table,
        workload=workload,
        dtype=dtype,
        backend=backend,
        device=device,
        machine=machine,
        status="ok",
    )
    rows = latest(_without_thread_suite(rows[(rows["kind"] == "time") & rows["size"].notna()]))
    if rows.empty:
        return empty_chart(f"no {workload} results for these filters")
    if rows["dtype"].nunique() > 1 and dtype is None:
        rows = rows[rows["dtype"] == sorted(rows["dtype"].dropna().unique())[0]]
    rows = rows.sort_values("started_at")
    rows = rows.groupby(["machine", "backend", "device", "size"], observed=True).tail(1)
    rows = with_rates(rows)
    factor, unit = _time_unit(rows["value"])
    df = pd.DataFrame(
        {
            "size": rows["size"],
            **_time_rate_columns(rows, factor),
            "series": rows["backend"].astype(str) + ":" + rows["device"].astype(str),
            "commit": rows["commit"].astype(str).str[:8],
        }
    )
    x = alt.X("size:Q", scale=alt.Scale(type="log", nice=False, padding=12), title="size (log)")
    color = alt.Color("framework:N", scale=_framework_scale(df["framework"]), title="framework")
    # Device: dashed line and a triangle marker for GPUs. Vega-Lite merges the two into one
    # legend (same field); a dash-only legend would draw no symbols next to point marks.
    shape = _device_shape(df["device"])
    many_devices = df["device"].nunique() > 1
    dash = alt.StrokeDash(
        "device:N",
        scale=_device_dash(df["device"]),
        title="device",
        legend=alt.Legend() if many_devices else None,
    )
    tooltip = [
        alt.Tooltip("series:N", title="backend"),
        alt.Tooltip("machine:N"),
        alt.Tooltip("size:Q"),
        alt.Tooltip("time:Q", title=f"time ({unit})", format=".4g"),
        alt.Tooltip("rate:Q", title="throughput", format=".4g"),
        alt.Tooltip("commit:N"),
    ]
    rate_unit = next((u for u in rows["rate_unit"] if u), "")
    machines = sorted(df["machine"].unique())

    def lines(base: alt.Chart, y: alt.Y, low: str, high: str) -> list[alt.Chart]:
        # lines first: the layer's legend comes from them, not from the faint bands
        return [
            base.mark_line().encode(x=x, y=y, color=color, strokeDash=dash, detail="series:N"),
            base.mark_point(filled=True, size=70).encode(
                x=x, y=y, color=color, shape=shape, detail="series:N", tooltip=tooltip
            ),
            _ci_band(base, x, low, high, color, "series:N"),
        ]

    def panels(machine_name: str) -> alt.HConcatChart:
        mine = df[df["machine"] == machine_name]
        base = alt.Chart(_records(mine))
        where = f" · {machine_name}" if len(machines) > 1 else ""
        time_y = alt.Y("time:Q", scale=alt.Scale(type="log"), title=f"time ({unit}, log)")
        out = [
            alt.layer(*lines(base, time_y, "time_low", "time_high")).properties(
                title=f"{workload}: time{where}"
            )
        ]
        if mine["rate"].notna().any():
            rate_y = alt.Y("rate:Q", scale=alt.Scale(type="log"), title=f"{rate_unit} (log)")
            layers = lines(base, rate_y, "rate_low", "rate_high")
            peak = (peaks or {}).get(machine_name)
            if peak and rate_unit == "GFLOP/s":
                ceiling = alt.Chart(
                    alt.Data(values=[{"peak": peak, "label": f"measured peak {peak:.4g} GFLOP/s"}])
                )
                layers.append(
                    ceiling.mark_rule(strokeDash=[2, 2], color="black").encode(y="peak:Q")
                )
                layers.append(
                    ceiling.mark_text(align="left", dx=4, dy=-10, color="black").encode(
                        y="peak:Q", text="label:N", x=alt.value(0)
                    )
                )
            out.append(alt.layer(*layers).properties(title=f"{workload}: throughput{where}"))
        return alt.hconcat(*out)

    if len(machines) == 1:
        return panels(machines[0])
    # one row per machine (separate data per row, so concat rather than facet)
    return alt.vconcat(*[panels(m) for m in machines])


def param_scaling_chart(
    table: pd.DataFrame, *, benchmark: str, x_param: str, machine: Any = None
) -> alt.TopLevelMixin:
    """Any benchmark's newest values against one numeric parameter, one line per the rest.

    For databases that are not tensorbench's (e.g. OpenBLAS: time against ``size`` per
    ``variant``).
    """
    rows = latest(select(table, benchmark=benchmark, machine=machine, status="ok"))
    if rows.empty:
        return empty_chart(f"no results for {benchmark}")
    x = [p.get(x_param) if isinstance(p, Mapping) else None for p in rows["params"]]
    rest = [
        ", ".join(f"{k}={v!r}" for k, v in p.items() if k != x_param)
        if isinstance(p, Mapping)
        else ""
        for p in rows["params"]
    ]
    unit = str(rows["unit"].iloc[0])
    factor, shown_unit = _value_unit(unit, rows["value"])
    df = pd.DataFrame(
        {
            "x": pd.to_numeric(pd.Series(x, index=rows.index), errors="coerce"),
            "series": rest,
            "machine": rows["machine"].astype(str),
            "value": rows["value"] * factor,
            "low": rows["ci_low"].fillna(rows["value"]) * factor,
            "high": rows["ci_high"].fillna(rows["value"]) * factor,
        }
    ).dropna(subset=["x"])
    if df.empty:
        return empty_chart(f"{x_param} is not numeric for {benchmark}")
    if df["machine"].nunique() > 1:
        df["series"] = (df["machine"] + " · " + df["series"]).str.removesuffix(" · ")
    base = alt.Chart(_records(df))
    xs = alt.X("x:Q", scale=alt.Scale(type="log", nice=False, padding=12), title=f"{x_param} (log)")
    color = alt.Color("series:N", title=None)
    return alt.layer(
        base.mark_line(point=True).encode(
            x=xs,
            y=alt.Y("value:Q", scale=alt.Scale(type="log"), title=f"{shown_unit} (log)"),
            color=color,
            tooltip=[
                "series:N",
                "machine:N",
                alt.Tooltip("x:Q", title=x_param),
                alt.Tooltip("value:Q", format=".4g"),
            ],
        ),
        base.mark_area(opacity=0.18).encode(x=xs, y="low:Q", y2="high:Q", color=color),
    ).properties(title=benchmark)


def history_chart(
    table: pd.DataFrame,
    *,
    benchmark: str,
    param_key: Any = None,
    machine: Any = None,
    env: Any = None,
    regressions: pd.DataFrame | None = None,
    x: str = "commit_order",
) -> alt.TopLevelMixin:
    """One benchmark over commits: value with its CI band per series, regressions marked.

    ``regressions`` has `tensorbench.regressions.find_regressions`' columns; each change is a
    vertical rule at its first bad commit (vermillion: regression, green: improvement).
    ``x`` is "commit_order" (one step per commit) or "commit_date".
    """
    rows = select(table, benchmark=benchmark, machine=machine, env=env)
    if param_key is not None:
        rows = rows[rows["param_key"].isin(_as_list(param_key))]
    rows = rows[(rows["status"] == "ok") & rows["value"].notna()]
    if rows.empty:
        return empty_chart(f"no ok results for {benchmark}")
    unit = str(rows["unit"].iloc[0])
    factor, shown = _value_unit(unit, rows["value"])
    series = rows["param_key"].astype(str).replace("", "(no parameters)")
    if rows["machine"].nunique() > 1:
        series = rows["machine"].astype(str) + " · " + series
    if rows["env"].nunique() > 1:
        series = series + " · " + rows["env"].astype(str)
    df = pd.DataFrame(
        {
            "order": rows["commit_order"],
            "date": rows["commit_date"],
            "commit": rows["commit"].astype(str).str[:8],
            "series": series,
            "value": rows["value"] * factor,
            "low": rows["ci_low"].fillna(rows["value"]) * factor,
            "high": rows["ci_high"].fillna(rows["value"]) * factor,
        }
    ).sort_values("order")
    xfield = "order:Q" if x == "commit_order" else "date:T"
    xenc = (
        alt.X(xfield, title="commit (oldest → newest)", axis=alt.Axis(format="d", tickMinStep=1))
        if x == "commit_order"
        else alt.X(xfield, title="commit date")
    )
    y = alt.Y("value:Q", title=f"{shown}", scale=alt.Scale(zero=False))
    many = df["series"].nunique() > 1
    color = (
        alt.Color(
            "series:N",
            title=None,
            legend=alt.Legend(
                orient="bottom",
                columns=1,
                labelLimit=600,
                symbolType="stroke",
                symbolStrokeWidth=3,
                symbolOpacity=1,
            ),
        )
        if many
        else alt.value(FRAMEWORK_COLORS["numpy"])
    )
    tooltip = [
        alt.Tooltip("commit:N"),
        alt.Tooltip("date:T", format="%Y-%m-%d %H:%M"),
        alt.Tooltip("value:Q", format=".4g", title=shown),
        alt.Tooltip("low:Q", format=".4g", title="CI low"),
        alt.Tooltip("high:Q", format=".4g", title="CI high"),
        alt.Tooltip("series:N"),
    ]
    base = alt.Chart(_records(df))
    hover = alt.selection_point(on="pointerover", nearest=True, fields=["order"], empty=False)
    # the line first, so that the legend shows lines rather than the faint bands
    layers = [
        base.mark_line(strokeWidth=1.5).encode(x=xenc, y=y, color=color, detail="series:N"),
        base.mark_area(opacity=0.15).encode(
            x=xenc, y="low:Q", y2="high:Q", color=color, detail="series:N"
        ),
        base.mark_point(filled=True, size=30)
        .encode(
            x=xenc,
            y=y,
            color=color,
            detail="series:N",
            tooltip=tooltip,
            size=alt.condition(hover, alt.value(120), alt.value(30)),
        )
        .add_params(hover),
    ]
    marks = _regression_marks(rows, regressions, benchmark, param_key, x)
    if marks is not None:
        layers.append(marks)
    return alt.layer(*layers).properties(title=benchmark)


def _regression_marks(
    rows: pd.DataFrame, regressions: pd.DataFrame | None, benchmark: str, param_key: Any, x: str
) -> alt.Chart | None:
    if regressions is None or len(regressions) == 0:
        return None
    found = regressions[regressions["benchmark"] == benchmark]
    if param_key is not None:
        found = found[found["param_key"].isin(_as_list(param_key))]
    found = found[found["machine"].isin(set(rows["machine"].astype(str)))]
    if found.empty:
        return None
    commits = rows.drop_duplicates("commit").set_index(
        rows.drop_duplicates("commit")["commit"].astype(str)
    )
    marks = []
    for r in found.itertuples(index=False):
        if r.first_bad_commit not in commits.index:
            continue
        c = commits.loc[r.first_bad_commit]
        marks.append(
            {
                "order": int(c["commit_order"]),
                "date": c["commit_date"].isoformat() if pd.notna(c["commit_date"]) else None,
                "commit": str(r.first_bad_commit)[:8],
                "change": str(getattr(r, "kind", "regression")),
                "ratio": float(r.ratio),
                "params": str(r.param_key) or "(no parameters)",
            }
        )
    if not marks:
        return None
    xfield = "order:Q" if x == "commit_order" else "date:T"
    return (
        alt.Chart(alt.Data(values=marks))
        .mark_rule(strokeWidth=2, strokeDash=[5, 3])
        .encode(
            x=xfield,
            # stroke, not color: the series keep the colour scale (and one legend) to themselves
            stroke=alt.Stroke(
                "change:N",
                scale=alt.Scale(
                    domain=["regression", "improvement"],
                    range=[REGRESSION_COLOR, IMPROVEMENT_COLOR],
                ),
                title="detected",
            ),
            tooltip=[
                alt.Tooltip("change:N"),
                alt.Tooltip("commit:N", title="first bad commit"),
                alt.Tooltip("ratio:Q", format=".3f"),
                alt.Tooltip("params:N"),
            ],
        )
    )


def thread_scaling_chart(
    table: pd.DataFrame,
    *,
    workload: str | None = None,
    size: float | None = None,
    dtype: str | None = None,
    machine: Any = None,
) -> alt.TopLevelMixin:
    """Speedup over one thread against threads, one line per backend, ideal scaling dashed."""
    rows = select(table, workload=workload, dtype=dtype, machine=machine, status="ok")
    rows = latest(
        rows[(rows["kind"] == "time") & rows["threads"].notna() & rows["workload"].notna()]
    )
    if size is not None:
        rows = rows[rows["size"] == float(size)]
    if rows.empty:
        return empty_chart("no thread-scaling results (benchmarks with a `threads` parameter)")
    keys = ["machine", "workload", "backend", "device", "size", "dtype"]
    rows = (
        rows.sort_values("started_at")
        .groupby([*keys, "threads"], observed=True, dropna=False)
        .tail(1)
    )
    one = (
        rows.sort_values("threads")
        .groupby(keys, observed=True, dropna=False)["value"]
        .transform("first")
    )
    df = pd.DataFrame(
        {
            "threads": rows["threads"],
            "speedup": one / rows["value"],
            "framework": rows["backend"].astype(str),
            "device": rows["device"].astype(str),
            "series": rows["backend"].astype(str)
            + ":"
            + rows["device"].astype(str)
            + " · "
            + rows["workload"].astype(str)
            + " "
            + rows["size"].map(lambda s: f"{s:g}"),
            "machine": rows["machine"].astype(str),
        }
    )
    top = float(df["threads"].max())
    counts = sorted({int(t) for t in df["threads"]})
    x = alt.X(
        "threads:Q",
        scale=alt.Scale(type="log", base=2),
        axis=alt.Axis(values=counts, format="d"),  # the thread counts run, not 2.5 or 7.5
        title="threads (log2)",
    )
    y = alt.Y(
        "speedup:Q",
        scale=alt.Scale(type="log", base=2),
        axis=alt.Axis(values=counts, format="d"),
        title="speedup over 1 thread",
    )
    color = alt.Color("framework:N", scale=_framework_scale(df["framework"]), title="framework")
    machines = sorted(df["machine"].unique())

    def panel(machine_name: str) -> alt.LayerChart:
        ideal = alt.Chart(alt.Data(values=[{"t": 1.0, "s": 1.0}, {"t": top, "s": top}]))
        base = alt.Chart(_records(df[df["machine"] == machine_name]))
        title = "thread scaling" + (f" · {machine_name}" if len(machines) > 1 else "")
        return alt.layer(
            base.mark_line(point=True).encode(
                x=x,
                y=y,
                color=color,
                detail="series:N",
                tooltip=[
                    "series:N",
                    "machine:N",
                    "threads:Q",
                    alt.Tooltip("speedup:Q", format=".3g"),
                ],
            ),
            ideal.mark_line(color="#999999", strokeDash=[4, 4]).encode(x="t:Q", y="s:Q"),
        ).properties(title=title)

    # separate data per machine (the ideal line has its own), so concat rather than facet
    return panel(machines[0]) if len(machines) == 1 else alt.hconcat(*map(panel, machines))


def latest_values_chart(
    table: pd.DataFrame, *, benchmark: str, machine: Any = None
) -> alt.TopLevelMixin:
    """Any benchmark's newest value per parameter combination, one colour per machine, CI bars.

    The compare view for databases that are not tensorbench's.
    """
    rows = latest(select(table, benchmark=benchmark, machine=machine, status="ok"))
    if rows.empty:
        return empty_chart(f"no ok results for {benchmark}")
    unit = str(rows["unit"].iloc[0])
    factor, shown = _value_unit(unit, rows["value"])
    df = pd.DataFrame(
        {
            "params": rows["param_key"].astype(str).replace("", "(no parameters)"),
            "machine": rows["machine"].astype(str),
            "env": rows["env"].astype(str),
            "value": rows["value"] * factor,
            "low": rows["ci_low"].fillna(rows["value"]) * factor,
            "high": rows["ci_high"].fillna(rows["value"]) * factor,
            "commit": rows["commit"].astype(str).str[:8],
            "date": rows["commit_date"],
        }
    )
    base = alt.Chart(_records(df))
    log = bool((df["value"] > 0).all() and df["value"].max() / max(df["value"].min(), 1e-300) > 50)
    x = alt.X(
        "value:Q",
        title=f"{shown}" + (" (log)" if log else ""),
        scale=alt.Scale(type="log" if log else "linear"),
    )
    y = alt.Y("params:N", title=None, sort=None)
    offset = alt.YOffset("machine:N")
    color = alt.Color("machine:N", title="machine")
    return alt.layer(
        base.mark_point(filled=True, size=80).encode(
            x=x,
            y=y,
            yOffset=offset,
            color=color,
            tooltip=[
                "params:N",
                "machine:N",
                "env:N",
                alt.Tooltip("value:Q", format=".4g"),
                "commit:N",
                alt.Tooltip("date:T", format="%Y-%m-%d"),
            ],
        ),
        base.mark_rule().encode(x="low:Q", x2="high:Q", y=y, yOffset=offset, color=color),
    ).properties(title=f"{benchmark}: newest result")


def status_chart(table: pd.DataFrame, *, machine: Any = None) -> alt.TopLevelMixin:
    """Results per commit (oldest to newest), stacked by status: where runs failed or skipped."""
    rows = select(table, machine=machine)
    if rows.empty:
        return empty_chart("no results")
    counts = (
        rows.groupby(["commit_order", "status"], observed=True)
        .agg(n=("value", "size"), commit=("commit", "first"), date=("commit_date", "first"))
        .reset_index()
    )
    counts["commit"] = counts["commit"].astype(str).str[:8]
    counts["status"] = counts["status"].astype(str)
    return (
        alt.Chart(_records(counts))
        .mark_bar()
        .encode(
            x=alt.X(
                "commit_order:Q",
                title="commit (oldest → newest)",
                scale=alt.Scale(nice=False, padding=6),
                axis=alt.Axis(format="d", tickMinStep=1),  # commits are whole steps
            ),
            y=alt.Y("n:Q", title="results", stack=True),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(
                    domain=["ok", "skipped", "failed"], range=["#0072B2", "#BBBBBB", "#D55E00"]
                ),
                title="status",
            ),
            tooltip=["commit:N", alt.Tooltip("date:T", format="%Y-%m-%d"), "status:N", "n:Q"],
        )
        .properties(title="results per commit")
    )


def coverage_chart(table: pd.DataFrame, *, machine: Any = None) -> alt.TopLevelMixin:
    """One tick per commit measured, per machine and environment, over commit dates."""
    rows = select(table, machine=machine)
    if rows.empty:
        return empty_chart("no results")
    per = (
        rows.groupby(["machine", "env", "commit"], observed=True)
        .agg(
            date=("commit_date", "first"),
            n=("value", "size"),
            ok=("status", lambda s: int((s == "ok").sum())),
        )
        .reset_index()
    )
    per["where"] = per["machine"].astype(str) + " · " + per["env"].astype(str)
    per["commit"] = per["commit"].astype(str).str[:8]
    return (
        alt.Chart(_records(per[["where", "date", "commit", "n", "ok"]]))
        .mark_tick(thickness=2)
        .encode(
            x=alt.X("date:T", title="commit date"),
            y=alt.Y("where:N", title=None, axis=alt.Axis(labelLimit=500)),
            color=alt.value(FRAMEWORK_COLORS["numpy"]),
            tooltip=[
                "where:N",
                "commit:N",
                alt.Tooltip("date:T", format="%Y-%m-%d"),
                alt.Tooltip("n:Q", title="results"),
                alt.Tooltip("ok:Q", title="ok"),
            ],
        )
        .properties(title="commits measured per machine and environment")
    )


# ---------------------------------------------------------------------------------------------
# look and export

_THEMES: dict[str, dict[str, Any]] = {
    # font sizes: (label, title, legend, chart title); panel width, height
    "screen": {"fonts": (12, 13, 12, 15), "panel": (380, 260)},
    "talk": {"fonts": (20, 22, 20, 28), "panel": (560, 470)},
}


def _panels(chart: Any) -> tuple[int, int]:
    """(columns, rows) of side-by-side / stacked panels in ``chart``."""
    if isinstance(chart, alt.HConcatChart):
        return max(1, len(chart.hconcat)), 1
    if isinstance(chart, alt.VConcatChart):
        inner = [_panels(c) for c in chart.vconcat]
        return max(c for c, _ in inner), sum(r for _, r in inner)
    return 1, 1


def style(chart: alt.TopLevelMixin, theme: str = "screen") -> alt.TopLevelMixin:
    """``chart`` with the "screen" or "talk" look (talk: large fonts, about 16:9)."""
    if theme not in _THEMES:
        raise InputError(f"unknown theme {theme!r} (valid: {', '.join(_THEMES)})")
    label, title, legend, head = _THEMES[theme]["fonts"]
    width, height = _THEMES[theme]["panel"]
    cols, rows = _panels(chart)
    if theme == "talk":
        # Split 16:9 (1600 x 900 with legend and titles) between the panels.
        width = int((1400 - 60 * (cols - 1)) / cols)
        height = int((780 - 80 * (rows - 1)) / rows)
    else:
        # Fit a wide Streamlit page (about 1100 px for the plots) without a scroll bar.
        width = max(260, min(700, int((1050 - 60 * (cols - 1)) / cols)))
    return (
        chart.configure(font="Liberation Sans, Arial, Helvetica, sans-serif", padding=16)
        .configure_view(
            continuousWidth=width,
            continuousHeight=height,
            # talk: bands fill the 16:9 frame; screen: a fixed band per row or column
            discreteHeight=height if theme == "talk" else {"step": 22},
            discreteWidth=width if theme == "talk" else {"step": 90},
            stroke=None,
        )
        .configure_axis(
            labelFontSize=label, titleFontSize=title, labelLimit=400, gridColor="#e6e6e6"
        )
        .configure_legend(
            labelFontSize=legend,
            titleFontSize=legend,
            symbolSize=200 if theme == "talk" else 80,
            labelLimit=400,
        )
        .configure_header(labelFontSize=title, titleFontSize=title)
        .configure_title(fontSize=head, anchor="start")
        .configure_text(fontSize=legend)
    )


def chart_bytes(
    chart: alt.TopLevelMixin, fmt: str, theme: str = "talk", scale: float = 2.0
) -> bytes:
    """``chart`` rendered by vl-convert as SVG, PNG (``scale`` x pixels) or PDF bytes."""
    import vl_convert as vlc

    fmt = fmt.lower().lstrip(".")
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unsupported chart format {fmt!r} (valid: {', '.join(EXPORT_FORMATS)})")
    spec = style(chart, theme).to_json()
    if fmt == "svg":
        return vlc.vegalite_to_svg(spec).encode()
    if fmt == "png":
        return vlc.vegalite_to_png(spec, scale=scale)
    return vlc.vegalite_to_pdf(spec)


def save_chart(chart: alt.TopLevelMixin, path: str | Path, theme: str = "talk") -> Path:
    """Write ``chart`` to ``path``; the format comes from its extension (.svg, .png, .pdf)."""
    out = Path(path)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unsupported output {out.name!r}: use .svg, .png or .pdf")
    data = chart_bytes(chart, fmt, theme)
    out.write_bytes(data)
    return out


def sequence_label(values: Sequence[Any]) -> str:
    """'a, b and c' for messages."""
    items = [str(v) for v in values]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
