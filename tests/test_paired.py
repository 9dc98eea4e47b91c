"""Paired, interleaved comparisons: statistics, ordering, commits in worktrees, confirm, bisect.

The slow tests build a small git repository whose package is a fake ``tensorbench`` with only
``asv_support.setup_case``: its ``run()`` sleeps for a time each commit sets, so which commits really add work (+30 %) is known, and worker processes time it exactly as
they time real grid points.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tensorbench.analysis.paired import (
    PairedResult,
    default_target,
    midpoint_reading,
    mirrored_order,
    paired_from_rounds,
    paired_result,
    round_log_ratios,
    settled,
    verdict,
    wilcoxon_interval,
)
from tensorbench.asv.paired import (
    EST_SETTLE_S,
    TEMP_PREFIX,
    PairedConfig,
    deciding,
    estimate,
    filter_points,
    inject_env,
    point_from_row,
    point_name,
    run_paired,
    suite_points,
)
from tensorbench.asv.suites import load_suite
from tensorbench.asv.worker import Point, Side, WorkerError
from tensorbench.cli import main
from tensorbench.errors import InputError

# -- statistics -------------------------------------------------------------------------------


def test_interval_from_known_log_ratios() -> None:
    # mean 0.05, sd 0.01, n = 6: t(0.975, 5) = 2.5706
    x = 0.05 + 0.01 * np.array([-1.5, -0.5, 0.0, 0.0, 0.5, 1.5]) / np.std(
        [-1.5, -0.5, 0.0, 0.0, 0.5, 1.5], ddof=1
    )
    res = paired_result(x, same_within=0.02, method="t")
    half = 2.5706 * 0.01 / math.sqrt(6)
    assert res.rounds == 6
    assert res.ratio == pytest.approx(math.exp(0.05), rel=1e-9)
    assert res.low == pytest.approx(math.exp(0.05 - half), rel=1e-4)
    assert res.high == pytest.approx(math.exp(0.05 + half), rel=1e-4)
    assert res.verdict == "slower"
    assert res.half_width == pytest.approx(half, rel=1e-4)


def test_signed_rank_interval_matches_the_tables() -> None:
    """n = 10 at 95 %: the two-sided critical value of T+ is 8, so the interval runs from the 9th
    smallest to the 9th largest of the 55 Walsh averages; n = 6: from the smallest to the
    largest; n = 5: none exists."""
    x = np.array([0.9, -0.3, 1.7, 0.4, 2.2, 1.1, -0.8, 0.6, 1.5, 0.2])
    walsh = np.sort([(x[i] + x[j]) / 2 for i in range(10) for j in range(i, 10)])
    est, lo, hi = wilcoxon_interval(x)
    assert est == pytest.approx(np.median(walsh))
    assert (lo, hi) == (pytest.approx(walsh[8]), pytest.approx(walsh[46]))
    six = [0.3, -0.1, 0.2, 0.5, 0.0, 0.1]
    assert wilcoxon_interval(six)[1:] == (pytest.approx(-0.1), pytest.approx(0.5))
    assert wilcoxon_interval(six[:5])[1:] == (-math.inf, math.inf)


def test_default_interval_is_signed_rank_from_six_rounds_and_t_below() -> None:
    x = [0.01, 0.02, 0.015, 0.012, 0.018, 0.011]
    assert paired_result(x).method == "wilcoxon"
    assert paired_result(x).to_dict()["interval"] == "wilcoxon"
    assert paired_result(x[:5]).method == "t"
    with pytest.raises(ValueError, match="method"):
        paired_result(x, method="bootstrap")


def test_one_outlier_round_does_not_hide_a_five_percent_change() -> None:
    """A neighbour's burst in one round (+40 %): the signed-rank interval still reads the +5 %
    of the other eleven rounds, where the t interval, inflated by that round, cannot."""
    rng = np.random.default_rng(3)
    x = math.log(1.05) + 0.006 * rng.standard_normal(12)
    x[4] = math.log(1.45)
    rank = paired_result(x, 0.02, method="wilcoxon")
    t = paired_result(x, 0.02, method="t")
    assert rank.verdict == "slower" and 1.04 < rank.ratio < 1.06 and rank.half_width < 0.015
    assert t.half_width > 2 * rank.half_width


def test_signed_rank_interval_covers_at_least_its_level_under_heavy_tails() -> None:
    """Exact: under any symmetric noise (here Student t with 2 degrees of freedom, whose
    outliers ruin a t interval's width) the 95 % interval covers the true shift >= 95 % of
    the time (for n = 8 the exact level is 1 - 2 * 4/256 = 96.9 %)."""
    rng = np.random.default_rng(7)
    shift = 0.02
    covered = 0
    trials = 4000
    for _ in range(trials):
        _, lo, hi = wilcoxon_interval(shift + 0.01 * rng.standard_t(2, size=8))
        covered += lo <= shift <= hi
    assert covered / trials == pytest.approx(0.969, abs=0.012)


def test_verdict_rule() -> None:
    band = math.log1p(0.02)
    assert verdict(-0.005, 0.005, 0.02) == "same"
    assert verdict(0.001, 0.009, 0.02) == "same"  # excludes 0 but inside the band: same wins
    assert verdict(0.01, 0.03, 0.02) == "slower"
    assert verdict(-0.03, -0.01, 0.02) == "faster"
    assert verdict(-0.005, band + 0.001, 0.02) == "inconclusive"
    assert verdict(-math.inf, math.inf, 0.02) == "inconclusive"


def test_rounds_are_geometric_means_of_their_processes() -> None:
    a = [[1.0, 4.0], [2.0, 2.0]]
    b = [[2.0, 2.0], [3.0]]
    got = round_log_ratios(a, b)
    assert got == pytest.approx([math.log(2 / 2), math.log(3 / 2)])
    # a round where one side has no process is left out
    assert round_log_ratios([[1.0], []], [[2.0], [1.0]]) == pytest.approx([math.log(2)])


def test_a_over_a_reads_same_and_five_percent_reads_slower() -> None:
    """Simulated rounds with 0.5 % noise: the rule gives A/A "same" and +5 % "slower"."""
    rng = np.random.default_rng(1)
    same = slower = 0
    for _ in range(200):
        noise = 0.005 * rng.standard_normal(10)
        same += paired_result(noise, 0.02).verdict == "same"
        slower += paired_result(math.log(1.05) + noise, 0.02).verdict == "slower"
    assert same >= 190
    assert slower == 200


def test_settled_stops_on_same_on_large_changes_and_on_precision() -> None:
    noisy = paired_result([0.0, 0.03, -0.03, 0.02], 0.02)
    assert noisy.verdict == "inconclusive" and not settled(noisy, 4)
    assert not settled(paired_result([0.0, 0.001, -0.001], 0.02), 4)  # under min rounds
    assert settled(paired_result([0.0, 0.001, -0.001, 0.0005], 0.02), 4)  # same
    assert settled(paired_result([0.26, 0.27, 0.25, 0.26], 0.02), 4)  # +30 %, beyond the band
    tight = paired_result([0.015, 0.016, 0.0155, 0.0152, 0.0158], 0.02)
    assert tight.half_width <= default_target(0.02) and settled(tight, 4)


def test_paired_from_rounds_matches_hand_computation() -> None:
    a = [[1.0, 1.0]] * 3
    b = [[1.1, 1.1], [1.2, 1.0], [1.1, 1.1]]
    res = paired_from_rounds(a, b, 0.02)
    logs = [math.log(1.1), 0.5 * (math.log(1.2) + math.log(1.0)), math.log(1.1)]
    assert res.ratio == pytest.approx(math.exp(np.mean(logs)))


def test_mirrored_order_is_abba_then_baab() -> None:
    assert mirrored_order(0, ["A", "B"]) == ["A", "B", "B", "A"]
    assert mirrored_order(1, ["A", "B"]) == ["B", "A", "A", "B"]
    four = mirrored_order(2, ["A1", "A2", "B5", "B2"])
    assert four == ["B5", "B2", "A1", "A2", "A2", "A1", "B2", "B5"]
    for r in range(4):  # every side's mean position is the same: linear drift cancels
        order = mirrored_order(r, ["A1", "A2", "B5", "B2"])
        means = {s: np.mean([i for i, x in enumerate(order) if x == s]) for s in set(order)}
        assert len(set(means.values())) == 1


# -- scheduling, with a fake runner -----------------------------------------------------------


def test_run_paired_order_skips_failures_and_faults() -> None:
    calls: list[tuple[str, list[str]]] = []
    p_ok, p_skip, p_fail, p_dies, p_after = (
        Point("matmul", ("numpy:cpu", n, "float32")) for n in (64, 128, 256, 512, 1024)
    )

    def runner(side: Side, points: list[Point], **kw: object) -> list[dict]:
        calls.append((side.label, [p.params[1] for p in points]))
        out = []
        for p in points:
            n = p.params[1]
            if n == 128:
                out.append({"status": "skip", "reason": "no such framework"})
            elif n == 256 and side.label == "B":
                out.append({"status": "fail", "reason": "ValidationError: wrong"})
            elif n == 512 and side.label == "B":
                raise WorkerError("worker on B exited -11: Segmentation fault", out)
            else:
                base = 1.0 if side.label == "A" else 1.3
                out.append({"status": "ok", "median": base * n * 1e-6})
        return out

    cfg = PairedConfig(min_rounds=3, max_rounds=5)
    run = run_paired(
        {"A": Side("A"), "B": Side("B")},
        [p_ok, p_skip, p_fail, p_dies, p_after],
        cfg,
        runner=runner,
    )
    assert [c[0] for c in calls[:8]] == ["A", "B", "B", "A", "B", "A", "A", "B"]
    by = {r.point.params[1]: r for r in run.records}
    assert by[128].status == "skip" and by[128].side == "A"
    assert by[256].status == "fail" and by[256].side == "B" and "ValidationError" in by[256].reason
    assert by[512].status == "fault" and by[512].side == "B" and "exited -11" in by[512].reason
    # the points around the failures went on; +30 % everywhere, exactly: settled at 3 rounds
    for n in (64, 1024):
        res = by[n].results[("A", "B")]
        assert res.verdict == "slower" and res.rounds == 3
        assert res.ratio == pytest.approx(1.3)
    assert run.rounds == 3 and [r.point for r in run.slower()] == [p_ok, p_after]
    # after the first round only the open points are timed
    assert calls[-1][1] == [64, 1024]


def test_the_cost_estimate_counts_the_processes_each_schedule_starts() -> None:
    # alternating samples: one serving process per side a round, each sample after a settle
    # wait; whole processes: two per side a round. Deciding runs go on to 36 rounds in all.
    samples = PairedConfig(min_rounds=6, max_rounds=24)
    est = estimate(10, 2, samples)
    assert (est["processes_min"], est["processes_max"]) == (12, 48)
    assert (
        est["processes_max"] == 2 * 24 and estimate(10, 2, deciding(samples))["processes_max"] == 72
    )
    whole = replace(samples, interleave="processes")
    est_whole = estimate(10, 2, whole)
    assert (est_whole["processes_min"], est_whole["processes_max"]) == (24, 96)
    waits = 10 * samples.samples * EST_SETTLE_S
    assert est["seconds_per_process"] == pytest.approx(est_whole["seconds_per_process"] + waits)


def test_an_inconclusive_point_takes_the_extension_rounds_and_a_decided_one_does_not() -> None:
    # B is +5 % with +-10 % round noise in the first 6 rounds (inconclusive there) and +-1 %
    # after; a +30 % point is decided at once and never extended
    small, large = (Point("matmul", ("numpy:cpu", n, "float32")) for n in (64, 128))
    processes: dict[str, int] = {"A": 0, "B": 0}
    first = [1.10, 0.92, 1.12, 0.95, 0.90, 1.08]

    def runner(side: Side, points: list[Point], **kw: object) -> list[dict]:
        r = processes[side.label] // 2  # two processes per side per round
        processes[side.label] += 1
        noise = first[r] if r < len(first) else (1.01 if r % 2 else 0.99)
        out = []
        for p in points:
            step = 1.05 if p is small else 1.3
            base = 1.0 if side.label == "A" else step * noise
            out.append({"status": "ok", "median": base * 1e-3})
        return out

    cfg = PairedConfig(min_rounds=6, max_rounds=6)
    sides = {"A": Side("A"), "B": Side("B")}
    plain = run_paired(sides, [small, large], cfg, runner=runner)
    assert plain.result(small).verdict == "inconclusive" and plain.result(small).rounds == 6
    processes.update(A=0, B=0)
    more = run_paired(sides, [small, large], deciding(cfg), runner=runner)
    assert deciding(cfg).extend_rounds == 30  # up to 36 rounds in all
    assert more.result(large).rounds == 6 and more.result(large).verdict == "slower"
    res = more.result(small)
    assert 6 < res.rounds <= 18 and res.verdict == "slower"
    assert res.ratio == pytest.approx(1.05, rel=0.05)
    # a chosen extension is kept; a negative one is bad input
    assert deciding(PairedConfig(extend_rounds=3)).extend_rounds == 3
    with pytest.raises(InputError, match="extend_rounds"):
        PairedConfig(extend_rounds=-1).check()


# -- points ---------------------------------------------------------------------------------


def test_quick_suite_points_and_filters() -> None:
    points, skipped = suite_points(load_suite("quick"))
    names = {point_name(p) for p in points}
    assert "matmul('numpy:cpu', 128, 'float32')" in names
    assert "dispatch('torch:cpu', 16, 'float64')" in names
    assert all(p.bench != "peak_gflops" for p in points)
    figures = {"async_hidden", "parallel_ratio", "treelstm_batching"}
    assert {p.bench for p, _ in skipped} == {"peak_gflops"} | figures
    # 10 array backends (8 first, paddle on CPU and CUDA), 14 graph ones: pagerank at 2 scales,
    # GCN at one; DGL's TreeLSTM forward and step
    assert len(points) == 10 * 2 * 2 + 10 * 2 + 10 * 2 + 10 * 2 + 14 * 2 + 14 * 2 + 2 * 2
    got = filter_points(points, r"^matmul\('numpy:cpu', 512")
    assert [point_name(p) for p in got] == [
        "matmul('numpy:cpu', 512, 'float32')",
        "matmul('numpy:cpu', 512, 'float64')",
    ]
    assert filter_points(points, r"time_dispatch\('jax:cpu'") == [
        Point("dispatch", ("jax:cpu", 16, "float32")),
        Point("dispatch", ("jax:cpu", 16, "float64")),
    ]


def test_point_from_results_row() -> None:
    row = {"backend": "numpy:cpu", "size": 64.0, "dtype": "float32"}
    assert point_from_row("bench_array.Matmul.time_matmul", row) == Point(
        "matmul", ("numpy:cpu", 64, "float32")
    )
    assert point_from_row("bench_array.MachinePeak.track_peak_gflops", row) is None
    assert point_from_row("bench_array.Matmul.time_matmul", {"backend": "numpy:cpu"}) is None


# -- a fake project in git ----------------------------------------------------------------------

# Work per commit: the sleep's length (0.2 us per unit: 2.5 ms at size 64). Commits 6 and 10 add
# 30 % (real steps); the others change only a comment. A sleep, not a busy loop: a pure-Python
# loop's time spread 0.8-1.9x between fresh processes on this shared 2-vCPU host, and with 3-8
# rounds the A/A and +20 % tests failed on clean-clone CI runs now and then; a sleep's length
# does not depend on what else the host runs, so these tests check the comparison's machinery.
WORK = [100_000] * 6 + [130_000] * 4 + [169_000] * 6
REAL_STEPS = (6, 10)

SUPPORT = '''"""Fake asv_support: a sleep whose length this commit sets."""
import os
import time

from tensorbench import WORK


class Case:
    def __init__(self, n):
        self.n = n

    def run(self):
        time.sleep(self.n * 2e-7)


def setup_case(bench, backend, size, dtype, threads=None):
    if size == 512 and os.environ.get("FAKE_CRASH"):
        os._exit(139)  # as a segfault would: no line, no traceback
    if backend != "numpy:cpu":
        raise NotImplementedError(backend + " is not installed here")
    if size == 1024:
        raise ValueError("wrong result")
    return Case(WORK * size // 64 // 8)
'''


QUICK = """name = "quick"
[workloads.matmul]
sizes = [64, 128, 256, 512, 1024]
dtypes = ["float32"]
backends = ["numpy:cpu", "torch:cpu"]
"""


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def fake_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    repo = tmp_path_factory.mktemp("fakeproject")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    (repo / "tensorbench").mkdir()
    (repo / "asv.conf.json").write_text(json.dumps({"version": 1, "project": "fake"}))
    (repo / "tensorbench" / "asv_support.py").write_text(SUPPORT)
    (repo / "suites").mkdir()
    (repo / "suites" / "quick.toml").write_text(QUICK)
    commits = []
    for i, work in enumerate(WORK):
        (repo / "tensorbench" / "__init__.py").write_text(f"# commit {i}\nWORK = {work}\n")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", f"commit {i}: work {work}")
        commits.append(_git(repo, "rev-parse", "HEAD"))
    return repo, commits


FAST = ["--min-rounds", "3", "--max-rounds", "8", "--samples", "4", "--no-progress"]

# A real +30 % step is checked by its verdict and an interval above 1, and its estimate within
# a wide band: with the fake's earlier busy loop and 3-8 rounds a clean-clone CI run read the
# 1.3 step as 1.51 (the sleep should read close to 1.3; the band stays wide on purpose).
REAL_STEP_BAND = "a +30 % step outside 1.1-1.6: the paired estimate is off by more than noise"


def _leftovers() -> list[str]:
    return sorted(p.name for p in Path(tempfile.gettempdir()).glob(TEMP_PREFIX + "*"))


@pytest.mark.slow
def test_compare_paired_commits(fake_repo, capsys) -> None:
    repo, commits = fake_repo
    before = _leftovers()
    code = main(
        [
            "compare",
            "--paired",
            commits[5],
            commits[6],
            "--repo",
            str(repo),
            "--bench",
            r"^matmul\('(numpy|torch):cpu', (64|1024), 'float32'\)",
            "--json",
            *FAST,
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["exit_code"] == 1
    by = {p["name"]: p for p in out["points"]}
    real = by["matmul('numpy:cpu', 64, 'float32')"]["comparisons"]["B/A"]
    assert real["verdict"] == "slower" and real["low"] > 1.0
    assert 1.1 < real["ratio"] < 1.6, REAL_STEP_BAND
    assert by["matmul('torch:cpu', 64, 'float32')"]["status"] == "skip"
    assert "not installed" in by["matmul('torch:cpu', 64, 'float32')"]["reason"]
    failed = by["matmul('numpy:cpu', 1024, 'float32')"]
    assert failed["status"] == "fail" and "wrong result" in failed["reason"]
    assert _leftovers() == before
    assert len(_git(repo, "worktree", "list").splitlines()) == 1


@pytest.mark.slow
def test_compare_paired_same_commit_reads_same(fake_repo, capsys) -> None:
    repo, commits = fake_repo
    code = main(
        ["compare", "--paired", commits[1], commits[2], "--repo", str(repo)]
        + ["--bench", r"^matmul\('numpy:cpu', 64, 'float32'\)", "--json", "--same-within", "0.15"]
        + [*FAST[:2], "--max-rounds", "12", *FAST[4:]]
    )
    out = json.loads(capsys.readouterr().out)
    res = out["points"][0]["comparisons"]["B/A"]
    # Equal work reads "same" and within 10 %. With the fake's earlier pure-Python loop (per-round
    # log ratios spread +-0.12 here) a 10 % band read "inconclusive" 1 time in 6; the band stays
    # 15 %, and the +30 % commits of this repository read far outside it.
    assert code == 0
    assert res["verdict"] == "same" and abs(math.log(res["ratio"])) < 0.10


@pytest.mark.slow
def test_injected_work_reads_slower(fake_repo, capsys) -> None:
    repo, commits = fake_repo
    code = main(
        ["compare", "--paired", commits[1], commits[1], "--repo", str(repo), "--inject-b", "0.2"]
        + ["--bench", r"^matmul\('numpy:cpu', 64, 'float32'\)", "--json"]
        + FAST
    )
    res = json.loads(capsys.readouterr().out)["points"][0]["comparisons"]["B/A"]
    # +20 % injected reads slower and near +20 %; the band is wide because a clean-clone CI host
    # read 1.076 once with this few rounds (3-8 of 4 samples)
    assert code == 1 and res["verdict"] == "slower" and 1.05 < res["ratio"] < 1.4
    assert res["low"] > 1.0


def test_bad_input_is_exit_2(fake_repo, capsys) -> None:
    repo, commits = fake_repo
    assert main(["compare", "--paired", "nosuchcommit", commits[1], "--repo", str(repo)]) == 2
    assert "unknown commit 'nosuchcommit'" in capsys.readouterr().err
    assert (
        main(
            ["compare", "--paired", commits[0], commits[1], "--repo", str(repo), "--suite", "nope"]
        )
        == 2
    )
    assert main(["compare", "--paired", commits[0], "--repo", str(repo)]) == 2
    assert main(["bisect", "nosuchpoint", "--good", commits[0], "--bad", commits[1]]) == 2


@pytest.mark.slow
def test_worktrees_removed_when_a_worker_dies(fake_repo, tmp_path, capsys) -> None:
    """A worker that dies is exit 3 naming side and point; no worktree or folder is left."""
    repo, commits = fake_repo
    before = _leftovers()
    crash = tmp_path / "python"
    # the same interpreter with FAKE_CRASH set: the fake package dies in size 512's setup
    crash.write_text(f'#!/bin/sh\nFAKE_CRASH=1 exec {sys.executable} "$@"\n')
    crash.chmod(0o755)
    code = main(
        ["compare", "--paired", commits[0], commits[1], "--repo", str(repo)]
        + ["--python-b", str(crash)]
        + ["--bench", r"^matmul\('numpy:cpu', (64|512), 'float32'\)", "--json"]
        + FAST
    )
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    by = {p["name"]: p for p in out["points"]}
    assert code == 3
    assert by["matmul('numpy:cpu', 512, 'float32')"]["status"] == "fault"
    assert "worker died on side" in captured.err and "512" in captured.err
    assert by["matmul('numpy:cpu', 64, 'float32')"]["status"] == "ok"
    assert _leftovers() == before
    assert len(_git(repo, "worktree", "list").splitlines()) == 1


# -- confirm and bisect -----------------------------------------------------------------------


def _results_db(dest: Path, commits: list[str], steps: dict[int, int]) -> Path:
    """An asv database over ``commits``: one series per size, each stepping +30 % at its
    commit index in ``steps`` (size -> index), 0.5 % noise."""
    rng = np.random.default_rng(3)
    name = "bench_array.Matmul.time_matmul"
    sizes = sorted(steps)
    params = [["'numpy:cpu'"], [str(s) for s in sizes], ["'float32'"]]
    (dest / "m").mkdir(parents=True)
    (dest / "benchmarks.json").write_text(
        json.dumps(
            {
                name: {
                    "name": name,
                    "type": "time",
                    "unit": "seconds",
                    "param_names": ["backend", "size", "dtype"],
                    "params": params,
                    "version": "1",
                },
                "version": 2,
            }
        )
    )
    (dest / "m" / "machine.json").write_text(json.dumps({"machine": "m", "version": 1}))
    for i, c in enumerate(commits):
        values = [
            1e-3 * s / 64 * (1.3 if i >= steps[s] else 1.0) * (1 + 0.005 * rng.standard_normal())
            for s in sizes
        ]
        data = {
            "commit_hash": c,
            "env_name": "existing-main",
            "date": 1_735_689_600_000 + i * 86_400_000,
            "params": {"machine": "m"},
            "python": "3.11",
            "requirements": {},
            "env_vars": {},
            "result_columns": ["result", "params", "version", "started_at", "duration"],
            "results": {name: [values, params, "1", 1_735_689_600_000 + i * 86_400_000, 1.0]},
            "durations": {},
            "version": 2,
        }
        (dest / "m" / f"{c[:8]}-existing-main.json").write_text(json.dumps(data))
    return dest


@pytest.mark.slow
def test_confirm_keeps_real_steps_and_drops_fake_ones(fake_repo, tmp_path, capsys) -> None:
    repo, commits = fake_repo
    # sizes 64 and 128 step at the real commits 6 and 10; 256 and 512 "step" at 8 and 5,
    # commits that changed nothing (a stretch of slow runs on the host, say)
    steps = {64: 6, 128: 10, 256: 8, 512: 5}
    results = _results_db(tmp_path / "results", commits, steps)
    before = _leftovers()
    code = main(
        ["regressions", "--results", str(results), "--confirm", "--repo", str(repo), "--json"]
        + ["--same-within", "0.05"]
        + FAST
    )
    out = json.loads(capsys.readouterr().out)
    status = {
        (r["param_key"], r["first_bad_commit"]): (r["status"], r["paired"]["verdict"]) for r in out
    }
    assert code == 1
    flagged = {int(k.split("size=")[1].split(",")[0]): (c, v) for (k, c), v in status.items()}
    assert set(flagged) == {64, 128, 256, 512}
    for size, index in steps.items():
        commit, (st, _) = flagged[size]
        assert commit == commits[index]
        assert st == ("confirmed" if index in REAL_STEPS else "not confirmed"), size
    real = next(r for r in out if "size=64" in r["param_key"])["paired"]
    assert 1.1 < real["ratio"] < 1.6 and real["low"] > 1.0, REAL_STEP_BAND
    assert _leftovers() == before


def test_bisect_is_not_misled_by_a_chance_slower_verdict(fake_repo, monkeypatch) -> None:
    # An unchanged midpoint against the good commit is an A/A comparison; here one reads
    # "slower" at +3 % by chance. The step is +30 % at commit 6: each step's three-way reading
    # (good end, midpoint, bad end in the same rounds) still puts that midpoint with the good end.
    import tensorbench.asv.bisect as bisect_mod

    repo, commits = fake_repo
    work = {c: 1.03 if i == 4 else (1.3 if i >= 6 else 1.0) for i, c in enumerate(commits)}
    rng = np.random.default_rng(5)
    calls = []

    def three(pool, ends, point, config, python, slower) -> tuple:
        calls.append(ends)
        host = np.exp(rng.normal(0, 0.08, size=8))  # every side of a round moves together
        rounds = [[[work[c] * h * math.exp(rng.normal(0, 0.01))] for h in host] for c in ends]
        reading = midpoint_reading(*rounds, slower=slower)
        r = work[ends[1]] / work[ends[0]]
        v = "slower" if r > 1.02 else "same"
        return reading, PairedResult(8, r, r * 0.99, r * 1.01, v, 0.02, 0.95, (math.log(r),) * 8)

    def one(pool, good, other, point, config, python) -> PairedResult:
        r = work[other] / work[good]
        return PairedResult(8, r, r * 0.99, r * 1.01, "slower", 0.02, 0.95, (math.log(r),) * 8)

    monkeypatch.setattr(bisect_mod, "_three", three)
    monkeypatch.setattr(bisect_mod, "_one", one)
    point = Point("matmul", ("numpy:cpu", 64, "float32"))
    out = bisect_mod.bisect(repo, point, commits[0], commits[9], PairedConfig(), "python", say=str)
    assert out.first_bad == commits[6] and out.last_good == commits[5]
    step4 = next(s for s in out.steps if s.index == 4)
    assert step4.result.verdict == "slower" and not step4.changed
    assert step4.reading.decided and step4.reading.high < 0
    # every step re-times the range it narrows: its good end, the midpoint and its bad end
    assert calls[0] == (commits[0], commits[4], commits[9])
    assert all(
        lo < mid < hi for lo, mid, hi in ([commits.index(c) for c in ends] for ends in calls)
    )


def test_midpoint_reading_sides_with_the_end_it_matches_through_host_drift() -> None:
    # Rounds in which the host moves all three sides by up to +-15 % together, 2 % process
    # noise: a midpoint with the good end's work reads "as good", one with the bad end's work
    # "changed", each decided; for a speed-up (slower=False) the same.
    rng = np.random.default_rng(11)

    def rounds(works: tuple[float, float, float], n: int = 8) -> list:
        host = np.exp(rng.uniform(-0.15, 0.15, size=n))
        return [
            [[w * h * math.exp(rng.normal(0, 0.02)) for _ in range(2)] for h in host] for w in works
        ]

    same_as_good = midpoint_reading(*rounds((1.0, 1.0, 1.1)))
    assert same_as_good.decided and not same_as_good.changed
    assert abs(same_as_good.share) < 0.3
    like_bad = midpoint_reading(*rounds((1.0, 1.1, 1.1)))
    assert like_bad.decided and like_bad.changed and like_bad.share > 0.7
    faster = midpoint_reading(*rounds((1.0, 0.9, 0.9)), slower=False)
    assert faster.decided and faster.changed
    # a midpoint exactly half way cannot be placed: undecided, left to the estimate
    assert not midpoint_reading(
        [[1.0]] * 8, [[1.05 * (1 + 0.01 * (-1) ** i)] for i in range(8)], [[1.1025]] * 8
    ).decided
    # no rounds with all three sides: nothing decided
    assert not midpoint_reading([[]], [[1.0]], [[1.0]]).decided


@pytest.mark.slow
def test_bisect_finds_the_commit_that_added_work(fake_repo, capsys) -> None:
    repo, commits = fake_repo
    before = _leftovers()
    code = main(
        ["bisect", "matmul('numpy:cpu', 64, 'float32')", "--good", commits[0], "--bad", commits[9]]
        + ["--repo", str(repo), "--json", "--same-within", "0.05"]
        + FAST
    )
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert code == 0
    assert out["first_bad"] == commits[6] and out["last_good"] == commits[5]
    assert out["direction"] == "slower"
    # the endpoints, then a binary search over 9 commits: 3 or 4 steps
    assert 1 + 3 <= len(out["steps"]) <= 1 + math.ceil(math.log2(9))
    assert "step 1:" in captured.err and "first slower commit" in captured.err
    assert _leftovers() == before


# -- lockstep rounds: one serving process per side, samples alternated -------------------------


def test_serving_worker_samples_on_demand_and_reports_a_failed_point() -> None:
    from tensorbench.asv.worker import ServingWorker

    good = Point("matmul", ("numpy:cpu", 64, "float32"))
    bad = Point("matmul", ("numpy:gpu", 64, "float32"))
    worker = ServingWorker(Side("A"), [good, bad], sample_time=0.002, timeout=120)
    try:
        reports = worker.start()
        assert [r["status"] for r in reports] == ["ok", "fail"]
        assert reports[0]["number"] >= 1
        assert "gpu" in reports[1]["reason"]
        times = [worker.sample(0) for _ in range(3)]
        assert all(0 < t < 0.01 for t in times)  # seconds per call of a 64x64 product
        with pytest.raises(WorkerError, match="not prepared"):
            worker.sample(1)
        assert worker.settle(limit=1.0) < 1.0  # an idle worker's threads settle
    finally:
        worker.close()
    assert worker.proc is None


def test_thread_state_reads_the_field_after_the_command_name() -> None:
    from tensorbench.asv.worker import _thread_state

    with tempfile.TemporaryDirectory() as d:
        stat = Path(d) / "stat"
        stat.write_text("4242 (python (a) b) R 1 4242 4242 0 -1")  # ')' inside the name
        assert _thread_state(stat) == "R"
        assert _thread_state(Path(d) / "gone") == "?"


def test_lockstep_rounds_find_an_injected_change_and_name_a_side_that_cannot_start() -> None:
    point = Point("matmul", ("numpy:cpu", 64, "float32"))
    cfg = PairedConfig(
        min_rounds=2, max_rounds=2, samples=4, sample_time=0.002, interleave="samples"
    )
    sides = {"A": Side("A"), "B": Side("B", env=inject_env(0.5))}
    run = run_paired(sides, [point], cfg)
    (rec,) = run.records
    assert rec.status == "ok" and run.rounds == 2 and run.processes == 4
    assert [len(r) for r in rec.values["A"]] == [1, 1]  # one serving process per side a round
    res = rec.results[("A", "B")]
    assert 1.25 < res.ratio < 1.8  # +50 % of a warm call added to every call of B

    broken = {"A": Side("A"), "B": Side("B", python="/nonexistent/python")}
    run = run_paired(broken, [point], cfg)
    (rec,) = run.records
    assert rec.status == "fault" and rec.side == "B"
    assert "did not start" in (rec.reason or "")
