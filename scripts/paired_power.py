"""Power of `tensorbench compare --paired` on this machine: A/A, +5 % and +2 % (injected).

Run it with nothing else running (it measures the machine as much as the method)::

    .venv/bin/python scripts/paired_power.py                 # T = 20 trials, ~25 min here
    .venv/bin/python scripts/paired_power.py --trials 2 --min-rounds 2 --max-rounds 2   # smoke

Each trial is one paired schedule of four sides run interleaved, so one trial costs one
schedule instead of three: A1 and A2 (the same environment and code), B5 and B2 (the same, each
sample made exactly 5 % and 2 % longer by a spin after its calls,
`tensorbench.timing.take_sample` through $TENSORBENCH_INJECT). A round runs them in mirrored
order (A1 A2 B5 B2 B2 B5 A2 A1, rotated every round:
`tensorbench.analysis.paired.mirrored_order`), with the CLI's schedule (``--interleave``), and the
comparisons are A2/A1 (A/A), B5/A1 (+5 %) and B2/A2 (+2 %), with the statistics, the verdict
rule and the adaptive rounds of the CLI (and, for comparison, the verdicts Student's t gives on
the same rounds; the JSON keeps every trial's per-round log ratios) (`tensorbench.asv.paired.run_paired`, the CLI's
defaults unless given). Acceptance, per point: "same" in >= 19/20 A/A trials, "slower" in
>= 19/20 at +5 % and in >= 15/20 at +2 %.

Points: matmul 128 float32 (~30-45 us a call here with NumPy: the NumPy point nearest 20 us;
matmul 64 is 4 us, dispatch 16 is 50 us), matmul 512 (~1 ms) and matmul 2048 (~55 ms),
float32. ``--backend torch:cpu`` times torch's instead (~20 us, ~0.85 ms, ~50 ms on the 2-vCPU
Xeon): its matmul 128 differs far less between processes (docs/process-luck.md: 1.4 % against
NumPy's ~7 %, whose small calls depend on where the process's buffers fall), at ~1.3 s more
start-up per process (importing torch).

Cost (measured: docs/paired-power.md has every run): a NumPy process takes ~3 s for the three
points (start-up ~0.7 s; per point validation, 0.25 s calibration, the samples; matmul 2048's
float64 reference alone ~0.4 s), a torch one ~4 s; a trial of 12 rounds took 250-360 s with
whole processes (96 of them) and ~200-260 s with ``--interleave samples`` (48). The smoke run
(``--trials 1 --min-rounds 2 --max-rounds 2``) took 1.7 min with 6.3 s per process on a host
loaded by other jobs (load average 3.5 on 2 vCPUs). At the end it also estimates one
`compare --paired` of the quick suite: one worker process timing every quick-suite point
(every process of a paired run times all open points, so costs about the same), times the
processes the schedule starts at the minimum and the cap of rounds (``--no-quick-estimate`` skips
it; it costs that one process, 74 s in the smoke run). ``--rejoin RUN.json --join 2`` times
nothing: it re-reads a finished run and gives the verdicts that comparisons of twice the rounds
would have had (pairs of trials joined; see `rejoin`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from tensorbench.analysis.paired import DEFAULT_SAME_WITHIN, paired_result
from tensorbench.asv.paired import (
    INTERLEAVES,
    PairedConfig,
    estimate,
    inject_env,
    point_name,
    run_paired,
    suite_points,
)
from tensorbench.asv.suites import load_suite
from tensorbench.asv.worker import Point, Side, run_worker
from tensorbench.cli.paired import MAX_ROUNDS, MIN_ROUNDS

POINTS = [
    Point("matmul", ("numpy:cpu", 128, "float32")),
    Point("matmul", ("numpy:cpu", 512, "float32")),
    Point("matmul", ("numpy:cpu", 2048, "float32")),
]
CONFIGS = {"A/A": ("A1", "A2"), "+5%": ("A1", "B5"), "+2%": ("A2", "B2")}
WANT = {"A/A": ("same", 19), "+5%": ("slower", 19), "+2%": ("slower", 15)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--min-rounds", type=int, default=MIN_ROUNDS)
    ap.add_argument("--max-rounds", type=int, default=MAX_ROUNDS)
    ap.add_argument("--samples", type=int, default=PairedConfig.samples)
    ap.add_argument("--sample-time", type=float, default=PairedConfig.sample_time)
    ap.add_argument("--same-within", type=float, default=DEFAULT_SAME_WITHIN)
    ap.add_argument("--interleave", choices=INTERLEAVES, default=PairedConfig.interleave)
    ap.add_argument(
        "--sizes", type=int, nargs="+", default=None, help="matmul sizes (default 128 512 2048)"
    )
    ap.add_argument(
        "--backend",
        default="numpy:cpu",
        help="whose matmul (torch:cpu: 20 us, 1 ms and 50 ms at 128, 512, 2048 on 2 vCPUs)",
    )
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--json", type=Path, help="write the counts and costs here too")
    ap.add_argument("--no-quick-estimate", action="store_true")
    ap.add_argument(
        "--rejoin",
        type=Path,
        metavar="JSON",
        help="time nothing: read a finished run's --json and give the verdicts of comparisons "
        "of more rounds, made by joining the rounds of --join consecutive trials",
    )
    ap.add_argument("--join", type=int, default=2)
    args = ap.parse_args()
    if args.rejoin:
        return rejoin(json.loads(args.rejoin.read_text()), args.join, args.same_within)
    sizes = args.sizes or [p.params[1] for p in POINTS]
    points = [Point("matmul", (args.backend, n, "float32")) for n in sizes]
    config = PairedConfig(
        min_rounds=args.min_rounds,
        max_rounds=args.max_rounds,
        samples=args.samples,
        sample_time=args.sample_time,
        same_within=args.same_within,
        interleave=args.interleave,
    )
    config.check()
    sides = {
        "A1": Side("A1", args.python),
        "A2": Side("A2", args.python),
        "B5": Side("B5 (+5 %)", args.python, env=inject_env(0.05)),
        "B2": Side("B2 (+2 %)", args.python, env=inject_env(0.02)),
    }
    counts: dict[tuple[str, str], Counter] = {
        (point_name(p), c): Counter() for p in points for c in CONFIGS
    }
    ratios: dict[tuple[str, str], list[float]] = {k: [] for k in counts}
    # the same rounds read with Student's t instead (the interval before the signed-rank one)
    t_counts: dict[tuple[str, str], Counter] = {k: Counter() for k in counts}
    log_ratios: dict[tuple[str, str], list[list[float]]] = {k: [] for k in counts}
    rounds: list[int] = []
    processes = 0
    start = time.monotonic()
    print(
        f"{args.trials} trials x {len(points)} points; rounds {config.min_rounds}-"
        f"{config.max_rounds}, {config.samples} samples of >= {config.sample_time} s per "
        f"process, same within +-{config.same_within:.1%}",
        flush=True,
    )
    for t in range(args.trials):
        t0 = time.monotonic()
        run = run_paired(sides, points, config, comparisons=list(CONFIGS.values()))
        processes += run.processes
        rounds.append(run.rounds)
        line = []
        for rec in run.records:
            if rec.status != "ok":
                print(f"  {point_name(rec.point)}: {rec.status} on {rec.side}: {rec.reason}")
                continue
            for c, pair in CONFIGS.items():
                res = rec.results[pair]
                key = (point_name(rec.point), c)
                counts[key][res.verdict] += 1
                ratios[key].append(res.ratio)
                log_ratios[key].append(list(res.log_ratios))
                t_res = paired_result(res.log_ratios, config.same_within, method="t")
                t_counts[key][t_res.verdict] += 1
                line.append(f"{c} {res.ratio:.3f}/{res.verdict[:4]}/{res.rounds}")
        print(
            f"trial {t + 1}/{args.trials}: {time.monotonic() - t0:.0f} s, {run.rounds} rounds, "
            f"{run.processes} processes; " + ", ".join(line),
            flush=True,
        )
        if args.json:  # after every trial: a run stopped early keeps the trials it finished
            partial = {"trials_done": t + 1, "wall_s": time.monotonic() - start}
            partial |= _tallies(counts, ratios, t_counts, log_ratios, rounds, processes)
            args.json.write_text(json.dumps(partial, indent=2))
    wall = time.monotonic() - start
    per_process = wall / max(processes, 1)
    print()
    print(f"{'point':40} {'config':6} {'same':>5} {'slower':>7} {'faster':>7} {'incon.':>7}  pass")
    ok_all = True
    for (name, c), cnt in counts.items():
        verdict, need = WANT[c]
        scaled = need * args.trials / 20
        passed = cnt[verdict] >= scaled
        ok_all &= passed
        print(
            f"{name:40} {c:6} {cnt['same']:5} {cnt['slower']:7} {cnt['faster']:7} "
            f"{cnt['inconclusive']:7}  {'yes' if passed else 'NO'} "
            f"(need {verdict} >= {scaled:.0f}/{args.trials})"
        )
    print("\nthe same rounds read with Student's t (stopping was decided by the default):")
    for (name, c), cnt in t_counts.items():
        print(
            f"{name:40} {c:6} {cnt['same']:5} {cnt['slower']:7} {cnt['faster']:7} "
            f"{cnt['inconclusive']:7}"
        )
    print(
        f"wall {wall / 60:.1f} min for {args.trials} trials: {processes} processes "
        f"({per_process:.2f} s each), rounds per trial {min(rounds)}-{max(rounds)}"
    )
    report: dict = {
        "trials": args.trials,
        "wall_s": wall,
        "processes": processes,
        "seconds_per_process": per_process,
        "accepted": ok_all,
    }
    report |= _tallies(counts, ratios, t_counts, log_ratios, rounds, processes)
    if not args.no_quick_estimate:
        report["quick_estimate"] = quick_estimate(args.python, config)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0 if ok_all else 1


def _tallies(counts, ratios, t_counts, log_ratios, rounds, processes) -> dict:  # noqa: ANN001
    """The verdict counts, ratios and raw per-round log ratios so far, keyed "point config"."""
    return {
        "processes": processes,
        "rounds_per_trial": rounds,
        "counts": {f"{n} {c}": dict(v) for (n, c), v in counts.items()},
        "ratios": {f"{n} {c}": v for (n, c), v in ratios.items()},
        "t_counts": {f"{n} {c}": dict(v) for (n, c), v in t_counts.items()},
        "log_ratios": {f"{n} {c}": v for (n, c), v in log_ratios.items()},
    }


def rejoin(report: dict, join: int, same_within: float) -> int:
    """Verdicts of longer comparisons from a finished run: rounds are independent (each is
    its own fresh processes, and drift cancels within a round), so the rounds of ``join``
    consecutive trials form one comparison of that many times the rounds (T // join of them).
    Where trials stopped early (settled points) the joined comparison is shorter."""
    if join < 1:
        raise SystemExit("--join must be >= 1")
    print(
        f"{'point':40} {'config':6} {'rounds':>6} {'same':>5} {'slower':>7} {'faster':>7} "
        f"{'incon.':>7}  share wanted"
    )
    for key, trials in report["log_ratios"].items():
        name, config = key.rsplit(" ", 1)
        groups = [trials[i : i + join] for i in range(0, len(trials) - join + 1, join)]
        counts: Counter = Counter()
        rounds = []
        for group in groups:
            joined = [x for trial in group for x in trial]
            rounds.append(len(joined))
            counts[paired_result(joined, same_within).verdict] += 1
        verdict, need = WANT[config]
        print(
            f"{name:40} {config:6} {min(rounds):>6} {counts['same']:5} {counts['slower']:7} "
            f"{counts['faster']:7} {counts['inconclusive']:7}  {verdict} "
            f"{counts[verdict]}/{len(groups)} (want {need / 20:.0%})"
        )
    return 0


def quick_estimate(python: str, config: PairedConfig) -> dict:
    """One worker process over the quick suite's points, timed; x the processes of a run."""
    points, _ = suite_points(load_suite("quick"))
    t0 = time.monotonic()
    out = run_worker(
        Side("quick", python), points, samples=config.samples, sample_time=config.sample_time
    )
    one = time.monotonic() - t0
    ok = [p for p, r in zip(points, out, strict=True) if r["status"] == "ok"]
    # later rounds time only the open points: from the second round on, at most these
    counts = estimate(len(points), 2, config)
    n_lo, n_hi = counts["processes_min"], counts["processes_max"]
    lo, hi = n_lo * one, n_hi * one
    print(
        f"quick suite: one worker process {one:.0f} s ({len(ok)} of {len(points)} points timed, "
        f"the rest skip); compare --paired --suite quick: {n_lo}-{n_hi} such processes, "
        f"{lo / 60:.0f}-{hi / 60:.0f} min (the cap only if every point stays open)"
    )
    return {"one_process_s": one, "points_ok": len(ok), "minutes": [lo / 60, hi / 60]}


if __name__ == "__main__":
    sys.exit(main())
