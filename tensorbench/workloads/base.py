"""The framework-neutral definition of a workload.

A workload is data plus small functions: how to make inputs for a size, the float64 reference,
the work model, and one short implementation per backend. An implementation is a *factory*:
called once in setup with the backend, the device and the NumPy inputs, it moves the inputs to
the device, builds whatever the framework needs (a jit-compiled function, a model) and returns
the zero-argument callable that is timed. Nothing is converted inside the timed call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..conventions import MODES, native_mode

Inputs = dict[str, Any]
Output = Any  # one framework array, or a tuple of them
Factory = Callable[[Any, str, Inputs, Mapping[str, Any]], Callable[[], Output]]

DTYPES = ("float32", "float64")
# Relative-error bounds for ||out - ref|| / ||ref|| against the float64 reference.
TOLERANCE = {"float32": 1e-4, "float64": 1e-10}


@dataclass(frozen=True)
class Work:
    """The work one call does, for derived rates: FLOPs, bytes moved, graph edges traversed.

    Memory traffic is the compulsory traffic of the algorithm (each input read once, each
    output written once), the roofline's convention: ``bytes`` where it does not depend on the
    dtype, else ``words`` (array elements moved), which :meth:`traffic` turns into bytes.
    """

    flops: float | None = None
    bytes: float | None = None
    edges: float | None = None
    ops: float | None = None  # framework operations per call (dispatch overhead)
    words: float | None = None  # array elements read + written (bytes = words x itemsize)

    def traffic(self, dtype: str) -> float | None:
        """Bytes moved by one call in ``dtype`` (None where the model gives no traffic)."""
        if self.bytes:
            return float(self.bytes)
        if self.words:
            return float(self.words) * np.dtype(dtype).itemsize
        return None

    def intensity(self, dtype: str) -> float | None:
        """Arithmetic intensity, FLOPs per byte moved (the roofline's x axis)."""
        moved = self.traffic(dtype)
        return float(self.flops) / moved if self.flops and moved else None

    def rates(self, seconds: float, dtype: str | None = None) -> dict[str, float]:
        """GFLOP/s, GB/s and GTEPS for a call that took ``seconds``, where defined (GB/s from
        ``words`` needs the ``dtype``)."""
        out: dict[str, float] = {}
        if self.flops:
            out["gflops"] = self.flops / seconds / 1e9
        moved = self.bytes or (self.traffic(dtype) if dtype else None)
        if moved:
            out["gbytes_per_s"] = moved / seconds / 1e9
        if self.edges:
            out["gteps"] = self.edges / seconds / 1e9
        if self.ops:
            out["us_per_op"] = seconds / self.ops * 1e6
        return out


@dataclass(frozen=True)
class Workload:
    """One workload: its spec, reference, work model and per-backend implementations.

    ``make_inputs(size, dtype, params)`` returns NumPy (or scipy.sparse) inputs already in
    ``dtype``; ``reference(inputs, params)`` computes the float64 answer from exactly those
    inputs (upcast), so input rounding is not counted as error. Outputs are one array or a tuple.
    """

    name: str
    description: str
    size_name: str  # what the single scaling parameter means ("n", "H = W", "batch", "scale")
    default_size: int
    check_size: int  # small size used by `tensorbench check`
    make_inputs: Callable[[int, str, Mapping[str, Any]], Inputs]
    reference: Callable[[Inputs, Mapping[str, Any]], Output]
    work: Callable[[int, Mapping[str, Any]], Work]
    implementations: dict[str, Factory]
    output_names: tuple[str, ...] = ("out",)
    dtypes: tuple[str, ...] = DTYPES
    default_params: Mapping[str, Any] = field(default_factory=dict)
    tolerance: Mapping[str, float] = field(default_factory=lambda: dict(TOLERANCE))
    devices: tuple[str, ...] = ("cpu", "cuda")  # device kinds the workload means something on
    # Implementations in the mode other than each backend's native one (``conventions.native_mode``:
    # ``implementations`` are the original benchmarks' and keep their mode): mode -> backend ->
    # factory, e.g. {"compiled": {"torch": torch.compile(...)}, "eager": {"jax": un-jitted}}.
    other_modes: Mapping[str, Mapping[str, Factory]] = field(default_factory=dict)
    # Why a backend has no implementation in a mode, where that is known (mode -> backend -> why).
    mode_gaps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def native_mode(self, backend: str) -> str:
        """The mode of ``implementations[backend]``."""
        return native_mode(backend, self.name)

    def factory(self, backend: str, mode: str | None = None) -> Factory | None:
        """The implementation of ``backend`` in ``mode`` (None: the native one), or None."""
        if mode is None or mode == self.native_mode(backend):
            return self.implementations.get(backend)
        return self.other_modes.get(mode, {}).get(backend)

    def mode_reason(self, backend: str, mode: str, compiler: str = "") -> str | None:
        """Why ``backend`` cannot run this workload in ``mode`` (None: it can).

        ``compiler`` names the backend's compiler ("" for none: NumPy, CuPy run eagerly only).
        """
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r} (valid: {', '.join(MODES)})")
        if self.factory(backend, mode) is not None:
            return None
        if mode == "compiled" and not compiler:
            return f"{backend}: no compiler (runs eagerly only)"
        gap = self.mode_gaps.get(mode, {}).get(backend)
        return gap or f"{backend} has no {mode} {self.name} implementation"


def rng_for(name: str, size: int, seed: int = 0) -> np.random.Generator:
    """A generator fixed by workload, size and seed: inputs never change between runs."""
    return np.random.default_rng([seed, size, sum(map(ord, name))])


def to_device(backend: Any, device: str, inputs: Inputs, *names: str) -> list[Any]:
    """Move the named NumPy inputs to ``device`` with ``backend``."""
    return [backend.asarray(np.asarray(inputs[n]), device) for n in names]
