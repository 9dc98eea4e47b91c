"""async_python, async_compute and async_overlap: the asynchronous-execution claim's workloads.

An engine that returns from an operator at once and runs it in a back-end thread lets Python's
own work overlap the compute. Three calls, each of ``STEPS`` iterations, synced once at the end:

- ``async_python``: the Python side alone (a fixed pure-Python loop per iteration, the kind of
  preprocessing a training loop does between operators); returns its input untouched.
- ``async_compute``: the operators alone, a chain ``x = (x @ w)`` of n x n products.
- ``async_overlap``: both interleaved, Python work then one product, per iteration.

The share of the Python time hidden is 1 - (T_overlap - T_compute) / T_python
(`tensorbench.analysis.claims`): 0 for an eager framework that runs each operator before
returning, 1 where the Python work is wholly hidden. ``w`` is scaled by 1/sqrt(n) so the chain's
values stay of order one. The Python loop's size is ``python_ops`` (a parameter) in every
framework; it does not touch the arrays, so no framework can skip or fuse it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import Inputs, Work, Workload, rng_for, to_device

STEPS = 16  # iterations per call
PYTHON_OPS = 4000  # pure-Python loop iterations per step (about 0.2 ms in CPython 3.11)


def python_work(ops: int) -> int:
    """The Python side of one step: a loop the interpreter runs, holding the GIL."""
    total = 0
    for i in range(ops):
        total += i * i % 7
    return total


def make_inputs(n: int, dtype: str, params: Mapping[str, Any]) -> Inputs:
    rng = rng_for("async_overlap", n, params.get("seed", 0))
    return {
        "x": rng.standard_normal((n, n)).astype(dtype),
        "w": (rng.standard_normal((n, n)) / np.sqrt(n)).astype(dtype),
    }


def reference_input(inputs: Inputs, params: Mapping[str, Any]) -> np.ndarray:
    return inputs["x"].astype(np.float64)


def reference_chain(inputs: Inputs, params: Mapping[str, Any]) -> np.ndarray:
    x, w = inputs["x"].astype(np.float64), inputs["w"].astype(np.float64)
    for _ in range(STEPS):
        x = x @ w
    return x


def work_python(n: int, params: Mapping[str, Any]) -> Work:
    return Work()


def work_chain(n: int, params: Mapping[str, Any]) -> Work:
    return Work(flops=2.0 * STEPS * n**3, words=3.0 * STEPS * n * n, ops=STEPS)


def _python(be, device, inputs, params):
    (x,) = to_device(be, device, inputs, "x")
    ops = int(params.get("python_ops", PYTHON_OPS))

    def call():
        for _ in range(STEPS):
            python_work(ops)
        return x

    return call


def _compute(be, device, inputs, params):
    x0, w = to_device(be, device, inputs, "x", "w")

    def call():
        x = x0
        for _ in range(STEPS):
            x = x @ w
        return x

    return call


def _overlap(be, device, inputs, params):
    x0, w = to_device(be, device, inputs, "x", "w")
    ops = int(params.get("python_ops", PYTHON_OPS))

    def call():
        x = x0
        for _ in range(STEPS):
            python_work(ops)
            x = x @ w
        return x

    return call


BACKENDS = ("numpy", "torch", "mxnet", "cupy", "jax", "paddle")


def _workload(name: str, factory, reference, work, description: str) -> Workload:
    return Workload(
        name=name,
        description=description,
        size_name="n",
        default_size=256,
        check_size=64,
        make_inputs=make_inputs,
        reference=reference,
        work=work,
        implementations={b: factory for b in BACKENDS},
        default_params={"python_ops": PYTHON_OPS},
    )


PYTHON = _workload(
    "async_python", _python, reference_input, work_python, "the Python side of the loop alone"
)
COMPUTE = _workload(
    "async_compute", _compute, reference_chain, work_chain, "the operators of the loop alone"
)
OVERLAP = _workload(
    "async_overlap",
    _overlap,
    reference_chain,
    work_chain,
    "Python work and operators interleaved, one sync",
)
