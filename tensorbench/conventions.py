"""Shared conventions: where things live, the environment variables, the modes, and how a result
series is keyed (names and formats every layer agrees on).

The bottom layer: every other module may import it; it imports nothing of the package. A
format defined here is defined nowhere else (the asv glue, the result reader, the detector,
the probe and the command line all agree on these strings).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]  # the package's checkout: asv.conf.json, results/
RESULTS_DIR = REPO / "results"
PROJECT_MARKER = "asv.conf.json"  # a folder holding it is a tensorbench project
SUITES_DIR = REPO / "suites"
DASHBOARD_APP = REPO / "dashboard" / "streamlit_app.py"

# Environment that `tensorbench run` sets and asv's benchmark processes inherit.
SUITE_ENV = "TENSORBENCH_SUITE"  # suite name or path; unset = every grid point
THREADS_ENV = "TENSORBENCH_THREADS"  # threads for every framework; unset = all cores
GRAPH_DIR_ENV = "TENSORBENCH_GRAPH_DIR"  # folder holding the real graphs; unset = skip them
WORK_LOG_ENV = "TENSORBENCH_WORK_LOG"  # where benchmark processes append each point's work
RESULTS_ENV = "TENSORBENCH_RESULTS"  # the results directory the dashboard reads

# Execution modes. Every case runs in one: `eager` (op by op, as written) or `compiled` (traced
# and compiled first: torch.compile, jax.jit, MXNet's hybridize). The original benchmarks carry
# no mode parameter; what they time is their backend's native mode (below).
MODES = ("eager", "compiled")

# Scale-out (tensorbench.distributed): the asv benchmarks that store it, the environment
# variable naming the measured file they read, and each model's fixed facts (batch per worker
# under weak scaling; strong scaling's global batch is twice it; trainable parameters), which
# the framework-free projection needs (tests check them against the built models).
SCALE_ENV = "TENSORBENCH_SCALEOUT"
DDP_BENCHMARK = "bench_scaleout.DdpStep.track_ddp_step"
ALLREDUCE_BENCHMARK = "bench_scaleout.Allreduce.track_allreduce"
DDP_COMPUTE_BENCHMARK = "bench_scaleout.DdpCompute.track_ddp_compute"
DDP_LOCKSTEP_BENCHMARK = "bench_scaleout.DdpLockstepCompute.track_ddp_lockstep_compute"
SCALE_MODELS = {
    "mlp": {"weak_batch": 256, "parameters": 203_530, "unit": "samples"},
    "convnet": {"weak_batch": 32, "parameters": 5_418, "unit": "images"},
}


def native_mode(backend: str, workload: str) -> str:
    """The mode of the original (mode-less) benchmarks: JAX's implementations are jit-compiled
    except the per-op ``dispatch`` chain, the ``transfer`` copies and the claims' workloads
    (`JAX_EAGER`); every other backend's (NumPy, PyTorch, MXNet, CuPy, DGL, PyG, Paddle) run
    eagerly."""
    jitted = backend == "jax" and workload not in JAX_EAGER
    return "compiled" if jitted else "eager"


# Workloads whose JAX implementation runs op by op: per-op overhead, copies, and the claims
# about an engine's run time (asynchronous dispatch, scheduling of independent operators),
# which are claims about eager execution; their compiled mode is the `*_modes` benchmarks'.
JAX_EAGER = (
    "dispatch",
    "transfer",
    "ops_independent",
    "ops_chain",
    "async_python",
    "async_compute",
    "async_overlap",
    "async_hidden",
    "parallel_ratio",
)


# One result series: a benchmark at one parameter combination in one environment on one machine.
SERIES_KEYS = ["machine", "env", "benchmark", "param_key"]
# Beside the results: the changes people have explained (tensorbench.analysis.acknowledgements).
ACK_FILE = "acknowledged.toml"


def param_key(names: Iterable[str], texts: Iterable[str]) -> str:
    """asv's parameter text, e.g. ``backend='numpy:cpu', size=64``, from the values' reprs.

    asv stores parameter values as their ``repr`` text; this joins such texts with the names.
    """
    return ", ".join(f"{n}={t}" for n, t in zip(names, texts, strict=True))


def param_key_of(names: Iterable[str], values: Iterable[Any]) -> str:
    """:func:`param_key` of Python values (the text asv writes for them)."""
    return param_key(names, [repr(v) for v in values])


def find_project(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: the current directory) holding
    asv.conf.json, or None."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_MARKER).is_file():
            return folder
    return None


def resolve_project(explicit: Path | None = None) -> tuple[Path, str]:
    """The project a command writes into, and how it was chosen (to say so).

    ``--repo DIR`` when given; else the checkout holding the current directory, so that an
    installed ``tensorbench`` called from another clone works on that clone; else the checkout
    the package was installed from. Raises ``FileNotFoundError`` naming the folder when the
    chosen one holds no asv.conf.json.
    """
    if explicit is not None:
        folder = Path(explicit).resolve()
        if not (folder / PROJECT_MARKER).is_file():
            raise FileNotFoundError(f"--repo {explicit}: no {PROJECT_MARKER} in {folder}")
        return folder, "from --repo"
    found = find_project()
    if found is not None:
        return found, "from the current directory"
    if not (REPO / PROJECT_MARKER).is_file():
        raise FileNotFoundError(
            f"no {PROJECT_MARKER} in {Path.cwd()} or above: run in a tensorbench checkout "
            "or pass --repo DIR"
        )
    return REPO, "the installed package's checkout"
