"""gcn_step: one training step of a 2-layer GCN: forward, cross-entropy on the training nodes,
backward, Adam update (lr 0.01, weight decay 5e-4); no dropout.

Output: ``(loss, dW1, dW2)`` of the step, validated against a float64 hand-written backward.
NumPy and CuPy use that backward (style ``manual``), PyTorch and MXNet their autograd, JAX
``jax.value_and_grad`` under ``jit``, DGL ``GraphConv`` and PyG ``GCNConv`` with their
framework's autograd and Adam. Sizes and graphs as ``gcn_forward``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import gcn as _gcn
from .base import Work, Workload


def work(scale: int, params: Mapping[str, Any]) -> Work:
    return _gcn.work(scale, params, step=True)


def _step(be, device, inputs, params):
    return _gcn.MODELS[be.name](be, device, inputs, params).step


def _step_of(model):
    return lambda be, device, inputs, params: model(be, device, inputs, params).step


WORKLOAD = Workload(
    name="gcn_step",
    description="2-layer GCN training step (forward, CE, backward, Adam)",
    size_name="scale",
    default_size=14,
    check_size=10,
    make_inputs=_gcn.make_inputs,
    reference=_gcn.step_reference,
    work=work,
    implementations={name: _step for name in _gcn.MODELS},
    other_modes={
        "compiled": {name: _step_of(m) for name, m in _gcn.COMPILED_MODELS.items()},
        "eager": {name: _step_of(m) for name, m in _gcn.EAGER_MODELS.items()},
    },
    mode_gaps=_gcn.MODE_GAPS,
    output_names=("loss", "dW1", "dW2"),
    default_params=_gcn.DEFAULTS,
)
