"""float32 means float32 in every framework: no TF32 behind the user's back on a GPU.

On Ampere and later GPUs, cuDNN convolutions (torch's default) and XLA's matmuls and
convolutions (JAX's default) run float32 inputs through TF32's 10-bit mantissa, so a "float32"
timing would compare different math. The backends switch that off when they load the framework
and record the setting with each result's facts.
"""

from __future__ import annotations

import pytest

from tensorbench.backends import get_backend


def test_torch_loads_with_tf32_off_and_says_so() -> None:
    torch = pytest.importorskip("torch")
    torch.backends.cudnn.allow_tf32 = True  # the framework's own default
    backend = type(get_backend("torch"))()  # a fresh instance loads and configures again
    assert backend.lib is torch
    assert torch.backends.cudnn.allow_tf32 is False
    assert torch.backends.cuda.matmul.allow_tf32 is False
    assert backend.facts()["tf32"] is False


def test_jax_loads_with_highest_matmul_precision_and_says_so() -> None:
    jax = pytest.importorskip("jax")
    backend = type(get_backend("jax"))()
    assert backend.lib is jax
    assert str(jax.config.jax_default_matmul_precision) == "highest"
    assert backend.facts()["matmul_precision"] == "highest"
