"""The frameworks' claims as workloads (tensorbench.analysis.claims turns them into verdicts).

``OpsIndependent`` / ``OpsChain``: K independent matrix products against the same K as a
dependent chain, one sync each (automatic parallelism of independent operators), also in the
eager/compiled ``*Modes`` pair. ``AsyncPython`` / ``AsyncCompute`` / ``AsyncOverlap``: a loop's
Python work alone, its operators alone, and both interleaved (asynchronous execution hiding the
front end's cost). ``TreelstmForward`` / ``TreelstmStep``: a Child-Sum TreeLSTM over a batch of
trees (DGL's graph batching against plain PyTorch recursion). ``AsyncHidden`` /
``ParallelRatio`` / ``TreelstmBatching``: the claims' figures, their parts timed in one process,
interleaved (separate processes' luck moved a figure by 0.4).

asv runs today's benchmarks/ against old commits, whose package has no such grid entries. asv
labels every commit's results with the parameters it discovered on the newest one, by position,
so there each class keeps today's parameters (the copy below; tests/test_claims.py checks it
equals the grid) and every point skips with the reason.
"""

from tensorbench import asv_support

from .common import WorkloadBenchmark

_MISSING = "this commit's tensorbench has no grid entry {} (the claims' workloads came later)"
_BACKENDS = [
    "numpy:cpu",
    "torch:cpu",
    "mxnet:cpu",
    "jax:cpu",
    "torch:cuda",
    "mxnet:cuda",
    "jax:cuda",
    "cupy:cuda",
    "paddle:cpu",
    "paddle:cuda",
]
_POINT = ["backend", "size", "dtype"]
_OPS = [_BACKENDS, [64, 256, 1024], ["float32"]]
_ASYNC = [_BACKENDS, [256, 512], ["float32"]]
_GRAPH_BACKENDS = [
    *_BACKENDS[:8],
    "dgl-torch:cpu",
    "dgl-mxnet:cpu",
    "dgl-torch:cuda",
    "pyg:cpu",
    *_BACKENDS[8:],
]
_TREES = [_GRAPH_BACKENDS, [8, 32, 128], ["float32"]]
# The grid entries as this file was written, for package commits that predate them.
GRID_COPY = {
    "ops_independent": (_OPS, _POINT),
    "ops_chain": (_OPS, _POINT),
    "async_python": (_ASYNC, _POINT),
    "async_compute": (_ASYNC, _POINT),
    "async_overlap": (_ASYNC, _POINT),
    "ops_independent_modes": ([*_OPS, ["eager", "compiled"]], [*_POINT, "mode"]),
    "ops_chain_modes": ([*_OPS, ["eager", "compiled"]], [*_POINT, "mode"]),
    "async_hidden": (_ASYNC, _POINT),
    "parallel_ratio": (_OPS, _POINT),
    "parallel_ratio_modes": ([*_OPS, ["eager", "compiled"]], [*_POINT, "mode"]),
    "treelstm_forward": (_TREES, _POINT),
    "treelstm_step": (_TREES, _POINT),
    "treelstm_batching": (_TREES, _POINT),
}
_PACKAGE_LACKS: set[str] = set()


def _params(bench):
    try:
        return asv_support.grid_params(bench)
    except KeyError:  # the grid entry is newer than the commit's package
        _PACKAGE_LACKS.add(bench)
        return GRID_COPY[bench]


class ClaimBenchmark(WorkloadBenchmark):
    def prepare(self, *params):
        if self.bench in _PACKAGE_LACKS:
            asv_support.skip(_MISSING.format(self.bench))
        return asv_support.setup_case(self.bench, *params)


class OpsIndependent(ClaimBenchmark):
    bench = "ops_independent"
    params, param_names = _params(bench)

    def time_ops_independent(self, *params):
        self.call()


class OpsChain(ClaimBenchmark):
    bench = "ops_chain"
    params, param_names = _params(bench)

    def time_ops_chain(self, *params):
        self.call()


class AsyncPython(ClaimBenchmark):
    bench = "async_python"
    params, param_names = _params(bench)

    def time_async_python(self, *params):
        self.call()


class AsyncCompute(ClaimBenchmark):
    bench = "async_compute"
    params, param_names = _params(bench)

    def time_async_compute(self, *params):
        self.call()


class AsyncOverlap(ClaimBenchmark):
    bench = "async_overlap"
    params, param_names = _params(bench)

    def time_async_overlap(self, *params):
        self.call()


class OpsIndependentModes(ClaimBenchmark):
    bench = "ops_independent_modes"
    params, param_names = _params(bench)
    unit = "seconds"

    def time_ops_independent(self, *params):
        self.call()


class OpsChainModes(ClaimBenchmark):
    bench = "ops_chain_modes"
    params, param_names = _params(bench)
    unit = "seconds"

    def time_ops_chain(self, *params):
        self.call()


class ClaimFigure:
    """A claim's figure, its parts timed in one process (``claim_figure``), not asv's timer."""

    bench = ""
    rounds = 1
    timeout = 600

    def figure(self, params):
        measure = getattr(asv_support, "claim_figure", None)
        if self.bench in _PACKAGE_LACKS or measure is None:
            asv_support.skip(_MISSING.format(self.bench))
        return measure(self.bench, *params)


class AsyncHidden(ClaimFigure):
    """Share of the Python time hidden: 1 - (T_overlap - T_compute) / T_python."""

    bench = "async_hidden"
    params, param_names = _params(bench)
    unit = "share"

    def track_async_hidden(self, *params):
        return self.figure(params)


class ParallelRatio(ClaimFigure):
    """T_ops_chain / T_ops_independent: above 1 where independent products run at once."""

    bench = "parallel_ratio"
    params, param_names = _params(bench)
    unit = "ratio"

    def track_parallel_ratio(self, *params):
        return self.figure(params)


class ParallelRatioModes(ClaimFigure):
    bench = "parallel_ratio_modes"
    params, param_names = _params(bench)
    unit = "ratio"

    def track_parallel_ratio(self, *params):
        return self.figure(params)


class TreelstmForward(ClaimBenchmark):
    bench = "treelstm_forward"
    params, param_names = _params(bench)

    def time_treelstm_forward(self, *params):
        self.call()


class TreelstmStep(ClaimBenchmark):
    bench = "treelstm_step"
    params, param_names = _params(bench)

    def time_treelstm_step(self, *params):
        self.call()


class TreelstmBatching(ClaimFigure):
    """T_step of plain PyTorch recursion / T_step of this backend, both in this process."""

    bench = "treelstm_batching"
    params, param_names = _params(bench)
    unit = "ratio"

    def track_treelstm_batching(self, *params):
        return self.figure(params)
