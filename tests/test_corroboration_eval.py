"""Agreement across environments: corroborated changes promoted, contradicted ones demoted,
unchecked ones left alone; and the cross-environment evaluation on the synthetic generator and
the real databases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tensorbench.analysis.regressions import find_regressions

ALL_KINDS = ("regression", "improvement", "below threshold")


@pytest.fixture(scope="module")
def evaluation():
    """The evaluation engine behind scripts/eval_regressions.py: its multi-environment
    generator, the agreement measure and both detectors' cross-environment runs."""
    from types import SimpleNamespace

    from tensorbench.analysis.evaluation import crossenv, multienv
    from tensorbench.analysis.evaluation.asvdetector import asv_on_table

    return SimpleNamespace(
        multi_env=multienv.multi_env,
        MULTI_COMMITS=multienv.MULTI_COMMITS,
        agreement=crossenv.agreement,
        ours_cross=crossenv.ours_cross,
        asv_on_table=asv_on_table,
    )


def series(values: np.ndarray, machine: str = "box") -> pd.DataFrame:
    """A table in `tensorbench.analysis.results`' columns holding one series."""
    n = len(values)
    return pd.DataFrame(
        {
            "machine": machine,
            "env": "venv",
            "commit": [f"{i:040x}" for i in range(n)],
            "commit_date": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
            "commit_order": np.arange(n),
            "benchmark": "bench.Suite.time_x",
            "kind": "time",
            "param_key": "",
            "params": [{}] * n,
            "value": np.asarray(values, dtype=float),
            "status": "ok",
            "unit": "seconds",
        }
    )


def env_series(
    level: np.ndarray, machine: str, cv: float, seed: int, every: int = 1
) -> pd.DataFrame:
    """One machine's series of the level per commit, lognormal noise, every ``every``-th commit."""
    rng = np.random.default_rng(seed)
    t = series(level * rng.lognormal(0, cv, level.size), machine=machine)
    return t.iloc[::every]


def steps(n: int, at: dict[int, float]) -> np.ndarray:
    level = np.full(n, 1e-3)
    for i, f in at.items():
        level[i:] *= f
    return level


# ------------------------------------------------------------------------------------------
# the rule, on small hand-made histories


def test_shared_step_is_corroborated_across_schedules_and_ranked_first() -> None:
    # one machine runs every commit, one every 3rd, one is noisier: the same +15 % change
    t = pd.concat(
        [
            env_series(steps(120, {60: 1.15}), "a", 0.01, 1),
            env_series(steps(120, {60: 1.15}), "b", 0.01, 2, every=3),
            env_series(steps(120, {60: 1.15}), "c", 0.03, 3),
            env_series(steps(120, {30: 1.08}), "d", 0.01, 4),  # its own change, seen by nobody
        ]
    )
    found = find_regressions(t)
    shared = found[found["machine"].isin(["a", "b", "c"])]
    assert len(shared) == 3
    assert set(shared["agreement"]) == {"corroborated"}
    assert shared["corroboration"].tolist() == [2, 2, 2]
    assert shared["fails_gate"].all()
    # b ran every 3rd commit: its range holds the change, however it is placed within it
    b = shared.set_index("machine").loc["b"]
    order = {c: i for i, c in enumerate(series(np.ones(120))["commit"])}
    assert order[b.last_good_commit] < 60 <= order[b.first_bad_commit] <= 62
    # promoted above d's change, which the three others ran without
    d = found[found["machine"] == "d"].iloc[0]
    assert d.agreement == "contradicted" and d.corroboration == 0 and len(d.not_seen_by) >= 1
    assert found["machine"].tolist()[-1] == "d"


def test_env_only_blip_and_small_step_are_demoted_but_a_large_one_still_gates() -> None:
    # a: a host-drift episode (+8 % for 25 runs: rank binary segmentation does not split off a
    # much shorter one) and an 8 % step of its own at 85; b and c ran every commit without
    # moving; e: a 40 % step of its own (large: it still fails the gate)
    a = steps(120, {30: 1.08, 55: 1 / 1.08, 85: 1.08})
    t = pd.concat(
        [
            env_series(a, "a", 0.005, 1),
            env_series(steps(120, {}), "b", 0.01, 2),
            env_series(steps(120, {}), "c", 0.01, 3),
            env_series(steps(120, {100: 1.4}), "e", 0.01, 4),
        ]
    )
    found = find_regressions(t, kinds=ALL_KINDS)
    mine = found[(found["machine"] == "a") & (found["kind"] == "regression")]
    assert len(mine) == 2
    assert set(mine["agreement"]) == {"contradicted"}
    assert (mine["corroboration"] == 0).all() and all(
        set(x) & {"b:venv", "c:venv"} for x in mine["not_seen_by"]
    )
    assert not mine["fails_gate"].any()  # demoted: listed, not gating
    big = found[(found["machine"] == "e") & (found["kind"] == "regression")].iloc[0]
    assert big.agreement == "contradicted" and big.fails_gate and big.ratio > 1.3
    # listed, and after the regression that still gates
    regs = found[found["kind"] == "regression"]
    assert regs["machine"].tolist()[0] == "e"
    # without agreement both of a's would gate (the episode is not "resolved": a's later step
    # leaves the series above its old level)
    plain = find_regressions(t, corroborate=False)
    assert sorted(plain.loc[plain["fails_gate"], "machine"]) == ["a", "a", "e"]


def test_change_nobody_else_ran_is_left_as_it_is() -> None:
    # b ran only the first 30 commits; c is too noisy to tell (8 % per run) about a 6 % change
    t = pd.concat(
        [
            env_series(steps(120, {70: 1.06}), "a", 0.003, 1),
            env_series(steps(120, {}), "b", 0.003, 2).iloc[:30],
            env_series(steps(120, {}), "c", 0.08, 3),
        ]
    )
    found = find_regressions(t)
    plain = find_regressions(t, corroborate=False)
    a = found[found["machine"] == "a"]
    assert len(a) == 1 and a.iloc[0].agreement == "unchecked"
    assert a.iloc[0].not_seen_by == [] and a.iloc[0].corroboration == 0
    cols = ["machine", "kind", "first_bad_commit", "ratio", "fails_gate"]
    assert a[cols].reset_index(drop=True).equals(plain[plain["machine"] == "a"][cols])


def test_corroboration_promotes_a_change_held_back_by_the_noise_floor() -> None:
    # the noisy series' floor (1.5 run-to-run SDs, ~9 %) is above its own 7 % estimate; the
    # quiet machine's regression at the same commit is the evidence the floor stands in for
    t = pd.concat(
        [
            env_series(steps(160, {80: 1.07}), "quiet", 0.005, 1),
            env_series(steps(160, {80: 1.07}), "noisy", 0.06, 7),
        ]
    )
    alone = find_regressions(t[t["machine"] == "noisy"], kinds=ALL_KINDS).iloc[0]
    assert alone.kind == "below threshold" and alone.ratio >= 1.05 > 0
    assert alone.min_effect > alone.ratio - 1
    found = find_regressions(t).set_index("machine")
    assert found.loc["noisy", "kind"] == "regression"
    assert found.loc["noisy", "agreement"] == "corroborated" and found.loc["noisy", "fails_gate"]
    # nothing under the threshold is ever promoted
    assert (found["ratio"] >= 1.05).all()


# ------------------------------------------------------------------------------------------
# the evaluation: the synthetic multi-machine generator and the real databases


def test_generated_shared_steps_are_corroborated_and_promoted(evaluation) -> None:
    me = evaluation.multi_env(seed=3, n_bench=8)
    flagged = find_regressions(me.table)
    flagged = flagged[flagged["kind"] == "regression"]
    order = dict(zip(me.table["commit"], me.table["commit_order"], strict=False))
    big = [
        (m, e, b, c)
        for (m, e, b), st in me.truth.items()
        for c, x, how in st
        if how == "shared" and x >= 1.2 and 30 <= c <= evaluation.MULTI_COMMITS - 30
    ]
    assert len(big) >= 10
    rows = []
    for m, e, b, c in big:
        hit = flagged[
            (flagged["machine"] == m)
            & (flagged["env"] == e)
            & (flagged["benchmark"] == b)
            & (flagged["last_good_commit"].map(order) < c + 3)
            & (flagged["first_bad_commit"].map(order) >= c - 3)
        ]
        rows.append(hit["agreement"].tolist())
    # nearly every env finds every large shared step, and whenever it does, others confirm it
    assert sum(r == ["corroborated"] for r in rows) >= 0.9 * len(rows)
    assert all(set(r) <= {"corroborated"} for r in rows)
    ours = flagged[flagged["agreement"] != "contradicted"]
    a = evaluation.agreement(ours, flagged, me.table)
    assert a["checkable"] == len(ours) and a["share"] >= 0.75


@pytest.mark.slow
def test_openblas_flagged_regressions_are_seen_elsewhere(shared_data: Path, evaluation) -> None:
    path = shared_data / "asv-results" / "openblas-benchmarks"
    if not path.is_dir():
        pytest.skip(f"{path} absent")
    from tensorbench.analysis.results import load_results

    table = load_results(path).table
    flagged, regs, plain, _ = evaluation.ours_cross(table)
    ours = evaluation.agreement(flagged, regs, table)
    asv = evaluation.asv_on_table(table, 1).assign(direction="worse")
    theirs = evaluation.agreement(asv, asv, table)
    assert ours["checkable"] >= 5 and ours["share"] >= 0.75
    assert ours["corroborated"] >= theirs["corroborated"]
    assert len(plain) >= len(flagged)


def test_kedro_environments_cannot_check_each_other(shared_data: Path, evaluation) -> None:
    path = shared_data / "asv-results" / "kedro-benchmark-results"
    if not path.is_dir():
        pytest.skip(f"{path} absent")
    from tensorbench.analysis.results import load_results

    table = load_results(path).table
    found = find_regressions(table)
    # its environments ran disjoint commits: nothing is checked, so nothing moves or is demoted
    assert set(found["agreement"]) == {"unchecked"}
    plain = find_regressions(table, corroborate=False)
    assert found["fails_gate"].sum() == plain["fails_gate"].sum() > 0
    assert evaluation.agreement(found, found, table)["checkable"] == 0
