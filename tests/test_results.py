"""tensorbench.analysis.results: real asv databases, synthetic ones, and every kind of broken file."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tensorbench.analysis.results import (
    COLUMNS,
    RESULT_COLUMNS,
    fingerprint,
    load_results,
)
from tensorbench.errors import InputError

COLS = list(RESULT_COLUMNS)


def result_file(entries: dict, **header) -> dict:
    d = {
        "commit_hash": "a" * 40,
        "env_name": "virtualenv-py3.11",
        "date": 1_700_000_000_000,
        "params": {"machine": "m1", "python": "3.11"},
        "python": "3.11",
        "requirements": {},
        "env_vars": {},
        "result_columns": COLS,
        "results": entries,
        "durations": {},
        "version": 2,
    }
    d.update(header)
    return d


def make_db(root: Path, files: dict[str, object], benchmarks: dict | None = None) -> Path:
    """An asv results dir with machine m1 and the given result files (dicts or raw text)."""
    (root / "m1").mkdir(parents=True)
    (root / "m1" / "machine.json").write_text(json.dumps({"machine": "m1", "version": 1}))
    bench = benchmarks or {
        "suite.Matmul.time_matmul": {
            "name": "suite.Matmul.time_matmul",
            "type": "time",
            "unit": "seconds",
            "param_names": ["backend", "size"],
            "params": [["'numpy:cpu'", "'torch:cpu'"], ["64", "128"]],
            "version": "v1",
        },
        "suite.Other.track_thing": {"name": "suite.Other.track_thing", "type": "track"},
    }
    (root / "benchmarks.json").write_text(json.dumps({**bench, "version": 2}))
    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (root / "m1" / name).write_text(text)
    return root


GOOD_ENTRY = [
    [1.0, None, float("nan"), 4.0],
    [["'numpy:cpu'", "'torch:cpu'"], ["64", "128"]],
    "v1",
    1_700_000_060_000,
    2.0,
    [0.9, None, None, 3.9],
    [1.1, None, None, 4.1],
]


# --------------------------------------------------------------------------------------------
# real databases


def test_openblas(shared_data: Path) -> None:
    db = load_results(shared_data / "asv-results" / "openblas-benchmarks")
    t = db.table
    assert list(t.columns) == list(COLUMNS)
    assert db.skipped == []
    assert set(db.machines) == {"gha-aws-graviton", "gha-aws-skylake", "gha-ubuntu-noble"}
    assert t["benchmark"].nunique() == 18
    assert 80 <= t.groupby("machine", observed=True)["commit"].nunique().min() <= 100
    # size x dtype parameters, product order: size varies slowest
    nrm2 = t[(t.benchmark == "benchmarks.Nrm2.time_nrm2") & (t.machine == "gha-aws-skylake")]
    first = nrm2[nrm2.commit == nrm2.commit.iloc[0]]
    assert list(first.param_key[:3]) == ["size=100, variant='d'", "size=100, variant='dz'"] + [
        "size=200, variant='d'"
    ]
    assert first.params.iloc[0] == {"size": 100, "variant": "d"}
    assert (t.unit == "seconds").all() and (t.kind == "time").all()
    assert t.commit_date.dt.tz is not None
    assert (t.ci_low <= t.value).mean() > 0.99 and (t.value <= t.ci_high).mean() > 0.99
    assert t.workload.isna().all()  # not tensorbench's benchmarks
    assert db.order_source == "date"
    # commit order follows commit date
    by_commit = t.groupby("commit", observed=True).agg(
        o=("commit_order", "first"), d=("commit_date", "first")
    )
    assert by_commit.sort_values("o")["d"].is_monotonic_increasing


def test_kedro_bracket_env_and_kinds(shared_data: Path) -> None:
    db = load_results(shared_data / "asv-results" / "kedro-benchmark-results")
    t = db.table
    assert db.skipped == []
    assert "virtualenv-py3.11-kedro-datasets[pandas]" in set(t["env"])
    assert {"time", "mem", "peakmem"} <= set(t["kind"])
    assert set(t.loc[t.kind == "peakmem", "unit"]) == {"bytes"}
    assert (t.param_key == "").any()
    env_rows = db.envs[db.envs.env == "virtualenv-py3.11-kedro-datasets[pandas]"]
    assert len(env_rows) == 1 and env_rows.iloc[0].python == "3.11"
    assert t["commit"].nunique() > 400


def test_conda_format_v1(shared_data: Path) -> None:
    db = load_results(shared_data / "asv-results" / "conda-benchmarks-v1")
    t = db.table
    assert db.skipped == []
    assert len(t) > 5000
    assert t["commit"].nunique() == 346
    assert {"time", "peakmem"} <= set(t["kind"])
    assert (t.status == "failed").any()  # v1 null results are failures, not lost rows
    # the machine folder holding only machine.json is still a machine
    assert "Daniels-MBP.monotreme.club" in db.machines
    assert t.commit_date.min().year == 2015


# --------------------------------------------------------------------------------------------
# synthetic and hand-made databases


def test_statuses_and_columns(tmp_path: Path) -> None:
    root = make_db(
        tmp_path / "r",
        {"aaaaaaaa-virtualenv-py3.11.json": result_file({"suite.Matmul.time_matmul": GOOD_ENTRY})},
    )
    t = load_results(root).table
    assert list(t.status) == ["ok", "failed", "skipped", "ok"]
    assert t.value.iloc[0] == 1.0 and math.isnan(t.value.iloc[1]) and math.isnan(t.value.iloc[2])
    assert list(t.param_key) == [
        "backend='numpy:cpu', size=64",
        "backend='numpy:cpu', size=128",
        "backend='torch:cpu', size=64",
        "backend='torch:cpu', size=128",
    ]
    assert list(t.backend) == ["numpy", "numpy", "torch", "torch"]
    assert set(t.device) == {"cpu"} and list(t["size"]) == [64, 128, 64, 128]
    assert set(t.workload) == {"matmul"}
    assert t.ci_low.iloc[0] == 0.9 and math.isnan(t.ci_low.iloc[1])
    assert t.started_at.iloc[0] == pd.Timestamp(1_700_000_060_000, unit="ms", tz="UTC")
    assert t.samples.iloc[0] is None
    assert t.version_current.all()


def test_trailing_columns_dropped_and_samples(tmp_path: Path) -> None:
    entry = [[2.0], [], "v9", None, None, None, None, None, None, None, None, [[1.0, 2.0, 3.0]]]
    root = make_db(tmp_path / "r", {"x.json": result_file({"suite.Other.track_thing": entry})})
    t = load_results(root).table
    assert t.samples.iloc[0] == (1.0, 2.0, 3.0)
    assert t.kind.iloc[0] == "track" and t.param_key.iloc[0] == ""
    assert math.isnan(t.started_at.iloc[0].value) or pd.isna(t.started_at.iloc[0])


def test_synthetic_tensorbench_db(synthetic_results) -> None:
    root = synthetic_results(commits=6, machines=("a", "b"))
    db = load_results(root)
    t = db.table
    assert len(t) == 2 * 6 * 2 * 3 * 3  # machines x commits x workloads x backends x sizes
    assert set(t.workload) == {"matmul", "conv2d"}
    assert set(t.backend) == {"numpy", "torch", "jax"}
    assert set(t.dtype) == {"float32"}
    assert sorted(t.commit_order.unique()) == list(range(6))
    assert db.envs.n_commits.tolist() == [6, 6]


def test_commit_order_follows_git(tmp_path: Path) -> None:
    """Results beside their repository follow git order, even against commit dates."""
    repo = tmp_path / "proj"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    hashes = []
    for i in range(3):
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", f"c{i}"], check=True)
        out = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True)
        hashes.append(out.stdout.strip())
    files = {}
    for i, h in enumerate(hashes):
        # dates deliberately reversed: git order must win
        files[f"{h[:8]}-env.json"] = result_file(
            {"suite.Other.track_thing": [[float(i)], []]}, commit_hash=h, date=10_000 - i
        )
    root = make_db(repo / "results", files)
    db = load_results(root)
    assert db.order_source == "git"
    order = db.table.set_index("commit")["commit_order"].to_dict()
    assert [order[h] for h in hashes] == [0, 1, 2]
    # the same files away from the repository: date order
    moved = shutil.copytree(root, tmp_path / "elsewhere")
    db2 = load_results(moved)
    assert db2.order_source == "date"
    order2 = db2.table.set_index("commit")["commit_order"].to_dict()
    assert [order2[h] for h in hashes] == [2, 1, 0]
    # an explicit repo argument
    assert load_results(moved, repo=repo).order_source == "git"


def test_missing_dir_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_results(tmp_path / "nope")


def test_empty_dir(tmp_path: Path) -> None:
    db = load_results(tmp_path)
    assert list(db.table.columns) == list(COLUMNS) and len(db.table) == 0
    assert db.skipped == [] and db.machines == {}


def test_fingerprint_changes_with_files(synthetic_results) -> None:
    root = synthetic_results(commits=2)
    before = fingerprint(root)
    assert len(before) == 1 + 1 + 2  # benchmarks.json, machine.json, 2 result files
    assert fingerprint(root) == before
    extra = root / "laptop" / "ffffffff-env.json"
    extra.write_text("{}")
    assert fingerprint(root) != before


# --------------------------------------------------------------------------------------------
# broken files: each skipped and reported, the rest kept

BAD_FILES = {
    "truncated": json.dumps(result_file({"suite.Other.track_thing": [[1.0], []]}))[:-40],
    "empty": "",
    "not json": "<html>oops</html>",
    "a list": "[1, 2, 3]",
    "foreign object": json.dumps({"name": "some other tool", "values": [1, 2]}),
    "future version": json.dumps(result_file({}, version=3)),
    "missing results": json.dumps({k: v for k, v in result_file({}).items() if k != "results"}),
    "commit not a string": json.dumps(result_file({}, commit_hash=12)),
    "results not a dict": json.dumps(result_file({}, results=[1, 2])),
    "unknown column": json.dumps(result_file({}, result_columns=[*COLS, "gpu_temp"])),
    "column not a string": json.dumps(result_file({}, result_columns=[["result"]])),
    "date a string": json.dumps(result_file({}, date="yesterday")),
    "date huge": json.dumps(result_file({}, date=10**400)),
    "date infinite": json.dumps(result_file({}, date=float("inf"))),
    "nan bytes": "\x00\x00\x00",
}

BAD_ENTRIES = {
    "entry a number": 5,
    "result a string": [["fast"], []],
    "result wrong length": [[1.0, 2.0], []],
    "params not lists": [[1.0], "size"],
    "params of numbers": [[1.0, 2.0], [[1, 2]]],
    "ci wrong length": [[1.0], [], None, None, None, [1.0, 2.0]],
    "ci a string": [[1.0], [], None, None, None, ["low"]],
    "started_at a string": [[1.0], [], None, "noon"],
    "samples not lists": [[1.0], [], None, None, None, None, None, None, None, None, None, [3]],
    "nested result": [[[1.0, 2.0]], []],
    "result a dict": [[{"v": 1}], []],
    "result too large": [[10**400], []],
}


@pytest.mark.parametrize("label", sorted(BAD_FILES))
def test_bad_file_is_skipped_and_listed(tmp_path: Path, label: str) -> None:
    good = result_file({"suite.Matmul.time_matmul": GOOD_ENTRY})
    root = make_db(tmp_path / "r", {"good.json": good, "bad.json": BAD_FILES[label]})
    db = load_results(root)
    assert [Path(s.path).name for s in db.skipped] == ["bad.json"], db.skipped
    assert db.skipped[0].reason
    assert len(db.table) == 4  # nothing of the good file is lost


@pytest.mark.parametrize("label", sorted(BAD_ENTRIES))
def test_bad_entry_is_skipped_and_listed(tmp_path: Path, label: str) -> None:
    results = {
        "suite.Matmul.time_matmul": GOOD_ENTRY,
        "suite.Other.track_thing": BAD_ENTRIES[label],
    }
    root = make_db(tmp_path / "r", {"f.json": result_file(results)})
    db = load_results(root)
    assert len(db.skipped) == 1, db.skipped
    assert "suite.Other.track_thing" in db.skipped[0].reason
    assert set(db.table.benchmark) == {"suite.Matmul.time_matmul"} and len(db.table) == 4


def test_bad_benchmarks_and_machine_json(tmp_path: Path) -> None:
    root = make_db(
        tmp_path / "r", {"f.json": result_file({"suite.Matmul.time_matmul": GOOD_ENTRY})}
    )
    (root / "benchmarks.json").write_text('{"truncated": ')
    (root / "m1" / "machine.json").write_text("[]")
    (root / "stray.json").write_text("{}")
    db = load_results(root)
    assert sorted(Path(s.path).name for s in db.skipped) == [
        "benchmarks.json",
        "machine.json",
        "stray.json",
    ]
    t = db.table
    assert len(t) == 4
    # without benchmarks.json asv's fallback names apply and the kind comes from the name
    assert t.param_key.iloc[0] == "param1='numpy:cpu', param2=64"
    assert t.kind.iloc[0] == "time" and t.unit.iloc[0] == "seconds"


def test_benchmark_version_change_is_flagged(tmp_path: Path) -> None:
    old = [*GOOD_ENTRY[:2], "v0"]
    root = make_db(tmp_path / "r", {"f.json": result_file({"suite.Matmul.time_matmul": old})})
    assert not load_results(root).table.version_current.any()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    entry=json_values,
    header=st.dictionaries(
        st.sampled_from(
            ["commit_hash", "date", "env_name", "params", "results", "result_columns", "version"]
        ),
        json_values,
        max_size=3,
    ),
)
def test_any_json_never_crashes(tmp_path_factory: pytest.TempPathFactory, entry, header) -> None:
    """Whatever a file holds, load_results returns; good data beside it is kept."""
    root = tmp_path_factory.mktemp("fuzz")
    fuzzed = result_file({"suite.Other.track_thing": entry})
    fuzzed.update(header)
    good = result_file({"suite.Matmul.time_matmul": GOOD_ENTRY}, commit_hash="b" * 40)
    make_db(root, {"good.json": good, "fuzz.json": fuzzed})
    db = load_results(root)
    good_rows = db.table[db.table.commit == "b" * 40]
    assert len(good_rows) == 4
    for s in db.skipped:
        assert Path(s.path).name == "fuzz.json" and s.reason


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(min_value=0, max_value=400))
def test_truncated_at_any_byte(tmp_path_factory: pytest.TempPathFactory, cut: int) -> None:
    root = tmp_path_factory.mktemp("cut")
    text = json.dumps(result_file({"suite.Matmul.time_matmul": GOOD_ENTRY}))
    make_db(root, {"f.json": text[: min(cut, len(text) - 1)]})
    db = load_results(root)
    assert len(db.table) == 0 and len(db.skipped) == 1


# --------------------------------------------------------------------------------------------
# regression fallback


def test_skip_reasons_threads_and_gpu_skips(synthetic_results) -> None:
    root = synthetic_results(
        commits=3,
        backends=("numpy:cpu", "torch:cuda"),
        machines=("laptop", "gpu-box"),
        threads=(1, 2),
    )
    db = load_results(root)
    t = db.table
    laptop_cuda = t[(t.machine == "laptop") & (t.device == "cuda")]
    assert (laptop_cuda.status == "skipped").all()
    assert set(laptop_cuda.reason) == {"no CUDA device on this machine"}
    assert (t[t.machine == "gpu-box"].status == "ok").all()
    assert t[t.status == "ok"].reason.isna().all()
    threaded = t[t.threads.notna()]
    assert set(threaded.workload) == {"matmul"}  # time_matmul_threads is matmul's twin
    assert set(threaded.threads) == {1.0, 2.0}
    assert db.envs.tensorbench.iloc[0]["suites"] == ["synthetic"]


def test_recorded_work_and_reasons_from_hand_made_file(tmp_path: Path) -> None:
    ours = {
        "work": {"suite.Matmul.time_matmul": {"backend='numpy:cpu', size=64": {"flops": 5e5}}},
        "skip_reasons": {"suite.Matmul.time_matmul": {"backend='torch:cpu', size=64": "no"}},
    }
    f = result_file({"suite.Matmul.time_matmul": GOOD_ENTRY}, tensorbench=ours)
    t = load_results(make_db(tmp_path / "r", {"f.json": f})).table
    assert t.work_flops.iloc[0] == 5e5 and t.work_flops.iloc[1:].isna().all()
    assert t.work_edges.isna().all()
    assert t.reason.iloc[2] == "no" and t.reason.drop(index=2).isna().all()


def test_versions_and_modes_from_tensorbench_facts(synthetic_results) -> None:
    """Versions come from the facts `tensorbench info` writes (under "backends"), and each
    framework is listed with the modes its ok results were measured in."""
    import json

    from tensorbench.analysis.results import framework_versions, modes_measured

    root = synthetic_results(commits=2)
    for path in sorted(root.glob("*/*-*.json")):
        data = json.loads(path.read_text())
        data.setdefault("tensorbench", {})["facts"] = {
            "threads": 2,
            "backends": {"torch": {"version": "2.13.0+cpu"}, "mxnet": {"version": None}},
        }
        path.write_text(json.dumps(data))
    db = load_results(root, cache=False)
    versions = framework_versions(db.envs)
    ours = versions[versions["source"] == "tensorbench facts"]
    assert set(ours["package"]) == {"torch"} and set(ours["version"]) == {"2.13.0+cpu"}
    measured = modes_measured(db.table)
    assert set(measured.loc[measured["package"] == "torch", "modes"]) == {"eager"}
    assert set(measured.loc[measured["package"] == "jax", "modes"]) == {"compiled"}
