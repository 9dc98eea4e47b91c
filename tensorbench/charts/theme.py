"""The look shared by every chart: framework colours, device dashes, units, themes.

Each framework keeps one colour everywhere (Okabe-Ito, safe for colour-blind readers); the
device is the line dash (CPU solid, GPU dashed). :func:`style` applies the "screen" or the
"talk" look (large fonts, 16:9) at the top level, where Vega-Lite wants its config.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
from altair.utils.schemapi import debug_mode

from ..errors import InputError

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
    "paddle": "#332288",  # indigo (Tol's: Okabe-Ito's eight are taken)
}

_OTHER_COLORS = ("#882255", "#44AA99", "#DDCC77")  # Tol's, after Okabe-Ito (indigo is paddle's)

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
    "paddle": ("paddlepaddle", "paddlepaddle-gpu"),
}

REGRESSION_COLOR = "#D55E00"

IMPROVEMENT_COLOR = "#009E73"


def time_unit(seconds: pd.Series | np.ndarray) -> tuple[float, str]:
    """A factor and unit that put typical times between 1 and 1000."""
    values = np.asarray(seconds, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    typical = float(np.median(values)) if len(values) else 1.0
    for factor, unit in ((1.0, "s"), (1e3, "ms"), (1e6, "µs"), (1e9, "ns")):
        if typical * factor >= 1:
            return factor, unit
    return 1e9, "ns"


def value_unit(unit: str, values: pd.Series) -> tuple[float, str]:
    if unit == "seconds":
        return time_unit(values)
    if unit == "bytes":
        typical = float(np.nanmedian(values)) if len(values) else 1.0
        for factor, name in ((2**-30, "GiB"), (2**-20, "MiB"), (2**-10, "KiB")):
            if typical * factor >= 1:
                return factor, name
        return 1.0, "bytes"
    return 1.0, unit


def framework_scale(frameworks: Iterable[str]) -> alt.Scale:
    present = sorted({str(f) for f in frameworks if isinstance(f, str)})
    known = [f for f in FRAMEWORK_COLORS if f in present]
    others = [f for f in present if f not in FRAMEWORK_COLORS]
    domain = known + others
    colors = [FRAMEWORK_COLORS[f] for f in known]
    colors += [_OTHER_COLORS[i % len(_OTHER_COLORS)] for i in range(len(others))]
    return alt.Scale(domain=domain, range=colors)


def device_dash(devices: Iterable[str]) -> alt.Scale:
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


def device_shape(devices: Iterable[str]) -> alt.Shape:
    present = sorted({str(d) for d in devices}, key=lambda d: (d != "cpu", d))
    shapes = ["circle" if d == "cpu" else "triangle-up" for d in present]
    return alt.Shape(
        "device:N",
        scale=alt.Scale(domain=present, range=shapes),
        title="device",
        legend=alt.Legend() if len(present) > 1 else None,
    )


def records(df: pd.DataFrame) -> alt.Data:
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
    values = [{c: out[c][i] for c in out} for i in range(n)]
    # plain JSON values, valid by construction: validating thousands of rows takes seconds
    with debug_mode(False):
        return alt.Data(values=values)


def empty_chart(message: str) -> alt.Chart:
    """A chart that says why there is nothing to draw (so a page never shows a blank)."""
    return (
        alt.Chart(alt.Data(values=[{"message": message}]))
        .mark_text(size=16, color="#555555")
        .encode(text="message:N")
        .properties(width=500, height=80)
    )


def empty_chart_message(chart: Any) -> str | None:
    """The message of a chart :func:`empty_chart` made, else None (a chart with something)."""
    values = getattr(getattr(chart, "data", None), "values", None)
    if isinstance(values, list) and len(values) == 1 and isinstance(values[0], dict):
        if set(values[0]) == {"message"}:
            return str(values[0]["message"])
    return None


def versions(envs: pd.DataFrame | None, machines: Mapping[str, Mapping] | None) -> dict:
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


def series_label(df: pd.DataFrame, with_machine: bool) -> pd.Series:
    """``backend:device · mode`` (and the machine first where several are shown)."""
    label = df["backend"].astype(str) + ":" + df["device"].astype(str)
    if "mode" in df.columns:  # eager | compiled, wherever a framework is named
        mode = df["mode"].astype(object)
        label = label.where(mode.isna(), label + " · " + mode.astype(str))
    if with_machine:
        label = df["machine"].astype(str) + " · " + label
    return label


def time_rate_columns(rows: pd.DataFrame, factor: float) -> dict[str, Any]:
    """Framework, device, machine, time (scaled by ``factor``) with its CI, and the rate with
    its CI: the columns the compare and scaling charts share."""
    return {
        "framework": rows["backend"].astype(str),
        "mode": rows["mode"].astype(str) if "mode" in rows.columns else "",
        "device": rows["device"].astype(str),
        "machine": rows["machine"].astype(str),
        "time": rows["value"] * factor,
        "time_low": rows["ci_low"].fillna(rows["value"]) * factor,
        "time_high": rows["ci_high"].fillna(rows["value"]) * factor,
        "rate": rows["rate"],
        "rate_low": rows["rate_low"],
        "rate_high": rows["rate_high"],
    }


def ci_band(
    base: alt.Chart, x: alt.X, low: str, high: str, color: alt.Color, dash: Any
) -> alt.Chart:
    return base.mark_area(opacity=0.18).encode(
        x=x, y=f"{low}:Q", y2=f"{high}:Q", color=color, detail=dash
    )


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
