"""The DistributedDataParallel training step: models, data, the gradient check, the timed step.

Two models, both trained with mean softmax cross-entropy and plain SGD:

- ``mlp``: the mlp_step workload's network (784 -> 256, ReLU -> 10), samples are rows.
- ``convnet``: a small image model on 3 x 32 x 32 images (conv 3x3 3 -> 16, ReLU, conv 3x3
  16 -> 32 stride 2, ReLU, global average pool, linear 32 -> 10).

Scaling: *weak* keeps the batch per worker (the global batch grows with the workers);
*strong* keeps the global batch (each worker gets its share). The global batch is one seeded
array; rank r takes rows [r b, (r + 1) b). With the loss a mean over the local rows and DDP
averaging gradients over ranks, one step's gradients equal those of the whole global batch in
one process: `check_gradients` compares them with that computed in float64.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..conventions import SCALE_MODELS

MODELS = ("mlp", "convnet")
SCALINGS = ("weak", "strong")
# Batch per worker under weak scaling; the global batch under strong scaling is twice it, so
# two workers under strong scaling each run the weak batch (the 1-worker weak step is then the
# compute part of the 2-worker strong step: the projection's input).
WEAK_BATCH = {name: facts["weak_batch"] for name, facts in SCALE_MODELS.items()}
STRONG_BATCH = {name: 2 * b for name, b in WEAK_BATCH.items()}
LR = 0.01
GRAD_TOLERANCE = {"float32": 1e-4, "float64": 1e-10}


def build_model(name: str, dtype: Any) -> Any:
    """The model with seeded initial weights (the same on every rank)."""
    import torch
    from torch import nn

    torch.manual_seed(1234)
    if name == "mlp":
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    elif name == "convnet":
        model = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(32, 10),
        )
    else:
        raise ValueError(f"unknown model {name!r}: valid: {', '.join(MODELS)}")
    return model.to(dtype)


def global_batch(name: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The seeded global batch (inputs in float64, labels) of ``size`` samples."""
    rng = np.random.default_rng(20261206)
    shape = (size, 784) if name == "mlp" else (size, 3, 32, 32)
    return rng.standard_normal(shape), rng.integers(0, 10, size)


def batches(scaling: str, name: str, world: int) -> tuple[int, int]:
    """(batch per worker, global batch) of ``scaling`` at ``world`` workers."""
    if scaling == "weak":
        b = WEAK_BATCH[name]
        return b, b * world
    if scaling == "strong":
        g = STRONG_BATCH[name]
        if g % world:
            raise ValueError(f"strong scaling: global batch {g} does not split over {world}")
        return g // world, g
    raise ValueError(f"unknown scaling {scaling!r}: valid: {', '.join(SCALINGS)}")


def grad_bytes(model: Any) -> int:
    """Bytes of the gradients one step all-reduces."""
    return sum(p.numel() * p.element_size() for p in model.parameters())


def reference_gradients(name: str, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """One process, float64, the whole global batch: the gradients a step must reproduce."""
    import torch
    import torch.nn.functional as F

    model = build_model(name, torch.float64)
    loss = F.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    return [p.grad.detach().numpy().copy() for p in model.parameters()]


def check_gradients(got: list[np.ndarray], want: list[np.ndarray], dtype: str) -> float:
    """The largest relative error over the parameters (norm of the difference over the norm
    of the reference); ``ValueError`` above the dtype's tolerance: a wrong result is an error."""
    worst = 0.0
    for g, w in zip(got, want, strict=True):
        scale = max(float(np.linalg.norm(w)), 1e-30)
        worst = max(worst, float(np.linalg.norm(g.astype(np.float64) - w)) / scale)
    if not worst <= GRAD_TOLERANCE[dtype]:
        raise ValueError(
            f"the gradients after one step differ from the single-process float64 gradients "
            f"of the global batch: relative error {worst:.3g} > {GRAD_TOLERANCE[dtype]:g}"
        )
    return worst


def make_step(model: Any, x: Any, y: Any, sync: Callable[[], None]) -> Callable[[], None]:
    """One training step: forward, loss, backward (DDP all-reduces the gradients in it), SGD."""
    import torch
    import torch.nn.functional as F

    opt = torch.optim.SGD(model.parameters(), lr=LR)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
        sync()

    return step


def calibrate(step: Callable[[], None], agree: Callable[[float], float], sample_time: float) -> int:
    """Steps per sample, the same on every rank (``agree``: the maximum over ranks), so that a
    sample lasts at least ``sample_time``. Fixed counts of warm-up and probe steps: a step
    holds collectives, so every rank must run exactly as many as the others."""
    for _ in range(WARMUP_STEPS):
        step()
    start = time.perf_counter()
    for _ in range(PROBE_STEPS):
        step()
    per_call = agree((time.perf_counter() - start) / PROBE_STEPS)
    return max(1, math.ceil(sample_time / per_call))


WARMUP_STEPS = 3
PROBE_STEPS = 5
