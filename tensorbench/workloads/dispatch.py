"""dispatch: per-operation framework overhead.

A chain of 100 tiny elementwise operations (x*0.99, then +0.01, fifty times) on a 16-element
array, run eagerly in every backend (JAX too: no jit), synchronised once at the end.
Reported as time per operation. The compiled mode (``torch.compile``, ``jax.jit``, hybridized
MXNet) runs the same chain traced once: it shows what compiling removes, not per-op cost.
The affine chain keeps the input's information, so a backend
that skips work cannot pass validation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import Inputs, Work, Workload, rng_for, to_device

PAIRS = 50  # 100 operations
MUL, ADD = 0.99, 0.01


def make_inputs(size: int, dtype: str, params: Mapping[str, Any]) -> Inputs:
    return {
        "x": rng_for("dispatch", size, params.get("seed", 0)).standard_normal(size).astype(dtype)
    }


def reference(inputs: Inputs, params: Mapping[str, Any]) -> np.ndarray:
    x = inputs["x"].astype(np.float64)
    for _ in range(PAIRS):
        x = x * MUL
        x = x + ADD
    return x


def work(size: int, params: Mapping[str, Any]) -> Work:
    return Work(ops=2 * PAIRS, flops=2.0 * PAIRS * size, words=2.0 * PAIRS * 2 * size)


def chain(x: Any) -> Any:
    for _ in range(PAIRS):
        x = x * MUL
        x = x + ADD
    return x


def _eager(be, device, inputs, params):
    (x,) = to_device(be, device, inputs, "x")
    return lambda: chain(x)


def _torch_compiled(be, device, inputs, params):
    (x,) = to_device(be, device, inputs, "x")
    f = be.lib.compile(chain)
    return lambda: f(x)


def _mxnet_hybrid(be, device, inputs, params):
    (x,) = to_device(be, device, inputs, "x")
    f = be.hybridize(lambda np_, npx, x: chain(x))
    return lambda: f(x)


def _paddle_static(be, device, inputs, params):
    (x,) = to_device(be, device, inputs, "x")
    paddle = be.lib
    # to_static makes Python float constants float32 (a float64 chain then reads 4e-7 off the
    # reference): the same two constants as tensors of the input's dtype keep it float64
    mul, add = (paddle.to_tensor(v, dtype=x.dtype, place=x.place) for v in (MUL, ADD))

    def typed_chain(x, mul, add):
        for _ in range(PAIRS):
            x = x * mul
            x = x + add
        return x

    f = paddle.jit.to_static(typed_chain, full_graph=True)
    return lambda: f(x, mul, add)


def _jax_jit(be, device, inputs, params):
    (x,) = to_device(be, device, inputs, "x")
    f = be.lib.jit(chain)
    return lambda: f(x)


WORKLOAD = Workload(
    name="dispatch",
    description="100 eager elementwise ops on a tiny array: overhead per op",
    size_name="elements",
    default_size=16,
    check_size=16,
    make_inputs=make_inputs,
    reference=reference,
    work=work,
    implementations={b: _eager for b in ("numpy", "torch", "mxnet", "cupy", "jax", "paddle")},
    other_modes={
        "compiled": {
            "torch": _torch_compiled,
            "mxnet": _mxnet_hybrid,
            "jax": _jax_jit,
            "paddle": _paddle_static,
        }
    },
)
