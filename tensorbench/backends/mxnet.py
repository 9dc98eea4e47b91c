"""MXNet 1.9.1 through its NumPy interface (``mxnet.np`` / ``mxnet.npx``).

MXNet's engine is asynchronous: an operator returns at once and runs on engine threads, so
``synchronize`` must wait for the engine (``npx.waitall``) or the timer measures only dispatch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Backend, parse_device


class MxnetBackend(Backend):
    name = "mxnet"
    module = "mxnet"
    compiler = "Gluon hybridize"

    @property
    def lib(self) -> Any:
        mx = super().lib
        mx.npx.set_np()  # NumPy semantics (shapes, dtypes) for mx.np arrays and Gluon
        return mx

    def _features(self) -> Any:
        return self.lib.runtime.Features()

    def cuda_reason(self, index: int) -> str | None:
        if not self._features().is_enabled("CUDA"):
            # The CUDA wheels of 1.9.1 (mxnet-cu112 and older) target CUDA 11 runtimes; none
            # was tried with current drivers here, so this says only what is known.
            return "MXNet built without CUDA (this is the CPU wheel of mxnet 1.9.1)"
        if index >= self.lib.context.num_gpus():
            return "no CUDA device"
        return None

    def devices(self) -> list[str]:
        if not self.available():
            return []
        gpus = self.lib.context.num_gpus() if self._features().is_enabled("CUDA") else 0
        return ["cpu"] + [f"cuda:{i}" for i in range(gpus)]

    def facts(self) -> dict[str, Any]:
        features = self._features()
        enabled = {
            name
            for name in (
                "MKLDNN",
                "CUDA",
                "CUDNN",
                "OPENMP",
                "BLAS_OPEN",
                "BLAS_MKL",
                "BLAS_ATLAS",
                "BLAS_APPLE",
                "LAPACK",
                "INT64_TENSOR_SIZE",
            )
            if features.is_enabled(name)
        }
        blas = next(
            (b.split("_", 1)[1].lower() for b in sorted(enabled) if b.startswith("BLAS_")),
            "unknown",
        )
        return {
            "version": self.lib.__version__,
            "blas": blas,
            "mkldnn": "MKLDNN" in enabled,
            "cuda": "CUDA" in enabled,
            "cudnn": "CUDNN" in enabled,
            "openmp": "OPENMP" in enabled,
            "numpy": np.__version__,
        }

    def hybridize(self, fn: Any) -> Any:
        """``fn(np, npx, *arrays)`` as a hybridized Gluon block: traced into a symbolic graph
        on its first call and run as one cached operator afterwards (MXNet's compiled mode).

        ``np``/``npx`` are the namespaces of the trace (symbolic while hybridized), so ``fn``
        must use them rather than ``mx.np`` directly.
        """
        mx = self.lib

        class Hybrid(mx.gluon.HybridBlock):
            def hybrid_forward(self, F: Any, *arrays: Any) -> Any:
                return fn(F.np, F.npx, *arrays)

        block = Hybrid()
        block.hybridize(static_alloc=True, static_shape=True)
        return block

    def context(self, device: str) -> Any:
        kind, index = parse_device(device)
        return self.lib.cpu() if kind == "cpu" else self.lib.gpu(index)

    def asarray(self, x: np.ndarray, device: str) -> Any:
        return self.lib.np.array(x, dtype=x.dtype, ctx=self.context(device))

    def to_numpy(self, x: Any) -> np.ndarray:
        return x.asnumpy()

    def synchronize(self, device: str, result: Any = None) -> None:
        self.lib.npx.waitall()

    def set_threads(self, n: int) -> None:
        # MXNet's OpenMP pool reads OMP_NUM_THREADS at import (tensorbench.threads sets it
        # before any import); threadpoolctl limits the live libgomp/BLAS pools as well.
        pass
