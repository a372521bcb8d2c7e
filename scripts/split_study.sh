#!/usr/bin/env bash
# The split study: where to cut VGG-16 for this device and this network. Exports every split point's client and
# cloud remainder (plus the full model and the paper's reduced variants), sweeps the clients and the full model
# on the device, runs the cloud stage (each client's real output through its remainder on this host, the link
# measured, the full model profiled per layer), then writes the report with the split decision.
#
#   bash scripts/split_study.sh [--serial SERIAL] [--splits all|conv1_1,...] [--width-divisor N]
#                               [--input-size N] [other bench/run_device.py options, e.g. --iterations 20]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
py=.venv/bin/python
# Programs both studies export (the full model) are exported once and hard-linked from this store.
export SPLITBENCH_PROGRAM_STORE="${SPLITBENCH_PROGRAM_STORE:-artifacts/programs}"
[ -x "$py" ] || { echo "split_study: no .venv; run: bash scripts/setup.sh" >&2; exit 2; }

serial=loopback
splits=all
divisor=1
size=224
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --serial) serial="$2"; shift 2 ;;
    --splits) splits="$2"; shift 2 ;;
    --width-divisor) divisor="$2"; shift 2 ;;
    --input-size) size="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

export_dir="${SPLITBENCH_SPLIT_EXPORT_DIR:-artifacts/split_study}"
started=$(date +%s)
echo "== 1/4 export: split points $splits, width divisor $divisor, input $size px -> $export_dir"
"$py" -m scripts.split_study_export --out "$export_dir" --splits "$splits" \
  --width-divisor "$divisor" --input-size "$size"

echo "== 2/4 sweep on $serial"
stamp="$(date -u +%Y%m%dT%H%M%SZ)-split-${serial//[^A-Za-z0-9_.-]/_}"
"$py" -m bench.run_device --serial "$serial" --manifest "$export_dir/manifest.json" \
  --backends xnnpack --out "results/$stamp" ${args[@]+"${args[@]}"} || sweep_rc=$?
case "${sweep_rc:-0}" in 0|1) ;; *) exit "$sweep_rc" ;; esac
run_folder="$(ls -d "results/$stamp"/*/ | head -n 1)"

echo "== 3/4 cloud stage: $run_folder"
"$py" -m bench.cloud "$run_folder" --serial "$serial" || cloud_rc=$?
case "${cloud_rc:-0}" in 0|1) ;; *) exit "$cloud_rc" ;; esac

echo "== 4/4 analysis"
"$py" -m analysis "$run_folder" --out "reports/$stamp"
echo "split study done in $(( $(date +%s) - started )) s: reports/$stamp/report.md"
