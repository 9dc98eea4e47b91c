"""mlp_step: one SGD training step of a 2-layer MLP (batch x 784 -> 256, ReLU -> 10 classes).

Forward, softmax cross-entropy (mean over the batch), gradients of all weights, SGD update in
place. Output: (loss, dW1, db1, dW2, db2) of the step, validated against a float64 hand-derived
backward. PyTorch and MXNet use their autograd, JAX ``jax.value_and_grad`` under ``jit``;
NumPy and CuPy a hand-written backward (style ``manual``). Size = batch.

Modes: the above is native (JAX jit-compiled, the rest eager); compiled PyTorch runs the loss
through ``torch.compile`` (AOTAutograd compiles forward and backward; the SGD update stays
eager), hybridized MXNet the loss as one cached graph under autograd, eager JAX the same
``value_and_grad`` un-jitted. Traffic: the batch read, the weights read and written, the
gradients written (intermediates are not compulsory traffic).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import Inputs, Work, Workload, rng_for, to_device

D_IN, HIDDEN, CLASSES, LR = 784, 256, 10, 0.01
PARAMS = ("w1", "b1", "w2", "b2")


def make_inputs(batch: int, dtype: str, params: Mapping[str, Any]) -> Inputs:
    rng = rng_for("mlp_step", batch, params.get("seed", 0))
    return {
        "x": rng.standard_normal((batch, D_IN)).astype(dtype),
        "y": rng.integers(0, CLASSES, batch).astype(np.int64),
        "w1": (rng.standard_normal((D_IN, HIDDEN)) / np.sqrt(D_IN)).astype(dtype),
        "b1": (0.1 * rng.standard_normal(HIDDEN)).astype(dtype),
        "w2": (rng.standard_normal((HIDDEN, CLASSES)) / np.sqrt(HIDDEN)).astype(dtype),
        "b2": (0.1 * rng.standard_normal(CLASSES)).astype(dtype),
    }


def manual_step(xp: Any, x: Any, onehot: Any, w1: Any, b1: Any, w2: Any, b2: Any) -> tuple:
    """Forward + hand-written backward for NumPy-like ``xp``; returns (loss, dW1, db1, dW2, db2)."""
    h = x @ w1 + b1
    a = xp.maximum(h, 0)
    logits = a @ w2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
    batch = x.shape[0]
    loss = -(logp * onehot).sum() / batch
    dlogits = (xp.exp(logp) - onehot) / batch
    dw2 = a.T @ dlogits
    db2 = dlogits.sum(axis=0)
    dh = (dlogits @ w2.T) * (h > 0)
    dw1 = x.T @ dh
    db1 = dh.sum(axis=0)
    return loss, dw1, db1, dw2, db2


def reference(inputs: Inputs, params: Mapping[str, Any]) -> tuple:
    f64 = {k: np.asarray(inputs[k], dtype=np.float64) for k in ("x", *PARAMS)}
    onehot = np.eye(CLASSES)[inputs["y"]]
    return manual_step(np, f64["x"], onehot, *(f64[k] for k in PARAMS))


def work(batch: int, params: Mapping[str, Any]) -> Work:
    forward = 2.0 * batch * (D_IN * HIDDEN + HIDDEN * CLASSES)
    backward = 2.0 * batch * (D_IN * HIDDEN + 2 * HIDDEN * CLASSES)  # no gradient w.r.t. x
    weights = D_IN * HIDDEN + HIDDEN + HIDDEN * CLASSES + CLASSES
    return Work(flops=forward + backward, words=float(batch * (D_IN + 1) + 3 * weights))


def _manual(be, device, inputs, params):
    x, w1, b1, w2, b2 = to_device(be, device, inputs, "x", *PARAMS)
    xp = np if be.name == "numpy" else be.lib
    (onehot,) = to_device(
        be, device, {"o": np.eye(CLASSES, dtype=inputs["x"].dtype)[inputs["y"]]}, "o"
    )
    weights = (w1, b1, w2, b2)

    def step():
        out = manual_step(xp, x, onehot, *weights)
        for w, g in zip(weights, out[1:], strict=True):
            w -= LR * g
        return out

    return step


def _torch(be, device, inputs, params):
    torch = be.lib
    F = torch.nn.functional
    x, y, *weights = to_device(be, device, inputs, "x", "y", *PARAMS)
    for w in weights:
        w.requires_grad_(True)
    w1, b1, w2, b2 = weights

    def step():
        loss = F.cross_entropy(F.relu(x @ w1 + b1) @ w2 + b2, y)
        grads = torch.autograd.grad(loss, weights)
        with torch.no_grad():
            for w, g in zip(weights, grads, strict=True):
                w.sub_(LR * g)
        return (loss.detach(), *grads)

    return step


def _mxnet(be, device, inputs, params):
    mx = be.lib
    np_, npx, autograd = mx.np, mx.npx, mx.autograd
    x, y, *weights = to_device(be, device, inputs, "x", "y", *PARAMS)
    for w in weights:
        w.attach_grad()
    w1, b1, w2, b2 = weights

    def step():
        with autograd.record():
            logits = np_.dot(npx.relu(np_.dot(x, w1) + b1), w2) + b2
            loss = -npx.pick(npx.log_softmax(logits), y).mean()
        loss.backward()
        grads = tuple(w.grad.copy() for w in weights)  # .grad is overwritten by the next step
        for w, g in zip(weights, grads, strict=True):
            w -= LR * g
        return (loss, *grads)

    return step


def _paddle_loss(paddle: Any) -> Any:
    F = paddle.nn.functional

    def loss(x, y, w1, b1, w2, b2):
        # cross_entropy takes the logits (softmax inside) and class indices; mean over the batch
        return F.cross_entropy(F.relu(x @ w1 + b1) @ w2 + b2, y)

    return loss


def _paddle_step(be, device, inputs, loss_fn):
    paddle = be.lib
    x, y, *weights = to_device(be, device, inputs, "x", "y", *PARAMS)
    for w in weights:
        w.stop_gradient = False

    def step():
        loss = loss_fn(x, y, *weights)
        grads = paddle.grad(loss, weights)
        with paddle.no_grad():
            for w, g in zip(weights, grads, strict=True):
                w.subtract_(LR * g)
        return (loss.detach(), *grads)

    return step


def _paddle(be, device, inputs, params):
    return _paddle_step(be, device, inputs, _paddle_loss(be.lib))


def _paddle_static(be, device, inputs, params):
    # the loss (forward and its backward) as one static program; the SGD update stays eager
    loss = be.lib.jit.to_static(_paddle_loss(be.lib), full_graph=True)
    return _paddle_step(be, device, inputs, loss)


def _jax(be, device, inputs, params):
    jax = be.lib
    jnp = jax.numpy
    x, y, *weights = to_device(be, device, inputs, "x", "y", *PARAMS)

    def loss_fn(ws, x, y):
        w1, b1, w2, b2 = ws
        logp = jax.nn.log_softmax(jax.nn.relu(x @ w1 + b1) @ w2 + b2)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    @jax.jit
    def train_step(ws, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(ws, x, y)
        return loss, grads, tuple(w - LR * g for w, g in zip(ws, grads, strict=True))

    state = {"w": tuple(weights)}

    def step():
        loss, grads, state["w"] = train_step(state["w"], x, y)
        return (loss, *grads)

    return step


def _torch_compiled(be, device, inputs, params):
    torch = be.lib
    F = torch.nn.functional
    x, y, *weights = to_device(be, device, inputs, "x", "y", *PARAMS)
    for w in weights:
        w.requires_grad_(True)
    loss_fn = torch.compile(
        lambda x, y, w1, b1, w2, b2: F.cross_entropy(F.relu(x @ w1 + b1) @ w2 + b2, y)
    )

    def step():
        loss = loss_fn(x, y, *weights)
        grads = torch.autograd.grad(loss, weights)
        with torch.no_grad():
            for w, g in zip(weights, grads, strict=True):
                w.sub_(LR * g)
        return (loss.detach(), *grads)

    return step


def _mxnet_hybrid(be, device, inputs, params):
    mx = be.lib
    x, y, *weights = to_device(be, device, inputs, "x", "y", *PARAMS)
    for w in weights:
        w.attach_grad()

    def loss_fn(np_, npx, x, y, w1, b1, w2, b2):
        logits = np_.dot(npx.relu(np_.dot(x, w1) + b1), w2) + b2
        return -npx.pick(npx.log_softmax(logits), y).mean()

    loss_block = be.hybridize(loss_fn)

    def step():
        with mx.autograd.record():
            loss = loss_block(x, y, *weights)
        loss.backward()
        grads = tuple(w.grad.copy() for w in weights)
        for w, g in zip(weights, grads, strict=True):
            w -= LR * g
        return (loss, *grads)

    return step


def _jax_eager(be, device, inputs, params):
    jax = be.lib
    jnp = jax.numpy
    x, y, *weights = to_device(be, device, inputs, "x", "y", *PARAMS)

    def loss_fn(ws, x, y):
        w1, b1, w2, b2 = ws
        logp = jax.nn.log_softmax(jax.nn.relu(x @ w1 + b1) @ w2 + b2)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    grad_fn = jax.value_and_grad(loss_fn)
    state = {"w": tuple(weights)}

    def step():
        loss, grads = grad_fn(state["w"], x, y)
        state["w"] = tuple(w - LR * g for w, g in zip(state["w"], grads, strict=True))
        return (loss, *grads)

    return step


WORKLOAD = Workload(
    name="mlp_step",
    description="2-layer MLP training step (784-256-10, softmax CE, SGD)",
    size_name="batch",
    default_size=256,
    check_size=64,
    make_inputs=make_inputs,
    reference=reference,
    work=work,
    implementations={
        "numpy": _manual,
        "torch": _torch,
        "mxnet": _mxnet,
        "cupy": _manual,
        "jax": _jax,
        "paddle": _paddle,
    },
    output_names=("loss", "dW1", "db1", "dW2", "db2"),
    other_modes={
        "compiled": {"torch": _torch_compiled, "mxnet": _mxnet_hybrid, "paddle": _paddle_static},
        "eager": {"jax": _jax_eager},
    },
)
