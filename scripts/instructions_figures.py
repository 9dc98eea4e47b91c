"""Figures of `tensorbench run --measure instructions`: run-to-run spread, a +2 % injection,
skips and wall time, on the CPU points of a suite; writes docs/instructions.md and prints it.

    python scripts/instructions_figures.py [--suite quick] [--env main mxnet] [--runs 5]
        [--inject 0.02] [--jobs 2] [--records FILE] [--render-only]

Each run counts every CPU point of the suite in each environment, as the pre-pass of
`tensorbench run --measure instructions` does (one valgrind process per backend, one thread),
with the test-only ``TENSORBENCH_INJECT_WORK`` share set: every point's counted region holds the
injected work, and its plain count is the region less the injection's counted cost (the calls
counted are those of a plain run). The spread over runs is that of the plain counts; a run "finds" the injection when its injected count, against the median plain count of
the *other* runs (other processes, as a gate compares a new run with earlier ones), reads the
share to within 0.5 percentage points. Raw records go to ``--records`` (JSON, saved after every
run), so ``--render-only`` re-renders the page without counting again.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tensorbench.asv import instructions
from tensorbench.asv.process import env_python
from tensorbench.asv.run import instruction_points, probe_env, run_env
from tensorbench.asv.suites import load_suite
from tensorbench.conventions import REPO

DOC = REPO / "docs" / "instructions.md"


def _save(args: argparse.Namespace, data: dict[str, Any]) -> None:
    """Records so far (after every run: an interrupted session keeps what it counted)."""
    args.records[0].write_text(json.dumps(data))


def count_runs(args: argparse.Namespace) -> dict[str, Any]:
    suite = load_suite(args.suite)
    out: dict[str, Any] = {"suite": suite.name, "valgrind": instructions.valgrind_version()}
    out["inject"], out["envs"] = args.inject, {}
    out["smallest"] = args.smallest
    out["filters"] = {"backends": args.backends, "workloads": args.workloads}
    for env in args.env:
        python = env_python(env)
        # The probe (every framework imported, every grid point's skip reason) costs minutes on
        # a loaded machine; with the backends named, points of a missing one skip in the worker
        probe = {"skip_reasons": {}} if args.backends else probe_env(python, suite, 1)
        todo, reasons = instruction_points(suite, probe)
        if args.smallest:  # each workload's smallest size and last dtype in the suite
            sel = suite.workloads
            todo = [
                p
                for p in todo
                if p["params"][1] == min(sel[p["bench"]].sizes)
                and p["params"][2] == sorted(sel[p["bench"]].dtypes)[-1]
            ]
        if args.backends:
            todo = [p for p in todo if p["params"][0] in args.backends]
        if args.workloads:
            todo = [p for p in todo if p["bench"] in args.workloads]
        base = {**run_env(suite, 1), instructions.INJECT_ENV: str(args.inject)}
        runs: list[list[dict[str, Any]]] = []
        walls: list[float] = []
        out["envs"][env] = {
            "points": len(todo),
            "probe_reasons": reasons,
            "runs": runs,
            "wall_s": walls,
        }
        for i in range(args.runs):
            t0 = time.perf_counter()
            runs.append(
                instructions.count_points(
                    python, todo, env=base, cwd=REPO, log=_log, jobs=args.jobs
                )
            )
            walls.append(time.perf_counter() - t0)
            print(f"{env}: run {i + 1} of {args.runs}: {walls[-1]:.0f} s", flush=True)
            _save(args, out)
    return out


def _log(message: str) -> None:
    print(message, flush=True)


def _find(records: list[dict[str, Any]], point: dict[str, Any]) -> dict[str, Any] | None:
    return next(
        (r for r in records if r["bench"] == point["bench"] and r["params"] == point["params"]),
        None,
    )


def _label(r: dict[str, Any]) -> str:
    return f"{r['bench']} {' '.join(str(p) for p in r['params'])}"


def injected_changes(plain: list[float], injected: list[float]) -> list[float]:
    """Each run's injected count against the median plain count of the other runs (its own
    plain count when it is the only run): what a gate comparing runs would read."""
    out = []
    for i, inj in enumerate(injected):
        others = [c for j, c in enumerate(plain) if j != i] or [plain[i]]
        out.append(inj / statistics.median(others) - 1)
    return out


def point_row(
    runs: list[list[dict[str, Any]]], rec: dict[str, Any]
) -> tuple[list[float], list[float]] | None:
    """(plain counts, injected changes) of one point over runs; None where a run has no count."""
    found = [_find(r, rec) for r in runs]
    if any(c is None or c.get("instructions") is None for c in found):
        return None
    plain = [c.get("plain_instructions", c["instructions"]) for c in found]
    injected = [c["instructions"] for c in found if "plain_instructions" in c]
    return plain, injected_changes(plain, injected) if len(injected) == len(plain) else []


def _table_row(row: tuple[str, float, int, float, list[float], int]) -> str:
    label, med, calls, cv, inj, found = row
    shown = ", ".join(f"{x * 100:+.2f} %" for x in inj) if inj else "not injected"
    f = f"{found} of {len(inj)}" if inj else ""
    return f"| {label} | {med:,.0f} | {calls} | {cv * 100:.3f} % | {shown} | {f} |"


def probe_skips(
    reasons: dict[str, dict[str, str]],
    counted: list[dict[str, Any]],
    backends: list[str] | None = None,
) -> dict:
    """The probe's skip reasons for the points in the counted runs' scope (their workloads'
    sizes and dtypes, CPU backends, only ``backends`` where the runs were limited to them),
    less frameworks this environment does not install (the other environment counts them):
    what a user asks of the skip list, and why."""
    scope = {(r["bench"], r["params"][1], r["params"][2]) for r in counted}
    out = {}
    for bench, points in reasons.items():
        for key, why in points.items():
            m = re.fullmatch(r"backend='([^']+)', size=(\d+), dtype='([^']+)'", key)
            if not m or m[1].endswith(":cuda") or "not installed" in why:
                continue
            if backends and m[1] not in backends:
                continue
            if (bench, int(m[2]), m[3]) in scope:  # today's reason where a backend is unsteady
                out[f"{bench} {m[1]} {m[2]} {m[3]}"] = instructions.unstable_reason(m[1]) or why
    return out


def render(data: dict[str, Any]) -> str:
    share = data["inject"]
    lines = [
        "# Instruction counts: run-to-run spread, a +2 % injection, skips, cost",
        "",
        "Generated by `scripts/instructions_figures.py` (do not edit by hand): the CPU points of",
        f"the `{data['suite']}` suite counted by `tensorbench run --measure instructions`'s pre-pass",
        f"({data['valgrind']}, callgrind client requests, one thread),",
        f"{max(len(e['runs']) for e in data['envs'].values())} runs per environment on the 2-vCPU",
        "development VM.",
        "",
        "Counts are instructions per timed call (the callable asv times). They are those of the code",
        "path Valgrind's virtual CPU selects: it reports AVX2 but no AVX-512, so BLAS, oneDNN and XLA",
        "run their AVX2 kernels here, unlike the timed runs on this AVX-512 machine.",
        "",
        "Method: each point is prepared and validated by `asv_support.setup_case` inside one",
        "valgrind process per backend (instrumentation off); one call is counted as the estimate,",
        "up to 200 calls warm it up (the last N of them counted), then two regions are counted,",
        "of 1 and of 1 + N calls (N fills ~20 M instructions, 1 to 50; garbage collector off):",
        "instructions per call = (second - first) / N. Every run sets",
        f"`TENSORBENCH_INJECT_WORK={share}` (test-only): a spin loop of the helper runs inside",
        f"the 1 + N region, sized to {share:.0%} of the N counted warm-up calls, and the plain",
        "count is the region less the loop's counted cost, so injected and plain counts come",
        "from the same calls (a plain run calls the point exactly alike). A run finds the",
        "injection when its injected count against the median plain count of the other runs",
        "(other processes, as a gate compares a new run with earlier ones) reads the share to",
        "within 0.5 percentage points. The CV is that of the plain counts over runs.",
        "",
    ]
    filters = data.get("filters") or {}
    scope = []
    if data.get("smallest"):
        scope.append("each workload's smallest size (and float64 where the suite has both dtypes)")
    if filters.get("workloads"):
        scope.append("workloads " + ", ".join(filters["workloads"]))
    if filters.get("backends"):
        scope.append("backends " + ", ".join(filters["backends"]))
    if scope:
        lines += [
            "Scope: " + "; ".join(scope) + ". Backends per environment are those listed below",
            "(NumPy and torch once, in `main`). Valgrind runs these kernels at about 5 M",
            "instructions a second, so the whole quick suite five times over does not fit a",
            "session here; the other points use the same code path.",
            "",
        ]
    summary = []
    table_head = (
        f"| point | instructions per call (median) | calls counted | CV | +{share:.0%} injected: "
        "measured change per run | found |"
    )
    for env, e in data["envs"].items():
        runs = e["runs"]
        env_filters = e.get("filters") or filters  # records merged from another file: theirs
        rows, dropped, skips = (
            [],
            [],
            probe_skips(e.get("probe_reasons", {}), runs[0], env_filters.get("backends")),
        )
        for rec in runs[0]:
            row = point_row(runs, rec)
            if row is None:
                skips[_label(rec)] = rec.get("skip") or rec.get("error") or "no count in some run"
                continue
            plain, inj = row
            cv = statistics.stdev(plain) / statistics.fmean(plain) if len(plain) > 1 else 0.0
            found = sum(abs(x - share) <= 0.005 for x in inj)
            r = (_label(rec), statistics.median(plain), rec["calls"], cv, inj, found)
            # counted before its backend was found unsteady: the figures stay as the evidence
            if why := instructions.unstable_reason(rec["params"][0]):
                dropped.append(r)
                skips[r[0]] = why
            else:
                rows.append(r)
        cvs = [r[3] for r in rows]
        lines += [f"## Environment `{env}`", ""]
        if env_filters is not filters and env_filters.get("backends"):
            lines += [f"Backends counted: {', '.join(env_filters['backends'])}.", ""]
        walls = ", ".join(f"{w:.0f}" for w in e["wall_s"])
        lines.append(
            f"{e['points']} points counted per run; wall time per run (plain and injected "
            f"counts): {walls} s (median {statistics.median(e['wall_s']):.0f} s)."
        )
        if cvs:
            found_all = sum(r[5] == len(runs) for r in rows)
            lines.append(
                f"CV over runs: median {statistics.median(cvs) * 100:.3f} %, max "
                f"{max(cvs) * 100:.3f} %; points with CV <= 0.5 %: {sum(c <= 0.005 for c in cvs)} "
                f"of {len(cvs)}; injection found in every run: {found_all} of {len(rows)}."
            )
        lines += [
            "",
            table_head,
            "| --- | ---: | ---: | ---: | --- | --- |",
        ]
        lines += [_table_row(r) for r in rows]
        if dropped:
            lines += [
                "",
                "Counted in these runs, but skipped by the instruction measure now (their",
                "backend's reason is in the list below); their figures are the evidence:",
                "",
                table_head,
                "| --- | ---: | ---: | ---: | --- | --- |",
            ]
            lines += [_table_row(r) for r in dropped]
        lines += ["", "Skipped points:", ""]
        if skips:  # one line per reason: the backends' reasons are long and shared
            by_reason: dict[str, list[str]] = {}
            for point, why in sorted(skips.items()):
                by_reason.setdefault(why, []).append(point)
            lines += [f"- {'; '.join(pts)}: {why}" for why, pts in by_reason.items()]
        else:
            lines.append("- none")
        lines.append("")
        summary.append(
            (env, len(rows), len(skips), max(cvs) if cvs else None, statistics.median(e["wall_s"]))
        )
    lines += ["## Summary", "", "| env | counted | skipped | worst CV | median wall per run |"]
    lines += ["| --- | ---: | ---: | ---: | ---: |"]
    for env, n, s, worst, wall in summary:
        w = f"{worst * 100:.3f} %" if worst is not None else "-"
        lines.append(f"| {env} | {n} | {s} | {w} | {wall:.0f} s |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="quick")
    ap.add_argument("--env", nargs="+", default=["main", "mxnet"], choices=("main", "mxnet"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument(
        "--smallest",
        action="store_true",
        help="only each workload's smallest size and last dtype in the suite (float64 where both)",
    )
    ap.add_argument("--backends", nargs="+", help="only these backends (e.g. mxnet:cpu)")
    ap.add_argument("--workloads", nargs="+", help="only these grid entries (e.g. matmul)")
    ap.add_argument("--inject", type=float, default=0.02)
    ap.add_argument("--jobs", type=int, default=1, help="backends counted at once (one core each)")
    ap.add_argument(
        "--records",
        type=Path,
        nargs="+",
        default=[Path("/tmp/tensorbench-instructions-runs.json")],
        help="raw records written (one file) or read back (--render-only: one per run, merged)",
    )
    ap.add_argument("--render-only", action="store_true")
    ap.add_argument("--out", type=Path, default=DOC)
    args = ap.parse_args()
    if args.render_only:
        data = json.loads(args.records[0].read_text())
        for more in args.records[1:]:
            extra = json.loads(more.read_text())
            for e in extra["envs"].values():
                e.setdefault("filters", extra.get("filters"))
            data["envs"].update(extra["envs"])
    else:
        reason = instructions.valgrind_reason()
        if reason:
            print(f"cannot count instructions: {reason}", file=sys.stderr)
            return 3
        data = count_runs(args)
        _save(args, data)
    page = render(data)
    args.out.write_text(page)
    print(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
