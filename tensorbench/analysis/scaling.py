"""Scale-out figures from measured step times and all-reduce times; the projection beyond them.

Pure NumPy/SciPy (no framework): the CLI, the dashboard and the report compute the same
figures from the results database, and the projection is recomputed each time, never stored.

- Efficiency: weak scaling (fixed batch per worker) ``t(1) / t(p)``; strong scaling (fixed
  global batch) ``t(1) / (p t(p))``. Throughput: global batch / step time.
- All-reduce, as nccl-tests defines it: algorithm bandwidth ``S / t``; bus bandwidth
  ``algbw * 2 (p - 1) / p`` (what each link carries in a ring all-reduce).
- The alpha-beta model of a ring all-reduce of S bytes over p workers:
  ``t = 2 (p - 1) alpha + 2 (p - 1) / p * S * beta`` (2(p - 1) steps, each a message of S/p
  bytes: alpha the per-message latency, beta the per-byte cost). Fitted to the measured sweep
  by non-negative least squares on the relative error (small messages count as much as large
  ones); its fit error is stated with it.
- The projected step at p workers: the measured compute time of one worker's batch plus the
  model's all-reduce of the gradients, in DDP's buckets (1 MiB first, then 25 MiB), with no
  overlap of communication and backward. Assumptions (said in every caption): the fitted
  link's alpha and beta hold at every p (a real cluster's network differs from this machine's
  loopback), compute per sample is constant (strong scaling divides one worker's step by p),
  no overlap (DDP overlaps buckets with backward, so real steps can be faster).
- The check of a measured p-worker step (`prediction_check`): the compute measured at that
  world size in lockstep (DDP's ``no_sync`` with a barrier after each step, less a barrier
  alone), plus DDP's own work outside the all-reduce measured at one worker (its step less its
  ``no_sync`` step), plus the model's all-reduce. In lockstep every step waits for the slowest rank, as a
  DDP step does at its all-reduce; a free-running compute misses that wait.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..conventions import (
    ALLREDUCE_BENCHMARK,
    DDP_BENCHMARK,
    DDP_COMPUTE_BENCHMARK,
    DDP_LOCKSTEP_BENCHMARK,
    SCALE_MODELS,
)

FIRST_BUCKET_BYTES = 1 << 20  # torch.distributed's _DEFAULT_FIRST_BUCKET_BYTES
BUCKET_BYTES = 25 << 20  # DistributedDataParallel's bucket_cap_mb default
PROJECTED_WORKERS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
# Published anchors, drawn as labelled points, never as measurements of this project.
ANCHORS = (
    {
        "label": "MXNet / DeepNumPy claim: 1 GPU 230 images/s, 256 GPUs 60,000 images/s",
        "workers": 256,
        "efficiency": 60_000 / (256 * 230),
        "source": "MXNet / DeepNumPy (2019)",
    },
    {
        "label": "Goyal et al. 2017: ~90 % scaling efficiency from 8 to 256 GPUs (ResNet-50)",
        "workers": 256,
        "efficiency": 0.90,
        "source": "Goyal et al., Accurate, Large Minibatch SGD (2017)",
    },
)


@dataclass(frozen=True)
class AlphaBeta:
    """A fitted ring all-reduce model and how well it fits the sweep it came from."""

    alpha: float  # seconds per message step
    beta: float  # seconds per byte
    world: int  # the workers of the sweep
    points: int
    rms_rel_error: float
    max_rel_error: float

    def seconds(self, nbytes: float, workers: int) -> float:
        """A ring all-reduce of ``nbytes`` over ``workers`` (0 for one worker)."""
        return ring_seconds(self.alpha, self.beta, nbytes, workers)

    def describe(self) -> str:
        return (
            f"alpha {self.alpha * 1e6:.1f} us, beta {self.beta * 1e9:.3f} ns/byte "
            f"({1 / self.beta / 1e9 if self.beta > 0 else math.inf:.2f} GB/s); fit over "
            f"{self.points} sizes at {self.world} workers: RMS error {self.rms_rel_error:.1%}, "
            f"max {self.max_rel_error:.1%}"
        )


def ring_seconds(alpha: float, beta: float, nbytes: float, workers: int) -> float:
    if workers <= 1:
        return 0.0
    return 2 * (workers - 1) * alpha + 2 * (workers - 1) / workers * nbytes * beta


def bus_bandwidth(nbytes: float, seconds: float, workers: int) -> float:
    """nccl-tests' bus bandwidth of an all-reduce (bytes/s)."""
    return nbytes / seconds * 2 * (workers - 1) / workers


def fit_alpha_beta(sizes: Sequence[float], seconds: Sequence[float], workers: int) -> AlphaBeta:
    """`AlphaBeta` fitted to all-reduce times of ``sizes`` bytes at ``workers`` (>= 2)."""
    from scipy.optimize import nnls  # here: scipy costs every command's import otherwise

    s = np.asarray(sizes, dtype=float)
    t = np.asarray(seconds, dtype=float)
    if workers < 2:
        raise ValueError("an all-reduce model needs at least 2 workers")
    ok = np.isfinite(s) & np.isfinite(t) & (t > 0) & (s > 0)
    s, t = s[ok], t[ok]
    if s.size < 2:
        raise ValueError(f"an all-reduce model needs 2 or more sizes, got {s.size}")
    design = np.column_stack([np.full_like(s, 2 * (workers - 1)), 2 * (workers - 1) / workers * s])
    coef, _ = nnls(design / t[:, None], np.ones_like(t))
    rel = design @ coef / t - 1
    return AlphaBeta(
        float(coef[0]),
        float(coef[1]),
        workers,
        int(s.size),
        float(np.sqrt(np.mean(rel**2))),
        float(np.max(np.abs(rel))),
    )


def buckets(grad_bytes: float) -> list[float]:
    """DDP's gradient buckets: the first up to 1 MiB, then 25 MiB each."""
    if grad_bytes <= FIRST_BUCKET_BYTES:
        return [float(grad_bytes)]
    rest = grad_bytes - FIRST_BUCKET_BYTES
    full, last = divmod(rest, BUCKET_BYTES)
    return (
        [float(FIRST_BUCKET_BYTES)] + [float(BUCKET_BYTES)] * int(full) + ([last] if last else [])
    )


def grad_bytes(model: str, itemsize: int = 4) -> int:
    return SCALE_MODELS[model]["parameters"] * itemsize


def predicted_step(compute_s: float, nbytes: float, fit: AlphaBeta, workers: int) -> float:
    """One worker's compute plus the all-reduce of its gradients, bucket by bucket."""
    return compute_s + sum(fit.seconds(b, workers) for b in buckets(nbytes))


def efficiency(scaling: str, t1: float, tp: float, workers: int) -> float:
    return t1 / tp if scaling == "weak" else t1 / (workers * tp)


# -- from the results table --------------------------------------------------------------------


_DDP_PARAMS = {"backend": str, "model": str, "scaling": str, "workers": int, "threads": int}
_DDP_KEY = ["machine", *_DDP_PARAMS]


def ddp_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Measured DDP steps: machine, env, commit, commit_order, backend, model, scaling,
    workers, threads, step_s, compute_s (the same step under DDP's no_sync) and lockstep_s (the
    same in lockstep: with each step's wait for the slowest rank), NaN where not recorded; the
    newest commit's value per point and machine."""
    steps = _series(table, DDP_BENCHMARK, _DDP_PARAMS, "step_s")
    parts = {"compute_s": DDP_COMPUTE_BENCHMARK, "lockstep_s": DDP_LOCKSTEP_BENCHMARK}
    if steps.empty:
        return steps.assign(**{c: pd.Series(dtype=float) for c in parts})
    for column, bench in parts.items():
        part = _series(table, bench, _DDP_PARAMS, column)
        if part.empty:  # older results: no such series
            steps = steps.assign(**{column: math.nan})
        else:
            steps = steps.merge(part[[*_DDP_KEY, column]], on=_DDP_KEY, how="left")
    return steps


def _series(
    table: pd.DataFrame, benchmark: str, params: dict[str, type], column: str
) -> pd.DataFrame:
    """One scale-out benchmark's ok rows: where they come from, ``params`` (name -> type) and
    the value as ``column``; the newest commit's row per machine and parameters."""
    cols = ["machine", "env", "commit", "commit_order", *params, column]
    rows = table[(table["benchmark"] == benchmark) & (table["status"] == "ok")]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    p = rows["params"]
    out = pd.DataFrame(
        {
            "machine": rows["machine"].astype(str).to_numpy(),
            "env": rows["env"].astype(str).to_numpy(),
            "commit": rows["commit"].astype(str).to_numpy(),
            "commit_order": rows["commit_order"].to_numpy(),
            **{name: [kind(d.get(name)) for d in p] for name, kind in params.items()},
            column: rows["value"].to_numpy(dtype=float),
        }
    )
    return _newest(out, ["machine", *params])


def allreduce_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Measured all-reduce times: machine, env, backend, bytes, workers, seconds, algbw, busbw."""
    params = {"backend": str, "bytes": int, "workers": int}
    out = _series(table, ALLREDUCE_BENCHMARK, params, "seconds")
    if out.empty:
        return out.assign(algbw=pd.Series(dtype=float), busbw=pd.Series(dtype=float))
    out["algbw"] = out["bytes"] / out["seconds"]
    out["busbw"] = [
        bus_bandwidth(b, s, w)
        for b, s, w in zip(out["bytes"], out["seconds"], out["workers"], strict=True)
    ]
    return out


def _newest(df: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    df = df.sort_values("commit_order", kind="stable")
    return df.drop_duplicates(key, keep="last").reset_index(drop=True)


# -- the figures ---------------------------------------------------------------------------------


def measured_scaling(ddp: pd.DataFrame) -> pd.DataFrame:
    """Per machine, backend, model, scaling and workers: step time, throughput (samples/s of
    the global batch) and efficiency against that machine's one-worker step."""
    out = []
    for (machine, backend, model, scaling), g in ddp.groupby(
        ["machine", "backend", "model", "scaling"], sort=True
    ):
        one = g[g["workers"] == 1]["step_s"]
        t1 = float(one.iloc[0]) if len(one) else math.nan
        weak = SCALE_MODELS[model]["weak_batch"]
        for r in g.itertuples():
            global_batch = weak * r.workers if scaling == "weak" else 2 * weak
            out.append(
                {
                    "machine": machine,
                    "backend": backend,
                    "model": model,
                    "scaling": scaling,
                    "workers": int(r.workers),
                    "step_s": float(r.step_s),
                    "throughput": global_batch / float(r.step_s),
                    "efficiency": efficiency(scaling, t1, float(r.step_s), int(r.workers)),
                    "kind": "measured",
                }
            )
    return pd.DataFrame(out)


def fits(allreduce: pd.DataFrame) -> dict[tuple[str, str, int], AlphaBeta]:
    """One alpha-beta fit per machine, backend and worker count of the sweep."""
    out = {}
    for (machine, backend, workers), g in allreduce.groupby(["machine", "backend", "workers"]):
        if int(workers) >= 2 and len(g) >= 2:
            out[(machine, backend, int(workers))] = fit_alpha_beta(
                g["bytes"], g["seconds"], int(workers)
            )
    return out


def _one_worker(
    ddp: pd.DataFrame, machine: str, backend: str, model: str, batch: int
) -> pd.DataFrame:
    """The one-worker rows of ``batch`` samples (weak scaling's batch or strong's)."""
    weak = SCALE_MODELS[model]["weak_batch"]
    scaling = "weak" if batch == weak else "strong" if batch == 2 * weak else None
    return ddp[
        (ddp["machine"] == machine)
        & (ddp["backend"] == backend)
        & (ddp["model"] == model)
        & (ddp["scaling"] == scaling)
        & (ddp["workers"] == 1)
    ]


def compute_time(ddp: pd.DataFrame, machine: str, backend: str, model: str, batch: int) -> float:
    """The measured one-worker step of ``batch`` samples (weak scaling's batch or strong's)."""
    rows = _one_worker(ddp, machine, backend, model, batch)
    return float(rows["step_s"].iloc[0]) if len(rows) else math.nan


def ddp_overhead(ddp: pd.DataFrame, machine: str, backend: str, model: str, batch: int) -> float:
    """DDP's own work per step outside the all-reduce's transfer (its autograd hooks, copying
    gradients into the bucket and back, averaging them), measured at one worker, where the
    all-reduce moves nothing: the DDP step less the same step under ``no_sync`` (lockstep where
    recorded). Every worker does it alike, whatever the world size; NaN where not measured."""
    rows = _one_worker(ddp, machine, backend, model, batch)
    if not len(rows):
        return math.nan
    row = rows.iloc[0]
    plain = float(row.get("lockstep_s", math.nan))
    if not math.isfinite(plain):
        plain = float(row.get("compute_s", math.nan))
    return float(row["step_s"]) - plain


def projection(
    ddp: pd.DataFrame,
    fit: AlphaBeta,
    machine: str,
    backend: str,
    workers: Iterable[int] = PROJECTED_WORKERS,
) -> pd.DataFrame:
    """Projected step time, throughput and efficiency per model and scaling (see the module
    docstring's assumptions); the one-worker point is the measured step."""
    out = []
    for model, facts in SCALE_MODELS.items():
        weak = facts["weak_batch"]
        nbytes = grad_bytes(model)
        for scaling in ("weak", "strong"):
            t1 = compute_time(ddp, machine, backend, model, weak if scaling == "weak" else 2 * weak)
            if not math.isfinite(t1):
                continue
            for p in workers:
                compute = t1 if scaling == "weak" else t1 / p
                tp = predicted_step(compute, nbytes, fit, p)
                global_batch = weak * p if scaling == "weak" else 2 * weak
                out.append(
                    {
                        "machine": machine,
                        "backend": backend,
                        "model": model,
                        "scaling": scaling,
                        "workers": p,
                        "step_s": tp,
                        "throughput": global_batch / tp,
                        "efficiency": efficiency(scaling, t1, tp, p),
                        "kind": "projected",
                    }
                )
    return pd.DataFrame(out)


def prediction_check(ddp: pd.DataFrame, fit: AlphaBeta, machine: str, backend: str) -> pd.DataFrame:
    """The model's prediction of each measured multi-worker step beside the measurement, and
    the relative error. The compute part is the same step measured under DDP's no_sync at the
    same world size in lockstep (a barrier after each step, less a barrier alone: the workers
    computing side by side and each step waiting for the slowest, as a DDP step's all-reduce
    makes it), else free-running, else one worker's step of the same batch per worker; the
    model adds DDP's own work outside the all-reduce (`ddp_overhead`, 0 where not measured)
    and the all-reduce of the gradients."""
    out = []
    for r in ddp[(ddp["machine"] == machine) & (ddp["backend"] == backend)].itertuples():
        if r.workers < 2:
            continue
        weak = SCALE_MODELS[r.model]["weak_batch"]
        per_worker = weak if r.scaling == "weak" else 2 * weak // r.workers
        compute = float(getattr(r, "lockstep_s", math.nan))
        source = "no_sync in lockstep, same workers"
        if not math.isfinite(compute):
            compute = float(getattr(r, "compute_s", math.nan))
            source = "no_sync, same workers"
        if not math.isfinite(compute):
            compute = compute_time(ddp, machine, backend, r.model, per_worker)
            source = "1 worker"
        if not math.isfinite(compute):
            continue
        overhead = ddp_overhead(ddp, machine, backend, r.model, per_worker)
        overhead = overhead if math.isfinite(overhead) else 0.0
        predicted = predicted_step(compute + overhead, grad_bytes(r.model), fit, int(r.workers))
        out.append(
            {
                "model": r.model,
                "scaling": r.scaling,
                "workers": int(r.workers),
                "measured_s": float(r.step_s),
                "compute_s": compute,
                "compute_from": source,
                "ddp_overhead_s": overhead,
                "predicted_s": predicted,
                "error": predicted / float(r.step_s) - 1,
            }
        )
    return pd.DataFrame(out)
