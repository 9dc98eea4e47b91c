"""The one base class of tensorbench's asv benchmarks, and how a point is timed.

Basic usage: a subclass names its grid entry and defines one-line ``time_*``/``peakmem_*``
methods calling ``self.call()`` (the validated callable, plus the backend's synchronize where it
does anything: ``PreparedCase.timed_call``).

Adding parameters: extend ``tensorbench.asv.grid.GRID`` at the end of a list, never reorder; suites
(suites/*.toml) choose which points run, the rest skip with "not in suite X".

How a point is timed, and why (asv 0.6.6 with asv_runner 0.2.5, both pinned in pyproject.toml):

- ``setup`` prepares a point (resolve, build, validate against the float64 reference) only the
  first time it runs in a process, keeps the prepared case in ``_PREPARED``, and is a dict
  lookup every later time: validation happens exactly once per process and point, before any
  timed window, however often asv re-runs ``setup``.
- On that first run it also calibrates ``number`` (calls per sample, so that a sample lasts at
  least ``sample_time``) from warm, synced calls, and sets it on the instance; asv reads
  ``number`` again after ``setup`` (documented: setup may change timing attributes). The
  calibration calls double as warm-up: a fresh process reads slow for its first tenths of a
  second.
- asv_runner 0.2.5 then runs ``setup`` once per sample and the sample's ``number`` calls back to
  back under one clock, as ``timeit`` does. asv_runner 0.3 re-runs ``setup`` before every call
  of a class that has one (asv_runner#53, asv#966; asv#1613 asks for an opt-in): there an
  automatic ``number`` would be 1, and the explicit one set here is timed call by call with
  ``setup`` between calls, which read up to 20 % slow at 20 us calls (torch matmul 128): hence
  the pin. Our calls keep no state between them, so one setup per sample is correct.

benchmarks/ reaches the package only through ``tensorbench.asv_support`` (old commits have it
too: asv runs today's benchmarks/ against every historic commit it builds).
"""

from __future__ import annotations

import importlib.metadata
import math
import sys
import time
from typing import Any

from tensorbench import asv_support

# (bench, params) -> [prepared case, timed callable, calls per sample, warm call seconds, next
# allocation phase]. One per process and point.
_PREPARED: dict[tuple[str, tuple[Any, ...]], list[Any]] = {}
# Calibration doubles as warm-up: a fresh process reads slow for its first tenths of a second
# (caches, page faults, thread pools), so calls run for at least _CALIBRATE_S (and at least 4,
# unless a call alone takes _SLOW_CALL_S) and `number` comes from the later half of them.
_CALIBRATE_S = 0.25
_SLOW_CALL_S = 0.5


def runner_skip_reason(version: str | None = None) -> str | None:
    """Why the asv_runner running us cannot time these benchmarks honestly, or None.

    asv installs the newest asv_runner into its own environments unless the matrix pins
    ``pip+asv_runner``; a 0.3 runner would record one call per sample with ``setup`` between
    calls, so every point skips with this reason instead of recording such numbers.
    """
    if version is None:
        try:
            version = importlib.metadata.version("asv_runner")
        except importlib.metadata.PackageNotFoundError:
            return None  # used in-process without asv_runner
    parts = [int(p) if p.isdigit() else 0 for p in version.split(".")[:2]]
    if tuple(parts) >= (0, 3):
        return (
            f"asv_runner {version} times one call per sample with setup between calls "
            "(asv_runner#53); tensorbench's harness needs asv_runner 0.2.5 (pinned in "
            "pyproject.toml and asv.conf.json)"
        )
    return None


_RUNNER_SKIP = runner_skip_reason()

# How often asv_runner's forkserver may look whether a benchmark process has ended, once the
# process has run a while.
SERVER_POLL_S = 0.05


def quiet_forkserver_poll() -> bool:
    """Make asv_runner's forkserver poll for a benchmark's end less and less often, down to every
    ``SERVER_POLL_S``, not every millisecond; True where it was patched.

    While a forked benchmark runs, asv_runner 0.2.5's server loops on ``waitpid(WNOHANG)`` and
    ``time.sleep(min(t, 0.001))``: a thousand wake-ups a second, which on a 2-core machine
    land on the cores a 2-thread point uses (README: "Fresh processes, not forks of a polling
    server"). asv's other launch method, spawn, avoids that but starts a new interpreter per
    benchmark. The server imports this module before it forks (asv's "preimport"), so its
    loop's ``time`` is swapped for one whose ``sleep`` backs off (`_PoliteTime`); the
    process's own ``time`` module is untouched. asv_runner is pinned (the harness needs 0.2.5),
    so the loop is known.
    """
    server = sys.modules.get("asv_runner.server")
    if server is None or not hasattr(server, "time") or isinstance(server.time, _PoliteTime):
        return False
    server.time = _PoliteTime(server.time)
    return True


class _PoliteTime:
    """``time`` whose ``sleep`` lasts half of the wait so far, at least what the loop asks and at
    most ``SERVER_POLL_S`` (for asv_runner's server only).

    A fixed 50 ms sleep made every benchmark process end at least 50 ms late, and a suite forks
    one per parameter combination, most of them skips that end within milliseconds. Backing off
    keeps a short process's end noticed within half its run, and a timed point, whose samples
    start after its set-up, polled every ``SERVER_POLL_S``. The loop's own schedule restarts at
    1e-15 s for every process it waits for, so a request shorter than the last one starts a new
    wait.
    """

    def __init__(self, real: Any) -> None:
        self._real = real
        self._last = math.inf
        self._started = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def sleep(self, seconds: float) -> None:
        now = self._real.monotonic()
        if seconds < self._last:
            self._started = now
        self._last = seconds
        waited = now - self._started
        self._real.sleep(min(SERVER_POLL_S, max(seconds, waited / 2)))


quiet_forkserver_poll()


def timed_call(case: Any) -> Any:
    """What a ``time_*`` method calls: the case's thinnest synced callable (``run`` on package
    commits older than ``PreparedCase.timed_call``)."""
    return getattr(case, "timed_call", case.run)


def calibrate(run: Any, sample_time: float) -> tuple[int, float]:
    """(calls per sample, a warm call's seconds): the package's harness (``timing.calibrate``,
    shared with `tensorbench time` and the paired workers), or on package commits older than it
    the same rule kept here: warm calls for at least _CALIBRATE_S, ``number`` from the later
    half of them."""
    shared = getattr(asv_support, "calibrate", None)
    if shared is not None:
        return shared(run, sample_time)
    clock = time.perf_counter
    times: list[float] = []
    start = clock()
    while True:
        t0 = clock()
        run()
        times.append(clock() - t0)
        if times[-1] >= _SLOW_CALL_S or (len(times) >= 4 and clock() - start >= _CALIBRATE_S):
            break
    later = sorted(times[len(times) // 2 :])
    warm = max(later[len(later) // 2], 1e-9)
    return max(1, math.ceil(sample_time / warm)), warm


def calibrate_number(run: Any, sample_time: float) -> int:
    """Calls per sample so that a sample lasts at least ``sample_time``, from warm synced calls."""
    return calibrate(run, sample_time)[0]


class WorkloadBenchmark:
    bench = ""
    timeout = 600
    # One benchmark process per point (asv's default is 2): a process costs 1-3 s here (framework
    # import, inputs, validation) against 0.3-0.8 s of timing, and two did not fit the quick
    # suite's 10 minutes. The measured between-process spread goes into each result's 95 %
    # interval instead (tensorbench.asv.variance); the package says how many (ROUNDS).
    rounds = getattr(asv_support, "ROUNDS", 1)
    # asv's own warm-up, after the calibration calls above: short, the case is already warm.
    warmup_time = 0.05
    # (min_repeat, max_repeat, max_time): enough samples for stats_ci_99 and quartiles while
    # keeping the quick suite within its 10-minute budget on 2 cores.
    repeat = (5, 10, 2.0)
    # 50 ms samples: long enough to average MXNet's engine and OpenMP wake-ups (20 ms samples
    # left MXNet points 10-13 % apart from its own timer in the same process).
    sample_time = 0.05

    def setup(self, *params: Any) -> None:
        key = (self.bench, params)
        entry = _PREPARED.get(key)
        if entry is None:
            if _RUNNER_SKIP:
                asv_support.skip(_RUNNER_SKIP)
            case = self.prepare(*params)
            call = timed_call(case)
            number, warm = calibrate(call, self.sample_time)
            entry = _PREPARED[key] = [case, call, number, warm, 0]
        self.case, self.call, self.number, warm, phase = entry
        # asv_runner 0.2.5 runs setup once per sample: each sample gets the next allocation
        # phase (outputs of 0-3 extra calls held alive, outside the timed region), so where the
        # timed calls' buffers land is averaged, not fixed by the process (timing.hold_outputs).
        hold = getattr(asv_support, "hold_outputs", None)
        self._held = hold(self.call, phase, warm) if hold is not None else []
        entry[4] = phase + 1

    def prepare(self, *params: Any) -> Any:
        """The validated case of this point (or asv's skip): once per process and point."""
        return asv_support.setup_case(self.bench, *params)

    def teardown(self, *params: Any) -> None:
        # The timing audit times the point natively again after asv's last sample (a no-op
        # otherwise; older package commits lack the hook). asv_runner 0.2.5 also calls teardown
        # between samples, from its redo_setup: those calls must not run anything.
        audit_after = getattr(asv_support, "audit_after", None)
        case = getattr(self, "case", None)
        if audit_after is not None and case is not None and not _between_samples():
            audit_after(case)


def _between_samples() -> bool:
    """Whether asv_runner called this teardown between two samples (from ``redo_setup``)."""
    # _between_samples <- teardown <- do_teardown <- redo_setup (between samples) or run_benchmark
    frame = sys._getframe(1)
    for _ in range(4):
        frame = frame.f_back
        if frame is None:
            return False
        if frame.f_code.co_name == "redo_setup":
            return True
    return False
