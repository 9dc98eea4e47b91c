"""The report's "Framework releases" section: each framework's releases side by side and the
release-to-release changes, largest first, from the results of `run --releases`."""

from __future__ import annotations

import math

import pandas as pd

from ..analysis.releases import (
    FRAMEWORKS,
    env_versions,
    noise_floor,
    release_axis,
    release_changes,
    sort_versions,
)
from ..analysis.results import ResultsDB
from ..charts.releases import releases_chart
from .content import Figure, Paragraph, Section, Table


def releases_section(db: ResultsDB, table: pd.DataFrame, threshold: float) -> Section | None:
    """None where no framework has results at two releases (most databases)."""
    versions = env_versions(db.envs)
    axes = {fw: release_axis(table, versions, fw) for fw in FRAMEWORKS}
    axes = {fw: a for fw, a in axes.items() if a["release"].nunique() >= 2}
    if not axes:
        return None
    section = Section("releases", "Framework releases")
    section.add(
        Paragraph(
            "One environment per release of a framework, all at one commit (`tensorbench run "
            "--releases`). A change is the ratio of one point's time at a release to its time "
            "at the release before, with the two values' 99 % intervals combined; listed when "
            f"it is beyond {threshold:.0%} and its interval excludes no change, largest first. "
            "'Also changed' names what else differed between the two environments."
        )
    )
    floors = noise_floor(table, versions)
    for (machine, commit), (floor, n) in sorted(floors.items()):
        section.add(
            Paragraph(
                f"{machine}, commit {commit[:8]}: the environments ran one after another, "
                f"unpaired; points no release step touched moved by up to {math.expm1(floor):.0%} "
                f"(95th percentile of {n} such moves). A step smaller than that cannot be told "
                "from the host's noise here and is marked 'within noise'; the paired comparison "
                "(`compare --paired --python-a A --python-b B`) can resolve it."
            )
        )
    for fw, axis in axes.items():
        changes = release_changes(table, versions, fw, threshold, floors)
        releases = ", ".join(sort_versions(set(axis["release"])))
        section.add(
            Figure(
                f"releases-{fw}",
                f"{fw}: time per call at each release",
                releases_chart(axis, fw),
                f"{fw} {releases}; commit {', '.join(sorted({c[:8] for c in axis['commit']}))}",
            )
        )
        if not changes:
            section.add(Paragraph(f"{fw}: no change beyond {threshold:.0%} between releases."))
            continue
        section.add(
            Table(
                ["step", "point", "machine", "change", "interval", "vs noise", "also changed"],
                [
                    [
                        f"{fw} {c.before} → {c.after}",
                        c.label,
                        c.machine,
                        f"{(c.ratio - 1) * 100:+.0f} %",
                        f"[{(c.low - 1) * 100:+.0f}, {(c.high - 1) * 100:+.0f}] %",
                        "beyond" if c.beyond_floor else "within noise",
                        ", ".join(c.also_changed),
                    ]
                    for c in changes
                ],
                caption=f"{fw}: changes between consecutive releases, largest first",
            )
        )
    return section
