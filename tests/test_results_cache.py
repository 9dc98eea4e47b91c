"""The results cache (tensorbench.analysis.resultcache) and a reader that tolerates file systems.

Every cached read must give the same table as a cold read of the asv files, point for point;
every odd file-system state (loops, duplicates, permissions, huge files, FIFOs) must end in
the right rows and each skipped file listed once, with its reason, and no exception.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from tensorbench.analysis import asvformat, listing, resultcache
from tensorbench.analysis.asvfile import read_result_file, write_result_file
from tensorbench.analysis.results import load_results
from tensorbench.testing import write_asv_shaped_results

pytest.importorskip("pyarrow")


def shaped(root: Path) -> Path:
    return write_asv_shaped_results(
        root / "results", commits=12, benchmarks=8, machines=("m1", "m2")
    )


def same(a, b) -> None:  # noqa: ANN001 - two ResultsDB
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.envs, b.envs)
    assert a.skipped == b.skipped
    assert a.machines == b.machines


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The result files the reader parses (rather than takes from the cache)."""
    seen: list[str] = []
    real = asvformat.parse_result_file

    def spy(path: str, machine: str, ctx):  # noqa: ANN001, ANN202
        seen.append(Path(path).name)
        return real(path, machine, ctx)

    import tensorbench.analysis.results as results

    monkeypatch.setattr(results, "parse_result_file", spy)
    return seen


def test_cache_beside_results_and_used(tmp_path: Path, parsed: list[str]) -> None:
    root = shaped(tmp_path)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    cold = load_results(root)
    cache = resultcache.cache_path(root)
    assert cache.parent == tmp_path and cache.is_file()
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before  # nothing inside
    n = len(parsed)
    assert n == len(list(root.glob("*/*-*.json")))
    warm = load_results(root)
    assert len(parsed) == n  # nothing parsed again
    same(cold, warm)
    same(load_results(root, cache=False), warm)
    # deleting the cache loses nothing
    cache.unlink()
    same(load_results(root), warm)


def _add(root: Path) -> str:
    src = sorted((root / "m1").glob("*-*.json"))[0]
    d = json.loads(src.read_text())
    d["commit_hash"] = "f" * 40
    d["date"] += 10**9
    (root / "m1" / "ffffffff-virtualenv-py3.12.json").write_text(json.dumps(d))
    return "ffffffff-virtualenv-py3.12.json"


def _change(root: Path) -> str:
    path = sorted((root / "m2").glob("*-*.json"))[-1]
    rf = read_result_file(path)
    for row in rf.rows.values():
        row["result"] = [None if v is None else v * 2 for v in row["result"]]
    write_result_file(path, rf.header, rf.rows)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a coarse clock: still new
    return path.name


def _delete(root: Path) -> str:
    path = sorted((root / "m1").glob("*-*.json"))[3]
    path.unlink()
    return ""


def _truncate_result(root: Path) -> str:
    path = sorted((root / "m1").glob("*-*.json"))[-1]
    path.write_bytes(path.read_bytes()[:100])
    return path.name


def _corrupt_cache(root: Path) -> str:
    cache = resultcache.cache_path(root)
    cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2])
    return "*"


def _garbage_cache(root: Path) -> str:
    resultcache.cache_path(root).write_bytes(b"ARROW1 not an Arrow file at all")
    return "*"


def _rewrite_meta(root: Path, change: Callable[[dict], None]) -> None:
    """Rewrite the cache with its metadata changed by ``change``."""
    import pyarrow as pa

    cache = resultcache.cache_path(root)
    with pa.memory_map(str(cache)) as source:
        table = pa.ipc.open_file(source).read_all()
    meta = json.loads(table.schema.metadata[resultcache._META_KEY])
    change(meta)
    table = table.replace_schema_metadata({resultcache._META_KEY: json.dumps(meta).encode()})
    with pa.OSFile(str(cache), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _older_version(root: Path) -> str:
    _rewrite_meta(root, lambda meta: meta.update(reader="an older tensorbench"))
    return "*"


def _lying_cache(root: Path) -> str:
    """A cache that says a file has more rows than the cache holds: not trusted."""
    _rewrite_meta(root, lambda meta: next(iter(meta["files"].values())).update(rows=[0, 10**9]))
    return "*"


def _benchmarks_changed(root: Path) -> str:
    """benchmarks.json rewritten (as every asv run does) with a new version for one benchmark:
    nothing is parsed again, and version_current follows the new benchmarks.json."""
    d = json.loads((root / "benchmarks.json").read_text())
    name = next(k for k in d if k != "version")
    d[name]["version"] = "new"
    (root / "benchmarks.json").write_text(json.dumps(d))
    return ""


EDITS: dict[str, Callable[[Path], str]] = {
    "add a file": _add,
    "change a file": _change,
    "delete a file": _delete,
    "truncate a file": _truncate_result,
    "truncated cache": _corrupt_cache,
    "garbage cache": _garbage_cache,
    "cache from an older tensorbench": _older_version,
    "inconsistent cache": _lying_cache,
    "benchmarks.json rewritten": _benchmarks_changed,
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_cached_read_equals_cold_read(tmp_path: Path, parsed: list[str], edit: str) -> None:
    root = shaped(tmp_path)
    load_results(root)  # writes the cache
    parsed.clear()
    expect = EDITS[edit](root)
    warm = load_results(root)
    # only what changed was parsed; an untrusted cache means everything was
    if expect == "*":
        assert len(parsed) == len(list(root.glob("*/*-*.json")))
    else:
        assert parsed == ([expect] if expect else [])
    cold = load_results(root, cache=False)
    same(cold, warm)
    # and the cache written after the edit is right too
    parsed.clear()
    same(cold, load_results(root))
    assert parsed == []
    if edit == "benchmarks.json rewritten":
        assert not cold.table["version_current"].all()


def test_unreadable_cache_location_still_reads(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    root = shaped(tmp_path)
    (tmp_path / "a-file").write_text("")  # a cache "folder" that is a file: cannot be written
    import tensorbench.analysis.results as results

    monkeypatch.setattr(results, "cache_path", lambda r: tmp_path / "a-file" / "cache.arrow")
    same(load_results(root, cache=False), load_results(root))


# --------------------------------------------------------------------------------------------
# File systems


def _loop(root: Path) -> dict:
    os.symlink("loop-b.json", root / "m1" / "loop-a.json")
    os.symlink("loop-a.json", root / "m1" / "loop-b.json")
    return {
        "rows": 1,
        "skipped": {"m1/loop-a.json": "symlink loop", "m1/loop-b.json": "symlink loop"},
    }


def _dir_loop(root: Path) -> dict:
    os.symlink(".", root / "m1" / "self")  # a folder symlink pointing at its own folder
    os.symlink(root, root / "m1" / "up.json")  # a .json that is a folder: not a result
    return {"rows": 1, "skipped": {}}


def _duplicate_folder(root: Path) -> dict:
    os.symlink("m1", root / "m1-copy")
    return {"rows": 1, "skipped": {"m1-copy": "same folder as"}}


def _duplicate_file(root: Path) -> dict:
    src = next((root / "m1").glob("*-*.json"))
    os.symlink(src.name, root / "m1" / "zzzzzzzz-copy.json")
    return {"rows": 1, "skipped": {"m1/zzzzzzzz-copy.json": "same file as"}}


def _hard_link(root: Path) -> dict:
    src = next((root / "m2").glob("*-*.json"))
    os.link(src, root / "m2" / "zzzzzzzz-hardlink.json")
    return {"rows": 1, "skipped": {"m2/zzzzzzzz-hardlink.json": "same file as"}}


def _unreadable_folder(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    (root / "m2").chmod(0)
    real = listing._scandir

    def scandir(path: str):  # noqa: ANN202 - root ignores permissions: refuse as a user's OS would
        if Path(path).name == "m2":
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(listing, "_scandir", scandir)
    return {"rows": "m1 only", "skipped": {"m2": "permission denied"}}


def _huge_file(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setattr(listing, "MAX_RESULT_BYTES", 10_000)
    big = sorted((root / "m1").glob("*-*.json"))[0]
    with big.open("ab") as f:
        f.write(b" " * 20_000)
    return {"rows": "less", "skipped": {big.relative_to(root).as_posix(): "larger than"}}


def _fifo(root: Path) -> dict:
    os.mkfifo(root / "m1" / "pipe.json")  # reading it would block forever
    return {"rows": 1, "skipped": {"m1/pipe.json": "not a regular file"}}


def _broken_symlink(root: Path) -> dict:
    os.symlink("nowhere.json", root / "m1" / "dangling.json")
    return {"rows": 1, "skipped": {"m1/dangling.json": "No such file"}}


FS_CASES = {
    "symlink loop": _loop,
    "folder symlink loop": _dir_loop,
    "duplicate machine folder (symlink)": _duplicate_folder,
    "duplicate file (symlink)": _duplicate_file,
    "duplicate file (hard link)": _hard_link,
    "unreadable machine folder": _unreadable_folder,
    "huge file": _huge_file,
    "FIFO": _fifo,
    "broken symlink": _broken_symlink,
}


@pytest.mark.parametrize("cached", [False, True], ids=["cold", "cached"])
@pytest.mark.parametrize("case", sorted(FS_CASES))
def test_file_system_faults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, cached: bool
) -> None:
    root = shaped(tmp_path)
    clean = load_results(root, cache=False)
    make = FS_CASES[case]
    args = (root, monkeypatch) if "monkeypatch" in make.__code__.co_varnames else (root,)
    if cached:
        load_results(root)  # a cache from before the fault
    try:
        want = make(*args)
        db = load_results(root, cache=cached)  # never raises
    finally:
        (root / "m2").chmod(0o755)
    if want["rows"] == 1:
        pd.testing.assert_frame_equal(db.table, clean.table)  # not doubled, nothing lost
    elif want["rows"] == "m1 only":
        expect = clean.table[clean.table["machine"] == "m1"].reset_index(drop=True)
        assert db.table["machine"].astype(str).unique().tolist() == ["m1"]
        assert len(db.table) == len(expect)
    else:
        assert 0 < len(db.table) < len(clean.table)
    listed = [(Path(s.path).relative_to(root).as_posix(), s.reason) for s in db.skipped]
    assert len(listed) == len(set(listed))  # each once
    assert len({p for p, _ in listed}) == len(want["skipped"])
    for rel, reason in want["skipped"].items():
        hits = [r for p, r in listed if p == rel]
        assert len(hits) == 1 and reason in hits[0], (rel, listed)


# --------------------------------------------------------------------------------------------
# Content, not only size and mtime


@pytest.fixture
def digested(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The result files whose content the reader hashed to check a cached entry."""
    seen: list[str] = []
    import tensorbench.analysis.results as results

    real = resultcache.file_digest

    def spy(path: str) -> str | None:
        seen.append(Path(path).name)
        return real(path)

    # the cache's reconciliation checks known files; the reader, files it could not parse
    monkeypatch.setattr(resultcache, "file_digest", spy)
    monkeypatch.setattr(results, "file_digest", spy)
    return seen


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files count as settled at once (no racy window), as they are a while after a run."""
    monkeypatch.setattr(resultcache, "RACY_NS", 0)


def _same_size_edit(path: Path) -> float:
    """Rewrite one value in place, same size, and put the old mtime back (as rsync -a,
    cp -p or tar -x leave a file); returns the new value."""
    raw = path.read_bytes()
    d = json.loads(raw)
    row = next(r for r in d["results"].values() if isinstance(r, list) and r[0] and r[0][0])
    old = repr(row[0][0]).encode()
    new = old[:-1] + (b"1" if old[-1:] != b"1" else b"2")
    assert raw.count(old) >= 1
    st = path.stat()
    path.write_bytes(raw.replace(old, new, 1))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    return float(new)


def test_same_size_edit_with_the_old_mtime_is_read_again(
    tmp_path: Path, parsed: list[str], settled: None
) -> None:
    root = shaped(tmp_path)
    load_results(root)
    path = sorted((root / "m2").glob("*-*.json"))[2]
    value = _same_size_edit(path)
    parsed.clear()
    warm = load_results(root)
    assert parsed == [path.name]  # the change time gave it away
    assert value in set(warm.table["value"])
    same(load_results(root, cache=False), warm)


def test_a_copy_with_the_old_stat_and_the_same_content_is_not_parsed(
    tmp_path: Path, parsed: list[str], digested: list[str], settled: None
) -> None:
    root = shaped(tmp_path)
    load_results(root)
    path = sorted((root / "m1").glob("*-*.json"))[1]
    st = path.stat()
    copy = path.with_suffix(".tmp")
    copy.write_bytes(path.read_bytes())
    os.replace(copy, path)  # a new inode, as rsync writes it
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    parsed.clear()
    warm = load_results(root)
    assert parsed == [] and digested == [path.name]  # checked by content, kept
    same(load_results(root, cache=False), warm)
    digested.clear()
    parsed.clear()
    load_results(root)
    assert digested == [] and parsed == []  # and its new stat is trusted from then on


def test_nothing_changed_reads_no_result_file(
    tmp_path: Path, parsed: list[str], digested: list[str], settled: None
) -> None:
    root = shaped(tmp_path)
    load_results(root)
    parsed.clear()
    load_results(root)
    assert parsed == [] and digested == []


def test_files_written_moments_before_are_checked_by_content(
    tmp_path: Path, parsed: list[str], digested: list[str]
) -> None:
    # a coarse clock (FAT: 2 s) can hide a second write in the same tick: such files are
    # checked by digest until they are older than that window
    root = shaped(tmp_path)
    load_results(root)
    n = len(list(root.glob("*/*-*.json")))
    parsed.clear()
    load_results(root)
    assert parsed == [] and len(digested) == n


@pytest.mark.parametrize(
    ("entry", "stat", "trusted", "verdict"),
    [
        ({"racy": False}, {}, True, "same"),
        ({"racy": True}, {}, True, "check"),
        ({"racy": False}, {"ctime": 9}, True, "check"),
        ({"racy": False}, {"ino": 9}, True, "check"),
        ({"racy": False}, {"mtime": 9}, True, "check"),
        ({"racy": False}, {"size": 9}, True, "changed"),
        ({"racy": False, "digest": None}, {"ctime": 9}, True, "changed"),
        ({"racy": False}, {}, False, "check"),  # Windows: the change time is the creation time
    ],
    ids=[
        "unchanged",
        "racy",
        "ctime",
        "inode",
        "mtime",
        "size",
        "no digest",
        "stat not trusted",
    ],
)
def test_judge(monkeypatch: pytest.MonkeyPatch, entry, stat, trusted: bool, verdict: str) -> None:
    monkeypatch.setattr(resultcache, "STAT_TRUSTED", trusted)
    base = {"size": 1, "mtime": 2, "ctime": 3, "ino": 4, "digest": "d"}
    now = {"size": 1, "mtime": 2, "ctime": 3, "ino": 4} | stat
    got = resultcache.judge(base | entry, now["size"], now["mtime"], now["ctime"], now["ino"])
    assert got == verdict
