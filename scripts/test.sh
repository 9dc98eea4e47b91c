#!/usr/bin/env bash
# The test command: build both environments (idempotent), lint, check the import contracts,
# then pytest in each.
#   .venv        every test; MXNet-marked tests skip there (no mxnet)
#   .venv-mxnet  the tests marked `mxnet` (MXNet, DGL on MXNet, MXNet timing sync)
# Extra arguments go to both pytest runs (e.g. -m "not browser", -x, -k conv).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${TENSORBENCH_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup_envs.sh

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "== import contracts (lint-imports; pyproject.toml [tool.importlinter])"
PYTHONPATH="$PWD" .venv/bin/lint-imports

echo "== pytest (.venv)"
.venv/bin/python -m pytest "$@"

echo "== pytest (.venv-mxnet, -m mxnet)"
status=0
.venv-mxnet/bin/python -m pytest -p no:cacheprovider -m mxnet "$@" || status=$?
# pytest's 5 (no test selected) passes only when extra arguments narrowed the selection (-k conv):
# the mxnet environment always has tests of its own, and none means they were lost.
if [ "$status" = 5 ] && [ "$#" -gt 0 ]; then status=0; fi
exit "$status"
