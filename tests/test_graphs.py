"""Graph data: R-MAT is deterministic for a seed, every loader reads its format, and every kind
of malformed input is rejected with the file and the line, nothing half-loaded."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from tensorbench import graphs
from tensorbench.cli import main
from tensorbench.errors import InputError
from tensorbench.graphs import GraphFormatError, load_graph


def edges(adj: sp.csr_matrix) -> set[tuple[int, int]]:
    rows, cols = adj.nonzero()
    return set(zip(rows.tolist(), cols.tolist(), strict=True))


# -- R-MAT -----------------------------------------------------------------------------------


def test_rmat_is_deterministic_for_a_seed_and_differs_across_seeds() -> None:
    a, b, c = graphs.rmat(10, seed=3), graphs.rmat(10, seed=3), graphs.rmat(10, seed=4)
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert edges(a) != edges(c)
    assert len(edges(a) ^ edges(c)) > a.nnz  # not a small perturbation: a different graph


def test_rmat_shape_and_invariants() -> None:
    a = graphs.rmat(10)
    n = 1 << 10
    assert a.shape == (n, n)
    assert 0.7 * 16 * n < a.nnz <= 16 * n  # duplicates removed, most draws distinct
    assert np.all(a.data == 1.0)
    for i in range(n):  # sorted, duplicate-free rows
        row = a.indices[a.indptr[i] : a.indptr[i + 1]]
        assert np.all(np.diff(row) > 0)
    assert a.diagonal().sum() > 0  # self-loops kept
    out_degree = np.diff(a.indptr)
    assert out_degree.max() > 10 * out_degree.mean()  # R-MAT's skewed degrees
    assert (out_degree == 0).any()  # dangling nodes: PageRank must handle them


def test_rmat_parameters_shape_the_degrees() -> None:
    # Graph500's a=0.57 concentrates edges on few nodes; a = b = c = d = 0.25 draws every
    # (src, dst) uniformly, an Erdos-Renyi-like graph with a far smaller maximum degree.
    skewed = np.diff(graphs.rmat(12).indptr).max()
    uniform = np.diff(graphs.rmat(12, abc=(0.25, 0.25, 0.25)).indptr).max()
    assert skewed > 5 * uniform


def test_csr_from_edges_removes_duplicates_and_keeps_self_loops() -> None:
    adj = graphs.csr_from_edges(np.array([0, 0, 1, 2, 2]), np.array([1, 1, 1, 0, 0]), 3)
    assert edges(adj) == {(0, 1), (1, 1), (2, 0)}
    assert adj.nnz == 3 and np.all(adj.data == 1.0)


# -- loaders ---------------------------------------------------------------------------------

SNAP = "# Directed graph\n# FromNodeId\tToNodeId\n100\t7\r\n7 42\n42   100\n100\t7\n5 5\n\n"
# ids 5, 7, 42, 100 -> 0, 1, 2, 3 (sorted); 100->7 twice; 5->5 a self-loop
SNAP_EDGES = {(3, 1), (1, 2), (2, 3), (0, 0)}


def test_snap_edge_list(tmp_path: Path) -> None:
    path = tmp_path / "g.txt"
    path.write_text(SNAP)
    g = load_graph(path)
    assert g.n_nodes == 4 and edges(g.adj) == SNAP_EDGES
    assert g.features is None and g.name == "g"


def test_snap_edge_list_gzip_and_folder(tmp_path: Path) -> None:
    path = tmp_path / "g.txt.gz"
    path.write_bytes(gzip.compress(SNAP.encode()))
    assert edges(load_graph(path).adj) == SNAP_EDGES
    assert edges(load_graph(tmp_path).adj) == SNAP_EDGES  # a folder with one graph file


def test_matrix_market_pattern_and_symmetric(tmp_path: Path) -> None:
    general = sp.coo_matrix((np.ones(3), ([0, 1, 2], [1, 2, 2])), shape=(4, 4))
    scipy.io.mmwrite(tmp_path / "general.mtx", general, field="pattern")
    assert edges(load_graph(tmp_path / "general.mtx").adj) == {(0, 1), (1, 2), (2, 2)}
    (tmp_path / "sym.mtx").write_text(
        "%%MatrixMarket matrix coordinate real symmetric\n% comment\n3 3 2\n2 1 0.5\n3 3 2\n"
    )
    g = load_graph(tmp_path / "sym.mtx")
    assert edges(g.adj) == {(1, 0), (0, 1), (2, 2)}  # both directions, values ignored
    assert np.all(g.adj.data == 1.0)


def write_linqs(folder: Path, content: str, cites: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "tiny.content").write_text(content)
    (folder / "tiny.cites").write_text(cites)
    return folder


def test_linqs(tmp_path: Path) -> None:
    folder = write_linqs(
        tmp_path / "tiny",
        "p1\t1\t0\t1\tTheory\np9\t0\t0\t1\tAI\np3\t1\t1\t0\tTheory\n",
        "p1\tp9\np3\tp9\np1\tp3\n",  # cited citing
    )
    for path in (folder, folder / "tiny.content", folder / "tiny.cites"):
        g = load_graph(path)
        assert g.classes == ("AI", "Theory")
        np.testing.assert_array_equal(g.labels, [1, 0, 1])
        np.testing.assert_array_equal(g.features, [[1, 0, 1], [0, 0, 1], [1, 1, 0]])
        assert g.features.dtype == np.float32
        assert edges(g.adj) == {(1, 0), (1, 2), (2, 0)}  # citing -> cited, rows in file order


# -- malformed input -------------------------------------------------------------------------

BAD = [
    ("three_fields.txt", "# c\n1 2\n3 4 5\n", 3, "expected 2 node ids, found 3"),
    ("one_field.txt", "1 2\n\n7\n", 3, "found 1"),
    ("letters.txt", "# x\n1 2\n2 x\n", 3, "'x' is not an integer"),
    ("float.txt", "1 2\n1.5 2\n", 2, "'1.5' is not an integer"),
    ("huge.txt", "1 2\n2 99999999999999999999999\n", 2, "does not fit in int64"),
    ("header.mtx", "%%MatrixMarket matrix\n", 1, "bad header"),
    ("banner.mtx", "not a matrix\n1 1 1\n", 1, "missing '%%MatrixMarket'"),
    (
        "range.mtx",
        "%%MatrixMarket matrix coordinate pattern general\n3 3 2\n1 2\n4 1\n",
        4,
        "outside the 3 x 3",
    ),
    (
        "token.mtx",
        "%%MatrixMarket matrix coordinate pattern general\n%c\n3 3 2\n1 2\n1 x\n",
        5,
        "not an integer",
    ),
]


@pytest.mark.parametrize(("name", "text", "line", "message"), BAD, ids=[b[0] for b in BAD])
def test_malformed_files_name_file_and_line(
    tmp_path: Path, name: str, text: str, line: int, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(GraphFormatError) as info:
        load_graph(path)
    assert info.value.line == line
    assert str(path) in str(info.value) and f"line {line}:" in str(info.value)
    assert message in str(info.value)
    assert isinstance(info.value, InputError)


LINQS_BAD = [
    ("a\t1\t0\tX\nb\t0\t1\tY\nc\t1\tZ\n", "a\tb\n", "content", 3, "row has 3 fields, expected 4"),
    ("a\t1\t0\tX\nb\t0\tq\tY\n", "a\tb\n", "content", 2, "feature 'q' is not a number"),
    ("a\t1\t0\tX\na\t0\t1\tY\n", "a\ta\n", "content", 2, "duplicate node id 'a'"),
    ("a\t1\t0\tX\nb\t0\t1\tY\n", "a\tb\nb\tzz\n", "cites", 2, "paper id 'zz' not in"),
    ("a\t1\t0\tX\nb\t0\t1\tY\n", "a\tb\n\na b c\n", "cites", 3, "expected 'cited citing'"),
]


@pytest.mark.parametrize(("content", "cites", "bad", "line", "message"), LINQS_BAD)
def test_malformed_linqs_names_file_and_line(
    tmp_path: Path, content: str, cites: str, bad: str, line: int, message: str
) -> None:
    folder = write_linqs(tmp_path / "g", content, cites)
    with pytest.raises(GraphFormatError) as info:
        load_graph(folder)
    assert info.value.path == str(folder / f"tiny.{bad}") and info.value.line == line
    assert f"tiny.{bad}: line {line}: {message}" in str(info.value)


def big_edge_list(lines: int) -> str:
    return "# header\n" + "".join(f"{i}\t{i * 7 % lines}\n" for i in range(lines))


def test_error_line_is_exact_deep_in_a_large_file(tmp_path: Path) -> None:
    text = big_edge_list(50_000).split("\n")
    text[31_337] = "# a comment in the middle"
    text[40_000] = "12 oops"
    path = tmp_path / "big.txt.gz"
    path.write_bytes(gzip.compress("\n".join(text).encode()))
    with pytest.raises(GraphFormatError, match=r"big\.txt\.gz: line 40001: node id 'oops'"):
        load_graph(path)


def test_truncated_gzip_names_the_line_where_data_ends(tmp_path: Path) -> None:
    data = big_edge_list(200_000).encode()
    packed = gzip.compress(data)
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(GraphFormatError) as info:
        load_graph(path)
    assert "truncated gzip" in str(info.value) and str(path) in str(info.value)
    # The reported line is the one being read when the stream ended: within the file.
    assert 1 < info.value.line < data.count(b"\n")


def test_not_gzip_and_empty_files(tmp_path: Path) -> None:
    (tmp_path / "fake.txt.gz").write_text("1 2\n")
    with pytest.raises(GraphFormatError, match=r"fake\.txt\.gz: line 1: corrupt gzip"):
        load_graph(tmp_path / "fake.txt.gz")
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(GraphFormatError, match="no edges"):
        load_graph(tmp_path / "empty.txt")
    with pytest.raises(InputError, match="no such graph"):
        load_graph(tmp_path / "missing.txt")


def test_cli_rejects_a_bad_graph_with_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("1 2\n3\n")
    code = main(["time", "pagerank", "--backend", "numpy", "--graph", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0 and f"{path}: line 2:" in err


# -- real graphs (../shared/data) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "nodes", "edge_count", "self_loops"),
    [
        ("wiki-Vote", 7_115, 103_689, 0),
        ("email-Enron", 36_692, 367_662, 0),
        ("soc-Slashdot0902", 82_168, 948_464, 78_303),
    ],
)
def test_real_snap_graphs(
    shared_data: Path, folder: str, nodes: int, edge_count: int, self_loops: int
) -> None:
    g = load_graph(shared_data / "graphs" / folder)
    assert (g.n_nodes, g.n_edges) == (nodes, edge_count)  # the counts in the SNAP headers
    assert int(g.adj.diagonal().sum()) == self_loops


def test_cora(shared_data: Path) -> None:
    g = load_graph(shared_data / "graphs" / "cora")
    assert g.n_nodes == 2708 and g.features.shape == (2708, 1433)
    assert len(g.classes) == 7 and "Neural_Networks" in g.classes
    assert g.n_edges == 5429  # citation lines, none duplicated
    assert set(np.unique(g.features)) == {0.0, 1.0}
    assert np.bincount(g.labels).tolist() == [298, 418, 818, 426, 217, 180, 351]
