"""The TreeLSTM workload: SST-shaped trees, a level schedule that respects the trees, a
hand-written backward that matches finite differences, every implementation validating against
the float64 reference in both workloads, and the batching figure's parts."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import backend_params

from tensorbench.asv import claimfigures as cf
from tensorbench.cases import Case, prepare
from tensorbench.workloads import get_workload
from tensorbench.workloads import treelstm as tl


def _trees(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    return tl.make_trees(n, np.random.default_rng(seed))


def _leaf_counts(left: np.ndarray, right: np.ndarray) -> list[int]:
    """Leaves per tree, walking each root's subtree."""
    sched = tl.schedule(left, right)
    counts = []
    for root in sched.roots:
        stack, leaves = [int(root)], 0
        while stack:
            v = stack.pop()
            if left[v] < 0:
                leaves += 1
            else:
                stack += [int(left[v]), int(right[v])]
        counts.append(leaves)
    return counts


def test_trees_are_binary_post_ordered_and_sst_sized() -> None:
    left, right = _trees(2000)
    inner = left >= 0
    assert ((left >= 0) == (right >= 0)).all()  # every internal node has two children
    assert (left[inner] < np.flatnonzero(inner)).all()  # children numbered before the parent
    assert (right[inner] < np.flatnonzero(inner)).all()
    counts = _leaf_counts(left, right)
    assert len(counts) == 2000 and sum(2 * k - 1 for k in counts) == len(left)
    assert min(counts) >= tl.MIN_LENGTH and max(counts) <= tl.MAX_LENGTH
    # SST's sentences: mean 19.1 words, SD 9.2
    assert 18.3 < np.mean(counts) < 19.9 and 8.0 < np.std(counts) < 10.0


def test_schedule_puts_children_below_parents_and_finds_every_root() -> None:
    left, right = _trees(50, seed=3)
    sched = tl.schedule(left, right)
    level_of = np.empty(len(left), dtype=int)
    for k, nodes in enumerate(sched.levels):
        level_of[nodes] = k
    assert sorted(np.concatenate(sched.levels).tolist()) == list(range(len(left)))
    inner = np.flatnonzero(left >= 0)
    assert (level_of[left[inner]] < level_of[inner]).all()
    assert (level_of[right[inner]] < level_of[inner]).all()
    assert (left[sched.levels[0]] < 0).all() and len(sched.roots) == 50


def test_hand_written_backward_matches_finite_differences() -> None:
    """The float64 reference every implementation is checked against is itself checked."""
    params = {**tl.DEFAULTS, "x_size": 3, "h_size": 4}
    inputs = tl.make_inputs(3, "float64", params)
    sched, x, w = tl._f64(inputs)
    labels = inputs["labels"]
    _, grads = tl.step(sched, x, labels, w)
    rng = np.random.default_rng(1)
    eps = 1e-6
    for name in ("W_iou", "U_iou", "b_iou", "U_f", "b_f", "W_out"):
        for flat in rng.choice(w[name].size, size=min(6, w[name].size), replace=False):
            idx = np.unravel_index(flat, w[name].shape)
            plus = {k: v.copy() for k, v in w.items()}
            minus = {k: v.copy() for k, v in w.items()}
            plus[name][idx] += eps
            minus[name][idx] -= eps
            numeric = (tl.step(sched, x, labels, plus)[0] - tl.step(sched, x, labels, minus)[0]) / (
                2 * eps
            )
            assert grads[name][idx] == pytest.approx(numeric, rel=1e-5, abs=1e-9), (name, idx)


def test_forward_matches_a_node_by_node_evaluation() -> None:
    inputs = tl.make_inputs(4, "float64", {**tl.DEFAULTS, "h_size": 5, "x_size": 3})
    sched, x, w = tl._f64(inputs)
    left, right = inputs["left"], inputs["right"]
    leaf_row = {int(v): r for r, v in enumerate(np.flatnonzero(left < 0))}
    hs = 5

    def node(v):
        if left[v] < 0:
            iou = x[leaf_row[v]] @ w["W_iou"] + w["b_iou"]
            csum = 0.0
        else:
            (hl, cl), (hr, cr) = node(left[v]), node(right[v])
            fl = 1 / (1 + np.exp(-(hl @ w["U_f"] + w["b_f"])))
            fr = 1 / (1 + np.exp(-(hr @ w["U_f"] + w["b_f"])))
            iou = (hl + hr) @ w["U_iou"] + w["b_iou"]
            csum = fl * cl + fr * cr
        i, o = 1 / (1 + np.exp(-iou[:hs])), 1 / (1 + np.exp(-iou[hs : 2 * hs]))
        c = i * np.tanh(iou[2 * hs :]) + csum
        return o * np.tanh(c), c

    expected = np.stack([node(int(r))[0] for r in sched.roots])
    np.testing.assert_allclose(tl.forward_reference(inputs, {}), expected, rtol=1e-12)


@pytest.mark.parametrize(
    "backend", backend_params("numpy", "torch", "dgl-torch", "mxnet", "dgl-mxnet")
)
@pytest.mark.parametrize("workload", ["treelstm_forward", "treelstm_step"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_implementation_validates(workload: str, backend: str, dtype: str) -> None:
    size = get_workload(workload).check_size
    prepared = prepare(Case(workload, backend, "cpu", dtype, size))
    assert prepared.rel_error <= (1e-4 if dtype == "float32" else 1e-10)


@pytest.mark.parametrize("backend", backend_params("jax", "pyg"))
def test_backends_without_an_implementation_skip_with_the_reason(backend: str) -> None:
    reason = Case("treelstm_step", backend, "cpu", "float32", 8).skip_reason()
    assert reason == f"{backend} has no treelstm_step implementation"


def test_the_step_trains() -> None:
    """Ten SGD steps lower the loss: the update is applied to the weights the next call uses."""
    prepared = prepare(Case("treelstm_step", "numpy", "cpu", "float64", 8))
    losses = [float(prepared.timed_call()[0]) for _ in range(10)]
    assert losses[-1] < losses[0]


def test_batching_figure_times_the_recursion_as_its_baseline(monkeypatch) -> None:
    """The figure prepares plain recursion in the point's framework beside the point, at its size
    and dtype, and reports recursion time / the point's time."""
    seconds = {"torch:cpu": 0.30, "dgl-torch:cpu": 0.05}
    made = []

    class Part:
        def __init__(self, backend: str) -> None:
            self.timed_call = backend  # what the fake sampler is handed

    def setup(bench, backend, size, dtype):
        made.append((bench, backend, size, dtype))
        return Part(backend)

    monkeypatch.setattr(cf, "calibrate", lambda call, t: (1, seconds[call]))
    monkeypatch.setattr(cf, "sample", lambda call, n, k, w: [seconds[call]] * k)
    monkeypatch.delenv("TENSORBENCH_WORK_LOG", raising=False)
    value = cf.claim_figure("treelstm_batching", "dgl-torch:cpu", 8, "float32", setup=setup)
    assert made == [
        ("treelstm_step", "torch:cpu", 8, "float32"),
        ("treelstm_step", "dgl-torch:cpu", 8, "float32"),
    ]
    assert value == pytest.approx(6.0)
    # the baseline is the point's own framework: never two runtimes in one process
    assert cf.baseline_backend("dgl-mxnet:cpu") == "mxnet:cpu"
    assert cf.baseline_backend("dgl-torch:cuda") == "torch:cuda"
    assert cf.figure_reason("treelstm_batching", "dgl-mxnet:cpu") is None
    reason = cf.figure_reason("treelstm_batching", "numpy:cpu")
    assert reason == "numpy has no plain recursion of its own to time beside it in one process"
