"""Facts about the machine and every backend, recorded with results (no personal data)."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from typing import Any

import psutil
from threadpoolctl import threadpool_info

from . import threads
from .backends import BACKENDS


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpus() -> list[dict[str, str]]:
    """NVIDIA GPUs via nvidia-smi, without importing any framework; [] when none."""
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (subprocess.SubprocessError, OSError):
        return []
    rows = [line.split(", ") for line in out.strip().splitlines() if line.strip()]
    return [{"name": r[0], "driver": r[1], "memory": r[2]} for r in rows if len(r) == 3]


def blas_info() -> list[dict[str, Any]]:
    """BLAS/OpenMP libraries loaded in this process (threadpoolctl)."""
    keep = ("user_api", "internal_api", "version", "num_threads", "threading_layer", "architecture")
    return [
        {
            "library": os.path.basename(lib.get("filepath", "")),
            **{k: lib[k] for k in keep if lib.get(k)},
        }
        for lib in threadpool_info()
    ]


def machine() -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "arch": platform.machine(),
        "cores": psutil.cpu_count(logical=False) or psutil.cpu_count(),
        "logical_cpus": psutil.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "gpus": gpus(),
    }


def backend_facts(name: str) -> dict[str, Any]:
    be = BACKENDS[name]
    reason = be.unavailable_reason()
    if reason:
        return {"available": False, "reason": reason}
    try:
        facts = be.facts()
    except Exception as exc:  # facts are informative; a failure must not hide the backend
        facts = {"error": f"{exc.__class__.__name__}: {exc}"}
    return {"available": True, "devices": be.devices(), **facts}


def info() -> dict[str, Any]:
    """Everything `tensorbench info` prints."""
    backends = {name: backend_facts(name) for name in BACKENDS}
    threads.apply_to_loaded()
    return {
        "machine": machine(),
        "threads": threads.current_threads(),
        "blas": blas_info(),
        "backends": backends,
    }
