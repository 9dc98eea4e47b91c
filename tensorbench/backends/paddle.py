"""PaddlePaddle (Baidu): eager (dygraph) on CPU and CUDA; compiled with ``paddle.jit.to_static``.

Eager CPU operators return finished tensors; on a GPU they are queued on the device's stream,
so ``synchronize`` waits with ``paddle.device.synchronize``.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from functools import cached_property
from types import ModuleType
from typing import Any

import numpy as np

from .base import Backend


class PaddleBackend(Backend):
    name = "paddle"
    module = "paddle"
    compiler = "paddle.jit.to_static"

    @cached_property
    def _import(self) -> tuple[ModuleType | None, str | None]:
        # Importing paddle talks: a warning that ccache (for building C++ extensions) is
        # missing, two stderr lines whenever OMP_NUM_THREADS > 1 (advice for data-parallel
        # training on OpenBLAS builds; this wheel uses MKL) and glog INFO lines from its
        # executor. None concerns a benchmark, and they would land in every command's output.
        os.environ.setdefault("GLOG_minloglevel", "2")
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)
            return super()._import

    def cuda_reason(self, index: int) -> str | None:
        paddle = self.lib
        if not paddle.is_compiled_with_cuda():
            return "paddle built without CUDA (this is the CPU wheel, paddlepaddle)"
        n = paddle.device.cuda.device_count()
        if index >= n:
            return f"no CUDA device {index} (found {n})"
        return None

    def devices(self) -> list[str]:
        if not self.available():
            return []
        paddle = self.lib
        n = paddle.device.cuda.device_count() if paddle.is_compiled_with_cuda() else 0
        return ["cpu"] + [f"cuda:{i}" for i in range(n)]

    def facts(self) -> dict[str, Any]:
        paddle = self.lib
        v = paddle.version
        return {
            "version": paddle.__version__,
            "mkl": str(getattr(v, "with_mkl", "")).upper() == "ON",
            "cuda": v.cuda() if paddle.is_compiled_with_cuda() else None,
            "cudnn": v.cudnn() if paddle.is_compiled_with_cuda() else None,
            "commit": v.commit,
        }

    def _place(self, device: str) -> Any:
        paddle = self.lib
        if device.startswith("cuda"):
            return paddle.CUDAPlace(int(device.partition(":")[2] or 0))
        return paddle.CPUPlace()

    def asarray(self, x: np.ndarray, device: str) -> Any:
        # A copy, never a view of the cached NumPy input: workloads may update it in place.
        return self.lib.to_tensor(np.array(x, copy=True), place=self._place(device))

    def to_numpy(self, x: Any) -> np.ndarray:
        return x.numpy()

    def synchronize(self, device: str, result: Any = None) -> None:
        if device.startswith("cuda"):
            self.lib.device.synchronize()

    def synchronizes(self, device: str) -> bool:
        return device.startswith("cuda")  # CPU ops return finished tensors

    def set_threads(self, n: int) -> None:
        # Paddle's CPU kernels use MKL and OpenMP (set from the environment before import,
        # tensorbench.threads); its own math-library thread count is this call's
        self.lib.base.core.set_num_threads(n)
