"""Scale-out: data-parallel training and all-reduce timed across worker processes.

Launched by torchrun (torch.distributed's own launcher, what users run), one process per
worker: gloo on CPUs, NCCL on GPUs. `launch` builds and runs the torchrun command and turns a
worker's death into an error naming its rank; `worker` is what each rank runs; `ddp` the
models, the data and the gradient check of a DistributedDataParallel step; `allreduce` the
message-size sweep. The model fitted to the sweep and the projection to more workers are
`tensorbench.analysis.scaling` (no framework there: the dashboard draws them anywhere).
"""
