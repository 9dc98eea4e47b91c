"""stream_copy and stream_triad: McCalpin's STREAM kernels, the machine's memory ceiling.

``copy``: a = b. ``triad``: a = b + s * c (s = 3). Size = array length in Mi elements (2^20;
so 128 is 1 GiB per float64 array); every array is
allocated once in setup and the output written in place where the framework allows it (NumPy,
CuPy, PyTorch, MXNet), so a call moves what STREAM counts: 2 (copy) or 3 (triad) words per
element. Traffic and FLOPs follow STREAM's convention (the extra pass of an unfused eager
triad, which writes ``s * c`` before adding ``b``, is the framework's cost, not counted work).
The roofline's memory ceiling is the best triad GB/s; arrays should be well above the
last-level cache (STREAM's rule: each array 4x the caches together).

Modes: native eager (JAX jit); compiled PyTorch (``torch.compile``: one fused loop writing
into ``a``), hybridized MXNet (a new output array from a static buffer), eager JAX (two ops).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import Inputs, Work, Workload, rng_for, to_device

MI = 2**20
SCALAR = 3.0


def make_inputs(mi: int, dtype: str, params: Mapping[str, Any]) -> Inputs:
    rng = rng_for("stream", mi, params.get("seed", 0))
    return {k: rng.random(mi * MI).astype(dtype) for k in ("a", "b", "c")}  # fast to draw


def copy_reference(inputs: Inputs, params: Mapping[str, Any]) -> np.ndarray:
    return inputs["b"].astype(np.float64)


def triad_reference(inputs: Inputs, params: Mapping[str, Any]) -> np.ndarray:
    return inputs["b"].astype(np.float64) + SCALAR * inputs["c"].astype(np.float64)


def copy_work(mi: int, params: Mapping[str, Any]) -> Work:
    return Work(words=2.0 * mi * MI)


def triad_work(mi: int, params: Mapping[str, Any]) -> Work:
    return Work(flops=2.0 * mi * MI, words=3.0 * mi * MI)


# -- copy ---------------------------------------------------------------------------------


def _copy_numpy(be, device, inputs, params):
    a, b = to_device(be, device, inputs, "a", "b")
    xp = np if be.name == "numpy" else be.lib

    def copy():
        xp.copyto(a, b)
        return a

    return copy


def _copy_torch(be, device, inputs, params):
    a, b = to_device(be, device, inputs, "a", "b")
    return lambda: a.copy_(b)


def _copy_torch_compiled(be, device, inputs, params):
    a, b = to_device(be, device, inputs, "a", "b")
    f = be.lib.compile(lambda a, b: a.copy_(b))
    return lambda: f(a, b)


def _copy_mxnet(be, device, inputs, params):
    a, b = to_device(be, device, inputs, "a", "b")

    def copy():
        b.copyto(a)
        return a

    return copy


def _copy_mxnet_hybrid(be, device, inputs, params):
    (b,) = to_device(be, device, inputs, "b")
    f = be.hybridize(lambda np_, npx, b: np_.copy(b))
    return lambda: f(b)


def _copy_jax(be, device, inputs, params):
    (b,) = to_device(be, device, inputs, "b")
    f = be.lib.jit(lambda b: b.copy())
    return lambda: f(b)


def _copy_jax_eager(be, device, inputs, params):
    (b,) = to_device(be, device, inputs, "b")
    copy = be.lib.numpy.copy
    return lambda: copy(b)


def _copy_paddle(be, device, inputs, params):
    a, b = to_device(be, device, inputs, "a", "b")
    assign = be.lib.assign
    return lambda: assign(b, output=a)  # one copy kernel into the existing a


# -- triad --------------------------------------------------------------------------------


def _triad_numpy(be, device, inputs, params):
    a, b, c = to_device(be, device, inputs, "a", "b", "c")
    xp = np if be.name == "numpy" else be.lib

    def triad():
        xp.multiply(c, SCALAR, out=a)
        xp.add(a, b, out=a)
        return a

    return triad


def _triad_torch(be, device, inputs, params):
    a, b, c = to_device(be, device, inputs, "a", "b", "c")
    add = be.lib.add
    return lambda: add(b, c, alpha=SCALAR, out=a)  # one fused kernel, eager


def _triad_paddle(be, device, inputs, params):
    b, c = to_device(be, device, inputs, "b", "c")
    scale = be.lib.scale

    def triad():
        # paddle has no add-with-alpha nor out=: scale into a new array, add b in place (the
        # same five passes over memory as NumPy's two in-place ufuncs)
        a = scale(c, SCALAR)
        a.add_(b)
        return a

    return triad


def _triad_torch_compiled(be, device, inputs, params):
    a, b, c = to_device(be, device, inputs, "a", "b", "c")
    f = be.lib.compile(lambda a, b, c: a.copy_(b + SCALAR * c))
    return lambda: f(a, b, c)


def _triad_mxnet(be, device, inputs, params):
    a, b, c = to_device(be, device, inputs, "a", "b", "c")
    np_ = be.lib.np

    def triad():
        np_.multiply(c, SCALAR, out=a)
        np_.add(a, b, out=a)
        return a

    return triad


def _triad_mxnet_hybrid(be, device, inputs, params):
    b, c = to_device(be, device, inputs, "b", "c")
    f = be.hybridize(lambda np_, npx, b, c: b + SCALAR * c)
    return lambda: f(b, c)


def _triad_jax(be, device, inputs, params):
    b, c = to_device(be, device, inputs, "b", "c")
    f = be.lib.jit(lambda b, c: b + SCALAR * c)
    return lambda: f(b, c)


def _triad_jax_eager(be, device, inputs, params):
    b, c = to_device(be, device, inputs, "b", "c")
    return lambda: b + SCALAR * c


_COMMON = {
    "size_name": "Mi elements per array",
    "default_size": 32,
    "check_size": 1,
    "make_inputs": make_inputs,
}

COPY = Workload(
    name="stream_copy",
    description="STREAM copy a = b (memory bandwidth)",
    reference=copy_reference,
    work=copy_work,
    implementations={
        "numpy": _copy_numpy,
        "torch": _copy_torch,
        "mxnet": _copy_mxnet,
        "cupy": _copy_numpy,
        "jax": _copy_jax,
        "paddle": _copy_paddle,
    },
    other_modes={
        "compiled": {"torch": _copy_torch_compiled, "mxnet": _copy_mxnet_hybrid},
        "eager": {"jax": _copy_jax_eager},
    },
    **_COMMON,
)

TRIAD = Workload(
    name="stream_triad",
    description="STREAM triad a = b + 3 c (memory bandwidth)",
    reference=triad_reference,
    work=triad_work,
    implementations={
        "numpy": _triad_numpy,
        "torch": _triad_torch,
        "mxnet": _triad_mxnet,
        "cupy": _triad_numpy,
        "jax": _triad_jax,
        "paddle": _triad_paddle,
    },
    other_modes={
        "compiled": {"torch": _triad_torch_compiled, "mxnet": _triad_mxnet_hybrid},
        "eager": {"jax": _triad_jax_eager},
    },
    **_COMMON,
)
