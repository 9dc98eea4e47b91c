"""gcn_forward: inference of a 2-layer GCN (Kipf & Welling), ``Â relu(Â X W1) W2``.

Output: the logits of every node, validated against the float64 reference. Size = R-MAT scale
(64 random features, 8 classes); ``graph`` (a path) runs a real graph, with its features where
the file has them (Cora). Hidden width ``hidden`` (16). The models live in ``_gcn``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import gcn as _gcn
from .base import Work, Workload


def work(scale: int, params: Mapping[str, Any]) -> Work:
    return _gcn.work(scale, params, step=False)


def _forward(be, device, inputs, params):
    return _gcn.MODELS[be.name](be, device, inputs, params).forward


def _forward_of(model):
    return lambda be, device, inputs, params: model(be, device, inputs, params).forward


WORKLOAD = Workload(
    name="gcn_forward",
    description="2-layer GCN inference (Kipf & Welling), R-MAT or real graph",
    size_name="scale",
    default_size=14,
    check_size=10,
    make_inputs=_gcn.make_inputs,
    reference=_gcn.forward_reference,
    work=work,
    implementations={name: _forward for name in _gcn.MODELS},
    other_modes={
        "compiled": {name: _forward_of(m) for name, m in _gcn.COMPILED_MODELS.items()},
        "eager": {name: _forward_of(m) for name, m in _gcn.EAGER_MODELS.items()},
    },
    mode_gaps=_gcn.MODE_GAPS,
    output_names=("logits",),
    default_params=_gcn.DEFAULTS,
)
