"""Scale-out: DistributedDataParallel steps and all-reduce times at several world sizes.

Each ``track_`` returns the seconds ``tensorbench scale --record`` measured through torchrun
before starting asv (its file in ``$TENSORBENCH_SCALEOUT``; the measuring is
``tensorbench/distributed/``). Parameters are fixed here and only grow at the end of a list
(asv keys results by them). A point without a measurement skips with the reason; a package
commit without scale-out skips every point.
"""

from tensorbench import asv_support

_BACKENDS = ["torch:cpu", "torch:cuda"]
_WORKERS = [1, 2, 4, 8]


def _lookup(kind, params, names):
    lookup = getattr(asv_support, "scaleout_value", None)
    if lookup is None:
        asv_support.skip("this commit's tensorbench has no scale-out measurements")
    try:
        return lookup(kind, list(params), names)
    except LookupError as exc:
        asv_support.skip(str(exc.args[0]) if exc.args else "not measured")


class DdpStep:
    """Seconds per DistributedDataParallel training step (the slowest rank's)."""

    params = [_BACKENDS, ["mlp", "convnet"], ["weak", "strong"], _WORKERS, [1]]
    param_names = ["backend", "model", "scaling", "workers", "threads"]
    unit = "seconds"
    rounds = 1  # a lookup: the measuring ran before asv
    timeout = 60

    def track_ddp_step(self, *params):
        return _lookup("ddp_step", params, self.param_names)


class _DdpParts:
    """The step's parts, measured in the same run: the step's points and timing attributes (no
    benchmark of its own; subclassing DdpStep would inherit its track_ method)."""

    params = DdpStep.params
    param_names = DdpStep.param_names
    unit = "seconds"
    rounds = 1
    timeout = 60


class DdpCompute(_DdpParts):
    """Seconds per step under DDP's no_sync: the compute alone, all workers computing at once."""

    def track_ddp_compute(self, *params):
        return _lookup("ddp_compute", params, self.param_names)


class Allreduce:
    """Seconds per all_reduce (sum) of a float32 buffer of ``bytes`` (the slowest rank's)."""

    params = [_BACKENDS, [4096 * 2**i for i in range(17)], _WORKERS[1:]]
    param_names = ["backend", "bytes", "workers"]
    unit = "seconds"
    rounds = 1
    timeout = 60

    def track_allreduce(self, *params):
        return _lookup("allreduce", params, self.param_names)


class DdpLockstepCompute(_DdpParts):
    """Seconds per step under no_sync with a barrier after every step, less a barrier alone:
    the compute plus each step's wait for the slowest rank (which a DDP step's all-reduce has)."""

    def track_ddp_lockstep_compute(self, *params):
        return _lookup("ddp_lockstep_compute", params, self.param_names)
