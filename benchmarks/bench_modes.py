"""Eager and compiled modes side by side, STREAM, and the machine's memory ceiling.

The ``*_modes`` classes time the same grid points as the mode-less classes with a last
parameter ``mode`` (``eager`` | ``compiled``: torch.compile, jax.jit, MXNet's hybridize); the
mode-less classes keep timing each backend's native mode (JAX jit-compiled, the rest eager).
``track_*_compile`` is the first call's cost beyond a steady-state call (trace + compile),
kept out of the timed samples. ``track_peak_gbps`` is the best STREAM triad GB/s.

asv runs today's benchmarks/ against old commits: entry points an older package lacks are
looked up with getattr, and their benchmarks skip with the reason.
"""

from tensorbench import asv_support

from .common import WorkloadBenchmark

_MISSING = "this commit's tensorbench has no {} (eager/compiled modes came later)"


def _params(bench):
    # package commits from before grid_params took in the mode entries had mode_grid_params
    grid = getattr(asv_support, "mode_grid_params", None) or asv_support.grid_params
    try:
        return grid(bench)
    except KeyError:  # the grid entry is newer than the commit's package
        return [["n/a"]], ["mode"]


def _entry(name):
    fn = getattr(asv_support, name, None)
    if fn is None:
        asv_support.skip(_MISSING.format(f"asv_support.{name}"))
    return fn


class ModeBenchmark(WorkloadBenchmark):
    """One grid point in one mode, prepared (and validated) once per process by the base setup."""

    def prepare(self, *params):
        if len(params) != 4:
            asv_support.skip(_MISSING.format(f"grid entry {self.bench}"))
        # package commits from before setup_case took the mode had setup_mode_case
        setup = getattr(asv_support, "setup_mode_case", None) or asv_support.setup_case
        return setup(self.bench, *params)

    def compile_time(self):
        return _entry("compile_seconds")(self.case)


class MatmulModes(ModeBenchmark):
    bench = "matmul_modes"
    params, param_names = _params(bench)
    unit = "seconds"

    def time_matmul(self, *params):
        self.call()

    def track_matmul_compile(self, *params):
        return self.compile_time()


class Conv2dModes(ModeBenchmark):
    bench = "conv2d_modes"
    params, param_names = _params(bench)
    unit = "seconds"

    def time_conv2d(self, *params):
        self.call()

    def track_conv2d_compile(self, *params):
        return self.compile_time()


class DispatchModes(ModeBenchmark):
    bench = "dispatch_modes"
    params, param_names = _params(bench)
    unit = "seconds"

    def time_dispatch(self, *params):
        self.call()

    def track_dispatch_compile(self, *params):
        return self.compile_time()


class MlpStepModes(ModeBenchmark):
    bench = "mlp_step_modes"
    params, param_names = _params(bench)
    unit = "seconds"

    def time_mlp_step(self, *params):
        self.call()

    def track_mlp_step_compile(self, *params):
        return self.compile_time()


class PagerankModes(ModeBenchmark):
    bench = "pagerank_modes"
    params, param_names = _params(bench)
    unit = "seconds"

    def time_pagerank(self, *params):
        self.call()

    def track_pagerank_compile(self, *params):
        return self.compile_time()


class GcnForwardModes(ModeBenchmark):
    bench = "gcn_forward_modes"
    params, param_names = _params(bench)
    unit = "seconds"

    def time_gcn_forward(self, *params):
        self.call()

    def track_gcn_forward_compile(self, *params):
        return self.compile_time()


class GcnStepModes(ModeBenchmark):
    bench = "gcn_step_modes"
    params, param_names = _params(bench)
    unit = "seconds"

    def time_gcn_step(self, *params):
        self.call()

    def track_gcn_step_compile(self, *params):
        return self.compile_time()


class GcnStepRealModes(ModeBenchmark):
    bench = "gcn_step_real_modes"
    params, param_names = _params(bench)
    unit = "seconds"

    def time_gcn_step_real(self, *params):
        self.call()

    def track_gcn_step_real_compile(self, *params):
        return self.compile_time()


class StreamTriadModes(ModeBenchmark):
    bench = "stream_triad_modes"
    params, param_names = _params(bench)
    unit = "seconds"

    def time_stream_triad(self, *params):
        self.call()

    def track_stream_triad_compile(self, *params):
        return self.compile_time()


def _stream_params(bench):
    try:
        return asv_support.grid_params(bench)
    except KeyError:  # the grid entry is newer than the commit's package
        return [["n/a"]], ["backend"]


class StreamBenchmark(WorkloadBenchmark):
    def setup(self, *params):
        if len(params) != 3:
            asv_support.skip(_MISSING.format(f"grid entry {self.bench}"))
        super().setup(*params)


class StreamCopy(StreamBenchmark):
    bench = "stream_copy"
    params, param_names = _stream_params(bench)

    def time_stream_copy(self, *params):
        self.call()


class StreamTriad(StreamBenchmark):
    bench = "stream_triad"
    params, param_names = _stream_params(bench)

    def time_stream_triad(self, *params):
        self.call()


class MachineBandwidth(StreamBenchmark):
    """Measured memory ceiling: the best STREAM triad sample, in GB/s (the roofline's slope)."""

    bench = "peak_gbps"
    params, param_names = _stream_params(bench)
    unit = "GB/s"

    def track_peak_gbps(self, *params):
        return _entry("peak_gbps")(self.case)
