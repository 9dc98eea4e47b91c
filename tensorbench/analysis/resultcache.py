"""A columnar cache of the rows read from an asv results folder, so a big database loads fast.

One Arrow IPC file (LZ4-compressed) beside the results folder (never inside it: asv's own commands see no
difference), ``.<folder name>.tensorbench-cache.arrow``; where that directory cannot be
written, under ``$TENSORBENCH_CACHE_DIR`` (default ``~/.cache/tensorbench``), named by the
folder's absolute path. The asv files stay the source of truth: deleting the cache loses
nothing.

What it holds: every row :mod:`.asvformat` parsed, with the result file it came from and that
file's size, mtime, change time, inode and a digest of its content, the facts of each file and
the reasons any of it was skipped, and the (benchmark, params) blocks that number the
parameter combinations. A new file is read, a deleted one is dropped, and a known one is
judged by :func:`judge`:

- size and mtime alone cannot be trusted: ``rsync -a``, ``cp -p`` and ``tar -x`` put new
  content under the old mtime (and often the old size). None of them can set the change time,
  and they write a new inode, so a file is taken from the cache without reading it only when
  size, mtime, change time and inode all match;
- a file whose stat changed but whose size did not (those copies, ``touch``, a checkout) is
  read and its digest compared: the same content keeps its cached rows;
- a file modified within :data:`RACY_NS` of the listing that cached it may have changed again
  within one tick of a coarse file-system clock without its stat showing it (git's "racily
  clean" index entries): it is checked by digest until it is older than that;
- where the change time means something else (Windows: creation time), every file is checked
  by digest.

The cache is trusted only when its format, the tensorbench version, the reader's source and
the folder all match, and when its columns are consistent; anything else (a truncated or
foreign file included) is ignored and rewritten. Writes go to a temporary file in the same
directory and are renamed over the old cache, so two readers of one folder never see (or
leave) half a cache.

Why Arrow IPC rather than Parquet or DuckDB (docs/dashboard-scale.md has the figures): on a
250k-point database the LZ4 IPC file is as small as zstd Parquet (11 MB) and reads in a
quarter of the time (7 ms against 29 ms) and writes ten times faster (11 ms against 101 ms);
pandas already loads pyarrow. DuckDB would add a large dependency for what one columnar file
does, and hands pandas its tables through Arrow anyway.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .listing import Listed
from .rowschema import FILE, dtype, of_kind

try:
    import orjson
except ImportError:  # pragma: no cover - a core dependency
    orjson = None

CACHE_FORMAT = 2
_META_KEY = b"tensorbench.cache"
_INTS = (FILE, *of_kind("int8", "int64"))
_FLOATS = of_kind("float")
_TEXTS = of_kind("text")
_SAMPLES = of_kind("samples")
CACHE_ENV = "TENSORBENCH_CACHE_DIR"

# FAT's 2 s timestamps are the coarsest clock in common use; ext4 and NTFS tick far finer.
RACY_NS = 2_000_000_000
# Where st_ctime is the change time (POSIX) it cannot be set by any tool; on Windows it is the
# creation time, which an in-place edit keeps, so there every file is checked by content.
STAT_TRUSTED = os.name != "nt"
_STAT_KEYS = frozenset({"size", "mtime", "ctime", "ino", "racy"})


def content_digest(raw: bytes) -> str:
    """The digest the cache keeps of a result file's bytes (SHA-256, 64 bits kept: it tells
    one file's versions apart, it is not a security measure)."""
    return hashlib.sha256(raw).hexdigest()[:16]


def file_digest(path: str) -> str | None:
    """:func:`content_digest` of the file at ``path``; None when it cannot be read."""
    try:
        with open(path, "rb") as f:
            return content_digest(f.read())
    except OSError:
        return None


def is_racy(mtime_ns: int, ctime_ns: int, listed_at_ns: int) -> bool:
    """Whether a file stat'ed at ``listed_at_ns`` could still change without its stat showing
    it (modified within :data:`RACY_NS` of that moment)."""
    return max(mtime_ns, ctime_ns) >= listed_at_ns - RACY_NS


def judge(entry: dict[str, Any], size: int, mtime_ns: int, ctime_ns: int, ino: int) -> str:
    """What a cached ``entry`` is worth for a file with this stat: ``"same"`` (use the cached
    rows as they are), ``"check"`` (compare the content's digest first) or ``"changed"``
    (parse the file again)."""
    if entry.get("size") != size:
        return "changed"
    if (
        STAT_TRUSTED
        and entry.get("racy") is False
        and entry.get("mtime") == mtime_ns
        and entry.get("ctime") == ctime_ns
        and entry.get("ino") == ino
    ):
        return "same"
    return "check" if entry.get("digest") else "changed"


# The modules whose code decides what the cache holds.
_READER_SOURCES = (
    "asvfile.py",
    "asvformat.py",
    "rowschema.py",
    "invalidvalues.py",
    "results.py",
    "resultcache.py",
    "listing.py",
)


def stat_entry(f: Listed, listed_at: int) -> dict[str, Any]:
    """What the cache keeps of a file's stat (see :func:`judge`)."""
    return {
        "size": f.size,
        "mtime": f.mtime_ns,
        "ctime": f.ctime_ns,
        "ino": f.ino,
        "racy": is_racy(f.mtime_ns, f.ctime_ns, listed_at),
    }


def reconcile(
    cached: Cached | None, files: list[Listed], listed_at: int
) -> tuple[dict[str, dict[str, Any]], bool]:
    """The listed ``files`` whose cached rows stand, and whether the cache is stale.

    Returns relative path -> cache entry for every file the cache holds unchanged (the entry's
    stat brought up to date where only the stat moved, so that the next load trusts it); every
    other file is new or changed and the caller parses it. The cache is stale (to be written
    again) when it is absent, an entry was brought up to date or a cached file is gone.
    ``listed_at`` is when the listing began (:func:`is_racy`).
    """
    if cached is None:
        return {}, True
    kept: dict[str, dict[str, Any]] = {}
    stale = False
    for f in files:
        old = cached.files.get(f.rel)
        if old is None:
            continue
        if (  # the common case, inline: judge() says the same, per call slower
            STAT_TRUSTED
            and old["racy"] is False
            and old["mtime"] == f.mtime_ns
            and old["ctime"] == f.ctime_ns
            and old["ino"] == f.ino
            and old["size"] == f.size
        ):
            kept[f.rel] = old
            continue
        verdict = judge(old, f.size, f.mtime_ns, f.ctime_ns, f.ino)
        if verdict == "check" and file_digest(f.path) == old["digest"]:
            stat = stat_entry(f, listed_at)
            if any(old.get(k) != v for k, v in stat.items()):
                old, stale = old | stat, True
            verdict = "same"
        if verdict == "same":
            kept[f.rel] = old
    if set(cached.files) - {f.rel for f in files}:
        stale = True  # files deleted since
    return kept, stale


def _reader_key() -> str:
    """tensorbench's version and a hash of the reader's source: a cache another reader wrote
    (an older or newer tensorbench, or an edited checkout) is never trusted."""
    # the parent package is imported before this module is (its __getattr__ stays unused)
    version = str(getattr(sys.modules.get("tensorbench"), "__version__", ""))
    h = hashlib.sha1(version.encode())
    here = Path(__file__).parent
    for name in _READER_SOURCES:
        try:
            h.update((here / name).read_bytes())
        except OSError:
            h.update(name.encode())
    return h.hexdigest()


def cache_path(root: Path) -> Path:
    """Where the cache of results folder ``root`` lives (see the module docstring)."""
    root = root.resolve()
    beside = root.parent / f".{root.name}.tensorbench-cache.arrow"
    if os.access(root.parent, os.W_OK):
        return beside
    base = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "tensorbench")
    digest = hashlib.sha1(str(root).encode()).hexdigest()[:16]
    return base / f"{root.name}-{digest}.tensorbench-cache.arrow"


@dataclass
class Cached:
    """What a valid cache holds: ``blocks`` in combination order, ``files`` (relative path ->
    facts, size, mtime, skip reasons, row range) and the rows' ``arrays``."""

    blocks: list[tuple[str, list]]
    files: dict[str, dict[str, Any]]
    arrays: dict[str, np.ndarray]


def _dumps(obj: Any) -> bytes:
    if orjson is not None:
        try:
            return orjson.dumps(obj)
        except TypeError:
            pass
    import json

    return json.dumps(obj).encode()


def _loads(raw: bytes) -> Any:
    if orjson is not None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    import json

    return json.loads(raw)


def read_cache(path: Path, root: Path) -> Cached | None:
    """The cache at ``path`` for results folder ``root``, or None when absent or not trusted."""
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - the dashboard extra brings pyarrow
        return None
    if not path.is_file():
        return None
    try:
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_file(source).read_all()
        meta = _loads((table.schema.metadata or {})[_META_KEY])
        if (
            meta.get("format") != CACHE_FORMAT
            or meta.get("reader") != _reader_key()
            or meta.get("root") != str(root.resolve())
        ):
            return None
        n = table.num_rows
        arrays: dict[str, np.ndarray] = {}
        for name in (*_INTS, *_FLOATS):
            arrays[name] = table[name].to_numpy().astype(dtype(name))
        for name in _TEXTS:
            arrays[name] = _texts(table[name])
        for name in _SAMPLES:
            arrays[name] = _samples(table[name])
        files = meta["files"]
        facts = meta["facts"]
        for entry in files.values():
            if entry.get("commit") is not None:
                entry["facts"] = facts[entry["facts"]]
        blocks = [(str(b), list(p)) for b, p in meta["blocks"]]
        n_combos = sum(_block_size(p) for _, p in blocks)
        if any(len(a) != n for a in arrays.values()) or not isinstance(files, dict):
            return None
        if n and (arrays["combo"].min() < 0 or arrays["combo"].max() >= n_combos):
            return None
        for entry in files.values():
            lo, hi = entry["rows"] if entry.get("commit") is not None else (0, 0)
            if not 0 <= lo <= hi <= n or not isinstance(entry["skipped"], list):
                return None
            if not _STAT_KEYS <= entry.keys():  # the reader compares these without a lookup
                return None
        return Cached(blocks=blocks, files=files, arrays=arrays)
    except Exception:  # noqa: BLE001 - any failure to read it means: do not trust it
        return None


def _block_size(params: list) -> int:
    return int(np.prod([len(p) for p in params])) if params else 1


def _texts(column: Any) -> np.ndarray:
    """A dictionary-encoded text column as an object array (None where null), built from the
    few distinct values rather than one Python string per row."""
    import pyarrow as pa

    column = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    values = np.empty(len(column.dictionary) + 1, dtype=object)
    values[:-1] = column.dictionary.to_pylist()
    values[-1] = None
    codes = column.indices.fill_null(len(column.dictionary)).to_numpy()
    return values[codes]


def _samples(column: Any) -> np.ndarray:
    out = np.empty(len(column), dtype=object)
    if column.null_count == len(column):
        return out
    for i, s in enumerate(column.to_pylist()):
        if s is not None:
            out[i] = tuple(s)
    return out


def _samples_column(samples: np.ndarray) -> Any:
    import pyarrow as pa

    return pa.array(
        [None if s is None else list(s) for s in samples]
        if any(s is not None for s in samples)
        else [None] * len(samples),
        pa.list_(pa.float64()),
    )


def write_cache(
    path: Path,
    root: Path,
    blocks: list[tuple[str, list]],
    files: dict[str, dict[str, Any]],
    arrays: dict[str, np.ndarray],
) -> bool:
    """Write the cache atomically (temporary file, then rename); False when it cannot be."""
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover
        return False
    # the facts of most files are the same few dicts: stored once each, referenced by index
    facts: dict[bytes, int] = {}
    entries = {}
    for rel, entry in files.items():
        if entry.get("commit") is not None:
            text = _dumps(entry["facts"])
            entry = entry | {"facts": facts.setdefault(text, len(facts))}
        entries[rel] = entry
    arrow_int = {np.int8: pa.int8(), np.int64: pa.int32()}
    meta = {
        "format": CACHE_FORMAT,
        "reader": _reader_key(),
        "root": str(root.resolve()),
        "blocks": blocks,
        "files": entries,
        "facts": [_loads(text) for text in facts],
    }
    columns = {
        # int32 holds any row or combination count a cache can have, in half the space
        **{name: pa.array(arrays[name], arrow_int[dtype(name)]) for name in _INTS},
        **{name: pa.array(arrays[name], pa.float64()) for name in _FLOATS},
        **{name: pa.array(arrays[name], pa.string()).dictionary_encode() for name in _TEXTS},
        **{name: _samples_column(arrays[name]) for name in _SAMPLES},
    }
    table = pa.table(columns).replace_schema_metadata({_META_KEY: _dumps(meta)})
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        os.close(fd)
        options = pa.ipc.IpcWriteOptions(compression="lz4")
        with (
            pa.OSFile(tmp, "wb") as sink,
            pa.ipc.new_file(sink, table.schema, options=options) as w,
        ):
            w.write_table(table)
        os.replace(tmp, path)
        return True
    except OSError:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        return False
