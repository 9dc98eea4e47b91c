"""The ranking step of the regression pipeline (`tensorbench.analysis.regressions`, steps 8-9
of its method): agreement across environments promotes or demotes each change, the gate is
decided, and the rows are ordered: open regressions first, then by kind, agreement
(corroborated, unchecked, contradicted), how many other environments show it and effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .perseries import KINDS

# A demoted (contradicted) regression still fails the gate when the near end of its interval
# is at least this many times its series' minimum effect (log scale).
LARGE_FACTOR = 2.0
AGREEMENT_RANK = {"corroborated": 0, "unchecked": 1, "contradicted": 2}


def rank(rows: pd.DataFrame, promotable: np.ndarray, wanted: set[str]) -> pd.DataFrame:
    """``rows`` (with the corroboration columns) promoted, demoted, gated, reduced to the
    ``wanted`` kinds and sorted; ``promotable`` marks the rows held back by the noise floor
    alone."""
    out = apply_agreement(rows, promotable, wanted)
    size = np.abs(np.log(out["ratio"].where(out["ratio"] > 0)))
    rank_of = {k: i for i, k in enumerate(KINDS)}
    out = out.assign(
        _pass=~out["fails_gate"].astype(bool),
        _kind=out["kind"].map(rank_of),
        _agree=out["agreement"].map(AGREEMENT_RANK),
        _corr=-out["corroboration"],
        _eff=-size,
    )
    out = out.sort_values(["_pass", "_kind", "_agree", "_corr", "_eff"], kind="stable")
    out = out.drop(columns=["_pass", "_kind", "_agree", "_corr", "_eff"])
    return out.reset_index(drop=True)


def apply_agreement(out: pd.DataFrame, promotable: np.ndarray, wanted: set[str]) -> pd.DataFrame:
    """Promotion and demotion by ``agreement``, the gate, then only the ``wanted`` kinds (rows
    made only to be promoted go unless they were).

    Corroborated changes held back only by the noise floor become regressions or
    improvements; a contradicted regression fails the gate only when large (`LARGE_FACTOR`);
    an acknowledged or resolved one never does.
    """
    up = promotable & out["agreement"].eq("corroborated").to_numpy()
    out.loc[up, "kind"] = np.where(
        out.loc[up, "direction"].eq("worse"), "regression", "improvement"
    )
    ratio = out["ratio"].astype(float).where(out["ratio"].astype(float) > 0)
    lo = np.log(out["ratio_low"].astype(float).where(out["ratio_low"].astype(float) > 0))
    hi = np.log(out["ratio_high"].astype(float).where(out["ratio_high"].astype(float) > 0))
    # the interval's end nearer to no change; 0 when it straddles it
    near = np.where(ratio >= 1, lo.clip(lower=0), (-hi).clip(lower=0))
    floor = np.log1p(out["min_effect"].astype(float))
    large = np.nan_to_num(near) >= LARGE_FACTOR * floor
    held = out["agreement"].eq("contradicted").to_numpy() & ~large
    out["fails_gate"] = (
        out["kind"].eq("regression")
        & ~out["acknowledged"].astype(bool)
        & ~out["resolved"].astype(bool)
        & ~held
    )
    return out[out["kind"].isin(wanted)]
