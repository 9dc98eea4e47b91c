#!/usr/bin/env bash
# The main job: build both environments, run the quick suite in both with asv (results go to
# results/), then serve the dashboard on them at http://127.0.0.1:8501 (Ctrl-C stops it).
# Extra arguments go to `tensorbench run` (e.g. --suite full, --threads 1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_envs.sh
status=0
.venv/bin/tensorbench run --suite quick "$@" || status=$?
[ "$status" = 0 ] || echo "tensorbench run exited $status (failed points are listed above); starting the dashboard anyway"
exec .venv/bin/tensorbench dashboard --results results
