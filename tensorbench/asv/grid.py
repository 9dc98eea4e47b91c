"""The stable benchmark grid: every parameter value any suite may ask for, per benchmark.

asv keys results by benchmark name and parameter values, so these lists only ever grow at the
end (never reorder or remove: history would stop lining up). Suites choose subsets.
Backends are "name:device" strings, as in scipy's XPBenchmark.
"""

from __future__ import annotations

from dataclasses import dataclass

ARRAY_BACKENDS = (
    "numpy:cpu",
    "torch:cpu",
    "mxnet:cpu",
    "jax:cpu",
    "torch:cuda",
    "mxnet:cuda",
    "jax:cuda",
    "cupy:cuda",
)
GRAPH_BACKENDS = ARRAY_BACKENDS + ("dgl-torch:cpu", "dgl-mxnet:cpu", "dgl-torch:cuda", "pyg:cpu")
DTYPES = ("float32", "float64")
THREADS = (1, 2, 4, 8, 16, 32, 64)
REAL_GRAPHS = ("cora", "wiki-Vote", "email-Enron", "soc-Slashdot0902")
GPU_BACKENDS = ("torch:cuda", "mxnet:cuda", "jax:cuda", "cupy:cuda")
GPU_GRAPH_BACKENDS = ("torch:cuda", "jax:cuda", "cupy:cuda", "dgl-torch:cuda")


@dataclass(frozen=True)
class GridEntry:
    workload: str  # the tensorbench workload this benchmark times
    backends: tuple[str, ...]
    sizes: tuple
    dtypes: tuple[str, ...] = DTYPES
    threads: tuple[int, ...] = ()


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
}
