"""The order of a results folder's commits: git's where the repository has them all, else
the commits' dates (the first date each was measured at)."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np


def commit_order(
    root: Path, repo: str | Path | None, commits: list[str], dates: np.ndarray
) -> tuple[dict[str, int], str]:
    """Each commit's position (0 = oldest) and what gave it: ``"git"`` or ``"date"``.

    ``commits`` and ``dates`` (ms, NaN unknown) are per result file. ``repo`` is the git
    repository the results were measured on; by default the parent of the results folder
    ``root`` when that is one. Git decides only when every commit is in it.
    """
    if repo is None and _is_git_repo(root.resolve().parent):
        repo = root.resolve().parent
    unique = set(commits)
    if repo is not None:
        git = _git_order(Path(repo), unique)
        if git is not None:
            ranked = sorted(unique, key=git.__getitem__)
            return {c: i for i, c in enumerate(ranked)}, "git"
    first_date: dict[str, float] = {}
    for c, d in zip(commits, dates, strict=True):
        if not math.isnan(d) and (c not in first_date or d < first_date[c]):
            first_date[c] = d
    ranked = sorted(unique, key=lambda c: (first_date.get(c, math.inf), c))
    return {c: i for i, c in enumerate(ranked)}, "date"


def _git_order(repo: Path, commits: set[str]) -> dict[str, int] | None:
    """Position of each commit in `git rev-list --topo-order` (0 = oldest), if all are there."""
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-list", "--all", "--topo-order", "--reverse"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    position = {h: i for i, h in enumerate(out.split())}
    if not commits or not commits <= position.keys():
        return None
    return {c: position[c] for c in commits}


def _is_git_repo(path: Path) -> bool:
    return (path / ".git").exists()
