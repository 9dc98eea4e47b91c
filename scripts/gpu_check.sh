#!/usr/bin/env bash
# The ONE prepared check for a GPU machine without network (at most 9 minutes):
#   bash scripts/gpu_check.sh OUTDIR
# Steps (each time-boxed; a failing step is recorded and the rest go on):
#   info        tensorbench info --json                         -> OUTDIR/info.json
#   check       tensorbench check --device cuda:0 --json        -> OUTDIR/check.json
#   suite       the gpu suite with asv in the existing python3, in three parts (suite-time,
#               suite-graph, suite-memory)                      -> OUTDIR/results.tar.gz
#   crosscheck  matmul 4096 vs torch.utils.benchmark and cupyx.profiler.benchmark (+-10%)
#                                                               -> OUTDIR/crosscheck.jsonl
#   ceiling     matmul 4096 float32/TF32/bf16 as % of the measured cuBLAS ceiling
#                                                               -> OUTDIR/ceiling.json
#   OUTDIR/summary.json (exit code and seconds per step), OUTDIR/gpu_check.log (everything).
# Packages the machine lacks (asv, ...) travel as wheels in .whl/ (scripts/gpu_wheels.sh).
# Back here: tar -xzf OUTDIR/results.tar.gz -C results/ and commit the new machine folder.
# GPU_CHECK_SKIP="crosscheck ceiling suite-memory" leaves steps or parts out (a rerun);
# GPU_CHECK_DRY_RUN=1 runs the same steps on the CPU at tiny sizes (what the tests use).
set -uo pipefail
if [ $# -ne 1 ] || [ -z "$1" ] || [ "${1#-}" != "$1" ]; then
    echo "usage: bash scripts/gpu_check.sh OUTDIR   (GPU_CHECK_DRY_RUN=1 for a CPU dry run)" >&2
    exit 2
fi
OUT=$1
mkdir -p "$OUT" || { echo "gpu_check: cannot create $OUT" >&2; exit 2; }
OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DRY=${GPU_CHECK_DRY_RUN:-0}
exec > >(tee -a "$OUT/gpu_check.log") 2>&1

if ls .whl/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/tb-site .whl/*.whl
    export PYTHONPATH="/tmp/tb-site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
TB=("$PY" -m tensorbench.cli)
if [ "$DRY" = 1 ]; then
    DEVICE=cpu; SIZE=256; CHECK_ARGS=(--workload dispatch --workload matmul --dtype float32)
else
    DEVICE=cuda:0; SIZE=4096; CHECK_ARGS=()
fi
declare -A RC SECONDS_TAKEN
skipped() {  # GPU_CHECK_SKIP names steps or suite parts to leave out (a rerun of what failed)
    case " ${GPU_CHECK_SKIP:-} " in *" $1 "*) echo "== $1: skipped (GPU_CHECK_SKIP)"; return 0 ;; esac
    return 1
}
step() {  # step NAME LIMIT_S COMMAND...
    local name=$1 limit=$2; shift 2
    if skipped "$name"; then RC[$name]=0; SECONDS_TAKEN[$name]=0; return; fi
    echo "== $name (limit ${limit}s)"
    local t0=$SECONDS
    timeout "$limit" "$@"
    RC[$name]=$?
    SECONDS_TAKEN[$name]=$((SECONDS - t0))
    echo "== $name: exit ${RC[$name]} in ${SECONDS_TAKEN[$name]}s"
}

step info 30 bash -c '"$@" info --json > "'"$OUT"'/info.json"' _ "${TB[@]}"
step check 90 bash -c '"$@" check --device '"$DEVICE"' --json '"${CHECK_ARGS[*]}"' > "'"$OUT"'/check.json"' _ "${TB[@]}"
MACHINE=$("${TB[@]}" info --json | "$PY" -c "import json,sys; from tensorbench.asv.machine import machine_name; print(machine_name(json.load(sys.stdin)))")
if [ "$DRY" = 1 ]; then  # asv's own path is tested elsewhere; a dry run leaves results/ alone
    echo "== suite: skipped in a dry run"; RC[suite]=0; SECONDS_TAKEN[suite]=0
else
    # In parts, each its own asv run merged into the one result file: asv writes its results
    # only when a run ends, so a part cut off by its limit loses only itself (the whole suite in
    # one run took over 300 s on an H200 and left nothing).
    declare -A SUITE_PARTS=(
        [suite-time]='bench_array\.(Matmul|Conv2d|Dispatch)\.time_|bench_autograd\.MlpStep\.time_'
        [suite-graph]='bench_graph\.(Pagerank|GcnStep)\.time_|bench_gpu\.Transfer'
        [suite-memory]='gpumem|peakmem'
    )
    echo "== suite (in ${#SUITE_PARTS[@]} parts, each limited to ${GPU_CHECK_PART_LIMIT:-110}s)"
    t0=$SECONDS; RC[suite]=0
    for name in suite-time suite-graph suite-memory; do
        skipped "$name" && continue
        part=${SUITE_PARTS[$name]}
        echo "== $name"
        timeout "${GPU_CHECK_PART_LIMIT:-110}" "${TB[@]}" run --suite gpu --env main \
            --python "$(command -v "$PY")" --machine "$MACHINE" --bench "$part" || RC[suite]=1
    done
    SECONDS_TAKEN[suite]=$((SECONDS - t0))
    echo "== suite: exit ${RC[suite]} in ${SECONDS_TAKEN[suite]}s"
    tar -czf "$OUT/results.tar.gz" -C results benchmarks.json "$MACHINE" || echo "no results to pack"
fi
step crosscheck 60 bash -c '"$1" scripts/crosscheck_timing.py --size '"$SIZE"' --device '"$DEVICE"' --backend torch --backend cupy --tolerance 0.10 > "'"$OUT"'/crosscheck.jsonl"' _ "$PY"
if [ "$DRY" = 1 ]; then
    echo '{"status": "skip", "reason": "dry run on the CPU"}' > "$OUT/ceiling.json"; RC[ceiling]=0; SECONDS_TAKEN[ceiling]=0
else
    step ceiling 45 bash -c '"$1" scripts/gpu_ceiling.py > "'"$OUT"'/ceiling.json"' _ "$PY"
fi

{
    echo "{\"machine\": \"$MACHINE\", \"dry_run\": $([ "$DRY" = 1 ] && echo true || echo false), \"steps\": {"
    sep=""
    for s in info check suite crosscheck ceiling; do
        printf '%s"%s": {"exit": %s, "seconds": %s}' "$sep" "$s" "${RC[$s]:-null}" "${SECONDS_TAKEN[$s]:-null}"
        sep=", "
    done
    echo "}}"
} > "$OUT/summary.json"
cat "$OUT/summary.json"
for s in info check suite crosscheck ceiling; do [ "${RC[$s]:-1}" = 0 ] || exit 1; done
exit 0
