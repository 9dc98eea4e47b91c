"""A synthetic asv results database shaped like tensorbench's own, with a known regression.

The one writer of synthetic results: the test fixtures (tests/conftest.py), the dashboard
load benchmark and the regression-detector evaluation start from it. Times follow each
workload's work model at plausible (not measured) speeds, so rates and speedups are known.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .analysis.asvfile import combinations, param_value, write_result_file
from .conventions import param_key

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


@dataclass(frozen=True)
class SyntheticEnv:
    """One machine/environment pair of a synthetic history: which commits it ran, how noisy
    its runs are, and its host episodes."""

    machine: str
    env: str = "virtualenv-py3.11"
    every: int = 1  # runs every n-th commit, from a random offset
    share: float = 1.0  # of those, this share, at random
    noise: float = 0.01  # run-to-run coefficient of variation
    blips: int = 0  # host episodes: 1-4 consecutive runs, every benchmark 8-25 % slower

    def schedule(self, commits: int, rng: np.random.Generator) -> np.ndarray:
        """The commit positions this environment ran."""
        ran = np.arange(int(rng.integers(self.every)) if self.every > 1 else 0, commits, self.every)
        return ran if self.share >= 1 else ran[rng.random(ran.size) < self.share]


# Four machines, seven environments, run as CI runs them: some every commit, some every 2nd or
# 3rd, some at random; noisy hosts and quiet ones (the shape of a real 1,772-commit history).
SEVEN_ENVS = (
    SyntheticEnv("m1", "py3.11", noise=0.01, blips=4),
    SyntheticEnv("m1", "py3.12", every=2, noise=0.02, blips=4),
    SyntheticEnv("m2", "py3.11", every=3, noise=0.03, blips=4),
    SyntheticEnv("m2", "py3.12", share=0.6, noise=0.05, blips=4),
    SyntheticEnv("m3", "py3.11", noise=0.08, blips=4),
    SyntheticEnv("m3", "py3.12", share=0.8, noise=0.06, blips=4),
    SyntheticEnv("m4", "py3.11", share=0.6, noise=0.04, blips=4),
)

# Shared code changes (`steps`): sizes drawn from these, two thirds of them slowdowns, never
# within this many commits of either end (a change needs points on both sides to be found).
_STEP_SIZES = (0.03, 0.05, 0.08, 0.12, 0.2, 0.35)
_STEP_EDGE = 10


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
    envs: tuple[SyntheticEnv, ...] = (),
    steps: float = 0.0,
    regression: float = 1.3,
    seed: int = 0,
) -> Path:
    """Write an asv results database shaped like tensorbench's own, with a known regression.

    Benchmarks are ``bench_array.<Workload>.time_<workload>`` with params backend x size x
    dtype; time = 2 size^3 / speed(backend) with 1 % noise. The last workload on the first
    backend gets ``regression`` times slower from two thirds of the way through the commits.
    ``threads`` adds ``bench_array.<Workload>Threads.time_<workload>_threads`` (first
    workload, largest size) over those thread counts. CUDA backends are skipped, with a reason,
    on machines whose name lacks "gpu".

    ``envs`` replaces ``machines`` x ``env`` (every commit, 1 % noise) with machine/environment
    pairs of their own schedule, noise and host episodes (`SyntheticEnv`). ``steps`` adds
    shared code changes: on average that many per benchmark and parameters (Poisson), each seen
    from its commit on by every environment that ran it, each machine by its own factor
    (0.8-1.25 of the change in log scale). Returns ``dest``.
    """
    rng = np.random.default_rng(seed)
    root = Path(dest)
    root.mkdir(parents=True, exist_ok=True)
    grids = _synthetic_grids(workloads, backends, sizes, dtypes, threads)
    benchmarks = _synthetic_benchmarks(grids)
    (root / "benchmarks.json").write_text(json.dumps({**benchmarks, "version": 2}))
    hashes = [hashlib.sha1(f"{seed}:{i}".encode()).hexdigest() for i in range(commits)]
    envs = envs or tuple(SyntheticEnv(m, env) for m in machines)
    # the schedules, episodes and shared changes draw from their own generators, so that the
    # run-to-run noise (``rng``) of a default database is what it always was
    shared = _shared_steps(grids, commits, steps, np.random.default_rng([seed, 1]))
    machine_names = list(dict.fromkeys(e.machine for e in envs))
    for m_i, machine in enumerate(machine_names):
        (root / machine).mkdir(exist_ok=True)
        facts = _machine_facts(machine, m_i)
        (root / machine / "machine.json").write_text(json.dumps(facts))
    slowest = list(grids)[len(workloads) - 1]  # the last workload: it gets the regression
    for e_i, where in enumerate(envs):
        side = np.random.default_rng([seed, 2, e_i])
        m_i = machine_names.index(where.machine)
        base, skip = _synthetic_base(grids, where.machine, (m_i + 1) ** 0.5)
        ran = where.schedule(commits, side)
        host = _host_level(where, ran, commits, side)
        # each machine sees a shared change by its own factor
        own = {k: np.exp(np.log(v) * side.uniform(0.8, 1.25, v.shape)) for k, v in shared.items()}
        level = {k: np.cumprod(v, axis=0) for k, v in own.items()}
        for c_i in ran.tolist():
            results: dict[str, dict[str, Any]] = {}
            for w_i, (name, (_, _, params)) in enumerate(grids.items()):
                value = base[name] * (1 + where.noise * rng.standard_normal(base[name].size))
                value *= 1 + (w_i % len(workloads)) / 4
                if host[c_i] != 1.0:
                    value *= host[c_i]
                if name in level:
                    value *= level[name][c_i]
                if name == slowest and c_i >= (2 * commits) // 3:
                    value[: value.size // len(backends)] *= regression  # first backend regresses
                started = _T0 + c_i * _DAY + 60_000 * (w_i + 1)
                results[name] = _synthetic_row(value, params, benchmarks[name]["version"], started)
            header = _synthetic_header(hashes[c_i], _T0 + c_i * _DAY, where, skip)
            name = f"{hashes[c_i][:8]}-{where.env}.json"
            write_result_file(root / where.machine / name, header, results)
    return root


_T0 = 1_735_689_600_000  # 2025-01-01 UTC, in ms like asv
_DAY = 86_400_000


def _synthetic_grids(
    workloads: tuple[str, ...],
    backends: tuple[str, ...],
    sizes: tuple[int, ...],
    dtypes: tuple[str, ...],
    threads: tuple[int, ...],
) -> dict[str, tuple[str, list[str], list[list[str]]]]:
    """benchmark name -> (the workload it times, param_names, params as asv's reprs)."""
    grids = {
        f"bench_array.{w.title().replace('_', '')}.time_{w}": (
            w,
            ["backend", "size", "dtype"],
            [[repr(b) for b in backends], [str(s) for s in sizes], [repr(d) for d in dtypes]],
        )
        for w in workloads
    }
    if threads:
        w = workloads[0]
        grids[f"bench_array.{w.title().replace('_', '')}Threads.time_{w}_threads"] = (
            w,
            ["backend", "size", "dtype", "threads"],
            [[repr(b) for b in backends], [str(max(sizes))], [repr(dtypes[0])]]
            + [[str(t) for t in threads]],
        )
    return grids


def _synthetic_benchmarks(grids: dict[str, tuple]) -> dict[str, Any]:
    """benchmarks.json's entries."""
    return {
        name: {
            "name": name,
            "type": "time",
            "unit": "seconds",
            "param_names": names,
            "params": params,
            "version": hashlib.sha256(name.encode()).hexdigest(),
        }
        for name, (_, names, params) in grids.items()
    }


def _machine_facts(machine: str, index: int) -> dict[str, Any]:
    return {
        "machine": machine,
        "arch": "x86_64",
        "cpu": f"Synthetic CPU {index + 1}",
        "num_cpu": "2",
        "os": "Linux 6.1",
        "ram": "8GB",
        "version": 1,
    }


def _synthetic_base(
    grids: dict[str, tuple], machine: str, slow: float
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, str]]]:
    """Per benchmark: base times in asv's product order on this machine, and the points it
    skips (CUDA on a machine whose name lacks "gpu"), with the reason."""
    base: dict[str, np.ndarray] = {}
    skip: dict[str, dict[str, str]] = {}
    for name, (workload, pnames, params) in grids.items():
        times, reasons = [], {}
        for combo in combinations(params):
            values = {k: param_value(v) for k, v in zip(pnames, combo, strict=True)}
            times.append(
                _synth_time(workload, values["backend"], values["size"], values.get("threads"))
            )
            if ":cuda" in values["backend"] and "gpu" not in machine:
                reasons[param_key(pnames, combo)] = "no CUDA device on this machine"
                times[-1] = math.nan
        base[name] = np.array(times) * slow
        skip[name] = reasons
    return base, skip


def _shared_steps(
    grids: dict[str, tuple], commits: int, steps: float, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """benchmark -> (commits x points) factors: 1 except at a shared change's commit."""
    out: dict[str, np.ndarray] = {}
    if steps <= 0 or commits <= 2 * _STEP_EDGE:
        return out
    for name, (_, _, params) in grids.items():
        n = int(np.prod([len(v) for v in params]))
        factors = np.ones((commits, n))
        for j in range(n):
            for _ in range(rng.poisson(steps)):
                size = rng.choice(_STEP_SIZES)
                at = int(rng.integers(_STEP_EDGE, commits - _STEP_EDGE))
                factors[at, j] *= 1 + size if rng.random() < 2 / 3 else 1 / (1 + size)
        out[name] = factors
    return out


def _host_level(
    where: SyntheticEnv, ran: np.ndarray, commits: int, rng: np.random.Generator
) -> np.ndarray:
    """Per commit: how much slower this environment's host ran everything (its episodes)."""
    level = np.ones(commits)
    for _ in range(where.blips if ran.size > 2 * _STEP_EDGE else 0):
        i = int(rng.integers(_STEP_EDGE, ran.size - _STEP_EDGE))
        level[ran[i : i + int(rng.integers(1, 5))]] *= rng.uniform(1.08, 1.25)
    return level


def _synthetic_row(values: np.ndarray, params: list, version: str, started: int) -> dict[str, Any]:
    """One benchmark's row of a result file, by column name."""
    out = [float(f"{v:.6g}") if math.isfinite(v) else math.nan for v in values]
    return {
        "result": out,
        "params": params,
        "version": version,
        "started_at": started,
        "duration": 1.5,
        "stats_ci_99_a": [float(f"{v * 0.98:.5g}") for v in out],
        "stats_ci_99_b": [float(f"{v * 1.02:.5g}") for v in out],
        "stats_q_25": [float(f"{v * 0.99:.5g}") for v in out],
        "stats_q_75": [float(f"{v * 1.01:.5g}") for v in out],
        "stats_number": [10] * len(out),
        "stats_repeat": [5] * len(out),
    }


def _synthetic_header(
    commit: str, date: int, where: SyntheticEnv, skip: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """A result file's fields other than its results."""
    return {
        "commit_hash": commit,
        "env_name": where.env,
        "date": date,
        "params": {"machine": where.machine, "python": "3.11"},
        "python": "3.11",
        "requirements": {"numpy": "2.1.3", "torch": "2.5.1", "jax": "0.4.35"},
        "env_vars": {"OMP_NUM_THREADS": "2"},
        "durations": {},
        "tensorbench": {
            "suites": ["synthetic"],
            "threads": 2,
            "facts": {"numpy": {"blas": "openblas 0.3.27"}},
            "skip_reasons": {k: v for k, v in skip.items() if v},
        },
    }


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
            version = 1 if c_i < old else 2
            rows = {
                name: _shaped_row(out, params, specs[name]["version"], date + 1000 * i, version)
                for i, (name, (out, params)) in enumerate(results.items())
            }
            header = _header_facts(hashes[c_i], env, date, machine, durations=version == 2)
            write_result_file(
                folder / f"{hashes[c_i][:8]}-{env}.json", header, rows, version=version
            )
    return root


def _header_facts(
    commit: str, env: str, date: int, machine: str, *, durations: bool
) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "commit_hash": commit,
        "env_name": env,
        "date": date,
        "params": {"machine": machine, "python": "3.12"},
        "python": "3.12",
        "requirements": {},
        "env_vars": {},
    }
    if durations:  # asv 0.6 writes them (format 2); the older files had none
        facts["durations"] = {}
    return facts


def _shaped_row(
    out: list, params: list, version: str, started: int, file_version: int
) -> dict[str, Any]:
    """A benchmark's row; format 1 files carry no statistics, format 2 ones do where the
    point has a value."""
    row = {"result": out, "params": params, "version": version, "started_at": started}
    if file_version == 1:
        return row
    ok = [x is not None and x == x for x in out]
    stats = {
        column: [x * f if good else None for x, good in zip(out, ok, strict=True)]
        for column, f in (
            ("stats_ci_99_a", 0.98),
            ("stats_ci_99_b", 1.02),
            ("stats_q_25", 0.99),
            ("stats_q_75", 1.01),
        )
    }
    counts = {
        "stats_number": [10 if good else None for good in ok],
        "stats_repeat": [5 if good else None for good in ok],
    }
    return row | {"duration": 1.0} | stats | counts
