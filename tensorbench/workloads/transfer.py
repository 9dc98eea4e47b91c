"""transfer: host -> device -> host copy of a float32 buffer (size in MiB), GB/s both ways.

Its own workload so that nobody mistakes copies for compute: every other workload moves its
inputs to the device in setup. The host buffer is pinned where the framework offers it (torch),
which is what a program that cares about transfer speed does. CUDA devices only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import Inputs, Work, Workload, rng_for

MIB = 2**20


def make_inputs(mib: int, dtype: str, params: Mapping[str, Any]) -> Inputs:
    n = mib * MIB // np.dtype(dtype).itemsize
    return {"x": rng_for("transfer", mib, params.get("seed", 0)).standard_normal(n).astype(dtype)}


def reference(inputs: Inputs, params: Mapping[str, Any]) -> np.ndarray:
    return inputs["x"].astype(np.float64)


def work(mib: int, params: Mapping[str, Any]) -> Work:
    return Work(bytes=2.0 * mib * MIB)  # both directions


def _torch(be, device, inputs, params):
    torch = be.lib
    host = torch.from_numpy(inputs["x"]).pin_memory()
    back = torch.empty_like(host).pin_memory()

    def roundtrip():
        back.copy_(host.to(device, non_blocking=True), non_blocking=True)
        return back

    return roundtrip


def _cupy(be, device, inputs, params):
    cp = be.lib
    host = cp.cuda.alloc_pinned_memory(inputs["x"].nbytes)
    src = np.frombuffer(host, inputs["x"].dtype, inputs["x"].size)
    src[:] = inputs["x"]
    dst = np.empty_like(src)
    return lambda: cp.asarray(src).get(out=dst)


def _jax(be, device, inputs, params):
    x, dev = inputs["x"], be.jax_device(device)
    return lambda: np.asarray(be.lib.device_put(x, dev))


def _mxnet(be, device, inputs, params):
    x, ctx = inputs["x"], be.context(device)
    return lambda: be.lib.np.array(x, ctx=ctx).asnumpy()


WORKLOAD = Workload(
    name="transfer",
    description="host -> device -> host copy (pinned host memory where offered)",
    size_name="MiB",
    default_size=64,
    check_size=1,
    make_inputs=make_inputs,
    reference=reference,
    work=work,
    implementations={"torch": _torch, "cupy": _cupy, "jax": _jax, "mxnet": _mxnet},
    dtypes=("float32",),
    devices=("cuda",),
)
