#!/usr/bin/env bash
# Download, on a machine with package-registry access, the wheels that scripts/gpu_check.sh
# needs on the GPU machine (Python 3.12, no network; torch, cupy, jax, numpy, scipy,
# threadpoolctl, psutil, rich, packaging, pyyaml, tabulate, build are already there; orjson is not).
# asv_runner is pinned to 0.2.5: 0.3.x re-runs setup before every timed call.
# They land in .whl/ (ignored by git), which the device tool carries.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform any -d .whl \
    asv==0.6.6 asv-runner==0.2.5 orjson json5 pympler "importlib-metadata<9" virtualenv distlib platformdirs \
    python-discovery
ls .whl
