#!/usr/bin/env bash
# Build the two virtual environments tensorbench needs, from scratch and idempotently.
#   .venv        numpy 2.x, scipy, torch 2.13 (CPU), jax, dgl 1.1.3 (pytorch backend), PyG, asv, dashboard
#   .venv-mxnet  numpy 1.23.5, scipy<1.12, mxnet 1.9.1, torch 2.13, dgl 1.1.3 (mxnet backend)
# MXNet 1.9.1, the last release, imports only with numpy<1.24, hence two environments.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
PIP_FLAGS=(--disable-pip-version-check --progress-bar off -q)

make_env() {  # make_env DIR
    [ -x "$1/bin/python" ] || "$PY" -m venv "$1"
    "$1/bin/python" -m pip install "${PIP_FLAGS[@]}" --upgrade "pip<26" "setuptools<70" wheel
    # torch first and pinned: 2.13.0 is a CPU build on local disk; an unpinned torch pulls CUDA.
    "$1/bin/python" -m pip install "${PIP_FLAGS[@]}" "torch==2.13.0"
}

echo "== .venv (numpy 2.x, torch, jax, dgl, asv, dashboard)"
make_env .venv
.venv/bin/python -m pip install "${PIP_FLAGS[@]}" -e ".[torch,jax,dgl,pyg,paddle,asv,dashboard,report,test]"

echo "== .venv-mxnet (numpy 1.23.5, mxnet 1.9.1, torch, dgl)"
make_env .venv-mxnet
.venv-mxnet/bin/python -m pip install "${PIP_FLAGS[@]}" "numpy==1.23.5" \
    -e ".[torch,mxnet,dgl,asv,test]"

# Last, and on its own: DGL 1.1.3 imports setuptools.extern (gone in setuptools>=70) while torch
# 2.13 declares setuptools>=77; no resolver accepts both, and torch does not use it at run time.
for env in .venv .venv-mxnet; do
    "$env/bin/python" -m pip install "${PIP_FLAGS[@]}" "setuptools<70" 2>&1 | grep -v "incompatible\|dependency conflicts\|requires setuptools" || true
done

# torch.compile's inductor backend compiles C++ on the CPU: it needs a C++ compiler (g++ or
# clang++) on PATH. Without one the `compiled` mode of torch skips with the compiler's error.
if ! command -v g++ >/dev/null && ! command -v clang++ >/dev/null; then
    echo "warning: no C++ compiler (g++/clang++): torch.compile cases will skip" \
         "(Debian/Ubuntu: apt-get install -y g++)" >&2
fi

echo "== environments ready"
.venv/bin/python -c "import numpy, torch, jax; print('.venv: numpy', numpy.__version__, 'torch', torch.__version__, 'jax', jax.__version__)"
.venv-mxnet/bin/python -c "import numpy, mxnet; print('.venv-mxnet: numpy', numpy.__version__, 'mxnet', mxnet.__version__)"
