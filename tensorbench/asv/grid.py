"""The stable benchmark grid: every parameter value any suite may ask for, per benchmark.

asv keys results by benchmark name and parameter values, so these lists only ever grow at the
end (never reorder or remove: history would stop lining up). Suites choose subsets.
Backends are "name:device" strings, as in scipy's XPBenchmark.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..paths import MODES

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
STREAM_SIZES = (8, 32, 128, 256)  # Mi elements per array: 64 MiB to 2 GiB in float64


@dataclass(frozen=True)
class GridEntry:
    workload: str  # the tensorbench workload this benchmark times
    backends: tuple[str, ...]
    sizes: tuple
    dtypes: tuple[str, ...] = DTYPES
    threads: tuple[int, ...] = ()
    modes: tuple[str, ...] = ()  # eager/compiled as a last parameter (the *_modes benchmarks)


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
    # Eager and compiled side by side (a `mode` parameter): the same workloads and sizes as
    # the mode-less benchmarks above, which time each backend's native mode (paths.native_mode).
    **{
        f"{name}_modes": GridEntry(e.workload, e.backends, e.sizes, e.dtypes, modes=MODES)
        for name, e in (
            ("matmul", GridEntry("matmul", ARRAY_BACKENDS, (64, 128, 256, 512, 1024, 2048, 4096))),
            ("conv2d", GridEntry("conv2d", ARRAY_BACKENDS, (16, 32, 64, 128))),
            ("dispatch", GridEntry("dispatch", ARRAY_BACKENDS, (16,))),
            ("mlp_step", GridEntry("mlp_step", ARRAY_BACKENDS, (64, 256, 1024))),
            ("pagerank", GridEntry("pagerank", GRAPH_BACKENDS, (10, 12, 14, 16, 18, 20))),
            ("gcn_forward", GridEntry("gcn_forward", GRAPH_BACKENDS, (10, 12, 14, 16))),
            ("gcn_step", GridEntry("gcn_step", GRAPH_BACKENDS, (10, 12, 14, 16))),
            ("gcn_step_real", GridEntry("gcn_step", GRAPH_BACKENDS, REAL_GRAPHS[:1])),
            ("stream_triad", GridEntry("stream_triad", ARRAY_BACKENDS, STREAM_SIZES)),
        )
    },
}
