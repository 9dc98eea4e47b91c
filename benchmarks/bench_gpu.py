"""GPU-only figures: host<->device transfer speed, and peak device memory per case.

Device memory comes from the frameworks' own counters (torch.cuda.max_memory_allocated,
CuPy's memory pool, JAX's memory stats); asv's ``peakmem_`` sees host memory only.
"""

from tensorbench.asv_support import gpu_peak_bytes, grid_params

from .common import WorkloadBenchmark


class Transfer(WorkloadBenchmark):
    """Host -> device -> host round trip; GB/s from the work model (2 x size)."""

    bench = "transfer"
    params, param_names = grid_params(bench)

    def time_transfer(self, *params):
        self.call()


class GpuMemory(WorkloadBenchmark):
    unit = "bytes"

    def track(self):
        return gpu_peak_bytes(self.case)


class MatmulGpuMemory(GpuMemory):
    bench = "matmul_gpumem"
    params, param_names = grid_params(bench)

    def track_matmul_gpumem(self, *params):
        return self.track()


class Conv2dGpuMemory(GpuMemory):
    bench = "conv2d_gpumem"
    params, param_names = grid_params(bench)

    def track_conv2d_gpumem(self, *params):
        return self.track()


class MlpStepGpuMemory(GpuMemory):
    bench = "mlp_step_gpumem"
    params, param_names = grid_params(bench)

    def track_mlp_step_gpumem(self, *params):
        return self.track()


class PagerankGpuMemory(GpuMemory):
    bench = "pagerank_gpumem"
    params, param_names = grid_params(bench)

    def track_pagerank_gpumem(self, *params):
        return self.track()


class GcnStepGpuMemory(GpuMemory):
    bench = "gcn_step_gpumem"
    params, param_names = grid_params(bench)

    def track_gcn_step_gpumem(self, *params):
        return self.track()
