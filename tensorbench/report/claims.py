"""The report's "Claims" section: what the frameworks' authors claimed, measured here, each
claim with its figure and the verdict its rule gives (`tensorbench.analysis.claims`)."""

from __future__ import annotations

import math

import pandas as pd

from ..analysis.claims import CLAIMS, claims_table, summary
from .content import Paragraph, Section, Table


def _figure(value: float, low: float, high: float) -> str:
    if not math.isfinite(value):
        return "—"
    return f"{value:.2f} [{low:.2f}, {high:.2f}]"


def claims_section(table: pd.DataFrame) -> Section | None:
    """Every claim, measured or not (a claim needing hardware this machine lacks says so);
    None where the results hold no claim figure at all (most databases), as for releases."""
    claims = claims_table(table)
    if claims["framework"].isna().all():
        return None
    section = Section("claims", "The frameworks' claims")
    section.add(
        Paragraph(
            "Claims from the frameworks' talks, each tested by a workload of this suite. A "
            "figure is the newest result's estimate with its 99 % interval; the verdict is the "
            "claim's rule applied to that interval: 'holds' where even its low end reaches the "
            "claim's line, 'holds partly' where it reaches the lower line, 'does not hold here' "
            "where even its high end stays below that, 'inconclusive' otherwise."
        )
    )
    top = summary(claims)
    section.add(
        Table(
            ["claim", "who", "tested by", "measure", "figure", "framework", "verdict"],
            [
                [
                    r.sentence,
                    r.who,
                    r.tested_by,
                    r.measure,
                    _figure(r.value, r.low, r.high),
                    r.framework or "—",
                    r.verdict,
                ]
                for r in top.itertuples()
            ],
            caption="One row per claim: the verdict of its best-supported claimant",
        )
    )
    lines = {c.key: c for c in CLAIMS}
    for key, rows in claims.groupby("claim", sort=False):
        if rows["framework"].isna().all():
            continue
        claim = lines[key]
        section.add(
            Table(
                ["machine", "framework", "role", "mode", "size", "figure", "verdict", "note"],
                [
                    [
                        *(str(v) for v in (r.machine, r.framework, r.role, r.mode, r.size)),
                        _figure(r.value, r.low, r.high),
                        r.verdict,
                        r.note,
                    ]
                    for r in rows.itertuples()
                ],
                caption=(
                    f"{claim.sentence} ({claim.measure}; holds from {claim.holds_at:g}, partly "
                    f"from {claim.partly_at:g})"
                ),
            )
        )
    return section
