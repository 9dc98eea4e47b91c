"""Validation and compute: every available CPU implementation equals the float64 reference,
and every kind of bad output is rejected, never timed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import backend_params

from tensorbench import compute
from tensorbench.backends import Skip
from tensorbench.cases import Case, ValidationError, prepare, relative_error
from tensorbench.workloads import WORKLOADS
from tensorbench.workloads import matmul as matmul_mod

ARRAY_WORKLOADS = ("matmul", "conv2d", "dispatch", "mlp_step")
CPU_BACKENDS = backend_params("numpy", "torch", "mxnet", "jax")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("workload", ARRAY_WORKLOADS)
def test_compute_matches_reference(workload: str, backend: str, dtype: str) -> None:
    wl = WORKLOADS[workload]
    size = wl.check_size
    inputs = wl.make_inputs(size, dtype, {})
    ref = wl.reference(inputs, {})
    out = compute(workload, backend, size=size, dtype=dtype)
    outs = out if isinstance(out, tuple) else (out,)
    refs = ref if isinstance(ref, tuple) else (ref,)
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs, strict=True):
        assert o.shape == np.shape(r)
        assert o.dtype == np.dtype(dtype) or o.ndim == 0
        tol = 1e-4 if dtype == "float32" else 1e-10
        assert np.linalg.norm(o - r) <= tol * max(np.linalg.norm(r), 1e-30)


def test_matmul_value_is_the_product() -> None:
    out = compute("matmul", "numpy", size=8, dtype="float64")
    inputs = WORKLOADS["matmul"].make_inputs(8, "float64", {})
    np.testing.assert_allclose(out, inputs["a"] @ inputs["b"])


def test_mlp_step_updates_weights_and_keeps_cached_inputs() -> None:
    """SGD updates must not leak into the cached inputs (later cases would validate wrongly)."""
    prepared = prepare(Case("mlp_step", "numpy", "cpu", "float64", 32))
    loss0 = float(prepared.run()[0])  # the second step, after one update in prepare
    loss1 = float(prepared.run()[0])
    assert loss1 < loss0  # training makes progress
    assert prepare(Case("mlp_step", "numpy", "cpu", "float64", 32)).rel_error < 1e-10


def test_conv2d_numpy_is_vectorised_shifted_gemm() -> None:
    from tensorbench.workloads.conv2d import shifted_gemm_conv2d

    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 5, 7))
    w = rng.standard_normal((4, 3, 3, 3))
    taps = w.transpose(2, 3, 0, 1).reshape(9, 4, 3)
    ref = WORKLOADS["conv2d"].reference({"x": x, "w": w}, {})
    np.testing.assert_allclose(shifted_gemm_conv2d(np, x, taps), ref, rtol=1e-12, atol=1e-12)


def _with_impl(monkeypatch: pytest.MonkeyPatch, impl) -> None:
    bad = dataclasses.replace(matmul_mod.WORKLOAD, implementations={"numpy": impl})
    monkeypatch.setitem(WORKLOADS, "matmul", bad)


@pytest.mark.parametrize(
    "output, message",
    [
        (lambda a, b: None, "missing"),
        (lambda a, b: np.empty((0, 0)), "shape"),
        (lambda a, b: (a @ b)[:-1], "shape"),
        (lambda a, b: np.full(a.shape, np.nan), "NaN"),
        (lambda a, b: a @ b + 1e-2, "relative error"),
        (lambda a, b: (a @ b, a), "outputs"),
    ],
)
def test_bad_outputs_raise(monkeypatch: pytest.MonkeyPatch, output, message: str) -> None:
    def impl(be, device, inputs, params):
        return lambda: output(inputs["a"], inputs["b"])

    _with_impl(monkeypatch, impl)
    with pytest.raises(ValidationError, match=message):
        prepare(Case("matmul", "numpy", "cpu", "float32", 16))


def test_empty_output_of_empty_reference_shape_is_rejected() -> None:
    with pytest.raises(ValidationError, match="empty"):
        relative_error(np.empty(0), np.empty(0))


def test_cuda_and_missing_frameworks_skip_with_reason() -> None:
    with pytest.raises(Skip, match="CUDA|cuda|not installed"):
        prepare(Case("matmul", "torch", "cuda:0"))
    assert Case("matmul", "cupy", "cpu").skip_reason()


@pytest.mark.parametrize(
    "case, message",
    [
        (Case("nope", "numpy"), "valid: matmul"),
        (Case("matmul", "nope"), "valid: numpy"),
        (Case("matmul", "numpy", "tpu"), "valid: cpu, cuda:N"),
        (Case("matmul", "numpy", "cpu", "float16"), "valid: float32, float64"),
    ],
)
def test_unknown_names_list_valid_choices(case: Case, message: str) -> None:
    with pytest.raises((KeyError, ValueError), match=message):
        case.resolve()
