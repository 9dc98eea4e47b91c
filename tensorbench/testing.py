"""A synthetic asv results database shaped like tensorbench's own, with a known regression.

The one writer of synthetic results: the test fixtures (tests/conftest.py), the dashboard
load benchmark and the regression-detector evaluation start from it. Times follow each
workload's work model at plausible (not measured) speeds, so rates and speedups are known.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .analysis.asvformat import _literal, _workload_name
from .paths import param_key

# Sustained GFLOP/s per framework on a CPU in the synthetic model (x20 on a GPU): plausible,
# not measured.
_SYNTH_SPEED = {"numpy": 40.0, "torch": 60.0, "jax": 55.0, "mxnet": 30.0, "cupy": 45.0}


def _synth_flops(workload: str, size: int) -> float:
    """FLOPs from the workload's own work model where it has one, else 2 n^3 (matmul)."""
    from .workloads import WORKLOADS  # NumPy only; frameworks load inside implementations

    wl = WORKLOADS.get(workload)
    if wl is not None and getattr(wl, "size_name", "") != "scale":
        try:
            flops = wl.work(size, dict(wl.default_params)).flops
        except Exception:  # a work model that needs more than a size: use the fallback
            flops = None
        if flops:
            return float(flops)
    return 2.0 * size**3


def _synth_time(workload: str, backend: str, size: int, threads: int | None = None) -> float:
    framework, _, device = backend.partition(":")
    speed = _SYNTH_SPEED.get(framework, 50.0) * (20.0 if device.startswith("cuda") else 1.0)
    amdahl = 1.0 if threads is None else 0.15 + 0.85 / threads
    # efficiency grows with size (small problems are overhead-bound), overhead 2 us per call
    efficiency = size / (size + 64.0)
    return (_synth_flops(workload, size) / (speed * efficiency * 1e9) + 2e-6) * amdahl


def write_synthetic_results(
    dest: str | Path,
    *,
    commits: int = 12,
    workloads: tuple[str, ...] = ("matmul", "conv2d"),
    backends: tuple[str, ...] = ("numpy:cpu", "torch:cpu", "jax:cpu"),
    sizes: tuple[int, ...] = (64, 256, 1024),
    dtypes: tuple[str, ...] = ("float32",),
    machines: tuple[str, ...] = ("laptop",),
    threads: tuple[int, ...] = (),
    env: str = "virtualenv-py3.11",
    regression: float = 1.3,
    seed: int = 0,
) -> Path:
    """Write an asv results database shaped like tensorbench's own, with a known regression.

    Benchmarks are ``bench_array.<Workload>.time_<workload>`` with params backend x size x
    dtype; time = 2 size^3 / speed(backend) with 1 % noise. The last workload on the first
    backend gets ``regression`` times slower from two thirds of the way through the commits.
    ``threads`` adds ``bench_array.<Workload>Threads.time_<workload>_threads`` (first
    workload, largest size) over those thread counts. CUDA backends are skipped, with a reason,
    on machines whose name lacks "gpu". Returns ``dest``.
    """
    rng = np.random.default_rng(seed)
    root = Path(dest)
    root.mkdir(parents=True, exist_ok=True)
    names = [f"bench_array.{w.title().replace('_', '')}.time_{w}" for w in workloads]
    grids: dict[str, tuple[list[str], list[list[str]]]] = {
        name: (
            ["backend", "size", "dtype"],
            [[repr(b) for b in backends], [str(s) for s in sizes], [repr(d) for d in dtypes]],
        )
        for name in names
    }
    if threads:
        w = workloads[0]
        grids[f"bench_array.{w.title().replace('_', '')}Threads.time_{w}_threads"] = (
            ["backend", "size", "dtype", "threads"],
            [[repr(b) for b in backends], [str(max(sizes))], [repr(dtypes[0])]]
            + [[str(t) for t in threads]],
        )
    benchmarks: dict[str, Any] = {
        name: {
            "name": name,
            "type": "time",
            "unit": "seconds",
            "param_names": names_,
            "params": params,
            "version": hashlib.sha256(name.encode()).hexdigest(),
        }
        for name, (names_, params) in grids.items()
    }
    benchmarks["version"] = 2
    (root / "benchmarks.json").write_text(json.dumps(benchmarks))
    hashes = [hashlib.sha1(f"{seed}:{i}".encode()).hexdigest() for i in range(commits)]
    t0 = 1_735_689_600_000  # 2025-01-01 UTC, in ms like asv
    day = 86_400_000
    columns = ["result", "params", "version", "started_at", "duration"]
    columns += ["stats_ci_99_a", "stats_ci_99_b", "stats_q_25", "stats_q_75"]
    columns += ["stats_number", "stats_repeat"]
    for m_i, machine in enumerate(machines):
        folder = root / machine
        folder.mkdir(exist_ok=True)
        machine_facts = {
            "machine": machine,
            "arch": "x86_64",
            "cpu": f"Synthetic CPU {m_i + 1}",
            "num_cpu": "2",
            "os": "Linux 6.1",
            "ram": "8GB",
            "version": 1,
        }
        (folder / "machine.json").write_text(json.dumps(machine_facts))
        slow = (m_i + 1) ** 0.5
        has_gpu = "gpu" in machine
        # per benchmark: base times in product order, and the points skipped here
        base: dict[str, np.ndarray] = {}
        skip: dict[str, dict[str, str]] = {}
        for name, (pnames, params) in grids.items():
            times, reasons = [], {}
            combos: list[tuple] = [()]
            for values in params:
                combos = [c + (v,) for c in combos for v in values]
            for combo in combos:
                values = {k: _literal(v) for k, v in zip(pnames, combo, strict=True)}
                times.append(
                    _synth_time(
                        _workload_name(name).removesuffix("_threads"),
                        values["backend"],
                        values["size"],
                        values.get("threads"),
                    )
                )
                if ":cuda" in values["backend"] and not has_gpu:
                    key = param_key(pnames, combo)
                    reasons[key] = "no CUDA device on this machine"
                    times[-1] = math.nan
            base[name] = np.array(times) * slow
            skip[name] = reasons
        for c_i, commit in enumerate(hashes):
            date = t0 + c_i * day
            results: dict[str, list] = {}
            for w_i, (name, (_, params)) in enumerate(grids.items()):
                value = base[name] * (1 + 0.01 * rng.standard_normal(base[name].size))
                value *= 1 + (w_i % len(names)) / 4
                if name == names[-1] and c_i >= (2 * commits) // 3:
                    value[: value.size // len(backends)] *= regression  # first backend regresses
                values = [float(f"{v:.6g}") if math.isfinite(v) else math.nan for v in value]
                results[name] = [
                    values,
                    params,
                    benchmarks[name]["version"],
                    date + 60_000 * (w_i + 1),
                    1.5,
                    [float(f"{v * 0.98:.5g}") for v in values],
                    [float(f"{v * 1.02:.5g}") for v in values],
                    [float(f"{v * 0.99:.5g}") for v in values],
                    [float(f"{v * 1.01:.5g}") for v in values],
                    [10] * len(values),
                    [5] * len(values),
                ]
            data = {
                "commit_hash": commit,
                "env_name": env,
                "date": date,
                "params": {"machine": machine, "python": "3.11"},
                "python": "3.11",
                "requirements": {"numpy": "2.1.3", "torch": "2.5.1", "jax": "0.4.35"},
                "env_vars": {"OMP_NUM_THREADS": "2"},
                "result_columns": columns,
                "results": results,
                "durations": {},
                "tensorbench": {
                    "suites": ["synthetic"],
                    "threads": 2,
                    "facts": {"numpy": {"blas": "openblas 0.3.27"}},
                    "skip_reasons": {k: v for k, v in skip.items() if v},
                },
                "version": 2,
            }
            (folder / f"{commit[:8]}-{env}.json").write_text(json.dumps(data))
    return root


def write_asv_shaped_results(
    dest: str | Path,
    *,
    commits: int = 100,
    benchmarks: int = 26,
    machines: tuple[str, ...] = ("aws-graviton", "aws-skylake", "ubuntu-noble"),
    env: str = "virtualenv-py3.12",
    format1_share: float = 0.25,
    seed: int = 0,
) -> Path:
    """Write an asv database in the shape of real ones (not tensorbench's own), for scale tests.

    ``benchmarks`` benchmarks in the mix public databases have: most without parameters, one in
    seven with one parameter of 3 values, one in thirty with 4 x 5 combinations (about 2
    points per benchmark per file); time, peakmem and track kinds. Each machine starts later
    in history than the one before (machine i covers the last (1 - i/10) of ``commits``).
    About 0.5 % of points fail (null) and one benchmark is always skipped (NaN) on the last
    machine; the oldest ``format1_share`` of every machine's files are result format 1.
    A few series step up 20 % at a random commit. Returns ``dest``.
    """
    rng = np.random.default_rng(seed)
    root = Path(dest)
    root.mkdir(parents=True, exist_ok=True)
    specs: dict[str, dict[str, Any]] = {}
    for i in range(benchmarks):
        kind = "peakmem" if i % 11 == 5 else "track" if i % 13 == 7 else "time"
        name = f"benchmarks.Suite{i // 10}.{kind}_bench{i:04d}"
        if i % 30 == 0:
            pnames, params = (
                ["n", "dtype"],
                [["100", "200", "400", "800"], ["'s'", "'d'", "'c'", "'z'", "'h'"]],
            )
        elif i % 7 == 0:
            pnames, params = ["size"], [["10", "100", "1000"]]
        else:
            pnames, params = [], []
        unit = {"time": "seconds", "peakmem": "bytes", "track": "unit"}[kind]
        specs[name] = {
            "name": name,
            "type": {"time": "time", "peakmem": "peakmemory", "track": "track"}[kind],
            "unit": unit,
            "param_names": pnames,
            "params": params,
            "version": hashlib.sha256(name.encode()).hexdigest(),
        }
    (root / "benchmarks.json").write_text(json.dumps({**specs, "version": 2}))
    hashes = [hashlib.sha1(f"shaped{seed}:{i}".encode()).hexdigest() for i in range(commits)]
    t0 = 1_600_000_000_000
    columns = ["result", "params", "version", "started_at", "duration"]
    columns += ["stats_ci_99_a", "stats_ci_99_b", "stats_q_25", "stats_q_75"]
    columns += ["stats_number", "stats_repeat"]
    sizes = {n: int(np.prod([len(p) for p in s["params"]])) for n, s in specs.items()}
    for m_i, machine in enumerate(machines):
        folder = root / machine
        folder.mkdir(exist_ok=True)
        (folder / "machine.json").write_text(
            json.dumps({"machine": machine, "arch": "x86_64", "cpu": f"CPU {m_i}", "version": 1})
        )
        first = (commits * m_i) // 10
        base = {n: np.exp(rng.normal(-12, 3, sizes[n])) for n in specs}
        steps = {
            n: np.where(rng.random(sizes[n]) < 0.02, rng.integers(first, commits, sizes[n]), -1)
            for n in specs
        }
        old = first + int((commits - first) * format1_share)
        for c_i in range(first, commits):
            date = t0 + c_i * 3_600_000 * 7
            results: dict[str, Any] = {}
            for b_i, (name, spec) in enumerate(specs.items()):
                v = base[name] * np.exp(0.02 * rng.standard_normal(sizes[name]))
                v = np.where((steps[name] >= 0) & (c_i >= steps[name]), v * 1.2, v)
                if spec["type"] == "peakmemory":
                    v = np.round(v * 1e15)
                out: list[Any] = [float(f"{x:.6g}") for x in v]
                for j in np.flatnonzero(rng.random(len(out)) < 0.005):
                    out[j] = None
                if m_i == len(machines) - 1 and b_i == 1:
                    out = [math.nan] * len(out)
                results[name] = (out, spec["params"])
            data = (
                _format1(hashes[c_i], env, date, machine, results, specs)
                if c_i < old
                else _format2(hashes[c_i], env, date, machine, results, specs, columns)
            )
            (folder / f"{hashes[c_i][:8]}-{env}.json").write_text(json.dumps(data))
    return root


def _header_facts(commit: str, env: str, date: int, machine: str) -> dict[str, Any]:
    return {
        "commit_hash": commit,
        "env_name": env,
        "date": date,
        "params": {"machine": machine, "python": "3.12"},
        "python": "3.12",
        "requirements": {},
        "env_vars": {},
    }


def _format2(
    commit: str,
    env: str,
    date: int,
    machine: str,
    results: dict[str, Any],
    specs: dict[str, Any],
    columns: list[str],
) -> dict[str, Any]:
    rows = {}
    for i, (name, (out, params)) in enumerate(results.items()):
        ok = [x is not None and x == x for x in out]
        stats = [
            [x * f if good else None for x, good in zip(out, ok, strict=True)]
            for f in (0.98, 1.02, 0.99, 1.01)
        ]
        counts = [[10 if good else None for good in ok], [5 if good else None for good in ok]]
        rows[name] = [out, params, specs[name]["version"], date + 1000 * i, 1.0, *stats, *counts]
    return {
        **_header_facts(commit, env, date, machine),
        "result_columns": columns,
        "results": rows,
        "durations": {},
        "version": 2,
    }


def _format1(
    commit: str, env: str, date: int, machine: str, results: dict[str, Any], specs: dict[str, Any]
) -> dict[str, Any]:
    rows = {
        name: ({"result": out, "params": params} if params else out[0])
        for name, (out, params) in results.items()
    }
    return {
        **_header_facts(commit, env, date, machine),
        "results": rows,
        "benchmark_version": {name: specs[name]["version"] for name in results},
        "started_at": {name: date + 1000 * i for i, name in enumerate(results)},
        "version": 1,
    }
