"""ops_independent and ops_chain: the automatic-parallelism claim's pair of workloads.

Both issue the same K matrix products of n x n matrices back to back with one sync at the end:
``ops_independent`` multiplies one input by K weights (no product needs another's result, so an
engine that sees the dependencies may run them at once), ``ops_chain`` feeds each product into
the next (no engine can). Same FLOPs, same data, same calls, and both return all K products, so
both keep K outputs alive (returning only the chain's last product let NumPy's chain reuse warm
buffers and run 1.4x faster than the set: a memory effect, not scheduling). The claim holds where
the chain takes clearly longer than the independent set (`tensorbench.analysis.claims`). The weights are
scaled by 1/sqrt(n), so the chain's values stay of order one and float32 validates after K steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import Inputs, Work, Workload, rng_for, to_device

K = 8  # products per call
WEIGHTS = tuple(f"w{i}" for i in range(K))


def make_inputs(n: int, dtype: str, params: Mapping[str, Any]) -> Inputs:
    rng = rng_for("independent_ops", n, params.get("seed", 0))
    inputs = {"x": rng.standard_normal((n, n)).astype(dtype)}
    for name in WEIGHTS:
        inputs[name] = (rng.standard_normal((n, n)) / np.sqrt(n)).astype(dtype)
    return inputs


def _weights64(inputs: Inputs) -> list[np.ndarray]:
    return [inputs[name].astype(np.float64) for name in WEIGHTS]


def reference_independent(inputs: Inputs, params: Mapping[str, Any]) -> tuple[np.ndarray, ...]:
    x = inputs["x"].astype(np.float64)
    return tuple(x @ w for w in _weights64(inputs))


def reference_chain(inputs: Inputs, params: Mapping[str, Any]) -> tuple[np.ndarray, ...]:
    x, outs = inputs["x"].astype(np.float64), []
    for w in _weights64(inputs):
        x = x @ w
        outs.append(x)
    return tuple(outs)


def work(n: int, params: Mapping[str, Any]) -> Work:
    return Work(flops=2.0 * K * n**3, words=3.0 * K * n * n, ops=K)


# Fixed arity, not *ws: paddle.jit.to_static traces only named parameters.
def independent(x, w0, w1, w2, w3, w4, w5, w6, w7) -> tuple[Any, ...]:
    return (x @ w0, x @ w1, x @ w2, x @ w3, x @ w4, x @ w5, x @ w6, x @ w7)


def chain(x, w0, w1, w2, w3, w4, w5, w6, w7) -> tuple[Any, ...]:
    x1 = x @ w0
    x2 = x1 @ w1
    x3 = x2 @ w2
    x4 = x3 @ w3
    x5 = x4 @ w4
    x6 = x5 @ w5
    x7 = x6 @ w6
    return (x1, x2, x3, x4, x5, x6, x7, x7 @ w7)


def _eager(fn):
    """Every backend's arrays take ``@``: one factory for all of them."""

    def factory(be, device, inputs, params):
        x, *ws = to_device(be, device, inputs, "x", *WEIGHTS)
        return lambda: fn(x, *ws)

    return factory


def _torch_compiled(fn):
    def factory(be, device, inputs, params):
        x, *ws = to_device(be, device, inputs, "x", *WEIGHTS)
        f = be.lib.compile(fn)
        return lambda: f(x, *ws)

    return factory


def _jax_jit(fn):
    def factory(be, device, inputs, params):
        x, *ws = to_device(be, device, inputs, "x", *WEIGHTS)
        f = be.lib.jit(fn)
        return lambda: f(x, *ws)

    return factory


def _mxnet_hybrid(fn):
    # MXNet's traced symbols have no ``@``: the same products through np.dot
    def traced(np_, npx, x, *ws):
        if fn is independent:
            return tuple(np_.dot(x, w) for w in ws)
        outs = []
        for w in ws:
            x = np_.dot(x, w)
            outs.append(x)
        return tuple(outs)

    def factory(be, device, inputs, params):
        x, *ws = to_device(be, device, inputs, "x", *WEIGHTS)
        f = be.hybridize(traced)
        return lambda: f(x, *ws)

    return factory


def _paddle_static(fn):
    def factory(be, device, inputs, params):
        x, *ws = to_device(be, device, inputs, "x", *WEIGHTS)
        f = be.lib.jit.to_static(fn, full_graph=True)
        return lambda: f(x, *ws)

    return factory


BACKENDS = ("numpy", "torch", "mxnet", "cupy", "jax", "paddle")


def _workload(name: str, fn, reference, description: str, outputs: tuple[str, ...]) -> Workload:
    return Workload(
        name=name,
        description=description,
        size_name="n",
        default_size=256,
        check_size=64,
        make_inputs=make_inputs,
        reference=reference,
        work=work,
        implementations={b: _eager(fn) for b in BACKENDS},
        output_names=outputs,
        other_modes={
            "compiled": {
                "torch": _torch_compiled(fn),
                "jax": _jax_jit(fn),
                "mxnet": _mxnet_hybrid(fn),
                "paddle": _paddle_static(fn),
            }
        },
    )


INDEPENDENT = _workload(
    "ops_independent",
    independent,
    reference_independent,
    f"{K} independent n x n products issued back to back, one sync",
    tuple(f"out{i}" for i in range(K)),
)
CHAIN = _workload(
    "ops_chain",
    chain,
    reference_chain,
    f"the same {K} products as a dependent chain, one sync",
    tuple(f"out{i}" for i in range(K)),
)
