"""PageRank equals networkx.pagerank (L1 <= 1e-6) on every available CPU backend: generated
graphs with dangling nodes and self-loops, a hand-made edge case, and SNAP wiki-Vote."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from conftest import backend_params

from tensorbench import compute, graphs
from tensorbench.cli import main
from tensorbench.workloads import WORKLOADS
from tensorbench.workloads.pagerank import ConvergenceError

CPU_BACKENDS = backend_params("numpy", "torch", "jax", "dgl-torch", "mxnet", "dgl-mxnet")
EDGE_CASE = "0 1\n1 2\n2 0\n2 2\n3 0\n3 3\n4 2\n0 5\n"  # 1 cycle, loops on 2 and 3; 5 dangling


def networkx_pagerank(adj) -> np.ndarray:
    g = nx.DiGraph()
    g.add_nodes_from(range(adj.shape[0]))
    g.add_edges_from(zip(*(a.tolist() for a in adj.nonzero()), strict=True))
    ranks = nx.pagerank(g, alpha=0.85, tol=1e-13, max_iter=10_000)
    return np.array([ranks[i] for i in range(adj.shape[0])])


@pytest.fixture(scope="module")
def edge_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pagerank") / "edge_case.txt"
    path.write_text(EDGE_CASE)
    return path


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("scale", [5, 8])
def test_generated_graphs_match_networkx(backend: str, scale: int) -> None:
    adj = graphs.rmat(scale)
    assert adj.diagonal().sum() > 0 and (np.diff(adj.indptr) == 0).any()  # loops, dangling
    ours = compute("pagerank", backend, graph=None, scale=scale, dtype="float64", tol=1e-13)
    theirs = networkx_pagerank(adj)
    assert np.abs(ours - theirs).sum() <= 1e-6
    assert ours.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_edge_case_graph_matches_networkx(backend: str, edge_case: Path) -> None:
    theirs = networkx_pagerank(graphs.load_graph(edge_case).adj)
    ours = compute("pagerank", backend, graph=str(edge_case), dtype="float64", tol=1e-13)
    assert np.abs(ours - theirs).sum() <= 1e-6
    # float32 with fixed iterations: still networkx's answer to float32 precision
    ours32 = compute("pagerank", backend, graph=str(edge_case), iterations=200)
    assert ours32.dtype == np.float32 and np.abs(ours32 - theirs).sum() <= 1e-5


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_one_iteration_by_hand(backend: str, edge_case: Path) -> None:
    """x1 = d (P^T x0 + dangling mass / n) + (1 - d) / n from x0 = 1/6, worked out on paper."""
    d, n = 0.85, 6
    out_degree = [2, 1, 2, 2, 1, 0]  # loops count; node 5 is dangling
    into = {0: [2, 3], 1: [0], 2: [1, 2, 4], 3: [3], 4: [], 5: [0]}
    x0 = 1 / n
    expected = [
        d * (sum(x0 / out_degree[j] for j in into[i]) + x0 / n) + (1 - d) / n for i in range(n)
    ]
    ours = compute("pagerank", backend, graph=str(edge_case), dtype="float64", iterations=1)
    np.testing.assert_allclose(ours, expected, rtol=1e-14)


@pytest.fixture(scope="module")
def wiki_vote(shared_data: Path) -> tuple[str, np.ndarray]:
    path = shared_data / "graphs" / "wiki-Vote"
    return str(path), networkx_pagerank(graphs.load_graph(path).adj)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_wiki_vote_matches_networkx(backend: str, wiki_vote: tuple[str, np.ndarray]) -> None:
    path, theirs = wiki_vote
    ours = compute("pagerank", backend, graph=path, dtype="float64", tol=1e-13)
    assert ours.shape == (7115,)
    assert np.abs(ours - theirs).sum() <= 1e-6


def test_tolerance_mode_raises_when_it_does_not_converge() -> None:
    with pytest.raises(ConvergenceError, match="did not reach tol"):
        compute("pagerank", "numpy", scale=6, dtype="float64", tol=1e-15, max_iter=3)


def test_work_is_edges_times_iterations() -> None:
    work = WORKLOADS["pagerank"].work(9, {"graph": None, "iterations": 20})
    assert work.edges == graphs.rmat(9).nnz * 20
    assert work.rates(2.0)["gteps"] == pytest.approx(work.edges / 2.0 / 1e9)
    assert WORKLOADS["pagerank"].work(9, {"graph": None, "tol": 1e-6}).edges is None


def test_time_pagerank_json_reports_gteps(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["time", "pagerank", "--backend", "numpy", "--size", "8", "--target-seconds", "0.05"]
    assert main([*args, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["size"] == 8 and result["params"]["iterations"] == 50
    assert result["gteps"] == pytest.approx(graphs.rmat(8).nnz * 50 / result["median_s"] / 1e9)
