"""tensorbench.regressions and `tensorbench regressions`: steps, creeps, direction, the gate."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tensorbench.analysis.acknowledgements import Acknowledgement, load_acknowledged
from tensorbench.analysis.changepoints import detect_changes
from tensorbench.analysis.regressions import (
    COLUMNS,
    compare_commits,
    find_regressions,
    higher_is_better,
)
from tensorbench.cli import main
from tensorbench.errors import InputError

N = 80
KINDS_ALL = ("regression", "improvement", "below threshold", "outlier")


def commit(i: int) -> str:
    return hashlib.sha1(f"commit-{i}".encode()).hexdigest()


def series(
    values: np.ndarray,
    benchmark: str = "bench.Suite.time_x",
    kind: str = "time",
    unit: str = "seconds",
    param_key: str = "",
    machine: str = "box",
    samples: list | None = None,
) -> pd.DataFrame:
    """A table in `tensorbench.results`' columns holding one series."""
    n = len(values)
    return pd.DataFrame(
        {
            "machine": machine,
            "env": "venv",
            "commit": [commit(i) for i in range(n)],
            "commit_date": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
            "commit_order": np.arange(n),
            "benchmark": benchmark,
            "kind": kind,
            "param_key": param_key,
            "params": [{}] * n,
            "value": np.asarray(values, dtype=float),
            "status": "ok",
            "unit": unit,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "q25": np.nan,
            "q75": np.nan,
            "samples": samples if samples is not None else [None] * n,
        }
    )


def noisy(steps: dict[int, float], n: int = N, cv: float = 0.01, seed: int = 0) -> np.ndarray:
    """Lognormal noise around 1 ms with a multiplicative step at each given commit."""
    rng = np.random.default_rng(seed)
    level = np.ones(n) * 1e-3
    for at, factor in steps.items():
        level[at:] *= factor
    return level * rng.lognormal(0, cv, n)


def test_step_found_at_its_commit() -> None:
    found = find_regressions(series(noisy({50: 1.10})))
    assert list(found.columns) == COLUMNS
    assert len(found) == 1
    row = found.iloc[0]
    assert row.kind == "regression"
    assert row.first_bad_commit == commit(50) and row.last_good_commit == commit(49)
    assert row.ratio == pytest.approx(1.10, abs=0.02)
    assert row.ratio_low <= row.ratio <= row.ratio_high or row.ratio_low <= 1.10 <= row.ratio_high
    assert row.significance < 1e-6
    assert row.fails_gate and not row.resolved and not row.acknowledged


def test_step_free_series_is_quiet_despite_one_sided_outliers() -> None:
    y = noisy({}, cv=0.02, seed=3)
    y[[10, 11, 40, 70]] *= [1.6, 1.5, 1.8, 1.4]  # a noisy neighbour slows a few runs
    assert find_regressions(series(y)).empty


def test_small_step_below_threshold_is_not_reported() -> None:
    # 2 % with 0.3 % noise is real and significant, but below the 5 % minimum effect
    assert find_regressions(series(noisy({40: 1.02}, cv=0.003))).empty
    assert len(find_regressions(series(noisy({40: 1.02}, cv=0.003)), threshold=0.01)) == 1


def test_creep_is_one_ranged_regression() -> None:
    # four 2 % steps, each below the 5 % threshold: the range runs from the last good commit
    # to the step where the accumulated change reaches 5 % (the third, +6.1 %)
    y = noisy({20: 1.02, 35: 1.02, 50: 1.02, 65: 1.02}, n=90, cv=0.002, seed=1)
    found = find_regressions(series(y))
    assert len(found) == 1
    row = found.iloc[0]
    assert row.kind == "regression" and row.n_steps == 3
    assert row.last_good_commit == commit(19)
    assert row.first_bad_commit == commit(50)
    assert row.range_points == 50 - 19
    assert row.ratio == pytest.approx(1.02**3, abs=0.01)
    # each step alone is found at the 1 % threshold
    assert len(find_regressions(series(y), threshold=0.01)) == 4


def test_improvement_is_not_a_regression() -> None:
    found = find_regressions(series(noisy({30: 0.8})))
    assert list(found["kind"]) == ["improvement"]
    assert not found["fails_gate"].any()


def test_resolved_regression_does_not_fail_the_gate() -> None:
    found = find_regressions(series(noisy({30: 1.3, 60: 1 / 1.3}, n=90)))
    reg = found[found["kind"] == "regression"]
    assert len(reg) == 1 and reg.iloc[0].resolved and not reg.iloc[0].fails_gate
    assert (found["kind"] == "improvement").sum() == 1


def test_track_direction_follows_the_unit() -> None:
    assert higher_is_better("track", "GFLOPS") and higher_is_better("track", "items/s")
    assert higher_is_better("track", "gbytes_per_s")
    assert not higher_is_better("track", "errors") and not higher_is_better("time", "GFLOPS")
    drop = noisy({40: 0.8})
    rate = find_regressions(series(drop, benchmark="b.S.track_rate", kind="track", unit="GFLOPS"))
    assert list(rate["kind"]) == ["regression"]
    cost = find_regressions(series(drop, benchmark="b.S.track_err", kind="track", unit="errors"))
    assert list(cost["kind"]) == ["improvement"]


def test_track_series_with_zeros_and_negatives() -> None:
    y = np.r_[np.zeros(30), np.full(30, 5.0)] + np.random.default_rng(0).normal(0, 0.1, 60)
    found = find_regressions(series(y, benchmark="b.S.track_delta", kind="track", unit="delta"))
    assert len(found) == 1 and found.iloc[0].first_bad_commit == commit(30)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_empty_and_short_series(n: int) -> None:
    assert find_regressions(series(np.ones(n))).empty
    assert list(find_regressions(series(np.ones(n))).columns) == COLUMNS
    assert detect_changes(np.ones(n)) == []


def test_failed_points_and_constant_series() -> None:
    t = series(noisy({50: 1.1}))
    t.loc[[5, 51], "value"] = np.nan
    t.loc[[5, 51], "status"] = "failed"
    assert len(find_regressions(t)) == 1
    assert find_regressions(series(np.ones(50))).empty


def test_series_are_kept_apart_and_since_filters() -> None:
    t = pd.concat(
        [
            series(noisy({20: 1.2}), param_key="n=1"),
            series(noisy({60: 1.2}, seed=1), param_key="n=2"),
            series(noisy({}, seed=2), machine="other"),
        ]
    )
    found = find_regressions(t)
    assert sorted(found["first_bad_commit"]) == sorted([commit(20), commit(60)])
    late = find_regressions(t, since=commit(40)[:10])
    assert list(late["first_bad_commit"]) == [commit(60)]
    by_date = find_regressions(t, since="2024-01-02T12:00")  # commit 36
    assert list(by_date["first_bad_commit"]) == [commit(60)]
    with pytest.raises(InputError):
        find_regressions(t, since="not-a-date-or-commit")


def test_acknowledgements_match_pattern_and_commit_prefix() -> None:
    t = series(noisy({50: 1.1}))
    acks = [Acknowledgement("bench.*.time_x", commit(50)[:7], "known, #12")]
    row = find_regressions(t, acknowledged=acks).iloc[0]
    assert row.acknowledged and row.reason == "known, #12" and not row.fails_gate
    other = [{"benchmark": "other.*", "commit": commit(50)}]
    assert not find_regressions(t, acknowledged=other).iloc[0].acknowledged


def test_compare_commits_uses_direction_and_samples() -> None:
    rng = np.random.default_rng(0)
    samples = [list(v * rng.lognormal(0, 0.01, 10)) for v in noisy({5: 1.3}, n=10)]
    t = pd.concat(
        [
            series(noisy({5: 1.3}, n=10), samples=samples),
            series(noisy({5: 1.3}, n=10), benchmark="b.S.track_gf", kind="track", unit="GFLOPS"),
            series(noisy({5: 0.5}, n=10), benchmark="b.S.track_err", kind="track", unit="errors"),
        ]
    )
    rows = compare_commits(t, commit(2)[:8], commit(7)[:8], factor=1.1)
    assert list(rows["benchmark"]) == ["bench.Suite.time_x"]
    assert rows.iloc[0].ratio == pytest.approx(1.3, abs=0.05)
    assert rows.iloc[0].significance < 1e-3
    # backwards: the time improves; GFLOPS fall and errors rise, both worse
    back = compare_commits(t, commit(7), commit(2))
    assert sorted(back["benchmark"]) == ["b.S.track_err", "b.S.track_gf"]
    with pytest.raises(InputError):
        compare_commits(t, "ffffffff", commit(2))


# ------------------------------------------------------------------------------------------
# the CLI on a small asv database


def write_asv_db(root: Path, values: dict[str, np.ndarray]) -> Path:
    """An asv results directory (format 2), one unparametrised time benchmark per entry."""
    machine = root / "box"
    machine.mkdir(parents=True)
    bench = {
        name: {"name": name, "type": "time", "unit": "seconds", "params": [], "version": "1"}
        for name in values
    }
    (root / "benchmarks.json").write_text(json.dumps({**bench, "version": 2}))
    (machine / "machine.json").write_text(json.dumps({"machine": "box", "version": 1}))
    cols = ["result", "params", "version", "started_at", "samples"]
    n = len(next(iter(values.values())))
    for i in range(n):
        date = 1_700_000_000_000 + i * 3_600_000
        doc = {
            "commit_hash": commit(i),
            "env_name": "venv",
            "date": date,
            "params": {"machine": "box"},
            "python": "3.11",
            "requirements": {},
            "env_vars": {},
            "result_columns": cols,
            "results": {
                name: [[float(v[i])], [], "1", date, [[float(v[i])] * 3]]
                for name, v in values.items()
            },
            "durations": {},
            "version": 2,
        }
        (machine / f"{commit(i)[:8]}-venv.json").write_text(json.dumps(doc))
    return root


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return write_asv_db(
        tmp_path / "results",
        {"bench.A.time_slow": noisy({25: 1.25}, n=40), "bench.B.time_flat": noisy({}, n=40)},
    )


def test_cli_gate_fails_on_open_regression(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["regressions", "--results", str(db), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert len(out) == 1
    hit = out[0]
    assert {"benchmark", "params", "machine", "env", "commit", "ratio"} <= hit.keys()
    assert hit["benchmark"] == "bench.A.time_slow" and hit["commit"] == commit(25)
    assert hit["machine"] == "box" and hit["env"] == "venv" and hit["ratio"] > 1.2


def test_cli_acknowledged_regression_passes(db: Path, capsys: pytest.CaptureFixture) -> None:
    (db / "acknowledged.toml").write_text(
        f'[[acknowledged]]\nbenchmark = "bench.A.*"\ncommit = "{commit(25)[:8]}"\n'
        'reason = "slower but correct"\n'
    )
    assert main(["regressions", "--results", str(db)]) == 0
    out = capsys.readouterr().out
    assert "acknowledged: slower but correct" in out and "1 acknowledged" in out


def test_cli_since_and_threshold(db: Path) -> None:
    assert main(["regressions", "--results", str(db), "--since", commit(30)[:8]]) == 0
    assert main(["regressions", "--results", str(db), "--threshold", "0.5"]) == 0


def test_cli_bad_input_exits_2(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["regressions", "--results", str(tmp_path / "missing")]) == 2
    (db / "acknowledged.toml").write_text('[[acknowledged]]\nbenchmark = "x"\ncommit = \n')
    assert main(["regressions", "--results", str(db)]) == 2
    err = capsys.readouterr().err
    assert "acknowledged.toml" in err and "line 3" in err
    (db / "acknowledged.toml").write_text('[[acknowledged]]\nbenchmark = "x"\n')
    assert main(["regressions", "--results", str(db)]) == 2
    assert "acknowledged.toml:1" in capsys.readouterr().err
    (db / "acknowledged.toml").unlink()
    assert main(["regressions", "--results", str(db), "--since", "yesterday-ish"]) == 2


def test_acknowledged_file_shipped_is_valid() -> None:
    path = Path(__file__).resolve().parents[1] / "results" / "acknowledged.toml"
    assert load_acknowledged(path) == []


# ------------------------------------------------------------------------------------------
# real databases


@pytest.mark.parametrize("name", ["openblas-benchmarks", "kedro-benchmark-results"])
def test_real_databases(shared_data: Path, name: str, capsys: pytest.CaptureFixture) -> None:
    path = shared_data / "asv-results" / name
    if not path.is_dir():
        pytest.skip(f"{path} absent")
    rc = main(["regressions", "--results", str(path), "--json"])
    out = json.loads(capsys.readouterr().out)
    # both hold open regressions (6 and 49 rows when this was written): a scan that finds
    # nothing would make every check below pass vacuously
    assert out, f"no regressions found in {name}"
    assert rc == 1 and any(o["fails_gate"] for o in out)
    # the threshold rule: nothing under the default 5 % is a regression; corroboration carried
    assert all(o["kind"] == "regression" and o["ratio"] >= 1.05 for o in out)
    assert all(o["corroboration"] == len(o["corroborated_by"]) for o in out)


def test_rank_test_matches_scipy() -> None:
    from scipy.stats import mannwhitneyu

    from tensorbench.analysis.changepoints import compare_samples

    rng = np.random.default_rng(4)
    for n1, n2 in [(30, 40), (50, 3), (8, 9)]:
        a, b = rng.lognormal(0, 0.05, n1), rng.lognormal(0.03, 0.05, n2)
        p, shift, low, high = compare_samples(a, b)
        method = "exact" if n1 + n2 <= 20 else "asymptotic"
        assert p == pytest.approx(mannwhitneyu(b, a, method=method).pvalue, rel=1e-9)
        assert shift == pytest.approx(np.median(np.subtract.outer(b, a)))
        assert low <= shift <= high
    # ties (quantised track values) take the tie-corrected approximation
    a, b = np.array([1.0, 1, 2, 2, 2, 3] * 4), np.array([2.0, 3, 3, 3, 4, 4] * 4)
    assert compare_samples(a, b)[0] == pytest.approx(
        mannwhitneyu(b, a, method="asymptotic").pvalue, rel=1e-9
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(-1e3, 1e3, allow_nan=False),
            st.just(0.0),
            st.just(float("nan")),
            st.floats(1e-9, 1e-6),
        ),
        max_size=60,
    ),
    st.sampled_from([("time", "seconds"), ("track", "GFLOPS"), ("track", None)]),
)
def test_any_series_gives_a_well_formed_table(values: list[float], kind_unit: tuple) -> None:
    kind, unit = kind_unit
    found = find_regressions(series(np.array(values, dtype=float), kind=kind, unit=unit))
    assert list(found.columns) == COLUMNS
    assert set(found["kind"]) <= {"regression", "improvement"}
    assert found["significance"].dropna().between(0, 1).all()


# ------------------------------------------------------------------------------------------
# outliers, the threshold rule, noise models

ALL_KINDS = ("regression", "improvement", "below threshold", "outlier")


@pytest.mark.parametrize("factor", [0.5, 0.7, 1.6, 2.5])
@pytest.mark.parametrize("at", [3, 8, 30])
def test_an_outlier_either_way_does_not_hide_a_step(
    tmp_path: Path, capsys: pytest.CaptureFixture, factor: float, at: int
) -> None:
    y = noisy({25: 1.25}, n=40)
    y[at] *= factor
    db = write_asv_db(tmp_path / "results", {"bench.A.time_slow": y})
    assert main(["regressions", "--results", str(db), "--json", "--outliers"]) == 1
    out = json.loads(capsys.readouterr().out)
    regs = [o for o in out if o["kind"] == "regression"]
    assert [o["commit"] for o in regs] == [commit(25)]
    assert regs[0]["ratio"] == pytest.approx(1.25, abs=0.03)
    outliers = [o["commit"] for o in out if o["kind"] == "outlier"]
    # a fast run is reported as an outlier (never as a regression); a slow one is noise
    assert outliers == ([commit(at)] if factor < 1 else [])


@pytest.mark.parametrize("step", [1.03, 1.045, 1.05, 1.055, 1.07, 1.2])
@pytest.mark.parametrize("cv", [0.003, 0.01, 0.02])
def test_nothing_below_the_threshold_is_a_regression(step: float, cv: float) -> None:
    found = find_regressions(
        series(noisy({40: step}, cv=cv, seed=int(step * 1000))), kinds=ALL_KINDS
    )
    regs = found[found["kind"] == "regression"]
    assert (regs["ratio"] >= regs["min_effect"] + 1 - 1e-12).all()
    assert (regs["ratio"] >= 1.05).all()
    small = found[found["kind"] == "below threshold"]
    assert (small["ratio"] < 1 + small["min_effect"]).all()
    if step >= 1.07:
        assert list(regs["first_bad_commit"]) == [commit(40)]
    if step <= 1.045 and cv <= 0.003:
        # significant, but smaller than asked for: listed apart, never failing the gate
        assert list(small["first_bad_commit"]) == [commit(40)] and regs.empty
        assert not small["fails_gate"].any() and set(small["direction"]) == {"worse"}


def test_noisy_and_bimodal_series_need_bigger_changes() -> None:
    rng = np.random.default_rng(5)
    # two levels 12 % apart taking turns; the slow one's share grows from 20 % to 45 %
    share = np.r_[np.full(60, 0.2), np.full(60, 0.45)]
    y = 1e-3 * np.where(rng.random(120) < share, 1.12, 1.0) * rng.lognormal(0, 0.002, 120)
    found = find_regressions(series(y), kinds=ALL_KINDS)
    assert not (found["kind"] == "regression").any()
    assert set(found["noise_model"]) <= {"bimodal"}
    # a real 30 % step on the same benchmark is still reported, and said to be bimodal
    big = find_regressions(series(np.r_[y[:60], y[60:] * 1.3]))
    assert list(big["kind"]) == ["regression"] and big.iloc[0].noise_model == "bimodal"
    assert big.iloc[0].min_effect > 0.05
    # 6 % noise per run: a 7 % step is significant but under twice the run-to-run noise
    noisy_y = noisy({100: 1.07}, n=200, cv=0.06, seed=2)
    found = find_regressions(series(noisy_y), kinds=ALL_KINDS)
    assert not (found["kind"] == "regression").any()
    assert (found["noise_model"] == "noisy").all() and (found["min_effect"] > 0.08).all()


@pytest.mark.parametrize(
    "values",
    [
        [0.0, 0.0, 0.0, 0.0, 1e300, 1e300, 1e300, 1e300],
        [-1.0, -2.0, -1.0, -3.0, 1e308, 1e308, 1e308, 1e308, 1e308],
        [1e-300] * 10 + [1e300] * 10,
        [1e-3] * 5 + [0.0] * 5 + [-5.0] * 5 + [1e9] * 5,
        [1.0, float("nan"), float("inf"), -float("inf")] * 6,
    ],
)
def test_extreme_series_give_a_well_formed_table(values: list[float]) -> None:
    found = find_regressions(series(np.array(values)), kinds=ALL_KINDS)
    assert list(found.columns) == COLUMNS
    assert set(found["kind"]) <= set(ALL_KINDS)


def test_missing_commits_keep_the_step_at_its_commit() -> None:
    t = series(noisy({50: 1.2}))
    t = t[~t["commit_order"].isin([10, 11, 12, 48, 49, 51])]
    found = find_regressions(t)
    assert list(found["first_bad_commit"]) == [commit(50)]
    assert found.iloc[0].last_good_commit == commit(47)


# ------------------------------------------------------------------------------------------
# corroboration on a multi-machine database


def machines_table() -> pd.DataFrame:
    """One benchmark on four machines: a +20 % step at commit 40 on a and b, none on c, and
    d ran only commits 55-79 (it cannot say anything about commit 40)."""
    return pd.concat(
        [
            series(noisy({40: 1.2}, seed=1), machine="a"),
            series(noisy({40: 1.2}, seed=2) * 3, machine="b"),  # another level, same step
            series(noisy({}, seed=3), machine="c"),
            series(noisy({}, seed=4), machine="d").iloc[55:],
        ]
    )


def test_corroboration_counts_other_series_at_the_same_commits() -> None:
    found = find_regressions(machines_table()).set_index("machine")
    assert sorted(found.index) == ["a", "b"]
    assert found.loc["a", "corroboration"] == 1
    assert found.loc["a", "corroborated_by"] == ["b:venv"]
    assert found.loc["a", "not_seen_by"] == ["c:venv"]  # d never ran those commits
    assert found.loc["b", "corroborated_by"] == ["a:venv"]


def test_corroboration_tolerates_three_commits_and_needs_the_same_direction() -> None:
    t = pd.concat(
        [
            series(noisy({40: 1.2}, seed=1), machine="a"),
            series(noisy({43: 1.2}, seed=2), machine="b"),  # 3 commits later: same change
            series(noisy({40: 1 / 1.2}, seed=3), machine="c"),  # the other way
            series(noisy({48: 1.2}, seed=4), machine="e"),  # too far
        ]
    )
    found = find_regressions(t, kinds=ALL_KINDS)
    a = found[(found["machine"] == "a")].iloc[0]
    assert a.corroborated_by == ["b:venv"]
    assert sorted(a.not_seen_by) == ["c:venv", "e:venv"]


def test_cli_min_corroboration_filters_and_json_carries_it(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    root = tmp_path / "results"
    for name, values in (
        ("a", noisy({40: 1.2}, seed=1)),
        ("b", noisy({40: 1.2}, seed=2)),
        ("c", noisy({}, seed=3)),
        ("d", noisy({20: 1.2}, seed=4)),
    ):
        one = write_asv_db(tmp_path / f"one-{name}", {"bench.A.time_x": values})
        root.mkdir(exist_ok=True)
        (one / "box" / "machine.json").write_text(json.dumps({"machine": name, "version": 1}))
        (one / "box").rename(root / name)
        (one / "benchmarks.json").replace(root / "benchmarks.json")
    assert main(["regressions", "--results", str(root), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    # sorted by corroboration: the change seen on two machines first
    assert [o["corroboration"] for o in out] == [1, 1, 0]
    assert {o["machine"] for o in out[:2]} == {"a", "b"} and out[2]["machine"] == "d"
    a = next(o for o in out if o["machine"] == "a")
    assert a["corroborated_by"] == ["b:venv"] and sorted(a["not_seen_by"]) == ["c:venv", "d:venv"]
    assert main(["regressions", "--results", str(root), "--json", "--min-corroboration", "1"]) == 1
    assert {o["machine"] for o in json.loads(capsys.readouterr().out)} == {"a", "b"}
    assert main(["regressions", "--results", str(root), "--json", "--min-corroboration", "2"]) == 0
    assert json.loads(capsys.readouterr().out) == []


# ------------------------------------------------------------------------------------------
# the gate never passes on nothing


def _truncate(path: Path, keep: int = 200) -> None:
    path.write_text(path.read_text()[:keep])


@pytest.mark.parametrize("case", ["empty", "foreign", "newest truncated", "all truncated"])
@pytest.mark.parametrize("as_json", [True, False])
def test_gate_fails_when_it_has_nothing_to_judge(
    tmp_path: Path, capsys: pytest.CaptureFixture, case: str, as_json: bool
) -> None:
    root = tmp_path / "results"
    if case == "empty":
        root.mkdir()
    elif case == "foreign":
        root = Path(__file__).resolve().parents[1]  # the repository: not an asv database
    else:
        write_asv_db(root, {"bench.A.time_x": noisy({}, n=40)})
        for i in range(40) if case == "all truncated" else (38, 39):
            _truncate(root / "box" / f"{commit(i)[:8]}-venv.json")
    argv = ["regressions", "--results", str(root)] + (["--json"] if as_json else [])
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip().splitlines()
    assert err[-1].startswith("tensorbench: error: ") and str(root) in err[-1]
    if "truncated" in case:
        assert f"skipped {root / 'box' / commit(39)[:8]}-venv.json: invalid JSON" in captured.err


def test_an_old_unreadable_file_is_reported_but_judged_around(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    root = write_asv_db(tmp_path / "results", {"bench.A.time_x": noisy({25: 1.25}, n=40)})
    _truncate(root / "box" / f"{commit(5)[:8]}-venv.json")
    assert main(["regressions", "--results", str(root), "--json"]) == 1
    captured = capsys.readouterr()
    assert [o["commit"] for o in json.loads(captured.out)] == [commit(25)]
    assert f"{commit(5)[:8]}-venv.json: invalid JSON" in captured.err


# ------------------------------------------------------------------------------------------
# acknowledgements that cannot work


@pytest.mark.parametrize("raw", [b"\xff\xfe[\x00[\x00", b'[[acknowledged]]\nreason = "caf\xe9"\n'])
def test_non_utf8_acknowledgements_exit_2_with_one_line(
    db: Path, capsys: pytest.CaptureFixture, raw: bytes
) -> None:
    (db / "acknowledged.toml").write_bytes(raw)
    assert main(["regressions", "--results", str(db)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "acknowledged.toml" in err[0] and "not UTF-8" in err[0]
    with pytest.raises(InputError, match="not UTF-8"):
        load_acknowledged(db / "acknowledged.toml")


def test_acknowledgements_matching_nothing_are_warned_about(
    db: Path, capsys: pytest.CaptureFixture
) -> None:
    (db / "acknowledged.toml").write_text(
        f'[[acknowledged]]\nbenchmark = "bench.A.*"\ncommit = "{commit(25)[:8]}"\n\n'
        '[[acknowledged]]\nbenchmark = "bench.Typo.*"\ncommit = "abcdef12"\n\n'
        '[[acknowleged]]\nbenchmark = "bench.B.*"\ncommit = "1234"\n'
    )
    assert main(["regressions", "--results", str(db), "--json"]) == 0  # the first one holds
    err = capsys.readouterr().err
    assert "acknowledged.toml:5: benchmark 'bench.Typo.*' matches no benchmark" in err
    assert "acknowledged.toml:5: commit 'abcdef12' matches no commit" in err
    assert "table [acknowleged] is not [[acknowledged]]" in err
    assert "bench.A" not in err


def test_series_memo_gives_the_same_rows() -> None:
    """Noise models and change points are kept by series fingerprint; a rescan reuses them
    and finds exactly what a fresh scan finds."""
    from tensorbench.analysis import perseries

    table = pd.concat(
        [
            series(noisy({50: 1.2}, seed=1), benchmark="b.S.time_a"),
            series(noisy({30: 0.8}, seed=2), benchmark="b.S.time_b"),
        ]
    )
    perseries._SERIES_MEMO.clear()
    fresh = find_regressions(table, kinds=KINDS_ALL)
    assert len(perseries._SERIES_MEMO) == 2
    again = find_regressions(table, kinds=KINDS_ALL)
    pd.testing.assert_frame_equal(fresh, again)
    other = find_regressions(table, threshold=0.5, kinds=KINDS_ALL)  # same series, same models
    assert len(perseries._SERIES_MEMO) == 2
    assert set(other["kind"]) <= {"below threshold", "outlier"}
    assert len(fresh[fresh["kind"] == "regression"]) == 1
