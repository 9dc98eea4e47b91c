"""JAX (jax.numpy): natively jit-compiled in setup (``dispatch`` eager); eager mode un-jitted."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Backend, parse_device


class JaxBackend(Backend):
    name = "jax"
    module = "jax"
    _configured = False
    compiler = "jax.jit (XLA)"

    @property
    def lib(self) -> Any:
        jax = super().lib
        if not self._configured:  # once: lib is read inside timed regions (sync)
            self._configured = True
            jax.config.update("jax_enable_x64", True)  # float64 cases must really be float64
            # ... and float32 really float32: on a GPU, XLA's default matmul and convolution
            # precision is TF32 (an H200 gave matmul 4096 a relative error of 3e-4, mlp_step 1e-2).
            jax.config.update("jax_default_matmul_precision", "highest")
        return jax

    def _gpus(self) -> list[Any]:
        try:
            return list(self.lib.devices("gpu"))
        except RuntimeError:
            return []

    def cuda_reason(self, index: int) -> str | None:
        gpus = self._gpus()
        if not gpus:
            return "no CUDA device (jax has no gpu backend here)"
        return None if index < len(gpus) else f"no CUDA device {index}"

    def devices(self) -> list[str]:
        if not self.available():
            return []
        return ["cpu"] + [f"cuda:{i}" for i in range(len(self._gpus()))]

    def facts(self) -> dict[str, Any]:
        import jaxlib

        return {
            "version": self.lib.__version__,
            "jaxlib": jaxlib.__version__,
            "default_backend": self.lib.default_backend(),
            "matmul_precision": str(self.lib.config.jax_default_matmul_precision),
        }

    def jax_device(self, device: str) -> Any:
        kind, index = parse_device(device)
        return self.lib.devices("cpu")[0] if kind == "cpu" else self._gpus()[index]

    def asarray(self, x: np.ndarray, device: str) -> Any:
        return self.lib.device_put(x, self.jax_device(device))

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x)

    def synchronize(self, device: str, result: Any = None) -> None:
        # JAX dispatch is asynchronous; waiting on the result is the only sync it offers.
        self.lib.block_until_ready(result)

    def peak_memory(self, device: str) -> int | None:
        if not device.startswith("cuda"):
            return None
        stats = self.jax_device(device).memory_stats() or {}
        peak = stats.get("peak_bytes_in_use")  # XLA keeps no reset: the process-wide peak
        return int(peak) if peak is not None else None
