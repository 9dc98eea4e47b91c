"""The frameworks' own claims, measured: one row per claim and framework, with a verdict.

Each claim is a sentence someone made in a talk, the workloads that test it, and a rule that
turns their results into a verdict. Figures come from the newest ok result of each series
(`rates.latest`), per machine; their 95 % intervals from the results' own intervals (which
include the between-process spread), propagated to first order on the log scale with the
measurements taken as independent. Nothing here is written by hand: a claim without results is
"not measured", a claim that needs hardware this machine lacks says which.

- ``async``: share of the Python time hidden, 1 - (T_overlap - T_compute) / T_python, from
  ``async_python``, ``async_compute``, ``async_overlap`` at one size (`ASYNC_SIZE`).
- ``parallel``: the dependent chain's time over the independent set's,
  T_ops_chain / T_ops_independent, at one size (`PARALLEL_SIZE`), per mode.

Pure pandas and math; no framework import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .rates import latest

Z95 = 1.959963984540054

# Verdicts, in the words the page and the report use.
HOLDS = "holds"
PARTLY = "holds partly"
DOES_NOT_HOLD = "does not hold here"
INCONCLUSIVE = "inconclusive"
NOT_MEASURED = "not measured"
NEEDS = "needs {}"


@dataclass(frozen=True)
class Claim:
    key: str
    sentence: str
    who: str
    tested_by: str
    measure: str  # what the figure is
    holds_at: float  # the figure's lower bound at or above which the claim holds
    partly_at: float  # ... holds partly; an upper bound below this: does not hold here
    claimants: tuple[str, ...] = ()  # the frameworks the claim is about (others: baselines)
    needs: str = ""  # hardware this project cannot measure on a CPU-only machine


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "async",
        "Asynchronous execution hides the front end's cost: operators return at once and run "
        "in a back-end thread while Python goes on.",
        "MXNet / DeepNumPy (2019)",
        "async_python, async_compute, async_overlap",
        "share of the Python time hidden",
        holds_at=0.5,
        partly_at=0.2,
        claimants=("mxnet", "jax"),
    ),
    Claim(
        "parallel",
        "The engine runs independent operators at the same time (automatic parallelism).",
        "MXNet / DeepNumPy (2019)",
        "ops_independent vs ops_chain",
        "chain time / independent time",
        holds_at=1.3,
        partly_at=1.1,
        claimants=("mxnet", "jax"),
    ),
    Claim(
        "treelstm",
        "Graph batching makes Child-Sum TreeLSTM training fast.",
        "DGL (2019)",
        "treelstm (not built yet)",
        "speedup over plain PyTorch recursion",
        holds_at=2.0,
        partly_at=1.2,
        claimants=("dgl-torch", "dgl-mxnet"),
    ),
    Claim(
        "one_gpu",
        "One GPU trains the image model at about 230 images/s.",
        "MXNet / DeepNumPy (2019)",
        "an image model's training step on a GPU",
        "images/s",
        holds_at=230 * 0.9,
        partly_at=230 * 0.5,
        needs="a GPU",
    ),
    Claim(
        "scale_out",
        "256 GPUs train together at about 60,000 images/s (0.98 scaling efficiency per GPU).",
        "MXNet / DeepNumPy (2019)",
        "ddp_step (scale-out)",
        "images/s",
        holds_at=60_000 * 0.9,
        partly_at=60_000 * 0.5,
        needs="256 GPUs",
    ),
)
ASYNC_SIZE = 256  # the operators alone take about as long as the Python work (3-5 ms here)
PARALLEL_SIZE = 256  # products small enough that one alone does not fill the cores


def verdict(claim: Claim, low: float, high: float) -> str:
    """The verdict the interval [low, high] of ``claim``'s figure gives.

    "holds" where even the low end reaches ``holds_at``; "holds partly" where it reaches
    ``partly_at``; "does not hold here" where even the high end stays below ``partly_at``;
    otherwise the interval straddles the line and the verdict is "inconclusive".
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        return NOT_MEASURED
    if low >= claim.holds_at:
        return HOLDS
    if low >= claim.partly_at:
        return PARTLY
    if high < claim.partly_at:
        return DOES_NOT_HOLD
    return INCONCLUSIVE


def log_sd(value: float, low: float, high: float) -> float:
    """Standard deviation on the log scale that a 95 % interval [low, high] of ``value``
    implies (0 where the result has no interval: its figure's interval is then a point)."""
    if not (value > 0 and low > 0 and high > 0):
        return 0.0
    return (math.log(high) - math.log(low)) / (2 * Z95)


def hidden_share(
    python: tuple[float, float], compute: tuple[float, float], overlap: tuple[float, float]
) -> tuple[float, float, float]:
    """1 - (T_overlap - T_compute) / T_python with its 95 % interval.

    Each argument is (seconds, log-scale SD). First-order propagation: the figure is
    (Tp + Tc - To) / Tp, whose partial derivatives are (To - Tc) / Tp^2, 1 / Tp and -1 / Tp.
    """
    (tp, sp), (tc, sc), (to, so) = python, compute, overlap
    share = 1 - (to - tc) / tp
    sd = math.sqrt(((to - tc) / tp**2 * tp * sp) ** 2 + (tc * sc / tp) ** 2 + (to * so / tp) ** 2)
    return share, share - Z95 * sd, share + Z95 * sd


def ratio(num: tuple[float, float], den: tuple[float, float]) -> tuple[float, float, float]:
    """num / den with its 95 % interval, from (seconds, log-scale SD) each."""
    r = num[0] / den[0]
    sd = math.hypot(num[1], den[1])
    return r, r * math.exp(-Z95 * sd), r * math.exp(Z95 * sd)


COLUMNS = [
    "claim",
    "sentence",
    "who",
    "tested_by",
    "machine",
    "framework",
    "role",
    "mode",
    "size",
    "measure",
    "value",
    "low",
    "high",
    "verdict",
    "note",
]


def _points(table: pd.DataFrame, workloads: tuple[str, ...]) -> pd.DataFrame:
    """Newest ok time results of ``workloads`` (float32, CPU and GPU), one per series."""
    if table.empty:
        return table
    rows = table[table["workload"].isin(workloads) & (table["kind"] == "time")]
    rows = latest(rows)
    return rows[rows["dtype"] == "float32"] if len(rows) else rows


def _figure(row: pd.Series) -> tuple[float, float]:
    value = float(row["value"])
    return value, log_sd(value, float(row["ci_low"]), float(row["ci_high"]))


def _size(sizes: pd.Series, wanted: int) -> int | None:
    """``wanted`` where measured, else the largest size measured (None: none)."""
    have = sorted({int(s) for s in pd.to_numeric(sizes, errors="coerce").dropna()})
    return wanted if wanted in have else (have[-1] if have else None)


def _role(claim: Claim, backend: str) -> str:
    return "claimant" if backend in claim.claimants else "baseline"


def _async_rows(claim: Claim, table: pd.DataFrame) -> list[dict]:
    pts = _points(table, ("async_python", "async_compute", "async_overlap"))
    out: list[dict] = []
    if pts.empty:
        return out
    for (machine, backend, device, mode), group in pts.groupby(
        ["machine", "backend", "device", "mode"], observed=True, dropna=False
    ):
        size = _size(group["size"], ASYNC_SIZE)
        at = group[group["size"] == size].set_index("workload")
        if not {"async_python", "async_compute", "async_overlap"} <= set(at.index):
            continue
        share, low, high = hidden_share(
            _figure(at.loc["async_python"]),
            _figure(at.loc["async_compute"]),
            _figure(at.loc["async_overlap"]),
        )
        tp, tc = at.loc["async_python", "value"], at.loc["async_compute", "value"]
        note = f"Python {tp * 1e3:.2f} ms, operators {tc * 1e3:.2f} ms alone"
        if tc < tp:  # perfect overlap then hides only T_compute of T_python
            note += f"; at most {tc / tp:.0%} can be hidden (operators shorter)"
        out.append(_row(claim, machine, backend, device, mode, size, share, low, high, note))
    return out


def _parallel_rows(claim: Claim, table: pd.DataFrame) -> list[dict]:
    pts = _points(table, ("ops_independent", "ops_chain"))
    out: list[dict] = []
    if pts.empty:
        return out
    for (machine, backend, device, mode), group in pts.groupby(
        ["machine", "backend", "device", "mode"], observed=True, dropna=False
    ):
        size = _size(group["size"], PARALLEL_SIZE)
        at = group[group["size"] == size].set_index("workload")
        if not {"ops_independent", "ops_chain"} <= set(at.index):
            continue
        r, low, high = ratio(_figure(at.loc["ops_chain"]), _figure(at.loc["ops_independent"]))
        ti = at.loc["ops_independent", "value"]
        note = f"independent set {ti * 1e3:.3f} ms"
        others = _other_sizes(group, size, "ops_chain", "ops_independent")
        if others:
            note += f"; other sizes: {others}"
        out.append(_row(claim, machine, backend, device, mode, size, r, low, high, note))
    return out


def _other_sizes(group: pd.DataFrame, size: int | None, num: str, den: str) -> str:
    """``num / den`` at the sizes other than ``size``, e.g. ``n=64: 1.84, n=1024: 0.98``: the
    verdict rests on one declared size, and the others are shown, not chosen from."""
    parts = []
    for other, rows in group.groupby("size", sort=True):
        at = rows.set_index("workload")["value"]
        if other != size and {num, den} <= set(at.index):
            parts.append(f"n={other}: {at[num] / at[den]:.2f}")
    return ", ".join(parts)


def _row(claim, machine, backend, device, mode, size, value, low, high, note) -> dict:
    return {
        "claim": claim.key,
        "sentence": claim.sentence,
        "who": claim.who,
        "tested_by": claim.tested_by,
        "machine": machine,
        "framework": f"{backend}:{device}",
        "role": _role(claim, str(backend)),
        "mode": mode,
        "size": size,
        "measure": claim.measure,
        "value": value,
        "low": low,
        "high": high,
        "verdict": verdict(claim, low, high),
        "note": note,
    }


def _unmeasured(claim: Claim) -> dict:
    verdict_text = NEEDS.format(claim.needs) if claim.needs else NOT_MEASURED
    note = (
        f"this machine has no {claim.needs.split()[-1]}"
        if claim.needs
        else "no results of its workloads here"
    )
    return {
        **{c: None for c in COLUMNS},
        "claim": claim.key,
        "sentence": claim.sentence,
        "who": claim.who,
        "tested_by": claim.tested_by,
        "measure": claim.measure,
        "value": math.nan,
        "low": math.nan,
        "high": math.nan,
        "verdict": verdict_text,
        "note": note,
    }


_MEASURED = {"async": _async_rows, "parallel": _parallel_rows}


def claims_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per claim and (machine, framework, mode) that measured it, claimants first;
    a claim with no results (or needing hardware this project lacks) has one row saying so."""
    rows: list[dict] = []
    for claim in CLAIMS:
        measured = _MEASURED.get(claim.key)
        found = measured(claim, table) if measured and not table.empty else []
        found.sort(key=lambda r: (r["machine"], r["role"] != "claimant", r["framework"]))
        rows.extend(found or [_unmeasured(claim)])
    return pd.DataFrame(rows, columns=COLUMNS)


def summary(claims: pd.DataFrame) -> pd.DataFrame:
    """One row per claim: its verdict from the claimants' rows (the best-supported one: holds
    before holds partly before inconclusive before does not hold), with the figure it rests on."""
    order = [HOLDS, PARTLY, INCONCLUSIVE, DOES_NOT_HOLD]
    out = []
    for _, rows in claims.groupby("claim", sort=False):
        claimants = rows[rows["role"] == "claimant"]
        pick = claimants if len(claimants) else rows
        ranked = pick.assign(
            rank=pick["verdict"].map(lambda v: order.index(v) if v in order else 9)
        )
        out.append(ranked.sort_values("rank", kind="stable").iloc[0].drop("rank"))
    return pd.DataFrame(out, columns=COLUMNS).reset_index(drop=True)
