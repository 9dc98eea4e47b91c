"""Which framework for which workload: the fastest per workload and device, and how sure.

For every (machine, workload, device) the comparison point is the parameter combination
(size, dtype, graph) that most frameworks measured (ties: float32, then the largest size), and
each framework's newest result there. The winner's margin is the runner-up's time over the
winner's; asv's 99 % confidence intervals (``stats_ci_99_a/b``) decide whether the two are
told apart. Caveats are what the data itself says: how the run was made, busy or noisy
results, backends that were skipped, and why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..analysis.rates import backend_label

NOISY_CI = 0.5  # a 99 % interval wider than half the median marks a result noisy


@dataclass(frozen=True)
class Verdict:
    """One row of the summary: the winner at one comparison point, with its caveats."""

    machine: str
    workload: str
    device: str
    point: str  # the parameters compared, without the backend
    fastest: str
    time: float
    runner_up: str | None
    margin: float  # runner-up time / fastest time; NaN without a runner-up
    confidence: str
    caveats: tuple[str, ...] = field(default_factory=tuple)
    commits: tuple[str, ...] = field(default_factory=tuple)
    benchmark: str = ""


def _point(params: object) -> str:
    if not isinstance(params, dict):
        return ""
    return ", ".join(f"{k}={v}" for k, v in params.items() if k != "backend")


def _rank(group: pd.DataFrame) -> tuple[int, int, float]:
    dtype = str(group["dtype"].iloc[0])
    size = group["size"].iloc[0]
    return (group["label"].nunique(), int(dtype == "float32"), -math.inf if pd.isna(size) else size)


def _ci(row: pd.Series) -> tuple[float, float]:
    low, high = row["ci_low"], row["ci_high"]
    if pd.isna(low) or pd.isna(high):
        return math.nan, math.nan
    return float(low), float(high)


def _confidence(best: pd.Series, second: pd.Series | None) -> str:
    if second is None:
        return "only one framework measured"
    b_low, b_high = _ci(best)
    s_low, s_high = _ci(second)
    if math.isnan(b_high) or math.isnan(s_low):
        return "no confidence interval recorded"
    if b_high < s_low:
        return "99 % intervals separate"
    return "99 % intervals overlap: not told apart"


def _short(reason: str, limit: int = 70) -> str:
    reason = " ".join(str(reason).split())
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"


def _mode(rows: pd.DataFrame, runs: pd.DataFrame) -> list[str]:
    """How the compared results were taken: asv's environment kind, suites, harness."""
    keys = set(
        zip(
            rows["machine"].astype(str),
            rows["env"].astype(str),
            rows["commit"].astype(str),
            strict=True,
        )
    )
    mine = runs[
        [
            (m, e, c) in keys
            for m, e, c in zip(runs["machine"], runs["env"], runs["commit"], strict=True)
        ]
    ]
    envs = sorted(
        {"existing env" if e.startswith("existing") else "asv-managed env" for _, e, _ in keys}
    )
    out = [f"mode: {' + '.join(envs)}"]
    if len(mine):
        suites = sorted({s for ss in mine["suites"] for s in ss})
        if suites:
            out[0] += f", suite {'/'.join(suites)}"
        ours = mine[mine["tensorbench"]]
        if len(ours) and ours["harness"].isna().any():
            out.append("harness 1 (no harness record)")
        for reason in sorted({str(b) for b in mine["busy"].dropna()}):
            out.append(f"busy: {_short(reason)}")
        if mine["dirty_tree"].any():
            out.append("measured on a dirty tree")
    return out


def which_framework(table: pd.DataFrame, runs: pd.DataFrame) -> list[Verdict]:
    """The summary rows for ``table`` (a results table); empty without framework results.

    ``runs`` is :func:`tensorbench.report.facts.run_records` of the same database.
    """
    time_rows = table[
        (table["kind"] == "time") & table["workload"].notna() & table["threads"].isna()
    ]
    if time_rows.empty:
        return []
    time_rows = time_rows.assign(
        label=backend_label(time_rows), point=[_point(p) for p in time_rows["params"]]
    )
    ok = time_rows[(time_rows["status"] == "ok") & time_rows["value"].notna()]
    ok = ok.sort_values(["commit_order", "started_at"], kind="stable")
    # newest result per framework at each point, whichever environment measured it
    ok = ok.groupby(["machine", "workload", "device", "point", "label"], observed=True).tail(1)
    skipped = time_rows[(time_rows["status"] == "skipped") & time_rows["reason"].notna()]
    verdicts: list[Verdict] = []
    for (machine, workload, device), rows in ok.groupby(
        ["machine", "workload", "device"], observed=True, sort=True
    ):
        points = [g for _, g in rows.groupby("point", sort=True)]
        chosen = max(points, key=_rank)
        chosen = chosen.sort_values(["value", "label"], kind="stable")
        best = chosen.iloc[0]
        second = chosen.iloc[1] if len(chosen) > 1 else None
        caveats = _mode(chosen, runs)
        for row in (best, second):
            if row is None:
                continue
            low, high = _ci(row)
            if not math.isnan(low) and (high - low) > NOISY_CI * float(row["value"]):
                caveats.append(
                    f"noisy: {row['label']} (99 % interval ±{(high - low) / 2 / row['value']:.0%})"
                )
        point = str(best["point"])
        missing = skipped[
            (skipped["machine"] == machine)
            & (skipped["workload"] == workload)
            & (skipped["device"] == device)
            & (skipped["params"].map(_point) == point)
            & ~skipped["label"].isin(set(chosen["label"]))
        ]
        for label, group in missing.groupby("label", observed=True, sort=True):
            reason = sorted({str(r) for r in group["reason"]})[0]
            caveats.append(f"skipped {label}: {_short(reason, 60)}")
        margin = float(second["value"]) / float(best["value"]) if second is not None else np.nan
        verdicts.append(
            Verdict(
                machine=str(machine),
                workload=str(workload),
                device=str(device),
                point=point,
                fastest=str(best["label"]),
                time=float(best["value"]),
                runner_up=str(second["label"]) if second is not None else None,
                margin=margin,
                confidence=_confidence(best, second),
                caveats=tuple(caveats),
                commits=tuple(sorted({str(c)[:8] for c in chosen["commit"]})),
                benchmark=str(best["benchmark"]),
            )
        )
    return verdicts
