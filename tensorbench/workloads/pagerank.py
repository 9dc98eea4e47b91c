"""pagerank: power iteration on a directed graph, defined exactly as ``networkx.pagerank``.

``x <- d * (P^T x + (dangling . x) / n) + (1 - d) / n`` from ``x = 1/n``, where ``P = D_out^-1 A``
(self-loops count as out-edges, a duplicate edge once) and ``dangling`` marks the nodes without
out-edges, whose rank is spread uniformly. Fixed ``iterations`` (default 50) for timing; with
``tol`` the loop stops as networkx's does (L1 change < n * tol, at most ``max_iter`` iterations)
and the case has no edge rate. Size = R-MAT scale; ``graph`` (a path) loads a real graph instead.
Work: edges x iterations traversed, as GTEPS; per iteration 2 FLOPs per edge and 4 per node,
and traffic ``P^T`` (values, indices) plus the rank read and written and the dangling mask.

Modes: the above is native (JAX jit-compiled, the rest eager); eager JAX runs the same step
un-jitted, op by op. No compiled PyTorch: dynamo does not trace sparse CSR tensors.

Every backend gets ``P^T`` precomputed (CSR, row = target) in setup. NumPy/SciPy, PyTorch and
MXNet multiply by it (MXNet's legacy ``nd.sparse`` interface, the only one with sparse arrays),
JAX gathers and ``segment_sum``s its entries under ``jit``, and DGL passes messages
(``update_all(copy_u, sum)``) over the original edges, scaled by 1/out-degree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..backends.sparse import mxnet_csr_blocks, torch_csr
from ..graphs import workload_graph
from .base import Inputs, Work, Workload

DEFAULTS = {"graph": None, "iterations": 50, "tol": None, "max_iter": 1000, "damping": 0.85}


class ConvergenceError(RuntimeError):
    """Tolerance mode did not converge within ``max_iter`` iterations."""


def transition(adj: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """``P^T`` as CSR with sorted indices, 1/out-degree (0 where dangling), dangling mask."""
    out_degree = np.diff(adj.indptr)  # adjacency entries are ones, without duplicates
    inv_out = np.zeros(adj.shape[0])
    np.divide(1.0, out_degree, out=inv_out, where=out_degree > 0)
    pt = (sp.diags(inv_out) @ adj).T.tocsr()
    pt.sort_indices()
    return pt, inv_out, (out_degree == 0).astype(np.float64)


def iterate(
    step: Callable[[Any], Any],
    x: Any,
    params: Mapping[str, Any],
    n: int,
    l1: Callable[[Any, Any], float],
) -> Any:
    """``iterations`` steps from ``x``, or with ``tol``: until ``l1(new, old) < n * tol``."""
    tol = params.get("tol")
    if tol is None:
        for _ in range(int(params["iterations"])):
            x = step(x)
        return x
    for _ in range(int(params["max_iter"])):
        new = step(x)
        if l1(new, x) < n * tol:
            return new
        x = new
    raise ConvergenceError(f"PageRank did not reach tol={tol} in {params['max_iter']} iterations")


def make_inputs(scale: int, dtype: str, params: Mapping[str, Any]) -> Inputs:
    adj = workload_graph(scale, params).adj
    pt, inv_out, dangling = transition(adj)
    return {
        "adj": adj,  # float64 ones, shared and cached: never modify
        "pt": pt.astype(dtype),
        "inv_out": inv_out.astype(dtype),
        "dangling": dangling.astype(dtype),
    }


def reference(inputs: Inputs, params: Mapping[str, Any]) -> np.ndarray:
    """Float64 PageRank from the adjacency itself (not from the precomputed inputs)."""
    pt, _, dangling = transition(inputs["adj"])
    n, d = pt.shape[0], float(params["damping"])

    def step(x: np.ndarray) -> np.ndarray:
        return d * (pt @ x) + (d * (dangling @ x) + (1.0 - d)) / n

    return iterate(step, np.full(n, 1.0 / n), params, n, _np_l1)


def work(scale: int, params: Mapping[str, Any]) -> Work:
    if params.get("tol") is not None:
        return Work()  # iterations unknown until run: no rate
    graph = workload_graph(scale, params)
    iterations = int(params["iterations"])
    nnz, n = float(graph.n_edges), float(graph.n_nodes)
    return Work(
        edges=nnz * iterations,
        flops=(2 * nnz + 4 * n) * iterations,
        words=(2 * nnz + 3 * n) * iterations,
    )


def _np_l1(a: Any, b: Any) -> float:
    return float(np.abs(a - b).sum())


def _numpy(be, device, inputs, params):
    pt, dangling = inputs["pt"], be.asarray(inputs["dangling"], device)
    n, d = pt.shape[0], float(params["damping"])
    x0 = np.full(n, 1.0 / n, dtype=dangling.dtype)

    def step(x):
        return d * (pt @ x) + (d * (dangling @ x) + (1.0 - d)) / n

    return lambda: iterate(step, x0, params, n, _np_l1)


def _cupy(be, device, inputs, params):
    import cupyx.scipy.sparse as csp

    cp = be.lib
    pt = inputs["pt"]
    n, d = pt.shape[0], float(params["damping"])
    with cp.cuda.Device(int(device.partition(":")[2] or 0)):
        pt = csp.csr_matrix(pt)
        dangling = cp.asarray(inputs["dangling"])
        x0 = cp.full(n, 1.0 / n, dtype=dangling.dtype)

    def step(x):
        return d * (pt @ x) + (d * (dangling @ x) + (1.0 - d)) / n

    return lambda: iterate(step, x0, params, n, lambda a, b: float(cp.abs(a - b).sum()))


def _torch(be, device, inputs, params):
    torch = be.lib
    pt = torch_csr(torch, inputs["pt"], device)
    dangling = be.asarray(inputs["dangling"], device)
    n, d = pt.shape[0], float(params["damping"])
    x0 = torch.full((n,), 1.0 / n, dtype=dangling.dtype, device=device)

    def step(x):
        return d * torch.mv(pt, x) + (d * torch.dot(dangling, x) + (1.0 - d)) / n

    return lambda: iterate(step, x0, params, n, lambda a, b: float((a - b).abs().sum()))


def _mxnet(be, device, inputs, params):
    mx = be.lib
    nd, ctx = mx.nd, be.context(device)
    pt = inputs["pt"]
    n, d, dtype = pt.shape[0], float(params["damping"]), pt.dtype
    blocks = mxnet_csr_blocks(mx, pt, ctx)
    dangling = nd.array(inputs["dangling"].reshape(1, n), dtype=dtype, ctx=ctx)
    x0 = nd.full((n, 1), 1.0 / n, dtype=dtype, ctx=ctx)  # sparse dot wants a 2-D right side

    def spmv(x):
        if len(blocks) == 1:
            return nd.sparse.dot(blocks[0], x)
        return nd.concat(*(nd.sparse.dot(b, x) for b in blocks), dim=0)

    def step(x):
        return d * spmv(x) + (d * nd.dot(dangling, x) + (1.0 - d)) / n

    def l1(a, b):
        return float((a - b).abs().sum().asscalar())

    return lambda: iterate(step, x0, params, n, l1).reshape((n,))


def _paddle(be, device, inputs, params):
    # Paddle 3.3's CPU build has no sparse.matmul kernel ("Not support CPU kernel of
    # 'sparse.matmul'"): the product P^T x is its message passing instead, each edge's source
    # value times the edge weight, summed at the destination (paddle.geometric.send_ue_recv)
    paddle = be.lib
    pt = inputs["pt"].tocoo()
    n, d = pt.shape[0], float(params["damping"])
    src, dst = (be.asarray(v.astype(np.int64), device) for v in (pt.col, pt.row))
    weight = be.asarray(pt.data.reshape(-1, 1), device)
    dangling = be.asarray(inputs["dangling"].reshape(1, n), device)
    x0 = be.asarray(np.full((n, 1), 1.0 / n, dtype=pt.dtype), device)
    spmv = paddle.geometric.send_ue_recv

    def step(x):
        px = spmv(x, weight, src, dst, message_op="mul", reduce_op="sum", out_size=n)
        return d * px + (d * paddle.matmul(dangling, x) + (1.0 - d)) / n

    def l1(a, b):
        return float((a - b).abs().sum())

    return lambda: iterate(step, x0, params, n, l1).reshape([n])


def _jax(be, device, inputs, params, jit=True):
    jax = be.lib
    jnp, lax = jax.numpy, jax.lax
    pt = inputs["pt"]
    n, d, dtype = pt.shape[0], float(params["damping"]), pt.dtype
    targets = np.repeat(np.arange(n, dtype=pt.indices.dtype), np.diff(pt.indptr))
    arrays = [be.asarray(a, device) for a in (pt.data, pt.indices, targets, inputs["dangling"])]

    def step(x, data, sources, targets, dangling):
        spread = jax.ops.segment_sum(
            data * x[sources], targets, num_segments=n, indices_are_sorted=True
        )
        return d * spread + (d * (dangling @ x) + (1.0 - d)) / n

    x0 = be.asarray(np.full(n, 1.0 / n, dtype=dtype), device)
    if not jit:  # eager: the same step, op by op, from Python's loop

        def l1(a, b):
            return float(jnp.abs(a - b).sum())

        return lambda: iterate(lambda x: step(x, *arrays), x0, params, n, l1)
    tol = params.get("tol")
    if tol is None:
        iterations = int(params["iterations"])

        @jax.jit
        def run(x, *arrays):
            return lax.fori_loop(0, iterations, lambda _, x: step(x, *arrays), x)

        return lambda: run(x0, *arrays)

    max_iter = int(params["max_iter"])

    @jax.jit
    def converge(x, *arrays):
        def body(state):
            k, x, _ = state
            new = step(x, *arrays)
            return k + 1, new, jnp.abs(new - x).sum()

        def going(state):
            k, _, err = state
            return (k < max_iter) & (err >= n * tol)

        return lax.while_loop(going, body, (0, x, jnp.asarray(jnp.inf, dtype=dtype)))

    def run_to_tolerance():
        k, x, err = converge(x0, *arrays)
        if not float(err) < n * tol:
            raise ConvergenceError(f"PageRank did not reach tol={tol} in {max_iter} iterations")
        return x

    return run_to_tolerance


def _dgl(be, device, inputs, params):
    """DGL message passing: each node sends rank/out-degree along its edges, targets sum."""
    fn = be.lib.function
    adj = inputs["adj"]
    n, d = adj.shape[0], float(params["damping"])
    sources = np.repeat(np.arange(n), np.diff(adj.indptr))
    g = be.graph(sources, adj.indices, n, device)
    inv_out, dangling = (be.asarray(inputs[k], device) for k in ("inv_out", "dangling"))
    x0 = be.asarray(np.full(n, 1.0 / n, dtype=inputs["dangling"].dtype), device)

    def step(x):
        g.ndata["pv"] = x * inv_out
        g.update_all(fn.copy_u("pv", "m"), fn.sum("m", "pv"))
        return d * g.ndata["pv"] + (d * (dangling * x).sum() + (1.0 - d)) / n

    def l1(a, b):
        return float(be.to_numpy((a - b).abs().sum()))

    def run():
        with be.scope():
            return iterate(step, x0, params, n, l1)

    return run


WORKLOAD = Workload(
    name="pagerank",
    description="PageRank power iteration (networkx definition), R-MAT or real graph",
    size_name="scale",
    default_size=16,
    check_size=10,
    make_inputs=make_inputs,
    reference=reference,
    work=work,
    implementations={
        "numpy": _numpy,
        "torch": _torch,
        "mxnet": _mxnet,
        "cupy": _cupy,
        "jax": _jax,
        "dgl-torch": _dgl,
        "dgl-mxnet": _dgl,
        "paddle": _paddle,
    },
    output_names=("rank",),
    default_params=DEFAULTS,
    other_modes={
        "eager": {"jax": lambda *a: _jax(*a, jit=False)},
    },
    mode_gaps={
        "compiled": {
            # measured: torch._dynamo.explain finds 0 graphs, the frame runs eagerly
            "torch": "torch.compile skips the step: it does not trace sparse CSR tensors",
            "mxnet": "no hybridized mxnet PageRank: its P^T x uses the legacy nd.sparse interface",
            "dgl-torch": "no compiled DGL PageRank: update_all mutates the graph's node data",
            "dgl-mxnet": "no compiled DGL PageRank: update_all mutates the graph's node data",
        }
    },
)
