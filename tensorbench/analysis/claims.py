"""The frameworks' own claims, measured: one row per claim and framework, with a verdict.

Each claim is a sentence someone made in a talk, the workloads that test it, and a rule that
turns its figure into a verdict. A figure is a ``track_`` result whose parts were timed in one
process, interleaved (`tensorbench.asv.claimfigures`: timed in separate processes, each part
carried its own process's luck), with the 99 % interval of its rounds; the newest result of each
series (`rates.latest`), per machine and environment. Nothing here is written by hand: a claim
without results is "not measured", one that needs hardware this machine lacks says which.

- ``async``: share of the Python time hidden, 1 - (T_overlap - T_compute) / T_python
  (``track_async_hidden``) at `ASYNC_SIZE`.
- ``parallel``: T_ops_chain / T_ops_independent (``track_parallel_ratio``) at `PARALLEL_SIZE`,
  per mode.
- ``treelstm``: plain recursion's TreeLSTM training step time over the backend's, the
  recursion in the backend's own framework (PyTorch for DGL-torch, MXNet for DGL-MXNet;
  ``track_treelstm_batching``) at `TREELSTM_SIZE` trees per batch.

The figure at the declared size decides; the other sizes are shown beside it, never chosen from.
Pure pandas and math; no framework import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .rates import latest

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
        "treelstm_step: DGL's batched graph vs plain recursion in the same framework",
        "speedup over plain recursion (same framework)",
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
TREELSTM_SIZE = 32  # trees per batch (DGL's tutorial trains SST in batches of 20-25)


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


COLUMNS = [
    "claim",
    "sentence",
    "who",
    "tested_by",
    "machine",
    "env",
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


# claim -> (the track_ method of its figure, the declared size, the parts timed beside it)
FIGURES = {
    "async": ("track_async_hidden", ASYNC_SIZE, ("async_python", "async_compute")),
    "parallel": ("track_parallel_ratio", PARALLEL_SIZE, ()),
    "treelstm": ("track_treelstm_batching", TREELSTM_SIZE, ("treelstm_step",)),
}


def _size(sizes: pd.Series, wanted: int) -> int | None:
    """``wanted`` where measured, else the largest size measured (None: none)."""
    have = sorted({int(s) for s in pd.to_numeric(sizes, errors="coerce").dropna()})
    return wanted if wanted in have else (have[-1] if have else None)


def _role(claim: Claim, backend: str) -> str:
    return "claimant" if backend in claim.claimants else "baseline"


def _figure_rows(claim: Claim, table: pd.DataFrame) -> list[dict]:
    method, wanted, parts = FIGURES[claim.key]
    ours = table["benchmark"].astype(str).str.endswith("." + method)
    rows = latest(table[ours & (table["dtype"] == "float32")])
    if rows.empty:
        return []
    times = latest(table[table["workload"].isin(parts) & (table["kind"] == "time")])
    out: list[dict] = []
    keys = ["machine", "env", "backend", "device", "mode"]
    for (machine, env, backend, device, mode), group in rows.groupby(
        keys, observed=True, dropna=False
    ):
        size = _size(group["size"], wanted)
        row = group[group["size"] == size].iloc[-1]
        value, low, high = float(row["value"]), float(row["ci_low"]), float(row["ci_high"])
        notes = []
        if not (math.isfinite(low) and math.isfinite(high)):
            low = high = value  # no interval recorded: the verdict rests on the estimate alone
            notes.append("no interval recorded")
        at = times[
            (times["machine"] == machine)
            & (times["env"] == env)
            & (times["backend"] == backend)
            & (times["device"] == device)
            & (times["size"] == size)
        ]
        for part in parts:
            t = at.loc[at["workload"] == part, "value"]
            if len(t):
                notes.append(
                    f"{part.removeprefix('async_')} alone {float(t.iloc[-1]) * 1e3:.2f} ms"
                )
        others = [
            f"n={int(s)}: {float(v):.2f}"
            for s, v in zip(group["size"], group["value"], strict=True)
            if s != size
        ]
        if others:
            notes.append("other sizes: " + ", ".join(sorted(others)))
        out.append(_row(claim, machine, env, backend, device, mode, size, value, low, high, notes))
    return out


def _row(claim, machine, env, backend, device, mode, size, value, low, high, notes) -> dict:
    return {
        "claim": claim.key,
        "sentence": claim.sentence,
        "who": claim.who,
        "tested_by": claim.tested_by,
        "machine": machine,
        "env": env,
        "framework": f"{backend}:{device}",
        "role": _role(claim, str(backend)),
        "mode": mode,
        "size": size,
        "measure": claim.measure,
        "value": value,
        "low": low,
        "high": high,
        "verdict": verdict(claim, low, high),
        "note": "; ".join(notes),
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


_MEASURED = {key: _figure_rows for key in FIGURES}


def claims_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per claim and (machine, environment, framework, mode) that measured it,
    claimants first (NumPy and torch run in both environments, at different versions);
    a claim with no results (or needing hardware this project lacks) has one row saying so."""
    rows: list[dict] = []
    for claim in CLAIMS:
        measured = _MEASURED.get(claim.key)
        found = measured(claim, table) if measured and not table.empty else []
        found.sort(key=lambda r: (r["machine"], r["role"] != "claimant", r["framework"], r["env"]))
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
