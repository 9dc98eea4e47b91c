"""Worker processes: grid points timed by today's harness in any checkout's package.

A *side* is an interpreter (an environment: a framework release, another NumPy) plus, for a
commit, a checkout put first on ``PYTHONPATH``. ``run_worker`` starts this file as a script
with the side's interpreter; the script loads today's ``tensorbench/timing.py`` *by path* (so
every side is timed by the same harness, as asv times every commit with today's benchmarks/)
and reaches the side's package only through ``tensorbench.asv_support``, the entry point old
commits have too. Points are named as asv names them: a grid key and its parameter values.

Protocol: a JSON request on stdin (``points``, ``samples``, ``sample_time``, ``inject``); one
JSON line per point on stdout: ``status`` ok | skip | fail, ``reason``, ``samples`` (seconds
per call), ``number``, ``median``. Each worker process is fresh: process-level luck (heap
layout, thread placement) is what running several of them averages.

This module imports nothing of the package at import time: as a script it runs against
another checkout, where ``tensorbench`` is that checkout's.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as a script, this file's folder is first on sys.path, where bisect.py would shadow the
# standard library's bisect (statistics -> random -> bisect): the script drops that entry
# before importing anything more, so keep the imports above to ones that pull in neither.
TIMING_FILE = Path(__file__).resolve().parents[1] / "timing.py"
INJECT_ENV = "TENSORBENCH_INJECT"  # test-only: +fraction of each sample's time (0.05 = +5 %)


@dataclass(frozen=True)
class Point:
    """One grid point: asv's benchmark key (grid entry) and its parameter values."""

    bench: str
    params: tuple[Any, ...]

    @property
    def label(self) -> str:
        return f"{self.bench}{list(self.params)}"

    def to_json(self) -> dict[str, Any]:
        return {"bench": self.bench, "params": list(self.params)}


@dataclass(frozen=True)
class CasePoint:
    """A case by its fields (any size or graph file), prepared by today's package."""

    spec: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.spec['workload']}[{self.spec['backend']}]"

    def to_json(self) -> dict[str, Any]:
        return {"case": self.spec}


@dataclass(frozen=True)
class Side:
    """Where a worker runs: an interpreter, and a checkout to import the package from."""

    label: str
    python: str = sys.executable
    tree: Path | None = None  # None: the interpreter's own tensorbench
    env: dict[str, str] = field(default_factory=dict)  # extra environment (e.g. injection)

    def environ(self) -> dict[str, str]:
        env = {**os.environ, **self.env}
        if self.tree is not None:
            parts = [str(self.tree), env.get("PYTHONPATH", "")]
            env["PYTHONPATH"] = os.pathsep.join(p for p in parts if p)
        return env


class WorkerError(RuntimeError):
    """A worker process died or printed something that is not the protocol.

    ``results`` holds the points it finished before it died, so the caller can name the
    point it died on (the next one) and keep the others.
    """

    def __init__(self, message: str, results: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.results = list(results or [])


def run_worker(
    side: Side,
    points: list[Point] | list[CasePoint],
    *,
    samples: int = 12,
    sample_time: float = 0.05,
    timeout: float | None = None,
    target_s: float | None = None,
    max_samples: int = 40,
) -> list[dict[str, Any]]:
    """Time ``points`` in one fresh worker process on ``side``; one result dict per point.

    ``samples`` per point, or with ``target_s`` as many as fit that budget between ``samples``
    and ``max_samples``.
    """
    request = {
        "points": [p.to_json() for p in points],
        "samples": samples,
        "sample_time": sample_time,
        "target_s": target_s,
        "max_samples": max_samples,
    }
    proc = subprocess.run(
        [side.python, str(Path(__file__).resolve())],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=side.environ(),
        timeout=timeout,
        cwd=str(side.tree) if side.tree is not None else None,
    )
    results = []
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            try:
                results.append(json.loads(line))
            except ValueError:
                continue
    if proc.returncode != 0 or len(results) != len(points):
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise WorkerError(f"worker on {side.label} exited {proc.returncode}: {tail}", results)
    return results


class ServingWorker:
    """One ``--serve`` worker process on ``side``, prepared for ``points``, sampled on demand.

    ``start`` returns once the process has prepared and calibrated every point (one report per
    point, as `run_worker` gives, without samples); ``sample(i)`` then takes one sample of
    point i and returns its seconds per call. The process is idle between samples, so a caller
    can alternate the samples of several workers (`tensorbench.asv.paired`'s lockstep rounds).
    A process that dies or answers out of protocol raises `WorkerError`.
    """

    def __init__(
        self,
        side: Side,
        points: list[Point] | list[CasePoint],
        sample_time: float,
        timeout: float | None = None,
    ) -> None:
        self.side = side
        self.points = list(points)
        self.sample_time = sample_time
        self.timeout = timeout  # for the process's whole life, as run_worker's
        self.proc: subprocess.Popen[str] | None = None
        self.reports: list[dict[str, Any]] = []
        self._watchdog: threading.Timer | None = None
        self._timed_out = False

    def _expire(self) -> None:
        self._timed_out = True
        if self.proc is not None:
            self.proc.kill()

    def start(self) -> list[dict[str, Any]]:
        try:
            self.proc = subprocess.Popen(
                [self.side.python, str(Path(__file__).resolve()), "--serve"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=self.side.environ(),
                cwd=str(self.side.tree) if self.side.tree is not None else None,
            )
        except OSError as exc:
            raise WorkerError(f"worker on {self.side.label} did not start: {exc}") from None
        if self.timeout is not None:
            self._watchdog = threading.Timer(self.timeout, self._expire)
            self._watchdog.daemon = True
            self._watchdog.start()
        request = {"points": [p.to_json() for p in self.points], "sample_time": self.sample_time}
        self._send(request)
        for _ in self.points:
            self.reports.append(self._receive())
        return self.reports

    def sample(self, index: int) -> float:
        self._send({"sample": index})
        answer = self._receive()
        if "t" not in answer:
            raise WorkerError(f"worker on {self.side.label}: {answer.get('error', answer)}")
        return float(answer["t"])

    def settle(self, limit: float = 0.5) -> float:
        """Wait until none of the process's threads is running (at most ``limit`` seconds);
        the seconds waited.

        Why: a BLAS pool keeps its threads spinning after a call (OpenBLAS ~0.1 s here), so
        the next side's sample, started at once, would share the cores with them. Reads
        ``/proc/<pid>/task/*/stat``; where that is missing it returns at once.
        """
        if self.proc is None:
            return 0.0
        tasks = Path(f"/proc/{self.proc.pid}/task")
        start = time.perf_counter()
        while time.perf_counter() - start < limit:
            try:
                states = [_thread_state(t / "stat") for t in tasks.iterdir()]
            except OSError:
                break
            if "R" not in states:
                break
            time.sleep(0.001)
        return time.perf_counter() - start

    def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self.proc is None:
            return
        with contextlib.suppress(OSError):
            self.proc.stdin.close()  # type: ignore[union-attr]
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]
        self.proc = None

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
        except OSError:
            raise self._died() from None

    def _receive(self) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("{"):
            raise self._died()
        return json.loads(line)

    def _died(self) -> WorkerError:
        assert self.proc is not None
        try:
            self.proc.wait(timeout=10)
            err = self.proc.stderr.read() if self.proc.stderr is not None else ""
        except subprocess.TimeoutExpired:
            self.proc.kill()
            err = ""
        if self._timed_out:
            return WorkerError(
                f"worker on {self.side.label} timed out after {self.timeout:.0f} s", self.reports
            )
        tail = (err.strip().splitlines() or ["no output"])[-1]
        return WorkerError(
            f"worker on {self.side.label} exited {self.proc.returncode}: {tail}", self.reports
        )


def _thread_state(stat: Path) -> str:
    """A thread's scheduler state from its /proc stat line (R running, S sleeping, ...)."""
    try:
        text = stat.read_text()
    except OSError:
        return "?"  # the thread ended
    return text[text.rfind(")") + 2 : text.rfind(")") + 3]


# -- the script side: runs in the side's interpreter, against the side's package ----------------


def _load_harness() -> Any:
    spec = importlib.util.spec_from_file_location("_tensorbench_harness", TIMING_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def _prepare(support: Any, bench: str, params: list[Any]) -> Any:
    if bench.endswith("_modes"):
        # package commits from before setup_case took the mode had setup_mode_case; those
        # from before eager/compiled modes had neither it nor compile_seconds
        setup_mode = getattr(support, "setup_mode_case", None)
        if setup_mode is not None:
            return setup_mode(bench, *params)
        if not hasattr(support, "compile_seconds"):
            raise NotImplementedError("this checkout's package has no eager/compiled modes")
    return support.setup_case(bench, *params)


def _prepare_case(spec: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """A case given by its fields (`tensorbench time`: any size, a graph file), with today's
    package; returns the prepared case and what the parent reports beside the timing."""
    from dataclasses import asdict

    from tensorbench import threads
    from tensorbench.backends import Skip
    from tensorbench.cases import Case, prepare

    threads.set_threads(spec.get("threads"))  # before the framework is imported
    fields = {k: spec[k] for k in ("workload", "backend", "device", "dtype", "size", "mode")}
    try:
        prepared = prepare(Case(**fields, params=spec.get("params") or {}))
    except Skip as exc:
        raise NotImplementedError(str(exc)) from None
    facts = {
        "size": prepared.size,
        "params": dict(prepared.params),
        "mode": prepared.mode,
        "threads": threads.current_threads(),
        "rel_error": prepared.rel_error,
        "first_call_s": prepared.first_call_s,
        "work": asdict(prepared.work()),
    }
    return prepared, facts


def injected_share() -> float:
    """The test-only share added to each sample ($TENSORBENCH_INJECT; 0: none)."""
    return float(os.environ.get(INJECT_ENV) or 0)


def prepare_point(
    harness: Any, support: Any, point: dict[str, Any], req: dict[str, Any]
) -> tuple[dict[str, Any], tuple[Any, int, float] | None]:
    """Prepare (validate) and calibrate one point: (what to report, (call, number, warm)).

    A skip or a failure is the report's status, and no call comes back.
    """
    out: dict[str, Any] = {**point, "status": "ok", "reason": None}
    try:
        if "case" in point:
            case, facts = _prepare_case(point["case"])
            out.update(facts)
        else:
            case = _prepare(support, point["bench"], point["params"])
    except NotImplementedError as exc:  # asv's skip (asv_runner's SkipNotImplemented is one)
        return {**out, "status": "skip", "reason": str(exc)}, None
    except Exception as exc:  # a wrong result or a crash: this point fails, the rest go on
        return {**out, "status": "fail", "reason": f"{type(exc).__name__}: {exc}"}, None
    call = getattr(case, "timed_call", None) or case.run
    inject = injected_share()  # applied per sample (take_sample)
    number, warm = harness.calibrate(call, req["sample_time"])
    return {**out, "number": number, "inject": inject}, (call, number, warm)


def time_point(harness: Any, support: Any, point: dict[str, Any], req: dict[str, Any]) -> dict:
    """Prepare (validate) one point and sample it; skips and failures become the status."""
    out, prepared = prepare_point(harness, support, point, req)
    if prepared is None:
        return out
    call, number, warm = prepared
    inject = out["inject"]
    n = int(req["samples"])
    if req.get("target_s"):  # a time budget instead of a count: `tensorbench time`
        n = harness.plan_samples(warm * number, req["target_s"], n, int(req["max_samples"]))
    samples = harness.sample(call, number, n, warm, inject)
    import statistics  # not at the top: see the note on sys.path by the imports

    median = statistics.median(samples)
    return {**out, "samples": samples, "number": number, "median": median, "inject": inject}


def serve() -> None:
    """Lockstep mode (``--serve``): prepare every point, then take one sample per command.

    The first stdin line is the request; the worker answers one line per point once it is
    prepared and calibrated (``status``, ``reason``, ``number``), then waits. Each later line
    ``{"sample": i}`` takes one sample of point i (``number`` back-to-back calls, the
    allocation phase advancing per point) and answers ``{"t": seconds per call}``; EOF ends
    it. Between commands the process sleeps on stdin, so the parent can alternate samples of
    several sides' processes without any two timing at once.
    """
    req = json.loads(sys.stdin.readline())
    harness = _load_harness()
    if all("case" in p for p in req["points"]):
        support = None
    else:
        import tensorbench.asv_support as support  # the side's package
    inject = injected_share()
    ready: list[tuple[Any, int, float] | None] = []
    for point in req["points"]:
        try:
            out = prepare_point(harness, support, point, req)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            out = ({**point, "status": "fail", "reason": f"{type(exc).__name__}: {exc}"}, None)
        info, prepared = out
        ready.append(prepared)
        print(json.dumps(info, default=str), flush=True)
    phases = [0] * len(ready)
    for line in sys.stdin:
        i = int(json.loads(line)["sample"])
        prepared = ready[i]
        if prepared is None:
            print(json.dumps({"error": f"point {i} is not prepared"}), flush=True)
            continue
        call, number, warm = prepared
        t = harness.take_sample(call, number, phases[i], warm, inject)
        phases[i] += 1
        print(json.dumps({"t": t}), flush=True)


def main() -> None:
    req = json.loads(sys.stdin.read())
    harness = _load_harness()
    if all("case" in p for p in req["points"]):
        support = None  # a case needs only today's package, not the asv entry point
    else:
        import tensorbench.asv_support as support  # the side's package

    for point in req["points"]:
        try:
            result = time_point(harness, support, point, req)
        except Exception as exc:  # never lose the other points
            traceback.print_exc(file=sys.stderr)
            result = {**point, "status": "fail", "reason": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
    serve() if "--serve" in sys.argv[1:] else main()
