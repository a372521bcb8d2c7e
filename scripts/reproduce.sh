#!/usr/bin/env bash
# The main job, with no phone attached: export the device programs of the paper's seven configurations at full size
# (no cloud remainders: the sweep runs none),
# run the sweep on the loopback ADB device (this host's CPU, one pinned core), and write the report.
# Pass --serial SERIAL to run the sweep on a real phone instead (its runner build must exist,
# see android_app/README.md). Other arguments go to bench/run_device.py.
# With --splits all: every split point, end to end (scripts/split_study.sh).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
py=.venv/bin/python
# Programs both studies export (the full model) are exported once and hard-linked from this store.
export SPLITBENCH_PROGRAM_STORE="${SPLITBENCH_PROGRAM_STORE:-artifacts/programs}"
[ -x "$py" ] || { echo "reproduce: no .venv; run: bash scripts/setup.sh" >&2; exit 2; }

# --splits all (or a list of split points): the split study instead, scripts/split_study.sh.
for arg in "$@"; do
  if [ "$arg" = "--splits" ]; then exec bash scripts/split_study.sh "$@"; fi
done

serial=loopback
divisor=1
size=224
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --serial) serial="$2"; shift 2 ;;
    --width-divisor) divisor="$2"; shift 2 ;;
    --input-size) size="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

export_dir="${SPLITBENCH_EXPORT_DIR:-artifacts/export}"
echo "== 1/3 export: seven configurations, full-size VGG-16 -> $export_dir"
backends="${SPLITBENCH_BACKENDS:-xnnpack,lite}"  # e.g. SPLITBENCH_BACKENDS=xnnpack,xnnpack_int8,lite
"$py" -m export --out "$export_dir" --backends "$backends" --width-divisor "$divisor" --input-size "$size"

echo "== 2/3 sweep on $serial"
stamp="$(date -u +%Y%m%dT%H%M%SZ)-${serial//[^A-Za-z0-9_.-]/_}"
"$py" -m bench.run_device --serial "$serial" --manifest "$export_dir/manifest.json" \
  --backends "$backends" --out "results/$stamp" ${args[@]+"${args[@]}"} || sweep_rc=$?
# 1 = a partial sweep: its failed rows are reported by the analysis; anything else stops here.
case "${sweep_rc:-0}" in 0|1) ;; *) exit "$sweep_rc" ;; esac

echo "== 3/3 analysis"
"$py" -m analysis "results/$stamp" --out "reports/$stamp"
