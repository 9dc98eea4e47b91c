"""The evaluation engine of scripts/eval_regressions.py (tensorbench.analysis.evaluation): the
scorer on hand-made detections with known answers, asv's step detection wrapper and its one
error policy, and a small seeded synthetic set run end to end through an asv database, both
detectors and the scorer."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from tensorbench.analysis.evaluation import crossenv, scoring
from tensorbench.analysis.evaluation.asvdetector import (
    asv_on_table,
    asv_regressions,
    asv_weights,
)
from tensorbench.analysis.evaluation.synthetic import N_COMMITS, TOLERANCE, Cell, generate

# asv's detector is the baseline; the scorer alone needs no asv
needs_asv = pytest.mark.skipif(importlib.util.find_spec("asv") is None, reason="asv absent")


def cell(name: str, step: float, truth: list[int], last: list[int] | None = None) -> Cell:
    """A cell with only what the scorer reads: its truth (no samples)."""
    return Cell(
        name,
        step,
        0.01,
        np.asarray(truth),
        np.empty((len(truth), 0, 0)),
        None if last is None else np.asarray(last),
    )


# ------------------------------------------------------------------------------------------
# the scorer


def test_prf_of_known_counts() -> None:
    assert scoring.prf({"tp": 3, "fp": 1, "fn": 1}) == (0.75, 0.75, 0.75)
    p, r, f = scoring.prf({"tp": 8, "fp": 0, "fn": 2})
    assert (p, r) == (1.0, 0.8) and f == pytest.approx(2 * 0.8 / 1.8)
    # nothing reported and nothing to find: perfect, not a division by zero
    assert scoring.prf({"tp": 0, "fp": 0, "fn": 0}) == (1.0, 1.0, 1.0)
    assert scoring.prf({"tp": 0, "fp": 2, "fn": 3}) == (0.0, 0.0, 0.0)


def test_a_hit_is_within_the_tolerance_and_counts_once() -> None:
    assert scoring.match(50, [50 + TOLERANCE]) == {"tp": 1, "fp": 0, "fn": 0}
    assert scoring.match(50, [50 - TOLERANCE - 1]) == {"tp": 0, "fp": 1, "fn": 1}
    # two detections of the same step: one hit, the other a false alarm
    assert scoring.match(50, [49, 51]) == {"tp": 1, "fp": 1, "fn": 0}
    # a step-free series: every detection is a false alarm, nothing is missed
    assert scoring.match(-1, [10, 90]) == {"tp": 0, "fp": 2, "fn": 0}
    # a creep is found anywhere from its first step - TOLERANCE to its last + TOLERANCE
    assert scoring.match(40, [65], end=64)["tp"] == 1
    assert scoring.match(40, [67], end=64)["tp"] == 0


def test_score_per_cell_with_improvements_counted_on_step_free_cells_only() -> None:
    cells = [
        cell("step", 0.1, [30, 60, 90]),
        cell("flat", 0.0, [-1, -1]),
        cell("creep", -1.0, [20], last=[44]),
    ]
    found = {("step", 0): [31], ("step", 1): [70], ("flat", 1): [5], ("creep", 0): [46]}
    improvements = {("step", 2): [90], ("flat", 0): [12, 80]}
    out = scoring.score(cells, found, improvements)
    assert out[(0.1, 0.01)] == {"tp": 1, "fp": 1, "fn": 2, "points": 3 * N_COMMITS}
    assert out[(0.0, 0.01)] == {"tp": 0, "fp": 3, "fn": 0, "points": 2 * N_COMMITS}
    assert out[(-1.0, 0.01)] == {"tp": 1, "fp": 0, "fn": 0, "points": N_COMMITS}
    # without the improvements the step-free cell has one false alarm
    assert scoring.score(cells, found)[(0.0, 0.01)]["fp"] == 1


def test_overall_leaves_out_creeps_and_threshold_steps_where_it_says() -> None:
    pts = {"points": 100}
    ours = {
        (0.05, 0.01): {"tp": 1, "fp": 0, "fn": 1, **pts},
        (0.5, 0.01): {"tp": 2, "fp": 0, "fn": 0, **pts},
        (0.0, 0.01): {"tp": 0, "fp": 1, "fn": 0, **pts},
        (-1.0, 0.01): {"tp": 0, "fp": 9, "fn": 9, **pts},  # a creep: never in the overall
    }
    theirs = {k: {"tp": 0, "fp": 0, "fn": v["tp"] + v["fn"], **pts} for k, v in ours.items()}
    out = scoring.overall(ours, theirs, detection=ours)
    assert out[("overall (all)", "tensorbench")][:2] == (0.75, 0.75)  # tp 3, fp 1, fn 1
    assert out[("overall (> thr)", "tensorbench")][:2] == (2 / 3, 1.0)  # tp 2, fp 1, fn 0
    assert out[("overall (all)", "asv")][:2] == (1.0, 0.0)
    assert out[("detection (all)", "asv")] == out[("overall (all)", "asv")]


def test_score_series_counts_alarms_per_measured_point_of_step_free_series() -> None:
    y = np.ones((3, 10))
    y[2, :5] = np.nan  # half of the second step-free series was not measured
    truth = np.array([4, -1, -1])
    out = scoring.score_series(truth, {0: [5], 1: [3], 2: [7, 8]}, y)
    assert {k: out[k] for k in ("tp", "fp", "fn")} == {"tp": 1, "fp": 3, "fn": 0}
    assert out["alarms"] == pytest.approx(1000 * 3 / 15)


def test_merged_concatenates_per_series() -> None:
    a = {("x", 0): [1], ("x", 1): [2]}
    assert scoring.merged(a, {("x", 0): [9]}) == {("x", 0): [1, 9], ("x", 1): [2]}
    assert a == {("x", 0): [1], ("x", 1): [2]}  # inputs untouched


def env_table(runs: dict[tuple[str, str], range]) -> pd.DataFrame:
    """One benchmark's flat series per (machine, env), over the commit orders each ran."""
    frames = [
        pd.DataFrame(
            {
                "machine": m,
                "env": e,
                "benchmark": "b.time_x",
                "param_key": "",
                "commit": [f"{i:040x}" for i in ran],
                "commit_order": list(ran),
                "value": 1.0,
                "status": "ok",
            }
        )
        for (m, e), ran in runs.items()
    ]
    return pd.concat(frames, ignore_index=True)


def flagged_rows(*rows: tuple[str, int, int, str]) -> pd.DataFrame:
    """Detector rows: (machine, last good order, first bad order, direction), env "e"."""
    return pd.DataFrame(
        [
            {
                "machine": m,
                "env": "e",
                "benchmark": "b.time_x",
                "param_key": "",
                "last_good_commit": f"{lg:040x}",
                "first_bad_commit": f"{fb:040x}",
                "direction": d,
            }
            for m, lg, fb, d in rows
        ]
    )


def test_agreement_counts_checkable_and_corroborated_rows_by_hand() -> None:
    table = env_table({("a", "e"): range(100), ("b", "e"): range(100), ("c", "e"): range(40)})
    rows = flagged_rows(
        ("a", 49, 50, "worse"),  # b's range [53, 54] starts within 3 of it: corroborated
        ("b", 52, 54, "worse"),  # and a's corroborates b's; first bad commits 4 apart
        ("a", 79, 80, "worse"),  # b ran 80 steadily and flagged nothing there
        ("c", 37, 38, "worse"),  # a and b ran 38 with 3 runs either side, flagged nothing
        ("a", 19, 20, "better"),  # b's only partner there is the other direction
        ("b", 19, 21, "worse"),
    )
    got = crossenv.agreement(rows, rows, table)
    assert got["flagged"] == 6 and got["checkable"] == 6
    assert got["mask_corr"].tolist() == [True, True, False, False, False, False]
    assert got["corroborated"] == 2 and got["share"] == pytest.approx(2 / 6)
    # "point": first bad commits 50 and 54 are more than AGREE_TOL (3) apart
    assert got["corroborated_point"] == 0
    # a row only c could check, after c stopped running, is not checkable
    late = flagged_rows(("a", 69, 70, "worse"))
    alone = env_table({("a", "e"): range(100), ("c", "e"): range(40)})
    assert crossenv.agreement(late, late, alone)["checkable"] == 0


# ------------------------------------------------------------------------------------------
# asv's detector, one wrapper


def test_asv_weights_are_two_over_the_interval_width_or_none() -> None:
    w = asv_weights([1.0, 1.0, 1.0, np.nan], [1.5, 1.0, 0.5, 2.0])
    assert w == [4.0, None, 4.0, None]


@needs_asv
def test_asv_regressions_finds_a_clean_step_and_fits_nothing_it_cannot() -> None:
    y = [1.0] * 30 + [1.3] * 30
    (found,) = asv_regressions(y)
    before, after, vb, va = found
    assert after == 30 and before == 29 and va / vb == pytest.approx(1.3)
    # a speed-up is no regression; too short a series has none
    assert asv_regressions(y[::-1]) == []
    assert asv_regressions([1.0, 2.0]) == []
    # weights change nothing about a noiseless step
    assert asv_regressions(y, [1.0] * 60) == [found]


@needs_asv
def test_asv_on_table_names_the_commits_and_ratio() -> None:
    n = 40
    values = np.r_[np.full(20, 1e-3), np.full(20, 1.5e-3)]
    table = pd.DataFrame(
        {
            "machine": "m",
            "env": "e",
            "benchmark": "b.time_x",
            "param_key": "",
            "commit": [f"{i:040x}" for i in range(n)],
            "commit_order": np.arange(n),
            "value": values,
            "ci_low": values * 0.99,
            "ci_high": values * 1.01,
            "status": "ok",
        }
    )
    rows = asv_on_table(table, workers=1)
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row.first_bad_commit == f"{20:040x}" and row.last_good_commit == f"{19:040x}"
    assert row.ratio == pytest.approx(1.5) and row.kind == "regression"


# ------------------------------------------------------------------------------------------
# end to end on a small seeded set


@pytest.fixture(scope="module")
def small_evaluation(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """8 series per cell (seed 7) through an asv database, both detectors, the scorer."""
    pytest.importorskip("asv", reason="asv absent")
    from tensorbench.analysis.evaluation.asvdb import write_asv_db
    from tensorbench.analysis.results import load_results

    cells = generate(7, n_step_series=8, n_flat_series=8)
    root = tmp_path_factory.mktemp("eval") / "results"
    write_asv_db(root, cells)
    table = load_results(root).table
    ours = scoring.ours_by_kind(table)
    theirs = scoring.asv_found(table, asv_on_table(table, workers=1))
    return {
        "cells": cells,
        "table": table,
        "ours": ours,
        "theirs": theirs,
        "regressions": scoring.score(cells, ours["regression"], ours["improvement"]),
        "asv": scoring.score(cells, theirs),
    }


def test_small_set_is_written_and_read_back_whole(small_evaluation: dict) -> None:
    cells, table = small_evaluation["cells"], small_evaluation["table"]
    assert len(cells) == 20  # 3 CVs x (4 steps + step-free), 2 creeps, 3 near-threshold steps
    assert len(table) == 20 * 8 * N_COMMITS
    assert (table["status"] == "ok").all() and table["value"].gt(0).all()
    assert table["commit_order"].nunique() == N_COMMITS
    # the writer's columns read back where asv puts them: value = the samples' median, and
    # the 99 % interval around it
    c = cells[0]
    point = table[(table["benchmark"] == c.name) & (table["commit_order"] == 17)]
    point = point[point["param_key"] == "replicate=3"].iloc[0]
    assert point.value == pytest.approx(np.median(c.samples[3, 17]))
    assert point.ci_low < point.value < point.ci_high


def test_both_detectors_find_the_large_steps_and_raise_no_alarm_on_flat_series(
    small_evaluation: dict,
) -> None:
    ours, theirs = small_evaluation["regressions"], small_evaluation["asv"]
    for key in ours:
        step, _cv = key
        if step >= 0.1:  # 10 % and more: every step found, at most one stray detection
            assert ours[key]["tp"] == 8 and ours[key]["fp"] <= 1, key
            assert theirs[key]["tp"] == 8 and theirs[key]["fp"] <= 1, key
        if step == 0:
            assert ours[key]["fp"] == 0 and theirs[key]["fp"] <= 1, key
    overall = scoring.overall(ours, theirs)
    for det in ("tensorbench", "asv"):
        p, r, _ = overall[("overall (> thr)", det)]
        assert p >= 0.95 and r >= 0.95, det
        # steps of exactly the threshold are found about half the time, by definition
        p, r, _ = overall[("overall (all)", det)]
        assert p >= 0.9 and 0.75 <= r <= 0.95, det


def test_a_known_injected_step_is_found_at_its_commit(small_evaluation: dict) -> None:
    (big,) = [c for c in small_evaluation["cells"] if c.step == 0.5 and c.cv == 0.01]
    for r, truth in enumerate(big.truth):
        (ours,) = small_evaluation["ours"]["regression"][(big.name, r)]
        (theirs,) = small_evaluation["theirs"][(big.name, r)]
        assert abs(ours - truth) <= TOLERANCE and abs(theirs - truth) <= TOLERANCE
    # seed 7 puts the first replicate's +50 % step at commit 74; both detectors say 74
    assert big.truth[0] == 74
    assert small_evaluation["ours"]["regression"][(big.name, 0)] == [74]
    assert small_evaluation["theirs"][(big.name, 0)] == [74]
