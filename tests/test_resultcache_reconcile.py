"""tensorbench.analysis.resultcache.reconcile: which listed files keep their cached rows, and
when the cache must be written again."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tensorbench.analysis import resultcache
from tensorbench.analysis.listing import Listed
from tensorbench.analysis.resultcache import Cached, content_digest, reconcile, stat_entry

LONG_AGO = 10**18  # a listing long after every file was written: nothing is racy


def listed(path: Path, rel: str) -> Listed:
    st = path.stat()
    return Listed(rel, str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def cache_of(files: dict[str, Listed], listed_at: int = LONG_AGO) -> Cached:
    entries = {}
    for rel, f in files.items():
        digest = content_digest(Path(f.path).read_bytes())
        entries[rel] = stat_entry(f, listed_at) | {"digest": digest, "commit": "c", "rows": [0, 0]}
    return Cached(blocks=[], files=entries, arrays={"file": np.zeros(0, dtype=np.int64)})


@pytest.fixture
def two_files(tmp_path: Path) -> dict[str, Listed]:
    for name in ("a", "b"):
        (tmp_path / f"{name}.json").write_text('{"x": 1}')
    return {f"m/{n}.json": listed(tmp_path / f"{n}.json", f"m/{n}.json") for n in ("a", "b")}


def test_no_cache_means_parse_everything(two_files: dict[str, Listed]) -> None:
    assert reconcile(None, list(two_files.values()), LONG_AGO) == ({}, True)


def test_unchanged_files_keep_their_rows(two_files: dict[str, Listed]) -> None:
    cached = cache_of(two_files)
    kept, stale = reconcile(cached, list(two_files.values()), LONG_AGO)
    assert kept == cached.files and not stale


def test_new_changed_and_deleted_files(tmp_path: Path, two_files: dict[str, Listed]) -> None:
    cached = cache_of(two_files)
    (tmp_path / "a.json").write_text('{"x": 22}')  # another size: changed
    (tmp_path / "c.json").write_text("{}")
    now = [listed(tmp_path / "a.json", "m/a.json"), listed(tmp_path / "c.json", "m/c.json")]
    kept, stale = reconcile(cached, now, LONG_AGO)
    assert kept == {}  # a changed, c new: both to parse
    assert stale  # b is gone


def test_a_touched_file_is_checked_by_content(tmp_path: Path, two_files: dict[str, Listed]) -> None:
    cached = cache_of(two_files)
    path = tmp_path / "a.json"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # same bytes, new mtime
    kept, stale = reconcile(cached, [listed(path, "m/a.json"), two_files["m/b.json"]], LONG_AGO)
    assert set(kept) == {"m/a.json", "m/b.json"}
    assert kept["m/a.json"]["mtime"] == st.st_mtime_ns + 10**9  # the new stat is kept
    assert stale  # so the cache is written again, and the next load trusts the stat
    path.write_text('{"x": 2}')  # same size, other content
    kept, _ = reconcile(cached, [listed(path, "m/a.json")], LONG_AGO)
    assert kept == {}


def test_a_racy_entry_is_checked_by_content(
    tmp_path: Path, two_files: dict[str, Listed], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file cached moments after it was written may change again without its stat showing
    it: its content decides, however its stat looks."""
    f = two_files["m/a.json"]
    cached = cache_of({"m/a.json": f}, listed_at=max(f.mtime_ns, f.ctime_ns))
    assert cached.files["m/a.json"]["racy"]
    seen: list[str] = []
    monkeypatch.setattr(resultcache, "file_digest", lambda p: seen.append(p) or "other")
    kept, _ = reconcile(cached, [f], LONG_AGO)
    assert kept == {} and seen == [f.path]
