"""The narrow interface every framework backend implements.

A backend knows how to move NumPy arrays to a device and back, how to wait for queued work,
how many threads it uses and what it was built with. It knows nothing about workloads.
"""

from __future__ import annotations

import importlib
import re
from functools import cached_property
from types import ModuleType
from typing import Any

import numpy as np

from .. import threads

DEVICE_PATTERN = re.compile(r"^(cpu|cuda:\d+)$")


class Skip(Exception):
    """A case that cannot run here; the message is the reason shown to the user."""


def parse_device(device: str) -> tuple[str, int]:
    """Split ``"cuda:1"`` into ``("cuda", 1)``; ``"cpu"`` is ``("cpu", 0)``."""
    if not DEVICE_PATTERN.match(device):
        raise ValueError(f"unknown device {device!r} (valid: cpu, cuda:N)")
    kind, _, index = device.partition(":")
    return kind, int(index or 0)


class Backend:
    """Base class: subclasses set ``name``/``module`` and override the hooks they need."""

    name: str = ""
    module: str = ""  # the framework's import name
    compiler: str = ""  # what its `compiled` mode uses ("": none, it runs eagerly only)

    @cached_property
    def _import(self) -> tuple[ModuleType | None, str | None]:
        try:
            return importlib.import_module(self.module), None
        except ImportError as exc:
            return None, f"{self.module} not installed ({exc.__class__.__name__}: {exc})"
        except Exception as exc:  # a broken install (e.g. mxnet with numpy>=1.24) must not escape
            return None, f"{self.module} failed to import: {exc.__class__.__name__}: {exc}"

    @property
    def lib(self) -> Any:
        mod, reason = self._import
        if mod is None:
            raise Skip(reason)
        return mod

    def load(self) -> Any:
        """Import the framework now and give its thread pools the process's thread setting.

        Raises :class:`Skip` where it does not import. Thread settings made before the import
        (environment variables) cannot reach pools created by it, hence the re-apply.
        """
        lib = self.lib
        threads.apply_to_loaded()
        self.set_threads(threads.current_threads())
        return lib

    def unavailable_reason(self) -> str | None:
        """None when the framework imports, else why not."""
        return self._import[1]

    def available(self) -> bool:
        return self.unavailable_reason() is None

    def device_reason(self, device: str) -> str | None:
        """None when ``device`` can run here, else the reason it cannot."""
        reason = self.unavailable_reason()
        if reason:
            return reason
        kind, index = parse_device(device)
        return self.cpu_reason() if kind == "cpu" else self.cuda_reason(index)

    def cpu_reason(self) -> str | None:
        """Why the (importable) framework cannot run on the CPU; None: it can."""
        return None

    def cuda_reason(self, index: int) -> str | None:
        """Why the (importable) framework cannot run on CUDA device ``index``; None: it can."""
        return f"{self.name}: no CUDA support"

    def devices(self) -> list[str]:
        """Devices present and usable by this backend."""
        return ["cpu"] if self.available() else []

    def version(self) -> str:
        return str(getattr(self.lib, "__version__", "unknown"))

    def facts(self) -> dict[str, Any]:
        """Version and build facts (BLAS, oneDNN, CUDA...) recorded with every result."""
        return {"version": self.version()}

    def asarray(self, x: np.ndarray, device: str) -> Any:
        raise NotImplementedError

    def to_numpy(self, x: Any) -> np.ndarray:
        raise NotImplementedError

    def synchronize(self, device: str, result: Any = None) -> None:
        """Block until all work queued on ``device`` (and producing ``result``) is done."""

    def synchronizes(self, device: str) -> bool:
        """Whether ``synchronize(device)`` does anything. Where it does not, a timed call skips
        it: at a 20 us point the extra Python calls are a few % of the figure."""
        return type(self).synchronize is not Backend.synchronize

    def set_threads(self, n: int) -> None:
        """Apply the suite's thread count to this framework's own pools (BLAS is global)."""

    def reset_peak_memory(self, device: str) -> None:
        """Start a new peak-device-memory window (no-op where there is no counter)."""

    def peak_memory(self, device: str) -> int | None:
        """Peak device memory in bytes since the last reset, from the framework's own counter;
        None on the host (asv's peakmem covers it) or where the framework keeps none."""
        return None


class RunsOnTorch:
    """For backends whose arrays are torch tensors (DGL on PyTorch, PyG): moving arrays,
    reading them back and waiting for the device are torch's (``self.framework``)."""

    framework: Backend

    def asarray(self, x: np.ndarray, device: str) -> Any:
        return self.framework.asarray(x, device)

    def to_numpy(self, x: Any) -> np.ndarray:
        return self.framework.to_numpy(x)

    def synchronize(self, device: str, result: Any = None) -> None:
        self.framework.synchronize(device, result)

    def synchronizes(self, device: str) -> bool:
        return self.framework.synchronizes(device)
