"""tensorbench.analysis.asvfile: one result file written and read back as asv writes and reads it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tensorbench.analysis.asvfile import (
    PER_COMBINATION,
    RESULT_COLUMNS,
    BadResultFile,
    read_result_file,
    write_result_file,
)

HEADER = {
    "commit_hash": "a" * 40,
    "env_name": "virtualenv-py3.11",
    "date": 1_700_000_000_000,
    "params": {"machine": "m1", "python": "3.11"},
    "python": "3.11",
    "requirements": {"numpy": "2.1.3"},
    "env_vars": {"OMP_NUM_THREADS": "2"},
    "durations": {"<build>": 12.5},
    "tensorbench": {"skip_reasons": {"suite.M.time_m": {"backend='x', size=2": "no x"}}},
}

# A grid of 2 x 2: one ok, one failed (None), one skipped (NaN), one ok with no interval.
ROWS = {
    "suite.M.time_m": {
        "result": [1.5e-3, None, math.nan, 2.5e-3],
        "params": [["'numpy:cpu'", "'x'"], ["1", "2"]],
        "version": "abc",
        "started_at": 1_700_000_000_100,
        "duration": 3.25,
        "stats_ci_99_a": [1.4e-3, None, None, None],
        "stats_ci_99_b": [1.6e-3, None, None, None],
        "stats_q_25": [1.45e-3, None, None, 2.4e-3],
        "stats_q_75": [1.55e-3, None, None, 2.6e-3],
        "stats_number": [100, None, None, 10],
        "stats_repeat": [5, None, None, 5],
        "samples": [[1.5e-3, 1.4e-3], None, None, [2.5e-3]],
    },
    "suite.T.track_t": {"result": [7.0]},  # no parameters, nothing but a value
    "suite.F.time_failed": {"result": [None, None], "params": [["1", "2"]]},
}


def same(a: object, b: object) -> bool:
    """Equal, NaN equal to NaN (as a skipped result is in asv)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def full_row(row: dict) -> dict:
    """What the reader returns for a written row: every column, per-combination ones as lists."""
    n = math.prod(len(p) for p in row.get("params", []))
    out = {c: row.get(c, [None] * n if c in PER_COMBINATION else None) for c in RESULT_COLUMNS}
    out["params"] = row.get("params", [])
    return out


@pytest.mark.parametrize("version", [1, 2])
def test_written_values_read_back(tmp_path: Path, version: int) -> None:
    path = tmp_path / "m1" / "aaaaaaaa-virtualenv-py3.11.json"
    write_result_file(path, HEADER, ROWS, version=version)
    back = read_result_file(path)
    assert back.version == version
    assert same(back.header, HEADER)
    assert back.rows.keys() == ROWS.keys()
    for name, row in ROWS.items():
        assert same(back.rows[name], full_row(row)), name
    failed = back.rows["suite.M.time_m"]["result"]
    assert failed[1] is None and math.isnan(failed[2])  # failed stays None, skipped NaN


def test_format2_is_written_as_asv_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    write_result_file(path, HEADER, ROWS)
    raw = json.loads(path.read_text())
    assert list(raw)[:9] == [
        "commit_hash",
        "env_name",
        "date",
        "params",
        "python",
        "requirements",
        "env_vars",
        "result_columns",
        "results",
    ]
    assert raw["version"] == 2 and raw["result_columns"] == list(RESULT_COLUMNS)
    assert raw["tensorbench"] == HEADER["tensorbench"]
    # trailing columns without a value are dropped; params defaults to []
    assert raw["results"]["suite.T.track_t"] == [[7.0], []]
    # a column of nothing but nulls is one null (asv: all-None lists are stored as None)
    assert raw["results"]["suite.F.time_failed"] == [None, [["1", "2"]]]
    assert len(raw["results"]["suite.M.time_m"]) == RESULT_COLUMNS.index("samples") + 1


def test_asv_reads_what_is_written(tmp_path: Path) -> None:
    results = pytest.importorskip("asv.results")
    params = ROWS["suite.M.time_m"]["params"]
    for version in (1, 2):
        path = tmp_path / "m1" / f"aaaaaaaa-env{version}.json"
        write_result_file(path, HEADER, ROWS, version=version)
        if version == 1:
            results.Results.update(str(path))  # asv loads format 1 only through `asv update`
        r = results.Results.load(str(path))
        value = r.get_result_value("suite.M.time_m", params)
        assert value[0] == 1.5e-3 and value[1] is None and math.isnan(value[2])
        stats = r.get_result_stats("suite.M.time_m", params)
        assert stats[0]["ci_99_a"] == 1.4e-3 and stats[3]["q_25"] == 2.4e-3
        assert r.get_result_samples("suite.M.time_m", params)[0] == [1.5e-3, 1.4e-3]
        assert r.get_result_value("suite.T.track_t", []) == [7.0]
        assert r.benchmark_version["suite.M.time_m"] == "abc"
        assert r.started_at["suite.M.time_m"] == 1_700_000_000_100


def test_format1_rewritten_by_asv_equals_format2(tmp_path: Path) -> None:
    """asv's own conversion of a written format 1 file gives the format 2 file written."""
    results = pytest.importorskip("asv.results")
    old, new = tmp_path / "m" / "aaaaaaaa-v1.json", tmp_path / "m" / "aaaaaaaa-v2.json"
    write_result_file(old, HEADER, ROWS, version=1)
    write_result_file(new, HEADER, ROWS, version=2)
    results.Results.update(str(old))
    rewritten, ours = json.loads(old.read_text()), json.loads(new.read_text())
    ours.pop("tensorbench")  # asv's conversion keeps only the fields it knows
    assert json.dumps(rewritten, sort_keys=True) == json.dumps(ours, sort_keys=True)


def test_every_real_file_reads_back_unchanged(tmp_path: Path) -> None:
    """The committed and shared databases, written again in either format, read the same."""
    roots = [Path("results"), *Path("../shared/data/asv-results").glob("*")]
    files = [
        p
        for root in roots
        for p in sorted(root.rglob("*.json"))[:40]
        if p.name not in ("benchmarks.json", "machine.json")
    ]
    if not files:
        pytest.skip("no asv results here")
    for path in files:
        rf = read_result_file(path)
        for version in (1, 2):
            write_result_file(tmp_path / "x.json", rf.header, rf.rows, version=version)
            back = read_result_file(tmp_path / "x.json")
            assert same(back.header, rf.header) and same(back.rows, rf.rows), (path, version)


@pytest.mark.parametrize(
    ("header", "rows", "version", "message"),
    [
        (HEADER, {"b.time_x": {"result": [1.0], "gpu_temp": 1}}, 2, "unknown result column"),
        (HEADER, {"b.time_x": {"params": []}}, 2, "no 'result'"),
        ({**HEADER, "results": {}}, {}, 2, "the writer sets"),
        (HEADER, {}, 3, "1 and 2 are written"),
    ],
)
def test_writer_refuses_what_asv_would_not_read(
    tmp_path: Path, header: dict, rows: dict, version: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        write_result_file(tmp_path / "r.json", header, rows, version=version)
    assert not (tmp_path / "r.json").exists()


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    write_result_file(path, HEADER, ROWS)
    before = path.read_bytes()
    with pytest.raises(TypeError):
        write_result_file(path, {**HEADER, "env_vars": {"X": object()}}, ROWS)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "top level is a list"),
        ('{"version": 3}', "format version 3"),
        ('{"version": 2, "commit_hash": "a", "results": {}}', "missing key 'result_columns'"),
        (
            '{"version": 2, "commit_hash": "a", "result_columns": ["result"], '
            '"results": {"b": {"result": 1}}}',
            "entry is a dict",
        ),
    ],
)
def test_reader_names_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(BadResultFile, match=message):
        read_result_file(path)


def test_timestamp_bounds_are_pandas_own() -> None:
    """The reader's ms bounds are written out (no pandas import to read a file): they must be
    the timestamps pandas can hold, or the table would fail on a file the reader let in."""
    import pandas as pd

    from tensorbench.analysis.asvfile import MS_MAX, MS_MIN

    assert MS_MIN == pd.Timestamp.min.value // 1_000_000 + 1
    assert MS_MAX == pd.Timestamp.max.value // 1_000_000 - 1
