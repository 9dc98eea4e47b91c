"""treelstm_forward and treelstm_step: a Child-Sum TreeLSTM over a batch of binary trees shaped
like the Stanford Sentiment Treebank's parses (DGL's graph-batching claim).

Trees come from a seeded generator: sentence lengths drawn from a gamma distribution with
SST's mean and spread (19 words, SD 9; clipped to 2..56), each tree split at a uniform point
recursively, so every internal node has two children. The size is the number of trees in the
batch. Nodes are numbered in post-order, children before parents, tree after tree.

The cell is the DGL tutorial's Child-Sum cell: leaves read a word vector x (W_iou x), internal
nodes the sum of their children's states (U_iou sum h_k) and one forget gate per child
(sigmoid(U_f h_k + b_f)); c = i*u + sum_k f_k * c_k, h = o * tanh(c). The step classifies
every node into 5 classes (SST labels every phrase), averages the cross-entropy, backpropagates
and takes an SGD step. Outputs: ``h`` of the roots (forward); ``(loss, dW_iou, dU_iou, dU_f)``
of the step's first call, validated against a float64 NumPy backward written by hand.

Implementations, each what its users write:
- ``numpy``: level batching by hand (every node of a height at once, the schedule computed in
  setup, like a collate function), with the hand-written backward;
- ``torch`` / ``mxnet``: plain recursion over each tree, node by node (the claim's baseline;
  MXNet's is DGL-MXNet's, in its own framework);
- ``dgl-torch`` / ``dgl-mxnet``: the trees as one batched DGL graph (edges child -> parent) and
  ``dgl.prop_nodes_topo`` with the cell as message, reduce and apply functions, the
  framework's autograd.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import Inputs, Work, Workload, rng_for

DEFAULTS = {"x_size": 64, "h_size": 64, "classes": 5, "lr": 0.05, "seed": 0}
WEIGHTS = ("W_iou", "U_iou", "b_iou", "U_f", "b_f", "W_out", "b_out")
# SST's sentence lengths: mean 19.1 words, SD 9.2 (gamma with shape 4.3, scale 4.45)
LENGTH_SHAPE, LENGTH_SCALE, MIN_LENGTH, MAX_LENGTH = 4.3, 4.45, 2, 56


def make_trees(n_trees: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(left, right)`` child indices of a batch of random binary trees, -1 at leaves."""
    left: list[int] = []
    right: list[int] = []

    def build(length: int) -> int:
        if length == 1:
            left.append(-1)
            right.append(-1)
            return len(left) - 1
        k = int(rng.integers(1, length))
        a, b = build(k), build(length - k)
        left.append(a)
        right.append(b)
        return len(left) - 1

    for _ in range(n_trees):
        length = round(rng.gamma(LENGTH_SHAPE, LENGTH_SCALE))
        build(int(np.clip(length, MIN_LENGTH, MAX_LENGTH)))
    return np.array(left, dtype=np.int64), np.array(right, dtype=np.int64)


def make_inputs(n_trees: int, dtype: str, params: Mapping[str, Any]) -> Inputs:
    p = {**DEFAULTS, **params}
    rng = rng_for("treelstm", n_trees, int(p["seed"]))
    left, right = make_trees(n_trees, rng)
    n, hs, xs = len(left), int(p["h_size"]), int(p["x_size"])
    n_leaves = int((left < 0).sum())

    def weight(fan_in: int, *shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(dtype)

    return {
        "left": left,
        "right": right,
        "x": rng.standard_normal((n_leaves, xs)).astype(dtype),
        "labels": rng.integers(0, int(p["classes"]), n).astype(np.int64),
        "W_iou": weight(xs, xs, 3 * hs),
        "U_iou": weight(hs, hs, 3 * hs),
        "b_iou": weight(1, 3 * hs) * 0.1,
        "U_f": weight(hs, hs, hs),
        "b_f": weight(1, hs) * 0.1,
        "W_out": weight(hs, hs, int(p["classes"])),
        "b_out": np.zeros(int(p["classes"]), dtype=dtype),
    }


@dataclass(frozen=True)
class Schedule:
    """Nodes grouped by height (leaves first): every node of a level has its children below."""

    levels: tuple[np.ndarray, ...]
    left: np.ndarray
    right: np.ndarray
    roots: np.ndarray


def schedule(left: np.ndarray, right: np.ndarray) -> Schedule:
    height = np.zeros(len(left), dtype=np.int64)
    for v in np.flatnonzero(left >= 0):  # post-order: children are numbered before parents
        height[v] = 1 + max(height[left[v]], height[right[v]])
    parent = np.full(len(left), -1)
    inner = left >= 0
    parent[left[inner]] = np.flatnonzero(inner)
    parent[right[inner]] = np.flatnonzero(inner)
    levels = tuple(np.flatnonzero(height == k) for k in range(int(height.max()) + 1))
    return Schedule(levels, left, right, np.flatnonzero(parent < 0))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _gates(iou: np.ndarray, hs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _sigmoid(iou[:, :hs]), _sigmoid(iou[:, hs : 2 * hs]), np.tanh(iou[:, 2 * hs :])


def forward(sched: Schedule, x: np.ndarray, w: Mapping[str, np.ndarray]) -> tuple:
    """Level by level; returns ``(h, c, cache)`` with what the backward needs per level."""
    hs = w["U_f"].shape[0]
    n = len(sched.left)
    h = np.zeros((n, hs), dtype=x.dtype)
    c = np.zeros((n, hs), dtype=x.dtype)
    cache = []
    for k, nodes in enumerate(sched.levels):
        if k == 0:  # the leaves, in node order: x's rows
            iou = x @ w["W_iou"] + w["b_iou"]
            f = kids = None
            csum = 0.0
        else:
            kids = np.concatenate([sched.left[nodes], sched.right[nodes]])
            f = _sigmoid(h[kids] @ w["U_f"] + w["b_f"])
            m = len(nodes)
            fc = f * c[kids]
            csum = fc[:m] + fc[m:]
            iou = (h[kids[:m]] + h[kids[m:]]) @ w["U_iou"] + w["b_iou"]
        i, o, u = _gates(iou, hs)
        cn = i * u + csum
        tc = np.tanh(cn)
        c[nodes] = cn
        h[nodes] = o * tc
        cache.append((nodes, kids, f, i, o, u, tc))
    return h, c, cache


def step(sched: Schedule, x: np.ndarray, labels: np.ndarray, w: Mapping[str, np.ndarray]):
    """Forward, mean cross-entropy over every node, hand-written backward: (loss, grads)."""
    h, c, cache = forward(sched, x, w)
    logits = h @ w["W_out"] + w["b_out"]
    logits = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    n = len(labels)
    rows = np.arange(n)
    loss = -np.log(p[rows, labels]).mean()
    dlogits = p
    dlogits[rows, labels] -= 1
    dlogits /= n
    g = {"W_out": h.T @ dlogits, "b_out": dlogits.sum(axis=0)}
    dh = dlogits @ w["W_out"].T
    dc = np.zeros_like(c)
    g.update({k: np.zeros_like(w[k]) for k in ("W_iou", "U_iou", "b_iou", "U_f", "b_f")})
    for k in range(len(cache) - 1, -1, -1):  # top level first: a node's parents are done
        nodes, kids, f, i, o, u, tc = cache[k]
        dcn = dc[nodes] + dh[nodes] * o * (1 - tc * tc)
        diou = np.concatenate(
            [dcn * u * i * (1 - i), dh[nodes] * tc * o * (1 - o), dcn * i * (1 - u * u)], axis=1
        )
        g["b_iou"] += diou.sum(axis=0)
        if k == 0:
            g["W_iou"] += x.T @ diou
            continue
        m = len(nodes)
        hk = h[kids]
        g["U_iou"] += (hk[:m] + hk[m:]).T @ diou
        dsum = diou @ w["U_iou"].T
        dcn2 = np.concatenate([dcn, dcn])
        df = dcn2 * c[kids] * f * (1 - f)
        g["U_f"] += hk.T @ df
        g["b_f"] += df.sum(axis=0)
        dc[kids] += dcn2 * f
        dh[kids] += np.concatenate([dsum, dsum]) + df @ w["U_f"].T
    return loss, g


def _f64(inputs: Inputs) -> tuple[Schedule, np.ndarray, dict[str, np.ndarray]]:
    w = {k: inputs[k].astype(np.float64) for k in WEIGHTS}
    return schedule(inputs["left"], inputs["right"]), inputs["x"].astype(np.float64), w


def forward_reference(inputs: Inputs, params: Mapping[str, Any]) -> np.ndarray:
    sched, x, w = _f64(inputs)
    return forward(sched, x, w)[0][sched.roots]


def step_reference(inputs: Inputs, params: Mapping[str, Any]) -> tuple:
    sched, x, w = _f64(inputs)
    loss, g = step(sched, x, inputs["labels"], w)
    return (np.asarray(loss), g["W_iou"], g["U_iou"], g["U_f"])


def work(n_trees: int, params: Mapping[str, Any]) -> Work:
    """Unknown from the size alone: the node count is the generated trees' (about 37 per tree)."""
    return Work()


# -- implementations ---------------------------------------------------------------------------


def _lr(params: Mapping[str, Any]) -> float:
    return float({**DEFAULTS, **params}["lr"])


def _recursion(inputs: Inputs) -> tuple[list[int], list[int], dict[int, int], list[int]]:
    """What a recursion walks, as Python objects: ``(left, right, leaf_row, roots)``, with
    ``leaf_row`` each leaf's row of ``x``."""
    leaf_row = {int(v): r for r, v in enumerate(np.flatnonzero(inputs["left"] < 0))}
    roots = schedule(inputs["left"], inputs["right"]).roots.tolist()
    return inputs["left"].tolist(), inputs["right"].tolist(), leaf_row, roots


def _torch_train(torch: Any, w: dict, labels: Any, lr: float, hidden: Any):
    """The training step around ``hidden()`` (every node's h): cross-entropy over the nodes,
    backward, SGD; the gradients stay valid until the next call."""

    def train():
        for p in w.values():
            p.grad = None
        h = hidden()
        loss = torch.nn.functional.cross_entropy(h @ w["W_out"] + w["b_out"], labels)
        loss.backward()
        with torch.no_grad():
            for p in w.values():
                p.sub_(lr * p.grad)
        return (loss.detach(), w["W_iou"].grad, w["U_iou"].grad, w["U_f"].grad)

    return train


def _numpy(be, device, inputs, params):
    sched = schedule(inputs["left"], inputs["right"])
    x, labels = inputs["x"], inputs["labels"]
    w = {k: inputs[k].copy() for k in WEIGHTS}
    lr = _lr(params)

    def fwd():
        return forward(sched, x, w)[0][sched.roots]

    def train():
        loss, g = step(sched, x, labels, w)
        for k in WEIGHTS:
            w[k] -= lr * g[k]
        return (loss, g["W_iou"], g["U_iou"], g["U_f"])

    return fwd, train


def _torch(be, device, inputs, params):
    """Plain PyTorch recursion: each tree from its root, one node at a time."""
    torch = be.lib
    left, right, leaf_row, roots = _recursion(inputs)
    x = be.asarray(inputs["x"], device)
    labels = be.asarray(inputs["labels"], device)
    w = {k: be.asarray(inputs[k], device).requires_grad_(True) for k in WEIGHTS}
    hs = inputs["U_f"].shape[0]

    def node(v: int, states: dict) -> tuple:
        if left[v] < 0:
            r = leaf_row[v]
            iou = x[r : r + 1] @ w["W_iou"] + w["b_iou"]
            i, o = torch.sigmoid(iou[:, :hs]), torch.sigmoid(iou[:, hs : 2 * hs])
            cell = i * torch.tanh(iou[:, 2 * hs :])
        else:
            hl, cl = node(left[v], states)
            hr, cr = node(right[v], states)
            f = torch.sigmoid(torch.cat([hl, hr]) @ w["U_f"] + w["b_f"])
            iou = (hl + hr) @ w["U_iou"] + w["b_iou"]
            i, o = torch.sigmoid(iou[:, :hs]), torch.sigmoid(iou[:, hs : 2 * hs])
            u = torch.tanh(iou[:, 2 * hs :])
            cell = i * u + (f * torch.cat([cl, cr])).sum(0, keepdim=True)
        hidden = o * torch.tanh(cell)
        states[v] = hidden
        return hidden, cell

    def fwd():
        with torch.no_grad():
            return torch.cat([node(r, {})[0] for r in roots])

    def hidden():
        states: dict = {}
        for r in roots:
            node(r, states)
        return torch.cat([states[v] for v in range(len(left))])

    return fwd, _torch_train(torch, w, labels, _lr(params), hidden)


def _mxnet(be, device, inputs, params):
    """Plain MXNet recursion (its NumPy interface), as `_torch`: DGL-MXNet's baseline in its
    own framework."""
    mx = be.lib
    np_, npx, autograd = mx.np, mx.npx, mx.autograd
    left, right, leaf_row, roots = _recursion(inputs)
    x = be.asarray(inputs["x"], device)
    labels = be.asarray(inputs["labels"], device)
    w = {k: be.asarray(inputs[k], device) for k in WEIGHTS}
    for p in w.values():
        p.attach_grad()
    hs = inputs["U_f"].shape[0]
    lr = _lr(params)

    def node(v: int, states: dict) -> tuple:
        if left[v] < 0:
            r = leaf_row[v]
            iou = np_.dot(x[r : r + 1], w["W_iou"]) + w["b_iou"]
            i, o = npx.sigmoid(iou[:, :hs]), npx.sigmoid(iou[:, hs : 2 * hs])
            cell = i * np_.tanh(iou[:, 2 * hs :])
        else:
            hl, cl = node(left[v], states)
            hr, cr = node(right[v], states)
            f = npx.sigmoid(np_.dot(np_.concatenate([hl, hr]), w["U_f"]) + w["b_f"])
            iou = np_.dot(hl + hr, w["U_iou"]) + w["b_iou"]
            i, o = npx.sigmoid(iou[:, :hs]), npx.sigmoid(iou[:, hs : 2 * hs])
            cell = i * np_.tanh(iou[:, 2 * hs :])
            cell = cell + (f * np_.concatenate([cl, cr])).sum(axis=0, keepdims=True)
        hidden = o * np_.tanh(cell)
        states[v] = hidden
        return hidden, cell

    def fwd():
        return np_.concatenate([node(r, {})[0] for r in roots])

    def train():
        states: dict = {}
        with autograd.record():
            for r in roots:
                node(r, states)
            h = np_.concatenate([states[v] for v in range(len(left))])
            logits = np_.dot(h, w["W_out"]) + w["b_out"]
            loss = -npx.pick(npx.log_softmax(logits), labels).mean()
        loss.backward()
        grads = tuple(w[k].grad.copy() for k in ("W_iou", "U_iou", "U_f"))  # overwritten next
        for p in w.values():
            p -= lr * p.grad
        return (loss, *grads)

    return fwd, train


def _edges(inputs: Inputs) -> tuple[np.ndarray, np.ndarray, int]:
    """child -> parent edges of the batch (one forest: what ``dgl.batch`` of the trees is)."""
    left, right = inputs["left"], inputs["right"]
    inner = np.flatnonzero(left >= 0)
    src = np.concatenate([left[inner], right[inner]])
    return src, np.concatenate([inner, inner]), len(left)


def _padded_x(inputs: Inputs) -> np.ndarray:
    """x on every node, zero on internal ones (the DGL tutorial's masked embeddings)."""
    x = np.zeros((len(inputs["left"]), inputs["x"].shape[1]), dtype=inputs["x"].dtype)
    x[inputs["left"] < 0] = inputs["x"]
    return x


def _dgl_torch(be, device, inputs, params):
    torch, dgl = be.fw, be.lib
    g = be.graph(*_edges(inputs), device)
    roots = be.asarray(schedule(inputs["left"], inputs["right"]).roots, device)
    x = be.asarray(_padded_x(inputs), device)
    labels = be.asarray(inputs["labels"], device)
    w = {k: be.asarray(inputs[k], device).requires_grad_(True) for k in WEIGHTS}
    hs, n = inputs["U_f"].shape[0], len(inputs["left"])

    def message(edges):
        return {"h": edges.src["h"], "c": edges.src["c"]}

    def reduce(nodes):
        hk = nodes.mailbox["h"]  # (nodes, children, h)
        f = torch.sigmoid(hk @ w["U_f"] + w["b_f"])
        return {"uh": hk.sum(1) @ w["U_iou"], "fc": (f * nodes.mailbox["c"]).sum(1)}

    def apply(nodes):
        iou = nodes.data["wx"] + nodes.data["uh"] + w["b_iou"]
        i, o = torch.sigmoid(iou[:, :hs]), torch.sigmoid(iou[:, hs : 2 * hs])
        cell = i * torch.tanh(iou[:, 2 * hs :]) + nodes.data["fc"]
        return {"h": o * torch.tanh(cell), "c": cell}

    def propagate():
        zeros = x.new_zeros((n, hs))
        g.ndata.update({"h": zeros, "c": zeros, "fc": zeros})
        g.ndata["uh"] = x.new_zeros((n, 3 * hs))
        g.ndata["wx"] = x @ w["W_iou"]  # zero on internal nodes (x is zero there)
        dgl.prop_nodes_topo(g, message, reduce, apply_node_func=apply)
        return g.ndata["h"]

    def fwd():
        with torch.no_grad():
            return propagate()[roots]

    return fwd, _torch_train(torch, w, labels, _lr(params), propagate)


def _dgl_mxnet(be, device, inputs, params):
    mx, dgl = be.fw, be.lib
    nd = mx.nd
    hs, n = inputs["U_f"].shape[0], len(inputs["left"])
    lr = _lr(params)
    with be.scope():
        g = be.graph(*_edges(inputs), device)
        roots = be.asarray(schedule(inputs["left"], inputs["right"]).roots, device)
        x = be.asarray(_padded_x(inputs), device)
        labels = be.asarray(inputs["labels"].astype(inputs["x"].dtype), device)
        w = {
            k: be.asarray(inputs[k].reshape(1, -1) if k[0] == "b" else inputs[k], device)
            for k in WEIGHTS
        }
        for p in w.values():
            p.attach_grad()
        zeros_h = nd.zeros((n, hs), ctx=x.context, dtype=x.dtype)
        zeros_iou = nd.zeros((n, 3 * hs), ctx=x.context, dtype=x.dtype)

    def message(edges):
        return {"h": edges.src["h"], "c": edges.src["c"]}

    def reduce(nodes):
        hk = nodes.mailbox["h"]  # (nodes, children, h)
        f = nd.sigmoid(nd.broadcast_add(nd.dot(hk, w["U_f"]), w["b_f"].reshape(1, 1, -1)))
        return {
            "uh": nd.dot(hk.sum(axis=1), w["U_iou"]),
            "fc": (f * nodes.mailbox["c"]).sum(axis=1),
        }

    def apply(nodes):
        iou = nd.broadcast_add(nodes.data["wx"] + nodes.data["uh"], w["b_iou"])
        i = nd.sigmoid(iou[:, :hs])
        o = nd.sigmoid(iou[:, hs : 2 * hs])
        cell = i * nd.tanh(iou[:, 2 * hs :]) + nodes.data["fc"]
        return {"h": o * nd.tanh(cell), "c": cell}

    def propagate():
        g.ndata.update({"h": zeros_h, "c": zeros_h, "fc": zeros_h, "uh": zeros_iou})
        g.ndata["wx"] = nd.dot(x, w["W_iou"])
        dgl.prop_nodes_topo(g, message, reduce, apply_node_func=apply)
        return g.ndata["h"]

    def fwd():
        with be.scope():
            return nd.take(propagate(), roots)

    def train():
        with be.scope():
            with mx.autograd.record():
                h = propagate()
                logits = nd.broadcast_add(nd.dot(h, w["W_out"]), w["b_out"])
                loss = -nd.pick(nd.log_softmax(logits, axis=1), labels, axis=1).mean()
            loss.backward()
            for p in w.values():
                p[:] = p - lr * p.grad
            with mx.util.np_shape(True):  # the loss is a scalar, as everywhere else
                loss = loss.reshape(())
            return (loss, w["W_iou"].grad, w["U_iou"].grad, w["U_f"].grad)

    return fwd, train


IMPLEMENTATIONS = {
    "numpy": _numpy,
    "torch": _torch,
    "mxnet": _mxnet,
    "dgl-torch": _dgl_torch,
    "dgl-mxnet": _dgl_mxnet,
}


def _pick(which: int):
    def factory(be, device, inputs, params):
        return IMPLEMENTATIONS[be.name](be, device, inputs, params)[which]

    return factory


def _workload(name: str, which: int, description: str, reference, outputs) -> Workload:
    return Workload(
        name=name,
        description=description,
        size_name="trees",
        default_size=32,
        check_size=8,
        make_inputs=make_inputs,
        reference=reference,
        work=work,
        implementations={b: _pick(which) for b in IMPLEMENTATIONS},
        output_names=outputs,
        dtypes=("float32", "float64"),
        default_params=DEFAULTS,
    )


FORWARD = _workload(
    "treelstm_forward",
    0,
    "Child-Sum TreeLSTM forward over a batch of SST-shaped binary trees (roots' h)",
    forward_reference,
    ("h_roots",),
)
STEP = _workload(
    "treelstm_step",
    1,
    "Child-Sum TreeLSTM training step: every node classified, CE, backward, SGD",
    step_reference,
    ("loss", "dW_iou", "dU_iou", "dU_f"),
)
