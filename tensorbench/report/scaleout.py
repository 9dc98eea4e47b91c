"""The report's "Scaling out" section: measured DDP steps and all-reduce sweeps, the fitted ring
model with its fit error and its prediction of the measured steps, and the projection (drawn
as one) beside published anchors. Recomputed from the results each time, never stored."""

from __future__ import annotations

import pandas as pd

from ..analysis import scaling
from ..charts.scaleout import PROJECTION_CAPTION, allreduce_chart, scaling_chart
from .content import Figure, Paragraph, Section, Table


def scaleout_section(table: pd.DataFrame) -> Section | None:
    """None where the results hold no scale-out measurement (most databases)."""
    ddp = scaling.ddp_rows(table)
    if ddp.empty:
        return None
    allreduce = scaling.allreduce_rows(table)
    fits = scaling.fits(allreduce)
    section = Section("scaling-out", "Scaling out")
    section.add(
        Paragraph(
            "DistributedDataParallel training steps launched by torchrun (gloo on CPUs, NCCL on "
            "GPUs), one thread per worker: weak scaling keeps the batch per worker, strong "
            "scaling the global batch. A step's time is the slowest rank's; its gradients were "
            "checked against the single-process float64 gradients of the global batch before "
            "it was timed. Efficiency: t(1) / t(p) (weak), t(1) / (p t(p)) (strong)."
        )
    )
    measured = scaling.measured_scaling(ddp)
    section.add(
        Table(
            [
                "machine",
                "backend",
                "model",
                "scaling",
                "workers",
                "step",
                "per second",
                "efficiency",
            ],
            [
                [
                    r.machine,
                    r.backend,
                    r.model,
                    r.scaling,
                    str(r.workers),
                    f"{r.step_s * 1e3:.3f} ms",
                    f"{r.throughput:,.0f}",
                    f"{r.efficiency:.2f}",
                ]
                for r in measured.itertuples()
            ],
            caption="Measured steps (samples or images per second of the global batch)",
        )
    )
    projected = []
    for (machine, backend, workers), fit in fits.items():
        section.add(
            Paragraph(
                f"Ring all-reduce model, {machine}, {backend}, {workers} workers: {fit.describe()}."
            )
        )
        check = scaling.prediction_check(ddp, fit, machine, backend)
        if len(check):
            section.add(
                Table(
                    [
                        "model",
                        "scaling",
                        "workers",
                        "compute",
                        "compute measured as",
                        "DDP's own work (1 worker)",
                        "predicted",
                        "measured",
                        "error",
                    ],
                    [
                        [
                            c.model,
                            c.scaling,
                            str(c.workers),
                            f"{c.compute_s * 1e3:.3f} ms",
                            c.compute_from,
                            f"{c.ddp_overhead_s * 1e3:.3f} ms",
                            f"{c.predicted_s * 1e3:.3f} ms",
                            f"{c.measured_s * 1e3:.3f} ms",
                            f"{c.error:+.1%}",
                        ]
                        for c in check.itertuples()
                    ],
                    caption="The model's prediction of each measured multi-worker step",
                )
            )
        projected.append(scaling.projection(ddp, fit, machine, backend))
        section.add(
            Figure(
                f"allreduce-{machine}-{backend}".replace(":", "-"),
                f"All-reduce on {machine} ({backend})",
                allreduce_chart(
                    allreduce[
                        (allreduce["machine"] == machine) & (allreduce["backend"] == backend)
                    ],
                    fit,
                ),
                f"{scaling.ALLREDUCE_BENCHMARK}, machine {machine}",
            )
        )
    proj = pd.concat(projected, ignore_index=True) if projected else pd.DataFrame()
    section.add(
        Figure(
            "scaling-out",
            "Scaling efficiency: measured, projected, published",
            scaling_chart(measured, proj),
            f"{scaling.DDP_BENCHMARK}; projection recomputed from the measured points",
        )
    )
    section.add(Paragraph(PROJECTION_CAPTION))
    return section
