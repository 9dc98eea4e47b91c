"""PyTorch Geometric (``pyg``): torch tensors, PyG's own layers (``GCNConv``)."""

from __future__ import annotations

from typing import Any

from .base import Backend, RunsOnTorch
from .torch import TorchBackend


class PygBackend(RunsOnTorch, Backend):
    name = "pyg"
    module = "torch_geometric"
    compiler = "torch.compile (inductor)"

    def __init__(self) -> None:
        self.framework = TorchBackend()

    @property
    def fw(self) -> Any:
        """torch, which PyG runs on."""
        return self.framework.lib

    def unavailable_reason(self) -> str | None:
        return self.framework.unavailable_reason() or super().unavailable_reason()

    def device_reason(self, device: str) -> str | None:
        return self.unavailable_reason() or self.framework.device_reason(device)

    def devices(self) -> list[str]:
        return self.framework.devices() if self.available() else []

    def facts(self) -> dict[str, Any]:
        return {"version": self.lib.__version__, "torch": self.fw.__version__}

    def set_threads(self, n: int) -> None:
        self.framework.set_threads(n)
