"""Instruction counts of the timed calls, under Valgrind's callgrind: a measure free of host noise.

Wall-clock times on a shared 2-vCPU VM drift 5-10 % between runs; the number of instructions a
call executes does not depend on load, frequency or neighbours. ``tensorbench run --measure
instructions`` runs every CPU point of a suite at one thread under callgrind, counts the
instructions of the point's timed callable only (the one asv times: ``case.timed_call``, else
``case.run``) and stores them as asv ``track_*`` results with unit "instructions"
(benchmarks/bench_instructions.py reads them).

How only the timed calls are counted: callgrind client requests. This process runs with
instrumentation off (``--instr-atstart=no``: importing torch costs no counting), prepares and
validates a point with ``tensorbench.asv_support.setup_case`` exactly as asv's benchmark process
does, then switches instrumentation on, counts one call (the estimate), runs up to 200 warm-up
calls (some calls' counts creep over a process's first hundred), and counts two regions,
of 1 and of 1 + N calls (each: zero the counters, make the calls with the garbage collector
off as ``timeit`` and asv do, dump the counters with a label). Instructions per call =
(second - first) / N: the difference holds N calls and nothing else, not the loop, the ctypes
return or what a framework does once per region (MXNet: ~95k instructions, +0.6 % on a
1.4M-instruction call at N = 12). The client requests are callgrind's own macros from
``<valgrind/callgrind.h>`` (always of the running version), compiled into a small helper
library with the system C compiler and called through ctypes.

Why 1 and 1 + N rather than N and 2N calls: every call is dear under Valgrind; N-vs-2N makes
three calls for every one counted, this one N + 3 per point. Why not pytest-codspeed's compiled wrapper:
its 5.x wheel exposes only start/stop instrumentation directly (zeroing and dumping sit behind
its runner integration, which wants ``CODSPEED_ENV`` and benchmark URIs), and its module
layout changed in every major release.

Calls per point: one instrumented call estimates the cost, then the counted region holds
``calls_for(estimate)`` calls: enough that a region spans ~20 M instructions, at most 50. The
estimate is an instruction count too, so a point gets the same number of calls in every run.

Run as a script (``python -P instructions.py --points FILE --out FILE`` under valgrind) this
file imports nothing of its own package: it needs only ``tensorbench.asv_support`` from the
package under test on ``PYTHONPATH``, which old commits have too. The driver half
(:func:`count_points`) runs outside valgrind and imports the standard library only.

Test-only: ``TENSORBENCH_INJECT_WORK=0.02`` adds 2 % to a point's count (never for real
results): a spin loop of the helper runs inside the 1 + N region, sized to 2 % of the N counted
warm-up calls; the plain figure is the region less the loop's counted cost. Injected and plain
runs call the point alike: neither extra calls nor a later region are exact (calls differ).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

COUNTS_ENV = "TENSORBENCH_INSTRUCTIONS"  # the counts file the track benchmarks read
INJECT_ENV = "TENSORBENCH_INJECT_WORK"  # test-only: extra calls as a share of the counted ones
HELPER_ENV = "TENSORBENCH_CALLGRIND_HELPER"  # the compiled client-request helper (.so)
OUT_DIR_ENV = "TENSORBENCH_CALLGRIND_DIR"  # where callgrind writes this process's dumps

# Grid entries counted (workloads; not the measured ceilings, GPU memory or thread sweeps).
SUPPORTED = (
    "matmul",
    "conv2d",
    "dispatch",
    "mlp_step",
    "pagerank",
    "gcn_forward",
    "gcn_step",
    "stream_copy",
    "stream_triad",
)
THREADS_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MXNET_OMP_MAX_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
TARGET_INSTRUCTIONS = 20_000_000  # a region's size: averages call-to-call differences
MAX_CALLS = 50
# Points whose call costs at most this are always counted over MAX_CALLS calls. A call's count
# can creep up over a process's first hundred calls (torch dispatch 16: 1.430 M instructions a
# call over calls 3-16, 1.444 M over 17-66, 1.449 M over 67-166), so N must not depend on an
# estimate that a small change of the code moves: the same point always gets the same N.
FULL_CALLS_MAX = 2_000_000
# Between the estimate and the counted regions a point runs warmup_calls(estimate) calls, the
# last min(N, warm-up) of them counted, the rest uninstrumented (several times faster): up to
# WARMUP_CALLS, fewer for dear calls (WARMUP_INSTRUCTIONS in all), so the creep above has
# flattened. The number depends on an instruction count, never on the clock: every run warms a
# point up alike (a time budget once gave one point counts 1.4 % apart between runs).
WARMUP_CALLS = 200
WARMUP_INSTRUCTIONS = 400_000_000
# Backends whose counts are not reproducible under valgrind: no instruction gate for them.
UNSTABLE = {
    "dgl-mxnet:cpu": "DGL on MXNet's counts vary 2-9 % between runs under valgrind (its engine "
    "threads interleave differently each run), too much for a sub-percent gate",
    "dgl-torch:cpu": "DGL on torch's counts vary 2.5-29 % between runs under valgrind (its "
    "graph kernels' threads interleave differently each run), too much for a sub-percent gate",
    "jax:cpu": "JAX's counts vary up to 0.8 % between runs under valgrind at one thread (CV over "
    "5 runs: matmul 0.77 %, dispatch 0.84 %, pagerank 0.82 %, GCN 0.75 %; the GCN training "
    "step 1-3 %; XLA compiles the kernels and runs them on its own threads), too much for a "
    "sub-percent gate",
}


def unstable_reason(backend: str) -> str | None:
    """Why a backend's instruction counts are not steady enough to gate on, or None."""
    return UNSTABLE.get(backend)


STARTUP_TIMEOUT_S = 600.0  # importing a framework under valgrind (torch: about a minute)
POINT_TIMEOUT_S = 600.0  # added to a process's limit per point it holds

HELPER_C = r"""
#include <valgrind/callgrind.h>
int tb_running_on_valgrind(void) { return RUNNING_ON_VALGRIND; }
void tb_zero_stats(void) { CALLGRIND_ZERO_STATS; }
void tb_dump_stats_at(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
void tb_start_instrumentation(void) { CALLGRIND_START_INSTRUMENTATION; }
void tb_stop_instrumentation(void) { CALLGRIND_STOP_INSTRUMENTATION; }
/* test-only injected work: the same few instructions every turn (volatile: never folded) */
void tb_spin(unsigned long turns) {
    volatile unsigned long sink = 0;
    for (unsigned long i = 0; i < turns; i++) sink += i;
}
"""


# -- tools ----------------------------------------------------------------------------------


def valgrind_reason() -> str | None:
    """Why instructions cannot be counted on this machine (None: valgrind, its callgrind header
    and a C compiler are here)."""
    if shutil.which("valgrind") is None:
        return "valgrind is not installed (apt-get install valgrind)"
    if not _header().is_file():
        return f"{_header()} is missing (it ships with valgrind)"
    if _compiler() is None:
        return "no C compiler (cc/gcc) to build the callgrind client-request helper"
    return None


def _header() -> Path:
    return Path(os.environ.get("VALGRIND_INCLUDE", "/usr/include")) / "valgrind" / "callgrind.h"


def _compiler() -> str | None:
    return next((c for c in (os.environ.get("CC"), "cc", "gcc") if c and shutil.which(c)), None)


def valgrind_version() -> str:
    """``valgrind-3.19.0`` (recorded with the counts: another version may count differently)."""
    try:
        res = subprocess.run(["valgrind", "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return res.stdout.strip() or "unknown"


def build_helper(cache_dir: Path | None = None) -> Path:
    """The client-request helper library, compiled once per source and header into a cache."""
    reason = valgrind_reason()
    if reason:
        raise RuntimeError(reason)
    key = hashlib.sha256(HELPER_C.encode() + _header().read_bytes()).hexdigest()[:16]
    folder = Path(
        cache_dir
        or os.environ.get("TENSORBENCH_CACHE_DIR")
        or Path.home() / ".cache" / "tensorbench"
    )
    lib = folder / f"callgrind-helper-{key}.so"
    if lib.is_file():
        return lib
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        src = Path(tmp) / "helper.c"
        src.write_text(HELPER_C)
        out = Path(tmp) / lib.name
        cmd = [_compiler() or "cc", "-O2", "-shared", "-fPIC", f"-I{_header().parents[1]}"]
        res = subprocess.run([*cmd, "-o", str(out), str(src)], capture_output=True, text=True)
        if res.returncode:
            raise RuntimeError(f"building the callgrind helper failed: {res.stderr.strip()}")
        out.replace(lib)  # atomic: a concurrent build leaves one complete file
    return lib


def calls_for(estimate: float) -> int:
    """Counted calls for a point whose one call took ``estimate`` instructions.

    As many as fill ``TARGET_INSTRUCTIONS`` (1 to ``MAX_CALLS``); ``MAX_CALLS`` for calls of at
    most ``FULL_CALLS_MAX`` instructions.
    """
    n = max(1, min(MAX_CALLS, int(TARGET_INSTRUCTIONS // max(estimate, 1.0))))
    if estimate <= FULL_CALLS_MAX:
        n = MAX_CALLS
    return n


def inject_share() -> float:
    """The test-only extra work asked for in ``$TENSORBENCH_INJECT_WORK`` (0: none)."""
    text = os.environ.get(INJECT_ENV, "").strip()
    if not text:
        return 0.0
    share = float(text)
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"{INJECT_ENV}={text}: expected a share between 0 and 1")
    return share


def param_key(names: Sequence[str], values: Sequence[Any]) -> str:
    """asv's parameter text (as ``tensorbench.conventions.param_key_of``; this file imports no
    package module)."""
    return ", ".join(f"{n}={v!r}" for n, v in zip(names, values, strict=True))


# -- the worker (runs under valgrind) ---------------------------------------------------------


class _Callgrind:
    """The client requests, and the counts of this process's dumps read back by label."""

    def __init__(self, helper: str, out_dir: str) -> None:
        self.lib = ctypes.CDLL(helper)
        self.lib.tb_dump_stats_at.argtypes = [ctypes.c_char_p]
        self.lib.tb_spin.argtypes = [ctypes.c_ulong]
        self.dir = Path(out_dir)
        self.prefix = f"callgrind.out.{os.getpid()}"
        self.regions = 0
        self.spin_fixed = self.spin_per_turn = 0.0  # instructions; fit_spin() counts them

    def fit_spin(self) -> None:
        """Count the spin loop's cost: a fixed part (the ctypes call) and a part per turn."""
        bare = self.count(lambda: None, 0)
        one = self.count(lambda: None, 0, spin_turns=1_000_000)
        self.spin_per_turn = (self.count(lambda: None, 0, spin_turns=2_000_000) - one) / 1e6
        self.spin_fixed = one - bare - self.spin_per_turn * 1e6

    def spin_turns_for(self, instructions: float) -> int:
        """Turns of the spin loop that add ``instructions`` to a region (at least one)."""
        return max(1, round((instructions - self.spin_fixed) / self.spin_per_turn))

    def spin_cost(self, turns: int) -> float:
        """Instructions that ``turns`` turns of the spin loop add to a region."""
        return self.spin_fixed + self.spin_per_turn * turns if turns else 0.0

    def running(self) -> bool:
        return bool(self.lib.tb_running_on_valgrind())

    def count(self, fn: Callable[[], Any], calls: int, spin_turns: int = 0) -> int:
        """Instructions of ``calls`` calls of ``fn`` (then ``spin_turns`` turns of the helper's
        spin loop, test-only): zero, call, dump, read the dump back."""
        self.regions += 1
        label = f"tensorbench-region-{self.regions}"
        enabled = gc.isenabled()
        gc.disable()  # as timeit and asv do: no collection lands in a counted region
        try:
            self.lib.tb_zero_stats()
            for _ in range(calls):
                fn()
            if spin_turns:
                self.lib.tb_spin(spin_turns)
            self.lib.tb_dump_stats_at(label.encode())
        finally:
            if enabled:
                gc.enable()
        return self._read(label)

    def _read(self, label: str) -> int:
        for path in sorted(self.dir.glob(f"{self.prefix}.*")):
            text = path.read_text(errors="replace")
            if f"Client Request: {label}\n" not in text:
                continue
            path.unlink()
            # "totals" sums the cost lines written; "summary" is a running counter that goes
            # wrong (wraps below zero) once another thread ran since the zeroing (MXNet's
            # engine, XLA's pool)
            m = re.search(r"^totals:\s*(\d+)", text, re.M)
            if m is None:
                raise RuntimeError(f"callgrind dump {path.name} has no totals line")
            return int(m.group(1))
        raise RuntimeError(f"callgrind wrote no dump for {label} in {self.dir}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


def _is_skip(exc: BaseException) -> bool:
    # asv_support.skip raises asv_runner's SkipNotImplemented, or NotImplementedError without it
    return isinstance(exc, NotImplementedError)


def warmup_calls(estimate: float) -> int:
    """Uncounted calls before the counted regions: ``WARMUP_INSTRUCTIONS`` worth, 1 to 200."""
    return max(1, min(WARMUP_CALLS, int(WARMUP_INSTRUCTIONS // max(estimate, 1.0))))


def measure_point(cg: _Callgrind, bench: str, params: list[Any], inject: float) -> dict[str, Any]:
    """Prepare one grid point as asv would and count its timed call (one record)."""
    from tensorbench import asv_support

    names = asv_support.grid_params(bench)[1]
    rec: dict[str, Any] = {"bench": bench, "params": params}
    rec["param_key"] = param_key(names[: len(params)], params)
    try:
        case = asv_support.setup_case(bench, *params)
    except Exception as exc:
        rec["skip" if _is_skip(exc) else "error"] = _first_line(exc)
        return rec
    fn = getattr(case, "timed_call", case.run)  # what asv times (run on older commits)
    cg.lib.tb_start_instrumentation()
    try:
        estimate = cg.count(fn, 1)
        calls = calls_for(estimate)
        cg.lib.tb_stop_instrumentation()
        rec["warmup_calls"] = warmup = warmup_calls(estimate)
        counted = min(warmup, calls)
        for _ in range(warmup - counted):
            fn()
        cg.lib.tb_start_instrumentation()
        # The last warm-up calls are counted in every run: they size a test-only injection
        # without a single extra call, so injected and plain runs read the same calls.
        warm = cg.count(fn, counted) / counted
        rec["warmup_instructions"] = warm
        turns = cg.spin_turns_for(inject * warm * calls) if inject else 0
        # Two regions, of 1 and of 1 + N calls: their difference is N calls with no per-region
        # cost (the loop, ctypes, and work a framework does once per region, ~95k instructions
        # in MXNet), which would otherwise weigh 1/N on the figure
        one = cg.count(fn, 1)
        total = cg.count(fn, 1 + calls, spin_turns=turns)
        if turns:
            rec["plain_instructions"] = (total - cg.spin_cost(turns) - one) / calls
            rec["injected_turns"] = turns
    finally:
        cg.lib.tb_stop_instrumentation()
    rec.update(instructions=(total - one) / calls, calls=calls, estimate=estimate)
    return rec


def worker(points_file: Path, out_file: Path) -> int:
    """Count every point of ``points_file``, appending one JSON line per point to ``out_file``
    as it finishes (a crash keeps the points before it)."""
    points = json.loads(Path(points_file).read_text())
    helper = os.environ.get(HELPER_ENV) or str(build_helper())
    cg = _Callgrind(helper, os.environ.get(OUT_DIR_ENV) or os.getcwd())
    if not cg.running():
        print("not running under valgrind's callgrind", file=sys.stderr)
        return 2
    inject = inject_share()
    cg.lib.tb_start_instrumentation()
    cg.fit_spin()  # in every run, injected or not: both runs then do the same work
    cg.lib.tb_stop_instrumentation()
    with open(out_file, "a") as out:
        for p in points:
            rec = measure_point(cg, p["bench"], list(p["params"]), inject)
            out.write(json.dumps(rec) + "\n")
            out.flush()
    return 0


# -- the driver (runs outside valgrind) -------------------------------------------------------


def valgrind_env(base: dict[str, str], helper: Path, out_dir: Path) -> dict[str, str]:
    """The worker's environment: one thread everywhere, fixed hashing, the helper's paths."""
    env = dict(base)
    env["TENSORBENCH_THREADS"] = "1"
    for var in THREADS_VARS:
        env[var] = "1"
    env["PYTHONHASHSEED"] = "0"  # set and dict order (so instructions) the same every run
    env[HELPER_ENV] = str(helper)
    env[OUT_DIR_ENV] = str(out_dir)
    return env


def _failure_reason(stderr: str, code: int | None) -> str:
    """The first line that says why a valgrind process died (for the skip reason)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    plain = [ln for ln in lines if not ln.startswith("==")]
    # A Python exception: its last line names it.
    for ln in reversed(plain):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b", ln):
            return ln[:300]
    for ln in lines:
        body = re.sub(r"^==\d+==\s*", "", ln)
        if re.search(r"unhandled instruction|Process terminating|valgrind: |Unrecognised", body):
            return body[:300]
    if plain:
        return plain[0][:300]
    if code is not None and code < 0:
        return f"killed by signal {signal.Signals(-code).name}"
    return f"exit code {code}"


def _run_batch(
    python: Path,
    points: list[dict[str, Any]],
    env: dict[str, str],
    helper: Path,
    work: Path,
    timeout_s: float,
    cwd: Path,
    cpu: int | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One valgrind process over ``points`` (on ``cpu`` alone, if given): the records it
    finished, and why it stopped early (None when it finished them all)."""
    points_file = work / "points.json"
    out_file = work / "records.jsonl"
    points_file.write_text(json.dumps(points))
    out_file.unlink(missing_ok=True)
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={work}/callgrind.out.%p",
        str(python),
        "-P",  # the script's folder (tensorbench/asv) must not shadow any module
        str(Path(__file__).resolve()),
        "--points",
        str(points_file),
        "--out",
        str(out_file),
    ]
    stopped: str | None = None
    with open(work / "stderr.txt", "w+") as err:
        proc = subprocess.Popen(
            cmd,
            stdout=err,
            stderr=err,
            env=valgrind_env(env, helper, work),
            cwd=cwd,
            start_new_session=True,  # a timeout ends valgrind and anything it started
        )
        if cpu is not None:
            # Set before Python even starts under valgrind (seconds later): the worker's
            # one-thread setting pins it to the first core it may use, so side-by-side
            # batches would otherwise all share the first core of the machine.
            os.sched_setaffinity(proc.pid, {cpu})
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = None
            stopped = f"timed out after {timeout_s:.0f} s under valgrind"
        err.seek(0)
        stderr = err.read()
    records = []
    if out_file.exists():
        for line in out_file.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                break  # a torn last line: that point counts as unfinished
    if stopped is None and (code or len(records) < len(points)):
        stopped = _failure_reason(stderr, code)
    for leftover in work.glob("callgrind.out.*"):
        leftover.unlink()
    return records, stopped


def count_points(
    python: Path,
    points: Iterable[dict[str, Any]],
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    startup_timeout_s: float = STARTUP_TIMEOUT_S,
    point_timeout_s: float = POINT_TIMEOUT_S,
    log: Callable[[str], None] | None = None,
    jobs: int = 1,
) -> list[dict[str, Any]]:
    """Count ``points`` ({"bench", "params"}) with ``python`` under valgrind; one record each.

    Points are batched per backend (``params[0]``), one valgrind process per batch, so each
    framework is imported once; ``jobs`` batches run at once (a count does not depend on the
    load, and valgrind runs a process on one core). A process that dies or times out costs the
    point it was on a skip with the reason (its first error line, or the timeout); the rest of
    its batch goes on in a new process, unless it finished no point at all: then the backend
    cannot run under valgrind and all its remaining points skip with that reason. Records come
    back in the order of ``points``' backends.
    """
    env = dict(os.environ if env is None else env)
    helper = build_helper()
    by_backend: dict[str, list[dict[str, Any]]] = {}
    for p in points:
        by_backend.setdefault(str(p["params"][0]), []).append(p)

    jobs = max(1, min(jobs, len(by_backend)))
    cpus: queue.SimpleQueue[int] = queue.SimpleQueue()
    for cpu in sorted(os.sched_getaffinity(0))[:jobs] if jobs > 1 else []:
        cpus.put(cpu)  # one core per batch running at the same time

    def one_backend(backend: str) -> list[dict[str, Any]]:
        cpu = cpus.get() if jobs > 1 else None  # an error ends the whole count: not put back
        todo, out = by_backend[backend], []
        with tempfile.TemporaryDirectory(prefix="tensorbench-callgrind-") as tmp:
            work = Path(tmp)
            while todo:
                t0 = time.perf_counter()
                timeout = startup_timeout_s + point_timeout_s * len(todo)
                records, stopped = _run_batch(
                    python, todo, env, helper, work, timeout, cwd or Path.cwd(), cpu
                )
                if log:
                    log(
                        f"{backend}: {len(records)} of {len(todo)} points in "
                        f"{time.perf_counter() - t0:.0f} s" + (f" ({stopped})" if stopped else "")
                    )
                out.extend(records)
                todo = todo[len(records) :]
                if stopped and todo:
                    reason = f"under valgrind: {stopped}"
                    failed = todo if not records else todo[:1]
                    for p in failed:
                        out.append({**p, "skip": reason})
                    todo = todo[len(failed) :]
        if cpu is not None:
            cpus.put(cpu)
        return out

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        per_backend = list(pool.map(one_backend, by_backend))
    return [rec for records in per_backend for rec in records]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="count the timed calls of grid points (valgrind)")
    ap.add_argument("--points", type=Path, required=True, help='JSON list of {"bench", "params"}')
    ap.add_argument("--out", type=Path, required=True, help="JSON lines, one record per point")
    args = ap.parse_args(argv)
    return worker(args.points, args.out)


if __name__ == "__main__":
    sys.exit(main())
