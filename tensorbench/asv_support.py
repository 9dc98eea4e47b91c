"""The one entry point of benchmarks/ into the package; the code is in `tensorbench.asv.points`.

It stays at this path, and keeps these names, because asv runs today's benchmarks/ against
every historic commit it builds: those commits' packages have this module and nothing newer,
so benchmarks/ imports nothing else of the package, and looks up with ``getattr`` (skipping
with the reason) what an older commit's package lacks. Inside the package only the scripts
that run against another checkout's package import it, for the same reason: the paired
workers (`tensorbench.asv.worker`) and the instruction counter (`tensorbench.asv.instructions`).
"""

from __future__ import annotations

from .asv.instructioncounts import instruction_count
from .asv.points import (
    audit_after,
    claim_figure,
    compile_seconds,
    gcn_test_accuracy,
    gpu_peak_bytes,
    grid_params,
    peak_gbps,
    peak_gflops,
    setup_case,
    skip,
)
from .asv.scaleout import scaleout_value
from .timing import ROUNDS, calibrate, hold_outputs

__all__ = [
    "ROUNDS",
    "audit_after",
    "calibrate",
    "claim_figure",
    "compile_seconds",
    "gcn_test_accuracy",
    "gpu_peak_bytes",
    "grid_params",
    "hold_outputs",
    "instruction_count",
    "peak_gbps",
    "peak_gflops",
    "scaleout_value",
    "setup_case",
    "skip",
]
