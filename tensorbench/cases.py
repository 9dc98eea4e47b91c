"""A case = workload x backend x device x dtype x size (x mode). Preparing one validates it.

``prepare`` resolves every name, skips with a reason what cannot run here, builds the
backend's callable outside any timed region, runs it once and checks the output against the
float64 reference. Only a validated case can be timed: a wrong result raises, it is never timed.
``mode`` (``eager`` or ``compiled``; None: the backend's native mode, what the original
benchmarks time) picks the implementation; a compiled case is validated like any other, and
a compiler that fails is a skip naming its first error line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from . import threads
from .backends import BACKENDS, Backend, Skip, get_backend, parse_device
from .conventions import MODES
from .timing import Timing, measure_call
from .workloads import WORKLOADS, Work, Workload, get_workload


class ValidationError(AssertionError):
    """An implementation's output is missing, malformed or too far from the reference."""


@dataclass(frozen=True)
class Case:
    workload: str
    backend: str
    device: str = "cpu"
    dtype: str = "float32"
    size: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    mode: str | None = None  # eager | compiled; None: the backend's native mode

    def resolve(self) -> tuple[Workload, Backend, int]:
        """Look up names; ``KeyError``/``ValueError`` name the valid choices."""
        wl = get_workload(self.workload)
        be = get_backend(self.backend)
        parse_device(self.device)
        if self.dtype not in wl.dtypes:
            raise ValueError(
                f"unknown dtype {self.dtype!r} for {wl.name} (valid: {', '.join(wl.dtypes)})"
            )
        if self.size is not None and (isinstance(self.size, bool) or self.size < 1):
            raise ValueError(f"{wl.size_name} must be >= 1 for {wl.name}, got {self.size}")
        if self.mode is not None and self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r} (valid: {', '.join(MODES)})")
        return wl, be, self.size if self.size is not None else wl.default_size

    def skip_reason(self) -> str | None:
        """Why this case cannot run here, or None. Does not import anything heavy for names."""
        wl, be, _ = self.resolve()
        if self.backend not in wl.implementations:
            return f"{self.backend} has no {self.workload} implementation"
        if self.mode is not None:
            reason = wl.mode_reason(self.backend, self.mode, be.compiler)
            if reason:
                return reason
        kind, _ = parse_device(self.device)
        if kind not in wl.devices:
            return f"{self.workload} runs on {' and '.join(wl.devices)} devices only"
        return be.device_reason(self.device)

    def label(self) -> str:
        wl, _, size = self.resolve()
        graph = self.params.get("graph")
        where = f"graph={Path(graph).name}" if graph else f"{wl.size_name}={size}"
        mode = f", {self.mode}" if self.mode else ""
        return f"{self.workload}[{self.backend}:{self.device}, {self.dtype}, {where}{mode}]"

    def resolved_mode(self) -> str:
        """The mode this case runs in (its native one where ``mode`` is None)."""
        return self.mode or get_workload(self.workload).native_mode(self.backend)


@dataclass
class PreparedCase:
    """A validated case, ready to time: ``run()`` is one call, synchronised."""

    case: Case
    workload: Workload
    backend: Backend
    size: int
    fn: Any
    rel_error: float
    first_call_s: float  # includes trace + compile (compiled mode) and lazy initialisation
    params: Mapping[str, Any]
    output: tuple[np.ndarray, ...]  # the validated first call's output, on the host

    @property
    def mode(self) -> str:
        return self.case.resolved_mode()

    def run(self) -> Any:
        result = self.fn()
        self.sync(result)
        return result

    def sync(self, result: Any) -> None:
        self.backend.synchronize(self.case.device, result)

    @property
    def timed_call(self) -> Callable[[], Any]:
        """The thinnest synced callable for a timer: ``fn`` itself where the backend's sync is
        a no-op on this device (NumPy, torch on the CPU), else ``run``."""
        return self.run if self.backend.synchronizes(self.case.device) else self.fn

    def work(self) -> Work:
        return self.workload.work(self.size, self.params)

    def time(self, **kwargs: Any) -> Timing:
        return measure_call(self.timed_call, **kwargs)


@lru_cache(maxsize=8)
def _inputs(workload: str, size: int, dtype: str, params_key: tuple) -> tuple[dict, Any]:
    """Inputs and reference, cached by value; callers must not mutate them."""
    wl = get_workload(workload)
    params = dict(params_key)
    inputs = wl.make_inputs(size, dtype, params)
    return inputs, wl.reference(inputs, params)


def _components(out: Any) -> tuple:
    return out if isinstance(out, tuple | list) else (out,)


def relative_error(out: Any, ref: Any, names: tuple[str, ...] = ("out",)) -> float:
    """max over components of ||out - ref|| / ||ref||; raises ValidationError on bad output."""
    outs, refs = _components(out), _components(ref)
    if len(outs) != len(refs):
        raise ValidationError(f"expected {len(refs)} outputs {names}, got {len(outs)}")
    worst = 0.0
    for name, o, r in zip(names, outs, refs, strict=True):
        if o is None:
            raise ValidationError(f"output {name!r} is missing (None)")
        o = np.asarray(o, dtype=np.float64)
        r = np.asarray(r, dtype=np.float64)
        if o.shape != r.shape:
            raise ValidationError(f"output {name!r} has shape {o.shape}, expected {r.shape}")
        if o.size == 0:
            raise ValidationError(f"output {name!r} is empty")
        if not np.all(np.isfinite(o)):
            raise ValidationError(f"output {name!r} contains NaN or inf")
        denom = np.linalg.norm(r)
        err = np.linalg.norm(o - r) / (denom if denom > 0 else 1.0)
        worst = max(worst, float(err))
    return worst


def _first_line(exc: BaseException) -> str:
    """The first non-empty line of an error (compilers print pages), with its type."""
    text = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or "out of memory" in str(exc).lower()


def _is_too_big(exc: BaseException) -> bool:
    """An allocation larger than memory (MemoryError) or than numpy can address (ValueError)."""
    text = str(exc).lower()
    return _is_oom(exc) or "array is too big" in text or "maximum allowed dimension" in text


def _one_blas_thread() -> threadpool_limits:
    """The float64 reference and the error norms run on one BLAS thread.

    A threaded BLAS call leaves OpenBLAS's workers busy-waiting for about 0.1 s; on a machine
    with few cores they would take a core from the framework timed next (torch's OpenMP worker
    then waits a scheduler tick: milliseconds added to a microsecond call). On exit the
    previous limits (the suite's thread setting) are restored.
    """
    return threadpool_limits(limits=1, user_api="blas")


def prepare(case: Case) -> PreparedCase:
    """Build and validate ``case``. Raises ``Skip`` (with reason) or ``ValidationError``."""
    wl, be, size = case.resolve()
    reason = case.skip_reason()
    if reason:
        raise Skip(reason)
    params = {**wl.default_params, **case.params}
    try:
        with _one_blas_thread():
            inputs, ref = _inputs(wl.name, size, case.dtype, tuple(sorted(params.items())))
    except (MemoryError, ValueError) as exc:  # numpy refuses an allocation beyond the machine
        if not _is_too_big(exc):
            raise
        raise Skip(f"out of memory making inputs at size {size}: {exc}") from None
    be.load()  # import now, then give its thread pools the suite's setting
    factory = wl.factory(be.name, case.mode)
    try:
        fn = factory(be, case.device, inputs, params)
        t0 = time.perf_counter()
        out = fn()
        be.synchronize(case.device, out)
        first = time.perf_counter() - t0
        host = tuple(None if o is None else be.to_numpy(o) for o in _components(out))
    except Exception as exc:
        if _is_oom(exc):
            raise Skip(f"out of memory at size {size}: {str(exc).splitlines()[0]}") from exc
        if case.mode == "compiled" and not isinstance(exc, Skip):
            raise Skip(f"{be.compiler or be.name} failed: {_first_line(exc)}") from exc
        raise
    with _one_blas_thread():
        err = relative_error(host, ref, wl.output_names)
    tol = wl.tolerance[case.dtype]
    if not err <= tol:
        raise ValidationError(f"{case.label()}: relative error {err:.3g} exceeds {tol:g}")
    threads.wait_until_quiet()  # nothing left spinning from validation when timing starts
    return PreparedCase(case, wl, be, size, fn, err, first, params, host)


def compute(workload: str, backend: str, device: str = "cpu", **params: Any) -> Any:
    """Run ``workload`` once on ``backend`` and return its validated output as NumPy.

    ``size`` (or the workload's size name, e.g. ``scale``) and ``dtype`` are taken from
    ``params`` (defaults: the workload's default size, float32); every other keyword is a
    workload parameter. Multi-output workloads (mlp_step) return a tuple of arrays.
    """
    size = params.pop("size", None)
    size_name = get_workload(workload).size_name  # graphs: scale=S means size=S
    if size is None and size_name in params:
        size = params.pop(size_name)
    dtype = params.pop("dtype", "float32")
    out = prepare(Case(workload, backend, device, dtype, size, params)).output
    return out[0] if len(out) == 1 else out


def all_cases(devices: tuple[str, ...] = ("cpu", "cuda:0"), mode: str | None = None) -> list[Case]:
    """Every workload x backend x device x dtype at the workloads' check sizes (in ``mode``)."""
    return [
        Case(wl.name, be, dev, dt, wl.check_size, mode=mode)
        for wl in WORKLOADS.values()
        for be in BACKENDS
        for dev in devices
        for dt in wl.dtypes
    ]
