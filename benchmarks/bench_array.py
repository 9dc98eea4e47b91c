"""Array workloads: matmul, conv2d, per-op dispatch overhead (+ thread scaling)."""

from tensorbench.asv_support import grid_params, peak_gflops

from .common import WorkloadBenchmark


class Matmul(WorkloadBenchmark):
    bench = "matmul"
    params, param_names = grid_params(bench)

    def time_matmul(self, *params):
        self.call()

    def peakmem_matmul(self, *params):
        self.call()


class Conv2d(WorkloadBenchmark):
    bench = "conv2d"
    params, param_names = grid_params(bench)

    def time_conv2d(self, *params):
        self.call()

    def peakmem_conv2d(self, *params):
        self.call()


class Dispatch(WorkloadBenchmark):
    bench = "dispatch"
    params, param_names = grid_params(bench)

    def time_dispatch(self, *params):
        self.call()


class MatmulThreads(WorkloadBenchmark):
    bench = "matmul_threads"
    params, param_names = grid_params(bench)

    def time_matmul_threads(self, *params):
        self.call()


class Conv2dThreads(WorkloadBenchmark):
    bench = "conv2d_threads"
    params, param_names = grid_params(bench)

    def time_conv2d_threads(self, *params):
        self.call()


class MachinePeak(WorkloadBenchmark):
    """Measured matmul ceiling: the best sample, in GFLOP/s (the Scaling page's ceiling line)."""

    bench = "peak_gflops"
    params, param_names = grid_params(bench)
    unit = "GFLOP/s"

    def track_peak_gflops(self, *params):
        return peak_gflops(self.case)
