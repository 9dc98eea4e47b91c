"""NumPy + SciPy on the CPU: the reference framework and the baseline."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Backend


class NumpyBackend(Backend):
    name = "numpy"
    module = "numpy"

    def facts(self) -> dict[str, Any]:
        import scipy

        return {"version": np.__version__, "scipy": scipy.__version__}

    def asarray(self, x: np.ndarray, device: str) -> Any:
        return np.array(x, copy=True, order="C")  # a workload may update it in place

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x)
