"""Graph workloads: PageRank, GCN inference and a GCN training step, on R-MAT graphs and on the
real graphs in $TENSORBENCH_GRAPH_DIR; GCN test accuracy on Cora as a tracked figure."""

from tensorbench.asv_support import gcn_test_accuracy, grid_params

from .common import WorkloadBenchmark


class Pagerank(WorkloadBenchmark):
    bench = "pagerank"
    params, param_names = grid_params(bench)

    def time_pagerank(self, *params):
        self.call()

    def peakmem_pagerank(self, *params):
        self.call()


class GcnForward(WorkloadBenchmark):
    bench = "gcn_forward"
    params, param_names = grid_params(bench)

    def time_gcn_forward(self, *params):
        self.call()


class GcnStep(WorkloadBenchmark):
    bench = "gcn_step"
    params, param_names = grid_params(bench)

    def time_gcn_step(self, *params):
        self.call()

    def peakmem_gcn_step(self, *params):
        self.call()


class PagerankReal(WorkloadBenchmark):
    bench = "pagerank_real"
    params, param_names = grid_params(bench)

    def time_pagerank_real(self, *params):
        self.call()


class GcnStepReal(WorkloadBenchmark):
    bench = "gcn_step_real"
    params, param_names = grid_params(bench)

    def time_gcn_step_real(self, *params):
        self.call()


class GcnAccuracy(WorkloadBenchmark):
    """Test accuracy after 200 epochs on Cora with pygcn's split (higher is better)."""

    bench = "gcn_accuracy"
    params, param_names = grid_params(bench)
    unit = "accuracy"
    timeout = 900

    def setup(self, *params):
        pass  # training is the measurement; it validates nothing it would then time

    def track_gcn_accuracy(self, *params):
        return gcn_test_accuracy(self.bench, *params)
