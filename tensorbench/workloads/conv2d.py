"""conv2d: NCHW input (batch 8, 64 channels, H = W = size), 64 filters 3x3, stride 1, same padding.

FLOPs 2 N Cout H W Cin 9; traffic: input and output once, the weights once. NumPy and CuPy use what a good NumPy programmer writes: a sum of
nine shifted GEMMs, one per kernel tap, over the flattened zero-padded image. No Python loop
over pixels or channels; the loop over the 9 taps issues whole-array GEMMs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import Inputs, Work, Workload, rng_for, to_device

BATCH, CIN, COUT, K = 8, 64, 64, 3


def make_inputs(size: int, dtype: str, params: Mapping[str, Any]) -> Inputs:
    rng = rng_for("conv2d", size, params.get("seed", 0))
    x = rng.standard_normal((BATCH, CIN, size, size)).astype(dtype)
    w = (rng.standard_normal((COUT, CIN, K, K)) / np.sqrt(CIN * K * K)).astype(dtype)
    return {"x": x, "w": w}


def reference(inputs: Inputs, params: Mapping[str, Any]) -> np.ndarray:
    """Direct im2col in float64 via sliding windows: slow to write, easy to trust."""
    x = inputs["x"].astype(np.float64)
    w = inputs["w"].astype(np.float64)
    xpad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(xpad, (K, K), axis=(2, 3))
    return np.einsum("nchwij,ocij->nohw", windows, w, optimize=True)


def work(size: int, params: Mapping[str, Any]) -> Work:
    return Work(
        flops=2.0 * BATCH * COUT * size * size * CIN * K * K,
        words=float(BATCH * (CIN + COUT) * size * size + COUT * CIN * K * K),
    )


def shifted_gemm_conv2d(xp: Any, x: Any, taps: Any) -> Any:
    """3x3 same-padding convolution for NumPy-like ``xp`` (numpy or cupy): 9 shifted GEMMs.

    The zero-padded image is flattened per channel; tap (kh, kw) is then the contiguous slice
    starting at kh*Wp + kw, so each tap is one GEMM ``taps[t] @ slice`` accumulated into the
    output, computed on padded rows and cropped at the end. ``taps`` is the weight as a
    (9, Cout, Cin) array, prepared once in setup. The loop over images keeps one image's
    output (1 MB at size 64) in cache while its 9 taps accumulate: measured here 13.5 ms
    against 15.3 ms for all images at once, and 22 ms for one big GEMM over all taps
    followed by shifted sums (a 9x larger intermediate). The loops run over images and taps,
    never over pixels or channels.
    """
    n, c, h, w = x.shape
    hp, wp = h + 2, w + 2
    length = h * wp  # output rows on the padded width; the last 2 columns are cropped
    xpad = xp.zeros((n, c, hp * wp + 2), dtype=x.dtype)  # +2 keeps the last tap's slice in bounds
    xpad[:, :, : hp * wp].reshape(n, c, hp, wp)[:, :, 1:-1, 1:-1] = x
    out = xp.empty((n, taps.shape[1], length), dtype=x.dtype)
    tmp = xp.empty((taps.shape[1], length), dtype=x.dtype)
    for i in range(n):
        xp.matmul(taps[0], xpad[i, :, :length], out=out[i])
        for t in range(1, K * K):
            off = (t // K) * wp + t % K
            xp.matmul(taps[t], xpad[i, :, off : off + length], out=tmp)
            out[i] += tmp
    return out.reshape(n, -1, h, wp)[:, :, :, :w]


def _manual(be, device, inputs, params):
    x, w = to_device(be, device, inputs, "x", "w")
    xp = np if be.name == "numpy" else be.lib
    taps = xp.ascontiguousarray(w.transpose(2, 3, 0, 1).reshape(K * K, COUT, CIN))
    return lambda: shifted_gemm_conv2d(xp, x, taps)


def _torch(be, device, inputs, params):
    x, w = to_device(be, device, inputs, "x", "w")
    conv = be.lib.nn.functional.conv2d
    return lambda: conv(x, w, stride=1, padding=1)


def _mxnet(be, device, inputs, params):
    x, w = to_device(be, device, inputs, "x", "w")
    npx = be.lib.npx
    return lambda: npx.convolution(
        x, w, kernel=(K, K), stride=(1, 1), pad=(1, 1), num_filter=COUT, no_bias=True
    )


def _jax(be, device, inputs, params):
    x, w = to_device(be, device, inputs, "x", "w")
    lax = be.lib.lax
    f = be.lib.jit(
        lambda x, w: lax.conv_general_dilated(
            x, w, (1, 1), "SAME", dimension_numbers=("NCHW", "OIHW", "NCHW")
        )
    )
    return lambda: f(x, w)


def _conv_jax(lax, x, w):
    return lax.conv_general_dilated(
        x, w, (1, 1), "SAME", dimension_numbers=("NCHW", "OIHW", "NCHW")
    )


def _paddle(be, device, inputs, params):
    x, w = to_device(be, device, inputs, "x", "w")
    conv = be.lib.nn.functional.conv2d  # NCHW input, OIHW weights, as torch's
    return lambda: conv(x, w, stride=1, padding=1)


def _paddle_static(be, device, inputs, params):
    x, w = to_device(be, device, inputs, "x", "w")
    conv = be.lib.nn.functional.conv2d

    def convolve(x, w):
        return conv(x, w, stride=1, padding=1)

    f = be.lib.jit.to_static(convolve, full_graph=True)
    return lambda: f(x, w)


def _torch_compiled(be, device, inputs, params):
    x, w = to_device(be, device, inputs, "x", "w")
    conv = be.lib.nn.functional.conv2d
    f = be.lib.compile(lambda x, w: conv(x, w, stride=1, padding=1))
    return lambda: f(x, w)


def _mxnet_hybrid(be, device, inputs, params):
    x, w = to_device(be, device, inputs, "x", "w")
    f = be.hybridize(
        lambda np_, npx, x, w: npx.convolution(
            x, w, kernel=(K, K), stride=(1, 1), pad=(1, 1), num_filter=COUT, no_bias=True
        )
    )
    return lambda: f(x, w)


def _jax_eager(be, device, inputs, params):
    x, w = to_device(be, device, inputs, "x", "w")
    lax = be.lib.lax
    return lambda: _conv_jax(lax, x, w)


WORKLOAD = Workload(
    name="conv2d",
    description="3x3 convolution, batch 8, 64 -> 64 channels, same padding (NCHW)",
    size_name="H = W",
    default_size=64,
    check_size=16,
    make_inputs=make_inputs,
    reference=reference,
    work=work,
    implementations={
        "numpy": _manual,
        "torch": _torch,
        "mxnet": _mxnet,
        "cupy": _manual,
        "jax": _jax,
        "paddle": _paddle,
    },
    other_modes={
        "compiled": {"torch": _torch_compiled, "mxnet": _mxnet_hybrid, "paddle": _paddle_static},
        "eager": {"jax": _jax_eager},
    },
)
