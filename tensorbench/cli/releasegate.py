"""`tensorbench regressions --by release`: changes between consecutive releases of a framework.

The results of `run --releases` put one environment per release at one commit; each step from
one release to the next is a change with an interval (`tensorbench.analysis.releases`). A
slower step fails the gate (exit 1) unless ``acknowledged.toml`` lists it with
``release = "torch 2.13"``; faster steps are listed with ``--improvements``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import InputError


def _frameworks(versions: Any, wanted: str | None) -> list[str]:
    """Frameworks whose results hold two releases or more (or ``wanted``, checked)."""
    from ..analysis.releases import FRAMEWORKS, is_release_env, version_key

    counts: dict[str, set[str]] = {}
    for row in versions.itertuples(index=False):
        name = str(row.package).lower()
        if not is_release_env(str(row.env), name):
            continue
        try:
            version_key(row.version)
        except InputError:
            continue
        counts.setdefault(name, set()).add(str(row.version))
    if wanted is not None:
        name = wanted.lower()
        if name not in FRAMEWORKS:
            raise InputError(f"--framework {wanted!r}: one of {', '.join(FRAMEWORKS)}")
        return [name]
    return [f for f in FRAMEWORKS if len(counts.get(f, ())) >= 2]


def _as_json(change: Any, acknowledged: str | None, fails: bool) -> dict[str, Any]:
    return {
        "framework": change.framework,
        "before": change.before,
        "after": change.after,
        "machine": change.machine,
        "commit": change.commit,
        "benchmark": change.benchmark,
        "param_key": change.param_key,
        "point": change.label,
        "ratio": change.ratio,
        "ratio_low": change.low,
        "ratio_high": change.high,
        "also_changed": list(change.also_changed),
        "acknowledged": acknowledged is not None,
        "reason": acknowledged,
        "fails_gate": fails,
        "text": change.describe(),
    }


def release_gate(args: argparse.Namespace, db: Any, acks: list) -> int:
    """Print every release-to-release change beyond the threshold; 1 if one slower step is
    not acknowledged, 2 if the results hold no release axis."""
    from ..analysis.releases import env_versions, release_changes

    versions = env_versions(db.envs)
    frameworks = _frameworks(versions, args.framework)
    if not frameworks:
        raise InputError(
            f"{args.results}: no framework has results at two releases or more "
            "(run `tensorbench run --releases torch=2.11,2.12` first); nothing to judge"
        )
    rows = []
    for fw in frameworks:
        for change in release_changes(db.table, versions, fw, args.threshold):
            if not change.slower and not args.improvements:
                continue
            ack = next(
                (a for a in acks if a.matches_release(change.benchmark, fw, change.after)), None
            )
            reason = (ack.reason or "acknowledged") if ack is not None else None
            rows.append(_as_json(change, reason, change.slower and ack is None))
    failing = sum(r["fails_gate"] for r in rows)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 1 if failing else 0
    for r in rows:
        status = (
            "OPEN"
            if r["fails_gate"]
            else (f"acknowledged: {r['reason']}" if r["acknowledged"] else "faster")
        )
        print(f"{r['text']}  [{r['machine']} {r['commit'][:8]}]  {status}")
    print(
        f"{len(rows)} release-to-release change(s) beyond {args.threshold:.0%} in "
        f"{', '.join(frameworks)}: {failing} open",
        file=sys.stdout,
    )
    return 1 if failing else 0
