"""DGL 1.1.3 on PyTorch (``dgl-torch``) and on MXNet (``dgl-mxnet``).

DGL binds to one framework when it is first imported (``DGLBACKEND``), so one process has one
DGL backend. The choice: ``DGLBACKEND`` when set; otherwise MXNet when mxnet imports (its
environment, ``.venv-mxnet``, exists for it), else PyTorch. The backend not chosen reports why
without importing dgl. Arrays are the framework's own: torch tensors, or ``mx.nd`` arrays
(DGL's MXNet backend uses the legacy ``nd`` interface, so its code runs in :meth:`scope`,
outside MXNet's NumPy mode).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from functools import cached_property
from types import ModuleType
from typing import Any

import numpy as np

from .base import Backend, RunsOnTorch, Skip, parse_device
from .mxnet import MxnetBackend
from .torch import TorchBackend

FRAMEWORKS = {"pytorch": "torch", "mxnet": "mxnet"}
_MXNET = MxnetBackend()  # only asked whether mxnet imports


def dgl_backend_choice() -> str:
    """The DGL backend of this process: the loaded one, else DGLBACKEND, else the rule above."""
    loaded = sys.modules.get("dgl")
    if loaded is not None and hasattr(loaded, "backend"):
        return str(loaded.backend.backend_name)
    if os.environ.get("DGLBACKEND"):
        return os.environ["DGLBACKEND"]
    return "mxnet" if _MXNET.available() else "pytorch"


class DglBackend(Backend):
    """DGL over one framework; delegates arrays, devices, sync and threads to that framework."""

    module = "dgl"
    dgl_backend = ""  # DGLBACKEND value

    def __init__(self) -> None:
        self.framework: Backend = (
            TorchBackend() if self.dgl_backend == "pytorch" else MxnetBackend()
        )
        self._cuda_reasons: dict[str, str | None] = {}

    def _choice_reason(self) -> str | None:
        chosen = dgl_backend_choice()
        if chosen == self.dgl_backend:
            return None
        verb = "is loaded" if "dgl" in sys.modules else "loads"
        return (
            f"DGL {verb} with the {chosen} backend in this process; "
            f"set DGLBACKEND={self.dgl_backend} in a fresh process to use {self.name}"
        )

    @cached_property
    def _import(self) -> tuple[ModuleType | None, str | None]:
        reason = self._choice_reason() or self.framework.unavailable_reason()
        if reason:
            return None, reason
        # DGL reads DGLBACKEND once, at import. Set it only for that import: a value left in
        # os.environ would leak into child processes (asv runs of the other environment).
        previous = os.environ.get("DGLBACKEND")
        os.environ["DGLBACKEND"] = previous or self.dgl_backend
        try:
            return importlib.import_module("dgl"), None
        except Exception as exc:  # ImportError, or a broken install (setuptools>=70, ...)
            return None, f"dgl failed to import: {exc.__class__.__name__}: {exc}"
        finally:
            if previous is None:
                del os.environ["DGLBACKEND"]

    def unavailable_reason(self) -> str | None:
        # Re-check the choice: another DGL backend may have loaded dgl since this one was asked.
        return self._choice_reason() or self._import[1]

    def device_reason(self, device: str) -> str | None:
        reason = self.unavailable_reason() or self.framework.device_reason(device)
        if reason or parse_device(device)[0] == "cpu":
            return reason
        return self._cuda_reason(device)

    def _cuda_reason(self, device: str) -> str | None:
        """DGL's pip wheels are CPU-only even where the framework has CUDA: try a tiny graph."""
        if device not in self._cuda_reasons:
            try:
                self.graph(np.zeros(1), np.zeros(1), 1, device)
                self._cuda_reasons[device] = None
            except Exception as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                self._cuda_reasons[device] = f"DGL cannot use {device}: {first[:120]}"
        return self._cuda_reasons[device]

    def devices(self) -> list[str]:
        return self.framework.devices() if self.available() else []

    @property
    def fw(self) -> Any:
        """The framework module (torch or mxnet) DGL runs on, imported as is: unlike
        ``MxnetBackend.lib`` this does not switch MXNet into NumPy mode."""
        module, reason = self.framework._import
        if module is None:
            raise Skip(reason)
        return module

    @property
    def nn(self) -> Any:
        """``dgl.nn`` for this backend's framework (a submodule ``import dgl`` does not load)."""
        _ = self.lib
        return importlib.import_module("dgl.nn")

    def facts(self) -> dict[str, Any]:
        dgl = self.lib
        return {
            "version": dgl.__version__,
            "dgl_backend": dgl.backend.backend_name,
            "framework": FRAMEWORKS[self.dgl_backend],
            "framework_version": self.fw.__version__,
        }

    def scope(self) -> contextlib.AbstractContextManager:
        """Where DGL code runs: for MXNet, outside NumPy mode (restored on exit)."""
        return contextlib.nullcontext()

    def graph(self, src: np.ndarray, dst: np.ndarray, n: int, device: str) -> Any:
        """A DGL graph of edges ``src -> dst`` on ``n`` nodes, on ``device``."""
        with self.scope():
            s, d = (self.asarray(np.asarray(a, dtype=np.int64), device) for a in (src, dst))
            return self.lib.graph((s, d), num_nodes=n)

    def set_threads(self, n: int) -> None:
        self.framework.set_threads(n)
        setter = getattr(getattr(self.lib, "utils", None), "set_num_threads", None)
        if setter is not None:
            setter(n)  # DGL's own OpenMP pool (message passing kernels)


class DglTorchBackend(RunsOnTorch, DglBackend):
    name = "dgl-torch"
    dgl_backend = "pytorch"
    compiler = "torch.compile (inductor)"


class DglMxnetBackend(DglBackend):
    name = "dgl-mxnet"
    dgl_backend = "mxnet"
    compiler = "Gluon hybridize"

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        util = self.fw.util
        with util.np_array(False), util.np_shape(False):
            yield

    def context(self, device: str) -> Any:
        kind, index = parse_device(device)
        return self.fw.cpu() if kind == "cpu" else self.fw.gpu(index)

    def asarray(self, x: np.ndarray, device: str) -> Any:
        with self.scope():
            return self.fw.nd.array(x, dtype=x.dtype, ctx=self.context(device))

    def to_numpy(self, x: Any) -> np.ndarray:
        return x.asnumpy()

    def synchronize(self, device: str, result: Any = None) -> None:
        self.fw.nd.waitall()
