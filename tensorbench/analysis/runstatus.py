"""What ran and what did not: results per commit by status, and why points were skipped.

A results database is mostly skipped points (the grid has every framework, device and size;
a machine runs what it can and the suite selects), which reads as failure unless the reasons
are next to the counts. The reasons are those the result files record (`reason`); a skipped
point without one is a grid point the run did not select, as a rule: tensorbench records
"not in suite" points without a reason, and asv alone records none.
"""

from __future__ import annotations

import pandas as pd

NO_REASON = "no reason recorded (grid points the run did not select)"
STATUSES = ("ok", "failed", "skipped")
PER_COMMIT_COLUMNS = ["commit_order", "commit", "date", *STATUSES, "reasons"]


def skip_reason_labels(rows: pd.DataFrame) -> pd.Series:
    """The reason of each skipped row of ``rows``, :data:`NO_REASON` where none is recorded."""
    skipped = rows[rows["status"] == "skipped"]
    return skipped["reason"].astype(object).where(skipped["reason"].notna(), NO_REASON).astype(str)


def _ranked(reasons: pd.Series) -> pd.Series:
    """Count per reason, most frequent first, ties in name order (the same on every run)."""
    counts = reasons.value_counts()
    order = sorted(counts.index, key=lambda r: (-int(counts[r]), r))
    return counts.reindex(order).astype(int)


def _others(n: int) -> str:
    return f"{n} other reason" + ("s" if n > 1 else "")


def skip_reasons(table: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    """The ``top`` most frequent skip reasons in ``table``, most frequent first (ties by name),
    with the count and share of skipped results each explains; the rest in one last row
    ("N other reasons"). Columns: reason, n, share. Empty when nothing was skipped."""
    reasons = skip_reason_labels(table)
    if reasons.empty:
        return pd.DataFrame({"reason": [], "n": [], "share": []})
    counts = _ranked(reasons)
    shown, rest = counts.head(top), counts.iloc[top:]
    if len(rest):
        shown = pd.concat([shown, pd.Series({_others(len(rest)): int(rest.sum())})])
    out = shown.rename_axis("reason").reset_index(name="n")
    out["share"] = out["n"] / len(reasons)
    return out


def _top_reasons_text(reasons: pd.Series, top: int) -> str:
    counts = _ranked(reasons)
    lines = [f"{n:,}: {reason}" for reason, n in counts.head(top).items()]
    if len(counts) > top:
        lines.append(f"{int(counts.iloc[top:].sum()):,}: {_others(len(counts) - top)}")
    return "; ".join(lines)


def status_per_commit(table: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """One row per commit, oldest first: how many results were ok, failed and skipped, and
    ``reasons``, that commit's ``top`` skip reasons with their counts ("1,204: reason; ...").

    Columns: :data:`PER_COMMIT_COLUMNS` (``date`` is the commit date).
    """
    if table.empty:
        return pd.DataFrame(columns=PER_COMMIT_COLUMNS)
    status = table["status"].astype(str)
    counts = pd.crosstab(table["commit_order"], status).reindex(columns=STATUSES, fill_value=0)
    first = table.groupby("commit_order", observed=True).agg(
        commit=("commit", "first"), date=("commit_date", "first")
    )
    out = first.join(counts).reset_index()
    skipped = table[table["status"] == "skipped"]
    labels = skip_reason_labels(skipped)
    orders = skipped["commit_order"].to_numpy()  # by position: the index may repeat
    texts = labels.groupby(orders).agg(lambda r: _top_reasons_text(r, top))
    out["reasons"] = [str(texts.get(order, "")) for order in out["commit_order"]]
    out["commit"] = out["commit"].astype(str)
    for col in STATUSES:
        out[col] = out[col].astype(int)
    return out[PER_COMMIT_COLUMNS].sort_values("commit_order", kind="stable", ignore_index=True)
