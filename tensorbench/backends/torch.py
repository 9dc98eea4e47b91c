"""PyTorch (eager, autograd), CPU and CUDA."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Backend


class TorchBackend(Backend):
    name = "torch"
    module = "torch"
    _configured = False
    compiler = "torch.compile (inductor)"

    @property
    def lib(self) -> Any:
        torch = super().lib
        if not self._configured:  # once: lib is read inside timed regions (sync)
            self._configured = True
            # float32 must mean float32 on every framework. cuDNN convolutions default to TF32 on
            # Ampere and later (10-bit mantissa: an H200 gave conv2d a relative error of 3e-4), and
            # matmul may be switched to it by a user's settings: both off, as JAX's are.
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cuda.matmul.allow_tf32 = False
        return torch

    def cuda_reason(self, index: int) -> str | None:
        torch = self.lib
        if torch.version.cuda is None:
            return "torch built without CUDA"
        if not torch.cuda.is_available():
            return "no CUDA device"
        if index >= torch.cuda.device_count():
            return f"no CUDA device {index} (found {torch.cuda.device_count()})"
        return None

    def devices(self) -> list[str]:
        if not self.available():
            return []
        n = self.lib.cuda.device_count() if self.lib.cuda.is_available() else 0
        return ["cpu"] + [f"cuda:{i}" for i in range(n)]

    def facts(self) -> dict[str, Any]:
        torch = self.lib
        config = torch.__config__.show()
        blas = next((ln.split("=", 1)[1] for ln in config.splitlines() if "BLAS_INFO=" in ln), "")
        facts = {
            "version": torch.__version__,
            "blas": blas.split(",")[0].strip() or "unknown",
            "mkldnn": bool(torch.backends.mkldnn.is_available()),
            "mkl": bool(torch.backends.mkl.is_available()),
            "openmp": bool(torch.backends.openmp.is_available()),
            "cuda": torch.version.cuda,
            "threads": torch.get_num_threads(),
            "tf32": bool(torch.backends.cudnn.allow_tf32 or torch.backends.cuda.matmul.allow_tf32),
        }
        if torch.cuda.is_available():
            facts["cudnn"] = torch.backends.cudnn.version()
            facts["gpu"] = torch.cuda.get_device_name(0)
        return facts

    def asarray(self, x: np.ndarray, device: str) -> Any:
        # A copy, never a view of the cached NumPy input: workloads may update it in place.
        return self.lib.tensor(np.ascontiguousarray(x), device=device)

    def to_numpy(self, x: Any) -> np.ndarray:
        return x.detach().cpu().numpy()

    def synchronize(self, device: str, result: Any = None) -> None:
        if device.startswith("cuda"):
            self.lib.cuda.synchronize(device)

    def synchronizes(self, device: str) -> bool:
        return device.startswith("cuda")  # CPU ops return finished tensors

    def set_threads(self, n: int) -> None:
        self.lib.set_num_threads(n)

    def reset_peak_memory(self, device: str) -> None:
        if device.startswith("cuda"):
            self.lib.cuda.synchronize(device)
            self.lib.cuda.reset_peak_memory_stats(device)

    def peak_memory(self, device: str) -> int | None:
        if not device.startswith("cuda"):
            return None
        return int(self.lib.cuda.max_memory_allocated(device))
