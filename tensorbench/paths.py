"""Shared formats: where things live, the environment names, and how a result series is keyed.

The bottom layer: every other module may import it; it imports nothing of the package. A
format defined here is defined nowhere else (the asv glue, the result reader, the detector,
the probe and the command line all agree on these strings).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]  # the checkout: asv.conf.json, results/, suites/
RESULTS_DIR = REPO / "results"
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


def native_mode(backend: str, workload: str) -> str:
    """The mode of the original (mode-less) benchmarks: JAX's implementations are jit-compiled
    except the per-op ``dispatch`` chain and the ``transfer`` copies; every other backend's
    (NumPy, PyTorch, MXNet, CuPy, DGL, PyG) run eagerly."""
    jitted = backend == "jax" and workload not in ("dispatch", "transfer")
    return "compiled" if jitted else "eager"


# One result series: a benchmark at one parameter combination in one environment on one machine.
SERIES_KEYS = ["machine", "env", "benchmark", "param_key"]


def param_key(names: Iterable[str], texts: Iterable[str]) -> str:
    """asv's parameter text, e.g. ``backend='numpy:cpu', size=64``, from the values' reprs.

    asv stores parameter values as their ``repr`` text; this joins such texts with the names.
    """
    return ", ".join(f"{n}={t}" for n, t in zip(names, texts, strict=True))


def param_key_of(names: Iterable[str], values: Iterable[Any]) -> str:
    """:func:`param_key` of Python values (the text asv writes for them)."""
    return param_key(names, [repr(v) for v in values])
