"""Shared GCN (Kipf & Welling) pieces for ``gcn_forward``, ``gcn_step`` and the accuracy command.

Two layers without bias: ``logits = Â relu(Â X W1) W2`` with ``Â = D^-1/2 (S + I) D^-1/2``, S the
symmetrised graph without its self-loops. Training: cross-entropy (mean) on the training nodes,
Adam (lr 0.01, L2 weight decay 5e-4 added to the gradient, as ``torch.optim.Adam`` does), and
dropout on the hidden layer only when ``dropout`` > 0 (the accuracy command; timed runs use 0).

Each backend has one model factory ``(backend, device, inputs, params) -> GcnModel``: ``forward``
gives the logits of the current weights, ``step`` does one training step and returns
``(loss, dW1, dW2)`` of that step (cross-entropy gradients, before weight decay). Inputs on a
LINQS graph are its row-normalised features, labels and pygcn's split (train rows 0-139);
otherwise deterministic random features and labels, training on the first tenth of the nodes.

Modes: ``MODELS`` are native (JAX jit-compiled, the rest eager). ``COMPILED_MODELS`` run the
torch-based models' logits through ``torch.compile`` (backward compiled by AOTAutograd, Adam
eager); ``EAGER_MODELS`` run JAX's step un-jitted. MXNet has no hybridized GCN: its Â @ H goes
through the legacy ``nd.sparse`` interface, outside the ``npx`` graph a hybridized block traces.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..backends import Skip
from ..backends.sparse import mxnet_csr_blocks, torch_csr
from ..graphs import workload_graph
from .base import Inputs, Work, rng_for

DEFAULTS = {
    "graph": None,
    "hidden": 16,
    "features": 64,  # generated graphs only
    "classes": 8,  # generated graphs only
    "dropout": 0.0,
    "lr": 0.01,
    "weight_decay": 5e-4,
    "seed": 0,
}
TRAIN, VAL, TEST = range(0, 140), range(200, 500), range(500, 1500)  # pygcn's LINQS split
BETAS, EPS = (0.9, 0.999), 1e-8


@dataclass(frozen=True)
class GcnModel:
    forward: Callable[[], Any]
    step: Callable[[], tuple]


def normalized_adjacency(adj: sp.csr_matrix) -> sp.csr_matrix:
    """``D^-1/2 (S + I) D^-1/2`` (float64 CSR, sorted), S the symmetrised graph, loops removed.

    Exactly symmetric (entry i, j is d_i * d_j), so ``Â.T == Â`` and backward passes use Â.
    """
    s = ((adj + adj.T) > 0).astype(np.float64)
    s = (s - sp.diags(s.diagonal()) + sp.eye(adj.shape[0])).tocsr()
    s.eliminate_zeros()
    d = 1.0 / np.sqrt(np.asarray(s.sum(axis=1)).ravel())
    a_hat = (sp.diags(d) @ s @ sp.diags(d)).tocsr()
    a_hat.sort_indices()
    return a_hat


@lru_cache(maxsize=2)
def _a_hat(scale: int, graph: str | None, seed: int) -> sp.csr_matrix:
    return normalized_adjacency(workload_graph(scale, {"graph": graph, "seed": seed}).adj)


def glorot(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out))


def make_inputs(scale: int, dtype: str, params: Mapping[str, Any]) -> Inputs:
    graph = workload_graph(scale, params)
    a_hat = _a_hat(scale, params.get("graph"), int(params.get("seed", 0)))
    n = graph.n_nodes
    rng = rng_for("gcn", scale, int(params.get("seed", 0)))
    if graph.features is not None and graph.labels is not None:
        rows = graph.features.sum(axis=1, keepdims=True)
        x = graph.features / np.where(rows > 0, rows, 1.0)  # row-normalised, as pygcn
        y, classes = graph.labels, len(graph.classes)
        train = np.arange(min(TRAIN.stop, n))
    else:
        x = rng.standard_normal((n, int(params["features"]))) / math.sqrt(params["features"])
        classes = int(params["classes"])
        y = rng.integers(0, classes, n)
        train = np.arange(max(1, n // 10))
    hidden = int(params["hidden"])
    return {
        "a_hat": a_hat.astype(dtype),
        "x": x.astype(dtype),
        "y": y.astype(np.int64),
        "train": train.astype(np.int64),
        "w1": glorot(rng, x.shape[1], hidden).astype(dtype),
        "w2": glorot(rng, hidden, classes).astype(dtype),
    }


def work(scale: int, params: Mapping[str, Any], step: bool) -> Work:
    """FLOPs of the forward pass, or of a training step (no gradient w.r.t. the features).

    Traffic (words): Â once (values and column indices), the features and labels once, the
    weights read (forward), or read, written, with their gradients and Adam's two moments
    read and written (step); the logits written (forward).
    """
    graph = workload_graph(scale, params)
    nnz = _a_hat(scale, params.get("graph"), int(params.get("seed", 0))).nnz
    n, h = graph.n_nodes, int(params["hidden"])
    f = graph.features.shape[1] if graph.features is not None else int(params["features"])
    c = len(graph.classes) if graph.labels is not None else int(params["classes"])
    forward = 2.0 * (n * f * h + nnz * h + n * h * c + nnz * c)
    backward = 2.0 * (nnz * c + 2 * n * h * c + nnz * h + n * f * h)
    weights = f * h + h * c
    words = 2.0 * nnz + n * f + n + (7 * weights if step else weights + n * c)
    return Work(flops=forward + backward if step else forward, words=words)


# -- the float64 reference and the hand-written backward (NumPy, CuPy) -----------------------


def manual_forward(xp: Any, a_hat: Any, x: Any, w1: Any, w2: Any) -> Any:
    return a_hat @ (xp.maximum(a_hat @ (x @ w1), 0) @ w2)


def manual_step(
    xp: Any, a_hat: Any, x: Any, onehot: Any, train: Any, w1: Any, w2: Any, keep: Any = None
) -> tuple:
    """Loss and (dW1, dW2) by hand; ``keep`` is the scaled dropout mask of the hidden layer."""
    z1 = a_hat @ (x @ w1)
    h = xp.maximum(z1, 0)
    if keep is not None:
        h = h * keep
    z2 = a_hat @ (h @ w2)
    logits = z2[train]
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
    m = logits.shape[0]
    loss = -(logp * onehot).sum() / m
    dz2 = xp.zeros_like(z2)
    dz2[train] = (xp.exp(logp) - onehot) / m
    dhw = a_hat @ dz2  # Â is symmetric
    dw2 = h.T @ dhw
    dh = dhw @ w2.T
    if keep is not None:
        dh = dh * keep
    dw1 = x.T @ (a_hat @ (dh * (z1 > 0)))
    return loss, dw1, dw2


def _f64(inputs: Inputs) -> tuple:
    a_hat = inputs["a_hat"].astype(np.float64)
    return a_hat, *(np.asarray(inputs[k], dtype=np.float64) for k in ("x", "w1", "w2"))


def onehot(inputs: Inputs, dtype: Any) -> np.ndarray:
    classes = inputs["w2"].shape[1]
    return np.eye(classes, dtype=dtype)[inputs["y"][inputs["train"]]]


def forward_reference(inputs: Inputs, params: Mapping[str, Any]) -> np.ndarray:
    return manual_forward(np, *_f64(inputs))


def step_reference(inputs: Inputs, params: Mapping[str, Any]) -> tuple:
    a_hat, x, w1, w2 = _f64(inputs)
    return manual_step(np, a_hat, x, onehot(inputs, np.float64), inputs["train"], w1, w2)


def adam(w: Any, g: Any, m: Any, v: Any, t: int, params: Mapping[str, Any]) -> tuple:
    """One Adam update with L2 weight decay (torch.optim.Adam semantics): new (w, m, v)."""
    b1, b2 = BETAS
    g = g + params["weight_decay"] * w
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return w - params["lr"] * m_hat / (v_hat**0.5 + EPS), m, v


# -- per-backend models ----------------------------------------------------------------------


def _manual(be, device, inputs, params):
    """NumPy/SciPy or CuPy/cupyx: hand-written forward and backward, Adam by hand."""
    p = float(params["dropout"])
    if be.name == "numpy":
        xp, a_hat = np, inputs["a_hat"]
        rng = np.random.default_rng(int(params["seed"]))
    else:
        import cupyx.scipy.sparse as csp

        xp = be.lib
        with xp.cuda.Device(int(device.partition(":")[2] or 0)):
            a_hat = csp.csr_matrix(inputs["a_hat"])
        rng = xp.random.default_rng(int(params["seed"]))
    x, w1, w2 = (be.asarray(inputs[k], device) for k in ("x", "w1", "w2"))
    target = be.asarray(onehot(inputs, inputs["x"].dtype), device)
    train = be.asarray(inputs["train"], device)
    state = {"w": [w1, w2], "m": [xp.zeros_like(w1), xp.zeros_like(w2)], "t": 0}
    state["v"] = [xp.zeros_like(w1), xp.zeros_like(w2)]

    def forward():
        return manual_forward(xp, a_hat, x, *state["w"])

    def step():
        keep = None
        if p > 0:
            shape = (x.shape[0], w1.shape[1])
            keep = (rng.random(shape) >= p).astype(x.dtype) / (1 - p)
        loss, dw1, dw2 = manual_step(xp, a_hat, x, target, train, *state["w"], keep=keep)
        state["t"] += 1
        for i, g in enumerate((dw1, dw2)):
            state["w"][i], state["m"][i], state["v"][i] = adam(
                state["w"][i], g, state["m"][i], state["v"][i], state["t"], params
            )
        return loss, dw1, dw2

    return GcnModel(forward, step)


def torch_spmm(torch: Any, a: sp.csr_matrix, device: str) -> Callable[[Any], Any]:
    """``h -> a @ h`` (torch.sparse CSR) differentiable in ``h``, with ``a^T`` as CSR made once.

    Plain autograd through ``torch.sparse.mm`` rebuilds ``a^T`` as CSR (a sort of every
    entry) in each backward, 80% of a step; DGL keeps both layouts of its graph, and so does
    this. The backward is still autograd's: only the product it calls is given.
    """
    a_csr, a_t = torch_csr(torch, a, device), torch_csr(torch, a.T.tocsr(), device)

    class SpMM(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, h: Any) -> Any:
            return torch.sparse.mm(a_csr, h)

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            return torch.sparse.mm(a_t, grad)

    return SpMM.apply


def _torch_model(
    torch: Any,
    layers: tuple,
    x: Any,
    weights: list,
    train: Any,
    y: Any,
    params: Mapping[str, Any],
    grad: Any = None,
    compiled: bool = False,
) -> GcnModel:
    """The harness shared by the torch-based GCNs (torch.sparse, DGL, PyG): ReLU between two
    ``layers`` (callables on node features), dropout while training, softmax cross-entropy on
    the training nodes, torch.optim.Adam over ``weights``. ``grad`` maps a weight to its
    gradient as (in, out), like the reference (default: a clone; Adam must not see it change).
    ``compiled``: the logits go through ``torch.compile`` (the compiled mode).
    """
    F = torch.nn.functional
    grad = grad or (lambda w: w.grad.clone())
    opt = torch.optim.Adam(weights, lr=params["lr"], weight_decay=params["weight_decay"])
    p = float(params["dropout"])
    torch.manual_seed(int(params["seed"]))

    def logits(training):
        h = F.relu(layers[0](x))
        if training and p > 0:
            h = F.dropout(h, p)
        return layers[1](h)

    if compiled:
        logits = torch.compile(logits)

    def forward():
        with torch.no_grad():
            return logits(False)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(logits(True)[train], y)
        loss.backward()
        grads = tuple(grad(w) for w in weights)
        opt.step()
        return (loss.detach(), *grads)

    return GcnModel(forward, step)


def _torch(be, device, inputs, params, compiled=False):
    """torch.sparse CSR @ dense, autograd, torch.optim.Adam."""
    torch = be.lib
    spmm = torch_spmm(torch, inputs["a_hat"], device)
    x = be.asarray(inputs["x"], device)
    train, y = (be.asarray(a, device) for a in (inputs["train"], inputs["y"][inputs["train"]]))
    w1, w2 = (be.asarray(inputs[k], device).requires_grad_(True) for k in ("w1", "w2"))
    layers = (lambda h: spmm(h @ w1), lambda h: spmm(h @ w2))
    return _torch_model(torch, layers, x, [w1, w2], train, y, params, compiled=compiled)


def _mxnet(be, device, inputs, params):
    """mx.np arrays and autograd; Â @ H through ``nd.sparse.dot`` (mx.np has no sparse)."""
    # Autograd of nd.sparse.dot yields a row_sparse gradient that np.dot's backward densifies
    # (cheap at n x hidden); MXNet logs that "storage fallback" at length unless told not to.
    os.environ.setdefault("MXNET_STORAGE_FALLBACK_LOG_VERBOSE", "0")
    mx = be.lib
    np_, npx, nd = mx.np, mx.npx, mx.nd
    ctx = be.context(device)
    blocks = mxnet_csr_blocks(mx, inputs["a_hat"], ctx)

    def spmm(h):
        h = h.as_nd_ndarray()
        if len(blocks) == 1:
            return nd.sparse.dot(blocks[0], h).as_np_ndarray()
        return nd.concat(*(nd.sparse.dot(b, h) for b in blocks), dim=0).as_np_ndarray()

    x, w1, w2 = (be.asarray(inputs[k], device) for k in ("x", "w1", "w2"))
    train, y = (be.asarray(a, device) for a in (inputs["train"], inputs["y"][inputs["train"]]))
    for w in (w1, w2):
        w.attach_grad()
    state = {"m": [np_.zeros_like(w1), np_.zeros_like(w2)], "t": 0}
    state["v"] = [np_.zeros_like(w1), np_.zeros_like(w2)]
    p = float(params["dropout"])
    mx.random.seed(int(params["seed"]))

    def logits():
        h = npx.relu(spmm(np_.dot(x, w1)))
        if p > 0:
            h = npx.dropout(h, p)  # active only while recording in training mode
        return spmm(np_.dot(h, w2))

    def forward():
        return logits()

    def step():
        with mx.autograd.record():
            out = np_.take(logits(), train, axis=0)
            loss = -npx.pick(npx.log_softmax(out), y).mean()
        loss.backward()
        grads = (w1.grad.copy(), w2.grad.copy())
        state["t"] += 1
        for i, (w, g) in enumerate(zip((w1, w2), grads, strict=True)):
            new, state["m"][i], state["v"][i] = adam(
                w, g, state["m"][i], state["v"][i], state["t"], params
            )
            w[:] = new
        return (loss, *grads)

    return GcnModel(forward, step)


def _jax(be, device, inputs, params, jit=True):
    """jax.value_and_grad under jit; Â @ H as gather + sorted segment_sum; Adam by hand.

    ``jit=False``: the same functions run op by op (the eager mode)."""
    jax = be.lib
    jnp = jax.numpy
    a_hat = inputs["a_hat"]
    n = a_hat.shape[0]
    rows = np.repeat(np.arange(n, dtype=a_hat.indices.dtype), np.diff(a_hat.indptr))
    graph = tuple(be.asarray(a, device) for a in (a_hat.data, a_hat.indices, rows))
    x, w1, w2 = (be.asarray(inputs[k], device) for k in ("x", "w1", "w2"))
    train, y = (be.asarray(a, device) for a in (inputs["train"], inputs["y"][inputs["train"]]))
    p = float(params["dropout"])

    def spmm(graph, h):
        data, cols, rows = graph
        return jax.ops.segment_sum(
            data[:, None] * h[cols], rows, num_segments=n, indices_are_sorted=True
        )

    def logits(ws, graph, x, key):
        h = jax.nn.relu(spmm(graph, x @ ws[0]))
        if key is not None:
            keep = jax.random.bernoulli(key, 1 - p, h.shape)
            h = jnp.where(keep, h / (1 - p), 0)
        return spmm(graph, h @ ws[1])

    def loss_fn(ws, graph, x, train, y, key):
        logp = jax.nn.log_softmax(logits(ws, graph, x, key)[train])
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    compile_ = jax.jit if jit else (lambda f: f)

    @compile_
    def train_step(ws, ms, vs, t, key, graph, x, train, y):
        key, sub = jax.random.split(key)
        loss, grads = jax.value_and_grad(loss_fn)(ws, graph, x, train, y, sub if p > 0 else None)
        new = [adam(w, g, m, v, t, params) for w, g, m, v in zip(ws, grads, ms, vs, strict=True)]
        return loss, grads, tuple(zip(*new, strict=True)), key

    infer = compile_(lambda ws, graph, x: logits(ws, graph, x, None))
    # Initial state committed to the device like train_step's outputs: an uncommitted first
    # state gives the second call a different jit signature, i.e. a recompile (300 ms here).
    zeros = tuple(be.asarray(np.zeros(w.shape, w.dtype), device) for w in (w1, w2))
    state = {"w": (w1, w2), "m": zeros, "v": zeros, "t": 0}
    state["key"] = jax.device_put(jax.random.PRNGKey(int(params["seed"])), be.jax_device(device))

    def forward():
        return infer(state["w"], graph, x)

    def step():
        state["t"] += 1
        loss, grads, (ws, ms, vs), state["key"] = train_step(
            state["w"], state["m"], state["v"], state["t"], state["key"], graph, x, train, y
        )
        state["w"], state["m"], state["v"] = ws, ms, vs
        return (loss, *grads)

    return GcnModel(forward, step)


def _structure(inputs: Inputs) -> tuple[np.ndarray, np.ndarray, int]:
    """Edges (source, target) of S + I, the nonzeros of Â (symmetric, so either direction)."""
    a_hat = inputs["a_hat"]
    n = a_hat.shape[0]
    return np.repeat(np.arange(n), np.diff(a_hat.indptr)), a_hat.indices, n


def _dgl_torch(be, device, inputs, params, compiled=False):
    """dgl.nn.GraphConv(norm='both', bias=False) on S + I, weights set to the shared ones."""
    torch = be.fw
    g = be.graph(*_structure(inputs), device)
    x = be.asarray(inputs["x"], device)
    train, y = (be.asarray(a, device) for a in (inputs["train"], inputs["y"][inputs["train"]]))
    convs = []
    for k in ("w1", "w2"):
        w = inputs[k]
        conv = be.nn.GraphConv(*w.shape, norm="both", weight=True, bias=False)
        conv = conv.to(device=device, dtype=getattr(torch, str(w.dtype)))
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(w))
        convs.append(conv)
    layers = (lambda h: convs[0](g, h), lambda h: convs[1](g, h))
    weights = [c.weight for c in convs]
    return _torch_model(torch, layers, x, weights, train, y, params, compiled=compiled)


def _dgl_mxnet(be, device, inputs, params):
    """dgl.nn.GraphConv (a Gluon block) with mx.nd arrays, autograd and Gluon's Adam trainer."""
    mx = be.fw
    nd = mx.nd
    if inputs["x"].dtype != np.float32:
        raise Skip(
            "DGL 1.1.3's MXNet GraphConv computes its degree normalisation in float32, "
            f"so {inputs['x'].dtype} features fail (dtype mismatch)"
        )
    ctx = be.context(device)
    with be.scope():
        g = be.graph(*_structure(inputs), device)
        x = be.asarray(inputs["x"], device)
        train = be.asarray(inputs["train"], device)
        y = be.asarray(inputs["y"][inputs["train"]].astype(np.float32), device)
        convs = []
        for k in ("w1", "w2"):
            conv = be.nn.GraphConv(*inputs[k].shape, norm="both", weight=True, bias=False)
            conv.initialize(ctx=ctx)
            conv.weight.set_data(be.asarray(inputs[k], device))
            convs.append(conv)
        b1, b2 = BETAS
        settings = {"learning_rate": params["lr"], "wd": params["weight_decay"]}
        settings.update(beta1=b1, beta2=b2, epsilon=EPS)
        trainer = mx.gluon.Trainer([c.weight for c in convs], "adam", settings)
    p = float(params["dropout"])
    mx.random.seed(int(params["seed"]))
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()

    def logits():
        h = nd.relu(convs[0](g, x))
        if p > 0:
            h = nd.Dropout(h, p=p)  # active only while recording in training mode
        return convs[1](g, h)

    def forward():
        with be.scope():
            return logits()

    def step():
        with be.scope():
            with mx.autograd.record():
                loss = loss_fn(nd.take(logits(), train), y).mean()
            loss.backward()
            grads = tuple(c.weight.grad(ctx).copy() for c in convs)
            trainer.step(1)
            with mx.util.np_shape(True):  # the loss is a scalar, as everywhere else
                loss = loss.reshape(())
            return (loss, *grads)

    return GcnModel(forward, step)


def _pyg(be, device, inputs, params, compiled=False):
    """torch_geometric.nn.GCNConv(bias=False, cached=True) on the edges of S + I."""
    torch = be.fw
    from torch_geometric.nn import GCNConv

    src, dst, _ = _structure(inputs)
    edge_index = be.asarray(np.stack([src, dst]).astype(np.int64), device)
    x = be.asarray(inputs["x"], device)
    train, y = (be.asarray(a, device) for a in (inputs["train"], inputs["y"][inputs["train"]]))
    convs = []
    for k in ("w1", "w2"):
        w = inputs[k]
        conv = GCNConv(*w.shape, bias=False, cached=True)
        conv = conv.to(device=device, dtype=getattr(torch, str(w.dtype)))
        with torch.no_grad():
            conv.lin.weight.copy_(torch.from_numpy(w.T.copy()))  # Linear stores W^T
        convs.append(conv)
    layers = (lambda h: convs[0](h, edge_index), lambda h: convs[1](h, edge_index))
    weights = [c.lin.weight for c in convs]
    # Linear stores W^T: report gradients as (in, out), like the reference.
    grad_in_out = lambda w: w.grad.T.clone()  # noqa: E731
    return _torch_model(torch, layers, x, weights, train, y, params, grad_in_out, compiled)


MODELS: dict[str, Callable[..., GcnModel]] = {
    "numpy": _manual,
    "torch": _torch,
    "mxnet": _mxnet,
    "cupy": _manual,
    "jax": _jax,
    "dgl-torch": _dgl_torch,
    "dgl-mxnet": _dgl_mxnet,
    "pyg": _pyg,
}


def _compiled(model: Callable[..., GcnModel]) -> Callable[..., GcnModel]:
    return lambda be, device, inputs, params: model(be, device, inputs, params, compiled=True)


COMPILED_MODELS: dict[str, Callable[..., GcnModel]] = {
    name: _compiled(MODELS[name]) for name in ("torch", "dgl-torch", "pyg")
}
EAGER_MODELS: dict[str, Callable[..., GcnModel]] = {
    "jax": lambda be, device, inputs, params: _jax(be, device, inputs, params, jit=False)
}
MODE_GAPS = {
    "compiled": {
        "mxnet": "no hybridized mxnet GCN: Â @ H uses the legacy nd.sparse interface",
        "dgl-mxnet": "DGL's MXNet GraphConv is a Gluon Block, not a HybridBlock",
    }
}


def train(
    be: Any,
    device: str,
    graph: str,
    epochs: int = 200,
    *,
    dropout: float = 0.5,
    hidden: int = 16,
    seed: int = 0,
) -> dict[str, Any]:
    """Train on a LINQS graph with pygcn's split and recipe; accuracies of the final model.

    ``be`` is a ready backend (imported, threads set). Accuracy is the share of correct
    argmax predictions on the validation (rows 200-499) and test (rows 500-1499) nodes.
    """
    params = {**DEFAULTS, "graph": graph, "dropout": dropout, "hidden": hidden, "seed": seed}
    labelled = workload_graph(0, params)
    if labelled.labels is None:
        raise ValueError(f"{graph}: no node features or labels (a LINQS graph is needed)")
    if labelled.n_nodes < TEST.stop:
        raise ValueError(f"{graph}: {labelled.n_nodes} nodes, the split needs {TEST.stop}")
    inputs = make_inputs(0, "float32", params)
    model = MODELS[be.name](be, device, inputs, params)
    t0 = time.perf_counter()
    loss = None
    for _ in range(epochs):
        loss = model.step()[0]
    be.synchronize(device, loss)
    seconds = time.perf_counter() - t0
    predicted = be.to_numpy(model.forward()).argmax(axis=1)
    correct = predicted == labelled.labels
    return {
        "model": "gcn",
        "graph": labelled.name,
        "epochs": epochs,
        "hidden": hidden,
        "dropout": dropout,
        "seconds": seconds,
        "final_loss": float(be.to_numpy(loss)) if loss is not None else None,
        "train_accuracy": float(correct[TRAIN].mean()),
        "val_accuracy": float(correct[VAL].mean()),
        "test_accuracy": float(correct[TEST].mean()),
    }
