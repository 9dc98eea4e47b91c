"""matmul: C = A @ B for n x n matrices. FLOPs 2 n^3, traffic 3 n^2 elements (A, B read, C written).

Modes: native eager (NumPy, PyTorch, MXNet, CuPy) and jit (JAX); compiled PyTorch
(``torch.compile``), hybridized MXNet; eager (un-jitted) JAX.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import Inputs, Work, Workload, rng_for, to_device


def make_inputs(n: int, dtype: str, params: Mapping[str, Any]) -> Inputs:
    rng = rng_for("matmul", n, params.get("seed", 0))
    return {k: rng.standard_normal((n, n)).astype(dtype) for k in ("a", "b")}


def reference(inputs: Inputs, params: Mapping[str, Any]) -> np.ndarray:
    return inputs["a"].astype(np.float64) @ inputs["b"].astype(np.float64)


def work(n: int, params: Mapping[str, Any]) -> Work:
    return Work(flops=2.0 * n**3, words=3.0 * n * n)


def _numpy(be, device, inputs, params):
    a, b = to_device(be, device, inputs, "a", "b")
    return lambda: a @ b


def _torch(be, device, inputs, params):
    a, b = to_device(be, device, inputs, "a", "b")
    matmul = be.lib.matmul
    return lambda: matmul(a, b)


def _mxnet(be, device, inputs, params):
    a, b = to_device(be, device, inputs, "a", "b")
    dot = be.lib.np.dot
    return lambda: dot(a, b)


def _jax(be, device, inputs, params):
    a, b = to_device(be, device, inputs, "a", "b")
    f = be.lib.jit(be.lib.numpy.matmul)
    return lambda: f(a, b)


def _paddle(be, device, inputs, params):
    a, b = to_device(be, device, inputs, "a", "b")
    matmul = be.lib.matmul
    return lambda: matmul(a, b)


def _paddle_static(be, device, inputs, params):
    a, b = to_device(be, device, inputs, "a", "b")
    paddle = be.lib

    def product(a, b):
        return paddle.matmul(a, b)

    f = paddle.jit.to_static(product, full_graph=True)
    return lambda: f(a, b)


def _torch_compiled(be, device, inputs, params):
    a, b = to_device(be, device, inputs, "a", "b")
    f = be.lib.compile(lambda a, b: a @ b)
    return lambda: f(a, b)


def _mxnet_hybrid(be, device, inputs, params):
    a, b = to_device(be, device, inputs, "a", "b")
    f = be.hybridize(lambda np_, npx, a, b: np_.dot(a, b))
    return lambda: f(a, b)


def _jax_eager(be, device, inputs, params):
    a, b = to_device(be, device, inputs, "a", "b")
    matmul = be.lib.numpy.matmul
    return lambda: matmul(a, b)


WORKLOAD = Workload(
    name="matmul",
    description="dense matrix product C = A @ B",
    size_name="n",
    default_size=1024,
    check_size=256,
    make_inputs=make_inputs,
    reference=reference,
    work=work,
    implementations={
        "numpy": _numpy,
        "torch": _torch,
        "mxnet": _mxnet,
        "cupy": _numpy,
        "jax": _jax,
        "paddle": _paddle,
    },
    other_modes={
        "compiled": {"torch": _torch_compiled, "mxnet": _mxnet_hybrid, "paddle": _paddle_static},
        "eager": {"jax": _jax_eager},
    },
)
