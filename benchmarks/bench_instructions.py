"""Instructions per timed call, counted under Valgrind at one thread: a measure without host noise.

Each ``track_instructions_<workload>`` returns the count that ``tensorbench run --measure
instructions`` wrote before starting asv (its file in ``$TENSORBENCH_INSTRUCTIONS``); the
counting itself is ``tensorbench/asv/instructions.py``. Parameters are the grid's, like the
``time_*`` benchmarks, so each point is its own series with unit "instructions". A point
without a count skips with the reason (not counted, skipped or failed under Valgrind, no
counts file, a package commit without instruction counts).
"""

from typing import Any

from tensorbench import asv_support


def _grid(bench: str) -> tuple[list, list]:
    # asv runs these benchmarks against old commits too: a grid entry that commit lacks gives a
    # parameter-less benchmark that skips, rather than failing the import of the whole file
    try:
        return asv_support.grid_params(bench)
    except KeyError:
        return [], []


def _lookup() -> Any:
    # benchmarks/ reaches the package through asv_support only; older commits lack it: skip
    return getattr(asv_support, "instruction_count", None)


class _Instructions:
    bench = ""
    unit = "instructions"
    rounds = 1  # a lookup: one process per point is plenty
    timeout = 60

    def count(self, params: tuple) -> float:
        lookup = _lookup()
        if lookup is None or not params:
            asv_support.skip(f"this tensorbench has no instruction counts for {self.bench}")
        try:
            return lookup(self.bench, list(params), self.param_names)
        except LookupError as exc:
            asv_support.skip(str(exc.args[0]) if exc.args else "no count")


class InstructionsMatmul(_Instructions):
    bench = "matmul"
    params, param_names = _grid(bench)

    def track_instructions_matmul(self, *params):
        return self.count(params)


class InstructionsConv2d(_Instructions):
    bench = "conv2d"
    params, param_names = _grid(bench)

    def track_instructions_conv2d(self, *params):
        return self.count(params)


class InstructionsDispatch(_Instructions):
    bench = "dispatch"
    params, param_names = _grid(bench)

    def track_instructions_dispatch(self, *params):
        return self.count(params)


class InstructionsMlpStep(_Instructions):
    bench = "mlp_step"
    params, param_names = _grid(bench)

    def track_instructions_mlp_step(self, *params):
        return self.count(params)


class InstructionsPagerank(_Instructions):
    bench = "pagerank"
    params, param_names = _grid(bench)

    def track_instructions_pagerank(self, *params):
        return self.count(params)


class InstructionsGcnForward(_Instructions):
    bench = "gcn_forward"
    params, param_names = _grid(bench)

    def track_instructions_gcn_forward(self, *params):
        return self.count(params)


class InstructionsGcnStep(_Instructions):
    bench = "gcn_step"
    params, param_names = _grid(bench)

    def track_instructions_gcn_step(self, *params):
        return self.count(params)


class InstructionsStreamCopy(_Instructions):
    bench = "stream_copy"
    params, param_names = _grid(bench)

    def track_instructions_stream_copy(self, *params):
        return self.count(params)


class InstructionsStreamTriad(_Instructions):
    bench = "stream_triad"
    params, param_names = _grid(bench)

    def track_instructions_stream_triad(self, *params):
        return self.count(params)
