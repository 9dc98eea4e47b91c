"""Autograd workloads: one MLP training step (forward, loss, gradients, SGD update)."""

from tensorbench.asv_support import grid_params

from .common import WorkloadBenchmark


class MlpStep(WorkloadBenchmark):
    bench = "mlp_step"
    params, param_names = grid_params(bench)

    def time_mlp_step(self, *params):
        self.call()

    def peakmem_mlp_step(self, *params):
        self.call()
