"""CuPy (+ cupyx) on CUDA devices only."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Backend, parse_device


class CupyBackend(Backend):
    name = "cupy"
    module = "cupy"

    def cpu_reason(self) -> str | None:
        return "cupy runs on CUDA devices only"

    def cuda_reason(self, index: int) -> str | None:
        try:
            count = self.lib.cuda.runtime.getDeviceCount()
        except Exception as exc:  # CUDARuntimeError: driver missing or too old
            return f"cupy: CUDA driver insufficient ({exc})"
        return None if index < count else "no CUDA device"

    def devices(self) -> list[str]:
        if not self.available():
            return []
        try:
            return [f"cuda:{i}" for i in range(self.lib.cuda.runtime.getDeviceCount())]
        except Exception:
            return []

    def facts(self) -> dict[str, Any]:
        cp = self.lib
        facts: dict[str, Any] = {"version": cp.__version__}
        try:
            facts["cuda_runtime"] = cp.cuda.runtime.runtimeGetVersion()
            facts["cuda_driver"] = cp.cuda.runtime.driverGetVersion()
        except Exception as exc:
            facts["cuda_error"] = str(exc)
        return facts

    def asarray(self, x: np.ndarray, device: str) -> Any:
        _, index = parse_device(device)
        with self.lib.cuda.Device(index):
            return self.lib.asarray(x)

    def to_numpy(self, x: Any) -> np.ndarray:
        return self.lib.asnumpy(x)

    def synchronize(self, device: str, result: Any = None) -> None:
        self.lib.cuda.get_current_stream().synchronize()

    def reset_peak_memory(self, device: str) -> None:
        # CuPy's pool keeps no peak counter: emptying it makes its size after the run the peak.
        self.synchronize(device)
        self.lib.get_default_memory_pool().free_all_blocks()

    def peak_memory(self, device: str) -> int | None:
        return int(self.lib.get_default_memory_pool().total_bytes())
