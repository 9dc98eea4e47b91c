"""Backend registry: one module per framework, registered explicitly here."""

from __future__ import annotations

from .base import Backend, Skip, parse_device
from .cupy import CupyBackend
from .dgl import DglMxnetBackend, DglTorchBackend
from .jax import JaxBackend
from .mxnet import MxnetBackend
from .numpy import NumpyBackend
from .paddle import PaddleBackend
from .pyg import PygBackend
from .torch import TorchBackend

BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        NumpyBackend(),
        TorchBackend(),
        MxnetBackend(),
        CupyBackend(),
        JaxBackend(),
        DglTorchBackend(),
        DglMxnetBackend(),
        PygBackend(),
        PaddleBackend(),
    )
}


def get_backend(name: str) -> Backend:
    """The registered backend called ``name``; ``KeyError`` names the valid choices."""
    try:
        return BACKENDS[name]
    except KeyError:
        raise KeyError(f"unknown backend {name!r} (valid: {', '.join(BACKENDS)})") from None


__all__ = ["BACKENDS", "Backend", "Skip", "get_backend", "parse_device"]
