"""The stable benchmark grid: every parameter value any suite may ask for, per benchmark.

asv keys results by benchmark name and parameter values, so these lists only ever grow at the
end (never reorder or remove: history would stop lining up). Suites choose subsets.
Backends are "name:device" strings, as in scipy's XPBenchmark.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..conventions import MODES

_FIRST_BACKENDS = (
    "numpy:cpu",
    "torch:cpu",
    "mxnet:cpu",
    "jax:cpu",
    "torch:cuda",
    "mxnet:cuda",
    "jax:cuda",
    "cupy:cuda",
)
# Backends added later go at the end of every list they join, after the graph-only backends
# too: the lists only grow at the end (see the module docstring).
_LATER_BACKENDS = ("paddle:cpu", "paddle:cuda")
ARRAY_BACKENDS = _FIRST_BACKENDS + _LATER_BACKENDS
GRAPH_BACKENDS = (
    _FIRST_BACKENDS
    + ("dgl-torch:cpu", "dgl-mxnet:cpu", "dgl-torch:cuda", "pyg:cpu")
    + _LATER_BACKENDS
)
DTYPES = ("float32", "float64")
THREADS = (1, 2, 4, 8, 16, 32, 64)
REAL_GRAPHS = ("cora", "wiki-Vote", "email-Enron", "soc-Slashdot0902")
GPU_BACKENDS = ("torch:cuda", "mxnet:cuda", "jax:cuda", "cupy:cuda")
GPU_GRAPH_BACKENDS = ("torch:cuda", "jax:cuda", "cupy:cuda", "dgl-torch:cuda")
STREAM_SIZES = (8, 32, 128, 256)  # Mi elements per array: 64 MiB to 2 GiB in float64


@dataclass(frozen=True)
class GridEntry:
    workload: str  # the tensorbench workload this benchmark times
    backends: tuple[str, ...]
    sizes: tuple
    dtypes: tuple[str, ...] = DTYPES
    threads: tuple[int, ...] = ()
    modes: tuple[str, ...] = ()  # eager/compiled as a last parameter (the *_modes benchmarks)

    @property
    def param_names(self) -> list[str]:
        """asv's ``param_names``: backend, size (``graph`` for real graphs), dtype, then
        ``threads`` and ``mode`` where the entry has them."""
        size = "graph" if any(isinstance(s, str) for s in self.sizes) else "size"
        names = ["backend", size, "dtype"]
        return names + ["threads"] * bool(self.threads) + ["mode"] * bool(self.modes)

    @property
    def params(self) -> list[list[Any]]:
        """asv's ``params``, in the order of `param_names`."""
        lists = [list(self.backends), list(self.sizes), list(self.dtypes)]
        return lists + [list(v) for v in (self.threads, self.modes) if v]

    def with_modes(self) -> GridEntry:
        """The same points with eager/compiled as a last parameter."""
        return replace(self, modes=MODES)


@dataclass(frozen=True)
class GridPoint:
    """One point of a grid entry, by field (asv passes them positionally: `point`)."""

    bench: str
    backend: str  # "name:device"
    size: Any  # int, or a real graph's name
    dtype: str
    threads: int | None = None
    mode: str | None = None

    @property
    def values(self) -> tuple[Any, ...]:
        """The parameter values as asv passes them (`GridEntry.param_names` order)."""
        extra = (self.threads,) * bool(GRID[self.bench].threads)
        return (self.backend, self.size, self.dtype, *extra) + (self.mode,) * bool(self.mode)


def point(bench: str, *params: Any) -> GridPoint:
    """The `GridPoint` of ``bench`` given as asv passes its parameters; ``TypeError`` when they
    do not match the entry's `param_names` (``KeyError`` for an unknown entry)."""
    names = GRID[bench].param_names
    if len(params) != len(names):
        raise TypeError(f"{bench} takes {len(names)} parameters ({', '.join(names)}), got {params}")
    fields = dict(zip(names, params, strict=True))
    size = fields.pop("graph", None) if "graph" in fields else fields.pop("size")
    return GridPoint(bench, size=size, **fields)


GRID: dict[str, GridEntry] = {
    "matmul": GridEntry("matmul", ARRAY_BACKENDS, (64, 128, 256, 512, 1024, 2048, 4096)),
    "conv2d": GridEntry("conv2d", ARRAY_BACKENDS, (16, 32, 64, 128)),
    "dispatch": GridEntry("dispatch", ARRAY_BACKENDS, (16,)),
    "mlp_step": GridEntry("mlp_step", ARRAY_BACKENDS, (64, 256, 1024)),
    "pagerank": GridEntry("pagerank", GRAPH_BACKENDS, (10, 12, 14, 16, 18, 20)),
    "gcn_forward": GridEntry("gcn_forward", GRAPH_BACKENDS, (10, 12, 14, 16)),
    "gcn_step": GridEntry("gcn_step", GRAPH_BACKENDS, (10, 12, 14, 16)),
    # Real graphs from TENSORBENCH_GRAPH_DIR (skipped with the reason where it is not set).
    "pagerank_real": GridEntry("pagerank", GRAPH_BACKENDS, REAL_GRAPHS),
    "gcn_step_real": GridEntry("gcn_step", GRAPH_BACKENDS, REAL_GRAPHS[:1]),
    "gcn_accuracy": GridEntry("gcn_step", GRAPH_BACKENDS, REAL_GRAPHS[:1], ("float32",)),
    # Thread scaling: the same workload at one size, threads as a parameter.
    "matmul_threads": GridEntry("matmul", ARRAY_BACKENDS, (1024,), ("float32",), THREADS),
    "conv2d_threads": GridEntry("conv2d", ARRAY_BACKENDS, (64,), ("float32",), THREADS),
    # The machine's measured ceiling: best-of-runs matmul GFLOP/s per backend (track_).
    "peak_gflops": GridEntry("matmul", ARRAY_BACKENDS, (2048, 4096), ("float32", "float64")),
    # GPU: host<->device copies, and peak device memory from the frameworks' own counters
    # (asv's peakmem sees host memory only).
    "transfer": GridEntry("transfer", GPU_BACKENDS, (1, 16, 256), ("float32",)),
    "matmul_gpumem": GridEntry("matmul", GPU_BACKENDS, (1024, 4096)),
    "conv2d_gpumem": GridEntry("conv2d", GPU_BACKENDS, (64, 128), ("float32",)),
    "mlp_step_gpumem": GridEntry("mlp_step", GPU_BACKENDS, (256, 1024), ("float32",)),
    "pagerank_gpumem": GridEntry("pagerank", GPU_GRAPH_BACKENDS, (16, 18, 20), ("float32",)),
    "gcn_step_gpumem": GridEntry("gcn_step", GPU_GRAPH_BACKENDS, (14, 16), ("float32",)),
    # STREAM copy and triad (size: Mi elements per array), and the machine's memory ceiling:
    # best-of-runs triad GB/s per backend (track_), the roofline's sloped roof.
    "stream_copy": GridEntry("stream_copy", ARRAY_BACKENDS, STREAM_SIZES),
    "stream_triad": GridEntry("stream_triad", ARRAY_BACKENDS, STREAM_SIZES),
    "peak_gbps": GridEntry("stream_triad", ARRAY_BACKENDS, (128, 256), ("float64", "float32")),
    # The frameworks' claims (tensorbench.analysis.claims): K independent products against the
    # same K as a chain (automatic parallelism), and Python work, operators, and both
    # interleaved (asynchronous execution). float32 only: the claims are about scheduling.
    "ops_independent": GridEntry("ops_independent", ARRAY_BACKENDS, (64, 256, 1024), ("float32",)),
    "ops_chain": GridEntry("ops_chain", ARRAY_BACKENDS, (64, 256, 1024), ("float32",)),
    "async_python": GridEntry("async_python", ARRAY_BACKENDS, (256, 512), ("float32",)),
    "async_compute": GridEntry("async_compute", ARRAY_BACKENDS, (256, 512), ("float32",)),
    "async_overlap": GridEntry("async_overlap", ARRAY_BACKENDS, (256, 512), ("float32",)),
    # The claims' figures, their parts timed in one process (tensorbench.asv.claimfigures):
    # share of the Python time hidden, and chain / independent time.
    "async_hidden": GridEntry("async_overlap", ARRAY_BACKENDS, (256, 512), ("float32",)),
    "parallel_ratio": GridEntry("ops_independent", ARRAY_BACKENDS, (64, 256, 1024), ("float32",)),
    # DGL's graph-batching claim: a Child-Sum TreeLSTM over a batch of SST-shaped trees (size:
    # trees per batch), and its figure, plain PyTorch recursion's step time over each
    # backend's, both timed in one process.
    "treelstm_forward": GridEntry("treelstm_forward", GRAPH_BACKENDS, (8, 32, 128), ("float32",)),
    "treelstm_step": GridEntry("treelstm_step", GRAPH_BACKENDS, (8, 32, 128), ("float32",)),
    "treelstm_batching": GridEntry("treelstm_step", GRAPH_BACKENDS, (8, 32, 128), ("float32",)),
}
# Eager and compiled side by side (a `mode` parameter): the same points as the mode-less
# entries above, which time each backend's native mode (conventions.native_mode).
_MODES_OF = (
    "matmul",
    "conv2d",
    "dispatch",
    "mlp_step",
    "pagerank",
    "gcn_forward",
    "gcn_step",
    "gcn_step_real",
    "stream_triad",
    "ops_independent",
    "ops_chain",
    "parallel_ratio",
)


def _camel(name: str) -> str:
    """``gcn_step_real`` -> ``GcnStepReal``: how benchmarks/ names a grid entry's class."""
    return "".join(part.capitalize() for part in name.split("_"))


GRID.update({f"{name}_modes": GRID[name].with_modes() for name in _MODES_OF})

# Which grid entry each asv benchmark class of benchmarks/ times. asv names a benchmark
# ``module.Class.method`` and keeps no other attribute of the class, so the class name is the
# key; each class carries the same grid key as its ``bench`` (tests/test_asv.py checks that
# they agree). Like the grid, this only grows: asv's names never change.
TIMED_BY: dict[str, str] = {
    "Matmul": "matmul",
    "Conv2d": "conv2d",
    "Dispatch": "dispatch",
    "MatmulThreads": "matmul_threads",
    "Conv2dThreads": "conv2d_threads",
    "MachinePeak": "peak_gflops",
    "MlpStep": "mlp_step",
    "Transfer": "transfer",
    "MatmulGpuMemory": "matmul_gpumem",
    "Conv2dGpuMemory": "conv2d_gpumem",
    "MlpStepGpuMemory": "mlp_step_gpumem",
    "PagerankGpuMemory": "pagerank_gpumem",
    "GcnStepGpuMemory": "gcn_step_gpumem",
    "Pagerank": "pagerank",
    "GcnForward": "gcn_forward",
    "GcnStep": "gcn_step",
    "PagerankReal": "pagerank_real",
    "GcnStepReal": "gcn_step_real",
    "GcnAccuracy": "gcn_accuracy",
    "StreamCopy": "stream_copy",
    "StreamTriad": "stream_triad",
    "MachineBandwidth": "peak_gbps",
    "OpsIndependent": "ops_independent",
    "OpsChain": "ops_chain",
    "AsyncPython": "async_python",
    "AsyncCompute": "async_compute",
    "AsyncOverlap": "async_overlap",
    "AsyncHidden": "async_hidden",
    "ParallelRatio": "parallel_ratio",
    "TreelstmForward": "treelstm_forward",
    "TreelstmStep": "treelstm_step",
    "TreelstmBatching": "treelstm_batching",
    **{f"{_camel(name)}Modes": f"{name}_modes" for name in _MODES_OF},
}
# The classes of benchmarks/bench_instructions.py: the same grid entries, counted in
# instructions under valgrind (`tensorbench run --measure instructions`), never timed.
COUNTED_BY: dict[str, str] = {
    f"Instructions{_camel(name)}": name
    for name in (
        "matmul",
        "conv2d",
        "dispatch",
        "mlp_step",
        "pagerank",
        "gcn_forward",
        "gcn_step",
        "stream_copy",
        "stream_triad",
    )
}


def grid_key(benchmark: str) -> str | None:
    """The grid entry an asv benchmark (``bench_array.Matmul.time_matmul``) times, or None
    (not one of ours, or an instruction count: `counted_key`)."""
    parts = benchmark.rsplit(".", 2)
    return TIMED_BY.get(parts[-2]) if len(parts) == 3 else None


def counted_key(benchmark: str) -> str | None:
    """The grid entry whose instructions an asv benchmark counts (``bench_instructions.
    InstructionsMatmul.track_instructions_matmul`` -> ``matmul``), or None."""
    parts = benchmark.rsplit(".", 2)
    return COUNTED_BY.get(parts[-2]) if len(parts) == 3 else None
