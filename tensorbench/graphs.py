"""Graph data for the graph workloads: a seeded R-MAT generator and loaders for real graphs.

Every graph is one scipy.sparse CSR adjacency matrix ``A`` with ``A[i, j] = 1`` for an edge
``i -> j`` (float64 ones, int32 indices, sorted rows, no duplicate edges; self-loops kept). The
workloads derive what they need from it (PageRank's transposed transition matrix, GCN's
normalised adjacency) and each backend converts that in its setup, never while being timed.

Loaders accept SNAP edge lists (``.txt``/``.txt.gz``), Matrix Market (``.mtx``) and the LINQS
format (``NAME.content`` + ``NAME.cites``, e.g. Cora), or a folder holding one of those. Bad
input raises :class:`GraphFormatError` naming the file and line; nothing half-loaded escapes.
"""

from __future__ import annotations

import gzip
import os
import warnings
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .errors import InputError, TensorbenchWarning

GRAPH500 = (0.57, 0.19, 0.19)  # R-MAT a, b, c (d = 0.05)
RMAT_SCALES = range(1, 31)  # 2**scale nodes; beyond 30 the node ids need more than int32
EDGE_FACTOR = 16
_GZIP_CHUNK = 1 << 20


class GraphFormatError(InputError):
    """A graph file is malformed; the message names the file and (where known) the line."""

    def __init__(self, path: str | os.PathLike, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        where = f"{self.path}: line {line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class GraphWarning(TensorbenchWarning):
    """A graph that loads but looks wrong (e.g. a label that is probably a typo)."""


@dataclass(frozen=True, eq=False)
class Graph:
    """A graph as one CSR adjacency, plus node features and labels where the file has them.

    Treat it as read-only: loaded and generated graphs are cached and shared between cases.
    """

    adj: sp.csr_matrix
    name: str
    features: np.ndarray | None = None  # (n, f) float32, LINQS only
    labels: np.ndarray | None = None  # (n,) int64 class index, LINQS only
    classes: tuple[str, ...] = ()

    @property
    def n_nodes(self) -> int:
        return int(self.adj.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.adj.nnz)


def csr_from_edges(src: np.ndarray, dst: np.ndarray, n: int) -> sp.csr_matrix:
    """The adjacency of edges ``src[k] -> dst[k]`` on ``n`` nodes, duplicates removed."""
    key = np.sort(src.astype(np.int64) * n + dst.astype(np.int64))  # row-major order
    if key.size:  # np.unique, but sort + mask (numpy 2.4's unique is 100x slower here)
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    rows, cols = np.divmod(key, n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    index = np.int32 if max(n, key.size) < 2**31 else np.int64
    return sp.csr_matrix(
        (np.ones(key.size), cols.astype(index), indptr.astype(index)), shape=(n, n)
    )


def rmat(
    scale: int,
    edge_factor: int = EDGE_FACTOR,
    seed: int = 0,
    abc: tuple[float, float, float] = GRAPH500,
) -> sp.csr_matrix:
    """A Graph500 R-MAT (Kronecker) graph: 2**scale nodes, ``edge_factor * 2**scale`` draws.

    The Graph500 reference generator: each edge picks one quadrant per bit level with
    probabilities a, b, c, d; then vertex labels are permuted (so that hubs are not all at low
    ids, which would flatter cache locality). Duplicates are removed, self-loops kept, so the
    edge count is somewhat below ``edge_factor * 2**scale``. Deterministic for a seed.
    """
    if scale not in RMAT_SCALES:
        raise ValueError(f"R-MAT scale must be in 1..30, got {scale}")
    a, b, c = abc
    n, m = 1 << scale, edge_factor << scale
    rng = np.random.default_rng([seed, scale, edge_factor])
    ab, c_norm, a_norm = a + b, c / (1.0 - a - b), a / (a + b)
    src = np.zeros(m, dtype=np.int64)
    dst = np.zeros(m, dtype=np.int64)
    for bit in range(scale):
        src_bit = rng.random(m, dtype=np.float32) > ab
        dst_bit = rng.random(m, dtype=np.float32) > np.where(src_bit, c_norm, a_norm)
        src |= src_bit.astype(np.int64) << bit
        dst |= dst_bit.astype(np.int64) << bit
    perm = rng.permutation(n)
    return csr_from_edges(perm[src], perm[dst], n)


# -- reading files ---------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped for ``.gz``; a truncated or corrupt gzip names its line."""
    if path.suffix != ".gz":
        try:
            return path.read_bytes()
        except OSError as exc:  # missing, a folder, no permission
            raise GraphFormatError(path, None, f"cannot read ({exc.strerror})") from None
    chunks: list[bytes] = []
    try:
        with gzip.open(path, "rb") as f:
            while chunk := f.read(_GZIP_CHUNK):
                chunks.append(chunk)
    except (EOFError, OSError, zlib.error) as exc:
        line = b"".join(chunks).count(b"\n") + 1
        kind = "truncated gzip" if isinstance(exc, EOFError) else "corrupt gzip"
        raise GraphFormatError(path, line, f"{kind} ({exc}); nothing loaded") from None
    return b"".join(chunks)


def _show(token: bytes) -> str:
    return token[:40].decode(errors="replace")


_WS = np.zeros(256, dtype=bool)
_WS[list(b" \t\r\n\v\f")] = True


def _token_table(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Vectorised tokenisation: (start byte of each token, its line index, first byte, lines)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    ws = _WS[buf]
    starts = np.flatnonzero(~ws & np.concatenate(([True], ws[:-1])))
    newlines = np.flatnonzero(buf == ord("\n"))
    line_of = np.searchsorted(newlines, starts)  # 0-based line of each token
    n_lines = newlines.size + (0 if data.endswith(b"\n") or not data else 1)
    return starts, line_of, buf[starts], n_lines


def _scan_int_pairs(path: Path, text: bytes) -> None:
    """Slow, exact scan for the first bad line of an edge list; raises GraphFormatError."""
    for number, raw in enumerate(text.split(b"\n"), start=1):
        fields = raw.split()
        if not fields or fields[0].startswith(b"#"):
            continue
        if len(fields) != 2:
            raise GraphFormatError(
                path, number, f"expected 2 node ids, found {len(fields)} field(s): {_show(raw)!r}"
            )
        for tok in fields:
            try:
                value = int(tok)
            except ValueError:
                raise GraphFormatError(
                    path, number, f"node id {_show(tok)!r} is not an integer"
                ) from None
            if not -(2**63) <= value < 2**63:
                raise GraphFormatError(path, number, f"node id {value} does not fit in int64")
    raise GraphFormatError(path, None, "unreadable edge list")  # the fast path disagreed


def load_edge_list(path: str | os.PathLike) -> sp.csr_matrix:
    """A SNAP edge list: ``src dst`` per line, ``#`` comments; ids remapped to 0..n-1.

    Ids are remapped in increasing order of their value. Parsing is vectorised (the 950k-edge
    soc-Slashdot0902 loads in about a second); a file that fails the fast path is rescanned line
    by line so the error names the exact line.
    """
    path = Path(path)
    text = _read_bytes(path)
    starts, line_of, first, _ = _token_table(text)
    # A line is a comment when its first token starts with '#': drop all its tokens.
    line_start = np.ones(starts.size, dtype=bool)
    line_start[1:] = line_of[1:] != line_of[:-1]
    comment_line = np.zeros(int(line_of[-1]) + 1 if line_of.size else 0, dtype=bool)
    comment_line[line_of[line_start & (first == ord("#"))]] = True
    keep = ~comment_line[line_of]
    per_line = np.bincount(line_of[keep], minlength=comment_line.size)
    data_lines = per_line[~comment_line]
    if np.any((data_lines != 0) & (data_lines != 2)):
        _scan_int_pairs(path, text)
    if not keep.any():
        raise GraphFormatError(path, None, "no edges found")
    tokens = np.array(text.split(), dtype=object)[keep] if comment_line.any() else text.split()
    try:
        ids = np.array(tokens, dtype=np.bytes_).astype(np.int64)
    except (ValueError, OverflowError):
        _scan_int_pairs(path, text)
    nodes, compact = np.unique(ids, return_inverse=True)
    compact = compact.reshape(-1, 2)
    return csr_from_edges(compact[:, 0], compact[:, 1], nodes.size)


def _scan_mtx(path: Path, text: str) -> tuple[int | None, str]:
    """Locate the first bad line of a coordinate Matrix Market file: (line, reason)."""
    lines = text.split("\n")
    if not lines or not lines[0].lower().startswith("%%matrixmarket"):
        return 1, "missing '%%MatrixMarket' header"
    header = lines[0].split()
    if len(header) != 5 or header[1].lower() != "matrix":
        return 1, f"bad header {lines[0][:80]!r}"
    fmt, field = header[2].lower(), header[3].lower()
    size_line, rows, cols, entries = None, 0, 0, 0
    want = 2 if field == "pattern" else 3 if field in ("real", "integer") else 4
    for number, raw in enumerate(lines[1:], start=2):
        fields = raw.split()
        if not fields or fields[0].startswith("%"):
            continue
        if size_line is None:
            size_line = number
            try:
                dims = [int(f) for f in fields]
            except ValueError:
                return number, f"size line {raw[:80]!r} is not integers"
            if fmt == "coordinate" and len(dims) != 3 or fmt == "array" and len(dims) != 2:
                return number, f"size line {raw[:80]!r} has {len(dims)} fields"
            rows, cols = dims[:2]
            continue
        if fmt != "coordinate":
            continue
        entries += 1
        if len(fields) != want:
            return number, f"expected {want} fields for a {field} entry, found {len(fields)}"
        try:
            i, j = int(fields[0]), int(fields[1])
        except ValueError:
            return number, f"index {fields[0]!r} {fields[1]!r} is not an integer"
        if not (1 <= i <= rows and 1 <= j <= cols):
            return number, f"index ({i}, {j}) outside the {rows} x {cols} matrix"
    if size_line is None:
        return None, "no size line"
    return len(lines), f"file ends early or has extra entries (read {entries})"


def load_mtx(path: str | os.PathLike) -> sp.csr_matrix:
    """A Matrix Market file (via scipy.io); the nonzero pattern is the adjacency.

    Values are ignored (graphs here are unweighted); symmetric files give both directions.
    """
    import scipy.io

    path = Path(path)
    try:
        matrix = scipy.io.mmread(path)
    except Exception as exc:  # scipy's messages differ by version: find the line ourselves
        try:
            text = path.read_text(errors="replace")
        except OSError as os_exc:
            raise GraphFormatError(path, None, str(os_exc)) from None
        line, reason = _scan_mtx(path, text)
        raise GraphFormatError(path, line, f"{reason} ({exc.__class__.__name__}: {exc})") from None
    matrix = sp.coo_matrix(matrix)
    if matrix.shape[0] != matrix.shape[1]:
        raise GraphFormatError(path, None, f"adjacency must be square, got {matrix.shape}")
    nonzero = matrix.data != 0
    return csr_from_edges(matrix.row[nonzero], matrix.col[nonzero], matrix.shape[0])


def _linqs_files(path: Path) -> tuple[Path, Path]:
    if path.is_dir():
        contents = sorted(path.glob("*.content"))
        if len(contents) != 1:
            names = ", ".join(p.name for p in contents) or "none"
            raise InputError(f"{path}: expected one *.content file, found {names}")
        path = contents[0]
    stem = path.with_suffix("")
    content, cites = stem.with_suffix(".content"), stem.with_suffix(".cites")
    for need, other in ((content, cites), (cites, content)):
        if not need.is_file():
            raise GraphFormatError(
                need,
                None,
                f"{'not a file' if need.exists() else 'missing'} (a LINQS graph needs both {content.name} and {cites.name}; "
                f"found only {other.name})",
            )
    return content, cites


RARE_LABEL_ROWS = 5  # a label on at most this many rows ...
RARE_LABEL_RATIO = 20  # ... and 20x rarer than the most common one is probably a typo


def _warn_rare_labels(content: Path, names: list[bytes]) -> None:
    """Warn (GraphWarning) about labels so rare beside the others that they look like typos:
    each becomes a class of its own, which a model then trains on."""
    import difflib
    from collections import Counter

    counts = Counter(names)
    most = max(counts.values())
    rare = sorted(
        (
            label
            for label, n in counts.items()
            if n <= RARE_LABEL_ROWS and n * RARE_LABEL_RATIO <= most
        ),
        key=names.index,
    )
    common = [label.decode(errors="replace") for label in counts if label not in rare]
    for label in rare:
        text = label.decode(errors="replace")
        lines = [i for i, name in enumerate(names, start=1) if name == label]
        close = difflib.get_close_matches(text, common, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        warnings.warn(
            f"{content}: label {text!r} appears on only {len(lines)} of {len(names)} rows "
            f"(line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))}){hint}; "
            "it is trained on as a class of its own",
            GraphWarning,
            stacklevel=3,
        )


def load_linqs(path: str | os.PathLike) -> Graph:
    """A LINQS graph (Cora, CiteSeer): ``NAME.content`` rows ``id features... label`` and
    ``NAME.cites`` rows ``cited citing``, giving the edge citing -> cited.

    ``path`` is the folder, or either file. Node i is the i-th row of the content file
    (pygcn's split is by those rows); classes are numbered in sorted order of their names.
    """
    content, cites = _linqs_files(Path(path))
    text = _read_bytes(content)
    rows = [line.split() for line in text.split(b"\n")]
    while rows and not rows[-1]:
        rows.pop()
    if not rows:
        raise GraphFormatError(content, None, "no nodes found")
    width = len(rows[0])
    if width < 3:
        raise GraphFormatError(content, 1, f"expected id, features, label; found {width} fields")
    for number, fields in enumerate(rows, start=1):
        if len(fields) != width:
            raise GraphFormatError(
                content,
                number,
                f"row has {len(fields)} fields, expected {width} (id, {width - 2} features, label)",
            )
    try:
        features = np.array([r[1:-1] for r in rows], dtype=np.bytes_).astype(np.float32)
    except ValueError:
        for number, fields in enumerate(rows, start=1):
            for tok in fields[1:-1]:
                try:
                    float(tok)
                except ValueError:
                    raise GraphFormatError(
                        content, number, f"feature {_show(tok)!r} is not a number"
                    ) from None
        raise GraphFormatError(content, None, "unreadable features") from None
    if not np.all(np.isfinite(features)):
        bad = int(np.flatnonzero(~np.isfinite(features).all(axis=1))[0])
        raise GraphFormatError(
            content, bad + 1, "a feature is NaN or infinite (or overflows float32)"
        )
    ids = [r[0] for r in rows]
    index = {node: i for i, node in enumerate(ids)}
    if len(index) != len(ids):
        seen: set[bytes] = set()
        for number, node in enumerate(ids, start=1):
            if node in seen:
                raise GraphFormatError(content, number, f"duplicate node id {_show(node)!r}")
            seen.add(node)
    names = [r[-1] for r in rows]
    _warn_rare_labels(content, names)
    classes = sorted(set(names))
    class_of = {name: k for k, name in enumerate(classes)}
    labels = np.array([class_of[name] for name in names], dtype=np.int64)

    src, dst = [], []
    for number, raw in enumerate(_read_bytes(cites).split(b"\n"), start=1):
        fields = raw.split()
        if not fields:
            continue
        if len(fields) != 2:
            raise GraphFormatError(cites, number, f"expected 'cited citing', found {_show(raw)!r}")
        cited, citing = (index.get(f) for f in fields)
        if cited is None or citing is None:
            missing = fields[0] if cited is None else fields[1]
            raise GraphFormatError(
                cites, number, f"paper id {_show(missing)!r} not in {content.name}"
            )
        src.append(citing)
        dst.append(cited)
    adj = csr_from_edges(np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64), len(ids))
    return Graph(
        adj=adj,
        name=content.stem,
        features=features,
        labels=labels,
        classes=tuple(c.decode(errors="replace") for c in classes),
    )


_EDGE_LIST_SUFFIXES = (".txt", ".txt.gz", ".edges", ".edges.gz", ".tsv", ".tsv.gz")


def _graph_file(path: Path) -> Path:
    """The one graph file in a folder (LINQS folders are handled by the caller)."""
    found = [
        p
        for p in sorted(path.iterdir())
        if p.name.endswith(_EDGE_LIST_SUFFIXES) or p.suffix == ".mtx"
    ]
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise InputError(f"{path}: expected one graph file (.txt, .txt.gz, .mtx), found {names}")
    return found[0]


def load_graph(path: str | os.PathLike) -> Graph:
    """Load the graph at ``path``: a SNAP edge list, a ``.mtx`` file, a LINQS pair, or a folder
    holding one of those (e.g. ``../shared/data/graphs/wiki-Vote``)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such graph file or folder: {path}")
    if path.is_dir():
        if any(path.glob("*.content")):
            return load_linqs(path)
        path = _graph_file(path)
    if path.suffix in (".content", ".cites"):
        return load_linqs(path)
    name = path.name.split(".")[0]
    if path.suffix == ".mtx":
        return Graph(adj=load_mtx(path), name=name)
    if path.name.endswith(_EDGE_LIST_SUFFIXES):
        return Graph(adj=load_edge_list(path), name=name)
    raise InputError(f"{path}: unknown graph format (use .txt, .txt.gz, .mtx or LINQS .content)")


@lru_cache(maxsize=4)
def _cached_graph(path: str, mtime_ns: int) -> Graph:
    return load_graph(path)


@lru_cache(maxsize=4)
def _cached_rmat(scale: int, seed: int) -> Graph:
    return Graph(adj=rmat(scale, seed=seed), name=f"rmat-{scale}")


def workload_graph(scale: int, params: Mapping[str, Any]) -> Graph:
    """The graph a graph workload runs on: ``params['graph']`` when given, else R-MAT at
    ``scale`` (seed ``params['seed']``). Cached: callers must not modify it."""
    path = params.get("graph")
    if path:
        resolved = Path(path).resolve()
        if not resolved.exists():
            raise InputError(f"no such graph file or folder: {path}")
        return _cached_graph(str(resolved), resolved.stat().st_mtime_ns)
    return _cached_rmat(int(scale), int(params.get("seed", 0)))
