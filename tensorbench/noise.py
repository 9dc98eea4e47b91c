"""Was the machine quiet? A snapshot of load taken at the start and end of every run.

pyperf warns when a benchmark ran on a busy machine; asv does not. On a machine with few cores
one other busy process makes multi-threaded timings wrong by 2-100x, so every result file
records what else was running, and a run whose snapshots show another process using more than
``BUSY_SHARE`` of a core is marked busy (the dashboard greys its points out).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import psutil

BUSY_SHARE = 0.25  # another process using a quarter of a core, averaged over the window
WINDOW_S = 0.5


def _governor() -> str:
    path = Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    try:
        return path.read_text().strip()
    except OSError:
        return "unknown (no cpufreq in this system)"


def speed_probe(repeat: int = 5) -> float:
    """Seconds for a fixed single-threaded Python loop (median of ``repeat``): machine speed.

    On a virtual machine the host's load moves every figure together (the frameworks' own
    timers drifted 5-10 % between runs minutes apart here); the probe at the start and end of
    a run makes such drift visible beside the results.
    """
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        acc = 0
        for i in range(200_000):
            acc += i * i
        times.append(time.perf_counter() - t0)
    return sorted(times)[repeat // 2]


def _own_tree() -> set[int]:
    me = psutil.Process()
    pids = {me.pid}
    try:
        pids |= {p.pid for p in me.children(recursive=True)}
        pids |= {p.pid for p in me.parents()}
    except psutil.Error:
        pass
    return pids


def snapshot(window_s: float = WINDOW_S) -> dict[str, Any]:
    """Load averages, CPU frequency policy and the other processes busy during ``window_s``."""
    procs = []
    for p in psutil.process_iter(["pid", "name"]):
        try:
            p.cpu_percent(None)  # first call primes the counter
            procs.append(p)
        except psutil.Error:
            continue
    time.sleep(window_s)
    own = _own_tree()
    busy = []
    for p in procs:
        if p.pid in own:
            continue
        try:
            share = p.cpu_percent(None) / 100.0
        except psutil.Error:
            continue
        if share >= 0.05:
            busy.append({"pid": p.pid, "name": p.info["name"], "cores": round(share, 2)})
    freq = psutil.cpu_freq()
    return {
        "time": time.time(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "cores": psutil.cpu_count(),
        "governor": _governor(),
        "cpu_mhz": round(freq.current) if freq else None,
        "other_processes": sorted(busy, key=lambda b: -b["cores"]),
        "speed_probe_s": round(speed_probe(), 6),
    }


def busy_reason(*snapshots: dict[str, Any]) -> str | None:
    """Why the machine counts as busy in any of ``snapshots``, or None when it was quiet."""
    for snap in snapshots:
        heavy = [b for b in snap.get("other_processes", []) if b["cores"] >= BUSY_SHARE]
        if heavy:
            names = ", ".join(f"{b['name']} ({b['cores']:.2f} cores)" for b in heavy[:3])
            return f"other processes were busy: {names}"
    return None
