"""`tensorbench regressions --by release`: changes between consecutive releases of a framework.

The results of `run --releases` put one environment per release at one commit; each step from
one release to the next is a change with an interval (`tensorbench.analysis.releases`). A
slower step fails the gate (exit 1) unless ``acknowledged.toml`` lists it with
``release = "torch 2.13"``; faster steps are listed with ``--improvements``.
"""

from __future__ import annotations

import argparse
import json
import math
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
        "params": change.params,
        "before_env": change.before_env,
        "after_env": change.after_env,
        "ratio": change.ratio,
        "ratio_low": change.low,
        "ratio_high": change.high,
        "also_changed": list(change.also_changed),
        "acknowledged": acknowledged is not None,
        "reason": acknowledged,
        "fails_gate": fails,
        "noise_floor": change.floor,
        "beyond_noise_floor": change.beyond_floor,
        "text": change.describe(),
    }


def release_gate(args: argparse.Namespace, db: Any, acks: list) -> int:
    """Print every release-to-release change beyond the threshold; 1 if one slower step is
    not acknowledged, 2 if the results hold no release axis."""
    from ..analysis.releases import env_versions, noise_floor, release_changes

    versions = env_versions(db.envs)
    frameworks = _frameworks(versions, args.framework)
    if not frameworks:
        raise InputError(
            f"{args.results}: no framework has results at two releases or more "
            "(run `tensorbench run --releases torch=2.11,2.12` first); nothing to judge"
        )
    floors = noise_floor(db.table, versions)
    rows = []
    for fw in frameworks:
        for change in release_changes(db.table, versions, fw, args.threshold, floors):
            if not change.slower and not args.improvements:
                continue
            ack = next(
                (a for a in acks if a.matches_release(change.benchmark, fw, change.after)), None
            )
            reason = (ack.reason or "acknowledged") if ack is not None else None
            fails = change.slower and change.beyond_floor and ack is None
            rows.append(_as_json(change, reason, fails))
    if getattr(args, "confirm", False):
        _confirm(args, rows)
    failing = sum(r["fails_gate"] for r in rows)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 1 if failing else 0
    for (machine, commit), (floor, n) in sorted(floors.items()):
        print(
            f"{machine} {commit[:8]}: these release environments ran unpaired, one after "
            f"another; points no release step touched moved by up to {math.expm1(floor):.0%} "
            f"(95th percentile of {n}): a smaller step cannot be told from that and does not fail "
            "the gate (confirm one with `compare --paired --python-a A --python-b B`)"
        )
    for r in rows:
        paired = f"; paired {r['paired']}" if r.get("paired") else ""
        if r["fails_gate"]:
            status = "OPEN" + paired
        elif r.get("paired"):
            status = f"not confirmed paired: {r['paired']}"
        elif r["acknowledged"]:
            status = f"acknowledged: {r['reason']}"
        elif not r["beyond_noise_floor"]:
            status = f"within the noise floor (+-{r['noise_floor']:.0%})"
        else:
            status = "faster"

        print(f"{r['text']}  [{r['machine']} {r['commit'][:8]}]  {status}")
    print(
        f"{len(rows)} release-to-release change(s) beyond {args.threshold:.0%} in "
        f"{', '.join(frameworks)}: {sum(r['beyond_noise_floor'] for r in rows)} beyond the "
        f"noise floor, {failing} open",
        file=sys.stdout,
    )
    return 1 if failing else 0


def _confirm(args: argparse.Namespace, rows: list[dict[str, Any]], runner: Any = None) -> None:
    """Re-measure each gate-failing step paired: the point in the two releases' environments
    (``.asv/releases/FRAMEWORK-VERSION``), alternated in ABBA rounds. A step that does not read
    "slower" no longer fails the gate; one whose environments are not here still does."""
    from ..analysis.paired import confirms_slower
    from ..asv.paired import deciding, point_from_row, run_paired
    from ..asv.releases import RELEASES_DIR
    from ..asv.worker import Side, run_worker
    from .paired import config_from
    from .project import project

    repo = project(args)
    config = config_from(args)
    for r in rows:
        if not r["fails_gate"]:
            continue
        sides = {}
        for side, version in (("A", r["before_env"]), ("B", r["after_env"])):
            python = repo / RELEASES_DIR / version / "bin" / "python"
            if not python.is_file():
                r["paired"] = None
                r["confirm_reason"] = f"no environment {python.parent.parent} here"
                break
            sides[side] = Side(version, str(python))
        point = point_from_row(r["benchmark"], r["params"])
        if len(sides) < 2 or point is None:
            continue
        run = run_paired(sides, [point], deciding(config), runner=runner or run_worker)
        res = run.result(point)
        if res is None:
            r["confirm_reason"] = run.records[0].reason
            continue
        r["paired"] = res.describe()
        r["fails_gate"] = confirms_slower(res)
