"""The regression pipeline's steps at scale: corroboration answers every question at once
exactly as the rule asks it one question at a time, rank tests get the exact p-value without
scipy, the per-series models kept beside the results give the same rows, and the synthetic
multi-environment writer writes what it says."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tensorbench.analysis import corroboration as corr
from tensorbench.analysis import modelstore, perseries
from tensorbench.analysis.changepoints import compare_samples, exact_pvalue, rank_pvalue
from tensorbench.analysis.regressions import find_regressions
from tensorbench.analysis.results import load_results
from tensorbench.testing import SEVEN_ENVS, SyntheticEnv, write_synthetic_results


def seen_one(orders, x, sd, lg, fb, shift, need) -> bool | None:
    """The rule for one (change, other series) question, split by split, as written in
    tensorbench.analysis.corroboration's docstring."""
    sign = math.copysign(1.0, shift)
    lo = np.searchsorted(orders, lg + 1 - corr.TOLERANCE, side="left")
    hi = np.searchsorted(orders, fb + corr.TOLERANCE, side="right")
    for j in range(lo, hi):
        before, after = x[max(0, j - corr.SIDE) : j], x[j : j + corr.SIDE]
        if before.size < corr.MIN_SIDE or after.size < corr.MIN_SIDE:
            continue
        d = float(np.median(np.subtract.outer(after, before)))
        if d * sign >= need and compare_samples(before, after)[0] <= corr.ALPHA:
            return True
    if hi == lo:
        return None
    i = np.searchsorted(orders, lg, side="right")
    k = np.searchsorted(orders, fb, side="left")
    before, after = x[max(0, i - corr.CONTRA_SIDE) : i], x[k : k + corr.CONTRA_SIDE]
    if before.size < corr.MIN_SIDE or after.size < corr.MIN_SIDE or not sd > 0:
        return None
    d = float(np.median(np.subtract.outer(after, before))) * sign
    far = d + corr._Z99 * sd * math.sqrt(1 / before.size + 1 / after.size)
    return False if far < need else None


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), quantised=st.booleans())
def test_every_question_at_once_answers_as_one_at_a_time(seed: int, quantised: bool) -> None:
    rng = np.random.default_rng(seed)
    others = []
    for k in range(4):
        n = int(rng.integers(8, 60))
        orders = np.sort(rng.choice(80, n, replace=False))
        y = np.exp(rng.normal(0, 0.03, n) + np.where(orders >= 40, rng.choice([0, 0.1]), 0))
        if quantised:  # ties: the rank test's normal approximation
            y = np.round(y, 2)
        others.append(corr.working_series(f"m{k}:e", orders, y))
    rows, expected = [], []
    for _ in range(30):
        lg = int(rng.integers(0, 75))
        fb = lg + int(rng.integers(1, 6))
        ratio = float(np.exp(rng.choice([-1, 1]) * rng.uniform(0.01, 0.2)))
        rows.append(
            {
                "machine": "me",
                "env": "e",
                "benchmark": "b",
                "param_key": "",
                "kind": "regression",
                "ratio": ratio,
                "last_good_commit": str(lg),
                "first_bad_commit": str(fb),
            }
        )
        need = max(0.5 * math.log1p(0.05), corr.SHARE * abs(math.log(ratio)))
        answers = [seen_one(o, x, sd, lg, fb, math.log(ratio), need) for _, o, x, sd in others]
        expected.append(answers)
    order = {str(i): i for i in range(90)}
    out = corr.corroborate_series(pd.DataFrame(rows), {("b", ""): others}, order, 0.05)
    for r, answers in zip(out.itertuples(index=False), expected, strict=True):
        assert r.corroborated_by == [o[0] for o, a in zip(others, answers, strict=True) if a]
        assert r.not_seen_by == [o[0] for o, a in zip(others, answers, strict=True) if a is False]


def test_exact_p_values_match_scipy_for_every_small_size() -> None:
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(1)
    for n1 in range(1, 15):
        for n2 in range(1, 21 - n1):
            a, b = rng.normal(0, 1, n1), rng.normal(0.5, 1, n2)
            want = mannwhitneyu(b, a, method="exact").pvalue
            assert rank_pvalue(a, b) == pytest.approx(want, rel=1e-12, abs=1e-300)
    assert exact_pvalue(0, 10, 10) == pytest.approx(2 / math.comb(20, 10))


def test_models_kept_beside_the_results_give_the_same_rows(synthetic_results, tmp_path) -> None:
    root = synthetic_results(commits=60, regression=1.3, machines=("a", "b"))
    table = load_results(root).table
    perseries._SERIES_MEMO.clear()
    fresh = find_regressions(table, results_dir=root)
    store = modelstore.store_path(root)
    assert store.is_file() and store.parent == root.parent
    stored = modelstore.load(store)
    assert len(stored) == table.groupby(["machine", "env", "benchmark", "param_key"]).ngroups
    perseries._SERIES_MEMO.clear()  # a new process: only the store knows the models
    again = find_regressions(table, results_dir=root)
    pd.testing.assert_frame_equal(fresh, again)
    assert len(perseries._SERIES_MEMO) == len(stored)
    # a corrupt store is ignored and rewritten
    store.write_bytes(b"PK\x03\x04 not a zip")
    assert modelstore.load(store) == {}
    perseries._SERIES_MEMO.clear()
    pd.testing.assert_frame_equal(fresh, find_regressions(table, results_dir=root))
    assert len(modelstore.load(store)) == len(stored)


def test_a_changed_detector_finds_nothing_stored(tmp_path: Path, monkeypatch) -> None:
    rng = np.random.default_rng(0)
    x = np.r_[np.zeros(30), np.full(30, 0.2)] + rng.normal(0, 0.01, 60)
    first = perseries.Models()
    first.get(x, 1e-3, 3, 50, True)
    modelstore.save(tmp_path / "models.npz", first.used)
    stored = modelstore.load(tmp_path / "models.npz")
    perseries._SERIES_MEMO.clear()
    same = perseries.Models(stored)
    noise, changes = same.get(x, 1e-3, 3, 50, True)
    assert same.fresh == 0 and [c.stop for c in changes] == [30]
    assert changes == next(iter(first.used.values()))[1]
    perseries._SERIES_MEMO.clear()
    monkeypatch.setattr(perseries, "detector_digest", lambda: b"another detector")
    changed = perseries.Models(stored)
    changed.get(x, 1e-3, 3, 50, True)
    assert changed.fresh == 1  # the stored model was made by other code: computed again


def test_multi_environment_writer_runs_each_schedule_and_shares_changes(tmp_path: Path) -> None:
    envs = (
        SyntheticEnv("m1", "py3.11"),
        SyntheticEnv("m1", "py3.12", every=3),
        SyntheticEnv("m2", "py3.11", share=0.5, noise=0.02, blips=2),
    )
    root = write_synthetic_results(
        tmp_path / "results", commits=90, workloads=("w0", "w1"), envs=envs, steps=1.0, seed=3
    )
    files = {e.env + e.machine: list((root / e.machine).glob(f"*-{e.env}.json")) for e in envs}
    assert len(files["py3.11m1"]) == 90 and len(files["py3.12m1"]) == 30
    assert 25 <= len(files["py3.11m2"]) <= 65
    assert json.loads((root / "m2" / "machine.json").read_text())["machine"] == "m2"
    found = find_regressions(load_results(root).table)
    assert (found["agreement"] == "corroborated").sum() >= 3  # shared changes are seen elsewhere
    assert len(SEVEN_ENVS) == 7 and len({e.machine for e in SEVEN_ENVS}) == 4
